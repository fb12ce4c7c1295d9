//! `FromRequest` extractors: each reads every `Authorization` line as raw bytes, hands them to
//! core's [`CredentialRouter`], and turns core's verdict into a value or an [`AuthRejection`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use clab_keys_core::{CredentialRouter, Principal};

use crate::AuthRejection;

/// The future of every extractor here. actix-web runs a request on one thread, so it need not
/// be `Send`.
type Extraction<T> = Pin<Box<dyn Future<Output = Result<T, AuthRejection>>>>;

/// The router registered as `web::Data<CredentialRouter>`.
pub(crate) fn router_of(req: &HttpRequest) -> Result<web::Data<CredentialRouter>, AuthRejection> {
    req.app_data::<web::Data<CredentialRouter>>()
        .cloned()
        .ok_or(AuthRejection::NotConfigured)
}

/// Every `Authorization` field line, in order, as raw bytes: core decides what two lines, an
/// empty line or a non-ASCII byte mean.
pub(crate) fn authorization_lines(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers.get_all(AUTHORIZATION).map(HeaderValue::as_bytes)
}

/// The principal of a request, or `None` when it presented no credential.
///
/// A principal already in the request extensions (put there by the [`authenticate`]
/// middleware or by an earlier extractor) is reused, so a request is authenticated once however
/// many extractors ask, as in the axum adapter; a new one is stored there for the next.
///
/// [`authenticate`]: crate::authenticate
pub(crate) async fn optional_principal(
    req: &HttpRequest,
) -> Result<(web::Data<CredentialRouter>, Option<Principal>), AuthRejection> {
    let router = router_of(req)?;
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok((router, Some(principal.clone())));
    }
    let principal = router
        .authenticate_optional(authorization_lines(req.headers()))
        .await?;
    if let Some(principal) = &principal {
        req.extensions_mut().insert(principal.clone());
    }
    Ok((router, principal))
}

/// The principal of a request, which must present a credential; returned with the router, for
/// checks that need the realm.
pub(crate) async fn required_principal(
    req: &HttpRequest,
) -> Result<(web::Data<CredentialRouter>, Principal), AuthRejection> {
    let router = router_of(req)?;
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok((router, principal.clone()));
    }
    let principal = router
        .authenticate(authorization_lines(req.headers()))
        .await?;
    req.extensions_mut().insert(principal.clone());
    Ok((router, principal))
}

/// The authenticated caller, by JWT session or API key. Without a valid credential the request
/// is refused with core's answer (401, 400 or 503).
///
/// A principal stored by the [`authenticate`](crate::authenticate) middleware, or by an
/// earlier extractor of this crate, is reused: a request is authenticated once.
///
/// ```
/// use actix_web::{HttpResponse, Responder};
/// use clab_keys_actix::CurrentUser;
///
/// async fn me(user: CurrentUser) -> impl Responder {
///     HttpResponse::Ok().body(format!("{} via {}", user.user_id(), user.kind().as_str()))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser(pub Principal);

impl FromRequest for CurrentUser {
    type Error = AuthRejection;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { required_principal(&req).await.map(|(_, p)| Self(p)) })
    }
}

/// The authenticated caller, who must use an interactive (JWT) session: an API key is refused
/// with `403` `interactive_session_required`, so that a leaked key cannot manage keys or the
/// account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractiveUser(pub Principal);

impl FromRequest for InteractiveUser {
    type Error = AuthRejection;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (router, principal) = required_principal(&req).await?;
            principal.require_interactive(router.realm())?;
            Ok(Self(principal))
        })
    }
}

/// The caller if a credential was sent, `None` if none was.
///
/// Unlike actix-web's `Option<CurrentUser>`, which turns *every* extraction error into `None`,
/// a credential that was presented but is malformed, invalid or cannot be checked still
/// refuses the request: a typo in a token must not silently downgrade the caller to anonymous.
///
/// ```
/// use actix_web::{HttpResponse, Responder};
/// use clab_keys_actix::MaybeUser;
///
/// async fn greeting(MaybeUser(user): MaybeUser) -> impl Responder {
///     match user {
///         Some(user) => HttpResponse::Ok().body(format!("hello, user {}", user.user_id())),
///         None => HttpResponse::Ok().body("hello, stranger"),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeUser(pub Option<Principal>);

impl FromRequest for MaybeUser {
    type Error = AuthRejection;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (_, principal) = optional_principal(&req).await?;
            Ok(Self(principal))
        })
    }
}

/// Names a scope for [`RequireScope`].
///
/// ```
/// use clab_keys_actix::ScopeName;
///
/// /// Read access to projects.
/// pub struct ProjectsRead;
///
/// impl ScopeName for ProjectsRead {
///     const NAME: &'static str = "projects:read";
/// }
/// ```
pub trait ScopeName {
    /// The scope, as stored on keys (for example `projects:read`).
    const NAME: &'static str;
}

/// The authenticated caller, whose credential may use the scope `S`.
///
/// Unrestricted credentials (JWT sessions without scopes, keys created without scopes) may use
/// every scope; a credential limited to other scopes is refused with `403`
/// `insufficient_scope`, naming the scope in the challenge (RFC 6750 §3.1).
///
/// ```
/// use actix_web::{HttpResponse, Responder};
/// use clab_keys_actix::{RequireScope, ScopeName};
///
/// struct ProjectsRead;
/// impl ScopeName for ProjectsRead {
///     const NAME: &'static str = "projects:read";
/// }
///
/// async fn projects(user: RequireScope<ProjectsRead>) -> impl Responder {
///     HttpResponse::Ok().body(format!("projects of user {}", user.user_id()))
/// }
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

impl<S: ScopeName> FromRequest for RequireScope<S> {
    type Error = AuthRejection;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (router, principal) = required_principal(&req).await?;
            principal.require_scope(S::NAME, router.realm())?;
            Ok(Self {
                principal,
                scope: PhantomData,
            })
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

impl<S> Deref for RequireScope<S> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}
