//! The key lifecycle beyond create and revoke (contract §4): revoking with a reason, revoking all
//! of a user's keys, pruning old rows, and the hash versions still in use. Every call that takes
//! keys out of use tells the caches through [`KeyService::out_of_use`] once the store has changed.

use time::OffsetDateTime;

use super::KeyService;
use crate::format::KeyId;
use crate::hash::HashVersion;
use crate::store::{RevocationReason, RevokeOutcome, StoreError};
use crate::user::UserId;

use super::RevokeError;

impl KeyService {
    /// Rows deleted per statement by [`KeyService::prune`]: small enough that each `DELETE`
    /// holds its locks briefly, large enough that pruning a big table takes few round trips.
    pub const PRUNE_BATCH: u32 = 1_000;

    /// Revokes one of `user`'s keys like [`KeyService::revoke`] (which records
    /// [`RevocationReason::User`]), recording `reason`. Idempotent: a key already revoked keeps
    /// its first time and reason. A key id that is malformed, unknown or another user's is
    /// [`RevokeError::NotFound`], all alike.
    ///
    /// # Errors
    ///
    /// [`RevokeError::NotFound`] as above; [`RevokeError::Store`] when the store fails, or when
    /// the revocation is stored but could not be announced to other instances.
    pub async fn revoke_with_reason(
        &self,
        user: &UserId,
        key_id: &str,
        reason: RevocationReason,
    ) -> Result<(), RevokeError> {
        let key_id = KeyId::parse(key_id).map_err(|_| RevokeError::NotFound)?;
        let now = self.inner.clock.now();
        let outcome = self.inner.store.revoke(user, &key_id, now, reason).await?;
        if outcome != RevokeOutcome::NotFound {
            // Announced again when already revoked: a retry after a failed announcement.
            self.out_of_use(&[key_id]).await?;
        }
        match outcome {
            RevokeOutcome::Revoked => {
                revoked_event(&key_id, user, reason);
                Ok(())
            }
            RevokeOutcome::AlreadyRevoked => Ok(()),
            RevokeOutcome::NotFound => Err(RevokeError::NotFound),
        }
    }

    /// Revokes every key of `user` not revoked yet (expired ones included), recording `reason`,
    /// in one store operation, and returns how many it revoked (0 when there were none). Keys
    /// already revoked keep their first time and reason. A key created at the same moment is
    /// either revoked and counted, or left working.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails (nothing is revoked), or when the keys are
    /// revoked but could not be announced to other instances (calling again, which then
    /// revokes nothing, announces every revoked key of the user again).
    pub async fn revoke_all(
        &self,
        user: &UserId,
        reason: RevocationReason,
    ) -> Result<usize, StoreError> {
        let now = self.inner.clock.now();
        let revoked = self.inner.store.revoke_all(user, now, reason).await?;
        // The audit trail comes first: the keys are revoked whether or not the announcement
        // below goes through.
        for key_id in &revoked {
            revoked_event(key_id, user, reason);
        }
        tracing::info!(
            target: "clab_keys::audit",
            event = "authn_tokens_revoked_all",
            user_id = %user,
            reason = reason.as_str(),
            count = revoked.len(),
            "all api keys of a user revoked"
        );
        if revoked.is_empty() {
            // Nothing changed now: perhaps a retry after a failed announcement. Announce the
            // user's revoked keys again (evicting is harmless), so a retry is never silent.
            let before: Vec<KeyId> = self
                .inner
                .store
                .list(user)
                .await?
                .into_iter()
                .filter(|r| r.revoked_at.is_some())
                .map(|r| r.key_id)
                .collect();
            if !before.is_empty() {
                self.out_of_use(&before).await?;
            }
        } else {
            self.out_of_use(&revoked).await?;
        }
        Ok(revoked.len())
    }

    /// Deletes the rows of keys revoked or expired before `cutoff`, of every user, in batches of
    /// [`KeyService::PRUNE_BATCH`] (one short statement each), and returns how many it deleted.
    /// A `cutoff` later than now is taken as now, so pruning never deletes a key that still
    /// works; the deleted keys were therefore already out of use, and nothing is announced.
    /// Revoked rows are kept for audit until pruned: pick a cutoff such as 90 days ago.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails; the batches before the failure stay deleted
    /// (logged with their count).
    pub async fn prune(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let cutoff = cutoff.min(self.inner.clock.now());
        let mut deleted = 0_u64;
        let mut batches = 0_u32;
        let result = loop {
            match self.inner.store.prune(cutoff, Self::PRUNE_BATCH).await {
                Ok(n) => {
                    deleted += n;
                    batches += 1;
                    if n < u64::from(Self::PRUNE_BATCH) {
                        break Ok(deleted);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        tracing::info!(
            target: "clab_keys::audit",
            event = "authn_tokens_pruned",
            cutoff = %cutoff,
            count = deleted,
            batches,
            complete = result.is_ok(),
            "revoked and expired api keys pruned"
        );
        if let Err(e) = &result {
            tracing::error!(target: "clab_keys", error = %e, "pruning api keys failed");
        }
        result
    }

    /// Tells every instance that `user`'s standing changed (disabled, deleted, re-enabled):
    /// their keys are taken out of every verification cache, so the next request consults the
    /// [`OwnerCheck`](crate::OwnerCheck) again. Nothing is revoked; returns how many keys were
    /// announced. Call it right after the change is committed in the application's database.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails or the announcement could not be sent.
    pub async fn owner_changed(&self, user: &UserId) -> Result<usize, StoreError> {
        let ids: Vec<KeyId> = self
            .inner
            .store
            .list(user)
            .await?
            .into_iter()
            .filter(|r| r.revoked_at.is_none())
            .map(|r| r.key_id)
            .collect();
        if !ids.is_empty() {
            self.out_of_use(&ids).await?;
        }
        Ok(ids.len())
    }

    /// How many active keys (neither revoked nor expired now) each hash version holds,
    /// ascending by version, versions without active keys left out. When a previous pepper's
    /// version no longer appears, no working key needs it and it can be retired; a key re-hashes
    /// under the current pepper on its next use (contract §3).
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    pub async fn hash_version_counts(&self) -> Result<Vec<(HashVersion, u64)>, StoreError> {
        let now = self.inner.clock.now();
        self.inner.store.hash_version_counts(now).await
    }
}

/// The audit event of one key that changed state to revoked.
fn revoked_event(key_id: &KeyId, user: &UserId, reason: RevocationReason) {
    tracing::info!(
        target: "clab_keys::audit",
        event = "authn_token_revoked",
        key_id = %key_id,
        user_id = %user,
        reason = reason.as_str(),
        "api key revoked"
    );
}
