//! [`Reply`]: core's framework-neutral answers as actix-web responses.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Responder};
use clab_keys_core::ApiResponse;

/// Core's framework-neutral [`ApiResponse`] as an actix-web response: a handler returns it (or
/// `actix_web::Result<Reply>`) like any other [`Responder`]. Status, headers and body are
/// copied as they are.
///
/// Core builds every status and header itself, so the conversion cannot fail in practice; if
/// it ever did, the request is answered with a bare `500` rather than with a response missing,
/// say, its `WWW-Authenticate` challenge.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_actix as actix_web; }
/// use actix_web::{Responder, test::TestRequest};
/// use clab_keys::ApiResponse;
/// use clab_keys::actix_web::Reply;
///
/// async fn gone() -> Reply {
///     Reply::from(ApiResponse::error(410, "gone", "this endpoint was removed"))
/// }
///
/// let request = TestRequest::default().to_http_request();
/// let response = Reply(ApiResponse::error(404, "not_found", "no such API key")).respond_to(&request);
/// assert_eq!(response.status(), 404);
/// assert_eq!(response.headers().get("content-type").unwrap(), "application/json");
/// assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply(pub ApiResponse);

impl From<ApiResponse> for Reply {
    fn from(response: ApiResponse) -> Self {
        Self(response)
    }
}

impl Responder for Reply {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        self.into_http_response()
    }
}

impl Reply {
    /// The response, for [`ResponseError::error_response`](actix_web::ResponseError), which
    /// has no request to hand to [`Responder::respond_to`].
    pub(crate) fn into_http_response(self) -> HttpResponse {
        let Reply(response) = self;
        let Ok(status) = StatusCode::from_u16(response.status) else {
            return HttpResponse::InternalServerError().finish();
        };
        let mut out = HttpResponse::build(status);
        for (name, value) in response.headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) else {
                return HttpResponse::InternalServerError().finish();
            };
            out.append_header((name, value));
        }
        out.body(response.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_copied_in_order() {
        let mut response = ApiResponse::error(405, "method_not_allowed", "no");
        response.headers.push(("allow", "GET, POST".to_owned()));
        let out = Reply(response).into_http_response();
        assert_eq!(out.status(), 405);
        assert_eq!(
            out.headers().get("allow").map(|v| v.as_bytes()),
            Some(&b"GET, POST"[..])
        );
        assert_eq!(
            out.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
    }

    #[test]
    fn an_impossible_status_is_a_500_not_a_panic() {
        let mut response = ApiResponse::empty(204);
        response.status = 1000;
        assert_eq!(Reply(response).into_http_response().status(), 500);
    }

    #[test]
    fn an_impossible_header_is_a_500_not_a_panic() {
        let mut response = ApiResponse::empty(204);
        response.headers.push(("x-bad", "line\nbreak".to_owned()));
        assert_eq!(Reply(response).into_http_response().status(), 500);
    }
}
