//! The environment the CLI reads, under the names the example apps use (contract §7), so that
//! an operator runs it with the app's own environment: `DATABASE_URL`, `CLAB_KEYS_PEPPER`,
//! `CLAB_KEYS_INVALIDATION_FEED` and `CLAB_KEYS_REDIS_URL`.
//!
//! Unlike the apps, the CLI has no defaults for the database or the pepper: an operator
//! command that silently ran on a fresh SQLite file or with a random pepper would answer about
//! the wrong keys. Values are never echoed in messages (a URL may hold a password).

use clab_keys::{KeyHasher, Pepper};
use zeroize::Zeroizing;

use crate::error::CliError;

/// The database kinds the store supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:`
    Sqlite,
    /// `postgres:` or `postgresql:`
    Postgres,
    /// `mysql:` (MariaDB too)
    MySql,
}

impl Backend {
    /// The name used in messages and in `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }

    /// The database kind a URL names, by its scheme.
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            "mysql" => Some(Self::MySql),
            _ => None,
        }
    }
}

/// Reads a variable: `None` when unset; an error when set but empty or not UTF-8 (the apps
/// refuse those too).
pub fn var(name: &'static str) -> Result<Option<Zeroizing<String>>, CliError> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => {
            let value = Zeroizing::new(
                value
                    .into_string()
                    .map_err(|_| CliError::Configuration(format!("{name} is not valid UTF-8")))?,
            );
            if value.trim().is_empty() {
                return Err(CliError::Configuration(format!(
                    "{name} is set but empty; unset it or give it a value"
                )));
            }
            Ok(Some(value))
        }
    }
}

/// `DATABASE_URL` and the database kind it names.
pub fn database_url() -> Result<(Zeroizing<String>, Backend), CliError> {
    let url = var("DATABASE_URL")?.ok_or_else(|| {
        CliError::Configuration(
            "DATABASE_URL is not set; set it to the app's database, such as \
             postgres://user@host/db, mysql://user@host/db or sqlite://path/app.db"
                .to_owned(),
        )
    })?;
    let url = Zeroizing::new(url.trim().to_owned());
    let backend = Backend::of_url(&url).ok_or_else(|| {
        CliError::Configuration(
            "DATABASE_URL must start with sqlite:, postgres:, postgresql: or mysql: (MariaDB \
             uses mysql:)"
                .to_owned(),
        )
    })?;
    Ok((url, backend))
}

/// The configured peppers as a hasher, and the versions it verifies.
#[derive(Debug)]
pub struct Peppers {
    /// The hasher the apps build from the same variables.
    pub hasher: KeyHasher,
    /// The hash versions it verifies, the current one first.
    pub versions: Vec<u16>,
}

/// The pepper version of `CLAB_KEYS_PEPPER`, as the example apps use it.
pub const PEPPER_VERSION: u16 = 1;

/// The peppers the apps use: `CLAB_KEYS_PEPPER` as version 1. (The apps read no previous
/// pepper yet; when they do, it is read here under the same name.)
pub fn peppers(command: &str) -> Result<Peppers, CliError> {
    let encoded = var("CLAB_KEYS_PEPPER")?.ok_or_else(|| {
        CliError::Configuration(format!(
            "CLAB_KEYS_PEPPER is not set; `{command}` needs the pepper the apps use (base64)"
        ))
    })?;
    let pepper = Pepper::from_base64(&encoded).map_err(|_| {
        CliError::Configuration(
            "CLAB_KEYS_PEPPER must be standard base64 of at least 32 bytes".to_owned(),
        )
    })?;
    let hasher = KeyHasher::hmac(PEPPER_VERSION, pepper)
        .map_err(|e| CliError::Configuration(format!("CLAB_KEYS_PEPPER: {e}")))?;
    Ok(Peppers {
        hasher,
        versions: vec![PEPPER_VERSION],
    })
}

/// A hasher for the commands that never hash a token (list, revoke, prune…): the key service
/// requires one, and these commands must not require the pepper. A random pepper, never used.
pub fn unused_hasher() -> Result<KeyHasher, CliError> {
    let (pepper, _encoded) = Pepper::generate()
        .map_err(|e| CliError::Internal(format!("the OS random source failed: {e}")))?;
    KeyHasher::hmac(PEPPER_VERSION, pepper).map_err(|e| CliError::Internal(e.to_string()))
}
