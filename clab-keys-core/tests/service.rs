//! Key service rules (contract §3–§4) that are not store-specific: validation, the parse-before-store
//! pipeline, fail-closed behaviour, secrets that redact themselves.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::Ordering;

use clab_keys_core::{
    AuthError, CreateError, CredentialRouter, InvalidReason, KeyHasher, KeyService,
    KeyServiceConfig, KeyStore, MemoryStore, NewKey, Pepper, UserId,
};
use clab_keys_testing::conformance::forge_secret;
use clab_keys_testing::{FailingStore, ManualClock, RecordingStore};
use time::Duration;

fn user() -> UserId {
    UserId::from(1_i64)
}

fn service(store: Arc<dyn KeyStore>, clock: &ManualClock) -> KeyService {
    KeyService::builder_shared(store, clab_keys_core::dangerous::sha256_hasher())
        .clock(clock.clone())
        .config(KeyServiceConfig::default())
        .build()
        .unwrap()
}

#[tokio::test]
async fn malformed_tokens_never_reach_the_store() {
    let recording = RecordingStore::new(Arc::new(MemoryStore::new()));
    let counts = recording.counts();
    let svc = service(Arc::new(recording), &ManualClock::fixed());
    let good = svc.create(&user(), NewKey::new("k")).await.unwrap();
    let t = good.token.expose_secret().to_owned();
    let before = counts.total();
    let mut bad_checksum = t.clone().into_bytes();
    let last = bad_checksum.len() - 1;
    bad_checksum[last] = if bad_checksum[last] == b'a' {
        b'b'
    } else {
        b'a'
    };
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"clab_user_".to_vec(),
        t.as_bytes()[..t.len() - 1].to_vec(),
        format!("{t}A").into_bytes(),
        bad_checksum,
        t.replace("clab_user_", "clab_agent_").into_bytes(),
        vec![0xff; 56],
        vec![b'A'; 1 << 20],
    ];
    for input in &inputs {
        assert!(matches!(
            svc.authenticate(input).await,
            Err(AuthError::Malformed(_))
        ));
    }
    assert_eq!(counts.total(), before, "no store call for malformed tokens");
    // A well-formed token makes exactly one lookup.
    svc.authenticate(forge_secret(&t).as_bytes())
        .await
        .unwrap_err();
    assert_eq!(counts.find.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unknown_id_and_wrong_secret_look_the_same_outside() {
    let svc = service(Arc::new(MemoryStore::new()), &ManualClock::fixed());
    let t = svc
        .create(&user(), NewKey::new("k"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    let wrong = svc
        .authenticate(forge_secret(&t).as_bytes())
        .await
        .unwrap_err();
    let unknown_token = clab_keys_testing::http_table::unknown_key();
    let unknown = svc
        .authenticate(unknown_token.as_bytes())
        .await
        .unwrap_err();
    assert!(matches!(wrong, AuthError::Invalid(InvalidReason::Mismatch)));
    assert!(matches!(
        unknown,
        AuthError::Invalid(InvalidReason::Unknown)
    ));
    assert_eq!(wrong.to_string(), unknown.to_string());
}

#[tokio::test]
async fn names_are_trimmed_and_validated() {
    let svc = service(Arc::new(MemoryStore::new()), &ManualClock::fixed());
    for bad in ["", "   ", "a\u{7}b", "line\nbreak", &"x".repeat(101)] {
        assert!(
            matches!(
                svc.create(&user(), NewKey::new(bad)).await,
                Err(CreateError::InvalidName)
            ),
            "{bad:?}"
        );
    }
    let ok = svc
        .create(&user(), NewKey::new(format!("  {}  ", "é".repeat(100))))
        .await
        .unwrap();
    assert_eq!(ok.key.name.chars().count(), 100);
    assert!(
        svc.list(&user()).await.unwrap().len() == 1,
        "bad input stored nothing"
    );
}

#[tokio::test]
async fn expiry_must_be_future_and_within_the_maximum() {
    let clock = ManualClock::fixed();
    let svc = KeyService::builder(
        MemoryStore::new(),
        clab_keys_core::dangerous::sha256_hasher(),
    )
    .clock(clock.clone())
    .config(KeyServiceConfig::default().max_lifetime(Some(Duration::days(90))))
    .build()
    .unwrap();
    use clab_keys_core::Clock as _;
    let now = clock.now();
    for new in [
        NewKey::new("past").expires_at(now - Duration::seconds(1)),
        NewKey::new("now").expires_at(now),
        NewKey::new("too long").expires_in(Duration::days(91)),
        NewKey::new("both")
            .expires_at(now + Duration::days(1))
            .expires_in(Duration::days(1)),
        NewKey::new("negative").expires_in(Duration::days(-1)),
    ] {
        let name = new.name.clone();
        assert!(
            matches!(
                svc.create(&user(), new).await,
                Err(CreateError::InvalidExpiry)
            ),
            "{name}"
        );
    }
    let max = svc
        .create(&user(), NewKey::new("max").expires_in(Duration::days(90)))
        .await
        .unwrap();
    assert_eq!(max.key.expires_at, Some(now + Duration::days(90)));
    let default = svc.create(&user(), NewKey::new("default")).await.unwrap();
    assert_eq!(
        default.key.expires_at,
        Some(now + Duration::days(90)),
        "max lifetime applies by default"
    );
}

#[tokio::test]
async fn scopes_are_validated() {
    let svc = service(Arc::new(MemoryStore::new()), &ManualClock::fixed());
    for bad in [
        vec!["has space"],
        vec![""],
        vec!["quote\""],
        vec!["ok", "bad/slash"],
    ] {
        let r = svc
            .create(&user(), NewKey::new("k").scopes(bad.clone()))
            .await;
        assert!(matches!(r, Err(CreateError::InvalidScopes)), "{bad:?}");
    }
    let ok = svc
        .create(&user(), NewKey::new("k").scopes(["a:b", "a:b", "c.d-e_f"]))
        .await
        .unwrap();
    assert_eq!(ok.key.scopes.to_string(), "a:b c.d-e_f");
    let many: Vec<String> = (0..33).map(|i| format!("s{i}")).collect();
    assert!(matches!(
        svc.create(&user(), NewKey::new("k").scopes(many)).await,
        Err(CreateError::InvalidScopes)
    ));
}

#[tokio::test]
async fn store_failure_fails_closed_with_503() {
    let failing = FailingStore::new(Arc::new(MemoryStore::new()));
    let svc = service(Arc::new(failing.clone()), &ManualClock::fixed());
    let t = svc
        .create(&user(), NewKey::new("k"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    failing.set_failing(true);
    assert!(matches!(
        svc.authenticate(t.as_bytes()).await,
        Err(AuthError::Unavailable(_))
    ));
    let router = CredentialRouter::new(svc.clone());
    let header = format!("Bearer {t}");
    let rejection = router.authenticate([header.as_bytes()]).await.unwrap_err();
    assert_eq!(rejection.status(), 503);
    assert_eq!(rejection.www_authenticate(), None);
    failing.set_failing(false);
    assert!(
        router.authenticate([header.as_bytes()]).await.is_ok(),
        "recovers when the store returns"
    );
}

#[tokio::test]
async fn failing_last_used_write_never_changes_the_result() {
    let failing = FailingStore::new(Arc::new(MemoryStore::new())).writes_only();
    let svc = service(Arc::new(failing.clone()), &ManualClock::fixed());
    let t = svc
        .create(&user(), NewKey::new("k"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    failing.set_failing(true);
    assert!(svc.authenticate(t.as_bytes()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_writes_finish_before_flush_returns() {
    let store = MemoryStore::new();
    let svc = KeyService::builder(store.clone(), clab_keys_core::dangerous::sha256_hasher())
        .build()
        .unwrap();
    let created = svc.create(&user(), NewKey::new("k")).await.unwrap();
    svc.authenticate(created.token.expose_secret().as_bytes())
        .await
        .unwrap();
    svc.flush().await;
    let listed = svc.list(&user()).await.unwrap();
    assert!(
        listed[0].last_used_at.is_some(),
        "last_used_at written by the background task"
    );
}

#[tokio::test]
async fn secrets_redact_themselves() {
    let pepper = Pepper::from_bytes(&[0x61; 32]).unwrap();
    assert_eq!(format!("{pepper:?}"), "Pepper([REDACTED])");
    let hasher = KeyHasher::hmac(3, pepper).unwrap();
    assert!(!format!("{hasher:?}").contains("aaaa"));
    let svc = KeyService::builder(MemoryStore::new(), hasher)
        .build()
        .unwrap();
    let created = svc.create(&user(), NewKey::new("k")).await.unwrap();
    let token = created.token.expose_secret().to_owned();
    let secret = &token[18..50];
    for text in [
        format!("{created:?}"),
        format!("{:?}", created.token),
        format!("{:?}", svc.formats().parse(token.as_bytes()).unwrap()),
        format!("{:?}", svc.authenticate(token.as_bytes()).await.unwrap()),
        format!(
            "{:?}",
            svc.authenticate(forge_secret(&token).as_bytes())
                .await
                .unwrap_err()
        ),
        svc.authenticate(forge_secret(&token).as_bytes())
            .await
            .unwrap_err()
            .to_string(),
    ] {
        assert!(!text.contains(secret), "secret leaked in {text}");
    }
    let stored = clab_keys_core::dangerous::sha256_hasher().hash(token.as_bytes());
    assert_eq!(format!("{:?}", stored.digest), "KeyDigest([REDACTED])");
}

#[test]
fn peppers_are_validated() {
    use clab_keys_core::ConfigError;
    assert_eq!(
        Pepper::from_base64("not base64!").unwrap_err(),
        ConfigError::PepperEncoding
    );
    assert_eq!(
        Pepper::from_base64(&"QUFB".repeat(10)).unwrap_err(),
        ConfigError::PepperTooShort
    );
    assert!(Pepper::from_base64(&"QUFB".repeat(11)).is_ok());
    assert_eq!(
        KeyHasher::hmac(0, Pepper::from_bytes(&[1; 32]).unwrap()).unwrap_err(),
        ConfigError::PepperVersion
    );
    let h = KeyHasher::hmac(1, Pepper::from_bytes(&[1; 32]).unwrap()).unwrap();
    assert_eq!(
        h.with_previous(1, Pepper::from_bytes(&[2; 32]).unwrap())
            .unwrap_err(),
        ConfigError::PepperVersion
    );
}

#[tokio::test]
async fn unpeppered_sha256_rows_verify_only_when_accepted() {
    // An existing SHA-256 table (the migration path) keeps working once accepted, and the
    // hash is upgraded to the pepper on use.
    let store = MemoryStore::new();
    let clock = ManualClock::fixed();
    let legacy = service(Arc::new(store.clone()), &clock);
    let t = legacy
        .create(&user(), NewKey::new("old"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    let pepper = || Pepper::from_bytes(&[9; 32]).unwrap();
    let strict = KeyService::builder(store.clone(), KeyHasher::hmac(1, pepper()).unwrap())
        .build()
        .unwrap();
    assert!(matches!(
        strict.authenticate(t.as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::UnknownHashVersion))
    ));
    let migrating = KeyService::builder(
        store.clone(),
        clab_keys_core::dangerous::accept_unpeppered_sha256(KeyHasher::hmac(1, pepper()).unwrap()),
    )
    .config(KeyServiceConfig::default())
    .build()
    .unwrap();
    migrating.authenticate(t.as_bytes()).await.unwrap();
    migrating.flush().await;
    assert!(
        strict.authenticate(t.as_bytes()).await.is_ok(),
        "re-hashed with the pepper"
    );
}

#[tokio::test]
async fn cache_hits_skip_the_store_and_revocation_evicts() {
    use clab_keys_core::CacheConfig;
    let recording = RecordingStore::new(Arc::new(MemoryStore::new()));
    let counts = recording.counts();
    let clock = ManualClock::fixed();
    let svc = KeyService::builder(recording, clab_keys_core::dangerous::sha256_hasher())
        .clock(clock.clone())
        .config(KeyServiceConfig::default().cache(Some(CacheConfig::default())))
        .build()
        .unwrap();
    let created = svc
        .create(&user(), NewKey::new("k").expires_in(Duration::minutes(1)))
        .await
        .unwrap();
    let t = created.token.expose_secret().to_owned();
    for _ in 0..10 {
        svc.authenticate(t.as_bytes()).await.unwrap();
    }
    assert_eq!(
        counts.find.load(Ordering::SeqCst),
        1,
        "nine hits served from the cache"
    );
    // Wrong secrets are not cached and always reach the store.
    for _ in 0..3 {
        svc.authenticate(forge_secret(&t).as_bytes())
            .await
            .unwrap_err();
    }
    assert_eq!(counts.find.load(Ordering::SeqCst), 4);
    // Expiry is re-checked on a hit.
    clock.advance(Duration::seconds(4));
    svc.authenticate(t.as_bytes()).await.unwrap();
    clock.advance(Duration::seconds(57));
    assert!(matches!(
        svc.authenticate(t.as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::Expired))
    ));
    // Revocation in this process takes effect on the next request.
    let other = svc
        .create(&user(), NewKey::new("r"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    svc.authenticate(other.as_bytes()).await.unwrap();
    svc.revoke(&user(), &other[10..18]).await.unwrap();
    assert!(matches!(
        svc.authenticate(other.as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::Revoked))
    ));
}

#[tokio::test]
async fn cache_entries_expire_after_the_ttl() {
    use clab_keys_core::CacheConfig;
    let store = MemoryStore::new();
    let clock = ManualClock::fixed();
    let cached = KeyService::builder(store.clone(), clab_keys_core::dangerous::sha256_hasher())
        .clock(clock.clone())
        .config(
            KeyServiceConfig::default()
                .cache(Some(CacheConfig::default().ttl(Duration::seconds(5)))),
        )
        .build()
        .unwrap();
    let other_node = service(Arc::new(store.clone()), &clock);
    let t = cached
        .create(&user(), NewKey::new("k"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    cached.authenticate(t.as_bytes()).await.unwrap();
    other_node.revoke(&user(), &t[10..18]).await.unwrap();
    // Another node's revocation is seen once the entry is older than the TTL.
    assert!(
        cached.authenticate(t.as_bytes()).await.is_ok(),
        "within the documented window"
    );
    clock.advance(Duration::seconds(5));
    assert!(
        cached.authenticate(t.as_bytes()).await.is_err(),
        "after the TTL"
    );
}

#[test]
fn flush_does_not_wait_for_tasks_whose_runtime_stopped() {
    // A background write spawned on a runtime that is then shut down (as actix-web does with
    // each worker's runtime) must not make `flush` wait for ever.
    let blocked = FailingStore::new(Arc::new(MemoryStore::new()));
    let svc = KeyService::builder(blocked.clone(), clab_keys_core::dangerous::sha256_hasher())
        .build()
        .unwrap();
    let worker = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = worker.block_on(async {
        let t = svc
            .create(&user(), NewKey::new("k"))
            .await
            .unwrap()
            .token
            .expose_secret()
            .to_owned();
        svc.authenticate(t.as_bytes()).await.unwrap();
        t
    });
    assert!(!token.is_empty());
    drop(worker); // the spawned last_used_at write never runs
    let main = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    main.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(5), svc.flush())
            .await
            .expect("flush returned");
    });
}

#[tokio::test]
async fn cache_hits_record_use_once_per_window() {
    use clab_keys_core::{CacheConfig, LocalFeed};
    let recording = RecordingStore::new(Arc::new(MemoryStore::new()));
    let counts = recording.counts();
    let clock = ManualClock::fixed();
    let svc = KeyService::builder(recording, clab_keys_core::dangerous::sha256_hasher())
        .clock(clock.clone())
        .config(
            KeyServiceConfig::default()
                .last_used_window(Duration::seconds(60))
                .cache(Some(CacheConfig::default().ttl(Duration::minutes(5)))),
        )
        .invalidation_feed(Arc::new(LocalFeed::new()))
        .build()
        .unwrap();
    let t = svc
        .create(&user(), NewKey::new("k"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    // The first verification reads the row (never used) and records the use.
    svc.authenticate(t.as_bytes()).await.unwrap();
    svc.flush().await;
    assert_eq!(counts.touch.load(Ordering::SeqCst), 1);
    // Hits within the window record nothing; at the window's edge still nothing.
    for _ in 0..6 {
        clock.advance(Duration::seconds(10));
        svc.authenticate(t.as_bytes()).await.unwrap();
    }
    svc.flush().await;
    assert_eq!(counts.touch.load(Ordering::SeqCst), 1);
    assert_eq!(
        counts.find.load(Ordering::SeqCst),
        1,
        "all served from the cache"
    );
    // Past it, one hit records the use, the next ones do not.
    clock.advance(Duration::seconds(1));
    for _ in 0..3 {
        svc.authenticate(t.as_bytes()).await.unwrap();
    }
    svc.flush().await;
    assert_eq!(counts.touch.load(Ordering::SeqCst), 2);
    let listed = svc.list(&user()).await.unwrap();
    assert_eq!(
        listed[0].last_used_at,
        Some(clab_keys_core::Clock::now(&clock))
    );
}
