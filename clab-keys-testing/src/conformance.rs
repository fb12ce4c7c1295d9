//! The store conformance suite: every rule of contract §4 that a [`KeyStore`] takes part in.
//!
//! Run it against a store with [`store_conformance_tests!`](crate::store_conformance_tests),
//! giving an async factory that returns a fresh, empty store, or `None` to skip (for example
//! when a database URL is not configured):
//!
//! ```no_run
//! use std::sync::Arc;
//! # extern crate clab_keys_core as clab_keys;
//! use clab_keys::{KeyStore, MemoryStore};
//!
//! clab_keys_testing::store_conformance_tests!(|| async {
//!     Some(Arc::new(MemoryStore::new()) as Arc<dyn KeyStore>)
//! });
//! # fn main() {}
//! ```
//!
//! Each case is also a public async function taking the store, so a harness can call them
//! itself. A case panics (with a message naming the rule) when the store breaks it.

mod paging;
mod rotation;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use time::{Duration, OffsetDateTime};

use super::{ManualClock, RecordingStore};
use clab_keys_core::KeyId;
use clab_keys_core::Pepper;
use clab_keys_core::Scopes;
use clab_keys_core::UserId;
use clab_keys_core::{
    AuthError, CreateError, InvalidReason, KeyService, KeyServiceConfig, NewKey, VerifiedKey,
};
use clab_keys_core::{HashVersion, KeyDigest, KeyHasher, StoredHash};
use clab_keys_core::{InsertOutcome, KeyRecord, KeyStore, RevocationReason, RevokeOutcome};

pub use paging::{
    expiring_keys_are_reported_once_across_instances, list_pages_walk_every_key_once_with_ties,
};
pub use rotation::{
    concurrent_grace_rotations_never_pass_the_limit,
    concurrent_rotations_of_one_key_make_exactly_one_new_key, concurrent_updates_never_widen_a_key,
    grace_rotations_stop_at_the_limit_of_keys_in_grace,
    rotation_at_the_limit_succeeds_and_the_key_in_grace_does_not_count,
    rotation_racing_a_narrowing_never_widens,
    rotation_racing_a_revocation_never_replaces_a_revoked_key,
    rotation_with_grace_keeps_the_old_key_until_then,
    rotation_without_grace_never_fails_for_a_limit, rotation_without_grace_revokes_the_old_key,
    update_only_narrows_and_refusals_change_nothing,
};

/// Generates one `#[test]` per conformance case for a store factory.
///
/// The factory is an expression that can be called with no arguments and returns a future of
/// `Option<Arc<dyn KeyStore>>`: a fresh, empty store, or `None` to skip (the test then prints
/// that it was skipped and why it could not run).
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::__conformance_cases!(
            $make;
            created_key_round_trips,
            unknown_key_id_is_not_found,
            duplicate_key_id_is_reported,
            key_id_collision_is_retried,
            limit_counts_only_active_keys,
            concurrent_creates_respect_limit,
            concurrent_inserts_respect_limit_at_the_store,
            list_is_newest_first_and_per_user,
            revoke_is_soft_and_idempotent,
            revoking_another_users_key_is_not_found,
            authenticate_checks_secret_revocation_and_expiry,
            touch_is_conditional,
            concurrent_touches_write_once,
            debounce_holds_across_instances,
            replace_hash_is_conditional,
            pepper_rotation_rehashes_on_use,
            all_user_id_kinds_are_served,
            lifecycle_fields_round_trip,
            revoke_records_the_first_reason,
            revoke_all_revokes_every_unrevoked_key_once,
            concurrent_revoke_all_creates_and_revokes_report_each_key_once,
            prune_deletes_only_rows_revoked_or_expired_before_the_cutoff,
            hash_version_counts_count_active_keys_per_version,
            rotation_without_grace_revokes_the_old_key,
            rotation_with_grace_keeps_the_old_key_until_then,
            rotation_at_the_limit_succeeds_and_the_key_in_grace_does_not_count,
            concurrent_rotations_of_one_key_make_exactly_one_new_key,
            rotation_racing_a_revocation_never_replaces_a_revoked_key,
            grace_rotations_stop_at_the_limit_of_keys_in_grace,
            rotation_without_grace_never_fails_for_a_limit,
            concurrent_grace_rotations_never_pass_the_limit,
            rotation_racing_a_narrowing_never_widens,
            update_only_narrows_and_refusals_change_nothing,
            concurrent_updates_never_widen_a_key,
            list_pages_walk_every_key_once_with_ties,
            expiring_keys_are_reported_once_across_instances,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::__private::runtime().block_on(async {
                    let make = $make;
                    match make().await {
                        Some(store) => $crate::conformance::$case(store).await,
                        None => eprintln!(
                            "skipped: {} (no store configured for this backend)",
                            stringify!($case)
                        ),
                    }
                });
            }
        )+
    };
}

/// The hasher of the suite's services: HMAC-SHA256 with a fixed test pepper (version 1), as a
/// production service hashes.
fn test_hasher() -> KeyHasher {
    let pepper = ok(Pepper::from_bytes(&[0x5c; 32]), "pepper");
    ok(KeyHasher::hmac(1, pepper), "hasher")
}

fn service(store: Arc<dyn KeyStore>, clock: &ManualClock) -> KeyService {
    service_with(store, clock, test_hasher())
}

