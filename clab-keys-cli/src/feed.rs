//! The invalidation feed a revocation is announced on, chosen by the rule the example apps
//! use (contract §4 and §7, `examples/common/src/feed.rs`): `CLAB_KEYS_INVALIDATION_FEED` when
//! set, else Redis when `CLAB_KEYS_REDIS_URL` is set, else PostgreSQL `LISTEN/NOTIFY` on
//! PostgreSQL and the change log on MySQL/MariaDB and SQLite. Run with the apps' environment,
//! the CLI therefore announces where every running instance listens, and they evict the key
//! at once. The rule is written out here rather than shared with the apps (their crate is not
//! published); the two must change together.

use std::sync::Arc;

use clab_keys::InvalidationFeed;
use clab_keys::redis::RedisFeed;
use clab_keys::sea_orm::{ChangeLogFeed, PgNotifyFeed};
use sea_orm::DatabaseConnection;
use zeroize::Zeroizing;

use crate::config::{self, Backend};
use crate::error::CliError;

/// Which feed carries revocations between the app's instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// PostgreSQL `LISTEN/NOTIFY` on the app's database.
    Postgres,
    /// The change-log table in the app's database.
    ChangeLog,
    /// Redis pub/sub at `CLAB_KEYS_REDIS_URL`.
    Redis,
    /// No feed: instances learn of a revocation when their cache entry expires (at most 5 s).
    None,
}

impl FeedKind {
    /// The value of `CLAB_KEYS_INVALIDATION_FEED` that names it (also the `feed` field of
    /// `--json` output).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::ChangeLog => "changelog",
            Self::Redis => "redis",
            Self::None => "none",
        }
    }

    /// How the announcement travels, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL LISTEN/NOTIFY",
            Self::ChangeLog => "the change-log table",
            Self::Redis => "Redis pub/sub",
            Self::None => "nothing (CLAB_KEYS_INVALIDATION_FEED=none)",
        }
    }
}

/// The chosen feed and, for Redis, its URL.
#[derive(Debug)]
pub struct FeedChoice {
    /// The feed.
    pub kind: FeedKind,
    redis_url: Option<Zeroizing<String>>,
}

/// Chooses the feed for `backend` from the environment, refusing the combinations the apps
/// refuse.
pub fn choose(backend: Backend) -> Result<FeedChoice, CliError> {
    let redis_url =
        config::var("CLAB_KEYS_REDIS_URL")?.map(|u| Zeroizing::new(u.trim().to_owned()));
    if redis_url.as_deref().is_some_and(|u| !is_redis_url(u)) {
        return Err(CliError::Configuration(
            "CLAB_KEYS_REDIS_URL must be a Redis URL starting with redis://, redis+unix:// or \
             unix://"
                .to_owned(),
        ));
    }
    let forced = config::var("CLAB_KEYS_INVALIDATION_FEED")?;
    let kind = match forced.as_deref().map(|v| v.trim()) {
        Some("postgres") => FeedKind::Postgres,
        Some("changelog") => FeedKind::ChangeLog,
        Some("redis") => FeedKind::Redis,
        Some("none") => FeedKind::None,
        Some(_) => {
            return Err(CliError::Configuration(
                "CLAB_KEYS_INVALIDATION_FEED must be postgres, changelog, redis or none".to_owned(),
            ));
        }
        None if redis_url.is_some() => FeedKind::Redis,
        None if backend == Backend::Postgres => FeedKind::Postgres,
        None => FeedKind::ChangeLog,
    };
    match kind {
        FeedKind::Postgres if backend != Backend::Postgres => {
            Err(CliError::Configuration(format!(
                "CLAB_KEYS_INVALIDATION_FEED=postgres needs a PostgreSQL DATABASE_URL, but it \
                 names a {} database",
                backend.as_str()
            )))
        }
        FeedKind::Redis if redis_url.is_none() => Err(CliError::Configuration(
            "CLAB_KEYS_INVALIDATION_FEED=redis needs CLAB_KEYS_REDIS_URL".to_owned(),
        )),
        FeedKind::Postgres | FeedKind::ChangeLog | FeedKind::None if redis_url.is_some() => {
            Err(CliError::Configuration(format!(
                "CLAB_KEYS_REDIS_URL is set but CLAB_KEYS_INVALIDATION_FEED={} does not use \
                 Redis; unset one of them",
                kind.as_str()
            )))
        }
        _ => Ok(FeedChoice { kind, redis_url }),
    }
}

impl FeedChoice {
    /// Builds the feed over the app's database (or Redis); `None` for [`FeedKind::None`].
    pub fn build(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Option<Arc<dyn InvalidationFeed>>, CliError> {
        let failed = |e: clab_keys::FeedError| {
            CliError::Configuration(format!(
                "the invalidation feed ({}) could not be set up: {}",
                self.kind.as_str(),
                crate::error::chain(&e)
            ))
        };
        Ok(match self.kind {
            FeedKind::Postgres => Some(Arc::new(PgNotifyFeed::new(db).map_err(failed)?)),
            FeedKind::ChangeLog => Some(Arc::new(ChangeLogFeed::new(db.clone()))),
            FeedKind::Redis => {
                let url = self.redis_url.as_deref().map_or("", |u| u.as_str());
                Some(Arc::new(RedisFeed::new(url).map_err(failed)?))
            }
            FeedKind::None => None,
        })
    }
}

/// Whether `url` has a scheme the Redis client here accepts (no TLS, as in the apps).
fn is_redis_url(url: &str) -> bool {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    matches!(scheme.as_deref(), Some("redis" | "redis+unix" | "unix"))
}
