//! Test databases: a fresh, migrated database per test, on SQLite always, on PostgreSQL when
//! `CLAB_KEYS_TEST_POSTGRES_URL` is set and on MySQL/MariaDB when `CLAB_KEYS_TEST_MYSQL_URL`
//! is set. Each database is removed (best effort) when its store is dropped.

#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clab_keys_core::{
    HashVersion, InsertOutcome, KeyId, KeyRecord, KeyStore, RevocationReason, RevokeOutcome,
    RotateOutcome, StoreError, StoredHash, UserId,
};
use clab_keys_seaorm::SeaOrmStore;
use clab_keys_seaorm::migration::Migrator;
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait as _;
use time::OffsetDateTime;

pub const POSTGRES_ENV: &str = "CLAB_KEYS_TEST_POSTGRES_URL";
pub const MYSQL_ENV: &str = "CLAB_KEYS_TEST_MYSQL_URL";

/// A unique, lowercase name for a test database or file.
pub fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "clab_keys_t_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// What to remove when a test database is dropped.
#[derive(Debug)]
enum Cleanup {
    File(PathBuf),
    Database { admin_url: String, name: String },
}

/// An empty test database (not migrated) and how to remove it.
#[derive(Debug)]
pub struct TestDb {
    pub db: DatabaseConnection,
    cleanup: Cleanup,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-journal", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Database { admin_url, name } => {
                // Drop is synchronous and may run inside the test's runtime: use a thread
                // with its own runtime.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        let Ok(admin) = Database::connect(admin_url.as_str()).await else {
                            return;
                        };
                        let sql = match admin.get_database_backend() {
                            DbBackend::Postgres => {
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                            }
                            _ => format!("DROP DATABASE IF EXISTS {name}"),
                        };
                        let _ = admin.execute_unprepared(&sql).await;
                        let _ = admin.close().await;
                    });
                })
                .join();
            }
        }
    }
}

/// Replaces the database name (the URL path) in a server URL, keeping any query string.
pub fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

/// A fresh SQLite database in a temporary file, with a pool of 5 connections so that
/// concurrent calls really run concurrently.
pub async fn sqlite_db() -> TestDb {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut options = ConnectOptions::new(url);
    options.max_connections(5).sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .expect("open a SQLite file");
    TestDb {
        db,
        cleanup: Cleanup::File(path),
    }
}

/// A fresh database on the server named by `env`, or `None` when the variable is unset.
pub async fn server_db(env: &str) -> Option<TestDb> {
    let Some(admin_url) = std::env::var(env).ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: {env} is not set");
        return None;
    };
    let name = unique_name();
    let admin = Database::connect(admin_url.as_str())
        .await
        .unwrap_or_else(|e| panic!("{env} is set but the server cannot be reached: {e}"));
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let _ = admin.close().await;
    let mut options = ConnectOptions::new(with_database(&admin_url, &name));
    options
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .expect("connect to the test database");
    Some(TestDb {
        db,
        cleanup: Cleanup::Database { admin_url, name },
    })
}

/// A migrated store on a test database; the database goes when the store is dropped.
#[derive(Debug)]
pub struct TestStore {
    pub store: SeaOrmStore,
    _db: TestDb,
}

impl TestStore {
    pub async fn new(db: TestDb) -> Self {
        Migrator::up(&db.db, None).await.expect("migrate");
        Self {
            store: SeaOrmStore::new(db.db.clone()),
            _db: db,
        }
    }
}

pub async fn sqlite() -> Option<Arc<dyn KeyStore>> {
    Some(Arc::new(TestStore::new(sqlite_db().await).await))
}

pub async fn postgres() -> Option<Arc<dyn KeyStore>> {
    Some(Arc::new(
        TestStore::new(server_db(POSTGRES_ENV).await?).await,
    ))
}

pub async fn mysql() -> Option<Arc<dyn KeyStore>> {
    Some(Arc::new(TestStore::new(server_db(MYSQL_ENV).await?).await))
}

/// Every configured backend: SQLite, then PostgreSQL and MySQL/MariaDB when their URLs are set.
pub async fn all_dbs() -> Vec<TestDb> {
    let mut dbs = vec![sqlite_db().await];
    dbs.extend(server_db(POSTGRES_ENV).await);
    dbs.extend(server_db(MYSQL_ENV).await);
    dbs
}

#[async_trait::async_trait]
impl KeyStore for TestStore {
    async fn insert_within_limit(
        &self,
        record: &KeyRecord,
        max_active: u32,
        now: OffsetDateTime,
    ) -> Result<InsertOutcome, StoreError> {
        self.store
            .insert_within_limit(record, max_active, now)
            .await
    }
    async fn find(&self, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        self.store.find(key_id).await
    }
    async fn list(&self, user_id: &UserId) -> Result<Vec<KeyRecord>, StoreError> {
        self.store.list(user_id).await
    }
    async fn revoke(
        &self,
        user_id: &UserId,
        key_id: &KeyId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<RevokeOutcome, StoreError> {
        self.store.revoke(user_id, key_id, at, reason).await
    }
    async fn revoke_all(
        &self,
        user_id: &UserId,
        at: OffsetDateTime,
        reason: RevocationReason,
    ) -> Result<Vec<KeyId>, StoreError> {
        self.store.revoke_all(user_id, at, reason).await
    }
    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> Result<u64, StoreError> {
        self.store.prune(cutoff, batch).await
    }
    async fn hash_version_counts(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(HashVersion, u64)>, StoreError> {
        self.store.hash_version_counts(now).await
    }
    async fn touch(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
        cutoff: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.store.touch(key_id, at, cutoff).await
    }
    async fn replace_hash(
        &self,
        key_id: &KeyId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<bool, StoreError> {
        self.store.replace_hash(key_id, old, new).await
    }
    async fn rotate(
        &self,
        current: &KeyRecord,
        retired: &KeyRecord,
        new: &KeyRecord,
        max_in_grace: u32,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome, StoreError> {
        self.store
            .rotate(current, retired, new, max_in_grace, now)
            .await
    }
    async fn update(
        &self,
        current: &KeyRecord,
        updated: &KeyRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.store.update(current, updated, now).await
    }
    async fn list_page(
        &self,
        user_id: &UserId,
        after: Option<(OffsetDateTime, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.store.list_page(user_id, after, limit).await
    }
    async fn claim_expiring(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.store.claim_expiring(now, until).await
    }
}

/// A record with the given id and owner, created at `at`, with a fixed digest.
pub fn record(key_id: &str, user_id: &UserId, at: OffsetDateTime) -> KeyRecord {
    KeyRecord::new(
        KeyId::parse(key_id).expect("test key id"),
        "clab_user_",
        user_id.clone(),
        "test",
        StoredHash {
            version: HashVersion::SHA256,
            digest: clab_keys_core::KeyDigest::from_bytes([7; 32]),
        },
        clab_keys_core::Scopes::default(),
        at,
    )
}

/// The name of a backend, for assertion messages.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "postgres",
        DbBackend::MySql => "mysql",
        _ => "sqlite",
    }
}

/// Whether `table` exists in the connection's database (or schema).
pub async fn has_table(db: &DatabaseConnection, table: &str) -> bool {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
        DbBackend::MySql => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = ?"
        }
        _ => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
    };
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [table.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap() > 0
}
