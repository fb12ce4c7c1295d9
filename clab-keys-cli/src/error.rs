//! What can go wrong, and the exit status of each (docs/cli.md, "Exit codes"). Messages name
//! variables and key ids, never a secret: not a token, not a pepper, not a database URL (it
//! may hold a password).

use std::fmt;

use clab_keys::{FeedError, StoreError};

/// The exit status of a command that ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Status 0: done, or a positive answer (`check`: the key is active).
    Ok,
    /// Status 1: a negative answer (`check`: the key is not active; `peppers`: active keys
    /// under a version no configured pepper covers).
    Negative,
}

impl Outcome {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Negative => 1,
        }
    }
}

/// Exit status 2: a usage error found after parsing (clap reports its own with 2 as well).
pub const USAGE: u8 = 2;
/// Exit status 3: the environment is missing something or holds an invalid value.
pub const CONFIGURATION: u8 = 3;
/// Exit status 4: the database could not be reached or a statement failed.
pub const DATABASE: u8 = 4;
/// Exit status 5: no key has the given id.
pub const NOT_FOUND: u8 = 5;
/// Exit status 6: the revocation is stored but could not be announced to running instances.
pub const NOT_ANNOUNCED: u8 = 6;
/// Exit status 70 (`EX_SOFTWARE`): the CLI itself failed.
pub const INTERNAL: u8 = 70;

/// A command failed.
#[derive(Debug)]
pub enum CliError {
    /// A command-line value is invalid (status 2).
    Usage(String),
    /// The environment is incomplete or invalid (status 3).
    Configuration(String),
    /// The database failed (status 4).
    Database(String),
    /// No key has this id (status 5).
    NotFound(String),
    /// Stored, but not announced on the invalidation feed (status 6).
    NotAnnounced(String),
    /// The CLI itself failed (status 70).
    Internal(String),
}

impl CliError {
    /// The process exit status.
    pub fn code(&self) -> u8 {
        match self {
            Self::Usage(_) => USAGE,
            Self::Configuration(_) => CONFIGURATION,
            Self::Database(_) => DATABASE,
            Self::NotFound(_) => NOT_FOUND,
            Self::NotAnnounced(_) => NOT_ANNOUNCED,
            Self::Internal(_) => INTERNAL,
        }
    }

    /// The stable name of the kind of error, the `error` field of the `--json` error object.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Usage(_) => "usage",
            Self::Configuration(_) => "configuration",
            Self::Database(_) => "database",
            Self::NotFound(_) => "not_found",
            Self::NotAnnounced(_) => "not_announced",
            Self::Internal(_) => "internal",
        }
    }

    /// A store error, with what was being done: a failed announcement (the change is stored)
    /// is [`CliError::NotAnnounced`], anything else [`CliError::Database`].
    pub fn store(doing: &str, error: &StoreError, retry: &str) -> Self {
        if caused_by_feed(error) {
            Self::NotAnnounced(format!(
                "{doing}: the change is stored in the database, but announcing it to running \
                 instances failed ({}); {retry}",
                chain(error)
            ))
        } else {
            Self::Database(format!("{doing}: {}", chain(error)))
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m)
            | Self::Configuration(m)
            | Self::Database(m)
            | Self::NotFound(m)
            | Self::NotAnnounced(m)
            | Self::Internal(m) => f.write_str(m),
        }
    }
}

/// An error and its sources, joined by `: ` (the store's own messages are fixed texts; the
/// driver's name the failure, not the URL).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

/// Whether the key service reported a failed announcement: its store error then has the
/// feed's error as its source.
fn caused_by_feed(error: &StoreError) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        if e.is::<FeedError>() {
            return true;
        }
        source = e.source();
    }
    false
}
