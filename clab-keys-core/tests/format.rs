//! The token format (contract §2): generation, strict total parsing, checksum, regular expressions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_core::OsEntropy;
use clab_keys_core::{ConfigError, KeyFormats, KeyPrefix, ParseError, TokenFormat};
use proptest::prelude::*;

const BODY_LEN: usize = TokenFormat::BODY_LEN;
const MAX_TOKEN_LEN: usize = TokenFormat::MAX_TOKEN_LEN;
const SECRET_ENTROPY_BITS: u32 = TokenFormat::SECRET_ENTROPY_BITS;
const SECRET_LEN: usize = TokenFormat::SECRET_LEN;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn token() -> String {
    TokenFormat::default()
        .generate(&OsEntropy)
        .unwrap()
        .1
        .expose_secret()
        .to_owned()
}

#[test]
fn secret_carries_at_least_190_bits() {
    let bits = SECRET_LEN as f64 * 62f64.log2();
    assert!(bits >= 190.0, "{bits}");
    const { assert!(SECRET_ENTROPY_BITS >= 190) };
}

#[test]
fn generated_tokens_match_the_published_regex_and_round_trip() {
    let format = TokenFormat::default();
    let re = regex::Regex::new(&format.regex()).unwrap();
    let formats = KeyFormats::default();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..10_000 {
        let (id, key) = format.generate(&OsEntropy).unwrap();
        let t = key.expose_secret();
        assert!(re.is_match(t), "{t}");
        assert_eq!(t.len(), format.token_len());
        let parsed = formats.parse(t.as_bytes()).unwrap();
        assert_eq!(parsed.key_id(), id);
        assert_eq!(parsed.expose_token(), t.as_bytes());
        assert!(seen.insert(t.to_owned()), "duplicate token");
    }
}

#[test]
fn generated_characters_are_uniform() {
    // Chi-squared over 62 symbols; the bound is loose (p < 1e-6 for 61 degrees of freedom).
    let mut counts = [0u64; 62];
    let mut n = 0u64;
    for _ in 0..4_000 {
        let t = token();
        for &c in &t.as_bytes()[10..10 + 8 + SECRET_LEN] {
            counts[BASE62.iter().position(|&b| b == c).unwrap()] += 1;
            n += 1;
        }
    }
    let expected = n as f64 / 62.0;
    let chi2: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 130.0, "chi2 = {chi2}");
}

#[test]
fn every_single_character_substitution_is_rejected() {
    let t = token();
    let formats = KeyFormats::default();
    for i in 0..t.len() {
        for &c in BASE62.iter().chain(b"_-.~+/=") {
            if t.as_bytes()[i] == c {
                continue;
            }
            let mut b = t.clone().into_bytes();
            b[i] = c;
            assert!(
                formats.parse(&b).is_err(),
                "substitution at {i} by {} accepted",
                c as char
            );
        }
    }
}

#[test]
fn every_adjacent_transposition_is_rejected() {
    let formats = KeyFormats::default();
    for _ in 0..50 {
        let t = token();
        for i in 0..t.len() - 1 {
            let mut b = t.clone().into_bytes();
            if b[i] == b[i + 1] {
                continue;
            }
            b.swap(i, i + 1);
            assert!(formats.parse(&b).is_err(), "swap at {i} accepted");
        }
    }
}

#[test]
fn only_the_exact_length_can_succeed() {
    let t = token();
    let formats = KeyFormats::default();
    for len in 0..=300 {
        let candidate: Vec<u8> = t.bytes().cycle().take(len).collect();
        if len != t.len() {
            assert!(formats.parse(&candidate).is_err(), "length {len} accepted");
        }
    }
}

#[test]
fn huge_input_is_rejected_at_once() {
    let mut huge = b"clab_user_".to_vec();
    huge.resize(1 << 20, b'A');
    assert_eq!(
        KeyFormats::default().parse(&huge).unwrap_err(),
        ParseError::WrongLength
    );
    assert!(huge.len() > MAX_TOKEN_LEN);
}

