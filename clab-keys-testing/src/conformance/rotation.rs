//! Conformance cases of rotation and update (contract §4): what each leaves in the rows, the
//! limit, the races, and that refused input changes nothing.

use std::sync::Arc;

use time::Duration;

use super::{active_count, authenticate, clock_now, limited, ok, record, service, user};
use crate::ManualClock;
use clab_keys_core::{
    AuthError, CreateError, InvalidReason, KeyId, KeyRecord, KeyServiceConfig, KeyStore, KeyUpdate,
    MAX_ROTATION_GRACE, NewKey, RevocationReason, RotateError, RotateOutcome, Scopes, UpdateError,
    UserId,
};

/// The stored row of `id` (it must exist).
async fn row(store: &dyn KeyStore, id: KeyId) -> KeyRecord {
    ok(store.find(&id).await, "find").unwrap_or_else(|| panic!("no row for {id}"))
}

/// Everything a row holds but the digest, for "unchanged" assertions.
fn fields(r: &KeyRecord) -> String {
    format!(
        "{} {} {} {:?} {} {:?} {:?} {:?} {:?} {:?} {:?}",
        r.key_id,
        r.user_id,
        r.name,
        r.scopes,
        r.created_at,
        r.expires_at,
        r.last_used_at,
        r.revoked_at,
        r.revocation_reason,
        r.replaced_by,
        r.expiry_notified_at
    )
}

/// Grace 0: the new key has the old one's name, scopes and expiry and works; the old row is
/// revoked now with reason `rotated` and names the new key in `replaced_by`, its expiry
/// untouched. With `max_lifetime` set, the new key of a key without expiry expires then.
pub async fn rotation_without_grace_revokes_the_old_key(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(200);
    let new = NewKey::new("deploy")
        .scopes(["projects:read", "runs:write"])
        .expires_in(Duration::days(30));
    let old = ok(svc.create(&u, new).await, "create");
    clock.advance(Duration::minutes(5));
    let now = clock_now(&clock);
    let rotated = ok(
        svc.rotate(&u, old.key.key_id.as_str(), Duration::ZERO)
            .await,
        "rotate",
    );
    assert_eq!(rotated.replaces, old.key.key_id);
    assert_ne!(rotated.key.key_id, old.key.key_id);
    let fresh = row(&*store, rotated.key.key_id).await;
    assert_eq!(fresh.name, "deploy");
    assert_eq!(fresh.scopes, old.key.scopes, "same scopes");
    assert_eq!(fresh.expires_at, old.key.expires_at, "same expiry");
    assert_eq!(fresh.created_at, now);
    assert_eq!((fresh.revoked_at, fresh.replaced_by), (None, None));
    let retired = row(&*store, old.key.key_id).await;
    assert_eq!(retired.revoked_at, Some(now), "revoked at once");
    assert_eq!(retired.revocation_reason, Some(RevocationReason::Rotated));
    assert_eq!(retired.replaced_by, Some(rotated.key.key_id));
    assert_eq!(retired.expires_at, old.key.expires_at, "expiry untouched");
    assert!(matches!(
        authenticate(&svc, old.token.expose_secret().as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::Revoked))
    ));
    let verified = ok(
        authenticate(&svc, rotated.token.expose_secret().as_bytes()).await,
        "the new key works",
    );
    assert_eq!(verified.scopes, old.key.scopes);

    // A key without expiry, rotated by a service with a maximum lifetime.
    let forever = ok(svc.create(&u, NewKey::new("forever")).await, "create").key;
    assert_eq!(forever.expires_at, None);
    let capped = limited(
        store.clone(),
        &clock,
        KeyServiceConfig::default().max_lifetime(Some(Duration::days(90))),
    );
    let rotated = ok(
        capped
            .rotate(&u, forever.key_id.as_str(), Duration::ZERO)
            .await,
        "rotate",
    );
    assert_eq!(rotated.key.expires_at, Some(now + Duration::days(90)));
    assert_eq!(
        row(&*store, rotated.key.key_id).await.expires_at,
        Some(now + Duration::days(90))
    );
    // And a key expiring before the cap keeps its expiry.
    let soon = rotated.key.key_id;
    let again = ok(
        limited(
            store.clone(),
            &clock,
            KeyServiceConfig::default().max_lifetime(Some(Duration::days(365))),
        )
        .rotate(&u, soon.as_str(), Duration::ZERO)
        .await,
        "rotate",
    );
    assert_eq!(again.key.expires_at, Some(now + Duration::days(90)));
}

