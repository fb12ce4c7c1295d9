//! Listing a user's keys by pages and claiming keys for expiry notices: the statements behind
//! [`SeaOrmStore`](crate::SeaOrmStore)'s `list_page` and `claim_expiring`.

use clab_keys_core::{KeyId, KeyRecord, StoreError, UserId};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseConnection, DbBackend,
    EntityTrait as _, FromQueryResult as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    TransactionTrait as _,
};
use time::OffsetDateTime;

use crate::entity::{Column, Entity, Model};
use crate::rotation::write_transaction;
use crate::row::{db_error, timestamp, to_record};

/// One page, newest first, after a position: `created_at < c OR (created_at = c AND key_id <
/// k)`, served by the `(user_id, created_at)` index; never an `OFFSET`.
pub(crate) async fn list_page(
    db: &DatabaseConnection,
    backend: DbBackend,
    user_id: &UserId,
    after: Option<(OffsetDateTime, KeyId)>,
    limit: u32,
) -> Result<Vec<KeyRecord>, StoreError> {
    let mut select = Entity::find().filter(Column::UserId.eq(user_id.as_str()));
    if let Some((created_at, key_id)) = after {
        let at = timestamp(backend, created_at)?;
        select = select.filter(
            Condition::any().add(Column::CreatedAt.lt(at.clone())).add(
                Condition::all()
                    .add(Column::CreatedAt.eq(at))
                    .add(Column::KeyId.lt(key_id.as_str())),
            ),
        );
    }
    select
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::KeyId)
        .limit(u64::from(limit))
        .all(db)
        .await
        .map_err(db_error("listing a page of keys failed"))?
        .into_iter()
        .map(to_record)
        .collect()
}

/// Claims the keys expiring in `(now, until]` that were never claimed.
///
/// PostgreSQL and SQLite do it in one `UPDATE … RETURNING`: on PostgreSQL a concurrent claim
/// waits for the rows this one locked and then re-checks `expiry_notified_at IS NULL` on the
/// committed rows, so it skips them; SQLite has one writer at a time. MySQL/MariaDB have no
/// `UPDATE … RETURNING`, so a `READ COMMITTED` transaction locks the matching rows (`SELECT …
/// FOR UPDATE`, which reads the latest committed rows and waits for locked ones, then re-checks
/// them), stamps exactly those by primary key and commits.
pub(crate) async fn claim_expiring(
    db: &DatabaseConnection,
    backend: DbBackend,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<KeyRecord>, StoreError> {
    let stamp = timestamp(backend, now)?;
    let due = Condition::all()
        .add(Column::ExpiryNotifiedAt.is_null())
        .add(Column::RevokedAt.is_null())
        .add(Column::ReplacedBy.is_null())
        .add(Column::ExpiresAt.gt(stamp.clone()))
        .add(Column::ExpiresAt.lte(timestamp(backend, until)?));
    let rows: Vec<Model> = if backend == DbBackend::MySql {
        let txn = db
            .begin_with_options(write_transaction(backend))
            .await
            .map_err(db_error("starting the expiry claim failed"))?;
        let rows = Entity::find()
            .filter(due)
            .lock_exclusive()
            .all(&txn)
            .await
            .map_err(db_error("claiming expiring keys failed"))?;
        if !rows.is_empty() {
            Entity::update_many()
                .col_expr(Column::ExpiryNotifiedAt, Expr::val(stamp))
                .filter(Column::KeyId.is_in(rows.iter().map(|r| r.key_id.as_str())))
                .exec(&txn)
                .await
                .map_err(db_error("claiming expiring keys failed"))?;
        }
        txn.commit()
            .await
            .map_err(db_error("committing the expiry claim failed"))?;
        rows
    } else {
        let update = Query::update()
            .table(Entity)
            .value(Column::ExpiryNotifiedAt, stamp)
            .cond_where(due)
            .returning_all()
            .to_owned();
        db.query_all_raw(backend.build(&update))
            .await
            .map_err(db_error("claiming expiring keys failed"))?
            .iter()
            .map(|row| Model::from_query_result(row, ""))
            .collect::<Result<_, _>>()
            .map_err(db_error("claiming expiring keys failed"))?
    };
    rows.into_iter()
        .map(|row| {
            let mut record = to_record(row)?;
            record.expiry_notified_at = Some(now);
            Ok(record)
        })
        .collect()
}
