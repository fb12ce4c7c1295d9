//! The storage contract. A [`KeyStore`] keeps [`KeyRecord`]s; the key service decides
//! everything else. The trait is shaped so that a SQL store can enforce the per-user limit
//! atomically ([`KeyStore::insert_within_limit`]) and debounce `last_used_at` with one
//! conditional update ([`KeyStore::touch`]).

mod memory;
mod revocation;

use std::fmt;

use time::OffsetDateTime;

use crate::format::KeyId;
use crate::hash::{HashVersion, StoredHash};
use crate::scope::Scopes;
use crate::user::UserId;

pub use memory::MemoryStore;
pub use revocation::RevocationReason;

/// One stored API key (contract §4). Holds the digest of the token, never the token.
///
/// Marked `#[non_exhaustive]` so that columns can be added without breaking stores: outside
/// this crate a record is made with [`KeyRecord::new`] and its optional fields are then set
/// one by one (they are all public).
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{HashVersion, KeyDigest, KeyId, KeyRecord, RevocationReason, Scopes};
/// use clab_keys::{StoredHash, UserId};
///
/// let at = time::macros::datetime!(2026-01-01 00:00:00 UTC);
/// let hash = StoredHash { version: HashVersion::from_u16(1), digest: KeyDigest::from_bytes([7; 32]) };
/// let mut row = KeyRecord::new(
///     KeyId::parse("DocsEx01").unwrap(),
///     "clab_user_",
///     UserId::from(42_i64),
///     "laptop",
///     hash,
///     Scopes::default(),
///     at,
/// );
/// row.revoked_at = Some(at);
/// row.revocation_reason = Some(RevocationReason::User);
/// assert!(!row.is_active(at));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyRecord {
    /// The public key id (also the lookup key and the id used in URLs).
    pub key_id: KeyId,
    /// The prefix of the format the key was issued in, such as `clab_user_`.
    pub prefix: String,
    /// The owner.
    pub user_id: UserId,
    /// A name chosen by the owner (1–100 characters).
    pub name: String,
    /// The digest of the whole token and the version that made it.
    pub hash: StoredHash,
    /// Scopes the key is limited to; empty means unrestricted.
    pub scopes: Scopes,
    /// When the key was created.
    pub created_at: OffsetDateTime,
    /// When the key stops working, if ever.
    pub expires_at: Option<OffsetDateTime>,
    /// When the key was last used, to the precision of the debounce window.
    pub last_used_at: Option<OffsetDateTime>,
    /// When the key was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Why the key was revoked; `None` while it is not, and for keys revoked before reasons
    /// were recorded.
    pub revocation_reason: Option<RevocationReason>,
    /// The key that replaced this one, if it was rotated. A key with a replacement that is
    /// neither revoked nor expired is in its grace period: it still works, but no longer counts
    /// against the per-user limit; a user holds at most that many keys in a grace period at
    /// once ([`KeyRecord::is_in_grace_period`], contract §4).
    pub replaced_by: Option<KeyId>,
    /// When [`KeyService::expiring_within`](crate::KeyService::expiring_within) reported the
    /// key's coming expiry; each key is reported once.
    pub expiry_notified_at: Option<OffsetDateTime>,
}

impl KeyRecord {
    /// A record of a key that was never used, revoked or replaced and never expires: set
    /// [`expires_at`](KeyRecord::expires_at), [`last_used_at`](KeyRecord::last_used_at),
    /// [`revoked_at`](KeyRecord::revoked_at), [`revocation_reason`](KeyRecord::revocation_reason),
    /// [`replaced_by`](KeyRecord::replaced_by) and
    /// [`expiry_notified_at`](KeyRecord::expiry_notified_at) afterwards (a store decoding a row
    /// does).
    pub fn new(
        key_id: KeyId,
        prefix: impl Into<String>,
        user_id: UserId,
        name: impl Into<String>,
        hash: StoredHash,
        scopes: Scopes,
        created_at: OffsetDateTime,
    ) -> Self {
        Self {
            key_id,
            prefix: prefix.into(),
            user_id,
            name: name.into(),
            hash,
            scopes,
            created_at,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            revocation_reason: None,
            replaced_by: None,
            expiry_notified_at: None,
        }
    }

