//! The router target's world: one memory store holding keys in every state, seen through three
//! credential routers (plain, with the verification cache, and over a store that is down), a
//! stand-in JWT verifier, and a current-thread tokio runtime. Built once per process.
//!
//! Keys come from a seeded entropy source, so their tokens are the same in every run and the
//! seed corpus can hold them (`examples/gen_corpus.rs` writes them).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};

use clab_keys_core::{BearerOutcome, looks_like_jwt, parse_authorization};
use clab_keys_core::{
    CacheConfig, CredentialKind, CredentialRouter, JwtError, JwtIdentity, JwtVerifier, KeyFormats,
    KeyHasher, KeyId, KeyPrefix, KeyService, KeyServiceConfig, KeyStore, MemoryStore, NewKey,
    Pepper, Principal, Realm, Rejection, RejectionKind, Scopes, TokenFormat, UserId,
};
use clab_keys_core::{Entropy, EntropyError};
use clab_keys_testing::{CallCounts, FailingStore, ManualClock, RecordingStore};
use time::Duration;

use crate::alloc_count::measure;
use crate::{check_rejection, must};

/// A JWT (JWS-shaped) the stand-in verifier accepts, for user `1`.
pub const JWT_OK: &str = clab_keys_testing::http_table::JWT_USER1;
/// A JWT for which the stand-in verifier reports that it cannot decide (503).
pub const JWT_DOWN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkb3duIn0.ZG93bi1zaWduYXR1cmU";
/// The realm of every router here.
pub const REALM: &str = "fuzz";
/// Most bytes one authentication may allocate, whatever the size of the header.
pub const MAX_ALLOC_BYTES: usize = 16 * 1024;

/// Entropy from a fixed seed (SplitMix64): the same keys in every run. Test use only.
#[derive(Debug)]
pub struct SeededEntropy(Mutex<u64>);

impl SeededEntropy {
    /// A source seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(seed))
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in dest.chunks_mut(8) {
            *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// The application's JWT verifier, stood in for: two known tokens, the rest invalid. It also
/// checks the router's promise that only JWS-shaped tokens reach it.
#[derive(Debug)]
struct StandInJwt;

#[async_trait::async_trait]
impl JwtVerifier for StandInJwt {
    async fn verify(&self, token: &str) -> Result<JwtIdentity, JwtError> {
        assert!(
            looks_like_jwt(token.as_bytes()),
            "the router passed a token that is not JWS-shaped to the JWT verifier"
        );
        match token {
            JWT_OK => Ok(JwtIdentity::new(UserId::from(1_i64))),
            JWT_DOWN => Err(JwtError::Unavailable("verifier down (fuzz)".into())),
            _ => Err(JwtError::Invalid),
        }
    }
}

/// The world's tokens, by state.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Active, unrestricted, user 1.
    pub key: String,
    /// Active, limited to `projects:read`, user 1.
    pub scoped_key: String,
    /// Revoked, user 1.
    pub revoked_key: String,
    /// Expired, user 1.
    pub expired_key: String,
    /// Active, user `alice` (a string user id).
    pub other_user_key: String,
    /// Active, in the second format (`clab_agent_`), user 4.
    pub agent_key: String,
    /// Active, hashed with the previous pepper (re-hashed on first use), user 3.
    pub old_pepper_key: String,
}

/// A token the routers must accept, and the principal they must yield.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The exact token.
    pub token: Vec<u8>,
    /// The user.
    pub user: UserId,
    /// JWT or API key.
    pub kind: CredentialKind,
    /// The key id, for API keys.
    pub key_id: Option<KeyId>,
    /// The scopes the credential is limited to.
    pub scopes: Option<Scopes>,
}

/// See the module docs.
#[derive(Debug)]
pub struct World {
    rt: tokio::runtime::Runtime,
    plain: CredentialRouter,
    cached: CredentialRouter,
    down: CredentialRouter,
    counts: Arc<CallCounts>,
    formats: KeyFormats,
    /// Every credential that must be accepted.
    pub accepted: Vec<Accepted>,
    /// The keys, by state.
    pub tokens: Tokens,
}

const PEPPER_OLD: [u8; 32] = [0x11; 32];
const PEPPER_NEW: [u8; 32] = [0x22; 32];

fn formats(first: &str, second: &str) -> KeyFormats {
    let f = |p: &str| TokenFormat::new(must(KeyPrefix::new(p), "prefix"));
    must(KeyFormats::new(vec![f(first), f(second)]), "formats")
}

