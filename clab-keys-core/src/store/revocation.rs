//! Why a key was revoked (contract §4): recorded with `revoked_at` and shown in the list.

use std::fmt;

/// Why a key was taken out of use. Stored next to `revoked_at` as its [`as_str`] name; a key
/// revoked before reasons were recorded has none.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::RevocationReason;
/// assert_eq!(RevocationReason::Leaked.as_str(), "leaked");
/// assert_eq!(RevocationReason::parse("rotated"), Some(RevocationReason::Rotated));
/// assert_eq!(RevocationReason::parse("Rotated"), None);
/// ```
///
/// [`as_str`]: RevocationReason::as_str
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationReason {
    /// The owner revoked the key (`DELETE` on the management endpoint).
    User,
    /// The key was replaced by a new one.
    Rotated,
    /// The key was found exposed (a secret-scanning report).
    Leaked,
    /// The owner's account was disabled or deleted.
    Owner,
    /// An operator revoked the key.
    Admin,
}

impl RevocationReason {
    /// Every reason, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::User,
        Self::Rotated,
        Self::Leaked,
        Self::Owner,
        Self::Admin,
    ];

    /// The stored and displayed name: `user`, `rotated`, `leaked`, `owner` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Rotated => "rotated",
            Self::Leaked => "leaked",
            Self::Owner => "owner",
            Self::Admin => "admin",
        }
    }

    /// The reason named exactly (lowercase) by `name`, or `None` for any other text. Total:
    /// it never fails otherwise and never allocates.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_parses_back_from_its_name() {
        for reason in RevocationReason::ALL {
            assert_eq!(RevocationReason::parse(reason.as_str()), Some(reason));
            assert_eq!(reason.to_string(), reason.as_str());
        }
    }

    #[test]
    fn other_text_is_no_reason() {
        for text in ["", "USER", " user", "user ", "revoked", "admin\0", "ü"] {
            assert_eq!(RevocationReason::parse(text), None, "{text:?}");
        }
    }
}
