//! [`ChangeLogFeed`]: announcements as rows of `clab_api_key_changes`, polled by every
//! instance.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clab_keys_core::{FeedError, InvalidationFeed, Invalidations, KeyId};
use sea_orm::sea_query::{Condition, Expr, ExprTrait as _, Order, Query};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DatabaseConnectionType, DbBackend};
use time::OffsetDateTime;

use crate::migration::CHANGES_TABLE;
use crate::row::timestamp;

/// How often a subscription polls by default.
const DEFAULT_INTERVAL: Duration = Duration::from_millis(250);
/// The shortest interval [`ChangeLogFeed::interval`] accepts.
const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// How long past the next scheduled poll a successful poll vouches for the cache: the time
/// the next poll's query may take. A poll that hangs longer lets the trust lapse.
const LEASE_MARGIN: Duration = Duration::from_millis(500);
/// How long change rows are kept. Only a subscription that is caught up relies on rows, and
/// one that was not caught up for a while starts over with an emptied cache, so rows are
/// needed for seconds; an hour leaves room for debugging.
pub(crate) const RETENTION: time::Duration = time::Duration::hours(1);
/// How often a subscription deletes rows older than [`RETENTION`] (one bounded statement).
const CLEANUP_EVERY: Duration = Duration::from_secs(60);
/// The most rows one cleanup statement deletes.
const CLEANUP_BATCH: u64 = 1000;
/// How long a skipped sequence number is read again (see the type's documentation).
const GAP_GRACE: Duration = Duration::from_secs(10);
/// A publish whose insert took longer than this inserts again (see the type's documentation).
/// Half of [`GAP_GRACE`], leaving the other half for differences between hosts' clock rates
/// and scheduling.
const PUBLISH_LIMIT: Duration = Duration::from_secs(5);
/// How many times a publish inserts before it reports that it was too slow.
const PUBLISH_ATTEMPTS: usize = 3;
/// The most rows one poll reads (the next poll reads on, before the feed is caught up).
const POLL_BATCH: u64 = 10_000;
/// Key ids per insert statement (two bound values each, well within every backend's limit).
const INSERT_CHUNK: usize = 1000;
/// Gap ranges named one by one in the poll's query; beyond this they are merged into one.
const MAX_GAP_RANGES: usize = 100;

/// An [`InvalidationFeed`] for databases without notifications (MySQL/MariaDB, an SQLite file
/// shared by several processes; it also works on PostgreSQL): [`publish`](InvalidationFeed::publish)
/// inserts one row per key into `clab_api_key_changes` (one statement), and every subscribed
/// instance polls the table.
///
/// Create the table with the crate's migrations ([`CreateChangeLog`](crate::migration::CreateChangeLog),
/// listed by [`migrations()`](crate::migration::migrations)). Give each instance its own
/// `ChangeLogFeed` over the same database (usually over the store's connection).
///
/// # The bound
///
/// A subscription starts at the table's current `max(seq)`, then every
/// [`interval`](ChangeLogFeed::interval) (default 250 ms) reads the rows past what it has seen,
/// in order, evicts their keys and says it is caught up until the next poll is due plus
/// 500 ms. A key revoked on one instance is therefore refused by every other one within **the
/// interval plus one query** (a few milliseconds on a local network). A failed poll (database
/// down, table missing) calls [`Invalidations::disconnected`] at once, and a poll that hangs
/// lets the trust lapse 500 ms after the next poll was due: either way the cache is bypassed
/// until a poll succeeds again.
///
/// # Sequence numbers committed out of order
///
/// On PostgreSQL and on MySQL/MariaDB (InnoDB) an insert takes its `seq` before it commits,
/// so two concurrent publishes can commit out of order: a poll may see `seq` 11 while 10 is
/// not yet visible, and reading only `seq > 11` afterwards would miss 10 for ever. So a
/// subscription remembers every number it skipped (as ranges) and reads those again, with
/// each poll, for 10 seconds after it first noticed them; a number that never appears was
/// rolled back or burnt by the sequence. That is enough because a publish returns success
/// only when its insert completed within 5 seconds of being sent: a slower insert is done
/// again (a new row, with a new number, taken after the first committed), up to three times,
/// and then the publish fails (the revocation is reported as failed, and retrying it announces
/// again). On SQLite, which has one writer at a time, numbers are never committed out of
/// order.
///
/// # Retention
///
/// Each subscription deletes rows older than one hour once a minute, at most 1000 rows per
/// statement, never the newest row (so that no backend ever hands out a number again after
/// the table was emptied). `changed_at` is the publishing instance's clock, in UTC.
///
/// ```no_run
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_seaorm as sea_orm; }
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use clab_keys::sea_orm::{ChangeLogFeed, SeaOrmStore, migration::Migrator};
/// use clab_keys::{CacheConfig, KeyHasher, KeyService, KeyServiceConfig, Pepper};
/// use sea_orm_migration::MigratorTrait as _;
///
/// let db = sea_orm::Database::connect("mysql://app@db.internal/app").await?;
/// Migrator::up(&db, None).await?;
/// let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")?;
/// let cache = CacheConfig::default().ttl(time::Duration::minutes(5));
/// let keys = KeyService::builder(SeaOrmStore::new(db.clone()), KeyHasher::hmac(1, pepper)?)
///     .config(KeyServiceConfig::default().cache(Some(cache)))
///     .invalidation_feed(Arc::new(ChangeLogFeed::new(db).interval(Duration::from_millis(250))))
///     .build()?;
/// # let _ = keys;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ChangeLogFeed {
    db: DatabaseConnection,
    interval: Duration,
}

