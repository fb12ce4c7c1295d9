//! End-to-end: the `axum-app` binary, started as a person would (`ADDR`, a fresh working
//! directory, nothing else), walked through the original app's test plan over real HTTP.
//! The plan itself is shared with actix-app: see `examples/test-support/src/plan.rs`.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_example_tests as support;

const BIN: &str = env!("CARGO_BIN_EXE_axum-app");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_plan_over_http_with_a_restart() {
    support::plan::walk(BIN, "axum-app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_url_chooses_the_database() {
    support::plan::database_url(BIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configuration_is_refused_at_start() {
    support::plan::refused_configuration(BIN).await;
}

/// At debug level every request is logged with its headers, and `Authorization` shows by name
/// only (`request_log`; tests/abuse.rs checks every other place a token may travel).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_logs_show_authorization_by_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let running = support::Launch::new(BIN, dir.path()).start().await;
    let token = "clab_user_AAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBCCCCCC";
    let response = running
        .http
        .get("/api/security/users/me", Some(token))
        .await;
    assert_eq!(response.status, 401);
    let output = running.stop().await;
    assert!(
        output.stderr().contains("authorization: [REDACTED]"),
        "{}",
        output.all()
    );
    support::assert_no_secret_in(&output, &[token.to_owned()]);
}

/// PostgreSQL and MySQL/MariaDB through `DATABASE_URL`, when `.ci/run`'s
/// `CLAB_KEYS_TEST_POSTGRES_URL` / `CLAB_KEYS_TEST_MYSQL_URL` are set (skipped otherwise).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_mysql_through_database_url() {
    support::plan::server_databases(BIN).await;
}

/// Two instances on one SQLite file, the cache on (300 s) and the change-log feed: a key
/// revoked on one is refused by the other within the feed's bound, not the TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_instance_is_refused_by_another_on_the_same_sqlite_file() {
    support::revocation::sqlite(BIN).await;
}
