//! Where random bytes come from. The default is the operating system's CSPRNG; an application
//! with its own approved source (an HSM, a FIPS module) can supply another.

use std::fmt;

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
    fn fill(&self, dest: &mut [u8]) -> Result<(), EntropyError>;
}

/// The operating system's CSPRNG (`getrandom`, through `rand::rngs::SysRng`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
        use rand::TryRng as _;
        rand::rngs::SysRng
            .try_fill_bytes(dest)
            .map_err(|e| EntropyError::Os(Box::new(e)))
    }
}
