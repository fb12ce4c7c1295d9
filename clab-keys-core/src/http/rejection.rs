//! Rejections that already know their HTTP answer (RFC 6750 §3): status, `WWW-Authenticate`
//! challenge and JSON body are decided here once, so every adapter answers alike.

use std::fmt;
use std::sync::Arc;

use super::response::ApiResponse;
use crate::error::ConfigError;

/// The realm named in `WWW-Authenticate` challenges.
#[derive(Clone, PartialEq, Eq)]
pub struct Realm(Arc<str>);

impl Realm {
    /// Validates a realm: 1–128 printable ASCII characters, no `"` or `\`.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::InvalidRealm`] otherwise.
    pub fn new(realm: &str) -> Result<Self, ConfigError> {
        let ok = (1..=128).contains(&realm.len())
            && realm
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if ok {
            Ok(Self(realm.into()))
        } else {
            Err(ConfigError::InvalidRealm)
        }
    }

    /// The realm text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Realm {
    fn default() -> Self {
        Self("api".into())
    }
}

impl fmt::Debug for Realm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Realm").field(&&*self.0).finish()
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No credential (no header, empty, or another scheme): 401 with a bare challenge.
    MissingCredentials,
    /// Malformed `Authorization` header: 400 `invalid_request`.
    InvalidRequest,
    /// A credential was presented and rejected: 401 `invalid_token`.
    InvalidToken,
    /// The credential lacks a scope: 403 `insufficient_scope` with the scope named.
    InsufficientScope(String),
    /// An API key was used where an interactive (JWT) session is required: 403
    /// `insufficient_scope` (JSON code `interactive_session_required`).
    InteractiveSessionRequired,
    /// The credential could not be checked (store or verifier down): 503, fail closed.
    Unavailable,
}

/// A refused request, with everything needed to answer it.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{Realm, Rejection, RejectionKind};
/// let r = Rejection::new(RejectionKind::InvalidToken, Realm::default());
/// assert_eq!(r.status(), 401);
/// assert_eq!(
///     r.www_authenticate().as_deref(),
///     Some(r#"Bearer realm="api", error="invalid_token", error_description="the access token is not valid""#)
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectionKind,
    realm: Realm,
}

impl Rejection {
    /// A rejection of the given kind in `realm`.
    pub fn new(kind: RejectionKind, realm: Realm) -> Self {
        Self { kind, realm }
    }

    /// Why the request was refused.
    pub fn kind(&self) -> &RejectionKind {
        &self.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self.kind {
            RejectionKind::MissingCredentials | RejectionKind::InvalidToken => 401,
            RejectionKind::InvalidRequest => 400,
            RejectionKind::InsufficientScope(_) | RejectionKind::InteractiveSessionRequired => 403,
            RejectionKind::Unavailable => 503,
        }
    }

