//! Middleware for `axum::middleware::from_fn_with_state`: authenticate a whole router, or
//! require a scope on some routes.

use std::sync::Arc;

use axum::extract::{FromRef, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clab_keys_core::CredentialRouter;

use crate::{AuthRejection, CurrentUser};

/// Refuses every request without a valid credential (JWT or API key) and stores the caller's
/// [`Principal`](clab_keys_core::Principal) in the request extensions.
///
/// Use it with [`axum::middleware::from_fn_with_state`], giving it the app state (from which
/// the [`CredentialRouter`] is taken through [`FromRef`]), and add it with
/// [`Router::route_layer`](axum::Router::route_layer) so that unknown paths still answer 404
/// rather than 401. Handlers behind it read the caller with [`CurrentUser`] (which reuses the
/// stored principal instead of authenticating again) or with
/// `Extension<Principal>`.
///
/// ```
/// use axum::{Extension, Router, middleware, routing::get};
/// use clab_keys_core::{CredentialRouter, KeyService, MemoryStore, Principal};
///
/// async fn projects(Extension(caller): Extension<Principal>) -> String {
///     format!("projects of {}", caller.user_id())
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let credentials = CredentialRouter::new(KeyService::builder(MemoryStore::new()).build()?);
/// let api: Router = Router::new()
///     .route("/api/projects", get(projects))
///     .route_layer(middleware::from_fn_with_state(
///         credentials.clone(),
///         clab_keys_axum::authenticate,
///     ))
///     .with_state(credentials);
/// # Ok(()) }
/// ```
pub async fn authenticate(_caller: CurrentUser, request: Request, next: Next) -> Response {
    // `CurrentUser` has already authenticated the request (or refused it, in which case
    // `from_fn` answers with its rejection) and stored the principal in the extensions.
    next.run(request).await
}

/// The scope a route requires, and the credential router to authenticate callers with: the
/// state of [`require_scope`].
///
/// The scope name is checked by core: a valid name is echoed in the `scope` parameter of the
/// 403 challenge.
#[derive(Debug, Clone)]
pub struct RequiredScope {
    router: CredentialRouter,
    scope: Arc<str>,
}

impl RequiredScope {
    /// Requires `scope` of callers authenticated by `router`.
    pub fn new(router: CredentialRouter, scope: impl Into<Arc<str>>) -> Self {
        Self {
            router,
            scope: scope.into(),
        }
    }

    /// The required scope.
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

impl FromRef<RequiredScope> for CredentialRouter {
    fn from_ref(required: &RequiredScope) -> Self {
        required.router.clone()
    }
}

/// Refuses callers whose credential is limited to scopes that do not include the
/// [`RequiredScope`]: 403 with `error="insufficient_scope"` and the scope named in the
/// challenge (RFC 6750 §3.1). Unrestricted credentials (JWT sessions, keys created without
/// scopes) pass. Callers without a valid credential are refused as by [`CurrentUser`]. The
/// caller's principal is stored in the request extensions, as by [`authenticate`].
///
/// Add it with `route_layer` on the routes (or the method router) that need the scope:
///
/// ```
/// use axum::{Router, middleware, routing::get};
/// use clab_keys_axum::{CurrentUser, RequiredScope, require_scope};
/// use clab_keys_core::{CredentialRouter, KeyService, MemoryStore};
///
/// async fn list_projects(user: CurrentUser) -> String {
///     format!("projects of {}", user.user_id())
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let credentials = CredentialRouter::new(KeyService::builder(MemoryStore::new()).build()?);
/// let app: Router = Router::new()
///     .route(
///         "/api/projects",
///         get(list_projects).route_layer(middleware::from_fn_with_state(
///             RequiredScope::new(credentials.clone(), "projects:read"),
///             require_scope,
///         )),
///     )
///     .with_state(credentials);
/// # Ok(()) }
/// ```
///
/// Inside a handler, the same check is core's
/// [`Principal::require_scope`](clab_keys_core::Principal::require_scope), whose rejection
/// converts into an [`AuthRejection`] with `?`.
pub async fn require_scope(
    State(required): State<RequiredScope>,
    caller: CurrentUser,
    request: Request,
    next: Next,
) -> Response {
    match caller.require_scope(&required.scope, required.router.realm()) {
        Ok(()) => next.run(request).await,
        Err(rejection) => AuthRejection::from(rejection).into_response(),
    }
}