    /// Whether the key counts against the per-user limit at `now`: neither revoked nor expired.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && !self.is_expired(now)
    }

    /// Whether the key counts against the per-user limit of
    /// [`KeyStore::insert_within_limit`] at `now`: active, and not replaced (a key in its
    /// rotation grace period does not count; contract §4).
    pub fn counts_against_limit(&self, now: OffsetDateTime) -> bool {
        self.is_active(now) && self.replaced_by.is_none()
    }

    /// Whether the key is in its rotation grace period at `now`: replaced, but neither revoked
    /// nor expired. A user holds at most `max_active` such keys at once
    /// ([`KeyStore::rotate`]; contract §4).
    pub fn is_in_grace_period(&self, now: OffsetDateTime) -> bool {
        self.is_active(now) && self.replaced_by.is_some()
    }

    /// Whether the key has expired at `now` (`now >= expires_at`).
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }

    /// The display prefix, brand prefix plus key id (`clab_user_3fK9xQ2a`): safe to show and log.
    pub fn display_prefix(&self) -> String {
        format!("{}{}", self.prefix, self.key_id)
    }
}

/// The outcome of [`KeyStore::insert_within_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InsertOutcome {
    /// The record was stored.
    Inserted,
    /// The user already has `max_active` active keys; nothing was stored.
    LimitReached,
    /// Another key already has this key id; nothing was stored. The service retries with a
    /// new id.
    DuplicateKeyId,
}

/// The outcome of [`KeyStore::revoke`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokeOutcome {
    /// The key was active or expired and is now revoked.
    Revoked,
    /// The key was already revoked; nothing changed.
    AlreadyRevoked,
    /// No key with this id belongs to this user.
    NotFound,
}

/// The outcome of [`KeyStore::rotate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotateOutcome {
    /// The old row was changed and the new one stored, together.
    Rotated,
    /// The old row no longer matched what the service read (it was revoked, replaced, expired,
    /// its scopes or expiry changed in the meantime, or it is not the user's); nothing was
    /// stored. The service reads the row again and decides.
    Stale,
    /// The rotation would leave the old key in a grace period, and the user already has
    /// `max_in_grace` keys in one ([`KeyRecord::is_in_grace_period`]); nothing was stored.
    GraceLimitReached,
    /// Another key already has the new key's id; nothing was stored. The service retries with
    /// a new id.
    DuplicateKeyId,
}

/// A store failed. The source error is kept for logs; its text never reaches a client.
#[derive(Debug, thiserror::Error)]
#[error("key store failed: {message}")]
pub struct StoreError {
    message: &'static str,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A store error with a fixed description and the underlying error as its source.
    pub fn new(
        message: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message,
            source: Some(Box::new(source)),
        }
    }

    /// A store error with only a fixed description (for example a row that fails to decode).
    pub fn msg(message: &'static str) -> Self {
        Self {
            message,
            source: None,
        }
    }
}

