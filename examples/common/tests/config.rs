//! `Config`: defaults, explicit values, invalid values, and that no secret is ever printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::process::Command;

use base64::Engine as _;
use clab_keys_example_common::config::{
    ConfigError, DEFAULT_CACHE_TTL_SECS, DEFAULT_DATABASE_URL, DEV_JWT_SECRET_NOTICE,
    DEV_PEPPER_NOTICE,
};
use clab_keys_example_common::feed::FeedKind;
use clab_keys_example_common::{Config, JwtSecret};

const PEPPER_B64: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
const JWT_SECRET: &str = "0123456789abcdef0123456789abcdef-test";

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn defaults_when_nothing_is_set() {
    let config = Config::from_lookup("127.0.0.1:3000", lookup(&[])).unwrap();
    assert_eq!(config.addr().to_string(), "127.0.0.1:3000");
    assert_eq!(config.database_url(), DEFAULT_DATABASE_URL);
    assert_eq!(config.database_backend(), "sqlite");
    assert!(config.uses_dev_jwt_secret());
    assert!(config.uses_dev_pepper());
    assert_eq!(config.jwt_secret().expose_secret().len(), 32);
    assert_eq!(config.pepper().expose_secret().len(), 32);
    assert_eq!(
        config.dev_notices(),
        vec![DEV_JWT_SECRET_NOTICE, DEV_PEPPER_NOTICE]
    );
}

#[test]
fn the_default_address_is_the_callers() {
    let actix = Config::from_lookup("127.0.0.1:3001", lookup(&[])).unwrap();
    assert_eq!(actix.addr().port(), 3001);
}

#[test]
fn development_secrets_differ_between_runs() {
    let a = Config::from_lookup("127.0.0.1:3000", lookup(&[])).unwrap();
    let b = Config::from_lookup("127.0.0.1:3000", lookup(&[])).unwrap();
    assert_ne!(
        a.jwt_secret().expose_secret(),
        b.jwt_secret().expose_secret()
    );
    assert_ne!(a.pepper().expose_secret(), b.pepper().expose_secret());
}

#[test]
fn explicit_values_are_used() {
    let config = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[
            ("ADDR", "0.0.0.0:8080"),
            ("DATABASE_URL", "postgres://app:pw@db/app"),
            ("JWT_SECRET", JWT_SECRET),
            ("CLAB_KEYS_PEPPER", PEPPER_B64),
        ]),
    )
    .unwrap();
    assert_eq!(config.addr().to_string(), "0.0.0.0:8080");
    assert_eq!(config.database_url(), "postgres://app:pw@db/app");
    assert_eq!(config.database_backend(), "postgres");
    assert_eq!(config.jwt_secret().expose_secret(), JWT_SECRET.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD
        .decode(PEPPER_B64)
        .unwrap();
    assert_eq!(config.pepper().expose_secret(), &expected[..]);
    assert!(!config.uses_dev_jwt_secret());
    assert!(!config.uses_dev_pepper());
    assert!(config.dev_notices().is_empty());
}

#[test]
fn ipv6_and_mysql_are_accepted() {
    let config = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[("ADDR", "[::1]:3000"), ("DATABASE_URL", "mysql://u:p@h/db")]),
    )
    .unwrap();
    assert!(config.addr().is_ipv6());
    assert_eq!(config.database_backend(), "mysql");
}

#[test]
fn a_pepper_that_is_not_base64_is_rejected() {
    let err = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[("CLAB_KEYS_PEPPER", "not base64 at all!")]),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidPepper(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("CLAB_KEYS_PEPPER"), "{text}");
    assert!(
        !text.contains("not base64 at all"),
        "the value is echoed: {text}"
    );
}

#[test]
fn a_short_pepper_is_rejected() {
    // 16 bytes.
    let err = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[("CLAB_KEYS_PEPPER", "AAAAAAAAAAAAAAAAAAAAAA==")]),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidPepper(_)), "{err:?}");
    assert!(err.to_string().contains("at least 32"), "{err}");
}

