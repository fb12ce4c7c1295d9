//! `Authorization` parsing and challenges (RFC 9110 §11, RFC 6750 §2–§3): property tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_core::{
    BearerOutcome, MAX_BEARER_LEN, Realm, Rejection, RejectionKind, looks_like_jwt,
    parse_authorization,
};
use proptest::prelude::*;

fn one(v: &[u8]) -> BearerOutcome<'_> {
    parse_authorization([v])
}

#[test]
fn header_outcomes_follow_the_rules() {
    use BearerOutcome::*;
    assert_eq!(parse_authorization(std::iter::empty::<&[u8]>()), Missing);
    assert_eq!(one(b""), Missing);
    assert_eq!(one(b" \t "), Missing);
    assert_eq!(one(b"Basic abc"), Missing);
    assert_eq!(one(b"Bearer"), InvalidRequest);
    assert_eq!(one(b"Bearer\tabc"), InvalidRequest);
    assert_eq!(one(b"Bea\"rer abc"), InvalidRequest);
    assert_eq!(one(b"Bearer a b"), InvalidRequest);
    assert_eq!(one(b"Bearer a,b"), InvalidRequest);
    assert_eq!(one(b"Bearer \"abc\""), InvalidToken);
    assert_eq!(one(b"Bearer a\x00b"), InvalidToken);
    assert_eq!(one("Bearer \u{e9}".as_bytes()), InvalidToken);
    assert_eq!(one(b"Bearer ==="), InvalidToken);
    assert_eq!(one(b"Bearer abc=="), Token(b"abc=="));
    assert_eq!(one(b"Bearer a=b"), InvalidToken);
    assert_eq!(
        parse_authorization([&b"Bearer a"[..], &b"Bearer a"[..]]),
        InvalidRequest
    );
    let huge = format!("Bearer {}", "a".repeat(MAX_BEARER_LEN + 1));
    assert_eq!(one(huge.as_bytes()), InvalidToken);
}

#[test]
fn jwt_shape_is_three_non_empty_base64url_segments() {
    assert!(looks_like_jwt(b"a.b.c"));
    assert!(looks_like_jwt(b"eyJ-_.eyJ.sig_-"));
    for bad in [
        &b"a.b"[..],
        b"a.b.c.d",
        b"a..c",
        b".b.c",
        b"a.b.",
        b"a.b+.c",
        b"a.b/c.d",
        b"",
    ] {
        assert!(!looks_like_jwt(bad), "{}", String::from_utf8_lossy(bad));
    }
}

/// A small RFC 9110 §11.6.1 challenge parser: `auth-scheme 1*SP auth-param *(OWS "," OWS
/// auth-param)` with quoted-string values; returns the parameters or an error.
fn parse_challenge(c: &str) -> Result<(String, Vec<(String, String)>), String> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let b = c.as_bytes();
    let mut i = b.iter().position(|&x| !tchar(x)).unwrap_or(b.len());
    let scheme = c[..i].to_owned();
    if scheme.is_empty() {
        return Err("no scheme".into());
    }
    let mut params = Vec::new();
    if i == b.len() {
        return Ok((scheme, params));
    }
    if b[i] != b' ' {
        return Err("no SP after scheme".into());
    }
    i += 1;
    loop {
        let start = i;
        while i < b.len() && tchar(b[i]) {
            i += 1;
        }
        let name = c[start..i].to_ascii_lowercase();
        if name.is_empty() || i >= b.len() || b[i] != b'=' {
            return Err(format!("bad param at {start}"));
        }
        i += 1;
        if i >= b.len() || b[i] != b'"' {
            return Err("value not quoted".into());
        }
        i += 1;
        let vstart = i;
        while i < b.len() && b[i] != b'"' {
            if b[i] == b'\\' || !(0x20..0x7f).contains(&b[i]) {
                return Err("bad character in quoted value".into());
            }
            i += 1;
        }
        if i >= b.len() {
            return Err("unterminated quoted string".into());
        }
        params.push((name, c[vstart..i].to_owned()));
        i += 1;
        if i == b.len() {
            return Ok((scheme, params));
        }
        if !c[i..].starts_with(", ") {
            return Err("params not comma separated".into());
        }
        i += 2;
    }
}

fn check_challenge(c: &str) {
    let (scheme, params) = parse_challenge(c).unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert_eq!(scheme, "Bearer");
    assert_eq!(params[0].0, "realm", "realm first in {c}");
    let mut names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "each parameter at most once in {c}");
    for (n, v) in &params {
        match n.as_str() {
            "error" => assert!(
                ["invalid_request", "invalid_token", "insufficient_scope"].contains(&v.as_str())
            ),
            // RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E.
            "error_description" => assert!(
                v.bytes()
                    .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
            ),
            "realm" | "scope" => {}
            other => panic!("unexpected parameter {other} in {c}"),
        }
    }
}

#[test]
fn every_emitted_challenge_parses_under_rfc_9110() {
    let kinds = [
        RejectionKind::MissingCredentials,
        RejectionKind::InvalidRequest,
        RejectionKind::InvalidToken,
        RejectionKind::InsufficientScope("projects:read".into()),
        RejectionKind::InteractiveSessionRequired,
    ];
    for realm in ["api", "clab keys example", "a"] {
        for kind in &kinds {
            let r = Rejection::new(kind.clone(), Realm::new(realm).unwrap());
            let c = r.www_authenticate().unwrap();
            check_challenge(&c);
            assert!(c.contains(&format!("realm=\"{realm}\"")));
            assert_eq!(r.to_response().header("www-authenticate"), Some(c.as_str()));
        }
    }
    assert!(Realm::new("bad\"realm").is_err());
    assert!(Realm::new("").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    /// Every input maps to exactly one outcome, and a `Token` outcome is always a slice of the
    /// input that is a non-empty b64token with no SP, HTAB or comma.
    #[test]
    fn any_header_bytes_map_to_one_outcome(v in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let BearerOutcome::Token(t) = one(&v) {
            prop_assert!(!t.is_empty() && t.len() <= MAX_BEARER_LEN);
            prop_assert!(t.iter().all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(b)));
            prop_assert!(v.windows(t.len()).any(|w| w == t));
        }
    }

    #[test]
    fn scheme_is_case_insensitive_and_spaces_are_skipped(
        scheme in "[bB][eE][aA][rR][eE][rR]",
        spaces in 1usize..8,
        token in "[A-Za-z0-9._~+/-]{1,40}",
    ) {
        let header = format!("{scheme}{}{token}", " ".repeat(spaces));
        prop_assert_eq!(one(header.as_bytes()), BearerOutcome::Token(token.as_bytes()));
        let tabbed = format!("{scheme}\t{token}");
        prop_assert_eq!(one(tabbed.as_bytes()), BearerOutcome::InvalidRequest);
    }

    #[test]
    fn challenges_with_any_valid_scope_parse(scope in "[A-Za-z0-9:._-]{1,64}") {
        let r = Rejection::new(RejectionKind::InsufficientScope(scope), Realm::default());
        check_challenge(&r.www_authenticate().unwrap());
    }
}

#[test]
fn an_invalid_scope_is_never_echoed_into_the_challenge() {
    for scope in ["a\", error=\"x", "has space", ""] {
        let r = Rejection::new(
            RejectionKind::InsufficientScope(scope.into()),
            Realm::default(),
        );
        let c = r.www_authenticate().unwrap();
        assert_eq!(c, "Bearer realm=\"api\", error=\"insufficient_scope\"");
        check_challenge(&c);
    }
}
