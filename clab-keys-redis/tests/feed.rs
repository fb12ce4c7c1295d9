//! The Redis feed against a real Redis (contract §4, revocation everywhere): instances that
//! share a store, each with its own `RedisFeed` and a 300 s cache, refuse a key revoked on any
//! of them within the bound; a verification that read the store before a revocation elsewhere
//! does not cache the key; a lost subscription bypasses the cache until the feed is back and
//! caught up; an unreachable Redis leaves the cache unused; a failed announcement fails the
//! revocation.
//!
//! The tests that need Redis read its URL from `CLAB_KEYS_TEST_REDIS_URL`
//! (`redis://127.0.0.1:6379` in CI) and print "skipped: …" without it. Each uses a channel of
//! its own, so they run concurrently with each other and with other users of that Redis.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use clab_keys_core::{
    AuthError, CacheConfig, InvalidReason, KeyHasher, KeyId, KeyService, KeyServiceConfig,
    KeyStore, MemoryStore, NewKey, Pepper, RevokeError, UserId,
};
use clab_keys_redis::RedisFeed;
use clab_keys_testing::HeldStore;

/// The ceiling on polling for a feed to catch up, come back or let go: heartbeat round trips
/// through connection pools, which a loaded 2-core CI machine can stretch to seconds. It
/// bounds the polling only; the times measured are printed.
const PATIENCE: Duration = Duration::from_secs(10);

/// The ceiling on a revocation (or a lost subscription) being acted on: the bound the tests
/// stand for (the lease, 800 ms) with room for a loaded machine, and still far below the
/// caches' 300 s TTL, so that only the feed (or the bypass) can meet it.
const BOUND: Duration = Duration::from_secs(5);

fn redis_url(test: &str) -> Option<String> {
    let url = std::env::var("CLAB_KEYS_TEST_REDIS_URL").ok();
    if url.is_none() {
        println!("skipped: {test}: CLAB_KEYS_TEST_REDIS_URL is not set (redis://127.0.0.1:6379)");
    }
    url
}

/// A channel no other test (and no other run on the same Redis) uses.
fn channel(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("clab_keys_test:{test}:{}:{nanos}", std::process::id())
}

fn hasher() -> KeyHasher {
    KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).unwrap()).unwrap()
}

/// An instance over `store` with a 300 s cache and `feed`.
fn instance(store: Arc<dyn KeyStore>, feed: RedisFeed) -> KeyService {
    KeyService::builder_shared(store, hasher())
        .config(KeyServiceConfig::default().cache(Some(
            CacheConfig::default().ttl(time::Duration::seconds(300)),
        )))
        .invalidation_feed(Arc::new(feed))
        .build()
        .unwrap()
}

/// An instance that shares the store but has no feed: a revocation through it is one no feed
/// carried, which only a bypassed (or emptied) cache can see.
fn unannounced(store: Arc<dyn KeyStore>) -> KeyService {
    KeyService::builder_shared(store, hasher()).build().unwrap()
}

async fn is_revoked(keys: &KeyService, token: &str) -> bool {
    matches!(
        keys.authenticate(token.as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::Revoked))
    )
}

/// A key created (and later revoked) through `elsewhere`, unannounced.
async fn new_key(elsewhere: &KeyService, name: &str) -> (KeyId, String) {
    let created = elsewhere
        .create(&UserId::from(1_i64), NewKey::new(name))
        .await
        .unwrap();
    (created.key.key_id, created.token.expose_secret().to_owned())
}

async fn revoke_unannounced(elsewhere: &KeyService, key_id: &KeyId) {
    elsewhere
        .revoke(&UserId::from(1_i64), key_id.as_str())
        .await
        .unwrap();
}

/// Whether `node` serves from its cache now: a key it just verified and that was then revoked
/// unannounced is still accepted.
async fn serves_from_cache(node: &KeyService, elsewhere: &KeyService) -> bool {
    let (key_id, token) = new_key(elsewhere, "probe").await;
    node.authenticate(token.as_bytes()).await.unwrap();
    revoke_unannounced(elsewhere, &key_id).await;
    node.authenticate(token.as_bytes()).await.is_ok()
}

