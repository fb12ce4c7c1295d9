//! The rejection type, and the one place where core's framework-neutral answers become axum
//! responses.

use std::fmt;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clab_keys_core::{ApiResponse, Rejection, RejectionKind};

/// Why an extractor or middleware of this crate refused a request.
///
/// It wraps core's [`Rejection`], which already knows the status, the `WWW-Authenticate`
/// challenge (RFC 6750 §3) and the JSON body `{"error", "message"}`; [`IntoResponse`] only
/// translates that answer, so the axum and actix-web adapters cannot drift apart.
///
/// Its `Display` is core's generic message: it never contains the presented token.
///
/// ```
/// use axum::response::IntoResponse;
/// use clab_keys_axum::AuthRejection;
/// use clab_keys_core::{Realm, Rejection, RejectionKind};
///
/// let rejection = AuthRejection::from(Rejection::new(RejectionKind::InvalidToken, Realm::default()));
/// let response = rejection.into_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(
///     response.headers()["www-authenticate"],
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

    /// Unwraps core's rejection.
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
    // Transparent: the wrapper adds nothing to core's rejection, so it reports core's source
    // instead of repeating the same message one level down.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        into_axum_response(self.0.to_response())
    }
}

/// Translates core's [`ApiResponse`] into an axum [`Response`]: status, headers and body are
/// copied as they are.
///
/// Core builds every status and header itself, so neither conversion below can fail in
/// practice; if one ever did, the request is answered with a bare `500` rather than with a
/// response missing, say, its `WWW-Authenticate` challenge.
pub fn into_axum_response(response: ApiResponse) -> Response {
    let Ok(status) = StatusCode::from_u16(response.status) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut out = Response::new(Body::from(response.body));
    *out.status_mut() = status;
    for (name, value) in response.headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        out.headers_mut().append(name, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clab_keys_core::Realm;

    #[test]
    fn missing_credentials_become_a_bare_challenge() {
        let r = AuthRejection::from(Rejection::new(
            RejectionKind::MissingCredentials,
            Realm::default(),
        ));
        let response = r.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="api""#
        );
        assert_eq!(response.headers()["content-type"], "application/json");
    }

    #[test]
    fn display_is_cores_generic_message() {
        let r = AuthRejection::from(Rejection::new(
            RejectionKind::InvalidToken,
            Realm::default(),
        ));
        assert_eq!(r.to_string(), "the access token is not valid");
        assert!(std::error::Error::source(&r).is_none());
    }

    #[test]
    fn an_impossible_status_is_a_500_not_a_panic() {
        let mut response = ApiResponse::empty(204);
        response.status = 1000;
        assert_eq!(into_axum_response(response).status(), 500);
    }
}
