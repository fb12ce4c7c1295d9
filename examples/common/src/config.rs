//! Configuration from the environment (contract §7): `ADDR`, `DATABASE_URL`, `JWT_SECRET`,
//! `CLAB_KEYS_PEPPER`, `CLAB_KEYS_CACHE_TTL_SECS`, `CLAB_KEYS_INVALIDATION_FEED`,
//! `CLAB_KEYS_REDIS_URL` and `SEED_DEMO_USERS` (the names in [`ENV_VARS`]). `RUST_LOG` is
//! read by the log subscriber (`init_tracing`), not here.
//!
//! Missing secrets are replaced by random development values, and the app says so once on
//! stderr. The values themselves are never printed, logged or shown by `Debug`.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use clab_keys::Pepper;
use clab_keys::{Entropy as _, OsEntropy};
use secrecy::{ExposeSecret as _, SecretBox, SecretString};

use crate::feed::{self, FeedKind};
use crate::key_policy::{KeyPolicy, KeyPolicyError};
use crate::login_limits::{LoginLimitError, LoginLimitsConfig};

/// The database used when `DATABASE_URL` is unset: a SQLite file in the working directory,
/// created on start (`mode=rwc`).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://clab-keys-example.sqlite?mode=rwc";

/// Environment variable names, in the order they are documented (the login limits' are
/// [`crate::login_limits::ENV_VARS`] and the key policy's [`crate::key_policy::ENV_VARS`], read
/// as well).
pub const ENV_VARS: [&str; 8] = [
    "ADDR",
    "DATABASE_URL",
    "JWT_SECRET",
    "CLAB_KEYS_PEPPER",
    "CLAB_KEYS_CACHE_TTL_SECS",
    "CLAB_KEYS_INVALIDATION_FEED",
    "CLAB_KEYS_REDIS_URL",
    "SEED_DEMO_USERS",
];

/// The verification cache TTL when `CLAB_KEYS_CACHE_TTL_SECS` is unset, in seconds. With an
/// invalidation feed the TTL no longer bounds how long a revoked key is accepted (the feed
/// does); it bounds only what no feed announces, such as a row changed by hand in SQL. A
/// minute serves a script that calls at least once a minute from memory, and matches the
/// key service's 60 s `last_used_at` window.
pub const DEFAULT_CACHE_TTL_SECS: u32 = 60;

/// The longest accepted `CLAB_KEYS_CACHE_TTL_SECS`.
pub const MAX_CACHE_TTL_SECS: u32 = 300;

/// The longest `CLAB_KEYS_CACHE_TTL_SECS` without an invalidation feed
/// (`CLAB_KEYS_INVALIDATION_FEED=none`): the key service refuses a longer one, since the TTL
/// is then how long another instance's revocation goes unseen.
pub const MAX_CACHE_TTL_SECS_WITHOUT_FEED: u32 = 5;

/// What is printed when `JWT_SECRET` is unset. It names no value.
pub const DEV_JWT_SECRET_NOTICE: &str = "notice: JWT_SECRET is not set; using a random development secret. \
Sessions (JWTs) will not survive a restart. Set JWT_SECRET (at least 32 bytes) in production.";

/// What is printed when `CLAB_KEYS_PEPPER` is unset. It names no value.
pub const DEV_PEPPER_NOTICE: &str = "notice: CLAB_KEYS_PEPPER is not set; using a random development pepper. \
API keys created now will not work after a restart unless CLAB_KEYS_PEPPER is set \
(base64, at least 32 bytes, e.g. `openssl rand -base64 32`).";

/// Shortest accepted `JWT_SECRET`, in bytes: an HS256 key must be at least as long as the
/// hash output (RFC 7518 §3.2).
pub const MIN_JWT_SECRET_LEN: usize = 32;

/// The HS256 signing secret for session tokens. `Debug` redacts it; the bytes are zeroed on drop.
pub struct JwtSecret(SecretBox<[u8]>);

