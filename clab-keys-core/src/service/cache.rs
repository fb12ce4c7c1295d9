//! An opt-in cache of successful verifications, keyed by the token's digest (never the
//! plaintext). A hit skips the store lookup; it still re-checks expiry against the clock and
//! still records `last_used_at`. Revoking a key evicts it in the same process and announces it
//! on the invalidation feed (see `feed.rs`), which evicts it everywhere else. Without a feed,
//! other processes see the revocation once their entry is older than the TTL, so the TTL is
//! then limited to [`MAX_TTL_WITHOUT_FEED`]. Only successful verifications are cached, so
//! presenting random tokens cannot fill it, and it never holds more than its capacity.
//!
//! A verification whose store read began before an eviction never puts its key back: every
//! eviction moves a generation counter, a verification notes the generation before it reads
//! the store, and its insert is dropped when the generation has moved since (checked under the
//! same lock that evicts).
//!
//! With a feed, entries are trusted only until the deadline the feed last vouched for
//! (`trust_until`); past it, or after `distrust`, every lookup goes to the store and nothing
//! is inserted. Regaining trust moves the generation too, so a verification that read the
//! store while the feed was down is not cached either.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use time::{Duration, OffsetDateTime};

use super::VerifiedKey;
use crate::clock::{duration_micros, unix_micros, within_window_micros};
use crate::format::{KeyId, KeyIdHasher};

/// Digests are HMAC outputs, uniformly random, and only valid keys are inserted.
type DigestMap = HashMap<[u8; 32], Entry, BuildHasherDefault<KeyIdHasher>>;

/// The longest TTL a cache may have without an invalidation feed: without one, a revocation
/// reaches the other instances sharing the store only when their entries expire.
pub(crate) const MAX_TTL_WITHOUT_FEED: Duration = Duration::seconds(5);

/// `trusted_until` of a cache without a feed: always trusted (revocations in this process
/// evict; the short TTL bounds the rest).
const ALWAYS: u64 = u64::MAX;
/// `trusted_until` of a cache whose feed is not caught up.
const NEVER: u64 = 0;

/// Settings of the verification cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Most entries held. Default 10,000.
    pub capacity: usize,
    /// How long an entry is kept. Default 5 s. With an invalidation feed, revocations reach
    /// every instance within the feed's bound whatever the TTL; without one, the TTL is the
    /// revocation window for other processes and may be at most 5 s.
    pub ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            ttl: Duration::seconds(5),
        }
    }
}

impl CacheConfig {
    /// Sets the capacity.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Sets the TTL.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}

/// Times are microseconds since the Unix epoch ([`Clock::now_micros`](crate::Clock::now_micros)):
/// a hit compares integers, never dates.
#[derive(Debug)]
struct Entry {
    key: VerifiedKey,
    /// When the entry stops being fresh: cached at + TTL.
    fresh_until: i64,
    /// When the key expires (`i64::MAX` for never).
    expires_at: i64,
    /// When this process last recorded a use of the key: a hit within the `last_used_at`
    /// window skips the debounce guard entirely.
    used_at: AtomicI64,
}

/// What the cache holds for a token.
#[derive(Debug)]
pub(crate) enum Cached {
    /// A fresh verification; `use_due` when its use should be recorded (once per window).
    Valid { key: VerifiedKey, use_due: bool },
    /// The key was valid but has expired since.
    Expired(VerifiedKey),
}

#[derive(Debug)]
pub(crate) struct VerificationCache {
    config: CacheConfig,
    entries: RwLock<DigestMap>,
    /// Moves on every eviction and every change of trust, under the write lock of `entries`.
    generation: AtomicU64,
    /// Nanoseconds after `epoch` until which entries may be used: [`ALWAYS`] without a feed,
    /// [`NEVER`] while the feed is not caught up.
    trusted_until: AtomicU64,
    epoch: Instant,
    /// The TTL and the `last_used_at` window, in microseconds.
    ttl: i64,
    window: i64,
}

impl VerificationCache {
    /// A cache; `fed` when an invalidation feed delivers into it (it then starts distrusted,
    /// until the feed is caught up).
    pub(crate) fn new(config: CacheConfig, fed: bool, window: Duration) -> Self {
        Self {
            config,
            ttl: duration_micros(config.ttl),
            window: duration_micros(window),
            entries: RwLock::new(DigestMap::default()),
            generation: AtomicU64::new(0),
            trusted_until: AtomicU64::new(if fed { NEVER } else { ALWAYS }),
            epoch: Instant::now(),
        }
    }

    fn trusted(&self) -> bool {
        match self.trusted_until.load(Ordering::Acquire) {
            ALWAYS => true,
            NEVER => false,
            until => self.nanos(Instant::now()) < until,
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(ALWAYS - 1)
    }

    /// The feed vouches for everything published so far, until `deadline`. Coming from
    /// distrust (or a lapsed deadline) the generation moves, voiding verifications in flight.
    pub(crate) fn trust_until(&self, deadline: Instant) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if !self.trusted() {
            entries.clear();
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        let until = self.nanos(deadline).clamp(NEVER + 1, ALWAYS - 1);
        self.trusted_until.store(until, Ordering::Release);
    }

    /// The feed lost its subscription: empty, and bypassed until trusted again.
    pub(crate) fn distrust(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.trusted_until.store(NEVER, Ordering::Release);
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }

    /// A fresh entry for `digest`, if any, and whether a use of it is due to be recorded
    /// (once per `last_used_at` window per entry; the service's debounce guard decides the
    /// rest). Entries past their TTL are ignored, and so is everything while the feed is not
    /// caught up.
    pub(crate) fn get(&self, digest: &[u8; 32], now: i64) -> Option<Cached> {
        if !self.trusted() {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(digest)?;
        // Fresh: cached no later than now (a clock that went back trusts nothing) and less
        // than the TTL ago.
        if now >= entry.fresh_until || now < entry.fresh_until.saturating_sub(self.ttl) {
            return None;
        }
        if now >= entry.expires_at {
            return Some(Cached::Expired(entry.key.clone()));
        }
        let used = entry.used_at.load(Ordering::Relaxed);
        let use_due = !within_window_micros(used, now, self.window)
            && entry
                .used_at
                .compare_exchange(used, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        Some(Cached::Valid {
            key: entry.key.clone(),
            use_due,
        })
    }

    /// The current generation: note it before reading the store, and pass it to
    /// [`VerificationCache::insert`].
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches a verification made from a store read that began at generation `seen`; dropped
    /// when anything was evicted since, since that read may predate a revocation. `used_at`
    /// is the last recorded use the verification saw or made.
    pub(crate) fn insert(
        &self,
        digest: [u8; 32],
        key: VerifiedKey,
        now: OffsetDateTime,
        used_at: OffsetDateTime,
        seen: u64,
    ) {
        let now = unix_micros(now);
        if self.config.capacity == 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) != seen || !self.trusted() {
            return;
        }
        if entries.len() >= self.config.capacity {
            entries.retain(|_, e| now < e.fresh_until);
            if entries.len() >= self.config.capacity {
                return;
            }
        }
        entries.insert(
            digest,
            Entry {
                fresh_until: now.saturating_add(self.ttl),
                expires_at: key.expires_at.map_or(i64::MAX, unix_micros),
                used_at: AtomicI64::new(unix_micros(used_at)),
                key,
            },
        );
    }

    /// Drops every entry of `key_id` (after a revocation here, or announced by the feed).
    pub(crate) fn evict(&self, key_id: &KeyId) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.retain(|_, e| &e.key.key_id != key_id);
    }
}
