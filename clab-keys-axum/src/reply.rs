//! [`Reply`]: core's framework-neutral answers as axum responses.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clab_keys_core::ApiResponse;

/// Core's framework-neutral [`ApiResponse`] as an axum response: a handler returns it (or
/// `Result<Reply, AuthRejection>`) like any other [`IntoResponse`] value. Status, headers and
/// body are copied as they are.
///
/// Core builds every status and header itself, so the conversion cannot fail in practice; if
/// it ever did, the request is answered with a bare `500` rather than with a response missing,
/// say, its `WWW-Authenticate` challenge.
///
/// ```
/// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_axum as axum; }
/// use axum::response::IntoResponse;
/// use clab_keys::ApiResponse;
/// use clab_keys::axum::Reply;
///
/// async fn gone() -> Reply {
///     Reply::from(ApiResponse::error(410, "gone", "this endpoint was removed"))
/// }
///
/// let response = Reply(ApiResponse::error(404, "not_found", "no such API key")).into_response();
/// assert_eq!(response.status(), 404);
/// assert_eq!(response.headers()["content-type"], "application/json");
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply(pub ApiResponse);

impl From<ApiResponse> for Reply {
    fn from(response: ApiResponse) -> Self {
        Self(response)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let Reply(response) = self;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_copied_in_order() {
        let mut response = ApiResponse::error(405, "method_not_allowed", "no");
        response.headers.push(("allow", "GET, POST".to_owned()));
        let out = Reply(response).into_response();
        assert_eq!(out.status(), 405);
        assert_eq!(out.headers()["allow"], "GET, POST");
        assert_eq!(out.headers()["cache-control"], "no-store");
    }

    #[test]
    fn an_impossible_status_is_a_500_not_a_panic() {
        let mut response = ApiResponse::empty(204);
        response.status = 1000;
        assert_eq!(Reply(response).into_response().status(), 500);
    }

    #[test]
    fn an_impossible_header_is_a_500_not_a_panic() {
        let mut response = ApiResponse::empty(204);
        response.headers.push(("x-bad", "line\nbreak".to_owned()));
        assert_eq!(Reply(response).into_response().status(), 500);
    }
}
