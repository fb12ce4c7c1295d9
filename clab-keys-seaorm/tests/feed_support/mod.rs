//! What the feed tests share: one database per test (an SQLite file, or a fresh database on
//! the PostgreSQL or MySQL/MariaDB server named by the environment), opened by several
//! instances each through its OWN connection pool, each with its own feed; and the scenarios
//! every feed must pass.

#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clab_keys_core::{
    AuthError, CacheConfig, InvalidReason, InvalidationFeed, KeyHasher, KeyService,
    KeyServiceConfig, KeyStore, NewKey, Pepper, UserId,
};
use clab_keys_seaorm::SeaOrmStore;
use clab_keys_seaorm::migration::Migrator;
use clab_keys_testing::HeldStore;
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait as _;

pub const POSTGRES_ENV: &str = "CLAB_KEYS_TEST_POSTGRES_URL";
pub const MYSQL_ENV: &str = "CLAB_KEYS_TEST_MYSQL_URL";

/// The ceiling on polling for a feed to catch up or recover (heartbeat round trips through
/// connection pools, which a loaded 2-core CI machine can stretch to seconds). It bounds the
/// polling only; the times measured are printed.
pub const CEILING: Duration = Duration::from_secs(10);
/// The ceiling on a feed acting on a revocation or a failure (a revoked key refused, the cache
/// bypassed, the store's failure answered): the bound the tests stand for (the poll interval
/// or the lease, under a second) with room for a loaded machine, and still far below the
/// caches' 300 s TTL, so that only the feed (or the bypass) can meet it.
pub const BOUND: Duration = Duration::from_secs(5);
/// The ceiling on a feed's first catching up (connections are opened, tables read).
pub const SETUP_CEILING: Duration = Duration::from_secs(10);

/// A unique, lowercase name for a test database, file or channel.
pub fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "clab_keys_f_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces the database name (the URL path) in a server URL, keeping any query string.
fn with_database(url: &str, name: &str) -> String {
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

/// One migrated database that several instances open, each with its own pool.
#[derive(Debug)]
pub struct SharedDb {
    pub url: String,
    /// The database's name (the file's path on SQLite).
    pub name: String,
    /// The server URL to administer it from (its own database), `None` on SQLite.
    pub admin_url: Option<String>,
    file: Option<PathBuf>,
}

impl SharedDb {
    /// A migrated SQLite file.
    pub async fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        let db = Self {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            name: path.display().to_string(),
            admin_url: None,
            file: Some(path),
        };
        Migrator::up(&db.connect().await, None)
            .await
            .expect("migrate");
        db
    }

    /// A fresh, migrated database on the server named by `env`; `None` (and "skipped: …"
    /// printed) when the variable is unset.
    pub async fn server(env: &str) -> Option<Self> {
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
        let db = Self {
            url: with_database(&admin_url, &name),
            name,
            admin_url: Some(admin_url),
            file: None,
        };
        Migrator::up(&db.connect().await, None)
            .await
            .expect("migrate");
        Some(db)
    }

    /// A new pool of its own on the database: one connection (so a test that stops new
    /// connections to the database can go on using it: a connection being returned to the
    /// pool is waited for, not replaced by a new one) and a short acquire timeout (a store
    /// that is down answers within two seconds).
    pub async fn connect(&self) -> DatabaseConnection {
        let mut options = ConnectOptions::new(self.url.clone());
        options
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(2))
            .sqlx_logging(false);
        Database::connect(options)
            .await
            .expect("connect to the test database")
    }

    /// A connection to the server's own database, to administer this one.
    pub async fn admin(&self) -> DatabaseConnection {
        Database::connect(self.admin_url.as_deref().expect("a server database"))
            .await
            .expect("connect to the server")
    }
}

impl Drop for SharedDb {
    fn drop(&mut self) {
        if let Some(path) = &self.file {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
            return;
        }
        let (Some(admin_url), name) = (self.admin_url.clone(), self.name.clone()) else {
            return;
        };
        // Drop is synchronous and may run inside the test's runtime: use a thread with its
        // own runtime.
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
                    DbBackend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    _ => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let _ = admin.execute_unprepared(&sql).await;
                let _ = admin.close().await;
            });
        })
        .join();
    }
}

/// Makes a feed over one instance's own connection.
pub type MakeFeed = fn(&DatabaseConnection) -> Arc<dyn InvalidationFeed>;

fn hasher() -> KeyHasher {
    KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).unwrap()).unwrap()
}

/// An instance: its own pool, its own store over it, and a service with a 300 s cache and
/// its own feed over the same pool.
#[derive(Debug, Clone)]
pub struct Node {
    pub keys: KeyService,
    pub db: DatabaseConnection,
}

