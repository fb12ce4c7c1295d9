//! The JSON bodies of the management endpoints (contract §6) as types: the request body that
//! `management.rs` parses, the answers it serializes, and the error body of every answer. With
//! the `openapi` feature the same types derive their OpenAPI schemas (`http/openapi.rs`), so
//! the document cannot drift from what is sent.
//!
//! The fields of the answers are declared in alphabetical order: that is the order the bodies
//! had when they were built with `serde_json::json!` (a sorted map), so the answers stay the
//! same byte for byte.

use serde::{Deserialize, Serialize};

/// Reads a request body that must be one JSON object of type `T`. serde would also fill a
/// struct from a JSON array (`["ci"]` as `{"name": "ci"}`); the contract's bodies are objects,
/// so anything but an object is refused before serde sees it.
pub(crate) fn json_object<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Option<T> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// The body of a create request. Unknown fields are refused; `null` means absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CreateApiKeyRequest))]
pub(crate) struct CreateKeyBody {
    /// A name for the key, shown in the list: trimmed, then 1–100 characters without control
    /// characters.
    #[cfg_attr(feature = "openapi", schema(example = "laptop"))]
    pub(crate) name: String,
    /// Days until the key expires, 1–36,500 and within the server's maximum lifetime. Absent
    /// or `null`: no expiry, unless the server sets a maximum lifetime.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 1, maximum = 36_500, example = 30)
    )]
    pub(crate) expires_in_days: Option<i64>,
    /// Scopes the key is limited to: at most 32 names of 1–64 characters from
    /// `A-Z a-z 0-9 : . _ -`, duplicates dropped. Absent, `null` or `[]`: unrestricted.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 32, example = json!(["reports:read"])))]
    pub(crate) scopes: Option<Vec<String>>,
}

/// The body of a rotate request, optional as a whole (an empty body means grace 0). Unknown
/// fields are refused; `null` means absent.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RotateApiKeyRequest))]
pub(crate) struct RotateKeyBody {
    /// Seconds the old key keeps working after the rotation, a whole number from 0 (revoked at
    /// once, the default) to 604,800 (7 days); never past the old key's own expiry.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 0, maximum = 604_800, example = 3600)
    )]
    pub(crate) grace_seconds: Option<i64>,
}

/// The body of an update (`PATCH`) request: at least one field. Unknown fields are refused;
/// `null` means absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = UpdateApiKeyRequest))]
pub(crate) struct UpdateKeyBody {
    /// A new name, under the create rule.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "CI runner"))]
    pub(crate) name: Option<String>,
    /// New scopes: a non-empty list; for a key already limited to scopes, a subset of them.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 32, example = json!(["projects:read"])))]
    pub(crate) scopes: Option<Vec<String>>,
    /// A new expiry (RFC 3339): in the future and no later than the key's current one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime, example = "2030-01-01T00:00:00Z"))]
    pub(crate) expires_at: Option<String>,
}

/// A key just made by a rotation: the create answer plus the id of the key it replaces.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RotatedApiKey))]
pub(crate) struct RotatedKeyBody<'a> {
    /// When the new key was created (RFC 3339, UTC, six fractional digits).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-11-29T08:30:00.400000Z"))]
    pub(crate) created_at: String,
    /// When the new key expires (no later than the old one), or `null` for never.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub(crate) expires_at: Option<String>,
    /// The new key's id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9A-Za-z]{8}$", example = "DocsEx02"))]
    pub(crate) id: &'a str,
    /// The old key's name.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "laptop"))]
    pub(crate) name: &'a str,
    /// The new key's display prefix.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "clab_user_DocsEx02"))]
    pub(crate) prefix: &'a str,
    /// The id of the key this one replaces (revoked, or in its grace period).
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9A-Za-z]{8}$", example = "DocsEx01"))]
    pub(crate) replaces: &'a str,
    /// The old key's scopes; `[]` for an unrestricted key.
    pub(crate) scopes: Vec<String>,
    /// The new API key, shown only in this answer.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "clab_user_DocsEx01ThisIsAnExampleKeyFromTheDocs0103f4Jfm"))]
    pub(crate) token: &'a str,
}

/// A key just created, with its token, which no other answer ever shows again.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CreatedApiKey))]
pub(crate) struct CreatedKeyBody<'a> {
    /// When the key was created (RFC 3339, UTC, six fractional digits).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-11-29T08:30:00.400000Z"))]
    pub(crate) created_at: String,
    /// When the key expires, or `null` for never.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub(crate) expires_at: Option<String>,
    /// The public key id (8 base62 characters), used to revoke the key.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9A-Za-z]{8}$", example = "DocsEx01"))]
    pub(crate) id: &'a str,
    /// The name, trimmed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "laptop"))]
    pub(crate) name: &'a str,
    /// The display prefix (token prefix and key id), safe to show and log.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "clab_user_DocsEx01"))]
    pub(crate) prefix: &'a str,
    /// The scopes the key is limited to; `[]` for an unrestricted key.
    pub(crate) scopes: Vec<String>,
    /// The API key itself, shown only in this answer: send it as `Authorization: Bearer …`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "clab_user_DocsEx01ThisIsAnExampleKeyFromTheDocs0103f4Jfm"))]
    pub(crate) token: &'a str,
}

