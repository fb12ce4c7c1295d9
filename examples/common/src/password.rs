//! Password hashing with Argon2id (PHC strings), run off the async executor.
//!
//! Verification reuses its Argon2 working memory (about 19 MiB per check) from a pool instead
//! of allocating it each time: with the allocator's per-thread arenas, freed blocks of that
//! size stayed resident, and a bounded flood of checks on changing blocking threads still
//! pushed the app past half a gigabyte. With the pool, the memory is at most one block per
//! check that ever ran at the same time, which the hashing bound (`login_limits`) caps.

use std::sync::{Mutex, PoisonError};

use argon2::password_hash::phc::Output;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher as _, Version};

/// A PHC string of a random password nobody knows, made with the same parameters as real
/// hashes (Argon2id v19, m=19456, t=2, p=1). Logins for unknown emails verify against it, so
/// they cost as much as a wrong password and answer alike.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$jtP1BxY0ht/0m3xcsqfoAQ$q+kZoFyX6lczfkqUPyKcfuydgEN2amgEUVF0I9+5PNg";

/// Password hashing failed (not a wrong password: a broken hash or a failed task).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Argon2 refused to hash (parameters, allocation, random salt).
    #[error("password hashing failed")]
    Hash,
    /// The blocking task running Argon2 panicked or was cancelled.
    #[error("password hashing task failed")]
    Task(#[source] tokio::task::JoinError),
}

/// Hashes `password` with Argon2id and a random salt, returning a PHC string.
///
/// # Errors
///
/// Returns [`PasswordError`] when Argon2 fails or its blocking task does not complete.
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    let password = zeroize::Zeroizing::new(password);
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|_| PasswordError::Hash)
    })
    .await
    .map_err(PasswordError::Task)?
}

/// Checks `password` against a stored PHC string; with `None` (unknown user) it checks
/// against a dummy hash so the time taken does not reveal whether the user exists, and
/// returns `false`. A stored hash that cannot be parsed also returns `false`.
///
/// # Errors
///
/// Returns [`PasswordError::Task`] when the blocking task does not complete.
pub async fn verify_password(
    password: String,
    stored: Option<String>,
) -> Result<bool, PasswordError> {
    verify_password_holding(password, stored, ()).await
}

/// [`verify_password`], holding `guard` (a hashing permit, see
/// [`crate::login_limits::LoginLimits::hashing_permit`]) until Argon2 has finished: it moves
/// into the blocking task, so that dropping the caller's future (a client that went away)
/// does not release the permit while the hash still runs and holds its memory.
///
/// # Errors
///
/// Returns [`PasswordError::Task`] when the blocking task does not complete.
pub async fn verify_password_holding<G: Send + 'static>(
    password: String,
    stored: Option<String>,
    guard: G,
) -> Result<bool, PasswordError> {
    let password = zeroize::Zeroizing::new(password);
    tokio::task::spawn_blocking(move || {
        let _guard = guard;
        let known = stored.is_some();
        let hash = stored.as_deref().unwrap_or(DUMMY_HASH);
        let mut memory = MEMORY.take();
        let ok = verify_with_memory(password.as_bytes(), hash, &mut memory);
        MEMORY.give_back(memory);
        known && ok
    })
    .await
    .map_err(PasswordError::Task)
}

/// Argon2 working memories, kept for reuse: as many as checks ever ran at once.
struct MemoryPool(Mutex<Vec<Vec<Block>>>);

static MEMORY: MemoryPool = MemoryPool(Mutex::new(Vec::new()));

impl MemoryPool {
    fn take(&self) -> Vec<Block> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    fn give_back(&self, memory: Vec<Block>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(memory);
    }
}

/// What `Argon2::verify_password` does (re-hash with the stored algorithm, version,
/// parameters and salt; compare the outputs in constant time), in `memory` instead of a fresh
/// allocation. Anything unparsable is `false`.
fn verify_with_memory(password: &[u8], stored: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    // Argon2 writes every block before it reads it, so a reused memory needs no clearing.
    memory.resize(params.block_count(), Block::new());
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let Some(out) = buffer.get_mut(..expected.len()) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    if argon2
        .hash_password_into_with_memory(password, salt, &mut *out, &mut memory[..])
        .is_err()
    {
        return false;
    }
    Output::new(out).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_uses_the_default_parameters() {
        let params = argon2::Params::default();
        let expected = format!(
            "$argon2id$v=19$m={},t={},p={}$",
            params.m_cost(),
            params.t_cost(),
            params.p_cost()
        );
        assert!(DUMMY_HASH.starts_with(&expected), "{DUMMY_HASH}");
        // It must parse, or verifying against it would return at once and unknown emails
        // would answer faster than wrong passwords.
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn verification_in_reused_memory_agrees_with_the_argon2_crate() {
        use argon2::PasswordVerifier as _;
        let stored = Argon2::default()
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        let mut memory = Vec::new();
        // Twice each, so that the second run works in memory the first one filled.
        for _ in 0..2 {
            assert!(verify_with_memory(b"correct horse", &stored, &mut memory));
            assert!(!verify_with_memory(b"wrong horse", &stored, &mut memory));
            assert!(!verify_with_memory(
                b"correct horse",
                DUMMY_HASH,
                &mut memory
            ));
        }
        assert!(!verify_with_memory(b"x", "not a hash", &mut memory));
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", stored.as_str())
                .is_ok()
        );
        // Other parameters resize the memory.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap()
        .to_string();
        assert!(verify_with_memory(b"pw", &small, &mut memory));
        assert_eq!(memory.len(), 1024);
    }
}
