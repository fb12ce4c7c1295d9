//! The original app's test plan, over real HTTP against the real binary.

use serde_json::{Value, json};

use crate::{DEMO, Http, JWT_SECRET, Launch, OTHER, PEPPER_B64, Response, assert_no_secret_in};

/// The realm the example apps name in every challenge.
const REALM: &str = "clab-keys-example";

/// The whole plan: start with no setup, log in, create, use, list, refuse, limit, revoke,
/// restart and find everything persisted, then restart with another pepper. Every token seen
/// is checked never to appear in what the process printed.
pub async fn walk(bin: &str, app: &str) {
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch::new(bin, dir.path());
    let mut secrets = vec![PEPPER_B64.to_owned(), JWT_SECRET.to_owned()];

    // ---- First start: no DATABASE_URL, so a SQLite file in the working directory. ----------
    let running = launch.start().await;
    assert!(
        running
            .output
            .stdout()
            .contains(&format!("{app} listening on http://127.0.0.1:")),
        "{}",
        running.output.all()
    );
    assert!(
        dir.path().join("clab-keys-example.sqlite").is_file(),
        "the default SQLite file is created in the working directory"
    );
    assert!(
        !running.output.stderr().contains("notice:"),
        "no development-secret notice when both secrets are set:\n{}",
        running.output.all()
    );
    let http = running.http.clone();

    public_pages(&http).await;

    // Logging in: a wrong password is a 401 JSON error, the right one a bearer JWT.
    let failed = http
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({ "email": DEMO.0, "password": "not-the-password" })),
        )
        .await;
    assert_eq!(failed.status, 401, "{}", failed.text());
    assert_eq!(failed.error_code(), "invalid_credentials");
    assert!(failed.json()["message"].is_string());
    let unknown = http
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({ "email": "nobody@example.com", "password": "x" })),
        )
        .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.error_code(), "invalid_credentials");
    let malformed = http
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({ "email": 1 })),
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.error_code(), "invalid_request");

    let jwt = http.login(DEMO).await;
    secrets.push(jwt.clone());
    let me = http.get("/api/security/users/me", Some(&jwt)).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["email"], DEMO.0);
    assert_eq!(me.json()["auth"], "jwt");
    let demo_id = me.json()["id"].clone();

    // No credential: a bare challenge. A bad one: invalid_token.
    let anonymous = http.get("/api/security/users/me", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some(format!("Bearer realm=\"{REALM}\"").as_str())
    );
    let forged = http
        .get(
            "/api/security/users/me",
            Some("clab_user_AAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBCCCCCC"),
        )
        .await;
    assert_eq!(forged.status, 401);
    assert_invalid_token(&forged);

    // ---- Create a key: 201, the token once, never cached. ---------------------------------
    let created = create(&http, &jwt, &json!({ "name": "ci", "expires_in_days": 30 })).await;
    let key = created.json();
    let token = key["token"].as_str().unwrap().to_owned();
    secrets.push(token.clone());
    let key_id = key["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with("clab_user_"), "{token}");
    let prefix = key["prefix"].as_str().unwrap();
    assert!(prefix.starts_with("clab_user_") && token.starts_with(prefix));
    assert!(prefix.len() < token.len());
    assert_eq!(key["name"], "ci");
    for field in ["created_at", "expires_at"] {
        assert!(
            key[field].as_str().unwrap().ends_with('Z'),
            "{field} is RFC 3339 UTC"
        );
    }
    assert!(key["scopes"].is_array());

    // ---- Use it: the same user, authenticated by API key. ---------------------------------
    let me = http.get("/api/security/users/me", Some(&token)).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["auth"], "api_key");
    assert_eq!(me.json()["email"], DEMO.0);
    assert_eq!(me.json()["id"], demo_id);

    // ---- /api/echo: an optional credential (the load benchmark's route). -----------------
    let anonymous = http.get("/api/echo", None).await;
    assert_eq!(anonymous.status, 200, "{}", anonymous.text());
    assert!(anonymous.json()["user_id"].is_null());
    let by_key = http.get("/api/echo", Some(&token)).await;
    assert_eq!(by_key.json()["auth"], "api_key");
    assert_eq!(
        http.get("/api/echo", Some(&jwt)).await.json()["auth"],
        "jwt"
    );
    let bad = http
        .get(
            "/api/echo",
            Some("clab_user_AAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBCCCCCC"),
        )
        .await;
    assert_eq!(
        bad.status, 401,
        "a presented bad credential is refused, not anonymous"
    );

    // ---- List: metadata only, for a session or a key. -------------------------------------
    for credential in [&jwt, &token] {
        let list = http.get("/api/user/api-keys", Some(credential)).await;
        assert_eq!(list.status, 200, "{}", list.text());
        assert!(
            !list.text().contains(&token),
            "the list never holds a token"
        );
        let keys = list.json();
        let keys = keys.as_array().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0]["id"], key_id.as_str());
        assert!(keys[0].get("token").is_none());
        for field in [
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ] {
            assert!(keys[0].get(field).is_some(), "listed keys have {field}");
        }
        assert!(keys[0]["revoked_at"].is_null());
    }

    // ---- An API key cannot create or revoke keys. -----------------------------------------
    let minted = http
        .send(
            "POST",
            "/api/user/api-keys",
            Some(&token),
            Some(&json!({ "name": "minted" })),
        )
        .await;
    assert_eq!(minted.status, 403, "{}", minted.text());
    assert_eq!(minted.error_code(), "interactive_session_required");
    assert!(
        minted
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"insufficient_scope\""),
        "{:?}",
        minted.headers
    );
    let self_revoke = http
        .send(
            "DELETE",
            &format!("/api/user/api-keys/{key_id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(self_revoke.status, 403);
    assert_eq!(self_revoke.error_code(), "interactive_session_required");

    // ---- Another user neither sees nor revokes it. ----------------------------------------
    let other_jwt = http.login(OTHER).await;
    secrets.push(other_jwt.clone());
    let other_list = http.get("/api/user/api-keys", Some(&other_jwt)).await;
    assert_eq!(other_list.json(), json!([]));
    let other_revoke = http
        .send(
            "DELETE",
            &format!("/api/user/api-keys/{key_id}"),
            Some(&other_jwt),
            None,
        )
        .await;
    assert_eq!(other_revoke.status, 404);
    assert_eq!(other_revoke.error_code(), "not_found");

    // ---- Bad requests. --------------------------------------------------------------------
    let unnamed = http
        .send(
            "POST",
            "/api/user/api-keys",
            Some(&jwt),
            Some(&json!({ "name": "" })),
        )
        .await;
    assert_eq!(unnamed.status, 400);
    assert_eq!(unnamed.error_code(), "invalid_name");
    let bad_expiry = http
        .send(
            "POST",
            "/api/user/api-keys",
            Some(&jwt),
            Some(&json!({ "name": "x", "expires_in_days": 0 })),
        )
        .await;
    assert_eq!(bad_expiry.status, 400);
    assert_eq!(bad_expiry.error_code(), "invalid_expiry");

    // ---- The limit: 10 active keys. -------------------------------------------------------
    let mut spare_tokens = Vec::new();
    for n in 2..=10 {
        let created = create(&http, &jwt, &json!({ "name": format!("key {n}") })).await;
        let token = created.json()["token"].as_str().unwrap().to_owned();
        secrets.push(token.clone());
        spare_tokens.push(token);
    }
    let eleventh = http
        .send(
            "POST",
            "/api/user/api-keys",
            Some(&jwt),
            Some(&json!({ "name": "key 11" })),
        )
        .await;
    assert_eq!(eleventh.status, 409, "{}", eleventh.text());
    assert_eq!(eleventh.error_code(), "key_limit_reached");
    assert!(eleventh.json()["message"].as_str().unwrap().contains("10"));

    // ---- Revoke: 204, then the key is refused with invalid_token. -------------------------
    let revoked = http
        .send(
            "DELETE",
            &format!("/api/user/api-keys/{key_id}"),
            Some(&jwt),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    assert!(revoked.body.is_empty());
    let refused = http.get("/api/security/users/me", Some(&token)).await;
    assert_eq!(refused.status, 401);
    assert_invalid_token(&refused);
    let again = http
        .send(
            "DELETE",
            &format!("/api/user/api-keys/{key_id}"),
            Some(&jwt),
            None,
        )
        .await;
    assert!(
        again.status == 204 || again.status == 404,
        "revoking twice: {}",
        again.status
    );

    // A revoked key no longer counts towards the limit.
    let fresh = create(&http, &jwt, &json!({ "name": "after revoke" })).await;
    let fresh_token = fresh.json()["token"].as_str().unwrap().to_owned();
    let fresh_id = fresh.json()["id"].as_str().unwrap().to_owned();
    secrets.push(fresh_token.clone());
    let list = http.get("/api/user/api-keys", Some(&jwt)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 11);
    assert!(!listed(&list, &key_id)["revoked_at"].is_null());
    assert!(listed(&list, &fresh_id)["last_used_at"].is_null());

    // Use the fresh key once, right before stopping: its `last_used_at` is written in the
    // background, and a graceful shutdown must wait for that write. A write lock held on the
    // database file keeps the write pending for a second, across the SIGTERM.
    let lock = WriteLock::take(&dir.path().join("clab-keys-example.sqlite")).await;
    let me = http.get("/api/security/users/me", Some(&fresh_token)).await;
    assert_eq!(me.status, 200);
    let stopping = tokio::spawn(running.stop());
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert!(
        !stopping.is_finished(),
        "the app waits for its pending last_used_at write before exiting"
    );
    lock.release().await;
    let first_run = stopping.await.unwrap();
    assert_no_secret_in(&first_run, &secrets);

    // ---- Restart on the same file, same pepper and JWT secret: everything persisted. ------
    let running = launch.start().await;
    let http = running.http.clone();
    let me = http.get("/api/security/users/me", Some(&jwt)).await;
    assert_eq!(
        me.status, 200,
        "the session survives a restart (same JWT_SECRET)"
    );
    let me = http.get("/api/security/users/me", Some(&fresh_token)).await;
    assert_eq!(me.status, 200, "the key survives a restart (same pepper)");
    assert_eq!(me.json()["auth"], "api_key");
    for token in &spare_tokens {
        assert_eq!(
            http.get("/api/security/users/me", Some(token)).await.status,
            200
        );
    }
    let refused = http.get("/api/security/users/me", Some(&token)).await;
    assert_eq!(refused.status, 401, "the revocation survives a restart");
    assert_invalid_token(&refused);
    let jwt_again = http.login(DEMO).await;
    secrets.push(jwt_again.clone());
    let list = http
        .get("/api/user/api-keys", Some(&jwt_again))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 11);
    assert!(!listed(&list, &key_id)["revoked_at"].is_null());
    assert!(
        !listed(&list, &fresh_id)["last_used_at"].is_null(),
        "the last_used_at write pending at shutdown was flushed: {list}"
    );
    let eleventh = http
        .send(
            "POST",
            "/api/user/api-keys",
            Some(&jwt_again),
            Some(&json!({ "name": "key 11" })),
        )
        .await;
    assert_eq!(
        eleventh.status, 409,
        "still 10 active keys after the restart"
    );
    let second_run = running.stop().await;
    assert_no_secret_in(&second_run, &secrets);

    // ---- Restart without CLAB_KEYS_PEPPER: a development pepper, said so, and the keys
    // hashed with the real one no longer verify. -------------------------------------------
    let running = launch.clone().without("CLAB_KEYS_PEPPER").start().await;
    assert!(
        running
            .output
            .stderr()
            .contains("CLAB_KEYS_PEPPER is not set"),
        "{}",
        running.output.all()
    );
    let http = running.http.clone();
    assert_eq!(
        http.get("/api/security/users/me", Some(&fresh_token))
            .await
            .status,
        401
    );
    assert_eq!(
        http.get("/api/security/users/me", Some(&jwt_again))
            .await
            .status,
        200
    );
    let third_run = running.stop().await;
    assert_no_secret_in(&third_run, &secrets);
}

/// `/developers`, `/skill.md`, `/settings/api-keys`, `/`, `/healthz` answer without
/// credentials; unknown paths get a JSON 404, known paths with another method a 405.
async fn public_pages(http: &Http) {
    let health = http.get("/healthz", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");

    let developers = http.get("/developers", None).await;
    assert_eq!(developers.status, 200);
    assert!(
        developers
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(developers.header("content-security-policy").is_some());
    let html = developers.text();
    for section in [
        "overview",
        "authentication",
        "quick-start",
        "endpoints",
        "examples",
        "headless",
    ] {
        assert!(
            html.contains(&format!("id=\"{section}\"")),
            "/developers has #{section}"
        );
    }
    assert!(html.contains("No browser automation needed"));

    let skill = http.get("/skill.md", None).await;
    assert_eq!(skill.status, 200);
    assert!(
        skill
            .header("content-type")
            .unwrap()
            .starts_with("text/markdown")
    );
    assert!(skill.text().contains("clab_user_"));

    for path in [
        "/settings/api-keys",
        "/",
        "/assets/site.css",
        "/assets/settings.js",
    ] {
        let page = http.get(path, None).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }

    let missing = http.get("/no/such/page", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_code(), "not_found");
    let wrong_method = http.get("/api/auth/login", None).await;
    assert_eq!(wrong_method.status, 405);
}

pub(crate) async fn create(http: &Http, jwt: &str, body: &Value) -> Response {
    let created = http
        .send("POST", "/api/user/api-keys", Some(jwt), Some(body))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.header("cache-control"), Some("no-store"));
    created
}

pub(crate) fn assert_invalid_token(response: &Response) {
    let challenge = response.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with(&format!("Bearer realm=\"{REALM}\"")),
        "{challenge}"
    );
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert_eq!(response.error_code(), "invalid_token");
}

/// A SQLite write lock (`BEGIN IMMEDIATE`) on the app's database, from outside the app:
/// readers go on, writers wait (up to their busy timeout) until [`WriteLock::release`].
struct WriteLock(sea_orm::DatabaseConnection);

impl WriteLock {
    async fn take(file: &std::path::Path) -> Self {
        use sea_orm::ConnectionTrait as _;
        let mut options =
            sea_orm::ConnectOptions::new(format!("sqlite://{}?mode=rw", file.display()));
        // One connection, so that COMMIT runs where BEGIN did.
        options
            .max_connections(1)
            .min_connections(1)
            .sqlx_logging(false);
        let db = sea_orm::Database::connect(options).await.unwrap();
        db.execute_unprepared("BEGIN IMMEDIATE").await.unwrap();
        Self(db)
    }

    async fn release(self) {
        use sea_orm::ConnectionTrait as _;
        self.0.execute_unprepared("COMMIT").await.unwrap();
        self.0.close().await.unwrap();
    }
}

fn listed<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap_or_else(|| panic!("key {id} is listed: {list}"))
}

