//! Benchmark drivers for clab-keys and the charts of their results. The binaries are run by
//! the scripts in `bench/` (`propagation.sh`, `load.sh`, `scale.sh`), which build and start
//! the example apps; see `docs/performance.md` for what they measured.
//!
//! - `propagation`: against running `axum-app` instances that share a database, creates a key,
//!   warms it on every instance, revokes it on one through the HTTP API and measures until
//!   every other instance refuses it; one CSV row per revocation and instance.
//! - `scale`: authentication without the cache on a PostgreSQL table of 1,000 keys and on one
//!   of 1,000,000, in the same run.
//! - `plot`: the SVG charts (`plotters`, SVG backend only) of those CSV files.

pub mod args;
pub mod chart;
pub mod stats;

/// The error type of the drivers: anything, with a message.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed error from a message.
pub fn err(message: impl Into<String>) -> BoxError {
    message.into().into()
}
