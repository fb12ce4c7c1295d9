//! The management endpoints of contract §6 as an OpenAPI 3.1 document (feature `openapi`):
//! the bodies' schemas are derived from the types in `wire.rs` that the endpoints serialize,
//! and the operations below say which answers each endpoint gives. The document is built by
//! code rather than by `#[utoipa::path]` attributes because the endpoints are not handler
//! functions of a framework, and because the shared answers (401, 503…) are written once here.

use serde_json::json;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    AllOfBuilder, ArrayBuilder, ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder,
    OpenApiBuilder, Paths, Ref, RefOr, Required, Response, ResponseBuilder, Schema, Type,
};
use utoipa::{OpenApi, ToSchema};

use super::management::MANAGEMENT_PATH;
use super::wire::{
    CreateKeyBody, CreatedKeyBody, ErrorBody, ErrorCode, KeyInfoBody, RotateKeyBody,
    RotatedKeyBody, UpdateKeyBody,
};

/// The OpenAPI 3.1 description of the management endpoints (contract §6): create
/// (`POST {mount}`), list (`GET {mount}`) and revoke (`DELETE {mount}/{id}`), the schemas of
/// their bodies, the error body `{"error", "message"}` with every error code, and the bearer
/// security scheme ([`ManagementApi::SECURITY_SCHEME`]). Feature `openapi`, with
/// [`utoipa`](https://docs.rs/utoipa) 5.
///
/// [`OpenApi::openapi`] describes the endpoints at [`MANAGEMENT_PATH`]; [`ManagementApi::at`]
/// at the path an application mounts them at (the one it gives `management_router` or
/// `management_scope`). Merge either into the application's own document:
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{MANAGEMENT_PATH, ManagementApi};
/// use utoipa::OpenApi;
///
/// #[derive(OpenApi)]
/// #[openapi(info(title = "My service", version = "1.0.0"))]
/// struct ApiDoc;
///
/// let mut doc = ApiDoc::openapi();
/// doc.merge(ManagementApi::at(MANAGEMENT_PATH)); // or ManagementApi::openapi()
/// assert!(doc.paths.get_path_item("/api/user/api-keys/{id}").is_some());
/// let components = doc.components.as_ref().unwrap();
/// assert!(components.security_schemes.contains_key(ManagementApi::SECURITY_SCHEME));
/// assert!(components.schemas.contains_key("ApiError"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct ManagementApi;

impl ManagementApi {
    /// The name of the HTTP bearer scheme in `components.securitySchemes`; an application's
    /// own operations that take the same credentials can name it in their `security`.
    pub const SECURITY_SCHEME: &'static str = "bearer";

    /// The tag of the management operations.
    pub const TAG: &'static str = "api-keys";

    /// The document with the endpoints mounted at `mount` (such as [`MANAGEMENT_PATH`]): the
    /// collection at `mount`, one key at `{mount}/{id}`.
    pub fn at(mount: &str) -> utoipa::openapi::OpenApi {
        let mut paths = Paths::new();
        for (suffix, method, operation) in OPERATIONS {
            paths.add_path_operation(format!("{mount}{suffix}"), vec![method], operation());
        }
        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("clab-keys management API")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(INFO_DESCRIPTION)),
            )
            .paths(paths)
            .components(Some(components()))
            .tags(Some([TagBuilder::new()
                .name(Self::TAG)
                .description(Some(
                    "Long-lived API keys of the signed-in user: create (shown once), list, revoke.",
                ))
                .build()]))
            .build()
    }
}

impl OpenApi for ManagementApi {
    /// The document with the endpoints at [`MANAGEMENT_PATH`].
    fn openapi() -> utoipa::openapi::OpenApi {
        Self::at(MANAGEMENT_PATH)
    }
}

/// Every management operation: the path below the mount, the method, and the function that
/// describes it. **A new endpoint (rotate, `PATCH`, leak reports…) is documented by writing
/// its operation function below and adding its row here**; a new body type goes into
/// `wire.rs` and [`components`], a new error code into `wire::ErrorCode`.
const OPERATIONS: [Endpoint; 5] = [
    ("", HttpMethod::Post, create_key),
    ("", HttpMethod::Get, list_keys),
    ("/{id}", HttpMethod::Delete, revoke_key),
    ("/{id}", HttpMethod::Patch, update_key),
    ("/{id}/rotate", HttpMethod::Post, rotate_key),
];

