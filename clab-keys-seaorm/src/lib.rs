//! SeaORM 2.0 storage for clab-keys: the `clab_api_keys` [`entity`], a [`migration`] to add to
//! an app's own `Migrator` (or to run standalone), and [`SeaOrmStore`], a
//! [`KeyStore`](clab_keys_core::KeyStore) over SQLite, PostgreSQL and MySQL/MariaDB that passes
//! the core conformance suite on all three.
//!
//! ```
//! # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_seaorm as sea_orm; }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use clab_keys::sea_orm::{SeaOrmStore, migration::Migrator};
//! use clab_keys::{KeyHasher, KeyService, NewKey, Pepper, UserId};
//! use sea_orm_migration::MigratorTrait as _;
//!
//! let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
//! Migrator::up(&db, None).await.unwrap();
//!
//! let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
//! let keys = KeyService::builder(SeaOrmStore::new(db), KeyHasher::hmac(1, pepper).unwrap())
//!     .build()
//!     .unwrap();
//! let user = UserId::from(42_i64);
//! let created = keys.create(&user, NewKey::new("laptop")).await.unwrap();
//!
//! let key = keys.authenticate(created.token.expose_secret().as_bytes()).await.unwrap();
//! assert_eq!(key.user_id, user);
//! assert_eq!(keys.list(&user).await.unwrap().len(), 1);
//! # });
//! ```
//!
//! # Drivers and runtimes are the app's choice
//!
//! This crate enables no SeaORM driver or runtime feature (and `sea-orm-migration` without its
//! default `cli` feature): the app picks them on its own `sea-orm` dependency, for example
//! `features = ["sqlx-postgres", "runtime-tokio-rustls"]`, and Cargo unifies the features.
//!
//! # Migrations
//!
//! Either add [`migration::migrations()`] to your `Migrator` (the migration is recorded in your
//! `seaql_migrations` as `m20260101_000001_clab_keys_create_api_keys`), or run
//! [`migration::Migrator`], which keeps its own `clab_keys_migrations` table. See
//! [`migration`] for both, and for the per-backend column types.
//!
//! # Concurrency
//!
//! The per-user key limit holds under concurrent creates on every backend; [`SeaOrmStore`]
//! documents the lock each backend uses and why. `last_used_at` is written with one
//! conditional `UPDATE`, so several app instances write it at most once per window.
//!
//! # Invalidation feeds
//!
//! With the verification cache on, [`ChangeLogFeed`] (any backend; a poll of
//! `clab_api_key_changes`) or `PgNotifyFeed` (feature `pg-notify`; PostgreSQL
//! `LISTEN/NOTIFY`) carries every revocation to the other instances that share the database,
//! within the bound each documents.
//!
//! # What is stored
//!
//! The key id, the prefix, the owner's id, the name, scopes, timestamps, and the digest of the
//! whole token with its hash version. Never the token: it is hashed by the
//! [`KeyService`](clab_keys_core::KeyService) before the store sees the record, so it reaches
//! neither the SQL nor SeaORM's statement logs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod entity;
mod feed;
mod lifecycle;
mod limit;
pub mod migration;
mod paging;
mod rotation;
mod row;
mod store;

pub use store::SeaOrmStore;

pub use feed::ChangeLogFeed;
#[cfg(feature = "pg-notify")]
#[cfg_attr(docsrs, doc(cfg(feature = "pg-notify")))]
pub use feed::PgNotifyFeed;
