//! Calls that step around the library's safeguards, fenced here so that every use is easy to
//! find in review (as `jsonwebtoken` fences its own). Each one has a legitimate use, named in
//! its documentation; none is needed by an application that issues its keys with clab-keys and
//! configures a pepper.

use crate::format::KeyId;
use crate::hash::KeyHasher;
use crate::http::Principal;
use crate::scope::Scopes;
use crate::user::UserId;

/// A hasher that makes plain, unpeppered SHA-256 hashes (hash version 0).
///
/// Only for an application that must keep writing the hashes of an existing SHA-256 key
/// table (for example while another service still reads it). Anyone with a copy of the
/// database can then test guesses offline without the pepper; with 190-bit secrets that is
/// still infeasible, but prefer [`KeyHasher::hmac`], and [`accept_unpeppered_sha256`] to read
/// the old hashes while new ones are peppered.
pub fn sha256_hasher() -> KeyHasher {
    KeyHasher::sha256()
}

/// Makes `hasher` also accept hashes stored as plain SHA-256 (version 0), re-hashing each with
/// the current pepper on its next successful use.
///
/// The migration path from an existing SHA-256 key table (see the guide's chapter on
/// migrating). Remove it once no version-0 hash is left: while it is on, anyone who can
/// write to the table can plant a key without knowing the pepper.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{KeyHasher, Pepper, dangerous};
/// let pepper = Pepper::from_bytes(&[7u8; 32]).unwrap();
/// let legacy = dangerous::sha256_hasher().hash(b"clab_user_old");
/// let hasher = dangerous::accept_unpeppered_sha256(KeyHasher::hmac(1, pepper).unwrap());
/// assert!(matches!(
///     hasher.check(b"clab_user_old", &legacy),
///     clab_keys::HashCheck::Match { rehash: true }
/// ));
/// ```
pub fn accept_unpeppered_sha256(hasher: KeyHasher) -> KeyHasher {
    hasher.accept_unpeppered_sha256()
}

/// A principal for an API key that the application verified itself, outside the key service
/// (for example a legacy key format during a migration). It is never interactive, so it can
/// never manage keys. `scopes: None` means unrestricted.
///
/// Whatever holds a [`Principal`] is trusted as authenticated: make one only after your own
/// constant-time verification of the credential.
pub fn api_key_principal(user_id: UserId, key_id: KeyId, scopes: Option<Scopes>) -> Principal {
    Principal::api_key(user_id, key_id, scopes)
}

/// A principal for an interactive (JWT) session that the application verified itself,
/// outside a [`JwtVerifier`](crate::JwtVerifier) (for example a session cookie). Such a
/// principal may manage keys. `scopes: None` means unrestricted.
///
/// Whatever holds a [`Principal`] is trusted as authenticated, and an interactive one can mint
/// keys: prefer a `JwtVerifier` on the [`CredentialRouter`](crate::CredentialRouter).
pub fn session_principal(user_id: UserId, scopes: Option<Scopes>) -> Principal {
    Principal::jwt(user_id, scopes)
}
