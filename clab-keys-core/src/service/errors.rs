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
