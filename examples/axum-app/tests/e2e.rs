//! End-to-end: the `axum-app` binary, started as a person would (`ADDR`, a fresh working
//! directory, nothing else), walked through the original app's test plan over real HTTP.
//! The plan itself is shared with actix-app: see `support/plan.rs`.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

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
