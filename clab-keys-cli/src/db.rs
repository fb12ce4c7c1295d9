//! The database connection, and the checks that turn a missing table into advice instead of
//! an SQL error.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend};
use sea_orm::{Statement, Value};

use crate::config::{self, Backend};
use crate::error::{CliError, chain};

/// The table of keys.
pub const KEYS_TABLE: &str = "clab_api_keys";
/// The change log of the `changelog` feed (third migration).
pub const CHANGES_TABLE: &str = "clab_api_key_changes";

/// Connects to `DATABASE_URL`.
pub async fn connect() -> Result<(DatabaseConnection, Backend), CliError> {
    let (url, backend) = config::database_url()?;
    let mut options = ConnectOptions::new(url.as_str());
    options
        .max_connections(4)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let db = Database::connect(options).await.map_err(|e| {
        CliError::Database(format!(
            "could not connect to the {} database named by DATABASE_URL: {}",
            backend.as_str(),
            chain(&e)
        ))
    })?;
    Ok((db, backend))
}

/// Whether `table` exists in the connection's database (or schema, on PostgreSQL).
pub async fn has_table(db: &DatabaseConnection, table: &str) -> Result<bool, CliError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
        DbBackend::MySql => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = ?"
        }
        _ => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(table)],
        ))
        .await
        .map_err(|e| CliError::Database(format!("reading the schema failed: {}", chain(&e))))?;
    let count: i64 = match row {
        Some(row) => row
            .try_get_by_index::<i64>(0)
            .map_err(|e| CliError::Database(format!("reading the schema failed: {}", chain(&e))))?,
        None => 0,
    };
    Ok(count > 0)
}

/// Fails with advice when `table` is missing: the migrations have not run.
pub async fn require_table(db: &DatabaseConnection, table: &str) -> Result<(), CliError> {
    if has_table(db, table).await? {
        Ok(())
    } else {
        Err(CliError::Database(format!(
            "the table {table} does not exist in this database: run the app (which migrates on \
             start) or `clab-keys migrate` first"
        )))
    }
}
