//! A measurement, not a check (ignored by default): `clab-keys prune` deleting 100,000 revoked
//! rows while an "app instance" (a key service on the same database, no cache) authenticates
//! a key in a loop. Prints the prune's time and the instance's latencies before and during
//! it; the only assertions are that every authentication succeeded and every row went.
//!
//! ```sh
//! CLAB_KEYS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! CLAB_KEYS_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//! cargo test -p clab-keys-cli --test prune_load -- --ignored --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clab_keys::{NewKey, UserId};
use common::{MYSQL_ENV, POSTGRES_ENV, TestDb, app_service, run, run_async};
use sea_orm::sea_query::{Alias, Query, SimpleExpr};
use sea_orm::{ConnectionTrait as _, DbBackend, Value};
use time::OffsetDateTime;
use time::macros::format_description;

const ROWS: usize = 100_000;
const PER_INSERT: usize = 1_000;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A timestamp as the store writes it on each backend.
fn stored_time(backend: DbBackend, t: OffsetDateTime) -> Value {
    match backend {
        DbBackend::Sqlite => Value::from(
            t.format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            ))
            .unwrap(),
        ),
        DbBackend::MySql => Value::from(time::PrimitiveDateTime::new(t.date(), t.time())),
        _ => Value::from(t),
    }
}

/// An 8-character base62 key id for row `n` (`z` first, so none collides with a real key's
/// by chance in a way that matters: the real key is looked up by its own id).
fn key_id(n: usize) -> String {
    let mut id = vec![b'z'; 8];
    let mut rest = n;
    for slot in id.iter_mut().skip(1).rev() {
        *slot = BASE62[rest % 62];
        rest /= 62;
    }
    String::from_utf8(id).unwrap()
}

/// Inserts `ROWS` revoked rows, `PER_INSERT` per statement.
async fn bulk_insert(t: &TestDb) -> Duration {
    let backend = t.db.get_database_backend();
    let now = OffsetDateTime::now_utc();
    let created = stored_time(backend, now - time::Duration::days(120));
    let revoked = stored_time(backend, now - time::Duration::days(60));
    let started = Instant::now();
    for chunk in 0..ROWS / PER_INSERT {
        let mut insert = Query::insert();
        insert.into_table(Alias::new("clab_api_keys")).columns(
            [
                "key_id",
                "prefix",
                "user_id",
                "name",
                "hash_version",
                "hash",
                "scopes",
                "created_at",
                "revoked_at",
                "revocation_reason",
            ]
            .map(Alias::new),
        );
        for i in 0..PER_INSERT {
            let n = chunk * PER_INSERT + i;
            let values: [SimpleExpr; 10] = [
                Value::from(key_id(n)).into(),
                Value::from("clab_user_").into(),
                Value::from(format!("bulk-{}", n % 1_000)).into(),
                Value::from("bulk").into(),
                Value::from(1_i32).into(),
                Value::from(vec![0_u8; 32]).into(),
                Value::from("").into(),
                created.clone().into(),
                revoked.clone().into(),
                Value::from("admin").into(),
            ];
            insert.values_panic(values);
        }
        t.db.execute(&insert).await.expect("bulk insert");
    }
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn summary(latencies: &mut [Duration]) -> String {
    latencies.sort();
    format!(
        "{} calls, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        percentile(latencies, 0.5).as_secs_f64() * 1e3,
        percentile(latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    )
}

async fn measure(t: TestDb) {
    let label = t.label;
    let r = run(&[("DATABASE_URL", t.url.as_str())], &["migrate"], "");
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let inserted_in = bulk_insert(&t).await;

    let app = app_service(&t.db);
    let key = app
        .create(&UserId::new("live").unwrap(), NewKey::new("live"))
        .await
        .unwrap();
    let token = key.token.expose_secret().to_owned();

    // The instance's loop: authenticate, record the latency, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let during = Arc::new(AtomicBool::new(false));
    let looping = {
        let (stop, during, app) = (stop.clone(), during.clone(), app.clone());
        tokio::spawn(async move {
            let (mut before, mut while_pruning) = (Vec::new(), Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                app.authenticate(token.as_bytes())
                    .await
                    .expect("the instance answers during the prune");
                let took = started.elapsed();
                if during.load(Ordering::Relaxed) {
                    while_pruning.push(took);
                } else {
                    before.push(took);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (before, while_pruning)
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    during.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let r = run_async(
        vec![("DATABASE_URL".into(), t.url.clone())],
        vec![
            "prune".into(),
            "--older-than".into(),
            "30d".into(),
            "--json".into(),
        ],
        String::new(),
    )
    .await;
    let wall = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (mut before, mut while_pruning) = looping.await.unwrap();
    assert_eq!(r.code, 0, "{label}: {r:?}");
    let out = r.json();
    assert_eq!(out["deleted"], ROWS, "{label}: {out}");
    eprintln!(
        "{label}: inserted {ROWS} revoked rows in {:.1} s; prune: {} rows in {:.2} s by its own \
         clock ({:.2} s for the process); instance before: {}; during: {}",
        inserted_in.as_secs_f64(),
        out["deleted"],
        out["seconds"].as_f64().unwrap_or_default(),
        wall.as_secs_f64(),
        summary(&mut before),
        summary(&mut while_pruning)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn prune_100k_rows_while_an_instance_answers() {
    measure(common::sqlite().await).await;
    if let Some(t) = common::server(POSTGRES_ENV, "PostgreSQL").await {
        measure(t).await;
    }
    if let Some(t) = common::server(MYSQL_ENV, "MariaDB/MySQL").await {
        measure(t).await;
    }
}
