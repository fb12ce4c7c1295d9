//! Authentication without the verification cache on a PostgreSQL table of 1,000 keys and on
//! one of 1,000,000, in the same run.
//!
//! Creates two fresh databases on the server, migrates both, creates `--keys` keys in each
//! through `KeyService` over `SeaOrmStore` (100 users, 10 keys each by default); the large one
//! then gets filler rows by one `INSERT … SELECT FROM generate_series` in the server (random
//! 8-character key ids, random 32-byte hashes, the real rows' other columns) up to `--rows`
//! rows in all, and is `VACUUM ANALYZE`d. Then rounds alternate small, large, large, small…:
//! each authenticates every real key once, in a shuffled order, one at a time (the first round
//! only warms up). Drops both databases at the end.
//!
//! ```text
//! usage: scale [--admin-url postgres://postgres@127.0.0.1:5432/postgres] [--keys 1000]
//!        [--rows 1000000] [--rounds 8]
//! ```
//! Prints one JSON line.

use std::time::{Duration, Instant};

use clab_keys::sea_orm::SeaOrmStore;
use clab_keys::sea_orm::migration::Migrator;
use clab_keys::{KeyHasher, KeyService, KeyServiceConfig, NewKey, Pepper, UserId};
use clab_keys_bench::args::Args;
use clab_keys_bench::stats::summary;
use clab_keys_bench::{BoxError, err};
use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait as _;
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args = Args::from_env()?;
    let admin_url = args
        .get("admin-url")
        .unwrap_or("postgres://postgres@127.0.0.1:5432/postgres")
        .to_owned();
    let keys: usize = args.parsed("keys", 1000)?;
    let rows: u64 = args.parsed("rows", 1_000_000)?;
    let rounds: usize = args.parsed("rounds", 8)?;
    let admin = Database::connect(admin_url.as_str()).await?;
    let tag = std::process::id();
    let names = [
        format!("bench_scale_small_{tag}"),
        format!("bench_scale_large_{tag}"),
    ];
    for name in &names {
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
    }
    let result = run(&admin_url, &names, keys, rows, rounds).await;
    for name in &names {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    println!("{}", result?);
    Ok(())
}

fn with_database(admin_url: &str, name: &str) -> String {
    match admin_url.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{name}", &admin_url[..i]),
        _ => format!("{admin_url}/{name}"),
    }
}

async fn run(
    admin_url: &str,
    names: &[String; 2],
    keys: usize,
    rows: u64,
    rounds: usize,
) -> Result<serde_json::Value, BoxError> {
    let mut services = Vec::new();
    let mut tokens = Vec::new();
    for name in names {
        let db = Database::connect(with_database(admin_url, name).as_str()).await?;
        Migrator::up(&db, None).await?;
        // No cache (every verification reads the store), and a window long enough that the
        // measured rounds write no `last_used_at`.
        let config = KeyServiceConfig::default().last_used_window(time::Duration::hours(1));
        let service = KeyService::builder(
            SeaOrmStore::new(db.clone()),
            KeyHasher::hmac(1, Pepper::from_bytes(&[42; 32])?)?,
        )
        .config(config)
        .build()?;
        let mut mine = Vec::with_capacity(keys);
        for n in 0..keys {
            let user = UserId::new(format!("user{}", n / 10))?;
            let created = service
                .create(&user, NewKey::new(format!("scale {n}")))
                .await?;
            mine.push(created.token.expose_secret().to_owned());
        }
        services.push((service, db));
        tokens.push(mine);
    }

    let large = &services[1].1;
    let filler = rows.saturating_sub(keys as u64);
    let started = Instant::now();
    fill(large, filler).await?;
    let fill_secs = started.elapsed().as_secs_f64();
    let mut counts = Vec::new();
    for (_, db) in &services {
        counts.push(count(db).await?);
    }

    let mut latencies: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for round in 0..rounds {
        // ABBA order, so drift over the run falls on both alike.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let (service, _) = &services[which];
            let mut mine = tokens[which].clone();
            shuffle(&mut mine, &mut seed);
            for token in &mine {
                let start = Instant::now();
                service.authenticate(token.as_bytes()).await?;
                let took = start.elapsed();
                if round > 0 {
                    latencies[which].push(micros(took));
                }
            }
            service.flush().await;
        }
    }
    let describe = |v: &[f64]| {
        let (p50, p99, max) = summary(v);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        json!({ "p50_us": p50, "p99_us": p99, "max_us": max, "mean_us": mean, "n": v.len() })
    };
    let (small50, ..) = summary(&latencies[0]);
    let (large50, ..) = summary(&latencies[1]);
    Ok(json!({
        "rows": { "small": counts[0], "large": counts[1] },
        "fill_secs": fill_secs,
        "small": describe(&latencies[0]),
        "large": describe(&latencies[1]),
        "ratio_p50_large_to_small": large50 / small50,
    }))
}

/// Adds `n` filler rows shaped like the real ones (copied from one of them) in one statement.
async fn fill(db: &DatabaseConnection, n: u64) -> Result<(), BoxError> {
    if n == 0 {
        return Ok(());
    }
    // md5 hex digits are base62 digits too: 8 of them make a key id. A clash with a real id
    // is skipped (ON CONFLICT) and counted by the caller's row count.
    let sql = format!(
        "INSERT INTO clab_api_keys (key_id, prefix, user_id, name, hash_version, hash, scopes, created_at) \
         SELECT substr(md5('filler' || i::text), 1, 8), r.prefix, 'filler' || (i % 100000)::text, r.name, \
                r.hash_version, decode(md5(i::text) || md5((-i)::text), 'hex'), r.scopes, r.created_at \
         FROM generate_series(1, {n}) AS i, (SELECT * FROM clab_api_keys LIMIT 1) AS r \
         ON CONFLICT DO NOTHING"
    );
    db.execute_unprepared(&sql).await?;
    db.execute_unprepared("VACUUM ANALYZE clab_api_keys")
        .await?;
    Ok(())
}

async fn count(db: &DatabaseConnection) -> Result<i64, BoxError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM clab_api_keys",
        ))
        .await?
        .ok_or_else(|| err("count returned no row"))?;
    Ok(row.try_get::<i64>("", "n")?)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Fisher–Yates with a xorshift generator: a different order each round, no dependency.
fn shuffle<T>(v: &mut [T], seed: &mut u64) {
    for i in (1..v.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        v.swap(i, (*seed % (i as u64 + 1)) as usize);
    }
}
