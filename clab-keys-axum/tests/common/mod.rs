//! The app and harness shared by the tests that run core's HTTP conformance table through
//! axum: the table's routes built from this crate's extractors, middleware and management
//! router, and one function that sends a table request with `oneshot`.

use axum::body::Body;
use axum::extract::FromRef;
use axum::http::header::{
    ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, LINK, WWW_AUTHENTICATE,
};
use axum::http::{HeaderValue, Request};
use axum::routing::get;
use axum::{Json, Router, middleware};
use clab_keys_axum::{CurrentUser, InteractiveUser, MaybeUser, management_router, require_scope};
use clab_keys_core::{CredentialRouter, MANAGEMENT_PATH, ScopeName};
use clab_keys_testing::http_table::{TestRequest, TestResponse};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// An app state of the app's own type, to show that the adapter only needs `FromRef`.
#[derive(Clone)]
struct AppState {
    credentials: CredentialRouter,
}

impl FromRef<AppState> for CredentialRouter {
    fn from_ref(state: &AppState) -> Self {
        state.credentials.clone()
    }
}

async fn me(user: CurrentUser) -> Json<Value> {
    Json(json!({ "user_id": user.user_id().as_str(), "auth": user.kind().as_str() }))
}

async fn optional(MaybeUser(user): MaybeUser) -> Json<Value> {
    Json(json!({ "user_id": user.map(|u| u.user_id().to_string()) }))
}

/// The scope the table's `/api/scoped` route requires.
pub struct ProjectsRead;

impl ScopeName for ProjectsRead {
    const NAME: &'static str = "projects:read";
}

async fn ok() -> Json<Value> {
    Json(json!({ "ok": true }))
}

async fn interactive(_user: InteractiveUser) -> Json<Value> {
    Json(json!({ "ok": true }))
}

/// The routes the table calls (see `clab_keys_testing::http_table`).
pub fn table_routes(credentials: CredentialRouter) -> Router {
    let state = AppState { credentials };
    Router::new()
        .route("/api/security/users/me", get(me))
        .route("/api/optional", get(optional))
        .route(
            "/api/scoped",
            get(ok).route_layer(middleware::from_fn_with_state(
                state.clone(),
                require_scope::<ProjectsRead>,
            )),
        )
        .route("/api/interactive", get(interactive))
        .merge(management_router(MANAGEMENT_PATH))
        .with_state(state)
}

/// Sends one table request to `app` and returns what the table checks.
pub async fn send(app: &Router, request: TestRequest) -> TestResponse {
    let mut builder = Request::builder()
        .method(request.method)
        .uri(request.path.as_str());
    for line in &request.authorization {
        // Raw bytes: some rows are not ASCII, and must reach the adapter as they are.
        let value = HeaderValue::from_bytes(line).expect("a table header is a valid value");
        builder = builder.header(AUTHORIZATION, value);
    }
    let body = match request.body {
        Some(body) => {
            builder = builder.header(CONTENT_TYPE, "application/json");
            Body::from(body)
        }
        None => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(builder.body(body).expect("a table request builds"))
        .await
        .expect("a router never fails");
    let headers = response.headers();
    let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let www_authenticate = headers.get_all(WWW_AUTHENTICATE).iter().map(text).collect();
    let cache_control = headers.get(CACHE_CONTROL).map(text);
    let allow = headers.get(ALLOW).map(text);
    let link = headers.get(LINK).map(text);
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body is readable")
        .to_bytes()
        .to_vec();
    TestResponse {
        status,
        www_authenticate,
        cache_control,
        allow,
        link,
        body,
    }
}
