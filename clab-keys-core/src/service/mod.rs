//! The key service (contract §4): create, list, revoke and authenticate, with the per-user limit,
//! expiry, soft revocation and the `last_used_at` debounce.

mod background;
mod cache;
mod config;
mod errors;
mod feed;
mod lifecycle;
mod listing;
mod owner;
mod rotate;
mod update;

use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::{Clock, SystemClock, from_unix_micros, within_window};
use crate::entropy::{Entropy, OsEntropy};
use crate::error::ConfigError;
use crate::format::{KeyFormats, KeyId, ParseError, ParsedToken};
use crate::hash::{HashCheck, KeyHasher, StoredHash, compare_with_dummy};
use crate::scope::Scopes;
use crate::secret::ApiKey;
use crate::store::{InsertOutcome, KeyRecord, KeyStore, RevocationReason, StoreError};
use crate::user::UserId;

use background::{Background, TouchGuard};
pub use cache::CacheConfig;
use cache::{Cached, MAX_TTL_WITHOUT_FEED, VerificationCache};
pub use config::{KeyServiceConfig, NewKey};
pub use errors::{AuthError, CreateError, InvalidReason, RevokeError, RotateError, UpdateError};
pub use feed::{FeedError, InvalidationFeed, Invalidations, LocalFeed};
pub use listing::{InvalidCursor, InvalidPageLimit, KeyCursor, KeyPage, ListPage};
pub use owner::OwnerCheck;
pub use rotate::{MAX_ROTATION_GRACE, RotatedKey};
pub use update::KeyUpdate;

/// Most attempts at finding an unused key id before giving up. With 62^8 ids a second
/// attempt is already rare.
const INSERT_ATTEMPTS: usize = 8;

/// The key service: creates, lists, revokes and verifies keys over a [`KeyStore`]. Cheap to
/// clone (one `Arc`); share one per application.
///
/// The hasher is a required, explicit choice: HMAC-SHA256 with a pepper from configuration.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use clab_keys::{KeyHasher, KeyService, MemoryStore, NewKey, Pepper, UserId};
/// // In production, the pepper comes from configuration (base64, at least 32 bytes).
/// let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
/// let service = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper).unwrap())
///     .build()
///     .unwrap();
/// let user = UserId::from(7_i64);
/// let created = service.create(&user, NewKey::new("laptop")).await.unwrap();
/// let key = service.authenticate(created.token.expose_secret().as_bytes()).await.unwrap();
/// assert_eq!(key.user_id, user);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct KeyService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn KeyStore>,
    formats: KeyFormats,
    hasher: KeyHasher,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    config: KeyServiceConfig,
    touches: TouchGuard,
    background: Background,
    cache: Option<Arc<VerificationCache>>,
    feed: Option<Arc<dyn InvalidationFeed>>,
    owner_check: Option<Arc<dyn OwnerCheck>>,
}

/// Builds a [`KeyService`]. Every setting has a default except the store and the hasher.
#[derive(Debug)]
pub struct KeyServiceBuilder {
    store: Arc<dyn KeyStore>,
    formats: KeyFormats,
    hasher: KeyHasher,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    config: KeyServiceConfig,
    feed: Option<Arc<dyn InvalidationFeed>>,
    owner_check: Option<Arc<dyn OwnerCheck>>,
}

impl KeyServiceBuilder {
    /// The accepted token formats; the first issues new keys. Default: `clab_user_` only.
    pub fn formats(mut self, formats: KeyFormats) -> Self {
        self.formats = formats;
        self
    }

    /// The clock. Default: [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The entropy source. Default: [`OsEntropy`].
    pub fn entropy(mut self, entropy: impl Entropy) -> Self {
        self.entropy = Arc::new(entropy);
        self
    }

    /// Limits and windows. Default: [`KeyServiceConfig::default`].
    pub fn config(mut self, config: KeyServiceConfig) -> Self {
        self.config = config;
        self
    }

    /// The invalidation feed that carries revocations to every instance sharing the store
    /// (contract §4): the service announces on it every key it takes out of use, and its
    /// verification cache evicts what the feed delivers and is bypassed while the feed is not
    /// caught up. Default: none, which limits the cache TTL to 5 seconds. One instance alone
    /// on its store declares so with [`LocalFeed`].
    pub fn invalidation_feed(mut self, feed: Arc<dyn InvalidationFeed>) -> Self {
        self.feed = Some(feed);
        self
    }

