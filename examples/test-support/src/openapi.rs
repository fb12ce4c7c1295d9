//! The OpenAPI check both apps are held to: the app serves at `/openapi.json` the document that
//! `examples/common` builds, and its real answers conform to it.
//!
//! The app binary is started as the other tests start it ([`Launch`]), then driven through
//! login, create (201), list (200), revoke (204) and the errors 400, 401, 403, 404, 405, 409
//! and 413; every request and answer is recorded. When `CLAB_KEYS_OPENAPI_PYTHON` names a Python
//! with `openapi-core` and `openapi-spec-validator` (`scripts/openapi-check.sh` makes one in a
//! venv under the target directory and sets it), `scripts/openapi_validate.py` validates the
//! document and every recorded answer, and its output is printed. Without it the validation is
//! skipped (`skipped: OpenAPI validation …`) and only the statuses and the document's identity
//! are checked here.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use clab_keys_example_common::OPENAPI_PATH;
use serde_json::{Value, json};

use crate::{DEMO, Http, Launch, OTHER, Response};

/// The variable naming the Python to validate with.
pub const PYTHON_VAR: &str = "CLAB_KEYS_OPENAPI_PYTHON";

/// Where both apps mount the key endpoints (`clab_keys::MANAGEMENT_PATH`).
const KEYS: &str = "/api/user/api-keys";

/// How the validator is to match an exchange to the document.
#[derive(Debug, Clone, Copy, Default)]
enum Expect {
    /// A documented operation.
    #[default]
    Operation,
    /// A method the path does not serve: `405`, checked against `MethodNotAllowed`.
    MethodNotAllowed,
    /// A path below the key collection that names no endpoint: `404`.
    NoEndpoint,
}

impl Expect {
    fn as_str(self) -> &'static str {
        match self {
            Self::Operation => "operation",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::NoEndpoint => "no_endpoint",
        }
    }
}

/// One request to send and record.
#[derive(Debug, Default)]
struct Call<'a> {
    name: &'a str,
    method: &'a str,
    path: String,
    /// The whole `Authorization` value, if any.
    authorization: Option<String>,
    /// A JSON body (sent with `Content-Type: application/json`).
    body: Option<Vec<u8>>,
    /// Whether the request itself must conform to the document.
    valid_request: bool,
    expect: Expect,
    /// The status the app must answer.
    status: u16,
}

/// The requests sent so far, with their answers.
struct Recorder<'h> {
    http: &'h Http,
    exchanges: Vec<Value>,
}

impl Recorder<'_> {
    async fn send(&mut self, call: Call<'_>) -> Response {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(value) = &call.authorization {
            headers.push(("authorization", value));
        }
        if call.body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let response = self
            .http
            .send_raw(call.method, &call.path, &headers, call.body.clone())
            .await;
        assert_eq!(
            response.status,
            call.status,
            "{} {} ({}): {}",
            call.method,
            call.path,
            call.name,
            response.text()
        );
        let mut answer_headers = serde_json::Map::new();
        for name in response.headers.keys() {
            let values: Vec<&str> = response
                .headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            answer_headers.insert(name.as_str().to_owned(), json!(values.join(", ")));
        }
        let request_headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), json!(v)))
            .collect();
        self.exchanges.push(json!({
            "name": call.name,
            "method": call.method,
            "path": call.path,
            "request_headers": request_headers,
            "request_body": call.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
            "valid_request": call.valid_request,
            "expect": call.expect.as_str(),
            "status": response.status,
            "headers": answer_headers,
            "body": response.text(),
        }));
        response
    }
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

fn json_body(value: &Value) -> Option<Vec<u8>> {
    Some(value.to_string().into_bytes())
}

