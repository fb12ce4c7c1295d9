//! Rotating and updating a key: the statements behind [`SeaOrmStore`](crate::SeaOrmStore)'s
//! `rotate` and `update`, each conditional on the row the service read (contract §4).
//!
//! Both start with one conditional `UPDATE` of the key's row by primary key. On PostgreSQL and
//! MySQL/MariaDB (in `READ COMMITTED`) that statement locks the row, and a concurrent one waits
//! for it and then re-checks its condition against the committed row, so of two rotations of
//! one key only the first changes it; on SQLite `BEGIN IMMEDIATE` makes writers take turns.

use clab_keys_core::{KeyRecord, RotateOutcome, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseConnection, DbBackend,
    EntityTrait as _, IsolationLevel, QueryFilter as _, SqliteTransactionMode, TransactionOptions,
    TransactionTrait as _,
};
use time::OffsetDateTime;

use crate::entity::{Column, Entity};
use crate::limit::insert_statement;
use crate::row::{db_error, is_unique_violation, optional_timestamp, timestamp};

/// The options of a short write transaction: `BEGIN IMMEDIATE` on SQLite (the write lock
/// before the first read), `READ COMMITTED` elsewhere (a waiting statement sees what the
/// previous lock holder committed, whatever the server's default isolation).
pub(crate) fn write_transaction(backend: DbBackend) -> TransactionOptions {
    if backend == DbBackend::Sqlite {
        TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        }
    } else {
        TransactionOptions {
            isolation_level: Some(IsolationLevel::ReadCommitted),
            ..TransactionOptions::default()
        }
    }
}

/// The row of `current`: still the user's, neither revoked nor expired at `now`, with the
/// expiry the service read.
fn still_active(
    backend: DbBackend,
    current: &KeyRecord,
    now: OffsetDateTime,
) -> Result<Condition, StoreError> {
    let same_expiry = match current.expires_at {
        Some(at) => Condition::all().add(Column::ExpiresAt.eq(timestamp(backend, at)?)),
        None => Condition::all().add(Column::ExpiresAt.is_null()),
    };
    Ok(Condition::all()
        .add(Column::KeyId.eq(current.key_id.as_str()))
        .add(Column::UserId.eq(current.user_id.as_str()))
        .add(Column::RevokedAt.is_null())
        .add(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(timestamp(backend, now)?)),
        )
        .add(same_expiry))
}

/// Retires the old row and inserts the new one in one transaction, or does neither.
pub(crate) async fn rotate(
    db: &DatabaseConnection,
    backend: DbBackend,
    current: &KeyRecord,
    retired: &KeyRecord,
    new: &KeyRecord,
    now: OffsetDateTime,
) -> Result<RotateOutcome, StoreError> {
    let insert = insert_statement(backend, new)?;
    let condition = still_active(backend, current, now)?.add(Column::ReplacedBy.is_null());
    let txn = db
        .begin_with_options(write_transaction(backend))
        .await
        .map_err(db_error("starting the rotation transaction failed"))?;
    let retire = Entity::update_many()
        .col_expr(
            Column::RevokedAt,
            Expr::val(optional_timestamp(backend, retired.revoked_at)?),
        )
        .col_expr(
            Column::RevocationReason,
            Expr::val(retired.revocation_reason.map(|r| r.as_str().to_owned())),
        )
        .col_expr(
            Column::ExpiresAt,
            Expr::val(optional_timestamp(backend, retired.expires_at)?),
        )
        .col_expr(
            Column::ReplacedBy,
            Expr::val(retired.replaced_by.map(|id| id.as_str().to_owned())),
        )
        .filter(condition)
        .exec(&txn)
        .await;
    let outcome = match retire {
        Err(e) => Err(StoreError::new("retiring the rotated key failed", e)),
        Ok(r) if r.rows_affected != 1 => Ok(RotateOutcome::Stale),
        Ok(_) => match txn.execute(&insert).await {
            Ok(_) => Ok(RotateOutcome::Rotated),
            Err(e) if is_unique_violation(&e) => Ok(RotateOutcome::DuplicateKeyId),
            Err(e) => Err(StoreError::new("inserting the new key failed", e)),
        },
    };
    if matches!(outcome, Ok(RotateOutcome::Rotated)) {
        txn.commit()
            .await
            .map_err(db_error("committing a rotation failed"))?;
    } else {
        // Nothing is kept, so a failed rollback loses nothing; the pool discards or resets
        // the connection. The outcome (or the first error) is what matters.
        let _ = txn.rollback().await;
    }
    outcome
}

/// Writes the new name, scopes and expiry where the row is still as the service read it.
pub(crate) async fn update(
    db: &DatabaseConnection,
    backend: DbBackend,
    current: &KeyRecord,
    updated: &KeyRecord,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let condition =
        still_active(backend, current, now)?.add(Column::Scopes.eq(current.scopes.to_string()));
    let result = Entity::update_many()
        .col_expr(Column::Name, Expr::val(updated.name.as_str()))
        .col_expr(Column::Scopes, Expr::val(updated.scopes.to_string()))
        .col_expr(
            Column::ExpiresAt,
            Expr::val(optional_timestamp(backend, updated.expires_at)?),
        )
        .filter(condition)
        .exec(db)
        .await
        .map_err(db_error("updating a key failed"))?;
    // sqlx asks MySQL/MariaDB for matched rows (`CLIENT_FOUND_ROWS`), so an update that
    // writes the values already there still counts.
    Ok(result.rows_affected == 1)
}
