//! Database set-up, login, `users/me` and `healthz` against a temporary SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use clab_keys::{ApiResponse, NewKey, Pepper, UserId};
use clab_keys_example_common::{AppState, DEMO_USERS, JwtSecret, LoginError, Migrator, db};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait as _;
use serde_json::Value;

const PEPPER_B64: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
const JWT_SECRET: &[u8] = b"an-example-secret-of-at-least-32-bytes";
/// The client address logins come from.
const CLIENT: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

struct TestApp {
    state: AppState,
    url: String,
    _dir: tempfile::TempDir,
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("app.sqlite").display()
    )
}

fn build_state(db: DatabaseConnection) -> AppState {
    AppState::builder(
        db,
        JwtSecret::new(JWT_SECRET).unwrap(),
        Pepper::from_base64(PEPPER_B64).unwrap(),
    )
    .build()
    .unwrap()
}

/// A migrated and seeded database file, made once per test binary: Argon2 is slow in debug
/// builds, and each test then starts from a copy instead of hashing the demo passwords again.
fn template() -> &'static std::path::Path {
    static TEMPLATE: OnceLock<tempfile::TempDir> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            // Its own thread and runtime: the caller is already inside a test's runtime.
            std::thread::spawn(|| {
                let dir = tempfile::tempdir().unwrap();
                let url = sqlite_url(&dir);
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(async {
                        let db = db::setup(&url, true).await.unwrap();
                        db.close().await.unwrap();
                    });
                dir
            })
            .join()
            .unwrap()
        })
        .path()
}

async fn app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(template().join("app.sqlite"), dir.path().join("app.sqlite")).unwrap();
    let url = sqlite_url(&dir);
    // Runs the migrations and the seeding again: both must find nothing to do.
    let db = db::setup(&url, true).await.unwrap();
    TestApp {
        state: build_state(db),
        url,
        _dir: dir,
    }
}

fn json(response: &ApiResponse) -> Value {
    assert_eq!(response.header("content-type"), Some("application/json"));
    serde_json::from_slice(&response.body).unwrap()
}

fn login_body(email: &str, password: &str) -> Vec<u8> {
    serde_json::json!({ "email": email, "password": password })
        .to_string()
        .into_bytes()
}