/// A row of [`OPERATIONS`]: the path below the mount, the method, the operation.
type Endpoint = (&'static str, HttpMethod, fn() -> Operation);

const INFO_DESCRIPTION: &str = "Long-lived user API keys (`clab_user_…`) next to session JWTs. \
Every endpoint takes one credential in `Authorization: Bearer`: a session JWT or an API key. \
Creating, rotating, changing and revoking keys needs a session JWT, so a leaked key cannot mint \
more keys; a server may also require a recent login to create and rotate \
(`reauthentication_required`). Every \
answer carries `Cache-Control: no-store`; errors are `{\"error\": \"<code>\", \"message\": \
\"<text>\"}`. A management path with a method it does not serve answers `405` with `Allow` \
(`components.responses.MethodNotAllowed`), and a path below the collection that names no \
endpoint answers `404 not_found`, whatever the credential.";

fn components() -> utoipa::openapi::Components {
    ComponentsBuilder::new()
        .schema_from::<CreateKeyBody>()
        .schema_from::<CreatedKeyBody<'static>>()
        .schema_from::<KeyInfoBody<'static>>()
        .schema_from::<RotateKeyBody>()
        .schema_from::<RotatedKeyBody<'static>>()
        .schema_from::<UpdateKeyBody>()
        .schema_from::<ErrorBody<'static>>()
        .schema_from::<ErrorCode>()
        .security_scheme(
            ManagementApi::SECURITY_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or clab_user_ API key")
                    .description(Some(
                        "A session JWT or an API key (`clab_user_` followed by 46 letters and \
                         digits) in `Authorization: Bearer`. One `Authorization` line; never \
                         in the query string.",
                    ))
                    .build(),
            ),
        )
        .response(
            "MethodNotAllowed",
            with_allow(error_response(
                "A management path with a method it does not serve, whatever the credential: \
                 `Allow` lists the methods it does serve (`GET, HEAD, POST` on the collection, \
                 `DELETE, PATCH` on one key, `POST` on its `/rotate`).",
                &[(
                    "method_not_allowed",
                    "this endpoint does not accept that method",
                )],
            )),
        )
        .build()
}

// ---- The operations ------------------------------------------------------------------------

fn create_key() -> Operation {
    operation(
        "createApiKey",
        "Create an API key (session JWT only)",
        "Creates a key for the caller, who must use a session JWT (an API key gets `403`). The \
         token is in this answer only: it is stored as a keyed hash and never shown again. \
         Checks run in this order: credential, session, recent login (when the server asks \
         for one), body size, JSON shape, `expires_in_days`, name, expiry, scopes, then the \
         active-key limit.",
    )
    .request_body(Some(
        RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(schema_ref::<CreateKeyBody>()))
                    .example(Some(
                        json!({ "name": "laptop", "expires_in_days": 30, "scopes": [] }),
                    ))
                    .build(),
            )
            .build(),
    ))
    .response(
        "201",
        json_response(
            "The key is created; `token` is shown this once.",
            schema_ref::<CreatedKeyBody<'static>>(),
        ),
    )
    .response(
        "400",
        error_response(
            "A malformed `Authorization` header (with a `WWW-Authenticate` challenge), or a \
             body that breaks a rule.",
            &[
                (
                    "invalid_request",
                    "body must be JSON: {\"name\": string, \"expires_in_days\": integer \
                     (optional), \"scopes\": [string] (optional)}",
                ),
                (
                    "invalid_name",
                    "name must be 1-100 characters, with a visible one and no control, invisible or direction-changing character",
                ),
                (
                    "invalid_expiry",
                    "expires_in_days must be a positive whole number of days within the maximum \
                     lifetime",
                ),
                (
                    "invalid_scopes",
                    "scopes must be at most 32 names of 1-64 characters from A-Z a-z 0-9 : . _ -",
                ),
            ],
        ),
    )
    .response("401", unauthorized())
    .response("403", session_and_recent_login_required())
    .response(
        "409",
        error_response(
            "The caller already has the maximum number of active keys (10 by default).",
            &[(
                "key_limit_reached",
                "you already have 10 active API keys; revoke one to create another",
            )],
        ),
    )
    .response(
        "413",
        error_response(
            "The body is over 16 KiB.",
            &[("payload_too_large", "request body is too large")],
        ),
    )
    .response(
        "500",
        error_response(
            "The server's random source failed (or key ids collided eight times).",
            &[("internal_error", "the key could not be created")],
        ),
    )
    .response("503", unavailable())
    .build()
}