fn hasher() -> KeyHasher {
    let new = must(Pepper::from_bytes(&PEPPER_NEW), "pepper");
    let old = must(Pepper::from_bytes(&PEPPER_OLD), "pepper");
    must(
        must(KeyHasher::hmac(2, new), "hasher").with_previous(1, old),
        "previous pepper",
    )
}

fn service(
    store: impl KeyStore,
    clock: &ManualClock,
    cache: Option<CacheConfig>,
    seed: u64,
) -> KeyService {
    must(
        KeyService::builder(store, hasher())
            .formats(formats("clab_user_", "clab_agent_"))
            .clock(clock.clone())
            .entropy(SeededEntropy::new(seed))
            .config(KeyServiceConfig::default().cache(cache))
            .build(),
        "service",
    )
}

fn router(keys: KeyService) -> CredentialRouter {
    CredentialRouter::new(keys)
        .with_jwt(StandInJwt)
        .with_realm(must(Realm::new(REALM), "realm"))
}

fn id_of(token: &str) -> KeyId {
    let body = &token[token.len() - clab_keys_core::TokenFormat::BODY_LEN..];
    must(
        KeyId::parse(&body[..clab_keys_core::TokenFormat::KEY_ID_LEN]),
        "id",
    )
}

/// What a router must answer.
#[derive(Debug, Clone)]
enum Expect<'w> {
    Accept(&'w Accepted),
    Reject(RejectionKind),
}

