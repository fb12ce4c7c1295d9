//! The real `clab-keys` binary against real databases: SQLite always, PostgreSQL and MariaDB
//! when `CLAB_KEYS_TEST_POSTGRES_URL` / `CLAB_KEYS_TEST_MYSQL_URL` are set. Keys are created
//! through the library, as an app creates them; everything else goes through the binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clab_keys::redis::RedisFeed;
use clab_keys::sea_orm::{ChangeLogFeed, PgNotifyFeed, SeaOrmStore};
use clab_keys::{
    AuthError, CacheConfig, Clock, InvalidReason, InvalidationFeed, KeyService, KeyServiceConfig,
    NewKey, TokenFormat, UserId, truncate_to_micros,
};
use common::{
    MYSQL_ENV, OTHER_PEPPER, PEPPER, POSTGRES_ENV, REDIS_ENV, TestDb, app_service, hasher, run,
};
use sea_orm::DbBackend;
use time::OffsetDateTime;

/// A clock two days behind, to create keys that have already expired.
#[derive(Debug)]
struct TwoDaysAgo;

impl Clock for TwoDaysAgo {
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc() - time::Duration::days(2))
    }
}

/// `token` with its secret (or, with `id = true`, its key id) changed and a valid checksum
/// again: a well-formed token that is not the key's.
fn altered(token: &str, id: bool) -> String {
    let mut bytes = token.as_bytes()[..token.len() - TokenFormat::CHECKSUM_LEN].to_vec();
    let at = if id { 10 } else { 20 };
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    let sum = TokenFormat::checksum(&bytes);
    bytes.extend_from_slice(&sum);
    String::from_utf8(bytes).unwrap()
}

