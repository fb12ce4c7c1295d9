//! What the apps' request logging may show of a request's headers (contract §7): the values
//! of a short allow-list ([`SHOWN_HEADERS`]) and, for every other header, only its name. A
//! shown value that holds anything shaped like a token (an API key of a configured format or
//! any `clab_…` key, or a JWT) is redacted as well, so a key pasted into `User-Agent` does not
//! reach the log either. The query string is never logged (both apps log the path only), and
//! the path is logged as [`RedactedPath`] shows it: a segment that holds a token (a key pasted
//! where a key id belongs, `DELETE /api/user/api-keys/clab_user_…`) is `[REDACTED]`, in the
//! request span and access log lines at `info` as in the `debug` line.
//!
//! ```
//! use clab_keys::KeyFormats;
//! use clab_keys_example_common::request_log::RedactedHeaders;
//! let key = "clab_user_AAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBCCCCCC";
//! let headers: [(&str, &[u8]); 3] = [
//!     ("user-agent", b"curl/8.5"),
//!     ("x-api-key", key.as_bytes()),
//!     ("accept", b"*/*"),
//! ];
//! let formats = KeyFormats::default();
//! let shown = RedactedHeaders::new(headers, &formats).to_string();
//! assert_eq!(shown, r#"{user-agent: "curl/8.5", x-api-key: [REDACTED], accept: "*/*"}"#);
//!
//! use clab_keys_example_common::request_log::RedactedPath;
//! let path = format!("/api/user/api-keys/{key}");
//! let shown = RedactedPath::new(&path, &formats).to_string();
//! assert_eq!(shown, "/api/user/api-keys/[REDACTED]");
//! ```

use std::fmt;

use clab_keys::{KeyFormats, TokenFormat, looks_like_jwt};

/// The headers whose values are logged (names in lowercase). Any other header is logged by
/// name only, its value shown as `[REDACTED]`.
pub const SHOWN_HEADERS: [&str; 8] = [
    "accept",
    "content-length",
    "content-type",
    "host",
    "origin",
    "referer",
    "user-agent",
    "x-request-id",
];

/// What stands in for a value that is not shown.
pub const REDACTED: &str = "[REDACTED]";

/// Request headers as they may be logged: `{name: "value", other: [REDACTED]}`, in request
/// order. Builds the text only when displayed.
pub struct RedactedHeaders<'a> {
    headers: Vec<(&'a str, &'a [u8])>,
    formats: &'a KeyFormats,
}

impl<'a> RedactedHeaders<'a> {
    /// The headers `(name, value)` of one request; `formats` are the key formats the app
    /// accepts (`KeyService::formats`).
    pub fn new(
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        formats: &'a KeyFormats,
    ) -> Self {
        Self {
            headers: headers.into_iter().collect(),
            formats,
        }
    }
}

impl fmt::Display for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, value)) in self.headers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: ")?;
            let shown = SHOWN_HEADERS
                .iter()
                .any(|allowed| name.eq_ignore_ascii_case(allowed));
            match std::str::from_utf8(value) {
                Ok(text) if shown && !shows_a_token(value, self.formats) => {
                    write!(f, "{text:?}")?;
                }
                _ => f.write_str(REDACTED)?,
            }
        }
        f.write_str("}")
    }
}

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A request path as it may be logged: every `/`-separated segment that holds anything shaped
/// like a token ([`holds_a_token`], as sent or percent-decoded) shows as `[REDACTED]`, the
/// rest as sent. Should the text carry a query string (`?…`), each `name=value` pair is shown
/// with a value that holds a token as `[REDACTED]` (the whole pair when the name holds one).
/// Builds the text only when displayed.
pub struct RedactedPath<'a> {
    path: &'a str,
    formats: &'a KeyFormats,
}

impl<'a> RedactedPath<'a> {
    /// The path (`Uri::path`, as sent: not decoded) of one request; `formats` are the key
    /// formats the app accepts (`KeyService::formats`).
    pub fn new(path: &'a str, formats: &'a KeyFormats) -> Self {
        Self { path, formats }
    }
}