#[test]
fn a_short_jwt_secret_is_rejected() {
    let err = Config::from_lookup("127.0.0.1:3000", lookup(&[("JWT_SECRET", "short-secret")]))
        .unwrap_err();
    assert!(matches!(err, ConfigError::JwtSecretTooShort), "{err:?}");
    assert!(!err.to_string().contains("short-secret"));
}

#[test]
fn a_bad_address_is_rejected() {
    let err = Config::from_lookup("127.0.0.1:3000", lookup(&[("ADDR", "localhost")])).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidAddr(_)), "{err:?}");
    assert!(err.to_string().contains("ADDR"));
}

#[test]
fn an_unknown_database_is_rejected_without_echoing_the_url() {
    let err = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[("DATABASE_URL", "oracle://user:hunter2@db/x")]),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidDatabaseUrl), "{err:?}");
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn an_empty_variable_is_an_error_not_a_default() {
    for name in ["ADDR", "DATABASE_URL", "JWT_SECRET", "CLAB_KEYS_PEPPER"] {
        let err = Config::from_lookup("127.0.0.1:3000", lookup(&[(name, "  ")])).unwrap_err();
        assert!(
            matches!(err, ConfigError::Empty(n) if n == name),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn debug_redacts_secrets_and_the_database_url() {
    let config = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[
            ("DATABASE_URL", "postgres://app:hunter2@db/app"),
            ("JWT_SECRET", JWT_SECRET),
            ("CLAB_KEYS_PEPPER", PEPPER_B64),
        ]),
    )
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains(JWT_SECRET), "{debug}");
    assert!(!debug.contains(PEPPER_B64), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("REDACTED"), "{debug}");
    let secret = JwtSecret::new(JWT_SECRET.as_bytes()).unwrap();
    assert_eq!(format!("{secret:?}"), "JwtSecret([REDACTED])");
}

/// Every way a secret could plausibly be printed.
fn encodings(bytes: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        hex,
        format!("{bytes:?}"),
        String::from_utf8_lossy(bytes).into_owned(),
    ]
}

const CHILD_ENV: &str = "CLAB_KEYS_EXAMPLE_CONFIG_CHILD";

/// Runs in a child process (see `from_env_prints_each_notice_once_and_no_secret`): reads the
/// configuration twice from the real environment and writes the generated secrets to a file
/// (never to stdout or stderr) for the parent to look for.
#[test]
fn child_reads_config_from_env() {
    let Ok(out_path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let first = Config::from_env("127.0.0.1:3000").unwrap();
    let _second = Config::from_env("127.0.0.1:3000").unwrap();
    let mut dump = Vec::new();
    dump.extend_from_slice(first.jwt_secret().expose_secret());
    dump.extend_from_slice(first.pepper().expose_secret());
    std::fs::write(out_path, dump).unwrap();
}

#[test]
fn from_env_prints_each_notice_once_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("secrets.bin");
    let exe = std::env::current_exe().unwrap();
    let output = Command::new(exe)
        .args([
            "child_reads_config_from_env",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &out_path)
        .env_remove("ADDR")
        .env_remove("DATABASE_URL")
        .env_remove("JWT_SECRET")
        .env_remove("CLAB_KEYS_PEPPER")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stderr.matches(DEV_JWT_SECRET_NOTICE).count(), 1, "{stderr}");
    assert_eq!(stderr.matches(DEV_PEPPER_NOTICE).count(), 1, "{stderr}");

    let dump = std::fs::read(&out_path).unwrap();
    assert_eq!(dump.len(), 64);
    let (jwt_secret, pepper) = dump.split_at(32);
    for secret in [jwt_secret, pepper] {
        for encoded in encodings(secret) {
            assert!(
                !stderr.contains(&encoded),
                "a secret reached stderr: {stderr}"
            );
            assert!(
                !stdout.contains(&encoded),
                "a secret reached stdout: {stdout}"
            );
        }
    }
}

