//! Revoking all of a user's keys, pruning old rows and counting hash versions: the statements
//! behind [`SeaOrmStore`](crate::SeaOrmStore)'s `revoke_all`, `prune` and
//! `hash_version_counts`, and why each backend runs them the way it does.

use clab_keys_core::{HashVersion, KeyId, RevocationReason, StoreError, UserId};
use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseConnection, DbBackend,
    EntityTrait as _, IsolationLevel, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    TransactionOptions, TransactionTrait as _,
};
use time::OffsetDateTime;

use crate::entity::{Column, Entity};
use crate::row::{db_error, timestamp};

/// Revokes every key of the user not revoked yet and returns exactly the ids it changed.
///
/// PostgreSQL and SQLite do it in one `UPDATE … RETURNING key_id`: the ids are the rows the
/// statement changed, whatever runs at the same time. MySQL/MariaDB have no `UPDATE …
/// RETURNING`, so a `READ COMMITTED` transaction locks the user's unrevoked rows (`SELECT …
/// FOR UPDATE`, no gap locks, so creates are not blocked) and updates exactly those; a
/// concurrent revocation of one of them waits for the lock and then finds it revoked.
pub(crate) async fn revoke_all(
    db: &DatabaseConnection,
    backend: DbBackend,
    user_id: &UserId,
    at: OffsetDateTime,
    reason: RevocationReason,
) -> Result<Vec<KeyId>, StoreError> {
    let at = timestamp(backend, at)?;
    let unrevoked = Condition::all()
        .add(Column::UserId.eq(user_id.as_str()))
        .add(Column::RevokedAt.is_null());
    let ids: Vec<String> = if backend == DbBackend::MySql {
        let txn = db
            .begin_with_options(TransactionOptions {
                isolation_level: Some(IsolationLevel::ReadCommitted),
                ..TransactionOptions::default()
            })
            .await
            .map_err(db_error("starting the revoke-all transaction failed"))?;
        let ids: Vec<String> = Entity::find()
            .select_only()
            .column(Column::KeyId)
            .filter(unrevoked)
            .lock_exclusive()
            .into_tuple()
            .all(&txn)
            .await
            .map_err(db_error("revoking all keys failed"))?;
        if !ids.is_empty() {
            // By primary key alone: the rows are locked and unrevoked, and a condition on
            // `revoked_at` could lead the server through another index, in another lock order
            // than a single revocation's.
            Entity::update_many()
                .col_expr(Column::RevokedAt, Expr::val(at))
                .col_expr(Column::RevocationReason, Expr::val(reason.as_str()))
                .filter(Column::KeyId.is_in(ids.iter().map(String::as_str)))
                .exec(&txn)
                .await
                .map_err(db_error("revoking all keys failed"))?;
        }
        txn.commit()
            .await
            .map_err(db_error("committing the revocation of all keys failed"))?;
        ids
    } else {
        let update = Query::update()
            .table(Entity)
            .value(Column::RevokedAt, at)
            .value(Column::RevocationReason, reason.as_str())
            .cond_where(unrevoked)
            .returning_col(Column::KeyId)
            .to_owned();
        db.query_all_raw(backend.build(&update))
            .await
            .map_err(db_error("revoking all keys failed"))?
            .iter()
            .map(|row| row.try_get_by_index::<String>(0))
            .collect::<Result<_, _>>()
            .map_err(db_error("revoking all keys failed"))?
    };
    ids.iter()
        .map(|id| KeyId::parse(id).map_err(|_| StoreError::msg("stored key id is malformed")))
        .collect()
}

/// Deletes at most `batch` rows revoked or expired before `cutoff`, in one statement. On
/// PostgreSQL and SQLite the `OR` of two ranges is served by the index on `expires_at` and the
/// partial index on `revoked_at` (a bitmap OR; SQLite's OR optimisation).
///
/// MySQL/MariaDB take `DELETE … LIMIT n` directly (they refuse a `LIMIT` inside an `IN`
/// subquery, and a subquery on the table being deleted from). Without an index on `revoked_at`
/// there (see the migration), the statement scans; it runs in `READ COMMITTED`, where InnoDB
/// keeps locks only on the rows it deletes, not on every row and gap it reads, so creates and
/// revocations go on during the scan. PostgreSQL has no `DELETE … LIMIT`, so there, and on
/// SQLite, the ids come from a limited subquery.
pub(crate) async fn prune(
    db: &DatabaseConnection,
    backend: DbBackend,
    cutoff: OffsetDateTime,
    batch: u32,
) -> Result<u64, StoreError> {
    if batch == 0 {
        return Ok(0);
    }
    let cutoff = timestamp(backend, cutoff)?;
    let old = Condition::any()
        .add(Column::RevokedAt.lt(cutoff.clone()))
        .add(Column::ExpiresAt.lt(cutoff));
    let mut delete = Query::delete();
    delete.from_table(Entity);
    if backend == DbBackend::MySql {
        delete.cond_where(old).limit(u64::from(batch));
    } else {
        let ids = Query::select()
            .column(Column::KeyId)
            .from(Entity)
            .cond_where(old)
            .limit(u64::from(batch))
            .to_owned();
        delete.and_where(Expr::col(Column::KeyId).in_subquery(ids));
    }
    let delete = backend.build(&delete);
    if backend != DbBackend::MySql {
        let result = db
            .execute_raw(delete)
            .await
            .map_err(db_error("pruning keys failed"))?;
        return Ok(result.rows_affected());
    }
    let txn = db
        .begin_with_options(TransactionOptions {
            isolation_level: Some(IsolationLevel::ReadCommitted),
            ..TransactionOptions::default()
        })
        .await
        .map_err(db_error("starting the prune transaction failed"))?;
    let result = txn
        .execute_raw(delete)
        .await
        .map_err(db_error("pruning keys failed"))?;
    txn.commit()
        .await
        .map_err(db_error("committing a prune batch failed"))?;
    Ok(result.rows_affected())
}

/// Active keys per hash version, ascending, in one grouped count.
pub(crate) async fn hash_version_counts(
    db: &DatabaseConnection,
    now: OffsetDateTime,
    backend: DbBackend,
) -> Result<Vec<(HashVersion, u64)>, StoreError> {
    let now = timestamp(backend, now)?;
    let rows: Vec<(i32, i64)> = Entity::find()
        .select_only()
        .column(Column::HashVersion)
        .column_as(Column::KeyId.count(), "active")
        .filter(Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(now)),
        )
        .group_by(Column::HashVersion)
        .order_by_asc(Column::HashVersion)
        .into_tuple()
        .all(db)
        .await
        .map_err(db_error("counting hash versions failed"))?;
    rows.into_iter()
        .map(|(version, count)| {
            let version = u16::try_from(version)
                .map_err(|_| StoreError::msg("stored hash version is out of range"))?;
            let count = u64::try_from(count).map_err(|_| StoreError::msg("a count is negative"))?;
            Ok((HashVersion::from_u16(version), count))
        })
        .collect()
}
