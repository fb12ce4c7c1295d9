//! The framework-neutral response: status, headers and body, which each adapter converts into
//! its own response type (`IntoResponse` for axum, `Responder` for actix-web).

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
        Self::json(
            status,
            &serde_json::json!({ "error": code, "message": message }),
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
