//! The HTTP conformance table through the tower layer: the routes of the table's app are
//! plain `tower` services, each behind the `AuthLayer` that mirrors the extractor the axum
//! and actix-web apps use there. The management endpoints are not this crate's (it has no
//! router): they are served by core's `ManagementCall`, as in the reference dispatcher, so
//! those rows check the table's app rather than the layer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;

use bytes::Bytes;
use clab_keys_core::{CredentialRouter, MANAGEMENT_PATH, ManagementCall, Principal, ScopeName};
use clab_keys_testing::http_table::{HttpHarness, TestRequest, TestResponse, run_http_table};
use clab_keys_tower::AuthLayer;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tower::{Layer, ServiceExt, service_fn};

struct ProjectsRead;

impl ScopeName for ProjectsRead {
    const NAME: &'static str = "projects:read";
}

/// The handler behind every layer: answers from the `Principal` the layer inserted.
async fn handler(request: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal>();
    let body: Value = match request.uri().path() {
        "/api/security/users/me" => {
            let p = principal.expect("the layer requires a credential here");
            json!({ "user_id": p.user_id().as_str(), "auth": p.kind().as_str() })
        }
        "/api/optional" => json!({ "user_id": principal.map(|p| p.user_id().as_str()) }),
        _ => json!({ "ok": true }),
    };
    let mut response = Response::new(Full::from(body.to_string()));
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    Ok(response)
}

struct TowerApp(CredentialRouter);

impl TowerApp {
    /// The layer each route of the table's app is behind.
    fn layer(&self, path: &str) -> AuthLayer {
        let router = self.0.clone();
        match path {
            "/api/optional" => AuthLayer::optional(router),
            "/api/scoped" => AuthLayer::require_scope::<ProjectsRead>(router),
            "/api/interactive" => AuthLayer::require_interactive(router),
            _ => AuthLayer::new(router),
        }
    }
}

#[async_trait::async_trait(?Send)]
impl HttpHarness for TowerApp {
    async fn send(&mut self, req: TestRequest) -> TestResponse {
        let path = req.path.split('?').next().unwrap_or_default().to_owned();
        if path.starts_with(MANAGEMENT_PATH) {
            let lines = req.authorization.iter().map(Vec::as_slice);
            let answer = match ManagementCall::route(req.method, MANAGEMENT_PATH, &req.path) {
                Ok(call) => {
                    let outcome = self.0.authenticate_optional(lines).await;
                    let body = req.body.clone().unwrap_or_default();
                    call.respond(&self.0, outcome, async { body }).await
                }
                Err(answer) => answer,
            };
            return TestResponse {
                status: answer.status,
                www_authenticate: answer
                    .header("www-authenticate")
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
                cache_control: answer.header("cache-control").map(str::to_owned),
                allow: answer.header("allow").map(str::to_owned),
                link: answer.header("link").map(str::to_owned),
                body: answer.body,
            };
        }
        let mut request = Request::builder().method(req.method).uri(&req.path);
        for line in &req.authorization {
            request = request.header("authorization", line.as_slice());
        }
        let request = request
            .body(Full::from(req.body.unwrap_or_default()))
            .unwrap();
        let service = self.layer(&path).layer(service_fn(handler));
        let response = service.oneshot(request).await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        TestResponse {
            status: response.status().as_u16(),
            www_authenticate: response
                .headers()
                .get_all("www-authenticate")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect(),
            cache_control: header("cache-control"),
            allow: header("allow"),
            link: header("link"),
            body: response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        }
    }
}

#[tokio::test]
async fn tower_layer_passes_the_http_table() {
    let rows = run_http_table(|router| async move { TowerApp(router) }).await;
    assert!(rows > 50, "only {rows} rows ran");
}