/// Grace > 0: the old key keeps working until the earlier of its own expiry and now + grace,
/// is not revoked, and names the new key; bad graces are refused and change nothing.
pub async fn rotation_with_grace_keeps_the_old_key_until_then(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(201);
    let now = clock_now(&clock);
    let long = ok(
        svc.create(&u, NewKey::new("long").expires_in(Duration::days(30)))
            .await,
        "create",
    );
    let forever = ok(svc.create(&u, NewKey::new("forever")).await, "create");
    let short = ok(
        svc.create(&u, NewKey::new("short").expires_in(Duration::minutes(30)))
            .await,
        "create",
    );

    for grace in [
        Duration::seconds(-1),
        Duration::days(7) + Duration::seconds(1),
        Duration::milliseconds(1500),
    ] {
        let before = fields(&row(&*store, long.key.key_id).await);
        assert!(
            matches!(
                svc.rotate(&u, long.key.key_id.as_str(), grace).await,
                Err(RotateError::InvalidGrace)
            ),
            "grace {grace} is refused"
        );
        assert_eq!(fields(&row(&*store, long.key.key_id).await), before);
    }
    assert_eq!(ok(svc.list(&u).await, "list").len(), 3, "nothing created");

    let hour = Duration::hours(1);
    let r1 = ok(
        svc.rotate(&u, long.key.key_id.as_str(), hour).await,
        "rotate",
    );
    let r2 = ok(
        svc.rotate(
            &u,
            forever.key.key_id.as_str(),
            clab_keys_core::MAX_ROTATION_GRACE,
        )
        .await,
        "rotate with the longest grace",
    );
    let r3 = ok(
        svc.rotate(&u, short.key.key_id.as_str(), hour).await,
        "rotate",
    );
    for (old, new, expiry) in [
        (&long, &r1, Some(now + hour)),
        (&forever, &r2, Some(now + Duration::days(7))),
        (&short, &r3, Some(now + Duration::minutes(30))),
    ] {
        let retired = row(&*store, old.key.key_id).await;
        assert_eq!(retired.expires_at, expiry, "{}", old.key.name);
        assert_eq!(
            (retired.revoked_at, retired.revocation_reason),
            (None, None)
        );
        assert_eq!(retired.replaced_by, Some(new.key.key_id));
        let fresh = row(&*store, new.key.key_id).await;
        assert_eq!(
            fresh.expires_at, old.key.expires_at,
            "new key: the old expiry"
        );
        ok(
            authenticate(&svc, old.token.expose_secret().as_bytes()).await,
            "the old key works during its grace",
        );
    }
    clock.advance(hour);
    assert!(matches!(
        authenticate(&svc, long.token.expose_secret().as_bytes()).await,
        Err(AuthError::Invalid(InvalidReason::Expired))
    ));
    ok(
        authenticate(&svc, r1.token.expose_secret().as_bytes()).await,
        "the new key works",
    );
}

