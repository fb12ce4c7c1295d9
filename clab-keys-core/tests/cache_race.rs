//! The verification cache never resurrects a revoked key: a verification whose store read
//! began before a revocation may finish (it started first), but it cannot put the key back
//! into the cache. Deterministic: the store's `find` is held until the revocation is done.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use clab_keys_core::{
    AuthError, CacheConfig, InvalidReason, KeyHasher, KeyService, KeyServiceConfig, KeyStore,
    MemoryStore, NewKey, Pepper, UserId,
};
use clab_keys_testing::HeldStore;
use time::Duration;

#[tokio::test]
async fn a_verification_that_read_before_a_revoke_does_not_cache_the_revoked_key() {
    let store = HeldStore::new(Arc::new(MemoryStore::new()) as Arc<dyn KeyStore>);
    let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[3; 32]).unwrap()).unwrap();
    // Without a feed the TTL is at most 5 s: a revocation here must still be seen at once.
    let cache = CacheConfig::default().ttl(Duration::seconds(5));
    let keys = KeyService::builder(store.clone(), hasher)
        .config(KeyServiceConfig::default().cache(Some(cache)))
        .build()
        .unwrap();
    let user = UserId::from(1_i64);
    let created = keys.create(&user, NewKey::new("race")).await.unwrap();
    let token = created.token.expose_secret().to_owned();

    // The verification reads the (still active) row, then is held.
    let hold = store.hold_next_find();
    let in_flight = tokio::spawn({
        let keys = keys.clone();
        let token = token.clone();
        async move { keys.authenticate(token.as_bytes()).await }
    });
    hold.entered().await;

    // Meanwhile the key is revoked (store and cache), then the held read completes.
    keys.revoke(&user, created.key.key_id.as_str())
        .await
        .unwrap();
    hold.release();
    let first = in_flight.await.unwrap();
    assert!(
        first.is_ok(),
        "the verification that began first may finish: {first:?}"
    );

    // The next request must see the revocation, not a cached verification.
    match keys.authenticate(token.as_bytes()).await {
        Err(AuthError::Invalid(InvalidReason::Revoked)) => {}
        other => panic!("a revoked key came back from the cache: {other:?}"),
    }
}
