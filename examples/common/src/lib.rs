//! What the two clab-keys example apps (`axum-app` and `actix-app`) share, so that each app is
//! only routing glue:
//!
//! - [`Config`]: `ADDR`, `DATABASE_URL`, `JWT_SECRET`, `CLAB_KEYS_PEPPER`,
//!   `CLAB_KEYS_CACHE_TTL_SECS`, `CLAB_KEYS_INVALIDATION_FEED`, `CLAB_KEYS_REDIS_URL` and
//!   `SEED_DEMO_USERS` from the environment, with development values (announced once on
//!   stderr, never printed) when secrets are unset;
//! - the invalidation feed ([`feed`]): the verification cache is on, and revocations reach
//!   every instance sharing the database through PostgreSQL `LISTEN/NOTIFY`, the change-log
//!   poll (MySQL/MariaDB, SQLite) or Redis;
//! - the database ([`db`]): SeaORM connection, the app's own [`Migrator`] (a `users` table plus
//!   the clab-keys migration, embedded), the two demo users seeded idempotently into the
//!   default SQLite file (or any database with `SEED_DEMO_USERS=1`);
//! - [`JwtAuth`]: 60-minute HS256 session tokens with `jsonwebtoken`, and the
//!   [`clab_keys::JwtVerifier`] the credential router uses;
//! - [`AppState`]: the key service over the SeaORM store, the credential router, and the
//!   example-only handlers (`POST /api/auth/login`, `GET /api/security/users/me`,
//!   `GET /healthz`) as framework-neutral [`ApiResponse`]s;
//! - the static pages ([`pages`]): `/settings/api-keys`, `/developers`, `/skill.md`;
//! - [`openapi`]: `GET /openapi.json`, the whole API as an OpenAPI 3.1 document.
//!
//! An app's `main`, in outline:
//!
//! ```no_run
//! # async fn run() {
//! use clab_keys_example_common::{AppState, Config};
//! clab_keys_example_common::init_tracing();
//! let config = Config::from_env_or_exit("127.0.0.1:3000");
//! let addr = config.addr();
//! let state = match AppState::from_config(config).await {
//!     Ok(state) => state,
//!     Err(e) => clab_keys_example_common::exit_with_error("start-up failed", &e, 1),
//! };
//! // Route the management endpoints with the adapter over `state.router().clone()`,
//! // `POST /api/auth/login` to `state.login_response(body)`, `GET /api/security/users/me` to
//! // `state.me(&principal)`, `GET /healthz` to `state.healthz()`, `GET /openapi.json` to
//! // `openapi_response()`, and every path of `pages::ASSETS` to `pages::static_response(path)`.
//! // Bind, then:
//! clab_keys_example_common::print_listening("axum-app", addr);
//! # }
//! ```

pub mod config;
pub mod db;
pub mod feed;
pub mod jwt;
pub mod key_policy;
pub mod login;
pub mod login_limits;
pub mod openapi;
pub mod pages;
pub mod password;
pub mod request_log;
mod run;
mod state;

use std::net::SocketAddr;

pub use clab_keys::ApiResponse;
pub use config::{Config, ConfigError, JwtSecret};
pub use db::{DEMO_USERS, DatabaseError, Migrator};
pub use jwt::{JWT_AUDIENCE, JWT_ISSUER, JWT_TTL_SECS, JwtAuth, JwtIssueError};
pub use login::{LoginError, LoginResponse};
pub use openapi::{OPENAPI_PATH, openapi_response};
pub use pages::{
    ASSETS, DEVELOPERS_HTML, SETTINGS_HTML, SKILL_MD, StaticAsset, static_page, static_response,
};
pub use run::{RunError, not_found_response, shutdown_signal};
pub use state::{AppState, AppStateBuilder, PEPPER_VERSION, REALM, SetupError};

/// `GET /api/echo`: who the caller is, if anyone, without touching the database. The credential
/// is optional (none → `{"user_id": null, "auth": null}`), but a presented bad one is refused
/// by the extractor. The load benchmark (`bench/load.sh`) measures authentication on it.
pub fn echo_response(principal: Option<&clab_keys::Principal>) -> ApiResponse {
    ApiResponse::json(
        200,
        &serde_json::json!({
            "user_id": principal.map(|p| p.user_id().as_str()),
            "auth": principal.map(|p| p.kind().as_str()),
        }),
    )
}

/// Installs a `tracing` subscriber that writes to stderr, filtered by `RUST_LOG` (default:
/// `info`, with SQL driver chatter at `warn`). Does nothing if one is already installed.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    // An error only means a subscriber is already installed (tests, or the app's own).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Prints where the app listens, and its main pages, on stdout. Never prints a secret.
pub fn print_listening(app: &str, addr: SocketAddr) {
    let base = format!("http://{addr}");
    println!("{app} listening on {base}");
    println!("  settings (create API keys): {base}/settings/api-keys");
    println!("  developer docs:             {base}/developers");
    println!("  guidance for AI agents:     {base}/skill.md");
    println!(
        "  demo users: {} / {}, {} / {}",
        DEMO_USERS[0].0, DEMO_USERS[0].1, DEMO_USERS[1].0, DEMO_USERS[1].1
    );
}

/// Prints `context: error: cause: cause…` on stderr and exits the process with `code`.
/// Error messages of this crate never contain secrets or the database URL.
pub fn exit_with_error(context: &str, error: &dyn std::error::Error, code: i32) -> ! {
    let mut message = format!("{context}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    eprintln!("error: {message}");
    std::process::exit(code)
}
