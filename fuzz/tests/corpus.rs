//! Runs every fuzz target's body over its committed seed corpus and over generated huge inputs,
//! on stable Rust, without any fuzz toolchain: `cargo test --manifest-path fuzz/Cargo.toml`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use clab_keys_core::{KeyFormats, ParseError};
use clab_keys_fuzz::alloc_count::measure;
use clab_keys_fuzz::seeds::{TARGETS, seeds};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

fn run(target: &str, data: &[u8]) {
    match target {
        "parse_token" => clab_keys_fuzz::parse_token(data),
        "parse_authorization" => clab_keys_fuzz::parse_authorization(data),
        "router" => clab_keys_fuzz::router(data),
        "challenge" => clab_keys_fuzz::challenge(data),
        other => panic!("unknown target {other}"),
    }
}

fn replay(target: &str) {
    let dir = corpus_dir(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(target, &data));
        assert!(
            outcome.is_ok(),
            "{target}: seed {} broke an invariant",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 10, "{target}: only {n} seeds in {}", dir.display());
    println!("{target}: {n} seeds replayed");
}

#[test]
fn committed_corpus_is_the_generated_seeds() {
    // The committed files are exactly what `examples/gen_corpus.rs` writes; if core changes how
    // keys are generated, the router's valid-key seeds go stale and this says so.
    for (target, name, bytes) in seeds() {
        let path = corpus_dir(target).join(&name);
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; regenerate with `cargo run --manifest-path fuzz/Cargo.toml --example gen_corpus`",
                path.display()
            )
        });
        assert!(
            committed == bytes,
            "{} differs from the generated seed; regenerate with \
             `cargo run --manifest-path fuzz/Cargo.toml --example gen_corpus`",
            path.display()
        );
    }
}

#[test]
fn parse_token_corpus() {
    replay("parse_token");
}

#[test]
fn parse_authorization_corpus() {
    replay("parse_authorization");
}

#[test]
fn router_corpus() {
    replay("router");
}

#[test]
fn challenge_corpus() {
    replay("challenge");
}

#[test]
fn every_target_has_a_corpus() {
    for target in TARGETS {
        assert!(corpus_dir(target).is_dir(), "{target}");
    }
}

/// Bounded work: 1 MiB inputs of every shape are refused without allocating and before being
/// read (the length check comes first). Speed itself is measured in benchmarks, not here.
#[test]
fn one_mebibyte_inputs_are_refused_cheaply() {
    const MIB: usize = 1 << 20;
    let formats = KeyFormats::default();
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![b'a'; MIB],
        vec![0; MIB],
        vec![b' '; MIB],
        vec![0xff; MIB],
    ];
    let mut prefixed = b"clab_user_".to_vec();
    prefixed.resize(MIB, b'A');
    inputs.push(prefixed);
    let mut bearer = b"Bearer ".to_vec();
    bearer.resize(MIB, b'A');
    inputs.push(bearer);
    let mut scheme = vec![b'B'; MIB - 2];
    scheme.extend_from_slice(b" x");
    inputs.push(scheme);

    for input in &inputs {
        // The token parser refuses anything over MAX_TOKEN_LEN before reading it.
        let (r, allocs) = measure(|| formats.parse(std::hint::black_box(input)).map(|_| ()));
        assert_eq!(r, Err(ParseError::WrongLength));
        assert_eq!(allocs.count, 0);
        // The targets' own checks (no allocation in the header parser, bounded allocation
        // through the router) hold at 1 MiB too.
        clab_keys_fuzz::parse_token(input);
        clab_keys_fuzz::parse_authorization(input);
        clab_keys_fuzz::router(input);
        clab_keys_fuzz::challenge(input);
    }
}

/// The router world itself: its valid tokens are accepted (so the corpus really exercises the
/// accepting paths), and its invalid ones are not.
#[test]
fn router_world_accepts_exactly_its_usable_keys() {
    let w = clab_keys_fuzz::world::World::get();
    assert_eq!(w.accepted.len(), 6);
    for t in [&w.tokens.revoked_key, &w.tokens.expired_key] {
        assert!(!w.accepted.iter().any(|a| a.token == t.as_bytes()));
    }
    for a in &w.accepted {
        let mut line = b"Bearer ".to_vec();
        line.extend_from_slice(&a.token);
        w.check(&[&line]);
    }
}
