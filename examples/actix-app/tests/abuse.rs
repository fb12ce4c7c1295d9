//! The login flood bound, failed-login throttling and the request log's redaction (contract
//! §7), on the `actix-app` binary. The plans are shared with the other app: see
//! `examples/test-support/src/login_limits.rs` and `request_log.rs`.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_example_tests as support;

const BIN: &str = env!("CARGO_BIN_EXE_actix-app");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled_per_address_and_other_addresses_still_log_in() {
    support::login_limits::failed_logins_are_throttled_per_address(BIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_login_answers_503_login_busy_and_a_login_right_after_succeeds() {
    support::login_limits::a_login_flood_is_bounded(BIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_or_jwt_reaches_the_log_whatever_the_header() {
    support::request_log::no_token_in_any_log(BIN).await;
}
