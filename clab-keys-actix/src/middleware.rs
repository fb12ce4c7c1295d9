//! Middleware functions for [`actix_web::middleware::from_fn`]: authenticate every request of
//! a scope once and hand the [`Principal`] to handlers through the request extensions.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use clab_keys_core::{CredentialRouter, Principal, Rejection};

use crate::ScopeName;
use crate::extract::required_principal;

/// Requires a valid credential (JWT session or API key) for every request it wraps, and
/// stores the [`Principal`] in the request extensions, where handlers read it with
/// [`web::ReqData<Principal>`](actix_web::web::ReqData) (the extractors of this crate reuse it
/// instead of authenticating again).
///
/// A refused request is answered here, with exactly the response the [`CurrentUser`]
/// extractor gives (status, `WWW-Authenticate`, JSON body); the wrapped service is not called.
///
/// ```
/// use actix_web::{App, HttpResponse, middleware::from_fn, web};
/// use clab_keys_core::Principal;
///
/// async fn whoami(principal: web::ReqData<Principal>) -> HttpResponse {
///     HttpResponse::Ok().body(principal.user_id().to_string())
/// }
///
/// let app = App::new().service(
///     web::scope("/api/v1")
///         .wrap(from_fn(clab_keys_actix::authenticate))
///         .route("/whoami", web::get().to(whoami)),
/// );
/// # drop(app);
/// ```
///
/// [`CurrentUser`]: crate::CurrentUser
///
/// # Errors
///
/// Returns the wrapped service's errors unchanged; authentication failures are responses,
/// not errors.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    guard(req, next, |_, _| Ok(())).await
}

/// Like [`authenticate`], but also refuses API keys with `403`
/// `interactive_session_required`, exactly as the [`InteractiveUser`] extractor does: for
/// scopes of account-level actions that a leaked key must not reach.
///
/// [`InteractiveUser`]: crate::InteractiveUser
///
/// # Errors
///
/// Returns the wrapped service's errors unchanged; authentication failures are responses,
/// not errors.
pub async fn require_interactive(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    guard(req, next, |router, principal| {
        principal.require_interactive(router.realm())
    })
    .await
}

/// Like [`authenticate`], but also refuses credentials that may not use the scope `S` with
/// `403` `insufficient_scope`, exactly as the [`RequireScope<S>`] extractor does.
///
/// ```
/// use actix_web::{App, HttpResponse, middleware::from_fn, web};
/// use clab_keys_actix::{ScopeName, require_scope};
///
/// struct ProjectsRead;
/// impl ScopeName for ProjectsRead {
///     const NAME: &'static str = "projects:read";
/// }
///
/// let app = App::new().service(
///     web::scope("/api/projects")
///         .wrap(from_fn(require_scope::<ProjectsRead>))
///         .route("", web::get().to(|| async { HttpResponse::Ok().finish() })),
/// );
/// # drop(app);
/// ```
///
/// [`RequireScope<S>`]: crate::RequireScope
///
/// # Errors
///
/// Returns the wrapped service's errors unchanged; authentication failures are responses,
/// not errors.
pub async fn require_scope<S: ScopeName>(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    guard(req, next, |router, principal| {
        principal.require_scope(S::NAME, router.realm())
    })
    .await
}

async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    check: impl FnOnce(&CredentialRouter, &Principal) -> Result<(), Rejection>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // The principal lands in the request extensions, shared by `req` and its handler.
    let outcome = match required_principal(req.request()).await {
        Ok((router, principal)) => check(&router, &principal).map_err(Into::into),
        Err(rejection) => Err(rejection),
    };
    match outcome {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        // Answered as a response rather than returned as an error, so that it reaches the
        // client unchanged and never turns into a 500 in an outer middleware.
        Err(rejection) => Ok(req
            .into_response(rejection.error_response())
            .map_into_right_body()),
    }
}