/// A rotation never fails for the active-key limit; the old key in its grace period stops
/// counting, the new one counts. Replaced, revoked and expired keys are `Inactive`; other
/// users' keys and malformed ids `NotFound`; each refusal changes nothing.
pub async fn rotation_at_the_limit_succeeds_and_the_key_in_grace_does_not_count(
    store: Arc<dyn KeyStore>,
) {
    let clock = ManualClock::fixed();
    let svc = limited(
        store.clone(),
        &clock,
        KeyServiceConfig::default().max_active_keys(2),
    );
    let u = user(202);
    let a = ok(svc.create(&u, NewKey::new("a")).await, "create");
    let b = ok(svc.create(&u, NewKey::new("b")).await, "create");
    assert!(matches!(
        svc.create(&u, NewKey::new("c")).await,
        Err(CreateError::LimitReached { limit: 2 })
    ));
    let a2 = ok(
        svc.rotate(&u, a.key.key_id.as_str(), Duration::hours(1))
            .await,
        "rotating at the limit",
    );
    // a (in grace) no longer counts, a2 does: still two.
    assert!(matches!(
        svc.create(&u, NewKey::new("c")).await,
        Err(CreateError::LimitReached { limit: 2 })
    ));
    ok(
        authenticate(&svc, a.token.expose_secret().as_bytes()).await,
        "a works in its grace",
    );
    // The new key can itself be rotated, at the limit.
    let a3 = ok(
        svc.rotate(&u, a2.key.key_id.as_str(), Duration::hours(1))
            .await,
        "rotating the new key",
    );
    ok(svc.revoke(&u, b.key.key_id.as_str()).await, "revoke b");
    let c = ok(svc.create(&u, NewKey::new("c")).await, "a3 and c: two");

    for (id, why) in [
        (a.key.key_id, "replaced"),
        (a2.key.key_id, "replaced"),
        (b.key.key_id, "revoked"),
    ] {
        let before = fields(&row(&*store, id).await);
        assert!(
            matches!(
                svc.rotate(&u, id.as_str(), Duration::ZERO).await,
                Err(RotateError::Inactive)
            ),
            "{why} key is inactive"
        );
        assert_eq!(fields(&row(&*store, id).await), before, "{why}: unchanged");
    }
    let before = fields(&row(&*store, a3.key.key_id).await);
    assert!(matches!(
        svc.rotate(&user(203), a3.key.key_id.as_str(), Duration::ZERO)
            .await,
        Err(RotateError::NotFound)
    ));
    for bad in ["", "short", "not-an-id!", "zzzzzzzz"] {
        assert!(matches!(
            svc.rotate(&u, bad, Duration::ZERO).await,
            Err(RotateError::NotFound)
        ));
    }
    assert_eq!(fields(&row(&*store, a3.key.key_id).await), before);
    ok(svc.revoke(&u, c.key.key_id.as_str()).await, "revoke c");
    let soon = ok(
        svc.create(&u, NewKey::new("soon").expires_in(Duration::minutes(1)))
            .await,
        "create",
    );
    clock.advance(Duration::minutes(1));
    assert!(matches!(
        svc.rotate(&u, soon.key.key_id.as_str(), Duration::ZERO)
            .await,
        Err(RotateError::Inactive)
    ));
    assert_eq!(
        ok(svc.list(&u).await, "list").len(),
        6,
        "no key made by a refusal"
    );
}

/// How many of the user's keys are in a rotation grace period at `now`.
async fn in_grace(store: &dyn KeyStore, u: &UserId, now: time::OffsetDateTime) -> usize {
    ok(store.list(u).await, "list")
        .iter()
        .filter(|k| k.is_in_grace_period(now))
        .count()
}

