//! dudect-style timing tests (T-3): do the secret-dependent paths take the same time whatever
//! the secret? Each bench times one operation on two classes of input drawn at random and
//! interleaved, and reports Welch's t over ~100 percentile crops; `max |t|` above 5 is evidence
//! of a timing difference. Not a CI gate: timings on a shared 2-core runner are noisy.
//!
//! ```sh
//! cargo bench -p clab-keys-core --bench timing                  # every bench, release build
//! cargo bench -p clab-keys-core --bench timing -- --filter ct_eq
//! CLAB_TIMING_SAMPLES=5000000 cargo bench -p clab-keys-core --bench timing -- --filter last
//! ```
//!
//! Benches:
//! - `ct_eq_equal_vs_first_byte`, `ct_eq_equal_vs_last_byte`: `KeyDigest::ct_eq` on equal
//!   digests vs digests differing at byte 0 / byte 31 (expected: |t| < 5);
//! - `control_naive_eq_equal_vs_first_byte`: an early-exit byte loop on the same inputs, which
//!   *must* show a large |t| (proves the harness can see a difference of a few nanoseconds);
//! - `authenticate_unknown_id_vs_wrong_secret`: `KeyService::authenticate` on a memory store
//!   with 1,000 keys, for a token whose id is unknown vs a known id with a wrong secret (both
//!   well formed with a valid checksum, same length and prefix).
//!
//! Run without `--bench` (as `cargo test --benches` does) it only takes a few samples per bench,
//! as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::OnceLock;

use clab_keys_core::OsEntropy;
use clab_keys_core::{
    KeyDigest, KeyHasher, KeyService, KeyServiceConfig, MemoryStore, NewKey, Pepper, TokenFormat,
    UserId,
};
use dudect_bencher::ctbench::{BenchFn, BenchMetadata, BenchName, BenchOpts, run_benches_console};
use dudect_bencher::rand::{Rng, RngExt};
use dudect_bencher::{BenchRng, Class, CtRunner};

/// Samples per bench: `CLAB_TIMING_SAMPLES`, else 1,000,000 for compares (200,000 for
/// `authenticate`) under `cargo bench`, else a smoke-test handful.
fn samples(default: usize) -> usize {
    if let Some(n) = std::env::var("CLAB_TIMING_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return n;
    }
    if BENCH_MODE.get().copied().unwrap_or(false) {
        default
    } else {
        2_000
    }
}

static BENCH_MODE: OnceLock<bool> = OnceLock::new();

fn random_digest(rng: &mut BenchRng) -> [u8; 32] {
    let mut d = [0u8; 32];
    rng.fill_bytes(&mut d);
    d
}

/// Pairs of digests, generated before any timing (as dudect requires, so that no class-specific
/// work runs next to a measurement): equal (Left) or differing at byte `at` (Right). Both
/// classes draw the same random numbers.
fn pairs(rng: &mut BenchRng, at: usize, n: usize) -> Vec<(Class, KeyDigest, KeyDigest)> {
    (0..n)
        .map(|_| {
            let a = random_digest(rng);
            let flip = 1 | rng.random::<u8>();
            let left = rng.random::<bool>();
            let mut b = a;
            if !left {
                b[at] ^= flip;
            }
            let class = if left { Class::Left } else { Class::Right };
            (class, KeyDigest::from_bytes(a), KeyDigest::from_bytes(b))
        })
        .collect()
}

fn ct_eq_at(runner: &mut CtRunner, rng: &mut BenchRng, at: usize) {
    for (class, a, b) in pairs(rng, at, samples(1_000_000)) {
        runner.run_one(class, || a.ct_eq(std::hint::black_box(&b)));
    }
}

fn ct_eq_equal_vs_first_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    ct_eq_at(runner, rng, 0);
}

fn ct_eq_equal_vs_last_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    ct_eq_at(runner, rng, 31);
}

/// What `ct_eq` must not be: a byte loop that stops at the first difference.
#[inline(never)]
fn naive_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    for i in 0..32 {
        if std::hint::black_box(a[i]) != b[i] {
            return false;
        }
    }
    true
}

