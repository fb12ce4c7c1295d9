//! The ready management endpoints of contract §6 as an axum router. Core decides everything
//! ([`ManagementCall`]): which endpoint a method and path name (or the 404/405 answer, before
//! authentication), and the whole answer; this file only translates.

use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{FromRef, OriginalUri, Request, State};
use axum::routing::any;
use clab_keys_core::{BodyBuffer, CredentialRouter, ManagementCall};

use crate::Reply;
use crate::extract::authenticated;

/// The key-management endpoints at `path` (normally core's
/// [`MANAGEMENT_PATH`](clab_keys_core::MANAGEMENT_PATH), `/api/user/api-keys`), to
/// [`merge`](Router::merge) into the app:
///
/// | method and path | auth | success |
/// |---|---|---|
/// | `POST {path}` body `{"name", "expires_in_days"?, "scopes"?}` | JWT session | `201` with the token, shown once, `Cache-Control: no-store` |
/// | `GET {path}?limit=&cursor=` | JWT or API key (`keys:read` if scoped) | `200`, the caller's keys, metadata only, newest first, `Link` to the next page |
/// | `DELETE {path}/{id}` | JWT session | `204`; `404` for unknown ids and other users' keys |
/// | `PATCH {path}/{id}` body `{"name"?, "scopes"?, "expires_at"?}` | JWT session | `200`, the key as changed |
/// | `POST {path}/{id}/rotate` body `{"grace_seconds"?}` | JWT session | `201` with the new token, shown once |
///
/// Every answer is core's ([`ManagementCall`]), so it matches the actix-web scope byte for
/// byte, at the edges too: any other path below `path` (`{path}/`, `{path}/a/b`) is `404
/// not_found` and a known path with another method `405 method_not_allowed` with `Allow`, both
/// in JSON and before authentication. Errors after authentication are core's too: `400`
/// `invalid_request`/`invalid_name`/`invalid_expiry`/`invalid_scopes`, `401` and `403` as
/// RFC 6750 challenges, `409` `key_limit_reached`, `413` for a body over
/// [`MAX_BODY_LEN`](clab_keys_core::MAX_BODY_LEN), `503` when the store is down. The body is
/// read as raw bytes (never more than `MAX_BODY_LEN` + 1 of them), whatever its
/// `Content-Type`.
///
/// The routes are registered at their full path rather than for
/// [`Router::nest`], because a nested router never sees `{path}/`, which would then get the
/// app's fallback instead of core's answer. The state `S` only has to provide a
/// [`CredentialRouter`] through [`FromRef`].
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
/// use axum::{Router, extract::FromRef};
/// use clab_keys::axum::management_router;
/// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MANAGEMENT_PATH, MemoryStore, Pepper};
///
/// #[derive(Clone)]
/// struct AppState {
///     credentials: CredentialRouter,
///     // …the app's own database pool, configuration, templates
/// }
///
/// impl FromRef<AppState> for CredentialRouter {
///     fn from_ref(state: &AppState) -> Self {
///         state.credentials.clone()
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32])?)?;
/// let credentials = CredentialRouter::new(KeyService::builder(MemoryStore::new(), hasher).build()?);
/// let app: Router = Router::new()
///     .merge(management_router(MANAGEMENT_PATH))
///     .with_state(AppState { credentials });
/// # Ok(()) }
/// ```
///
/// # Panics
///
/// As [`Router::route`] does, if `path` is not a valid route path (it must start with `/`)
/// or overlaps a route already in the router; `path` should not end with `/`.
pub fn management_router<S>(path: &str) -> Router<S>
where
    CredentialRouter: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    let mount: Arc<str> = path.into();
    let handler = move |State(router): State<CredentialRouter>, request: Request| {
        let mount = mount.clone();
        async move { serve(&router, &mount, request).await }
    };
    // `{path}/` separately: a catch-all parameter never matches an empty segment.
    Router::new()
        .route(path, any(handler.clone()))
        .route(&format!("{path}/"), any(handler.clone()))
        .route(&format!("{path}/{{*rest}}"), any(handler))
}

/// Core's order: route on the raw path (404/405 before authentication), authenticate, read
/// the body if the endpoint takes one, run.
async fn serve(router: &CredentialRouter, mount: &str, request: Request) -> Reply {
    // Under `Router::nest` the URI has lost the outer prefix; the original one has it, so the
    // list's `Link` names the path the client used.
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or(request.uri(), |original| &original.0);
    let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let call = match ManagementCall::route(request.method().as_str(), mount, target) {
        Ok(call) => call,
        Err(answer) => return Reply(answer),
    };
    let (mut parts, body) = request.into_parts();
    let outcome = authenticated(&mut parts, router).await;
    Reply(call.respond(router, outcome, read_body(body)).await)
}

/// Reads the body through core's [`BodyBuffer`] (at most `MAX_BODY_LEN` + 1 bytes), so core
/// answers an oversized body with its own 413, after authentication and in JSON.
async fn read_body(mut body: Body) -> Vec<u8> {
    BodyBuffer::read(|cx| {
        Pin::new(&mut body).poll_frame(cx).map(|frame| {
            frame.map(|frame| frame.map(|frame| frame.into_data().unwrap_or_default()))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clab_keys_core::MAX_BODY_LEN;

    #[tokio::test]
    async fn a_small_body_is_read_whole() {
        assert_eq!(read_body(Body::from("{}")).await, b"{}");
    }

    #[tokio::test]
    async fn a_large_body_is_read_one_byte_past_the_limit() {
        let body = Body::from(vec![b'x'; 1_000_000]);
        assert_eq!(read_body(body).await.len(), MAX_BODY_LEN + 1);
    }
}
