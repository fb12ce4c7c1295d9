//! Runs the HTTP conformance table (clab-keys-testing) against an actix-web app built from this
//! crate's extractors and management scope. Every row must give the answer the framework-free
//! reference dispatcher gives (clab-keys-testing/tests/http_table_reference.rs).

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{
    ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, LINK, WWW_AUTHENTICATE,
};
use actix_web::{App, test, web};
use clab_keys_actix::{
    CurrentUser, InteractiveUser, MaybeUser, Reply, RequireScope, management_scope,
};
use clab_keys_core::ScopeName;
use clab_keys_core::{ApiResponse, CredentialRouter, MANAGEMENT_PATH};
use clab_keys_testing::http_table::{HttpHarness, TestRequest, TestResponse, rows, run_http_table};
use serde_json::json;

struct ProjectsRead;

impl ScopeName for ProjectsRead {
    const NAME: &'static str = "projects:read";
}

async fn me(user: CurrentUser) -> Reply {
    Reply(ApiResponse::json(
        200,
        &json!({ "user_id": user.user_id().as_str(), "auth": user.kind().as_str() }),
    ))
}

async fn optional(MaybeUser(user): MaybeUser) -> Reply {
    Reply(ApiResponse::json(
        200,
        &json!({ "user_id": user.map(|p| p.user_id().to_string()) }),
    ))
}

async fn ok() -> Reply {
    Reply(ApiResponse::json(200, &json!({ "ok": true })))
}

async fn scoped(_: RequireScope<ProjectsRead>) -> Reply {
    ok().await
}

async fn interactive(_: InteractiveUser) -> Reply {
    ok().await
}

/// The app the table describes, mounted with this crate's extractors and scope.
fn app(
    router: CredentialRouter,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(router))
        .route("/api/security/users/me", web::get().to(me))
        .route("/api/optional", web::get().to(optional))
        .route("/api/scoped", web::get().to(scoped))
        .route("/api/interactive", web::get().to(interactive))
        .service(management_scope(MANAGEMENT_PATH))
}

struct ActixApp<S>(S);

#[async_trait::async_trait(?Send)]
impl<S, B> HttpHarness for ActixApp<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    async fn send(&mut self, request: TestRequest) -> TestResponse {
        let method = Method::from_bytes(request.method.as_bytes()).expect("table method");
        let mut req = test::TestRequest::default()
            .method(method)
            .uri(&request.path);
        for line in &request.authorization {
            // Raw bytes: some rows carry non-ASCII bytes that must still reach the extractor.
            let value = HeaderValue::from_bytes(line).expect("table header is a valid field value");
            req = req.append_header((AUTHORIZATION, value));
        }
        if let Some(body) = request.body {
            req = req
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload(body);
        }
        let response = test::call_service(&self.0, req.to_request()).await;
        let headers = response.headers();
        let www_authenticate = headers
            .get_all(WWW_AUTHENTICATE)
            .map(|v| v.to_str().expect("ASCII challenge").to_owned())
            .collect();
        let cache_control = headers
            .get(CACHE_CONTROL)
            .map(|v| v.to_str().expect("ASCII cache-control").to_owned());
        let allow = headers
            .get(ALLOW)
            .map(|v| v.to_str().expect("ASCII allow").to_owned());
        let link = headers
            .get(LINK)
            .map(|v| v.to_str().expect("ASCII link").to_owned());
        let status = response.status().as_u16();
        let body = test::read_body(response).await.to_vec();
        TestResponse {
            status,
            www_authenticate,
            cache_control,
            allow,
            link,
            body,
        }
    }
}

#[actix_web::test]
async fn actix_app_passes_the_http_table() {
    let passed =
        run_http_table(|router| async move { ActixApp(test::init_service(app(router)).await) })
            .await;
    println!("http conformance table (actix-web): {passed} rows passed");
    assert_eq!(passed, rows().len());
}
