//! The static pages: served paths, headers, the ids and sections a browser test relies on, and
//! nothing that a strict Content-Security-Policy would block.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_example_common::pages::{
    ASSETS, CONTENT_SECURITY_POLICY, DEVELOPERS_JS, INDEX_HTML, SETTINGS_JS, SITE_CSS,
};
use clab_keys_example_common::{
    DEVELOPERS_HTML, SETTINGS_HTML, SKILL_MD, static_page, static_response,
};

fn has_id(html: &str, id: &str) -> bool {
    html.contains(&format!("id=\"{id}\""))
}

#[test]
fn every_documented_path_is_served() {
    for (path, kind) in [
        ("/", "text/html"),
        ("/settings/api-keys", "text/html"),
        ("/developers", "text/html"),
        ("/skill.md", "text/markdown"),
        ("/assets/site.css", "text/css"),
        ("/assets/settings.js", "text/javascript"),
        ("/assets/developers.js", "text/javascript"),
    ] {
        let page = static_page(path).unwrap_or_else(|| panic!("{path} is not served"));
        assert!(page.content_type.starts_with(kind), "{path}");
        assert!(page.content_type.ends_with("charset=utf-8"), "{path}");
        assert!(!page.body.trim().is_empty(), "{path}");
    }
    assert_eq!(ASSETS.len(), 7);
    assert!(static_page("/settings/api-keys/").is_none());
    assert!(static_page("/assets/../skill.md").is_none());
}

