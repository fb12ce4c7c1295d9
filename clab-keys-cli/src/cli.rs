//! The command line: commands, flags and their help texts.

use clab_keys::RevocationReason;
use clap::{Parser, Subcommand, ValueEnum};

/// What every `--help` ends with: where the configuration comes from, and the exit codes.
const ENVIRONMENT_AND_EXIT_CODES: &str = "\
Environment:
  DATABASE_URL                 sqlite:, postgres:/postgresql: or mysql: URL (required)
  CLAB_KEYS_PEPPER             the apps' pepper, base64, version 1 (check and peppers)
  CLAB_KEYS_INVALIDATION_FEED  postgres, changelog, redis or none, as the apps read it
  CLAB_KEYS_REDIS_URL          the apps' Redis feed, if they use one
  RUST_LOG                     log filter for stderr (off when unset)
Secrets are read only from the environment and standard input, never from arguments.

Exit codes: 0 ok, 1 negative answer, 2 usage, 3 configuration, 4 database,
5 unknown key id, 6 stored but not announced, 70 internal. See docs/cli.md.";

/// Operator commands for clab-keys user API keys, over the app's database.
#[derive(Debug, Parser)]
#[command(
    name = "clab-keys",
    version,
    about = "Operator commands for clab-keys user API keys (clab_user_…), over the app's database",
    long_about = "Operator commands for clab-keys user API keys (clab_user_…): list a user's \
                  keys, revoke one key or all of a user's, check a token read from standard \
                  input, prune old revoked and expired rows, count the hash versions still in \
                  use, and run the migrations. Works on the database the apps use (SQLite, \
                  PostgreSQL, MySQL/MariaDB), with the same environment variables.",
    after_help = ENVIRONMENT_AND_EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    /// Print the result as one JSON object on stdout (errors as one JSON object on stderr).
    #[arg(long, global = true)]
    pub json: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List a user's keys: id and prefix, name, scopes, created, expires, last used, revoked
    /// and why, and the key that replaced it.
    #[command(after_help = ENVIRONMENT_AND_EXIT_CODES)]
    List {
        /// The user id, as the app stores it (for example 42, or a UUID).
        #[arg(long, value_name = "ID")]
        user: String,
    },

    /// Revoke one key, whoever owns it, and announce it so that running app instances refuse
    /// it at once.
    #[command(after_help = ENVIRONMENT_AND_EXIT_CODES)]
    Revoke {
        /// The 8-character key id (or the display prefix, such as clab_user_3fK9xQ2a). Never a
        /// whole token.
        #[arg(value_name = "KEY_ID")]
        key_id: String,

        /// Why the key is revoked, recorded with it and shown in lists.
        #[arg(long, value_enum, default_value_t = Reason::Admin)]
        reason: Reason,
    },

    /// Revoke every key of a user that is not revoked yet, announce them, and print how many.
    #[command(after_help = ENVIRONMENT_AND_EXIT_CODES)]
    RevokeUser {
        /// The user id, as the app stores it.
        #[arg(value_name = "USER_ID")]
        user_id: String,

        /// Why the keys are revoked (`owner` for a disabled or deleted account).
        #[arg(long, value_enum, default_value_t = Reason::Admin)]
        reason: Reason,
    },

    /// Check a token read from standard input: whose key it is, and whether it is active or
    /// why not. Exit status 0 only when it is active, 1 when it is not.
    #[command(
        long_about = "Check a token read from standard input (one line; never pass it as an \
                      argument): whose key it is, and whether it is active or why not \
                      (unknown, revoked with its reason, expired, wrong secret, unknown hash \
                      version, malformed). The token is never printed, and the check records \
                      no use of the key. Needs CLAB_KEYS_PEPPER. Exit status 0 only when the \
                      key is active, 1 when it is not.\n\n\
                      Example: clab-keys check < token.txt",
        after_help = ENVIRONMENT_AND_EXIT_CODES
    )]
    Check,

    /// Delete the rows of keys revoked or expired before now minus DURATION, in batches, while
    /// the apps keep running.
    #[command(after_help = ENVIRONMENT_AND_EXIT_CODES)]
    Prune {
        /// How long revoked and expired rows are kept: a number and a unit, s, m, h, d or w,
        /// possibly several (30d, 12h, 1d12h).
        #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
        older_than: time::Duration,
    },

    /// Active keys per hash version, and which versions the configured pepper covers: a
    /// previous pepper can be retired once no active key needs it.
    #[command(after_help = ENVIRONMENT_AND_EXIT_CODES)]
    Peppers,

    /// Run the clab-keys migrations up (the standalone migrator and its clab_keys_migrations
    /// table), or show their status.
    #[command(after_help = ENVIRONMENT_AND_EXIT_CODES)]
    Migrate {
        /// Show which migrations are applied and which are pending; change nothing.
        #[arg(long)]
        status: bool,
    },
}

/// A revocation reason, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Reason {
    /// The owner revoked the key.
    User,
    /// The key was replaced by a new one.
    Rotated,
    /// The key was found exposed.
    Leaked,
    /// The owner's account was disabled or deleted.
    Owner,
    /// An operator revoked the key (the default).
    Admin,
}

impl From<Reason> for RevocationReason {
    fn from(reason: Reason) -> Self {
        match reason {
            Reason::User => Self::User,
            Reason::Rotated => Self::Rotated,
            Reason::Leaked => Self::Leaked,
            Reason::Owner => Self::Owner,
            Reason::Admin => Self::Admin,
        }
    }
}
