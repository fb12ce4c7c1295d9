//! The migration that creates `clab_api_keys`, in the two shapes SeaORM apps use.
//!
//! **Embedded** (for apps with their own `sea-orm-migration` `Migrator`): add
//! [`migrations()`] (or [`CreateApiKeys`]) to your list. The migration is recorded in your
//! `seaql_migrations` under its fixed name `m20260101_000001_clab_keys_create_api_keys`, which
//! does not change if files move.
//!
//! ```
//! # mod clab_keys { pub(crate) use ::clab_keys_seaorm as sea_orm; }
//! use sea_orm_migration::prelude::*;
//!
//! pub struct Migrator;
//!
//! #[async_trait::async_trait]
//! impl MigratorTrait for Migrator {
//!     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
//!         // The app's own migrations first (here none), then clab-keys'.
//!         let mut all: Vec<Box<dyn MigrationTrait>> = Vec::new();
//!         all.extend(clab_keys::sea_orm::migration::migrations());
//!         all
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! **Standalone**: run [`Migrator`]`::up(&db, None)`. It keeps its own history table,
//! `clab_keys_migrations`, so it never sees (or is confused by) the app's `seaql_migrations`.
//! Use one shape or the other for a given database, not both.
//!
//! # What is created
//!
//! The table described in [`entity`](crate::entity), with per-backend column types where a
//! portable one would be wrong:
//!
//! - **PostgreSQL**: `timestamptz` (microseconds, UTC); `key_id` collates as `"C"` (byte-wise).
//! - **MySQL/MariaDB**: `DATETIME(6)` holding UTC (not `TIMESTAMP`, which has second precision
//!   unless sized, converts through the session time zone and ends in 2038); InnoDB; character
//!   set `utf8mb4` with a binary, *no-pad* collation (`utf8mb4_0900_bin` or
//!   `utf8mb4_nopad_bin`, falling back to `utf8mb4_bin` on servers that have neither), so key
//!   ids and user ids compare byte for byte: `abc` ≠ `ABC` and `abc` ≠ `abc `. Also a small
//!   `clab_api_key_owners` table, one row per user who ever created a key, which the store
//!   locks to enforce the per-user limit (see [`SeaOrmStore`](crate::SeaOrmStore)).
//! - **SQLite**: timestamps as text (fixed-width RFC 3339, written by the store).
//!
//! `down()` drops what `up()` created (the keys are lost).
//!
//! # Later migrations
//!
//! Each later migration changes the table in place, keeping its rows; [`migrations()`] lists
//! them all in order, so an app's `Migrator` (or [`Migrator`]) upgrades a database made by an
//! earlier version when it runs:
//!
//! 1. [`CreateApiKeys`] (`m20260101_000001_clab_keys_create_api_keys`): the table above;
//! 2. [`AddRevocationDetails`] (`m20260601_000002_clab_keys_revocation_details`):
//!    `revocation_reason` and `replaced_by`, an index on `expires_at` and, on PostgreSQL and
//!    SQLite, a partial index on `revoked_at`;
//! 3. [`CreateChangeLog`] (`m20260615_000003_clab_keys_change_log`): `clab_api_key_changes`, the
//!    change log of [`ChangeLogFeed`](crate::ChangeLogFeed) (empty unless that feed is used);
//! 4. [`AddExpiryNotices`] (`m20260701_000004_clab_keys_expiry_notices`): `expiry_notified_at`,
//!    when a key's coming expiry was claimed for a notice.

mod change_log;
mod expiry_notices;
mod revocation_details;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;

pub(crate) use change_log::CHANGES_TABLE;
pub use change_log::CreateChangeLog;
pub use expiry_notices::AddExpiryNotices;
pub use revocation_details::AddRevocationDetails;

/// The table the store uses as a per-user lock on MySQL/MariaDB.
pub(crate) const OWNERS_TABLE: &str = "clab_api_key_owners";
pub(crate) const KEYS_TABLE: &str = "clab_api_keys";
const USER_CREATED_INDEX: &str = "clab_api_keys_user_created";

/// Creates `clab_api_keys` (and, on MySQL/MariaDB, `clab_api_key_owners`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateApiKeys;

impl MigrationName for CreateApiKeys {
    fn name(&self) -> &str {
        "m20260101_000001_clab_keys_create_api_keys"
    }
}

