//! The core of clab-keys: long-lived user API keys (`clab_user_…`) next to JWT sessions. It
//! knows nothing of HTTP frameworks or ORMs; most applications depend on the facade crate
//! `clab-keys` instead, which re-exports everything here under the same names.
//!
//! Two layers, whose imports run one way:
//!
//! - **keys** (below): the token format ([`TokenFormat`], [`KeyFormats`]), hashing with a
//!   versioned pepper ([`KeyHasher`]), the [`KeyStore`] trait with [`MemoryStore`], and the
//!   [`KeyService`] (create, list, revoke, and authenticate into a plain [`VerifiedKey`]);
//! - **http** (above): `Authorization` header parsing, the [`CredentialRouter`] (API key or
//!   JWT into a [`Principal`]), [`Rejection`]s that know their RFC 6750 answer, the
//!   framework-neutral [`ApiResponse`], and the management endpoints ([`ManagementCall`]).
//!
//! Calls that step around a safeguard live in [`dangerous`]. The rules users rely on (format,
//! hashing, service rules, the HTTP contract) are written down in the guide's contract chapter,
//! `docs/contract.md`, which comments here cite as "contract §n".
//!
//! ```
//! # extern crate clab_keys_core as clab_keys;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, NewKey, Pepper, UserId};
//!
//! let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
//! let keys = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper).unwrap())
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

// The keys layer. Nothing here imports from `http`.
mod clock;
mod entropy;
mod error;
mod format;
mod hash;
mod scope;
mod secret;
mod service;
mod store;
mod user;

// The http layer, over the keys layer.
mod http;

pub mod dangerous;

pub use clock::{Clock, SystemClock, truncate_to_micros};
pub use entropy::{Entropy, EntropyError, OsEntropy};
pub use error::ConfigError;
pub use format::{KeyFormats, KeyId, KeyPrefix, ParseError, ParsedToken, TokenFormat};
pub use hash::{DigestLengthError, HashCheck, HashVersion, KeyDigest, KeyHasher, StoredHash};
pub use scope::{InvalidScopes, Scopes};
pub use secret::{ApiKey, Pepper};
pub use service::{
    AuthError, CacheConfig, CreateError, CreatedKey, FeedError, InvalidCursor, InvalidPageLimit,
    InvalidReason, InvalidationFeed, Invalidations, KeyCursor, KeyInfo, KeyPage, KeyService,
    KeyServiceBuilder, KeyServiceConfig, KeyUpdate, ListPage, LocalFeed, MAX_ROTATION_GRACE,
    NewKey, OwnerCheck, RevokeError, RotateError, RotatedKey, UpdateError, VerifiedKey,
};
pub use store::{
    InsertOutcome, KeyRecord, KeyStore, MemoryStore, RevocationReason, RevokeOutcome,
    RotateOutcome, StoreError,
};
pub use user::{InvalidUserId, UserId};

pub use http::{
    ApiResponse, BearerOutcome, BodyBuffer, CredentialKind, CredentialRouter, JwtError,
    JwtIdentity, JwtVerifier, MANAGEMENT_PATH, MAX_BEARER_LEN, MAX_BODY_LEN, ManagementCall,
    Principal, Realm, Rejection, RejectionKind, ScopeName, looks_like_jwt, parse_authorization,
};

// The management endpoints as an OpenAPI 3.1 document.
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub use http::ManagementApi;