fn list_keys() -> Operation {
    operation(
        "listApiKeys",
        "List the caller's API keys",
        "The caller's keys, newest first, revoked and expired keys included: metadata only, \
         never a token or its hash. A session JWT, an unrestricted API key, or an API key \
         with the scope `keys:read`. At most `limit` keys per answer; while more remain, a \
         `Link` header (`rel=\"next\"`) gives the URL of the next page. `HEAD` answers as \
         `GET` without the body.",
    )
    .parameter(
        ParameterBuilder::new()
            .name("limit")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some("Keys per page, 1-100; 100 when absent."))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(100)),
            ))
            .example(Some(json!(20))),
    )
    .parameter(
        ParameterBuilder::new()
            .name("cursor")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(
                "Where the page starts: copy it from the `Link` header of the page before; \
                 opaque.",
            ))
            .schema(Some(string().pattern(Some("^-?[0-9]{1,20}\\.[0-9A-Za-z]{8}$"))))
            .example(Some(json!("1767225600000000.DocsEx01"))),
    )
    .response(
        "200",
        // `Link` is sent only while more keys remain, so it is described in words: the
        // document's headers are those always sent.
        json_response(
            "One page of the caller's keys, newest first. While more remain, a `Link` header \
             gives the next page's URL relative to the server (RFC 8288): \
             `Link: </api/user/api-keys?limit=20&cursor=…>; rel=\"next\"`.",
            ArrayBuilder::new()
                .items(schema_ref::<KeyInfoBody<'static>>())
                .into(),
        ),
    )
    .response(
        "400",
        error_response(
            "A malformed `Authorization` header (then with a `WWW-Authenticate` \
             challenge), or a `limit` or `cursor` that is not valid.",
            &[(
                "invalid_request",
                "limit must be a whole number from 1 to 100, and cursor the value a Link header gave",
            )],
        )
        .build(),
    )
    .response("401", unauthorized())
    .response(
        "403",
        with_challenge(
            error_response(
                "An API key limited to scopes without `keys:read`.",
                &[(
                    "insufficient_scope",
                    "the access token lacks a required scope",
                )],
            ),
            "Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"keys:read\"",
        )
        .build(),
    )
    .response("503", unavailable())
    .build()
}

/// The `{id}` path parameter of the one-key operations.
fn key_id_parameter() -> ParameterBuilder {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("The key id: `id` in the list, 8 letters and digits."))
        .schema(Some(string()))
        .example(Some(json!("DocsEx01")))
}

fn no_such_key() -> Response {
    error_response(
        "No such key of the caller: an unknown id, a malformed one and another user's key \
         answer alike.",
        &[("not_found", "no such API key")],
    )
    .build()
}

fn key_inactive() -> Response {
    error_response(
        "The key is revoked or expired, or (rotate) was already replaced by a rotation.",
        &[(
            "key_inactive",
            "the API key is revoked, expired or already replaced",
        )],
    )
    .build()
}

fn too_large() -> Response {
    error_response(
        "The body is over 16 KiB.",
        &[("payload_too_large", "request body is too large")],
    )
    .build()
}

fn rotate_key() -> Operation {
    operation(
        "rotateApiKey",
        "Rotate an API key (session JWT only)",
        "Replaces one of the caller's active keys by a new key with the same name and scopes \
         and an expiry no later than the old one's; the new token is in this answer only. \
         With `grace_seconds` 0 (the default; also an empty body) the old key is revoked at \
         once with reason `rotated`; otherwise it keeps working until the earlier of its own \
         expiry and now + grace, and no longer counts against the key limit. The old key's \
         `replaced_by` names the new one. Never fails for the active-key limit, but a caller \
         holds at most that many keys in a grace period at once: a rotation with a grace \
         period beyond that is `409 key_limit_reached` (grace 0 always succeeds). Needs a \
         session JWT, recent when the server asks for one: an agent holding only an API key \
         asks a person to rotate it.",
    )
    .parameter(key_id_parameter())
    .request_body(Some(
        RequestBodyBuilder::new()
            .required(Some(Required::False))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(schema_ref::<RotateKeyBody>()))
                    .example(Some(json!({ "grace_seconds": 3600 })))
                    .build(),
            )
            .build(),
    ))
    .response(
        "201",
        json_response(
            "The new key; `token` is shown this once, `replaces` is the old key's id.",
            schema_ref::<RotatedKeyBody<'static>>(),
        ),
    )
    .response(
        "400",
        error_response(
            "A malformed `Authorization` header (then with a `WWW-Authenticate` \
             challenge), or a body that is not `{\"grace_seconds\": 0-604800}`.",
            &[(
                "invalid_request",
                "body must be empty or JSON: {\"grace_seconds\": whole number from 0 to 604800 (optional)}",
            )],
        )
        .build(),
    )
    .response("401", unauthorized())
    .response("403", session_and_recent_login_required())
    .response("404", no_such_key())
    .response(
        "409",
        error_response(
            "The key is revoked, expired or already replaced; or a grace period was asked for \
             while the caller already has the maximum of keys in one (10 by default).",
            &[
                (
                    "key_inactive",
                    "the API key is revoked, expired or already replaced",
                ),
                (
                    "key_limit_reached",
                    "you already have 10 API keys in a rotation grace period; revoke one or rotate without a grace period",
                ),
            ],
        )
        .build(),
    )
    .response("413", too_large())
    .response(
        "500",
        error_response(
            "The server's random source failed (or key ids collided eight times).",
            &[("internal_error", "the key could not be created")],
        )
        .build(),
    )
    .response("503", unavailable())
    .build()
}