async fn user_id(state: &AppState, email: &str) -> i64 {
    let row = state
        .db()
        .query_one_raw(Statement::from_sql_and_values(
            state.db().get_database_backend(),
            "SELECT id FROM users WHERE email = ?",
            [email.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "id").unwrap()
}

#[tokio::test]
async fn setup_creates_the_tables_and_seeds_the_demo_users_once() {
    let app = app().await;
    // A second start over the same file: no error, no duplicate users.
    let again = db::setup(&app.url, true).await.unwrap();
    let count = again
        .query_one_raw(Statement::from_string(
            again.get_database_backend(),
            "SELECT COUNT(*) AS n FROM users",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(count, 2);
    // Every migration is applied, the users table first.
    let status = Migrator::get_applied_migrations(&again).await.unwrap();
    assert_eq!(status.len(), Migrator::migrations().len());
    assert_eq!(status[0].name(), "m20260101_000001_example_create_users");
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_phc_strings() {
    let app = app().await;
    let rows = app
        .state
        .db()
        .query_all_raw(Statement::from_string(
            app.state.db().get_database_backend(),
            "SELECT password_hash FROM users",
        ))
        .await
        .unwrap();
    for row in rows {
        let hash: String = row.try_get("", "password_hash").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(!hash.contains("password"));
    }
}

#[tokio::test]
async fn login_succeeds_for_each_demo_user() {
    let app = app().await;
    for (email, password) in DEMO_USERS {
        let response = app
            .state
            .login_response(CLIENT, &login_body(email, password))
            .await;
        assert_eq!(response.status, 200);
        assert_eq!(response.header("cache-control"), Some("no-store"));
        let body = json(&response);
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
        let token = body["access_token"].as_str().unwrap();
        let id = app.state.jwt().verify_token(token).unwrap();
        assert_eq!(id, user_id(&app.state, email).await);
    }
}

#[tokio::test]
async fn login_ignores_email_case_and_surrounding_space() {
    let app = app().await;
    let response = app
        .state
        .login(CLIENT, "  Demo@Example.COM ", "demo-password")
        .await
        .unwrap();
    assert_eq!(
        response.user_id(),
        user_id(&app.state, "demo@example.com").await
    );
    assert!(!format!("{response:?}").contains(response.access_token()));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_answer_alike() {
    let app = app().await;
    let wrong = app
        .state
        .login_response(CLIENT, &login_body("demo@example.com", "not-the-password"))
        .await;
    let unknown = app
        .state
        .login_response(CLIENT, &login_body("nobody@example.com", "demo-password"))
        .await;
    for response in [&wrong, &unknown] {
        assert_eq!(response.status, 401);
        assert_eq!(
            response.header("www-authenticate"),
            Some(r#"Bearer realm="clab-keys-example""#)
        );
        let body = json(response);
        assert_eq!(body["error"], "invalid_credentials");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn one_users_password_does_not_open_another_account() {
    let app = app().await;
    let err = app
        .state
        .login(CLIENT, "demo@example.com", "other-password")
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::InvalidCredentials));
}

#[tokio::test]
async fn a_malformed_login_body_is_400() {
    let app = app().await;
    for body in [
        &b""[..],
        b"not json",
        br#"{"email":"demo@example.com"}"#,
        br#"{"email":1,"password":"x"}"#,
    ] {
        let response = app.state.login_response(CLIENT, body).await;
        assert_eq!(response.status, 400, "{body:?}");
        assert_eq!(json(&response)["error"], "invalid_request");
    }
    let huge = vec![b' '; 64 * 1024];
    assert_eq!(app.state.login_response(CLIENT, &huge).await.status, 400);
}

#[tokio::test]
async fn me_with_a_jwt_reports_jwt() {
    let app = app().await;
    let token = app
        .state
        .login(CLIENT, "demo@example.com", "demo-password")
        .await
        .unwrap();
    let header = format!("Bearer {}", token.access_token());
    let principal = app.state.authenticate([header.as_bytes()]).await.unwrap();
    let response = app.state.me(&principal).await;
    assert_eq!(response.status, 200);
    let body = json(&response);
    assert_eq!(body["id"], user_id(&app.state, "demo@example.com").await);
    assert_eq!(body["email"], "demo@example.com");
    assert_eq!(body["auth"], "jwt");
}

#[tokio::test]
async fn me_with_an_api_key_reports_api_key() {
    let app = app().await;
    let id = user_id(&app.state, "other@example.com").await;
    let created = app
        .state
        .keys()
        .create(&UserId::from(id), NewKey::new("script"))
        .await
        .unwrap();
    let header = format!("Bearer {}", created.token.expose_secret());
    let principal = app.state.authenticate([header.as_bytes()]).await.unwrap();
    let response = app.state.me(&principal).await;
    assert_eq!(response.status, 200);
    let body = json(&response);
    assert_eq!(body["id"], id);
    assert_eq!(body["email"], "other@example.com");
    assert_eq!(body["auth"], "api_key");
    assert_eq!(body.as_object().unwrap().len(), 3);
}

#[tokio::test]
async fn a_jwt_from_another_secret_is_rejected_by_the_router() {
    let app = app().await;
    let other = clab_keys_example_common::JwtAuth::new(
        &JwtSecret::new(b"another-secret-that-is-32-bytes-long!").unwrap(),
    )
    .unwrap();
    let header = format!("Bearer {}", other.issue(1).unwrap());
    let rejection = app
        .state
        .authenticate([header.as_bytes()])
        .await
        .unwrap_err();
    assert_eq!(rejection.status(), 401);
    let response = rejection.to_response();
    assert!(
        response
            .header("www-authenticate")
            .unwrap()
            .starts_with(r#"Bearer realm="clab-keys-example", error="invalid_token""#)
    );
}

#[tokio::test]
async fn me_for_a_deleted_user_is_401() {
    let app = app().await;
    let token = app.state.jwt().issue(9_999).unwrap();
    let header = format!("Bearer {token}");
    let principal = app.state.authenticate([header.as_bytes()]).await.unwrap();
    let response = app.state.me(&principal).await;
    assert_eq!(response.status, 401);
    assert_eq!(json(&response)["error"], "invalid_token");
}

#[tokio::test]
async fn healthz_is_ok_while_the_database_answers() {
    let app = app().await;
    let response = app.state.healthz().await;
    assert_eq!(response.status, 200);
    assert_eq!(json(&response), serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn a_closed_database_gives_503_not_401() {
    let app = app().await;
    let token = app.state.jwt().issue(1).unwrap();
    let header = format!("Bearer {token}");
    let principal = app.state.authenticate([header.as_bytes()]).await.unwrap();
    app.state.db().close_by_ref().await.unwrap();

    let health = app.state.healthz().await;
    assert_eq!(health.status, 503);
    assert_eq!(json(&health)["status"], "unavailable");

    let me = app.state.me(&principal).await;
    assert_eq!(me.status, 503);
    assert_eq!(json(&me)["error"], "temporarily_unavailable");
    assert!(me.header("www-authenticate").is_none());

    let login = app
        .state
        .login_response(CLIENT, &login_body("demo@example.com", "demo-password"))
        .await;
    assert_eq!(login.status, 503);
    assert_eq!(login.header("retry-after"), Some("5"));
}

#[tokio::test]
async fn from_config_sets_up_a_fresh_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let config = clab_keys_example_common::Config::from_lookup("127.0.0.1:0", |name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "SEED_DEMO_USERS" => Some("1".to_owned()),
        _ => None,
    })
    .unwrap();
    let state = AppState::from_config(config).await.unwrap();
    assert!(dir.path().join("app.sqlite").exists());
    assert!(
        state
            .login(CLIENT, "demo@example.com", "demo-password")
            .await
            .is_ok()
    );
    state.shutdown().await;
}

#[tokio::test]
async fn a_database_given_by_url_gets_no_demo_users_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let config = clab_keys_example_common::Config::from_lookup("127.0.0.1:0", |name| {
        (name == "DATABASE_URL").then(|| url.clone())
    })
    .unwrap();
    let state = AppState::from_config(config).await.unwrap();
    assert!(
        state
            .login(CLIENT, "demo@example.com", "demo-password")
            .await
            .is_err(),
        "the demo user's published password must not open a database given by DATABASE_URL"
    );
    state.shutdown().await;
}

#[tokio::test]
async fn a_bad_database_url_does_not_leak_into_the_error() {
    // SeaORM's own message for an unparsable URL repeats the URL, password included.
    let err = db::connect("postgres://user:hunter2@db:not-a-port/app")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("postgres"), "{text}");
    assert!(text.contains("<DATABASE_URL>"), "{text}");
}