/// One key in the list: metadata only, never the token or its hash.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ApiKeyInfo))]
pub(crate) struct KeyInfoBody<'a> {
    /// When the key was created (RFC 3339, UTC, six fractional digits).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-11-29T08:30:00.400000Z"))]
    pub(crate) created_at: String,
    /// When the key expires, or `null` for never.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub(crate) expires_at: Option<String>,
    /// The public key id (8 base62 characters).
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9A-Za-z]{8}$", example = "DocsEx01"))]
    pub(crate) id: &'a str,
    /// When the key was last used (written at most once a minute), or `null`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub(crate) last_used_at: Option<String>,
    /// The name.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "laptop"))]
    pub(crate) name: &'a str,
    /// The display prefix (token prefix and key id), safe to show and log.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "clab_user_DocsEx01"))]
    pub(crate) prefix: &'a str,
    /// The id of the key that replaced this one when it was rotated, or `null`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[0-9A-Za-z]{8}$"))]
    pub(crate) replaced_by: Option<&'a str>,
    /// Why the key was revoked: `user`, `rotated`, `leaked`, `owner` or `admin`; `null` while
    /// it is not revoked, and for keys revoked before reasons were recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "user"))]
    pub(crate) revocation_reason: Option<&'static str>,
    /// When the key was revoked, or `null` while it is not.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub(crate) revoked_at: Option<String>,
    /// The scopes the key is limited to; `[]` for an unrestricted key.
    pub(crate) scopes: Vec<String>,
}

/// The body of every error answer: `{"error": "<code>", "message": "<text>"}`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ApiError))]
pub(crate) struct ErrorBody<'a> {
    /// The error code, stable: branch on it.
    #[cfg_attr(feature = "openapi", schema(value_type = ErrorCode))]
    pub(crate) error: &'a str,
    /// A sentence for people, lowercase; its wording may change.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "authentication required"))]
    pub(crate) message: &'a str,
}

// Every `error` code of contract §6, for the OpenAPI schema only: the answers are built from
// the strings. The facade's `tests/openapi.rs` holds this list to the contract's error table.
// The doc comment is the schema's description.
/// The `error` codes of the key endpoints and of the credential check, stable: branch on them.
///
/// | code | status | when |
/// |---|---|---|
/// | `unauthorized` | 401 | no credential |
/// | `invalid_request` | 400 | a malformed `Authorization` header, a body that is not the JSON described, or a bad `limit`/`cursor` |
/// | `invalid_token` | 401 | a presented credential refused (unknown, wrong, revoked or expired key, bad JWT), identical for every reason |
/// | `insufficient_scope` | 403 | the key lacks the scope the route requires (`keys:read` to list keys) |
/// | `interactive_session_required` | 403 | an API key on an endpoint that needs a session JWT (create, rotate, update, revoke) |
/// | `reauthentication_required` | 403 | create, rotate: the session is older than the server allows; log in again |
/// | `temporarily_unavailable` | 503 | the key store or the session verifier failed; retry after `Retry-After` |
/// | `invalid_name` | 400 | create, update: the name rule |
/// | `invalid_expiry` | 400 | create: `expires_in_days` outside 1–36,500 or beyond the maximum lifetime; update: `expires_at` not an RFC 3339 time in the future, no later than the key's |
/// | `invalid_scopes` | 400 | create: the scope rule; update: scopes that do not narrow the key's |
/// | `not_found` | 404 | revoke, rotate, update: no such key of the caller; or no endpoint at that path |
/// | `method_not_allowed` | 405 | a management path with a method it does not serve (see `Allow`) |
/// | `key_limit_reached` | 409 | create: the caller already has the maximum of active keys; rotate with a grace period: the caller already has that many keys in a grace period |
/// | `key_inactive` | 409 | rotate, update: the key is revoked, expired or already replaced |
/// | `payload_too_large` | 413 | create, rotate, update: body over 16 KiB |
/// | `internal_error` | 500 | create: the random source failed, or the server is misconfigured |
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(as = ApiErrorCode, rename_all = "snake_case")]
#[allow(dead_code)] // Never built: it only describes the strings.
pub(crate) enum ErrorCode {
    Unauthorized,
    InvalidRequest,
    InvalidToken,
    InsufficientScope,
    InteractiveSessionRequired,
    ReauthenticationRequired,
    TemporarilyUnavailable,
    InvalidName,
    InvalidExpiry,
    InvalidScopes,
    NotFound,
    MethodNotAllowed,
    KeyLimitReached,
    KeyInactive,
    PayloadTooLarge,
    InternalError,
}
