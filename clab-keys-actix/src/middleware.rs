//! Middleware for [`actix_web::middleware::from_fn`]: authenticate every request of a scope
//! once, require an interactive session, or require a scope. Handlers behind it read the
//! caller with the extractors, which reuse the middleware's outcome.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest};

use clab_keys_core::ScopeName;

use crate::{CurrentUser, InteractiveUser, RequireScope};

/// Requires a valid credential (JWT session or API key) for every request it wraps.
///
/// A refused request is answered here, with exactly the response the [`CurrentUser`]
/// extractor gives (status, `WWW-Authenticate`, JSON body); the wrapped service is not called.
/// Handlers behind it read the caller with [`CurrentUser`], which reuses the outcome instead
/// of authenticating again.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::{App, HttpResponse, middleware::from_fn, web};
/// use clab_keys::actix_web::{CurrentUser, authenticate};
///
/// async fn whoami(user: CurrentUser) -> HttpResponse {
///     HttpResponse::Ok().body(user.user_id().to_string())
/// }
///
/// let app = App::new().service(
///     web::scope("/api/v1")
///         .wrap(from_fn(authenticate))
///         .route("/whoami", web::get().to(whoami)),
/// );
/// # drop(app);
/// ```
///
/// # Errors
///
/// Returns the wrapped service's errors unchanged; refusals are responses, not errors, so an
/// outer middleware never turns them into a 500.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    guard::<CurrentUser>(req, next).await
}

/// Like [`authenticate`], but also refuses API keys with `403`
/// `interactive_session_required`, exactly as the [`InteractiveUser`] extractor does: for
/// scopes of account-level actions that a leaked key must not reach.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::{App, HttpResponse, middleware::from_fn, web};
/// use clab_keys::actix_web::require_interactive;
///
/// let app = App::new().service(
///     web::scope("/api/account")
///         .wrap(from_fn(require_interactive))
///         .route("", web::delete().to(|| async { HttpResponse::NoContent().finish() })),
/// );
/// # drop(app);
/// ```
///
/// # Errors
///
/// Returns the wrapped service's errors unchanged; refusals are responses, not errors.
pub async fn require_interactive(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    guard::<InteractiveUser>(req, next).await
}

/// Like [`authenticate`], but also refuses credentials that may not use the scope `S` with
/// `403` `insufficient_scope`, exactly as the [`RequireScope<S>`] extractor does.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::{App, HttpResponse, middleware::from_fn, web};
/// use clab_keys::ScopeName;
/// use clab_keys::actix_web::require_scope;
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
/// # Errors
///
/// Returns the wrapped service's errors unchanged; refusals are responses, not errors.
pub async fn require_scope<S: ScopeName>(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    guard::<RequireScope<S>>(req, next).await
}

/// Runs the extractor `T` (which caches the outcome in the request extensions, shared by `req`
/// and its handler), then the wrapped service; a refusal is answered as a response.
async fn guard<T: FromRequest<Error = Error>>(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    match T::extract(req.request()).await {
        Ok(_) => Ok(next.call(req).await?.map_into_left_body()),
        Err(refusal) => Ok(req
            .into_response(refusal.error_response())
            .map_into_right_body()),
    }
}
