//! L-3: with `SetSensitiveRequestHeadersLayer` applied before a header-logging `TraceLayer`, as
//! the crate docs show, no token reaches the logs; without it, the token would be there.

// Test code reports failures by panicking, like `assert!`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::http::header::AUTHORIZATION;
use axum::routing::get;
use clab_keys_axum::{CurrentUser, management_router};
use clab_keys_core::{
    CredentialRouter, KeyHasher, KeyService, MANAGEMENT_PATH, MemoryStore, NewKey, Pepper, UserId,
};
use clab_keys_testing::http_table::{FixedJwtVerifier, JWT_USER1};
use http_body_util::BodyExt;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnRequest, DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;

/// Everything the subscriber writes, in memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

async fn me(user: CurrentUser) -> String {
    user.user_id().to_string()
}

fn trace_layer()
-> TraceLayer<tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>>
{
    TraceLayer::new_for_http()
        .make_span_with(
            DefaultMakeSpan::new()
                .level(Level::INFO)
                .include_headers(true),
        )
        .on_request(DefaultOnRequest::new().level(Level::INFO))
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}

/// The app, with header tracing, and with or without the sensitive-header layer.
fn app(credentials: CredentialRouter, sensitive: bool) -> Router {
    let routes = Router::new()
        .route("/api/security/users/me", get(me))
        .merge(management_router(MANAGEMENT_PATH))
        .with_state(credentials);
    if sensitive {
        // As documented: the sensitive-header layer first, then the trace layer.
        routes.layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
                .layer(trace_layer()),
        )
    } else {
        routes.layer(trace_layer())
    }
}

/// Creates a key, then calls the API with it, with a bad token and with a JWT (creating and
/// listing keys), all at TRACE level; returns the key and what was logged.
async fn run(sensitive: bool) -> (String, String) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let pepper = Pepper::from_bytes(&[7; 32]).expect("a pepper");
    let hasher = KeyHasher::hmac(1, pepper).expect("a hasher");
    let keys = KeyService::builder(MemoryStore::new(), hasher)
        .build()
        .expect("a key service builds");
    let created = keys
        .create(&UserId::from(1_i64), NewKey::new("logged"))
        .await
        .expect("the key is created");
    let key = created.token.expose_secret().to_owned();
    let app = app(
        CredentialRouter::new(keys).with_jwt(FixedJwtVerifier),
        sensitive,
    );

    let requests = [
        (
            "GET",
            "/api/security/users/me",
            format!("Bearer {key}"),
            200,
            "",
        ),
        (
            "GET",
            "/api/security/users/me",
            format!("Bearer {key}x"),
            401,
            "",
        ),
        (
            "GET",
            "/api/user/api-keys",
            format!("Bearer {key}"),
            200,
            "",
        ),
        (
            "POST",
            "/api/user/api-keys",
            format!("Bearer {JWT_USER1}"),
            201,
            r#"{"name":"second"}"#,
        ),
    ];
    let mut created_token = None;
    for (method, path, authorization, status, body) in requests {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(AUTHORIZATION, authorization)
            .body(Body::from(body))
            .expect("the request builds");
        let response = app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), status, "{method} {path}");
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        if status == 201 {
            let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            created_token = json["token"].as_str().map(str::to_owned);
        }
    }
    let logged = capture.text();
    // The token created through the API is never logged either (it is only in the body).
    let created_token = created_token.expect("a token was created");
    assert!(
        !logged.contains(&created_token[10..]),
        "created token logged"
    );
    (key, logged)
}

#[tokio::test]
async fn sensitive_authorization_header_never_reaches_the_trace_logs() {
    let (key, logged) = run(true).await;
    assert!(
        logged.contains("authorization") && logged.contains("Sensitive"),
        "headers should be traced, with Authorization redacted: {logged}"
    );
    // The secret part (after the `clab_user_` prefix) and the JWT are nowhere in the logs.
    assert!(
        !logged.contains(&key[10..]),
        "the API key was logged: {logged}"
    );
    assert!(!logged.contains(JWT_USER1), "the JWT was logged: {logged}");
}

#[tokio::test]
async fn without_the_sensitive_layer_the_trace_logs_would_contain_the_token() {
    // Proves the test above can fail: the same tracing setup does print the header.
    let (key, logged) = run(false).await;
    assert!(
        logged.contains(&key[10..]),
        "expected the token in unredacted logs: {logged}"
    );
    assert!(logged.contains(JWT_USER1));
}
