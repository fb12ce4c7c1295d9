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
    /// The key that replaced this one, if it was rotated.
    pub replaced_by: Option<KeyId>,
}

impl KeyRecord {
    /// A record of a key that was never used, revoked or replaced and never expires: set
    /// [`expires_at`](KeyRecord::expires_at), [`last_used_at`](KeyRecord::last_used_at),
    /// [`revoked_at`](KeyRecord::revoked_at), [`revocation_reason`](KeyRecord::revocation_reason)
    /// and [`replaced_by`](KeyRecord::replaced_by) afterwards (a store decoding a row does).
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
        }
    }

    /// Whether the key counts against the per-user limit at `now`: neither revoked nor expired.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && !self.is_expired(now)
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
    /// Stores `record` if its user has fewer than `max_active` active keys at `now` (neither
    /// revoked nor expired), **atomically**: concurrent calls for one user never leave more
    /// than `max_active` active keys.
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
