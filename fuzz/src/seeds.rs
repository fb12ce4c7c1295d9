//! The seed corpus: every hostile class of input, per target, with a name saying what it is.
//! `examples/gen_corpus.rs` writes these to `corpus/<target>/<name>`; `tests/corpus.rs` checks
//! that the committed files are these seeds and runs every target over them.

use clab_keys_core::MAX_BEARER_LEN;
const BODY_LEN: usize = clab_keys_core::TokenFormat::BODY_LEN;
const CHECKSUM_LEN: usize = clab_keys_core::TokenFormat::CHECKSUM_LEN;
const KEY_ID_LEN: usize = clab_keys_core::TokenFormat::KEY_ID_LEN;
const MAX_TOKEN_LEN: usize = clab_keys_core::TokenFormat::MAX_TOKEN_LEN;

use crate::world::{JWT_DOWN, JWT_OK, World};
use crate::{LONGEST_PREFIX, reference_checksum};

/// One seed: target, file name, bytes.
pub type Seed = (&'static str, String, Vec<u8>);

/// The targets, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: [&str; 4] = ["parse_token", "parse_authorization", "router", "challenge"];

/// `signed` with its checksum appended.
pub fn with_checksum(signed: &[u8]) -> Vec<u8> {
    let mut v = signed.to_vec();
    v.extend_from_slice(&reference_checksum(signed));
    v
}

/// The token with one character before the checksum changed and the old checksum kept.
pub fn tamper_checksum(token: &str) -> Vec<u8> {
    let mut b = token.as_bytes().to_vec();
    let i = b.len() - CHECKSUM_LEN - 1;
    b[i] = if b[i] == b'a' { b'b' } else { b'a' };
    b
}

/// The token with its first secret character changed and a valid checksum: well formed, but
/// not any stored key.
pub fn tamper_secret(token: &str) -> Vec<u8> {
    let mut b = token.as_bytes()[..token.len() - CHECKSUM_LEN].to_vec();
    let i = token.len() - BODY_LEN + KEY_ID_LEN;
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    with_checksum(&b)
}

/// The token with every ASCII letter's case flipped after the prefix.
pub fn case_flipped(token: &str, prefix_len: usize) -> Vec<u8> {
    let mut b = token.as_bytes().to_vec();
    for c in &mut b[prefix_len..] {
        if c.is_ascii_alphabetic() {
            *c ^= 0x20;
        }
    }
    b
}

/// Hostile and valid candidate tokens, named.
fn token_values() -> Vec<(String, Vec<u8>)> {
    let t = &World::get().tokens;
    let key = t.key.as_str();
    let body = &key[10..];
    let longest = with_checksum(
        format!("{LONGEST_PREFIX}abcdEFGH0123456789abcdefghijABCDEFGHIJkl").as_bytes(),
    );
    assert_eq!(longest.len(), MAX_TOKEN_LEN);
    let mut over = longest.clone();
    over.push(b'x');
    let mut v: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("valid_key".into(), key.into()),
        ("valid_agent_key".into(), t.agent_key.as_str().into()),
        ("valid_longest_prefix_max_len".into(), longest),
        ("over_max_len_by_one".into(), over),
        ("well_formed_unknown_secret".into(), tamper_secret(key)),
        ("tampered_checksum".into(), tamper_checksum(key)),
        (
            "checksum_zeros".into(),
            format!("{}000000", &key[..key.len() - 6]).into(),
        ),
        ("case_flipped".into(), case_flipped(key, 10)),
        (
            "uppercase_whole_token".into(),
            key.to_ascii_uppercase().into(),
        ),
        ("truncated_last_char".into(), key[..key.len() - 1].into()),
        ("truncated_to_prefix".into(), b"clab_user_".to_vec()),
        ("truncated_to_id".into(), key[..10 + KEY_ID_LEN].into()),
        ("extended_char".into(), format!("{key}A").into()),
        ("extended_newline".into(), format!("{key}\n").into()),
        ("extended_space".into(), format!("{key} ").into()),
        ("leading_space".into(), format!(" {key}").into()),
        ("nul_only".into(), vec![0]),
        ("nul_in_body".into(), {
            let mut b = key.as_bytes().to_vec();
            b[20] = 0;
            b
        }),
        ("nul_appended".into(), format!("{key}\0").into()),
        ("non_ascii_short".into(), "clab_user_\u{e9}t\u{e9}".into()),
        ("non_ascii_same_len".into(), {
            // Two ASCII characters replaced by one two-byte character: the length still fits.
            let mut s = key[..20].to_owned();
            s.push('\u{e9}');
            s.push_str(&key[22..]);
            s.into_bytes()
        }),
        ("invalid_utf8".into(), {
            let mut b = key.as_bytes().to_vec();
            b[30] = 0xff;
            b
        }),
        (
            "homoglyph_prefix".into(),
            format!("\u{441}lab_user_{body}").into(),
        ),
        (
            "lookalike_capital_prefix".into(),
            format!("Clab_user_{body}").into(),
        ),
        (
            "lookalike_dash_prefix".into(),
            format!("clab-user_{body}").into(),
        ),
        (
            "lookalike_no_underscore".into(),
            format!("clab_user{body}").into(),
        ),
        (
            "lookalike_double_underscore".into(),
            format!("clab_user__{}", &body[1..]).into(),
        ),
        (
            "lookalike_other_product".into(),
            format!("clab_usr_{body}").into(),
        ),
        (
            "prefix_of_other_format".into(),
            format!("clab_agent_{body}").into(),
        ),
        ("base64_chars_in_body".into(), {
            let mut s = key.to_owned().into_bytes();
            s[25] = b'+';
            s[26] = b'/';
            s
        }),
        ("jwt".into(), JWT_OK.into()),
        ("huge_5000".into(), vec![b'a'; 5000]),
        (
            "huge_key_prefix".into(),
            format!("clab_user_{}", "A".repeat(300)).into(),
        ),
    ];
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn header_values() -> Vec<(String, Vec<u8>)> {
    let t = &World::get().tokens;
    let key = t.key.as_str();
    let s = |name: &str, v: String| (name.to_owned(), v.into_bytes());
    let mut v = vec![
        ("empty".to_owned(), Vec::new()),
        s("spaces_only", "   ".into()),
        s("tab_only", "\t".into()),
        s("valid", format!("Bearer {key}")),
        s("lowercase_scheme", format!("bearer {key}")),
        s("uppercase_scheme", format!("BEARER {key}")),
        s("mixed_case_scheme", format!("bEaReR {key}")),
        s("several_spaces", format!("Bearer    {key}")),
        s("surrounding_spaces", format!("  Bearer {key}  ")),
        s("surrounding_tabs", format!("\tBearer {key}\t")),
        s("tab_separator", format!("Bearer\t{key}")),
        s("nbsp_separator", format!("Bearer\u{a0}{key}")),
        s("scheme_only", "Bearer".into()),
        s("scheme_and_space", "Bearer ".into()),
        s("bad_scheme_char", format!("Bea(rer {key}")),
        s("basic_scheme", "Basic dXNlcjpwYXNz".into()),
        s("token_scheme", format!("Token {key}")),
        s("scheme_glued_equals", format!("Bearer={key}")),
        s("scheme_glued_comma", format!("Bearer,{key}")),
        s("two_lines_same", format!("Bearer {key}\nBearer {key}")),
        s(
            "two_lines_key_and_jwt",
            format!("Bearer {key}\nBearer {JWT_OK}"),
        ),
        s("line_then_empty_line", format!("Bearer {key}\n")),
        s("comma_joined", format!("Bearer {key}, Bearer {JWT_OK}")),
        s("trailing_comma", format!("Bearer {key},")),
        s("trailing_word", format!("Bearer {key} extra")),
        s("quoted_token", format!("Bearer \"{key}\"")),
        s("auth_param_form", "Bearer realm=\"x\"".into()),
        s("padding_ok", "Bearer abc==".into()),
        s("padding_only", "Bearer ===".into()),
        s("equals_inside", "Bearer a=b".into()),
        s("non_ascii_token", "Bearer clab_user_\u{e9}t\u{e9}".into()),
        s("nul_token", "Bearer \0".into()),
        s(
            "nul_inside",
            format!("Bearer {}\0{}", &key[..20], &key[20..]),
        ),
        s(
            "cr_inside",
            format!("Bearer {}\r{}", &key[..20], &key[20..]),
        ),
        s(
            "max_len_token",
            format!("Bearer {}", "a".repeat(MAX_BEARER_LEN)),
        ),
        s(
            "over_max_len_token",
            format!("Bearer {}", "a".repeat(MAX_BEARER_LEN + 1)),
        ),
        s("huge_5000", format!("Bearer {}", "a".repeat(5000))),
        s(
            "huge_key_prefix",
            format!("Bearer clab_user_{}", "A".repeat(300)),
        ),
        s("jwt", format!("Bearer {JWT_OK}")),
        ("invalid_utf8".to_owned(), b"Bearer \xff\xfeabc".to_vec()),
    ];
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn router_values() -> Vec<(String, Vec<u8>)> {
    let t = &World::get().tokens;
    let bearer = |tok: &[u8]| {
        let mut b = b"Bearer ".to_vec();
        b.extend_from_slice(tok);
        b
    };
    let mut v = header_values();
    for (name, token) in [
        ("key_scoped", t.scoped_key.as_bytes().to_vec()),
        ("key_revoked", t.revoked_key.as_bytes().to_vec()),
        ("key_expired", t.expired_key.as_bytes().to_vec()),
        ("key_other_user", t.other_user_key.as_bytes().to_vec()),
        ("key_agent_format", t.agent_key.as_bytes().to_vec()),
        ("key_old_pepper", t.old_pepper_key.as_bytes().to_vec()),
        ("key_tampered_checksum", tamper_checksum(&t.key)),
        ("key_tampered_secret", tamper_secret(&t.key)),
        (
            "key_truncated",
            t.key.as_bytes()[..t.key.len() - 1].to_vec(),
        ),
        ("key_case_flipped", case_flipped(&t.key, 10)),
        ("key_revoked_tampered_secret", tamper_secret(&t.revoked_key)),
        ("jwt_verifier_down", JWT_DOWN.as_bytes().to_vec()),
        (
            "jwt_bad_signature",
            clab_keys_testing::http_table::JWT_BAD_SIGNATURE
                .as_bytes()
                .to_vec(),
        ),
        (
            "jwt_alg_none_empty_signature",
            b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.".to_vec(),
        ),
        ("jwt_four_segments", format!("{JWT_OK}.x").into_bytes()),
        ("jwt_with_padding", format!("{JWT_OK}==").into_bytes()),
        ("jwt_lowercased", JWT_OK.to_ascii_lowercase().into_bytes()),
        (
            "key_shaped_like_jwt",
            format!("{}.{}.{}", &t.key[..20], &t.key[20..40], &t.key[40..]).into_bytes(),
        ),
    ] {
        v.push((name.to_owned(), bearer(&token)));
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn challenge_values() -> Vec<(String, Vec<u8>)> {
    let realms: [(&str, String); 14] = [
        ("realm_api", "api".into()),
        ("realm_one_char", "a".into()),
        ("realm_max_len", "r".repeat(128)),
        ("realm_over_max_len", "r".repeat(129)),
        ("realm_empty", String::new()),
        ("realm_space", "my api".into()),
        ("realm_quote", "a\"b".into()),
        ("realm_backslash", "a\\b".into()),
        ("realm_tab", "a\tb".into()),
        ("realm_non_ascii", "r\u{e9}alm".into()),
        ("realm_crlf_injection", "x\r\nSet-Cookie: a=b".into()),
        ("realm_param_injection", "x\", error=\"none".into()),
        ("realm_comma", "a, b".into()),
        ("realm_equals", "realm=x".into()),
    ];
    let scopes = [
        ("", ""),
        ("_scope_granted", "projects:read"),
        ("_scope_other", "runs:write"),
        ("_scope_space", "has space"),
        ("_scope_quote", "a\"b"),
        ("_scope_comma", "a,b"),
    ];
    let kinds = [
        "missing",
        "invalid_request",
        "invalid_token",
        "scope",
        "interactive",
        "unavailable",
    ];
    let mut v = Vec::new();
    for (k, kind) in kinds.iter().enumerate() {
        for (rname, realm) in &realms {
            let selector = u8::try_from(k).unwrap_or_default();
            if *kind == "scope" {
                for (sname, scope) in scopes {
                    let mut b = vec![selector];
                    b.extend_from_slice(realm.as_bytes());
                    b.push(b'\n');
                    b.extend_from_slice(scope.as_bytes());
                    v.push((format!("{kind}_{rname}{sname}"), b));
                }
            } else {
                let mut b = vec![selector];
                b.extend_from_slice(realm.as_bytes());
                v.push((format!("{kind}_{rname}"), b));
            }
        }
    }
    v.push(("empty".into(), Vec::new()));
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Every seed of every target.
pub fn seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    for (name, bytes) in token_values() {
        out.push(("parse_token", name, bytes));
    }
    for (name, bytes) in header_values() {
        out.push(("parse_authorization", name, bytes));
    }
    for (name, bytes) in router_values() {
        out.push(("router", name, bytes));
    }
    for (name, bytes) in challenge_values() {
        out.push(("challenge", name, bytes));
    }
    out
}