#[test]
fn from_env_is_silent_when_secrets_are_configured() {
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(exe)
        .args([
            "child_reads_config_from_env",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path().join("secrets.bin"))
        .env("JWT_SECRET", JWT_SECRET)
        .env("CLAB_KEYS_PEPPER", PEPPER_B64)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("notice:"), "{stderr}");
    assert!(!stderr.contains(JWT_SECRET) && !stderr.contains(PEPPER_B64));
}

const CHILD_EXIT_ENV: &str = "CLAB_KEYS_EXAMPLE_CONFIG_EXIT_CHILD";

/// Runs in a child process: `from_env_or_exit` with whatever the parent set.
#[test]
fn child_reads_config_or_exits() {
    if std::env::var_os(CHILD_EXIT_ENV).is_none() {
        return;
    }
    let _config = Config::from_env_or_exit("127.0.0.1:3000");
}

#[test]
fn an_invalid_value_exits_non_zero_with_a_clear_message() {
    let exe = std::env::current_exe().unwrap();
    let secret_looking = "not-base64-but-secret-looking!!";
    let output = Command::new(exe)
        .args([
            "child_reads_config_or_exits",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_EXIT_ENV, "1")
        .env("CLAB_KEYS_PEPPER", secret_looking)
        .env("JWT_SECRET", JWT_SECRET)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: invalid configuration: CLAB_KEYS_PEPPER must be standard base64"),
        "{stderr}"
    );
    assert!(!stderr.contains(secret_looking), "{stderr}");
    assert!(!stderr.contains(JWT_SECRET), "{stderr}");
}

#[test]
fn verification_cache_is_on_by_default() {
    let default = Config::from_lookup("127.0.0.1:3000", lookup(&[])).unwrap();
    assert_eq!(default.cache_ttl_secs(), DEFAULT_CACHE_TTL_SECS);
    assert_eq!(DEFAULT_CACHE_TTL_SECS, 60);
    assert_eq!(
        default.key_config().cache.map(|c| c.ttl),
        Some(time::Duration::seconds(60))
    );
    let off = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[("CLAB_KEYS_CACHE_TTL_SECS", "0")]),
    )
    .unwrap();
    assert_eq!(off.cache_ttl_secs(), 0);
    assert!(off.key_config().cache.is_none());
    let longest = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[("CLAB_KEYS_CACHE_TTL_SECS", "300")]),
    )
    .unwrap();
    assert_eq!(
        longest.key_config().cache.map(|c| c.ttl),
        Some(time::Duration::seconds(300))
    );
    for bad in ["-1", "abc", "301", "1.5"] {
        let err = Config::from_lookup(
            "127.0.0.1:3000",
            lookup(&[("CLAB_KEYS_CACHE_TTL_SECS", bad)]),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidCacheTtl), "{bad}: {err}");
        assert!(
            err.to_string().contains("CLAB_KEYS_CACHE_TTL_SECS"),
            "{err}"
        );
    }
}

#[test]
fn the_feed_follows_the_database() {
    let table = [
        (DEFAULT_DATABASE_URL, FeedKind::ChangeLog),
        ("sqlite://elsewhere.sqlite?mode=rwc", FeedKind::ChangeLog),
        ("mysql://root@db/app", FeedKind::ChangeLog),
        ("postgres://app:pw@db/app", FeedKind::Postgres),
        ("postgresql://app:pw@db/app", FeedKind::Postgres),
    ];
    for (url, feed) in table {
        let config =
            Config::from_lookup("127.0.0.1:3000", lookup(&[("DATABASE_URL", url)])).unwrap();
        assert_eq!(config.invalidation_feed(), feed, "{url}");
        assert!(config.redis_url().is_none());
    }
}

