//! The core store conformance suite on SQLite (a temporary file per test, always run).

mod common;

clab_keys_testing::store_conformance_tests!(common::sqlite);
