//! L-2: the audit events of the key service (`target: "clab_keys::audit"`, OWASP logging
//! vocabulary), captured by a `tracing` layer that keeps every field of every event: who
//! (`user_id`) and which key (`key_id`) where known, why (`reason`), and never the token, its
//! secret or its digest.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use clab_keys_core::{
    CacheConfig, CredentialRouter, KeyHasher, KeyService, KeyServiceConfig, MemoryStore, NewKey,
    Pepper, UserId,
};
use clab_keys_testing::ManualClock;
use clab_keys_testing::conformance::forge_secret;
use time::Duration;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// One captured event: its target, level and every field as text.
#[derive(Debug, Clone)]
struct Captured {
    target: String,
    level: Level,
    fields: BTreeMap<String, String>,
}

impl Captured {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

struct FieldVisitor<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// A layer that keeps every event.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Captured>>>);

impl<S: Subscriber> Layer<S> for Collector {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut FieldVisitor(&mut fields));
        self.0.lock().unwrap().push(Captured {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
        });
    }
}

impl Collector {
    fn all(&self) -> Vec<Captured> {
        self.0.lock().unwrap().clone()
    }

    /// The audit events named `name`.
    fn named(&self, name: &str) -> Vec<Captured> {
        self.all()
            .into_iter()
            .filter(|e| e.target == "clab_keys::audit" && e.field("event") == Some(name))
            .collect()
    }

    /// Asserts that no field of any event contains any of `secrets`.
    fn assert_never_contains(&self, secrets: &[String]) {
        for event in self.all() {
            for (name, value) in &event.fields {
                for secret in secrets {
                    assert!(
                        !value.contains(secret.as_str()),
                        "field `{name}` of {event:?} contains a secret"
                    );
                }
            }
        }
    }
}

/// Captures the events of the current thread (tokio's current-thread test runtime) until the
/// guard is dropped.
fn capture() -> (Collector, tracing::subscriber::DefaultGuard) {
    let collector = Collector::default();
    let subscriber = tracing_subscriber::registry().with(collector.clone());
    (collector, tracing::subscriber::set_default(subscriber))
}

const PEPPER: [u8; 32] = [0x42; 32];

fn hasher(version: u16) -> KeyHasher {
    KeyHasher::hmac(version, Pepper::from_bytes(&PEPPER).unwrap()).unwrap()
}

fn service(clock: &ManualClock, store: &MemoryStore, cache: Option<CacheConfig>) -> KeyService {
    KeyService::builder(store.clone(), hasher(1))
        .clock(clock.clone())
        .config(KeyServiceConfig::default().cache(cache))
        .build()
        .unwrap()
}

/// Everything about a token that must never be logged: the token, its secret part, and its
/// digest in hex and base64.
fn secrets_of(token: &str) -> Vec<String> {
    use base64::Engine as _;
    let digest = *hasher(1).hash(token.as_bytes()).digest.as_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        token.to_owned(),
        token[18..50].to_owned(),
        hex.clone(),
        hex.to_ascii_uppercase(),
        base64::engine::general_purpose::STANDARD.encode(digest),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
    ]
}

fn key_id_of(token: &str) -> &str {
    &token[10..18]
}

#[tokio::test]
async fn created_and_revoked_carry_key_and_user() {
    let (events, _guard) = capture();
    let clock = ManualClock::fixed();
    let svc = service(&clock, &MemoryStore::new(), None);
    let user = UserId::from(7_i64);
    let created = svc.create(&user, NewKey::new("laptop")).await.unwrap();
    let token = created.token.expose_secret().to_owned();
    let id = created.key.key_id.to_string();

    let made = events.named("authn_token_created");
    assert_eq!(made.len(), 1, "{:?}", events.all());
    assert_eq!(made[0].level, Level::INFO);
    assert_eq!(made[0].field("key_id"), Some(id.as_str()));
    assert_eq!(made[0].field("user_id"), Some("7"));

    // Another user's revoke is "not found" and is not a revocation.
    svc.revoke(&UserId::from(8_i64), &id).await.unwrap_err();
    assert!(events.named("authn_token_revoked").is_empty());

    svc.revoke(&user, &id).await.unwrap();
    let revoked = events.named("authn_token_revoked");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].level, Level::INFO);
    assert_eq!(revoked[0].field("key_id"), Some(id.as_str()));
    assert_eq!(revoked[0].field("user_id"), Some("7"));

    events.assert_never_contains(&secrets_of(&token));
}

#[tokio::test]
async fn presenting_a_revoked_key_is_token_reuse() {
    let (events, _guard) = capture();
    let clock = ManualClock::fixed();
    let svc = service(&clock, &MemoryStore::new(), None);
    let user = UserId::new("alice").unwrap();
    let created = svc.create(&user, NewKey::new("ci")).await.unwrap();
    let token = created.token.expose_secret().to_owned();
    svc.revoke(&user, key_id_of(&token)).await.unwrap();

    svc.authenticate(token.as_bytes()).await.unwrap_err();
    let reuse = events.named("authn_token_reuse");
    assert_eq!(reuse.len(), 1, "{:?}", events.all());
    assert_eq!(reuse[0].level, Level::WARN);
    assert_eq!(reuse[0].field("key_id"), Some(key_id_of(&token)));
    assert_eq!(reuse[0].field("user_id"), Some("alice"));

    // A wrong secret for the revoked key's id is a mismatch, not a reuse: only the holder of
    // the real (revoked) token can be "reusing" it.
    svc.authenticate(forge_secret(&token).as_bytes())
        .await
        .unwrap_err();
    assert_eq!(events.named("authn_token_reuse").len(), 1);
    let fails = events.named("authn_token_fail");
    assert_eq!(fails.len(), 1);
    assert_eq!(fails[0].field("reason"), Some("mismatch"));

    events.assert_never_contains(&secrets_of(&token));
    events.assert_never_contains(&secrets_of(&forge_secret(&token)));
}