    /// The JSON `error` code.
    pub fn error_code(&self) -> &'static str {
        match self.kind {
            RejectionKind::MissingCredentials => "unauthorized",
            RejectionKind::InvalidRequest => "invalid_request",
            RejectionKind::InvalidToken => "invalid_token",
            RejectionKind::InsufficientScope(_) => "insufficient_scope",
            RejectionKind::InteractiveSessionRequired => "interactive_session_required",
            RejectionKind::Unavailable => "temporarily_unavailable",
        }
    }

    /// The human-readable message (generic: it never says why a token failed).
    pub fn message(&self) -> &'static str {
        match self.kind {
            RejectionKind::MissingCredentials => "authentication required",
            RejectionKind::InvalidRequest => "the Authorization header is malformed",
            RejectionKind::InvalidToken => "the access token is not valid",
            RejectionKind::InsufficientScope(_) => "the access token lacks a required scope",
            RejectionKind::InteractiveSessionRequired => {
                "this endpoint needs an interactive session; API keys cannot manage API keys"
            }
            RejectionKind::Unavailable => "authentication is temporarily unavailable",
        }
    }

    /// The `WWW-Authenticate` challenge, for every 400, 401 and 403 (none for 503).
    pub fn www_authenticate(&self) -> Option<String> {
        let realm = self.realm.as_str();
        let error = match &self.kind {
            RejectionKind::MissingCredentials => return Some(format!("Bearer realm=\"{realm}\"")),
            RejectionKind::Unavailable => return None,
            RejectionKind::InsufficientScope(scope) => {
                // The scope is echoed only when it is a valid scope name, so nothing can break
                // out of the quoted string; otherwise the parameter is left out.
                let valid = crate::scope::Scopes::new([scope.as_str()]).is_ok();
                return Some(if valid {
                    format!(
                        "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{scope}\""
                    )
                } else {
                    format!("Bearer realm=\"{realm}\", error=\"insufficient_scope\"")
                });
            }
            RejectionKind::InvalidRequest => "invalid_request",
            RejectionKind::InvalidToken => "invalid_token",
            RejectionKind::InteractiveSessionRequired => "insufficient_scope",
        };
        Some(format!(
            "Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{}\"",
            self.message()
        ))
    }

    /// The whole response.
    pub fn to_response(&self) -> ApiResponse {
        let mut response = ApiResponse::error(self.status(), self.error_code(), self.message());
        if let Some(challenge) = self.www_authenticate() {
            response.headers.push(("www-authenticate", challenge));
        }
        if self.kind == RejectionKind::Unavailable {
            response.headers.push(("retry-after", "5".to_owned()));
        }
        response
    }

    /// The gRPC status code a gRPC server answers this rejection with (the codes of the gRPC
    /// specification, `google.rpc.Code`): `16` UNAUTHENTICATED where HTTP says 400 or 401 (no
    /// credential, a malformed `authorization` value, a refused credential), `7`
    /// PERMISSION_DENIED where HTTP says 403 (a missing scope, an API key where a session is
    /// required), and `14` UNAVAILABLE where HTTP says 503 (fail closed, retry later).
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::{Realm, Rejection, RejectionKind};
    /// let reject = |kind| Rejection::new(kind, Realm::default());
    /// assert_eq!(reject(RejectionKind::InvalidToken).grpc_status(), 16);
    /// assert_eq!(reject(RejectionKind::InsufficientScope("projects:read".into())).grpc_status(), 7);
    /// assert_eq!(reject(RejectionKind::Unavailable).grpc_status(), 14);
    /// ```
    pub fn grpc_status(&self) -> u16 {
        match self.kind {
            RejectionKind::MissingCredentials
            | RejectionKind::InvalidRequest
            | RejectionKind::InvalidToken => 16,
            RejectionKind::InsufficientScope(_) | RejectionKind::InteractiveSessionRequired => 7,
            RejectionKind::Unavailable => 14,
        }
    }

    /// The whole answer for a gRPC request (content type `application/grpc`): a gRPC
    /// "Trailers-Only" response, that is HTTP `200` with an empty body and the status in the
    /// headers: `content-type: application/grpc`, `grpc-status` ([`Rejection::grpc_status`])
    /// and `grpc-message`, which is the same reason code as the JSON `error` of
    /// [`Rejection::to_response`] ([`Rejection::error_code`]: `unauthorized`,
    /// `invalid_request`, `invalid_token`, `insufficient_scope`,
    /// `interactive_session_required`, `temporarily_unavailable`), so gRPC and HTTP clients
    /// read the same reasons. The codes need no percent-encoding.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// use clab_keys::{Realm, Rejection, RejectionKind};
    /// let answer = Rejection::new(RejectionKind::InvalidToken, Realm::default()).to_grpc_response();
    /// assert_eq!(answer.status, 200);
    /// assert_eq!(answer.header("content-type"), Some("application/grpc"));
    /// assert_eq!(answer.header("grpc-status"), Some("16"));
    /// assert_eq!(answer.header("grpc-message"), Some("invalid_token"));
    /// assert!(answer.body.is_empty());
    /// ```
    pub fn to_grpc_response(&self) -> ApiResponse {
        let mut response = ApiResponse::empty(200);
        response.headers = vec![
            ("content-type", "application/grpc".to_owned()),
            ("grpc-status", self.grpc_status().to_string()),
            ("grpc-message", self.error_code().to_owned()),
        ];
        response
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind)
            .field("status", &self.status())
            .finish()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Rejection {}
