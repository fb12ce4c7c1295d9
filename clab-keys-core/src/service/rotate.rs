//! Rotating a key (contract §4): a new key in the old one's place, the old one revoked at once
//! or left working for a grace period, in one store transaction.

use time::{Duration, OffsetDateTime};

use super::{CreatedKey, INSERT_ATTEMPTS, KeyInfo, KeyService, RotateError};
use crate::format::KeyId;
use crate::secret::ApiKey;
use crate::store::{KeyRecord, RevocationReason, RotateOutcome, StoreError};
use crate::user::UserId;

/// The longest grace period of [`KeyService::rotate`]: 7 days (604,800 seconds).
pub const MAX_ROTATION_GRACE: Duration = Duration::days(7);

/// How often a rotation re-reads a row whose scopes or expiry changed under it before giving
/// up.
const STALE_ATTEMPTS: usize = 8;

/// A rotated key: the new key's plaintext token (shown once), its metadata, and the id of the
/// key it replaces.
#[derive(Debug)]
#[non_exhaustive]
pub struct RotatedKey {
    /// The new key's plaintext token. Show it to the user once; it is never available again.
    pub token: ApiKey,
    /// The new key's metadata: the old key's name and scopes, an expiry no later than the old
    /// key's.
    pub key: KeyInfo,
    /// The id of the old key, now revoked (grace 0) or in its grace period.
    pub replaces: KeyId,
}

impl From<RotatedKey> for CreatedKey {
    /// The new key alone, in the shape [`KeyService::create`] returns.
    fn from(rotated: RotatedKey) -> Self {
        Self {
            token: rotated.token,
            key: rotated.key,
        }
    }
}

impl KeyService {
    /// Replaces one of `user`'s keys by a new one with the same name and scopes (contract §4)
    /// and returns the new key with its token. The new key expires when the old one did (or
    /// never, if it did not), but no later than `max_lifetime` from now when one is configured.
    ///
    /// With `grace` zero the old key is revoked at once (reason
    /// [`RevocationReason::Rotated`]); otherwise it keeps working until the earlier of its own
    /// expiry and now + `grace`, so deployed copies can be swapped, and no longer counts
    /// against the per-user limit. Either way the old key's `replaced_by` names the new key.
    /// Both changes happen in one store transaction: a crash leaves either the old key alone or
    /// both keys as described.
    ///
    /// **Limits**: a rotation never fails for the active-key limit, but a user holds at most
    /// `max_active_keys` keys in a grace period at once (replaced, neither revoked nor expired
    /// at now): a rotation with `grace` above zero while the user already has that many is
    /// [`RotateError::GraceLimitReached`], checked atomically with the change, so a user never
    /// has more than twice `max_active_keys` working keys. A rotation with `grace` zero never
    /// fails for any limit.
    ///
    /// A key already replaced cannot be rotated again ([`RotateError::Inactive`]): of several
    /// concurrent rotations of one key exactly one succeeds, and a rotation racing a
    /// revocation either happens first (the revocation then revokes the old key) or fails as
    /// `Inactive` (no new key is made for a revoked key). The store changes the old key only
    /// while its scopes and expiry are those read, so a rotation racing an update that narrows
    /// the key reads it again and the new key gets the narrowed scopes, never the old ones.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use clab_keys::{KeyHasher, KeyService, MemoryStore, NewKey, Pepper, RotateError, UserId};
    /// # let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
    /// let keys = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper).unwrap())
    ///     .build()
    ///     .unwrap();
    /// let user = UserId::from(7_i64);
    /// let old = keys.create(&user, NewKey::new("deploy bot")).await.unwrap();
    ///
    /// // The old key keeps working for an hour while the new one is rolled out.
    /// let id = old.key.key_id.as_str();
    /// let new = keys.rotate(&user, id, time::Duration::hours(1)).await.unwrap();
    /// assert_eq!(new.replaces, old.key.key_id);
    /// assert_eq!(new.key.name, "deploy bot");
    /// assert!(keys.authenticate(old.token.expose_secret().as_bytes()).await.is_ok());
    ///
    /// // A key that was replaced is not rotated again.
    /// let again = keys.rotate(&user, id, time::Duration::ZERO).await;
    /// assert!(matches!(again, Err(RotateError::Inactive)));
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// [`RotateError::InvalidGrace`] for a grace outside 0 to [`MAX_ROTATION_GRACE`] or not in
    /// whole seconds; [`RotateError::NotFound`] for a malformed id, an unknown id or another
    /// user's key, alike; [`RotateError::Inactive`] for a revoked, expired or replaced key;
    /// [`RotateError::GraceLimitReached`] for a grace above zero while the user already has
    /// `max_active_keys` keys in a grace period;
    /// [`RotateError::Entropy`] and [`RotateError::KeyIdCollisions`] as for `create`;
    /// [`RotateError::Store`] when the store fails (nothing changed) or when the rotation is
    /// stored but could not be announced to other instances.
    pub async fn rotate(
        &self,
        user: &UserId,
        key_id: &str,
        grace: Duration,
    ) -> Result<RotatedKey, RotateError> {
        if grace.is_negative() || grace > MAX_ROTATION_GRACE || grace.subsec_nanoseconds() != 0 {
            return Err(RotateError::InvalidGrace);
        }
        let key_id = KeyId::parse(key_id).map_err(|_| RotateError::NotFound)?;
        let mut draws = 0;
        for _ in 0..STALE_ATTEMPTS {
            let now = self.inner.clock.now();
            let current = self.rotatable(user, &key_id, now).await?;
            let retired_expiry = retired_expiry(&current, now, grace);
            loop {
                if draws == INSERT_ATTEMPTS {
                    return Err(RotateError::KeyIdCollisions);
                }
                draws += 1;
                let (new, token) = self.successor(&current, now)?;
                let mut retired = current.clone();
                retired.replaced_by = Some(new.key_id);
                if grace.is_zero() {
                    retired.revoked_at = Some(now);
                    retired.revocation_reason = Some(RevocationReason::Rotated);
                } else {
                    retired.expires_at = retired_expiry;
                }
                let limit = self.inner.config.max_active_keys;
                match self
                    .inner
                    .store
                    .rotate(&current, &retired, &new, limit, now)
                    .await?
                {
                    RotateOutcome::Rotated => {
                        rotated_event(&new.key_id, &key_id, user, grace);
                        // Caches hold the expiry too: announce when either changed.
                        if retired.revoked_at.is_some() || retired.expires_at != current.expires_at
                        {
                            self.out_of_use(&[key_id]).await?;
                        }
                        return Ok(RotatedKey {
                            token,
                            key: KeyInfo::from(new),
                            replaces: key_id,
                        });
                    }
                    RotateOutcome::DuplicateKeyId => {
                        tracing::debug!(target: "clab_keys", key_id = %new.key_id, "key id collision, retrying");
                    }
                    RotateOutcome::GraceLimitReached => {
                        return Err(RotateError::GraceLimitReached { limit });
                    }
                    // Changed under us (revoked, replaced, its scopes or expiry changed): read
                    // it again and decide anew.
                    RotateOutcome::Stale => break,
                }
            }
        }
        Err(RotateError::Store(StoreError::msg(
            "the key kept changing during its rotation",
        )))
    }

