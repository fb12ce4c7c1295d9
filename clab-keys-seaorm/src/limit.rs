//! The per-user limit: lock the user, count their active keys, insert, in one transaction.
//! Why each backend locks the way it does is documented on [`SeaOrmStore`](crate::SeaOrmStore).

use clab_keys_core::{InsertOutcome, KeyRecord, StoreError, UserId};
use sea_orm::sea_query::{InsertStatement, Query};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait as _, IsolationLevel, QueryFilter as _, QuerySelect as _,
    QueryTrait as _, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait as _,
    Value,
};
use time::OffsetDateTime;

use crate::entity::{Column, Entity};
use crate::migration::OWNERS_TABLE;
use crate::row::{db_error, hash_version, is_unique_violation, optional_timestamp, timestamp};

/// The first key of the two-key PostgreSQL advisory lock: ASCII `clky`, so the locks of this
/// crate do not collide with an application's own single-key or two-key advisory locks
/// unless it picks the same namespace.
const PG_LOCK_NAMESPACE: i32 = 0x636c_6b79;

/// Stores `record` if its user has fewer than `max_active` active keys at `now`.
pub(crate) async fn insert_within_limit(
    db: &DatabaseConnection,
    backend: DbBackend,
    record: &KeyRecord,
    max_active: u32,
    now: OffsetDateTime,
) -> Result<InsertOutcome, StoreError> {
    let insert = insert_statement(backend, record)?;
    let now = timestamp(backend, now)?;
    let options = if backend == DbBackend::Sqlite {
        TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        }
    } else {
        TransactionOptions {
            isolation_level: Some(IsolationLevel::ReadCommitted),
            ..TransactionOptions::default()
        }
    };
    if backend == DbBackend::MySql {
        ensure_owner_row(db, &record.user_id).await?;
    }
    let txn = db
        .begin_with_options(options)
        .await
        .map_err(db_error("starting the insert transaction failed"))?;
    let outcome = lock_count_insert(&txn, backend, record, max_active, now, &insert).await;
    match outcome {
        Ok(InsertOutcome::Inserted) => {
            txn.commit()
                .await
                .map_err(db_error("committing a new key failed"))?;
        }
        _ => {
            // Nothing was written, so a failed rollback loses nothing; the connection is
            // discarded or reset by the pool. The outcome (or the first error) is what matters.
            let _ = txn.rollback().await;
        }
    }
    outcome
}

async fn lock_count_insert(
    txn: &DatabaseTransaction,
    backend: DbBackend,
    record: &KeyRecord,
    max_active: u32,
    now: Value,
    insert: &InsertStatement,
) -> Result<InsertOutcome, StoreError> {
    lock_user(txn, backend, &record.user_id).await?;
    // A key in its rotation grace period no longer counts (contract §4).
    let counted = Condition::all()
        .add(Column::RevokedAt.is_null())
        .add(Column::ReplacedBy.is_null())
        .add(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(now)),
        );
    let active = count_keys(txn, backend, &record.user_id, counted)
        .await
        .map_err(db_error("counting active keys failed"))?;
    if active >= i64::from(max_active) {
        return Ok(InsertOutcome::LimitReached);
    }
    match txn.execute(insert).await {
        Ok(_) => Ok(InsertOutcome::Inserted),
        Err(e) if is_unique_violation(&e) => Ok(InsertOutcome::DuplicateKeyId),
        Err(e) => Err(StoreError::new("inserting a key failed", e)),
    }
}

/// Counts the user's keys that match `condition`, inside `txn` (after [`lock_user`], so that
/// the count and what the transaction then writes are one step for that user).
pub(crate) async fn count_keys(
    txn: &DatabaseTransaction,
    backend: DbBackend,
    user_id: &UserId,
    condition: Condition,
) -> Result<i64, sea_orm::DbErr> {
    // Built without `.one()`'s bound `LIMIT ?`, which costs as much as the query on SQLite,
    // while the write lock is held.
    let count = Entity::find()
        .select_only()
        .column_as(Column::KeyId.count(), "counted")
        .filter(Column::UserId.eq(user_id.as_str()))
        .filter(condition)
        .build(backend);
    match txn.query_one_raw(count).await? {
        Some(row) => row.try_get_by_index(0),
        None => Ok(0),
    }
}

/// Takes the per-user lock inside `txn` (on SQLite, `BEGIN IMMEDIATE` already holds the
/// database write lock). Also taken by a rotation with a grace period, for the grace-period
/// cap (contract §4).
pub(crate) async fn lock_user(
    txn: &DatabaseTransaction,
    backend: DbBackend,
    user_id: &UserId,
) -> Result<(), StoreError> {
    let lock = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            [PG_LOCK_NAMESPACE.into(), user_id.as_str().into()],
        ),
        DbBackend::MySql => Statement::from_sql_and_values(
            backend,
            format!("SELECT user_id FROM {OWNERS_TABLE} WHERE user_id = ? FOR UPDATE"),
            [user_id.as_str().into()],
        ),
        _ => return Ok(()),
    };
    txn.execute_raw(lock)
        .await
        .map_err(db_error("locking the user's keys failed"))?;
    Ok(())
}

/// Makes sure the user's lock row exists, in its own autocommit statement (see
/// [`SeaOrmStore`](crate::SeaOrmStore) for why not inside the transaction).
pub(crate) async fn ensure_owner_row(
    db: &DatabaseConnection,
    user_id: &UserId,
) -> Result<(), StoreError> {
    let sql = format!("INSERT IGNORE INTO {OWNERS_TABLE} (user_id) VALUES (?)");
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::MySql,
        sql,
        [user_id.as_str().into()],
    ))
    .await
    .map_err(db_error("registering the key owner failed"))?;
    Ok(())
}

pub(crate) fn insert_statement(
    backend: DbBackend,
    r: &KeyRecord,
) -> Result<InsertStatement, StoreError> {
    let mut insert = Query::insert();
    insert
        .into_table(Entity)
        .columns([
            Column::KeyId,
            Column::Prefix,
            Column::UserId,
            Column::Name,
            Column::HashVersion,
            Column::Hash,
            Column::Scopes,
            Column::CreatedAt,
            Column::ExpiresAt,
            Column::LastUsedAt,
            Column::RevokedAt,
            Column::RevocationReason,
            Column::ReplacedBy,
            Column::ExpiryNotifiedAt,
        ])
        .values([
            r.key_id.as_str().into(),
            r.prefix.as_str().into(),
            r.user_id.as_str().into(),
            r.name.as_str().into(),
            hash_version(r.hash.version).into(),
            r.hash.digest.as_bytes().to_vec().into(),
            r.scopes.to_string().into(),
            timestamp(backend, r.created_at)?.into(),
            optional_timestamp(backend, r.expires_at)?.into(),
            optional_timestamp(backend, r.last_used_at)?.into(),
            optional_timestamp(backend, r.revoked_at)?.into(),
            r.revocation_reason.map(|x| x.as_str().to_owned()).into(),
            r.replaced_by.map(|id| id.as_str().to_owned()).into(),
            optional_timestamp(backend, r.expiry_notified_at)?.into(),
        ])
        .map_err(|e| StoreError::new("building the key insert failed", e))?;
    Ok(insert)
}
