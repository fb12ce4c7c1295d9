//! The bodies of the clab-keys fuzz targets, as plain functions.
//!
//! Each `fuzz_targets/<name>.rs` is a one-line `fuzz_target!` that calls the function of the
//! same name here, and `tests/corpus.rs` calls the same functions over the committed seed corpus
//! on stable Rust, so the invariants are checked in CI even without a fuzz toolchain.
//!
//! Every function panics (an `assert!`) when an invariant breaks; libFuzzer then saves the input.
//!
//! | target | input | invariants |
//! |---|---|---|
//! | [`parse_token`] | raw bytes | no panic, no allocation; `> MAX_TOKEN_LEN` ⇒ `WrongLength`; the exact error agrees with an independent model; `Ok` ⇔ the published regex matches and the CRC32 checks; `Ok` borrows the input and its key id is the id slice |
//! | [`parse_authorization`] | header lines (split on `\n`) | no panic, no allocation; agrees with an independent model of the documented rules; `Token` ⇒ a `b64token` slice of the single line |
//! | [`router`] | header lines | no panic; accepted only for a stored, usable key's exact token or the known JWT, with that key's principal; statuses ∈ {400, 401, 503} as the model says; the verification cache never changes an answer; a store that is down fails closed (503), malformed keys never reach the store; bounded allocation |
//! | [`challenge`] | kind byte, realm and scope text | only valid realms build; every `WWW-Authenticate` is a valid header value and parses per RFC 9110 §11 with the RFC 6750 parameters; the response is consistent |
#![deny(unsafe_code)]

pub mod alloc_count;
pub mod rfc;
pub mod seeds;
pub mod world;

use std::sync::OnceLock;

use clab_keys_core::{BearerOutcome, MAX_BEARER_LEN};
const BODY_LEN: usize = clab_keys_core::TokenFormat::BODY_LEN;
const CHECKSUM_LEN: usize = clab_keys_core::TokenFormat::CHECKSUM_LEN;
const KEY_ID_LEN: usize = clab_keys_core::TokenFormat::KEY_ID_LEN;
const MAX_TOKEN_LEN: usize = clab_keys_core::TokenFormat::MAX_TOKEN_LEN;
use clab_keys_core::{
    KeyFormats, KeyPrefix, ParseError, Realm, Rejection, RejectionKind, Scopes, TokenFormat, UserId,
};
use regex::bytes::Regex;

use crate::alloc_count::measure;

/// Splits a fuzz input into `Authorization` header lines. Lines are separated by `\n`, which no
/// real header value can contain (the `http` crate refuses CR, LF and NUL; the parser still gets
/// NUL and CR here). The empty input is read both as "no header line" and as "one empty line".
pub fn header_lines(data: &[u8]) -> Vec<Vec<&[u8]>> {
    if data.is_empty() {
        vec![Vec::new(), vec![data]]
    } else {
        vec![data.split(|&b| b == b'\n').collect()]
    }
}

// ------------------------------------------------------------------------------------------
// parse_token

/// The formats the token target parses with: the default prefix, a second one, and the longest
/// prefix allowed (so a token of exactly `MAX_TOKEN_LEN` bytes exists).
pub struct TokenWorld {
    /// The formats under test.
    pub formats: KeyFormats,
    /// Each format with its published anchored regex and its scan regex.
    pub each: Vec<(TokenFormat, Regex, Regex)>,
}

/// The longest prefix allowed (32 bytes).
pub const LONGEST_PREFIX: &str = "abcdefghijklmnopqrstuvwxyz01234_";

fn must<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("fuzz set-up: {what}: {e:?}"),
    }
}

/// The token target's formats (built once).
pub fn token_world() -> &'static TokenWorld {
    static WORLD: OnceLock<TokenWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        let formats: Vec<TokenFormat> = ["clab_user_", "clab_agent_", LONGEST_PREFIX]
            .iter()
            .map(|p| TokenFormat::new(must(KeyPrefix::new(p), "prefix")))
            .collect();
        let each = formats
            .iter()
            .map(|f| {
                (
                    f.clone(),
                    must(Regex::new(&f.regex()), "published regex"),
                    must(Regex::new(&f.scan_regex()), "published scan regex"),
                )
            })
            .collect();
        TokenWorld {
            formats: must(KeyFormats::new(formats), "formats"),
            each,
        }
    })
}

