//! The ready management scope of contract §6, built on [`clab_keys_core::api`].
//!
//! | method and path (relative to the scope) | auth | success |
//! |---|---|---|
//! | `POST ""` | JWT session | `201` with the token, shown once |
//! | `GET ""` | JWT or key | `200`, metadata only, newest first |
//! | `DELETE "/{id}"` | JWT session | `204` |

use std::future::poll_fn;
use std::pin::Pin;

use actix_web::{HttpRequest, HttpResponse, Scope, web};
use clab_keys_core::api;
use futures_core::Stream;

use crate::extract::required_principal;
use crate::into_http_response;

/// The path the contract mounts the management endpoints at.
pub const DEFAULT_PATH: &str = "/api/user/api-keys";

/// Registers the management endpoints on a scope or an app: `POST ""` (create), `GET ""`
/// (list) and `DELETE "/{id}"` (revoke), relative to wherever `cfg` is mounted.
///
/// The router comes from the app data (`web::Data<CredentialRouter>`). Creating and revoking
/// keys needs a JWT session; listing accepts an API key too. Every answer, success or error, is
/// core's ([`clab_keys_core::api`]), so it matches the axum router byte for byte.
///
/// ```
/// use actix_web::{App, web};
///
/// let app = App::new().service(web::scope("/api/user/api-keys").configure(clab_keys_actix::configure));
/// # drop(app);
/// ```
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("")
            .route(web::post().to(create_key))
            .route(web::get().to(list_keys)),
    )
    // Everything after the slash is the id, as in the reference dispatcher; core answers 404
    // for anything that is not one of the caller's keys (empty, malformed, someone else's).
    .service(web::resource("/{id:.*}").route(web::delete().to(revoke_key)));
}

/// A scope at `path` serving the management endpoints (see [`configure`]).
///
/// ```
/// use actix_web::App;
/// use clab_keys_actix::{DEFAULT_PATH, management_scope};
///
/// let app = App::new().service(management_scope(DEFAULT_PATH));
/// # drop(app);
/// ```
pub fn management_scope(path: &str) -> Scope {
    web::scope(path).configure(configure)
}

async fn create_key(req: HttpRequest, payload: web::Payload) -> actix_web::Result<HttpResponse> {
    let (router, principal) = required_principal(&req).await?;
    let body = read_bounded(payload).await?;
    Ok(into_http_response(
        api::create_key(&router, &principal, &body).await,
    ))
}

async fn list_keys(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    let (router, principal) = required_principal(&req).await?;
    Ok(into_http_response(
        api::list_keys(&router, &principal).await,
    ))
}

async fn revoke_key(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    let (router, principal) = required_principal(&req).await?;
    let id = req.match_info().get("id").unwrap_or_default();
    Ok(into_http_response(
        api::revoke_key(&router, &principal, id).await,
    ))
}

/// Reads the body through core's [`api::BodyBuffer`] (at most `api::MAX_BODY_LEN + 1` bytes),
/// so core answers an oversized body with its own 413, after authentication and in JSON;
/// actix-web's own `Bytes` limit would answer before authentication and in plain text.
async fn read_bounded(mut payload: web::Payload) -> actix_web::Result<Vec<u8>> {
    let mut body = api::BodyBuffer::default();
    while body.wants_more() {
        match poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await {
            Some(chunk) => body.push(&chunk?),
            None => break,
        }
    }
    Ok(body.into_bytes())
}
