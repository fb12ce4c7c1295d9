//! The actix-web example app of clab-keys: JWT sessions and long-lived user API keys
//! (`clab_user_…`) side by side.
//!
//! Everything that is not routing lives in [`clab_keys_example_common`] (configuration,
//! database, login, JWTs, pages) and in the library ([`clab_keys::actix_web`]: the `CurrentUser`
//! extractor and the management scope). This crate wires them into an actix-web app:
//!
//! | route | handled by |
//! |---|---|
//! | `POST /api/auth/login` | [`AppState::login_response`] |
//! | `GET /api/security/users/me` (JWT or API key) | [`CurrentUser`] + [`AppState::me`] |
//! | `/api/user/api-keys` (create, list, revoke) | [`management_scope`] |
//! | `GET /api/echo` (optional JWT or API key; no database work) | [`echo_response`] |
//! | `GET /healthz` | [`AppState::healthz`] |
//! | `GET /openapi.json` (the whole API, OpenAPI 3.1) | [`openapi_response`] |
//! | `GET /`, `/settings/api-keys`, `/developers`, `/skill.md`, `/assets/…` | [`static_response`] |
//!
//! [`run`] serves it until Ctrl-C or SIGTERM (both graceful), waiting for pending
//! `last_used_at` writes before the workers stop.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Logger, Next, from_fn};
use actix_web::{App, HttpRequest, HttpServer, web};
use clab_keys::actix_web::{CurrentUser, MaybeUser, Reply, management_scope};
use clab_keys::{KeyFormats, MANAGEMENT_PATH};
use clab_keys_example_common::{
    ASSETS, AppState, Config, OPENAPI_PATH, RunError, echo_response, not_found_response,
    openapi_response, request_log, shutdown_signal, static_response,
};

/// Where the app listens when `ADDR` is unset.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3001";

/// The name the app prints and logs under.
pub const APP_NAME: &str = "actix-app";

/// The request log line: method and path (never the query string, which a careless client
/// might put a token in), status, response size and time. The path is
/// [`request_log::RedactedPath`]'s (`%{path}xi`, see [`logger`]), not actix-web's `%U`, so a
/// token pasted into the path (`DELETE /api/user/api-keys/clab_user_…`) shows as
/// `[REDACTED]`. It must never contain `%U`, `%r` or `%{Authorization}i`.
pub const LOG_FORMAT: &str = r#""%{method}xi %{path}xi" %s %b %Dms"#;

/// How long a graceful shutdown waits for requests in flight before dropping them.
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// How long the app waits for pending `last_used_at` writes while stopping.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long it waits, after the workers stopped, for writes that requests started meanwhile.
const FINAL_FLUSH_TIMEOUT: Duration = Duration::from_secs(3);

/// The request logger, with [`LOG_FORMAT`]; `formats` are the key formats the app accepts
/// (`KeyService::formats`), which [`request_log::RedactedPath`] redacts along with any
/// `clab_…` key and JWT.
pub fn logger(formats: KeyFormats) -> Logger {
    Logger::new(LOG_FORMAT)
        .custom_request_replace("method", |req| req.method().as_str().to_owned())
        .custom_request_replace("path", move |req| {
            request_log::RedactedPath::new(req.path(), &formats).to_string()
        })
}

/// Registers the routes of the table above and a JSON `404` for everything else. `state` goes
/// into the app data twice: as `web::Data<AppState>` for the example's own handlers and as
/// `web::Data<CredentialRouter>`, which the clab-keys extractors and scope read.
pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    cfg.app_data(web::Data::new(state.clone()))
        .app_data(web::Data::new(state.router().clone()))
        // Resources rather than `cfg.route`: a known path with another method then gets
        // `405` (with `Allow`), as in axum, instead of falling through to the `404`.
        .service(web::resource("/api/auth/login").route(web::post().to(login)))
        .service(web::resource("/api/security/users/me").route(web::get().to(me)))
        .service(web::resource("/api/echo").route(web::get().to(echo)))
        .service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource(OPENAPI_PATH).route(web::get().to(openapi)))
        .service(management_scope(MANAGEMENT_PATH));
    for asset in &ASSETS {
        cfg.service(web::resource(asset.path).route(web::get().to(page)));
    }
    cfg.default_service(web::to(not_found));
}

