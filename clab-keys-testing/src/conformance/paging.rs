//! Conformance cases of paginated listing and expiry notices (contract §4).

use std::collections::BTreeSet;
use std::sync::Arc;

use time::Duration;

use super::{clock_now, limited, ok, record, service, user};
use crate::ManualClock;
use clab_keys_core::{
    InsertOutcome, KeyCursor, KeyId, KeyServiceConfig, KeyStore, ListPage, NewKey,
};

/// Pages follow each other without gaps or repeats, newest first with ties in `created_at`
/// broken by key id, and match `list`; other users' keys never appear; a key created after the
/// first page does not shift the next ones.
pub async fn list_pages_walk_every_key_once_with_ties(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let config = KeyServiceConfig::default().max_active_keys(100);
    let svc = limited(store.clone(), &clock, config);
    let (u, other) = (user(300), user(301));
    let t0 = clock_now(&clock);
    // Eleven keys at three instants (ties), and another user's keys in between.
    let ids = [
        "pageA001", "pageB002", "pageC003", "pageD004", "pageE005", "pageF006", "pageG007",
        "pageH008", "pageI009", "pageJ010", "pageK011",
    ];
    for (i, id) in ids.iter().enumerate() {
        let at = t0 + Duration::seconds((i % 3) as i64);
        let r = record(id, &u, at);
        assert_eq!(
            ok(store.insert_within_limit(&r, 100, t0).await, "insert"),
            InsertOutcome::Inserted
        );
    }
    for id in ["pageX001", "pageX002"] {
        let r = record(id, &other, t0 + Duration::seconds(1));
        ok(store.insert_within_limit(&r, 100, t0).await, "insert");
    }
    let all: Vec<KeyId> = ok(svc.list(&u).await, "list")
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(all.len(), ids.len());

    for size in [1, 3, 4, 11, 100] {
        let mut walked = Vec::new();
        let mut page = ok(ListPage::new(size), "page size");
        let mut pages = 0;
        loop {
            let got = ok(svc.list_page(&u, page).await, "list page");
            pages += 1;
            assert!(got.keys.len() <= size as usize);
            walked.extend(got.keys.iter().map(|k| k.key_id));
            match got.next {
                Some(next) => {
                    assert_eq!(got.keys.len(), size as usize, "only a full page has a next");
                    // Through its text form, as a `?cursor=` would carry it.
                    let text = next.to_string();
                    page = page.after(ok(KeyCursor::parse(&text), "cursor"));
                }
                None => break,
            }
            assert!(pages <= ids.len(), "pages never end");
        }
        assert_eq!(
            walked, all,
            "page size {size}: every key once, in list order"
        );
    }

    // A key created between two pages is newer than everything: it does not shift them.
    let first = ok(
        svc.list_page(&u, ok(ListPage::new(4), "size")).await,
        "page",
    );
    clock.advance(Duration::minutes(1));
    ok(svc.create(&u, NewKey::new("newest")).await, "create");
    let next = first.next.unwrap_or_else(|| panic!("a next page"));
    let second = ok(
        svc.list_page(&u, ok(ListPage::new(4), "size").after(next))
            .await,
        "page",
    );
    let second: Vec<KeyId> = second.keys.iter().map(|k| k.key_id).collect();
    assert_eq!(second, all[4..8], "the second page is unchanged");
    let empty = ok(svc.list_page(&user(302), ListPage::default()).await, "page");
    assert!(empty.keys.is_empty() && empty.next.is_none());
}

/// `expiring_within` reports each key expiring within the window once, across two services on
/// one store calling at the same time; never revoked, replaced, expired or later keys, nor keys
/// without expiry. Claimed rows carry `expiry_notified_at`.
pub async fn expiring_keys_are_reported_once_across_instances(store: Arc<dyn KeyStore>) {
    let clock = ManualClock::fixed();
    let (one, two) = (
        service(store.clone(), &clock),
        service(store.clone(), &clock),
    );
    let u = user(310);
    let now = clock_now(&clock);
    let days = |n: i64| NewKey::new(format!("in {n} days")).expires_in(Duration::days(n));
    let mut due = BTreeSet::new();
    for n in [1, 3, 6] {
        due.insert(ok(one.create(&u, days(n)).await, "create").key.key_id);
    }
    let later = ok(one.create(&u, days(10)).await, "create").key.key_id;
    ok(one.create(&u, NewKey::new("forever")).await, "create");
    let revoked = ok(one.create(&u, days(2)).await, "create").key.key_id;
    ok(one.revoke(&u, revoked.as_str()).await, "revoke");
    let replaced = ok(one.create(&u, days(2)).await, "create").key.key_id;
    let successor = ok(
        one.rotate(&u, replaced.as_str(), Duration::hours(1)).await,
        "rotate",
    );
    due.insert(successor.key.key_id); // expires with the old key, in 2 days
    let gone = ok(
        one.create(&u, NewKey::new("gone").expires_in(Duration::minutes(1)))
            .await,
        "create",
    );
    clock.advance(Duration::minutes(1));
    let now_then = clock_now(&clock);

    let week = Duration::days(7);
    let (a, b) = tokio::join!(
        {
            let one = one.clone();
            tokio::spawn(async move { one.expiring_within(week).await })
        },
        {
            let two = two.clone();
            tokio::spawn(async move { two.expiring_within(week).await })
        }
    );
    let a = ok(a.unwrap_or_else(|e| panic!("task: {e}")), "expiring (one)");
    let b = ok(b.unwrap_or_else(|e| panic!("task: {e}")), "expiring (two)");
    let a_ids: BTreeSet<KeyId> = a.iter().map(|k| k.key_id).collect();
    let b_ids: BTreeSet<KeyId> = b.iter().map(|k| k.key_id).collect();
    assert!(a_ids.is_disjoint(&b_ids), "never both: {a_ids:?} {b_ids:?}");
    assert_eq!(a.len() + b.len(), due.len(), "each once");
    let union: BTreeSet<KeyId> = a_ids.union(&b_ids).copied().collect();
    assert_eq!(union, due, "exactly the keys due");
    assert!(!union.contains(&gone.key.key_id));
    for id in &due {
        let r = ok(store.find(id).await, "find").unwrap_or_else(|| panic!("row"));
        assert_eq!(r.expiry_notified_at, Some(now_then), "claimed now");
    }
    assert_eq!(
        ok(store.find(&later).await, "find").and_then(|r| r.expiry_notified_at),
        None,
        "a key outside the window is not claimed"
    );
    assert!(ok(one.expiring_within(week).await, "again").is_empty());
    assert!(ok(two.expiring_within(week).await, "again").is_empty());
    assert!(ok(one.expiring_within(Duration::days(-1)).await, "negative").is_empty());

    // Four days on, the ten-day key is within a week: reported once.
    clock.advance(Duration::days(4));
    let later_report = ok(two.expiring_within(week).await, "later");
    let ids: Vec<KeyId> = later_report.iter().map(|k| k.key_id).collect();
    assert_eq!(ids, [later]);
    assert!(ok(one.expiring_within(week).await, "again").is_empty());
    let _ = now;
}
