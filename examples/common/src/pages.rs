//! The static content both apps serve, one copy compiled in: the settings page for keys, the
//! public `/developers` page, `/skill.md` for AI agents, and the stylesheet and scripts they
//! load. No build step: plain HTML, CSS and JavaScript.
//!
//! Scripts and styles are separate files (not inline) so the pages can be served with a strict
//! Content-Security-Policy (`script-src 'self'`): the settings page shows a freshly created
//! token, and injected script must not be able to read it. Route **every** entry of
//! [`ASSETS`] (or answer every `GET` with [`static_response`]) or the pages lose their style
//! and behaviour.

use std::sync::LazyLock;

use clab_keys::ApiResponse;

/// The `/` page: links to the settings page, the developer docs and `skill.md`.
pub const INDEX_HTML: &str = include_str!("../static/index.html");
/// The `/settings/api-keys` page: log in, create, list and revoke keys.
pub const SETTINGS_HTML: &str = include_str!("../static/settings.html");
/// The template of the public `/developers` page: [`developers_page`] is the page served, with
/// [`OPENAPI_ENDPOINTS_MARKER`] replaced by the endpoint table of `/openapi.json`.
pub const DEVELOPERS_HTML: &str = include_str!("../static/developers.html");

/// The comment in [`DEVELOPERS_HTML`] that the endpoint table replaces.
pub const OPENAPI_ENDPOINTS_MARKER: &str = "<!-- openapi-endpoints -->";
/// `/skill.md`: the developer guidance written for AI agents.
pub const SKILL_MD: &str = include_str!("../static/skill.md");
/// `/assets/site.css`: the stylesheet of every page.
pub const SITE_CSS: &str = include_str!("../static/site.css");
/// `/assets/settings.js`: the behaviour of the settings page.
pub const SETTINGS_JS: &str = include_str!("../static/settings.js");
/// `/assets/developers.js`: fills the app's origin into the code samples of `/developers`.
pub const DEVELOPERS_JS: &str = include_str!("../static/developers.js");

/// The Content-Security-Policy sent with every HTML page: scripts, styles and requests only
/// from the app's own origin; no framing, no plugins, no `<base>` tricks.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One piece of static content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticAsset {
    /// The request path it is served at.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// The content.
    pub body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";

/// Every piece of static content, by path. The apps register a `GET` route for each path.
pub const ASSETS: [StaticAsset; 7] = [
    StaticAsset {
        path: "/",
        content_type: HTML,
        body: INDEX_HTML,
    },
    StaticAsset {
        path: "/settings/api-keys",
        content_type: HTML,
        body: SETTINGS_HTML,
    },
    StaticAsset {
        path: "/developers",
        content_type: HTML,
        body: DEVELOPERS_HTML,
    },
    StaticAsset {
        path: "/skill.md",
        content_type: "text/markdown; charset=utf-8",
        body: SKILL_MD,
    },
    StaticAsset {
        path: "/assets/site.css",
        content_type: "text/css; charset=utf-8",
        body: SITE_CSS,
    },
    StaticAsset {
        path: "/assets/settings.js",
        content_type: "text/javascript; charset=utf-8",
        body: SETTINGS_JS,
    },
    StaticAsset {
        path: "/assets/developers.js",
        content_type: "text/javascript; charset=utf-8",
        body: DEVELOPERS_JS,
    },
];

/// The `/developers` page as served: [`DEVELOPERS_HTML`] with the endpoint table generated
/// from the OpenAPI document ([`crate::openapi::endpoint_table_html`]), rendered once.
///
/// ```
/// let page = clab_keys_example_common::pages::developers_page();
/// assert!(page.contains("<table id=\"openapi-endpoints\""));
/// assert!(page.contains("<code>DELETE /api/user/api-keys/{id}</code>"));
/// ```
pub fn developers_page() -> &'static str {
    static PAGE: LazyLock<String> = LazyLock::new(|| {
        let table = crate::openapi::endpoint_table_html(&crate::openapi::document());
        DEVELOPERS_HTML.replacen(OPENAPI_ENDPOINTS_MARKER, &table, 1)
    });
    &PAGE
}

/// The static content served at `path`, if any (exact match, no trailing slash). For
/// `/developers` its body is the template; [`static_response`] serves [`developers_page`].
///
/// ```
/// let page = clab_keys_example_common::static_page("/developers").unwrap();
/// assert!(page.content_type.starts_with("text/html"));
/// assert!(clab_keys_example_common::static_page("/nope").is_none());
/// ```
pub fn static_page(path: &str) -> Option<&'static StaticAsset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// The whole `200` response for the static content at `path`: `Content-Type`,
/// `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, `Cache-Control:
/// no-cache`, and for HTML the [`CONTENT_SECURITY_POLICY`]. `None` for unknown paths.
pub fn static_response(path: &str) -> Option<ApiResponse> {
    let asset = static_page(path)?;
    let mut response = ApiResponse::empty(200);
    response.headers = vec![
        ("content-type", asset.content_type.to_owned()),
        ("cache-control", "no-cache".to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
        ("referrer-policy", "no-referrer".to_owned()),
    ];
    if asset.content_type == HTML {
        response.headers.push((
            "content-security-policy",
            CONTENT_SECURITY_POLICY.to_owned(),
        ));
        response
            .headers
            .push(("x-frame-options", "DENY".to_owned()));
    }
    let body = if asset.path == "/developers" {
        developers_page()
    } else {
        asset.body
    };
    response.body = body.as_bytes().to_vec();
    Some(response)
}
