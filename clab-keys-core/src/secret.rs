//! Secret-bearing types: the plaintext token and the pepper. Both redact `Debug`, implement
//! neither `Display` nor `Serialize`, zero their memory on drop, and are reachable only through
//! an explicit `expose_secret`.

use std::fmt;

use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretBox, SecretString};

use crate::error::ConfigError;

/// A plaintext API key, as returned once at creation.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{OsEntropy, TokenFormat};
/// let (_id, key) = TokenFormat::default().generate(&OsEntropy).unwrap();
/// assert!(key.expose_secret().starts_with("clab_user_"));
/// assert!(!format!("{key:?}").contains(key.expose_secret()));
/// ```
pub struct ApiKey(SecretString);

impl ApiKey {
    pub(crate) fn from_string(token: String) -> Self {
        Self(SecretString::from(token))
    }

    /// The plaintext token. Show it to its owner once; never log or store it.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([REDACTED])")
    }
}

/// A server-side secret mixed into every key hash (HMAC-SHA256 key), at least 32 bytes.
pub struct Pepper(SecretBox<[u8]>);

impl Pepper {
    /// Minimum pepper length in bytes (the HMAC-SHA256 output length, RFC 2104 §3).
    pub const MIN_LEN: usize = 32;

    /// Decodes a pepper from standard base64 (padding optional, surrounding white space
    /// ignored), as given in configuration.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::Pepper;
    /// assert!(Pepper::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_ok());
    /// assert!(Pepper::from_base64("c2hvcnQ=").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::PepperEncoding`] for invalid base64 and
    /// [`ConfigError::PepperTooShort`] for fewer than 32 bytes.
    pub fn from_base64(encoded: &str) -> Result<Self, ConfigError> {
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let bytes = zeroize::Zeroizing::new(
            engine
                .decode(encoded.trim())
                .map_err(|_| ConfigError::PepperEncoding)?,
        );
        Self::from_bytes(&bytes)
    }

    /// Wraps raw pepper bytes.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::PepperTooShort`] for fewer than 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(ConfigError::PepperTooShort);
        }
        Ok(Self(SecretBox::new(bytes.into())))
    }

    /// Generates a fresh random 32-byte pepper and returns it with its base64 form, for
    /// development set-ups that have none configured.
    ///
    /// # Errors
    ///
    /// Returns [`crate::entropy::EntropyError`] when the OS random source fails.
    pub fn generate() -> Result<(Self, SecretString), crate::entropy::EntropyError> {
        use crate::entropy::{Entropy as _, OsEntropy};
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        OsEntropy.fill(&mut bytes[..])?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes[..]);
        Ok((
            Self(SecretBox::new(bytes[..].into())),
            SecretString::from(encoded),
        ))
    }

    /// The raw pepper bytes.
    pub fn expose_secret(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper([REDACTED])")
    }
}
