//! `ChangeLogFeed` (contract §4): instances that share a database, each with its own pool
//! and its own feed, learn of a revocation on any of them within the bound (the interval plus
//! a query); a verification that read before the revocation never caches the key; a failed
//! poll bypasses the cache; a store that is down is an error. On an SQLite file always, and on
//! PostgreSQL and MySQL/MariaDB when `CLAB_KEYS_TEST_POSTGRES_URL` / `CLAB_KEYS_TEST_MYSQL_URL`
//! are set (a database per test).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod feed_support;

use std::sync::Arc;

use clab_keys_core::InvalidationFeed;
use clab_keys_seaorm::ChangeLogFeed;
use sea_orm::DatabaseConnection;

fn change_log(db: &DatabaseConnection) -> Arc<dyn InvalidationFeed> {
    Arc::new(ChangeLogFeed::new(db.clone()))
}

macro_rules! change_log_tests {
    ($backend:ident, $db:expr) => {
        mod $backend {
            use super::*;
            use feed_support::*;

            const LABEL: &str = concat!("change log on ", stringify!($backend));

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_key_revoked_on_one_instance_is_refused_on_the_others_within_the_bound() {
                let Some(db) = $db else { return };
                revoked_on_one_is_refused_on_the_others(&db, change_log, LABEL).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_verification_that_read_before_a_revoke_elsewhere_does_not_cache_the_key() {
                let Some(db) = $db else { return };
                a_read_before_a_revoke_elsewhere_does_not_cache_the_key(&db, change_log, LABEL)
                    .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_failed_poll_bypasses_the_cache_until_polls_succeed_again() {
                let Some(db) = $db else { return };
                a_failed_poll_bypasses_the_cache(&db, change_log, LABEL).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_store_that_is_down_is_an_error_never_a_cached_success() {
                let Some(db) = $db else { return };
                a_store_that_is_down_is_an_error_not_a_cached_success(&db, change_log, LABEL).await;
            }
        }
    };
}

change_log_tests!(sqlite, Some(feed_support::SharedDb::sqlite().await));
change_log_tests!(
    postgres,
    feed_support::SharedDb::server(feed_support::POSTGRES_ENV).await
);
change_log_tests!(
    mysql,
    feed_support::SharedDb::server(feed_support::MYSQL_ENV).await
);
