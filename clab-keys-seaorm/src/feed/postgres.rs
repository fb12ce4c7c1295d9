//! [`PgNotifyFeed`]: announcements as PostgreSQL notifications, with heartbeats on the same
//! path proving that the subscription is caught up.

use std::collections::VecDeque;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clab_keys_core::{Entropy as _, FeedError, InvalidationFeed, Invalidations, KeyId, OsEntropy};
use sea_orm::sqlx::postgres::{PgListener, PgNotification, PgPool, PgPoolOptions};
use sea_orm::{
    ConnectionTrait as _, DatabaseConnection, DatabaseConnectionType, DbBackend, Statement,
};

/// The default channel.
const DEFAULT_CHANNEL: &str = "clab_keys_invalidate";
/// The default heartbeat interval.
const DEFAULT_HEARTBEAT: Duration = Duration::from_millis(200);
/// The shortest heartbeat interval [`PgNotifyFeed::heartbeat`] accepts.
const MIN_HEARTBEAT: Duration = Duration::from_millis(10);
/// How many heartbeat intervals a returned heartbeat vouches for the cache.
const LEASE_HEARTBEATS: u32 = 5;
/// How many lease periods without a heartbeat back before the listening connection is given
/// up and opened again (the cache is already bypassed by then).
const STALL_LEASES: u32 = 3;
/// PostgreSQL refuses payloads of 8000 bytes or more; announcements stay well below.
const IDS_PER_NOTIFICATION: usize = 700;
/// PostgreSQL's longest identifier, in bytes (`NAMEDATALEN - 1`).
const MAX_CHANNEL_LEN: usize = 63;
/// Heartbeats remembered while waiting for them to come back.
const MAX_PENDING: usize = 64;
/// Reconnection backoff: first wait and longest wait.
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// The `application_name` of the listening connection, to find it in `pg_stat_activity`.
const APPLICATION_NAME: &str = "clab-keys invalidation feed";
/// Payload prefixes: key ids (comma-separated) and heartbeats (`<subscription>:<n>`).
const KEYS: &str = "k:";
const HEARTBEAT: &str = "h:";

/// An [`InvalidationFeed`] over PostgreSQL `LISTEN/NOTIFY` (feature `pg-notify`):
/// [`publish`](InvalidationFeed::publish) runs `SELECT pg_notify(channel, ids)` (payloads of
/// at most 700 key ids, about 6 KB, well below PostgreSQL's 8000-byte limit), and every
/// subscribed instance listens on the channel over a dedicated connection and evicts what it
/// hears.
///
/// Give each instance its own `PgNotifyFeed` from its own connection; they meet on the
/// channel (default `clab_keys_invalidate`; instances that share a database but not their
/// keys, say two apps, must use different channels). No table is needed.
///
/// # The bound, and how the feed knows it is caught up
///
/// Notifications are delivered in commit order, so the feed proves itself with the same path:
/// every [`heartbeat`](PgNotifyFeed::heartbeat) interval (default 200 ms) a subscription sends
/// a `NOTIFY` carrying a fresh nonce through the app's pool, and when its listener hears that
/// nonce, every announcement committed before the heartbeat was sent has been heard too; it
/// then says it is caught up until the heartbeat's send time plus a lease of five intervals
/// (1 s by default).
///
/// - **Connected**, a key revoked on one instance is refused by every other one within the
///   delivery latency of a notification: a few milliseconds on loopback or a local network.
/// - **A connection that dies silently** (no error, no reset) is trusted for at most the lease
///   after the last heartbeat it returned; then the cache is bypassed. After three leases
///   without a heartbeat the listening connection is opened again.
/// - **A lost connection** (an error, a reset, `pg_terminate_backend`) calls
///   [`Invalidations::disconnected`] at once: the cache is emptied and bypassed. The feed
///   reconnects (backoff from 50 ms to 2 s), listens again, and only the next heartbeat it
///   hears makes it caught up again.
///
/// The listening connection is opened with the options of the app's pool (not taken from
/// it), with `application_name` `clab-keys invalidation feed`. Through a connection pooler,
/// use session pooling for it: `LISTEN` does not survive transaction pooling.
///
/// ```no_run
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_seaorm as sea_orm; }
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use clab_keys::sea_orm::{PgNotifyFeed, SeaOrmStore};
/// use clab_keys::{CacheConfig, KeyHasher, KeyService, KeyServiceConfig, Pepper};
///
/// let db = sea_orm::Database::connect("postgres://app@db.internal/app").await?;
/// let feed = PgNotifyFeed::new(&db)?.channel("myapp_keys_invalidate")?;
/// let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")?;
/// let cache = CacheConfig::default().ttl(time::Duration::minutes(5));
/// let keys = KeyService::builder(SeaOrmStore::new(db), KeyHasher::hmac(1, pepper)?)
///     .config(KeyServiceConfig::default().cache(Some(cache)))
///     .invalidation_feed(Arc::new(feed))
///     .build()?;
/// # let _ = keys;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PgNotifyFeed {
    db: DatabaseConnection,
    pool: PgPool,
    channel: String,
    heartbeat: Duration,
}

