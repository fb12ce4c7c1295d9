//! [`RedisFeed`]: the invalidation feed over Redis pub/sub.

use std::fmt;
use std::time::Duration;

use clab_keys_core::{FeedError, InvalidationFeed, Invalidations, KeyId};

use crate::message;
use crate::publisher::Publisher;
use crate::subscription::{self, Settings};

/// The channel announcements and heartbeats travel on, unless set with
/// [`RedisFeed::channel`].
pub const DEFAULT_CHANNEL: &str = "clab_keys:invalidate";

/// How often each subscription sends a heartbeat, unless set with
/// [`RedisFeed::heartbeat_interval`].
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(200);

/// How many heartbeat intervals a returned heartbeat vouches for the cache: the lease.
pub const LEASE_INTERVALS: u32 = 4;

/// An [`InvalidationFeed`] over Redis pub/sub: every instance that shares the key store gives
/// its `KeyService` a `RedisFeed` on the same Redis and channel, and a key revoked on any of
/// them leaves every instance's verification cache.
///
/// - **Announcing** ([`InvalidationFeed::publish`], called by the service after a revocation
///   is committed): `PUBLISH <channel> "evict <key id>…"` through one multiplexed connection,
///   opened on first use and replaced when it fails (the message is sent once more on the new
///   one). An error means the announcement may not have been sent; the service then reports
///   the revocation as failed, and retrying it announces again.
/// - **Receiving** ([`InvalidationFeed::subscribe`], called by `build()`): a task on the
///   current tokio runtime holds a connection of its own in `SUBSCRIBE` on the channel and
///   evicts every key announced there.
/// - **Vouching**: every heartbeat interval that task PUBLISHes a heartbeat carrying its own
///   token and a sequence number, the same way announcements go. Redis delivers a channel's
///   messages in the order it executed them, so when the heartbeat sent at `t` comes back,
///   every announcement published before `t` has been delivered: the task then tells the
///   cache it may be trusted until `t` + the lease ([`LEASE_INTERVALS`] intervals).
/// - **Failing safe**: when the subscription ends (connection closed, Redis restarted, the
///   connection killed) the cache is emptied and bypassed at once; when heartbeats stop coming
///   back (a connection dead without a word, Redis stalled), the trust lapses at the end of
///   the lease and the task reconnects. It reconnects with a backoff from 100 ms to 2 s, and
///   only a heartbeat received on the new subscription makes the cache trusted again.
///   Until the first heartbeat comes back, including when Redis is unreachable at start, the
///   cache is not used: every verification reads the store.
///
/// # The bound
///
/// A key revoked on one instance (its `revoke` returned `Ok`) is refused by every other
/// instance's cache as soon as the announcement is delivered: Redis's delivery time, on the
/// order of a millisecond on a local network. Whatever happens to the connections, no cache
/// serves it later than **one lease after the revocation returned: 4 × the heartbeat interval,
/// 800 ms by default**. Other processes cannot do better than their clocks: the lease is
/// measured on each instance's monotonic clock from the moment it sent the heartbeat.
///
/// Every subscriber receives every subscriber's heartbeats (5 per second each by default):
/// with `n` instances on a channel Redis delivers `5·n²` small messages per second, which is
/// negligible for tens of instances. Use a channel per application (or per environment) that
/// shares a Redis.
///
/// # Example
///
/// ```no_run
/// # extern crate clab_keys_core as clab_keys;
/// use std::sync::Arc;
/// use clab_keys::{CacheConfig, KeyHasher, KeyService, KeyServiceConfig, MemoryStore};
/// use clab_keys_redis::RedisFeed;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let pepper = clab_keys::Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")?;
/// # let store = MemoryStore::new();
/// let feed = RedisFeed::new("redis://127.0.0.1:6379")?.channel("my_app:clab_keys");
/// let service = KeyService::builder(store, KeyHasher::hmac(1, pepper)?)
///     .config(KeyServiceConfig::default().cache(Some(
///         CacheConfig::default().ttl(time::Duration::minutes(5)),
///     )))
///     .invalidation_feed(Arc::new(feed))
///     .build()?;
/// # let _ = service;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisFeed {
    publisher: Publisher,
    channel: String,
    heartbeat: Duration,
}

impl fmt::Debug for RedisFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address only: the URL may carry a password.
        f.debug_struct("RedisFeed")
            .field(
                "addr",
                &format_args!("{}", self.publisher.client().get_connection_info().addr()),
            )
            .field("channel", &self.channel)
            .field("heartbeat_interval", &self.heartbeat)
            .finish()
    }
}

impl RedisFeed {
    /// A feed on the Redis at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `redis+unix:///path`; not `rediss://`, this build has no TLS), on channel
    /// [`DEFAULT_CHANNEL`] with heartbeats every [`DEFAULT_HEARTBEAT_INTERVAL`]. Nothing is
    /// connected yet: the subscription starts when a service is built with the feed, and
    /// the publishing connection on the first announcement.
    ///
    /// # Errors
    ///
    /// Returns [`FeedError`] when `url` is not a Redis URL this build can use.
    pub fn new(url: &str) -> Result<Self, FeedError> {
        let client = redis::Client::open(url)
            .map_err(|e| FeedError::new("the Redis URL is not valid", e))?;
        Ok(Self {
            publisher: Publisher::new(client),
            channel: DEFAULT_CHANNEL.to_owned(),
            heartbeat: DEFAULT_HEARTBEAT_INTERVAL,
        })
    }

    /// Sets the channel (default [`DEFAULT_CHANNEL`]). Every instance that shares the key
    /// store must use the same one; applications that share a Redis but not a store should
    /// use different ones.
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// Sets the heartbeat interval (default [`DEFAULT_HEARTBEAT_INTERVAL`], at least 10 ms).
    /// The lease, and so the bound on a revocation's reach when connections fail silently, is
    /// [`LEASE_INTERVALS`] times this; a shorter interval costs more heartbeats.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat = interval.max(Duration::from_millis(10));
        self
    }

    /// The channel in use.
    pub fn channel_name(&self) -> &str {
        &self.channel
    }

    /// How long a returned heartbeat lets the cache be trusted: [`LEASE_INTERVALS`] heartbeat
    /// intervals. No cache serves a revoked key later than this after the revocation.
    pub fn lease(&self) -> Duration {
        self.heartbeat * LEASE_INTERVALS
    }
}

#[async_trait::async_trait]
impl InvalidationFeed for RedisFeed {
    async fn publish(&self, key_ids: &[KeyId]) -> Result<(), FeedError> {
        if key_ids.is_empty() {
            return Ok(());
        }
        self.publisher
            .publish(&self.channel, &message::evict(key_ids))
            .await
            .map_err(|e| FeedError::new("the revocation could not be published to Redis", e))
    }

    fn subscribe(&self, sink: Invalidations) {
        // A service without a cache has nothing to invalidate.
        if sink.is_closed() {
            return;
        }
        let settings = Settings {
            publisher: self.publisher.clone(),
            channel: self.channel.clone(),
            heartbeat: self.heartbeat,
            lease: self.lease(),
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(subscription::run(settings, sink));
            }
            // Without a runtime there is no subscription: the cache stays bypassed (it is
            // never trusted), which is safe, and said once.
            Err(_) => tracing::error!(
                target: "clab_keys",
                "RedisFeed: the service was built outside a tokio runtime; its verification cache will not be used"
            ),
        }
    }
}
