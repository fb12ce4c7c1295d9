//! The fourth migration: when a key's coming expiry was reported, so that each key is reported
//! once (contract §4, `KeyService::expiring_within`).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

use super::KEYS_TABLE;
use super::revocation_details::has_column;

/// Adds `expiry_notified_at` (a null timestamp of the same type as the table's other
/// timestamps: `timestamptz`, `DATETIME(6)`, text on SQLite) to `clab_api_keys`. Existing rows
/// keep every value and read as never reported. No index: the claim looks keys up by their
/// expiry, through the second migration's index on `expires_at`, and checks this column on the
/// few rows in the window. Skipped when the column is already there, so an interrupted run can
/// be repeated. `down()` drops the column (the record of which keys were reported is lost, so
/// they may be reported again; the keys are kept).
#[derive(Debug, Clone, Copy, Default)]
pub struct AddExpiryNotices;

const COLUMN: &str = "expiry_notified_at";

impl MigrationName for AddExpiryNotices {
    fn name(&self) -> &str {
        "m20260701_000004_clab_keys_expiry_notices"
    }
}

// `async_trait` requires the signatures exactly as the trait writes them, elided lifetime and all.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for AddExpiryNotices {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if has_column(manager, COLUMN).await? {
            return Ok(());
        }
        let mut column = ColumnDef::new(COLUMN);
        if manager.get_database_backend() == DbBackend::MySql {
            column.custom("DATETIME(6)");
        } else {
            column.timestamp_with_time_zone();
        }
        manager
            .alter_table(
                Table::alter()
                    .table(KEYS_TABLE)
                    .add_column(column.null().to_owned())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !has_column(manager, COLUMN).await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(KEYS_TABLE)
                    .drop_column(COLUMN)
                    .to_owned(),
            )
            .await
    }
}
