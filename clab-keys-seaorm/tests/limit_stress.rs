//! The per-user limit under more contention than the conformance suite's one round: several
//! users, 50 concurrent raw inserts each, straight to the store (no hashing in between to
//! spread the calls out), on every configured backend.

mod common;

use std::sync::Arc;

use clab_keys_core::{InsertOutcome, KeyStore as _, UserId};
use clab_keys_seaorm::SeaOrmStore;
use sea_orm_migration::MigratorTrait as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_inserts_per_user_leave_exactly_the_limit() {
    let now = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    for test_db in common::all_dbs().await {
        let backend = common::backend_name(&test_db.db);
        clab_keys_seaorm::migration::Migrator::up(&test_db.db, None)
            .await
            .unwrap();
        let store = Arc::new(SeaOrmStore::new(test_db.db.clone()));
        for round in 0..4_i64 {
            let user = UserId::from(1000 + round);
            let tasks: Vec<_> = (0..50)
                .map(|i| {
                    let store = store.clone();
                    let record = common::record(&format!("r{round}{i:06}"), &user, now);
                    tokio::spawn(async move { store.insert_within_limit(&record, 10, now).await })
                })
                .collect();
            let mut inserted = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(InsertOutcome::Inserted) => inserted += 1,
                    Ok(InsertOutcome::LimitReached) => {}
                    other => panic!("{backend}: unexpected outcome {other:?}"),
                }
            }
            assert_eq!(
                inserted, 10,
                "{backend}, round {round}: exactly 10 of 50 inserted"
            );
            assert_eq!(
                store.list(&user).await.unwrap().len(),
                10,
                "{backend}: 10 rows"
            );
        }
    }
}