/// The whole scenario on one database.
async fn scenario(t: TestDb) {
    let label = t.label;
    let url = t.url.as_str();
    let db_env = [("DATABASE_URL", url)];
    let env = [("DATABASE_URL", url), ("CLAB_KEYS_PEPPER", PEPPER)];

    // Before the migrations: commands say what to do.
    let r = run(&db_env, &["list", "--user", "alice"], "");
    assert_eq!(r.code, 4, "{label}: {r:?}");
    assert!(r.stderr.contains("clab-keys migrate"), "{label}: {r:?}");

    // migrate, then its status.
    let r = run(&db_env, &["migrate", "--json"], "");
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let migrated = r.json();
    let all = migrated["migrations"].as_array().unwrap().len();
    assert!(all >= 3, "{label}: {migrated}");
    assert_eq!(
        migrated["applied_now"].as_array().unwrap().len(),
        all,
        "{label}: {migrated}"
    );
    assert_eq!(migrated["pending"], 0);
    let r = run(&db_env, &["migrate", "--status", "--json"], "");
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let status = r.json();
    assert_eq!(status["pending"], 0, "{label}: {status}");
    assert_eq!(status["history_table"], "clab_keys_migrations");
    assert!(
        status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["applied"] == true)
    );
    let r = run(&db_env, &["migrate"], "");
    assert_eq!(r.code, 0, "{label}: {r:?}");
    assert!(
        r.stdout.contains("0 migrations applied now"),
        "{label}: {r:?}"
    );
    let r = run(&db_env, &["migrate", "--status"], "");
    assert!(r.stdout.contains("up to date"), "{label}: {r:?}");

    // Keys, created as an app creates them.
    let app = app_service(&t.db);
    let alice = UserId::new("alice").unwrap();
    let active = app
        .create(&alice, NewKey::new("laptop").scopes(["projects:read"]))
        .await
        .unwrap();
    let doomed = app.create(&alice, NewKey::new("ci runner")).await.unwrap();
    let past = KeyService::builder(SeaOrmStore::new(t.db.clone()), hasher(1, PEPPER))
        .clock(TwoDaysAgo)
        .build()
        .unwrap();
    let expired = past
        .create(
            &alice,
            NewKey::new("old").expires_in(time::Duration::days(1)),
        )
        .await
        .unwrap();
    let other_version =
        KeyService::builder(SeaOrmStore::new(t.db.clone()), hasher(2, OTHER_PEPPER))
            .build()
            .unwrap()
            .create(&UserId::new("bob").unwrap(), NewKey::new("bob's"))
            .await
            .unwrap();
    let token = |k: &clab_keys::CreatedKey| k.token.expose_secret().to_owned();
    let id = |k: &clab_keys::CreatedKey| k.key.key_id.as_str().to_owned();

    // list, text and JSON.
    let r = run(&db_env, &["list", "--user", "alice"], "");
    assert_eq!(r.code, 0, "{label}: {r:?}");
    for key in [&active, &doomed, &expired] {
        assert!(r.stdout.contains(&key.key.display_prefix), "{label}: {r:?}");
    }
    assert!(r.stdout.contains("projects:read") && r.stdout.contains("expired"));
    let r = run(&db_env, &["list", "--user", "alice", "--json"], "");
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let list = r.json();
    assert_eq!(list["user_id"], "alice");
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "{label}: {list}");
    let listed = |key_id: &str| keys.iter().find(|k| k["id"] == key_id).cloned().unwrap();
    let a = listed(&id(&active));
    assert_eq!(a["status"], "active");
    assert_eq!(a["scopes"], serde_json::json!(["projects:read"]));
    assert_eq!(a["prefix"], active.key.display_prefix.as_str());
    assert_eq!(a["name"], "laptop");
    assert_eq!(a["revoked_at"], serde_json::Value::Null);
    assert_eq!(a["created_at"].as_str().unwrap().len(), 27, "{a}");
    assert_eq!(listed(&id(&expired))["status"], "expired");
    for field in [
        "id",
        "prefix",
        "user_id",
        "name",
        "status",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revocation_reason",
        "replaced_by",
    ] {
        assert!(
            a.get(field).is_some(),
            "{label}: list --json lacks {field}: {a}"
        );
    }
    let r = run(&db_env, &["list", "--user", "nobody"], "");
    assert_eq!((r.code, r.stdout.trim()), (0, "user nobody has no keys"));

    // check: the token only on stdin, never echoed.
    let r = run(&env, &["check"], &format!("{}\n", token(&active)));
    assert_eq!(r.code, 0, "{label}: {r:?}");
    assert!(r.stdout.starts_with("active: key") && r.stdout.contains("of user alice"));
    assert!(!r.stdout.contains(&token(&active)) && !r.stderr.contains(&token(&active)));
    let r = run(&env, &["check", "--json"], &token(&active));
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let c = r.json();
    assert_eq!(
        (c["active"].clone(), c["status"].clone()),
        (true.into(), "active".into())
    );
    assert_eq!(c["user_id"], "alice");
    assert_eq!(c["id"], id(&active).as_str());
    assert_eq!(c["hash_version"], 1);
    // The check records no use.
    app.flush().await;
    let r = run(&db_env, &["list", "--user", "alice", "--json"], "");
    let a = r.json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id(&active).as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        a["last_used_at"],
        serde_json::Value::Null,
        "{label}: check recorded a use"
    );

    let r = run(&env, &["check", "--json"], &altered(&token(&active), false));
    assert_eq!(r.code, 1, "{label}: {r:?}");
    assert_eq!(r.json()["status"], "wrong_secret");
    assert_eq!(r.json()["user_id"], "alice");
    let r = run(&env, &["check"], &altered(&token(&active), true));
    assert_eq!(r.code, 1, "{label}: {r:?}");
    assert!(
        r.stdout.starts_with("not active: unknown"),
        "{label}: {r:?}"
    );
    let r = run(&env, &["check", "--json"], "not a key at all\n");
    assert_eq!(r.code, 1, "{label}: {r:?}");
    assert_eq!(r.json()["status"], "malformed");
    let r = run(&env, &["check", "--json"], &token(&expired));
    assert_eq!(
        (r.code, r.json()["status"].clone()),
        (1, "expired".into()),
        "{label}"
    );
    let r = run(&env, &["check", "--json"], &token(&other_version));
    assert_eq!(r.code, 1, "{label}: {r:?}");
    assert_eq!(r.json()["status"], "unknown_hash_version");
    assert_eq!(r.json()["hash_version"], 2);
    let r = run(&env, &["check"], "");
    assert_eq!(r.code, 2, "{label}: {r:?}");
    let r = run(&db_env, &["check"], &token(&active));
    assert_eq!(r.code, 3, "{label}: check without the pepper: {r:?}");
    assert!(r.stderr.contains("CLAB_KEYS_PEPPER"));

    // revoke with a reason; list and check show it.
    let r = run(&db_env, &["revoke", &id(&doomed), "--reason", "leaked"], "");
    assert_eq!(r.code, 0, "{label}: {r:?}");
    assert!(r.stdout.starts_with("revoked key"), "{label}: {r:?}");
    let r = run(
        &db_env,
        &["revoke", &doomed.key.display_prefix, "--json"],
        "",
    );
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let v = r.json();
    assert_eq!(v["already_revoked"], true);
    assert_eq!(
        v["revocation_reason"], "leaked",
        "{label}: the first reason stays"
    );
    assert_eq!(v["user_id"], "alice");
    let expected_feed = if t.db.get_database_backend() == DbBackend::Postgres {
        "postgres"
    } else {
        "changelog"
    };
    assert_eq!(v["feed"], expected_feed);
    let r = run(&db_env, &["list", "--user", "alice", "--json"], "");
    let d = r.json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id(&doomed).as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (d["status"].clone(), d["revocation_reason"].clone()),
        ("revoked".into(), "leaked".into())
    );
    let r = run(&db_env, &["list", "--user", "alice"], "");
    assert!(r.stdout.contains("(leaked)"), "{label}: {r:?}");
    let r = run(&env, &["check"], &token(&doomed));
    assert_eq!(r.code, 1, "{label}: {r:?}");
    assert!(
        r.stdout.starts_with("not active: revoked at") && r.stdout.contains("(leaked)"),
        "{r:?}"
    );
    let r = run(&env, &["check", "--json"], &token(&doomed));
    assert_eq!(
        (
            r.json()["status"].clone(),
            r.json()["revocation_reason"].clone()
        ),
        ("revoked".into(), "leaked".into())
    );

    // revoke: unknown and malformed ids, a whole token (refused without being repeated).
    let r = run(&db_env, &["revoke", "zzzzzzzz"], "");
    assert_eq!(r.code, 5, "{label}: {r:?}");
    let r = run(&db_env, &["revoke", "zzzzzzzz", "--json"], "");
    assert_eq!(
        (r.code, r.error_json()["error"].clone()),
        (5, "not_found".into())
    );
    let r = run(&db_env, &["revoke", "short"], "");
    assert_eq!(r.code, 2, "{label}: {r:?}");
    let r = run(&db_env, &["revoke", &token(&active)], "");
    assert_eq!(r.code, 2, "{label}: {r:?}");
    assert!(!r.stderr.contains(&token(&active)) && !r.stdout.contains(&token(&active)));
    let r = run(&db_env, &["revoke", &id(&active), "--reason", "bogus"], "");
    assert_eq!(r.code, 2, "{label}: {r:?}");

    // peppers: version 2 is not covered by CLAB_KEYS_PEPPER (version 1).
    let r = run(&env, &["peppers", "--json"], "");
    assert_eq!(r.code, 1, "{label}: {r:?}");
    let p = r.json();
    assert_eq!(p["current_version"], 1);
    assert_eq!(p["configured_versions"], serde_json::json!([1]));
    assert_eq!(
        p["versions"],
        serde_json::json!([
            {"version": 1, "active_keys": 1, "covered": true, "current": true},
            {"version": 2, "active_keys": 1, "covered": false, "current": false},
        ]),
        "{label}"
    );
    assert_eq!(p["uncovered_active_keys"], 1);
    let r = run(&env, &["peppers"], "");
    assert!(r.stdout.contains("NOT COVERED"), "{label}: {r:?}");
    let r = run(
        &db_env,
        &["revoke", &id(&other_version), "--reason", "admin"],
        "",
    );
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let r = run(&env, &["peppers", "--json"], "");
    assert_eq!(
        (r.code, r.json()["uncovered_active_keys"].clone()),
        (0, 0.into()),
        "{label}"
    );

    // revoke-user: counts what it revoked (the active key; the expired one too).
    let r = run(
        &db_env,
        &["revoke-user", "alice", "--reason", "owner", "--json"],
        "",
    );
    assert_eq!(r.code, 0, "{label}: {r:?}");
    assert_eq!(r.json()["revoked"], 2, "{label}: {r:?}");
    let r = run(&db_env, &["revoke-user", "alice"], "");
    assert_eq!(
        (r.code, r.stdout.starts_with("revoked 0 keys")),
        (0, true),
        "{label}: {r:?}"
    );
    let r = run(&env, &["check", "--json"], &token(&active));
    assert_eq!(r.json()["revocation_reason"], "owner");

    // prune: nothing older than a month; everything revoked or expired before now.
    let r = run(&db_env, &["prune", "--older-than", "30d", "--json"], "");
    assert_eq!(
        (r.code, r.json()["deleted"].clone()),
        (0, 0.into()),
        "{label}: {r:?}"
    );
    let r = run(&db_env, &["prune", "--older-than", "0s"], "");
    assert_eq!(r.code, 0, "{label}: {r:?}");
    assert!(r.stdout.starts_with("pruned 4 rows"), "{label}: {r:?}");
    let r = run(&db_env, &["list", "--user", "alice", "--json"], "");
    assert_eq!(r.json()["keys"], serde_json::json!([]), "{label}");
    let r = run(&db_env, &["prune", "--older-than", "soon"], "");
    assert_eq!(r.code, 2, "{label}: {r:?}");
}

