//! The `from_fn` middleware: handlers behind it read the caller with the extractors, which
//! reuse its outcome; it refuses requests with exactly the responses of the extractors; and
//! the outcome it caches cannot be forged by app middleware.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpResponse, test, web};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use clab_keys_actix::{
    CurrentUser, InteractiveUser, MaybeUser, RequireScope, authenticate, require_interactive,
    require_scope,
};
use clab_keys_core::ScopeName;
use clab_keys_core::dangerous::session_principal;
use clab_keys_core::{
    CredentialRouter, KeyHasher, KeyService, MemoryStore, NewKey, Pepper, UserId,
};
use clab_keys_testing::RecordingStore;
use clab_keys_testing::http_table::{Fixture, JWT_USER1, unknown_key};

struct ProjectsRead;

impl ScopeName for ProjectsRead {
    const NAME: &'static str = "projects:read";
}

async fn whoami(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().body(format!("{} {}", user.user_id(), user.kind().as_str()))
}

async fn extracted(_: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn extracted_interactive(_: InteractiveUser) -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn extracted_scope(_: RequireScope<ProjectsRead>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Behind the middleware: the extractors see the principal the middleware stored.
async fn both(user: CurrentUser, MaybeUser(maybe): MaybeUser) -> HttpResponse {
    assert_eq!(Some(&user.0), maybe.as_ref());
    HttpResponse::Ok().body(user.user_id().to_string())
}

/// `/mw/*` is guarded by the middleware, `/ex/*` by the extractors.
fn app(
    router: Option<CredentialRouter>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let mut app = App::new();
    if let Some(router) = router {
        app = app.app_data(web::Data::new(router));
    }
    app.service(
        web::scope("/mw/any")
            .wrap(from_fn(authenticate))
            .route("/whoami", web::get().to(whoami))
            .route("/both", web::get().to(both)),
    )
    .service(
        web::scope("/mw/scoped")
            .wrap(from_fn(require_scope::<ProjectsRead>))
            .route("/whoami", web::get().to(whoami)),
    )
    .service(
        web::scope("/mw/interactive")
            .wrap(from_fn(require_interactive))
            .route("/whoami", web::get().to(whoami)),
    )
    .route("/ex/any", web::get().to(extracted))
    .route("/ex/interactive", web::get().to(extracted_interactive))
    .route("/ex/scoped", web::get().to(extracted_scope))
}

/// Status, challenge and body of a response.
type Answer = (u16, Option<String>, String);

async fn get(router: Option<CredentialRouter>, path: &str, auth: Option<&str>) -> Answer {
    let app = test::init_service(app(router)).await;
    let mut req = test::TestRequest::get().uri(path);
    if let Some(auth) = auth {
        req = req.append_header((AUTHORIZATION, auth));
    }
    let response = test::call_service(&app, req.to_request()).await;
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ASCII challenge").to_owned());
    let body = test::read_body(response).await;
    (
        status,
        challenge,
        String::from_utf8(body.to_vec()).expect("UTF-8 body"),
    )
}

#[actix_web::test]
async fn valid_key_reaches_the_handler_as_req_data() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {}", f.key);
    let (status, _, body) = get(Some(f.router), "/mw/any/whoami", Some(&bearer)).await;
    assert_eq!(status, 200);
    assert_eq!(body, "1 api_key");
}

#[actix_web::test]
async fn bad_key_gets_the_same_401_as_the_extractor() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {}", unknown_key());
    let mw = get(Some(f.router.clone()), "/mw/any/whoami", Some(&bearer)).await;
    let ex = get(Some(f.router), "/ex/any", Some(&bearer)).await;
    assert_eq!(mw.0, 401);
    assert!(
        mw.1.as_deref()
            .is_some_and(|c| c.contains(r#"error="invalid_token""#)),
        "challenge: {:?}",
        mw.1
    );
    assert_eq!(mw, ex);
}

#[actix_web::test]
async fn missing_credential_gets_the_same_bare_401_as_the_extractor() {
    let f = Fixture::new().await;
    let mw = get(Some(f.router.clone()), "/mw/any/whoami", None).await;
    let ex = get(Some(f.router), "/ex/any", None).await;
    assert_eq!(mw.0, 401);
    assert_eq!(mw.1.as_deref(), Some(r#"Bearer realm="clab-keys-test""#));
    assert_eq!(mw, ex);
}

#[actix_web::test]
async fn malformed_header_gets_the_same_400_as_the_extractor() {
    let f = Fixture::new().await;
    let mw = get(Some(f.router.clone()), "/mw/any/whoami", Some("Bearer")).await;
    let ex = get(Some(f.router), "/ex/any", Some("Bearer")).await;
    assert_eq!(mw.0, 400);
    assert_eq!(mw, ex);
}

#[actix_web::test]
async fn interactive_middleware_refuses_keys_like_the_extractor() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {}", f.key);
    let mw = get(
        Some(f.router.clone()),
        "/mw/interactive/whoami",
        Some(&bearer),
    )
    .await;
    let ex = get(Some(f.router), "/ex/interactive", Some(&bearer)).await;
    assert_eq!(mw.0, 403);
    assert!(mw.2.contains(r#""error":"interactive_session_required""#));
    assert_eq!(mw, ex);
}

#[actix_web::test]
async fn interactive_middleware_lets_jwt_sessions_through() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {JWT_USER1}");
    let (status, _, body) = get(Some(f.router), "/mw/interactive/whoami", Some(&bearer)).await;
    assert_eq!(status, 200);
    assert_eq!(body, "1 jwt");
}

#[actix_web::test]
async fn store_down_is_503_in_the_middleware_too() {
    let f = Fixture::new().await;
    f.store.set_failing(true);
    let bearer = format!("Bearer {}", f.key);
    let mw = get(Some(f.router.clone()), "/mw/any/whoami", Some(&bearer)).await;
    let ex = get(Some(f.router), "/ex/any", Some(&bearer)).await;
    assert_eq!(mw.0, 503);
    assert_eq!(mw, ex);
}

#[actix_web::test]
async fn missing_router_fails_closed_with_500() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {}", f.key);
    let mw = get(None, "/mw/any/whoami", Some(&bearer)).await;
    let ex = get(None, "/ex/any", Some(&bearer)).await;
    assert_eq!(mw.0, 500);
    assert!(mw.2.contains(r#""error":"internal_error""#));
    assert_eq!(mw, ex);
}

#[actix_web::test]
async fn scope_middleware_refuses_other_scopes_like_the_extractor() {
    let f = Fixture::new().await;
    let bearer = format!("Bearer {}", f.other_scope_key);
    let mw = get(Some(f.router.clone()), "/mw/scoped/whoami", Some(&bearer)).await;
    let ex = get(Some(f.router.clone()), "/ex/scoped", Some(&bearer)).await;
    assert_eq!(mw.0, 403);
    assert!(
        mw.1.as_deref()
            .is_some_and(|c| c.contains(r#"error="insufficient_scope""#)
                && c.contains(r#"scope="projects:read""#)),
        "challenge: {:?}",
        mw.1
    );
    assert_eq!(mw, ex);
    let bearer = format!("Bearer {}", f.scoped_key);
    let (status, _, body) = get(Some(f.router), "/mw/scoped/whoami", Some(&bearer)).await;
    assert_eq!((status, body.as_str()), (200, "1 api_key"));
}

#[actix_web::test]
async fn extractors_behind_the_middleware_reuse_its_principal() {
    let store = RecordingStore::new(Arc::new(MemoryStore::new()));
    let counts = store.counts();
    let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).expect("pepper")).expect("hasher");
    let keys = KeyService::builder(store, hasher).build().expect("service");
    let created = keys
        .create(&UserId::from(9_i64), NewKey::new("ci"))
        .await
        .expect("create");
    let bearer = format!("Bearer {}", created.token.expose_secret());
    let router = CredentialRouter::new(keys);
    let (status, _, body) = get(Some(router), "/mw/any/both", Some(&bearer)).await;
    assert_eq!((status, body.as_str()), (200, "9"));
    assert_eq!(
        counts.find.load(Ordering::SeqCst),
        1,
        "one store lookup per request"
    );
}

/// App middleware that puts a `Principal` (an interactive session of user 1) in the request
/// extensions, as a buggy or hostile layer might.
async fn forge_session(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    req.extensions_mut()
        .insert(session_principal(UserId::from(1_i64), None));
    next.call(req).await
}

async fn anyone(MaybeUser(user): MaybeUser) -> HttpResponse {
    HttpResponse::Ok()
        .body(user.map_or_else(|| "anonymous".to_owned(), |u| u.user_id().to_string()))
}

#[actix_web::test]
async fn a_principal_inserted_by_app_middleware_is_ignored() {
    let f = Fixture::new().await;
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(f.router))
            .wrap(from_fn(forge_session))
            .route("/ex/any", web::get().to(extracted))
            .route("/ex/interactive", web::get().to(extracted_interactive))
            .route("/anyone", web::get().to(anyone))
            .service(
                web::scope("/mw")
                    .wrap(from_fn(require_interactive))
                    .route("/whoami", web::get().to(whoami)),
            ),
    )
    .await;
    for path in ["/ex/any", "/ex/interactive", "/mw/whoami"] {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(
            response
                .headers()
                .get(WWW_AUTHENTICATE)
                .map(|v| v.as_bytes()),
            Some(&br#"Bearer realm="clab-keys-test""#[..]),
            "{path}"
        );
    }
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/anyone").to_request()).await;
    assert_eq!(test::read_body(response).await, "anonymous");
}

/// An app-wide `authenticate` middleware over a lenient router (it accepts JWTs) must not vouch
/// for a scope whose own app data holds a stricter router (API keys only): the cached verdict
/// belongs to the router that made it.
#[actix_web::test]
async fn a_verdict_cached_by_one_router_is_not_reused_by_another() {
    let lenient = Fixture::new().await.router;
    let strict = CredentialRouter::new(lenient.keys().clone());
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(lenient))
            .wrap(from_fn(authenticate))
            .service(
                web::scope("/admin")
                    .app_data(web::Data::new(strict))
                    .route("", web::get().to(extracted)),
            ),
    )
    .await;
    let req = test::TestRequest::get()
        .uri("/admin")
        .append_header((AUTHORIZATION, format!("Bearer {JWT_USER1}")))
        .to_request();
    let response = test::call_service(&app, req).await;
    assert_eq!(
        response.status().as_u16(),
        401,
        "the strict router refuses the JWT the lenient one accepted"
    );
}
