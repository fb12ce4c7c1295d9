//! The ready management endpoints of contract §6 as an actix-web scope. Core decides
//! everything ([`ManagementCall`]): which endpoint a method and path name (or the 404/405
//! answer, before authentication), and the whole answer; this file only translates.

use std::pin::Pin;
use std::rc::Rc;

use actix_web::web;
use actix_web::{HttpRequest, Scope};
use clab_keys_core::{BodyBuffer, ManagementCall};
use futures_core::Stream;

use crate::Reply;
use crate::extract::{authenticated, router_of};

/// The key-management endpoints in a scope at `path` (normally core's
/// [`MANAGEMENT_PATH`](clab_keys_core::MANAGEMENT_PATH), `/api/user/api-keys`), to register
/// with [`App::service`](actix_web::App::service):
///
/// | method and path | auth | success |
/// |---|---|---|
/// | `POST {path}` body `{"name", "expires_in_days"?, "scopes"?}` | JWT session | `201` with the token, shown once, `Cache-Control: no-store` |
/// | `GET {path}?limit=&cursor=` | JWT or API key (`keys:read` if scoped) | `200`, the caller's keys, metadata only, newest first, `Link` to the next page |
/// | `DELETE {path}/{id}` | JWT session | `204`; `404` for unknown ids and other users' keys |
/// | `PATCH {path}/{id}` body `{"name"?, "scopes"?, "expires_at"?}` | JWT session | `200`, the key as changed |
/// | `POST {path}/{id}/rotate` body `{"grace_seconds"?}` | JWT session | `201` with the new token, shown once |
///
/// Every answer is core's ([`ManagementCall`]), so it matches the axum router byte for byte,
/// at the edges too: any other path below `path` (`{path}/`, `{path}/a/b`) is `404
/// not_found` and a known path with another method `405 method_not_allowed` with `Allow`, both
/// in JSON and before authentication. Errors after authentication are core's too: `400`
/// `invalid_request`/`invalid_name`/`invalid_expiry`/`invalid_scopes`, `401` and `403` as
/// RFC 6750 challenges, `409` `key_limit_reached`, `413` for a body over
/// [`MAX_BODY_LEN`](clab_keys_core::MAX_BODY_LEN), `503` when the store is down. The body is
/// read as raw bytes (never more than `MAX_BODY_LEN` + 1 of them), whatever its
/// `Content-Type`.
///
/// The router comes from the app data (`web::Data<CredentialRouter>`); without it the
/// endpoints answer `500`.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::{App, web};
/// use clab_keys::actix_web::management_scope;
/// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MANAGEMENT_PATH, MemoryStore, Pepper};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32])?)?;
/// let credentials = CredentialRouter::new(KeyService::builder(MemoryStore::new(), hasher).build()?);
/// let app = App::new()
///     .app_data(web::Data::new(credentials))
///     .service(management_scope(MANAGEMENT_PATH));
/// # drop(app);
/// # Ok(()) }
/// ```
pub fn management_scope(path: &str) -> Scope {
    let mount: Rc<str> = path.into();
    let handler = move |req: HttpRequest, payload: web::Payload| {
        let mount = mount.clone();
        async move { serve(&req, &mount, payload).await }
    };
    web::scope(path)
        .service(web::resource("").to(handler.clone()))
        .service(web::resource("/{rest:.*}").to(handler))
}

/// Core's order: route on the raw path (404/405 before authentication), authenticate, read
/// the body if the endpoint takes one, run.
async fn serve(req: &HttpRequest, mount: &str, payload: web::Payload) -> actix_web::Result<Reply> {
    let target = req
        .uri()
        .path_and_query()
        .map_or(req.path(), |p| p.as_str());
    let call = match ManagementCall::route(req.method().as_str(), mount, target) {
        Ok(call) => call,
        Err(answer) => return Ok(Reply(answer)),
    };
    let router = router_of(req)?;
    let outcome = authenticated(req, &router).await;
    Ok(Reply(
        call.respond(&router, outcome, read_body(payload)).await,
    ))
}

/// Reads the body through core's [`BodyBuffer`] (at most `MAX_BODY_LEN` + 1 bytes), so core
/// answers an oversized body with its own 413, after authentication and in JSON; actix-web's
/// own `Bytes` limit would answer before authentication and in plain text.
async fn read_body(mut payload: web::Payload) -> Vec<u8> {
    BodyBuffer::read(|cx| Pin::new(&mut payload).poll_next(cx)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::FromRequest;
    use actix_web::test::TestRequest;
    use clab_keys_core::MAX_BODY_LEN;

    async fn read(body: Vec<u8>) -> Vec<u8> {
        let (req, mut payload) = TestRequest::default().set_payload(body).to_http_parts();
        let payload = web::Payload::from_request(&req, &mut payload)
            .await
            .expect("a test payload");
        read_body(payload).await
    }

    #[actix_web::test]
    async fn a_small_body_is_read_whole() {
        assert_eq!(read(b"{}".to_vec()).await, b"{}");
    }

    #[actix_web::test]
    async fn a_large_body_is_read_one_byte_past_the_limit() {
        assert_eq!(read(vec![b'x'; 1_000_000]).await.len(), MAX_BODY_LEN + 1);
    }
}
