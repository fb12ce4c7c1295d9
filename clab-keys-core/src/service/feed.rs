//! Revocation everywhere (contract §4, "The verification cache and the invalidation feed"):
//! every change that takes keys out of use is announced on an [`InvalidationFeed`]; every
//! instance subscribed to the feed evicts them from its verification cache. The cache is
//! trusted only while its feed says it is caught up, so a lost subscription bypasses the cache
//! instead of serving what may have been revoked meanwhile.
//!
//! Implementations: [`LocalFeed`] here (instances in one process, or a single instance), the
//! PostgreSQL `LISTEN/NOTIFY` feed and the change-log poll in `clab-keys-seaorm`, the Redis
//! pub/sub feed in `clab-keys-redis`.

use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use crate::format::KeyId;

use super::cache::VerificationCache;

/// Announces that keys left use, to every instance that shares a store, and delivers such
/// announcements to this instance's cache.
///
/// A [`KeyService`](crate::KeyService) built with a feed calls [`InvalidationFeed::subscribe`]
/// once, from [`KeyServiceBuilder::build`](crate::KeyServiceBuilder::build), and
/// [`InvalidationFeed::publish`] after every store change that takes keys out of use (after
/// the change is committed, so an instance that evicts and reads again sees it).
///
/// An implementation must uphold one rule: it calls [`Invalidations::caught_up`] only when
/// every announcement published before that moment has been delivered through
/// [`Invalidations::evict`], and calls it again, before the deadline it gave, for as long as
/// that stays true. When it cannot (connection lost, poll failing), it calls
/// [`Invalidations::disconnected`] or simply lets the deadline pass; the cache is then
/// bypassed until the next `caught_up`.
#[async_trait::async_trait]
pub trait InvalidationFeed: fmt::Debug + Send + Sync + 'static {
    /// Announces that `key_ids` left use. Returns once the announcement is durable or sent;
    /// an error means other instances may not learn of it (the caller reports the change as
    /// failed, and retrying it announces again).
    ///
    /// # Errors
    ///
    /// Returns [`FeedError`] when the announcement could not be sent.
    async fn publish(&self, key_ids: &[KeyId]) -> Result<(), FeedError>;

    /// Starts delivering announcements (this instance's own included, harmlessly) into
    /// `sink`, for as long as [`Invalidations::is_closed`] is false. Called once per service,
    /// from `build`; implementations that need a connection spawn a task on the current tokio
    /// runtime.
    fn subscribe(&self, sink: Invalidations);
}

/// An announcement could not be sent. The source error is kept for logs.
#[derive(Debug, thiserror::Error)]
#[error("invalidation feed failed: {message}")]
pub struct FeedError {
    message: &'static str,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl FeedError {
    /// A feed error with a fixed description and the underlying error as its source.
    pub fn new(
        message: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message,
            source: Some(Box::new(source)),
        }
    }

    /// A feed error with only a fixed description.
    pub fn msg(message: &'static str) -> Self {
        Self {
            message,
            source: None,
        }
    }
}

/// The receiving end a feed delivers into: one service's verification cache. Cheap to clone;
/// it does not keep the service alive ([`Invalidations::is_closed`] turns true once the
/// service is dropped, and the feed's task should then end).
#[derive(Clone)]
pub struct Invalidations {
    cache: Weak<VerificationCache>,
}

impl fmt::Debug for Invalidations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invalidations")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Invalidations {
    pub(crate) fn new(cache: &Arc<VerificationCache>) -> Self {
        Self {
            cache: Arc::downgrade(cache),
        }
    }

    /// A sink that delivers nowhere, for a service without a cache (it still publishes).
    pub(crate) fn closed() -> Self {
        Self { cache: Weak::new() }
    }

    /// Evicts `key_id`: a verification of it that began before this call is not cached.
    pub fn evict(&self, key_id: &KeyId) {
        if let Some(cache) = self.cache.upgrade() {
            cache.evict(key_id);
        }
    }

    /// Says that every announcement published before this call has been delivered, and that
    /// the cache may be trusted until `deadline` unless told otherwise. Coming back from a
    /// disconnection (or a missed deadline), it also voids every verification still in flight.
    pub fn caught_up(&self, deadline: Instant) {
        if let Some(cache) = self.cache.upgrade() {
            cache.trust_until(deadline);
        }
    }

    /// Says the feed lost its subscription: the cache is emptied and bypassed until the next
    /// [`Invalidations::caught_up`].
    pub fn disconnected(&self) {
        if let Some(cache) = self.cache.upgrade() {
            cache.distrust();
        }
    }

    /// Whether the service this sink delivers to is gone (the feed's task can end).
    pub fn is_closed(&self) -> bool {
        self.cache.strong_count() == 0
    }
}

/// A feed between services in one process: [`LocalFeed::publish`] evicts from every
/// subscribed service's cache before it returns. With one service it is the feed of a single
/// instance (nothing else shares the store); with several, they must all share this one
/// `LocalFeed` (an `Arc` of it). It is always caught up.
///
/// It does not reach other processes: for instances that share a database use the
/// PostgreSQL, change-log or Redis feed.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use std::sync::Arc;
/// use clab_keys::{CacheConfig, KeyHasher, KeyService, KeyServiceConfig, LocalFeed, MemoryStore};
/// # let pepper = clab_keys::Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
/// let service = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper).unwrap())
///     .config(KeyServiceConfig::default().cache(Some(CacheConfig::default().ttl(time::Duration::minutes(5)))))
///     .invalidation_feed(Arc::new(LocalFeed::new()))
///     .build()
///     .unwrap();
/// # let _ = service;
/// ```
#[derive(Debug, Default)]
pub struct LocalFeed {
    sinks: Mutex<Vec<Invalidations>>,
}

impl LocalFeed {
    /// A feed with no subscriber yet.
    pub fn new() -> Self {
        Self::default()
    }
}

/// How far ahead [`LocalFeed`] vouches for its subscribers: it never loses an announcement,
/// so far enough never to lapse in practice.
const LOCAL_LEASE: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 24 * 3600);

#[async_trait::async_trait]
impl InvalidationFeed for LocalFeed {
    async fn publish(&self, key_ids: &[KeyId]) -> Result<(), FeedError> {
        let mut sinks = self.sinks.lock().unwrap_or_else(|e| e.into_inner());
        sinks.retain(|s| !s.is_closed());
        for sink in sinks.iter() {
            for key_id in key_ids {
                sink.evict(key_id);
            }
        }
        Ok(())
    }

    fn subscribe(&self, sink: Invalidations) {
        sink.caught_up(Instant::now() + LOCAL_LEASE);
        let mut sinks = self.sinks.lock().unwrap_or_else(|e| e.into_inner());
        sinks.retain(|s| !s.is_closed());
        sinks.push(sink);
    }
}
