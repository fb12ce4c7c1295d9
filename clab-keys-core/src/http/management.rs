//! The management endpoints of contract §6, framework-neutral: [`ManagementCall::route`]
//! decides which endpoint a method and path name (or answers 404/405 itself), and
//! [`ManagementCall::run`] returns the whole [`ApiResponse`]. The axum router and the actix
//! scope only translate, so they cannot drift, not even at the edges (trailing slashes,
//! unknown paths, wrong methods).
//!
//! | method and path | auth | success |
//! |---|---|---|
//! | `POST /api/user/api-keys` | JWT session | `201` with the token, shown once |
//! | `GET /api/user/api-keys` | JWT or key | `200`, metadata only, newest first |
//! | `DELETE /api/user/api-keys/{id}` | JWT session | `204` |

use std::future::Future;

use time::OffsetDateTime;

use super::body::MAX_BODY_LEN;
use super::principal::Principal;

use super::rejection::{Rejection, RejectionKind};
use super::response::ApiResponse;
use super::router::CredentialRouter;
use super::wire::{CreateKeyBody, CreatedKeyBody, KeyInfoBody};
use crate::format::KeyId;
use crate::service::{CreateError, KeyInfo, NewKey, RevokeError};
use crate::store::RevocationReason;

/// The path the contract mounts the management endpoints at.
pub const MANAGEMENT_PATH: &str = "/api/user/api-keys";

/// One of the management endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyRoute {
    /// `POST {MANAGEMENT_PATH}`: create a key.
    Create,
    /// `GET` (or `HEAD`) `{MANAGEMENT_PATH}`: list the caller's keys.
    List,
    /// `DELETE {MANAGEMENT_PATH}/{id}`: revoke one of the caller's keys.
    Revoke(String),
}

/// A routed management request: which endpoint, before authentication and before the body
/// is read.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{MANAGEMENT_PATH, ManagementCall};
/// let route = |method, path| ManagementCall::route(method, MANAGEMENT_PATH, path);
/// assert!(route("DELETE", "/api/user/api-keys/3fK9xQ2a").is_ok());
/// assert!(route("GET", "/api/user/api-keys").is_ok());
/// assert_eq!(route("GET", "/api/user/api-keys/3fK9xQ2a").unwrap_err().status, 405);
/// assert_eq!(route("DELETE", "/api/user/api-keys/a%2Fb").unwrap_err().status, 404);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementCall {
    endpoint: KeyRoute,
}

impl ManagementCall {
    /// Routes a request by its method and its raw (still percent-encoded) path, given the
    /// path the endpoints are mounted at (usually [`MANAGEMENT_PATH`]). The mount path itself is
    /// the collection; `{mount}/{id}` names one key, its id percent-decoded here (bytes that
    /// are not UTF-8 become U+FFFD), so both adapters see the same id whatever their own
    /// decoding. Every other path is `404 not_found` and a known path with another method is
    /// `405 method_not_allowed` with an `Allow` header, whatever the credentials.
    ///
    /// # Errors
    ///
    /// Returns the 404 or 405 answer when no endpoint matches.
    pub fn route(method: &str, mount: &str, path: &str) -> Result<Self, ApiResponse> {
        let not_found = || ApiResponse::error(404, "not_found", "no such endpoint");
        // The mount path as the framework matched it: at the end of any prefix an outer router
        // or scope added.
        let tail = path
            .find(mount)
            .map(|at| &path[at + mount.len()..])
            .ok_or_else(not_found)?;
        let endpoint = match (tail, method) {
            ("", "POST") => KeyRoute::Create,
            // HEAD is GET without the body (RFC 9110 §9.3.2); the server drops the body.
            ("", "GET" | "HEAD") => KeyRoute::List,
            ("", _) => return Err(method_not_allowed("GET, HEAD, POST")),
            _ => {
                let raw = tail.strip_prefix('/').ok_or_else(not_found)?;
                let id = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
                if id.is_empty() || id.contains('/') {
                    return Err(not_found());
                }
                if method != "DELETE" {
                    return Err(method_not_allowed("DELETE"));
                }
                KeyRoute::Revoke(id.into_owned())
            }
        };
        Ok(Self { endpoint })
    }

    /// Whether the endpoint reads a request body.
    fn needs_body(&self) -> bool {
        matches!(self.endpoint, KeyRoute::Create)
    }

