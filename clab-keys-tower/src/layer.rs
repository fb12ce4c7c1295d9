//! [`AuthLayer`] and the service it makes, [`Authenticate`]: core's credential router in front
//! of any `tower::Service<http::Request<B>>`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use clab_keys_core::{ApiResponse, CredentialRouter, Principal, Rejection, ScopeName};
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use crate::AuthBody;

/// What a request must present to reach the wrapped service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requirement {
    /// Nothing; a presented credential must still be valid (`MaybeUser`).
    Optional,
    /// A JWT session or an API key (`CurrentUser`).
    Credential,
    /// A JWT session (`InteractiveUser`).
    Interactive,
    /// A credential that may use the scope (`RequireScope`).
    Scope(&'static str),
}

/// Authentication for any tower-based server (hyper, tonic, axum): a [`tower_layer::Layer`]
/// over `http::Request<B>` that hands every `Authorization` line to core's
/// [`CredentialRouter`] and
///
/// - on success, puts the verified [`Principal`] into the request's extensions (replacing any
///   `Principal` already there) and calls the wrapped service, which reads it with
///   `request.extensions().get::<Principal>()` (in tonic, `request.extensions()` of the
///   `tonic::Request`);
/// - on refusal, answers itself, without calling the wrapped service: for an HTTP request
///   with exactly the response the axum and actix-web adapters give (core's
///   [`Rejection::to_response`]: status, JSON body, `WWW-Authenticate`, `Retry-After`); for a
///   gRPC request (a `content-type` starting with `application/grpc`, which includes
///   `application/grpc+proto` and gRPC-Web) with core's [`Rejection::to_grpc_response`]: HTTP
///   `200`, `grpc-status` `16` UNAUTHENTICATED, `7` PERMISSION_DENIED or `14` UNAVAILABLE,
///   and `grpc-message` carrying the same reason code as the JSON `error` (`invalid_token`…).
///
/// What a request must present is chosen when the layer is made; each mirrors an extractor
/// of the axum and actix-web adapters:
///
/// | layer | like | lets through |
/// |---|---|---|
/// | [`AuthLayer::new`] | `CurrentUser`, `authenticate` | a JWT session or an API key |
/// | [`AuthLayer::optional`] | `MaybeUser` | also a request without any credential (no `Principal` in the extensions); a presented bad credential is still refused |
/// | [`AuthLayer::require_interactive`] | `InteractiveUser`, `require_interactive` | JWT sessions only; an API key gets `403` `interactive_session_required` (gRPC `7`) |
/// | [`AuthLayer::require_scope`] | `RequireScope<S>`, `require_scope::<S>` | credentials that may use the scope `S::NAME`; others get `403` `insufficient_scope` (gRPC `7`) |
///
/// A request without a credential never reaches the wrapped service unless the layer is
/// optional. Every decision is core's; this crate only reads the headers and writes core's
/// answer, so it cannot drift from the other adapters.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_tower as tower; }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::convert::Infallible;
///
/// use bytes::Bytes;
/// use clab_keys::tower::AuthLayer;
/// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, NewKey, Pepper, Principal, UserId};
/// use http::{Request, Response};
/// use http_body_util::{BodyExt, Full};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// /// The app's handler: the layer has already authenticated the caller.
/// async fn whoami(request: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
///     let user = request.extensions().get::<Principal>().map(|p| p.user_id().to_string());
///     Ok(Response::new(Full::from(user.unwrap_or_default())))
/// }
///
/// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32])?)?;
/// let keys = KeyService::builder(MemoryStore::new(), hasher).build()?;
/// let token = keys.create(&UserId::from(42_i64), NewKey::new("cli")).await?.token;
/// let service = ServiceBuilder::new()
///     .layer(AuthLayer::new(CredentialRouter::new(keys)))
///     .service_fn(whoami);
///
/// let request = Request::get("/whoami")
///     .header("authorization", format!("Bearer {}", token.expose_secret()))
///     .body(Full::default())?;
/// let response = service.clone().oneshot(request).await?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.into_body().collect().await?.to_bytes(), "42");
///
/// // Without a credential the handler never runs: core's 401 with a bare challenge.
/// let response = service.oneshot(Request::get("/whoami").body(Full::default())?).await?;
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="api""#);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AuthLayer {
    router: CredentialRouter,
    requirement: Requirement,
}

impl AuthLayer {
    /// Requires a valid credential, a JWT session or an API key (like the adapters'
    /// `CurrentUser`).
    pub fn new(router: CredentialRouter) -> Self {
        Self {
            router,
            requirement: Requirement::Credential,
        }
    }