/// Logs each request at `debug` level with its headers as [`request_log::log_request`] allows
/// (values of an allow-list, names only for the rest); the same lines as axum-app's.
///
/// # Errors
///
/// Passes on the error of the rest of the app, unchanged.
pub async fn log_request_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        let headers = req
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        request_log::log_request(
            req.method().as_str(),
            req.path(),
            headers,
            state.keys().formats(),
        );
    }
    next.call(req).await
}

async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> Reply {
    // Without a peer address (a test request), the loopback address stands in.
    let peer = req
        .peer_addr()
        .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |a| a.ip());
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .map(|v| v.as_bytes());
    let client = state.login_client(peer, forwarded);
    Reply(state.login_response(client, &body).await)
}

async fn me(state: web::Data<AppState>, CurrentUser(principal): CurrentUser) -> Reply {
    Reply(state.me(&principal).await)
}

async fn echo(MaybeUser(principal): MaybeUser) -> Reply {
    Reply(echo_response(principal.as_ref()))
}

async fn healthz(state: web::Data<AppState>) -> Reply {
    Reply(state.healthz().await)
}

async fn openapi() -> Reply {
    Reply(openapi_response())
}

async fn page(req: HttpRequest) -> Reply {
    Reply(static_response(req.path()).unwrap_or_else(not_found_response))
}

async fn not_found() -> Reply {
    Reply(not_found_response())
}

/// Starts the app as configured: sets up the database, binds `ADDR`, prints the address (the
/// real one, when `ADDR` asks for port 0), and serves until Ctrl-C or SIGTERM. Must run inside
/// an actix system (`actix_web::rt::System::new().block_on(run(config))`).
///
/// # Errors
///
/// Returns a [`RunError`] when start-up fails or the server stops with an error.
pub async fn run(config: Config) -> Result<(), RunError> {
    let addr = config.addr();
    let state = AppState::from_config(config).await?;
    let app_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(log_request_headers))
            .wrap(logger(app_state.keys().formats().clone()))
            .configure(|cfg| configure(cfg, &app_state))
    })
    // Signals are handled below: actix-web's own handling stops at once on Ctrl-C (SIGINT),
    // and flushes nothing.
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .bind(addr)
    .map_err(|source| RunError::Bind { addr, source })?;
    for local in server.addrs() {
        clab_keys_example_common::print_listening(APP_NAME, local);
    }
    let server = server.run();
    let handle = server.handle();
    let flusher = state.clone();
    actix_web::rt::spawn(async move {
        shutdown_signal().await;
        handle.pause().await;
        // The key service writes `last_used_at` on tasks spawned on the worker threads'
        // runtimes, which end with the workers (taking unfinished tasks with them). So flush
        // while the workers still run, then stop them gracefully.
        flush(&flusher, FLUSH_TIMEOUT).await;
        handle.stop(true).await;
    });
    let result = server.await;
    // Writes started by the requests that finished during the graceful stop.
    flush(&state, FINAL_FLUSH_TIMEOUT).await;
    tracing::info!("stopped");
    result.map_err(RunError::Serve)
}

/// Waits for the key service's pending background writes, at most `limit`: a task dropped
/// with its worker is never counted as finished, and shutdown must end regardless.
async fn flush(state: &AppState, limit: Duration) {
    match tokio::time::timeout(limit, state.shutdown()).await {
        Ok(()) => tracing::info!("pending last_used_at writes flushed"),
        Err(_) => tracing::warn!("gave up waiting for pending last_used_at writes"),
    }
}
