//! `clab-keys`, the operator CLI of clab-keys: lists, revokes, checks and prunes user API keys
//! in the `clab_api_keys` table of a SQLite, PostgreSQL or MySQL/MariaDB database, counts the
//! hash versions still in use and runs the migrations. See `docs/cli.md` for every command,
//! its `--json` fields and the exit codes.
//!
//! Secrets never come from the command line (they would land in shell history and in `ps`):
//! the database URL and the pepper come from the environment, a token to check from standard
//! input.

mod cli;
mod commands;
mod config;
mod db;
mod duration;
mod error;
mod feed;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::Cli;
use crate::error::CliError;

fn main() -> ExitCode {
    // Usage errors exit with status 2, `--help` and `--version` with 0 (clap's own codes).
    let cli = Cli::parse();
    init_tracing();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return report(
                &CliError::Internal(format!("could not start the async runtime: {e}")),
                json,
            );
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => report(&e, json),
    }
}

/// Prints `error` on stderr (one JSON object with `--json`) and returns its exit status.
fn report(error: &CliError, json: bool) -> ExitCode {
    if json {
        eprintln!(
            "{}",
            serde_json::json!({ "error": error.kind(), "message": error.to_string() })
        );
    } else {
        eprintln!("clab-keys: error: {error}");
    }
    ExitCode::from(error.code())
}

/// Logs (the audit events of revocations, store and feed errors) go to stderr only when
/// `RUST_LOG` asks for them, so that the output stays what the documentation shows.
fn init_tracing() {
    let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG") else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
