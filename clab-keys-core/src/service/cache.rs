//! An opt-in cache of successful verifications, keyed by the token's digest (never the
//! plaintext). A hit skips the store lookup; it still re-checks expiry against the clock and
//! still records `last_used_at`. Revoking a key evicts it in the same process; other processes
//! see the revocation once their entry is older than the TTL, which is therefore the
//! revocation window across nodes. Only successful verifications are cached, so presenting
//! random tokens cannot fill it, and it never holds more than its capacity.
//!
//! A verification whose store read began before an eviction never puts its key back: every
//! eviction moves a generation counter, a verification notes the generation before it reads
//! the store, and its insert is dropped when the generation has moved since (checked under the
//! same lock that evicts).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use time::{Duration, OffsetDateTime};

use super::VerifiedKey;
use crate::format::{KeyId, KeyIdHasher};

/// Digests are HMAC outputs, uniformly random, and only valid keys are inserted.
type DigestMap = HashMap<[u8; 32], Entry, BuildHasherDefault<KeyIdHasher>>;

/// Settings of the verification cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Most entries held. Default 10,000.
    pub capacity: usize,
    /// How long an entry is trusted: the revocation window for other processes. Default 5 s.
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

#[derive(Debug, Clone)]
struct Entry {
    key: VerifiedKey,
    cached_at: OffsetDateTime,
}

#[derive(Debug)]
pub(crate) struct VerificationCache {
    config: CacheConfig,
    entries: RwLock<DigestMap>,
    /// Moves on every eviction, under the write lock of `entries`.
    generation: AtomicU64,
}

impl VerificationCache {
    pub(crate) fn new(config: CacheConfig) -> Self {
        Self {
            config,
            entries: RwLock::new(DigestMap::default()),
            generation: AtomicU64::new(0),
        }
    }

    /// A fresh entry for `digest`, if any. Entries past their TTL are ignored.
    pub(crate) fn get(&self, digest: &[u8; 32], now: OffsetDateTime) -> Option<VerifiedKey> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(digest)?;
        (now - entry.cached_at < self.config.ttl && now >= entry.cached_at)
            .then(|| entry.key.clone())
    }

    /// The current generation: note it before reading the store, and pass it to
    /// [`VerificationCache::insert`].
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches a verification made from a store read that began at generation `seen`; dropped
    /// when anything was evicted since, since that read may predate a revocation.
    pub(crate) fn insert(
        &self,
        digest: [u8; 32],
        key: VerifiedKey,
        now: OffsetDateTime,
        seen: u64,
    ) {
        if self.config.capacity == 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) != seen {
            return;
        }
        if entries.len() >= self.config.capacity {
            let ttl = self.config.ttl;
            entries.retain(|_, e| now - e.cached_at < ttl);
            if entries.len() >= self.config.capacity {
                return;
            }
        }
        entries.insert(
            digest,
            Entry {
                key,
                cached_at: now,
            },
        );
    }

    /// Drops every entry of `key_id` (after a revocation in this process).
    pub(crate) fn evict(&self, key_id: &KeyId) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.retain(|_, e| &e.key.key_id != key_id);
    }
}