/// The security review's scenario, with a limit of 3: the user's newest key is rotated with a
/// seven-day grace again and again. The first 3 rotations succeed; from then on each one is
/// `GraceLimitReached { limit: 3 }` and changes nothing, so the user never has more than
/// 2 × 3 working keys. Revoking a key in its grace period, or the end of a grace period, frees
/// a place.
pub async fn grace_rotations_stop_at_the_limit_of_keys_in_grace(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let limit = 3;
    let svc = limited(
        store.clone(),
        &clock,
        KeyServiceConfig::default().max_active_keys(limit),
    );
    let u = user(209);
    let now = clock_now(&clock);
    let mut newest = KeyId::parse("00000000").unwrap_or_else(|_| panic!("key id"));
    for name in ["a", "b", "c"] {
        newest = ok(svc.create(&u, NewKey::new(name)).await, "create")
            .key
            .key_id;
    }
    let (mut rotated, mut refused) = (Vec::new(), 0);
    for round in 0..20 {
        let before = fields(&row(&*store, newest).await);
        let keys_before = ok(svc.list(&u).await, "list").len();
        match svc.rotate(&u, newest.as_str(), MAX_ROTATION_GRACE).await {
            Ok(r) => {
                rotated.push(newest);
                newest = r.key.key_id;
            }
            Err(RotateError::GraceLimitReached { limit: 3 }) => {
                refused += 1;
                assert_eq!(
                    fields(&row(&*store, newest).await),
                    before,
                    "round {round}: a refused rotation changes nothing"
                );
                assert_eq!(
                    ok(svc.list(&u).await, "list").len(),
                    keys_before,
                    "round {round}: no new key"
                );
            }
            Err(e) => panic!("round {round}: unexpected {e:?}"),
        }
        let working = active_count(&*store, &u, now).await;
        assert!(
            working <= 2 * limit as usize,
            "round {round}: {working} working keys, more than twice the limit"
        );
    }
    assert_eq!(
        (rotated.len(), refused),
        (3, 17),
        "3 rotations, then refusals"
    );
    assert_eq!(in_grace(&*store, &u, now).await, 3);
    assert_eq!(
        active_count(&*store, &u, now).await,
        6,
        "3 active + 3 in grace"
    );

    // Revoking a key in its grace period frees a place, for one more rotation.
    ok(
        svc.revoke(&u, rotated[0].as_str()).await,
        "revoke a key in grace",
    );
    newest = ok(
        svc.rotate(&u, newest.as_str(), Duration::hours(1)).await,
        "rotate after a revocation",
    )
    .key
    .key_id;
    assert!(matches!(
        svc.rotate(&u, newest.as_str(), Duration::hours(1)).await,
        Err(RotateError::GraceLimitReached { limit: 3 })
    ));
    // Once grace periods end, their keys no longer count.
    clock.advance(MAX_ROTATION_GRACE);
    let later = clock_now(&clock);
    assert_eq!(
        in_grace(&*store, &u, later).await,
        0,
        "every grace has ended"
    );
    ok(
        svc.rotate(&u, newest.as_str(), Duration::hours(1)).await,
        "rotate after the grace periods ended",
    );
    assert_eq!(in_grace(&*store, &u, later).await, 1);
}

/// A rotation with grace 0 never fails for a limit: at the active-key limit and with the most
/// keys in a grace period, it succeeds every time, and the counts stay where they were.
pub async fn rotation_without_grace_never_fails_for_a_limit(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = limited(
        store.clone(),
        &clock,
        KeyServiceConfig::default().max_active_keys(2),
    );
    let u = user(210);
    let now = clock_now(&clock);
    let a = ok(svc.create(&u, NewKey::new("a")).await, "create")
        .key
        .key_id;
    let mut b = ok(svc.create(&u, NewKey::new("b")).await, "create")
        .key
        .key_id;
    let a2 = ok(
        svc.rotate(&u, a.as_str(), Duration::hours(1)).await,
        "rotate",
    );
    let mut a3 = ok(
        svc.rotate(&u, a2.key.key_id.as_str(), Duration::hours(1))
            .await,
        "rotate",
    )
    .key
    .key_id;
    assert_eq!(
        in_grace(&*store, &u, now).await,
        2,
        "the most keys in grace"
    );
    assert!(matches!(
        svc.create(&u, NewKey::new("c")).await,
        Err(CreateError::LimitReached { limit: 2 })
    ));
    assert!(matches!(
        svc.rotate(&u, a3.as_str(), Duration::seconds(1)).await,
        Err(RotateError::GraceLimitReached { limit: 2 })
    ));
    for round in 0..10 {
        let id = if round % 2 == 0 { &mut a3 } else { &mut b };
        let r = ok(
            svc.rotate(&u, id.as_str(), Duration::ZERO).await,
            "grace 0 at every limit",
        );
        *id = r.key.key_id;
        assert_eq!(in_grace(&*store, &u, now).await, 2, "round {round}");
        let counted = ok(store.list(&u).await, "list")
            .iter()
            .filter(|k| k.counts_against_limit(now))
            .count();
        assert_eq!(counted, 2, "round {round}: still two active keys");
    }
}

