//! A cached verification allocates nothing (contract §4): the hot path of every request that
//! presents a key the instance has seen. Counted with `allocation-counter`'s allocator (per
//! thread), in a test binary of its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use clab_keys_core::{
    CacheConfig, KeyHasher, KeyService, KeyServiceConfig, LocalFeed, MemoryStore, NewKey, Pepper,
    UserId,
};

/// Polls a future that completes without waiting, once.
fn ready<F: std::future::Future>(fut: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match std::pin::pin!(fut).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the verification waited"),
    }
}

#[test]
fn a_cached_verification_of_a_scoped_key_allocates_nothing() {
    let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[5; 32]).unwrap()).unwrap();
    let keys = KeyService::builder(MemoryStore::new(), hasher)
        .config(KeyServiceConfig::default().cache(Some(CacheConfig::default())))
        .invalidation_feed(Arc::new(LocalFeed::new()))
        .build()
        .unwrap();
    let created = ready(keys.create(
        &UserId::from(9_i64),
        NewKey::new("hot").scopes(["projects:read", "runs:write"]),
    ))
    .unwrap();
    let token = created.token.expose_secret().to_owned();
    // The first verification reads the store, records the use and fills the cache.
    ready(keys.authenticate(token.as_bytes())).unwrap();

    let info = allocation_counter::measure(|| {
        for _ in 0..1_000 {
            let key = ready(keys.authenticate(token.as_bytes())).unwrap();
            assert!(key.scopes.contains("runs:write"));
        }
    });
    assert_eq!(info.count_total, 0, "a cached verification allocated");
}