impl Node {
    pub async fn new(db: &SharedDb, feed: MakeFeed) -> Self {
        let conn = db.connect().await;
        let store: Arc<dyn KeyStore> = Arc::new(SeaOrmStore::new(conn.clone()));
        Self::over(store, conn, feed)
    }

    /// An instance whose store is `store` (say a `HeldStore` around its own `SeaOrmStore`).
    pub fn over(store: Arc<dyn KeyStore>, conn: DatabaseConnection, feed: MakeFeed) -> Self {
        let keys = KeyService::builder_shared(store, hasher())
            .config(KeyServiceConfig::default().cache(Some(
                CacheConfig::default().ttl(time::Duration::seconds(300)),
            )))
            .invalidation_feed(feed(&conn))
            .build()
            .unwrap();
        Self { keys, db: conn }
    }
}

/// An instance without a feed and without a cache, on its own pool: what it revokes is never
/// announced (a lost announcement), so only a cache that is bypassed can see it.
pub async fn unannounced(db: &SharedDb) -> KeyService {
    let store = SeaOrmStore::new(db.connect().await);
    KeyService::builder(store, hasher()).build().unwrap()
}

pub async fn is_revoked(keys: &KeyService, token: &str) -> bool {
    matches!(
        keys.authenticate(token.as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::Revoked))
    )
}

