//! The core of clab-keys: long-lived user API keys (`clab_user_…`) next to JWT sessions.
//!
//! It knows nothing of HTTP frameworks or ORMs. It holds:
//!
//! - the token [`format`](mod@format): generation from the OS CSPRNG, strict and total parsing, a CRC32
//!   checksum checked before any store access, the published regular expression;
//! - [`hash`]ing: HMAC-SHA256 with a versioned pepper (or plain SHA-256), constant-time compare;
//! - the [`KeyStore`] trait and an in-memory [`MemoryStore`];
//! - the [`KeyService`]: create (name, expiry, scopes, the per-user limit), list, revoke,
//!   authenticate, and the `last_used_at` debounce;
//! - the [`CredentialRouter`]: `Authorization` header parsing (RFC 9110/6750), API key or JWT,
//!   and [`Rejection`]s that already know their status, challenge and JSON body;
//! - the management endpoints of the HTTP contract, framework-neutral, in [`api`].
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use clab_keys_core::{CredentialRouter, KeyHasher, KeyService, MemoryStore, NewKey, Pepper, UserId};
//!
//! let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
//! let keys = KeyService::builder(MemoryStore::new())
//!     .hasher(KeyHasher::hmac(1, pepper).unwrap())
//!     .build()
//!     .unwrap();
//! let user = UserId::from(42_i64);
//! let created = keys.create(&user, NewKey::new("laptop")).await.unwrap();
//!
//! // Later, on a request:
//! let router = CredentialRouter::new(keys.clone());
//! let header = format!("Bearer {}", created.token.expose_secret());
//! let principal = router.authenticate([header.as_bytes()]).await.unwrap();
//! assert_eq!(principal.user_id(), &user);
//! assert!(!principal.is_interactive());
//! # });
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;
pub mod clock;
pub mod credential;
pub mod entropy;
mod error;
pub mod format;
pub mod hash;
mod scope;
mod secret;
pub mod service;
pub mod store;
mod user;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use clock::{Clock, SystemClock};
pub use credential::{
    ApiResponse, CredentialKind, CredentialRouter, JwtError, JwtIdentity, JwtVerifier, Principal,
    Realm, Rejection, RejectionKind,
};
pub use error::ConfigError;
pub use format::{KeyFormats, KeyId, KeyPrefix, ParseError, TokenFormat};
pub use hash::{HashCheck, HashVersion, KeyDigest, KeyHasher, StoredHash};
pub use scope::{InvalidScopes, Scopes};
pub use secret::{ApiKey, Pepper};
pub use service::{
    AuthError, CacheConfig, CreateError, CreatedKey, InvalidReason, KeyInfo, KeyService,
    KeyServiceBuilder, KeyServiceConfig, NewKey, RevokeError,
};
pub use store::{InsertOutcome, KeyRecord, KeyStore, MemoryStore, RevokeOutcome, StoreError};
pub use user::{InvalidUserId, UserId};
