//! The core store conformance suite on PostgreSQL (a database per test; skipped unless `CLAB_KEYS_TEST_POSTGRES_URL` is set).

mod common;

clab_keys_testing::store_conformance_tests!(common::postgres);
