//! Runs the HTTP conformance table against a framework-free reference dispatcher built only
//! from core's router and management call. The adapters must match it row for row; this test
//! proves the table itself is consistent with core.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_core::{ApiResponse, CredentialRouter, MANAGEMENT_PATH, ManagementCall};
use clab_keys_testing::http_table::{HttpHarness, TestRequest, TestResponse, run_http_table};
use serde_json::json;

struct Reference(CredentialRouter);

impl Reference {
    async fn dispatch(&self, req: &TestRequest) -> ApiResponse {
        let router = &self.0;
        let lines = || req.authorization.iter().map(Vec::as_slice);
        let path = req.path.split('?').next().unwrap_or_default();
        if path == "/api/optional" {
            return match router.authenticate_optional(lines()).await {
                Ok(p) => ApiResponse::json(
                    200,
                    &json!({ "user_id": p.map(|p| p.user_id().to_string()) }),
                ),
                Err(r) => r.to_response(),
            };
        }
        if path.starts_with(MANAGEMENT_PATH) {
            let call = match ManagementCall::route(req.method, MANAGEMENT_PATH, &req.path) {
                Ok(call) => call,
                Err(answer) => return answer,
            };
            let outcome = router.authenticate_optional(lines()).await;
            let body = req.body.clone().unwrap_or_default();
            return call.respond(router, outcome, async { body }).await;
        }
        let principal = match router.authenticate(lines()).await {
            Ok(p) => p,
            Err(r) => return r.to_response(),
        };
        match (req.method, path) {
            ("GET", "/api/security/users/me") => ApiResponse::json(
                200,
                &json!({ "user_id": principal.user_id().as_str(), "auth": principal.kind().as_str() }),
            ),
            ("GET", "/api/scoped") => {
                match principal.require_scope("projects:read", router.realm()) {
                    Ok(()) => ApiResponse::json(200, &json!({ "ok": true })),
                    Err(r) => r.to_response(),
                }
            }
            ("GET", "/api/interactive") => match principal.require_interactive(router.realm()) {
                Ok(()) => ApiResponse::json(200, &json!({ "ok": true })),
                Err(r) => r.to_response(),
            },
            _ => ApiResponse::error(404, "not_found", "no such route"),
        }
    }
}

#[async_trait::async_trait(?Send)]
impl HttpHarness for Reference {
    async fn send(&mut self, req: TestRequest) -> TestResponse {
        let r = self.dispatch(&req).await;
        TestResponse {
            status: r.status,
            www_authenticate: r
                .header("www-authenticate")
                .map(str::to_owned)
                .into_iter()
                .collect(),
            cache_control: r.header("cache-control").map(str::to_owned),
            allow: r.header("allow").map(str::to_owned),
            link: r.header("link").map(str::to_owned),
            body: r.body,
        }
    }
}

#[tokio::test]
async fn reference_dispatcher_passes_the_http_table() {
    let rows = run_http_table(|router| async move { Reference(router) }).await;
    println!("http conformance table: {rows} rows passed");
    assert_eq!(rows, clab_keys_testing::http_table::rows().len());
}
