//! The ready management router of contract §6, over core's framework-neutral [`api`] functions.

use std::future::poll_fn;
use std::pin::Pin;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRef, Path, State};
use axum::response::Response;
use axum::routing::{delete, get};
use clab_keys_core::{CredentialRouter, api};

use crate::{CurrentUser, into_axum_response};

/// The key-management endpoints, to nest under `/api/user/api-keys`:
///
/// | method and path | auth | success |
/// |---|---|---|
/// | `POST /` body `{"name", "expires_in_days"?, "scopes"?}` | JWT session | `201` with the token, shown once, `Cache-Control: no-store` |
/// | `GET /` | JWT or API key | `200`, the caller's keys, metadata only, newest first |
/// | `DELETE /{id}` | JWT session | `204`; `404` for unknown ids and other users' keys |
///
/// Every answer, errors included, is built by core's [`api`] functions: `400`
/// `invalid_request`/`invalid_name`/`invalid_expiry`/`invalid_scopes`, `401` and `403` as
/// RFC 6750 challenges, `409` `key_limit_reached`, `413` for a body over
/// [`api::MAX_BODY_LEN`], `500` `internal_error` if no key can be generated, `503` when the
/// store is down. The body is read as raw bytes (never
/// more than [`api::MAX_BODY_LEN`] + 1 of them), whatever its `Content-Type`, so core's JSON
/// errors apply rather than axum's `Json` rejections.
///
/// The state `S` only has to provide a [`CredentialRouter`] through [`FromRef`]:
///
/// ```
/// use axum::{Router, extract::FromRef};
/// use clab_keys_axum::management_router;
/// use clab_keys_core::{CredentialRouter, KeyService, MemoryStore};
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
/// let credentials = CredentialRouter::new(KeyService::builder(MemoryStore::new()).build()?);
/// let app: Router = Router::new()
///     .nest("/api/user/api-keys", management_router())
///     .with_state(AppState { credentials });
/// # Ok(()) }
/// ```
pub fn management_router<S>() -> Router<S>
where
    CredentialRouter: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/", get(list_keys).post(create_key))
        .route("/{id}", delete(revoke_key))
}

async fn create_key(
    State(router): State<CredentialRouter>,
    CurrentUser(caller): CurrentUser,
    body: Body,
) -> Response {
    let body = read_capped(body).await;
    into_axum_response(api::create_key(&router, &caller, &body).await)
}

async fn list_keys(
    State(router): State<CredentialRouter>,
    CurrentUser(caller): CurrentUser,
) -> Response {
    into_axum_response(api::list_keys(&router, &caller).await)
}

async fn revoke_key(
    State(router): State<CredentialRouter>,
    CurrentUser(caller): CurrentUser,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    // An id that does not percent-decode to UTF-8 names no key; core answers it like any
    // other unknown id (404) instead of axum answering with its own plain-text 400.
    let id = id.map(|Path(id)| id).unwrap_or_default();
    into_axum_response(api::revoke_key(&router, &caller, &id).await)
}

/// Reads the body through core's [`api::BodyBuffer`] (at most [`api::MAX_BODY_LEN`] + 1
/// bytes). A body that fails to arrive reads as empty, which core answers as a malformed
/// request.
async fn read_capped(mut body: Body) -> Vec<u8> {
    let mut buf = api::BodyBuffer::default();
    while buf.wants_more() {
        match poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            None => break,
            Some(Err(_)) => return Vec::new(),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    buf.push(&data);
                }
            }
        }
    }
    buf.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_small_body_is_read_whole() {
        assert_eq!(read_capped(Body::from("{}")).await, b"{}");
    }

    #[tokio::test]
    async fn a_large_body_is_read_one_byte_past_the_limit() {
        let body = Body::from(vec![b'x'; 1_000_000]);
        assert_eq!(read_capped(body).await.len(), api::MAX_BODY_LEN + 1);
    }
}