impl fmt::Display for RedactedPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |part| redacted(part, self.formats);
        let (path, query) = match self.path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (self.path, None),
        };
        for (i, segment) in path.split('/').enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            f.write_str(shown(segment))?;
        }
        if let Some(query) = query {
            f.write_str("?")?;
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    f.write_str("&")?;
                }
                match pair.split_once('=') {
                    Some((name, value)) if !shows_a_token(name.as_bytes(), self.formats) => {
                        write!(f, "{name}={}", shown(value))?;
                    }
                    _ => f.write_str(shown(pair))?,
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for RedactedPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `part`, or [`REDACTED`] when it shows a token.
fn redacted<'p>(part: &'p str, formats: &KeyFormats) -> &'p str {
    if shows_a_token(part.as_bytes(), formats) {
        REDACTED
    } else {
        part
    }
}

/// [`holds_a_token`] on `text` as given and, when it has `%` escapes, percent-decoded too
/// (`clab%5Fuser_…` is the same key to anyone who reads the log).
fn shows_a_token(text: &[u8], formats: &KeyFormats) -> bool {
    holds_a_token(text, formats)
        || (text.contains(&b'%') && holds_a_token(&percent_decoded(text), formats))
}

/// `text` with each `%XX` (two hex digits) replaced by its byte; anything else kept.
fn percent_decoded(text: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let escaped = match (text[i], text.get(i + 1), text.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => hex(hi).zip(hex(lo)),
            _ => None,
        };
        match escaped {
            Some((hi, lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                i += 3;
            }
            None => {
                out.push(text[i]);
                i += 1;
            }
        }
    }
    out
}

/// Whether `text` contains a word shaped like a credential: an API key of one of `formats`
/// (any length: a truncated key is still secret), any `clab_…_` key with a full body (another
/// app's prefix), or a JWT. Words are runs of `A-Z a-z 0-9 _ - .`, so a token inside
/// `key=…; other=…` or a JSON string is found.
pub fn holds_a_token(text: &[u8], formats: &KeyFormats) -> bool {
    text.split(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .any(|word| {
            formats.claims(word)
                || looks_like_any_key(word)
                || (word.len() >= MIN_JWT_LEN && looks_like_jwt(word))
        })
}

/// The shortest word treated as a JWT: shorter dotted words are version numbers
/// (`curl/8.5.0`), and the smallest real JWT header alone (`{"alg":"none"}`) is 19 characters.
const MIN_JWT_LEN: usize = 24;

/// Logs one request at `debug` level (nothing is built when `debug` is off): method, path
/// (never the query string) as [`RedactedPath`] shows it and the headers as
/// [`RedactedHeaders`] shows them. Both apps call it for every request.
pub fn log_request<'a>(
    method: &str,
    path: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    formats: &'a KeyFormats,
) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        let headers = RedactedHeaders::new(headers, formats);
        let path = RedactedPath::new(path, formats);
        tracing::debug!(method, path = %path, headers = %headers, "request received");
    }
}