    /// The user's key, if it may be rotated now.
    async fn rotatable(
        &self,
        user: &UserId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> Result<KeyRecord, RotateError> {
        match self.inner.store.find(key_id).await? {
            Some(r) if &r.user_id == user => {
                if r.is_active(now) && r.replaced_by.is_none() {
                    Ok(r)
                } else {
                    Err(RotateError::Inactive)
                }
            }
            _ => Err(RotateError::NotFound),
        }
    }

    /// A new key in `old`'s place: its name and scopes, in the primary format, expiring no
    /// later than `old` and within `max_lifetime`.
    fn successor(
        &self,
        old: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<(KeyRecord, ApiKey), RotateError> {
        let inner = &*self.inner;
        let format = inner.formats.primary();
        let (key_id, token) = format.generate(&*inner.entropy)?;
        let cap = inner
            .config
            .max_lifetime
            .and_then(|max| now.checked_add(max));
        let expires_at = match (old.expires_at, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut new = KeyRecord::new(
            key_id,
            format.prefix().as_str(),
            old.user_id.clone(),
            old.name.clone(),
            inner.hasher.hash(token.expose_secret().as_bytes()),
            old.scopes.clone(),
            now,
        );
        new.expires_at = expires_at;
        Ok((new, token))
    }
}

/// The old key's expiry after a rotation with a grace period: the earlier of its own and
/// now + grace.
fn retired_expiry(old: &KeyRecord, now: OffsetDateTime, grace: Duration) -> Option<OffsetDateTime> {
    let end = now + grace;
    Some(old.expires_at.map_or(end, |e| e.min(end)))
}

fn rotated_event(new: &KeyId, old: &KeyId, user: &UserId, grace: Duration) {
    tracing::info!(
        target: "clab_keys::audit",
        event = "authn_token_rotated",
        key_id = %new,
        replaces = %old,
        user_id = %user,
        grace_seconds = grace.whole_seconds(),
        "api key rotated"
    );
}
