//! Management-scope behaviour beyond the conformance table: the body limit, the order of
//! checks (authentication before the body is looked at), a custom mount path, and
//! percent-escapes in the path below the mount point (as the axum router answers them).

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use actix_web::http::Method;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{App, test, web};
use clab_keys_actix::management_scope;
use clab_keys_core::{MANAGEMENT_PATH, MAX_BODY_LEN};
use clab_keys_testing::http_table::{Fixture, JWT_USER1};

/// Posts `body` to the management scope and returns the status and JSON body.
async fn create(f: &Fixture, auth: Option<&str>, body: Vec<u8>) -> (u16, serde_json::Value) {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(f.router.clone()))
            .service(management_scope(MANAGEMENT_PATH)),
    )
    .await;
    let mut req = test::TestRequest::post()
        .uri(MANAGEMENT_PATH)
        .set_payload(body);
    if let Some(auth) = auth {
        req = req.append_header((AUTHORIZATION, auth));
    }
    let response = test::call_service(&app, req.to_request()).await;
    let status = response.status().as_u16();
    let body = test::read_body(response).await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

fn padded_body(len: usize) -> Vec<u8> {
    let mut body = br#"{"name":"ci"}"#.to_vec();
    body.resize(len, b' ');
    body
}

#[actix_web::test]
async fn body_at_the_limit_is_accepted() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {JWT_USER1}");
    let (status, _) = create(&f, Some(&bearer), padded_body(MAX_BODY_LEN)).await;
    assert_eq!(status, 201);
}

#[actix_web::test]
async fn body_over_the_limit_is_core_s_413() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {JWT_USER1}");
    for len in [MAX_BODY_LEN + 1, 10 * MAX_BODY_LEN] {
        let (status, json) = create(&f, Some(&bearer), padded_body(len)).await;
        assert_eq!(status, 413, "{len} bytes");
        assert_eq!(json["error"], "payload_too_large");
    }
}

#[actix_web::test]
async fn oversized_body_without_credentials_is_401_first() {
    let f = Fixture::new().await;
    let (status, json) = create(&f, None, padded_body(10 * MAX_BODY_LEN)).await;
    assert_eq!(status, 401);
    assert_eq!(json["error"], "unauthorized");
}

#[actix_web::test]
async fn oversized_body_with_an_api_key_is_403_first() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {}", f.key);
    let (status, json) = create(&f, Some(&bearer), padded_body(10 * MAX_BODY_LEN)).await;
    assert_eq!(status, 403);
    assert_eq!(json["error"], "interactive_session_required");
}

#[actix_web::test]
async fn management_scope_mounts_the_same_endpoints_at_a_custom_path() {
    let f = Fixture::new().await;
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(f.router.clone()))
            .service(web::scope("/v2").service(management_scope("/keys"))),
    )
    .await;
    let bearer = format!("Bearer {JWT_USER1}");
    let list = test::TestRequest::get()
        .uri("/v2/keys")
        .append_header((AUTHORIZATION, bearer.as_str()))
        .to_request();
    let keys: serde_json::Value = test::call_and_read_body_json(&app, list).await;
    assert_eq!(keys.as_array().map(Vec::len), Some(6));
    // The next page's link names the path the client used, outer prefix included.
    let page = test::TestRequest::get()
        .uri("/v2/keys?limit=2")
        .append_header((AUTHORIZATION, bearer.as_str()))
        .to_request();
    let page = test::call_service(&app, page).await;
    let link = page.headers().get("link").and_then(|l| l.to_str().ok());
    assert!(
        link.is_some_and(|l| l.starts_with("</v2/keys?limit=2&cursor=")),
        "{link:?}"
    );
    let id = Fixture::id_of(&f.key);
    let revoke = test::TestRequest::delete()
        .uri(&format!("/v2/keys/{id}"))
        .append_header((AUTHORIZATION, bearer.as_str()))
        .to_request();
    assert_eq!(test::call_service(&app, revoke).await.status(), 204);
}

#[actix_web::test]
async fn percent_escapes_below_the_mount_point_are_decoded() {
    let f = Fixture::new().await;
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(f.router.clone()))
            .service(management_scope(MANAGEMENT_PATH)),
    )
    .await;
    let bearer = format!("Bearer {JWT_USER1}");
    let send = |method: Method, uri: String| {
        test::TestRequest::default()
            .method(method)
            .uri(&uri)
            .append_header((AUTHORIZATION, bearer.as_str()))
            .to_request()
    };
    // An escaped slash is a slash: no endpoint, whatever the method.
    for method in [Method::GET, Method::DELETE] {
        let request = send(method, format!("{MANAGEMENT_PATH}/a%2Fb"));
        let json: serde_json::Value = test::call_and_read_body_json(&app, request).await;
        assert_eq!(json["error"], "not_found");
    }
    // Bytes that are not UTF-8 name no key (and a key's path takes DELETE only).
    let request = send(Method::DELETE, format!("{MANAGEMENT_PATH}/%FF%FE"));
    let json: serde_json::Value = test::call_and_read_body_json(&app, request).await;
    assert_eq!(json["error"], "not_found");
    let request = send(Method::GET, format!("{MANAGEMENT_PATH}/%FF%FE"));
    let json: serde_json::Value = test::call_and_read_body_json(&app, request).await;
    assert_eq!(json["error"], "method_not_allowed");
    // An escaped id is the id.
    let id = Fixture::id_of(&f.key);
    let uri = format!("{MANAGEMENT_PATH}/%{:02X}{}", id.as_bytes()[0], &id[1..]);
    let response = test::call_service(&app, send(Method::DELETE, uri)).await;
    assert_eq!(response.status(), 204);
}