/// Concurrent rotations with a grace period of different keys of one user never leave more
/// keys in a grace period than the limit: of 12 rotations with a limit of 4, exactly 4
/// succeed and the others are `GraceLimitReached`, in two rounds (the first round's grace
/// periods ended before the second).
pub async fn concurrent_grace_rotations_never_pass_the_limit(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = limited(
        store.clone(),
        &clock,
        KeyServiceConfig::default().max_active_keys(4),
    );
    let u = user(211);
    let t0 = clock_now(&clock);
    // Twelve active keys, more than this service allows: stored under a larger limit.
    for i in 0..12 {
        let r = record(&format!("GrCap{i:03}"), &u, t0);
        ok(store.insert_within_limit(&r, 100, t0).await, "insert");
    }
    for round in 0..2 {
        let now = clock_now(&clock);
        let ids: Vec<KeyId> = ok(store.list(&u).await, "list")
            .iter()
            .filter(|k| k.counts_against_limit(now))
            .map(|k| k.key_id)
            .collect();
        assert_eq!(ids.len(), 12, "round {round}: twelve keys to rotate");
        let tasks: Vec<_> = ids
            .into_iter()
            .map(|id| {
                let (svc, u) = (svc.clone(), u.clone());
                tokio::spawn(async move { svc.rotate(&u, id.as_str(), Duration::hours(1)).await })
            })
            .collect();
        let (mut made, mut refused) = (0, 0);
        for task in tasks {
            match task.await {
                Ok(Ok(_)) => made += 1,
                Ok(Err(RotateError::GraceLimitReached { limit: 4 })) => refused += 1,
                Ok(Err(e)) => panic!("round {round}: a concurrent rotation failed: {e:?}"),
                Err(e) => panic!("round {round}: a rotation task panicked: {e}"),
            }
        }
        assert_eq!(
            (made, refused),
            (4, 8),
            "round {round}: exactly the limit of rotations succeed"
        );
        assert_eq!(in_grace(&*store, &u, now).await, 4, "round {round}");
        clock.advance(Duration::hours(1));
    }
}

/// A rotation racing an update that narrows the key's scopes never gives the new key the
/// scopes taken away. At the store, a rotation whose `current` holds other scopes than the
/// row is `Stale` and changes nothing; through the service, the new key copies the narrowed
/// scopes; and in a race, whenever the narrowing succeeded before a rotation without grace
/// (which revokes the old key, so a later narrowing would be `Inactive`), the new key has the
/// narrowed scopes.
pub async fn rotation_racing_a_narrowing_never_widens(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(212);
    let now = clock_now(&clock);
    let wide = ["projects:read", "runs:write"];
    let key = ok(
        svc.create(&u, NewKey::new("k").scopes(wide)).await,
        "create",
    )
    .key;
    let read = row(&*store, key.key_id).await;
    ok(
        svc.update(
            &u,
            key.key_id.as_str(),
            KeyUpdate::new().scopes(["projects:read"]),
        )
        .await,
        "narrow",
    );
    let narrowed = fields(&row(&*store, key.key_id).await);
    let keys_before = ok(svc.list(&u).await, "list").len();
    for grace in [false, true] {
        let new_id = ok(KeyId::parse("RacedNew"), "key id");
        let mut new = KeyRecord::new(
            new_id,
            read.prefix.clone(),
            u.clone(),
            read.name.clone(),
            read.hash,
            read.scopes.clone(),
            now,
        );
        new.expires_at = read.expires_at;
        let mut retired = read.clone();
        retired.replaced_by = Some(new_id);
        if grace {
            retired.expires_at = Some(now + Duration::hours(1));
        } else {
            retired.revoked_at = Some(now);
            retired.revocation_reason = Some(RevocationReason::Rotated);
        }
        let outcome = ok(
            store.rotate(&read, &retired, &new, 10, now).await,
            "rotate with the scopes read before the narrowing",
        );
        assert_eq!(outcome, RotateOutcome::Stale, "grace {grace}: stale");
        assert_eq!(
            fields(&row(&*store, key.key_id).await),
            narrowed,
            "grace {grace}: the row is unchanged"
        );
        assert!(
            ok(store.find(&new_id).await, "find").is_none(),
            "grace {grace}: no new key"
        );
        assert_eq!(ok(svc.list(&u).await, "list").len(), keys_before);
    }
    let rotated = ok(
        svc.rotate(&u, key.key_id.as_str(), Duration::ZERO).await,
        "rotate",
    );
    assert_eq!(rotated.key.scopes.to_string(), "projects:read", "narrowed");

    for round in 0..10 {
        let old = ok(
            svc.create(&u, NewKey::new("raced").scopes(wide)).await,
            "create",
        )
        .key;
        let rotation = {
            let (svc, u) = (svc.clone(), u.clone());
            tokio::spawn(async move { svc.rotate(&u, old.key_id.as_str(), Duration::ZERO).await })
        };
        let narrowing = {
            let (svc, u) = (svc.clone(), u.clone());
            let change = KeyUpdate::new().scopes(["projects:read"]);
            tokio::spawn(async move { svc.update(&u, old.key_id.as_str(), change).await })
        };
        let rotated = match rotation.await {
            Ok(r) => ok(r, "the rotation always succeeds"),
            Err(e) => panic!("rotation task: {e}"),
        };
        let got = rotated.key.scopes.to_string();
        let stored = row(&*store, rotated.key.key_id).await.scopes;
        assert_eq!(stored, rotated.key.scopes, "round {round}: as stored");
        match narrowing.await {
            Ok(Ok(_)) => assert_eq!(
                got, "projects:read",
                "round {round}: narrowed before the rotation, so the new key is narrow"
            ),
            Ok(Err(UpdateError::Inactive)) => assert_eq!(
                stored,
                ok(Scopes::new(wide), "scopes"),
                "round {round}: rotated first, the old scopes"
            ),
            Ok(Err(e)) => panic!("round {round}: narrowing failed: {e:?}"),
            Err(e) => panic!("narrowing task: {e}"),
        }
        // Keeps the user below the active-key limit for the next round.
        ok(
            svc.revoke(&u, rotated.key.key_id.as_str()).await,
            "revoke the new key",
        );
    }
}

