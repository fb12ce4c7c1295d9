//! Revocation everywhere (contract §4): instances that share a store and an invalidation feed
//! evict a key revoked on any of them before the revoke returns (`LocalFeed`), never cache a
//! verification that read the store before an eviction they received, bypass their cache while
//! the feed is not caught up, and report a revocation whose announcement failed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use clab_keys_core::{
    AuthError, CacheConfig, ConfigError, FeedError, InvalidReason, InvalidationFeed, Invalidations,
    KeyHasher, KeyId, KeyService, KeyServiceConfig, KeyStore, LocalFeed, MemoryStore, NewKey,
    Pepper, RevokeError, UserId,
};
use clab_keys_testing::HeldStore;
use time::Duration;

fn hasher() -> KeyHasher {
    KeyHasher::hmac(1, Pepper::from_bytes(&[3; 32]).unwrap()).unwrap()
}

fn cached(ttl_secs: i64) -> KeyServiceConfig {
    KeyServiceConfig::default().cache(Some(
        CacheConfig::default().ttl(Duration::seconds(ttl_secs)),
    ))
}

/// An instance over `store` with a 300 s cache and `feed`.
fn instance(store: Arc<dyn KeyStore>, feed: Arc<dyn InvalidationFeed>) -> KeyService {
    KeyService::builder_shared(store, hasher())
        .config(cached(300))
        .invalidation_feed(feed)
        .build()
        .unwrap()
}

/// An instance that shares the store but announces nothing: a revocation through it is one
/// the feed never carried (a lost announcement).
fn unannounced(store: Arc<dyn KeyStore>) -> KeyService {
    KeyService::builder_shared(store, hasher()).build().unwrap()
}

async fn is_revoked(keys: &KeyService, token: &str) -> bool {
    matches!(
        keys.authenticate(token.as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::Revoked))
    )
}

#[tokio::test]
async fn a_key_revoked_on_one_instance_is_refused_at_once_on_the_others() {
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let feed: Arc<dyn InvalidationFeed> = Arc::new(LocalFeed::new());
    let nodes: Vec<_> = (0..3)
        .map(|_| instance(store.clone(), feed.clone()))
        .collect();
    let user = UserId::from(1_i64);
    let created = nodes[0].create(&user, NewKey::new("ci")).await.unwrap();
    let token = created.token.expose_secret().to_owned();
    for node in &nodes {
        node.authenticate(token.as_bytes()).await.unwrap();
    }
    // Warm: a revocation the feed does not carry goes unseen by every cache (TTL 300 s).
    let other = nodes[0].create(&user, NewKey::new("other")).await.unwrap();
    let other_token = other.token.expose_secret().to_owned();
    for node in &nodes {
        node.authenticate(other_token.as_bytes()).await.unwrap();
    }
    unannounced(store.clone())
        .revoke(&user, other.key.key_id.as_str())
        .await
        .unwrap();
    for node in &nodes {
        assert!(
            node.authenticate(other_token.as_bytes()).await.is_ok(),
            "the caches are warm, so only the feed can stop a key before the TTL"
        );
    }

    nodes[1]
        .revoke(&user, created.key.key_id.as_str())
        .await
        .unwrap();
    for node in &nodes {
        assert!(
            is_revoked(node, &token).await,
            "a cached key outlived its revocation"
        );
    }
}

