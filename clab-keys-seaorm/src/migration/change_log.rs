//! The change-log migration: `clab_api_key_changes`, the table [`ChangeLogFeed`] announces
//! revocations in and polls.
//!
//! [`ChangeLogFeed`]: crate::ChangeLogFeed

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

/// The table of announced changes.
pub(crate) const CHANGES_TABLE: &str = "clab_api_key_changes";

/// Creates `clab_api_key_changes`, the change log of [`ChangeLogFeed`](crate::ChangeLogFeed):
/// `seq` (an auto-increment `bigint` primary key; `INTEGER PRIMARY KEY AUTOINCREMENT` on
/// SQLite, so a number is never reused), `key_id` (`varchar(8)`) and `changed_at` (the same
/// timestamp type as `clab_api_keys`' columns), one row per key taken out of use. It does not
/// touch `clab_api_keys`, and an app that uses another feed (or none) simply leaves the table
/// empty. `down()` drops the table.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateChangeLog;

impl MigrationName for CreateChangeLog {
    fn name(&self) -> &str {
        "m20260615_000003_clab_keys_change_log"
    }
}

// `async_trait` requires the signatures exactly as the trait writes them, elided lifetime and all.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateChangeLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut changed_at = ColumnDef::new("changed_at");
        if backend == DbBackend::MySql {
            changed_at.custom("DATETIME(6)");
        } else {
            changed_at.timestamp_with_time_zone();
        }
        let mut table = Table::create();
        table
            .table(CHANGES_TABLE)
            .if_not_exists()
            .col(
                ColumnDef::new("seq")
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new("key_id").string_len(8).not_null())
            .col(changed_at.not_null());
        if backend == DbBackend::MySql {
            table
                .engine("InnoDB")
                .character_set("utf8mb4")
                .collate("utf8mb4_bin");
        }
        manager.create_table(table).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CHANGES_TABLE).if_exists().to_owned())
            .await
    }
}
