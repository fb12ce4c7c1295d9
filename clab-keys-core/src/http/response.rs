//! The framework-neutral response: status, headers and body, which each adapter converts into
//! its own response type (`IntoResponse` for axum, `Responder` for actix-web).

use super::wire::ErrorBody;

/// A framework-neutral HTTP response: what the adapters translate into their own type.
/// `Debug` shows the body's length, not the body (a `201` carries a new key's token).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiResponse {
    /// The status code.
    pub status: u16,
    /// Headers, names in lowercase.
    pub headers: Vec<(&'static str, String)>,
    /// The body (JSON, or empty for 204).
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("cache-control", "no-store".to_owned()),
            ],
            body: body.to_string().into_bytes(),
        }
    }

    /// A JSON response whose body is one of the types in `wire.rs`.
    pub(crate) fn serialized<T: serde::Serialize>(status: u16, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                let mut response = Self::json(status, &serde_json::Value::Null);
                response.body = bytes;
                response
            }
            // Unreachable for those types (strings, options and lists only); answered as a
            // server error rather than a panic all the same.
            Err(_) => Self {
                body: br#"{"error":"internal_error","message":"the answer could not be written"}"#
                    .to_vec(),
                status: 500,
                ..Self::json(500, &serde_json::Value::Null)
            },
        }
    }

    /// An empty response.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: vec![("cache-control", "no-store".to_owned())],
            body: Vec::new(),
        }
    }

    /// A JSON error body `{"error": code, "message": message}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::serialized(
            status,
            &ErrorBody {
                error: code,
                message,
            },
        )
    }

    /// The value of a header, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}