fn update_key() -> Operation {
    operation(
        "updateApiKey",
        "Rename an API key, narrow its scopes or move its expiry earlier (session JWT only)",
        "Changes one of the caller's active keys and answers it as changed (the list \
         representation). Only ever takes rights away: an unrestricted key may be given any \
         valid scopes, a scoped key only a non-empty subset of its own; `expires_at` must be \
         in the future and no later than the key's current expiry. At least one field.",
    )
    .parameter(key_id_parameter())
    .request_body(Some(
        RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(schema_ref::<UpdateKeyBody>()))
                    .example(Some(json!({ "name": "CI runner" })))
                    .build(),
            )
            .build(),
    ))
    .response(
        "200",
        json_response(
            "The key as changed.",
            schema_ref::<KeyInfoBody<'static>>(),
        ),
    )
    .response(
        "400",
        error_response(
            "A malformed `Authorization` header (with a `WWW-Authenticate` challenge), or \
             a body that breaks a rule.",
            &[
                (
                    "invalid_request",
                    "body must be JSON with at least one of: {\"name\": string, \"scopes\": [string], \"expires_at\": RFC 3339 time}",
                ),
                (
                    "invalid_name",
                    "name must be 1-100 characters, with a visible one and no control, invisible or direction-changing character",
                ),
                (
                    "invalid_scopes",
                    "scopes must be a non-empty list of valid names (A-Z a-z 0-9 : . _ -) within the key's own scopes",
                ),
                (
                    "invalid_expiry",
                    "expires_at must be an RFC 3339 time in the future, no later than the key's current expiry",
                ),
            ],
        )
        .build(),
    )
    .response("401", unauthorized())
    .response("403", session_required())
    .response("404", no_such_key())
    .response("409", key_inactive())
    .response("413", too_large())
    .response("503", unavailable())
    .build()
}

fn revoke_key() -> Operation {
    operation(
        "revokeApiKey",
        "Revoke an API key (session JWT only)",
        "Revokes one of the caller's keys (soft: it stays in the list with `revoked_at`). \
         Needs a session JWT. Revoking a key that is already revoked succeeds again.",
    )
    .parameter(
        ParameterBuilder::new()
            .name("id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some("The key id: `id` in the list, 8 letters and digits."))
            .schema(Some(string()))
            .example(Some(json!("DocsEx01"))),
    )
    .response(
        "204",
        ResponseBuilder::new()
            .description("The key is revoked (or already was); empty body.")
            .header("Cache-Control", cache_control())
            .build(),
    )
    .response("400", bad_header())
    .response("401", unauthorized())
    .response("403", session_required())
    .response(
        "404",
        error_response(
            "No such key of the caller: an unknown id, a malformed one and another user's key \
             answer alike.",
            &[("not_found", "no such API key")],
        ),
    )
    .response("503", unavailable())
    .build()
}

// ---- Shared pieces -------------------------------------------------------------------------

/// An operation of the management tag, for bearer credentials.
fn operation(id: &str, summary: &str, description: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .tag(ManagementApi::TAG)
        .summary(Some(summary))
        .description(Some(description))
        .security(SecurityRequirement::new(
            ManagementApi::SECURITY_SCHEME,
            Vec::<String>::new(),
        ))
}

fn schema_ref<T: ToSchema>() -> RefOr<Schema> {
    Ref::from_schema_name(T::name()).into()
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// `Cache-Control: no-store`, on every answer of the management endpoints.
fn cache_control() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(string().enum_values(Some(["no-store"])))
        .description(Some("Always `no-store`."))
        .build()
}

/// A JSON answer with `Cache-Control: no-store`.
fn json_response(description: &str, schema: RefOr<Schema>) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .header("Cache-Control", cache_control())
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
}