#[test]
fn html_responses_carry_security_headers() {
    let response = static_response("/settings/api-keys").unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        response.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    assert_eq!(response.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(response.body, SETTINGS_HTML.as_bytes());

    let script = static_response("/assets/settings.js").unwrap();
    assert_eq!(script.header("x-content-type-options"), Some("nosniff"));
    assert!(script.header("content-security-policy").is_none());
    assert!(static_response("/missing").is_none());
}

#[test]
fn the_settings_page_has_the_ids_a_browser_test_drives() {
    for id in [
        "message",
        "login-email",
        "login-password",
        "login-submit",
        "key-name",
        "key-expiry",
        "create-key",
        "new-token",
        "copy-token",
        "keys-table",
    ] {
        assert!(has_id(SETTINGS_HTML, id), "#{id} missing");
        assert!(
            SETTINGS_HTML.contains(&format!("data-testid=\"{id}\"")),
            "data-testid={id} missing"
        );
    }
    // Revoke buttons are made by the script, one per active key.
    assert!(SETTINGS_JS.contains("dataset.revoke = key.id"));
    assert!(SETTINGS_JS.contains("window.confirm("));
}

#[test]
fn the_settings_page_is_accessible() {
    // Every input and select has a label.
    for id in ["login-email", "login-password", "key-name", "key-expiry"] {
        assert!(
            SETTINGS_HTML.contains(&format!("<label for=\"{id}\">")),
            "no label for #{id}"
        );
    }
    // Messages are announced.
    assert!(SETTINGS_HTML.contains(
        r#"id="message" data-testid="message" class="message" role="status" aria-live="polite""#
    ));
    assert!(SETTINGS_HTML.contains("<html lang=\"en\">"));
    assert!(SETTINGS_HTML.contains("class=\"skip-link\""));
    assert!(SITE_CSS.contains(":focus-visible"));
    // The token reveal warns that it is shown once, and the copy button has a fallback.
    assert!(SETTINGS_HTML.contains("you will not see this again"));
    assert!(SETTINGS_JS.contains("navigator.clipboard"));
    assert!(SETTINGS_JS.contains("selectNodeContents"));
}

#[test]
fn the_settings_script_handles_each_error_status() {
    assert!(SETTINGS_JS.contains("sessionStorage"));
    assert!(SETTINGS_JS.contains("/api/auth/login"));
    assert!(SETTINGS_JS.contains("/api/user/api-keys"));
    assert!(SETTINGS_JS.contains("response.status === 409"));
    assert!(SETTINGS_JS.contains("keys reached \\u2014 revoke one first"));
    assert!(SETTINGS_JS.contains("response.status === 401"));
    assert!(SETTINGS_JS.contains("status === 503"));
    // Server data is never parsed as HTML.
    assert!(!SETTINGS_JS.contains("innerHTML"));
    assert!(!SETTINGS_JS.contains("insertAdjacentHTML"));
    assert!(!DEVELOPERS_JS.contains("innerHTML"));
}

#[test]
fn the_developers_page_has_every_section() {
    for id in [
        "overview",
        "authentication",
        "quick-start",
        "endpoints",
        "examples",
        "headless",
        "errors",
        "no-browser-automation",
    ] {
        assert!(has_id(DEVELOPERS_HTML, id), "#{id} missing");
    }
    assert!(DEVELOPERS_HTML.contains("No browser automation needed"));
    for needle in [
        "For people",
        "For agents",
        "POST /api/auth/login",
        "GET /api/security/users/me",
        "POST /api/user/api-keys",
        "GET /api/user/api-keys",
        "DELETE /api/user/api-keys/{id}",
        "GET /healthz",
        "key_limit_reached",
        "interactive_session_required",
        "import requests",
        "await fetch(",
        "curl ",
        "secrets.CLAB_API_KEY",
        "<code>401</code>",
        "<code>403</code>",
        "<code>409</code>",
        "<code>503</code>",
    ] {
        assert!(DEVELOPERS_HTML.contains(needle), "{needle:?} missing");
    }
    // Samples use the app's own origin: a default in the HTML, replaced by the script.
    assert!(DEVELOPERS_HTML.contains("<span class=\"origin\">http://127.0.0.1:3000</span>"));
    assert!(DEVELOPERS_JS.contains("window.location.origin"));
}

#[test]
fn skill_md_covers_what_an_agent_needs() {
    for needle in [
        "No browser automation",
        "Authorization: Bearer",
        "/settings/api-keys",
        "## Access for human developers",
        "`401`",
        "`403`",
        "`409`",
        "`503`",
        "GET /api/security/users/me",
        "POST /api/user/api-keys",
        "DELETE /api/user/api-keys/{id}",
        "cannot create, rotate or revoke keys",
        "POST /api/user/api-keys/{id}/rotate",
        "PATCH /api/user/api-keys/{id}",
        "keys:read",
        "You cannot rotate your own key",
    ] {
        assert!(
            SKILL_MD.to_lowercase().contains(&needle.to_lowercase()),
            "{needle:?} missing"
        );
    }
}

#[test]
fn pages_link_only_to_assets_that_are_served() {
    for html in [INDEX_HTML, SETTINGS_HTML, DEVELOPERS_HTML] {
        for attr in ["href=\"/assets/", "src=\"/assets/"] {
            for (i, _) in html.match_indices(attr) {
                let start = i + attr.len() - "/assets/".len();
                let end = start + html[start..].find('"').unwrap();
                let path = &html[start..end];
                assert!(
                    static_page(path).is_some(),
                    "{path} is linked but not served"
                );
            }
        }
    }
}

#[test]
fn pages_have_nothing_the_content_security_policy_blocks() {
    for html in [INDEX_HTML, SETTINGS_HTML, DEVELOPERS_HTML] {
        // Every script is external; no inline styles or event handlers.
        for (i, _) in html.match_indices("<script") {
            let tag_end = i + html[i..].find('>').unwrap();
            assert!(html[i..tag_end].contains("src=\"/assets/"), "inline script");
        }
        assert!(!html.contains("<style"), "inline <style>");
        assert!(!html.contains(" style=\""), "inline style attribute");
        for handler in [
            " onclick=",
            " onload=",
            " onsubmit=",
            " onerror=",
            "javascript:",
        ] {
            assert!(!html.contains(handler), "{handler} found");
        }
    }
}

/// What the pages say about revocation is what the apps do (contract §4): the server that
/// revoked a key refuses it from the next request on, and every other one learns of it
/// through the invalidation feed, within a second (the feeds' bounds, see
/// docs/security-model.md), whatever the cache TTL.
#[test]
fn the_pages_say_when_a_revoked_key_stops_working() {
    let squeeze = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let script = SETTINGS_JS.replace("\" +\n      \"", "");
    for (page, text) in [
        ("settings.js", script.as_str()),
        ("settings.html", SETTINGS_HTML),
        ("developers.html", DEVELOPERS_HTML),
        ("skill.md", SKILL_MD),
    ] {
        let text = squeeze(text);
        assert!(text.contains("next request on"), "{page}");
        assert!(text.contains("other server of"), "{page}");
        assert!(text.contains("within a second"), "{page}");
        assert!(!text.contains("immediately"), "{page}");
    }
}
