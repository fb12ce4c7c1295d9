//! [`SeaOrmStore`]: the [`KeyStore`] over a SeaORM connection.

use clab_keys_core::{
    HashVersion, InsertOutcome, KeyId, KeyRecord, KeyStore, RevocationReason, RevokeOutcome,
    RotateOutcome, StoreError, StoredHash, UserId,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseConnection, DatabaseConnectionType,
    DbBackend, EntityTrait as _, FromQueryResult as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, QueryTrait as _,
};
use time::OffsetDateTime;

use crate::entity::{Column, Entity, Model};
use crate::row::{db_error, hash_version, timestamp, to_record};
use crate::{lifecycle, limit, paging, rotation};

/// A [`KeyStore`] in the `clab_api_keys` table, over a SeaORM [`DatabaseConnection`] to
/// SQLite, PostgreSQL or MySQL/MariaDB (the backend is read from the connection).
///
/// Create the table first with the [`migration`](crate::migration). Cloning is cheap and shares
/// the connection pool.
///
/// # User ids
///
/// `i64`, UUID and string user ids are all stored in one `varchar(255)` column as the
/// canonical text of [`UserId`]: `"42"`, `"-5"`, the lowercase hyphenated UUID, or the string
/// itself. Ids are matched exactly, byte for byte, on every backend.
///
/// # The per-user limit
///
/// [`KeyStore::insert_within_limit`] runs *lock, count active keys, insert* in one
/// transaction, so concurrent creates for one user are serialised and never leave more than
/// `max_active` active keys. [`KeyStore::rotate`] with a grace period takes the same lock and
/// counts the user's keys in a grace period in its transaction, for the grace-period cap
/// (contract §4). Only the lock differs per backend, because SeaORM's lock clauses
/// are dropped on SQLite and a conditional `INSERT … SELECT … WHERE (SELECT count(*) …) < n`
/// is not enough under PostgreSQL's and InnoDB's snapshot reads (two transactions both count 9
/// and both insert):
///
/// - **PostgreSQL**: `pg_advisory_xact_lock(<clab-keys namespace>, hashtext(user_id))`, in a
///   `READ COMMITTED` transaction (set explicitly, so that the count after the wait sees what
///   the previous holder committed even if the server's default isolation is stricter). No
///   extra table; the lock is released at commit or rollback. Two users whose ids share a
///   32-bit hash merely wait for each other.
/// - **MySQL/MariaDB**: a locking read of the user's row in `clab_api_key_owners`
///   (`SELECT … FOR UPDATE`, created first by an `INSERT IGNORE` in its own autocommit
///   statement), in a `READ COMMITTED` transaction. A row lock is released at commit or
///   rollback, also when the connection goes back to the pool after a cancelled request, which
///   `GET_LOCK` session locks are not. The owner row is inserted outside the transaction
///   because taking the duplicate-key share lock and then `FOR UPDATE` inside one transaction
///   deadlocks two concurrent creates.
/// - **SQLite**: `BEGIN IMMEDIATE`, which takes the database write lock before the count;
///   SQLite has one writer at a time. Waiting for the lock relies on the connection's busy
///   timeout (sqlx's default is 5 s; keep it, or set it with
///   `ConnectOptions::map_sqlx_sqlite_opts`). Past it, the insert fails as a store error.
///
/// # Timestamps
///
/// All times are stored in UTC to the microsecond: `timestamptz` on PostgreSQL, `DATETIME(6)`
/// on MySQL/MariaDB, fixed-width RFC 3339 text on SQLite.
///
/// # Errors
///
/// Database failures become [`StoreError`]s with the [`sea_orm::DbErr`] as their source. A row
/// that does not decode (a malformed key id, a digest that is not 32 bytes, bad scopes) is a
/// [`StoreError`] too, never an invalid key.
#[derive(Debug, Clone)]
pub struct SeaOrmStore {
    db: DatabaseConnection,
    /// `None` for a disconnected connection, on which every call fails (SeaORM itself would
    /// panic when asked for the backend).
    backend: Option<DbBackend>,
}

impl SeaOrmStore {
    /// A store over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        // Without a driver feature `Disconnected` is the only variant.
        #[allow(unreachable_patterns)]
        let backend = match db.inner {
            DatabaseConnectionType::Disconnected => None,
            _ => Some(db.get_database_backend()),
        };
        Self { db, backend }
    }

    /// The connection the store uses.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    fn backend(&self) -> Result<DbBackend, StoreError> {
        self.backend
            .ok_or_else(|| StoreError::msg("the database connection is closed"))
    }
}

#[async_trait::async_trait]
impl KeyStore for SeaOrmStore {
    async fn insert_within_limit(
        &self,
        record: &KeyRecord,
        max_active: u32,
        now: OffsetDateTime,
    ) -> Result<InsertOutcome, StoreError> {
        limit::insert_within_limit(&self.db, self.backend()?, record, max_active, now).await
    }

