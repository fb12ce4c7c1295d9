//! Service configuration and the validation of new keys.

use time::{Duration, OffsetDateTime};

use super::cache::CacheConfig;
use super::errors::CreateError;
use crate::error::ConfigError;

/// Limits and windows of the key service.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::KeyServiceConfig;
/// let config = KeyServiceConfig::default()
///     .max_active_keys(5)
///     .max_lifetime(Some(time::Duration::days(90)));
/// assert_eq!(config.max_active_keys, 5);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyServiceConfig {
    /// Most active (not revoked, not expired) keys per user. Default 10.
    pub max_active_keys: u32,
    /// Longest lifetime a key may be created with. `None` (the default) allows keys that
    /// never expire. When set, a key created without an expiry gets this lifetime.
    pub max_lifetime: Option<Duration>,
    /// `last_used_at` is written at most once per key per window. Default 60 seconds.
    pub last_used_window: Duration,
    /// The verification cache; `None` (the default) consults the store on every request.
    /// See [`CacheConfig`] for the revocation window it implies across processes.
    pub cache: Option<CacheConfig>,
}

impl Default for KeyServiceConfig {
    fn default() -> Self {
        Self {
            max_active_keys: 10,
            max_lifetime: None,
            last_used_window: Duration::seconds(60),
            cache: None,
        }
    }
}

impl KeyServiceConfig {
    /// Sets [`KeyServiceConfig::max_active_keys`].
    pub fn max_active_keys(mut self, n: u32) -> Self {
        self.max_active_keys = n;
        self
    }

    /// Sets [`KeyServiceConfig::max_lifetime`].
    pub fn max_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.max_lifetime = lifetime;
        self
    }

    /// Sets [`KeyServiceConfig::last_used_window`].
    pub fn last_used_window(mut self, window: Duration) -> Self {
        self.last_used_window = window;
        self
    }

    /// Sets [`KeyServiceConfig::cache`].
    pub fn cache(mut self, cache: Option<CacheConfig>) -> Self {
        self.cache = cache;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_active_keys == 0 {
            return Err(ConfigError::InvalidLimit(
                "max_active_keys must be at least 1",
            ));
        }
        if self.max_lifetime.is_some_and(|l| l <= Duration::ZERO) {
            return Err(ConfigError::InvalidLimit("max_lifetime must be positive"));
        }
        if self.cache.is_some_and(|c| c.ttl <= Duration::ZERO) {
            return Err(ConfigError::InvalidLimit("cache ttl must be positive"));
        }
        if self.last_used_window < Duration::ZERO {
            return Err(ConfigError::InvalidLimit(
                "last_used_window must not be negative",
            ));
        }
        Ok(())
    }

    pub(crate) fn resolve_expiry(
        &self,
        new: &NewKey,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, CreateError> {
        let requested = match (new.expires_at, new.expires_in) {
            (Some(_), Some(_)) => return Err(CreateError::InvalidExpiry),
            (Some(at), None) => Some(at),
            (None, Some(d)) => Some(now.checked_add(d).ok_or(CreateError::InvalidExpiry)?),
            (None, None) => None,
        };
        match (requested, self.max_lifetime) {
            (Some(at), _) if at <= now => Err(CreateError::InvalidExpiry),
            (Some(at), Some(max)) if at - now > max => Err(CreateError::InvalidExpiry),
            (Some(at), _) => Ok(Some(crate::clock::truncate_to_micros(at))),
            (None, Some(max)) => Ok(Some(now + max)),
            (None, None) => Ok(None),
        }
    }
}

/// Longest key name, in characters, after trimming and normalisation.
const MAX_NAME_CHARS: usize = 100;

