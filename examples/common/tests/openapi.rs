//! The document both apps serve at `/openapi.json`, and the endpoint table `/developers` renders
//! from it. The answers themselves are checked against it by `scripts/openapi-check.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_example_common::openapi::{document, document_json, openapi_response};
use clab_keys_example_common::pages::{
    ASSETS, CONTENT_SECURITY_POLICY, DEVELOPERS_HTML, OPENAPI_ENDPOINTS_MARKER, developers_page,
};
use clab_keys_example_common::static_response;
use serde_json::Value;

fn operations(doc: &Value) -> Vec<String> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            all.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    all.sort();
    all
}

#[test]
fn the_document_lists_every_route_of_the_apps() {
    let doc: Value = serde_json::from_str(document_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let listed = operations(&doc);
    let mut expected: Vec<String> = [
        "POST /api/auth/login",
        "GET /api/security/users/me",
        "GET /api/echo",
        "GET /healthz",
        "GET /openapi.json",
        "POST /api/user/api-keys",
        "GET /api/user/api-keys",
        "DELETE /api/user/api-keys/{id}",
        "PATCH /api/user/api-keys/{id}",
        "POST /api/user/api-keys/{id}/rotate",
    ]
    .map(String::from)
    .to_vec();
    expected.extend(ASSETS.iter().map(|a| format!("GET {}", a.path)));
    expected.sort();
    assert_eq!(listed, expected);
    // Every operation says what it does, and the key endpoints use the library's scheme.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(operation["summary"].is_string(), "{method} {path}");
        }
    }
    assert_eq!(
        doc["paths"]["/api/security/users/me"]["get"]["security"][0]["bearer"],
        serde_json::json!([])
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[test]
fn the_document_is_served_as_json_and_built_once() {
    let response = openapi_response();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.body, document_json().as_bytes());
    assert_eq!(
        serde_json::to_value(document()).unwrap(),
        serde_json::from_str::<Value>(document_json()).unwrap()
    );
}

#[test]
fn developers_shows_a_link_and_the_endpoint_table() {
    assert!(DEVELOPERS_HTML.contains(OPENAPI_ENDPOINTS_MARKER));
    let page = developers_page();
    assert!(!page.contains(OPENAPI_ENDPOINTS_MARKER));
    assert!(page.contains("href=\"/openapi.json\""));
    let table = &page[page.find("<table id=\"openapi-endpoints\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let doc: Value = serde_json::from_str(document_json()).unwrap();
    for operation in operations(&doc) {
        assert!(
            table.contains(&format!("<code>{operation}</code>")),
            "{operation} missing from the table"
        );
    }
    assert_eq!(table.matches("<tr>").count(), operations(&doc).len() + 1);
    // Nothing the Content-Security-Policy blocks: no inline script, style or handler.
    assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self'"));
    for blocked in ["<script", "style=", "onclick", "javascript:"] {
        assert!(!table.contains(blocked), "{blocked}");
    }
    // And that is the page the apps serve.
    let served = static_response("/developers").unwrap();
    assert_eq!(served.body, page.as_bytes());
}
