//! Test databases and a runner for the real `clab-keys` binary.
//!
//! Every test gets a database of its own: a temporary SQLite file always; on PostgreSQL and
//! MariaDB (when `CLAB_KEYS_TEST_POSTGRES_URL` / `CLAB_KEYS_TEST_MYSQL_URL` name a server) a
//! database created for it under a unique name and dropped afterwards, so tests running on the
//! same servers at the same moment never meet.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clab_keys::sea_orm::SeaOrmStore;
use clab_keys::{KeyHasher, KeyService, Pepper};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend};

pub const POSTGRES_ENV: &str = "CLAB_KEYS_TEST_POSTGRES_URL";
pub const MYSQL_ENV: &str = "CLAB_KEYS_TEST_MYSQL_URL";
pub const REDIS_ENV: &str = "CLAB_KEYS_TEST_REDIS_URL";

/// The pepper the tests' "app" and the CLI share (version 1).
pub const PEPPER: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
/// Another pepper, for keys hashed under a version the CLI does not cover.
pub const OTHER_PEPPER: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The variables the CLI reads; each run starts with none of them set.
const CLI_VARS: [&str; 5] = [
    "DATABASE_URL",
    "CLAB_KEYS_PEPPER",
    "CLAB_KEYS_INVALIDATION_FEED",
    "CLAB_KEYS_REDIS_URL",
    "RUST_LOG",
];

/// A unique, lowercase name for a test database or file.
pub fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "clab_keys_cli_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

enum Cleanup {
    File(PathBuf),
    Database { admin_url: String, name: String },
}

/// A database of one test: its URL (for the CLI) and a connection (for the test's "app").
pub struct TestDb {
    pub url: String,
    pub db: DatabaseConnection,
    pub label: &'static str,
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
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside the test's runtime: a thread with its own.
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

/// A fresh SQLite file (created, empty).
pub async fn sqlite() -> TestDb {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    let url = format!("sqlite://{}", path.display());
    let mut options = ConnectOptions::new(format!("{url}?mode=rwc"));
    options.max_connections(5).sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .expect("open a SQLite file");
    TestDb {
        url,
        db,
        label: "sqlite",
        cleanup: Cleanup::File(path),
    }
}

/// A fresh database on the server named by `env`, or `None` (after printing "skipped: …")
/// when the variable is unset.
pub async fn server(env: &str, label: &'static str) -> Option<TestDb> {
    let Some(admin_url) = std::env::var(env).ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: {env} is not set, so the CLI is not tested on {label}");
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
    let url = with_database(&admin_url, &name);
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .expect("connect to the test database");
    Some(TestDb {
        url,
        db,
        label,
        cleanup: Cleanup::Database { admin_url, name },
    })
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// The stderr as JSON (an error with `--json`).
    pub fn error_json(&self) -> serde_json::Value {
        serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {self:?}"))
    }
}

/// Runs `clab-keys args…` with exactly the variables in `env` set among those it reads, and
/// `stdin` on its standard input.
pub fn run(env: &[(&str, &str)], args: &[&str], stdin: &str) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clab-keys"));
    for var in CLI_VARS {
        command.env_remove(var);
    }
    command
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start clab-keys");
    {
        let mut input = child.stdin.take().expect("stdin");
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait for clab-keys");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// [`run`] on a blocking thread, for async tests whose runtime must keep running meanwhile.
pub async fn run_async(env: Vec<(String, String)>, args: Vec<String>, stdin: String) -> Run {
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&env, &args, &stdin)
    })
    .await
    .expect("the CLI thread")
}

/// A key service as an app builds it over the test database: pepper version 1.
pub fn app_service(db: &DatabaseConnection) -> KeyService {
    KeyService::builder(SeaOrmStore::new(db.clone()), hasher(1, PEPPER))
        .build()
        .expect("build the key service")
}

/// A hasher with `pepper` as version `version`.
pub fn hasher(version: u16, pepper: &str) -> KeyHasher {
    KeyHasher::hmac(version, Pepper::from_base64(pepper).expect("pepper")).expect("hasher")
}
