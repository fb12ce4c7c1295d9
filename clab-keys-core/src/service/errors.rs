//! Errors of the key service. None of them carries any part of a token.

use crate::entropy::EntropyError;
use crate::format::ParseError;
use crate::store::StoreError;

/// Why a key could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// The name is empty, longer than 100 characters, has nothing visible, or contains an
    /// invisible or direction-changing character (contract §4).
    #[error(
        "name must be 1-100 characters, with a visible one and no control, invisible or direction-changing character"
    )]
    InvalidName,
    /// The expiry is not in the future, exceeds the maximum lifetime, or both an absolute
    /// and a relative expiry were given.
    #[error("expiry must be in the future and within the maximum lifetime")]
    InvalidExpiry,
    /// A scope name is invalid or there are too many.
    #[error("scopes must be at most 32 names of 1-64 characters from A-Z a-z 0-9 : . _ -")]
    InvalidScopes,
    /// The user already has the maximum number of active keys.
    #[error("the limit of {limit} active keys is reached")]
    LimitReached {
        /// The configured limit.
        limit: u32,
    },
    /// No unused key id was found after several attempts.
    #[error("could not find an unused key id")]
    KeyIdCollisions,
    /// The random source failed.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a key could not be revoked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevokeError {
    /// No such key belongs to the user (also for malformed ids and other users' keys).
    #[error("key not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a key could not be rotated ([`KeyService::rotate`](crate::KeyService::rotate)).
/// Nothing is changed on any error, except [`RotateError::Store`] after the rotation was
/// stored but could not be announced (see there).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotateError {
    /// No such key belongs to the user (also for malformed ids and other users' keys).
    #[error("key not found")]
    NotFound,
    /// The key is revoked, expired, or already replaced by an earlier rotation.
    #[error("the key is revoked, expired or already replaced")]
    Inactive,
    /// The grace period is negative, longer than
    /// [`MAX_ROTATION_GRACE`](crate::MAX_ROTATION_GRACE) or not a whole number of seconds.
    #[error("the grace period must be a whole number of seconds from 0 to 604800")]
    InvalidGrace,
    /// A rotation with a grace period, while the user already has `limit` keys in a grace
    /// period (replaced, neither revoked nor expired; `limit` is
    /// [`max_active_keys`](crate::KeyServiceConfig::max_active_keys)). Rotating with grace 0
    /// is never refused for it; nor is any rotation once a key in grace expires or is revoked.
    #[error("the limit of {limit} keys in a rotation grace period is reached")]
    GraceLimitReached {
        /// The configured limit.
        limit: u32,
    },
    /// No unused key id was found after several attempts.
    #[error("could not find an unused key id")]
    KeyIdCollisions,
    /// The random source failed.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// The store failed (nothing changed), or the rotation is stored but the old key could
    /// not be announced to other instances (the new key exists but its token is lost: revoke
    /// it from the list).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a key could not be updated ([`KeyService::update`](crate::KeyService::update)).
/// Nothing is changed on any error, except [`UpdateError::Store`] after the change was stored
/// but could not be announced (see there).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// No such key belongs to the user (also for malformed ids and other users' keys).
    #[error("key not found")]
    NotFound,
    /// The key is revoked or expired.
    #[error("the key is revoked or expired")]
    Inactive,
    /// The new name breaks the name rule of [`KeyService::create`](crate::KeyService::create).
    #[error(
        "name must be 1-100 characters, with a visible one and no control, invisible or direction-changing character"
    )]
    InvalidName,
    /// The new scopes are invalid, empty, or not a subset of a scoped key's own.
    #[error("scopes must be a non-empty list of valid names that narrows the key's scopes")]
    InvalidScopes,
    /// The new expiry is not in the future, is later than the key's current expiry, or is
    /// beyond the maximum lifetime.
    #[error("expiry must be in the future and no later than the key's current expiry")]
    InvalidExpiry,
    /// The store failed (nothing changed), or the change is stored but could not be announced
    /// to other instances (calling again with the same change announces it).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a presented API key was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token is not well formed (or its checksum is wrong); the store was not consulted.
    #[error("api key is malformed")]
    Malformed(#[source] ParseError),
    /// The token is well formed but not valid. The outward error is the same whatever the
    /// reason; the reason is for logs only.
    #[error("api key is not valid")]
    Invalid(InvalidReason),
    /// The store failed, so the key could be neither accepted nor rejected (fail closed).
    #[error("api key could not be checked")]
    Unavailable(#[source] StoreError),
}

/// Internal reason for an invalid key, for audit logs. Never sent to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidReason {
    /// No key has this id.
    Unknown,
    /// The secret does not match.
    Mismatch,
    /// The key is revoked.
    Revoked,
    /// The key has expired.
    Expired,
    /// The stored hash was made with a pepper that is no longer configured.
    UnknownHashVersion,
    /// The application's owner check says the key's owner may no longer use it (a disabled
    /// or deleted account).
    OwnerInactive,
}

impl InvalidReason {
    /// A short machine-readable name (`unknown`, `mismatch`, `revoked`, `expired`,
    /// `unknown_hash_version`, `owner_inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Mismatch => "mismatch",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::UnknownHashVersion => "unknown_hash_version",
            Self::OwnerInactive => "owner_inactive",
        }
    }
}