impl ChangeLogFeed {
    /// A feed over `db`, polling every 250 ms.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            interval: DEFAULT_INTERVAL,
        }
    }

    /// Sets how often a subscription polls (default 250 ms; at least 10 ms, shorter values
    /// are raised to it). The bound of the feed is this interval plus one query.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(MIN_INTERVAL);
        self
    }
}

/// The backend of `db`, or an error for a closed connection (SeaORM panics when asked).
fn backend_of(db: &DatabaseConnection) -> Option<DbBackend> {
    // Without a driver feature `Disconnected` is the only variant.
    #[allow(unreachable_patterns)]
    match db.inner {
        DatabaseConnectionType::Disconnected => None,
        _ => Some(db.get_database_backend()),
    }
}

#[async_trait::async_trait]
impl InvalidationFeed for ChangeLogFeed {
    async fn publish(&self, key_ids: &[KeyId]) -> Result<(), FeedError> {
        let backend = backend_of(&self.db)
            .ok_or_else(|| FeedError::msg("the database connection is closed"))?;
        for chunk in key_ids.chunks(INSERT_CHUNK) {
            insert_changes(&self.db, backend, chunk).await?;
        }
        Ok(())
    }

    fn subscribe(&self, sink: Invalidations) {
        tokio::spawn(run(self.db.clone(), self.interval, sink));
    }
}

/// Inserts one row per key id in one statement, again when the insert was slow.
async fn insert_changes(
    db: &DatabaseConnection,
    backend: DbBackend,
    key_ids: &[KeyId],
) -> Result<(), FeedError> {
    if key_ids.is_empty() {
        return Ok(());
    }
    for _ in 0..PUBLISH_ATTEMPTS {
        let changed_at = timestamp(backend, OffsetDateTime::now_utc())
            .map_err(|e| FeedError::new("announcing a change failed", e))?;
        let mut insert = Query::insert();
        insert
            .into_table(CHANGES_TABLE)
            .columns(["key_id", "changed_at"]);
        for key_id in key_ids {
            insert
                .values([Expr::val(key_id.as_str()), Expr::val(changed_at.clone())])
                .map_err(|e| FeedError::new("announcing a change failed", e))?;
        }
        let sent = Instant::now();
        db.execute(&insert)
            .await
            .map_err(|e| FeedError::new("announcing a change failed", e))?;
        if sent.elapsed() <= PUBLISH_LIMIT {
            return Ok(());
        }
        tracing::warn!(
            target: "clab_keys",
            elapsed_ms = sent.elapsed().as_millis(),
            "announcing a change took too long to commit; announcing it again"
        );
    }
    Err(FeedError::msg(
        "announcing a change kept taking too long to commit; other instances may miss it",
    ))
}

