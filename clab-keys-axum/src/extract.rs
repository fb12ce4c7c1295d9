//! Extractors: [`CurrentUser`] (JWT or API key), [`InteractiveUser`] (JWT only), [`MaybeUser`]
//! (optional credential) and [`RequireScope`] (a credential that may use a scope).
//!
//! Each reads every `Authorization` line as raw bytes, hands them to core's
//! [`CredentialRouter`] (taken from the app state through [`FromRef`]) and turns core's verdict
//! into a value or an [`AuthRejection`].

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use clab_keys_core::{CredentialRouter, Principal, Rejection, ScopeName};

use crate::AuthRejection;

/// What authenticating a request gave, kept in its extensions so that a request is
/// authenticated once however many extractors and middleware ask.
///
/// Crate-private on purpose: application code cannot insert one, so a `Principal` that some
/// other middleware puts in the extensions is never taken for a verified caller.
///
/// It also names the router that made it, and is reused only for that router (or a clone).
#[derive(Clone)]
pub(crate) struct Authenticated {
    router: CredentialRouter,
    outcome: Result<Option<Principal>, Rejection>,
}

/// Every `Authorization` field line, in order, as raw bytes: core decides what none, several,
/// an empty line or a non-ASCII byte mean.
fn authorization_lines(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> + Send {
    headers
        .get_all(AUTHORIZATION)
        .into_iter()
        .map(HeaderValue::as_bytes)
}

/// Core's optional-authentication outcome for the request: the cached one if an extractor or
/// middleware of this crate already authenticated it, otherwise a new one, cached for the next.
pub(crate) async fn authenticated(
    parts: &mut Parts,
    router: &CredentialRouter,
) -> Result<Option<Principal>, Rejection> {
    if let Some(cached) = parts.extensions.get::<Authenticated>()
        && cached.router.is_clone_of(router)
    {
        return cached.outcome.clone();
    }
    let outcome = router
        .authenticate_optional(authorization_lines(&parts.headers))
        .await;
    parts.extensions.insert(Authenticated {
        router: router.clone(),
        outcome: outcome.clone(),
    });
    outcome
}

/// The caller, who must present a credential; returned with the router, for checks that need
/// its realm.
async fn required<S>(
    parts: &mut Parts,
    state: &S,
) -> Result<(CredentialRouter, Principal), Rejection>
where
    CredentialRouter: FromRef<S>,
{
    let router = CredentialRouter::from_ref(state);
    let principal = router.required(authenticated(parts, &router).await)?;
    Ok((router, principal))
}

/// The authenticated caller, by JWT session or API key: the `get_current_user` of an app.
///
/// Without a valid credential the request is refused with core's answer ([`AuthRejection`]):
/// 401 with a bare challenge without a credential, 400 `invalid_request` for a malformed
/// header, 401 `invalid_token` for a refused credential, 503 when the key store is down.
///
/// As `Option<CurrentUser>` (or as [`MaybeUser`]) it makes the credential optional: a request
/// without one gets `None`, but a credential that is presented and bad is still refused.
///
/// A request is authenticated once: the middleware and extractors of this crate share the
/// outcome through the request extensions.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
/// use axum::{Router, routing::get};
/// use clab_keys::CredentialRouter;
/// use clab_keys::axum::CurrentUser;
///
/// async fn me(user: CurrentUser) -> String {
///     format!("{} via {}", user.user_id(), user.kind().as_str())
/// }
///
/// let app: Router<CredentialRouter> = Router::new().route("/me", get(me));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser(pub Principal);

impl<S> FromRequestParts<S> for CurrentUser
where
    CredentialRouter: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (_, principal) = required(parts, state).await?;
        Ok(Self(principal))
    }
}

impl<S> OptionalFromRequestParts<S> for CurrentUser
where
    CredentialRouter: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let MaybeUser(principal) = MaybeUser::from_request_parts(parts, state).await?;
        Ok(principal.map(Self))
    }
}

