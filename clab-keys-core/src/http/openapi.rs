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
use super::wire::{CreateKeyBody, CreatedKeyBody, ErrorBody, ErrorCode, KeyInfoBody};

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
const OPERATIONS: [Endpoint; 3] = [
    ("", HttpMethod::Post, create_key),
    ("", HttpMethod::Get, list_keys),
    ("/{id}", HttpMethod::Delete, revoke_key),
];

/// A row of [`OPERATIONS`]: the path below the mount, the method, the operation.
type Endpoint = (&'static str, HttpMethod, fn() -> Operation);

const INFO_DESCRIPTION: &str = "Long-lived user API keys (`clab_user_…`) next to session JWTs. \
Every endpoint takes one credential in `Authorization: Bearer`: a session JWT or an API key. \
Creating and revoking keys needs a session JWT, so a leaked key cannot mint more keys. Every \
answer carries `Cache-Control: no-store`; errors are `{\"error\": \"<code>\", \"message\": \
\"<text>\"}`. A management path with a method it does not serve answers `405` with `Allow` \
(`components.responses.MethodNotAllowed`), and a path below the collection that names no \
endpoint answers `404 not_found`, whatever the credential.";

fn components() -> utoipa::openapi::Components {
    ComponentsBuilder::new()
        .schema_from::<CreateKeyBody>()
        .schema_from::<CreatedKeyBody<'static>>()
        .schema_from::<KeyInfoBody<'static>>()
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
                 `DELETE` on one key).",
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
         Checks run in this order: credential, session, body size, JSON shape, \
         `expires_in_days`, name, expiry, scopes, then the active-key limit.",
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
    .response("403", session_required())
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
         never a token or its hash. A session JWT or any API key (scopes are not checked). \
         `HEAD` answers as `GET` without the body.",
    )
    .response(
        "200",
        json_response(
            "The caller's keys, newest first.",
            ArrayBuilder::new()
                .items(schema_ref::<KeyInfoBody<'static>>())
                .into(),
        ),
    )
    .response("400", bad_header())
    .response("401", unauthorized())
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
            .schema(string().enum_values(Some(["GET, HEAD, POST", "DELETE"])))
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