impl World {
    /// The world, built on first use.
    pub fn get() -> &'static World {
        static WORLD: OnceLock<World> = OnceLock::new();
        WORLD.get_or_init(Self::build)
    }

    fn build() -> Self {
        let rt = must(
            tokio::runtime::Builder::new_current_thread().build(),
            "runtime",
        );
        let memory = MemoryStore::new();
        let clock = ManualClock::fixed();
        let tokens = rt.block_on(async {
            let create = |svc: &KeyService, user: UserId, new: NewKey| {
                let svc = svc.clone();
                async move {
                    must(svc.create(&user, new).await, "create")
                        .token
                        .expose_secret()
                        .to_owned()
                }
            };
            // A key made while pepper 1 was current.
            let old = must(
                KeyService::builder(
                    memory.clone(),
                    must(
                        KeyHasher::hmac(1, must(Pepper::from_bytes(&PEPPER_OLD), "pepper")),
                        "hasher",
                    ),
                )
                .clock(clock.clone())
                .entropy(SeededEntropy::new(1))
                .build(),
                "service",
            );
            let old_pepper_key = create(&old, UserId::from(3_i64), NewKey::new("old")).await;
            let main = service(memory.clone(), &clock, None, 2);
            let u1 = UserId::from(1_i64);
            let key = create(&main, u1.clone(), NewKey::new("key")).await;
            let scoped_key = create(
                &main,
                u1.clone(),
                NewKey::new("scoped").scopes(["projects:read"]),
            )
            .await;
            let revoked_key = create(&main, u1.clone(), NewKey::new("revoked")).await;
            must(
                main.revoke(&u1, id_of(&revoked_key).as_str()).await,
                "revoke",
            );
            let expired_key = create(
                &main,
                u1.clone(),
                NewKey::new("expired").expires_in(Duration::hours(1)),
            )
            .await;
            let alice = must(UserId::new("alice"), "user id");
            let other_user_key = create(&main, alice, NewKey::new("alice")).await;
            let agent = must(
                KeyService::builder(memory.clone(), hasher())
                    .formats(formats("clab_agent_", "clab_user_"))
                    .clock(clock.clone())
                    .entropy(SeededEntropy::new(3))
                    .build(),
                "service",
            );
            let agent_key = create(&agent, UserId::from(4_i64), NewKey::new("agent")).await;
            Tokens {
                key,
                scoped_key,
                revoked_key,
                expired_key,
                other_user_key,
                agent_key,
                old_pepper_key,
            }
        });
        clock.advance(Duration::hours(2));

        let recording = RecordingStore::new(Arc::new(memory.clone()) as Arc<dyn KeyStore>);
        let counts = recording.counts();
        let plain = router(service(recording, &clock, None, 10));
        let cached = router(service(
            memory.clone(),
            &clock,
            Some(CacheConfig::default()),
            11,
        ));
        let failing = FailingStore::new(Arc::new(memory) as Arc<dyn KeyStore>);
        failing.set_failing(true);
        let down = router(service(failing, &clock, None, 12));

        let key = |token: &str, user: UserId, scopes: Option<&str>| Accepted {
            token: token.as_bytes().to_vec(),
            user,
            kind: CredentialKind::ApiKey,
            key_id: Some(id_of(token)),
            scopes: scopes.map(|s| must(Scopes::new([s]), "scopes")),
        };
        let accepted = vec![
            key(&tokens.key, UserId::from(1_i64), None),
            key(
                &tokens.scoped_key,
                UserId::from(1_i64),
                Some("projects:read"),
            ),
            key(
                &tokens.other_user_key,
                must(UserId::new("alice"), "user id"),
                None,
            ),
            key(&tokens.agent_key, UserId::from(4_i64), None),
            key(&tokens.old_pepper_key, UserId::from(3_i64), None),
            Accepted {
                token: JWT_OK.as_bytes().to_vec(),
                user: UserId::from(1_i64),
                kind: CredentialKind::Jwt,
                key_id: None,
                scopes: None,
            },
        ];
        Self {
            rt,
            plain,
            cached,
            down,
            counts,
            formats: formats("clab_user_", "clab_agent_"),
            accepted,
            tokens,
        }
    }

    fn expect<'w>(&'w self, outcome: BearerOutcome<'_>, store_down: bool) -> Expect<'w> {
        let token = match outcome {
            BearerOutcome::Missing => return Expect::Reject(RejectionKind::MissingCredentials),
            BearerOutcome::InvalidRequest => return Expect::Reject(RejectionKind::InvalidRequest),
            BearerOutcome::InvalidToken => return Expect::Reject(RejectionKind::InvalidToken),
            BearerOutcome::Token(t) => t,
        };
        if token == JWT_DOWN.as_bytes() {
            return Expect::Reject(RejectionKind::Unavailable);
        }
        if store_down && self.formats.parse(token).is_ok() {
            // Every well-formed key needs the store: fail closed.
            return Expect::Reject(RejectionKind::Unavailable);
        }
        match self.accepted.iter().find(|a| a.token == token) {
            Some(a) => Expect::Accept(a),
            None => Expect::Reject(RejectionKind::InvalidToken),
        }
    }

    fn check_result(&self, which: &str, result: &Result<Principal, Rejection>, want: &Expect<'_>) {
        match (result, want) {
            (Ok(p), Expect::Accept(a)) => {
                assert_eq!(p.user_id(), &a.user, "{which}: user");
                assert_eq!(p.kind(), a.kind, "{which}: credential kind");
                assert_eq!(p.key_id(), a.key_id, "{which}: key id");
                assert_eq!(p.scopes(), a.scopes.as_ref(), "{which}: scopes");
            }
            (Err(r), Expect::Reject(kind)) => {
                assert_eq!(r.kind(), kind, "{which}: rejection kind");
                assert!(
                    matches!(r.status(), 400 | 401 | 503),
                    "{which}: status {}",
                    r.status()
                );
                check_rejection(r, REALM);
            }
            (got, want) => panic!("{which}: got {got:?}, want {want:?}"),
        }
    }

    /// Runs one request's header lines through every router and checks the answers.
    pub fn check(&self, lines: &[&[u8]]) {
        let outcome = parse_authorization(lines.iter().copied());
        let want = self.expect(outcome, false);

        let finds = self.counts.find.load(Ordering::SeqCst);
        let (plain, allocs) = measure(|| {
            self.rt
                .block_on(self.plain.authenticate(lines.iter().copied()))
        });
        let finds = self.counts.find.load(Ordering::SeqCst) - finds;
        self.check_result("router", &plain, &want);
        assert!(
            allocs.bytes <= MAX_ALLOC_BYTES,
            "one authentication allocated {allocs:?}"
        );
        let well_formed_key =
            matches!(outcome, BearerOutcome::Token(t) if self.formats.parse(t).is_ok());
        if !well_formed_key {
            assert_eq!(finds, 0, "a malformed credential reached the store");
        }

        let optional = self
            .rt
            .block_on(self.plain.authenticate_optional(lines.iter().copied()));
        match (&optional, &plain) {
            (Ok(None), Err(r)) => assert_eq!(r.kind(), &RejectionKind::MissingCredentials),
            (Ok(Some(a)), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!("authenticate_optional {optional:?} vs authenticate {plain:?}"),
        }

        // The verification cache never changes an answer (first call fills, second hits).
        for _ in 0..2 {
            let cached = self
                .rt
                .block_on(self.cached.authenticate(lines.iter().copied()));
            self.check_result("cached router", &cached, &want);
        }

        // A store that is down: keys fail closed with 503; header errors and JWTs are as usual.
        let down = self
            .rt
            .block_on(self.down.authenticate(lines.iter().copied()));
        self.check_result(
            "router over a failing store",
            &down,
            &self.expect(outcome, true),
        );
    }
}