#[test]
fn a_redis_url_chooses_redis_whatever_the_database() {
    for url in [
        DEFAULT_DATABASE_URL,
        "postgres://app:pw@db/app",
        "mysql://db/app",
    ] {
        let config = Config::from_lookup(
            "127.0.0.1:3000",
            lookup(&[
                ("DATABASE_URL", url),
                ("CLAB_KEYS_REDIS_URL", "redis://:hunter2@cache:6379/0"),
            ]),
        )
        .unwrap();
        assert_eq!(config.invalidation_feed(), FeedKind::Redis, "{url}");
        assert_eq!(config.redis_url(), Some("redis://:hunter2@cache:6379/0"));
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!config.cache_summary().contains("hunter2"));
    }
}

#[test]
fn the_feed_can_be_forced() {
    let forced = |feed: &str, extra: &[(&str, &str)]| {
        let mut vars = vec![("CLAB_KEYS_INVALIDATION_FEED", feed)];
        vars.extend_from_slice(extra);
        Config::from_lookup("127.0.0.1:3000", lookup(&vars))
    };
    let pg = [("DATABASE_URL", "postgres://app:pw@db/app")];
    assert_eq!(
        forced("postgres", &pg).unwrap().invalidation_feed(),
        FeedKind::Postgres
    );
    assert_eq!(
        forced("changelog", &pg).unwrap().invalidation_feed(),
        FeedKind::ChangeLog
    );
    assert_eq!(
        forced(
            " redis ",
            &[("CLAB_KEYS_REDIS_URL", "redis://127.0.0.1:6379")]
        )
        .unwrap()
        .invalidation_feed(),
        FeedKind::Redis
    );
    let none = forced("none", &[("CLAB_KEYS_CACHE_TTL_SECS", "5")]).unwrap();
    assert_eq!(none.invalidation_feed(), FeedKind::None);
    assert_eq!(none.cache_ttl_secs(), 5);
    let none_off = forced("none", &[("CLAB_KEYS_CACHE_TTL_SECS", "0")]).unwrap();
    assert_eq!(none_off.invalidation_feed(), FeedKind::None);
}

/// Every refusal names the variables involved, and never echoes a URL (which may hold a
/// password).
#[test]
fn contradictory_feed_settings_are_refused_with_the_variables_named() {
    // (the variables set, the words the refusal must contain)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case<'_>; 7] = [
        (
            &[("CLAB_KEYS_INVALIDATION_FEED", "memcached")],
            &[
                "CLAB_KEYS_INVALIDATION_FEED",
                "postgres, changelog, redis or none",
            ],
        ),
        (
            &[("CLAB_KEYS_INVALIDATION_FEED", "postgres")],
            &[
                "CLAB_KEYS_INVALIDATION_FEED=postgres",
                "DATABASE_URL",
                "sqlite",
            ],
        ),
        (
            &[
                ("CLAB_KEYS_INVALIDATION_FEED", "postgres"),
                ("DATABASE_URL", "mysql://root:pw@db/app"),
            ],
            &["DATABASE_URL", "mysql"],
        ),
        (
            &[("CLAB_KEYS_INVALIDATION_FEED", "redis")],
            &["CLAB_KEYS_INVALIDATION_FEED=redis", "CLAB_KEYS_REDIS_URL"],
        ),
        (
            &[
                ("CLAB_KEYS_INVALIDATION_FEED", "changelog"),
                ("CLAB_KEYS_REDIS_URL", "redis://:pw@cache"),
            ],
            &[
                "CLAB_KEYS_REDIS_URL",
                "CLAB_KEYS_INVALIDATION_FEED=changelog",
            ],
        ),
        (
            &[("CLAB_KEYS_REDIS_URL", "http://:pw@cache")],
            &["CLAB_KEYS_REDIS_URL", "redis://"],
        ),
        (
            &[("CLAB_KEYS_INVALIDATION_FEED", "none")],
            &[
                "CLAB_KEYS_INVALIDATION_FEED=none",
                "CLAB_KEYS_CACHE_TTL_SECS",
                "at most 5",
                "60",
            ],
        ),
    ];
    for (vars, words) in cases {
        let err = Config::from_lookup("127.0.0.1:3000", lookup(vars)).unwrap_err();
        let message = err.to_string();
        for word in words {
            assert!(message.contains(word), "{vars:?}: {message}");
        }
        assert!(!message.contains(":pw@"), "{vars:?}: {message}");
    }
    let err = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[
            ("CLAB_KEYS_INVALIDATION_FEED", "none"),
            ("CLAB_KEYS_CACHE_TTL_SECS", "6"),
        ]),
    )
    .unwrap_err();
    assert!(
        matches!(err, ConfigError::CacheTooLongWithoutFeed(6)),
        "{err}"
    );
    let err = Config::from_lookup(
        "127.0.0.1:3000",
        lookup(&[("CLAB_KEYS_INVALIDATION_FEED", "")]),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Empty("CLAB_KEYS_INVALIDATION_FEED")
    ));
}