impl JwtSecret {
    /// Wraps a secret.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::JwtSecretTooShort`] for fewer than [`MIN_JWT_SECRET_LEN`] bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.len() < MIN_JWT_SECRET_LEN {
            return Err(ConfigError::JwtSecretTooShort);
        }
        Ok(Self(SecretBox::new(bytes.into())))
    }

    /// Generates a random 32-byte development secret from the operating system's CSPRNG.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::Entropy`] when the OS random source fails.
    pub fn generate() -> Result<Self, ConfigError> {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        OsEntropy
            .fill(&mut bytes[..])
            .map_err(|e| ConfigError::Entropy(Box::new(e)))?;
        Self::new(&bytes[..])
    }

    /// The raw secret bytes. Never log or print them.
    pub fn expose_secret(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret([REDACTED])")
    }
}

/// A configuration value was rejected. Messages name the variable and never contain a secret
/// (nor a database URL, which may hold a password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `ADDR` (or the default passed in) is not `ip:port`.
    #[error(
        "ADDR must be an IP address and a port, such as 127.0.0.1:3000 or [::1]:3000 (got {0:?})"
    )]
    InvalidAddr(String),
    /// `DATABASE_URL` names no supported database.
    #[error(
        "DATABASE_URL must start with sqlite:, postgres:, postgresql: or mysql: (MariaDB uses \
         mysql:), e.g. sqlite://clab-keys-example.sqlite?mode=rwc"
    )]
    InvalidDatabaseUrl,
    /// `JWT_SECRET` is shorter than [`MIN_JWT_SECRET_LEN`] bytes.
    #[error("JWT_SECRET must be at least 32 bytes long (HS256 needs a 256-bit key)")]
    JwtSecretTooShort,
    /// `CLAB_KEYS_PEPPER` is not valid base64 or decodes to fewer than 32 bytes.
    #[error(
        "CLAB_KEYS_PEPPER must be standard base64 of at least 32 random bytes \
         (e.g. `openssl rand -base64 32`)"
    )]
    InvalidPepper(#[source] clab_keys::ConfigError),
    /// `CLAB_KEYS_CACHE_TTL_SECS` is not a whole number of seconds from 0 to 300.
    #[error("CLAB_KEYS_CACHE_TTL_SECS must be a whole number of seconds from 0 (off) to 300")]
    InvalidCacheTtl,
    /// `CLAB_KEYS_INVALIDATION_FEED` names no feed.
    #[error("CLAB_KEYS_INVALIDATION_FEED must be postgres, changelog, redis or none")]
    InvalidFeed,
    /// `CLAB_KEYS_INVALIDATION_FEED=postgres` with a database that is not PostgreSQL.
    #[error(
        "CLAB_KEYS_INVALIDATION_FEED=postgres needs a PostgreSQL DATABASE_URL (postgres: or \
         postgresql:), but DATABASE_URL names a {0} database; choose changelog or redis"
    )]
    FeedNeedsPostgres(&'static str),
    /// `CLAB_KEYS_INVALIDATION_FEED=redis` without `CLAB_KEYS_REDIS_URL`.
    #[error(
        "CLAB_KEYS_INVALIDATION_FEED=redis needs CLAB_KEYS_REDIS_URL (e.g. redis://127.0.0.1:6379)"
    )]
    FeedNeedsRedisUrl,
    /// `CLAB_KEYS_REDIS_URL` is set while `CLAB_KEYS_INVALIDATION_FEED` chooses another feed.
    #[error(
        "CLAB_KEYS_REDIS_URL is set but CLAB_KEYS_INVALIDATION_FEED={0} does not use Redis; \
         unset one of them"
    )]
    RedisUrlUnused(&'static str),
    /// `CLAB_KEYS_REDIS_URL` is not a Redis URL.
    #[error(
        "CLAB_KEYS_REDIS_URL must be a Redis URL starting with redis://, redis+unix:// or \
         unix:// (the example apps are built without TLS, so not rediss://)"
    )]
    InvalidRedisUrl,
    /// `CLAB_KEYS_INVALIDATION_FEED=none` with a cache TTL above 5 s.
    #[error(
        "CLAB_KEYS_INVALIDATION_FEED=none allows CLAB_KEYS_CACHE_TTL_SECS of at most 5 (without \
         a feed, a key revoked on another instance is accepted here until its cache entry \
         expires), but it is {0}; lower CLAB_KEYS_CACHE_TTL_SECS or choose a feed"
    )]
    CacheTooLongWithoutFeed(u32),
    /// `SEED_DEMO_USERS` is neither `0` nor `1`.
    #[error("SEED_DEMO_USERS must be 1 (seed the demo users) or 0 (do not)")]
    InvalidSeedDemoUsers,
    /// `CLAB_KEYS_LOGIN_CONCURRENCY`, `CLAB_KEYS_FAILED_LOGINS_PER_MINUTE` or
    /// `CLAB_KEYS_TRUSTED_PROXIES` is invalid.
    #[error(transparent)]
    LoginLimit(#[from] LoginLimitError),
    /// `CLAB_KEYS_MAX_LIFETIME_DAYS` or `CLAB_KEYS_REAUTH_MAX_AGE_MINUTES` is invalid.
    #[error(transparent)]
    KeyPolicy(#[from] KeyPolicyError),
    /// A variable is set but empty (unset it to use the default).
    #[error("{0} is set but empty; unset it to use the default")]
    Empty(&'static str),
    /// A variable is not valid UTF-8.
    #[error("{0} is not valid UTF-8")]
    NotUnicode(&'static str),
    /// A development secret could not be generated.
    #[error("could not generate a development secret")]
    Entropy(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The configuration of an example app.
///
/// ```
/// use clab_keys_example_common::Config;
/// let config = Config::from_lookup("127.0.0.1:3000", |_| None).unwrap();
/// assert_eq!(config.addr().port(), 3000);
/// assert!(config.uses_dev_pepper());
/// assert!(!format!("{config:?}").contains(&format!("{:?}", config.jwt_secret().expose_secret())));
/// ```
pub struct Config {
    addr: SocketAddr,
    database_url: String,
    jwt_secret: JwtSecret,
    pepper: Pepper,
    dev_jwt_secret: bool,
    dev_pepper: bool,
    cache_ttl_secs: u32,
    feed: FeedKind,
    redis_url: Option<SecretString>,
    seed_demo_users: bool,
    key_policy: KeyPolicy,
    login_limits: LoginLimitsConfig,
}

static JWT_NOTICE_SHOWN: AtomicBool = AtomicBool::new(false);
static PEPPER_NOTICE_SHOWN: AtomicBool = AtomicBool::new(false);

impl Config {
    /// Reads the configuration from the process environment. `default_addr` is the listen
    /// address when `ADDR` is unset (`127.0.0.1:3000` for axum, `127.0.0.1:3001` for actix).
    ///
    /// When `JWT_SECRET` or `CLAB_KEYS_PEPPER` is unset a random development value is used,
    /// and a notice saying so (never the value) is printed on stderr, once per process.
    ///
    /// # Errors
    ///
    /// Returns a [`ConfigError`] naming the variable that is invalid.
    pub fn from_env(default_addr: &str) -> Result<Self, ConfigError> {
        let mut vars = HashMap::new();
        for name in ENV_VARS
            .into_iter()
            .chain(crate::login_limits::ENV_VARS)
            .chain(crate::key_policy::ENV_VARS)
        {
            if let Some(value) = std::env::var_os(name) {
                let value = value
                    .into_string()
                    .map_err(|_| ConfigError::NotUnicode(name))?;
                vars.insert(name, value);
            }
        }
        let config = Self::from_lookup(default_addr, |name| vars.get(name).cloned())?;
        for notice in config.dev_notices() {
            let shown = if notice == DEV_JWT_SECRET_NOTICE {
                &JWT_NOTICE_SHOWN
            } else {
                &PEPPER_NOTICE_SHOWN
            };
            if !shown.swap(true, Ordering::SeqCst) {
                eprintln!("{notice}");
            }
        }
        Ok(config)
    }

    /// Like [`Config::from_env`] but prints the error on stderr and exits with status 2 when the
    /// configuration is invalid. Meant for `main`.
    pub fn from_env_or_exit(default_addr: &str) -> Self {
        match Self::from_env(default_addr) {
            Ok(config) => config,
            Err(e) => crate::exit_with_error("invalid configuration", &e, 2),
        }
    }

    /// Builds the configuration from `lookup` (a variable name → its value), printing nothing.
    /// Used by [`Config::from_env`] and by tests.
    ///
    /// # Errors
    ///
    /// Returns a [`ConfigError`] naming the variable that is invalid.
    pub fn from_lookup(
        default_addr: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &'static str| -> Result<Option<String>, ConfigError> {
            match lookup(name) {
                Some(v) if v.trim().is_empty() => Err(ConfigError::Empty(name)),
                other => Ok(other),
            }
        };

        let addr_text = get("ADDR")?.unwrap_or_else(|| default_addr.to_owned());
        let addr = addr_text
            .trim()
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError::InvalidAddr(addr_text.clone()))?;

        let database_url = get("DATABASE_URL")?
            .map_or_else(|| DEFAULT_DATABASE_URL.to_owned(), |v| v.trim().to_owned());
        if backend_of(&database_url).is_none() {
            return Err(ConfigError::InvalidDatabaseUrl);
        }

        let (jwt_secret, dev_jwt_secret) = match get("JWT_SECRET")? {
            Some(secret) => {
                let secret = zeroize::Zeroizing::new(secret);
                (JwtSecret::new(secret.as_bytes())?, false)
            }
            None => (JwtSecret::generate()?, true),
        };

        let (pepper, dev_pepper) = match get("CLAB_KEYS_PEPPER")? {
            Some(encoded) => {
                let encoded = zeroize::Zeroizing::new(encoded);
                (
                    Pepper::from_base64(&encoded).map_err(ConfigError::InvalidPepper)?,
                    false,
                )
            }
            None => {
                // The base64 form is dropped (and zeroed) at once: nothing prints it.
                let (pepper, _encoded) =
                    Pepper::generate().map_err(|e| ConfigError::Entropy(Box::new(e)))?;
                (pepper, true)
            }
        };

        // The verification cache (contract §4) is on by default: the invalidation feed, not
        // the TTL, bounds how long another instance accepts a revoked key.
        let cache_ttl_secs = match get("CLAB_KEYS_CACHE_TTL_SECS")? {
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_CACHE_TTL_SECS)
                .ok_or(ConfigError::InvalidCacheTtl)?,
            None => DEFAULT_CACHE_TTL_SECS,
        };

        // The Redis URL may hold a password: kept secret, never echoed in an error.
        let redis_url =
            get("CLAB_KEYS_REDIS_URL")?.map(|url| SecretString::from(url.trim().to_owned()));
        if redis_url
            .as_ref()
            .is_some_and(|url| !feed::is_redis_url(url.expose_secret()))
        {
            return Err(ConfigError::InvalidRedisUrl);
        }
        let forced = get("CLAB_KEYS_INVALIDATION_FEED")?;
        let feed = feed::choose(
            forced.as_deref(),
            backend_of(&database_url).unwrap_or("unknown"),
            redis_url.is_some(),
            cache_ttl_secs,
        )?;

        // The demo users have published passwords: they go only into the default SQLite file,
        // never silently into a database given by `DATABASE_URL`, unless asked for.
        let seed_demo_users = match get("SEED_DEMO_USERS")?.as_deref().map(str::trim) {
            Some("1") => true,
            Some("0") => false,
            Some(_) => return Err(ConfigError::InvalidSeedDemoUsers),
            None => database_url == DEFAULT_DATABASE_URL,
        };

        let key_policy = KeyPolicy::from_lookup(&get)?;
        let login_limits = LoginLimitsConfig::from_lookup(get)?;

        Ok(Self {
            addr,
            database_url,
            jwt_secret,
            pepper,
            dev_jwt_secret,
            dev_pepper,
            cache_ttl_secs,
            feed,
            redis_url,
            seed_demo_users,
            login_limits,
            key_policy,
        })
    }

    /// The listen address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The database URL. It may contain a password: do not log it (see
    /// [`Config::database_backend`]).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The database kind (`sqlite`, `postgres` or `mysql`), safe to log.
    pub fn database_backend(&self) -> &'static str {
        backend_of(&self.database_url).unwrap_or("unknown")
    }

    /// The JWT signing secret.
    pub fn jwt_secret(&self) -> &JwtSecret {
        &self.jwt_secret
    }

    /// The key-hashing pepper (version 1).
    pub fn pepper(&self) -> &Pepper {
        &self.pepper
    }

    /// Whether `JWT_SECRET` was unset and a development secret is in use.
    pub fn uses_dev_jwt_secret(&self) -> bool {
        self.dev_jwt_secret
    }

    /// Whether `CLAB_KEYS_PEPPER` was unset and a development pepper is in use.
    pub fn uses_dev_pepper(&self) -> bool {
        self.dev_pepper
    }

    /// The notices [`Config::from_env`] prints for development values (they contain no value).
    pub fn dev_notices(&self) -> Vec<&'static str> {
        let mut notices = Vec::new();
        if self.dev_jwt_secret {
            notices.push(DEV_JWT_SECRET_NOTICE);
        }
        if self.dev_pepper {
            notices.push(DEV_PEPPER_NOTICE);
        }
        notices
    }

    /// The verification cache TTL in seconds from `CLAB_KEYS_CACHE_TTL_SECS` (default
    /// [`DEFAULT_CACHE_TTL_SECS`]); 0 means no cache.
    pub fn cache_ttl_secs(&self) -> u32 {
        self.cache_ttl_secs
    }

    /// The invalidation feed: `CLAB_KEYS_INVALIDATION_FEED` when set, otherwise Redis when
    /// `CLAB_KEYS_REDIS_URL` is set, otherwise the one that matches the database (PostgreSQL
    /// `LISTEN/NOTIFY`, or the change-log poll for MySQL/MariaDB and SQLite).
    pub fn invalidation_feed(&self) -> FeedKind {
        self.feed
    }

    /// `CLAB_KEYS_REDIS_URL`, if set. It may contain a password: do not log it.
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url.as_ref().map(|url| url.expose_secret())
    }

    /// What [`crate::AppState::from_config`] prints at start: the cache TTL and the feed, in
    /// words. It contains no secret and no URL.
    pub fn cache_summary(&self) -> String {
        feed::summary(self.cache_ttl_secs, self.feed)
    }

    /// The key service configuration this implies (the defaults, plus the cache if enabled).
    pub fn key_config(&self) -> clab_keys::KeyServiceConfig {
        let cache = (self.cache_ttl_secs > 0).then(|| {
            clab_keys::CacheConfig::default()
                .ttl(time::Duration::seconds(i64::from(self.cache_ttl_secs)))
        });
        clab_keys::KeyServiceConfig::default()
            .cache(cache)
            .max_lifetime(self.key_policy.max_lifetime())
    }

    /// The key lifetime and re-authentication policy (`CLAB_KEYS_MAX_LIFETIME_DAYS`,
    /// `CLAB_KEYS_REAUTH_MAX_AGE_MINUTES`).
    pub fn key_policy(&self) -> KeyPolicy {
        self.key_policy
    }

    /// Whether the demo users (published passwords) are seeded: by default only into the
    /// default SQLite file; `SEED_DEMO_USERS=1` or `0` decides for any database.
    pub fn seeds_demo_users(&self) -> bool {
        self.seed_demo_users
    }

    /// The login flood bound and failed-login throttling (`CLAB_KEYS_LOGIN_CONCURRENCY`,
    /// `CLAB_KEYS_FAILED_LOGINS_PER_MINUTE`, `CLAB_KEYS_TRUSTED_PROXIES`).
    pub fn login_limits(&self) -> &LoginLimitsConfig {
        &self.login_limits
    }

    /// Splits the configuration into what [`crate::AppState::from_config`] consumes.
    pub(crate) fn into_parts(self) -> (String, JwtSecret, Pepper, Option<SecretString>) {
        (
            self.database_url,
            self.jwt_secret,
            self.pepper,
            self.redis_url,
        )
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database_backend", &self.database_backend())
            .field("jwt_secret", &self.jwt_secret)
            .field("pepper", &self.pepper)
            .field("dev_jwt_secret", &self.dev_jwt_secret)
            .field("cache_ttl_secs", &self.cache_ttl_secs)
            .field("invalidation_feed", &self.feed)
            .field("redis_url", &self.redis_url.as_ref().map(|_| "[REDACTED]"))
            .field("dev_pepper", &self.dev_pepper)
            .field("seed_demo_users", &self.seed_demo_users)
            .field("login_limits", &self.login_limits)
            .field("key_policy", &self.key_policy)
            .finish()
    }
}

/// The database kind a URL names, by its scheme.
pub(crate) fn backend_of(url: &str) -> Option<&'static str> {
    let scheme = url.split_once(':')?.0.to_ascii_lowercase();
    match scheme.as_str() {
        "sqlite" => Some("sqlite"),
        "postgres" | "postgresql" => Some("postgres"),
        "mysql" => Some("mysql"),
        _ => None,
    }
}
