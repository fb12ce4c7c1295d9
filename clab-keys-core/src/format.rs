//! The token format (contract §2): `<prefix><key id><secret><checksum>`.
//!
//! ```text
//! clab_user_ 3fK9xQ2a 7Hq…(32 chars)… Xk29aB
//! └ prefix ┘ └ id  ┘  └── secret ───┘ └ crc ┘
//! ```
//!
//! The body after the prefix is base62 (`0-9A-Za-z`) only, so a double-click selects the whole
//! token and nothing inside the body can be mistaken for the prefix. The key id is public and is
//! the database lookup key; the secret carries 32 base62 characters (≈190.5 bits) from the
//! operating system's CSPRNG; the checksum is the CRC32 (IEEE) of everything before it, written
//! as six base62 digits, so a typo or a truncated copy is rejected without touching the store
//! and secret scanners can validate a token offline.

use std::fmt;

use crate::entropy::{Entropy, EntropyError};
use crate::error::ConfigError;
use crate::secret::ApiKey;

/// The base62 alphabet, in ASCII order.
pub(crate) const BASE62: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The prefix used when none is configured.
pub(crate) const DEFAULT_PREFIX: &str = "clab_user_";
/// Number of base62 characters in the public key id.
pub(crate) const KEY_ID_LEN: usize = 8;
/// Number of base62 characters in the secret (32 × log2(62) ≈ 190.5 bits).
pub(crate) const SECRET_LEN: usize = 32;
/// Number of base62 characters in the checksum (62^6 > 2^32, so any CRC32 fits).
pub(crate) const CHECKSUM_LEN: usize = 6;
/// Length of the body after the prefix.
pub(crate) const BODY_LEN: usize = KEY_ID_LEN + SECRET_LEN + CHECKSUM_LEN;
/// Longest prefix accepted, in bytes.
pub(crate) const MAX_PREFIX_LEN: usize = 32;
/// No token of any configurable format is longer than this; longer input is rejected at once.
pub(crate) const MAX_TOKEN_LEN: usize = MAX_PREFIX_LEN + BODY_LEN;

/// Bits of entropy in a secret, rounded down.
pub(crate) const SECRET_ENTROPY_BITS: u32 = 190;

/// A validated token prefix such as `clab_user_`.
///
/// A prefix is 2 to 32 bytes of lowercase ASCII letters, digits and `_`, starts with a letter
/// and ends with `_`.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::KeyPrefix;
/// assert!(KeyPrefix::new("clab_agent_").is_ok());
/// assert!(KeyPrefix::new("Clab-").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyPrefix(Box<str>);

impl KeyPrefix {
    /// Validates and wraps a prefix.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::InvalidPrefix`] when the prefix breaks the rules above.
    pub fn new(prefix: &str) -> Result<Self, ConfigError> {
        let b = prefix.as_bytes();
        let ok = (2..=MAX_PREFIX_LEN).contains(&b.len())
            && b[0].is_ascii_lowercase()
            && b[b.len() - 1] == b'_'
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
        if ok {
            Ok(Self(prefix.into()))
        } else {
            Err(ConfigError::InvalidPrefix)
        }
    }

    /// The prefix as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for KeyPrefix {
    fn default() -> Self {
        Self(DEFAULT_PREFIX.into())
    }
}

impl fmt::Debug for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KeyPrefix").field(&&*self.0).finish()
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The public id of a key: the first [`TokenFormat::KEY_ID_LEN`] base62 characters of the token body.
///
/// It is not secret: it is the database lookup key, appears in lists (as part of the display
/// prefix), in URLs (`DELETE /api/user/api-keys/{id}`) and in logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    /// Parses a key id from its text form.
    ///
    /// # Errors
    ///
    /// Returns [`ParseError`] unless the input is exactly [`TokenFormat::KEY_ID_LEN`] base62 characters.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let b = s.as_bytes();
        if b.len() != KEY_ID_LEN {
            return Err(ParseError::WrongLength);
        }
        if !b.iter().all(u8::is_ascii_alphanumeric) {
            return Err(ParseError::InvalidCharacter);
        }
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(b);
        Ok(Self(id))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII alphanumerics by construction; the fallback is unreachable.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KeyId").field(&self.as_str()).finish()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for KeyId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why a token was rejected by the parser. Never contains any part of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The token does not start with any configured prefix.
    #[error("token does not start with a known prefix")]
    UnknownPrefix,
    /// The token has the wrong length for its format.
    #[error("token has the wrong length")]
    WrongLength,
    /// The token body contains a character outside base62.
    #[error("token contains a character outside base62")]
    InvalidCharacter,
    /// The checksum does not match the rest of the token.
    #[error("token checksum does not match")]
    ChecksumMismatch,
}

/// One token format: a prefix and the fixed body layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFormat {
    prefix: KeyPrefix,
}