fn service_with(store: Arc<dyn KeyStore>, clock: &ManualClock, hasher: KeyHasher) -> KeyService {
    match KeyService::builder_shared(store, hasher)
        .clock(clock.clone())
        .build()
    {
        Ok(s) => s,
        Err(e) => panic!("building the service failed: {e}"),
    }
}

/// A suite service with its own limits.
fn limited(store: Arc<dyn KeyStore>, clock: &ManualClock, config: KeyServiceConfig) -> KeyService {
    match KeyService::builder_shared(store, test_hasher())
        .clock(clock.clone())
        .config(config)
        .build()
    {
        Ok(s) => s,
        Err(e) => panic!("building the service failed: {e}"),
    }
}

/// Authenticates, then waits for the writes it caused (`last_used_at`, re-hash) so that a case
/// can count them.
async fn authenticate(svc: &KeyService, token: &[u8]) -> Result<VerifiedKey, AuthError> {
    let result = svc.authenticate(token).await;
    svc.flush().await;
    result
}

fn user(n: i64) -> UserId {
    UserId::from(n)
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what} failed: {e}"),
    }
}

fn record(key_id: &str, user_id: &UserId, created_at: OffsetDateTime) -> KeyRecord {
    KeyRecord::new(
        ok(KeyId::parse(key_id), "key id"),
        "clab_user_",
        user_id.clone(),
        "record",
        StoredHash {
            version: HashVersion::SHA256,
            digest: KeyDigest::from_bytes([1; 32]),
        },
        Scopes::default(),
        created_at,
    )
}

async fn active_count(store: &dyn KeyStore, user: &UserId, now: OffsetDateTime) -> usize {
    ok(store.list(user).await, "list")
        .iter()
        .filter(|k| k.is_active(now))
        .count()
}

/// Every field written at creation reads back equal (timestamps to the microsecond, in UTC).
pub async fn created_key_round_trips(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::new(time::macros::datetime!(2026-03-04 05:06:07.123456 UTC));
    let svc = service(store.clone(), &clock);
    let u = UserId::new("user-ü-1").unwrap_or_else(|_| user(1));
    let created = ok(
        svc.create(
            &u,
            NewKey::new("  CI runner  ")
                .expires_in(Duration::days(30))
                .scopes(["projects:read", "runs:write"]),
        )
        .await,
        "create",
    );
    let stored = ok(store.find(&created.key.key_id).await, "find")
        .unwrap_or_else(|| panic!("created key must be found by its id"));
    assert_eq!(stored.key_id, created.key.key_id);
    assert_eq!(stored.prefix, "clab_user_");
    assert_eq!(stored.user_id, u, "user id round trip");
    assert_eq!(stored.name, "CI runner", "name is stored trimmed");
    assert_eq!(stored.scopes.to_string(), "projects:read runs:write");
    assert_eq!(
        stored.created_at,
        clock_now(&clock),
        "created_at round trip"
    );
    assert_eq!(
        stored.expires_at,
        Some(clock_now(&clock) + Duration::days(30)),
        "expires_at round trip"
    );
    assert_eq!(
        stored.created_at.offset(),
        time::UtcOffset::UTC,
        "timestamps read back in UTC"
    );
    assert!(stored.last_used_at.is_none() && stored.revoked_at.is_none());
    assert!(stored.revocation_reason.is_none() && stored.replaced_by.is_none());
    let expected = test_hasher().hash(created.token.expose_secret().as_bytes());
    assert_eq!(stored.hash.version, HashVersion::from_u16(1));
    assert!(
        stored.hash.digest.ct_eq(&expected.digest),
        "the stored digest is the token's"
    );
}

fn clock_now(clock: &ManualClock) -> OffsetDateTime {
    use clab_keys_core::Clock as _;
    clock.now()
}

/// Finding an id that was never stored returns `None`, and authenticating with it is
/// `Invalid(Unknown)`.
pub async fn unknown_key_id_is_not_found(store: Arc<dyn KeyStore>) {
    let id = ok(KeyId::parse("zzzzzzzz"), "key id");
    assert!(ok(store.find(&id).await, "find").is_none());
}

/// Inserting a second record with an existing key id reports `DuplicateKeyId` and stores nothing.
pub async fn duplicate_key_id_is_reported(store: Arc<dyn KeyStore>) {
    let now = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    let (a, b) = (user(1), user(2));
    let first = record("dupdup01", &a, now);
    assert_eq!(
        ok(store.insert_within_limit(&first, 10, now).await, "insert"),
        InsertOutcome::Inserted
    );
    let second = record("dupdup01", &b, now);
    assert_eq!(
        ok(store.insert_within_limit(&second, 10, now).await, "insert"),
        InsertOutcome::DuplicateKeyId
    );
    assert!(
        ok(store.list(&b).await, "list").is_empty(),
        "nothing stored for the second user"
    );
}

/// A key id collision on insert is retried with a new id (forced with scripted entropy).
pub async fn key_id_collision_is_retried(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = ok(
        KeyService::builder_shared(store.clone(), test_hasher())
            .clock(clock.clone())
            .entropy(super::ScriptedEntropy::repeat_key_id(2))
            .build(),
        "build",
    );
    let first = ok(svc.create(&user(1), NewKey::new("a")).await, "first create");
    assert_eq!(first.key.key_id.as_str(), "00000000");
    let second = ok(
        svc.create(&user(1), NewKey::new("b")).await,
        "second create",
    );
    assert_ne!(
        second.key.key_id, first.key.key_id,
        "the colliding id was replaced"
    );
    assert_eq!(ok(store.list(&user(1)).await, "list").len(), 2);
}

