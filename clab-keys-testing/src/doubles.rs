//! Test doubles.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

use clab_keys_core::KeyId;
use clab_keys_core::StoreError;
use clab_keys_core::UserId;
use clab_keys_core::{Clock, truncate_to_micros};
use clab_keys_core::{Entropy, EntropyError, OsEntropy};
use clab_keys_core::{HashVersion, StoredHash};
use clab_keys_core::{
    InsertOutcome, KeyRecord, KeyStore, RevocationReason, RevokeOutcome, RotateOutcome,
};

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    /// A clock at `start` (truncated to microseconds).
    pub fn new(start: OffsetDateTime) -> Self {
        Self(Arc::new(Mutex::new(truncate_to_micros(start))))
    }

    /// A clock at a fixed, arbitrary instant (2026-01-01T00:00:00Z).
    pub fn fixed() -> Self {
        Self::new(time::macros::datetime!(2026-01-01 00:00:00 UTC))
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Entropy that makes the first `repeats` tokens identical (all `0`: key id `00000000`), then
/// defers to the OS. Used to force key id collisions. A token takes two fills of the source
/// (its key id, then its secret), and zero bytes are never discarded by the sampling.
#[derive(Debug, Clone)]
pub struct ScriptedEntropy {
    remaining: Arc<AtomicUsize>,
}

impl ScriptedEntropy {
    /// The first `repeats` tokens generated will all have the key id `00000000`.
    pub fn repeat_key_id(repeats: usize) -> Self {
        Self {
            remaining: Arc::new(AtomicUsize::new(repeats * 2)),
        }
    }
}

impl Entropy for ScriptedEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
        if self
            .remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            dest.fill(0);
            return Ok(());
        }
        OsEntropy.fill(dest)
    }
}

/// How many times each store operation was called (and how many touches wrote).
#[derive(Debug, Default)]
pub struct CallCounts {
    /// `insert_within_limit` calls.
    pub insert: AtomicUsize,
    /// `find` calls.
    pub find: AtomicUsize,
    /// `list` calls.
    pub list: AtomicUsize,
    /// `revoke` calls.
    pub revoke: AtomicUsize,
    /// `touch` calls.
    pub touch: AtomicUsize,
    /// `touch` calls that changed a row.
    pub touch_writes: AtomicUsize,
    /// `replace_hash` calls.
    pub replace_hash: AtomicUsize,
    /// `revoke_all` calls.
    pub revoke_all: AtomicUsize,
    /// `prune` calls.
    pub prune: AtomicUsize,
    /// `hash_version_counts` calls.
    pub hash_version_counts: AtomicUsize,
    /// `rotate` calls.
    pub rotate: AtomicUsize,
    /// `update` calls.
    pub update: AtomicUsize,
    /// `list_page` calls.
    pub list_page: AtomicUsize,
    /// `claim_expiring` calls.
    pub claim_expiring: AtomicUsize,
}

impl CallCounts {
    /// Total calls of every kind.
    pub fn total(&self) -> usize {
        [
            &self.insert,
            &self.find,
            &self.list,
            &self.revoke,
            &self.touch,
            &self.replace_hash,
            &self.revoke_all,
            &self.prune,
            &self.hash_version_counts,
            &self.rotate,
            &self.update,
            &self.list_page,
            &self.claim_expiring,
        ]
        .iter()
        .map(|c| c.load(Ordering::SeqCst))
        .sum()
    }
}

/// Wraps a store and counts the calls made to it.
#[derive(Debug, Clone)]
pub struct RecordingStore {
    inner: Arc<dyn KeyStore>,
    counts: Arc<CallCounts>,
}

impl RecordingStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn KeyStore>) -> Self {
        Self {
            inner,
            counts: Arc::default(),
        }
    }

    /// The counters (shared by clones).
    pub fn counts(&self) -> Arc<CallCounts> {
        self.counts.clone()
    }
}

fn bump(c: &AtomicUsize) {
    c.fetch_add(1, Ordering::SeqCst);
}

