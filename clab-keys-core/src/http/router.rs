//! The credential router (contract §5): one entry point that takes the raw `Authorization` header
//! lines and yields a [`Principal`] or a [`Rejection`] that already knows its HTTP answer.
//!
//! A bearer token that starts with a configured key prefix goes to the key service; one shaped
//! like a JWT goes to the application's [`JwtVerifier`]; anything else is rejected without
//! calling either. There is no fallback from one to the other.

use std::fmt;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::header::{BearerOutcome, looks_like_jwt, parse_authorization};
use super::principal::Principal;
use super::rejection::{Realm, Rejection, RejectionKind};
use crate::scope::Scopes;
use crate::service::{AuthError, KeyService};
use crate::user::UserId;

/// What a JWT verifier returns for a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwtIdentity {
    /// The user the token was issued to.
    pub user_id: UserId,
    /// Scopes the token is limited to; `None` means unrestricted.
    pub scopes: Option<Scopes>,
    /// When the user last proved who they are (typed a password, passed a second factor): the
    /// token's `auth_time` claim (OpenID Connect Core §2), or its `iat` when it has none.
    /// `None` when the verifier does not say; then a router with
    /// [`CredentialRouter::with_reauthentication`] treats the session as too old.
    pub auth_time: Option<OffsetDateTime>,
}

impl JwtIdentity {
    /// An unrestricted identity for `user_id`, without an authentication time.
    pub fn new(user_id: UserId) -> Self {
        Self {
            user_id,
            scopes: None,
            auth_time: None,
        }
    }

    /// Sets when the user authenticated (the `auth_time` claim, else `iat`).
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::{JwtIdentity, UserId};
    /// let at = time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    /// let identity = JwtIdentity::new(UserId::from(7_i64)).with_auth_time(at);
    /// assert_eq!(identity.auth_time, Some(at));
    /// ```
    pub fn with_auth_time(mut self, at: OffsetDateTime) -> Self {
        self.auth_time = Some(at);
        self
    }
}

/// Why a JWT was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// The token is invalid (bad signature, expired, wrong audience…): 401 `invalid_token`.
    #[error("jwt is not valid")]
    Invalid,
    /// The token could not be checked (a key server or user store is down): 503.
    #[error("jwt could not be checked")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Verifies the application's session tokens. The examples implement it with `jsonwebtoken`.
#[async_trait::async_trait]
pub trait JwtVerifier: fmt::Debug + Send + Sync + 'static {
    /// Verifies a compact JWT (signature first, then `exp`/`nbf`/`aud` as the app requires).
    ///
    /// # Errors
    ///
    /// [`JwtError::Invalid`] for any token that must be refused; [`JwtError::Unavailable`]
    /// when the verifier cannot decide.
    async fn verify(&self, token: &str) -> Result<JwtIdentity, JwtError>;
}

/// Routes bearer credentials to the key service or the JWT verifier. Cheap to clone.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, NewKey, Pepper, UserId};
/// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).unwrap()).unwrap();
/// let keys = KeyService::builder(MemoryStore::new(), hasher).build().unwrap();
/// let router = CredentialRouter::new(keys.clone());
/// let created = keys.create(&UserId::from(1_i64), NewKey::new("cli")).await.unwrap();
/// let header = format!("Bearer {}", created.token.expose_secret());
/// let principal = router.authenticate([header.as_bytes()]).await.unwrap();
/// assert_eq!(principal.kind().as_str(), "api_key");
/// let missing = router.authenticate(std::iter::empty::<&[u8]>()).await.unwrap_err();
/// assert_eq!(missing.status(), 401);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct CredentialRouter {
    keys: KeyService,
    jwt: Option<Arc<dyn JwtVerifier>>,
    realm: Realm,
    /// How recent a session must be to create or rotate a key; `None`: any session.
    reauthentication: Option<Duration>,
    /// Shared by clones, new for every configuration: see [`CredentialRouter::is_clone_of`].
    identity: Arc<()>,
}

impl CredentialRouter {
    /// A router that accepts API keys only (until [`CredentialRouter::with_jwt`]).
    pub fn new(keys: KeyService) -> Self {
        Self {
            keys,
            jwt: None,
            realm: Realm::default(),
            reauthentication: None,
            identity: Arc::new(()),
        }
    }

    /// Also accepts JWTs, verified by `verifier`.
    pub fn with_jwt(mut self, verifier: impl JwtVerifier) -> Self {
        self.jwt = Some(Arc::new(verifier));
        self.identity = Arc::new(());
        self
    }

    /// Sets the realm named in challenges (default `api`).
    pub fn with_realm(mut self, realm: Realm) -> Self {
        self.realm = realm;
        self.identity = Arc::new(());
        self
    }

    /// Requires a recent login for creating and rotating keys (contract §6): a session whose
    /// user authenticated more than `max_age` ago ([`JwtIdentity::auth_time`], measured with
    /// the key service's clock), or whose verifier gave no authentication time, gets `403
    /// reauthentication_required` on those two endpoints, so a stolen session token that is
    /// still valid cannot mint a key after the window. Off by default; listing, renaming and
    /// revoking never need it. A negative `max_age` is taken as zero.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, Pepper};
    /// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).unwrap()).unwrap();
    /// let keys = KeyService::builder(MemoryStore::new(), hasher).build().unwrap();
    /// let router = CredentialRouter::new(keys).with_reauthentication(time::Duration::minutes(15));
    /// assert_eq!(router.reauthentication(), Some(time::Duration::minutes(15)));
    /// ```
    pub fn with_reauthentication(mut self, max_age: Duration) -> Self {
        self.reauthentication = Some(max_age.max(Duration::ZERO));
        self.identity = Arc::new(());
        self
    }

