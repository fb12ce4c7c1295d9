//! The test kit of clab-keys, for authors of a store or a framework adapter (and for the
//! workspace's own tests): the store conformance suite ([`store_conformance_tests!`]), the
//! HTTP conformance table ([`http_table`]) and test doubles (a manual clock, scripted entropy,
//! a recording store, a failing store). Depend on it as a dev-dependency; it is not for
//! production use.
//!
//! # Panics
//!
//! Everything here is test code: the conformance cases panic, with a message naming the rule,
//! when a store breaks one.

// Test support reports failures by panicking, like `assert!`.
#![allow(clippy::panic, clippy::missing_panics_doc)]

pub mod conformance;
mod doubles;
pub mod http_table;

pub use doubles::{
    CallCounts, FailingStore, FindHold, HeldStore, ManualClock, RecordingStore, ScriptedEntropy,
};

/// Not public API: used by the macros.
#[doc(hidden)]
pub mod __private {
    pub use tokio;

    /// A multi-threaded runtime for one conformance test.
    pub fn runtime() -> tokio::runtime::Runtime {
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("cannot start a tokio runtime for the test: {e}"),
        }
    }
}
