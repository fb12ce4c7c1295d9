//! Exit codes and messages of the binary that need no database server: usage (2),
//! configuration (3), an unreachable database (4), and `--help` for every command.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{PEPPER, run};

const COMMANDS: [&str; 7] = [
    "list",
    "revoke",
    "revoke-user",
    "check",
    "prune",
    "peppers",
    "migrate",
];

#[test]
fn every_command_has_help() {
    let r = run(&[], &["--help"], "");
    assert_eq!(r.code, 0, "{r:?}");
    for command in COMMANDS {
        assert!(r.stdout.contains(command), "top-level help lacks {command}");
        let r = run(&[], &[command, "--help"], "");
        assert_eq!(r.code, 0, "{command}: {r:?}");
        assert!(r.stdout.contains("Exit codes:"), "{command}: {r:?}");
        assert!(r.stdout.contains("--json"), "{command}: {r:?}");
    }
    let r = run(&[], &["--version"], "");
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["list"],
        &["revoke"],
        &["revoke", "AAAAAAAA", "--reason", "because"],
        &["prune"],
        &["prune", "--older-than", "30"],
        &[
            "check",
            "clab_user_AAAAAAAAQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ123456",
        ],
        &["peppers", "--pepper", "x"],
    ] {
        let r = run(&[("DATABASE_URL", "sqlite::memory:")], args, "");
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
    }
}

#[test]
fn a_missing_or_invalid_database_url_exits_with_3() {
    let r = run(&[], &["list", "--user", "1"], "");
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("DATABASE_URL is not set"), "{r:?}");
    let r = run(&[], &["list", "--user", "1", "--json"], "");
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.error_json()["error"], "configuration");
    let r = run(&[("DATABASE_URL", "")], &["migrate"], "");
    assert_eq!(r.code, 3, "{r:?}");
    // The URL (which may hold a password) is not repeated.
    let r = run(
        &[("DATABASE_URL", "oracle://scott:tiger@db/x")],
        &["migrate"],
        "",
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert!(!r.stderr.contains("tiger"), "{r:?}");
}

#[test]
fn an_invalid_pepper_or_feed_exits_with_3() {
    let db = ("DATABASE_URL", "sqlite::memory:");
    let r = run(&[db, ("CLAB_KEYS_PEPPER", "too-short")], &["peppers"], "");
    assert_eq!(r.code, 3, "{r:?}");
    assert!(!r.stderr.contains("too-short"), "{r:?}");
    let r = run(&[db], &["peppers"], "");
    assert_eq!(r.code, 3, "{r:?}");
    let r = run(
        &[db, ("CLAB_KEYS_INVALIDATION_FEED", "postgres")],
        &["revoke", "AAAAAAAA"],
        "",
    );
    assert_eq!(r.code, 3, "{r:?}");
    let r = run(
        &[db, ("CLAB_KEYS_INVALIDATION_FEED", "carrier-pigeon")],
        &["revoke-user", "1"],
        "",
    );
    assert_eq!(r.code, 3, "{r:?}");
    let r = run(
        &[db, ("CLAB_KEYS_REDIS_URL", "http://127.0.0.1:6379")],
        &["revoke-user", "1"],
        "",
    );
    assert_eq!(r.code, 3, "{r:?}");
    let _ = PEPPER;
}

#[test]
fn an_unreachable_database_exits_with_4() {
    // Nothing listens on port 1; and a SQLite file in a directory that does not exist.
    for url in [
        "postgres://nobody:secret-password@127.0.0.1:1/x",
        "sqlite:///nonexistent-dir/clab-keys.db",
    ] {
        let r = run(
            &[("DATABASE_URL", url)],
            &["list", "--user", "1", "--json"],
            "",
        );
        assert_eq!(r.code, 4, "{url}: {r:?}");
        assert_eq!(r.error_json()["error"], "database");
        assert!(!r.stderr.contains("secret-password"), "{r:?}");
    }
}
