//! The store conformance suite on the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use clab_keys_core::{KeyStore, MemoryStore};

clab_keys_testing::store_conformance_tests!(|| async {
    Some(Arc::new(MemoryStore::new()) as Arc<dyn KeyStore>)
});
