//! Tower adapter of clab-keys: long-lived user API keys (`clab_user_…`) accepted wherever the
//! app's JWT sessions are, on any server built on `tower` and `http` (hyper, tonic, axum).
//! Applications normally use it through the facade crate, `clab-keys` with the `tower`
//! feature, as `clab_keys::tower`.
//!
//! | item | what it does |
//! |---|---|
//! | [`AuthLayer`] | a [`tower_layer::Layer`] holding a core [`CredentialRouter`](clab_keys_core::CredentialRouter): required credential ([`AuthLayer::new`]), optional ([`AuthLayer::optional`]), session only ([`AuthLayer::require_interactive`]) or a scope ([`AuthLayer::require_scope`]) |
//! | [`Authenticate`] | the service it makes: puts the verified [`Principal`](clab_keys_core::Principal) into the request extensions, or answers the refusal |
//! | [`AuthBody`] | the response body: the inner service's, or core's answer |
//! | [`ResponseFuture`] | the future of [`Authenticate`] |
//!
//! Every decision (header parsing, API key or JWT, status codes, `WWW-Authenticate`
//! challenges, JSON bodies, and for gRPC requests the `grpc-status` and `grpc-message`) is
//! made by [`clab_keys_core`]; this crate only reads the request's headers and writes core's
//! answer. An HTTP request is refused exactly as the axum and actix-web adapters refuse it; a
//! gRPC request (`content-type: application/grpc…`) gets a gRPC status instead: `16`
//! UNAUTHENTICATED, `7` PERMISSION_DENIED or `14` UNAVAILABLE, with the HTTP table's reason
//! code (`unauthorized`, `invalid_token`, `insufficient_scope`…) as `grpc-message`.
//!
//! With tonic, add the layer to the server (`Server::builder().layer(AuthLayer::new(router))`)
//! and read the caller in a handler with `request.extensions().get::<Principal>()`; the
//! example app `examples/grpc-app` of the repository does exactly that, and checks a scope
//! per call with core's [`Principal::require_scope`](clab_keys_core::Principal::require_scope).
//!
//! # Example
//!
//! A hyper-style service behind the layer, called once with a key and once without:
//!
//! ```
//! # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_tower as tower; }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bytes::Bytes;
//! use clab_keys::tower::AuthLayer;
//! use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, NewKey, Pepper, Principal, UserId};
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")?;
//! let keys = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper)?).build()?;
//! let created = keys.create(&UserId::from(7_i64), NewKey::new("ci")).await?;
//! let service = ServiceBuilder::new()
//!     .layer(AuthLayer::new(CredentialRouter::new(keys)))
//!     .service_fn(|request: Request<Full<Bytes>>| async move {
//!         let kind = request.extensions().get::<Principal>().map(|p| p.kind().as_str());
//!         let body = Full::new(Bytes::from(kind.unwrap_or_default()));
//!         Ok::<_, std::convert::Infallible>(Response::new(body))
//!     });
//!
//! let with_key = Request::post("/v1/Whoami")
//!     .header("authorization", format!("Bearer {}", created.token.expose_secret()))
//!     .body(Full::default())?;
//! assert_eq!(service.clone().oneshot(with_key).await?.status(), 200);
//!
//! // A gRPC call without a credential: HTTP 200 carrying gRPC status 16.
//! let grpc = Request::post("/v1/Whoami")
//!     .header("content-type", "application/grpc")
//!     .body(Full::default())?;
//! let refused = service.oneshot(grpc).await?;
//! assert_eq!(refused.status(), 200);
//! assert_eq!(refused.headers()["grpc-status"], "16");
//! assert_eq!(refused.headers()["grpc-message"], "unauthorized");
//! # Ok(()) }
//! ```
//!
//! # Keeping tokens out of logs
//!
//! `authorization` carries the JWT or the API key in plain text, in HTTP headers and gRPC
//! metadata alike. Mark it sensitive (`tower_http::sensitive_headers`) before any layer that
//! logs headers. Core never logs a token, a secret or a digest.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod layer;

pub use body::AuthBody;
pub use layer::{AuthLayer, Authenticate, ResponseFuture};