/// Runs the check against the app binary `bin` (named `app` in the output).
pub async fn check(bin: &str, app: &str) {
    let dir = tempfile::tempdir().unwrap();
    let running = Launch::new(bin, dir.path()).start().await;
    let mut r = Recorder {
        http: &running.http,
        exchanges: Vec::new(),
    };
    let keys = KEYS;

    // ---- The document itself, identical in both apps. -------------------------------------
    let document = r
        .send(Call {
            name: "the document",
            method: "GET",
            path: OPENAPI_PATH.into(),
            valid_request: true,
            status: 200,
            ..Call::default()
        })
        .await;
    assert_eq!(
        document.text(),
        clab_keys_example_common::openapi::document_json(),
        "{app} serves the document examples/common builds"
    );

    // ---- The app's own endpoints. ---------------------------------------------------------
    let login = |name, email: &str, password: &str, status| Call {
        name,
        method: "POST",
        path: "/api/auth/login".into(),
        body: json_body(&json!({ "email": email, "password": password })),
        valid_request: true,
        status,
        ..Call::default()
    };
    let session = r.send(login("log in", DEMO.0, DEMO.1, 200)).await;
    let jwt = session.json()["access_token"].as_str().unwrap().to_owned();
    r.send(login("wrong password", DEMO.0, "wrong", 401)).await;
    r.send(Call {
        name: "login body not JSON",
        method: "POST",
        path: "/api/auth/login".into(),
        body: Some(b"email=demo".to_vec()),
        status: 400,
        ..Call::default()
    })
    .await;
    let me = |name, authorization, status| Call {
        name,
        method: "GET",
        path: "/api/security/users/me".into(),
        authorization,
        valid_request: true,
        status,
        ..Call::default()
    };
    r.send(me("who am I, session", bearer(&jwt), 200)).await;
    r.send(Call {
        valid_request: false,
        ..me("who am I, no credential", None, 401)
    })
    .await;
    r.send(Call {
        name: "echo, no credential",
        method: "GET",
        path: "/api/echo".into(),
        valid_request: true,
        status: 200,
        ..Call::default()
    })
    .await;
    r.send(Call {
        name: "health",
        method: "GET",
        path: "/healthz".into(),
        valid_request: true,
        status: 200,
        ..Call::default()
    })
    .await;

    // ---- Create, list, revoke. -------------------------------------------------------------
    let create = |name, authorization, body: Value, status| Call {
        name,
        method: "POST",
        path: keys.into(),
        authorization,
        body: json_body(&body),
        valid_request: status == 201,
        status,
        ..Call::default()
    };
    let created = r
        .send(create(
            "create",
            bearer(&jwt),
            json!({ "name": "openapi check", "expires_in_days": 30, "scopes": ["reports:read"] }),
            201,
        ))
        .await;
    let created = created.json();
    let token = created["token"].as_str().unwrap().to_owned();
    let key_id = created["id"].as_str().unwrap().to_owned();
    r.send(create(
        "create without expiry",
        bearer(&jwt),
        json!({ "name": "no expiry" }),
        201,
    ))
    .await;
    r.send(me("who am I, API key", bearer(&token), 200)).await;
    let list = |name, authorization, status| Call {
        name,
        method: "GET",
        path: keys.into(),
        authorization,
        valid_request: status == 200,
        status,
        ..Call::default()
    };
    r.send(list("list, session", bearer(&jwt), 200)).await;
    // The key is limited to reports:read: listing keys needs keys:read.
    r.send(list("list, API key without keys:read", bearer(&token), 403))
        .await;
    let lister = running
        .http
        .send(
            "POST",
            keys,
            Some(&jwt),
            Some(&json!({ "name": "lister", "scopes": ["keys:read"] })),
        )
        .await;
    assert_eq!(lister.status, 201, "{}", lister.text());
    let lister = lister.json()["token"].as_str().unwrap().to_owned();
    r.send(list("list, API key with keys:read", bearer(&lister), 200))
        .await;
    let first_page = r
        .send(Call {
            path: format!("{keys}?limit=1"),
            ..list("list, first page", bearer(&jwt), 200)
        })
        .await;
    let link = first_page.header("link").unwrap_or_default().to_owned();
    let next = link
        .strip_prefix('<')
        .and_then(|l| l.strip_suffix(">; rel=\"next\""))
        .unwrap_or_else(|| panic!("{app}: Link {link:?}"))
        .to_owned();
    r.send(Call {
        path: next,
        ..list("list, next page", bearer(&jwt), 200)
    })
    .await;
    r.send(Call {
        path: format!("{keys}?limit=0"),
        ..list("list, bad limit", bearer(&jwt), 400)
    })
    .await;
    r.send(list(
        "list, two credentials in one header",
        Some(format!("Bearer {jwt} {token}")),
        400,
    ))
    .await;
    r.send(list("list, no credential", None, 401)).await;
    r.send(create(
        "create with an API key",
        bearer(&token),
        json!({ "name": "minted by a key" }),
        403,
    ))
    .await;
    r.send(create(
        "create, empty name",
        bearer(&jwt),
        json!({ "name": " " }),
        400,
    ))
    .await;
    r.send(create(
        "create, unknown field",
        bearer(&jwt),
        json!({ "name": "x", "nmae": "y" }),
        400,
    ))
    .await;
    r.send(create(
        "create, expiry out of range",
        bearer(&jwt),
        json!({ "name": "x", "expires_in_days": 0 }),
        400,
    ))
    .await;
    r.send(Call {
        body: Some(vec![b' '; 17 * 1024]),
        ..create("create, body too large", bearer(&jwt), json!(null), 413)
    })
    .await;
    let revoke = |name, id: &str, authorization, status| Call {
        name,
        method: "DELETE",
        path: format!("{keys}/{id}"),
        authorization,
        valid_request: status == 204,
        status,
        ..Call::default()
    };
    r.send(revoke(
        "revoke with the key itself",
        &key_id,
        bearer(&token),
        403,
    ))
    .await;
    r.send(revoke("revoke", &key_id, bearer(&jwt), 204)).await;
    r.send(revoke("revoke again", &key_id, bearer(&jwt), 204))
        .await;
    r.send(revoke(
        "revoke an unknown key",
        "Unknown1",
        bearer(&jwt),
        404,
    ))
    .await;
    r.send(revoke("revoke, no credential", &key_id, None, 401))
        .await;
    r.send(me("who am I, revoked key", bearer(&token), 401))
        .await;
    r.send(list("list with a revoked key listed", bearer(&jwt), 200))
        .await;

    // ---- Rotate and update. ----------------------------------------------------------------
    let to_rotate = running
        .http
        .send(
            "POST",
            keys,
            Some(&jwt),
            Some(&json!({ "name": "to rotate" })),
        )
        .await;
    assert_eq!(to_rotate.status, 201, "{}", to_rotate.text());
    let old_id = to_rotate.json()["id"].as_str().unwrap().to_owned();
    let old_token = to_rotate.json()["token"].as_str().unwrap().to_owned();
    let rotate = |name, id: &str, authorization, body: Value, status| Call {
        name,
        method: "POST",
        path: format!("{keys}/{id}/rotate"),
        authorization,
        body: json_body(&body),
        valid_request: status == 201,
        status,
        ..Call::default()
    };
    r.send(rotate(
        "rotate with an API key",
        &old_id,
        bearer(&old_token),
        json!({}),
        403,
    ))
    .await;
    r.send(rotate(
        "rotate, grace too long",
        &old_id,
        bearer(&jwt),
        json!({ "grace_seconds": 604_801 }),
        400,
    ))
    .await;
    r.send(rotate(
        "rotate an unknown key",
        "Unknown1",
        bearer(&jwt),
        json!({}),
        404,
    ))
    .await;
    // A session whose login is an hour old (its token refreshed since) may not rotate.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let demo_id = running
        .http
        .get("/api/security/users/me", Some(&jwt))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let secret = clab_keys_example_common::JwtSecret::new(crate::JWT_SECRET.as_bytes()).unwrap();
    let stale = clab_keys_example_common::JwtAuth::new(&secret)
        .unwrap()
        .issue_with_auth_time(demo_id, now, now - 3600)
        .unwrap();
    r.send(rotate(
        "rotate with a stale login",
        &old_id,
        bearer(&stale),
        json!({ "grace_seconds": 60 }),
        403,
    ))
    .await;
    r.send(create(
        "create with a stale login",
        bearer(&stale),
        json!({ "name": "stale" }),
        403,
    ))
    .await;
    let rotated = r
        .send(rotate(
            "rotate with a grace period",
            &old_id,
            bearer(&jwt),
            json!({ "grace_seconds": 3600 }),
            201,
        ))
        .await;
    assert_eq!(rotated.json()["replaces"], old_id.as_str());
    let new_id = rotated.json()["id"].as_str().unwrap().to_owned();
    r.send(rotate(
        "rotate a replaced key",
        &old_id,
        bearer(&jwt),
        json!({}),
        409,
    ))
    .await;
    r.send(Call {
        name: "GET on rotate",
        method: "GET",
        path: format!("{keys}/{new_id}/rotate"),
        expect: Expect::MethodNotAllowed,
        status: 405,
        ..Call::default()
    })
    .await;
    let update = |name, id: &str, authorization, body: Value, status| Call {
        name,
        method: "PATCH",
        path: format!("{keys}/{id}"),
        authorization,
        body: json_body(&body),
        valid_request: status == 200,
        status,
        ..Call::default()
    };
    r.send(update(
        "rename",
        &new_id,
        bearer(&jwt),
        json!({ "name": "rotated and renamed" }),
        200,
    ))
    .await;
    r.send(update(
        "narrow scopes and expiry",
        &new_id,
        bearer(&jwt),
        json!({ "scopes": ["reports:read"], "expires_at": "2030-01-01T00:00:00Z" }),
        400,
    ))
    .await;
    r.send(update(
        "update, empty object",
        &new_id,
        bearer(&jwt),
        json!({}),
        400,
    ))
    .await;
    r.send(update(
        "update with an API key",
        &new_id,
        bearer(&lister),
        json!({ "name": "x" }),
        403,
    ))
    .await;
    r.send(update(
        "update a revoked key",
        &key_id,
        bearer(&jwt),
        json!({ "name": "x" }),
        409,
    ))
    .await;
    r.send(update(
        "update an unknown key",
        "Unknown1",
        bearer(&jwt),
        json!({ "name": "x" }),
        404,
    ))
    .await;
    r.send(list("list with a replaced key", bearer(&jwt), 200))
        .await;

    // ---- 405 and 404 below the collection. -------------------------------------------------
    r.send(Call {
        name: "PUT on the collection",
        method: "PUT",
        path: keys.into(),
        authorization: bearer(&jwt),
        expect: Expect::MethodNotAllowed,
        status: 405,
        ..Call::default()
    })
    .await;
    r.send(Call {
        name: "GET on one key",
        method: "GET",
        path: format!("{keys}/{key_id}"),
        expect: Expect::MethodNotAllowed,
        status: 405,
        ..Call::default()
    })
    .await;
    r.send(Call {
        name: "a path below a key",
        method: "DELETE",
        path: format!("{keys}/a/b"),
        authorization: bearer(&jwt),
        expect: Expect::NoEndpoint,
        status: 404,
        ..Call::default()
    })
    .await;

    // ---- 409: the other demo user fills the limit of 10 active keys. -----------------------
    let other = running.http.login(OTHER).await;
    for n in 1..=10 {
        let name = format!("key {n}");
        let response = running
            .http
            .send("POST", keys, Some(&other), Some(&json!({ "name": name })))
            .await;
        assert_eq!(response.status, 201, "{}", response.text());
    }
    r.send(create(
        "create over the limit",
        bearer(&other),
        json!({ "name": "eleventh" }),
        409,
    ))
    .await;

    let exchanges = std::mem::take(&mut r.exchanges);
    drop(r);
    running.stop().await;
    validate(app, &document.body, &exchanges);
}

/// Runs `scripts/openapi_validate.py` over the document and the exchanges, printing its output;
/// skips (saying so) without `CLAB_KEYS_OPENAPI_PYTHON`.
fn validate(app: &str, document: &[u8], exchanges: &[Value]) {
    let Some(python) = std::env::var_os(PYTHON_VAR) else {
        // Straight to stderr, past the test harness's capture, so that the skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: OpenAPI validation of {app} ({PYTHON_VAR} is unset; \
             scripts/openapi-check.sh sets it up)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let document_path = dir.path().join("openapi.json");
    let exchanges_path = dir.path().join("exchanges.json");
    std::fs::write(&document_path, document).unwrap();
    std::fs::write(
        &exchanges_path,
        serde_json::to_vec_pretty(&exchanges).unwrap(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/openapi_validate.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(app)
        .arg(&document_path)
        .arg(&exchanges_path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "run {} {}: {e}",
                Path::new(&python).display(),
                script.display()
            )
        });
    let mut stderr = std::io::stderr();
    let _ = stderr.write_all(&output.stdout);
    let _ = stderr.write_all(&output.stderr);
    assert!(
        output.status.success(),
        "the OpenAPI validation of {app} failed ({}); its output is above",
        output.status
    );
}
