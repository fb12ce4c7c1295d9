//! `last_used_at` across instances with the verification cache on (contract §4): three
//! instances, each with its own pool, cache and change-log feed, verify one key as fast as
//! they can for more than two windows; the row changes at most once per window in all. A
//! trigger counts the `UPDATE`s that changed `last_used_at`. On an SQLite file always, and on
//! PostgreSQL when `CLAB_KEYS_TEST_POSTGRES_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod feed_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clab_keys_core::{
    CacheConfig, KeyHasher, KeyService, KeyServiceConfig, NewKey, Pepper, UserId,
};
use clab_keys_seaorm::{ChangeLogFeed, SeaOrmStore};
use feed_support::SharedDb;
use sea_orm::{ConnectionTrait as _, DbBackend, Statement};

/// The `last_used_at` window of the test (the default is 60 s).
const WINDOW: Duration = Duration::from_secs(1);
/// How long the three instances verify the key: more than two windows.
const HAMMER: Duration = Duration::from_millis(3_500);

const SQLITE_TRIGGER: &[&str] = &[
    "CREATE TABLE last_used_changes (at TEXT)",
    "CREATE TRIGGER count_last_used AFTER UPDATE OF last_used_at ON clab_api_keys \
     WHEN NEW.last_used_at IS NOT OLD.last_used_at \
     BEGIN INSERT INTO last_used_changes VALUES (NEW.last_used_at); END",
];

const POSTGRES_TRIGGER: &[&str] = &[
    "CREATE TABLE last_used_changes (at TIMESTAMPTZ)",
    "CREATE FUNCTION count_last_used() RETURNS trigger AS $$ BEGIN \
     INSERT INTO last_used_changes VALUES (NEW.last_used_at); RETURN NEW; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER count_last_used AFTER UPDATE OF last_used_at ON clab_api_keys \
     FOR EACH ROW WHEN (NEW.last_used_at IS DISTINCT FROM OLD.last_used_at) \
     EXECUTE FUNCTION count_last_used()",
];

async fn instance(db: &SharedDb) -> KeyService {
    let conn = db.connect().await;
    let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[9; 32]).unwrap()).unwrap();
    let config = KeyServiceConfig::default()
        .last_used_window(time::Duration::try_from(WINDOW).unwrap())
        .cache(Some(
            CacheConfig::default().ttl(time::Duration::seconds(60)),
        ));
    KeyService::builder(SeaOrmStore::new(conn.clone()), hasher)
        .config(config)
        .invalidation_feed(Arc::new(ChangeLogFeed::new(conn)))
        .build()
        .unwrap()
}

async fn changes(db: &SharedDb) -> i64 {
    let conn = db.connect().await;
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM last_used_changes",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn hammered_by_three_instances_changes_the_row_at_most_once_per_window(db: SharedDb) {
    let admin = db.connect().await;
    let trigger = match admin.get_database_backend() {
        DbBackend::Postgres => POSTGRES_TRIGGER,
        _ => SQLITE_TRIGGER,
    };
    for sql in trigger {
        admin.execute_unprepared(sql).await.unwrap();
    }
    let nodes = [
        instance(&db).await,
        instance(&db).await,
        instance(&db).await,
    ];
    let user = UserId::new("7").unwrap();
    let token = nodes[0]
        .create(&user, NewKey::new("hammered"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();

    let start = Instant::now();
    let mut tasks = Vec::new();
    for node in &nodes {
        let (node, token) = (node.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut verified = 0u64;
            while start.elapsed() < HAMMER {
                node.authenticate(token.as_bytes()).await.unwrap();
                verified += 1;
                if verified.is_multiple_of(64) {
                    tokio::task::yield_now().await;
                }
            }
            node.flush().await;
            verified
        }));
    }
    let mut verified = 0;
    for task in tasks {
        verified += task.await.unwrap();
    }
    let elapsed = start.elapsed();
    let changed = changes(&db).await;
    // The row can change once at the first use and then once each time a window has passed.
    let windows = (elapsed.as_secs_f64() / WINDOW.as_secs_f64()).floor() as i64 + 1;
    eprintln!(
        "{:?}: 3 instances, {verified} verifications in {elapsed:?}, window {WINDOW:?}: \
         {changed} UPDATEs changed last_used_at (at most {windows} allowed)",
        admin.get_database_backend()
    );
    assert!(changed >= 1, "the key's use was never recorded");
    assert!(changed <= windows, "{changed} changes in {windows} windows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_three_cached_instances_change_last_used_at_at_most_once_per_window() {
    hammered_by_three_instances_changes_the_row_at_most_once_per_window(SharedDb::sqlite().await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_three_cached_instances_change_last_used_at_at_most_once_per_window() {
    let Some(db) = SharedDb::server(feed_support::POSTGRES_ENV).await else {
        return;
    };
    hammered_by_three_instances_changes_the_row_at_most_once_per_window(db).await;
}
