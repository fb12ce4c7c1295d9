//! Runs the HTTP conformance table (clab-keys-testing) against an axum app built from this crate's extractors,
//! middleware and management router: every row must get exactly the answer core's reference
//! dispatcher gives.

// Test code reports failures by panicking, like `assert!`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use axum::Router;
use clab_keys_testing::http_table::{HttpHarness, TestRequest, TestResponse, rows, run_http_table};

struct AxumHarness(Router);

#[async_trait::async_trait(?Send)]
impl HttpHarness for AxumHarness {
    async fn send(&mut self, request: TestRequest) -> TestResponse {
        common::send(&self.0, request).await
    }
}

#[tokio::test]
async fn axum_adapter_passes_the_http_table() {
    let passed =
        run_http_table(|router| async move { AxumHarness(common::table_routes(router)) }).await;
    println!("http conformance table (axum): {passed} rows passed");
    assert_eq!(passed, rows().len());
}
