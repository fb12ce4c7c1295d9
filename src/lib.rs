//! Long-lived user API keys (`clab_user_…`) next to the JWT sessions a web service already has.
//!
//! People script against REST APIs. When the only credential is a 60-minute JWT, they fall back
//! to browser automation. With clab-keys a user creates a key once (in a settings page or
//! through the API), sees it once, and sends it as `Authorization: Bearer clab_user_…` wherever
//! a JWT is accepted. The server stores only a keyed hash of it; keys can be listed, expire,
//! are capped per user and are revoked softly.
//!
//! This facade re-exports [`clab_keys_core`] (also reachable as [`core`]) at the
//! top level, and each adapter behind a feature, so an application adds one dependency:
//!
//! ```toml
//! [dependencies]
//! clab-keys = { version = "0.1", features = ["axum", "sea-orm"] }
//! ```
//!
//! | feature | module | what it brings |
//! |---|---|---|
//! | (none) | the crate root, [`core`] | token format, hashing, [`KeyStore`] and [`MemoryStore`], [`KeyService`], [`CredentialRouter`], the framework-neutral management endpoints in [`api`] |
//! | `axum` | `axum` | axum 0.8 extractors (`CurrentUser`, `InteractiveUser`), middleware, RFC 6750 rejections, `management_router()` |
//! | `actix-web` | `actix` | actix-web 4 extractors (`CurrentUser`, `InteractiveUser`, `MaybeUser`, `RequireScope`), middleware, `ResponseError`, `management_scope()` |
//! | `sea-orm` | `seaorm` | SeaORM 2.0 entity, the migration (embedded in your `Migrator` or standalone) and `SeaOrmStore` for SQLite, PostgreSQL and MySQL/MariaDB |
//! | `testing` | `core::testing` | the store conformance suite, test doubles and the HTTP conformance table; for tests only |
//!
//! No feature is on by default: depending on `clab-keys` alone pulls in no web framework and no
//! ORM. The documentation on docs.rs is built with every feature.
//!
//! # Example
//!
//! The whole life of a key, without a web framework: a service over a store, with a pepper;
//! a key created for user 42; the `Authorization` header a script sends, authenticated by the
//! credential router (which would send JWTs to the app's own verifier).
//!
//! ```
//! use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, NewKey, Pepper, UserId};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In production: `SeaOrmStore` (feature `sea-orm`) and the pepper from configuration.
//! let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")?;
//! let keys = KeyService::builder(MemoryStore::new())
//!     .hasher(KeyHasher::hmac(1, pepper)?)
//!     .build()?;
//!
//! let user = UserId::from(42_i64);
//! let created = keys.create(&user, NewKey::new("laptop")).await?;
//! // The plaintext token, shown to its owner once; it is never available again.
//! let token = created.token.expose_secret();
//! assert!(token.starts_with("clab_user_") && token.len() == 56);
//!
//! let router = CredentialRouter::new(keys.clone());
//! let header = format!("Bearer {token}");
//! let principal = router.authenticate([header.as_bytes()]).await?;
//! assert_eq!(principal.user_id(), &user);
//! assert_eq!(principal.kind().as_str(), "api_key");
//! assert!(!principal.is_interactive()); // so it cannot create or revoke keys
//! # Ok(())
//! # }
//! ```
//!
//! # The guide
//!
//! The repository's `docs/` directory is the developer guide: quick starts for axum,
//! actix-web and SeaORM, the token format and its regular expressions, the security model,
//! migrating an existing SHA-256 key table, the configuration reference, calling the API with
//! curl, Python and JavaScript, and the design decisions. Every Rust code block in it is
//! compiled as a doc test of this crate.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use clab_keys_core as core;
pub use clab_keys_core::*;

/// The axum 0.8 adapter ([`clab_keys_axum`]).
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use clab_keys_axum as axum;

/// The actix-web 4 adapter ([`clab_keys_actix`]).
#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub use clab_keys_actix as actix;

/// The SeaORM 2.0 store ([`clab_keys_seaorm`]).
#[cfg(feature = "sea-orm")]
#[cfg_attr(docsrs, doc(cfg(feature = "sea-orm")))]
pub use clab_keys_seaorm as seaorm;

/// The Rust code blocks of `README.md` and `docs/*.md`, compiled (and, unless marked `no_run`,
/// run) as doc tests, so the guide cannot drift from the API. Each chapter is checked only
/// when the features it uses are on: `cargo test -p clab-keys --all-features` checks them all.
#[cfg(doctest)]
mod guide {
    #[cfg(all(feature = "axum", feature = "sea-orm"))]
    #[doc = include_str!("../README.md")]
    pub struct Readme;

    #[doc = include_str!("../docs/README.md")]
    pub struct Contents;

    #[cfg(feature = "axum")]
    #[doc = include_str!("../docs/axum.md")]
    pub struct Axum;

    #[cfg(feature = "actix-web")]
    #[doc = include_str!("../docs/actix-web.md")]
    pub struct ActixWeb;

    #[cfg(all(feature = "sea-orm", feature = "testing"))]
    #[doc = include_str!("../docs/seaorm.md")]
    pub struct SeaOrm;

    #[doc = include_str!("../docs/token-format.md")]
    pub struct TokenFormat;

    #[doc = include_str!("../docs/security-model.md")]
    pub struct SecurityModel;

    #[cfg(all(feature = "axum", feature = "sea-orm"))]
    #[doc = include_str!("../docs/migrating-sha256.md")]
    pub struct MigratingSha256;

    #[doc = include_str!("../docs/configuration.md")]
    pub struct Configuration;

    #[doc = include_str!("../docs/using-the-api.md")]
    pub struct UsingTheApi;

    #[doc = include_str!("../docs/faq.md")]
    pub struct Faq;

    #[doc = include_str!("../docs/dependencies.md")]
    pub struct Dependencies;

    #[doc = include_str!("../docs/security.md")]
    pub struct Security;

    #[doc = include_str!("../docs/performance.md")]
    pub struct Performance;
}