    /// Lets requests without any credential through, with no [`Principal`] in their
    /// extensions (like the adapters' `MaybeUser`); a credential that is presented but
    /// malformed, invalid or cannot be checked is still refused, so a typo in a token never
    /// downgrades a caller to anonymous.
    ///
    /// ```
    /// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_tower as tower; }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use clab_keys::tower::AuthLayer;
    /// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, Pepper, Principal};
    /// use bytes::Bytes;
    /// use http::{Request, Response};
    /// use http_body_util::Full;
    /// use tower::{ServiceBuilder, ServiceExt};
    ///
    /// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32])?)?;
    /// let router = CredentialRouter::new(KeyService::builder(MemoryStore::new(), hasher).build()?);
    /// let service = ServiceBuilder::new().layer(AuthLayer::optional(router)).service_fn(
    ///     |request: Request<String>| async move {
    ///         let anonymous = request.extensions().get::<Principal>().is_none();
    ///         let text = if anonymous { "hello, stranger" } else { "hello, user" };
    ///         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(text))))
    ///     },
    /// );
    /// let response = service.clone().oneshot(Request::new(String::new())).await?;
    /// assert_eq!(response.status(), 200);
    /// let bad = Request::builder().header("authorization", "Bearer nope").body(String::new())?;
    /// assert_eq!(service.oneshot(bad).await?.status(), 401);
    /// # Ok(()) }
    /// ```
    pub fn optional(router: CredentialRouter) -> Self {
        Self {
            router,
            requirement: Requirement::Optional,
        }
    }

    /// Requires an interactive (JWT) session; an API key is refused with `403`
    /// `interactive_session_required` (gRPC `7` PERMISSION_DENIED), like the adapters'
    /// `InteractiveUser`, so that a leaked key cannot reach account-level actions.
    pub fn require_interactive(router: CredentialRouter) -> Self {
        Self {
            router,
            requirement: Requirement::Interactive,
        }
    }

    /// Requires a credential that may use the scope `S` (unrestricted credentials may use
    /// every scope); others are refused with `403` `insufficient_scope` naming the scope (gRPC
    /// `7` PERMISSION_DENIED), like the adapters' `RequireScope<S>`.
    ///
    /// ```
    /// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_tower as tower; }
    /// use clab_keys::tower::AuthLayer;
    /// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, Pepper, ScopeName};
    ///
    /// struct ProjectsRead;
    /// impl ScopeName for ProjectsRead {
    ///     const NAME: &'static str = "projects:read";
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32])?)?;
    /// let router = CredentialRouter::new(KeyService::builder(MemoryStore::new(), hasher).build()?);
    /// let layer = AuthLayer::require_scope::<ProjectsRead>(router);
    /// # let _ = layer;
    /// # Ok(()) }
    /// ```
    pub fn require_scope<S: ScopeName>(router: CredentialRouter) -> Self {
        Self {
            router,
            requirement: Requirement::Scope(S::NAME),
        }
    }

    /// The credential router.
    pub fn router(&self) -> &CredentialRouter {
        &self.router
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate {
            inner,
            router: self.router.clone(),
            requirement: self.requirement,
        }
    }
}

/// The service [`AuthLayer`] makes: authenticates each request with core's
/// [`CredentialRouter`], then calls the wrapped service `S` or answers the refusal itself.
/// See [`AuthLayer`] for what it checks and how it answers.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_tower as tower; }
/// use clab_keys::tower::{AuthLayer, Authenticate};
/// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, Pepper};
/// use tower::Layer as _;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32])?)?;
/// let router = CredentialRouter::new(KeyService::builder(MemoryStore::new(), hasher).build()?);
/// let service: Authenticate<tower::util::BoxCloneService<http::Request<String>, http::Response<String>, std::convert::Infallible>> =
///     AuthLayer::new(router).layer(tower::util::BoxCloneService::new(tower::service_fn(|_| async {
///         Ok(http::Response::new(String::new()))
///     })));
/// # let _ = service;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Authenticate<S> {
    inner: S,
    router: CredentialRouter,
    requirement: Requirement,
}

impl<S> fmt::Debug for Authenticate<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticate")
            .field("router", &self.router)
            .field("requirement", &self.requirement)
            .finish_non_exhaustive()
    }
}

/// What [`Authenticate`] resolves to.
type Answer<B, E> = Result<Response<AuthBody<B>>, E>;

/// The future of [`Authenticate`]: authentication, then the wrapped service's call (or the
/// refusal). Boxed, because core's authentication is an `async fn`.
pub struct ResponseFuture<B, E> {
    inner: Pin<Box<dyn Future<Output = Answer<B, E>> + Send>>,
}