impl PgNotifyFeed {
    /// A feed over `db`, on the channel `clab_keys_invalidate` with a heartbeat every 200 ms.
    ///
    /// # Errors
    ///
    /// Returns [`FeedError`] when `db` is not a PostgreSQL connection of SeaORM's
    /// `sqlx-postgres` driver.
    pub fn new(db: &DatabaseConnection) -> Result<Self, FeedError> {
        // Other variants exist only with other driver features.
        #[allow(unreachable_patterns)]
        let pool = match &db.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                db.get_postgres_connection_pool().clone()
            }
            _ => {
                return Err(FeedError::msg(
                    "the PostgreSQL feed needs a PostgreSQL connection",
                ));
            }
        };
        Ok(Self {
            db: db.clone(),
            pool,
            channel: DEFAULT_CHANNEL.to_owned(),
            heartbeat: DEFAULT_HEARTBEAT,
        })
    }

    /// Sets the channel (default `clab_keys_invalidate`), case-sensitive.
    ///
    /// # Errors
    ///
    /// Returns [`FeedError`] unless `channel` is 1 to 63 bytes without a NUL character
    /// (PostgreSQL would truncate a longer one when listening).
    pub fn channel(mut self, channel: impl Into<String>) -> Result<Self, FeedError> {
        let channel = channel.into();
        if channel.is_empty() || channel.len() > MAX_CHANNEL_LEN || channel.contains('\0') {
            return Err(FeedError::msg(
                "a channel name must be 1 to 63 bytes without NUL",
            ));
        }
        self.channel = channel;
        Ok(self)
    }

    /// Sets the heartbeat interval (default 200 ms; at least 10 ms, shorter values are raised
    /// to it). The lease, how long a silent connection is trusted after its last heartbeat,
    /// is five intervals.
    pub fn heartbeat(mut self, interval: Duration) -> Self {
        self.heartbeat = interval.max(MIN_HEARTBEAT);
        self
    }

    async fn notify(&self, payload: String) -> Result<(), sea_orm::DbErr> {
        notify(&self.db, &self.channel, payload).await
    }
}

async fn notify(
    db: &DatabaseConnection,
    channel: &str,
    payload: String,
) -> Result<(), sea_orm::DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await
    .map(|_| ())
}

#[async_trait::async_trait]
impl InvalidationFeed for PgNotifyFeed {
    async fn publish(&self, key_ids: &[KeyId]) -> Result<(), FeedError> {
        for chunk in key_ids.chunks(IDS_PER_NOTIFICATION) {
            let mut payload = String::with_capacity(KEYS.len() + chunk.len() * 9);
            payload.push_str(KEYS);
            for (i, key_id) in chunk.iter().enumerate() {
                if i > 0 {
                    payload.push(',');
                }
                payload.push_str(key_id.as_str());
            }
            self.notify(payload)
                .await
                .map_err(|e| FeedError::new("announcing a change failed", e))?;
        }
        Ok(())
    }

    fn subscribe(&self, sink: Invalidations) {
        let subscription = Arc::new(Subscription {
            feed: self.clone(),
            id: nonce_prefix(),
            lease: self.heartbeat * LEASE_HEARTBEATS,
            pending: Mutex::new(VecDeque::new()),
            sink,
        });
        tokio::spawn(send_heartbeats(subscription.clone()));
        tokio::spawn(listen(subscription));
    }
}

/// One service's subscription, shared by its heartbeat and listening tasks.
#[derive(Debug)]
struct Subscription {
    feed: PgNotifyFeed,
    /// Distinguishes this subscription's heartbeats from other instances'.
    id: String,
    lease: Duration,
    /// Heartbeats sent and not heard yet: number and send time, oldest first.
    pending: Mutex<VecDeque<(u64, Instant)>>,
    sink: Invalidations,
}

impl Subscription {
    fn pending(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, Instant)>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Handles one notification; `true` when it was one of this subscription's heartbeats.
    fn receive(&self, notification: &PgNotification) -> bool {
        let payload = notification.payload();
        if let Some(ids) = payload.strip_prefix(KEYS) {
            for id in ids.split(',') {
                match KeyId::parse(id) {
                    Ok(key_id) => self.sink.evict(&key_id),
                    Err(_) => tracing::warn!(
                        target: "clab_keys",
                        "invalidation notification with a malformed key id ignored"
                    ),
                }
            }
            return false;
        }
        let Some(n) = payload
            .strip_prefix(HEARTBEAT)
            .and_then(|h| h.strip_prefix(self.id.as_str()))
            .and_then(|n| n.strip_prefix(':'))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            // Another instance's heartbeat, or a payload of a later version.
            return false;
        };
        let sent_at = {
            let mut pending = self.pending();
            // Only a nonce this subscription sent and still waits for counts: anything else
            // on the channel (a stale or forged heartbeat) changes nothing. Each nonce is
            // random, so nobody can send one before this subscription's own NOTIFY is out.
            match pending.iter().position(|&(m, _)| m == n) {
                Some(i) => {
                    let (_, at) = pending[i];
                    // Delivery is ordered: older heartbeats still pending were lost.
                    pending.drain(..=i);
                    Some(at)
                }
                None => None,
            }
        };
        match sent_at {
            Some(sent_at) => {
                self.sink.caught_up(sent_at + self.lease);
                true
            }
            None => false,
        }
    }

    /// The listening connection is gone or given up: bypass the cache, and forget the
    /// heartbeats in flight (one sent before the next `LISTEN` proves nothing).
    fn lost(&self) {
        self.pending().clear();
        self.sink.disconnected();
    }
}

