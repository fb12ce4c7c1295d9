//! [`AppState`]: the database, the key service, the credential router and the JWT issuer, and
//! the example-only handlers (login, `users/me`, `healthz`) as framework-neutral responses.

use std::net::IpAddr;
use std::sync::Arc;

use clab_keys::sea_orm::SeaOrmStore;
use clab_keys::{
    ApiResponse, CredentialRouter, FeedError, InvalidationFeed, KeyHasher, KeyService,
    KeyServiceConfig, Pepper, Principal, Realm, Rejection, RejectionKind,
};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret as _;

use crate::config::{Config, JwtSecret};
use crate::db::{self, DatabaseError};
use crate::jwt::{JwtAuth, JwtIssueError};
use crate::login::{self, LoginError, LoginResponse};
use crate::login_limits::{LoginLimits, LoginLimitsConfig};
use crate::password;

/// The realm named in every `WWW-Authenticate` challenge of the example apps.
pub const REALM: &str = "clab-keys-example";

/// The pepper version the configured pepper hashes keys under.
pub const PEPPER_VERSION: u16 = 1;

/// The app state could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The database could not be connected, migrated or seeded.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// The key service or router rejected its configuration.
    #[error("invalid key service configuration")]
    Keys(#[source] clab_keys::ConfigError),
    /// The invalidation feed could not be started (its database or Redis is unreachable).
    #[error("the invalidation feed ({feed}) could not be started")]
    Feed {
        /// The feed, as `CLAB_KEYS_INVALIDATION_FEED` names it.
        feed: crate::feed::FeedKind,
        /// Why.
        #[source]
        source: FeedError,
    },
    /// The JWT keys could not be built.
    #[error("invalid JWT configuration")]
    Jwt(#[source] JwtIssueError),
}

/// Everything the example apps share at run time. Cheap to clone (one `Arc`).
///
/// The apps hand [`AppState::router`] to the clab-keys adapter (the axum router or the actix
/// scope) and route the example-only endpoints to [`AppState::login_response`],
/// [`AppState::me`] and [`AppState::healthz`].
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: DatabaseConnection,
    router: CredentialRouter,
    jwt: JwtAuth,
    login_limits: LoginLimits,
}

/// Builds an [`AppState`] over a database that is already migrated.
#[derive(Debug)]
pub struct AppStateBuilder {
    db: DatabaseConnection,
    jwt_secret: JwtSecret,
    pepper: Pepper,
    key_config: KeyServiceConfig,
    feed: Option<Arc<dyn InvalidationFeed>>,
    reauthentication: Option<time::Duration>,
    login_limits: LoginLimitsConfig,
}

impl AppStateBuilder {
    /// Limits and windows of the key service (default: [`KeyServiceConfig::default`]: 10
    /// active keys per user, 60 s `last_used_at` debounce).
    pub fn key_config(mut self, config: KeyServiceConfig) -> Self {
        self.key_config = config;
        self
    }

    /// The invalidation feed that carries revocations to every instance sharing the database
    /// (default: none, which limits the cache TTL to 5 s).
    pub fn invalidation_feed(mut self, feed: Arc<dyn InvalidationFeed>) -> Self {
        self.feed = Some(feed);
        self
    }

    /// The login flood bound and failed-login throttling (default:
    /// [`LoginLimitsConfig::default`]: as many Argon2 checks at once as the machine has
    /// threads, 10 failed logins per address per minute).
    pub fn login_limits(mut self, config: LoginLimitsConfig) -> Self {
        self.login_limits = config;
        self
    }

    /// How recent a login must be to create or rotate a key (`None`, the default: any
    /// session may); see `CredentialRouter::with_reauthentication`.
    pub fn reauthentication(mut self, max_age: Option<time::Duration>) -> Self {
        self.reauthentication = max_age;
        self
    }

