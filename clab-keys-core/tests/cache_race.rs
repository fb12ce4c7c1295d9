//! The verification cache never resurrects a revoked key: a verification whose store read
//! began before a revocation may finish (it started first), but it cannot put the key back
//! into the cache. Deterministic: the store's `find` is held until the revocation is done.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use clab_keys_core::{
    AuthError, CacheConfig, InsertOutcome, InvalidReason, KeyHasher, KeyId, KeyRecord, KeyService,
    KeyServiceConfig, KeyStore, MemoryStore, NewKey, Pepper, RevokeOutcome, StoreError, StoredHash,
    UserId,
};
use time::{Duration, OffsetDateTime};
use tokio::sync::{Notify, oneshot};

/// A memory store whose next `find`, once armed, reads the row, says so, and then waits to be
/// released before returning what it read.
#[derive(Debug, Clone)]
struct HeldFind {
    inner: Arc<MemoryStore>,
    gate: Arc<Mutex<Option<(Arc<Notify>, oneshot::Receiver<()>)>>>,
}

#[async_trait::async_trait]
impl KeyStore for HeldFind {
    async fn insert_within_limit(
        &self,
        record: &KeyRecord,
        max_active: u32,
        now: OffsetDateTime,
    ) -> Result<InsertOutcome, StoreError> {
        self.inner
            .insert_within_limit(record, max_active, now)
            .await
    }

    async fn find(&self, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        let row = self.inner.find(key_id).await;
        let gate = self.gate.lock().unwrap().take();
        if let Some((entered, release)) = gate {
            entered.notify_one();
            release.await.unwrap();
        }
        row
    }

    async fn list(&self, user_id: &UserId) -> Result<Vec<KeyRecord>, StoreError> {
        self.inner.list(user_id).await
    }

    async fn revoke(
        &self,
        user_id: &UserId,
        key_id: &KeyId,
        at: OffsetDateTime,
    ) -> Result<RevokeOutcome, StoreError> {
        self.inner.revoke(user_id, key_id, at).await
    }

    async fn touch(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
        cutoff: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.inner.touch(key_id, at, cutoff).await
    }

    async fn replace_hash(
        &self,
        key_id: &KeyId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<bool, StoreError> {
        self.inner.replace_hash(key_id, old, new).await
    }
}

#[tokio::test]
async fn a_verification_that_read_before_a_revoke_does_not_cache_the_revoked_key() {
    let store = HeldFind {
        inner: Arc::new(MemoryStore::new()),
        gate: Arc::new(Mutex::new(None)),
    };
    let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[3; 32]).unwrap()).unwrap();
    let cache = CacheConfig::default().ttl(Duration::seconds(300));
    let keys = KeyService::builder(store.clone(), hasher)
        .config(KeyServiceConfig::default().cache(Some(cache)))
        .build()
        .unwrap();
    let user = UserId::from(1_i64);
    let created = keys.create(&user, NewKey::new("race")).await.unwrap();
    let token = created.token.expose_secret().to_owned();

    // The verification reads the (still active) row, then is held.
    let entered = Arc::new(Notify::new());
    let (release, held) = oneshot::channel();
    *store.gate.lock().unwrap() = Some((entered.clone(), held));
    let in_flight = tokio::spawn({
        let keys = keys.clone();
        let token = token.clone();
        async move { keys.authenticate(token.as_bytes()).await }
    });
    entered.notified().await;

    // Meanwhile the key is revoked (store and cache), then the held read completes.
    keys.revoke(&user, created.key.key_id.as_str())
        .await
        .unwrap();
    release.send(()).unwrap();
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