/// The limit counts keys that are neither revoked nor expired.
pub async fn limit_counts_only_active_keys(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(10);
    let mut ids = Vec::new();
    for i in 0..10 {
        let k = ok(svc.create(&u, NewKey::new(format!("k{i}"))).await, "create");
        ids.push(k.key.key_id);
    }
    match svc.create(&u, NewKey::new("eleventh")).await {
        Err(CreateError::LimitReached { limit: 10 }) => {}
        other => panic!("the 11th active key must hit the limit, got {other:?}"),
    }
    ok(svc.revoke(&u, ids[0].as_str()).await, "revoke");
    ok(
        svc.create(&u, NewKey::new("after revoke")).await,
        "create after revoke",
    );
    // An expired key no longer counts either.
    ok(svc.revoke(&u, ids[1].as_str()).await, "revoke");
    ok(
        svc.create(&u, NewKey::new("short").expires_in(Duration::hours(1)))
            .await,
        "create short-lived",
    );
    assert!(matches!(
        svc.create(&u, NewKey::new("x")).await,
        Err(CreateError::LimitReached { .. })
    ));
    clock.advance(Duration::hours(2));
    ok(
        svc.create(&u, NewKey::new("after expiry")).await,
        "create after expiry",
    );
    assert_eq!(active_count(&*store, &u, clock_now(&clock)).await, 10);
    // Another user is not affected.
    ok(
        svc.create(&user(11), NewKey::new("other")).await,
        "other user",
    );
}

/// 50 simultaneous creates for one user leave exactly 10 active keys.
pub async fn concurrent_creates_respect_limit(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(20);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let svc = svc.clone();
            let u = u.clone();
            tokio::spawn(async move { svc.create(&u, NewKey::new(format!("c{i}"))).await })
        })
        .collect();
    let (mut created, mut limited) = (0, 0);
    for t in tasks {
        match t.await {
            Ok(Ok(_)) => created += 1,
            Ok(Err(CreateError::LimitReached { .. })) => limited += 1,
            Ok(Err(e)) => panic!("concurrent create failed: {e}"),
            Err(e) => panic!("task failed: {e}"),
        }
    }
    assert_eq!(
        (created, limited),
        (10, 40),
        "exactly 10 of 50 concurrent creates succeed"
    );
    assert_eq!(active_count(&*store, &u, clock_now(&clock)).await, 10);
}

/// 50 simultaneous `insert_within_limit` calls straight at the store, for one user, over
/// several rounds with revocations in between, never leave more than the limit active.
pub async fn concurrent_inserts_respect_limit_at_the_store(store: Arc<dyn KeyStore>) {
    let now = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    let u = user(21);
    for round in 0..4 {
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let store = store.clone();
                let r = record(&format!("r{round}n{i:05}"), &u, now);
                tokio::spawn(async move { store.insert_within_limit(&r, 10, now).await })
            })
            .collect();
        for t in tasks {
            match t.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => panic!("concurrent insert failed: {e}"),
                Err(e) => panic!("task failed: {e}"),
            }
        }
        assert_eq!(
            active_count(&*store, &u, now).await,
            10,
            "round {round}: exactly 10 active keys"
        );
        // Free three places for the next round.
        let listed = ok(store.list(&u).await, "list");
        for k in listed.iter().filter(|k| k.revoked_at.is_none()).take(3) {
            ok(
                store
                    .revoke(&u, &k.key_id, now, RevocationReason::User)
                    .await,
                "revoke",
            );
        }
    }
}

/// Lists hold only the user's keys, newest first.
pub async fn list_is_newest_first_and_per_user(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    for name in ["first", "second", "third"] {
        ok(svc.create(&user(30), NewKey::new(name)).await, "create");
        clock.advance(Duration::seconds(1));
    }
    ok(
        svc.create(&user(31), NewKey::new("someone else")).await,
        "create",
    );
    let names: Vec<String> = ok(svc.list(&user(30)).await, "list")
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, ["third", "second", "first"]);
}

/// Revoking sets `revoked_at`, keeps the row, is idempotent, and the key stops working.
pub async fn revoke_is_soft_and_idempotent(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(40);
    let created = ok(svc.create(&u, NewKey::new("to revoke")).await, "create");
    let id = created.key.key_id;
    clock.advance(Duration::minutes(5));
    ok(svc.revoke(&u, id.as_str()).await, "revoke");
    let row = ok(store.find(&id).await, "find").unwrap_or_else(|| panic!("revoked row must stay"));
    assert_eq!(row.revoked_at, Some(clock_now(&clock)));
    clock.advance(Duration::minutes(5));
    ok(svc.revoke(&u, id.as_str()).await, "second revoke");
    assert_eq!(
        ok(
            store
                .revoke(&u, &id, clock_now(&clock), RevocationReason::Admin)
                .await,
            "store revoke"
        ),
        RevokeOutcome::AlreadyRevoked
    );
    let row = ok(store.find(&id).await, "find").unwrap_or_else(|| panic!("row must stay"));
    assert_eq!(
        row.revoked_at,
        Some(clock_now(&clock) - Duration::minutes(5)),
        "first revocation time kept"
    );
    match authenticate(&svc, created.token.expose_secret().as_bytes()).await {
        Err(AuthError::Invalid(InvalidReason::Revoked)) => {}
        other => panic!("a revoked key must be refused, got {other:?}"),
    }
}

