//! Rotation and update reach every cache (contract §4): instances sharing a store and a feed
//! forget a key rotated without grace, rotated with a grace that moved its expiry, or updated
//! to narrower scopes or an earlier expiry, before the call returns; a rename alone is not
//! announced. The audit event of a rotation names both keys.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use clab_keys_core::{
    AuthError, CacheConfig, FeedError, InvalidReason, InvalidationFeed, Invalidations, KeyHasher,
    KeyId, KeyService, KeyServiceConfig, KeyStore, KeyUpdate, LocalFeed, MemoryStore, NewKey,
    Pepper, UserId,
};
use clab_keys_testing::ManualClock;
use time::Duration;

fn hasher() -> KeyHasher {
    KeyHasher::hmac(1, Pepper::from_bytes(&[4; 32]).unwrap()).unwrap()
}

fn instance(
    store: Arc<dyn KeyStore>,
    feed: Arc<dyn InvalidationFeed>,
    clock: &ManualClock,
) -> KeyService {
    let config =
        KeyServiceConfig::default().cache(Some(CacheConfig::default().ttl(Duration::seconds(300))));
    KeyService::builder_shared(store, hasher())
        .config(config)
        .clock(clock.clone())
        .invalidation_feed(feed)
        .build()
        .unwrap()
}

#[tokio::test]
async fn rotated_and_narrowed_keys_leave_every_cache_at_once() {
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let feed: Arc<dyn InvalidationFeed> = Arc::new(LocalFeed::new());
    let clock = ManualClock::fixed();
    let (a, b) = (
        instance(store.clone(), feed.clone(), &clock),
        instance(store.clone(), feed.clone(), &clock),
    );
    let user = UserId::from(1_i64);
    let new = NewKey::new("ci").scopes(["read", "write"]);
    let narrowed = a.create(&user, new.clone()).await.unwrap();
    let rotated = a.create(&user, new.clone()).await.unwrap();
    let graced = a.create(&user, new).await.unwrap();
    let tokens = [&narrowed, &rotated, &graced].map(|k| k.token.expose_secret().to_owned());
    for token in &tokens {
        b.authenticate(token.as_bytes()).await.unwrap(); // cached on b for 300 s
    }

    let id = narrowed.key.key_id.as_str();
    a.update(&user, id, KeyUpdate::new().scopes(["read"]))
        .await
        .unwrap();
    let verified = b.authenticate(tokens[0].as_bytes()).await.unwrap();
    assert_eq!(verified.scopes.to_string(), "read", "b saw the narrowing");

    a.rotate(&user, rotated.key.key_id.as_str(), Duration::ZERO)
        .await
        .unwrap();
    assert!(matches!(
        b.authenticate(tokens[1].as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::Revoked))
    ));

    a.rotate(&user, graced.key.key_id.as_str(), Duration::minutes(5))
        .await
        .unwrap();
    let verified = b.authenticate(tokens[2].as_bytes()).await.unwrap();
    assert_eq!(verified.expires_at, Some(a.now() + Duration::minutes(5)));
    clock.advance(Duration::minutes(5));
    assert!(matches!(
        b.authenticate(tokens[2].as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::Expired))
    ));
}

/// A feed that records what is published.
#[derive(Debug, Default)]
struct Recorded {
    published: Mutex<Vec<KeyId>>,
}

#[async_trait::async_trait]
impl InvalidationFeed for Recorded {
    async fn publish(&self, key_ids: &[KeyId]) -> Result<(), FeedError> {
        self.published.lock().unwrap().extend_from_slice(key_ids);
        Ok(())
    }

    fn subscribe(&self, _sink: Invalidations) {}
}

#[tokio::test]
async fn only_changes_that_take_rights_away_are_announced() {
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let feed = Arc::new(Recorded::default());
    let clock = ManualClock::fixed();
    let keys = instance(store, feed.clone(), &clock);
    let user = UserId::from(2_i64);
    let key = keys
        .create(&user, NewKey::new("k").expires_in(Duration::days(1)))
        .await
        .unwrap()
        .key;
    let id = key.key_id.as_str();
    keys.update(&user, id, KeyUpdate::new().name("renamed"))
        .await
        .unwrap();
    assert!(feed.published.lock().unwrap().is_empty(), "a rename is not");
    keys.update(
        &user,
        id,
        KeyUpdate::new().expires_at(clock_now(&keys) + Duration::hours(1)),
    )
    .await
    .unwrap();
    assert_eq!(
        *feed.published.lock().unwrap(),
        [key.key_id],
        "an earlier expiry is"
    );
    // A grace longer than the remaining life leaves the expiry alone: nothing to announce.
    keys.rotate(&user, id, Duration::hours(2)).await.unwrap();
    assert_eq!(feed.published.lock().unwrap().len(), 1);
}

fn clock_now(keys: &KeyService) -> time::OffsetDateTime {
    keys.now()
}
