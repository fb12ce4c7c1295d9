//! Converting between [`KeyRecord`] and the `clab_api_keys` row, and the few per-backend
//! details of how values are bound.

use clab_keys_core::{
    HashVersion, KeyDigest, KeyId, KeyRecord, RevocationReason, Scopes, StoreError, UserId,
};
use sea_orm::{DbBackend, DbErr, SqlErr, Value};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::entity;

/// The text form of a timestamp on SQLite: RFC 3339 in UTC with exactly six fractional digits.
/// Fixed width, so comparing or ordering two of them as text is chronological. (sqlx's own
/// encoding trims trailing zeros, which makes `…00Z` sort after `…00.5Z`.) sqlx decodes it
/// back as RFC 3339.
const SQLITE_TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// A timestamp as a bound value: `timestamptz` on PostgreSQL; on MySQL/MariaDB a `DATETIME`
/// parameter holding UTC (an `OffsetDateTime` parameter is sent as `TIMESTAMP`, which MariaDB
/// turns into `NULL` past 2038); fixed-width text on SQLite.
pub(crate) fn timestamp(backend: DbBackend, at: OffsetDateTime) -> Result<Value, StoreError> {
    let utc = at.to_offset(UtcOffset::UTC);
    match backend {
        DbBackend::Sqlite => utc
            .format(SQLITE_TIMESTAMP)
            .map(Value::from)
            .map_err(|e| StoreError::new("timestamp cannot be stored", e)),
        DbBackend::MySql => Ok(Value::from(PrimitiveDateTime::new(utc.date(), utc.time()))),
        _ => Ok(Value::from(utc)),
    }
}

/// An optional timestamp as a bound value (SQL `NULL` for `None`).
pub(crate) fn optional_timestamp(
    backend: DbBackend,
    at: Option<OffsetDateTime>,
) -> Result<Value, StoreError> {
    match at {
        Some(at) => timestamp(backend, at),
        None => Ok(match backend {
            DbBackend::Sqlite => Value::String(None),
            DbBackend::MySql => Value::from(None::<PrimitiveDateTime>),
            _ => Value::from(None::<OffsetDateTime>),
        }),
    }
}

/// The hash version as stored (`integer`).
pub(crate) fn hash_version(version: HashVersion) -> i32 {
    i32::from(version.as_u16())
}

/// Decodes a row. A row that does not decode is a store failure, never an invalid key: it means
/// the table was written by something other than this store.
pub(crate) fn to_record(row: entity::Model) -> Result<KeyRecord, StoreError> {
    let key_id =
        KeyId::parse(&row.key_id).map_err(|_| StoreError::msg("stored key id is malformed"))?;
    let user_id =
        UserId::new(row.user_id).map_err(|_| StoreError::msg("stored user id is malformed"))?;
    let version = u16::try_from(row.hash_version)
        .map_err(|_| StoreError::msg("stored hash version is out of range"))?;
    let digest = KeyDigest::from_slice(&row.hash)
        .map_err(|_| StoreError::msg("stored key digest is not 32 bytes"))?;
    let scopes = Scopes::from_storage(&row.scopes)
        .map_err(|_| StoreError::msg("stored scopes are malformed"))?;
    let revocation_reason = row
        .revocation_reason
        .as_deref()
        .map(|r| {
            RevocationReason::parse(r)
                .ok_or_else(|| StoreError::msg("stored revocation reason is unknown"))
        })
        .transpose()?;
    let replaced_by = row
        .replaced_by
        .as_deref()
        .map(|id| {
            KeyId::parse(id).map_err(|_| StoreError::msg("stored replacement key id is malformed"))
        })
        .transpose()?;
    let utc = |t: OffsetDateTime| t.to_offset(UtcOffset::UTC);
    let mut record = KeyRecord::new(
        key_id,
        row.prefix,
        user_id,
        row.name,
        clab_keys_core::StoredHash {
            version: HashVersion::from_u16(version),
            digest,
        },
        scopes,
        utc(row.created_at),
    );
    record.expires_at = row.expires_at.map(utc);
    record.last_used_at = row.last_used_at.map(utc);
    record.revoked_at = row.revoked_at.map(utc);
    record.revocation_reason = revocation_reason;
    record.replaced_by = replaced_by;
    record.expiry_notified_at = row.expiry_notified_at.map(utc);
    Ok(record)
}

/// Wraps a database error, keeping it as the source.
pub(crate) fn db_error(message: &'static str) -> impl FnOnce(DbErr) -> StoreError {
    move |e| StoreError::new(message, e)
}

/// Whether the error is a unique-constraint violation (a duplicate key id).
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether the database rolled a statement or transaction back because of a conflict with a
/// concurrent one (SQLSTATE `40001`: MySQL/MariaDB deadlock 1213 and PostgreSQL serialization
/// failure; `40P01`: PostgreSQL deadlock): nothing was written, and running it again is
/// correct.
pub(crate) fn is_transient_conflict(e: &DbErr) -> bool {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))) = e
    else {
        return false;
    };
    match &**e {
        sea_orm::sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("40001" | "40P01"))
        }
        _ => false,
    }
}

/// How many times a write that lost a conflict (see [`is_transient_conflict`]) is tried in all.
pub(crate) const CONFLICT_ATTEMPTS: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_timestamps_are_fixed_width_and_sort_as_text() {
        let t = |s: OffsetDateTime| match timestamp(DbBackend::Sqlite, s) {
            Ok(Value::String(Some(s))) => s,
            other => panic!("expected text, got {other:?}"),
        };
        let whole = time::macros::datetime!(2026-01-01 00:00:00 UTC);
        let half = time::macros::datetime!(2026-01-01 00:00:00.5 UTC);
        let micro = time::macros::datetime!(2026-01-01 00:00:00.000001 UTC);
        assert_eq!(t(whole), "2026-01-01T00:00:00.000000Z");
        assert_eq!(t(half), "2026-01-01T00:00:00.500000Z");
        assert!(t(whole) < t(micro) && t(micro) < t(half));
        let offset = time::macros::datetime!(2026-01-01 02:00:00 +02:00);
        assert_eq!(t(offset), t(whole), "stored in UTC");
    }
}
