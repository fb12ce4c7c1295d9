//! A unary gRPC call (`Whoami`) authenticated by an API key against one authenticated by a JWT
//! session, in the same run: the example app's server (SeaORM on a SQLite file, the real
//! `jsonwebtoken` verifier, verification cache off) and tonic's client over a real TCP socket
//! on 127.0.0.1.
//!
//! `cargo bench -p grpc-app --bench unary`. Criterion measures each; then the two are timed
//! interleaved, call for call, so that a noisy machine slows both alike, and the medians and
//! their ratio are printed (the figures in docs/performance.md come from this line).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use clab_keys::{NewKey, Pepper, UserId};
use clab_keys_example_common::{AppState, JwtSecret, db};
use criterion::Criterion;
use grpc_app::proto::WhoamiRequest;
use grpc_app::proto::identity_client::IdentityClient;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tonic::Request;
use tonic::transport::Channel;

/// Interleaved calls of each kind for the ratio.
const ROUNDS: usize = 2_000;

struct Setup {
    runtime: Runtime,
    client: IdentityClient<Channel>,
    key: String,
    jwt: String,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.sqlite").display()
    );
    let (client, key, jwt) = runtime.block_on(async {
        let db = db::setup(&url, false).await.unwrap();
        let state = AppState::builder(
            db,
            JwtSecret::new(b"a-benchmark-secret-of-at-least-32-bytes").unwrap(),
            Pepper::from_bytes(&[7; 32]).unwrap(),
        )
        .build()
        .unwrap();
        let key = state
            .keys()
            .create(&UserId::from(1_i64), NewKey::new("bench"))
            .await
            .unwrap()
            .token
            .expose_secret()
            .to_owned();
        let jwt = state.jwt().issue(1).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(grpc_app::serve_with(
            listener,
            state.router().clone(),
            std::future::pending(),
        ));
        let client = IdentityClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        (client, key, jwt)
    });
    Setup {
        runtime,
        client,
        key,
        jwt,
        _dir: dir,
    }
}

async fn whoami(client: &mut IdentityClient<Channel>, token: &str) {
    let mut request = Request::new(WhoamiRequest {});
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    client.whoami(request).await.unwrap();
}

fn unary(c: &mut Criterion) {
    let mut s = setup();
    let mut group = c.benchmark_group("grpc_whoami");
    for (name, token) in [("api_key", s.key.clone()), ("jwt", s.jwt.clone())] {
        group.bench_function(name, |b| {
            b.iter(|| s.runtime.block_on(whoami(&mut s.client, &token)));
        });
    }
    group.finish();
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Times the two kinds of call interleaved and prints the medians and their ratio.
fn ratio() {
    let mut s = setup();
    let (mut keys, mut jwts) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    let mut time = |token: &str| {
        let start = Instant::now();
        s.runtime.block_on(whoami(&mut s.client, token));
        start.elapsed()
    };
    // Warm-up: connections, the SQLite page cache, the `last_used_at` write.
    for _ in 0..200 {
        time(&s.key);
        time(&s.jwt);
    }
    for _ in 0..ROUNDS {
        keys.push(time(&s.key));
        jwts.push(time(&s.jwt));
    }
    let (key, jwt) = (median(keys), median(jwts));
    println!(
        "grpc_whoami interleaved, {ROUNDS} calls each: api_key median {key:?}, jwt median {jwt:?}, \
         api_key/jwt = {:.2}",
        key.as_secs_f64() / jwt.as_secs_f64()
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    unary(&mut criterion);
    criterion.final_summary();
    ratio();
}
