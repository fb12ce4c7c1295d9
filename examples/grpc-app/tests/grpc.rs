//! The gRPC app over a real TCP socket with tonic's own client: API keys and JWT sessions
//! accepted, refusals as gRPC statuses whose messages are the HTTP conformance table's reason
//! codes (`clab-keys-testing`'s `http_table`), so gRPC and HTTP clients read the same reasons.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use clab_keys::{CredentialRouter, NewKey, Pepper, UserId};
use clab_keys_example_common::{AppState, JwtSecret, db};
use clab_keys_testing::http_table::{
    Fixture, JWT_BAD_SIGNATURE, JWT_EXPIRED, JWT_USER1, Path, Row, Setup, rows, tamper_checksum,
    tamper_secret, unknown_key,
};
use grpc_app::proto::identity_client::IdentityClient;
use grpc_app::proto::{ListProjectsRequest, WhoamiRequest};
use grpc_app::{DEMO_PROJECTS, PROJECTS_READ};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

const PEPPER_B64: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
const JWT_SECRET: &[u8] = b"an-example-secret-of-at-least-32-bytes";

/// A server on a free port of 127.0.0.1, stopped when dropped.
struct Server {
    client: IdentityClient<Channel>,
    _stop: oneshot::Sender<()>,
}

async fn start(router: CredentialRouter) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(grpc_app::serve_with(listener, router, async {
        let _ = stopped.await;
    }));
    let client = IdentityClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    Server {
        client,
        _stop: stop,
    }
}

/// The example app's own state (SQLite file, the real `jsonwebtoken` verifier), no demo users.
async fn app_state(dir: &tempfile::TempDir) -> AppState {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("grpc.sqlite").display()
    );
    let db = db::setup(&url, false).await.unwrap();
    AppState::builder(
        db,
        JwtSecret::new(JWT_SECRET).unwrap(),
        Pepper::from_base64(PEPPER_B64).unwrap(),
    )
    .build()
    .unwrap()
}

fn with_auth<T>(message: T, lines: &[String]) -> Request<T> {
    let mut request = Request::new(message);
    for line in lines {
        request
            .metadata_mut()
            .append("authorization", line.parse().unwrap());
    }
    request
}

fn bearer<T>(message: T, token: &str) -> Request<T> {
    with_auth(message, &[format!("Bearer {token}")])
}

/// The row of the HTTP table called `name`.
fn row(name: &str) -> Row {
    rows()
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no row {name} in the HTTP table"))
}

/// The gRPC code an HTTP refusal status stands for (core's `Rejection::grpc_status`).
fn grpc_code(http_status: u16) -> Code {
    match http_status {
        400 | 401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        503 => Code::Unavailable,
        other => panic!("no refusal has HTTP status {other}"),
    }
}

