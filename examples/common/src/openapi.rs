//! `GET /openapi.json`: the whole API of the example apps as one OpenAPI 3.1 document, built
//! once here and served alike by both apps, and the endpoint table that `/developers` renders
//! from it.
//!
//! The apps' own endpoints (login, `users/me`, echo, `healthz`, this document) are described
//! with utoipa's derives below; the key endpoints come from the library
//! ([`clab_keys::ManagementApi`]), merged in at the path the apps mount them at; the static pages
//! are added from [`ASSETS`](crate::ASSETS). The handlers build their bodies with `json!`, so
//! the schemas here are held to the real answers by the OpenAPI check
//! (`scripts/openapi-check.sh`), which drives both apps and validates every answer.

use std::fmt::Write as _;
use std::sync::LazyLock;

use clab_keys::{ApiResponse, MANAGEMENT_PATH, ManagementApi};
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi, ToSchema};

/// The path the apps serve the document at.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The whole document: the apps' endpoints, the key endpoints at [`MANAGEMENT_PATH`] and the
/// static pages.
///
/// ```
/// let doc = clab_keys_example_common::openapi::document();
/// assert!(doc.paths.get_path_item("/api/auth/login").is_some());
/// assert!(doc.paths.get_path_item("/api/user/api-keys/{id}").is_some());
/// ```
pub fn document() -> utoipa::openapi::OpenApi {
    AppApi::openapi().merge_from(ManagementApi::at(MANAGEMENT_PATH))
}

/// [`document`] as JSON, serialized once.
pub fn document_json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        // A document of strings, maps and numbers always serializes; the fallback keeps the
        // endpoint up (and visibly wrong) rather than panicking.
        document()
            .to_pretty_json()
            .unwrap_or_else(|_| "{}".to_owned())
    });
    &JSON
}

/// The whole `200` answer of `GET /openapi.json` (`application/json`, `Cache-Control: no-store`
/// like every JSON answer of the apps).
pub fn openapi_response() -> ApiResponse {
    let mut response = ApiResponse::json(200, &serde_json::Value::Null);
    response.body = document_json().as_bytes().to_vec();
    response
}

/// The document's operations as an HTML table (`#openapi-endpoints`), one row per method and
/// path, in the order of the document's tags: what `/developers` shows. Plain HTML, nothing
/// for the Content-Security-Policy to block.
pub fn endpoint_table_html(doc: &utoipa::openapi::OpenApi) -> String {
    let tags: Vec<&str> = doc.tags.iter().flatten().map(|t| t.name.as_str()).collect();
    let mut rows: Vec<(usize, &str, &str, &Operation)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, operation) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ] {
            let Some(operation) = operation else { continue };
            let tag = operation
                .tags
                .iter()
                .flatten()
                .next()
                .and_then(|t| tags.iter().position(|known| known == t))
                .unwrap_or(tags.len());
            rows.push((tag, path, method, operation));
        }
    }
    rows.sort_by_key(|(tag, path, method, _)| (*tag, *path, *method));

    let mut html = String::from(
        "<div class=\"table-wrap\">\n<table id=\"openapi-endpoints\" data-testid=\"openapi-endpoints\">\n\
         <caption>Every endpoint, from <a href=\"/openapi.json\">/openapi.json</a></caption>\n\
         <thead><tr><th scope=\"col\">Method and path</th><th scope=\"col\">What it does</th>\
         <th scope=\"col\">Credential</th><th scope=\"col\">Answers</th></tr></thead>\n<tbody>\n",
    );
    for (_, path, method, operation) in rows {
        let summary = operation.summary.as_deref().unwrap_or("");
        let statuses: Vec<&str> = operation
            .responses
            .responses
            .keys()
            .map(String::as_str)
            .collect();
        let _ = writeln!(
            html,
            "<tr><td><code>{method} {path}</code></td><td>{summary}</td><td>{credential}</td>\
             <td>{statuses}</td></tr>",
            path = escape(path),
            summary = escape(summary),
            credential = credential(operation),
            statuses = statuses
                .iter()
                .map(|s| format!("<code>{}</code>", escape(s)))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    html.push_str("</tbody>\n</table>\n</div>");
    html
}

/// What an operation's `security` asks for, in words.
fn credential(operation: &Operation) -> &'static str {
    match &operation.security {
        None => "none",
        Some(requirements) if requirements.is_empty() => "none",
        Some(requirements) => {
            // An empty requirement object (`{}`) among them means "or nothing".
            let optional = serde_json::to_value(requirements)
                .ok()
                .and_then(|v| v.as_array().cloned())
                .is_some_and(|all| {
                    all.iter()
                        .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
                });
            if optional {
                "optional bearer token"
            } else {
                "bearer token"
            }
        }
    }
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ---- The apps' own endpoints -----------------------------------------------------------------

/// The apps' own part of the document. A new endpoint of the apps gets a described function
/// below and its name in `paths(...)`; the key endpoints come from the library.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "clab-keys example app",
        description = "The example apps' API (axum-app and actix-app answer alike): log in for a \
            60-minute session JWT, create long-lived API keys (`clab_user_…`) with it, and call \
            the API with either as `Authorization: Bearer`. Every JSON answer carries \
            `Cache-Control: no-store`; errors are `{\"error\": \"<code>\", \"message\": \
            \"<text>\"}`. Any other path answers `404 not_found`; a known path with another \
            method answers `405`.",
    ),
    paths(login, me, echo, healthz, openapi_json),
    components(schemas(LoginRequest, SessionToken, LoginError, Me, Echo, Health)),
    tags(
        (name = "session", description = "Logging in, and who the caller is."),
        (name = ManagementApi::TAG, description = "Long-lived API keys of the signed-in user: create (shown once), list, revoke."),
        (name = "service", description = "Health and this document."),
        (name = "pages", description = "The web pages and their assets (no credential)."),
    ),
    modifiers(&Pages),
)]
struct AppApi;

