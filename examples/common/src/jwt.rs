//! Session tokens: 60-minute HS256 JWTs issued at login and verified for the credential router.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use clab_keys::{JwtError, JwtIdentity, JwtVerifier, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::JwtSecret;

/// The `iss` claim of every session token, checked on verification.
pub const JWT_ISSUER: &str = "clab-keys-example";

/// The `aud` claim of every session token, checked on verification.
pub const JWT_AUDIENCE: &str = "clab-keys-example-api";

/// Lifetime of a session token, in seconds (60 minutes).
pub const JWT_TTL_SECS: u64 = 3600;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const JWT_LEEWAY_SECS: u64 = 30;

/// A session token could not be issued.
#[derive(Debug, thiserror::Error)]
#[error("could not sign the session token")]
pub struct JwtIssueError(#[source] jsonwebtoken::errors::Error);

/// The claims of a session token, as issued.
#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: String,
    iat: u64,
    /// When the user typed their password (OpenID Connect's `auth_time`): the same as `iat`
    /// for a login, and what the key endpoints' re-authentication check reads.
    auth_time: u64,
    exp: u64,
    iss: &'a str,
    aud: &'a str,
}

/// The claims read back after `jsonwebtoken` validated signature, `exp`, `iss` and `aud`.
#[derive(Deserialize)]
struct VerifiedClaims {
    sub: String,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    auth_time: Option<u64>,
}

/// Issues and verifies the example apps' session tokens with `jsonwebtoken`: HS256 only,
/// `exp`, `iss` and `aud` required and checked. Every failure is [`JwtError::Invalid`].
/// Cheap to clone.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use clab_keys::JwtVerifier as _;
/// use clab_keys_example_common::{JwtAuth, JwtSecret};
/// let jwt = JwtAuth::new(&JwtSecret::generate().unwrap()).unwrap();
/// let token = jwt.issue(42).unwrap();
/// let identity = jwt.verify(&token).await.unwrap();
/// assert_eq!(identity.user_id.as_str(), "42");
/// # });
/// ```
#[derive(Clone)]
pub struct JwtAuth {
    inner: Arc<Keys>,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtAuth {
    /// Uses `secret` to sign and verify HS256 tokens.
    ///
    /// # Errors
    ///
    /// Returns [`JwtIssueError`] when `jsonwebtoken` rejects the key material.
    pub fn new(secret: &JwtSecret) -> Result<Self, JwtIssueError> {
        let encoding = EncodingKey::from_secret(secret.expose_secret()).map_err(JwtIssueError)?;
        let decoding = DecodingKey::from_secret(secret.expose_secret()).map_err(JwtIssueError)?;
        // An explicit allow-list of one algorithm: `alg: none`, RS256 (key confusion) and
        // every other algorithm are refused before the signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[JWT_ISSUER]);
        validation.set_audience(&[JWT_AUDIENCE]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = JWT_LEEWAY_SECS;
        Ok(Self {
            inner: Arc::new(Keys {
                encoding,
                decoding,
                validation,
            }),
        })
    }

    /// Issues a 60-minute session token for `user_id` (`sub` is the id as text).
    ///
    /// # Errors
    ///
    /// Returns [`JwtIssueError`] when signing fails.
    pub fn issue(&self, user_id: i64) -> Result<String, JwtIssueError> {
        self.issue_at(user_id, unix_now())
    }

    /// Issues a token as if the time were `iat` (seconds since the Unix epoch); for tests of
    /// expiry.
    ///
    /// # Errors
    ///
    /// Returns [`JwtIssueError`] when signing fails.
    pub fn issue_at(&self, user_id: i64, iat: u64) -> Result<String, JwtIssueError> {
        self.issue_with_auth_time(user_id, iat, iat)
    }

    /// Signs a session token issued at `iat` for a login at `auth_time` (seconds since the
    /// Unix epoch), for tests of the re-authentication check: a token refreshed long after
    /// its login.
    ///
    /// # Errors
    ///
    /// [`JwtIssueError`] if signing fails.
    pub fn issue_with_auth_time(
        &self,
        user_id: i64,
        iat: u64,
        auth_time: u64,
    ) -> Result<String, JwtIssueError> {
        let claims = IssuedClaims {
            sub: user_id.to_string(),
            iat,
            auth_time,
            exp: iat.saturating_add(JWT_TTL_SECS),
            iss: JWT_ISSUER,
            aud: JWT_AUDIENCE,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.inner.encoding,
        )
        .map_err(JwtIssueError)
    }

    /// Verifies a token synchronously and returns the user id in its `sub` claim.
    ///
    /// # Errors
    ///
    /// Returns [`JwtError::Invalid`] for any token that is not a valid, unexpired HS256 token
    /// of this app with a positive integer `sub`.
    pub fn verify_token(&self, token: &str) -> Result<i64, JwtError> {
        self.verify_session(token).map(|(id, _)| id)
    }

    /// Verifies a session token and returns the user id and when the user logged in: the
    /// `auth_time` claim, else `iat`, else `None`.
    fn verify_session(&self, token: &str) -> Result<(i64, Option<u64>), JwtError> {
        let data = jsonwebtoken::decode::<VerifiedClaims>(
            token,
            &self.inner.decoding,
            &self.inner.validation,
        )
        .map_err(|e| {
            // The kind only (expired, bad signature…), never the token.
            tracing::debug!(error = ?e.kind(), "session token rejected");
            JwtError::Invalid
        })?;
        let auth_time = data.claims.auth_time.or(data.claims.iat);
        match data.claims.sub.parse::<i64>() {
            Ok(id) if id > 0 => Ok((id, auth_time)),
            _ => Err(JwtError::Invalid),
        }
    }
}

#[async_trait::async_trait]
impl JwtVerifier for JwtAuth {
    async fn verify(&self, token: &str) -> Result<JwtIdentity, JwtError> {
        let (id, auth_time) = self.verify_session(token)?;
        let identity = JwtIdentity::new(UserId::from(id));
        // A time the clock cannot hold is no login time: the session then counts as too old.
        Ok(
            match auth_time
                .and_then(|t| i64::try_from(t).ok())
                .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            {
                Some(at) => identity.with_auth_time(at),
                None => identity,
            },
        )
    }
}

impl fmt::Debug for JwtAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field("algorithm", &"HS256")
            .field("issuer", &JWT_ISSUER)
            .field("audience", &JWT_AUDIENCE)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