/// `clab_<name>_` followed by a whole key body: the shape of every clab-keys prefix.
fn looks_like_any_key(word: &[u8]) -> bool {
    let Some(rest) = word.strip_prefix(b"clab_") else {
        return false;
    };
    let Some(body_start) = rest.len().checked_sub(TokenFormat::BODY_LEN) else {
        return false;
    };
    let (name, body) = rest.split_at(body_start);
    name.ends_with(b"_") && body.iter().all(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KEY: &str = "clab_user_AAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBCCCCCC";
    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";

    fn shown(headers: &[(&str, &str)]) -> String {
        let formats = KeyFormats::default();
        RedactedHeaders::new(headers.iter().map(|(n, v)| (*n, v.as_bytes())), &formats).to_string()
    }

    #[test]
    fn headers_off_the_list_show_only_their_name() {
        let text = shown(&[
            ("x-api-key", KEY),
            ("cookie", "session=abc"),
            ("authorization", "Bearer x"),
            ("x-custom", "harmless"),
        ]);
        assert_eq!(
            text,
            "{x-api-key: [REDACTED], cookie: [REDACTED], authorization: [REDACTED], \
             x-custom: [REDACTED]}"
        );
    }

    #[test]
    fn listed_headers_show_their_value_unless_it_holds_a_token() {
        let text = shown(&[
            ("User-Agent", "script/1.0"),
            ("user-agent", &format!("script/1.0 key={KEY}")),
            ("referer", &format!("https://example.com/?t={JWT}")),
            ("accept", "application/json"),
        ]);
        assert_eq!(
            text,
            "{User-Agent: \"script/1.0\", user-agent: [REDACTED], referer: [REDACTED], \
             accept: \"application/json\"}"
        );
    }

    #[test]
    fn token_shapes_are_recognised() {
        let formats = KeyFormats::default();
        for text in [
            KEY,
            "clab_user_short",
            "clab_agent_AAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBCCCCCC",
            JWT,
            &format!("a;{KEY};b"),
        ] {
            assert!(holds_a_token(text.as_bytes(), &formats), "{text}");
        }
        for text in [
            "curl/8.5.0",
            "application/json",
            "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
            "clab_keys docs",
        ] {
            assert!(!holds_a_token(text.as_bytes(), &formats), "{text}");
        }
    }

    fn path(path: &str) -> String {
        RedactedPath::new(path, &KeyFormats::default()).to_string()
    }

    #[test]
    fn path_segments_that_hold_a_token_are_redacted() {
        assert_eq!(
            path(&format!("/api/user/api-keys/{KEY}")),
            "/api/user/api-keys/[REDACTED]"
        );
        assert_eq!(path(&format!("/{JWT}/x")), "/[REDACTED]/x");
        // A truncated key, another app's prefix, a token inside a segment, percent-encoded.
        assert_eq!(
            path("/api/user/api-keys/clab_user_AAAA"),
            "/api/user/api-keys/[REDACTED]"
        );
        assert_eq!(
            path("/k/clab_agent_AAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBCCCCCC/"),
            "/k/[REDACTED]/"
        );
        assert_eq!(path(&format!("/k/x;t={KEY}")), "/k/[REDACTED]");
        let encoded = KEY.replacen('_', "%5F", 1);
        assert_eq!(path(&format!("/k/{encoded}")), "/k/[REDACTED]");
        // What is not a token stays: key ids, version numbers, pages.
        for kept in [
            "/api/user/api-keys/AAAAAAAA",
            "/api/security/users/me",
            "/assets/site.css",
            "/v1.2.3/clab_keys%20docs",
            "/",
            "",
        ] {
            assert_eq!(path(kept), kept);
        }
    }

    #[test]
    fn query_values_that_hold_a_token_are_redacted() {
        assert_eq!(
            path(&format!("/api/echo?api_key={KEY}&page=2&t={JWT}")),
            "/api/echo?api_key=[REDACTED]&page=2&t=[REDACTED]"
        );
        assert_eq!(path(&format!("/e?{KEY}&x")), "/e?[REDACTED]&x");
        assert_eq!(path(&format!("/e?{KEY}=1")), "/e?[REDACTED]");
        assert_eq!(path("/e?q=curl%2F8.5&empty="), "/e?q=curl%2F8.5&empty=");
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decoded(b"a%5Fb%2f%zz%4"), b"a_b/%zz%4");
    }

    #[test]
    fn a_value_that_is_not_text_is_not_shown() {
        let formats = KeyFormats::default();
        let text = RedactedHeaders::new([("user-agent", &b"\xff\xfe"[..])], &formats).to_string();
        assert_eq!(text, "{user-agent: [REDACTED]}");
    }
}
