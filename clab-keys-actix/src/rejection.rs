//! The one place where core's answers become actix-web responses: [`AuthRejection`] (the error
//! of every extractor and of the middleware) and [`into_http_response`].

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use clab_keys_core::{ApiResponse, Rejection};

/// Why an extractor or the middleware refused a request.
///
/// Its [`ResponseError`] implementation answers exactly as core decided: the status, the
/// `WWW-Authenticate` challenge (RFC 6750 §3) and the JSON body `{"error", "message"}` all
/// come from [`Rejection::to_response`]. `Display` prints the generic message only, never the
/// presented credential.
///
/// ```
/// use actix_web::ResponseError;
/// use clab_keys_actix::AuthRejection;
/// use clab_keys_core::{Realm, Rejection, RejectionKind};
///
/// let error = AuthRejection::from(Rejection::new(RejectionKind::InvalidToken, Realm::default()));
/// let response = error.error_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(
///     response.headers().get("www-authenticate").unwrap(),
///     r#"Bearer realm="api", error="invalid_token", error_description="the access token is not valid""#
/// );
/// assert_eq!(error.to_string(), "the access token is not valid");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthRejection {
    /// Core refused the credential (missing, malformed, invalid, lacking a scope or an
    /// interactive session, or not checkable right now).
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The application did not register a `web::Data<CredentialRouter>` in its app data:
    /// a deployment error, answered with `500` (fail closed).
    #[error("authentication is not configured: no web::Data<CredentialRouter> in the app data")]
    NotConfigured,
}

impl AuthRejection {
    /// Core's rejection, when the credential itself was refused.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Self::Rejected(rejection) => Some(rejection),
            Self::NotConfigured => None,
        }
    }

    /// The framework-neutral response this rejection is answered with.
    pub fn to_api_response(&self) -> ApiResponse {
        match self {
            Self::Rejected(rejection) => rejection.to_response(),
            Self::NotConfigured => not_configured(),
        }
    }
}

impl ResponseError for AuthRejection {
    fn status_code(&self) -> StatusCode {
        let status = match self {
            Self::Rejected(rejection) => rejection.status(),
            Self::NotConfigured => 500,
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::NotConfigured = self {
            tracing::error!(target: "clab_keys", "{self}");
        }
        into_http_response(self.to_api_response())
    }
}

fn not_configured() -> ApiResponse {
    ApiResponse::error(500, "internal_error", "authentication is not configured")
}

/// Converts core's framework-neutral [`ApiResponse`] (from a [`Rejection`] or from the
/// management functions in [`clab_keys_core::api`]) into an actix-web response: status, every
/// header in order, and the body.
///
/// Core only produces valid statuses and ASCII header values; should one ever be invalid, the
/// answer is a `500` rather than a response missing a header such as `WWW-Authenticate`.
///
/// ```
/// use clab_keys_actix::into_http_response;
/// use clab_keys_core::ApiResponse;
///
/// let response = into_http_response(ApiResponse::error(404, "not_found", "no such API key"));
/// assert_eq!(response.status(), 404);
/// assert_eq!(response.headers().get("content-type").unwrap(), "application/json");
/// assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
/// ```
pub fn into_http_response(response: ApiResponse) -> HttpResponse {
    match build(response) {
        Some(http) => http,
        None => {
            tracing::error!(target: "clab_keys", "core produced a response actix-web cannot send");
            // `ApiResponse::error` is plain ASCII with a valid status, so this cannot recurse.
            build(ApiResponse::error(
                500,
                "internal_error",
                "the response could not be built",
            ))
            .unwrap_or_else(|| HttpResponse::InternalServerError().finish())
        }
    }
}

fn build(response: ApiResponse) -> Option<HttpResponse> {
    let status = StatusCode::from_u16(response.status).ok()?;
    let mut http = HttpResponse::build(status);
    for (name, value) in &response.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_str(value).ok()?;
        http.append_header((name, value));
    }
    Some(http.body(response.body))
}