impl TokenFormat {
    /// The prefix used when none is configured.
    pub const DEFAULT_PREFIX: &'static str = DEFAULT_PREFIX;
    /// Number of base62 characters in the public key id.
    pub const KEY_ID_LEN: usize = KEY_ID_LEN;
    /// Number of base62 characters in the secret (32 × log2(62) ≈ 190.5 bits).
    pub const SECRET_LEN: usize = SECRET_LEN;
    /// Bits of entropy in a secret, rounded down.
    pub const SECRET_ENTROPY_BITS: u32 = SECRET_ENTROPY_BITS;
    /// Number of base62 characters in the checksum (62^6 > 2^32, so any CRC32 fits).
    pub const CHECKSUM_LEN: usize = CHECKSUM_LEN;
    /// Length of the body after the prefix: key id, secret and checksum.
    pub const BODY_LEN: usize = BODY_LEN;
    /// Longest prefix accepted, in bytes.
    pub const MAX_PREFIX_LEN: usize = MAX_PREFIX_LEN;

    /// The checksum that ends a token, over everything before it: the CRC32 (IEEE) written as
    /// [`TokenFormat::CHECKSUM_LEN`] base62 digits. Published so that secret scanners can
    /// validate a token offline.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::{KeyFormats, TokenFormat};
    /// let token = "clab_user_zzzzzzzzQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
    /// let sum = TokenFormat::checksum(token.as_bytes());
    /// let whole = format!("{token}{}", std::str::from_utf8(&sum).unwrap());
    /// assert!(KeyFormats::default().parse(whole.as_bytes()).is_ok());
    /// ```
    pub fn checksum(signed: &[u8]) -> [u8; CHECKSUM_LEN] {
        checksum(signed)
    }
    /// No token of any configurable format is longer than this; longer input is rejected at
    /// once.
    pub const MAX_TOKEN_LEN: usize = MAX_TOKEN_LEN;

    /// A format with the given prefix.
    pub fn new(prefix: KeyPrefix) -> Self {
        Self { prefix }
    }

    /// The prefix of this format.
    pub fn prefix(&self) -> &KeyPrefix {
        &self.prefix
    }

    /// Total length of a token of this format, in bytes.
    pub fn token_len(&self) -> usize {
        self.prefix.0.len() + BODY_LEN
    }

    /// The regular expression that matches a whole token of this format (anchored).
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::TokenFormat;
    /// assert_eq!(TokenFormat::default().regex(), "^clab_user_[0-9A-Za-z]{46}$");
    /// ```
    pub fn regex(&self) -> String {
        format!("^{}[0-9A-Za-z]{{{BODY_LEN}}}$", self.prefix)
    }

    /// The regular expression for finding tokens inside other text (logs, `.env` files, JSON),
    /// with non-alphanumeric boundaries and no look-around (RE2 and Hyperscan compatible).
    /// Capture group 1 is the token.
    pub fn scan_regex(&self) -> String {
        format!(
            "(?:\\A|[^0-9A-Za-z_])({}[0-9A-Za-z]{{{BODY_LEN}}})(?:\\z|[^0-9A-Za-z_])",
            self.prefix
        )
    }

    /// Generates a new token from the given entropy source.
    ///
    /// Characters are drawn by rejection sampling (bytes ≥ 248 are discarded), so every base62
    /// character is equally likely.
    ///
    /// # Errors
    ///
    /// Returns [`EntropyError`] when the entropy source fails.
    pub fn generate(&self, entropy: &dyn Entropy) -> Result<(KeyId, ApiKey), EntropyError> {
        let mut id = [0u8; KEY_ID_LEN];
        fill_base62(entropy, &mut id)?;
        let mut token = String::with_capacity(self.token_len());
        token.push_str(&self.prefix.0);
        token.extend(id.iter().map(|&c| char::from(c)));
        let mut secret = zeroize::Zeroizing::new([0u8; SECRET_LEN]);
        fill_base62(entropy, &mut secret[..])?;
        token.extend(secret.iter().map(|&c| char::from(c)));
        let crc = checksum(token.as_bytes());
        token.extend(crc.iter().map(|&c| char::from(c)));
        debug_assert_eq!(token.len(), token.capacity());
        Ok((KeyId(id), ApiKey::from_string(token)))
    }

    /// Parses a token of this format. See [`KeyFormats::parse`].
    ///
    /// # Errors
    ///
    /// Returns [`ParseError`] for any input that is not a well-formed token of this format.
    pub fn parse<'a>(&self, token: &'a [u8]) -> Result<ParsedToken<'a>, ParseError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(ParseError::WrongLength);
        }
        let body = token
            .strip_prefix(self.prefix.0.as_bytes())
            .ok_or(ParseError::UnknownPrefix)?;
        if body.len() != BODY_LEN {
            return Err(ParseError::WrongLength);
        }
        if !body.iter().all(u8::is_ascii_alphanumeric) {
            return Err(ParseError::InvalidCharacter);
        }
        let (signed, sum) = token.split_at(token.len() - CHECKSUM_LEN);
        if checksum(signed) != sum {
            return Err(ParseError::ChecksumMismatch);
        }
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&body[..KEY_ID_LEN]);
        Ok(ParsedToken {
            key_id: KeyId(id),
            token,
        })
    }
}

