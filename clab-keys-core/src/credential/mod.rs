//! The credential router (contract §5): one entry point that takes the raw `Authorization` header
//! lines and yields a [`Principal`] or a [`Rejection`] that already knows its HTTP answer.
//!
//! A bearer token that starts with a configured key prefix goes to the key service; one shaped
//! like a JWT goes to the application's [`JwtVerifier`]; anything else is rejected without
//! calling either. There is no fallback from one to the other.

mod header;
mod rejection;

use std::fmt;
use std::sync::Arc;

pub use header::{BearerOutcome, MAX_BEARER_LEN, looks_like_jwt, parse_authorization};
pub use rejection::{ApiResponse, Realm, Rejection, RejectionKind};

use crate::format::KeyId;
use crate::scope::Scopes;
use crate::service::{AuthError, KeyService};
use crate::store::KeyRecord;
use crate::user::UserId;

/// Which kind of credential authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialKind {
    /// An interactive session token (JWT).
    Jwt,
    /// A long-lived user API key.
    ApiKey,
}

impl CredentialKind {
    /// `"jwt"` or `"api_key"`, as in the `auth` field of `/api/security/users/me`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::ApiKey => "api_key",
        }
    }
}

/// Who made a request, and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    user_id: UserId,
    kind: CredentialKind,
    key_id: Option<KeyId>,
    scopes: Option<Scopes>,
}

impl Principal {
    /// A principal authenticated by a JWT. `scopes: None` means unrestricted.
    pub fn from_jwt(user_id: UserId, scopes: Option<Scopes>) -> Self {
        Self {
            user_id,
            kind: CredentialKind::Jwt,
            key_id: None,
            scopes,
        }
    }

    /// A principal authenticated by an API key that the application verified itself (for
    /// example a legacy key format during a migration). Such a principal is never interactive.
    /// `scopes: None` means unrestricted.
    pub fn from_api_key(user_id: UserId, key_id: KeyId, scopes: Option<Scopes>) -> Self {
        Self {
            user_id,
            kind: CredentialKind::ApiKey,
            key_id: Some(key_id),
            scopes,
        }
    }

    pub(crate) fn from_key(record: &KeyRecord) -> Self {
        Self {
            user_id: record.user_id.clone(),
            kind: CredentialKind::ApiKey,
            key_id: Some(record.key_id),
            scopes: (!record.scopes.is_empty()).then(|| record.scopes.clone()),
        }
    }

    /// The user.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The kind of credential used.
    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// The key id, when an API key was used.
    pub fn key_id(&self) -> Option<KeyId> {
        self.key_id
    }

    /// The scopes the credential is limited to; `None` means unrestricted.
    pub fn scopes(&self) -> Option<&Scopes> {
        self.scopes.as_ref()
    }

    /// Whether the request came from an interactive (JWT) session.
    pub fn is_interactive(&self) -> bool {
        self.kind == CredentialKind::Jwt
    }

    /// Whether the credential may use `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.as_ref().is_none_or(|s| s.contains(scope))
    }

    /// Refuses API keys: key management and other account-level actions need a JWT session,
    /// so that a leaked key cannot mint more keys.
    ///
    /// # Errors
    ///
    /// Returns a 403 [`RejectionKind::InteractiveSessionRequired`] rejection for API keys.
    pub fn require_interactive(&self, realm: &Realm) -> Result<(), Rejection> {
        if self.is_interactive() {
            Ok(())
        } else {
            Err(Rejection::new(
                RejectionKind::InteractiveSessionRequired,
                realm.clone(),
            ))
        }
    }

    /// Requires a scope.
    ///
    /// # Errors
    ///
    /// Returns a 403 [`RejectionKind::InsufficientScope`] rejection when the credential is
    /// limited to scopes that do not include `scope`.
    pub fn require_scope(&self, scope: &str, realm: &Realm) -> Result<(), Rejection> {
        if self.has_scope(scope) {
            return Ok(());
        }
        // The challenge names the scope only if it is a valid scope name (see `Rejection`).
        Err(Rejection::new(
            RejectionKind::InsufficientScope(scope.to_owned()),
            realm.clone(),
        ))
    }
}

/// What a JWT verifier returns for a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwtIdentity {
    /// The user the token was issued to.
    pub user_id: UserId,
    /// Scopes the token is limited to; `None` means unrestricted.
    pub scopes: Option<Scopes>,
}

impl JwtIdentity {
    /// An unrestricted identity for `user_id`.
    pub fn new(user_id: UserId) -> Self {
        Self {
            user_id,
            scopes: None,
        }
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
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use clab_keys_core::{CredentialRouter, KeyService, MemoryStore, NewKey, UserId};
/// let keys = KeyService::builder(MemoryStore::new()).build().unwrap();
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
}

impl CredentialRouter {
    /// A router that accepts API keys only (until [`CredentialRouter::with_jwt`]).
    pub fn new(keys: KeyService) -> Self {
        Self {
            keys,
            jwt: None,
            realm: Realm::default(),
        }
    }

    /// Also accepts JWTs, verified by `verifier`.
    pub fn with_jwt(mut self, verifier: impl JwtVerifier) -> Self {
        self.jwt = Some(Arc::new(verifier));
        self
    }

    /// Sets the realm named in challenges (default `api`).
    pub fn with_realm(mut self, realm: Realm) -> Self {
        self.realm = realm;
        self
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
        match self.authenticate_optional(lines).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(self.reject(RejectionKind::MissingCredentials)),
            Err(r) => Err(r),
        }
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
            return self.keys.authenticate(token).await.map_err(|e| match e {
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
                    Ok(id) => Ok(Principal::from_jwt(id.user_id, id.scopes)),
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
