//! The extractors and middleware beyond the conformance table: optional credentials, state of
//! the app's own type, one authentication per request, a cache that app middleware cannot
//! forge, and the rejection type.

// Test code reports failures by panicking, like `assert!`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{FromRef, FromRequestParts, Request as AxumRequest};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Router, middleware::from_fn};
use clab_keys_axum::{
    AuthRejection, CurrentUser, InteractiveUser, MaybeUser, RequireScope, authenticate,
    require_interactive, require_scope,
};
use clab_keys_core::ScopeName;
use clab_keys_core::dangerous::session_principal;
use clab_keys_core::{
    CredentialKind, CredentialRouter, KeyHasher, KeyService, KeyStore, MemoryStore, NewKey, Pepper,
    RejectionKind, UserId,
};
use clab_keys_testing::RecordingStore;
use clab_keys_testing::http_table::{FixedJwtVerifier, JWT_USER1};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A state of the app's own type, holding more than the credential router.
#[derive(Clone)]
struct AppState {
    credentials: CredentialRouter,
    greeting: &'static str,
}

impl FromRef<AppState> for CredentialRouter {
    fn from_ref(state: &AppState) -> Self {
        state.credentials.clone()
    }
}

/// A router over a recording store, and an API key of user 1.
async fn fixture() -> (CredentialRouter, RecordingStore, String) {
    let store = RecordingStore::new(Arc::new(MemoryStore::new()) as Arc<dyn KeyStore>);
    let hasher =
        KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).expect("a pepper")).expect("a hasher");
    let keys = KeyService::builder(store.clone(), hasher)
        .build()
        .expect("a key service builds");
    let created = keys
        .create(&UserId::from(1_i64), NewKey::new("test"))
        .await
        .expect("a key is created");
    let router = CredentialRouter::new(keys).with_jwt(FixedJwtVerifier);
    (router, store, created.token.expose_secret().to_owned())
}

fn parts(authorization: &[&[u8]]) -> axum::http::request::Parts {
    let mut request = Request::new(());
    for line in authorization {
        let value = HeaderValue::from_bytes(line).expect("a valid header value");
        request.headers_mut().append(AUTHORIZATION, value);
    }
    request.into_parts().0
}

async fn optional(
    state: &AppState,
    authorization: &[&[u8]],
) -> Result<Option<CurrentUser>, AuthRejection> {
    let mut parts = parts(authorization);
    let option =
        <Option<CurrentUser> as FromRequestParts<AppState>>::from_request_parts(&mut parts, state)
            .await;
    // `MaybeUser` gives the same answer.
    let mut parts = self::parts(authorization);
    let maybe = MaybeUser::from_request_parts(&mut parts, state).await;
    assert_eq!(
        option.clone().map(|u| u.map(CurrentUser::into_inner)),
        maybe.map(MaybeUser::into_inner)
    );
    option
}

async fn state() -> (AppState, String) {
    let (credentials, _, key) = fixture().await;
    let state = AppState {
        credentials,
        greeting: "hello",
    };
    (state, key)
}

#[tokio::test]
async fn optional_user_without_a_credential_is_none() {
    let (state, _) = state().await;
    assert_eq!(optional(&state, &[]).await, Ok(None));
    // Another scheme is no bearer credential either (RFC 6750 §3.1).
    assert_eq!(optional(&state, &[b"Basic dXNlcjpwYXNz"]).await, Ok(None));
}

#[tokio::test]
async fn optional_user_with_a_valid_credential_is_the_user() {
    let (state, key) = state().await;
    let header = format!("Bearer {key}");
    let user = optional(&state, &[header.as_bytes()]).await;
    let user = user.expect("accepted").expect("present");
    assert_eq!(user.user_id(), &UserId::from(1_i64));
    assert_eq!(user.kind(), CredentialKind::ApiKey);
}