fn control_naive_eq_equal_vs_first_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    for (class, a, b) in pairs(rng, 0, samples(1_000_000)) {
        runner.run_one(class, || {
            naive_eq(a.as_bytes(), std::hint::black_box(b.as_bytes()))
        });
    }
}

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A well-formed token (valid checksum) for the key id `id` with a random secret: for an
/// existing id, a wrong secret.
fn token_for(id: [u8; 8]) -> String {
    let (_, random) = TokenFormat::default().generate(&OsEntropy).unwrap();
    let random = random.expose_secret();
    let prefix = TokenFormat::DEFAULT_PREFIX;
    let secret_at = prefix.len() + TokenFormat::KEY_ID_LEN;
    let mut signed = String::from(prefix);
    signed.push_str(std::str::from_utf8(&id).unwrap());
    signed.push_str(&random[secret_at..secret_at + TokenFormat::SECRET_LEN]);
    let sum = TokenFormat::checksum(signed.as_bytes());
    signed.push_str(std::str::from_utf8(&sum).unwrap());
    signed
}

struct AuthWorld {
    rt: tokio::runtime::Runtime,
    service: KeyService,
    known_ids: Vec<[u8; 8]>,
}

fn auth_world() -> &'static AuthWorld {
    static WORLD: OnceLock<AuthWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let service = KeyService::builder(
            MemoryStore::new(),
            KeyHasher::hmac(1, Pepper::from_bytes(&[0x42; 32]).unwrap()).unwrap(),
        )
        .config(KeyServiceConfig::default())
        .build()
        .unwrap();
        let known_ids = rt.block_on(async {
            let mut ids = Vec::new();
            for u in 0..1_000_i64 {
                let created = service
                    .create(&UserId::from(u), NewKey::new("timing"))
                    .await
                    .unwrap();
                let mut id = [0u8; 8];
                id.copy_from_slice(created.key.key_id.as_str().as_bytes());
                ids.push(id);
            }
            ids
        });
        AuthWorld {
            rt,
            service,
            known_ids,
        }
    })
}

fn authenticate_unknown_id_vs_wrong_secret(runner: &mut CtRunner, rng: &mut BenchRng) {
    let w = auth_world();
    // Tokens first (both classes do the same work: one id drawn, one token generated), then
    // the timed loop.
    let inputs: Vec<(Class, Vec<u8>)> = (0..samples(200_000))
        .map(|_| {
            let known = w.known_ids[rng.random_range(0..w.known_ids.len())];
            let (class, token) = if rng.random::<bool>() {
                // Left: a random id (unknown: 1,000 of 62^8 ids exist) and a random secret.
                let mut id = [0u8; 8];
                for c in &mut id {
                    *c = ALPHABET[rng.random_range(0..ALPHABET.len())];
                }
                (Class::Left, token_for(id))
            } else {
                // Right: an existing id with a random (wrong) secret.
                (Class::Right, token_for(known))
            };
            (class, token.into_bytes())
        })
        .collect();
    for (class, token) in inputs {
        runner.run_one(class, || {
            let r = w.rt.block_on(w.service.authenticate(&token));
            assert!(r.is_err());
        });
    }
}

fn main() {
    let mut opts = BenchOpts::default();
    let mut args = std::env::args().skip(1);
    let mut bench = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // Passed by `cargo bench`; without it (`cargo test --benches`) this is a smoke run.
            "--bench" => bench = true,
            "--filter" => opts.filter = args.next(),
            "--continuous" => {
                opts.continuous = true;
                opts.filter = args.next();
            }
            "--out" => opts.file_out = args.next().map(Into::into),
            other if !other.starts_with('-') => opts.filter = Some(other.to_owned()),
            _ => {}
        }
    }
    BENCH_MODE.get_or_init(|| bench);
    let benches: Vec<(&'static str, BenchFn)> = vec![
        ("ct_eq_equal_vs_first_byte", ct_eq_equal_vs_first_byte),
        ("ct_eq_equal_vs_last_byte", ct_eq_equal_vs_last_byte),
        (
            "control_naive_eq_equal_vs_first_byte",
            control_naive_eq_equal_vs_first_byte,
        ),
        (
            "authenticate_unknown_id_vs_wrong_secret",
            authenticate_unknown_id_vs_wrong_secret,
        ),
    ];
    let benches = benches
        .into_iter()
        .map(|(name, benchfn)| BenchMetadata {
            name: BenchName(name),
            seed: None,
            benchfn,
        })
        .collect();
    if let Err(e) = run_benches_console(opts, benches) {
        eprintln!("timing benches failed: {e}");
        std::process::exit(1);
    }
}