/// Waits until `node`'s feed is caught up (its cache is used).
async fn wait_until_caught_up(node: &KeyService, elsewhere: &KeyService) -> Duration {
    let start = Instant::now();
    while !serves_from_cache(node, elsewhere).await {
        assert!(
            start.elapsed() < PATIENCE,
            "the feed did not catch up within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

/// Polls until `node` refuses `token` as revoked; the time it took.
async fn wait_until_refused(node: &KeyService, token: &str, what: &str) -> Duration {
    let start = Instant::now();
    while !is_revoked(node, token).await {
        assert!(
            start.elapsed() < BOUND,
            "{what}: still accepted after {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    start.elapsed()
}

async fn admin(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// A local TCP port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_instance_is_refused_by_every_other_within_the_bound() {
    let Some(url) = redis_url("revoked_everywhere") else {
        return;
    };
    let channel = channel("everywhere");
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let elsewhere = unannounced(store.clone());
    let nodes: Vec<_> = (0..3)
        .map(|_| {
            instance(
                store.clone(),
                RedisFeed::new(&url).unwrap().channel(&channel),
            )
        })
        .collect();
    for node in &nodes {
        let took = wait_until_caught_up(node, &elsewhere).await;
        println!("caught up after {took:?}");
    }

    let (key_id, token) = new_key(&elsewhere, "ci").await;
    for node in &nodes {
        node.authenticate(token.as_bytes()).await.unwrap();
    }
    let revoked_at = Instant::now();
    nodes[0]
        .revoke(&UserId::from(1_i64), key_id.as_str())
        .await
        .unwrap();
    let returned = revoked_at.elapsed();
    let waits: Vec<_> = nodes[1..]
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let (node, token) = (node.clone(), token.clone());
            tokio::spawn(async move {
                wait_until_refused(&node, &token, &format!("instance {}", i + 1)).await
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for wait in waits {
        latencies.push(wait.await.unwrap());
    }
    println!(
        "revoke returned after {returned:?}; refused by the other instances {latencies:?} later (bound: {:?})",
        RedisFeed::new(&url).unwrap().lease()
    );
    assert!(is_revoked(&nodes[0], &token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_that_read_before_a_revocation_elsewhere_does_not_cache_the_key() {
    let Some(url) = redis_url("no_stale_re_insert") else {
        return;
    };
    let channel = channel("race");
    let shared: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let elsewhere = unannounced(shared.clone());
    let held = HeldStore::new(shared.clone());
    let reader = instance(
        Arc::new(held.clone()),
        RedisFeed::new(&url).unwrap().channel(&channel),
    );
    let revoker = instance(shared, RedisFeed::new(&url).unwrap().channel(&channel));
    wait_until_caught_up(&reader, &elsewhere).await;
    let user = UserId::from(1_i64);
    let (key_id, token) = new_key(&elsewhere, "race").await;
    // A marker, cached by the reader: its announcement, made after the key's, shows that the
    // key's has been delivered (Redis delivers a channel in order).
    let (marker_id, marker) = new_key(&elsewhere, "marker").await;
    reader.authenticate(marker.as_bytes()).await.unwrap();

    // The reader's verification reads the (still active) row, then is held ...
    let hold = held.hold_next_find();
    let in_flight = tokio::spawn({
        let reader = reader.clone();
        let token = token.clone();
        async move { reader.authenticate(token.as_bytes()).await }
    });
    hold.entered().await;
    // ... while another instance revokes the key, and the announcement reaches the reader.
    revoker.revoke(&user, key_id.as_str()).await.unwrap();
    revoker.revoke(&user, marker_id.as_str()).await.unwrap();
    let delivered = wait_until_refused(&reader, &marker, "the marker").await;
    println!("the announcements reached the reader after {delivered:?}");
    hold.release();
    assert!(
        in_flight.await.unwrap().is_ok(),
        "it began first and may finish"
    );

    assert!(
        is_revoked(&reader, &token).await,
        "a verification that began before the announcement put the revoked key back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_subscription_bypasses_the_cache_until_the_feed_is_back() {
    let Some(url) = redis_url("killed_subscription") else {
        return;
    };
    // The feed connects as a user of its own, so that exactly its subscription is killed.
    let user_name = channel("user").replace(':', "_");
    let mut admin = admin(&url).await;
    redis::cmd("ACL")
        .arg(&["SETUSER", &user_name, "on", "nopass", "~*", "&*", "+@all"])
        .query_async::<()>(&mut admin)
        .await
        .unwrap();
    let feed_url = url.replacen("redis://", &format!("redis://{user_name}:any@"), 1);
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let elsewhere = unannounced(store.clone());
    let node = instance(
        store,
        RedisFeed::new(&feed_url)
            .unwrap()
            .channel(channel("killed")),
    );
    wait_until_caught_up(&node, &elsewhere).await;
    let (key_id, token) = new_key(&elsewhere, "warm").await;
    node.authenticate(token.as_bytes()).await.unwrap();

    let killed: i64 = redis::cmd("CLIENT")
        .arg(&["KILL", "USER", &user_name, "TYPE", "pubsub"])
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(killed, 1, "the feed's subscription connection");
    // Revoked unannounced: a cache still in use would accept the key for 300 s.
    revoke_unannounced(&elsewhere, &key_id).await;
    let seen = wait_until_refused(&node, &token, "after the subscription was killed").await;
    println!("an unannounced revocation was seen {seen:?} after the kill");

    let back = wait_until_caught_up(&node, &elsewhere).await;
    println!("the feed was back and caught up {back:?} later");
    redis::cmd("ACL")
        .arg(&["DELUSER", &user_name])
        .query_async::<()>(&mut admin)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_message_on_the_channel_empties_the_cache() {
    let Some(url) = redis_url("unreadable_message") else {
        return;
    };
    let channel = channel("unreadable");
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let elsewhere = unannounced(store.clone());
    let node = instance(store, RedisFeed::new(&url).unwrap().channel(&channel));
    wait_until_caught_up(&node, &elsewhere).await;
    let (key_id, token) = new_key(&elsewhere, "warm").await;
    node.authenticate(token.as_bytes()).await.unwrap();
    revoke_unannounced(&elsewhere, &key_id).await;

    let mut admin = admin(&url).await;
    redis::cmd("PUBLISH")
        .arg(&channel)
        .arg("evict not-a-key-id")
        .query_async::<i64>(&mut admin)
        .await
        .unwrap();
    wait_until_refused(&node, &token, "after an unreadable announcement").await;
    wait_until_caught_up(&node, &elsewhere).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_ends_when_the_service_is_dropped() {
    let Some(url) = redis_url("subscription_ends") else {
        return;
    };
    let channel = channel("dropped");
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let elsewhere = unannounced(store.clone());
    let node = instance(store, RedisFeed::new(&url).unwrap().channel(&channel));
    wait_until_caught_up(&node, &elsewhere).await;
    let mut admin = admin(&url).await;
    let subscribers = |admin: &mut redis::aio::MultiplexedConnection| {
        let mut admin = admin.clone();
        let channel = channel.clone();
        async move {
            let (_, n): (String, i64) = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(&channel)
                .query_async(&mut admin)
                .await
                .unwrap();
            n
        }
    };
    assert_eq!(subscribers(&mut admin).await, 1);
    drop(node);
    let start = Instant::now();
    while subscribers(&mut admin).await != 0 {
        assert!(start.elapsed() < PATIENCE, "still subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_never_lets_the_cache_be_trusted() {
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let elsewhere = unannounced(store.clone());
    let url = format!("redis://127.0.0.1:{}", closed_port());
    let node = instance(store, RedisFeed::new(&url).unwrap());
    let (key_id, token) = new_key(&elsewhere, "k").await;
    // Authentication works, from the store.
    node.authenticate(token.as_bytes()).await.unwrap();
    // Give the feed time to try (and fail) a few times.
    tokio::time::sleep(Duration::from_millis(500)).await;
    node.authenticate(token.as_bytes()).await.unwrap();
    revoke_unannounced(&elsewhere, &key_id).await;
    assert!(
        is_revoked(&node, &token).await,
        "the cache was used although the feed never caught up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_whose_announcement_cannot_be_published_is_an_error() {
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let url = format!("redis://127.0.0.1:{}", closed_port());
    let node = instance(store, RedisFeed::new(&url).unwrap());
    let user = UserId::from(1_i64);
    let created = node.create(&user, NewKey::new("k")).await.unwrap();
    let result = node.revoke(&user, created.key.key_id.as_str()).await;
    assert!(matches!(result, Err(RevokeError::Store(_))), "{result:?}");
    // The revocation itself is stored, and refused here.
    assert!(is_revoked(&node, created.token.expose_secret()).await);
}

#[test]
fn new_connects_to_nothing_and_refuses_what_is_not_a_redis_url() {
    // No runtime here: `new` does no I/O.
    let feed = RedisFeed::new("redis://user:hunter2@127.0.0.1:6379/0").unwrap();
    let debug = format!("{feed:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("127.0.0.1:6379"), "{debug}");
    assert_eq!(feed.channel_name(), clab_keys_redis::DEFAULT_CHANNEL);
    assert_eq!(feed.lease(), Duration::from_millis(800));
    assert!(RedisFeed::new("http://127.0.0.1:6379").is_err());
    assert!(RedisFeed::new("not a url").is_err());
}