/// The ceiling on polling for a running instance's feed to catch up (its cache trusted): a
/// loaded 2-core CI machine can take seconds. The time it took is printed.
const CATCH_UP_CEILING: Duration = Duration::from_secs(10);

/// How soon a running instance must refuse a key the CLI revoked: generous for a loaded
/// machine, and far below the instance's 60 s cache TTL, so only the feed can meet it.
const REFUSAL_BOUND: Duration = Duration::from_secs(5);

/// Whether `node` serves from its cache now: a probe key it just verified, then revoked
/// through `elsewhere` (no feed, so unannounced), is still accepted (as in
/// `clab-keys-redis/tests/feed.rs`).
async fn serves_from_cache(node: &KeyService, elsewhere: &KeyService, user: &UserId) -> bool {
    let probe = elsewhere.create(user, NewKey::new("probe")).await.unwrap();
    let token = probe.token.expose_secret().to_owned();
    node.authenticate(token.as_bytes()).await.unwrap();
    elsewhere
        .revoke(user, probe.key.key_id.as_str())
        .await
        .unwrap();
    node.authenticate(token.as_bytes()).await.is_ok()
}

/// A running "app instance" (a key service with a 60 s cache and the feed the apps choose for
/// this database) refuses a key the CLI revoked at once, not after its cache TTL: the test
/// first proves the instance serves the key from its cache, so a refusal can only come from
/// the CLI's announcement. With `redis_url`, the instance listens on Redis and the CLI gets
/// `CLAB_KEYS_REDIS_URL`.
///
/// Privacy between tests: each test has a database of its own (common/mod.rs), which makes
/// the change log and PostgreSQL's `NOTIFY` channels (scoped to a database) private. The CLI
/// has no channel setting, so the Redis case uses the default channel; other users of that
/// channel announce only their own key ids, and a feed trusts only its own heartbeats.
async fn running_instance_evicts_at_once(t: TestDb, redis_url: Option<String>) {
    let label = t.label;
    let r = run(&[("DATABASE_URL", t.url.as_str())], &["migrate"], "");
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let feed: Arc<dyn InvalidationFeed> = if let Some(url) = &redis_url {
        Arc::new(RedisFeed::new(url).unwrap())
    } else if t.db.get_database_backend() == DbBackend::Postgres {
        Arc::new(PgNotifyFeed::new(&t.db).unwrap())
    } else {
        Arc::new(ChangeLogFeed::new(t.db.clone()).interval(Duration::from_millis(250)))
    };
    let instance = KeyService::builder(SeaOrmStore::new(t.db.clone()), hasher(1, PEPPER))
        .config(KeyServiceConfig::default().cache(Some(
            CacheConfig::default().ttl(time::Duration::seconds(60)),
        )))
        .invalidation_feed(feed)
        .build()
        .unwrap();
    let user = UserId::new("carol").unwrap();
    let key = instance.create(&user, NewKey::new("script")).await.unwrap();
    let token = key.token.expose_secret().to_owned();
    // Before the CLI revokes, the instance must serve the key from its cache: otherwise it
    // would refuse the revoked key from the database, feed or no feed. Proven with probe keys
    // revoked unannounced (through a service without a feed): only a trusted cache still
    // accepts one. The key is verified between two such proofs, so it went into the cache.
    let elsewhere = app_service(&t.db);
    let probes = UserId::new("probe").unwrap();
    let start = Instant::now();
    loop {
        let before = serves_from_cache(&instance, &elsewhere, &probes).await;
        instance.authenticate(token.as_bytes()).await.unwrap();
        if before && serves_from_cache(&instance, &elsewhere, &probes).await {
            break;
        }
        assert!(
            start.elapsed() < CATCH_UP_CEILING,
            "{label}: the running instance did not serve from its cache within \
             {CATCH_UP_CEILING:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "{label}: the running instance served from its cache after {:?}",
        start.elapsed()
    );
    let mut env = vec![("DATABASE_URL".to_owned(), t.url.clone())];
    env.extend(redis_url.map(|url| ("CLAB_KEYS_REDIS_URL".to_owned(), url)));
    let r = common::run_async(
        env,
        vec![
            "revoke".into(),
            key.key.key_id.as_str().into(),
            "--json".into(),
        ],
        String::new(),
    )
    .await;
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let revoked = Instant::now();
    let feed_used = r.json()["feed"].as_str().unwrap().to_owned();
    loop {
        match instance.authenticate(token.as_bytes()).await {
            Err(AuthError::Invalid(InvalidReason::Revoked)) => break,
            Ok(_) => {}
            Err(other) => panic!("{label}: refused for another reason: {other:?}"),
        }
        assert!(
            revoked.elapsed() < REFUSAL_BOUND,
            "{label}: the running instance still accepts the key revoked by the CLI after \
             {REFUSAL_BOUND:?} (its cache keeps it 60 s)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "{label}: the running instance refused the key {:?} after the CLI returned (feed {feed_used})",
        revoked.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_on_sqlite() {
    scenario(common::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_on_postgres() {
    if let Some(t) = common::server(POSTGRES_ENV, "PostgreSQL").await {
        scenario(t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_on_mysql() {
    if let Some(t) = common::server(MYSQL_ENV, "MariaDB/MySQL").await {
        scenario(t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_reaches_a_running_instance_on_sqlite() {
    running_instance_evicts_at_once(common::sqlite().await, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_reaches_a_running_instance_on_postgres() {
    if let Some(t) = common::server(POSTGRES_ENV, "PostgreSQL").await {
        running_instance_evicts_at_once(t, None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_reaches_a_running_instance_on_mysql() {
    if let Some(t) = common::server(MYSQL_ENV, "MariaDB/MySQL").await {
        running_instance_evicts_at_once(t, None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_reaches_a_running_instance_through_redis() {
    let Some(url) = std::env::var(REDIS_ENV).ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: {REDIS_ENV} is not set, so the CLI's Redis announcement is not tested");
        return;
    };
    running_instance_evicts_at_once(common::sqlite().await, Some(url)).await;
}
