//! The later migrations upgrade a database made by the first in place: rows written with the
//! old schema (active, revoked, expired keys) survive the second migration alone and then keep
//! working through the service once every migration ran, nothing is lost, the new columns
//! (revocation reason, replacement, expiry notice) read as null, and each `down` removes its
//! columns again with the rows kept. On SQLite
//! always, on PostgreSQL and MySQL/MariaDB when their URLs are set (a fresh database each).

// Helpers outside `#[test]` functions fail the way the tests do.
#![allow(clippy::unwrap_used)]

mod common;

use clab_keys_core::{
    AuthError, InvalidReason, KeyHasher, KeyRecord, KeyService, KeyStore as _, MemoryStore, NewKey,
    Pepper, RevocationReason, UserId,
};
use clab_keys_seaorm::SeaOrmStore;
use clab_keys_seaorm::migration::Migrator;
use clab_keys_testing::ManualClock;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement, Value};
use sea_orm_migration::MigratorTrait as _;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

const T0: OffsetDateTime = time::macros::datetime!(2026-02-03 04:05:06.789012 UTC);

fn hasher() -> KeyHasher {
    KeyHasher::hmac(1, Pepper::from_bytes(&[0x33; 32]).unwrap()).unwrap()
}

/// A timestamp bound as the first migration's column expects it (as the store writes it).
fn ts(backend: DbBackend, at: Option<OffsetDateTime>) -> Value {
    let Some(at) = at.map(|t| t.to_offset(UtcOffset::UTC)) else {
        return match backend {
            DbBackend::Sqlite => Value::String(None),
            DbBackend::MySql => Value::from(None::<PrimitiveDateTime>),
            _ => Value::from(None::<OffsetDateTime>),
        };
    };
    match backend {
        DbBackend::Sqlite => Value::from(
            at.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            ))
            .unwrap(),
        ),
        DbBackend::MySql => Value::from(PrimitiveDateTime::new(at.date(), at.time())),
        _ => Value::from(at),
    }
}

/// Inserts `r` with the first migration's columns only, as version 0.1 wrote rows.
async fn insert_old_row(db: &DatabaseConnection, r: &KeyRecord) {
    let backend = db.get_database_backend();
    let insert = Query::insert()
        .into_table(Alias::new("clab_api_keys"))
        .columns(
            [
                "key_id",
                "prefix",
                "user_id",
                "name",
                "hash_version",
                "hash",
                "scopes",
                "created_at",
                "expires_at",
                "last_used_at",
                "revoked_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            r.key_id.as_str().into(),
            r.prefix.as_str().into(),
            r.user_id.as_str().into(),
            r.name.as_str().into(),
            i32::from(r.hash.version.as_u16()).into(),
            r.hash.digest.as_bytes().to_vec().into(),
            r.scopes.to_string().into(),
            ts(backend, Some(r.created_at)).into(),
            ts(backend, r.expires_at).into(),
            ts(backend, r.last_used_at).into(),
            ts(backend, r.revoked_at).into(),
        ])
        .to_owned();
    db.execute_raw(backend.build(&insert)).await.unwrap();
}

async fn scalar(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> i64 {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn has_column(db: &DatabaseConnection, column: &str) -> bool {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = 'clab_api_keys' AND column_name = $1"
        }
        DbBackend::MySql => {
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name = 'clab_api_keys' AND column_name = ?"
        }
        _ => "SELECT COUNT(*) FROM pragma_table_info('clab_api_keys') WHERE name = ?",
    };
    scalar(db, sql, vec![column.into()]).await > 0
}