/// Revoking another user's key is not found, like a key that does not exist, and changes nothing.
pub async fn revoking_another_users_key_is_not_found(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let created = ok(svc.create(&user(50), NewKey::new("mine")).await, "create");
    let id = created.key.key_id;
    assert_eq!(
        ok(
            store
                .revoke(&user(51), &id, clock_now(&clock), RevocationReason::User)
                .await,
            "store revoke"
        ),
        RevokeOutcome::NotFound
    );
    assert!(matches!(
        svc.revoke(&user(51), id.as_str()).await,
        Err(clab_keys_core::RevokeError::NotFound)
    ));
    assert!(matches!(
        svc.revoke(&user(51), "zzzzzzzz").await,
        Err(clab_keys_core::RevokeError::NotFound)
    ));
    ok(
        authenticate(&svc, created.token.expose_secret().as_bytes()).await,
        "owner's key still works",
    );
}

/// Authentication accepts the right token and refuses a wrong secret, an expired key
/// (`now >= expires_at`) and a revoked one.
pub async fn authenticate_checks_secret_revocation_and_expiry(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(60);
    let created = ok(
        svc.create(&u, NewKey::new("expiring").expires_in(Duration::hours(1)))
            .await,
        "create",
    );
    let token = created.token.expose_secret().to_owned();
    let p = ok(authenticate(&svc, token.as_bytes()).await, "authenticate");
    assert_eq!(p.user_id, u);
    assert_eq!(p.key_id, created.key.key_id);
    // Same id, different secret (with a recomputed checksum so it reaches the store).
    let forged = forge_secret(&token);
    match authenticate(&svc, forged.as_bytes()).await {
        Err(AuthError::Invalid(InvalidReason::Mismatch)) => {}
        other => panic!("a wrong secret must be refused, got {other:?}"),
    }
    clock.advance(Duration::hours(1) - Duration::microseconds(1));
    ok(
        authenticate(&svc, token.as_bytes()).await,
        "just before expiry",
    );
    clock.advance(Duration::microseconds(1));
    match authenticate(&svc, token.as_bytes()).await {
        Err(AuthError::Invalid(InvalidReason::Expired)) => {}
        other => panic!("a key at its expiry instant must be refused, got {other:?}"),
    }
}

/// Replaces the secret of a token, keeping its id, with a valid checksum.
pub fn forge_secret(token: &str) -> String {
    use clab_keys_core::TokenFormat;
    let prefix_len = token.len() - TokenFormat::BODY_LEN;
    let mut signed = token.as_bytes()[..token.len() - TokenFormat::CHECKSUM_LEN].to_vec();
    let pos = prefix_len + TokenFormat::KEY_ID_LEN;
    signed[pos] = if signed[pos] == b'A' { b'B' } else { b'A' };
    let sum = TokenFormat::checksum(&signed);
    signed.extend_from_slice(&sum);
    String::from_utf8(signed).unwrap_or_default()
}

/// `touch` writes when `last_used_at` is null or older than the cutoff, and not otherwise.
pub async fn touch_is_conditional(store: Arc<dyn KeyStore>) {
    let t0 = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    let r = record("touch001", &user(70), t0);
    ok(store.insert_within_limit(&r, 10, t0).await, "insert");
    let w = Duration::seconds(60);
    assert!(
        ok(store.touch(&r.key_id, t0, t0 - w).await, "touch"),
        "first touch writes"
    );
    let t1 = t0 + Duration::seconds(30);
    assert!(
        !ok(store.touch(&r.key_id, t1, t1 - w).await, "touch"),
        "within the window: no write"
    );
    let t2 = t0 + Duration::seconds(61);
    assert!(
        ok(store.touch(&r.key_id, t2, t2 - w).await, "touch"),
        "after the window: writes"
    );
    let row = ok(store.find(&r.key_id).await, "find").unwrap_or_else(|| panic!("row"));
    assert_eq!(row.last_used_at, Some(t2));
    let unknown = ok(KeyId::parse("nokey000"), "key id");
    assert!(!ok(store.touch(&unknown, t2, t2).await, "touch unknown"));
}

/// 50 simultaneous touches with the same cutoff write exactly once.
pub async fn concurrent_touches_write_once(store: Arc<dyn KeyStore>) {
    let t0 = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    let r = record("touch002", &user(71), t0);
    ok(store.insert_within_limit(&r, 10, t0).await, "insert");
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            let at = t0 + Duration::milliseconds(i);
            tokio::spawn(async move { store.touch(&r.key_id, at, t0).await })
        })
        .collect();
    let mut writes = 0;
    for t in tasks {
        match t.await {
            Ok(Ok(true)) => writes += 1,
            Ok(Ok(false)) => {}
            Ok(Err(e)) => panic!("touch failed: {e}"),
            Err(e) => panic!("task failed: {e}"),
        }
    }
    assert_eq!(writes, 1, "exactly one of 50 concurrent touches writes");
}

