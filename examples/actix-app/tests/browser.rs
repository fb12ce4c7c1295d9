//! The settings page and `/developers` of `actix-app` in headless Chromium (skipped when
//! chromium/chromedriver are missing, unless `CLAB_KEYS_REQUIRE_BROWSER=1`). Screenshots go to
//! `target/screenshots/actix-app/`. Shared with axum-app: see
//! `examples/test-support/src/browser.rs`.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_example_tests as support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_copy_use_and_revoke_a_key_in_the_browser() {
    support::browser::walk(env!("CARGO_BIN_EXE_actix-app"), "actix-app").await;
}