/// An independent CRC32 (IEEE) → six base62 digits, to check the parser's checksum.
pub fn reference_checksum(signed: &[u8]) -> [u8; CHECKSUM_LEN] {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut h = crc32fast::Hasher::new();
    h.update(signed);
    let mut n = u64::from(h.finalize());
    let mut out = [0u8; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// What the parser must answer, from the documented rules, written independently of it.
pub fn reference_parse(w: &TokenWorld, data: &[u8]) -> Result<usize, ParseError> {
    if data.len() > MAX_TOKEN_LEN {
        return Err(ParseError::WrongLength);
    }
    let Some((format, anchored, _)) = w
        .each
        .iter()
        .find(|(f, _, _)| data.starts_with(f.prefix().as_str().as_bytes()))
    else {
        return Err(ParseError::UnknownPrefix);
    };
    let prefix_len = format.prefix().as_str().len();
    let body = &data[prefix_len..];
    if body.len() != BODY_LEN {
        return Err(ParseError::WrongLength);
    }
    if !body.iter().all(u8::is_ascii_alphanumeric) {
        return Err(ParseError::InvalidCharacter);
    }
    assert!(
        anchored.is_match(data),
        "a prefix and 46 base62 characters must match the published regex"
    );
    let (signed, sum) = data.split_at(data.len() - CHECKSUM_LEN);
    if reference_checksum(signed) != sum {
        return Err(ParseError::ChecksumMismatch);
    }
    Ok(prefix_len)
}

/// Fuzz target `parse_token`: `KeyFormats::parse` on arbitrary bytes.
pub fn parse_token(data: &[u8]) {
    let w = token_world();
    let (result, allocs) = measure(|| w.formats.parse(data));
    assert_eq!(allocs.count, 0, "parsing allocated: {allocs:?}");
    if data.len() > MAX_TOKEN_LEN {
        assert_eq!(
            result.map(|_| ()),
            Err(ParseError::WrongLength),
            "over-long input"
        );
        return;
    }
    let expected = reference_parse(w, data);
    match (result, expected) {
        (Ok(parsed), Ok(prefix_len)) => {
            // The parsed token is the input itself, borrowed, not a copy.
            let token = parsed.expose_token();
            assert_eq!(token.as_ptr(), data.as_ptr(), "token is not the input");
            assert_eq!(token.len(), data.len(), "token is not the whole input");
            assert_eq!(
                parsed.key_id().as_str().as_bytes(),
                &data[prefix_len..prefix_len + KEY_ID_LEN],
                "key id is not the id slice"
            );
            assert!(w.formats.claims(data), "parsed but not claimed");
            // Exactly one published regex matches, and the scan regex finds it inside text.
            let matching: Vec<_> = w.each.iter().filter(|(_, a, _)| a.is_match(data)).collect();
            assert_eq!(matching.len(), 1, "published regexes matching a token");
            let mut text = b"token=".to_vec();
            text.extend_from_slice(data);
            text.extend_from_slice(b"\n");
            let found = matching[0].2.captures(&text).and_then(|c| c.get(1));
            assert_eq!(found.map(|m| m.as_bytes()), Some(data), "scan regex");
            // The per-format parser agrees.
            assert!(matching[0].0.parse(data).is_ok(), "TokenFormat::parse");
        }
        (Err(got), Err(want)) => assert_eq!(got, want, "parse error kind"),
        (got, want) => panic!(
            "parse disagrees with the model: got {:?}, want {want:?}",
            got.map(|p| p.key_id())
        ),
    }
}

// ------------------------------------------------------------------------------------------
// parse_authorization

fn b64token_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    RE.get_or_init(|| must(Regex::new(r"(?-u)\A[A-Za-z0-9\-._~+/]+=*\z"), "b64token"))
}

fn bearer_line_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // OWS-trimmed `Bearer 1*SP b64token`, scheme case-insensitive (RFC 9110 §11.1, §11.4).
    RE.get_or_init(|| {
        must(
            Regex::new(r"(?-u)\A[ \t]*(?i:bearer) +([A-Za-z0-9\-._~+/]+=*)[ \t]*\z"),
            "bearer line",
        )
    })
}