    /// Answers the request: the caller must be authenticated (`outcome` is what
    /// [`CredentialRouter::authenticate_optional`] said, perhaps cached by the adapter for this
    /// request), then the body is read (the `body` future is awaited only by the endpoint that
    /// takes one; read it with [`BodyBuffer::read`](crate::BodyBuffer::read)), then the
    /// endpoint runs. Refusals are in the answer, as RFC 6750 responses.
    pub async fn respond<F>(
        &self,
        router: &CredentialRouter,
        outcome: Result<Option<Principal>, Rejection>,
        body: F,
    ) -> ApiResponse
    where
        F: Future<Output = Vec<u8>>,
    {
        let principal = match router.required(outcome) {
            Ok(principal) => principal,
            Err(rejection) => return rejection.to_response(),
        };
        let body = if self.needs_body() {
            body.await
        } else {
            Vec::new()
        };
        self.run(router, &principal, &body).await
    }

    /// Runs the endpoint for an authenticated caller and returns the whole answer.
    async fn run(
        &self,
        router: &CredentialRouter,
        principal: &Principal,
        body: &[u8],
    ) -> ApiResponse {
        match &self.endpoint {
            KeyRoute::Create => create_key(router, principal, body).await,
            KeyRoute::List => list_keys(router, principal).await,
            KeyRoute::Revoke(id) => revoke_key(router, principal, id).await,
        }
    }
}

fn method_not_allowed(allow: &str) -> ApiResponse {
    let mut response = ApiResponse::error(
        405,
        "method_not_allowed",
        "this endpoint does not accept that method",
    );
    response.headers.push(("allow", allow.to_owned()));
    response
}

/// Longest lifetime accepted in `expires_in_days` before the service's own maximum applies.
const MAX_EXPIRES_IN_DAYS: i64 = 36_500;

/// Formats a timestamp as RFC 3339 in UTC with microseconds, always 27 characters
/// (`2026-11-29T08:30:00.123456Z`).
fn rfc3339(t: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

fn opt_time(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(rfc3339)
}

fn scopes_json(info: &KeyInfo) -> Vec<String> {
    info.scopes.iter().map(str::to_owned).collect()
}

/// The list representation of a key: `id, name, prefix, scopes, created_at, expires_at,
/// last_used_at, revoked_at, revocation_reason, replaced_by`. Never the token or its hash.
fn key_info_json(info: &KeyInfo) -> KeyInfoBody<'_> {
    KeyInfoBody {
        created_at: rfc3339(info.created_at),
        expires_at: opt_time(info.expires_at),
        id: info.key_id.as_str(),
        last_used_at: opt_time(info.last_used_at),
        name: &info.name,
        prefix: &info.display_prefix,
        replaced_by: info.replaced_by.as_ref().map(KeyId::as_str),
        revocation_reason: info.revocation_reason.map(RevocationReason::as_str),
        revoked_at: opt_time(info.revoked_at),
        scopes: scopes_json(info),
    }
}

/// `POST /api/user/api-keys`: creates a key for the caller, who must use a JWT session.
async fn create_key(router: &CredentialRouter, principal: &Principal, body: &[u8]) -> ApiResponse {
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
            ApiResponse::serialized(
                201,
                &CreatedKeyBody {
                    created_at: rfc3339(info.created_at),
                    expires_at: opt_time(info.expires_at),
                    id: info.key_id.as_str(),
                    name: &info.name,
                    prefix: &info.display_prefix,
                    scopes: scopes_json(info),
                    token: created.token.expose_secret(),
                },
            )
        }
        Err(CreateError::InvalidName) => ApiResponse::error(
            400,
            "invalid_name",
            "name must be 1-100 characters, with a visible one and no control, invisible or direction-changing character",
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
async fn list_keys(router: &CredentialRouter, principal: &Principal) -> ApiResponse {
    match router.keys().list(principal.user_id()).await {
        Ok(keys) => {
            ApiResponse::serialized(200, &keys.iter().map(key_info_json).collect::<Vec<_>>())
        }
        Err(e) => {
            tracing::error!(target: "clab_keys", error = %e, "listing api keys failed");
            unavailable(router)
        }
    }
}

/// `DELETE /api/user/api-keys/{id}`: revokes one of the caller's keys (JWT session only).
/// Unknown ids and other users' keys are both 404.
async fn revoke_key(router: &CredentialRouter, principal: &Principal, key_id: &str) -> ApiResponse {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let t = time::macros::datetime!(2026-11-29 08:30:00.4 UTC);
        assert_eq!(rfc3339(t), "2026-11-29T08:30:00.400000Z");
        let east = time::macros::datetime!(2026-11-29 09:30:00 +01:00);
        assert_eq!(rfc3339(east), "2026-11-29T08:30:00.000000Z");
    }
}