#[tokio::test]
async fn optional_user_with_a_bad_credential_is_rejected() {
    let (state, key) = state().await;
    let bad = format!("Bearer {key}x");
    let rejection = optional(&state, &[bad.as_bytes()]).await.unwrap_err();
    assert_eq!(rejection.kind(), &RejectionKind::InvalidToken);
    let malformed = optional(&state, &[b"Bearer"]).await.unwrap_err();
    assert_eq!(malformed.kind(), &RejectionKind::InvalidRequest);
    let non_ascii = optional(&state, &[b"Bearer \xff\xfe"]).await.unwrap_err();
    assert_eq!(non_ascii.kind(), &RejectionKind::InvalidToken);
}

#[tokio::test]
async fn interactive_user_refuses_api_keys_and_accepts_jwts() {
    let (state, key) = state().await;
    let header = format!("Bearer {key}");
    let mut with_key = parts(&[header.as_bytes()]);
    let rejection = InteractiveUser::from_request_parts(&mut with_key, &state)
        .await
        .unwrap_err();
    assert_eq!(rejection.kind(), &RejectionKind::InteractiveSessionRequired);
    assert_eq!(rejection.rejection().status(), 403);

    let jwt = format!("Bearer {JWT_USER1}");
    let mut with_jwt = parts(&[jwt.as_bytes()]);
    let user = InteractiveUser::from_request_parts(&mut with_jwt, &state)
        .await
        .expect("a JWT session is interactive");
    assert!(user.is_interactive());
}

async fn greet(
    axum::extract::State(state): axum::extract::State<AppState>,
    user: CurrentUser,
    MaybeUser(again): MaybeUser,
) -> String {
    assert_eq!(Some(&user.0), again.as_ref());
    format!("{}, {}", state.greeting, user.user_id())
}

