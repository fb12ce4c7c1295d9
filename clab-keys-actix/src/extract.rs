//! Extractors: [`CurrentUser`] (JWT or API key), [`InteractiveUser`] (JWT only), [`MaybeUser`]
//! (optional credential) and [`RequireScope`] (a credential that may use a scope).
//!
//! Each reads every `Authorization` line as raw bytes, hands them to core's
//! [`CredentialRouter`] (registered as `web::Data<CredentialRouter>`) and turns core's verdict
//! into a value or an [`AuthRejection`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use clab_keys_core::{ApiResponse, CredentialRouter, Principal, Rejection, ScopeName};

use crate::{AuthRejection, Reply};

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

/// The future of every extractor here. actix-web runs a request on one thread, so it need not
/// be `Send`.
type Extraction<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

/// The app registered no `web::Data<CredentialRouter>`: a deployment error, answered `500`
/// (fail closed). The axum adapter cannot have it: there, the state type proves the router is
/// there at compile time.
#[derive(Debug)]
pub(crate) struct NotConfigured;

impl fmt::Display for NotConfigured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "authentication is not configured: no web::Data<CredentialRouter> in the app data",
        )
    }
}

impl ResponseError for NotConfigured {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(target: "clab_keys", "{self}");
        Reply(ApiResponse::error(
            500,
            "internal_error",
            "authentication is not configured",
        ))
        .into_http_response()
    }
}

/// The router registered as `web::Data<CredentialRouter>`.
pub(crate) fn router_of(req: &HttpRequest) -> Result<web::Data<CredentialRouter>, NotConfigured> {
    req.app_data::<web::Data<CredentialRouter>>()
        .cloned()
        .ok_or(NotConfigured)
}

/// Every `Authorization` field line, in order, as raw bytes: core decides what none, several,
/// an empty line or a non-ASCII byte mean.
fn authorization_lines(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers.get_all(AUTHORIZATION).map(HeaderValue::as_bytes)
}

/// Core's optional-authentication outcome for the request: the cached one if an extractor or
/// middleware of this crate already authenticated it, otherwise a new one, cached for the next.
pub(crate) async fn authenticated(
    req: &HttpRequest,
    router: &CredentialRouter,
) -> Result<Option<Principal>, Rejection> {
    let cached = req.extensions().get::<Authenticated>().cloned();
    if let Some(cached) = cached
        && cached.router.is_clone_of(router)
    {
        return cached.outcome;
    }
    let outcome = router
        .authenticate_optional(authorization_lines(req.headers()))
        .await;
    req.extensions_mut().insert(Authenticated {
        router: router.clone(),
        outcome: outcome.clone(),
    });
    outcome
}

/// The caller, who must present a credential; returned with the router, for checks that need
/// its realm.
pub(crate) async fn required(
    req: &HttpRequest,
) -> Result<(web::Data<CredentialRouter>, Principal), actix_web::Error> {
    let router = router_of(req)?;
    let principal = router
        .required(authenticated(req, &router).await)
        .map_err(AuthRejection::from)?;
    Ok((router, principal))
}

/// The authenticated caller, by JWT session or API key: the `get_current_user` of an app.
///
/// Without a valid credential the request is refused with core's answer ([`AuthRejection`]):
/// 401 with a bare challenge without a credential, 400 `invalid_request` for a malformed
/// header, 401 `invalid_token` for a refused credential, 503 when the key store is down (and
/// 500 if the app registered no `web::Data<CredentialRouter>`).
///
/// A request is authenticated once: the middleware and extractors of this crate share the
/// outcome through the request extensions.
///
/// For an optional credential take [`MaybeUser`], never `Option<CurrentUser>`: actix-web's
/// `Option<T>` turns every refusal into `None`, so a bad token, or a key store that is down,
/// would make the caller anonymous instead of being refused.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::{App, HttpResponse, web};
/// use clab_keys::actix_web::CurrentUser;
///
/// async fn me(user: CurrentUser) -> HttpResponse {
///     HttpResponse::Ok().body(format!("{} via {}", user.user_id(), user.kind().as_str()))
/// }
///
/// let app = App::new().route("/me", web::get().to(me));
/// # drop(app);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser(pub Principal);

impl FromRequest for CurrentUser {
    type Error = actix_web::Error;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (_, principal) = required(&req).await?;
            Ok(Self(principal))
        })
    }
}

/// The authenticated caller, who must use an interactive (JWT) session: an API key is refused
/// with `403` `interactive_session_required`, so that a leaked key cannot manage keys or the
/// account. Everything else is refused as by [`CurrentUser`].
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::{App, HttpResponse, web};
/// use clab_keys::actix_web::InteractiveUser;
///
/// async fn change_password(user: InteractiveUser) -> HttpResponse {
///     HttpResponse::Ok().body(format!("password of {} changed", user.user_id()))
/// }
///
/// let app = App::new().route("/password", web::post().to(change_password));
/// # drop(app);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractiveUser(pub Principal);

impl FromRequest for InteractiveUser {
    type Error = actix_web::Error;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (router, principal) = required(&req).await?;
            principal
                .require_interactive(router.realm())
                .map_err(AuthRejection::from)?;
            Ok(Self(principal))
        })
    }
}

/// The caller if a credential was sent, `None` if none was.
///
/// A credential that was presented but is malformed, invalid or cannot be checked still
/// refuses the request: a typo in a token must not silently downgrade the caller to
/// anonymous. (Use it rather than actix-web's `Option<CurrentUser>`, which turns *every*
/// extraction error into `None`.)
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::{App, HttpResponse, web};
/// use clab_keys::actix_web::MaybeUser;
///
/// async fn greeting(MaybeUser(user): MaybeUser) -> HttpResponse {
///     match user {
///         Some(user) => HttpResponse::Ok().body(format!("hello, user {}", user.user_id())),
///         None => HttpResponse::Ok().body("hello, stranger"),
///     }
/// }
///
/// let app = App::new().route("/greeting", web::get().to(greeting));
/// # drop(app);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeUser(pub Option<Principal>);

impl MaybeUser {
    /// Takes the principal out.
    pub fn into_inner(self) -> Option<Principal> {
        self.0
    }
}

impl FromRequest for MaybeUser {
    type Error = actix_web::Error;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let router = router_of(&req)?;
            let principal = authenticated(&req, &router)
                .await
                .map_err(AuthRejection::from)?;
            Ok(Self(principal))
        })
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
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::{App, HttpResponse, web};
/// use clab_keys::ScopeName;
/// use clab_keys::actix_web::RequireScope;
///
/// struct ProjectsRead;
/// impl ScopeName for ProjectsRead {
///     const NAME: &'static str = "projects:read";
/// }
///
/// async fn projects(user: RequireScope<ProjectsRead>) -> HttpResponse {
///     HttpResponse::Ok().body(format!("projects of user {}", user.user_id()))
/// }
///
/// let app = App::new().route("/projects", web::get().to(projects));
/// # drop(app);
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
    type Error = actix_web::Error;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (router, principal) = required(&req).await?;
            principal
                .require_scope(S::NAME, router.realm())
                .map_err(AuthRejection::from)?;
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
