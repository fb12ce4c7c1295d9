//! `GET /openapi.json` of `actix-app` and its real answers against it: the check both apps share
//! (`examples/test-support/src/openapi.rs`). The validation itself runs when
//! `CLAB_KEYS_OPENAPI_PYTHON` is set, as `scripts/openapi-check.sh` does; otherwise it is skipped,
//! saying so, and only the statuses and the served document are checked.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_example_tests as support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answers_conform_to_the_openapi_document() {
    support::openapi::check(env!("CARGO_BIN_EXE_actix-app"), "actix-app").await;
}
