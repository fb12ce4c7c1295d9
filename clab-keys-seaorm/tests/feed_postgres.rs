//! `PgNotifyFeed` (contract §4) on PostgreSQL, when `CLAB_KEYS_TEST_POSTGRES_URL` is set (a
//! database and a channel per test): instances each with their own pool and feed learn of a
//! revocation on any of them within the bound; a verification that read before the
//! revocation never caches the key; a killed listening connection bypasses the cache until
//! the feed is back and has heard a heartbeat; a store that is down is an error, never a
//! cached success.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod feed_support;

use std::sync::Arc;
use std::time::Instant;

use clab_keys_core::{AuthError, FeedError, InvalidationFeed, NewKey, UserId};
use clab_keys_seaorm::PgNotifyFeed;
use feed_support::*;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};

const LABEL: &str = "LISTEN/NOTIFY on postgres";

thread_local! {
    /// The channel of the test running on this thread (each test has its own, so tests on
    /// one server never hear each other).
    static CHANNEL: std::cell::RefCell<String> = std::cell::RefCell::new(unique_name());
}

fn pg_notify(db: &DatabaseConnection) -> Arc<dyn InvalidationFeed> {
    let channel = CHANNEL.with(|c| c.borrow().clone());
    Arc::new(PgNotifyFeed::new(db).unwrap().channel(channel).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_instance_is_refused_on_the_others_within_the_bound() {
    let Some(db) = SharedDb::server(POSTGRES_ENV).await else {
        return;
    };
    revoked_on_one_is_refused_on_the_others(&db, pg_notify, LABEL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_that_read_before_a_revoke_elsewhere_does_not_cache_the_key() {
    let Some(db) = SharedDb::server(POSTGRES_ENV).await else {
        return;
    };
    a_read_before_a_revoke_elsewhere_does_not_cache_the_key(&db, pg_notify, LABEL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_is_an_error_never_a_cached_success() {
    let Some(db) = SharedDb::server(POSTGRES_ENV).await else {
        return;
    };
    // The listener keeps its own connection; the heartbeats go through the closed pool and
    // stop coming back, so the lease lapses.
    a_store_that_is_down_is_an_error_not_a_cached_success(&db, pg_notify, LABEL).await;
}

async fn admin_sql(admin: &DatabaseConnection, sql: &str) {
    admin
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Terminates the backends of the test database: the feeds' listening connections, or all of
/// them (but the admin connection, which is on another database). The number terminated.
async fn terminate(admin: &DatabaseConnection, db: &SharedDb, listeners_only: bool) -> i64 {
    let filter = if listeners_only {
        " AND application_name = 'clab-keys invalidation feed'"
    } else {
        ""
    };
    let row = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid(){filter}"
            ),
            [db.name.clone().into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_bypasses_the_cache_until_the_feed_is_back_and_caught_up() {
    let Some(db) = SharedDb::server(POSTGRES_ENV).await else {
        return;
    };
    let nodes = [
        Node::new(&db, pg_notify).await,
        Node::new(&db, pg_notify).await,
    ];
    let elsewhere = unannounced(&db).await;
    let admin = db.admin().await;
    let user = UserId::from(1_i64);
    let created = nodes[0].keys.create(&user, NewKey::new("k")).await.unwrap();
    let token = created.token.expose_secret().to_owned();
    until_cached(
        &[&nodes[0], &nodes[1]],
        &elsewhere,
        &user,
        &[&token],
        SETUP_CEILING,
    )
    .await;

    // No new connection to the database from here on, so the feeds cannot come back; then
    // their listening connections are killed.
    admin_sql(
        &admin,
        &format!("ALTER DATABASE {} ALLOW_CONNECTIONS false", db.name),
    )
    .await;
    let killed_at = Instant::now();
    assert_eq!(
        terminate(&admin, &db, true).await,
        2,
        "one listener per instance"
    );
    for (i, node) in nodes.iter().enumerate() {
        until_bypassed(node, &elsewhere, &user, BOUND).await;
        eprintln!(
            "{LABEL}: instance {i} bypasses its cache by {:?} after its listener was killed",
            killed_at.elapsed()
        );
    }

    // The store down too: verifications are errors (503), never the warm cache's success.
    terminate(&admin, &db, false).await;
    for node in &nodes {
        let result = node.keys.authenticate(token.as_bytes()).await;
        assert!(
            matches!(result, Err(AuthError::Unavailable(_))),
            "store down: {result:?}"
        );
    }

    // Connections allowed again: the feeds reconnect, hear a heartbeat, and the caches are
    // used again (an unannounced revocation goes unseen by a warm cache).
    admin_sql(
        &admin,
        &format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", db.name),
    )
    .await;
    let latency = until_cached(
        &[&nodes[0], &nodes[1]],
        &elsewhere,
        &user,
        &[],
        CEILING + CEILING,
    )
    .await;
    eprintln!("{LABEL}: the caches are trusted again {latency:?} after connections were allowed");
    let _ = admin.close().await;
}

#[tokio::test]
async fn a_feed_needs_a_postgres_connection_and_a_valid_channel() {
    let sqlite = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
    assert!(matches!(PgNotifyFeed::new(&sqlite), Err(FeedError { .. })));
    let Some(db) = SharedDb::server(POSTGRES_ENV).await else {
        return;
    };
    let conn = db.connect().await;
    let feed = PgNotifyFeed::new(&conn).unwrap();
    assert!(feed.clone().channel("").is_err());
    assert!(feed.clone().channel("x".repeat(64)).is_err());
    assert!(feed.clone().channel("a\0b").is_err());
    assert!(feed.channel("x".repeat(63)).is_ok());
}
