//! The plaintext token never reaches SQL. While a key is created, used (with the right and a
//! wrong secret), listed and revoked, two things are captured: every statement SeaORM executes,
//! with its bound values (SeaORM's metric callback; `Statement`'s `Display` inlines the
//! values), and everything logged through `tracing` at TRACE level, which includes sqlx's
//! statement log.
//!
//! (SeaORM's `debug-print` feature would also log statements with values, but enabling it in
//! these dev-dependencies would turn it on for every crate of the workspace under
//! `cargo test --workspace`, logging key digests there.)

// Helpers outside `#[test]` functions fail the way the tests do.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use clab_keys_core::{KeyService, KeyServiceConfig, NewKey, TokenFormat, UserId};
use clab_keys_seaorm::SeaOrmStore;
use clab_keys_seaorm::migration::Migrator;
use clab_keys_testing::conformance::forge_secret;
use sea_orm::{ConnectOptions, Database};
use sea_orm_migration::MigratorTrait as _;
use tracing_subscriber::fmt::MakeWriter;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn plaintext_token_never_reaches_sql() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish();
    // Global, because sqlx runs each SQLite connection on a thread of its own. This is the only
    // test in this binary.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let statements = Arc::new(Mutex::new(String::new()));
    let (token, key_id) = rt.block_on(async {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options
            .sqlx_logging(true)
            .sqlx_logging_level(tracing::log::LevelFilter::Info);
        let mut db = Database::connect(options).await.unwrap();
        let sink = statements.clone();
        db.set_metric_callback(move |info| {
            let mut sink = sink.lock().unwrap();
            sink.push_str(&format!(
                "{}\n{:?}\n",
                info.statement, info.statement.values
            ));
        });
        Migrator::up(&db, None).await.unwrap();
        let keys = KeyService::builder(
            SeaOrmStore::new(db),
            clab_keys_core::dangerous::sha256_hasher(),
        )
        .config(KeyServiceConfig::default())
        .build()
        .unwrap();
        let user = UserId::from(1_i64);
        let created = keys
            .create(&user, NewKey::new("logged").scopes(["projects:read"]))
            .await
            .unwrap();
        let token = created.token.expose_secret().to_owned();
        keys.authenticate(token.as_bytes()).await.unwrap();
        // A wrong secret for the same id reaches the store too.
        assert!(
            keys.authenticate(forge_secret(&token).as_bytes())
                .await
                .is_err()
        );
        keys.list(&user).await.unwrap();
        keys.revoke(&user, created.key.key_id.as_str())
            .await
            .unwrap();
        (token, created.key.key_id.as_str().to_owned())
    });

    let statements = statements.lock().unwrap().clone();
    assert!(
        statements.contains("INSERT INTO"),
        "statements were captured:\n{statements}"
    );
    assert!(
        statements.contains(&format!("'{key_id}'")),
        "bound values were captured (the key id is bound in several):\n{statements}"
    );
    let logs = capture.text();
    assert!(
        logs.contains("sqlx::query"),
        "sqlx's statement log was captured:\n{logs}"
    );

    let secret_start = token.len() - TokenFormat::BODY_LEN + TokenFormat::KEY_ID_LEN;
    let forged = forge_secret(&token);
    let secrets = [
        token.as_str(),
        &token[secret_start..secret_start + TokenFormat::SECRET_LEN],
        forged.as_str(),
        &forged[secret_start..secret_start + TokenFormat::SECRET_LEN],
    ];
    for secret in secrets {
        assert!(
            !statements.contains(secret),
            "a token or secret reached SQL"
        );
        assert!(!logs.contains(secret), "a token or secret was logged");
    }
}
