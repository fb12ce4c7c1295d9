//! Middleware for [`axum::middleware::from_fn_with_state`]: authenticate every request of a
//! router once, require an interactive session, or require a scope. Handlers behind it read
//! the caller with the extractors, which reuse the middleware's outcome.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use clab_keys_core::ScopeName;

use crate::{CurrentUser, InteractiveUser, RequireScope};

/// Requires a valid credential (JWT session or API key) for every request it wraps.
///
/// A refused request is answered here, with exactly the response the [`CurrentUser`]
/// extractor gives (status, `WWW-Authenticate`, JSON body); the wrapped handler does not run.
/// Handlers behind it read the caller with [`CurrentUser`], which reuses the outcome instead
/// of authenticating again.
///
/// Give [`from_fn_with_state`](axum::middleware::from_fn_with_state) the app state (the
/// [`CredentialRouter`](clab_keys_core::CredentialRouter) is taken from it through
/// [`FromRef`](axum::extract::FromRef)), and add it with
/// [`Router::route_layer`](axum::Router::route_layer) so that unknown paths still answer 404
/// rather than 401.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
/// use axum::{Router, middleware::from_fn_with_state, routing::get};
/// use clab_keys::axum::{CurrentUser, authenticate};
/// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, Pepper};
///
/// async fn whoami(user: CurrentUser) -> String {
///     user.user_id().to_string()
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32])?)?;
/// let credentials = CredentialRouter::new(KeyService::builder(MemoryStore::new(), hasher).build()?);
/// let api: Router = Router::new()
///     .route("/api/v1/whoami", get(whoami))
///     .route_layer(from_fn_with_state(credentials.clone(), authenticate))
///     .with_state(credentials);
/// # Ok(()) }
/// ```
pub async fn authenticate(_caller: CurrentUser, request: Request, next: Next) -> Response {
    next.run(request).await
}

/// Like [`authenticate`], but also refuses API keys with `403`
/// `interactive_session_required`, exactly as the [`InteractiveUser`] extractor does: for
/// routes of account-level actions that a leaked key must not reach.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
/// use axum::{Router, middleware::from_fn_with_state, routing::delete};
/// use clab_keys::axum::require_interactive;
/// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, Pepper};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32])?)?;
/// let credentials = CredentialRouter::new(KeyService::builder(MemoryStore::new(), hasher).build()?);
/// let account: Router = Router::new()
///     .route("/api/account", delete(|| async { "deleted" }))
///     .route_layer(from_fn_with_state(credentials.clone(), require_interactive))
///     .with_state(credentials);
/// # Ok(()) }
/// ```
pub async fn require_interactive(
    _caller: InteractiveUser,
    request: Request,
    next: Next,
) -> Response {
    next.run(request).await
}

/// Like [`authenticate`], but also refuses credentials that may not use the scope `S` with
/// `403` `insufficient_scope`, exactly as the [`RequireScope<S>`] extractor does.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
/// use axum::{Router, middleware::from_fn_with_state, routing::get};
/// use clab_keys::ScopeName;
/// use clab_keys::axum::require_scope;
/// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, Pepper};
///
/// struct ProjectsRead;
/// impl ScopeName for ProjectsRead {
///     const NAME: &'static str = "projects:read";
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32])?)?;
/// let credentials = CredentialRouter::new(KeyService::builder(MemoryStore::new(), hasher).build()?);
/// let projects: Router = Router::new()
///     .route("/api/projects", get(|| async { "projects" }))
///     .route_layer(from_fn_with_state(credentials.clone(), require_scope::<ProjectsRead>))
///     .with_state(credentials);
/// # Ok(()) }
/// ```
pub async fn require_scope<S: ScopeName>(
    _caller: RequireScope<S>,
    request: Request,
    next: Next,
) -> Response {
    next.run(request).await
}