/// A random, per-subscription heartbeat prefix (the standard library's per-process random
/// hash keys, the process id and the time; uniqueness, not secrecy, is what matters).
fn nonce_prefix() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    format!("{:016x}", hasher.finish())
}

/// Sends a heartbeat every interval, through the app's pool, until the service is gone.
async fn send_heartbeats(subscription: Arc<Subscription>) {
    let mut ticker = tokio::time::interval(subscription.feed.heartbeat);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if subscription.sink.is_closed() {
            return;
        }
        let mut nonce = [0_u8; 8];
        if OsEntropy.fill(&mut nonce).is_err() {
            // No heartbeat, so the lease lapses: the cache is bypassed, never trusted blindly.
            continue;
        }
        let n = u64::from_le_bytes(nonce);
        {
            let mut pending = subscription.pending();
            if pending.len() >= MAX_PENDING {
                pending.pop_front();
            }
            // Noted before it is sent: it vouches only for what committed before this instant.
            pending.push_back((n, Instant::now()));
        }
        let payload = format!("{HEARTBEAT}{}:{n}", subscription.id);
        if let Err(e) = subscription.feed.notify(payload).await {
            // Nothing comes back, so the lease lapses: the cache is bypassed.
            tracing::debug!(target: "clab_keys", error = %e, "invalidation feed heartbeat not sent");
        }
    }
}

/// Opens a dedicated listening connection with the app pool's options.
async fn connect(feed: &PgNotifyFeed) -> Result<PgListener, sea_orm::sqlx::Error> {
    let options = (*feed.pool.connect_options())
        .clone()
        .application_name(APPLICATION_NAME);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    let mut listener = PgListener::connect_with(&pool).await?;
    // Report a lost connection at once (the cache is bypassed before reconnecting, which may
    // take up to the acquire timeout); the next `try_recv` reconnects and listens again.
    listener.eager_reconnect(false);
    listener.listen(&feed.channel).await?;
    Ok(listener)
}

/// Listens until the service is gone, reconnecting after every loss.
async fn listen(subscription: Arc<Subscription>) {
    let stall = subscription.lease * STALL_LEASES;
    let mut backoff = BACKOFF_MIN;
    let mut warned = false;
    while !subscription.sink.is_closed() {
        let mut listener = match connect(&subscription.feed).await {
            Ok(listener) => listener,
            Err(e) => {
                if !warned {
                    tracing::warn!(
                        target: "clab_keys",
                        error = %e,
                        "invalidation feed cannot listen; the verification cache is bypassed"
                    );
                    warned = true;
                }
                subscription.lost();
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        if warned {
            tracing::info!(target: "clab_keys", "invalidation feed listens again");
            warned = false;
        }
        let mut heard = Instant::now();
        // Receives until the connection is lost or stalls. `try_recv` is only ever cancelled
        // when the listener is dropped right after, so no notification can be half read.
        loop {
            let Ok(received) =
                tokio::time::timeout_at((heard + stall).into(), listener.try_recv()).await
            else {
                if !subscription.sink.is_closed() {
                    tracing::warn!(
                        target: "clab_keys",
                        "invalidation feed heard no heartbeat for {stall:?}; reconnecting"
                    );
                }
                break;
            };
            if subscription.sink.is_closed() {
                return;
            }
            match received {
                Ok(Some(notification)) => {
                    if subscription.receive(&notification) {
                        heard = Instant::now();
                        backoff = BACKOFF_MIN;
                    }
                }
                Ok(None) => {
                    // The connection was lost: what is sent until the next `try_recv` has
                    // reconnected and listened again is gone.
                    tracing::warn!(
                        target: "clab_keys",
                        "invalidation feed lost its connection; the verification cache is bypassed until it is caught up"
                    );
                    subscription.lost();
                }
                Err(e) => {
                    tracing::warn!(
                        target: "clab_keys",
                        error = %e,
                        "invalidation feed lost its connection; the verification cache is bypassed until it is caught up"
                    );
                    warned = true;
                    break;
                }
            }
        }
        drop(listener);
        subscription.lost();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}