// The functions below only carry the descriptions: the apps route these paths to
// `AppState::login_response`, `AppState::me`, `echo_response`, `AppState::healthz` and
// `openapi_response`.

/// Log in
///
/// Checks an email and a password and issues a 60-minute session JWT (HS256). Unknown emails
/// and wrong passwords answer alike.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "session",
    operation_id = "login",
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "A session token.", body = SessionToken,
            headers(
                ("Cache-Control" = String, description = "`no-store`."),
                ("Pragma" = String, description = "`no-cache`."),
            )),
        (status = 400, description = "The body is not `{\"email\", \"password\"}` JSON, or is over 8 KiB (`invalid_request`).",
            body = LoginError),
        (status = 401, description = "Unknown email or wrong password (`invalid_credentials`).", body = LoginError,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"clab-keys-example\"`."))),
        (status = 429, description = "This client address failed to log in too often this minute (`too_many_failed_attempts`), whatever the password.",
            body = LoginError,
            headers(("Retry-After" = u32, description = "Seconds until the address's minute is over."))),
        (status = 500, description = "Hashing or signing failed (`internal_error`).", body = LoginError),
        (status = 503, description = "Every password-checking slot stayed busy for 2 s (`login_busy`, `Retry-After: 1`), or the user database is unreachable (`temporarily_unavailable`, `Retry-After: 5`).", body = LoginError,
            headers(("Retry-After" = u32, description = "Seconds to wait (1 or 5)."))),
    ),
)]
#[allow(dead_code)]
fn login() {}

/// Who the caller is
///
/// The user behind the credential: a session JWT or an API key. A user that no longer exists
/// is `401 invalid_token`.
#[utoipa::path(
    get,
    path = "/api/security/users/me",
    tag = "session",
    operation_id = "me",
    responses(
        (status = 200, description = "The caller.", body = Me,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "The `Authorization` header is malformed (`invalid_request`).",
            body = ref("#/components/schemas/ApiError"),
            headers(("WWW-Authenticate" = String, description = "An RFC 6750 challenge."))),
        (status = 401, description = "No credential (`unauthorized`) or a refused one (`invalid_token`).",
            body = ref("#/components/schemas/ApiError"),
            headers(("WWW-Authenticate" = String, description = "An RFC 6750 challenge."))),
        (status = 503, description = "The key store or the user database failed (`temporarily_unavailable`).",
            body = ref("#/components/schemas/ApiError"),
            headers(("Retry-After" = u32, description = "Seconds to wait (5)."))),
    ),
    security(("bearer" = [])),
)]
#[allow(dead_code)]
fn me() {}

/// Echo the credential
///
/// Who the caller is, if anyone, without touching the database: the credential is optional,
/// but a presented bad one is refused.
#[utoipa::path(
    get,
    path = "/api/echo",
    tag = "session",
    operation_id = "echo",
    responses(
        (status = 200, description = "The caller, or nulls without a credential.", body = Echo,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "The `Authorization` header is malformed (`invalid_request`).",
            body = ref("#/components/schemas/ApiError"),
            headers(("WWW-Authenticate" = String, description = "An RFC 6750 challenge."))),
        (status = 401, description = "A presented credential was refused (`invalid_token`).",
            body = ref("#/components/schemas/ApiError"),
            headers(("WWW-Authenticate" = String, description = "An RFC 6750 challenge."))),
        (status = 503, description = "The key store failed (`temporarily_unavailable`).",
            body = ref("#/components/schemas/ApiError"),
            headers(("Retry-After" = u32, description = "Seconds to wait (5)."))),
    ),
    security((), ("bearer" = [])),
)]
#[allow(dead_code)]
fn echo() {}