/// Two service instances (two app processes) over one store write `last_used_at` at most once
/// per window, however many requests they serve.
pub async fn debounce_holds_across_instances(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let recording = RecordingStore::new(store);
    let counts = recording.counts();
    let shared: Arc<dyn KeyStore> = Arc::new(recording);
    let a = service(shared.clone(), &clock);
    let b = service(shared, &clock);
    let created = ok(a.create(&user(80), NewKey::new("busy")).await, "create");
    let token = created.token.expose_secret().to_owned();
    for _ in 0..3 {
        for _ in 0..20 {
            ok(
                authenticate(&a, token.as_bytes()).await,
                "authenticate on a",
            );
            ok(
                authenticate(&b, token.as_bytes()).await,
                "authenticate on b",
            );
            clock.advance(Duration::seconds(1));
        }
        // 20 s pass per round: all three rounds fall in one 60 s window.
    }
    assert_eq!(
        counts.touch_writes.load(Ordering::SeqCst),
        1,
        "one write per window across instances"
    );
    assert!(
        counts.touch.load(Ordering::SeqCst) <= 2,
        "each instance tries at most once per window"
    );
    clock.advance(Duration::seconds(60));
    ok(
        authenticate(&a, token.as_bytes()).await,
        "authenticate after the window",
    );
    assert_eq!(
        counts.touch_writes.load(Ordering::SeqCst),
        2,
        "a new window writes again"
    );
}

/// `replace_hash` only replaces the hash it was given.
pub async fn replace_hash_is_conditional(store: Arc<dyn KeyStore>) {
    let t0 = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    let r = record("rehash01", &user(90), t0);
    ok(store.insert_within_limit(&r, 10, t0).await, "insert");
    let new = StoredHash {
        version: HashVersion::from_u16(2),
        digest: KeyDigest::from_bytes([2; 32]),
    };
    let stale = StoredHash {
        version: HashVersion::SHA256,
        digest: KeyDigest::from_bytes([9; 32]),
    };
    assert!(
        !ok(store.replace_hash(&r.key_id, &stale, &new).await, "replace"),
        "stale old hash: no change"
    );
    assert!(ok(
        store.replace_hash(&r.key_id, &r.hash, &new).await,
        "replace"
    ));
    let row = ok(store.find(&r.key_id).await, "find").unwrap_or_else(|| panic!("row"));
    assert_eq!(row.hash.version, HashVersion::from_u16(2));
    assert!(row.hash.digest.ct_eq(&new.digest));
}

/// A key hashed with an old pepper verifies once the pepper is kept as previous, is re-hashed
/// with the current one, and fails (as invalid, not as an error) once the old pepper is gone.
pub async fn pepper_rotation_rehashes_on_use(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let p = |b: u8| ok(Pepper::from_bytes(&[b; 32]), "pepper");
    let v1 = service_with(
        store.clone(),
        &clock,
        ok(KeyHasher::hmac(1, p(1)), "hasher"),
    );
    let created = ok(
        v1.create(&user(100), NewKey::new("old pepper")).await,
        "create",
    );
    let token = created.token.expose_secret().to_owned();
    let v2_only = service_with(
        store.clone(),
        &clock,
        ok(KeyHasher::hmac(2, p(2)), "hasher"),
    );
    match authenticate(&v2_only, token.as_bytes()).await {
        Err(AuthError::Invalid(InvalidReason::UnknownHashVersion)) => {}
        other => panic!("an unknown pepper version must fail closed as invalid, got {other:?}"),
    }
    let rotated = ok(
        ok(KeyHasher::hmac(2, p(2)), "hasher").with_previous(1, p(1)),
        "previous pepper",
    );
    let v2 = service_with(store.clone(), &clock, rotated);
    ok(
        authenticate(&v2, token.as_bytes()).await,
        "old pepper still verifies",
    );
    v2.flush().await;
    let row = ok(store.find(&created.key.key_id).await, "find").unwrap_or_else(|| panic!("row"));
    assert_eq!(
        row.hash.version,
        HashVersion::from_u16(2),
        "re-hashed with the current pepper"
    );
    ok(
        authenticate(&v2_only, token.as_bytes()).await,
        "now verifies with the new pepper alone",
    );
}

/// `i64`, UUID and free-form string user ids are all stored and matched exactly.
pub async fn all_user_id_kinds_are_served(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let ids = [
        UserId::from(i64::MAX),
        UserId::from(-5_i64),
        ok(
            UserId::new("6f1c2d3e-4b5a-4c6d-8e7f-901234567890"),
            "uuid id",
        ),
        ok(UserId::new("auth0|Kärlek 42"), "string id"),
    ];
    for id in &ids {
        let created = ok(svc.create(id, NewKey::new("k")).await, "create");
        let p = ok(
            authenticate(&svc, created.token.expose_secret().as_bytes()).await,
            "authenticate",
        );
        assert_eq!(&p.user_id, id);
        assert_eq!(
            ok(svc.list(id).await, "list").len(),
            1,
            "keys are listed per exact user id"
        );
    }
}

