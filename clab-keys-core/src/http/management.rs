//! The management endpoints of contract §6, framework-neutral: [`ManagementCall::route`]
//! decides which endpoint a method and path name (or answers 404/405 itself), and
//! [`ManagementCall::run`] returns the whole [`ApiResponse`]. The axum router and the actix
//! scope only translate, so they cannot drift, not even at the edges (trailing slashes,
//! unknown paths, wrong methods).
//!
//! | method and path | auth | success |
//! |---|---|---|
//! | `POST /api/user/api-keys` | JWT session (recent, if configured) | `201` with the token, shown once |
//! | `GET /api/user/api-keys?limit=&cursor=` | JWT or key (`keys:read` if scoped) | `200`, metadata only, newest first, `Link` to the next page |
//! | `DELETE /api/user/api-keys/{id}` | JWT session | `204` |
//! | `PATCH /api/user/api-keys/{id}` | JWT session | `200`, the key as changed (`lifecycle.rs`) |
//! | `POST /api/user/api-keys/{id}/rotate` | JWT session (recent, if configured) | `201` with the new token (`lifecycle.rs`) |

use std::future::Future;

use time::OffsetDateTime;

use super::body::MAX_BODY_LEN;
use super::principal::Principal;

use super::lifecycle::{rotate_key, update_key};
use super::paging::list_keys;
use super::rejection::{Rejection, RejectionKind};
use super::response::ApiResponse;
use super::router::CredentialRouter;
use super::wire::{CreateKeyBody, CreatedKeyBody, KeyInfoBody, json_object};
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
    /// `GET` (or `HEAD`) `{MANAGEMENT_PATH}`: list the caller's keys, one page.
    List {
        /// The request's path up to the end of the mount path, for the `Link` header.
        collection: String,
        /// The raw query string, read after authentication.
        query: Option<String>,
    },
    /// `DELETE {MANAGEMENT_PATH}/{id}`: revoke one of the caller's keys.
    Revoke(String),
    /// `PATCH {MANAGEMENT_PATH}/{id}`: rename a key, narrow its scopes, move its expiry earlier.
    Update(String),
    /// `POST {MANAGEMENT_PATH}/{id}/rotate`: replace a key by a new one.
    Rotate(String),
}

/// A routed management request: which endpoint, before authentication and before the body
/// is read.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{MANAGEMENT_PATH, ManagementCall};
/// let route = |method, path| ManagementCall::route(method, MANAGEMENT_PATH, path);
/// assert!(route("DELETE", "/api/user/api-keys/3fK9xQ2a").is_ok());
/// assert!(route("PATCH", "/api/user/api-keys/3fK9xQ2a").is_ok());
/// assert!(route("POST", "/api/user/api-keys/3fK9xQ2a/rotate").is_ok());
/// assert!(route("GET", "/api/user/api-keys?limit=20").is_ok());
/// assert_eq!(route("GET", "/api/user/api-keys/3fK9xQ2a").unwrap_err().status, 405);
/// assert_eq!(route("GET", "/api/user/api-keys/3fK9xQ2a/rotate").unwrap_err().header("allow"), Some("POST"));
/// assert_eq!(route("POST", "/api/user/api-keys/3fK9xQ2a/renew").unwrap_err().status, 404);
/// assert_eq!(route("DELETE", "/api/user/api-keys/a%2Fb").unwrap_err().status, 404);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementCall {
    endpoint: KeyRoute,
}

