//! Revocation everywhere (contract §4): two instances of the app on one database, each with
//! its own connections and its verification cache at the longest TTL (300 s), so that only
//! the invalidation feed can make the second refuse a key the first revoked.
//!
//! That the second instance really answers from its cache is shown first: with the key's row
//! changed by hand behind the app's back (its `hash_version` set to one no hasher knows, which
//! a store read refuses and no feed announces), it still accepts the key. Then the key is
//! revoked on the first instance, which refuses it at once, and the second must refuse it
//! within the feed's bound (250 ms plus a query for the change-log poll, milliseconds for
//! PostgreSQL and Redis); the test allows [`REACH_LIMIT`], far below the TTL, for slow CI
//! machines, and prints how long it took.

use std::io::Write as _;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait as _, DatabaseConnection};
use serde_json::json;

use crate::plan::{assert_invalid_token, create};
use crate::{DEMO, Http, JWT_SECRET, Launch, PEPPER_B64, assert_no_secret_in};

/// The cache TTL both instances run with: the longest accepted, so a revocation that only
/// the TTL carried would take five minutes.
const TTL_SECS: &str = "300";

/// How long the second instance may take to refuse the revoked key in this test. The feeds'
/// bounds are far shorter; this leaves room for a loaded machine, and stays far below the TTL.
pub const REACH_LIMIT: Duration = Duration::from_secs(10);

/// How long the second instance's feed may take to be caught up after start (its cache is
/// bypassed until then).
const CATCH_UP_LIMIT: Duration = Duration::from_secs(20);

/// Two instances in one working directory on the default SQLite file, with the change-log
/// feed (the default for SQLite).
pub async fn sqlite(bin: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clab-keys-example.sqlite");
    let launch = Launch::new(bin, dir.path());
    // The first start creates, migrates and seeds the file; the second finds it ready.
    let url = format!("sqlite://{}?mode=rw", file.display());
    across_instances(&launch, &url, "changelog", "SQLite").await;
}

/// Starts two instances from `launch` (which names the database; `database_url` reaches the
/// same database from the test), both with the cache at 300 s, and checks that a key revoked
/// on the first is refused by the second within [`REACH_LIMIT`] through the feed `feed` (the
/// value of `CLAB_KEYS_INVALIDATION_FEED` the apps are expected to pick and print).
pub async fn across_instances(launch: &Launch, database_url: &str, feed: &str, label: &str) {
    let launch = launch.clone().env("CLAB_KEYS_CACHE_TTL_SECS", TTL_SECS);
    let first = launch.start().await;
    let second = launch.start().await;
    for running in [&first, &second] {
        let stdout = running.output.stdout();
        assert!(
            stdout.contains(&format!("entries kept up to {TTL_SECS} s"))
                && stdout.contains(&format!("invalidation feed: {feed},")),
            "{label}: the app prints its cache TTL and the feed {feed}:\n{}",
            running.output.all()
        );
    }
    let (a, b) = (first.http.clone(), second.http.clone());

    let jwt = a.login(DEMO).await;
    let key = create(&a, &jwt, &json!({ "name": "two instances" }))
        .await
        .json();
    let token = key["token"].as_str().unwrap().to_owned();
    let key_id = key["id"].as_str().unwrap().to_owned();
    assert!(
        key_id.chars().all(|c| c.is_ascii_alphanumeric()),
        "{key_id}"
    );

    let db = sea_orm::Database::connect(database_url).await.unwrap();
    served_from_cache(&b, &db, &token, &key_id, label).await;
    served_from_cache(&a, &db, &token, &key_id, label).await;

    // ---- Revoke on the first instance: refused there at once, on the second via the feed.
    let revoked = a
        .send(
            "DELETE",
            &format!("/api/user/api-keys/{key_id}"),
            Some(&jwt),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{label}: {}", revoked.text());
    let at = Instant::now();
    assert_invalid_token(&a.get("/api/security/users/me", Some(&token)).await);
    let mut accepted_meanwhile = 0_u32;
    loop {
        let answer = b.get("/api/security/users/me", Some(&token)).await;
        if answer.status == 401 {
            assert_invalid_token(&answer);
            break;
        }
        assert_eq!(answer.status, 200, "{label}: {}", answer.text());
        accepted_meanwhile += 1;
        assert!(
            at.elapsed() < REACH_LIMIT,
            "{label}: the second instance still accepts the revoked key after {:?} \
             (feed {feed}, cache TTL {TTL_SECS} s)",
            at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = writeln!(
        std::io::stderr(),
        "{label}: a key revoked on one instance was refused by the other after {} ms \
         (feed {feed}; accepted {accepted_meanwhile} time(s) meanwhile)",
        at.elapsed().as_millis()
    );
    db.close().await.unwrap();

    let outputs = [first.stop().await, second.stop().await];
    let secrets = [
        token,
        jwt,
        JWT_SECRET.to_owned(),
        PEPPER_B64.to_owned(),
        database_url.to_owned(),
    ];
    for output in &outputs {
        assert_no_secret_in(output, &secrets);
    }
}

/// Waits until `http`'s instance answers for the key from its cache: it caches the key once
/// its feed is caught up, and then accepts it even while the row, changed by hand, would be
/// refused by a store read.
async fn served_from_cache(
    http: &Http,
    db: &DatabaseConnection,
    token: &str,
    key_id: &str,
    label: &str,
) {
    let deadline = Instant::now() + CATCH_UP_LIMIT;
    loop {
        let fresh = http.get("/api/security/users/me", Some(token)).await;
        assert_eq!(fresh.status, 200, "{label}: {}", fresh.text());
        set_hash_version(db, key_id, 999).await;
        let answer = http.get("/api/security/users/me", Some(token)).await;
        set_hash_version(db, key_id, 1).await;
        if answer.status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{label}: the instance never served the key from its cache (is its feed ever \
             caught up?)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Changes the key's row behind the app's back (nothing is announced).
async fn set_hash_version(db: &DatabaseConnection, key_id: &str, version: u16) {
    db.execute_unprepared(&format!(
        "UPDATE clab_api_keys SET hash_version = {version} WHERE key_id = '{key_id}'"
    ))
    .await
    .unwrap();
}