#[tokio::test]
async fn app_state_of_its_own_type_provides_the_router_through_from_ref() {
    let (state, key) = state().await;
    let app: Router = Router::new().route("/greet", get(greet)).with_state(state);
    let response = app
        .oneshot(
            Request::get("/greet")
                .header(AUTHORIZATION, format!("Bearer {key}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..], b"hello, 1");
}

#[tokio::test]
async fn middleware_and_extractor_authenticate_a_request_once() {
    let (credentials, store, key) = fixture().await;
    let counts = store.counts();
    let state = AppState {
        credentials,
        greeting: "hi",
    };
    let app: Router = Router::new()
        .route("/greet", get(greet))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state);
    let finds_before = counts.find.load(Ordering::SeqCst);
    let response = app
        .clone()
        .oneshot(
            Request::get("/greet")
                .header(AUTHORIZATION, format!("Bearer {key}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(counts.find.load(Ordering::SeqCst) - finds_before, 1);

    // Without a credential the middleware answers before the handler runs.
    let response = app
        .oneshot(Request::get("/greet").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="api""#
    );
}

#[tokio::test]
async fn route_layer_keeps_unknown_paths_404() {
    let (state, _) = state().await;
    let app: Router = Router::new()
        .route("/greet", get(greet))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state);
    let response = app
        .oneshot(Request::get("/nope").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

struct ProjectsRead;

impl ScopeName for ProjectsRead {
    const NAME: &'static str = "projects:read";
}

#[tokio::test]
async fn require_scope_extractor_checks_the_scope() {
    let (credentials, _, _) = fixture().await;
    let keys = credentials.keys().clone();
    let user = UserId::from(1_i64);
    let scoped = keys
        .create(&user, NewKey::new("s").scopes(["projects:read"]))
        .await
        .unwrap();
    let other = keys
        .create(&user, NewKey::new("o").scopes(["runs:write"]))
        .await
        .unwrap();
    let state = AppState {
        credentials,
        greeting: "hi",
    };
    let header = format!("Bearer {}", scoped.token.expose_secret());
    let mut ok = parts(&[header.as_bytes()]);
    let caller = RequireScope::<ProjectsRead>::from_request_parts(&mut ok, &state)
        .await
        .expect("the scope is granted");
    assert_eq!(caller.principal().user_id(), &user);
    let header = format!("Bearer {}", other.token.expose_secret());
    let mut refused = parts(&[header.as_bytes()]);
    let rejection = RequireScope::<ProjectsRead>::from_request_parts(&mut refused, &state)
        .await
        .unwrap_err();
    assert_eq!(
        rejection.kind(),
        &RejectionKind::InsufficientScope("projects:read".into())
    );
}

/// `/mw/*` behind each middleware, with a handler that needs no credential of its own.
async fn middleware_status(state: &AppState, path: &str, auth: Option<&str>) -> u16 {
    let app: Router = Router::new()
        .route("/mw/any", get(|| async { "ok" }))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .merge(
            Router::new()
                .route("/mw/interactive", get(|| async { "ok" }))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    require_interactive,
                )),
        )
        .merge(
            Router::new()
                .route("/mw/scoped", get(|| async { "ok" }))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    require_scope::<ProjectsRead>,
                )),
        )
        .with_state(state.clone());
    let mut request = Request::get(path);
    if let Some(auth) = auth {
        request = request.header(AUTHORIZATION, auth);
    }
    let response = app
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    response.status().as_u16()
}

#[tokio::test]
async fn every_middleware_refuses_like_its_extractor() {
    let (state, key) = state().await;
    let key = format!("Bearer {key}");
    let jwt = format!("Bearer {JWT_USER1}");
    for path in ["/mw/any", "/mw/interactive", "/mw/scoped"] {
        assert_eq!(middleware_status(&state, path, None).await, 401, "{path}");
        assert_eq!(
            middleware_status(&state, path, Some("Bearer")).await,
            400,
            "{path}"
        );
        assert_eq!(
            middleware_status(&state, path, Some(&jwt)).await,
            200,
            "{path}"
        );
    }
    assert_eq!(middleware_status(&state, "/mw/any", Some(&key)).await, 200);
    assert_eq!(
        middleware_status(&state, "/mw/interactive", Some(&key)).await,
        403
    );
    // An unrestricted key may use every scope.
    assert_eq!(
        middleware_status(&state, "/mw/scoped", Some(&key)).await,
        200
    );
}

/// App middleware that puts a `Principal` (an interactive session of user 1) in the request
/// extensions, as a buggy or hostile layer might.
async fn forge_session(mut request: AxumRequest, next: Next) -> Response {
    request
        .extensions_mut()
        .insert(session_principal(UserId::from(1_i64), None));
    next.run(request).await
}

async fn anyone(MaybeUser(user): MaybeUser) -> String {
    user.map_or_else(|| "anonymous".to_owned(), |u| u.user_id().to_string())
}

#[tokio::test]
async fn a_principal_inserted_by_app_middleware_is_ignored() {
    let (state, _) = state().await;
    let app: Router = Router::new()
        .route("/greet", get(greet))
        .route("/interactive", get(|_: InteractiveUser| async { "ok" }))
        .route("/anyone", get(anyone))
        .layer(from_fn(forge_session))
        .with_state(state);
    for path in ["/greet", "/interactive"] {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="api""#
        );
    }
    let response = app
        .oneshot(
            Request::get("/anyone")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..], b"anonymous");
}

/// An outer `authenticate` middleware with a lenient router (it accepts JWTs) must not vouch for
/// a handler whose state holds a stricter router (API keys only): the cached verdict belongs to
/// the router that made it.
#[tokio::test]
async fn a_verdict_cached_by_one_router_is_not_reused_by_another() {
    let (lenient, _, _) = fixture().await;
    let strict = CredentialRouter::new(lenient.keys().clone());
    let app: Router = Router::new()
        .route("/admin", get(|_: CurrentUser| async { "ok" }))
        .with_state(strict)
        .layer(middleware::from_fn_with_state(lenient, authenticate));
    let response = app
        .oneshot(
            Request::get("/admin")
                .header(AUTHORIZATION, format!("Bearer {JWT_USER1}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the strict router refuses the JWT the lenient one accepted"
    );
}