/// Checks and normalises a key name (contract §4): trimmed, NFC-normalised, 1–100 characters,
/// at least one visible character (a letter, digit, punctuation or symbol), and none that is
/// invisible or changes how the text around it is displayed: controls (Cc), format characters
/// (Cf, such as U+202E RIGHT-TO-LEFT OVERRIDE and the zero-width characters), line and
/// paragraph separators (Zl, Zp), private-use, surrogate and unassigned code points. A name
/// shown in a list can therefore not pretend to be another.
pub(crate) fn validate_name(name: &str) -> Result<String, CreateError> {
    use unicode_normalization::UnicodeNormalization;
    use unicode_properties::UnicodeGeneralCategory;
    use unicode_properties::{GeneralCategory as G, GeneralCategoryGroup as Group};

    let name: String = name.trim().nfc().collect();
    let mut chars = 0_usize;
    let mut visible = false;
    for c in name.chars() {
        chars += 1;
        match c.general_category() {
            G::Control
            | G::Format
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::PrivateUse
            | G::Surrogate
            | G::Unassigned => return Err(CreateError::InvalidName),
            _ => {}
        }
        visible |= matches!(
            c.general_category_group(),
            Group::Letter | Group::Number | Group::Punctuation | Group::Symbol
        );
    }
    if chars == 0 || chars > MAX_NAME_CHARS || !visible {
        return Err(CreateError::InvalidName);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn names_are_trimmed_and_nfc_normalised() {
        assert_eq!(validate_name("  CI runner ").unwrap(), "CI runner");
        // "e" + COMBINING ACUTE ACCENT becomes U+00E9.
        assert_eq!(validate_name("cafe\u{301}").unwrap(), "caf\u{e9}");
        assert_eq!(validate_name("Schlüssel 🔑").unwrap(), "Schlüssel 🔑");
        assert_eq!(validate_name("鍵").unwrap(), "鍵");
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused() {
        for bad in [
            "",
            "   ",
            "evil\u{202e}gpj.exe", // RIGHT-TO-LEFT OVERRIDE (Cf)
            "a\u{200b}b",          // ZERO WIDTH SPACE (Cf)
            "a\u{200d}b",          // ZERO WIDTH JOINER (Cf)
            "a\u{2066}b",          // LEFT-TO-RIGHT ISOLATE (Cf)
            "\u{feff}key",         // BYTE ORDER MARK (Cf)
            "line\u{2028}break",   // LINE SEPARATOR (Zl)
            "para\u{2029}graph",   // PARAGRAPH SEPARATOR (Zp)
            "tab\there",           // control (Cc)
            "nul\u{0}",            // control (Cc)
            "\u{e000}private",     // private use (Co)
            "\u{301}\u{301}",      // combining marks only: nothing visible
            "\u{3000}\u{a0}",      // only spaces
        ] {
            assert!(validate_name(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn the_length_counts_characters_after_normalisation() {
        assert!(validate_name(&"é".repeat(100)).is_ok());
        assert!(
            validate_name(&"e\u{301}".repeat(100)).is_ok(),
            "100 after NFC"
        );
        assert!(validate_name(&"é".repeat(101)).is_err());
    }
}

/// What to create: a name, an optional expiry, optional scopes.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::NewKey;
/// let new = NewKey::new("CI runner")
///     .expires_in(time::Duration::days(30))
///     .scopes(["projects:read"]);
/// # let _ = new;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewKey {
    /// The name: trimmed and NFC-normalised, 1–100 characters, at least one visible, none
    /// invisible or direction-changing (contract §4).
    pub name: String,
    /// An absolute expiry; must be in the future.
    pub expires_at: Option<OffsetDateTime>,
    /// A lifetime from now; give this or `expires_at`, not both.
    pub expires_in: Option<Duration>,
    /// Scopes to limit the key to; empty means unrestricted.
    pub scopes: Vec<String>,
}

impl NewKey {
    /// A key with this name, no expiry and no scopes.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            expires_at: None,
            expires_in: None,
            scopes: Vec::new(),
        }
    }

    /// Expires at an absolute time.
    pub fn expires_at(mut self, at: OffsetDateTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Expires after `lifetime` from creation.
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.expires_in = Some(lifetime);
        self
    }

    /// Limits the key to these scopes.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}
