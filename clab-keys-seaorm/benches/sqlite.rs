//! What authentication costs on top of the database: `KeyService::authenticate` over
//! `SeaOrmStore` (parse, checksum, one lookup, HMAC, constant-time compare, checks), the
//! store's lookup alone (`SeaOrmStore::find`), and one raw indexed `SELECT … WHERE key_id = ?`
//! of the same row through the same connection.
//!
//! SQLite (`sqlite::memory:`, one connection) always; PostgreSQL too when
//! `CLAB_KEYS_TEST_POSTGRES_URL` is set (a fresh database, dropped afterwards).
//!
//! ```text
//! cargo bench -p clab-keys-seaorm --bench sqlite -- --warm-up-time 1 --measurement-time 3
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use clab_keys_core::{KeyHasher, KeyService, KeyStore as _, NewKey, Pepper, UserId};
use clab_keys_seaorm::SeaOrmStore;
use clab_keys_seaorm::migration::Migrator;
use criterion::{Criterion, criterion_group, criterion_main};
use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait as _;
use tokio::runtime::Runtime;

const COLUMNS: &str = "key_id, prefix, user_id, name, hash_version, hash, scopes, created_at, \
                       expires_at, last_used_at, revoked_at";

fn bench_backend(c: &mut Criterion, rt: &Runtime, label: &str, db: DatabaseConnection) {
    rt.block_on(Migrator::up(&db, None)).unwrap();
    let pepper = Pepper::from_bytes(&[7; 32]).unwrap();
    let store = SeaOrmStore::new(db.clone());
    let keys = KeyService::builder(store.clone(), KeyHasher::hmac(1, pepper).unwrap())
        .build()
        .unwrap();
    let user = UserId::from(1_i64);
    let created = rt
        .block_on(keys.create(&user, NewKey::new("bench")))
        .unwrap();
    let token = created.token.expose_secret().to_owned();
    let key_id = created.key.key_id.as_str().to_owned();
    // Warm the `last_used_at` debounce so that every measured call is a pure read.
    rt.block_on(keys.authenticate(token.as_bytes())).unwrap();
    rt.block_on(keys.flush());

    let backend = db.get_database_backend();
    let placeholder = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!("SELECT {COLUMNS} FROM clab_api_keys WHERE key_id = {placeholder}");

    let mut group = c.benchmark_group(label);
    group.bench_function("authenticate", |b| {
        b.iter(|| rt.block_on(keys.authenticate(token.as_bytes())).unwrap());
    });
    let id = created.key.key_id;
    group.bench_function("store_find", |b| {
        b.iter(|| rt.block_on(store.find(&id)).unwrap().unwrap());
    });
    group.bench_function("raw_select_by_key_id", |b| {
        b.iter(|| {
            let stmt = Statement::from_sql_and_values(backend, &sql, [key_id.as_str().into()]);
            rt.block_on(db.query_one_raw(stmt)).unwrap().unwrap()
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sqlite = rt.block_on(Database::connect("sqlite::memory:")).unwrap();
    bench_backend(c, &rt, "sqlite", sqlite);
    if let Some(test_db) = rt.block_on(common::server_db(common::POSTGRES_ENV)) {
        bench_backend(c, &rt, "postgres", test_db.db.clone());
        drop(test_db);
    }
}

criterion_group!(sqlite_and_postgres, benches);
criterion_main!(sqlite_and_postgres);
