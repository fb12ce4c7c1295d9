//! The layer's gRPC mode and its handling of the request extensions: a gRPC request is
//! refused with core's gRPC status (HTTP 200, `grpc-status`, `grpc-message` = the HTTP
//! reason code), never with a JSON body, and the wrapped service sees only the layer's own
//! verdict.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use clab_keys_core::{CredentialRouter, Principal, ScopeName, UserId, dangerous};
use clab_keys_testing::http_table::{Fixture, JWT_USER1, tamper_checksum};
use clab_keys_tower::AuthLayer;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tower::{Layer, ServiceExt, service_fn};

struct ProjectsRead;

impl ScopeName for ProjectsRead {
    const NAME: &'static str = "projects:read";
}

/// What the layer answered, and how often the wrapped service ran.
struct Answer {
    status: u16,
    grpc_status: Option<String>,
    grpc_message: Option<String>,
    content_type: Option<String>,
    www_authenticate: Option<String>,
    body: Bytes,
    /// The user id the wrapped service saw in the extensions (`Some("")`: it ran, anonymous).
    seen: Option<String>,
}

async fn call(layer: AuthLayer, request: Request<Full<Bytes>>) -> Answer {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(None));
    let service = layer.layer(service_fn({
        let calls = calls.clone();
        let seen = seen.clone();
        move |request: Request<Full<Bytes>>| {
            calls.fetch_add(1, Ordering::SeqCst);
            *seen.lock().unwrap() = Some(
                request
                    .extensions()
                    .get::<Principal>()
                    .map(|p| p.user_id().to_string())
                    .unwrap_or_default(),
            );
            async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok")))) }
        }
    }));
    let response = service.oneshot(request).await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let answer = Answer {
        status: response.status().as_u16(),
        grpc_status: header("grpc-status"),
        grpc_message: header("grpc-message"),
        content_type: header("content-type"),
        www_authenticate: header("www-authenticate"),
        body: Bytes::new(),
        seen: seen.lock().unwrap().clone(),
    };
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(calls.load(Ordering::SeqCst) <= 1);
    Answer { body, ..answer }
}

fn grpc(authorization: Option<&str>) -> Request<Full<Bytes>> {
    let mut request = Request::post("/clabkeys.example.v1.Identity/Whoami")
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.body(Full::default()).unwrap()
}

fn assert_grpc_refusal(answer: &Answer, code: &str, reason: &str) {
    assert_eq!(answer.status, 200, "gRPC refusals travel in HTTP 200");
    assert_eq!(answer.grpc_status.as_deref(), Some(code));
    assert_eq!(answer.grpc_message.as_deref(), Some(reason));
    assert_eq!(answer.content_type.as_deref(), Some("application/grpc"));
    assert!(answer.body.is_empty(), "no JSON body for gRPC");
    assert!(answer.www_authenticate.is_none());
    assert_eq!(answer.seen, None, "the wrapped service must not run");
}

fn router(f: &Fixture) -> CredentialRouter {
    f.router.clone()
}

#[tokio::test]
async fn grpc_without_credential_is_unauthenticated() {
    let f = Fixture::new().await;
    let answer = call(AuthLayer::new(router(&f)), grpc(None)).await;
    assert_grpc_refusal(&answer, "16", "unauthorized");
}

#[tokio::test]
async fn grpc_with_malformed_header_is_unauthenticated_invalid_request() {
    let f = Fixture::new().await;
    let answer = call(AuthLayer::new(router(&f)), grpc(Some("Bearer"))).await;
    assert_grpc_refusal(&answer, "16", "invalid_request");
}

#[tokio::test]
async fn grpc_with_bad_token_is_unauthenticated_invalid_token() {
    let f = Fixture::new().await;
    for token in [
        tamper_checksum(&f.key),
        f.revoked_key.clone(),
        f.expired_key.clone(),
    ] {
        let answer = call(
            AuthLayer::new(router(&f)),
            grpc(Some(&format!("Bearer {token}"))),
        )
        .await;
        assert_grpc_refusal(&answer, "16", "invalid_token");
    }
}

#[tokio::test]
async fn grpc_without_the_scope_is_permission_denied() {
    let f = Fixture::new().await;
    let layer = AuthLayer::require_scope::<ProjectsRead>(router(&f));
    let bearer = format!("Bearer {}", f.other_scope_key);
    let answer = call(layer, grpc(Some(&bearer))).await;
    assert_grpc_refusal(&answer, "7", "insufficient_scope");
}

#[tokio::test]
async fn grpc_with_an_api_key_on_an_interactive_layer_is_permission_denied() {
    let f = Fixture::new().await;
    let layer = AuthLayer::require_interactive(router(&f));
    let answer = call(layer, grpc(Some(&format!("Bearer {}", f.key)))).await;
    assert_grpc_refusal(&answer, "7", "interactive_session_required");
}

#[tokio::test]
async fn grpc_with_the_store_down_is_unavailable() {
    let f = Fixture::new().await;
    f.store.set_failing(true);
    let answer = call(
        AuthLayer::new(router(&f)),
        grpc(Some(&format!("Bearer {}", f.key))),
    )
    .await;
    assert_grpc_refusal(&answer, "14", "temporarily_unavailable");
}

#[tokio::test]
async fn grpc_with_a_valid_key_or_jwt_reaches_the_service() {
    let f = Fixture::new().await;
    for token in [f.key.as_str(), JWT_USER1] {
        let answer = call(
            AuthLayer::new(router(&f)),
            grpc(Some(&format!("Bearer {token}"))),
        )
        .await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.grpc_status, None);
        assert_eq!(answer.seen.as_deref(), Some("1"));
        assert_eq!(answer.body, "ok");
    }
}

#[tokio::test]
async fn http_refusal_is_json_with_a_challenge() {
    let f = Fixture::new().await;
    let request = Request::get("/").body(Full::default()).unwrap();
    let answer = call(AuthLayer::new(router(&f)), request).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.grpc_status, None);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some(r#"Bearer realm="clab-keys-test""#)
    );
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(json["error"], "unauthorized");
}

#[tokio::test]
async fn a_principal_planted_before_the_layer_is_dropped() {
    let f = Fixture::new().await;
    let planted = dangerous::session_principal(UserId::from(999_i64), None);
    // Anonymous through the optional layer: the planted principal does not survive.
    let mut request = Request::get("/").body(Full::default()).unwrap();
    request.extensions_mut().insert(planted.clone());
    let answer = call(AuthLayer::optional(router(&f)), request).await;
    assert_eq!(answer.seen.as_deref(), Some(""));
    // With a key: the key's user, not the planted one.
    let mut request = Request::get("/")
        .header("authorization", format!("Bearer {}", f.key))
        .body(Full::default())
        .unwrap();
    request.extensions_mut().insert(planted);
    let answer = call(AuthLayer::new(router(&f)), request).await;
    assert_eq!(answer.seen.as_deref(), Some("1"));
}

#[tokio::test]
async fn optional_layer_still_refuses_a_bad_credential_over_grpc() {
    let f = Fixture::new().await;
    let answer = call(AuthLayer::optional(router(&f)), grpc(Some("Bearer nope"))).await;
    assert_grpc_refusal(&answer, "16", "invalid_token");
    let answer = call(AuthLayer::optional(router(&f)), grpc(None)).await;
    assert_eq!(answer.seen.as_deref(), Some(""));
}
