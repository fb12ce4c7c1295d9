//! Verifications per second through `KeyService` over `SeaOrmStore` on a SQLite file, with
//! several requests in flight (as a server has), next to the same number of raw indexed
//! `SELECT`s: sequential latency on an idle VM is dominated by sqlx-sqlite's hand-off to its
//! connection thread, and throughput is what a server's users see.
//!
//! ```text
//! cargo bench -p clab-keys-seaorm --bench throughput [-- SECONDS CONCURRENCY]
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clab_keys_core::{KeyHasher, KeyService, NewKey, Pepper, UserId};
use clab_keys_seaorm::SeaOrmStore;
use clab_keys_seaorm::migration::Migrator;
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DbBackend, Statement};
use sea_orm_migration::MigratorTrait as _;

async fn run_for<F, Fut>(secs: u64, concurrency: usize, op: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (op, stop, done) = (op.clone(), stop.clone(), done.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    op().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with('-')).collect();
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let concurrency: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("clab-keys-throughput-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite").display());
        let mut options = ConnectOptions::new(url);
        options.max_connections(4).sqlx_logging(false);
        let db = Database::connect(options).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let keys = KeyService::builder(
            SeaOrmStore::new(db.clone()),
            KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
        let created = keys
            .create(&UserId::from(1_i64), NewKey::new("bench"))
            .await
            .unwrap();
        let token: Arc<str> = created.token.expose_secret().into();
        let key_id: Arc<str> = created.key.key_id.as_str().into();
        keys.authenticate(token.as_bytes()).await.unwrap();
        keys.flush().await;

        let k = keys.clone();
        let t = token.clone();
        let auth = run_for(secs, concurrency, move || {
            let (k, t) = (k.clone(), t.clone());
            async move {
                k.authenticate(t.as_bytes()).await.unwrap();
            }
        })
        .await;
        let d = db.clone();
        let raw = run_for(secs, concurrency, move || {
            let (d, id) = (d.clone(), key_id.clone());
            async move {
                let stmt = Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "SELECT key_id, prefix, user_id, name, hash_version, hash, scopes, created_at, \
                     expires_at, last_used_at, revoked_at FROM clab_api_keys WHERE key_id = ?",
                    [id.as_ref().into()],
                );
                d.query_one_raw(stmt).await.unwrap().unwrap();
            }
        })
        .await;
        println!("SQLite file, 4 connections, {concurrency} in flight, {secs} s each:");
        println!("| case | per second |");
        println!("|---|---|");
        println!("| authenticate (SeaOrmStore) | {auth:.0} |");
        println!("| raw indexed SELECT (same pool) | {raw:.0} |");
        println!("ratio authenticate / raw: {:.2}", auth / raw);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    });
}