impl<B, E> Future for ResponseFuture<B, E> {
    type Output = Result<Response<AuthBody<B>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<B, E> fmt::Debug for ResponseFuture<B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Authenticate<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: 'static,
    ReqBody: Send + 'static,
    ResBody: 'static,
{
    type Response = Response<AuthBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone that was not polled ready stays here; the one that was serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let router = self.router.clone();
        let requirement = self.requirement;
        ResponseFuture {
            inner: Box::pin(async move {
                let grpc = is_grpc(request.headers());
                match check(&router, requirement, request.headers()).await {
                    Ok(principal) => {
                        // Only the layer's own verdict counts: whatever else put a `Principal`
                        // there (it can only be made through core) is dropped first.
                        let extensions = request.extensions_mut();
                        extensions.remove::<Principal>();
                        if let Some(principal) = principal {
                            extensions.insert(principal);
                        }
                        let response = inner.call(request).await?;
                        Ok(response.map(AuthBody::inner))
                    }
                    Err(rejection) => Ok(to_http(if grpc {
                        rejection.to_grpc_response()
                    } else {
                        rejection.to_response()
                    })),
                }
            }),
        }
    }
}

/// Core's verdict on a request's `Authorization` lines under the layer's requirement.
async fn check(
    router: &CredentialRouter,
    requirement: Requirement,
    headers: &HeaderMap,
) -> Result<Option<Principal>, Rejection> {
    // Every line, as raw bytes: core decides what none, several or a non-ASCII byte mean.
    let lines = headers
        .get_all(AUTHORIZATION)
        .into_iter()
        .map(HeaderValue::as_bytes);
    let outcome = router.authenticate_optional(lines).await;
    let principal = match requirement {
        Requirement::Optional => return outcome,
        Requirement::Credential | Requirement::Interactive | Requirement::Scope(_) => {
            router.required(outcome)?
        }
    };
    match requirement {
        Requirement::Interactive => principal.require_interactive(router.realm())?,
        Requirement::Scope(scope) => principal.require_scope(scope, router.realm())?,
        Requirement::Optional | Requirement::Credential => {}
    }
    Ok(Some(principal))
}

/// Whether the request speaks gRPC: its `content-type` starts with `application/grpc`
/// (ASCII case-insensitive), which covers `application/grpc`, `application/grpc+proto` and
/// gRPC-Web's `application/grpc-web…`.
fn is_grpc(headers: &HeaderMap) -> bool {
    const GRPC: &[u8] = b"application/grpc";
    headers.get(CONTENT_TYPE).is_some_and(|value| {
        value
            .as_bytes()
            .get(..GRPC.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(GRPC))
    })
}

/// Core's framework-neutral answer as an `http` response, status, headers and body copied as
/// they are. Core builds every status and header itself, so this cannot fail in practice; if
/// it ever did, the answer is a bare `500` rather than a response missing, say, its challenge.
fn to_http<B>(answer: ApiResponse) -> Response<AuthBody<B>> {
    let fallback = || {
        let mut response = Response::new(AuthBody::full(Bytes::new()));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response
    };
    let Ok(status) = StatusCode::from_u16(answer.status) else {
        return fallback();
    };
    let mut response = Response::new(AuthBody::full(answer.body));
    *response.status_mut() = status;
    for (name, value) in answer.headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) else {
            return fallback();
        };
        response.headers_mut().append(name, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(content_type) {
            headers.insert(CONTENT_TYPE, value);
        }
        headers
    }

    #[test]
    fn grpc_content_types_are_recognised() {
        for grpc in [
            "application/grpc",
            "application/grpc+proto",
            "Application/GRPC",
            "application/grpc-web+proto",
        ] {
            assert!(is_grpc(&headers(grpc)), "{grpc}");
        }
        for http in ["application/json", "application/gr", "text/plain", ""] {
            assert!(!is_grpc(&headers(http)), "{http}");
        }
        assert!(!is_grpc(&HeaderMap::new()));
    }

    #[test]
    fn an_impossible_status_is_a_500_not_a_panic() {
        let mut answer = ApiResponse::empty(204);
        answer.status = 1000;
        assert_eq!(to_http::<()>(answer).status(), 500);
    }

    #[test]
    fn an_impossible_header_is_a_500_not_a_panic() {
        let mut answer = ApiResponse::empty(204);
        answer.headers.push(("x-bad", "line\nbreak".to_owned()));
        assert_eq!(to_http::<()>(answer).status(), 500);
    }
}