/// Twenty concurrent rotations of one key make exactly one new key; the others are `Inactive`.
pub async fn concurrent_rotations_of_one_key_make_exactly_one_new_key(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(204);
    for grace in [Duration::ZERO, Duration::minutes(10)] {
        let old = ok(svc.create(&u, NewKey::new("contended")).await, "create").key;
        let before = ok(svc.list(&u).await, "list").len();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (svc, u) = (svc.clone(), u.clone());
                tokio::spawn(async move { svc.rotate(&u, old.key_id.as_str(), grace).await })
            })
            .collect();
        let mut made = Vec::new();
        for task in tasks {
            match task.await {
                Ok(Ok(rotated)) => made.push(rotated.key.key_id),
                Ok(Err(RotateError::Inactive)) => {}
                Ok(Err(e)) => panic!("a concurrent rotation failed: {e:?}"),
                Err(e) => panic!("a rotation task panicked: {e}"),
            }
        }
        assert_eq!(
            made.len(),
            1,
            "exactly one rotation succeeds (grace {grace})"
        );
        assert_eq!(
            ok(svc.list(&u).await, "list").len(),
            before + 1,
            "exactly one new key"
        );
        assert_eq!(row(&*store, old.key_id).await.replaced_by, Some(made[0]));
    }
}

