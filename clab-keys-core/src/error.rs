//! Configuration errors, reported when a service is built rather than on a request.

/// A configuration value was rejected. Never contains the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A prefix is not 2–32 bytes of `[a-z0-9_]` starting with a letter and ending with `_`.
    #[error(
        "invalid key prefix: use 2-32 bytes of a-z, 0-9 and _, starting with a letter and ending with _"
    )]
    InvalidPrefix,
    /// No token format was configured.
    #[error("at least one token format is required")]
    NoFormats,
    /// One configured prefix is a prefix of another.
    #[error("configured key prefixes must not be prefixes of each other")]
    OverlappingPrefixes,
    /// A pepper is not valid base64.
    #[error("pepper is not valid base64")]
    PepperEncoding,
    /// A pepper is shorter than 32 bytes.
    #[error("pepper must be at least 32 bytes")]
    PepperTooShort,
    /// A pepper version is 0 (reserved for unpeppered SHA-256) or used twice.
    #[error("pepper versions must be unique and between 1 and 65535")]
    PepperVersion,
    /// A realm contains characters that cannot appear in a quoted string.
    #[error("realm must be 1-128 printable ASCII characters without quotes or backslashes")]
    InvalidRealm,
    /// A numeric limit is out of range.
    #[error("invalid limit: {0}")]
    InvalidLimit(&'static str),
}