impl Default for TokenFormat {
    fn default() -> Self {
        Self::new(KeyPrefix::default())
    }
}

/// The set of token formats an application accepts (for example `clab_user_` and
/// `clab_agent_`). No prefix may be a prefix of another, so every token belongs to at most one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFormats {
    formats: Vec<TokenFormat>,
}

impl KeyFormats {
    /// A set of formats; the first one is the one new keys are issued in.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::NoFormats`] for an empty list and
    /// [`ConfigError::OverlappingPrefixes`] when one prefix starts another.
    pub fn new(formats: Vec<TokenFormat>) -> Result<Self, ConfigError> {
        if formats.is_empty() {
            return Err(ConfigError::NoFormats);
        }
        for (i, a) in formats.iter().enumerate() {
            for b in &formats[i + 1..] {
                if a.prefix.0.starts_with(&*b.prefix.0) || b.prefix.0.starts_with(&*a.prefix.0) {
                    return Err(ConfigError::OverlappingPrefixes);
                }
            }
        }
        Ok(Self { formats })
    }

    /// The format new keys are issued in.
    pub fn primary(&self) -> &TokenFormat {
        &self.formats[0]
    }

    /// All configured formats.
    pub fn iter(&self) -> impl Iterator<Item = &TokenFormat> {
        self.formats.iter()
    }

    /// Whether the token starts with one of the configured prefixes. This is how the
    /// credential router decides that a bearer token is an API key and not a JWT.
    pub fn claims(&self, token: &[u8]) -> bool {
        self.formats
            .iter()
            .any(|f| token.starts_with(f.prefix.0.as_bytes()))
    }

    /// Parses a token of any configured format.
    ///
    /// Parsing is total: it never panics, never allocates, and rejects input longer than
    /// [`TokenFormat::MAX_TOKEN_LEN`] before looking at it.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::{KeyFormats, ParseError};
    /// let formats = KeyFormats::default();
    /// assert_eq!(formats.parse(b"clab_user_short").unwrap_err(), ParseError::WrongLength);
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`ParseError`] for any input that is not a well-formed token.
    pub fn parse<'a>(&self, token: &'a [u8]) -> Result<ParsedToken<'a>, ParseError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(ParseError::WrongLength);
        }
        let format = self
            .formats
            .iter()
            .find(|f| token.starts_with(f.prefix.0.as_bytes()))
            .ok_or(ParseError::UnknownPrefix)?;
        format.parse(token)
    }
}

impl Default for KeyFormats {
    fn default() -> Self {
        Self {
            formats: vec![TokenFormat::default()],
        }
    }
}

/// A token that passed the format and checksum checks. Borrows the input.
#[derive(Clone, Copy)]
pub struct ParsedToken<'a> {
    key_id: KeyId,
    token: &'a [u8],
}

impl<'a> ParsedToken<'a> {
    /// The public key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The whole token, which is what gets hashed.
    pub fn expose_token(&self) -> &'a [u8] {
        self.token
    }
}

impl fmt::Debug for ParsedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedToken")
            .field("key_id", &self.key_id)
            .field("token", &"[REDACTED]")
            .finish()
    }
}

/// Fills `out` with uniformly distributed base62 characters by rejection sampling.
fn fill_base62(entropy: &dyn Entropy, out: &mut [u8]) -> Result<(), EntropyError> {
    let mut pool = zeroize::Zeroizing::new([0u8; 64]);
    let mut filled = 0;
    // 248 = 4 × 62: accepting only bytes below it keeps `b % 62` unbiased. Each byte is kept
    // with probability 248/256, so one pool almost always suffices; the bound stops a broken
    // source (all 0xff) from looping for ever.
    for _ in 0..64 {
        entropy.fill(&mut pool[..])?;
        for &b in pool.iter() {
            if b < 248 {
                out[filled] = BASE62[usize::from(b % 62)];
                filled += 1;
                if filled == out.len() {
                    return Ok(());
                }
            }
        }
    }
    Err(EntropyError::Exhausted)
}

/// CRC32 (IEEE) of `data` as six base62 digits, most significant first, zero-padded.
pub(crate) fn checksum(data: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut n = crc32fast::hash(data);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// A hasher for maps keyed by [`KeyId`]: key ids are uniformly random base62, so their bytes
/// already are a good hash. Only keys of real, stored API keys are ever inserted into such
/// maps (lookups of attacker-chosen ids insert nothing), so there is no flooding concern.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyIdHasher(u64);

impl std::hash::Hasher for KeyIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
}

/// `BuildHasher` for [`KeyIdHasher`].
pub(crate) type KeyIdMap<V> =
    std::collections::HashMap<KeyId, V, std::hash::BuildHasherDefault<KeyIdHasher>>;
