//! One module per command; [`run`] dispatches. Every command connects to `DATABASE_URL` and
//! works through the library's `KeyService` over the app's `SeaOrmStore`, so it applies the
//! same rules (and writes the same audit events) as the apps.

mod check;
mod list;
mod migrate;
mod peppers;
mod prune;
mod revoke;

use std::sync::Arc;

use clab_keys::{InvalidationFeed, KeyHasher, KeyService, KeyStore, UserId};

use crate::cli::{Cli, Command};
use crate::error::{CliError, Outcome};

/// Runs the command line's command.
pub async fn run(cli: Cli) -> Result<Outcome, CliError> {
    let json = cli.json;
    match cli.command {
        Command::List { user } => list::run(&user_id(&user)?, json).await,
        Command::Revoke { key_id, reason } => revoke::one(&key_id, reason.into(), json).await,
        Command::RevokeUser {
            user_id: user,
            reason,
        } => revoke::all(&user_id(&user)?, reason.into(), json).await,
        Command::Check => check::run(json).await,
        Command::Prune { older_than } => prune::run(older_than, json).await,
        Command::Peppers => peppers::run(json).await,
        Command::Migrate { status } => migrate::run(status, json).await,
    }
}

/// A user id from the command line.
fn user_id(text: &str) -> Result<UserId, CliError> {
    UserId::new(text).map_err(|_| {
        CliError::Usage("a user id must be 1-255 bytes without control characters".to_owned())
    })
}

/// A key service over `store`, without a cache (the CLI verifies fresh from the database), and
/// announcing on `feed` when given.
fn service(
    store: impl KeyStore,
    hasher: KeyHasher,
    feed: Option<Arc<dyn InvalidationFeed>>,
) -> Result<KeyService, CliError> {
    let mut builder = KeyService::builder(store, hasher);
    if let Some(feed) = feed {
        builder = builder.invalidation_feed(feed);
    }
    builder
        .build()
        .map_err(|e| CliError::Internal(format!("building the key service failed: {e}")))
}