/// Where a subscription is in the change log.
#[derive(Debug)]
struct Cursor {
    /// The highest `seq` seen (or the table's `max(seq)` when the subscription started).
    last: i64,
    /// Numbers below `last` not seen yet: first number → (last number, when first noticed).
    gaps: BTreeMap<i64, (i64, Instant)>,
}

impl Cursor {
    /// The poll's condition: past `last`, or in a gap.
    fn condition(&self) -> Condition {
        let mut any = Condition::any().add(Expr::col("seq").gt(self.last));
        if self.gaps.len() > MAX_GAP_RANGES {
            let first = self.gaps.keys().next().copied().unwrap_or(self.last);
            any = any.add(Expr::col("seq").between(first, self.last));
        } else {
            for (first, (end, _)) in &self.gaps {
                any = any.add(Expr::col("seq").between(*first, *end));
            }
        }
        any
    }

    /// Whether `seq` is new to this subscription (past `last` or in a gap); records it.
    fn take(&mut self, seq: i64, now: Instant) -> bool {
        if seq > self.last {
            if seq > self.last + 1 {
                self.gaps.insert(self.last + 1, (seq - 1, now));
            }
            self.last = seq;
            return true;
        }
        let Some((&first, &(end, noticed))) = self.gaps.range(..=seq).next_back() else {
            return false;
        };
        if seq > end {
            return false;
        }
        self.gaps.remove(&first);
        if first < seq {
            self.gaps.insert(first, (seq - 1, noticed));
        }
        if seq < end {
            self.gaps.insert(seq + 1, (end, noticed));
        }
        true
    }

    /// Forgets gaps noticed at least [`GAP_GRACE`] before a poll that began at `started`
    /// (which read them once more).
    fn close_gaps(&mut self, started: Instant) {
        self.gaps
            .retain(|_, (_, noticed)| started.saturating_duration_since(*noticed) < GAP_GRACE);
    }
}

/// The subscription task: polls until the service is gone.
async fn run(db: DatabaseConnection, interval: Duration, sink: Invalidations) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cursor: Option<Cursor> = None;
    let mut connected = true;
    let mut next_cleanup = Instant::now() + CLEANUP_EVERY;
    loop {
        ticker.tick().await;
        if sink.is_closed() {
            return;
        }
        let started = Instant::now();
        let result = match cursor.as_mut() {
            None => start(&db).await.map(|c| {
                cursor = Some(c);
                true
            }),
            Some(cursor) => poll(&db, cursor, &sink, started).await,
        };
        match result {
            Ok(true) => {
                if !connected {
                    tracing::info!(target: "clab_keys", "invalidation feed (change log) polls again");
                    connected = true;
                }
                sink.caught_up(started + interval + LEASE_MARGIN);
            }
            // A full batch: read on at once, before saying the feed is caught up.
            Ok(false) => ticker.reset_immediately(),
            Err(e) => {
                if connected {
                    tracing::warn!(
                        target: "clab_keys",
                        error = %e,
                        "invalidation feed (change log) cannot poll; the verification cache is bypassed"
                    );
                    connected = false;
                }
                sink.disconnected();
            }
        }
        if connected && Instant::now() >= next_cleanup {
            next_cleanup = Instant::now() + CLEANUP_EVERY;
            if let Some(cursor) = &cursor
                && let Err(e) = cleanup(&db, cursor.last).await
            {
                tracing::warn!(target: "clab_keys", error = %e, "deleting old change rows failed");
            }
        }
    }
}

