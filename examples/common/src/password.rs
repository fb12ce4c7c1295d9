//! Password hashing with Argon2id (PHC strings), run off the async executor.

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};

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
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
        known && ok
    })
    .await
    .map_err(PasswordError::Task)
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
}