/// Polls `check` every 5 ms until it holds; the time it took. Panics past `ceiling`.
pub async fn until<F, Fut>(what: &str, ceiling: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < ceiling, "{what}: not within {ceiling:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until every node uses its cache: a key they all verified, then revoked unannounced,
/// is still accepted by all of them (only a trusted cache can accept it). `warm` tokens are
/// verified on every node in the same round, so they are cached too.
pub async fn until_cached(
    nodes: &[&Node],
    elsewhere: &KeyService,
    user: &UserId,
    warm: &[&str],
    ceiling: Duration,
) -> Duration {
    until("the caches are trusted", ceiling, || async {
        let probe = elsewhere.create(user, NewKey::new("probe")).await.unwrap();
        let token = probe.token.expose_secret().to_owned();
        for node in nodes {
            for w in warm {
                node.keys.authenticate(w.as_bytes()).await.unwrap();
            }
            node.keys.authenticate(token.as_bytes()).await.unwrap();
        }
        elsewhere
            .revoke(user, probe.key.key_id.as_str())
            .await
            .unwrap();
        let mut all = true;
        for node in nodes {
            all &= node.keys.authenticate(token.as_bytes()).await.is_ok();
        }
        all
    })
    .await
}

/// Waits until the node bypasses its cache: a key it verified, then revoked unannounced, is
/// refused at once.
pub async fn until_bypassed(
    node: &Node,
    elsewhere: &KeyService,
    user: &UserId,
    ceiling: Duration,
) -> Duration {
    until("the cache is bypassed", ceiling, || async {
        let probe = elsewhere.create(user, NewKey::new("probe")).await.unwrap();
        let token = probe.token.expose_secret().to_owned();
        let _ = node.keys.authenticate(token.as_bytes()).await;
        elsewhere
            .revoke(user, probe.key.key_id.as_str())
            .await
            .unwrap();
        is_revoked(&node.keys, &token).await
    })
    .await
}

/// Three instances, a key warm in every cache (TTL 300 s), revoked on one: every other one
/// refuses it within the bound.
pub async fn revoked_on_one_is_refused_on_the_others(db: &SharedDb, feed: MakeFeed, label: &str) {
    let nodes = [
        Node::new(db, feed).await,
        Node::new(db, feed).await,
        Node::new(db, feed).await,
    ];
    let elsewhere = unannounced(db).await;
    let user = UserId::from(1_i64);
    let created = nodes[0]
        .keys
        .create(&user, NewKey::new("ci"))
        .await
        .unwrap();
    let token = created.token.expose_secret().to_owned();
    let setup = until_cached(
        &nodes.iter().collect::<Vec<_>>(),
        &elsewhere,
        &user,
        &[&token],
        SETUP_CEILING,
    )
    .await;
    eprintln!("{label}: every cache trusted after {setup:?}");

    nodes[1]
        .keys
        .revoke(&user, created.key.key_id.as_str())
        .await
        .unwrap();
    let revoked = Instant::now();
    for (i, node) in nodes.iter().enumerate() {
        until("the revoked key is refused", BOUND, || {
            is_revoked(&node.keys, &token)
        })
        .await;
        // Measured from the revocation (the instances are checked one after the other, so a
        // later one's figure is at most its latency).
        let latency = revoked.elapsed();
        eprintln!("{label}: instance {i} refused the revoked key by {latency:?} after the revoke");
    }
}

/// A verification on one instance whose store read began before another instance revoked
/// the key (its `find` is held until the announcement has been delivered) finishes, but
/// never puts the key back into its cache.
pub async fn a_read_before_a_revoke_elsewhere_does_not_cache_the_key(
    db: &SharedDb,
    feed: MakeFeed,
    label: &str,
) {
    let conn = db.connect().await;
    let held = HeldStore::new(Arc::new(SeaOrmStore::new(conn.clone())) as Arc<dyn KeyStore>);
    let reader = Node::over(Arc::new(held.clone()), conn, feed);
    let revoker = Node::new(db, feed).await;
    let elsewhere = unannounced(db).await;
    let user = UserId::from(1_i64);
    let raced = revoker
        .keys
        .create(&user, NewKey::new("race"))
        .await
        .unwrap();
    let raced_token = raced.token.expose_secret().to_owned();
    let marker = revoker
        .keys
        .create(&user, NewKey::new("marker"))
        .await
        .unwrap();
    let marker_token = marker.token.expose_secret().to_owned();
    until_cached(
        &[&reader, &revoker],
        &elsewhere,
        &user,
        &[&marker_token],
        SETUP_CEILING,
    )
    .await;

    // The reader's verification reads the (still active) row, then is held ...
    let hold = held.hold_next_find();
    let in_flight = tokio::spawn({
        let keys = reader.keys.clone();
        let token = raced_token.clone();
        async move { keys.authenticate(token.as_bytes()).await }
    });
    hold.entered().await;
    // ... while the other instance revokes the key, then a marker key the reader has
    // cached. Announcements arrive in order: once the marker is refused, the raced key's
    // eviction has been delivered too.
    revoker
        .keys
        .revoke(&user, raced.key.key_id.as_str())
        .await
        .unwrap();
    revoker
        .keys
        .revoke(&user, marker.key.key_id.as_str())
        .await
        .unwrap();
    let latency = until("the marker is refused", BOUND, || {
        is_revoked(&reader.keys, &marker_token)
    })
    .await;
    eprintln!("{label}: the held reader heard the revocations after {latency:?}");
    hold.release();
    assert!(
        in_flight.await.unwrap().is_ok(),
        "it began first and may finish"
    );

    assert!(
        is_revoked(&reader.keys, &raced_token).await,
        "a verification that began before the announcement put the revoked key back"
    );
}

/// Renames the change log away (every poll fails), then back.
pub async fn rename_change_log(db: &DatabaseConnection, back: bool) {
    let (from, to) = if back {
        ("clab_api_key_changes_away", "clab_api_key_changes")
    } else {
        ("clab_api_key_changes", "clab_api_key_changes_away")
    };
    db.execute_unprepared(&format!("ALTER TABLE {from} RENAME TO {to}"))
        .await
        .expect("rename the change log");
}

/// A poll that fails bypasses the cache (an unannounced revocation is seen at once); once
/// polls succeed again the cache is used again.
pub async fn a_failed_poll_bypasses_the_cache(db: &SharedDb, feed: MakeFeed, label: &str) {
    let node = Node::new(db, feed).await;
    let elsewhere = unannounced(db).await;
    let admin = db.connect().await;
    let user = UserId::from(1_i64);
    until_cached(&[&node], &elsewhere, &user, &[], SETUP_CEILING).await;

    rename_change_log(&admin, false).await;
    let latency = until_bypassed(&node, &elsewhere, &user, BOUND).await;
    eprintln!("{label}: cache bypassed {latency:?} after the change log went away");

    rename_change_log(&admin, true).await;
    let latency = until_cached(&[&node], &elsewhere, &user, &[], CEILING).await;
    eprintln!("{label}: cache trusted again {latency:?} after the change log came back");
}

/// With its pool closed (the store is down), an instance answers verifications with an error
/// once its feed has noticed, never with a cached success.
pub async fn a_store_that_is_down_is_an_error_not_a_cached_success(
    db: &SharedDb,
    feed: MakeFeed,
    label: &str,
) {
    let node = Node::new(db, feed).await;
    let elsewhere = unannounced(db).await;
    let user = UserId::from(1_i64);
    let created = node.keys.create(&user, NewKey::new("k")).await.unwrap();
    let token = created.token.expose_secret().to_owned();
    until_cached(&[&node], &elsewhere, &user, &[&token], SETUP_CEILING).await;

    node.db.clone().close().await.unwrap();
    let latency = until("a verification is an error", BOUND, || async {
        matches!(
            node.keys.authenticate(token.as_bytes()).await,
            Err(AuthError::Unavailable(_))
        )
    })
    .await;
    eprintln!("{label}: store down answered as unavailable after {latency:?}");
    for _ in 0..3 {
        assert!(
            matches!(
                node.keys.authenticate(token.as_bytes()).await,
                Err(AuthError::Unavailable(_))
            ),
            "a cached success while the store is down and the feed cannot poll"
        );
    }
}