    /// Builds the key service (SeaORM store, HMAC-SHA256 with the pepper as version
    /// [`PEPPER_VERSION`]), the JWT issuer and verifier, and the credential router (API keys
    /// and JWTs, realm [`REALM`]).
    ///
    /// # Errors
    ///
    /// Returns [`SetupError::Keys`] or [`SetupError::Jwt`] for invalid configuration.
    pub fn build(self) -> Result<AppState, SetupError> {
        let hasher = KeyHasher::hmac(PEPPER_VERSION, self.pepper).map_err(SetupError::Keys)?;
        let mut keys =
            KeyService::builder(SeaOrmStore::new(self.db.clone()), hasher).config(self.key_config);
        if let Some(feed) = self.feed {
            keys = keys.invalidation_feed(feed);
        }
        let keys = keys.build().map_err(SetupError::Keys)?;
        let jwt = JwtAuth::new(&self.jwt_secret).map_err(SetupError::Jwt)?;
        let realm = Realm::new(REALM).map_err(SetupError::Keys)?;
        let mut router = CredentialRouter::new(keys)
            .with_jwt(jwt.clone())
            .with_realm(realm);
        if let Some(max_age) = self.reauthentication {
            router = router.with_reauthentication(max_age);
        }
        Ok(AppState {
            inner: Arc::new(Inner {
                db: self.db,
                router,
                jwt,
                login_limits: LoginLimits::new(&self.login_limits),
            }),
        })
    }
}

impl AppState {
    /// Starts building a state over `db`, which must already be migrated (see
    /// [`crate::db::setup`]).
    pub fn builder(
        db: DatabaseConnection,
        jwt_secret: JwtSecret,
        pepper: Pepper,
    ) -> AppStateBuilder {
        AppStateBuilder {
            db,
            jwt_secret,
            pepper,
            key_config: KeyServiceConfig::default(),
            reauthentication: None,
            feed: None,
            login_limits: LoginLimitsConfig::default(),
        }
    }

    /// Connects to the configured database, migrates it, seeds the demo users when the
    /// configuration says so ([`Config::seeds_demo_users`]), starts the invalidation feed
    /// ([`Config::invalidation_feed`]) and builds the state: the whole start-up of an example
    /// app. Prints the cache TTL and the feed on stdout ([`Config::cache_summary`]).
    ///
    /// # Errors
    ///
    /// Returns [`SetupError`] when any step fails.
    pub async fn from_config(config: Config) -> Result<Self, SetupError> {
        let backend = config.database_backend();
        let key_config = config.key_config();
        let reauthentication = config.key_policy().reauthentication();
        let seed = config.seeds_demo_users();
        let feed_kind = config.invalidation_feed();
        let summary = config.cache_summary();
        let login_limits = config.login_limits().clone();
        let (url, jwt_secret, pepper, redis_url) = config.into_parts();
        let db = db::setup(&url, seed).await?;
        tracing::info!(backend, demo_users = seed, "database ready");
        let redis_url = redis_url.as_ref().map(|u| u.expose_secret());
        let feed = crate::feed::build(feed_kind, &db, redis_url)
            .await
            .map_err(|source| SetupError::Feed {
                feed: feed_kind,
                source,
            })?;
        let mut builder = Self::builder(db, jwt_secret, pepper)
            .key_config(key_config)
            .reauthentication(reauthentication)
            .login_limits(login_limits);
        if let Some(feed) = feed {
            builder = builder.invalidation_feed(feed);
        }
        let state = builder.build()?;
        tracing::info!(feed = %feed_kind, "{summary}");
        println!("{summary}");
        Ok(state)
    }

    /// The database connection.
    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// The credential router (API keys and JWTs): what the clab-keys adapters take.
    pub fn router(&self) -> &CredentialRouter {
        &self.inner.router
    }

    /// The key service.
    pub fn keys(&self) -> &KeyService {
        self.inner.router.keys()
    }

    /// The JWT issuer and verifier.
    pub fn jwt(&self) -> &JwtAuth {
        &self.inner.jwt
    }

    /// The realm of every challenge.
    pub fn realm(&self) -> &Realm {
        self.inner.router.realm()
    }