#[tokio::test]
async fn a_verification_that_read_before_a_revoke_elsewhere_does_not_cache_the_key() {
    let shared: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let feed: Arc<dyn InvalidationFeed> = Arc::new(LocalFeed::new());
    let held = HeldStore::new(shared.clone());
    let reader = instance(Arc::new(held.clone()), feed.clone());
    let revoker = instance(shared, feed);
    let user = UserId::from(1_i64);
    let created = revoker.create(&user, NewKey::new("race")).await.unwrap();
    let token = created.token.expose_secret().to_owned();

    // The reader's verification reads the (still active) row, then is held ...
    let hold = held.hold_next_find();
    let in_flight = tokio::spawn({
        let reader = reader.clone();
        let token = token.clone();
        async move { reader.authenticate(token.as_bytes()).await }
    });
    hold.entered().await;
    // ... while another instance revokes the key and announces it.
    revoker
        .revoke(&user, created.key.key_id.as_str())
        .await
        .unwrap();
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

/// A feed driven by hand: the tests decide when it is caught up and when it drops.
#[derive(Debug, Default)]
struct HandFeed {
    sink: Mutex<Option<Invalidations>>,
}

impl HandFeed {
    fn sink(&self) -> Invalidations {
        self.sink.lock().unwrap().clone().expect("subscribed")
    }
}

#[async_trait::async_trait]
impl InvalidationFeed for HandFeed {
    async fn publish(&self, key_ids: &[KeyId]) -> Result<(), FeedError> {
        for key_id in key_ids {
            self.sink().evict(key_id);
        }
        Ok(())
    }

    fn subscribe(&self, sink: Invalidations) {
        *self.sink.lock().unwrap() = Some(sink);
    }
}

/// A key cached by an instance whose feed is `feed`, and a way to revoke it unannounced.
async fn warm(feed: Arc<HandFeed>) -> (KeyService, KeyService, UserId, KeyId, String) {
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let node = instance(store.clone(), feed);
    let user = UserId::from(1_i64);
    let created = node.create(&user, NewKey::new("k")).await.unwrap();
    let token = created.token.expose_secret().to_owned();
    (unannounced(store), node, user, created.key.key_id, token)
}

#[tokio::test]
async fn the_cache_is_bypassed_until_the_feed_is_caught_up_and_after_it_drops() {
    let feed = Arc::new(HandFeed::default());
    let (elsewhere, node, user, key_id, token) = warm(feed.clone()).await;

    // Not yet caught up: nothing is cached, so an unannounced revocation is seen.
    node.authenticate(token.as_bytes()).await.unwrap();
    let second = node.create(&user, NewKey::new("second")).await.unwrap();
    let second_token = second.token.expose_secret().to_owned();
    node.authenticate(second_token.as_bytes()).await.unwrap();
    elsewhere
        .revoke(&user, second.key.key_id.as_str())
        .await
        .unwrap();
    assert!(
        is_revoked(&node, &second_token).await,
        "cache trusted before the feed was up"
    );

    // Caught up: entries are trusted (an unannounced revocation is not seen: that is what
    // the feed is for).
    feed.sink()
        .caught_up(Instant::now() + std::time::Duration::from_secs(60));
    node.authenticate(token.as_bytes()).await.unwrap();
    let third = node.create(&user, NewKey::new("third")).await.unwrap();
    let third_token = third.token.expose_secret().to_owned();
    node.authenticate(third_token.as_bytes()).await.unwrap();
    elsewhere
        .revoke(&user, third.key.key_id.as_str())
        .await
        .unwrap();
    assert!(node.authenticate(third_token.as_bytes()).await.is_ok());

    // The subscription drops: the cache is emptied and bypassed.
    feed.sink().disconnected();
    assert!(
        is_revoked(&node, &third_token).await,
        "cache trusted after the feed dropped"
    );
    elsewhere.revoke(&user, key_id.as_str()).await.unwrap();
    assert!(is_revoked(&node, &token).await);
}

#[tokio::test]
async fn a_lapsed_deadline_bypasses_the_cache_and_voids_reads_in_flight() {
    let feed = Arc::new(HandFeed::default());
    let (elsewhere, node, user, key_id, token) = warm(feed.clone()).await;
    feed.sink()
        .caught_up(Instant::now() + std::time::Duration::from_millis(30));
    node.authenticate(token.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    elsewhere.revoke(&user, key_id.as_str()).await.unwrap();
    assert!(
        is_revoked(&node, &token).await,
        "an entry was served after the feed stopped vouching for it"
    );
}

/// A feed whose announcements fail until told otherwise.
#[derive(Debug, Default)]
struct BrokenFeed {
    working: std::sync::atomic::AtomicBool,
    published: Mutex<Vec<KeyId>>,
}

#[async_trait::async_trait]
impl InvalidationFeed for BrokenFeed {
    async fn publish(&self, key_ids: &[KeyId]) -> Result<(), FeedError> {
        if !self.working.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(FeedError::msg("feed down"));
        }
        self.published.lock().unwrap().extend_from_slice(key_ids);
        Ok(())
    }

    fn subscribe(&self, _sink: Invalidations) {}
}

#[tokio::test]
async fn a_revocation_whose_announcement_failed_is_an_error_and_a_retry_announces_it() {
    let feed = Arc::new(BrokenFeed::default());
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let node = instance(store, feed.clone());
    let user = UserId::from(1_i64);
    let created = node.create(&user, NewKey::new("k")).await.unwrap();
    let id = created.key.key_id;
    assert!(matches!(
        node.revoke(&user, id.as_str()).await,
        Err(RevokeError::Store(_))
    ));
    // Stored nonetheless, and refused here.
    let token = created.token.expose_secret().to_owned();
    assert!(is_revoked(&node, &token).await);
    feed.working
        .store(true, std::sync::atomic::Ordering::SeqCst);
    node.revoke(&user, id.as_str()).await.unwrap();
    assert_eq!(*feed.published.lock().unwrap(), vec![id]);
}

#[test]
fn a_cache_without_a_feed_keeps_entries_at_most_five_seconds() {
    let build = |ttl| {
        KeyService::builder(MemoryStore::new(), hasher())
            .config(cached(ttl))
            .build()
    };
    assert!(build(5).is_ok());
    assert!(matches!(build(6), Err(ConfigError::InvalidLimit(_))));
    let fed = KeyService::builder(MemoryStore::new(), hasher())
        .config(cached(300))
        .invalidation_feed(Arc::new(LocalFeed::new()))
        .build();
    assert!(fed.is_ok());
}

#[tokio::test]
async fn revoking_all_again_after_a_failed_announcement_announces_the_keys() {
    let feed = Arc::new(BrokenFeed::default());
    let node = instance(Arc::new(MemoryStore::new()), feed.clone());
    let user = UserId::from(1_i64);
    let a = node
        .create(&user, NewKey::new("a"))
        .await
        .unwrap()
        .key
        .key_id;
    let b = node
        .create(&user, NewKey::new("b"))
        .await
        .unwrap()
        .key
        .key_id;
    let reason = clab_keys_core::RevocationReason::Owner;
    assert!(node.revoke_all(&user, reason).await.is_err());
    feed.working
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        node.revoke_all(&user, reason).await.unwrap(),
        0,
        "nothing left to revoke"
    );
    let mut announced = feed.published.lock().unwrap().clone();
    announced.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    let mut expected = vec![a, b];
    expected.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    assert_eq!(announced, expected);
}
