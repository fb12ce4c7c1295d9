//! The owner check (contract §4): a disabled owner's keys stop at the next request, a failing
//! check fails closed (503), and with the cache on the check is asked once per verification
//! that reads the store, not per request; `owner_changed` takes the owner's keys out of every
//! cache so the next request asks again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use clab_keys_core::{
    AuthError, CacheConfig, CredentialRouter, InvalidReason, InvalidationFeed, KeyHasher,
    KeyService, KeyServiceConfig, KeyStore, LocalFeed, MemoryStore, NewKey, OwnerCheck, Pepper,
    StoreError, UserId,
};
use time::Duration;

#[derive(Debug, Default)]
struct Accounts {
    disabled: Mutex<HashSet<String>>,
    down: AtomicBool,
    asked: AtomicUsize,
}

#[async_trait::async_trait]
impl OwnerCheck for Accounts {
    async fn is_active(&self, user: &UserId) -> Result<bool, StoreError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::msg("accounts database down"));
        }
        Ok(!self.disabled.lock().unwrap().contains(user.as_str()))
    }
}

fn node(
    store: Arc<dyn KeyStore>,
    accounts: Arc<Accounts>,
    feed: Option<Arc<dyn InvalidationFeed>>,
) -> KeyService {
    let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[8; 32]).unwrap()).unwrap();
    let mut builder = KeyService::builder_shared(store, hasher).owner_check(accounts);
    if let Some(feed) = feed {
        builder = builder
            .config(
                KeyServiceConfig::default()
                    .cache(Some(CacheConfig::default().ttl(Duration::minutes(5)))),
            )
            .invalidation_feed(feed);
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn a_disabled_owner_s_keys_stop_and_a_failing_check_fails_closed() {
    let accounts = Arc::new(Accounts::default());
    let keys = node(Arc::new(MemoryStore::new()), accounts.clone(), None);
    let user = UserId::from(4_i64);
    let token = keys
        .create(&user, NewKey::new("k"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    keys.authenticate(token.as_bytes()).await.unwrap();

    accounts.disabled.lock().unwrap().insert("4".into());
    assert!(matches!(
        keys.authenticate(token.as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::OwnerInactive))
    ));
    let router = CredentialRouter::new(keys.clone());
    let header = format!("Bearer {token}");
    assert_eq!(
        router
            .authenticate([header.as_bytes()])
            .await
            .unwrap_err()
            .status(),
        401
    );

    accounts.disabled.lock().unwrap().clear();
    accounts.down.store(true, Ordering::SeqCst);
    assert!(matches!(
        keys.authenticate(token.as_bytes()).await,
        Err(AuthError::Unavailable(_))
    ));
    assert_eq!(
        router
            .authenticate([header.as_bytes()])
            .await
            .unwrap_err()
            .status(),
        503,
        "a failing owner check must never let the key through"
    );
}

#[tokio::test]
async fn with_the_cache_the_check_is_asked_once_and_owner_changed_reaches_every_node() {
    let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
    let feed: Arc<dyn InvalidationFeed> = Arc::new(LocalFeed::new());
    let accounts = Arc::new(Accounts::default());
    let a = node(store.clone(), accounts.clone(), Some(feed.clone()));
    let b = node(store, accounts.clone(), Some(feed));
    let user = UserId::from(5_i64);
    let token = a
        .create(&user, NewKey::new("k"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    for _ in 0..50 {
        a.authenticate(token.as_bytes()).await.unwrap();
        b.authenticate(token.as_bytes()).await.unwrap();
    }
    assert_eq!(accounts.asked.load(Ordering::SeqCst), 2, "once per node");

    // The account is disabled; the cached verifications still stand until the app says so.
    accounts.disabled.lock().unwrap().insert("5".into());
    assert!(b.authenticate(token.as_bytes()).await.is_ok());
    assert_eq!(a.owner_changed(&user).await.unwrap(), 1);
    for node in [&a, &b] {
        assert!(matches!(
            node.authenticate(token.as_bytes()).await,
            Err(AuthError::Invalid(InvalidReason::OwnerInactive))
        ));
    }
}
