//! The core store conformance suite on MySQL/MariaDB (a database per test; skipped unless `CLAB_KEYS_TEST_MYSQL_URL` is set).

mod common;

clab_keys_testing::store_conformance_tests!(common::mysql);
