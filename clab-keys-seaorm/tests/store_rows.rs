//! Row-level behaviour the conformance suite does not reach: exact (byte-wise) matching of ids,
//! microsecond timestamps and ordering, and rows that fail to decode. Run on every configured
//! backend.

// Helpers outside `#[test]` functions fail the way the tests do.
#![allow(clippy::unwrap_used)]

mod common;

use clab_keys_core::{
    AuthError, InsertOutcome, KeyId, KeyService, KeyStore as _, NewKey, RevocationReason,
    RevokeOutcome, UserId,
};
use clab_keys_seaorm::SeaOrmStore;
use clab_keys_seaorm::entity::{Column, Entity};
use clab_keys_testing::ManualClock;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, DbBackend, EntityTrait as _, QueryFilter as _};
use sea_orm_migration::MigratorTrait as _;
use time::Duration;

async fn stores() -> Vec<(&'static str, SeaOrmStore, common::TestDb)> {
    let mut out = Vec::new();
    for db in common::all_dbs().await {
        clab_keys_seaorm::migration::Migrator::up(&db.db, None)
            .await
            .unwrap();
        out.push((
            common::backend_name(&db.db),
            SeaOrmStore::new(db.db.clone()),
            db,
        ));
    }
    out
}

fn id(s: &str) -> KeyId {
    KeyId::parse(s).unwrap()
}

#[tokio::test]
async fn ids_match_byte_for_byte() {
    let now = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    for (backend, store, _db) in stores().await {
        let users = [
            UserId::new("alice").unwrap(),
            UserId::new("Alice").unwrap(),
            UserId::new("alice ").unwrap(),
        ];
        let ids = ["abcdefgh", "ABCDEFGH", "abcdefgH"];
        for (user, key_id) in users.iter().zip(ids) {
            let outcome = store
                .insert_within_limit(&common::record(key_id, user, now), 10, now)
                .await
                .unwrap();
            assert_eq!(
                outcome,
                InsertOutcome::Inserted,
                "{backend}: {key_id} is a new id"
            );
        }
        for (user, key_id) in users.iter().zip(ids) {
            let listed = store.list(user).await.unwrap();
            assert_eq!(
                listed.len(),
                1,
                "{backend}: {user:?} sees only their own key"
            );
            assert_eq!(listed[0].key_id.as_str(), key_id, "{backend}");
            let found = store.find(&id(key_id)).await.unwrap().unwrap();
            assert_eq!(&found.user_id, user, "{backend}: find is case-sensitive");
        }
        assert_eq!(
            store
                .revoke(&users[2], &id("abcdefgh"), now, RevocationReason::User)
                .await
                .unwrap(),
            RevokeOutcome::NotFound,
            "{backend}: `alice ` is not `alice`"
        );
    }
}

#[tokio::test]
async fn timestamps_keep_microseconds_and_order() {
    let t0 = time::macros::datetime!(2040-06-01 12:00:00 UTC); // past MySQL's TIMESTAMP range
    let user = UserId::from(7_i64);
    for (backend, store, _db) in stores().await {
        // Same `created_at` for two keys: the tie is broken by key id, byte-wise, descending
        // (`a` > `Z` in bytes, not in most locales).
        let micro = t0 + Duration::microseconds(1);
        for (key_id, at) in [("Zzzzzzzz", micro), ("aaaaaaaa", micro), ("mmmmmmmm", t0)] {
            let mut r = common::record(key_id, &user, at);
            r.expires_at = Some(at + Duration::days(1) + Duration::microseconds(3));
            store.insert_within_limit(&r, 10, t0).await.unwrap();
        }
        let listed = store.list(&user).await.unwrap();
        let order: Vec<&str> = listed.iter().map(|k| k.key_id.as_str()).collect();
        assert_eq!(
            order,
            ["aaaaaaaa", "Zzzzzzzz", "mmmmmmmm"],
            "{backend}: newest first"
        );
        assert_eq!(listed[0].created_at, micro, "{backend}: microseconds kept");
        assert_eq!(
            listed[0].expires_at,
            Some(micro + Duration::days(1) + Duration::microseconds(3)),
            "{backend}"
        );

        // The debounce compares to the microsecond.
        let k = id("mmmmmmmm");
        assert!(
            store.touch(&k, micro, t0).await.unwrap(),
            "{backend}: first touch"
        );
        assert!(
            !store
                .touch(&k, micro + Duration::microseconds(1), micro)
                .await
                .unwrap(),
            "{backend}: cutoff equal to last use: no write"
        );
        let later = micro + Duration::microseconds(1);
        assert!(
            store.touch(&k, later, later).await.unwrap(),
            "{backend}: cutoff 1 µs after last use: writes"
        );
        let row = store.find(&k).await.unwrap().unwrap();
        assert_eq!(row.last_used_at, Some(later), "{backend}");
    }
}

#[tokio::test]
async fn rows_that_do_not_decode_are_store_errors_not_invalid_keys() {
    for (backend, store, db) in stores().await {
        let clock = ManualClock::fixed();
        let keys = KeyService::builder(store.clone(), clab_keys_core::dangerous::sha256_hasher())
            .clock(clock)
            .build()
            .unwrap();
        let user = UserId::from(9_i64);
        let created = keys.create(&user, NewKey::new("k")).await.unwrap();
        let token = created.token.expose_secret().to_owned();
        let key_id = created.key.key_id.as_str().to_owned();
        let corrupt = |col: Column, value: sea_orm::Value| {
            Entity::update_many()
                .col_expr(col, Expr::val(value))
                .filter(Column::KeyId.eq(key_id.as_str()))
                .exec(&db.db)
        };

        corrupt(Column::Scopes, "not a scope!".into())
            .await
            .unwrap();
        assert!(
            store.find(&created.key.key_id).await.is_err(),
            "{backend}: bad scopes"
        );
        match keys.authenticate(token.as_bytes()).await {
            Err(AuthError::Unavailable(_)) => {}
            other => panic!(
                "{backend}: a row that does not decode must fail closed as unavailable, got {other:?}"
            ),
        }
        corrupt(Column::Scopes, "".into()).await.unwrap();
        keys.authenticate(token.as_bytes()).await.unwrap();

        // MySQL's BINARY(32) pads a short value back to 32 bytes, so a short digest cannot be
        // stored there.
        if db.db.get_database_backend() != DbBackend::MySql {
            corrupt(Column::Hash, vec![1_u8; 16].into()).await.unwrap();
            assert!(
                matches!(
                    keys.authenticate(token.as_bytes()).await,
                    Err(AuthError::Unavailable(_))
                ),
                "{backend}: a 16-byte digest is a store error"
            );
        }

        corrupt(Column::KeyId, "bad-id!!".into()).await.unwrap();
        assert!(
            store.list(&user).await.is_err(),
            "{backend}: a malformed key id is a store error"
        );
    }
}
