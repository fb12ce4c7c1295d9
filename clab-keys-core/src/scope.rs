//! Scopes a key is limited to. A key created without scopes may do whatever its user may do
//! with an API key (everything except managing keys); a key created with scopes may only do
//! what they name. JWT sessions are unrestricted unless the app's verifier says otherwise.

use std::fmt;

/// A validated, de-duplicated list of scope names such as `projects:read`.
///
/// Each scope is 1–64 characters of `A-Z a-z 0-9 : . _ -`; at most 32 scopes.
///
/// Cloning is cheap and never allocates (the names are shared), which keeps a cached
/// verification free of allocations.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Scopes(std::sync::Arc<[Box<str>]>);

/// A scope list was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("scopes must be at most 32 names of 1-64 characters from A-Z a-z 0-9 : . _ -")]
pub struct InvalidScopes;

impl Scopes {
    /// Longest scope name.
    pub const MAX_SCOPE_LEN: usize = 64;
    /// Most scopes on one key.
    pub const MAX_SCOPES: usize = 32;

    /// Validates a list of scope names, keeping the first occurrence of each.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::Scopes;
    /// let s = Scopes::new(["projects:read", "projects:read", "runs:write"]).unwrap();
    /// assert_eq!(s.to_string(), "projects:read runs:write");
    /// assert!(Scopes::new(["has space"]).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`InvalidScopes`] when a name or the list breaks the rules above.
    pub fn new<I, S>(scopes: I) -> Result<Self, InvalidScopes>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out: Vec<Box<str>> = Vec::new();
        for s in scopes {
            let s = s.as_ref();
            let valid = !s.is_empty()
                && s.len() <= Self::MAX_SCOPE_LEN
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-'));
            if !valid {
                return Err(InvalidScopes);
            }
            if !out.iter().any(|o| &**o == s) {
                if out.len() == Self::MAX_SCOPES {
                    return Err(InvalidScopes);
                }
                out.push(s.into());
            }
        }
        Ok(if out.is_empty() {
            Self::default()
        } else {
            Self(out.into())
        })
    }

    /// Parses the stored, space-separated form.
    ///
    /// # Errors
    ///
    /// Returns [`InvalidScopes`] when the stored text is not a valid scope list.
    pub fn from_storage(stored: &str) -> Result<Self, InvalidScopes> {
        Self::new(stored.split(' ').filter(|s| !s.is_empty()))
    }

    /// Whether the list is empty (an unrestricted key).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the list names `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| &**s == scope)
    }

    /// The scope names in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|s| &**s)
    }
}

/// The space-separated form used for storage and in `WWW-Authenticate` `scope` parameters.
impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