/// `revocation_reason` and `replaced_by` are written and read back like every other column.
pub async fn lifecycle_fields_round_trip(store: Arc<dyn KeyStore>) {
    let t0 = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    let u = user(110);
    let successor = ok(KeyId::parse("succ0001"), "key id");
    for (i, reason) in RevocationReason::ALL.into_iter().enumerate() {
        let mut r = record(&format!("reason{i:02}"), &u, t0);
        r.revoked_at = Some(t0 + Duration::seconds(1));
        r.revocation_reason = Some(reason);
        r.replaced_by = Some(successor);
        assert_eq!(
            ok(store.insert_within_limit(&r, 10, t0).await, "insert"),
            InsertOutcome::Inserted
        );
        let row = ok(store.find(&r.key_id).await, "find").unwrap_or_else(|| panic!("row"));
        assert_eq!(row.revocation_reason, Some(reason), "reason round trip");
        assert_eq!(row.replaced_by, Some(successor), "replaced_by round trip");
    }
    let fresh = record("reason99", &u, t0);
    ok(store.insert_within_limit(&fresh, 10, t0).await, "insert");
    let row = ok(store.find(&fresh.key_id).await, "find").unwrap_or_else(|| panic!("row"));
    assert!(row.revocation_reason.is_none() && row.replaced_by.is_none());
}

/// `revoke` records its reason; revoking again (with another reason) keeps the first time and
/// reason. The service's `revoke` records `user`, `revoke_with_reason` the given one, and the
/// list shows them.
pub async fn revoke_records_the_first_reason(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(111);
    let by_user = ok(svc.create(&u, NewKey::new("by user")).await, "create").key;
    let by_admin = ok(svc.create(&u, NewKey::new("by admin")).await, "create").key;
    let first = clock_now(&clock);
    ok(svc.revoke(&u, by_user.key_id.as_str()).await, "revoke");
    ok(
        svc.revoke_with_reason(&u, by_admin.key_id.as_str(), RevocationReason::Admin)
            .await,
        "revoke with reason",
    );
    clock.advance(Duration::minutes(1));
    assert_eq!(
        ok(
            store
                .revoke(
                    &u,
                    &by_user.key_id,
                    clock_now(&clock),
                    RevocationReason::Leaked
                )
                .await,
            "store revoke"
        ),
        RevokeOutcome::AlreadyRevoked
    );
    ok(
        svc.revoke_with_reason(&u, by_admin.key_id.as_str(), RevocationReason::Leaked)
            .await,
        "second revoke with reason",
    );
    let listed = ok(svc.list(&u).await, "list");
    let of = |id: KeyId| {
        listed
            .iter()
            .find(|k| k.key_id == id)
            .unwrap_or_else(|| panic!("listed"))
    };
    assert_eq!(
        of(by_user.key_id).revocation_reason,
        Some(RevocationReason::User)
    );
    assert_eq!(
        of(by_user.key_id).revoked_at,
        Some(first),
        "first time kept"
    );
    assert_eq!(
        of(by_admin.key_id).revocation_reason,
        Some(RevocationReason::Admin)
    );
    assert_eq!(
        of(by_admin.key_id).revoked_at,
        Some(first),
        "first time kept"
    );
    assert!(
        matches!(
            svc.revoke_with_reason(&user(112), by_user.key_id.as_str(), RevocationReason::Admin)
                .await,
            Err(clab_keys_core::RevokeError::NotFound)
        ),
        "another user's key is not found"
    );
}

/// `revoke_all` revokes every key of the user that was not revoked yet, expired ones included,
/// with its time and reason, returns exactly those ids, leaves earlier revocations and other
/// users' keys alone, and returns nothing the second time.
pub async fn revoke_all_revokes_every_unrevoked_key_once(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let (u, other) = (user(120), user(121));
    let mut tokens = Vec::new();
    let mut expected = std::collections::BTreeSet::new();
    for i in 0..3 {
        let k = ok(svc.create(&u, NewKey::new(format!("k{i}"))).await, "create");
        expected.insert(k.key.key_id);
        tokens.push(k.token.expose_secret().to_owned());
    }
    let expiring = ok(
        svc.create(&u, NewKey::new("expiring").expires_in(Duration::hours(1)))
            .await,
        "create",
    );
    expected.insert(expiring.key.key_id);
    let earlier = ok(svc.create(&u, NewKey::new("earlier")).await, "create").key;
    let earlier_at = clock_now(&clock);
    ok(svc.revoke(&u, earlier.key_id.as_str()).await, "revoke");
    let theirs = ok(svc.create(&other, NewKey::new("theirs")).await, "create");
    clock.advance(Duration::hours(2));
    let at = clock_now(&clock);

    let ids = ok(
        store.revoke_all(&u, at, RevocationReason::Owner).await,
        "revoke_all",
    );
    let got: std::collections::BTreeSet<KeyId> = ids.iter().copied().collect();
    assert_eq!(got.len(), ids.len(), "no id reported twice");
    assert_eq!(
        got, expected,
        "exactly the keys not revoked before, expired ones included"
    );
    for k in ok(store.list(&u).await, "list") {
        if k.key_id == earlier.key_id {
            assert_eq!(k.revoked_at, Some(earlier_at), "earlier revocation kept");
            assert_eq!(k.revocation_reason, Some(RevocationReason::User));
        } else {
            assert_eq!(k.revoked_at, Some(at), "revoked at the given time");
            assert_eq!(k.revocation_reason, Some(RevocationReason::Owner));
        }
    }
    for token in &tokens {
        match authenticate(&svc, token.as_bytes()).await {
            Err(AuthError::Invalid(InvalidReason::Revoked)) => {}
            other => panic!("a key revoked with all others must be refused, got {other:?}"),
        }
    }
    ok(
        authenticate(&svc, theirs.token.expose_secret().as_bytes()).await,
        "another user's key still works",
    );
    assert!(
        ok(
            store.revoke_all(&u, at, RevocationReason::Admin).await,
            "again"
        )
        .is_empty(),
        "nothing left to revoke"
    );
    assert_eq!(
        ok(
            svc.revoke_all(&user(122), RevocationReason::Admin).await,
            "no keys"
        ),
        0
    );
    assert_eq!(
        ok(
            svc.revoke_all(&other, RevocationReason::Admin).await,
            "service"
        ),
        1,
        "the service returns the count"
    );
}