#[async_trait::async_trait]
impl KeyStore for RecordingStore {
    async fn insert_within_limit(
        &self,
        record: &KeyRecord,
        max_active: u32,
        now: OffsetDateTime,
    ) -> Result<InsertOutcome, StoreError> {
        bump(&self.counts.insert);
        self.inner
            .insert_within_limit(record, max_active, now)
            .await
    }
    async fn find(&self, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        bump(&self.counts.find);
        self.inner.find(key_id).await
    }
    async fn list(&self, user_id: &UserId) -> Result<Vec<KeyRecord>, StoreError> {
        bump(&self.counts.list);
        self.inner.list(user_id).await
    }
    async fn revoke(
        &self,
        user_id: &UserId,
        key_id: &KeyId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<RevokeOutcome, StoreError> {
        bump(&self.counts.revoke);
        self.inner.revoke(user_id, key_id, at, reason).await
    }
    async fn touch(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
        cutoff: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        bump(&self.counts.touch);
        let wrote = self.inner.touch(key_id, at, cutoff).await?;
        if wrote {
            bump(&self.counts.touch_writes);
        }
        Ok(wrote)
    }
    async fn replace_hash(
        &self,
        key_id: &KeyId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<bool, StoreError> {
        bump(&self.counts.replace_hash);
        self.inner.replace_hash(key_id, old, new).await
    }

    async fn revoke_all(
        &self,
        user_id: &UserId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<Vec<KeyId>, StoreError> {
        bump(&self.counts.revoke_all);
        self.inner.revoke_all(user_id, at, reason).await
    }
    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> Result<u64, StoreError> {
        bump(&self.counts.prune);
        self.inner.prune(cutoff, batch).await
    }
    async fn hash_version_counts(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(HashVersion, u64)>, StoreError> {
        bump(&self.counts.hash_version_counts);
        self.inner.hash_version_counts(now).await
    }
    async fn rotate(
        &self,
        current: &KeyRecord,
        retired: &KeyRecord,
        new: &KeyRecord,
        max_in_grace: u32,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome, StoreError> {
        bump(&self.counts.rotate);
        self.inner
            .rotate(current, retired, new, max_in_grace, now)
            .await
    }
    async fn update(
        &self,
        current: &KeyRecord,
        updated: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        bump(&self.counts.update);
        self.inner.update(current, updated, now).await
    }
    async fn list_page(
        &self,
        user_id: &UserId,
        after: Option<(OffsetDateTime, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        bump(&self.counts.list_page);
        self.inner.list_page(user_id, after, limit).await
    }
    async fn claim_expiring(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        bump(&self.counts.claim_expiring);
        self.inner.claim_expiring(now, until).await
    }
}

/// A store whose operations fail while it is switched off, and pass through to an inner store
/// otherwise. Used for fail-closed tests.
#[derive(Debug, Clone)]
pub struct FailingStore {
    inner: Arc<dyn KeyStore>,
    failing: Arc<std::sync::atomic::AtomicBool>,
    fail_touch_only: bool,
}

impl FailingStore {
    /// Wraps `inner`; starts working.
    pub fn new(inner: Arc<dyn KeyStore>) -> Self {
        Self {
            inner,
            failing: Arc::default(),
            fail_touch_only: false,
        }
    }

    /// Only `touch` and `replace_hash` fail (the writes off the critical path).
    pub fn writes_only(mut self) -> Self {
        self.fail_touch_only = true;
        self
    }

    /// Makes every (or every write) operation fail from now on, or work again.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn check(&self, is_write: bool) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) && (is_write || !self.fail_touch_only) {
            Err(StoreError::msg("store is switched off for a test"))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl KeyStore for FailingStore {
    async fn insert_within_limit(
        &self,
        record: &KeyRecord,
        max_active: u32,
        now: OffsetDateTime,
    ) -> Result<InsertOutcome, StoreError> {
        self.check(false)?;
        self.inner
            .insert_within_limit(record, max_active, now)
            .await
    }
    async fn find(&self, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        self.check(false)?;
        self.inner.find(key_id).await
    }
    async fn list(&self, user_id: &UserId) -> Result<Vec<KeyRecord>, StoreError> {
        self.check(false)?;
        self.inner.list(user_id).await
    }
    async fn revoke(
        &self,
        user_id: &UserId,
        key_id: &KeyId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<RevokeOutcome, StoreError> {
        self.check(false)?;
        self.inner.revoke(user_id, key_id, at, reason).await
    }
    async fn touch(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
        cutoff: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.check(true)?;
        self.inner.touch(key_id, at, cutoff).await
    }
    async fn replace_hash(
        &self,
        key_id: &KeyId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<bool, StoreError> {
        self.check(true)?;
        self.inner.replace_hash(key_id, old, new).await
    }

    async fn revoke_all(
        &self,
        user_id: &UserId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<Vec<KeyId>, StoreError> {
        self.check(false)?;
        self.inner.revoke_all(user_id, at, reason).await
    }
    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> Result<u64, StoreError> {
        self.check(false)?;
        self.inner.prune(cutoff, batch).await
    }
    async fn hash_version_counts(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(HashVersion, u64)>, StoreError> {
        self.check(false)?;
        self.inner.hash_version_counts(now).await
    }
    async fn rotate(
        &self,
        current: &KeyRecord,
        retired: &KeyRecord,
        new: &KeyRecord,
        max_in_grace: u32,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome, StoreError> {
        self.check(false)?;
        self.inner
            .rotate(current, retired, new, max_in_grace, now)
            .await
    }
    async fn update(
        &self,
        current: &KeyRecord,
        updated: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.check(false)?;
        self.inner.update(current, updated, now).await
    }
    async fn list_page(
        &self,
        user_id: &UserId,
        after: Option<(OffsetDateTime, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.check(false)?;
        self.inner.list_page(user_id, after, limit).await
    }
    async fn claim_expiring(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.check(false)?;
        self.inner.claim_expiring(now, until).await
    }
}

/// A store whose next `find`, once armed with [`HeldStore::hold_next_find`], reads its row and
/// then waits to be released before returning it (the row as it was read). For deterministic
/// tests of a verification racing a revocation: the revocation runs while the read is held.
#[derive(Debug, Clone)]
pub struct HeldStore {
    inner: Arc<dyn KeyStore>,
    gate: Arc<Mutex<Option<FindGate>>>,
}

type FindGate = (Arc<tokio::sync::Notify>, tokio::sync::oneshot::Receiver<()>);

/// A held `find`: wait until it has read its row, then release it.
#[derive(Debug)]
pub struct FindHold {
    entered: Arc<tokio::sync::Notify>,
    release: tokio::sync::oneshot::Sender<()>,
}

impl FindHold {
    /// Waits until the held `find` has read its row.
    pub async fn entered(&self) {
        self.entered.notified().await;
    }

    /// Lets the held `find` return.
    pub fn release(self) {
        // The receiver is gone only if the find was dropped; nothing waits then.
        let _ = self.release.send(());
    }
}

impl HeldStore {
    /// Wraps `inner`; no `find` is held until [`HeldStore::hold_next_find`].
    pub fn new(inner: Arc<dyn KeyStore>) -> Self {
        Self {
            inner,
            gate: Arc::default(),
        }
    }

    /// Holds the next `find` after it has read its row.
    pub fn hold_next_find(&self) -> FindHold {
        let entered = Arc::new(tokio::sync::Notify::new());
        let (release, held) = tokio::sync::oneshot::channel();
        *self.gate.lock().unwrap_or_else(|e| e.into_inner()) = Some((entered.clone(), held));
        FindHold { entered, release }
    }
}

#[async_trait::async_trait]
impl KeyStore for HeldStore {
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
        let gate = self.gate.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((entered, held)) = gate {
            entered.notify_one();
            // A dropped hold releases too.
            let _ = held.await;
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
        reason: RevocationReason,
    ) -> Result<RevokeOutcome, StoreError> {
        self.inner.revoke(user_id, key_id, at, reason).await
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

    async fn revoke_all(
        &self,
        user_id: &UserId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<Vec<KeyId>, StoreError> {
        self.inner.revoke_all(user_id, at, reason).await
    }
    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> Result<u64, StoreError> {
        self.inner.prune(cutoff, batch).await
    }
    async fn hash_version_counts(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(HashVersion, u64)>, StoreError> {
        self.inner.hash_version_counts(now).await
    }
    async fn rotate(
        &self,
        current: &KeyRecord,
        retired: &KeyRecord,
        new: &KeyRecord,
        max_in_grace: u32,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome, StoreError> {
        self.inner
            .rotate(current, retired, new, max_in_grace, now)
            .await
    }
    async fn update(
        &self,
        current: &KeyRecord,
        updated: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.inner.update(current, updated, now).await
    }
    async fn list_page(
        &self,
        user_id: &UserId,
        after: Option<(OffsetDateTime, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.inner.list_page(user_id, after, limit).await
    }
    async fn claim_expiring(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.inner.claim_expiring(now, until).await
    }
}