/// The authenticated caller, who must use an interactive (JWT) session: an API key is refused
/// with `403` `interactive_session_required`, so that a leaked key cannot manage keys or the
/// account. Everything else is refused as by [`CurrentUser`].
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
/// use axum::{Router, routing::post};
/// use clab_keys::CredentialRouter;
/// use clab_keys::axum::InteractiveUser;
///
/// async fn change_password(user: InteractiveUser) -> String {
///     format!("password of {} changed", user.user_id())
/// }
///
/// let app: Router<CredentialRouter> = Router::new().route("/password", post(change_password));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractiveUser(pub Principal);

impl<S> FromRequestParts<S> for InteractiveUser
where
    CredentialRouter: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (router, principal) = required(parts, state).await?;
        principal.require_interactive(router.realm())?;
        Ok(Self(principal))
    }
}

/// The caller if a credential was sent, `None` if none was.
///
/// A credential that was presented but is malformed, invalid or cannot be checked still
/// refuses the request: a typo in a token must not silently downgrade the caller to
/// anonymous. (`Option<CurrentUser>` behaves the same way.)
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
/// use axum::{Router, routing::get};
/// use clab_keys::CredentialRouter;
/// use clab_keys::axum::MaybeUser;
///
/// async fn greeting(MaybeUser(user): MaybeUser) -> String {
///     match user {
///         Some(user) => format!("hello, user {}", user.user_id()),
///         None => "hello, stranger".to_owned(),
///     }
/// }
///
/// let app: Router<CredentialRouter> = Router::new().route("/greeting", get(greeting));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeUser(pub Option<Principal>);

impl MaybeUser {
    /// Takes the principal out.
    pub fn into_inner(self) -> Option<Principal> {
        self.0
    }
}

impl<S> FromRequestParts<S> for MaybeUser
where
    CredentialRouter: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let router = CredentialRouter::from_ref(state);
        Ok(Self(authenticated(parts, &router).await?))
    }
}

/// The authenticated caller, whose credential may use the scope `S`.
///
/// Unrestricted credentials (JWT sessions without scopes, keys created without scopes) may use
/// every scope; a credential limited to other scopes is refused with `403`
/// `insufficient_scope`, naming the scope in the challenge (RFC 6750 §3.1). Everything else is
/// refused as by [`CurrentUser`].
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
/// use axum::{Router, routing::get};
/// use clab_keys::CredentialRouter;
/// use clab_keys::ScopeName;
/// use clab_keys::axum::RequireScope;
///
/// struct ProjectsRead;
/// impl ScopeName for ProjectsRead {
///     const NAME: &'static str = "projects:read";
/// }
///
/// async fn projects(user: RequireScope<ProjectsRead>) -> String {
///     format!("projects of user {}", user.user_id())
/// }
///
/// let app: Router<CredentialRouter> = Router::new().route("/projects", get(projects));
/// ```
pub struct RequireScope<S> {
    principal: Principal,
    scope: PhantomData<fn() -> S>,
}

impl<S> RequireScope<S> {
    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Takes the principal out.
    pub fn into_inner(self) -> Principal {
        self.principal
    }
}

impl<St, S> FromRequestParts<St> for RequireScope<S>
where
    CredentialRouter: FromRef<St>,
    St: Send + Sync,
    S: ScopeName,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let (router, principal) = required(parts, state).await?;
        principal.require_scope(S::NAME, router.realm())?;
        Ok(Self {
            principal,
            scope: PhantomData,
        })
    }
}

impl<S> Clone for RequireScope<S> {
    fn clone(&self) -> Self {
        Self {
            principal: self.principal.clone(),
            scope: PhantomData,
        }
    }
}

impl<S: ScopeName> fmt::Debug for RequireScope<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireScope")
            .field("scope", &S::NAME)
            .field("principal", &self.principal)
            .finish()
    }
}

impl<S> Deref for RequireScope<S> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

macro_rules! principal_access {
    ($($ty:ident),*) => {$(
        impl $ty {
            /// Takes the principal out.
            pub fn into_inner(self) -> Principal {
                self.0
            }
        }

        impl Deref for $ty {
            type Target = Principal;

            fn deref(&self) -> &Principal {
                &self.0
            }
        }
    )*};
}

principal_access!(CurrentUser, InteractiveUser);
