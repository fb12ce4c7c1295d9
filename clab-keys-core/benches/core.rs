//! Hot-path benchmarks, each reported against one HMAC-SHA256 of a token measured in the
//! same run (issue targets: memory-store authenticate ≤ 2.5×, bad-checksum rejection ≤ 0.5×).
//!
//! `cargo bench -p clab-keys-core --bench core`; after criterion's own output a table of
//! ratios to the baseline is printed (read from criterion's estimates of this run).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use clab_keys_core::OsEntropy;
use clab_keys_core::{
    CacheConfig, CredentialRouter, KeyFormats, KeyHasher, KeyService, KeyServiceConfig,
    MemoryStore, NewKey, Pepper, TokenFormat, UserId,
};
use criterion::Criterion;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const GROUP: &str = "clab_keys_core";

/// Polls a future that completes without waiting (every benchmarked case does: the memory
/// store and the cache never wait) once, with a no-op waker: the library's cost alone, without
/// entering a runtime.
fn ready<F: std::future::Future>(fut: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(fut).poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("a benchmarked future waited"),
    }
}

fn benches(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let pepper = [0x42u8; 32];
    let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&pepper).unwrap()).unwrap();
    let svc = KeyService::builder(MemoryStore::new(), hasher)
        .build()
        .unwrap();
    // A store with other keys in it, so the lookup is a real map lookup.
    let token = rt.block_on(async {
        for u in 0..1_000_i64 {
            svc.create(&UserId::from(u), NewKey::new("filler"))
                .await
                .unwrap();
        }
        svc.create(&UserId::from(1_i64), NewKey::new("bench"))
            .await
            .unwrap()
            .token
            .expose_secret()
            .to_owned()
    });
    let cached = KeyService::builder(
        MemoryStore::new(),
        KeyHasher::hmac(1, Pepper::from_bytes(&pepper).unwrap()).unwrap(),
    )
    .config(KeyServiceConfig::default().cache(Some(CacheConfig::default())))
    .build()
    .unwrap();
    let cached_token = rt.block_on(async {
        cached
            .create(&UserId::from(1_i64), NewKey::new("bench"))
            .await
            .unwrap()
            .token
            .expose_secret()
            .to_owned()
    });
    let router = CredentialRouter::new(svc.clone());
    let header = format!("Bearer {token}");
    let mut bad = token.clone().into_bytes();
    let last = bad.len() - 1;
    bad[last] = if bad[last] == b'a' { b'b' } else { b'a' };
    let formats = KeyFormats::default();
    let keyed = Hmac::<Sha256>::new_from_slice(&pepper).unwrap();

    let mut g = c.benchmark_group(GROUP);
    g.bench_function("baseline_hmac_sha256", |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(token.as_bytes()));
            black_box(m.finalize().into_bytes());
        })
    });
    g.bench_function("generate", |b| {
        b.iter(|| black_box(TokenFormat::default().generate(&OsEntropy).unwrap()))
    });
    g.bench_function("parse", |b| {
        b.iter(|| black_box(formats.parse(black_box(token.as_bytes())).is_ok()))
    });
    g.bench_function("authenticate_memory", |b| {
        b.iter(|| black_box(ready(svc.authenticate(black_box(token.as_bytes()))).is_ok()))
    });
    g.bench_function("authenticate_memory_cached", |b| {
        b.iter(|| black_box(ready(cached.authenticate(black_box(cached_token.as_bytes()))).is_ok()))
    });
    g.bench_function("authenticate_header_memory", |b| {
        b.iter(|| black_box(ready(router.authenticate([black_box(header.as_bytes())])).is_ok()))
    });
    g.bench_function("reject_bad_checksum", |b| {
        b.iter(|| black_box(ready(svc.authenticate(black_box(&bad))).is_err()))
    });
    g.finish();
}

fn estimate_ns(dir: &std::path::Path, name: &str) -> Option<f64> {
    let path = dir
        .join(GROUP)
        .join(name)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn criterion_dir() -> std::path::PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    target.join("criterion")
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    benches(&mut c, &rt);
    c.final_summary();

    let dir = criterion_dir();
    let Some(base) = estimate_ns(&dir, "baseline_hmac_sha256") else {
        eprintln!(
            "(no criterion estimates found under {}; ratios not printed)",
            dir.display()
        );
        return;
    };
    println!("\n| case | median ns | ratio to one HMAC-SHA256 | target |");
    println!("|---|---|---|---|");
    for (name, target) in [
        ("baseline_hmac_sha256", ""),
        ("generate", ""),
        ("parse", ""),
        ("authenticate_memory", "<= 2.5"),
        ("authenticate_memory_cached", "<= 1.5"),
        ("authenticate_header_memory", ""),
        ("reject_bad_checksum", "<= 0.5"),
    ] {
        if let Some(ns) = estimate_ns(&dir, name) {
            println!("| {name} | {ns:.0} | {:.2} | {target} |", ns / base);
        }
    }
}