/// Reads the table's current `max(seq)`: where a new subscription starts. Announcements
/// before it concern changes committed before the cache could hold anything (it is bypassed
/// until the first poll), so they need not be delivered.
async fn start(db: &DatabaseConnection) -> Result<Cursor, sea_orm::DbErr> {
    let mut select = Query::select();
    select.expr(Expr::col("seq").max()).from(CHANGES_TABLE);
    let row = db.query_one(&select).await?;
    let last = match row {
        Some(row) => row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
        None => 0,
    };
    Ok(Cursor {
        last,
        gaps: BTreeMap::new(),
    })
}

/// One poll: evicts every key of a row not seen yet. `Ok(false)` when the batch was full
/// (there may be more to read).
async fn poll(
    db: &DatabaseConnection,
    cursor: &mut Cursor,
    sink: &Invalidations,
    started: Instant,
) -> Result<bool, sea_orm::DbErr> {
    let mut select = Query::select();
    select
        .columns(["seq", "key_id"])
        .from(CHANGES_TABLE)
        .cond_where(cursor.condition())
        .order_by("seq", Order::Asc)
        .limit(POLL_BATCH);
    let rows = db.query_all(&select).await?;
    // After the read: a number skipped here was taken before this instant.
    let now = Instant::now();
    let full = rows.len() as u64 >= POLL_BATCH;
    for row in rows {
        let seq: i64 = row.try_get_by_index(0)?;
        let key_id: String = row.try_get_by_index(1)?;
        if !cursor.take(seq, now) {
            continue;
        }
        match KeyId::parse(&key_id) {
            Ok(key_id) => sink.evict(&key_id),
            Err(_) => {
                tracing::warn!(target: "clab_keys", seq, "change row with a malformed key id ignored");
            }
        }
    }
    if full {
        return Ok(false);
    }
    cursor.close_gaps(started);
    Ok(true)
}

/// Deletes up to [`CLEANUP_BATCH`] of the oldest rows older than [`RETENTION`], never `last`
/// or above.
async fn cleanup(db: &DatabaseConnection, last: i64) -> Result<u64, sea_orm::DbErr> {
    let Some(backend) = backend_of(db) else {
        return Ok(0);
    };
    let cutoff = timestamp(backend, OffsetDateTime::now_utc() - RETENTION)
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    // The batch's highest number: a range on the primary key bounds the delete on every
    // backend (MySQL has no `LIMIT` in a subquery, PostgreSQL no `DELETE … LIMIT`).
    let mut select = Query::select();
    select
        .column("seq")
        .from(CHANGES_TABLE)
        .order_by("seq", Order::Asc)
        .limit(1)
        .offset(CLEANUP_BATCH - 1);
    let upper = match db.query_one(&select).await? {
        Some(row) => Ord::min(row.try_get_by_index::<i64>(0)?, last - 1),
        None => last - 1,
    };
    let mut delete = Query::delete();
    delete
        .from_table(CHANGES_TABLE)
        .and_where(Expr::col("seq").lte(upper))
        .and_where(Expr::col("changed_at").lt(Expr::val(cutoff)));
    Ok(db.execute(&delete).await?.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(last: i64) -> Cursor {
        Cursor {
            last,
            gaps: BTreeMap::new(),
        }
    }

    #[test]
    fn skipped_numbers_are_read_again_until_seen_or_expired() {
        let t0 = Instant::now();
        let mut c = cursor(10);
        assert!(c.take(11, t0));
        assert!(c.take(15, t0), "past last");
        assert_eq!(c.gaps.get(&12), Some(&(14, t0)));
        assert!(!c.take(11, t0), "seen already");
        assert!(c.take(13, t0), "in the gap");
        assert_eq!(c.gaps.get(&12), Some(&(12, t0)));
        assert_eq!(c.gaps.get(&14), Some(&(14, t0)));
        assert!(!c.take(13, t0), "seen once");
        c.close_gaps(t0 + GAP_GRACE - Duration::from_millis(1));
        assert_eq!(c.gaps.len(), 2, "still within the grace");
        c.close_gaps(t0 + GAP_GRACE);
        assert!(c.gaps.is_empty());
        assert!(!c.take(12, t0), "given up after the grace");
    }
}