/// Health check
///
/// Whether the database answers a ping.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    operation_id = "healthz",
    responses(
        (status = 200, description = "`{\"status\": \"ok\"}`.", body = Health,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 503, description = "The database is unreachable.", body = Health,
            headers(("Retry-After" = u32, description = "Seconds to wait (5)."))),
    ),
)]
#[allow(dead_code)]
fn healthz() {}

/// This document
///
/// The whole API as an OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    operation_id = "openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", body = Object, content_type = "application/json",
            headers(("Cache-Control" = String, description = "`no-store`."))),
    ),
)]
#[allow(dead_code)]
fn openapi_json() {}

/// Adds a `GET` operation for every static page and asset, from [`crate::ASSETS`], so the
/// document lists every path the apps serve.
struct Pages;

impl Modify for Pages {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for asset in &crate::ASSETS {
            let media_type = asset
                .content_type
                .split(';')
                .next()
                .unwrap_or(asset.content_type);
            let response = ResponseBuilder::new()
                .description(format!("The page or asset ({}).", asset.content_type))
                .content(
                    media_type,
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                )
                .build();
            let operation: Operation = OperationBuilder::new()
                .tag("pages")
                .summary(Some(page_summary(asset.path)))
                .response("200", response)
                .build();
            openapi
                .paths
                .add_path_operation(asset.path, vec![HttpMethod::Get], operation);
        }
    }
}

fn page_summary(path: &str) -> &'static str {
    match path {
        "/" => "Home page",
        "/settings/api-keys" => "API key settings page",
        "/developers" => "Developer guide (this page)",
        "/skill.md" => "Guidance for AI agents, in Markdown",
        p if p.ends_with(".css") => "Stylesheet",
        _ => "Script",
    }
}

// ---- Schemas of the apps' own bodies -----------------------------------------------------------

/// The login request.
#[derive(ToSchema)]
#[allow(dead_code)]
struct LoginRequest {
    /// The account's email address (case and surrounding space ignored).
    #[schema(example = "demo@example.com")]
    email: String,
    /// The password.
    #[schema(format = Password, example = "demo-password")]
    password: String,
}

/// A session token: send it as `Authorization: Bearer <access_token>`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct SessionToken {
    /// The session JWT (HS256).
    access_token: String,
    /// Always `bearer`.
    token_type: TokenType,
    /// Seconds until the token expires (3600).
    #[schema(example = 3600)]
    expires_in: u64,
}

/// The token type.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum TokenType {
    Bearer,
}

/// An error of the login endpoint: `{"error": "<code>", "message": "<text>"}`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct LoginError {
    /// The error code.
    error: LoginErrorCode,
    /// A sentence for people.
    message: String,
}

/// The login endpoint's error codes.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum LoginErrorCode {
    InvalidRequest,
    InvalidCredentials,
    TooManyFailedAttempts,
    LoginBusy,
    TemporarilyUnavailable,
    InternalError,
}

/// How the caller authenticated.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum AuthKind {
    Jwt,
    ApiKey,
}

/// The caller of `GET /api/security/users/me`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Me {
    /// The user id.
    #[schema(example = 1)]
    id: i64,
    /// The email address.
    #[schema(example = "demo@example.com")]
    email: String,
    /// The credential used.
    auth: AuthKind,
}

/// The caller of `GET /api/echo`, if any.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Echo {
    /// The user id, or `null` without a credential.
    #[schema(required)]
    user_id: Option<String>,
    /// The credential used, or `null` without one.
    #[schema(required)]
    auth: Option<AuthKind>,
}

/// The health of the app.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Health {
    /// `ok`, or `unavailable` with a `503`.
    status: HealthStatus,
    /// `temporarily_unavailable` with a `503`.
    error: Option<String>,
    /// What is wrong, with a `503`.
    message: Option<String>,
}

/// The health status.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum HealthStatus {
    Ok,
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apps_name_the_librarys_security_scheme() {
        // The derive above needs a literal.
        assert_eq!(ManagementApi::SECURITY_SCHEME, "bearer");
    }

    #[test]
    fn escape_covers_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
