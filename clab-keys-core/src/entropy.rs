//! Where random bytes come from. The default is the operating system's CSPRNG; tests may inject
//! a scripted source (see `testing::ScriptedEntropy`) to force id collisions.

use std::fmt;

/// What the random bytes are for, so a test source can script one and not the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntropyPurpose {
    /// The public key id.
    KeyId,
    /// The secret part of the token.
    Secret,
}

/// The entropy source failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntropyError {
    /// The operating system's random source reported an error.
    #[error("the operating system random source failed")]
    Os(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The source kept producing bytes that rejection sampling discards.
    #[error("the random source produced no usable bytes")]
    Exhausted,
}

/// A source of random bytes for key ids and secrets.
pub trait Entropy: fmt::Debug + Send + Sync + 'static {
    /// Fills `dest` with random bytes.
    ///
    /// # Errors
    ///
    /// Returns [`EntropyError`] when no random bytes can be had; key creation then fails.
    fn fill(&self, purpose: EntropyPurpose, dest: &mut [u8]) -> Result<(), EntropyError>;
}

/// The operating system's CSPRNG (`getrandom`, through `rand::rngs::SysRng`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, _purpose: EntropyPurpose, dest: &mut [u8]) -> Result<(), EntropyError> {
        use rand::TryRng as _;
        rand::rngs::SysRng
            .try_fill_bytes(dest)
            .map_err(|e| EntropyError::Os(Box::new(e)))
    }
}
