//! Hashing of whole tokens (contract §3): HMAC-SHA256 keyed with a versioned pepper, or plain
//! SHA-256 when no pepper is configured. Digests are compared in constant time.

use std::fmt;

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::error::ConfigError;
use crate::secret::Pepper;

type HmacSha256 = Hmac<Sha256>;

/// Which algorithm and pepper made a stored hash: `0` is plain SHA-256, `n ≥ 1` is
/// HMAC-SHA256 with the pepper of version `n`. Stored next to the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HashVersion(u16);

impl HashVersion {
    /// Plain SHA-256 of the token, no pepper.
    pub const SHA256: Self = Self(0);

    /// The version of the given number, as stored.
    pub fn from_u16(n: u16) -> Self {
        Self(n)
    }

    /// The number stored in the database.
    pub fn as_u16(self) -> u16 {
        self.0
    }
}

/// A 32-byte token digest. Deliberately not `PartialEq`: compare with [`KeyDigest::ct_eq`].
#[derive(Clone, Copy)]
pub struct KeyDigest([u8; 32]);

impl KeyDigest {
    /// Wraps stored digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Wraps a stored digest given as a slice.
    ///
    /// # Errors
    ///
    /// Returns [`DigestLengthError`] unless the slice is 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DigestLengthError> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| DigestLengthError)
    }

    /// The digest bytes, for storage.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time equality: the time taken does not depend on where the digests differ.
    pub fn ct_eq(&self, other: &Self) -> bool {
        // Four 64-bit lanes compared with `subtle` and combined without branching: as constant
        // time as a byte-wise compare, at a fraction of the cost.
        let lanes = |d: &[u8; 32]| {
            let mut out = [0u64; 4];
            for (lane, chunk) in out.iter_mut().zip(d.chunks_exact(8)) {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                *lane = u64::from_le_bytes(b);
            }
            out
        };
        let (a, b) = (lanes(&self.0), lanes(&other.0));
        let eq = a[0].ct_eq(&b[0]) & a[1].ct_eq(&b[1]) & a[2].ct_eq(&b[2]) & a[3].ct_eq(&b[3]);
        eq.into()
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyDigest([REDACTED])")
    }
}

/// A stored digest was not 32 bytes long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stored key digest must be 32 bytes")]
pub struct DigestLengthError;

/// What is stored for a key: the digest of the whole token and the version that made it.
#[derive(Clone, Copy, Debug)]
pub struct StoredHash {
    /// Which algorithm and pepper produced [`StoredHash::digest`].
    pub version: HashVersion,
    /// The digest of the whole token.
    pub digest: KeyDigest,
}

/// The outcome of checking a token against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashCheck {
    /// The token matches; `rehash` is true when it was hashed with a pepper other than the
    /// current one and should be re-hashed.
    Match {
        /// Whether the stored hash should be replaced by one made with the current pepper.
        rehash: bool,
    },
    /// The token does not match.
    Mismatch,
    /// The stored hash was made by a pepper (or algorithm) this hasher does not know.
    UnknownVersion,
}

/// Hashes and verifies tokens.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{HashCheck, KeyHasher, Pepper};
/// let pepper = Pepper::from_bytes(&[7u8; 32]).unwrap();
/// let hasher = KeyHasher::hmac(1, pepper).unwrap();
/// let stored = hasher.hash(b"clab_user_example");
/// assert_eq!(hasher.check(b"clab_user_example", &stored), HashCheck::Match { rehash: false });
/// assert_eq!(hasher.check(b"clab_user_other", &stored), HashCheck::Mismatch);
/// ```
pub struct KeyHasher {
    current: HashVersion,
    /// HMAC states with the key schedule already done, cloned per call (cheaper than
    /// re-keying), by pepper version. The first entry is the current one when peppered.
    peppers: Vec<(HashVersion, HmacSha256)>,
    accept_sha256: bool,
}

impl KeyHasher {
    /// Plain SHA-256, no pepper: only through [`dangerous::sha256_hasher`](crate::dangerous::sha256_hasher).
    pub(crate) fn sha256() -> Self {
        Self {
            current: HashVersion::SHA256,
            peppers: Vec::new(),
            accept_sha256: true,
        }
    }