/// An error answer whose `error` is one of `codes` (code, example message), each given as an
/// example.
fn error_response(description: &str, codes: &[(&str, &str)]) -> ResponseBuilder {
    let narrowed: RefOr<Schema> = AllOfBuilder::new()
        .item(schema_ref::<ErrorBody<'static>>())
        .item(
            ObjectBuilder::new()
                .property(
                    "error",
                    string().enum_values(Some(codes.iter().map(|(code, _)| *code))),
                )
                .required("error"),
        )
        .into();
    let examples = codes.iter().map(|(code, message)| {
        (
            *code,
            ExampleBuilder::new()
                .value(Some(json!({ "error": code, "message": message })))
                .build(),
        )
    });
    ResponseBuilder::new()
        .description(description)
        .header("Cache-Control", cache_control())
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(narrowed))
                .examples_from_iter(examples)
                .build(),
        )
}

/// An RFC 6750 challenge, sent with every `401` and `403` of the credential check.
fn with_challenge(response: ResponseBuilder, example: &str) -> ResponseBuilder {
    response.header(
        "WWW-Authenticate",
        HeaderBuilder::new()
            .schema(string().pattern(Some("^Bearer realm=\"")))
            .description(Some(format!(
                "An RFC 6750 `Bearer` challenge naming the realm, such as `{example}`."
            )))
            .build(),
    )
}

fn with_allow(response: ResponseBuilder) -> ResponseBuilder {
    response.header(
        "Allow",
        HeaderBuilder::new()
            .schema(string().enum_values(Some(["GET, HEAD, POST", "DELETE, PATCH", "POST"])))
            .description(Some("The methods the path serves."))
            .build(),
    )
}

fn bad_header() -> Response {
    with_challenge(
        error_response(
            "The `Authorization` header is malformed (two lines, two credentials, a bad \
             scheme token…).",
            &[("invalid_request", "the Authorization header is malformed")],
        ),
        "Bearer realm=\"api\", error=\"invalid_request\", error_description=\"the Authorization header is malformed\"",
    )
    .build()
}

fn unauthorized() -> Response {
    with_challenge(
        error_response(
            "No credential (`unauthorized`), or a presented one refused (`invalid_token`: \
             unknown, wrong, revoked or expired key, invalid or expired JWT; the same answer \
             for every reason).",
            &[
                ("unauthorized", "authentication required"),
                ("invalid_token", "the access token is not valid"),
            ],
        ),
        "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the access token is not valid\"",
    )
    .build()
}

fn session_required() -> Response {
    with_challenge(
        error_response(
            "An API key was sent: creating and revoking keys needs a session JWT.",
            &[(
                "interactive_session_required",
                "this endpoint needs an interactive session; API keys cannot manage API keys",
            )],
        ),
        "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"this endpoint needs an interactive session; API keys cannot manage API keys\"",
    )
    .build()
}

/// The `403` of create and rotate: an API key, or a session whose login is too old.
fn session_and_recent_login_required() -> Response {
    with_challenge(
        error_response(
            "An API key was sent (`interactive_session_required`: this needs a session JWT), \
             or the session's login is older than the server allows \
             (`reauthentication_required`: log in again; the challenge is RFC 9470's \
             `insufficient_user_authentication` with `max_age` in seconds).",
            &[
                (
                    "interactive_session_required",
                    "this endpoint needs an interactive session; API keys cannot manage API keys",
                ),
                (
                    "reauthentication_required",
                    "log in again: creating or rotating a key needs a recent login",
                ),
            ],
        ),
        "Bearer realm=\"api\", error=\"insufficient_user_authentication\", error_description=\"log in again: creating or rotating a key needs a recent login\", max_age=900",
    )
    .build()
}

fn unavailable() -> Response {
    error_response(
        "The key store (or the session verifier) failed: nothing is wrong with the \
         credential; retry after `Retry-After` seconds.",
        &[(
            "temporarily_unavailable",
            "authentication is temporarily unavailable",
        )],
    )
    .header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .description(Some("Seconds to wait before retrying (5)."))
            .build(),
    )
    .build()
}