// `async_trait` requires the signatures exactly as the trait writes them, elided lifetime and all.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateApiKeys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mysql_collation = if backend == DbBackend::MySql {
            Some(no_pad_binary_collation(manager).await?)
        } else {
            None
        };
        let mut index = Index::create()
            .name(USER_CREATED_INDEX)
            .table(KEYS_TABLE)
            .col("user_id")
            .col("created_at")
            .to_owned();

        let mut keys = Table::create();
        keys.table(KEYS_TABLE)
            .if_not_exists()
            .col(key_id_column(backend))
            .col(ColumnDef::new("prefix").string_len(32).not_null())
            .col(ColumnDef::new("user_id").string_len(255).not_null())
            .col(ColumnDef::new("name").string_len(400).not_null())
            .col(ColumnDef::new("hash_version").integer().not_null())
            .col(ColumnDef::new("hash").binary_len(32).not_null())
            .col(ColumnDef::new("scopes").text().not_null())
            .col(timestamp_column("created_at", backend).not_null())
            .col(timestamp_column("expires_at", backend).null())
            .col(timestamp_column("last_used_at", backend).null())
            .col(timestamp_column("revoked_at", backend).null());

        if let Some(collation) = &mysql_collation {
            // MySQL DDL is not transactional: an index created inline is created with the
            // table or not at all.
            keys.index(&mut index)
                .engine("InnoDB")
                .character_set("utf8mb4")
                .collate(collation.as_str());
            manager.create_table(keys).await?;
            manager
                .create_table(
                    Table::create()
                        .table(OWNERS_TABLE)
                        .if_not_exists()
                        .col(
                            ColumnDef::new("user_id")
                                .string_len(255)
                                .not_null()
                                .primary_key(),
                        )
                        .engine("InnoDB")
                        .character_set("utf8mb4")
                        .collate(collation.as_str())
                        .to_owned(),
                )
                .await
        } else {
            manager.create_table(keys).await?;
            manager.create_index(index.if_not_exists().to_owned()).await
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OWNERS_TABLE).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(KEYS_TABLE).to_owned())
            .await
    }
}

fn key_id_column(backend: DbBackend) -> ColumnDef {
    let mut col = ColumnDef::new("key_id");
    if backend == DbBackend::Postgres {
        // Byte-wise ordering, like `KeyId`'s `Ord`: the tie-break of `list`.
        col.custom("varchar(8) COLLATE \"C\"");
    } else {
        col.string_len(8);
    }
    col.not_null().primary_key().to_owned()
}

fn timestamp_column(name: &'static str, backend: DbBackend) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    if backend == DbBackend::MySql {
        col.custom("DATETIME(6)");
    } else {
        col.timestamp_with_time_zone();
    }
    col
}

/// The best binary collation without trailing-space padding that this MySQL/MariaDB server
/// has.
async fn no_pad_binary_collation(manager: &SchemaManager<'_>) -> Result<String, DbErr> {
    let row = manager
        .get_connection()
        .query_one_raw(Statement::from_string(
            DbBackend::MySql,
            "SELECT COLLATION_NAME FROM information_schema.COLLATIONS \
             WHERE COLLATION_NAME IN ('utf8mb4_0900_bin', 'utf8mb4_nopad_bin') \
             ORDER BY COLLATION_NAME LIMIT 1",
        ))
        .await?;
    match row {
        Some(row) => row.try_get_by_index(0),
        None => Ok("utf8mb4_bin".to_owned()),
    }
}

/// The migrations of this crate, in order, for an app's own `Migrator::migrations()`.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        // In order; append new migrations at the end, one per line.
        Box::new(CreateApiKeys),
        Box::new(AddRevocationDetails),
        Box::new(CreateChangeLog),
        Box::new(AddExpiryNotices),
    ]
}

/// A standalone migrator with its own history table, `clab_keys_migrations`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// # mod clab_keys { pub(crate) use ::clab_keys_seaorm as sea_orm; }
/// use clab_keys::sea_orm::migration::Migrator;
/// use sea_orm_migration::MigratorTrait as _;
///
/// let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
/// Migrator::up(&db, None).await.unwrap();
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        migrations()
    }

    fn migration_table_name() -> DynIden {
        "clab_keys_migrations".into_iden()
    }
}