    /// The largest session age [`CredentialRouter::with_reauthentication`] allows for creating
    /// and rotating keys; `None` when any session may.
    pub fn reauthentication(&self) -> Option<Duration> {
        self.reauthentication
    }

    /// Whether `other` is a clone of this router, configured alike. An adapter that caches a
    /// request's authentication reuses it only for the router that made it: an app with two
    /// routers (say, a stricter one for an admin area) never has one router's verdict stand
    /// for the other's.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::{CredentialRouter, KeyHasher, KeyService, MemoryStore, Pepper, Realm};
    /// let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).unwrap()).unwrap();
    /// let router = CredentialRouter::new(KeyService::builder(MemoryStore::new(), hasher).build().unwrap());
    /// assert!(router.is_clone_of(&router.clone()));
    /// let admin = router.clone().with_realm(Realm::new("admin").unwrap());
    /// assert!(!admin.is_clone_of(&router));
    /// ```
    pub fn is_clone_of(&self, other: &CredentialRouter) -> bool {
        Arc::ptr_eq(&self.identity, &other.identity)
    }

    /// The key service.
    pub fn keys(&self) -> &KeyService {
        &self.keys
    }

    /// The realm.
    pub fn realm(&self) -> &Realm {
        &self.realm
    }

    /// A rejection of `kind` in this router's realm.
    pub fn reject(&self, kind: RejectionKind) -> Rejection {
        Rejection::new(kind, self.realm.clone())
    }

    /// Authenticates a request from its `Authorization` header lines (all of them, in order).
    ///
    /// # Errors
    ///
    /// Returns a [`Rejection`]: 401 without `error` when no credential was presented, 400
    /// `invalid_request` for a malformed header, 401 `invalid_token` for a rejected
    /// credential, 503 when it could not be checked.
    pub async fn authenticate<'a, I>(&self, lines: I) -> Result<Principal, Rejection>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        self.required(self.authenticate_optional(lines).await)
    }

    /// Turns the outcome of [`CredentialRouter::authenticate_optional`] (which an adapter may
    /// have cached for the request) into a required principal: no credential at all is a 401
    /// with a bare challenge.
    ///
    /// # Errors
    ///
    /// The rejection in `outcome`, or [`RejectionKind::MissingCredentials`] for `Ok(None)`.
    pub fn required(
        &self,
        outcome: Result<Option<Principal>, Rejection>,
    ) -> Result<Principal, Rejection> {
        outcome?.ok_or_else(|| self.reject(RejectionKind::MissingCredentials))
    }

    /// Like [`CredentialRouter::authenticate`], but a request without credentials is
    /// `Ok(None)` instead of a rejection; a presented but bad credential is still rejected.
    ///
    /// # Errors
    ///
    /// As [`CredentialRouter::authenticate`], except for missing credentials.
    pub async fn authenticate_optional<'a, I>(
        &self,
        lines: I,
    ) -> Result<Option<Principal>, Rejection>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let token = match parse_authorization(lines) {
            BearerOutcome::Missing => return Ok(None),
            BearerOutcome::InvalidRequest => {
                return Err(self.reject(RejectionKind::InvalidRequest));
            }
            BearerOutcome::InvalidToken => return Err(self.reject(RejectionKind::InvalidToken)),
            BearerOutcome::Token(token) => token,
        };
        self.authenticate_token(token).await.map(Some)
    }

    /// Verifies one bearer token (already taken out of its header).
    ///
    /// # Errors
    ///
    /// 401 `invalid_token` for a rejected token, 503 when it could not be checked.
    pub async fn authenticate_token(&self, token: &[u8]) -> Result<Principal, Rejection> {
        if self.keys.formats().claims(token) {
            return self.keys.authenticate(token).await.map(Principal::from_verified).map_err(|e| match e {
                AuthError::Unavailable(source) => {
                    tracing::error!(target: "clab_keys", error = %source, "key store unavailable, refusing request");
                    self.reject(RejectionKind::Unavailable)
                }
                _ => self.reject(RejectionKind::InvalidToken),
            });
        }
        match (&self.jwt, looks_like_jwt(token)) {
            (Some(verifier), true) => {
                // A JWT shape is base64url and dots only, so this conversion cannot fail.
                let text = std::str::from_utf8(token)
                    .map_err(|_| self.reject(RejectionKind::InvalidToken))?;
                match verifier.verify(text).await {
                    Ok(id) => {
                        Ok(Principal::jwt(id.user_id, id.scopes).authenticated_at(id.auth_time))
                    }
                    Err(JwtError::Invalid) => Err(self.reject(RejectionKind::InvalidToken)),
                    Err(JwtError::Unavailable(source)) => {
                        tracing::error!(target: "clab_keys", error = %source, "jwt verifier unavailable, refusing request");
                        Err(self.reject(RejectionKind::Unavailable))
                    }
                }
            }
            _ => Err(self.reject(RejectionKind::InvalidToken)),
        }
    }
}
