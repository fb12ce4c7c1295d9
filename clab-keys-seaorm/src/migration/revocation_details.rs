//! The second migration: why a key was revoked and what replaced it, added in place to a table
//! made by the first, with the indexes that keep pruning cheap.

use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
use sea_orm_migration::prelude::*;

use super::KEYS_TABLE;

const REVOKED_INDEX: &str = "clab_api_keys_revoked_at";
const EXPIRES_INDEX: &str = "clab_api_keys_expires_at";

/// Adds `revocation_reason` (`varchar(16)`, null) and `replaced_by` (`varchar(8)`, null) to
/// `clab_api_keys`, and, for pruning, an index on `expires_at` and (on PostgreSQL and SQLite) a
/// partial index on `revoked_at` where it is not null. Existing rows
/// keep every value and get null in both new columns. Each step is skipped when already done,
/// so a run interrupted half-way on MySQL/MariaDB (whose DDL is not transactional) can simply
/// be run again. `down()` drops the indexes and the two columns (the reasons are lost, the keys
/// are not).
#[derive(Debug, Clone, Copy, Default)]
pub struct AddRevocationDetails;

impl MigrationName for AddRevocationDetails {
    fn name(&self) -> &str {
        "m20260601_000002_clab_keys_revocation_details"
    }
}

// `async_trait` requires the signatures exactly as the trait writes them, elided lifetime and all.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for AddRevocationDetails {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let columns = [
            ColumnDef::new("revocation_reason")
                .string_len(16)
                .null()
                .to_owned(),
            ColumnDef::new("replaced_by")
                .string_len(8)
                .null()
                .to_owned(),
        ];
        for column in columns {
            let name = column.get_column_name();
            if !has_column(manager, &name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(KEYS_TABLE)
                            .add_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        if !has_index(manager, EXPIRES_INDEX).await? {
            manager
                .create_index(
                    Index::create()
                        .name(EXPIRES_INDEX)
                        .table(KEYS_TABLE)
                        .col("expires_at")
                        .to_owned(),
                )
                .await?;
        }
        // Partial, so that no query looking for unrevoked keys (`revoked_at IS NULL`) can use
        // it. Not on MySQL/MariaDB, which have no partial indexes: there an index on
        // `revoked_at` is taken for `revoked_at IS NULL` on small tables, and a single revocation
        // locking its index entry before the row deadlocks with a `revoke_all` that holds the
        // row (seen in the conformance suite). Pruning there scans for revoked rows instead.
        if manager.get_database_backend() != DbBackend::MySql
            && !has_index(manager, REVOKED_INDEX).await?
        {
            let sql = format!(
                "CREATE INDEX {REVOKED_INDEX} ON {KEYS_TABLE} (revoked_at) \
                 WHERE revoked_at IS NOT NULL"
            );
            manager.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in [REVOKED_INDEX, EXPIRES_INDEX] {
            if has_index(manager, index).await? {
                manager
                    .drop_index(Index::drop().name(index).table(KEYS_TABLE).to_owned())
                    .await?;
            }
        }
        for column in ["replaced_by", "revocation_reason"] {
            if has_column(manager, column).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(KEYS_TABLE)
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

/// Whether `clab_api_keys` has `column`. Written out per backend because
/// `SchemaManager::has_column` needs `sea-orm-migration`'s driver features, which this crate
/// leaves to the app.
pub(super) async fn has_column(manager: &SchemaManager<'_>, column: &str) -> Result<bool, DbErr> {
    let sql = match manager.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
        }
        DbBackend::MySql => {
            "SELECT COUNT(*) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?"
        }
        _ => "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?",
    };
    count(manager, sql, [KEYS_TABLE, column]).await
}

/// Whether `clab_api_keys` has the index `index`.
pub(super) async fn has_index(manager: &SchemaManager<'_>, index: &str) -> Result<bool, DbErr> {
    let sql = match manager.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT COUNT(*) FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename = $1 AND indexname = $2"
        }
        DbBackend::MySql => {
            "SELECT COUNT(*) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?"
        }
        _ => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?"
        }
    };
    count(manager, sql, [KEYS_TABLE, index]).await
}

async fn count(manager: &SchemaManager<'_>, sql: &str, values: [&str; 2]) -> Result<bool, DbErr> {
    let row = manager
        .get_connection()
        .query_one_raw(Statement::from_sql_and_values(
            manager.get_database_backend(),
            sql,
            values.map(Into::into),
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<i64>(0)? > 0,
        None => false,
    })
}