/// `DATABASE_URL` chooses the database: a SQLite file elsewhere, created on start; nothing is
/// created in the working directory. The demo users (published passwords) are not seeded into
/// a database given by `DATABASE_URL` unless `SEED_DEMO_USERS=1` asks for them.
pub async fn database_url(bin: &str) {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("chosen.sqlite");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let unseeded = Launch::new(bin, dir.path())
        .env("DATABASE_URL", &url)
        .start()
        .await;
    assert_eq!(unseeded.http.get("/healthz", None).await.status, 200);
    let login = json!({ "email": DEMO.0, "password": DEMO.1 });
    let refused = unseeded
        .http
        .send("POST", "/api/auth/login", None, Some(&login))
        .await;
    assert_eq!(
        refused.status, 401,
        "no demo user without SEED_DEMO_USERS=1"
    );
    unseeded.stop().await;

    let running = Launch::new(bin, dir.path())
        .env("DATABASE_URL", &url)
        .env("SEED_DEMO_USERS", "1")
        .start()
        .await;
    let jwt = running.http.login(DEMO).await;
    assert!(file.is_file());
    assert!(!dir.path().join("clab-keys-example.sqlite").exists());
    let output = running.stop().await;
    assert!(
        !output.all().contains(&url),
        "the database URL is not printed"
    );
    assert_no_secret_in(&output, &[jwt]);
}