    /// The application's check that a key's owner may still use it (a disabled account's keys
    /// stop at once). Default: none, every owner is active.
    pub fn owner_check(mut self, check: Arc<dyn OwnerCheck>) -> Self {
        self.owner_check = Some(check);
        self
    }

    /// Builds the service. With a feed, subscribes to it (a feed that needs a connection
    /// spawns its task on the current tokio runtime).
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::InvalidLimit`] when a limit in the configuration is out of range,
    /// or when a cache without an invalidation feed would keep entries longer than 5 seconds
    /// (another instance's revocation would go unseen that long).
    pub fn build(self) -> Result<KeyService, ConfigError> {
        self.config.validate()?;
        if self.feed.is_none()
            && self
                .config
                .cache
                .is_some_and(|c| c.ttl > MAX_TTL_WITHOUT_FEED)
        {
            return Err(ConfigError::InvalidLimit(
                "a cache without an invalidation feed may keep entries at most 5 seconds; \
                 configure a feed (LocalFeed when no other instance shares the store)",
            ));
        }
        let cache = self.config.cache.map(|c| {
            let fed = self.feed.is_some();
            Arc::new(VerificationCache::new(c, fed, self.config.last_used_window))
        });
        if let Some(feed) = &self.feed {
            feed.subscribe(
                cache
                    .as_ref()
                    .map_or_else(Invalidations::closed, Invalidations::new),
            );
        }
        Ok(KeyService {
            inner: Arc::new(Inner {
                touches: TouchGuard::new(self.config.last_used_window),
                cache,
                feed: self.feed,
                owner_check: self.owner_check,
                store: self.store,
                formats: self.formats,
                hasher: self.hasher,
                clock: self.clock,
                entropy: self.entropy,
                config: self.config,
                background: Background::default(),
            }),
        })
    }
}

impl KeyService {
    /// Starts building a service over `store`, hashing with `hasher` (see [`KeyHasher::hmac`]).
    pub fn builder(store: impl KeyStore, hasher: KeyHasher) -> KeyServiceBuilder {
        Self::builder_shared(Arc::new(store), hasher)
    }

    /// Starts building a service over a store that is already shared.
    pub fn builder_shared(store: Arc<dyn KeyStore>, hasher: KeyHasher) -> KeyServiceBuilder {
        KeyServiceBuilder {
            store,
            formats: KeyFormats::default(),
            hasher,
            clock: Arc::new(SystemClock),
            entropy: Arc::new(OsEntropy),
            config: KeyServiceConfig::default(),
            feed: None,
            owner_check: None,
        }
    }

    /// The accepted token formats.
    pub fn formats(&self) -> &KeyFormats {
        &self.inner.formats
    }

    /// The configuration.
    pub fn config(&self) -> &KeyServiceConfig {
        &self.inner.config
    }

    /// The current time by the service's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// Creates a key for `user` and returns it with its plaintext token, which is never
    /// available again.
    ///
    /// # Errors
    ///
    /// [`CreateError::InvalidName`], [`CreateError::InvalidExpiry`] and
    /// [`CreateError::InvalidScopes`] for bad input (nothing is stored);
    /// [`CreateError::LimitReached`] when the user already has the maximum number of active
    /// keys; [`CreateError::Store`] and [`CreateError::Entropy`] for failures.
    pub async fn create(&self, user: &UserId, new: NewKey) -> Result<CreatedKey, CreateError> {
        let inner = &*self.inner;
        let now = inner.clock.now();
        let name = config::validate_name(&new.name)?;
        let expires_at = inner.config.resolve_expiry(&new, now)?;
        let scopes = Scopes::new(&new.scopes).map_err(|_| CreateError::InvalidScopes)?;
        let format = inner.formats.primary();
        for _ in 0..INSERT_ATTEMPTS {
            let (key_id, token) = format.generate(&*inner.entropy)?;
            let record = KeyRecord {
                key_id,
                prefix: format.prefix().as_str().to_owned(),
                user_id: user.clone(),
                name: name.clone(),
                hash: inner.hasher.hash(token.expose_secret().as_bytes()),
                scopes: scopes.clone(),
                created_at: now,
                expires_at,
                last_used_at: None,
                revoked_at: None,
                revocation_reason: None,
                replaced_by: None,
                expiry_notified_at: None,
            };
            match inner
                .store
                .insert_within_limit(&record, inner.config.max_active_keys, now)
                .await?
            {
                InsertOutcome::Inserted => {
                    tracing::info!(
                        target: "clab_keys::audit",
                        event = "authn_token_created",
                        key_id = %key_id,
                        user_id = %user,
                        "api key created"
                    );
                    return Ok(CreatedKey {
                        token,
                        key: KeyInfo::from(record),
                    });
                }
                InsertOutcome::LimitReached => {
                    return Err(CreateError::LimitReached {
                        limit: inner.config.max_active_keys,
                    });
                }
                InsertOutcome::DuplicateKeyId => {
                    tracing::debug!(target: "clab_keys", key_id = %key_id, "key id collision, retrying");
                }
            }
        }
        Err(CreateError::KeyIdCollisions)
    }

    /// Lists a user's keys (metadata only), newest first.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    pub async fn list(&self, user: &UserId) -> Result<Vec<KeyInfo>, StoreError> {
        let records = self.inner.store.list(user).await?;
        Ok(records.into_iter().map(KeyInfo::from).collect())
    }

    /// Revokes one of `user`'s keys (soft: the row stays for audit). Idempotent. A key id that
    /// is malformed, unknown or another user's is [`RevokeError::NotFound`], all alike.
    ///
    /// # Errors
    ///
    /// [`RevokeError::NotFound`] as above; [`RevokeError::Store`] when the store fails.
    pub async fn revoke(&self, user: &UserId, key_id: &str) -> Result<(), RevokeError> {
        self.revoke_with_reason(user, key_id, RevocationReason::User)
            .await
    }

    /// Takes `key_ids` out of every cache: evicts them here, then announces them on the
    /// invalidation feed. Called after the store change that took them out of use committed.
    /// A failed announcement is an error (the caller reports the change as failed; it is
    /// stored, and a retry announces again).
    pub(crate) async fn out_of_use(&self, key_ids: &[KeyId]) -> Result<(), StoreError> {
        if let Some(cache) = &self.inner.cache {
            for key_id in key_ids {
                cache.evict(key_id);
            }
        }
        if let Some(feed) = &self.inner.feed {
            feed.publish(key_ids).await.map_err(|e| {
                tracing::error!(target: "clab_keys", error = %e, "announcing revoked api keys failed");
                StoreError::new("the change is stored but other instances were not told", e)
            })?;
        }
        Ok(())
    }

    /// Authenticates a presented token: parse → checksum → lookup by id → constant-time hash
    /// compare → not revoked → not expired. Malformed tokens never reach the store. An unknown
    /// id costs one hash and one compare, like a wrong secret, and yields the same error.
    ///
    /// # Errors
    ///
    /// [`AuthError::Malformed`] (store untouched), [`AuthError::Invalid`] (same outward error
    /// for every reason), [`AuthError::Unavailable`] when the store fails (fail closed).
    pub async fn authenticate(&self, token: &[u8]) -> Result<VerifiedKey, AuthError> {
        let parsed = self.parse(token)?;
        let key_id = parsed.key_id();
        // One clock reading; a date is built from it only when the cache cannot answer.
        let now_micros = self.inner.clock.now_micros();
        // The digest under the current pepper: the cache key, and the stored hash of every key
        // not awaiting a re-hash, so one HMAC serves both.
        let current = self.inner.hasher.hash(parsed.expose_token());
        if let Some(key) = self.cached(&current, now_micros).await? {
            return Ok(key);
        }
        let now = from_unix_micros(now_micros);
        // Noted before the store read: an eviction after it voids this verification's insert.
        let generation = self
            .inner
            .cache
            .as_deref()
            .map(VerificationCache::generation);
        let record = self.look_up(key_id, &current).await?;
        let rehash = self.verify(&parsed, &current, &record, now)?;
        self.check_owner(&record).await?;
        let key = VerifiedKey::from_record(&record);
        let used_at = self.effects(&record, current, rehash, now).await;
        if let (Some(cache), Some(seen)) = (&self.inner.cache, generation) {
            cache.insert(*current.digest.as_bytes(), key.clone(), now, used_at, seen);
        }
        Ok(key)
    }

    /// Step 1: the token's format and checksum, before anything else is touched.
    fn parse<'t>(&self, token: &'t [u8]) -> Result<ParsedToken<'t>, AuthError> {
        self.inner.formats.parse(token).map_err(|e| {
            // Nothing of the input is logged: it was not validated.
            tracing::info!(
                target: "clab_keys::audit",
                event = "authn_token_fail",
                reason = if e == ParseError::ChecksumMismatch { "checksum" } else { "malformed" },
                "api key rejected"
            );
            AuthError::Malformed(e)
        })
    }

    /// A fresh verification of the same token from the cache, re-checked against the clock;
    /// its use recorded once per window.
    async fn cached(
        &self,
        current: &StoredHash,
        now: i64,
    ) -> Result<Option<VerifiedKey>, AuthError> {
        let Some(cache) = &self.inner.cache else {
            return Ok(None);
        };
        match cache.get(current.digest.as_bytes(), now) {
            None => Ok(None),
            Some(Cached::Valid { key, use_due }) => {
                if use_due {
                    self.record_use(key.key_id, from_unix_micros(now)).await;
                }
                Ok(Some(key))
            }
            Some(Cached::Expired(key)) => {
                Err(fail(key.key_id, Some(&key.user_id), InvalidReason::Expired))
            }
        }
    }

    /// Step 2: the stored row of the key id. An unknown id does the compare a wrong secret
    /// does, so both cost the same.
    async fn look_up(&self, key_id: KeyId, current: &StoredHash) -> Result<KeyRecord, AuthError> {
        match self.inner.store.find(&key_id).await {
            Ok(Some(record)) => Ok(record),
            Ok(None) => {
                compare_with_dummy(&current.digest);
                Err(fail(key_id, None, InvalidReason::Unknown))
            }
            Err(e) => Err(AuthError::Unavailable(e)),
        }
    }

    /// Step 3: the hash (in constant time), then the key's status. Returns whether the stored
    /// hash should be replaced by one under the current pepper.
    fn verify(
        &self,
        parsed: &ParsedToken<'_>,
        current: &StoredHash,
        record: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<bool, AuthError> {
        let key_id = record.key_id;
        let rehash =
            match self
                .inner
                .hasher
                .check_digest(parsed.expose_token(), current, &record.hash)
            {
                HashCheck::Match { rehash } => rehash,
                HashCheck::UnknownVersion => {
                    let reason = InvalidReason::UnknownHashVersion;
                    return Err(fail(key_id, Some(&record.user_id), reason));
                }
                _ => return Err(fail(key_id, Some(&record.user_id), InvalidReason::Mismatch)),
            };
        // Status checks come only after the digest matched: only the real holder learns them.
        if record.revoked_at.is_some() {
            tracing::warn!(
                target: "clab_keys::audit",
                event = "authn_token_reuse",
                key_id = %key_id,
                user_id = %record.user_id,
                "revoked api key presented"
            );
            return Err(AuthError::Invalid(InvalidReason::Revoked));
        }
        if record.is_expired(now) {
            return Err(fail(key_id, Some(&record.user_id), InvalidReason::Expired));
        }
        Ok(rehash)
    }

    /// Step 3b: the application's owner check, after the key itself was found valid; a failing
    /// check fails closed.
    async fn check_owner(&self, record: &KeyRecord) -> Result<(), AuthError> {
        let Some(check) = &self.inner.owner_check else {
            return Ok(());
        };
        match check.is_active(&record.user_id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(fail(
                record.key_id,
                Some(&record.user_id),
                InvalidReason::OwnerInactive,
            )),
            Err(e) => {
                tracing::error!(target: "clab_keys", key_id = %record.key_id, error = %e, "owner check failed");
                Err(AuthError::Unavailable(e))
            }
        }
    }

    /// Step 4: the writes a successful verification causes, off the critical path: the
    /// re-hash under the current pepper, and `last_used_at` when the row shows none within
    /// the window (only then is the in-process guard, a lock, consulted). Returns the last
    /// use now on record (the row's, or now), from which a cached entry counts its window.
    async fn effects(
        &self,
        record: &KeyRecord,
        current: StoredHash,
        rehash: bool,
        now: OffsetDateTime,
    ) -> OffsetDateTime {
        let key_id = record.key_id;
        if rehash {
            let store = self.inner.store.clone();
            let old = record.hash;
            self.inner
                .background
                .run(async move {
                    if let Err(e) = store.replace_hash(&key_id, &old, &current).await {
                        tracing::warn!(target: "clab_keys", key_id = %key_id, error = %e, "re-hashing api key failed");
                    }
                })
                .await;
        }
        let window = self.inner.touches.window();
        match record.last_used_at {
            Some(t) if within_window(t, now, window) => t,
            _ => {
                self.record_use(key_id, now).await;
                now
            }
        }
    }

    /// Writes `last_used_at` when this process has not done so for the key within the window;
    /// off the critical path (on the current tokio runtime; [`KeyService::flush`] waits for
    /// it). A failed write never changes a result.
    async fn record_use(&self, key_id: KeyId, now: OffsetDateTime) {
        let inner = &*self.inner;
        if !inner.touches.due(key_id, now) {
            return;
        }
        let store = inner.store.clone();
        let cutoff = now - inner.touches.window();
        inner
            .background
            .run(async move {
                if let Err(e) = store.touch(&key_id, now, cutoff).await {
                    tracing::warn!(target: "clab_keys", key_id = %key_id, error = %e, "recording last_used_at failed");
                }
            })
            .await;
    }

    /// Waits until every pending background write (`last_used_at`, re-hash) has finished.
    /// Call it during graceful shutdown.
    pub async fn flush(&self) {
        self.inner.background.idle().await;
    }
}

fn fail(key_id: KeyId, user: Option<&UserId>, reason: InvalidReason) -> AuthError {
    tracing::info!(
        target: "clab_keys::audit",
        event = "authn_token_fail",
        key_id = %key_id,
        user_id = user.map(UserId::as_str),
        reason = reason.as_str(),
        "api key rejected"
    );
    AuthError::Invalid(reason)
}

/// A key that passed verification: what the key service vouches for. The HTTP layer turns
/// it into a [`Principal`](crate::Principal). It cannot be made outside this crate, so holding
/// one means a key was verified:
///
/// ```compile_fail
/// # extern crate clab_keys_core as clab_keys;
/// // Neither a struct literal nor a conversion from a store row makes one.
/// let forged = clab_keys::VerifiedKey {
///     user_id: clab_keys::UserId::from(1_i64),
///     key_id: clab_keys::KeyId::parse("AAAAAAAA").unwrap(),
///     scopes: clab_keys::Scopes::default(),
///     expires_at: None,
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedKey {
    /// The owner.
    pub user_id: UserId,
    /// The public key id.
    pub key_id: KeyId,
    /// The scopes the key is limited to; empty means unrestricted.
    pub scopes: Scopes,
    /// When the key expires, if ever.
    pub expires_at: Option<OffsetDateTime>,
}

impl VerifiedKey {
    /// Only the key service makes one, from a row whose hash it has just matched: there is no
    /// public constructor, so holding a `VerifiedKey` means a key was verified.
    fn from_record(record: &KeyRecord) -> Self {
        Self {
            user_id: record.user_id.clone(),
            key_id: record.key_id,
            scopes: record.scopes.clone(),
            expires_at: record.expires_at,
        }
    }
}

/// A newly created key: its plaintext token (shown once) and its metadata.
#[derive(Debug)]
#[non_exhaustive]
pub struct CreatedKey {
    /// The plaintext token. Show it to the user once; it is never available again.
    pub token: ApiKey,
    /// The key's metadata.
    pub key: KeyInfo,
}

/// What may be shown about a key: everything but the token and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The public key id.
    pub key_id: KeyId,
    /// The owner.
    pub user_id: UserId,
    /// The name.
    pub name: String,
    /// Brand prefix plus key id, such as `clab_user_3fK9xQ2a`.
    pub display_prefix: String,
    /// Scopes; empty means unrestricted.
    pub scopes: Scopes,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Expiry time, if any.
    pub expires_at: Option<OffsetDateTime>,
    /// Last use, to the precision of the debounce window.
    pub last_used_at: Option<OffsetDateTime>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Why the key was revoked; `None` while it is not, and for keys revoked before reasons
    /// were recorded.
    pub revocation_reason: Option<RevocationReason>,
    /// The key that replaced this one, if it was rotated.
    pub replaced_by: Option<KeyId>,
}

impl From<KeyRecord> for KeyInfo {
    fn from(r: KeyRecord) -> Self {
        Self {
            display_prefix: r.display_prefix(),
            key_id: r.key_id,
            user_id: r.user_id,
            name: r.name,
            scopes: r.scopes,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            revocation_reason: r.revocation_reason,
            replaced_by: r.replaced_by,
        }
    }
}