/// Asserts that `status` is the gRPC form of the HTTP table row `name`'s refusal.
fn assert_refused_as(status: &Status, name: &str) {
    let row = row(name);
    let reason = row
        .error
        .unwrap_or_else(|| panic!("row {name} is no refusal"));
    assert_eq!(
        status.code(),
        grpc_code(row.status),
        "row {name}: {status:?}"
    );
    assert_eq!(status.message(), reason, "row {name}: {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let state = app_state(&dir).await;
    let key = state
        .keys()
        .create(&UserId::from(7_i64), NewKey::new("grpc"))
        .await
        .unwrap();
    let mut server = start(state.router().clone()).await;
    let reply = server
        .client
        .whoami(bearer(WhoamiRequest {}, key.token.expose_secret()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (reply.user_id.as_str(), reply.auth.as_str()),
        ("7", "api_key")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_session_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let state = app_state(&dir).await;
    let jwt = state.jwt().issue(3).unwrap();
    let mut server = start(state.router().clone()).await;
    let reply = server
        .client
        .whoami(bearer(WhoamiRequest {}, &jwt))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((reply.user_id.as_str(), reply.auth.as_str()), ("3", "jwt"));
    // A session is unrestricted: it may use `projects:read`.
    let projects = server
        .client
        .list_projects(bearer(ListProjectsRequest {}, &jwt))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(projects.projects, DEMO_PROJECTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credential_is_unauthenticated() {
    let dir = tempfile::tempdir().unwrap();
    let state = app_state(&dir).await;
    let mut server = start(state.router().clone()).await;
    let status = server.client.whoami(WhoamiRequest {}).await.unwrap_err();
    assert_refused_as(&status, "missing_header_is_bare_401");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_token_is_unauthenticated_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let state = app_state(&dir).await;
    let key = state
        .keys()
        .create(&UserId::from(7_i64), NewKey::new("grpc"))
        .await
        .unwrap();
    let mut server = start(state.router().clone()).await;
    let tampered = tamper_checksum(key.token.expose_secret());
    let status = server
        .client
        .whoami(bearer(WhoamiRequest {}, &tampered))
        .await
        .unwrap_err();
    assert_refused_as(&status, "tampered_checksum_is_invalid_token");
    // A JWT signed with another secret, checked by the app's real verifier.
    let forged = clab_keys_example_common::JwtAuth::new(
        &JwtSecret::new(b"another-secret-of-at-least-32-bytes!!").unwrap(),
    )
    .unwrap()
    .issue(7)
    .unwrap();
    let status = server
        .client
        .whoami(bearer(WhoamiRequest {}, &forged))
        .await
        .unwrap_err();
    assert_refused_as(&status, "bad_signature_jwt_is_invalid_token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_key_is_unauthenticated() {
    let dir = tempfile::tempdir().unwrap();
    let state = app_state(&dir).await;
    let user = UserId::from(7_i64);
    let key = state
        .keys()
        .create(&user, NewKey::new("grpc"))
        .await
        .unwrap();
    let mut server = start(state.router().clone()).await;
    let token = key.token.expose_secret();
    assert!(
        server
            .client
            .whoami(bearer(WhoamiRequest {}, token))
            .await
            .is_ok()
    );
    state
        .keys()
        .revoke(&user, key.key.key_id.as_str())
        .await
        .unwrap();
    let status = server
        .client
        .whoami(bearer(WhoamiRequest {}, token))
        .await
        .unwrap_err();
    assert_refused_as(&status, "revoked_key_is_invalid_token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_without_the_scope_is_permission_denied() {
    let dir = tempfile::tempdir().unwrap();
    let state = app_state(&dir).await;
    let user = UserId::from(7_i64);
    let runs = state
        .keys()
        .create(&user, NewKey::new("runs").scopes(["runs:write"]))
        .await
        .unwrap();
    let projects = state
        .keys()
        .create(&user, NewKey::new("projects").scopes([PROJECTS_READ]))
        .await
        .unwrap();
    let mut server = start(state.router().clone()).await;
    let status = server
        .client
        .list_projects(bearer(ListProjectsRequest {}, runs.token.expose_secret()))
        .await
        .unwrap_err();
    assert_refused_as(&status, "scoped_key_without_scope_is_403");
    // The same key still passes the layer: only the call that needs the scope refuses it.
    assert!(
        server
            .client
            .whoami(bearer(WhoamiRequest {}, runs.token.expose_secret()))
            .await
            .is_ok()
    );
    let reply = server
        .client
        .list_projects(bearer(
            ListProjectsRequest {},
            projects.token.expose_secret(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.projects, DEMO_PROJECTS);
}

/// The table's placeholders this test can fill (the rest are rows it skips).
fn fill(template: &str, f: &Fixture) -> Option<String> {
    let mut out = template.to_owned();
    for (name, value) in [
        ("{key}", f.key.clone()),
        ("{scoped_key}", f.scoped_key.clone()),
        ("{other_scope_key}", f.other_scope_key.clone()),
        ("{revoked_key}", f.revoked_key.clone()),
        ("{expired_key}", f.expired_key.clone()),
        ("{tampered_checksum}", tamper_checksum(&f.key)),
        ("{tampered_secret}", tamper_secret(&f.key)),
        ("{unknown_key}", unknown_key()),
        ("{jwt}", JWT_USER1.to_owned()),
        ("{jwt_expired}", JWT_EXPIRED.to_owned()),
        ("{jwt_bad_signature}", JWT_BAD_SIGNATURE.to_owned()),
    ] {
        out = out.replace(name, &value);
    }
    (!out.contains('{')).then_some(out)
}

/// Every row of the HTTP table on `users/me` (→ `Whoami`) and the scoped route (→
/// `ListProjects`) whose `Authorization` lines can travel as gRPC metadata: the gRPC answer is
/// OK where HTTP says 200, and otherwise the gRPC form of the same refusal, same reason code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_agrees_with_the_http_table() {
    let mut checked = 0;
    for row in rows() {
        let scoped = row.path == Path::Other("/api/scoped");
        if row.method != "GET" || !(row.path == Path::Me || scoped) {
            continue;
        }
        let fixture = Fixture::new().await;
        let Some(lines) = row
            .auth
            .iter()
            .map(|a| fill(a, &fixture))
            .collect::<Option<Vec<String>>>()
        else {
            continue;
        };
        // gRPC metadata values are visible ASCII; some rows test other bytes.
        if lines
            .iter()
            .any(|l| l.parse::<tonic::metadata::AsciiMetadataValue>().is_err())
        {
            continue;
        }
        if row.setup == Setup::StoreDown {
            fixture.store.set_failing(true);
        }
        let mut server = start(fixture.router.clone()).await;
        let result = if scoped {
            server
                .client
                .list_projects(with_auth(ListProjectsRequest {}, &lines))
                .await
                .map(|_| ())
        } else {
            server
                .client
                .whoami(with_auth(WhoamiRequest {}, &lines))
                .await
                .map(|_| ())
        };
        match (row.status, result) {
            (200, Ok(())) => {}
            (200, Err(status)) => panic!("row {}: refused over gRPC: {status:?}", row.name),
            (_, Ok(())) => panic!("row {}: accepted over gRPC", row.name),
            (_, Err(status)) => assert_refused_as(&status, row.name),
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} rows checked");
}
