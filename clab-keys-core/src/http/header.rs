//! `Authorization` header parsing (RFC 9110 §11, RFC 6750 §2.1), on raw bytes.
//!
//! The rules, in order:
//! 1. no header line → no credential; more than one line → invalid request;
//! 2. leading and trailing SP/HTAB are trimmed; an empty value → no credential;
//! 3. the scheme runs to the first SP; a byte outside `tchar` in it → invalid request; a scheme
//!    other than `Bearer` (ASCII case-insensitive) → no credential (the request is challenged);
//! 4. `Bearer` with nothing after it → invalid request; the SP run after the scheme is skipped;
//! 5. the credential containing SP, HTAB or `,` (two credentials) → invalid request;
//! 6. a credential longer than [`MAX_BEARER_LEN`] → invalid token (rejected before scanning);
//! 7. a credential that is not a `b64token` → invalid token.

/// Longest bearer credential looked at, in bytes; longer ones are rejected unread. Generous
/// for JWTs, far above any API key.
pub const MAX_BEARER_LEN: usize = 4096;

/// What an `Authorization` header says, before any token is verified. `Debug` shows the
/// token's length, never the token. Exhaustive on purpose: these four are the whole of RFC
/// 6750's classification, and an exhaustive `match` is how a caller proves it handles each.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BearerOutcome<'a> {
    /// No credential: no header, an empty one, or another scheme. Answered with a bare
    /// challenge (401 without `error`).
    Missing,
    /// The header is malformed (two lines, two credentials, a bad scheme, no credential after
    /// `Bearer`). 400 `invalid_request`.
    InvalidRequest,
    /// The credential is not a token we could ever accept. 401 `invalid_token`.
    InvalidToken,
    /// A well-formed bearer credential, to be verified.
    Token(&'a [u8]),
}

impl std::fmt::Debug for BearerOutcome<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str("Missing"),
            Self::InvalidRequest => f.write_str("InvalidRequest"),
            Self::InvalidToken => f.write_str("InvalidToken"),
            Self::Token(t) => write!(f, "Token([REDACTED; {} bytes])", t.len()),
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_b64token(t: &[u8]) -> bool {
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body_end = t.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    body_end > 0
        && t[..body_end]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Classifies the `Authorization` header lines of a request.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{BearerOutcome, parse_authorization};
/// assert_eq!(parse_authorization([&b"bEaReR  abc"[..]]), BearerOutcome::Token(b"abc"));
/// assert_eq!(parse_authorization([&b"Basic Zm9v"[..]]), BearerOutcome::Missing);
/// assert_eq!(parse_authorization([&b"Bearer a"[..], &b"Bearer b"[..]]), BearerOutcome::InvalidRequest);
/// ```
pub fn parse_authorization<'a, I>(lines: I) -> BearerOutcome<'a>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut lines = lines.into_iter();
    let Some(value) = lines.next() else {
        return BearerOutcome::Missing;
    };
    if lines.next().is_some() {
        return BearerOutcome::InvalidRequest;
    }
    let value = trim_ows_end(trim_ows_start(value));
    if value.is_empty() {
        return BearerOutcome::Missing;
    }
    let scheme_end = value.iter().position(|&b| b == b' ').unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_end);
    if !scheme.iter().all(|&b| is_tchar(b)) {
        return BearerOutcome::InvalidRequest;
    }
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return BearerOutcome::Missing;
    }
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let token = &rest[start..];
    if token.is_empty() {
        return BearerOutcome::InvalidRequest;
    }
    if token.len() > MAX_BEARER_LEN {
        return BearerOutcome::InvalidToken;
    }
    if token.iter().any(|&b| matches!(b, b' ' | b'\t' | b',')) {
        return BearerOutcome::InvalidRequest;
    }
    if !is_b64token(token) {
        return BearerOutcome::InvalidToken;
    }
    BearerOutcome::Token(token)
}

fn trim_ows_start(v: &[u8]) -> &[u8] {
    let i = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    &v[i..]
}

fn trim_ows_end(v: &[u8]) -> &[u8] {
    let i = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &v[..i]
}

/// Whether a token has the shape of a compact JWS: three non-empty base64url segments
/// separated by dots.
pub fn looks_like_jwt(token: &[u8]) -> bool {
    let mut parts = 0;
    for seg in token.split(|&b| b == b'.') {
        parts += 1;
        if seg.is_empty()
            || !seg
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    parts == 3
}