/// A rotation racing a revocation of the same key: either the rotation commits first (the old
/// row names the new key, and the revocation then revokes the old key), or the revocation does
/// and the rotation is `Inactive` with no new key. Never a new key for a key already revoked.
pub async fn rotation_racing_a_revocation_never_replaces_a_revoked_key(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(205);
    for round in 0..10 {
        let grace = if round % 2 == 0 {
            Duration::ZERO
        } else {
            Duration::minutes(10)
        };
        let old = ok(svc.create(&u, NewKey::new("raced")).await, "create").key;
        let before = ok(svc.list(&u).await, "list").len();
        let rotation = {
            let (svc, u) = (svc.clone(), u.clone());
            tokio::spawn(async move { svc.rotate(&u, old.key_id.as_str(), grace).await })
        };
        let revocation = {
            let (svc, u) = (svc.clone(), u.clone());
            tokio::spawn(async move { svc.revoke(&u, old.key_id.as_str()).await })
        };
        let rotated = match rotation.await {
            Ok(r) => r,
            Err(e) => panic!("rotation task: {e}"),
        };
        match revocation.await {
            Ok(r) => ok(r, "the revocation always succeeds"),
            Err(e) => panic!("revocation task: {e}"),
        }
        let retired = row(&*store, old.key_id).await;
        assert!(
            retired.revoked_at.is_some(),
            "round {round}: revoked in the end"
        );
        let count = ok(svc.list(&u).await, "list").len();
        match rotated {
            Ok(new) => {
                assert_eq!(retired.replaced_by, Some(new.key.key_id), "round {round}");
                assert_eq!(count, before + 1, "round {round}");
                let expected = if grace.is_zero() {
                    RevocationReason::Rotated
                } else {
                    RevocationReason::User
                };
                assert_eq!(retired.revocation_reason, Some(expected), "round {round}");
            }
            Err(RotateError::Inactive) => {
                assert_eq!(retired.replaced_by, None, "round {round}: no replacement");
                assert_eq!(count, before, "round {round}: no new key");
                assert_eq!(retired.revocation_reason, Some(RevocationReason::User));
            }
            Err(e) => panic!("round {round}: rotation failed: {e:?}"),
        }
    }
}

/// Update renames, narrows scopes and moves the expiry earlier; it refuses to widen scopes, an
/// empty or invalid scope list, a later, past or present expiry, a bad name, other users' keys
/// and revoked or expired keys, and after each refusal the row is unchanged.
pub async fn update_only_narrows_and_refusals_change_nothing(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(206);
    let now = clock_now(&clock);
    let new = NewKey::new("ci")
        .scopes(["projects:read", "runs:write", "runs:read"])
        .expires_in(Duration::days(30));
    let key = ok(svc.create(&u, new).await, "create");
    let id = key.key.key_id;

    let changed = ok(
        svc.update(&u, id.as_str(), KeyUpdate::new().name("  ci (narrow) "))
            .await,
        "rename",
    );
    assert_eq!(changed.name, "ci (narrow)", "trimmed like create");
    let changed = ok(
        svc.update(
            &u,
            id.as_str(),
            KeyUpdate::new().scopes(["runs:read", "projects:read"]),
        )
        .await,
        "narrow",
    );
    assert_eq!(changed.scopes.to_string(), "runs:read projects:read");
    let earlier = now + Duration::days(10) + Duration::nanoseconds(1_500);
    let changed = ok(
        svc.update(&u, id.as_str(), KeyUpdate::new().expires_at(earlier))
            .await,
        "move the expiry earlier",
    );
    let truncated = now + Duration::days(10) + Duration::microseconds(1);
    assert_eq!(changed.expires_at, Some(truncated), "to the microsecond");
    let stored = row(&*store, id).await;
    assert_eq!(stored.name, "ci (narrow)");
    assert_eq!(stored.scopes.to_string(), "runs:read projects:read");
    assert_eq!(stored.expires_at, Some(truncated));
    let verified = ok(
        authenticate(&svc, key.token.expose_secret().as_bytes()).await,
        "still works",
    );
    assert_eq!(verified.scopes.to_string(), "runs:read projects:read");
    assert!(!verified.scopes.contains("runs:write"));

    let refusals: Vec<(KeyUpdate, &str)> = vec![
        (
            KeyUpdate::new().scopes(["runs:read", "runs:write"]),
            "widen",
        ),
        (KeyUpdate::new().scopes(["admin"]), "another scope"),
        (
            KeyUpdate::new().scopes(Vec::<String>::new()),
            "empty scopes",
        ),
        (KeyUpdate::new().scopes(["bad scope"]), "invalid scope"),
        (
            KeyUpdate::new().expires_at(now + Duration::days(11)),
            "later",
        ),
        (KeyUpdate::new().expires_at(now), "now"),
        (KeyUpdate::new().expires_at(now - Duration::days(1)), "past"),
        (KeyUpdate::new().name("   "), "blank name"),
        (KeyUpdate::new().name("evil\u{202e}"), "direction override"),
        (
            KeyUpdate::new().name("ok").scopes(["runs:write"]),
            "good name, bad scopes",
        ),
    ];
    for (change, what) in refusals {
        let before = fields(&row(&*store, id).await);
        let result = svc.update(&u, id.as_str(), change).await;
        let refused = matches!(
            result,
            Err(UpdateError::InvalidScopes | UpdateError::InvalidExpiry | UpdateError::InvalidName)
        );
        assert!(refused, "{what}: refused, got {result:?}");
        assert_eq!(fields(&row(&*store, id).await), before, "{what}: unchanged");
    }
    let before = fields(&row(&*store, id).await);
    assert!(matches!(
        svc.update(&user(207), id.as_str(), KeyUpdate::new().name("mine"))
            .await,
        Err(UpdateError::NotFound)
    ));
    assert!(matches!(
        svc.update(&u, "nope", KeyUpdate::new().name("x")).await,
        Err(UpdateError::NotFound)
    ));
    assert_eq!(
        fields(&row(&*store, id).await),
        before,
        "other user: unchanged"
    );

    // An unrestricted key may be given any valid scopes.
    let open = ok(svc.create(&u, NewKey::new("open")).await, "create").key;
    let changed = ok(
        svc.update(
            &u,
            open.key_id.as_str(),
            KeyUpdate::new().scopes(["billing:read"]),
        )
        .await,
        "scope an unrestricted key",
    );
    assert_eq!(changed.scopes.to_string(), "billing:read");

    // Revoked and expired keys are inactive.
    ok(svc.revoke(&u, open.key_id.as_str()).await, "revoke");
    let before = fields(&row(&*store, open.key_id).await);
    assert!(matches!(
        svc.update(&u, open.key_id.as_str(), KeyUpdate::new().name("x"))
            .await,
        Err(UpdateError::Inactive)
    ));
    assert_eq!(fields(&row(&*store, open.key_id).await), before);
    clock.advance(Duration::days(11));
    let before = fields(&row(&*store, id).await);
    assert!(matches!(
        svc.update(&u, id.as_str(), KeyUpdate::new().name("x"))
            .await,
        Err(UpdateError::Inactive)
    ));
    assert_eq!(
        fields(&row(&*store, id).await),
        before,
        "expired: unchanged"
    );
}