#[test]
fn parse_errors_name_the_failing_stage() {
    let formats = KeyFormats::default();
    let t = token();
    assert_eq!(formats.parse(b"").unwrap_err(), ParseError::UnknownPrefix);
    assert_eq!(
        formats.parse(b"clab_agent_x").unwrap_err(),
        ParseError::UnknownPrefix
    );
    assert_eq!(
        formats.parse(&t.as_bytes()[..t.len() - 1]).unwrap_err(),
        ParseError::WrongLength
    );
    let mut nul = t.clone().into_bytes();
    nul[20] = 0;
    assert_eq!(
        formats.parse(&nul).unwrap_err(),
        ParseError::InvalidCharacter
    );
    let mut bad = t.into_bytes();
    bad[20] = if bad[20] == b'a' { b'b' } else { b'a' };
    assert_eq!(
        formats.parse(&bad).unwrap_err(),
        ParseError::ChecksumMismatch
    );
}

#[test]
fn prefixes_are_validated() {
    for bad in [
        "",
        "_",
        "clab-",
        "CLAB_",
        "a.b_",
        "clab",
        "1clab_",
        "clab_user_\u{e9}_",
        &"a".repeat(40),
    ] {
        assert_eq!(
            KeyPrefix::new(bad).unwrap_err(),
            ConfigError::InvalidPrefix,
            "{bad:?}"
        );
    }
    for good in ["clab_user_", "clab_agent_", "ab_", "x9_"] {
        assert!(KeyPrefix::new(good).is_ok(), "{good}");
    }
}

#[test]
fn overlapping_prefixes_are_rejected() {
    let f = |p: &str| TokenFormat::new(KeyPrefix::new(p).unwrap());
    assert_eq!(
        KeyFormats::new(vec![f("clab_"), f("clab_user_")]).unwrap_err(),
        ConfigError::OverlappingPrefixes
    );
    assert_eq!(KeyFormats::new(vec![]).unwrap_err(), ConfigError::NoFormats);
    let both = KeyFormats::new(vec![f("clab_user_"), f("clab_agent_")]).unwrap();
    let agent = f("clab_agent_").generate(&OsEntropy).unwrap().1;
    assert!(both.parse(agent.expose_secret().as_bytes()).is_ok());
    assert_eq!(both.primary().prefix().as_str(), "clab_user_");
}

#[test]
fn scan_regex_finds_tokens_embedded_in_text_and_nothing_else() {
    let format = TokenFormat::default();
    let re = regex::Regex::new(&format.scan_regex()).unwrap();
    let t = token();
    for text in [
        format!("{{\"token\":\"{t}\"}}"),
        format!("CLAB_KEY={t}\n"),
        format!("key: {t}"),
        format!("https://x.test/?api_key={t}&a=1"),
        format!("export CLAB_KEY='{t}'"),
        t.clone(),
    ] {
        let caps = re
            .captures(&text)
            .unwrap_or_else(|| panic!("not found in {text:?}"));
        assert_eq!(&caps[1], t);
    }
    for text in [
        t[..t.len() - 1].to_owned(),
        format!("{t}A"),
        format!("x{t}"),
        t.replace("clab_user_", "clab_usr_"),
    ] {
        assert!(!re.is_match(&text), "matched {text:?}");
    }
    assert_eq!(BODY_LEN, 46);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = KeyFormats::default().parse(&bytes);
    }

    #[test]
    fn prefixed_random_bodies_never_panic_and_rarely_pass(body in "[0-9A-Za-z]{46}") {
        let t = format!("clab_user_{body}");
        // A random body passes the checksum with probability 2^-32; treat a pass as a failure
        // only if the checksum really does not match.
        if let Ok(p) = KeyFormats::default().parse(t.as_bytes()) {
            prop_assert_eq!(p.expose_token(), t.as_bytes());
        }
    }

    #[test]
    fn substitution_anywhere_is_rejected(pos in 0usize..56, c in proptest::sample::select(BASE62.to_vec())) {
        let t = token();
        let mut b = t.clone().into_bytes();
        prop_assume!(b[pos] != c);
        b[pos] = c;
        prop_assert!(KeyFormats::default().parse(&b).is_err());
    }
}