    /// Authenticates a request from its `Authorization` header lines.
    ///
    /// # Errors
    ///
    /// Returns the [`Rejection`] to answer with (400, 401 or 503).
    pub async fn authenticate<'a, I>(&self, lines: I) -> Result<Principal, Rejection>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        self.inner.router.authenticate(lines).await
    }

    /// The address a login from `peer` is counted against: `peer` itself, or, when `peer` is
    /// one of `CLAB_KEYS_TRUSTED_PROXIES`, the client `X-Forwarded-For` names (its lines, in
    /// order). See [`LoginLimits::client_address`].
    pub fn login_client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    ) -> IpAddr {
        self.inner.login_limits.client_address(peer, forwarded_for)
    }

    /// The login flood bound and failed-login throttling.
    pub fn login_limits(&self) -> &LoginLimits {
        &self.inner.login_limits
    }

    /// Checks an email and password from `client` and issues a 60-minute session token.
    /// Unknown emails and wrong passwords fail alike, take the same Argon2 work and count
    /// alike against the address. A throttled address is refused before any look-up; the
    /// Argon2 check waits for a hashing slot (contract §7).
    ///
    /// # Errors
    ///
    /// [`LoginError::InvalidCredentials`] for a bad email or password,
    /// [`LoginError::Throttled`] when the address failed too often this minute,
    /// [`LoginError::Busy`] when no hashing slot freed up in time,
    /// [`LoginError::Unavailable`] when the database fails, [`LoginError::Internal`] when
    /// hashing or signing fails.
    pub async fn login(
        &self,
        client: IpAddr,
        email: &str,
        password: &str,
    ) -> Result<LoginResponse, LoginError> {
        let attempt = self.inner.login_limits.begin(client).inspect_err(|_| {
            tracing::info!("login refused: too many failed logins from this address");
        })?;
        let email = login::normalize_email(email);
        let user = db::find_user_by_email(&self.inner.db, &email)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "user look-up failed during login");
                LoginError::Unavailable(e)
            })?;
        let (user_id, stored) = match user {
            Some(u) => (Some(u.id), Some(u.password_hash)),
            None => (None, None),
        };
        let permit = self
            .inner
            .login_limits
            .hashing_permit()
            .await
            .inspect_err(|_| tracing::warn!("login refused: every hashing slot is busy"))?;
        let ok = password::verify_password_holding(password.to_owned(), stored, permit).await?;
        match user_id {
            Some(id) if ok => {
                drop(attempt);
                let token = self.inner.jwt.issue(id)?;
                tracing::info!(user_id = id, "login succeeded");
                Ok(LoginResponse::new(token, id))
            }
            _ => {
                attempt.failed();
                tracing::info!("login failed: invalid credentials");
                Err(LoginError::InvalidCredentials)
            }
        }
    }

    /// `POST /api/auth/login` from `client` (see [`AppState::login_client`]) with a JSON body
    /// `{"email", "password"}`: `200` with the token, `400` for a malformed body, `401`
    /// `invalid_credentials`, `429` `too_many_failed_attempts`, `503` `login_busy` in a flood
    /// or `temporarily_unavailable` when the database fails.
    pub async fn login_response(&self, client: IpAddr, body: &[u8]) -> ApiResponse {
        let result = match login::parse_body(body) {
            Ok(b) => self.login(client, &b.email, &b.password).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(response) => response.to_response(),
            Err(e) => {
                if let LoginError::Internal(source) = &e {
                    tracing::error!(error = %source, "login failed");
                }
                e.to_response()
            }
        }
    }

    /// `GET /api/security/users/me`: `{"id", "email", "auth": "jwt" | "api_key"}` for the
    /// authenticated principal. A user that no longer exists is `401 invalid_token`; a
    /// database failure is `503`.
    pub async fn me(&self, principal: &Principal) -> ApiResponse {
        let Ok(id) = principal.user_id().parse::<i64>() else {
            return self.reject(RejectionKind::InvalidToken);
        };
        match db::find_user_by_id(&self.inner.db, id).await {
            Ok(Some(user)) => ApiResponse::json(
                200,
                &serde_json::json!({
                    "id": user.id,
                    "email": user.email,
                    "auth": principal.kind().as_str(),
                }),
            ),
            Ok(None) => self.reject(RejectionKind::InvalidToken),
            Err(e) => {
                tracing::error!(error = %e, "user look-up failed");
                self.reject(RejectionKind::Unavailable)
            }
        }
    }

    /// `GET /healthz`: `200 {"status":"ok"}` when the database answers a ping, else `503
    /// {"status":"unavailable"}`.
    pub async fn healthz(&self) -> ApiResponse {
        match self.inner.db.ping().await {
            Ok(()) => ApiResponse::json(200, &serde_json::json!({ "status": "ok" })),
            Err(e) => {
                tracing::error!(error = %e, "health check: database ping failed");
                let mut response = ApiResponse::json(
                    503,
                    &serde_json::json!({
                        "status": "unavailable",
                        "error": "temporarily_unavailable",
                        "message": "the database is not reachable",
                    }),
                );
                response.headers.push(("retry-after", "5".to_owned()));
                response
            }
        }
    }

    /// Waits for pending background writes (`last_used_at`, re-hashes). Call it on graceful
    /// shutdown, before the runtime stops.
    pub async fn shutdown(&self) {
        self.keys().flush().await;
    }

    fn reject(&self, kind: RejectionKind) -> ApiResponse {
        self.inner.router.reject(kind).to_response()
    }
}