    /// HMAC-SHA256 keyed with `pepper`, recorded as version `version` (1–65535).
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::PepperVersion`] for version 0.
    pub fn hmac(version: u16, pepper: Pepper) -> Result<Self, ConfigError> {
        let mut hasher = Self {
            current: HashVersion(version),
            peppers: Vec::new(),
            accept_sha256: false,
        };
        hasher.add_pepper(version, &pepper)?;
        Ok(hasher)
    }

    /// Adds an older pepper: keys hashed with it still verify and are re-hashed with the
    /// current pepper on their next successful use.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::PepperVersion`] for version 0 or a version already present.
    pub fn with_previous(mut self, version: u16, pepper: Pepper) -> Result<Self, ConfigError> {
        self.add_pepper(version, &pepper)?;
        Ok(self)
    }

    /// Also accepts plain SHA-256 hashes: only through
    /// [`dangerous::accept_unpeppered_sha256`](crate::dangerous::accept_unpeppered_sha256).
    pub(crate) fn accept_unpeppered_sha256(mut self) -> Self {
        self.accept_sha256 = true;
        self
    }

    fn add_pepper(&mut self, version: u16, pepper: &Pepper) -> Result<(), ConfigError> {
        if version == 0 || self.peppers.iter().any(|(v, _)| v.0 == version) {
            return Err(ConfigError::PepperVersion);
        }
        let mac = HmacSha256::new_from_slice(pepper.expose_secret())
            .map_err(|_| ConfigError::PepperTooShort)?;
        self.peppers.push((HashVersion(version), mac));
        Ok(())
    }

    /// The version new hashes are made with.
    pub fn current_version(&self) -> HashVersion {
        self.current
    }

    /// Hashes a whole token with the current pepper (or SHA-256).
    pub fn hash(&self, token: &[u8]) -> StoredHash {
        StoredHash {
            version: self.current,
            digest: self
                .digest(self.current, token)
                .unwrap_or(KeyDigest([0; 32])),
        }
    }

    fn digest(&self, version: HashVersion, token: &[u8]) -> Option<KeyDigest> {
        if version == HashVersion::SHA256 {
            if !self.accept_sha256 {
                return None;
            }
            return Some(KeyDigest(Sha256::digest(token).into()));
        }
        let (_, mac) = self.peppers.iter().find(|(v, _)| *v == version)?;
        let mut mac = mac.clone();
        mac.update(token);
        Some(KeyDigest(mac.finalize().into_bytes().into()))
    }

    /// Checks a token against a stored hash in constant time.
    pub fn check(&self, token: &[u8], stored: &StoredHash) -> HashCheck {
        self.check_digest(token, &self.hash(token), stored)
    }

    /// Checks a token against a stored hash in constant time, given the token's hash under
    /// the current version (`current`, from [`KeyHasher::hash`]), which a caller that needs
    /// it anyway (as a cache key) computes once. The one place a match is decided.
    pub(crate) fn check_digest(
        &self,
        token: &[u8],
        current: &StoredHash,
        stored: &StoredHash,
    ) -> HashCheck {
        let digest = if stored.version == current.version {
            Some(current.digest)
        } else {
            self.digest(stored.version, token)
        };
        match digest {
            Some(d) if d.ct_eq(&stored.digest) => HashCheck::Match {
                rehash: stored.version != self.current,
            },
            Some(_) => HashCheck::Mismatch,
            None => {
                // Do the same work as a real check so an unknown version is not faster.
                compare_with_dummy(&current.digest);
                HashCheck::UnknownVersion
            }
        }
    }
}

/// Compares `digest` with a fixed dummy in constant time and discards the result: the compare
/// a verification does when there is nothing to compare with (an unknown key id, an unknown
/// hash version), so that it costs what a wrong secret costs.
pub(crate) fn compare_with_dummy(digest: &KeyDigest) {
    std::hint::black_box(digest.ct_eq(&KeyDigest([0x5a; 32])));
}

impl fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let versions: Vec<u16> = self.peppers.iter().map(|(v, _)| v.0).collect();
        f.debug_struct("KeyHasher")
            .field("current", &self.current)
            .field("pepper_versions", &versions)
            .field("accept_unpeppered_sha256", &self.accept_sha256)
            .finish()
    }
}
