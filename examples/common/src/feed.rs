//! The invalidation feed of the example apps (contract §4 and §7): which one carries
//! revocations between the instances that share the app's database, chosen from the
//! configuration, and building it once the database is connected.
//!
//! Every instance that shares a database must use the same feed: an instance announces its
//! revocations only on its own feed, and one that listens elsewhere does not hear them. The
//! default choice depends only on `DATABASE_URL` and `CLAB_KEYS_REDIS_URL`, so instances
//! configured alike agree.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use clab_keys::{FeedError, InvalidationFeed};
use sea_orm::DatabaseConnection;

use crate::config::{ConfigError, MAX_CACHE_TTL_SECS_WITHOUT_FEED};

/// How often the change-log feed reads the change log: the longest another instance keeps
/// accepting a key revoked here, plus the time of one query.
pub const CHANGELOG_INTERVAL: Duration = Duration::from_millis(250);

/// Which invalidation feed an app uses (`CLAB_KEYS_INVALIDATION_FEED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedKind {
    /// PostgreSQL `LISTEN/NOTIFY` on the app's own database (`postgres`).
    Postgres,
    /// The change-log table in the app's own database, polled every [`CHANGELOG_INTERVAL`]
    /// (`changelog`): MySQL/MariaDB and SQLite, which have no notifications.
    ChangeLog,
    /// Redis pub/sub at `CLAB_KEYS_REDIS_URL` (`redis`).
    Redis,
    /// No feed (`none`): revocations reach other instances only when their cache entries
    /// expire, so the cache TTL may be at most 5 s. For measurements, not for deployments.
    None,
}

impl FeedKind {
    /// The value of `CLAB_KEYS_INVALIDATION_FEED` that chooses it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::ChangeLog => "changelog",
            Self::Redis => "redis",
            Self::None => "none",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "postgres" => Some(Self::Postgres),
            "changelog" => Some(Self::ChangeLog),
            "redis" => Some(Self::Redis),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    /// What carries revocations, in words (no URL, no secret).
    fn describe(self) -> String {
        match self {
            Self::Postgres => "PostgreSQL LISTEN/NOTIFY".to_owned(),
            Self::ChangeLog => format!(
                "the change-log table, read every {} ms",
                CHANGELOG_INTERVAL.as_millis()
            ),
            Self::Redis => "Redis pub/sub (CLAB_KEYS_REDIS_URL)".to_owned(),
            Self::None => "nothing".to_owned(),
        }
    }
}

impl fmt::Display for FeedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Chooses the feed: `forced` (`CLAB_KEYS_INVALIDATION_FEED`) when set, else Redis when a
/// Redis URL is set, else the one that matches `backend` (`postgres`, `mysql`, `sqlite`).
pub(crate) fn choose(
    forced: Option<&str>,
    backend: &'static str,
    has_redis_url: bool,
    cache_ttl_secs: u32,
) -> Result<FeedKind, ConfigError> {
    let feed = match forced {
        Some(value) => FeedKind::parse(value).ok_or(ConfigError::InvalidFeed)?,
        None if has_redis_url => FeedKind::Redis,
        None if backend == "postgres" => FeedKind::Postgres,
        None => FeedKind::ChangeLog,
    };
    match feed {
        FeedKind::Postgres if backend != "postgres" => Err(ConfigError::FeedNeedsPostgres(backend)),
        FeedKind::Redis if !has_redis_url => Err(ConfigError::FeedNeedsRedisUrl),
        FeedKind::Postgres | FeedKind::ChangeLog | FeedKind::None if has_redis_url => {
            Err(ConfigError::RedisUrlUnused(feed.as_str()))
        }
        FeedKind::None if cache_ttl_secs > MAX_CACHE_TTL_SECS_WITHOUT_FEED => {
            Err(ConfigError::CacheTooLongWithoutFeed(cache_ttl_secs))
        }
        _ => Ok(feed),
    }
}

/// Whether `url` has a scheme the apps' Redis client accepts (they are built without TLS, so
/// not `rediss://`).
pub(crate) fn is_redis_url(url: &str) -> bool {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    matches!(scheme.as_deref(), Some("redis" | "redis+unix" | "unix"))
}

/// The line an app prints at start: the cache and what carries revocations between instances.
pub(crate) fn summary(cache_ttl_secs: u32, feed: FeedKind) -> String {
    let how = feed.describe();
    match (cache_ttl_secs, feed) {
        (0, FeedKind::None) => "verification cache: off (CLAB_KEYS_CACHE_TTL_SECS=0); \
             invalidation feed: none (revocations made here are not announced to instances \
             that cache)"
            .to_owned(),
        (0, _) => format!(
            "verification cache: off (CLAB_KEYS_CACHE_TTL_SECS=0); invalidation feed: {feed}, \
             revocations made here are announced through {how}"
        ),
        (ttl, FeedKind::None) => format!(
            "verification cache: on, entries kept up to {ttl} s; invalidation feed: none \
             (CLAB_KEYS_INVALIDATION_FEED=none): a key revoked on another instance is accepted \
             here for up to {ttl} s"
        ),
        (ttl, _) => format!(
            "verification cache: on, entries kept up to {ttl} s; invalidation feed: {feed}, \
             revocations reach every instance through {how}"
        ),
    }
}

/// Builds the feed `kind` over the app's database (or Redis). `None` for [`FeedKind::None`].
///
/// # Errors
///
/// Returns [`FeedError`] when the feed cannot reach its database or Redis.
pub(crate) async fn build(
    kind: FeedKind,
    db: &DatabaseConnection,
    redis_url: Option<&str>,
) -> Result<Option<Arc<dyn InvalidationFeed>>, FeedError> {
    use clab_keys::redis::RedisFeed;
    use clab_keys::sea_orm::{ChangeLogFeed, PgNotifyFeed};
    Ok(match kind {
        FeedKind::Postgres => Some(Arc::new(PgNotifyFeed::new(db)?)),
        FeedKind::ChangeLog => Some(Arc::new(
            ChangeLogFeed::new(db.clone()).interval(CHANGELOG_INTERVAL),
        )),
        FeedKind::Redis => {
            let url = redis_url.ok_or_else(|| FeedError::msg("CLAB_KEYS_REDIS_URL is not set"))?;
            Some(Arc::new(RedisFeed::new(url)?))
        }
        FeedKind::None => None,
    })
}
