//! An in-memory store: the embedded default for tests and small single-process apps.
//! Keys are lost when the process exits.

use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;

use super::{
    InsertOutcome, KeyRecord, KeyStore, RevocationReason, RevokeOutcome, RotateOutcome, StoreError,
};
use crate::format::{KeyId, KeyIdMap};
use crate::hash::{HashVersion, StoredHash};
use crate::user::UserId;

/// A [`KeyStore`] in process memory. Every operation holds one lock for its whole duration,
/// so the per-user limit and the `last_used_at` debounce hold under any concurrency.
/// Cloning shares the same keys.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    keys: Arc<Mutex<KeyIdMap<KeyRecord>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, KeyIdMap<KeyRecord>> {
        // A panic while holding the lock cannot leave a record half-written (every update
        // is a single assignment), so a poisoned lock is still safe to use.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl KeyStore for MemoryStore {
    async fn insert_within_limit(
        &self,
        record: &KeyRecord,
        max_active: u32,
        now: OffsetDateTime,
    ) -> Result<InsertOutcome, StoreError> {
        let mut keys = self.lock();
        if keys.contains_key(&record.key_id) {
            return Ok(InsertOutcome::DuplicateKeyId);
        }
        let active = keys
            .values()
            .filter(|k| k.user_id == record.user_id && k.counts_against_limit(now))
            .count();
        if active >= max_active as usize {
            return Ok(InsertOutcome::LimitReached);
        }
        keys.insert(record.key_id, record.clone());
        Ok(InsertOutcome::Inserted)
    }

    async fn find(&self, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.lock().get(key_id).cloned())
    }

    async fn list(&self, user_id: &UserId) -> Result<Vec<KeyRecord>, StoreError> {
        let mut out: Vec<KeyRecord> = self
            .lock()
            .values()
            .filter(|k| &k.user_id == user_id)
            .cloned()
            .collect();
        out.sort_by_key(|k| std::cmp::Reverse((k.created_at, k.key_id)));
        Ok(out)
    }

    async fn revoke(
        &self,
        user_id: &UserId,
        key_id: &KeyId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<RevokeOutcome, StoreError> {
        let mut keys = self.lock();
        match keys.get_mut(key_id) {
            Some(k) if &k.user_id == user_id => {
                if k.revoked_at.is_some() {
                    Ok(RevokeOutcome::AlreadyRevoked)
                } else {
                    k.revoked_at = Some(at);
                    k.revocation_reason = Some(reason);
                    Ok(RevokeOutcome::Revoked)
                }
            }
            _ => Ok(RevokeOutcome::NotFound),
        }
    }

    async fn revoke_all(
        &self,
        user_id: &UserId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<Vec<KeyId>, StoreError> {
        let mut keys = self.lock();
        let mut revoked = Vec::new();
        for k in keys
            .values_mut()
            .filter(|k| &k.user_id == user_id && k.revoked_at.is_none())
        {
            k.revoked_at = Some(at);
            k.revocation_reason = Some(reason);
            revoked.push(k.key_id);
        }
        Ok(revoked)
    }

    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> Result<u64, StoreError> {
        let mut keys = self.lock();
        let doomed: Vec<KeyId> = keys
            .values()
            .filter(|k| {
                k.revoked_at.is_some_and(|t| t < cutoff) || k.expires_at.is_some_and(|t| t < cutoff)
            })
            .map(|k| k.key_id)
            .take(batch as usize)
            .collect();
        for id in &doomed {
            keys.remove(id);
        }
        Ok(doomed.len() as u64)
    }

    async fn hash_version_counts(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(HashVersion, u64)>, StoreError> {
        let mut counts = std::collections::BTreeMap::<HashVersion, u64>::new();
        for k in self.lock().values().filter(|k| k.is_active(now)) {
            *counts.entry(k.hash.version).or_default() += 1;
        }
        Ok(counts.into_iter().collect())
    }

    async fn rotate(
        &self,
        current: &KeyRecord,
        retired: &KeyRecord,
        new: &KeyRecord,
        max_in_grace: u32,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome, StoreError> {
        let mut keys = self.lock();
        if keys.contains_key(&new.key_id) {
            return Ok(RotateOutcome::DuplicateKeyId);
        }
        let matches = keys.get(&current.key_id).is_some_and(|k| {
            k.user_id == current.user_id
                && k.is_active(now)
                && k.replaced_by.is_none()
                && k.scopes == current.scopes
                && k.expires_at == current.expires_at
        });
        if !matches {
            return Ok(RotateOutcome::Stale);
        }
        // Under the same lock as the change: concurrent rotations never pass the cap.
        if retired.revoked_at.is_none() {
            let in_grace = keys
                .values()
                .filter(|k| k.user_id == current.user_id && k.is_in_grace_period(now))
                .count();
            if in_grace >= max_in_grace as usize {
                return Ok(RotateOutcome::GraceLimitReached);
            }
        }
        if let Some(k) = keys.get_mut(&current.key_id) {
            k.revoked_at = retired.revoked_at;
            k.revocation_reason = retired.revocation_reason;
            k.expires_at = retired.expires_at;
            k.replaced_by = retired.replaced_by;
        }
        keys.insert(new.key_id, new.clone());
        Ok(RotateOutcome::Rotated)
    }

    async fn update(
        &self,
        current: &KeyRecord,
        updated: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut keys = self.lock();
        match keys.get_mut(&current.key_id) {
            Some(k)
                if k.user_id == current.user_id
                    && k.is_active(now)
                    && k.scopes == current.scopes
                    && k.expires_at == current.expires_at =>
            {
                k.name.clone_from(&updated.name);
                k.scopes = updated.scopes.clone();
                k.expires_at = updated.expires_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn list_page(
        &self,
        user_id: &UserId,
        after: Option<(OffsetDateTime, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let mut out: Vec<KeyRecord> = self
            .lock()
            .values()
            .filter(|k| &k.user_id == user_id)
            .filter(|k| after.is_none_or(|position| (k.created_at, k.key_id) < position))
            .cloned()
            .collect();
        out.sort_by_key(|k| std::cmp::Reverse((k.created_at, k.key_id)));
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn claim_expiring(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let mut keys = self.lock();
        let mut claimed = Vec::new();
        for k in keys.values_mut().filter(|k| {
            k.expiry_notified_at.is_none()
                && k.revoked_at.is_none()
                && k.replaced_by.is_none()
                && k.expires_at.is_some_and(|e| now < e && e <= until)
        }) {
            k.expiry_notified_at = Some(now);
            claimed.push(k.clone());
        }
        Ok(claimed)
    }

    async fn touch(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
        cutoff: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut keys = self.lock();
        match keys.get_mut(key_id) {
            Some(k) if k.last_used_at.is_none_or(|t| t < cutoff) => {
                k.last_used_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn replace_hash(
        &self,
        key_id: &KeyId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<bool, StoreError> {
        let mut keys = self.lock();
        match keys.get_mut(key_id) {
            Some(k) if k.hash.version == old.version && k.hash.digest.ct_eq(&old.digest) => {
                k.hash = *new;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