impl ManagementCall {
    /// Routes a request by its method and its raw (still percent-encoded) path and query
    /// (`/api/user/api-keys?limit=20`; an adapter passes the request target's path and query
    /// as they came), given the path the endpoints are mounted at (usually
    /// [`MANAGEMENT_PATH`]). The mount path itself is the collection; `{mount}/{id}` names one
    /// key and `{mount}/{id}/rotate` its rotation, the id percent-decoded here (bytes that
    /// are not UTF-8 become U+FFFD), so both adapters see the same id whatever their own
    /// decoding. Every other path is `404 not_found` and a known path with another method is
    /// `405 method_not_allowed` with an `Allow` header, whatever the credentials. The query
    /// never changes the route; only the list reads it (`limit`, `cursor`), after
    /// authentication.
    ///
    /// # Errors
    ///
    /// Returns the 404 or 405 answer when no endpoint matches.
    pub fn route(method: &str, mount: &str, path: &str) -> Result<Self, ApiResponse> {
        let not_found = || ApiResponse::error(404, "not_found", "no such endpoint");
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path, None),
        };
        // The mount path as the framework matched it: at the end of any prefix an outer router
        // or scope added.
        let end = path
            .find(mount)
            .map(|at| at + mount.len())
            .ok_or_else(not_found)?;
        let tail = &path[end..];
        let decode = |raw| percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        let endpoint = match (tail, method) {
            ("", "POST") => KeyRoute::Create,
            // HEAD is GET without the body (RFC 9110 §9.3.2); the server drops the body.
            ("", "GET" | "HEAD") => KeyRoute::List {
                collection: path[..end].to_owned(),
                query: query.map(str::to_owned),
            },
            ("", _) => return Err(method_not_allowed("GET, HEAD, POST")),
            _ => {
                let raw = tail.strip_prefix('/').ok_or_else(not_found)?;
                // Split before decoding: an encoded slash (`%2F`) stays inside its segment.
                let (raw_id, action) = match raw.split_once('/') {
                    Some((id, action)) => (id, Some(decode(action))),
                    None => (raw, None),
                };
                let id = decode(raw_id);
                if id.is_empty() || id.contains('/') {
                    return Err(not_found());
                }
                let id = id.into_owned();
                match (action.as_deref(), method) {
                    (None, "DELETE") => KeyRoute::Revoke(id),
                    (None, "PATCH") => KeyRoute::Update(id),
                    (None, _) => return Err(method_not_allowed("DELETE, PATCH")),
                    (Some("rotate"), "POST") => KeyRoute::Rotate(id),
                    (Some("rotate"), _) => return Err(method_not_allowed("POST")),
                    (Some(_), _) => return Err(not_found()),
                }
            }
        };
        Ok(Self { endpoint })
    }

    /// Whether the endpoint reads a request body.
    fn needs_body(&self) -> bool {
        matches!(
            self.endpoint,
            KeyRoute::Create | KeyRoute::Update(_) | KeyRoute::Rotate(_)
        )
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
            KeyRoute::List { collection, query } => {
                list_keys(router, principal, collection, query.as_deref()).await
            }
            KeyRoute::Revoke(id) => revoke_key(router, principal, id).await,
            KeyRoute::Update(id) => update_key(router, principal, id, body).await,
            KeyRoute::Rotate(id) => rotate_key(router, principal, id, body).await,
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
pub(super) fn rfc3339(t: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

pub(super) fn opt_time(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(rfc3339)
}

pub(super) fn scopes_json(info: &KeyInfo) -> Vec<String> {
    info.scopes.iter().map(str::to_owned).collect()
}

/// The list representation of a key: `id, name, prefix, scopes, created_at, expires_at,
/// last_used_at, revoked_at, revocation_reason, replaced_by`. Never the token or its hash.
pub(super) fn key_info_json(info: &KeyInfo) -> KeyInfoBody<'_> {
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
    if let Err(answer) = require_recent_login(router, principal) {
        return answer;
    }
    if body.len() > MAX_BODY_LEN {
        return ApiResponse::error(413, "payload_too_large", "request body is too large");
    }
    let Some(body) = json_object::<CreateKeyBody>(body) else {
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
        Err(CreateError::InvalidName) => invalid_name(),
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

pub(super) fn invalid_name() -> ApiResponse {
    ApiResponse::error(
        400,
        "invalid_name",
        "name must be 1-100 characters, with a visible one and no control, invisible or direction-changing character",
    )
}

/// Refuses a session whose login is older than the router allows
/// ([`CredentialRouter::with_reauthentication`]), or whose age is unknown: `403
/// reauthentication_required`, with an RFC 9470 challenge (`insufficient_user_authentication`
/// and the `max_age` in seconds) that tells a client to send the user through login again.
pub(super) fn require_recent_login(
    router: &CredentialRouter,
    principal: &Principal,
) -> Result<(), ApiResponse> {
    let Some(max_age) = router.reauthentication() else {
        return Ok(());
    };
    let now = router.keys().now();
    if principal.auth_time().is_some_and(|at| now - at <= max_age) {
        return Ok(());
    }
    const MESSAGE: &str = "log in again: creating or rotating a key needs a recent login";
    let mut answer = ApiResponse::error(403, "reauthentication_required", MESSAGE);
    answer.headers.push((
        "www-authenticate",
        format!(
            "Bearer realm=\"{}\", error=\"insufficient_user_authentication\", error_description=\"{MESSAGE}\", max_age={}",
            router.realm().as_str(),
            max_age.whole_seconds()
        ),
    ));
    Err(answer)
}

fn invalid_expiry() -> ApiResponse {
    ApiResponse::error(
        400,
        "invalid_expiry",
        "expires_in_days must be a positive whole number of days within the maximum lifetime",
    )
}

pub(super) fn unavailable(router: &CredentialRouter) -> ApiResponse {
    router.reject(RejectionKind::Unavailable).to_response()
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
