//! The state every table row starts from: a key service over a (switchable) memory store, a
//! stand-in JWT verifier, and keys in every state.

use std::sync::Arc;

use time::Duration;

use crate::{FailingStore, ManualClock};
use clab_keys_core::KeyHasher;
use clab_keys_core::Pepper;
use clab_keys_core::TokenFormat;
use clab_keys_core::UserId;
use clab_keys_core::{CredentialRouter, JwtError, JwtIdentity, JwtVerifier, Realm};
use clab_keys_core::{KeyService, NewKey};
use clab_keys_core::{KeyStore, MemoryStore};

/// A well-formed (JWS-shaped) token the stand-in verifier accepts for user 1.
pub const JWT_USER1: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dXNlci0xLXNpZ25hdHVyZQ";
/// A JWT the stand-in verifier accepts for user 2.
pub const JWT_USER2: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.dXNlci0yLXNpZ25hdHVyZQ";
/// A JWT the stand-in verifier treats as expired.
pub const JWT_EXPIRED: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiZXhwIjoxfQ.ZXhwaXJlZC1zaWc";
/// A JWT of user 1 whose login was an hour ago: valid, but too old for the fixture router's
/// re-authentication window ([`REAUTHENTICATION`]), so it may not create or rotate keys.
pub const JWT_STALE_SESSION: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiYXV0aF90aW1lIjoxfQ.c3RhbGUtc2Vzc2lvbg";
/// A JWT whose signature the stand-in verifier rejects.
pub const JWT_BAD_SIGNATURE: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.YmFkLXNpZ25hdHVyZQ";

/// The realm of the fixture's router.
pub const REALM: &str = "clab-keys-test";

/// The fixture router's re-authentication window for creating and rotating keys.
pub const REAUTHENTICATION: Duration = Duration::minutes(15);

/// A stand-in for the application's JWT verifier: it knows a fixed set of tokens. Real JWT
/// verification (with `jsonwebtoken`) is tested in the example apps; here only the router's
/// handling of the verifier's answers is under test.
#[derive(Debug, Default)]
pub struct FixedJwtVerifier;

#[async_trait::async_trait]
impl JwtVerifier for FixedJwtVerifier {
    async fn verify(&self, token: &str) -> Result<JwtIdentity, JwtError> {
        match token {
            JWT_USER1 => Ok(JwtIdentity::new(UserId::from(1_i64))),
            JWT_USER2 => Ok(JwtIdentity::new(UserId::from(2_i64))),
            _ => Err(JwtError::Invalid),
        }
    }
}

/// The fixture's sessions: [`FixedJwtVerifier`]'s tokens, logged in a minute before the
/// fixture clock's now, and [`JWT_STALE_SESSION`], logged in an hour before it.
#[derive(Debug)]
struct FixtureSessions(ManualClock);

#[async_trait::async_trait]
impl JwtVerifier for FixtureSessions {
    async fn verify(&self, token: &str) -> Result<JwtIdentity, JwtError> {
        let now = clab_keys_core::Clock::now(&self.0);
        if token == JWT_STALE_SESSION {
            return Ok(
                JwtIdentity::new(UserId::from(1_i64)).with_auth_time(now - Duration::hours(1))
            );
        }
        let identity = FixedJwtVerifier.verify(token).await?;
        Ok(identity.with_auth_time(now - Duration::minutes(1)))
    }
}

/// The starting state of one table row.
#[derive(Debug)]
pub struct Fixture {
    /// The router the app under test must use (for its extractors and management routes).
    pub router: CredentialRouter,
    /// The service's clock.
    pub clock: ManualClock,
    /// Switches the store off for fail-closed rows.
    pub store: FailingStore,
    /// An active, unrestricted key of user 1.
    pub key: String,
    /// An active key of user 1 limited to `projects:read`.
    pub scoped_key: String,
    /// An active key of user 1 limited to `runs:write`.
    pub other_scope_key: String,
    /// An active key of user 1 limited to `keys:read` (it may list keys).
    pub keys_read_key: String,
    /// A revoked key of user 1.
    pub revoked_key: String,
    /// An expired key of user 1.
    pub expired_key: String,
    /// An active key of user 2.
    pub other_user_key: String,
}

fn must<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("fixture: {what} failed: {e}"),
    }
}

impl Fixture {
    /// Builds a fresh fixture.
    pub async fn new() -> Self {
        let clock = ManualClock::fixed();
        let store = FailingStore::new(Arc::new(MemoryStore::new()) as Arc<dyn KeyStore>);
        let pepper = must(Pepper::from_bytes(&[0x42; 32]), "pepper");
        let keys = must(
            KeyService::builder(store.clone(), must(KeyHasher::hmac(1, pepper), "hasher"))
                .clock(clock.clone())
                .build(),
            "service",
        );
        let router = CredentialRouter::new(keys.clone())
            .with_jwt(FixtureSessions(clock.clone()))
            .with_realm(must(Realm::new(REALM), "realm"))
            .with_reauthentication(REAUTHENTICATION);
        let u1 = UserId::from(1_i64);
        let u2 = UserId::from(2_i64);
        let create = |user: &UserId, new: NewKey| {
            let keys = keys.clone();
            let user = user.clone();
            async move {
                must(keys.create(&user, new).await, "create")
                    .token
                    .expose_secret()
                    .to_owned()
            }
        };
        let key = create(&u1, NewKey::new("valid")).await;
        let scoped_key = create(&u1, NewKey::new("scoped").scopes(["projects:read"])).await;
        let other_scope_key = create(&u1, NewKey::new("runs").scopes(["runs:write"])).await;
        let keys_read_key = create(&u1, NewKey::new("lister").scopes(["keys:read"])).await;
        let revoked_key = create(&u1, NewKey::new("revoked")).await;
        let revoked_id = &revoked_key[revoked_key.len() - TokenFormat::BODY_LEN..][..8];
        must(keys.revoke(&u1, revoked_id).await, "revoke");
        let expired_key = create(&u1, NewKey::new("expired").expires_in(Duration::hours(1))).await;
        let other_user_key = create(&u2, NewKey::new("other user")).await;
        clock.advance(Duration::hours(2));
        Self {
            router,
            clock,
            store,
            key,
            scoped_key,
            other_scope_key,
            keys_read_key,
            revoked_key,
            expired_key,
            other_user_key,
        }
    }

    /// The key id of a token.
    pub fn id_of(token: &str) -> &str {
        let start = token.len().saturating_sub(TokenFormat::BODY_LEN);
        token.get(start..start + 8).unwrap_or_default()
    }
}

/// A token with one body character changed and the checksum left as it was.
pub fn tamper_checksum(token: &str) -> String {
    let mut b = token.as_bytes().to_vec();
    let i = b.len() - TokenFormat::CHECKSUM_LEN - 1;
    b[i] = if b[i] == b'a' { b'b' } else { b'a' };
    String::from_utf8(b).unwrap_or_default()
}

/// A token with one secret character changed and a recomputed (valid) checksum.
pub fn tamper_secret(token: &str) -> String {
    crate::conformance::forge_secret(token)
}

/// A token with a new random-looking id and secret for an id no key has, with a valid checksum.
pub fn unknown_key() -> String {
    let mut b = b"clab_user_zzzzzzzzQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ".to_vec();
    let sum = TokenFormat::checksum(&b);
    b.extend_from_slice(&sum);
    String::from_utf8(b).unwrap_or_default()
}
