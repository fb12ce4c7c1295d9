//! Changing a key in place (contract §4): a new name, narrower scopes, an earlier expiry.

use time::OffsetDateTime;

use super::{KeyInfo, KeyService, UpdateError, config};
use crate::clock::truncate_to_micros;
use crate::format::KeyId;
use crate::scope::Scopes;
use crate::store::{KeyRecord, StoreError};
use crate::user::UserId;

/// How often an update re-reads a row that changed under it before giving up.
const STALE_ATTEMPTS: usize = 8;

/// What to change on a key: any of its name, scopes and expiry; `None` leaves a field as it is.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::KeyUpdate;
/// let change = KeyUpdate::new()
///     .name("CI runner (read only)")
///     .scopes(["projects:read"])
///     .expires_at(time::macros::datetime!(2030-01-01 00:00:00 UTC));
/// assert_eq!(change.scopes.as_deref(), Some(&["projects:read".to_owned()][..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyUpdate {
    /// A new name, under the rule of [`KeyService::create`] (trimmed, NFC-normalised, 1–100
    /// characters, at least one visible, none invisible or direction-changing).
    pub name: Option<String>,
    /// New scopes: a non-empty list; for a key already limited to scopes, a subset of them.
    pub scopes: Option<Vec<String>>,
    /// A new expiry: in the future, and no later than the key's current expiry.
    pub expires_at: Option<OffsetDateTime>,
}

impl KeyUpdate {
    /// A change of nothing; add fields with the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the key.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Limits the key to these scopes.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Moves the key's expiry earlier, to `at`.
    pub fn expires_at(mut self, at: OffsetDateTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Whether the change could take rights away from the key (its scopes or its expiry), so
    /// that caches must forget it.
    fn restricts(&self) -> bool {
        self.scopes.is_some() || self.expires_at.is_some()
    }
}

impl KeyService {
    /// Changes one of `user`'s keys (contract §4): renames it, narrows its scopes or moves its
    /// expiry earlier, and returns its metadata as changed. Only ever takes rights away: an
    /// unrestricted key may be given any valid, non-empty scope list, a scoped key only a
    /// non-empty subset of its own; the expiry must be in the future and no later than the
    /// current one (and, when `max_lifetime` is set, within it). One conditional store update,
    /// which applies only if the key's scopes and expiry are still those the checks saw, so
    /// concurrent updates never widen a key. A key in its rotation grace period may be
    /// updated; a revoked or expired one may not. A change of the scopes or the expiry takes
    /// the key out of every verification cache.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use clab_keys::{KeyHasher, KeyService, KeyUpdate, MemoryStore, NewKey, Pepper, UpdateError, UserId};
    /// # let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
    /// let keys = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper).unwrap())
    ///     .build()
    ///     .unwrap();
    /// let user = UserId::from(7_i64);
    /// let new = NewKey::new("CI").scopes(["projects:read", "runs:write"]);
    /// let id = keys.create(&user, new).await.unwrap().key.key_id;
    ///
    /// let change = KeyUpdate::new().name("CI (read only)").scopes(["projects:read"]);
    /// let key = keys.update(&user, id.as_str(), change).await.unwrap();
    /// assert_eq!(key.scopes.to_string(), "projects:read");
    ///
    /// // Scopes only narrow.
    /// let widen = KeyUpdate::new().scopes(["projects:read", "runs:write"]);
    /// let refused = keys.update(&user, id.as_str(), widen).await;
    /// assert!(matches!(refused, Err(UpdateError::InvalidScopes)));
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// [`UpdateError::InvalidName`], [`UpdateError::InvalidScopes`] and
    /// [`UpdateError::InvalidExpiry`] for input breaking the rules above;
    /// [`UpdateError::NotFound`] for a malformed id, an unknown id or another user's key,
    /// alike; [`UpdateError::Inactive`] for a revoked or expired key; [`UpdateError::Store`]
    /// when the store fails, or when the change is stored but could not be announced. Nothing
    /// is changed on any error but the last.
    pub async fn update(
        &self,
        user: &UserId,
        key_id: &str,
        change: KeyUpdate,
    ) -> Result<KeyInfo, UpdateError> {
        let key_id = KeyId::parse(key_id).map_err(|_| UpdateError::NotFound)?;
        // The checks that need no row first.
        let name = match &change.name {
            Some(name) => Some(config::validate_name(name).map_err(|_| UpdateError::InvalidName)?),
            None => None,
        };
        let scopes = match &change.scopes {
            Some(list) => match Scopes::new(list) {
                Ok(s) if !s.is_empty() => Some(s),
                _ => return Err(UpdateError::InvalidScopes),
            },
            None => None,
        };
        let expires_at = change.expires_at.map(truncate_to_micros);
        for _ in 0..STALE_ATTEMPTS {
            let now = self.inner.clock.now();
            let current = match self.inner.store.find(&key_id).await? {
                Some(r) if &r.user_id == user => r,
                _ => return Err(UpdateError::NotFound),
            };
            if !current.is_active(now) {
                return Err(UpdateError::Inactive);
            }
            let updated =
                self.updated(&current, name.as_deref(), scopes.as_ref(), expires_at, now)?;
            if name.is_none() && scopes.is_none() && expires_at.is_none() {
                return Ok(KeyInfo::from(current));
            }
            if self.inner.store.update(&current, &updated, now).await? {
                updated_event(&key_id, user, &change);
                if change.restricts() {
                    self.out_of_use(&[key_id]).await?;
                }
                return Ok(KeyInfo::from(updated));
            }
            // Changed under us (revoked, expired, or its scopes or expiry changed): read it
            // again and check anew.
        }
        Err(UpdateError::Store(StoreError::msg(
            "the key kept changing during its update",
        )))
    }

    /// `current` with the change applied, if the change only takes rights away.
    fn updated(
        &self,
        current: &KeyRecord,
        name: Option<&str>,
        scopes: Option<&Scopes>,
        expires_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<KeyRecord, UpdateError> {
        let mut updated = current.clone();
        if let Some(name) = name {
            name.clone_into(&mut updated.name);
        }
        if let Some(scopes) = scopes {
            let narrows =
                current.scopes.is_empty() || scopes.iter().all(|s| current.scopes.contains(s));
            if !narrows {
                return Err(UpdateError::InvalidScopes);
            }
            updated.scopes = scopes.clone();
        }
        if let Some(at) = expires_at {
            let within_max = self
                .inner
                .config
                .max_lifetime
                .is_none_or(|max| at - now <= max);
            let earlier = current.expires_at.is_none_or(|e| at <= e);
            if at <= now || !earlier || !within_max {
                return Err(UpdateError::InvalidExpiry);
            }
            updated.expires_at = Some(at);
        }
        Ok(updated)
    }
}

fn updated_event(key_id: &KeyId, user: &UserId, change: &KeyUpdate) {
    tracing::info!(
        target: "clab_keys::audit",
        event = "authn_token_updated",
        key_id = %key_id,
        user_id = %user,
        name = change.name.is_some(),
        scopes = change.scopes.is_some(),
        expires_at = change.expires_at.is_some(),
        "api key updated"
    );
}
