// The crate documentation is the README (one text for crates.io and docs.rs; build.rs copies it
// and the guide to OUT_DIR with links between chapters pointing at the `guide` modules). Its
// Rust example uses the `axum` and `sea-orm` features, so without them a short pointer stands in.
#![cfg_attr(all(feature = "axum", feature = "sea-orm"), doc = include_str!(concat!(env!("OUT_DIR"), "/README.md")))]
#![cfg_attr(
    not(all(feature = "axum", feature = "sea-orm")),
    doc = "Long-lived user API keys (`clab_user_…`) next to the JWT sessions a web service \
           already has. The full documentation (the README, built with every feature) is on \
           docs.rs; start with [`KeyService`], [`CredentialRouter`] and the [`guide`]."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The core: token format, hashing, store, key service (the keys layer) and the credential
// router, rejections and management endpoints (the http layer). One path per item: each is
// reachable here and nowhere else in this crate.
#[doc(inline)]
pub use clab_keys_core::{
    ApiKey, ApiResponse, AuthError, BearerOutcome, BodyBuffer, CacheConfig, Clock, ConfigError,
    CreateError, CreatedKey, CredentialKind, CredentialRouter, DigestLengthError, Entropy,
    EntropyError, FeedError, HashCheck, HashVersion, InsertOutcome, InvalidCursor,
    InvalidPageLimit, InvalidReason, InvalidScopes, InvalidUserId, InvalidationFeed, Invalidations,
    JwtError, JwtIdentity, JwtVerifier, KeyCursor, KeyDigest, KeyFormats, KeyHasher, KeyId,
    KeyInfo, KeyPage, KeyPrefix, KeyRecord, KeyService, KeyServiceBuilder, KeyServiceConfig,
    KeyStore, KeyUpdate, ListPage, LocalFeed, MANAGEMENT_PATH, MAX_BEARER_LEN, MAX_BODY_LEN,
    MAX_ROTATION_GRACE, ManagementCall, MemoryStore, NewKey, OsEntropy, OwnerCheck, ParseError,
    ParsedToken, Pepper, Principal, Realm, Rejection, RejectionKind, RevocationReason, RevokeError,
    RevokeOutcome, RotateError, RotateOutcome, RotatedKey, ScopeName, Scopes, StoreError,
    StoredHash, SystemClock, TokenFormat, UpdateError, UserId, VerifiedKey, looks_like_jwt,
    parse_authorization, truncate_to_micros,
};

// The management endpoints as an OpenAPI 3.1 document, to merge into an application's own.
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
#[doc(inline)]
pub use clab_keys_core::ManagementApi;

/// Calls that step around the library's safeguards, fenced so that every use stands out in
/// review: unpeppered SHA-256 for migrated tables, and principals made outside verification.
pub mod dangerous {
    #[doc(inline)]
    pub use clab_keys_core::dangerous::{
        accept_unpeppered_sha256, api_key_principal, session_principal, sha256_hasher,
    };
}

/// The axum 0.8 adapter (feature `axum`): extractors, middleware, RFC 6750 rejections and the
/// ready management router.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum {
    #[doc(inline)]
    pub use clab_keys_axum::{
        AuthRejection, CurrentUser, InteractiveUser, MaybeUser, Reply, RequireScope, authenticate,
        management_router, require_interactive, require_scope,
    };
}

/// The actix-web 4 adapter (feature `actix-web`): extractors, middleware, `ResponseError`
/// rejections and the ready management scope.
#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub mod actix_web {
    #[doc(inline)]
    pub use clab_keys_actix::{
        AuthRejection, CurrentUser, InteractiveUser, MaybeUser, Reply, RequireScope, authenticate,
        management_scope, require_interactive, require_scope,
    };
}

/// The tower adapter (feature `tower`): a layer for any tower-based server (hyper, tonic,
/// axum) that puts the verified [`Principal`] into the request extensions, or answers core's
/// refusal, as a gRPC status for gRPC requests.
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower {
    #[doc(inline)]
    pub use clab_keys_tower::{AuthBody, AuthLayer, Authenticate, ResponseFuture};
}

/// The Redis pub/sub invalidation feed (feature `redis`): give every instance that shares the
/// key store a [`RedisFeed`](redis::RedisFeed) on the same channel, and a key revoked on one is
/// refused by all within the feed's bound, whatever their cache TTL.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis {
    #[doc(inline)]
    pub use clab_keys_redis::{
        DEFAULT_CHANNEL, DEFAULT_HEARTBEAT_INTERVAL, LEASE_INTERVALS, RedisFeed,
    };
}

/// The SeaORM 2.0 store (feature `sea-orm`): the entity, the migration and [`SeaOrmStore`](sea_orm::SeaOrmStore)
/// for SQLite, PostgreSQL and MySQL/MariaDB, and the invalidation feeds over the same database
/// (`ChangeLogFeed`; `PgNotifyFeed` with the feature `pg-notify`).
#[cfg(feature = "sea-orm")]
#[cfg_attr(docsrs, doc(cfg(feature = "sea-orm")))]
pub mod sea_orm {
    #[doc(inline)]
    pub use clab_keys_seaorm::{ChangeLogFeed, SeaOrmStore, entity, migration};

    #[cfg(feature = "pg-notify")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pg-notify")))]
    #[doc(inline)]
    pub use clab_keys_seaorm::PgNotifyFeed;
}

/// The developer guide, one module per chapter (the repository's `docs/` directory). Every
/// Rust code block in it is compiled, and unless marked `no_run` run, as a doc test of this
/// crate, so the guide cannot drift from the API. A chapter whose examples need a feature is
/// present only with that feature; docs.rs builds with all of them.
pub mod guide {
    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/README.md"))]
    pub mod contents {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/contract.md"))]
    pub mod contract {}

    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/axum.md"))]
    pub mod axum {}

    #[cfg(feature = "actix-web")]
    #[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/actix-web.md"))]
    pub mod actix_web {}

    #[cfg(feature = "sea-orm")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sea-orm")))]
    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/seaorm.md"))]
    pub mod sea_orm {}

    #[cfg(all(feature = "openapi", feature = "axum", feature = "actix-web"))]
    #[cfg_attr(
        docsrs,
        doc(cfg(all(feature = "openapi", feature = "axum", feature = "actix-web")))
    )]
    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/openapi.md"))]
    pub mod openapi {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/token-format.md"))]
    pub mod token_format {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/security-model.md"))]
    pub mod security_model {}

    #[cfg(all(feature = "axum", feature = "sea-orm"))]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "axum", feature = "sea-orm"))))]
    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/migrating-sha256.md"))]
    pub mod migrating_sha256 {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/configuration.md"))]
    pub mod configuration {}

    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/redis.md"))]
    pub mod redis {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/cli.md"))]
    pub mod cli {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/using-the-api.md"))]
    pub mod using_the_api {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/faq.md"))]
    pub mod faq {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/dependencies.md"))]
    pub mod dependencies {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/security.md"))]
    pub mod security {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/docs/performance.md"))]
    pub mod performance {}
}
