//! actix-web 4 adapter of clab-keys: long-lived user API keys (`clab_user_…`) accepted wherever
//! the app's JWT sessions are. Applications normally use it through the facade crate,
//! `clab-keys` with the `actix-web` feature, as `clab_keys::actix_web`.
//!
//! Every decision (header parsing, API key or JWT, status codes, `WWW-Authenticate`
//! challenges, JSON bodies, the management endpoints and their 404/405 edges) is made by
//! [`clab_keys_core`]; this crate only translates between actix-web and core, so it answers
//! exactly like the axum adapter, which offers the same items under the same names. It reads
//! every `Authorization` line as raw bytes (not `actix-web-httpauth`, whose parser reads only
//! the first line and matches `Bearer` case-sensitively).
//!
//! | item | what it gives a handler | refuses with |
//! |---|---|---|
//! | [`CurrentUser`] | the caller, by JWT session or API key | 401, 400, 503 |
//! | [`InteractiveUser`] | the caller, by JWT session only | as above, and 403 for API keys |
//! | [`MaybeUser`] | `Some(caller)`, or `None` when no credential was sent | a presented but bad credential |
//! | [`RequireScope<S>`] (with core's [`ScopeName`](clab_keys_core::ScopeName)) | the caller, whose credential may use scope `S::NAME` | as [`CurrentUser`], and 403 `insufficient_scope` |
//! | [`authenticate`], [`require_interactive`], [`require_scope::<S>`](require_scope) | middleware for [`from_fn`](actix_web::middleware::from_fn); handlers read the caller with the extractors | as the extractors |
//! | [`management_scope(path)`](management_scope) | `POST`/`GET {path}`, `DELETE {path}/{id}`, to [`service`](actix_web::App::service) | core's answers |
//! | [`AuthRejection`] | the refusal every extractor and middleware answers with, a [`ResponseError`](actix_web::ResponseError) (extractors return it as an `actix_web::Error`, so that a missing `web::Data<CredentialRouter>` can answer 500) | |
//! | [`Reply`] | core's [`ApiResponse`](clab_keys_core::ApiResponse) as [`Responder`](actix_web::Responder) | |
//!
//! The configuration is a [`CredentialRouter`](clab_keys_core::CredentialRouter), registered
//! as `web::Data<CredentialRouter>` in the app data; without it every authenticated route
//! answers `500 internal_error` (a deployment error fails closed). A request is authenticated
//! once: the extractors and middleware share the outcome in the request extensions, under a
//! type private to this crate (a `Principal` that other middleware inserts there is ignored).
//!
//! # Example
//!
//! ```no_run
//! # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
//! use actix_web::{App, HttpResponse, HttpServer, middleware::from_fn, web};
//! use clab_keys::actix_web::{
//!     CurrentUser, InteractiveUser, MaybeUser, RequireScope, authenticate,
//!     management_scope,
//! };
//! use clab_keys::{
//!     CredentialRouter, JwtError, JwtIdentity, JwtVerifier, KeyHasher, KeyService,
//!     MANAGEMENT_PATH, MemoryStore, Pepper, ScopeName, UserId,
//! };
//!
//! /// The app's session verifier. A real one checks the signature, `exp` and `aud` with a JWT
//! /// library (the example apps use `jsonwebtoken`); this one knows a single demo token.
//! #[derive(Debug)]
//! struct Sessions;
//!
//! #[async_trait::async_trait]
//! impl JwtVerifier for Sessions {
//!     async fn verify(&self, token: &str) -> Result<JwtIdentity, JwtError> {
//!         match token {
//!             "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.ZGVtby1zaWduYXR1cmU" => {
//!                 Ok(JwtIdentity::new(UserId::from(42_i64)))
//!             }
//!             _ => Err(JwtError::Invalid),
//!         }
//!     }
//! }
//!
//! /// `GET /api/security/users/me`: a JWT session or an API key.
//! async fn me(user: CurrentUser) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("user {} via {}", user.user_id(), user.kind().as_str()))
//! }
//!
//! /// `POST /api/account/password`: account changes need an interactive session.
//! async fn change_password(user: InteractiveUser) -> HttpResponse {
//!     HttpResponse::NoContent().finish()
//! }
//!
//! /// `GET /api/news`: anonymous callers are welcome, but a bad token is still refused.
//! async fn news(MaybeUser(user): MaybeUser) -> HttpResponse {
//!     HttpResponse::Ok().body(if user.is_some() { "your news" } else { "public news" })
//! }
//!
//! struct ProjectsRead;
//! impl ScopeName for ProjectsRead {
//!     const NAME: &'static str = "projects:read";
//! }
//!
//! /// `GET /api/projects`: keys limited to other scopes get 403 `insufficient_scope`.
//! async fn projects(user: RequireScope<ProjectsRead>) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("projects of user {}", user.user_id()))
//! }
//!
//! /// `GET /api/v1/whoami`, behind the middleware (the extractor reuses its outcome).
//! async fn whoami(user: CurrentUser) -> HttpResponse {
//!     HttpResponse::Ok().body(user.user_id().to_string())
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     // Use a `KeyStore` over your database (clab-keys-seaorm) and a pepper from a secret store.
//!     let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")
//!         .map_err(std::io::Error::other)?;
//!     let hasher = KeyHasher::hmac(1, pepper).map_err(std::io::Error::other)?;
//!     let keys = KeyService::builder(MemoryStore::new(), hasher)
//!         .build()
//!         .map_err(std::io::Error::other)?;
//!     let router = web::Data::new(CredentialRouter::new(keys).with_jwt(Sessions));
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(router.clone())
//!             .route("/api/security/users/me", web::get().to(me))
//!             .route("/api/account/password", web::post().to(change_password))
//!             .route("/api/news", web::get().to(news))
//!             .route("/api/projects", web::get().to(projects))
//!             .service(management_scope(MANAGEMENT_PATH))
//!             .service(
//!                 web::scope("/api/v1")
//!                     .wrap(from_fn(authenticate))
//!                     .route("/whoami", web::get().to(whoami)),
//!             )
//!     })
//!     .bind(("127.0.0.1", 3001))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! # Testing an app
//!
//! ```
//! # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
//! use actix_web::{App, http::header, test, web};
//! use clab_keys::actix_web::management_scope;
//! use clab_keys::{
//!     CredentialRouter, KeyHasher, KeyService, MANAGEMENT_PATH, MemoryStore, NewKey, Pepper,
//!     UserId,
//! };
//!
//! # actix_web::rt::System::new().block_on(async {
//! let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).unwrap()).unwrap();
//! let keys = KeyService::builder(MemoryStore::new(), hasher).build().unwrap();
//! let created = keys.create(&UserId::from(7_i64), NewKey::new("ci")).await.unwrap();
//! let app = test::init_service(
//!     App::new()
//!         .app_data(web::Data::new(CredentialRouter::new(keys)))
//!         .service(management_scope(MANAGEMENT_PATH)),
//! )
//! .await;
//!
//! // An API key may list keys…
//! let bearer = format!("Bearer {}", created.token.expose_secret());
//! let list = test::TestRequest::get()
//!     .uri("/api/user/api-keys")
//!     .insert_header((header::AUTHORIZATION, bearer.as_str()))
//!     .to_request();
//! assert_eq!(test::call_service(&app, list).await.status(), 200);
//!
//! // …but not create more (403 `interactive_session_required`),
//! let create = test::TestRequest::post()
//!     .uri("/api/user/api-keys")
//!     .insert_header((header::AUTHORIZATION, bearer.as_str()))
//!     .set_payload(r#"{"name":"minted"}"#)
//!     .to_request();
//! assert_eq!(test::call_service(&app, create).await.status(), 403);
//!
//! // and a request without credentials gets the bare RFC 6750 challenge.
//! let anonymous = test::TestRequest::get().uri("/api/user/api-keys").to_request();
//! let response = test::call_service(&app, anonymous).await;
//! assert_eq!(response.status(), 401);
//! assert_eq!(response.headers().get(header::WWW_AUTHENTICATE).unwrap(), r#"Bearer realm="api""#);
//! # });
//! ```
//!
//! # Graceful shutdown
//!
//! `last_used_at` writes run on spawned tasks, which live on the actix worker that spawned
//! them; actix-web drops each worker's runtime when the server stops, and a write still pending
//! then is lost (never half-done: [`KeyService::flush`](clab_keys_core::KeyService::flush)
//! simply stops waiting for it). To keep them, stop accepting connections first, then call
//! `flush` while the workers still run, then let the server finish:
//!
//! ```no_run
//! # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
//! # async fn run(server: actix_web::dev::Server, keys: clab_keys::KeyService) -> std::io::Result<()> {
//! let handle = server.handle();
//! let running = actix_web::rt::spawn(server);
//! actix_web::rt::signal::ctrl_c().await?; // with `HttpServer::disable_signals()`
//! handle.pause().await; // no new connections
//! keys.flush().await; // pending last_used_at writes
//! handle.stop(true).await; // graceful stop
//! let _ = running.await;
//! # Ok(()) }
//! ```
//!
//! # Keeping tokens out of logs
//!
//! `Authorization` carries the JWT or the API key in plain text. actix-web's
//! [`Logger`](actix_web::middleware::Logger) does not record request headers in its default
//! format; do not add `%{Authorization}i` to a custom one. Its default format does record the
//! whole request line (`%r`), query string included, where a careless client may have put a
//! token (`?access_token=…` is refused, but still arrives): prefer a format with the path only,
//! such as `Logger::new("%{method}xi %U %s %b %Dms")` with
//! `.custom_request_replace("method", |req| req.method().to_string())`. [`AuthRejection`] holds
//! no credential: its `Display` is core's generic message and its `Debug` (which the `Logger`
//! prints for error responses, at `debug` level) names only the kind of refusal. Core never
//! logs a token, a secret or a digest: it logs key ids and outcomes.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod management;
mod middleware;
mod rejection;
mod reply;

pub use extract::{CurrentUser, InteractiveUser, MaybeUser, RequireScope};
pub use management::management_scope;
pub use middleware::{authenticate, require_interactive, require_scope};
pub use rejection::AuthRejection;
pub use reply::Reply;