/// Concurrent narrowings of one key never widen it: each accepted list is a subset of the
/// scopes the row held when it landed, so the accepted lists form a chain.
pub async fn concurrent_updates_never_widen_a_key(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let svc = service(store.clone(), &clock);
    let u = user(208);
    let key = ok(
        svc.create(&u, NewKey::new("k").scopes(["a", "b", "c"]))
            .await,
        "create",
    )
    .key;
    let lists: [&[&str]; 4] = [&["a", "b"], &["b", "c"], &["a"], &["c"]];
    let tasks: Vec<_> = lists
        .iter()
        .map(|list| {
            let (svc, u) = (svc.clone(), u.clone());
            let change = KeyUpdate::new().scopes(list.iter().copied());
            tokio::spawn(async move { svc.update(&u, key.key_id.as_str(), change).await })
        })
        .collect();
    let mut accepted = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(info)) => accepted.push(info.scopes),
            Ok(Err(UpdateError::InvalidScopes)) => {}
            Ok(Err(e)) => panic!("a concurrent update failed: {e:?}"),
            Err(e) => panic!("an update task panicked: {e}"),
        }
    }
    let last = row(&*store, key.key_id).await.scopes;
    let subset =
        |a: &clab_keys_core::Scopes, b: &clab_keys_core::Scopes| a.iter().all(|s| b.contains(s));
    // Each accepted list was a subset of the row it replaced, so the accepted lists form a
    // chain, and the row ends as the smallest of them.
    assert!(!accepted.is_empty());
    for x in &accepted {
        for y in &accepted {
            assert!(
                subset(x, y) || subset(y, x),
                "{x:?} and {y:?} both accepted"
            );
        }
        assert!(subset(&last, x), "the row {last:?} is narrower than {x:?}");
    }
    assert!(accepted.contains(&last), "the row holds an accepted list");
}
