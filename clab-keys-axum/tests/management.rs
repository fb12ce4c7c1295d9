//! Management-router behaviour beyond the conformance table: the body limit, the order of
//! checks (authentication before the body is looked at), a custom mount path, and
//! percent-escapes in the path below the mount point (as the actix-web scope answers them).

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::http::header::AUTHORIZATION;
use clab_keys_axum::management_router;
use clab_keys_core::{CredentialRouter, MANAGEMENT_PATH, MAX_BODY_LEN};
use clab_keys_testing::http_table::{Fixture, JWT_USER1};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn app(router: CredentialRouter, path: &str) -> Router {
    Router::new()
        .merge(management_router(path))
        .with_state(router)
}

/// Sends a request and returns the status and JSON body.
async fn send(
    app: Router,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(auth) = auth {
        request = request.header(AUTHORIZATION, auth);
    }
    let response = app
        .oneshot(request.body(Body::from(body)).expect("request"))
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// Posts `body` to the management router and returns the status and JSON body.
async fn create(f: &Fixture, auth: Option<&str>, body: Vec<u8>) -> (u16, serde_json::Value) {
    let app = app(f.router.clone(), MANAGEMENT_PATH);
    send(app, "POST", MANAGEMENT_PATH, auth, body).await
}

fn padded_body(len: usize) -> Vec<u8> {
    let mut body = br#"{"name":"ci"}"#.to_vec();
    body.resize(len, b' ');
    body
}

#[tokio::test]
async fn body_at_the_limit_is_accepted() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {JWT_USER1}");
    let (status, _) = create(&f, Some(&bearer), padded_body(MAX_BODY_LEN)).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn body_over_the_limit_is_core_s_413() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {JWT_USER1}");
    for len in [MAX_BODY_LEN + 1, 10 * MAX_BODY_LEN] {
        let (status, json) = create(&f, Some(&bearer), padded_body(len)).await;
        assert_eq!(status, 413, "{len} bytes");
        assert_eq!(json["error"], "payload_too_large");
    }
}

#[tokio::test]
async fn oversized_body_without_credentials_is_401_first() {
    let f = Fixture::new().await;
    let (status, json) = create(&f, None, padded_body(10 * MAX_BODY_LEN)).await;
    assert_eq!(status, 401);
    assert_eq!(json["error"], "unauthorized");
}

#[tokio::test]
async fn oversized_body_with_an_api_key_is_403_first() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {}", f.key);
    let (status, json) = create(&f, Some(&bearer), padded_body(10 * MAX_BODY_LEN)).await;
    assert_eq!(status, 403);
    assert_eq!(json["error"], "interactive_session_required");
}

#[tokio::test]
async fn management_router_mounts_the_same_endpoints_at_a_custom_path() {
    let f = Fixture::new().await;
    let app: Router = Router::new()
        .nest("/v2", Router::new().merge(management_router("/keys")))
        .with_state(f.router.clone());
    let bearer = format!("Bearer {JWT_USER1}");
    let (status, keys) = send(app.clone(), "GET", "/v2/keys", Some(&bearer), Vec::new()).await;
    assert_eq!(status, 200);
    assert_eq!(keys.as_array().map(Vec::len), Some(6));
    // The next page's link names the path the client used, outer prefix included.
    let page = Request::get("/v2/keys?limit=2")
        .header(AUTHORIZATION, &bearer)
        .body(Body::empty())
        .expect("request");
    let page = app.clone().oneshot(page).await.expect("infallible");
    let link = page.headers().get("link").and_then(|l| l.to_str().ok());
    assert!(
        link.is_some_and(|l| l.starts_with("</v2/keys?limit=2&cursor=")),
        "{link:?}"
    );
    let id = Fixture::id_of(&f.key);
    let uri = format!("/v2/keys/{id}");
    let (status, _) = send(app.clone(), "DELETE", &uri, Some(&bearer), Vec::new()).await;
    assert_eq!(status, 204);
    let (status, json) = send(app, "GET", "/v2/keys/", Some(&bearer), Vec::new()).await;
    assert_eq!((status, json["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn percent_escapes_below_the_mount_point_are_decoded() {
    let f = Fixture::new().await;
    let app = app(f.router.clone(), MANAGEMENT_PATH);
    let bearer = format!("Bearer {JWT_USER1}");
    // An escaped slash is a slash: no endpoint, whatever the method.
    for method in ["GET", "DELETE"] {
        let uri = format!("{MANAGEMENT_PATH}/a%2Fb");
        let (status, json) = send(app.clone(), method, &uri, Some(&bearer), Vec::new()).await;
        assert_eq!((status, json["error"].as_str()), (404, Some("not_found")));
    }
    // Bytes that are not UTF-8 name no key (and a key's path takes DELETE only).
    let uri = format!("{MANAGEMENT_PATH}/%FF%FE");
    let (status, json) = send(app.clone(), "DELETE", &uri, Some(&bearer), Vec::new()).await;
    assert_eq!((status, json["error"].as_str()), (404, Some("not_found")));
    let (status, json) = send(app.clone(), "GET", &uri, Some(&bearer), Vec::new()).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
    // An escaped id is the id.
    let id = Fixture::id_of(&f.key);
    let uri = format!("{MANAGEMENT_PATH}/%{:02X}{}", id.as_bytes()[0], &id[1..]);
    let (status, _) = send(app, "DELETE", &uri, Some(&bearer), Vec::new()).await;
    assert_eq!(status, 204);
}
