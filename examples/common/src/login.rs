//! `POST /api/auth/login`: email and password in, a 60-minute session JWT out.

use std::fmt;

use clab_keys::ApiResponse;
use serde::Deserialize;

use crate::jwt::{JWT_TTL_SECS, JwtIssueError};
use crate::password::PasswordError;

/// Largest login request body accepted, in bytes.
pub const MAX_LOGIN_BODY_LEN: usize = 8 * 1024;

/// A successful login: `{"access_token", "token_type": "bearer", "expires_in": 3600}`.
/// `Debug` redacts the token.
pub struct LoginResponse {
    access_token: String,
    user_id: i64,
}

impl LoginResponse {
    pub(crate) fn new(access_token: String, user_id: i64) -> Self {
        Self {
            access_token,
            user_id,
        }
    }

    /// The session JWT. Hand it to the client; never log it.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// Always `"bearer"`.
    pub fn token_type(&self) -> &'static str {
        "bearer"
    }

    /// Seconds until the token expires (3600).
    pub fn expires_in(&self) -> u64 {
        JWT_TTL_SECS
    }

    /// The id of the user who logged in.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The JSON body.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "access_token": self.access_token,
            "token_type": self.token_type(),
            "expires_in": self.expires_in(),
        })
    }

    /// The whole `200` response (`cache-control: no-store`, as RFC 6749 §5.1 asks of token
    /// responses).
    pub fn to_response(&self) -> ApiResponse {
        let mut response = ApiResponse::json(200, &self.to_json());
        response.headers.push(("pragma", "no-cache".to_owned()));
        response
    }
}

impl fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginResponse")
            .field("access_token", &"[REDACTED]")
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The body is not `{"email": string, "password": string}`: 400 `invalid_request`.
    #[error("the login request is malformed")]
    BadRequest,
    /// Unknown email or wrong password (the same answer for both): 401 `invalid_credentials`.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The user store is unreachable: 503.
    #[error("the user store is unavailable")]
    Unavailable(#[source] sea_orm::DbErr),
    /// Password checking or token signing failed: 500.
    #[error("login failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Every password-hashing slot stayed busy (a login flood): 503 `login_busy`.
    #[error("login is busy")]
    Busy,
    /// The client address failed to log in too often this minute: 429
    /// `too_many_failed_attempts`.
    #[error("too many failed logins from this address")]
    Throttled {
        /// Seconds until the address may try again (`Retry-After`).
        retry_after_secs: u64,
    },
}

impl From<crate::login_limits::Refusal> for LoginError {
    fn from(refusal: crate::login_limits::Refusal) -> Self {
        match refusal {
            crate::login_limits::Refusal::Busy => Self::Busy,
            crate::login_limits::Refusal::Throttled { retry_after_secs } => {
                Self::Throttled { retry_after_secs }
            }
        }
    }
}

impl From<PasswordError> for LoginError {
    fn from(e: PasswordError) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl From<JwtIssueError> for LoginError {
    fn from(e: JwtIssueError) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl LoginError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::InvalidCredentials => 401,
            Self::Unavailable(_) | Self::Busy => 503,
            Self::Internal(_) => 500,
            Self::Throttled { .. } => 429,
        }
    }

    /// The whole response: a JSON error, with a `WWW-Authenticate` challenge on 401 (contract §6:
    /// every 401 carries one) and `Retry-After` on 429 and 503.
    pub fn to_response(&self) -> ApiResponse {
        match self {
            Self::BadRequest => ApiResponse::error(
                400,
                "invalid_request",
                "body must be JSON: {\"email\": string, \"password\": string}",
            ),
            Self::InvalidCredentials => {
                let mut response = ApiResponse::error(
                    401,
                    "invalid_credentials",
                    "the email or password is not correct",
                );
                response.headers.push((
                    "www-authenticate",
                    format!("Bearer realm=\"{}\"", crate::REALM),
                ));
                response
            }
            Self::Unavailable(_) => {
                let mut response = ApiResponse::error(
                    503,
                    "temporarily_unavailable",
                    "login is temporarily unavailable; try again shortly",
                );
                response.headers.push(("retry-after", "5".to_owned()));
                response
            }
            Self::Internal(_) => {
                ApiResponse::error(500, "internal_error", "login failed; try again")
            }
            Self::Busy => {
                let mut response = ApiResponse::error(
                    503,
                    "login_busy",
                    "too many logins are being checked right now; try again shortly",
                );
                response.headers.push((
                    "retry-after",
                    crate::login_limits::BUSY_RETRY_AFTER_SECS.to_string(),
                ));
                response
            }
            Self::Throttled { retry_after_secs } => {
                let mut response = ApiResponse::error(
                    429,
                    "too_many_failed_attempts",
                    "too many failed logins from this address; try again later",
                );
                response
                    .headers
                    .push(("retry-after", retry_after_secs.to_string()));
                response
            }
        }
    }
}

/// The login request body. `Debug` is not derived: it holds a password.
#[derive(Deserialize)]
pub(crate) struct LoginBody {
    pub(crate) email: String,
    pub(crate) password: String,
}

/// Parses a login body.
pub(crate) fn parse_body(body: &[u8]) -> Result<LoginBody, LoginError> {
    if body.len() > MAX_LOGIN_BODY_LEN {
        return Err(LoginError::BadRequest);
    }
    serde_json::from_slice(body).map_err(|_| LoginError::BadRequest)
}

/// Normalises an email for look-up: trimmed, ASCII-lowercased.
pub(crate) fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}
