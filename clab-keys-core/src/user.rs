//! User ids. Applications use `i64`, UUID or string ids; all are carried as their canonical
//! text form, so one store column (`VARCHAR(255)`) and one type serve every application.

use std::fmt;
use std::str::FromStr;

/// The id of the user a key belongs to, in its canonical text form.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::UserId;
/// let id = UserId::from(42_i64);
/// assert_eq!(id.as_str(), "42");
/// assert_eq!(id.parse::<i64>().ok(), Some(42));
/// assert!(UserId::new("").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(std::sync::Arc<str>);

/// A user id was empty, longer than 255 bytes, or contained control characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("user id must be 1-255 bytes without control characters")]
pub struct InvalidUserId;

impl UserId {
    /// Longest user id accepted, in bytes.
    pub const MAX_LEN: usize = 255;

    /// Validates a string user id.
    ///
    /// # Errors
    ///
    /// Returns [`InvalidUserId`] for an empty id, one over 255 bytes, or one with control
    /// characters.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidUserId> {
        let id: String = id.into();
        if id.is_empty() || id.len() > Self::MAX_LEN || id.chars().any(char::is_control) {
            return Err(InvalidUserId);
        }
        Ok(Self(id.into()))
    }

    /// The canonical text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses the id back into the application's type (`i64`, `uuid::Uuid`, …).
    ///
    /// # Errors
    ///
    /// Returns the target type's parse error.
    pub fn parse<T: FromStr>(&self) -> Result<T, T::Err> {
        self.0.parse()
    }
}

impl From<i64> for UserId {
    fn from(id: i64) -> Self {
        Self(id.to_string().into())
    }
}

#[cfg(feature = "uuid")]
#[cfg_attr(docsrs, doc(cfg(feature = "uuid")))]
impl From<uuid::Uuid> for UserId {
    /// Uses the lowercase hyphenated form, so the same UUID always maps to the same id.
    fn from(id: uuid::Uuid) -> Self {
        Self(id.hyphenated().to_string().into())
    }
}

impl TryFrom<&str> for UserId {
    type Error = InvalidUserId;
    fn try_from(id: &str) -> Result<Self, Self::Error> {
        Self::new(id)
    }
}

impl TryFrom<String> for UserId {
    type Error = InvalidUserId;
    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::new(id)
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UserId").field(&&*self.0).finish()
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