#[test]
fn the_start_up_summary_names_the_ttl_and_the_feed() {
    let summary = |vars: &[(&str, &str)]| {
        Config::from_lookup("127.0.0.1:3000", lookup(vars))
            .unwrap()
            .cache_summary()
    };
    let sqlite = summary(&[]);
    assert!(sqlite.contains("entries kept up to 60 s"), "{sqlite}");
    assert!(sqlite.contains("change-log table"), "{sqlite}");
    let pg = summary(&[("DATABASE_URL", "postgres://app:secret-pw@db/app")]);
    assert!(pg.contains("PostgreSQL LISTEN/NOTIFY"), "{pg}");
    assert!(
        !pg.contains("secret-pw") && !pg.contains("postgres://"),
        "{pg}"
    );
    let redis = summary(&[("CLAB_KEYS_REDIS_URL", "redis://:secret-pw@cache")]);
    assert!(redis.contains("Redis pub/sub"), "{redis}");
    assert!(!redis.contains("secret-pw"), "{redis}");
    let off = summary(&[("CLAB_KEYS_CACHE_TTL_SECS", "0")]);
    assert!(off.contains("verification cache: off"), "{off}");
    assert!(off.contains("announced"), "{off}");
    let none = summary(&[
        ("CLAB_KEYS_INVALIDATION_FEED", "none"),
        ("CLAB_KEYS_CACHE_TTL_SECS", "3"),
    ]);
    assert!(none.contains("accepted here for up to 3 s"), "{none}");
}

#[test]
fn demo_users_are_seeded_only_into_the_default_sqlite_file_unless_asked() {
    let default = Config::from_lookup("127.0.0.1:3000", lookup(&[])).unwrap();
    assert!(default.seeds_demo_users());
    let given = lookup(&[("DATABASE_URL", "postgres://app:pw@db/app")]);
    assert!(
        !Config::from_lookup("127.0.0.1:3000", given)
            .unwrap()
            .seeds_demo_users()
    );
    let asked = lookup(&[
        ("DATABASE_URL", "postgres://app:pw@db/app"),
        ("SEED_DEMO_USERS", "1"),
    ]);
    assert!(
        Config::from_lookup("127.0.0.1:3000", asked)
            .unwrap()
            .seeds_demo_users()
    );
    let refused = lookup(&[("SEED_DEMO_USERS", "0")]);
    assert!(
        !Config::from_lookup("127.0.0.1:3000", refused)
            .unwrap()
            .seeds_demo_users()
    );
    let err =
        Config::from_lookup("127.0.0.1:3000", lookup(&[("SEED_DEMO_USERS", "yes")])).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidSeedDemoUsers));
    assert!(err.to_string().contains("SEED_DEMO_USERS"));
}
