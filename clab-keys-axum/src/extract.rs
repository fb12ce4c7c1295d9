//! Extractors: [`CurrentUser`] (JWT or API key) and [`InteractiveUser`] (JWT only).

use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use clab_keys_core::{CredentialRouter, Principal, Rejection};

use crate::AuthRejection;

/// Every `Authorization` field line of a request, as raw bytes, in order. Core decides what
/// they mean (none, one, several, non-UTF-8…).
fn authorization_lines(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> + Send {
    headers
        .get_all(AUTHORIZATION)
        .into_iter()
        .map(HeaderValue::as_bytes)
}

/// The principal of a request, or `None` when it presented no credential.
///
/// A principal already in the request extensions (put there by [`crate::authenticate`],
/// [`crate::require_scope`] or an earlier extractor) is reused, so a request is authenticated
/// once however many extractors ask; a new one is stored there for the next.
pub(crate) async fn optional_principal(
    parts: &mut Parts,
    router: &CredentialRouter,
) -> Result<Option<Principal>, Rejection> {
    if let Some(principal) = parts.extensions.get::<Principal>() {
        return Ok(Some(principal.clone()));
    }
    let principal = router
        .authenticate_optional(authorization_lines(&parts.headers))
        .await?;
    if let Some(principal) = &principal {
        parts.extensions.insert(principal.clone());
    }
    Ok(principal)
}

/// The principal of a request; as [`optional_principal`], but a request without a credential
/// gets core's "missing credentials" rejection.
pub(crate) async fn principal(
    parts: &mut Parts,
    router: &CredentialRouter,
) -> Result<Principal, Rejection> {
    if let Some(principal) = parts.extensions.get::<Principal>() {
        return Ok(principal.clone());
    }
    let principal = router
        .authenticate(authorization_lines(&parts.headers))
        .await?;
    parts.extensions.insert(principal.clone());
    Ok(principal)
}

/// The authenticated caller, by JWT session or API key: the `get_current_user` of an app.
///
/// Reads every `Authorization` line and hands them to core's [`CredentialRouter`], which the
/// app's state must provide through [`FromRef`]. Rejections are RFC 6750 answers
/// ([`AuthRejection`]): 401 with a bare challenge without a credential, 400 `invalid_request`
/// for a malformed header, 401 `invalid_token` for a refused credential, 503 when the key
/// store is down.
///
/// As `Option<CurrentUser>` it makes the credential optional: a request without one gets
/// `None`, but a credential that is presented and bad is still refused (a typo in a token
/// must not silently turn a caller anonymous).
///
/// The caller's [`Principal`] is kept in the request extensions, so later extractors (and
/// `Extension<Principal>`) reuse it instead of authenticating the request again; a principal
/// already stored there by [`authenticate`](crate::authenticate) or
/// [`require_scope`](crate::require_scope) is used as it is.
///
/// ```
/// use axum::{Router, routing::get};
/// use clab_keys_axum::CurrentUser;
/// use clab_keys_core::CredentialRouter;
///
/// async fn me(user: CurrentUser) -> String {
///     format!("{} via {}", user.user_id(), user.kind().as_str())
/// }
///
/// async fn greeting(user: Option<CurrentUser>) -> String {
///     user.map_or_else(|| "hello, stranger".to_owned(), |u| format!("hello, {}", u.user_id()))
/// }
///
/// let app: Router<CredentialRouter> = Router::new()
///     .route("/me", get(me))
///     .route("/greeting", get(greeting));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser(pub Principal);

impl CurrentUser {
    /// The principal.
    pub fn into_inner(self) -> Principal {
        self.0
    }
}

impl Deref for CurrentUser {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    CredentialRouter: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let router = CredentialRouter::from_ref(state);
        Ok(Self(principal(parts, &router).await?))
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
        let router = CredentialRouter::from_ref(state);
        Ok(optional_principal(parts, &router).await?.map(Self))
    }
}

/// The caller, who must be using an interactive (JWT) session.
///
/// For account-level actions such as managing API keys: a leaked API key must not be able to
/// mint more keys. An API key gets 403 with `error="insufficient_scope"` and the JSON code
/// `interactive_session_required`; everything else is refused as by [`CurrentUser`].
///
/// ```
/// use axum::{Router, routing::post};
/// use clab_keys_axum::InteractiveUser;
/// use clab_keys_core::CredentialRouter;
///
/// async fn change_password(user: InteractiveUser) -> String {
///     format!("password of {} changed", user.user_id())
/// }
///
/// let app: Router<CredentialRouter> = Router::new().route("/password", post(change_password));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractiveUser(pub Principal);

impl InteractiveUser {
    /// The principal.
    pub fn into_inner(self) -> Principal {
        self.0
    }
}

impl Deref for InteractiveUser {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<S> FromRequestParts<S> for InteractiveUser
where
    CredentialRouter: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let router = CredentialRouter::from_ref(state);
        let principal = principal(parts, &router).await?;
        principal.require_interactive(router.realm())?;
        Ok(Self(principal))
    }
}