/// Invalid configuration is refused at start with exit status 2 and a message naming the
/// variable; an address in use with status 1.
pub async fn refused_configuration(bin: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (status, output) = Launch::new(bin, dir.path())
        .env("ADDR", "not-an-address")
        .run_to_exit();
    assert_eq!(status.code(), Some(2), "{}", output.all());
    assert!(output.stderr().contains("ADDR"), "{}", output.all());

    let (status, output) = Launch::new(bin, dir.path())
        .env("CLAB_KEYS_PEPPER", "too-short")
        .run_to_exit();
    assert_eq!(status.code(), Some(2), "{}", output.all());
    assert!(
        output.stderr().contains("CLAB_KEYS_PEPPER"),
        "{}",
        output.all()
    );
    assert!(
        !output.all().contains("too-short"),
        "a refused secret is not echoed"
    );

    // No feed with the default 60 s cache: another instance's revocation would go unseen for
    // a minute, so the app refuses to start and names both variables.
    let (status, output) = Launch::new(bin, dir.path())
        .env("CLAB_KEYS_INVALIDATION_FEED", "none")
        .run_to_exit();
    assert_eq!(status.code(), Some(2), "{}", output.all());
    for variable in ["CLAB_KEYS_INVALIDATION_FEED", "CLAB_KEYS_CACHE_TTL_SECS"] {
        assert!(output.stderr().contains(variable), "{}", output.all());
    }
    let (status, output) = Launch::new(bin, dir.path())
        .env("CLAB_KEYS_INVALIDATION_FEED", "postgres")
        .run_to_exit();
    assert_eq!(status.code(), Some(2), "{}", output.all());
    assert!(
        output.stderr().contains("DATABASE_URL"),
        "postgres needs a PostgreSQL database:\n{}",
        output.all()
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (status, output) = Launch::new(bin, dir.path())
        .env("ADDR", &addr)
        .run_to_exit();
    assert_eq!(status.code(), Some(1), "{}", output.all());
    assert!(
        output.stderr().contains("could not listen on"),
        "{}",
        output.all()
    );
    assert!(
        !output.stdout().contains("listening on"),
        "{}",
        output.all()
    );
}

/// The server databases to run against, from the variables `.ci/run` sets for the SeaORM
/// store tests: `(variable, server URL)`.
fn server_urls() -> Vec<(&'static str, String)> {
    ["CLAB_KEYS_TEST_POSTGRES_URL", "CLAB_KEYS_TEST_MYSQL_URL"]
        .into_iter()
        .filter_map(|name| Some((name, std::env::var(name).ok()?)))
        .filter(|(_, url)| !url.is_empty())
        .collect()
}

/// The app on PostgreSQL and MySQL/MariaDB (`DATABASE_URL`), each in a fresh database that is
/// dropped afterwards: migrated and seeded on start, a key created, used, revoked, and both
/// the key and the revocation still in force after a restart; then two instances at once,
/// where a key revoked on one is refused by the other through the feed
/// ([`crate::revocation::across_instances`]). Skipped (with a message) when
/// neither `CLAB_KEYS_TEST_POSTGRES_URL` nor `CLAB_KEYS_TEST_MYSQL_URL` is set.
pub async fn server_databases(bin: &str) {
    let servers = server_urls();
    if servers.is_empty() {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"skipped: PostgreSQL/MySQL runs (CLAB_KEYS_TEST_POSTGRES_URL/CLAB_KEYS_TEST_MYSQL_URL not set)\n",
        );
        return;
    }
    for (variable, server) in servers {
        let database = FreshDatabase::create(&server)
            .await
            .unwrap_or_else(|e| panic!("{variable} is set but no database could be created: {e}"));
        let dir = tempfile::tempdir().unwrap();
        let launch = Launch::new(bin, dir.path())
            .env("DATABASE_URL", &database.url)
            .env("SEED_DEMO_USERS", "1");

        let running = launch.start().await;
        let http = running.http.clone();
        assert_eq!(http.get("/healthz", None).await.status, 200, "{variable}");
        let jwt = http.login(DEMO).await;
        let kept = create(&http, &jwt, &json!({ "name": "kept" })).await.json();
        let dropped = create(&http, &jwt, &json!({ "name": "revoked" }))
            .await
            .json();
        let kept_token = kept["token"].as_str().unwrap().to_owned();
        let dropped_token = dropped["token"].as_str().unwrap().to_owned();
        let me = http.get("/api/security/users/me", Some(&kept_token)).await;
        assert_eq!(me.status, 200, "{variable}: {}", me.text());
        assert_eq!(me.json()["auth"], "api_key");
        let dropped_id = dropped["id"].as_str().unwrap();
        let revoked = http
            .send(
                "DELETE",
                &format!("/api/user/api-keys/{dropped_id}"),
                Some(&jwt),
                None,
            )
            .await;
        assert_eq!(revoked.status, 204, "{variable}");
        assert_invalid_token(
            &http
                .get("/api/security/users/me", Some(&dropped_token))
                .await,
        );
        let first = running.stop().await;

        let running = launch.start().await;
        let http = running.http.clone();
        assert_eq!(
            http.get("/api/security/users/me", Some(&kept_token))
                .await
                .status,
            200,
            "{variable}: the key survives a restart"
        );
        assert_invalid_token(
            &http
                .get("/api/security/users/me", Some(&dropped_token))
                .await,
        );
        let list = http.get("/api/user/api-keys", Some(&jwt)).await.json();
        assert_eq!(list.as_array().unwrap().len(), 2, "{variable}: {list}");
        assert!(!listed(&list, kept["id"].as_str().unwrap())["last_used_at"].is_null());
        let second = running.stop().await;

        let secrets = [jwt, kept_token, dropped_token, database.url.clone()];
        assert_no_secret_in(&first, &secrets);
        assert_no_secret_in(&second, &secrets);

        // ---- Two instances on this database: a revocation reaches the other through the
        // feed the apps choose for it (PostgreSQL LISTEN/NOTIFY, the change log on MySQL),
        // and through Redis when CLAB_KEYS_TEST_REDIS_URL is set.
        let feed = if variable.contains("POSTGRES") {
            "postgres"
        } else {
            "changelog"
        };
        crate::revocation::across_instances(&launch, &database.url, feed, variable).await;
        match std::env::var("CLAB_KEYS_TEST_REDIS_URL") {
            Ok(redis) if !redis.is_empty() => {
                let launch = launch.clone().env("CLAB_KEYS_REDIS_URL", &redis);
                let label = format!("{variable} with CLAB_KEYS_TEST_REDIS_URL");
                crate::revocation::across_instances(&launch, &database.url, "redis", &label).await;
            }
            _ => {
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    b"note: the Redis feed run is left out (CLAB_KEYS_TEST_REDIS_URL not set)\n",
                );
            }
        }
    }
}

/// A database created on a server for one test, dropped (best effort) on drop.
struct FreshDatabase {
    url: String,
    admin_url: String,
    name: String,
}

impl FreshDatabase {
    async fn create(server: &str) -> Result<Self, sea_orm::DbErr> {
        use sea_orm::ConnectionTrait as _;
        let name = format!(
            "clab_keys_example_e2e_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let admin = sea_orm::Database::connect(server).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        let _ = admin.close().await;
        Ok(Self {
            url: with_database(server, &name),
            admin_url: server.to_owned(),
            name,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop is synchronous and runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use sea_orm::ConnectionTrait as _;
                let Ok(admin) = sea_orm::Database::connect(admin_url.as_str()).await else {
                    return;
                };
                let force = match admin.get_database_backend() {
                    sea_orm::DbBackend::Postgres => " WITH (FORCE)",
                    _ => "",
                };
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}{force}"))
                    .await;
                let _ = admin.close().await;
            });
        })
        .join();
    }
}

/// `url` with its database name (the path) replaced by `name`, keeping any query string.
fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = url.find('?').map_or((url, ""), |q| (&url[..q], &url[q..]));
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}
