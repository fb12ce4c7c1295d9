//! axum 0.8 adapter of clab-keys: long-lived user API keys (`clab_user_…`) accepted wherever
//! the app's JWT sessions are. Applications normally use it through the facade crate,
//! `clab-keys` with the `axum` feature, as `clab_keys::axum`.
//!
//! Every decision (header parsing, API key or JWT, status codes, `WWW-Authenticate`
//! challenges, JSON bodies, the management endpoints and their 404/405 edges) is made by
//! [`clab_keys_core`]; this crate only translates between axum and core, so it answers exactly
//! like the actix-web adapter, which offers the same items under the same names.
//!
//! | item | what it gives a handler | refuses with |
//! |---|---|---|
//! | [`CurrentUser`] | the caller, by JWT session or API key | 401, 400, 503 |
//! | [`InteractiveUser`] | the caller, by JWT session only | as above, and 403 for API keys |
//! | [`MaybeUser`] (or `Option<CurrentUser>`) | `Some(caller)`, or `None` when no credential was sent | a presented but bad credential |
//! | [`RequireScope<S>`] (with core's [`ScopeName`](clab_keys_core::ScopeName)) | the caller, whose credential may use scope `S::NAME` | as [`CurrentUser`], and 403 `insufficient_scope` |
//! | [`authenticate`], [`require_interactive`], [`require_scope::<S>`](require_scope) | middleware for [`from_fn_with_state`](axum::middleware::from_fn_with_state); handlers read the caller with the extractors | as the extractors |
//! | [`management_router(path)`](management_router) | `POST`/`GET {path}`, `DELETE {path}/{id}`, to [`merge`](axum::Router::merge) | core's answers |
//! | [`AuthRejection`] | the error of every extractor and middleware, [`IntoResponse`](axum::response::IntoResponse) | |
//! | [`Reply`] | core's [`ApiResponse`](clab_keys_core::ApiResponse) as [`IntoResponse`](axum::response::IntoResponse) | |
//!
//! The configuration is a [`CredentialRouter`](clab_keys_core::CredentialRouter), which the
//! app's state, whatever its type, provides through [`FromRef`](axum::extract::FromRef). A
//! request is authenticated once: the extractors and middleware share the outcome in the
//! request extensions, under a type private to this crate (a `Principal` that other middleware
//! inserts there is ignored).
//!
//! # Example
//!
//! An app that accepts its own JWT sessions or API keys, and lets users manage their keys:
//!
//! ```
//! # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
//! use axum::{Json, Router, extract::FromRef, routing::get};
//! use clab_keys::axum::{CurrentUser, management_router};
//! use clab_keys::{
//!     CredentialRouter, JwtError, JwtIdentity, JwtVerifier, KeyHasher, KeyService,
//!     MANAGEMENT_PATH, MemoryStore, Pepper, UserId,
//! };
//! use serde_json::{Value, json};
//!
//! /// Verifies the app's session JWTs. A real app calls its JWT library here (the example apps
//! /// use `jsonwebtoken::decode` with an algorithm allow-list, `exp` and `aud` checks); this
//! /// one knows a single demo token so that the example runs.
//! #[derive(Debug)]
//! struct SessionJwts;
//!
//! const DEMO_JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.ZGVtby1zaWduYXR1cmU";
//!
//! #[async_trait::async_trait]
//! impl JwtVerifier for SessionJwts {
//!     async fn verify(&self, token: &str) -> Result<JwtIdentity, JwtError> {
//!         match token {
//!             DEMO_JWT => Ok(JwtIdentity::new(UserId::from(42_i64))),
//!             _ => Err(JwtError::Invalid),
//!         }
//!     }
//! }
//!
//! /// The app's own state: the credential router sits next to whatever else it needs.
//! #[derive(Clone)]
//! struct AppState {
//!     credentials: CredentialRouter,
//! }
//!
//! impl FromRef<AppState> for CredentialRouter {
//!     fn from_ref(state: &AppState) -> Self {
//!         state.credentials.clone()
//!     }
//! }
//!
//! /// `get_current_user`: a JWT session or an API key.
//! async fn me(user: CurrentUser) -> Json<Value> {
//!     Json(json!({ "id": user.user_id().as_str(), "auth": user.kind().as_str() }))
//! }
//!
//! fn app(credentials: CredentialRouter) -> Router {
//!     Router::new()
//!         .route("/api/security/users/me", get(me))
//!         .merge(management_router(MANAGEMENT_PATH))
//!         .with_state(AppState { credentials })
//! }
//!
//! async fn serve(app: Router) -> std::io::Result<()> {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use axum::{body::Body, http::Request};
//! # use http_body_util::BodyExt;
//! # use tower::ServiceExt;
//! // In production the store is `clab-keys-seaorm`'s and the pepper comes from a secret store.
//! let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")?;
//! let keys = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper)?).build()?;
//! let app = app(CredentialRouter::new(keys).with_jwt(SessionJwts));
//! // `serve(app).await?` would listen on 127.0.0.1:3000; this example sends requests
//! // straight to the router instead.
//! # let _ = serve;
//!
//! // With a session, the user creates a key; the token is in this response only.
//! let created = app
//!     .clone()
//!     .oneshot(
//!         Request::post("/api/user/api-keys")
//!             .header("authorization", format!("Bearer {DEMO_JWT}"))
//!             .body(Body::from(r#"{"name": "ci"}"#))?,
//!     )
//!     .await?;
//! assert_eq!(created.status(), 201);
//! assert_eq!(created.headers()["cache-control"], "no-store");
//! let created: Value = serde_json::from_slice(&created.into_body().collect().await?.to_bytes())?;
//! let token = created["token"].as_str().unwrap_or_default();
//!
//! // A script then calls the API with the key instead of a session.
//! let me = app
//!     .oneshot(
//!         Request::get("/api/security/users/me")
//!             .header("authorization", format!("Bearer {token}"))
//!             .body(Body::empty())?,
//!     )
//!     .await?;
//! assert_eq!(me.status(), 200);
//! let me: Value = serde_json::from_slice(&me.into_body().collect().await?.to_bytes())?;
//! assert_eq!(me, json!({ "id": "42", "auth": "api_key" }));
//! # Ok(()) }
//! ```
//!
//! # Keeping tokens out of logs
//!
//! `tower_http::trace::TraceLayer` can record request headers, and `Authorization` carries the
//! JWT or the API key in plain text. Mark it sensitive with
//! `tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer` *before* the request
//! reaches the `TraceLayer`: a sensitive header is logged as `Sensitive`. In a
//! `tower::ServiceBuilder`, layers run top to bottom, so the sensitive-header layer goes first
//! (with `Router::layer` called twice, the *last* call runs first):
//!
//! The span should also record the path, not the whole URI: a careless client may send a token
//! in the query string (`?access_token=…`, which is refused, but still arrives), and
//! `DefaultMakeSpan` records the URI with its query.
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, header::AUTHORIZATION}, routing::get};
//! use tower::ServiceBuilder;
//! use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
//! use tower_http::trace::TraceLayer;
//!
//! /// Method, path (no query string) and headers; `Authorization` shows as `Sensitive`.
//! fn span(request: &Request<Body>) -> tracing::Span {
//!     tracing::info_span!(
//!         "request",
//!         method = %request.method(),
//!         path = %request.uri().path(),
//!         headers = ?request.headers(),
//!     )
//! }
//!
//! let app: Router = Router::new().route("/", get(|| async { "ok" })).layer(
//!     ServiceBuilder::new()
//!         // First: from here on, `Authorization` is printed as `Sensitive`.
//!         .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
//!         // Then: the trace span may include headers.
//!         .layer(TraceLayer::new_for_http().make_span_with(span)),
//! );
//! ```
//!
//! Core never logs a token, a secret or a digest: it logs key ids and outcomes.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod management;
mod middleware;
mod rejection;
mod reply;

pub use extract::{CurrentUser, InteractiveUser, MaybeUser, RequireScope};
pub use management::management_router;
pub use middleware::{authenticate, require_interactive, require_scope};
pub use rejection::AuthRejection;
pub use reply::Reply;
