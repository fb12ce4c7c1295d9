//! The gRPC example app of clab-keys: a tonic server whose calls accept a JWT session or a
//! long-lived user API key (`clab_user_…`) in the `authorization` metadata, through the tower
//! layer [`clab_keys::tower::AuthLayer`].
//!
//! Everything that is not gRPC lives in [`clab_keys_example_common`], shared with the axum and
//! actix-web apps: configuration (`ADDR`, `DATABASE_URL`, `JWT_SECRET`, `CLAB_KEYS_PEPPER`…),
//! the database, the JWT verifier and the credential router. Run with the same
//! `DATABASE_URL`, `JWT_SECRET` and `CLAB_KEYS_PEPPER` as `axum-app`, and the keys and sessions
//! made there work here.
//!
//! | call (`clabkeys.example.v1.Identity`) | needs | answers |
//! |---|---|---|
//! | `Whoami` | a JWT session or an API key | `user_id`, `auth` (`jwt` or `api_key`) |
//! | `ListProjects` | a credential that may use `projects:read` | a fixed list of project names |
//!
//! Refusals are gRPC statuses decided by core ([`clab_keys::Rejection::grpc_status`]), with
//! the HTTP table's reason code as the message: `UNAUTHENTICATED` (`unauthorized`,
//! `invalid_request`, `invalid_token`), `PERMISSION_DENIED` (`insufficient_scope`),
//! `UNAVAILABLE` (`temporarily_unavailable`). The layer answers the first kind before the
//! service runs; the scope is checked per call in [`IdentityService::list_projects`].

use std::future::Future;
use std::net::SocketAddr;

use clab_keys::tower::AuthLayer;
use clab_keys::{CredentialRouter, Principal, Realm, Rejection};
use clab_keys_example_common::{AppState, Config, RunError, shutdown_signal};
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Code, Request, Response, Status};

use proto::identity_server::{Identity, IdentityServer};
use proto::{ListProjectsReply, ListProjectsRequest, WhoamiReply, WhoamiRequest};

/// The messages, server and client generated from `proto/identity.proto` (package
/// `clabkeys.example.v1`) by `build.rs`.
#[allow(missing_docs, clippy::all, clippy::pedantic, clippy::unwrap_used)]
pub mod proto {
    tonic::include_proto!("clabkeys.example.v1");
}

/// Where the app listens when `ADDR` is unset.
pub const DEFAULT_ADDR: &str = "127.0.0.1:50051";

/// The name the app prints and logs under.
pub const APP_NAME: &str = "grpc-app";

/// The scope `ListProjects` requires.
pub const PROJECTS_READ: &str = "projects:read";

/// The projects `ListProjects` returns: a fixed list, the example has no project data.
pub const DEMO_PROJECTS: [&str; 2] = ["apollo", "gemini"];

/// The `Identity` service. The [`AuthLayer`] in front of it has authenticated every call
/// that reaches it; the handlers read the caller from the request extensions.
#[derive(Debug, Clone)]
pub struct IdentityService {
    realm: Realm,
}

impl IdentityService {
    /// The service, refusing in `realm` (the credential router's).
    pub fn new(realm: Realm) -> Self {
        Self { realm }
    }
}

/// The caller the layer verified. Without one, the layer is missing in front of the service:
/// the call is refused (fail closed) rather than served anonymously.
fn caller<T>(request: &Request<T>) -> Result<&Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .ok_or_else(|| Status::internal("authentication is not configured"))
}

/// Core's refusal as a gRPC status: core's code, and the HTTP table's reason code as the
/// message, exactly as the layer answers its own refusals.
pub fn status(rejection: &Rejection) -> Status {
    Status::new(
        Code::from_i32(i32::from(rejection.grpc_status())),
        rejection.error_code(),
    )
}

#[tonic::async_trait]
impl Identity for IdentityService {
    async fn whoami(
        &self,
        request: Request<WhoamiRequest>,
    ) -> Result<Response<WhoamiReply>, Status> {
        let principal = caller(&request)?;
        Ok(Response::new(WhoamiReply {
            user_id: principal.user_id().to_string(),
            auth: principal.kind().as_str().to_owned(),
        }))
    }

    async fn list_projects(
        &self,
        request: Request<ListProjectsRequest>,
    ) -> Result<Response<ListProjectsReply>, Status> {
        caller(&request)?
            .require_scope(PROJECTS_READ, &self.realm)
            .map_err(|rejection| status(&rejection))?;
        Ok(Response::new(ListProjectsReply {
            projects: DEMO_PROJECTS.iter().map(|&p| p.to_owned()).collect(),
        }))
    }
}

/// Starts the app as configured: sets up the database, binds `ADDR`, prints the address, and
/// serves until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// Returns a [`RunError`] when start-up fails or the server stops with an error.
pub async fn run(config: Config) -> Result<(), RunError> {
    let addr = config.addr();
    let state = AppState::from_config(config).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| RunError::Bind { addr, source })?;
    let local: SocketAddr = listener.local_addr().map_err(RunError::Serve)?;
    println!("{APP_NAME} listening on {local} (gRPC, plain HTTP/2)");
    println!(
        "  service clabkeys.example.v1.Identity: Whoami, ListProjects (scope {PROJECTS_READ})"
    );
    serve(listener, state, shutdown_signal()).await
}

/// Serves the `Identity` service behind the [`AuthLayer`] on `listener` until `shutdown`
/// completes, lets calls in flight finish, then waits for the key service's pending
/// background writes (`last_used_at`).
///
/// # Errors
///
/// Returns [`RunError::Serve`] when the server fails.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let result = serve_with(listener, state.router().clone(), shutdown).await;
    state.shutdown().await;
    tracing::info!("stopped; pending writes flushed");
    result.map_err(|e| RunError::Serve(std::io::Error::other(e)))
}

/// The server itself, over any credential router: `Identity` behind
/// [`AuthLayer::new`]`(router)`, on `listener`, until `shutdown` completes. [`serve`] uses it
/// with the app's router; the tests also run it over the HTTP conformance table's router.
///
/// # Errors
///
/// Returns tonic's error when the server fails.
pub async fn serve_with(
    listener: TcpListener,
    router: CredentialRouter,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let realm = router.realm().clone();
    Server::builder()
        .layer(AuthLayer::new(router))
        .add_service(IdentityServer::new(IdentityService::new(realm)))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
}