/// Where keys live. Implementations: [`MemoryStore`] here, the SeaORM store in
/// `clab-keys-seaorm`. Every implementation should pass the conformance suite of the crate
/// `clab-keys-testing` (`store_conformance_tests!`, a dev-dependency).
///
/// Times are passed in by the service (from its injectable clock); a store never reads the
/// clock itself.
#[async_trait::async_trait]
pub trait KeyStore: fmt::Debug + Send + Sync + 'static {
    /// Stores `record` if its user has fewer than `max_active` keys that count against the
    /// limit at `now` (neither revoked nor expired nor replaced:
    /// [`KeyRecord::counts_against_limit`]), **atomically**: concurrent calls for one user
    /// never leave more than `max_active` such keys.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails; a duplicate key id is
    /// [`InsertOutcome::DuplicateKeyId`], not an error.
    async fn insert_within_limit(
        &self,
        record: &KeyRecord,
        max_active: u32,
        now: OffsetDateTime,
    ) -> Result<InsertOutcome, StoreError>;

    /// Finds a key by id, whoever owns it, revoked or not.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    async fn find(&self, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError>;

    /// Lists a user's keys, newest first (by `created_at`, then key id, descending).
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    async fn list(&self, user_id: &UserId) -> Result<Vec<KeyRecord>, StoreError>;

    /// Sets `revoked_at = at` and `revocation_reason = reason` on the user's key unless it is
    /// already revoked (an already revoked key keeps its first time and reason).
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    async fn revoke(
        &self,
        user_id: &UserId,
        key_id: &KeyId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<RevokeOutcome, StoreError>;

    /// Revokes every key of the user that is not revoked yet (expired keys included), with
    /// `revoked_at = at` and `reason`, **atomically** (one statement or one transaction), and
    /// returns exactly the ids this call changed, in no particular order: the caller announces
    /// them to other instances, so a key revoked here but missing from the result would stay
    /// in their caches. A key created concurrently is either revoked and returned, or left
    /// active and not returned.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails; nothing is revoked then.
    async fn revoke_all(
        &self,
        user_id: &UserId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<Vec<KeyId>, StoreError>;

    /// Deletes at most `batch` rows revoked before `cutoff` (`revoked_at < cutoff`) or expired
    /// before it (`expires_at < cutoff`), whoever owns them, and returns how many it deleted.
    /// One short statement, so no lock is held for long; the caller loops until fewer than
    /// `batch` rows are deleted. A `batch` of 0 deletes nothing.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> Result<u64, StoreError>;

    /// How many **active** keys (neither revoked nor expired at `now`) each hash version holds,
    /// ascending by version, versions without active keys left out: once a previous pepper's
    /// version is gone from the list, that pepper can be retired.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    async fn hash_version_counts(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(HashVersion, u64)>, StoreError>;

    /// Rotates a key (contract §4), **atomically** (one transaction): changes the old key's
    /// row to `retired` and stores `new`, or does neither. `current` is the old row as the
    /// service read it; the change applies only if the row still belongs to
    /// `current.user_id`, is not revoked, not replaced, not expired at `now`, and still has
    /// `current.scopes` and `current.expires_at` (so two concurrent rotations of one key never
    /// both succeed, a rotation never follows a revocation, and a rotation racing a narrowing
    /// update never gives the new key the scopes the update took away: the service reads the
    /// row again and copies what it holds then). From `retired` the store writes `revoked_at`,
    /// `revocation_reason`, `expires_at` and `replaced_by`; `new` is inserted whole. `new` is
    /// not counted against the per-user limit: it takes the place of the old key, which stops
    /// counting.
    ///
    /// **The grace-period cap**: when `retired` is not revoked (a rotation with a grace
    /// period, which leaves the old key working), the user may hold at most `max_in_grace`
    /// keys in a grace period at once ([`KeyRecord::is_in_grace_period`] at `now`, the old key
    /// not included): with that many already, nothing is changed and the outcome is
    /// [`RotateOutcome::GraceLimitReached`]. The count and the change are one atomic step, as
    /// in [`KeyStore::insert_within_limit`], so concurrent rotations of a user's keys never
    /// leave more than `max_in_grace` keys in a grace period. A rotation whose `retired` is
    /// revoked (grace 0) is never refused for the cap.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails; nothing is changed then. A row that no
    /// longer matches is [`RotateOutcome::Stale`] (checked before the cap), a full grace
    /// period [`RotateOutcome::GraceLimitReached`] and a duplicate new id
    /// [`RotateOutcome::DuplicateKeyId`], not errors.
    async fn rotate(
        &self,
        current: &KeyRecord,
        retired: &KeyRecord,
        new: &KeyRecord,
        max_in_grace: u32,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome, StoreError>;

    /// Changes a key's `name`, `scopes` and `expires_at` to those of `updated`, in one
    /// conditional update, and says whether a row changed. `current` is the row as the service
    /// read it; the update applies only if the row still belongs to `current.user_id`, is not
    /// revoked, not expired at `now`, and still has `current.scopes` and
    /// `current.expires_at` (so scopes only ever narrow and the expiry only moves earlier,
    /// also under concurrent updates).
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    async fn update(
        &self,
        current: &KeyRecord,
        updated: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// One page of a user's keys, newest first (by `created_at`, then key id, descending),
    /// starting after the key at `after` (its `created_at` and key id), at most `limit` keys.
    /// Keyset pagination: the position is a condition on the ordered columns, never an
    /// offset, so keys created or deleted meanwhile never shift a page.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    async fn list_page(
        &self,
        user_id: &UserId,
        after: Option<(OffsetDateTime, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError>;

    /// Claims, **atomically**, every key of every user that is neither revoked nor replaced,
    /// expires after `now` and at or before `until`, and was never claimed: sets
    /// `expiry_notified_at = now` on them and returns them (with that value). A key is claimed
    /// once ever: two concurrent calls never both return it.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails; nothing is claimed then.
    async fn claim_expiring(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<KeyRecord>, StoreError>;

    /// Sets `last_used_at = at` only where it is null or older than `cutoff`, in one
    /// conditional update, and says whether a row changed. Several app instances together
    /// therefore write at most once per key per window.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    async fn touch(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
        cutoff: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Replaces the stored hash only if it is still `old` (pepper rotation), and says
    /// whether a row changed.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    async fn replace_hash(
        &self,
        key_id: &KeyId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<bool, StoreError>;
}
