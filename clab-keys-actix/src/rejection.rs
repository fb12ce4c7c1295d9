//! [`AuthRejection`]: why an extractor or middleware of this crate refused a request.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use clab_keys_core::{Rejection, RejectionKind};

use crate::Reply;

/// Why an extractor or middleware of this crate refused a request.
///
/// It wraps core's [`Rejection`], which already knows the status, the `WWW-Authenticate`
/// challenge (RFC 6750 §3) and the JSON body `{"error", "message"}`; [`ResponseError`] only
/// translates that answer (through [`Reply`]), so the axum and actix-web adapters cannot drift
/// apart. A handler can return core's rejections with `?`.
///
/// Its `Display` is core's generic message and its `Debug` (which actix-web's `Logger` prints
/// for error responses) names only the kind of refusal: neither ever contains the presented
/// credential.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::ResponseError;
/// use clab_keys::actix_web::AuthRejection;
/// use clab_keys::{Realm, Rejection, RejectionKind};
///
/// let rejection = AuthRejection::from(Rejection::new(RejectionKind::InvalidToken, Realm::default()));
/// assert_eq!(rejection.to_string(), "the access token is not valid");
/// let response = rejection.error_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(
///     response.headers().get("www-authenticate").unwrap(),
///     r#"Bearer realm="api", error="invalid_token", error_description="the access token is not valid""#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRejection(Rejection);

impl AuthRejection {
    /// Core's rejection.
    pub fn rejection(&self) -> &Rejection {
        &self.0
    }

    /// Why the request was refused.
    pub fn kind(&self) -> &RejectionKind {
        self.0.kind()
    }

    /// Takes core's rejection out.
    pub fn into_inner(self) -> Rejection {
        self.0
    }
}

impl From<Rejection> for AuthRejection {
    fn from(rejection: Rejection) -> Self {
        Self(rejection)
    }
}

impl From<AuthRejection> for Rejection {
    fn from(rejection: AuthRejection) -> Self {
        rejection.0
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for AuthRejection {
    // Transparent: the wrapper adds nothing to core's rejection.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl ResponseError for AuthRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        Reply(self.0.to_response()).into_http_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clab_keys_core::Realm;

    fn rejection(kind: RejectionKind) -> AuthRejection {
        AuthRejection::from(Rejection::new(kind, Realm::default()))
    }

    #[test]
    fn missing_credentials_become_a_bare_challenge() {
        let response = rejection(RejectionKind::MissingCredentials).error_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.as_bytes()),
            Some(&br#"Bearer realm="api""#[..])
        );
        assert_eq!(
            response.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
    }

    #[test]
    fn display_is_cores_generic_message() {
        let r = rejection(RejectionKind::InvalidToken);
        assert_eq!(r.to_string(), "the access token is not valid");
        assert!(std::error::Error::source(&r).is_none());
    }

    #[test]
    fn converts_both_ways() {
        let r = rejection(RejectionKind::Unavailable);
        assert_eq!(r.kind(), &RejectionKind::Unavailable);
        assert_eq!(r.rejection().status(), 503);
        assert_eq!(r.status_code(), 503);
        let core = Rejection::from(r.clone());
        assert_eq!(AuthRejection::from(core.clone()), r);
        assert_eq!(r.into_inner(), core);
    }
}
