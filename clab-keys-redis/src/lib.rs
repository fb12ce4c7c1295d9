//! A Redis pub/sub invalidation feed for clab-keys: a key revoked on one instance of an
//! application leaves the verification cache of every other instance that shares the key
//! store, within a bound (800 ms at worst by default, a Redis round trip in practice), and a
//! lost subscription bypasses the cache instead of serving what may have been revoked meanwhile
//! (contract §4). Applications normally use it through the facade crate, `clab-keys` with the
//! `redis` feature, as `clab_keys::redis::RedisFeed`.
//!
//! | item | what it is |
//! |---|---|
//! | [`RedisFeed`] | the [`InvalidationFeed`](clab_keys_core::InvalidationFeed) to give [`KeyServiceBuilder::invalidation_feed`](clab_keys_core::KeyServiceBuilder::invalidation_feed) |
//! | [`DEFAULT_CHANNEL`], [`DEFAULT_HEARTBEAT_INTERVAL`], [`LEASE_INTERVALS`] | its defaults |
//!
//! Choose it when the instances already share a Redis. With PostgreSQL as the store, its
//! `LISTEN/NOTIFY` feed in `clab-keys-seaorm` needs nothing more; on a store without
//! notifications, the change-log poll there does the same job with a poll's delay.
//!
//! The driver is [`redis`] with its tokio connections only, without TLS (`rediss://` URLs are
//! refused): run Redis on a private network or a local socket. Messages on the channel are text: `evict <key id>…` for announcements and
//! `beat <subscriber> <n>` for heartbeats; key ids are public (contract §2), nothing secret is
//! sent.
//!
//! ```no_run
//! # extern crate clab_keys_core as clab_keys;
//! use std::sync::Arc;
//! use clab_keys::{CacheConfig, KeyHasher, KeyService, KeyServiceConfig, MemoryStore};
//! use clab_keys_redis::RedisFeed;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let pepper = clab_keys::Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")?;
//! # let store = MemoryStore::new();
//! let service = KeyService::builder(store, KeyHasher::hmac(1, pepper)?)
//!     .config(KeyServiceConfig::default().cache(Some(
//!         CacheConfig::default().ttl(time::Duration::minutes(5)),
//!     )))
//!     .invalidation_feed(Arc::new(RedisFeed::new("redis://127.0.0.1:6379")?))
//!     .build()?;
//! # let _ = service;
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod feed;
mod message;
mod publisher;
mod subscription;

pub use feed::{DEFAULT_CHANNEL, DEFAULT_HEARTBEAT_INTERVAL, LEASE_INTERVALS, RedisFeed};