/// `revoke_all` racing creates within the limit and single revocations of the same user: every
/// key that ends up revoked was reported by exactly one call (a `revoke_all` or a `revoke` that
/// answered `Revoked`), every key no call reported is still active, and the limit holds.
pub async fn concurrent_revoke_all_creates_and_revokes_report_each_key_once(
    store: Arc<dyn KeyStore>,
) {
    use std::collections::BTreeSet;
    let now = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    let u = user(130);
    for round in 0..3 {
        // Room for the existing keys: whatever the previous round left active goes.
        ok(
            store.revoke_all(&u, now, RevocationReason::Admin).await,
            "revoke_all",
        );
        let revoked_before: BTreeSet<KeyId> = ok(store.list(&u).await, "list")
            .iter()
            .filter(|k| k.revoked_at.is_some())
            .map(|k| k.key_id)
            .collect();
        let existing: Vec<KeyId> = (0..4)
            .map(|i| ok(KeyId::parse(&format!("x{round}e{i:05}")), "key id"))
            .collect();
        for id in &existing {
            let r = record(id.as_str(), &u, now);
            assert_eq!(
                ok(store.insert_within_limit(&r, 10, now).await, "insert"),
                InsertOutcome::Inserted
            );
        }
        let mut creates = Vec::new();
        for i in 0..20 {
            let store = store.clone();
            let r = record(&format!("x{round}c{i:05}"), &u, now);
            creates.push(tokio::spawn(async move {
                let outcome = store.insert_within_limit(&r, 10, now).await;
                (r.key_id, outcome)
            }));
        }
        let mut sweeps = Vec::new();
        for _ in 0..3 {
            let store = store.clone();
            let u = u.clone();
            sweeps.push(tokio::spawn(async move {
                store.revoke_all(&u, now, RevocationReason::Admin).await
            }));
        }
        let mut singles = Vec::new();
        for id in existing.iter().copied() {
            let store = store.clone();
            let u = u.clone();
            singles.push(tokio::spawn(async move {
                (id, store.revoke(&u, &id, now, RevocationReason::User).await)
            }));
        }
        let mut reported: Vec<KeyId> = Vec::new();
        for t in sweeps {
            match t.await {
                Ok(Ok(ids)) => reported.extend(ids),
                Ok(Err(e)) => panic!("revoke_all failed: {e:?}"),
                Err(e) => panic!("task failed: {e}"),
            }
        }
        for t in singles {
            match t.await {
                Ok((id, Ok(RevokeOutcome::Revoked))) => reported.push(id),
                Ok((_, Ok(_))) => {}
                Ok((_, Err(e))) => panic!("revoke failed: {e:?}"),
                Err(e) => panic!("task failed: {e}"),
            }
        }
        let mut inserted = BTreeSet::new();
        for t in creates {
            match t.await {
                Ok((id, Ok(InsertOutcome::Inserted))) => {
                    inserted.insert(id);
                }
                Ok((_, Ok(_))) => {}
                Ok((_, Err(e))) => panic!("insert failed: {e}"),
                Err(e) => panic!("task failed: {e}"),
            }
        }
        let unique: BTreeSet<KeyId> = reported.iter().copied().collect();
        assert_eq!(
            unique.len(),
            reported.len(),
            "round {round}: a key was reported revoked by two calls"
        );
        let listed = ok(store.list(&u).await, "list");
        let revoked_now: BTreeSet<KeyId> = listed
            .iter()
            .filter(|k| k.revoked_at.is_some())
            .map(|k| k.key_id)
            .collect();
        let this_round: BTreeSet<KeyId> =
            revoked_now.difference(&revoked_before).copied().collect();
        assert_eq!(
            this_round, unique,
            "round {round}: the keys revoked are exactly the keys reported"
        );
        for id in existing.iter() {
            assert!(
                unique.contains(id),
                "round {round}: an existing key was revoked"
            );
        }
        for id in &inserted {
            let k = listed
                .iter()
                .find(|k| &k.key_id == id)
                .unwrap_or_else(|| panic!("round {round}: an inserted key is listed"));
            assert_eq!(
                k.is_active(now),
                !unique.contains(id),
                "round {round}: an inserted key is active unless reported revoked"
            );
        }
        assert!(
            active_count(&*store, &u, now).await <= 10,
            "round {round}: the limit holds"
        );
    }
}

