//! The management endpoints of contract §6, framework-neutral: each function takes the
//! authenticated [`Principal`] (and the raw body or path id) and returns the whole
//! [`ApiResponse`]. The axum router and the actix scope only translate, so they cannot drift.
//!
//! | method and path | auth | success |
//! |---|---|---|
//! | `POST /api/user/api-keys` | JWT session | `201` with the token, shown once |
//! | `GET /api/user/api-keys` | JWT or key | `200`, metadata only, newest first |
//! | `DELETE /api/user/api-keys/{id}` | JWT session | `204` |

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::credential::{ApiResponse, CredentialRouter, Principal, RejectionKind};
use crate::service::{CreateError, KeyInfo, NewKey, RevokeError};

/// Largest request body accepted by [`create_key`], in bytes.
pub const MAX_BODY_LEN: usize = 16 * 1024;

/// Collects a request body for [`create_key`] from the chunks an adapter receives, keeping
/// at most [`MAX_BODY_LEN`] + 1 bytes: enough for [`create_key`] to see that a body is too
/// large (and answer 413 itself, after authentication, in JSON) without buffering more.
///
/// ```
/// use clab_keys_core::api::{BodyBuffer, MAX_BODY_LEN};
/// let mut body = BodyBuffer::default();
/// while body.wants_more() {
///     body.push(&[b'x'; 4096]);
/// }
/// assert_eq!(body.into_bytes().len(), MAX_BODY_LEN + 1);
/// ```
#[derive(Debug, Default)]
pub struct BodyBuffer {
    bytes: Vec<u8>,
}

impl BodyBuffer {
    /// Whether more bytes are worth reading.
    pub fn wants_more(&self) -> bool {
        self.bytes.len() <= MAX_BODY_LEN
    }

    /// Appends a chunk, keeping no more than [`MAX_BODY_LEN`] + 1 bytes in all.
    pub fn push(&mut self, chunk: &[u8]) {
        let room = (MAX_BODY_LEN + 1).saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    /// The bytes collected.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Longest lifetime accepted in `expires_in_days` before the service's own maximum applies.
const MAX_EXPIRES_IN_DAYS: i64 = 36_500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyBody {
    name: String,
    #[serde(default)]
    expires_in_days: Option<i64>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

/// Formats a timestamp as RFC 3339 in UTC with microseconds, always 27 characters
/// (`2026-11-29T08:30:00.123456Z`).
///
/// ```
/// let t = time::macros::datetime!(2026-11-29 08:30:00.4 UTC);
/// assert_eq!(clab_keys_core::api::rfc3339(t), "2026-11-29T08:30:00.400000Z");
/// ```
pub fn rfc3339(t: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

fn opt_time(t: Option<OffsetDateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(rfc3339(t)))
}

fn scopes_json(info: &KeyInfo) -> Value {
    Value::Array(
        info.scopes
            .iter()
            .map(|s| Value::String(s.into()))
            .collect(),
    )
}

/// The list representation of a key: `id, name, prefix, scopes, created_at, expires_at,
/// last_used_at, revoked_at`. Never the token or its hash.
pub fn key_info_json(info: &KeyInfo) -> Value {
    json!({
        "id": info.key_id.as_str(),
        "name": info.name,
        "prefix": info.display_prefix,
        "scopes": scopes_json(info),
        "created_at": rfc3339(info.created_at),
        "expires_at": opt_time(info.expires_at),
        "last_used_at": opt_time(info.last_used_at),
        "revoked_at": opt_time(info.revoked_at),
    })
}

/// `POST /api/user/api-keys`: creates a key for the caller, who must use a JWT session.
pub async fn create_key(
    router: &CredentialRouter,
    principal: &Principal,
    body: &[u8],
) -> ApiResponse {
    if let Err(r) = principal.require_interactive(router.realm()) {
        return r.to_response();
    }
    if body.len() > MAX_BODY_LEN {
        return ApiResponse::error(413, "payload_too_large", "request body is too large");
    }
    let Ok(body) = serde_json::from_slice::<CreateKeyBody>(body) else {
        return ApiResponse::error(
            400,
            "invalid_request",
            "body must be JSON: {\"name\": string, \"expires_in_days\": integer (optional), \"scopes\": [string] (optional)}",
        );
    };
    let mut new = NewKey::new(body.name).scopes(body.scopes.unwrap_or_default());
    if let Some(days) = body.expires_in_days {
        if !(1..=MAX_EXPIRES_IN_DAYS).contains(&days) {
            return invalid_expiry();
        }
        new = new.expires_in(time::Duration::days(days));
    }
    match router.keys().create(principal.user_id(), new).await {
        Ok(created) => {
            let info = &created.key;
            ApiResponse::json(
                201,
                &json!({
                    "id": info.key_id.as_str(),
                    "name": info.name,
                    "token": created.token.expose_secret(),
                    "prefix": info.display_prefix,
                    "scopes": scopes_json(info),
                    "created_at": rfc3339(info.created_at),
                    "expires_at": opt_time(info.expires_at),
                }),
            )
        }
        Err(CreateError::InvalidName) => ApiResponse::error(
            400,
            "invalid_name",
            "name must be 1-100 characters without control characters",
        ),
        Err(CreateError::InvalidExpiry) => invalid_expiry(),
        Err(CreateError::InvalidScopes) => ApiResponse::error(
            400,
            "invalid_scopes",
            "scopes must be at most 32 names of 1-64 characters from A-Z a-z 0-9 : . _ -",
        ),
        Err(CreateError::LimitReached { limit }) => ApiResponse::error(
            409,
            "key_limit_reached",
            &format!("you already have {limit} active API keys; revoke one to create another"),
        ),
        Err(CreateError::Store(e)) => {
            tracing::error!(target: "clab_keys", error = %e, "creating api key failed");
            unavailable(router)
        }
        Err(e) => {
            tracing::error!(target: "clab_keys", error = %e, "creating api key failed");
            ApiResponse::error(500, "internal_error", "the key could not be created")
        }
    }
}

fn invalid_expiry() -> ApiResponse {
    ApiResponse::error(
        400,
        "invalid_expiry",
        "expires_in_days must be a positive whole number of days within the maximum lifetime",
    )
}

fn unavailable(router: &CredentialRouter) -> ApiResponse {
    router.reject(RejectionKind::Unavailable).to_response()
}

/// `GET /api/user/api-keys`: the caller's keys, metadata only, newest first.
pub async fn list_keys(router: &CredentialRouter, principal: &Principal) -> ApiResponse {
    match router.keys().list(principal.user_id()).await {
        Ok(keys) => ApiResponse::json(200, &Value::Array(keys.iter().map(key_info_json).collect())),
        Err(e) => {
            tracing::error!(target: "clab_keys", error = %e, "listing api keys failed");
            unavailable(router)
        }
    }
}

/// `DELETE /api/user/api-keys/{id}`: revokes one of the caller's keys (JWT session only).
/// Unknown ids and other users' keys are both 404.
pub async fn revoke_key(
    router: &CredentialRouter,
    principal: &Principal,
    key_id: &str,
) -> ApiResponse {
    if let Err(r) = principal.require_interactive(router.realm()) {
        return r.to_response();
    }
    match router.keys().revoke(principal.user_id(), key_id).await {
        Ok(()) => ApiResponse::empty(204),
        Err(RevokeError::NotFound) => ApiResponse::error(404, "not_found", "no such API key"),
        Err(e) => {
            tracing::error!(target: "clab_keys", error = %e, "revoking api key failed");
            unavailable(router)
        }
    }
}