async fn applied(db: &DatabaseConnection) -> Vec<String> {
    Migrator::get_applied_migrations(db)
        .await
        .unwrap()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

#[tokio::test]
async fn later_migrations_upgrade_a_first_migration_database_in_place() {
    for test_db in common::all_dbs().await {
        let db = &test_db.db;
        let backend = common::backend_name(db);

        // Keys made by the service, as version 0.1 stored them: one active, one revoked, one
        // that expires.
        let clock = ManualClock::new(T0);
        let memory = MemoryStore::new();
        let old = KeyService::builder(memory.clone(), hasher())
            .clock(clock.clone())
            .build()
            .unwrap();
        let user = UserId::from(7_i64);
        let active = old.create(&user, NewKey::new("active")).await.unwrap();
        let revoked = old.create(&user, NewKey::new("revoked")).await.unwrap();
        old.revoke(&user, revoked.key.key_id.as_str())
            .await
            .unwrap();
        let expiring = old
            .create(
                &user,
                NewKey::new("expiring").expires_in(Duration::hours(1)),
            )
            .await
            .unwrap();
        let rows = memory.list(&user).await.unwrap();
        clock.advance(Duration::hours(2));

        Migrator::up(db, Some(1)).await.unwrap();
        assert!(!has_column(db, "revocation_reason").await, "{backend}");
        for r in &rows {
            insert_old_row(db, r).await;
        }

        // The second migration alone.
        Migrator::up(db, Some(1)).await.unwrap();
        assert_eq!(
            applied(db).await,
            [
                "m20260101_000001_clab_keys_create_api_keys",
                "m20260601_000002_clab_keys_revocation_details"
            ],
            "{backend}"
        );
        assert!(has_column(db, "revocation_reason").await, "{backend}");
        assert!(has_column(db, "replaced_by").await, "{backend}");
        assert!(!has_column(db, "expiry_notified_at").await, "{backend}");
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM clab_api_keys", Vec::new()).await,
            3,
            "{backend}: the second migration keeps the keys"
        );

        // Then the others, up to the fourth (expiry notices): this version's store needs them
        // all (migrate before deploying).
        Migrator::up(db, None).await.unwrap();
        assert_eq!(
            applied(db).await[2..],
            [
                "m20260615_000003_clab_keys_change_log",
                "m20260701_000004_clab_keys_expiry_notices"
            ],
            "{backend}"
        );
        assert!(has_column(db, "expiry_notified_at").await, "{backend}");
        let keys = KeyService::builder(SeaOrmStore::new(db.clone()), hasher())
            .clock(clock.clone())
            .build()
            .unwrap();
        let verified = keys
            .authenticate(active.token.expose_secret().as_bytes())
            .await
            .unwrap();
        assert_eq!(verified.key_id, active.key.key_id, "{backend}: still works");
        match keys
            .authenticate(revoked.token.expose_secret().as_bytes())
            .await
        {
            Err(AuthError::Invalid(InvalidReason::Revoked)) => {}
            other => panic!("{backend}: the revoked key stays revoked, got {other:?}"),
        }
        match keys
            .authenticate(expiring.token.expose_secret().as_bytes())
            .await
        {
            Err(AuthError::Invalid(InvalidReason::Expired)) => {}
            other => panic!("{backend}: the expired key stays expired, got {other:?}"),
        }
        keys.flush().await;
        let listed = keys.list(&user).await.unwrap();
        assert_eq!(listed.len(), 3, "{backend}: nothing lost");
        for (info, before) in listed.iter().zip(&rows) {
            assert_eq!(info.key_id, before.key_id, "{backend}: same order");
            assert_eq!(info.name, before.name, "{backend}");
            assert_eq!(info.created_at, before.created_at, "{backend}");
            assert_eq!(info.expires_at, before.expires_at, "{backend}");
            assert_eq!(info.revoked_at, before.revoked_at, "{backend}");
            assert_eq!(
                info.revocation_reason, None,
                "{backend}: new column is null"
            );
            assert_eq!(info.replaced_by, None, "{backend}: new column is null");
        }
        // New revocations record their reason.
        keys.revoke_with_reason(&user, active.key.key_id.as_str(), RevocationReason::Admin)
            .await
            .unwrap();
        let row = keys
            .list(&user)
            .await
            .unwrap()
            .into_iter()
            .find(|k| k.key_id == active.key.key_id)
            .unwrap();
        assert_eq!(
            row.revocation_reason,
            Some(RevocationReason::Admin),
            "{backend}"
        );

        let store = SeaOrmStore::new(db.clone());
        for r in &rows {
            let row = store.find(&r.key_id).await.unwrap().unwrap();
            assert_eq!(row.expiry_notified_at, None, "{backend}: never reported");
        }
        // The old rows take part in the new calls: none is due (one never expires, one is
        // revoked, one expired), and the next page after the first is the second key.
        assert_eq!(
            keys.expiring_within(Duration::days(7)).await.unwrap(),
            [],
            "{backend}"
        );
        let first = keys
            .list_page(&user, clab_keys_core::ListPage::new(1).unwrap())
            .await
            .unwrap();
        let second = keys
            .list_page(
                &user,
                clab_keys_core::ListPage::new(1)
                    .unwrap()
                    .after(first.next.unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(second.keys[0].key_id, rows[1].key_id, "{backend}");

        // Down the fourth drops its column and keeps the rows.
        Migrator::down(db, Some(1)).await.unwrap();
        assert!(!has_column(db, "expiry_notified_at").await, "{backend}");
        assert!(has_column(db, "replaced_by").await, "{backend}");
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM clab_api_keys", Vec::new()).await,
            3,
            "{backend}: down keeps the keys"
        );

        // Down the third and the second removes the second's two columns and keeps the rows.
        Migrator::down(db, Some(2)).await.unwrap();
        assert!(!has_column(db, "revocation_reason").await, "{backend}");
        assert!(!has_column(db, "replaced_by").await, "{backend}");
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM clab_api_keys", Vec::new()).await,
            3,
            "{backend}: down keeps the keys"
        );

        // And up again, with every later migration: the rows are all there.
        Migrator::up(db, None).await.unwrap();
        assert_eq!(keys.list(&user).await.unwrap().len(), 3, "{backend}");
        assert_eq!(
            keys.hash_version_counts().await.unwrap(),
            [],
            "{backend}: no active key left (one revoked, two before)"
        );
    }
}