/// What `parse_authorization` must answer, from the rules in its documentation.
pub fn reference_authorization<'a>(lines: &[&'a [u8]]) -> BearerOutcome<'a> {
    let line = match lines {
        [] => return BearerOutcome::Missing,
        [line] => *line,
        _ => return BearerOutcome::InvalidRequest,
    };
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = line.iter().position(|b| !is_ows(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    let value = &line[start..end.max(start)];
    if value.is_empty() {
        return BearerOutcome::Missing;
    }
    let scheme = value.split(|&b| b == b' ').next().unwrap_or_default();
    if !scheme.iter().all(|&b| rfc::is_tchar(b)) {
        return BearerOutcome::InvalidRequest;
    }
    if !scheme.eq_ignore_ascii_case(b"Bearer") {
        return BearerOutcome::Missing;
    }
    let after = &value[scheme.len()..];
    let credential = &after[after.iter().take_while(|&&b| b == b' ').count()..];
    if credential.is_empty() {
        return BearerOutcome::InvalidRequest;
    }
    if credential.len() > MAX_BEARER_LEN {
        return BearerOutcome::InvalidToken;
    }
    if credential
        .iter()
        .any(|&b| b == b' ' || b == b'\t' || b == b',')
    {
        return BearerOutcome::InvalidRequest;
    }
    if b64token_regex().is_match(credential) {
        BearerOutcome::Token(credential)
    } else {
        BearerOutcome::InvalidToken
    }
}

fn check_authorization(lines: &[&[u8]]) {
    let (outcome, allocs) = measure(|| clab_keys_core::parse_authorization(lines.iter().copied()));
    assert_eq!(allocs.count, 0, "header parsing allocated: {allocs:?}");
    assert_eq!(outcome, reference_authorization(lines), "model disagrees");
    // The positive case, stated a second way: one line that is exactly `Bearer <b64token>`.
    let by_regex = match lines {
        [line] => bearer_line_regex()
            .captures(line)
            .and_then(|c| c.get(1))
            .map(|m| m.as_bytes())
            .filter(|t| t.len() <= MAX_BEARER_LEN),
        _ => None,
    };
    match outcome {
        BearerOutcome::Token(t) => {
            let [line] = lines else {
                panic!("a token from {} lines", lines.len())
            };
            let range = line.as_ptr_range();
            assert!(
                range.start <= t.as_ptr() && t.as_ptr_range().end <= range.end,
                "the token is not a slice of the header line"
            );
            assert!(b64token_regex().is_match(t), "token is not a b64token");
            assert_eq!(by_regex, Some(t), "line regex");
        }
        _ => assert_eq!(by_regex, None, "a Bearer line was not accepted"),
    }
}

/// Fuzz target `parse_authorization`: header lines (split on `\n`) into `parse_authorization`.
pub fn parse_authorization(data: &[u8]) {
    for lines in header_lines(data) {
        check_authorization(&lines);
    }
}

// ------------------------------------------------------------------------------------------
// router

/// Fuzz target `router`: header lines through the whole `CredentialRouter`. See [`world`].
pub fn router(data: &[u8]) {
    let w = world::World::get();
    for lines in header_lines(data) {
        w.check(&lines);
    }
}

// ------------------------------------------------------------------------------------------
// challenge

/// The realm rule, written independently: 1–128 bytes of printable ASCII, no `"` or `\`.
pub fn reference_realm_ok(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

/// The `error` code each kind's challenge carries (`None`: a bare challenge or no challenge).
fn expected_error(kind: &RejectionKind) -> Option<&'static str> {
    match kind {
        RejectionKind::MissingCredentials | RejectionKind::Unavailable => None,
        RejectionKind::InvalidRequest => Some("invalid_request"),
        RejectionKind::InvalidToken => Some("invalid_token"),
        _ => Some("insufficient_scope"),
    }
}

/// Checks one rejection's whole answer.
pub fn check_rejection(rejection: &Rejection, realm: &str) {
    let status = rejection.status();
    let kind = rejection.kind();
    let response = rejection.to_response();
    assert_eq!(response.status, status);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body: serde_json::Value = must(serde_json::from_slice(&response.body), "JSON body");
    assert_eq!(body["error"], rejection.error_code());
    assert!(body["message"].is_string());
    let challenge = rejection.www_authenticate();
    assert_eq!(response.header("www-authenticate"), challenge.as_deref());
    if status == 503 {
        assert_eq!(challenge, None, "503 carries no challenge");
        assert_eq!(response.header("retry-after"), Some("5"));
        return;
    }
    assert!(
        matches!(status, 400 | 401 | 403),
        "unexpected status {status}"
    );
    let Some(challenge) = challenge else {
        panic!("status {status} without WWW-Authenticate")
    };
    let parsed = match rfc::parse_challenge(&challenge) {
        Ok(p) => p,
        Err(e) => panic!("WWW-Authenticate {challenge:?} does not parse: {e}"),
    };
    assert_eq!(parsed.scheme, "Bearer");
    assert!(!parsed.params.is_empty(), "RFC 6750 §3: at least one param");
    assert_eq!(parsed.param("realm"), Some(realm), "realm round-trip");
    let error = parsed.param("error");
    assert_eq!(error, expected_error(kind), "error code for {kind:?}");
    if error.is_none() {
        assert_eq!(parsed.params.len(), 1, "bare challenge: realm only");
    }
    for name in ["error", "error_description"] {
        if let Some(v) = parsed.param(name) {
            assert!(
                v.bytes().all(rfc::is_rfc6750_error_char),
                "{name} has characters outside RFC 6750 §3"
            );
        }
    }
    if let Some(scope) = parsed.param("scope") {
        assert!(rfc::is_rfc6750_scope(scope), "scope {scope:?}");
    }
    match kind {
        // A required scope is named only when it is a valid scope name; otherwise the
        // parameter is left out (nothing unvalidated is echoed into the challenge).
        RejectionKind::InsufficientScope(scope) => {
            let valid = Scopes::new([scope.as_str()]).is_ok();
            let expected = valid.then_some(scope.as_str());
            assert_eq!(parsed.param("scope"), expected, "scope named iff valid");
        }
        _ => assert_eq!(parsed.param("scope"), None),
    }
}

/// Fuzz target `challenge`: byte 0 picks the kind, the rest up to the first `\n` is the realm,
/// what follows it the scope an endpoint requires.
pub fn challenge(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (realm_bytes, scope_bytes) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    let realm_text = String::from_utf8_lossy(realm_bytes);
    let scope = String::from_utf8_lossy(scope_bytes);
    let realm = Realm::new(&realm_text);
    assert_eq!(
        realm.is_ok(),
        reference_realm_ok(&realm_text),
        "Realm::new({realm_text:?})"
    );
    let Ok(realm) = realm else { return };
    assert_eq!(realm.as_str(), realm_text);
    let rejection = match selector % 6 {
        0 => Rejection::new(RejectionKind::MissingCredentials, realm.clone()),
        1 => Rejection::new(RejectionKind::InvalidRequest, realm.clone()),
        2 => Rejection::new(RejectionKind::InvalidToken, realm.clone()),
        3 => {
            // The supported way to a scope challenge: a scoped credential missing `scope`.
            let granted = must(Scopes::new(["projects:read"]), "scopes");
            let principal =
                clab_keys_core::dangerous::session_principal(UserId::from(1_i64), Some(granted));
            match principal.require_scope(&scope, &realm) {
                Ok(()) => {
                    assert_eq!(scope, "projects:read");
                    return;
                }
                Err(r) => r,
            }
        }
        4 => Rejection::new(RejectionKind::InteractiveSessionRequired, realm.clone()),
        _ => Rejection::new(RejectionKind::Unavailable, realm.clone()),
    };
    check_rejection(&rejection, &realm_text);
}
