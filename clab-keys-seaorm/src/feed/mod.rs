//! Invalidation feeds over the database the store uses (contract §4): every instance that
//! shares the store learns of a revocation on any of them within the feed's bound, and
//! bypasses its verification cache while it cannot be sure it has.
//!
//! - [`PgNotifyFeed`] (feature `pg-notify`): PostgreSQL `LISTEN/NOTIFY`, with heartbeats on the
//!   same path; delivery in milliseconds.
//! - [`ChangeLogFeed`]: rows in `clab_api_key_changes`, polled every 250 ms by default; for
//!   MySQL/MariaDB and SQLite files shared by several processes (and PostgreSQL).

mod changelog;
#[cfg(feature = "pg-notify")]
mod postgres;

pub use changelog::ChangeLogFeed;
#[cfg(feature = "pg-notify")]
pub use postgres::PgNotifyFeed;