#[tokio::test]
async fn failures_name_the_reason_key_and_user_where_known() {
    let (events, _guard) = capture();
    let clock = ManualClock::fixed();
    let store = MemoryStore::new();
    let svc = service(&clock, &store, None);
    let user = UserId::from(1_i64);
    let key = svc
        .create(&user, NewKey::new("key"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    let expiring = svc
        .create(&user, NewKey::new("short").expires_in(Duration::hours(1)))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    // A key hashed with pepper version 9, which the service does not know.
    let foreign = KeyService::builder(store.clone(), hasher(9))
        .clock(clock.clone())
        .build()
        .unwrap()
        .create(&user, NewKey::new("foreign"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    clock.advance(Duration::hours(2));

    // An unknown id: one made from the key by changing its id, with a valid checksum.
    let other = KeyService::builder(
        MemoryStore::new(),
        clab_keys_core::dangerous::sha256_hasher(),
    )
    .build()
    .unwrap()
    .create(&user, NewKey::new("elsewhere"))
    .await
    .unwrap()
    .token
    .expose_secret()
    .to_owned();

    let cases = [
        (forge_secret(&key), "mismatch", Some("1")),
        (expiring.clone(), "expired", Some("1")),
        (other.clone(), "unknown", None),
        (foreign.clone(), "unknown_hash_version", Some("1")),
    ];
    for (token, reason, user_id) in &cases {
        let before = events.named("authn_token_fail").len();
        svc.authenticate(token.as_bytes()).await.unwrap_err();
        let fails = events.named("authn_token_fail");
        assert_eq!(fails.len(), before + 1, "one event for `{reason}`");
        let e = fails.last().unwrap();
        assert_eq!(e.level, Level::INFO);
        assert_eq!(e.field("reason"), Some(*reason));
        assert_eq!(e.field("key_id"), Some(key_id_of(token)), "`{reason}`");
        assert_eq!(
            e.field("user_id"),
            *user_id,
            "`{reason}`: user id where known"
        );
    }

    // Malformed tokens (bad checksum, wrong length) are refused before any lookup; whatever is
    // logged about them holds no part of them.
    let mut tampered = key.clone().into_bytes();
    tampered[30] = if tampered[30] == b'a' { b'b' } else { b'a' };
    svc.authenticate(&tampered).await.unwrap_err();
    svc.authenticate(b"clab_user_short").await.unwrap_err();

    for (token, _, _) in &cases {
        events.assert_never_contains(&secrets_of(token));
    }
    events.assert_never_contains(&secrets_of(&key));
    events.assert_never_contains(&[String::from_utf8(tampered[18..50].to_vec()).unwrap()]);
}

#[tokio::test]
async fn successful_use_logs_no_secret() {
    let (events, _guard) = capture();
    let clock = ManualClock::fixed();
    let svc = service(&clock, &MemoryStore::new(), Some(CacheConfig::default()));
    let router = CredentialRouter::new(svc.clone());
    let token = svc
        .create(&UserId::from(3_i64), NewKey::new("k"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    let header = format!("Bearer {token}");
    for _ in 0..3 {
        // The first use fills the cache and writes last_used_at; the others hit the cache.
        router.authenticate([header.as_bytes()]).await.unwrap();
    }
    assert!(events.named("authn_token_fail").is_empty());
    events.assert_never_contains(&secrets_of(&token));
}

/// A key that expires while its successful verification is still cached is refused from the
/// cache, and the event names the key, the reason and the user (the cached entry knows it).
#[tokio::test]
async fn expiry_seen_from_the_cache_names_the_user() {
    let (events, _guard) = capture();
    let clock = ManualClock::fixed();
    let svc = service(&clock, &MemoryStore::new(), Some(CacheConfig::default()));
    let token = svc
        .create(
            &UserId::from(5_i64),
            NewKey::new("short").expires_in(Duration::seconds(2)),
        )
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    svc.authenticate(token.as_bytes()).await.unwrap();
    clock.advance(Duration::seconds(3)); // past expiry, within the 5 s cache TTL
    svc.authenticate(token.as_bytes()).await.unwrap_err();
    let fails = events.named("authn_token_fail");
    assert_eq!(fails.len(), 1);
    assert_eq!(fails[0].field("reason"), Some("expired"));
    assert_eq!(fails[0].field("key_id"), Some(key_id_of(&token)));
    assert_eq!(fails[0].field("user_id"), Some("5"));
}

/// Malformed tokens are logged with a reason (`checksum` or `malformed`) and nothing of the
/// unvalidated input: no key id, no token.
#[tokio::test]
async fn malformed_tokens_are_logged_without_any_input() {
    let (events, _guard) = capture();
    let clock = ManualClock::fixed();
    let svc = service(&clock, &MemoryStore::new(), None);
    let token = svc
        .create(&UserId::from(6_i64), NewKey::new("k"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    let mut bad_checksum = token.clone().into_bytes();
    let last = bad_checksum.len() - 1;
    bad_checksum[last] = if bad_checksum[last] == b'a' {
        b'b'
    } else {
        b'a'
    };
    svc.authenticate(&bad_checksum).await.unwrap_err();
    svc.authenticate(b"clab_user_short").await.unwrap_err();
    let fails = events.named("authn_token_fail");
    let reasons: Vec<_> = fails.iter().map(|e| e.field("reason")).collect();
    assert_eq!(reasons, [Some("checksum"), Some("malformed")]);
    for e in &fails {
        assert_eq!(e.field("key_id"), None, "unvalidated input is never logged");
        assert_eq!(e.field("user_id"), None);
    }
}
