//! The axum example app of clab-keys: JWT sessions and long-lived user API keys
//! (`clab_user_…`) side by side.
//!
//! Everything that is not routing lives in [`clab_keys_example_common`] (configuration,
//! database, login, JWTs, pages) and in the library ([`clab_keys::axum`]: the `CurrentUser`
//! extractor and the management router). This crate wires them into an axum [`Router`]:
//!
//! | route | handled by |
//! |---|---|
//! | `POST /api/auth/login` | [`AppState::login_response`] |
//! | `GET /api/security/users/me` (JWT or API key) | [`CurrentUser`] + [`AppState::me`] |
//! | `/api/user/api-keys` (create, list, revoke) | [`management_router`] |
//! | `GET /api/echo` (optional JWT or API key; no database work) | [`echo_response`] |
//! | `GET /healthz` | [`AppState::healthz`] |
//! | `GET /openapi.json` (the whole API, OpenAPI 3.1) | [`openapi_response`] |
//! | `GET /`, `/settings/api-keys`, `/developers`, `/skill.md`, `/assets/…` | [`static_response`] |
//!
//! [`run`] serves it until Ctrl-C or SIGTERM, then waits for pending `last_used_at` writes.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRef, State};
use axum::http::header::{AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};
use axum::http::{HeaderMap, Request, Uri};
use axum::routing::{get, post};
use clab_keys::axum::{CurrentUser, MaybeUser, Reply, management_router};
use clab_keys::{CredentialRouter, KeyFormats, MANAGEMENT_PATH};
use clab_keys_example_common::{
    ASSETS, AppState, Config, OPENAPI_PATH, RunError, echo_response, not_found_response,
    openapi_response, request_log, shutdown_signal, static_response,
};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Where the app listens when `ADDR` is unset.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// The name the app prints and logs under.
pub const APP_NAME: &str = "axum-app";

/// The router's state: the shared [`AppState`], in a local type so that it can provide the
/// [`CredentialRouter`] the clab-keys extractors and router ask for through [`FromRef`] —
/// exactly what an application with its own state type does.
#[derive(Debug, Clone)]
pub struct WebState(pub AppState);

impl FromRef<WebState> for CredentialRouter {
    fn from_ref(state: &WebState) -> Self {
        state.0.router().clone()
    }
}

/// The whole app: the routes of the table above, request logging that never shows a token,
/// and a JSON `404` for everything else. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()`, as [`serve`] does: the login counts
/// failures per client address.
pub fn app(state: AppState) -> Router {
    let formats = state.keys().formats().clone();
    let mut router = Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/security/users/me", get(me))
        .route("/api/echo", get(echo))
        .route("/healthz", get(healthz))
        .route(OPENAPI_PATH, get(openapi))
        .merge(management_router::<WebState>(MANAGEMENT_PATH));
    for asset in &ASSETS {
        router = router.route(asset.path, get(page));
    }
    router
        .fallback(not_found)
        .with_state(WebState(state))
        .layer(
            ServiceBuilder::new()
                // First, so that nothing after it can print the JWT or API key in
                // `Authorization`: a sensitive header's `Debug` is `Sensitive`. The request log
                // itself shows only allow-listed header values (`request_log`).
                .layer(SetSensitiveRequestHeadersLayer::new([
                    AUTHORIZATION,
                    PROXY_AUTHORIZATION,
                    COOKIE,
                ]))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(move |request: &Request<Body>| {
                            request_span(request, &formats)
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                ),
        )
}

/// The span of one request: method and path (never the query string, which a careless client
/// might put a token in), a path segment that holds a token shown as `[REDACTED]`
/// ([`request_log::RedactedPath`]; the span is printed at `info` with each response). At
/// `debug` level the request is also logged with its headers as [`request_log::log_request`]
/// allows: values of an allow-list, names only for the rest.
fn request_span(request: &Request<Body>, formats: &KeyFormats) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request_log::RedactedPath::new(request.uri().path(), formats),
    );
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()));
    span.in_scope(|| {
        request_log::log_request(
            request.method().as_str(),
            request.uri().path(),
            headers,
            formats,
        );
    });
    span
}

async fn login(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.as_bytes());
    let client = state.0.login_client(peer.ip(), forwarded);
    Reply(state.0.login_response(client, &body).await)
}

async fn me(State(state): State<WebState>, CurrentUser(principal): CurrentUser) -> Reply {
    Reply(state.0.me(&principal).await)
}

async fn echo(MaybeUser(user): MaybeUser) -> Reply {
    Reply(echo_response(user.as_ref()))
}

async fn healthz(State(state): State<WebState>) -> Reply {
    Reply(state.0.healthz().await)
}

async fn openapi() -> Reply {
    Reply(openapi_response())
}

async fn page(uri: Uri) -> Reply {
    Reply(static_response(uri.path()).unwrap_or_else(not_found_response))
}

async fn not_found() -> Reply {
    Reply(not_found_response())
}

/// Starts the app as configured: sets up the database, binds `ADDR`, prints the address (the
/// real one, when `ADDR` asks for port 0), and serves until Ctrl-C or SIGTERM.
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
    let local = listener.local_addr().map_err(RunError::Serve)?;
    clab_keys_example_common::print_listening(APP_NAME, local);
    serve(listener, state, shutdown_signal()).await
}

/// Serves the app on `listener` until `shutdown` completes, lets requests in flight finish,
/// then waits for the key service's pending background writes (`last_used_at`) so that none is
/// lost.
///
/// # Errors
///
/// Returns [`RunError::Serve`] when the server fails.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    state.shutdown().await;
    tracing::info!("stopped; pending writes flushed");
    result.map_err(RunError::Serve)
}
