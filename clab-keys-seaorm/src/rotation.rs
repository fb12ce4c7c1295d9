//! Rotating and updating a key: the statements behind [`SeaOrmStore`](crate::SeaOrmStore)'s
//! `rotate` and `update`, each conditional on the row the service read (contract §4).
//!
//! Both start with one conditional `UPDATE` of the key's row by primary key. On PostgreSQL and
//! MySQL/MariaDB (in `READ COMMITTED`) that statement locks the row, and a concurrent one waits
//! for it and then re-checks its condition against the committed row, so of two rotations of
//! one key only the first changes it; on SQLite `BEGIN IMMEDIATE` makes writers take turns.
//!
//! A rotation with a grace period first takes the per-user lock of
//! [`insert_within_limit`](crate::limit) and counts the user's keys in a grace period in the
//! same transaction, so concurrent rotations of one user's keys never pass the cap.

use clab_keys_core::{KeyRecord, RotateOutcome, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait as _, IsolationLevel, QueryFilter as _, SqliteTransactionMode,
    TransactionOptions, TransactionTrait as _,
};
use time::OffsetDateTime;

use crate::entity::{Column, Entity};
use crate::limit::{count_keys, ensure_owner_row, insert_statement, lock_user};
use crate::row::{
    CONFLICT_ATTEMPTS, db_error, is_transient_conflict, is_unique_violation, optional_timestamp,
    timestamp,
};

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

/// Retires the old row and inserts the new one in one transaction, or does neither. The old
/// row must still be as the service read it (active, unreplaced, same scopes and expiry); a
/// rotation that leaves the old key working (`retired` not revoked) also needs the user to
/// hold fewer than `max_in_grace` keys in a grace period.
pub(crate) async fn rotate(
    db: &DatabaseConnection,
    backend: DbBackend,
    current: &KeyRecord,
    retired: &KeyRecord,
    new: &KeyRecord,
    max_in_grace: u32,
    now: OffsetDateTime,
) -> Result<RotateOutcome, StoreError> {
    let mut attempt = 1;
    loop {
        match rotate_once(db, backend, current, retired, new, max_in_grace, now).await {
            // A deadlock with a concurrent write rolled the transaction back: run it again.
            Err(e) if attempt < CONFLICT_ATTEMPTS && lost_a_conflict(&e) => attempt += 1,
            other => return other,
        }
    }
}

/// Whether a store error comes from a database conflict that rolled the work back.
fn lost_a_conflict(e: &StoreError) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<sea_orm::DbErr>())
        .is_some_and(is_transient_conflict)
}

async fn rotate_once(
    db: &DatabaseConnection,
    backend: DbBackend,
    current: &KeyRecord,
    retired: &KeyRecord,
    new: &KeyRecord,
    max_in_grace: u32,
    now: OffsetDateTime,
) -> Result<RotateOutcome, StoreError> {
    let insert = insert_statement(backend, new)?;
    let condition = still_active(backend, current, now)?
        .add(Column::ReplacedBy.is_null())
        .add(Column::Scopes.eq(current.scopes.to_string()));
    let capped = retired.revoked_at.is_none();
    if capped && backend == DbBackend::MySql {
        ensure_owner_row(db, &current.user_id).await?;
    }
    let txn = db
        .begin_with_options(write_transaction(backend))
        .await
        .map_err(db_error("starting the rotation transaction failed"))?;
    let cap = capped.then_some(max_in_grace);
    let outcome = match retire(&txn, backend, current, retired, condition, cap, now).await {
        Ok(None) => match txn.execute(&insert).await {
            Ok(_) => Ok(RotateOutcome::Rotated),
            Err(e) if is_unique_violation(&e) => Ok(RotateOutcome::DuplicateKeyId),
            Err(e) => Err(StoreError::new("inserting the new key failed", e)),
        },
        Ok(Some(refused)) => Ok(refused),
        Err(e) => Err(e),
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

/// Inside `txn`: with a cap, locks the user and counts their keys in a grace period; then
/// retires the old row where `condition` holds. `Some` is the outcome when the rotation must
/// not go on (a stale row, a full grace period); the caller then rolls back.
async fn retire(
    txn: &DatabaseTransaction,
    backend: DbBackend,
    current: &KeyRecord,
    retired: &KeyRecord,
    condition: Condition,
    cap: Option<u32>,
    now: OffsetDateTime,
) -> Result<Option<RotateOutcome>, StoreError> {
    let in_grace = match cap {
        Some(_) => {
            lock_user(txn, backend, &current.user_id).await?;
            let in_grace = Condition::all()
                .add(Column::RevokedAt.is_null())
                .add(Column::ReplacedBy.is_not_null())
                .add(
                    Condition::any()
                        .add(Column::ExpiresAt.is_null())
                        .add(Column::ExpiresAt.gt(timestamp(backend, now)?)),
                );
            count_keys(txn, backend, &current.user_id, in_grace)
                .await
                .map_err(db_error("counting keys in a grace period failed"))?
        }
        None => 0,
    };
    let retired_rows = Entity::update_many()
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
        .exec(txn)
        .await
        .map_err(db_error("retiring the rotated key failed"))?;
    // The row is checked first: a key that changed is read again, whatever the count.
    if retired_rows.rows_affected != 1 {
        return Ok(Some(RotateOutcome::Stale));
    }
    if cap.is_some_and(|max| in_grace >= i64::from(max)) {
        return Ok(Some(RotateOutcome::GraceLimitReached));
    }
    Ok(None)
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
    let mut attempt = 1;
    let result = loop {
        let result = Entity::update_many()
            .col_expr(Column::Name, Expr::val(updated.name.as_str()))
            .col_expr(Column::Scopes, Expr::val(updated.scopes.to_string()))
            .col_expr(
                Column::ExpiresAt,
                Expr::val(optional_timestamp(backend, updated.expires_at)?),
            )
            .filter(condition.clone())
            .exec(db)
            .await;
        match result {
            // A deadlock with a concurrent rotation rolled the statement back: run it again.
            Err(e) if attempt < CONFLICT_ATTEMPTS && is_transient_conflict(&e) => attempt += 1,
            other => break other.map_err(db_error("updating a key failed"))?,
        }
    };
    // sqlx asks MySQL/MariaDB for matched rows (`CLIENT_FOUND_ROWS`), so an update that
    // writes the values already there still counts.
    Ok(result.rows_affected == 1)
}