/// `prune` deletes, across users, only rows revoked before the cutoff or expired before it
/// (strictly), at most `batch` per call; the service's `prune` loops and counts them all.
pub async fn prune_deletes_only_rows_revoked_or_expired_before_the_cutoff(
    store: Arc<dyn KeyStore>,
) {
    let t0 = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    let cutoff = t0 + Duration::days(30);
    let before = cutoff - Duration::microseconds(1);
    let mut doomed = Vec::new();
    let mut kept = Vec::new();
    let rows: [(&str, Option<OffsetDateTime>, Option<OffsetDateTime>, bool); 10] = [
        // (id, revoked_at, expires_at, deleted)
        ("prune001", Some(before), None, true),
        ("prune002", None, Some(before), true),
        ("prune003", Some(t0), Some(t0 + Duration::days(1)), true),
        ("prune004", Some(t0), None, true),
        ("prune005", Some(t0 + Duration::days(2)), None, true),
        ("prune006", Some(cutoff), None, false),
        ("prune007", None, Some(cutoff), false),
        ("prune008", Some(cutoff + Duration::days(1)), None, false),
        ("prune009", None, None, false),
        ("prune010", None, Some(cutoff + Duration::days(1)), false),
    ];
    for (i, (id, revoked_at, expires_at, deleted)) in rows.into_iter().enumerate() {
        let mut r = record(id, &user(140 + i as i64 % 3), t0);
        r.revoked_at = revoked_at;
        r.revocation_reason = revoked_at.map(|_| RevocationReason::User);
        r.expires_at = expires_at;
        ok(store.insert_within_limit(&r, 10, t0).await, "insert");
        if deleted {
            doomed.push(r.key_id);
        } else {
            kept.push(r.key_id);
        }
    }
    assert_eq!(
        ok(store.prune(cutoff, 0).await, "prune"),
        0,
        "a batch of 0 deletes nothing"
    );
    assert_eq!(
        ok(store.prune(cutoff, 2).await, "prune"),
        2,
        "at most a batch"
    );
    assert_eq!(ok(store.prune(cutoff, 2).await, "prune"), 2);
    assert_eq!(ok(store.prune(cutoff, 2).await, "prune"), 1, "the rest");
    assert_eq!(ok(store.prune(cutoff, 2).await, "prune"), 0, "nothing left");
    for id in &doomed {
        assert!(
            ok(store.find(id).await, "find").is_none(),
            "{id} was pruned"
        );
    }
    for id in &kept {
        assert!(ok(store.find(id).await, "find").is_some(), "{id} was kept");
    }

    // The service loops over batches and never deletes a key that still works.
    let clock = ManualClock::new(t0);
    let svc = service(store.clone(), &clock);
    let u = user(150);
    let live = ok(
        svc.create(&u, NewKey::new("live").expires_in(Duration::days(40)))
            .await,
        "create",
    );
    let gone = ok(svc.create(&u, NewKey::new("gone")).await, "create");
    ok(svc.revoke(&u, gone.key.key_id.as_str()).await, "revoke");
    clock.advance(Duration::days(33));
    assert_eq!(
        ok(
            svc.prune(clock_now(&clock) + Duration::days(365)).await,
            "prune"
        ),
        5,
        "a cutoff in the future is now: the revoked key, prune006-008 and prune010, not the \
         live key nor prune009"
    );
    ok(
        authenticate(&svc, live.token.expose_secret().as_bytes()).await,
        "a key that still works is never pruned",
    );
    assert!(ok(store.find(&gone.key.key_id).await, "find").is_none());
}

/// `hash_version_counts` counts active keys (neither revoked nor expired) per hash version,
/// ascending, leaving out versions with none.
pub async fn hash_version_counts_count_active_keys_per_version(store: Arc<dyn KeyStore>) {
    let t0 = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    assert!(
        ok(store.hash_version_counts(t0).await, "counts").is_empty(),
        "an empty store has no versions"
    );
    let rows: [(&str, u16, bool, Option<OffsetDateTime>); 7] = [
        ("hashv001", 3, false, None),
        ("hashv002", 1, false, None),
        ("hashv003", 1, false, Some(t0 + Duration::seconds(1))),
        ("hashv004", 0, false, None),
        ("hashv005", 2, true, None),
        ("hashv006", 2, false, Some(t0)),
        ("hashv007", 1, true, None),
    ];
    for (i, (id, version, revoked, expires_at)) in rows.into_iter().enumerate() {
        let mut r = record(id, &user(160 + i as i64 % 2), t0 - Duration::days(1));
        r.hash = StoredHash {
            version: HashVersion::from_u16(version),
            digest: KeyDigest::from_bytes([i as u8; 32]),
        };
        r.revoked_at = revoked.then_some(t0 - Duration::hours(1));
        r.expires_at = expires_at;
        ok(
            store
                .insert_within_limit(&r, 10, t0 - Duration::days(1))
                .await,
            "insert",
        );
    }
    let v = HashVersion::from_u16;
    assert_eq!(
        ok(store.hash_version_counts(t0).await, "counts"),
        [(v(0), 1), (v(1), 2), (v(3), 1)],
        "version 2 has only revoked and expired keys"
    );
    assert_eq!(
        ok(
            store.hash_version_counts(t0 + Duration::seconds(1)).await,
            "counts"
        ),
        [(v(0), 1), (v(1), 1), (v(3), 1)],
        "a key expiring at `now` no longer counts"
    );
}