    async fn find(&self, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        // Built without `.one()`, whose bound `LIMIT ?` doubles the cost of this lookup (the
        // authentication hot path) on SQLite; `key_id` is the primary key, so at most one row.
        let select = Entity::find_by_id(key_id.as_str()).build(self.backend()?);
        let row = self
            .db
            .query_one_raw(select)
            .await
            .map_err(db_error("finding a key failed"))?;
        row.map(|row| {
            Model::from_query_result(&row, "")
                .map_err(db_error("finding a key failed"))
                .and_then(to_record)
        })
        .transpose()
    }

    async fn list(&self, user_id: &UserId) -> Result<Vec<KeyRecord>, StoreError> {
        self.backend()?;
        Entity::find()
            .filter(Column::UserId.eq(user_id.as_str()))
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::KeyId)
            .all(&self.db)
            .await
            .map_err(db_error("listing keys failed"))?
            .into_iter()
            .map(to_record)
            .collect()
    }

    async fn revoke(
        &self,
        user_id: &UserId,
        key_id: &KeyId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<RevokeOutcome, StoreError> {
        let backend = self.backend()?;
        let owned = Condition::all()
            .add(Column::KeyId.eq(key_id.as_str()))
            .add(Column::UserId.eq(user_id.as_str()));
        let revoked = Entity::update_many()
            .col_expr(Column::RevokedAt, Expr::val(timestamp(backend, at)?))
            .col_expr(Column::RevocationReason, Expr::val(reason.as_str()))
            .filter(owned.clone())
            .filter(Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(db_error("revoking a key failed"))?;
        if revoked.rows_affected == 1 {
            return Ok(RevokeOutcome::Revoked);
        }
        // Nothing changed: either the user's key is already revoked, or the user has no such
        // key (which includes another user's key).
        let exists = Entity::find()
            .select_only()
            .column(Column::KeyId)
            .filter(owned)
            .into_tuple::<String>()
            .one(&self.db)
            .await
            .map_err(db_error("revoking a key failed"))?;
        Ok(match exists {
            Some(_) => RevokeOutcome::AlreadyRevoked,
            None => RevokeOutcome::NotFound,
        })
    }

    async fn revoke_all(
        &self,
        user_id: &UserId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<Vec<KeyId>, StoreError> {
        lifecycle::revoke_all(&self.db, self.backend()?, user_id, at, reason).await
    }

    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> Result<u64, StoreError> {
        lifecycle::prune(&self.db, self.backend()?, cutoff, batch).await
    }

    async fn hash_version_counts(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(HashVersion, u64)>, StoreError> {
        lifecycle::hash_version_counts(&self.db, now, self.backend()?).await
    }

    async fn rotate(
        &self,
        current: &KeyRecord,
        retired: &KeyRecord,
        new: &KeyRecord,
        max_in_grace: u32,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome, StoreError> {
        rotation::rotate(
            &self.db,
            self.backend()?,
            current,
            retired,
            new,
            max_in_grace,
            now,
        )
        .await
    }

    async fn update(
        &self,
        current: &KeyRecord,
        updated: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        rotation::update(&self.db, self.backend()?, current, updated, now).await
    }

    async fn list_page(
        &self,
        user_id: &UserId,
        after: Option<(OffsetDateTime, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        paging::list_page(&self.db, self.backend()?, user_id, after, limit).await
    }

    async fn claim_expiring(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        paging::claim_expiring(&self.db, self.backend()?, now, until).await
    }

    async fn touch(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
        cutoff: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let backend = self.backend()?;
        let result = Entity::update_many()
            .col_expr(Column::LastUsedAt, Expr::val(timestamp(backend, at)?))
            .filter(Column::KeyId.eq(key_id.as_str()))
            .filter(
                Condition::any()
                    .add(Column::LastUsedAt.is_null())
                    .add(Column::LastUsedAt.lt(timestamp(backend, cutoff)?)),
            )
            .exec(&self.db)
            .await
            .map_err(db_error("recording key use failed"))?;
        Ok(result.rows_affected == 1)
    }

    async fn replace_hash(
        &self,
        key_id: &KeyId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<bool, StoreError> {
        self.backend()?;
        let result = Entity::update_many()
            .col_expr(Column::HashVersion, Expr::val(hash_version(new.version)))
            .col_expr(Column::Hash, Expr::val(new.digest.as_bytes().to_vec()))
            .filter(Column::KeyId.eq(key_id.as_str()))
            .filter(Column::HashVersion.eq(hash_version(old.version)))
            .filter(Column::Hash.eq(old.digest.as_bytes().to_vec()))
            .exec(&self.db)
            .await
            .map_err(db_error("replacing a key hash failed"))?;
        Ok(result.rows_affected == 1)
    }
}
