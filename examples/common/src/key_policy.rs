//! The example apps' key policy (contract §7): the longest a key may live
//! (`CLAB_KEYS_MAX_LIFETIME_DAYS`), how recent a login must be to create or rotate a key
//! (`CLAB_KEYS_REAUTH_MAX_AGE_MINUTES`), and the scopes the apps offer ([`SCOPES`]).

use time::Duration;

/// The variables read here, in the order they are documented.
pub const ENV_VARS: [&str; 2] = [
    "CLAB_KEYS_MAX_LIFETIME_DAYS",
    "CLAB_KEYS_REAUTH_MAX_AGE_MINUTES",
];

/// The longest lifetime of a key when `CLAB_KEYS_MAX_LIFETIME_DAYS` is unset: a year. A key
/// created without an expiry gets exactly this one, so no key of the app lives forever unless
/// the operator says so (`0`).
pub const DEFAULT_MAX_LIFETIME_DAYS: u32 = 365;

/// The largest `CLAB_KEYS_MAX_LIFETIME_DAYS` (the API's own bound on `expires_in_days`).
pub const MAX_LIFETIME_DAYS: u32 = 36_500;

/// How recent a login must be to create or rotate a key when
/// `CLAB_KEYS_REAUTH_MAX_AGE_MINUTES` is unset.
pub const DEFAULT_REAUTH_MAX_AGE_MINUTES: u32 = 15;

/// The largest `CLAB_KEYS_REAUTH_MAX_AGE_MINUTES` (a day; sessions last an hour anyway).
pub const MAX_REAUTH_MAX_AGE_MINUTES: u32 = 1_440;

/// The scopes the apps know and the settings page offers, with what each allows.
pub const SCOPES: [(&str, &str); 3] = [
    ("projects:read", "read projects"),
    ("projects:write", "change projects"),
    ("keys:read", "list this account's API keys"),
];

/// A key policy variable is invalid; the message names it, never its value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyPolicyError {
    /// `CLAB_KEYS_MAX_LIFETIME_DAYS` is not a whole number of days from 0 to 36500.
    #[error(
        "CLAB_KEYS_MAX_LIFETIME_DAYS must be a whole number of days from 1 to 36500, or 0 to allow keys that never expire"
    )]
    InvalidMaxLifetime,
    /// `CLAB_KEYS_REAUTH_MAX_AGE_MINUTES` is not a whole number of minutes from 0 to 1440.
    #[error(
        "CLAB_KEYS_REAUTH_MAX_AGE_MINUTES must be a whole number of minutes from 1 to 1440, or 0 to turn the re-authentication check off"
    )]
    InvalidReauthMaxAge,
}

/// The key policy, read from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    max_lifetime_days: u32,
    reauth_max_age_minutes: u32,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            max_lifetime_days: DEFAULT_MAX_LIFETIME_DAYS,
            reauth_max_age_minutes: DEFAULT_REAUTH_MAX_AGE_MINUTES,
        }
    }
}

fn number(value: Option<String>, max: u32) -> Option<Option<u32>> {
    match value {
        None => Some(None),
        Some(v) => v.trim().parse::<u32>().ok().filter(|n| *n <= max).map(Some),
    }
}

impl KeyPolicy {
    /// Reads the policy through `get` (a variable's value, `None` when unset).
    ///
    /// # Errors
    ///
    /// A [`KeyPolicyError`] naming the invalid variable.
    pub fn from_lookup<E>(
        mut get: impl FnMut(&'static str) -> Result<Option<String>, E>,
    ) -> Result<Self, E>
    where
        E: From<KeyPolicyError>,
    {
        let max_lifetime_days = number(get("CLAB_KEYS_MAX_LIFETIME_DAYS")?, MAX_LIFETIME_DAYS)
            .ok_or(KeyPolicyError::InvalidMaxLifetime)?
            .unwrap_or(DEFAULT_MAX_LIFETIME_DAYS);
        let reauth_max_age_minutes = number(
            get("CLAB_KEYS_REAUTH_MAX_AGE_MINUTES")?,
            MAX_REAUTH_MAX_AGE_MINUTES,
        )
        .ok_or(KeyPolicyError::InvalidReauthMaxAge)?
        .unwrap_or(DEFAULT_REAUTH_MAX_AGE_MINUTES);
        Ok(Self {
            max_lifetime_days,
            reauth_max_age_minutes,
        })
    }

    /// The key service's `max_lifetime`: `None` when `CLAB_KEYS_MAX_LIFETIME_DAYS=0`.
    pub fn max_lifetime(&self) -> Option<Duration> {
        (self.max_lifetime_days > 0).then(|| Duration::days(i64::from(self.max_lifetime_days)))
    }

    /// The router's re-authentication window: `None` when
    /// `CLAB_KEYS_REAUTH_MAX_AGE_MINUTES=0`.
    pub fn reauthentication(&self) -> Option<Duration> {
        (self.reauth_max_age_minutes > 0)
            .then(|| Duration::minutes(i64::from(self.reauth_max_age_minutes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<KeyPolicy, KeyPolicyError> {
        KeyPolicy::from_lookup(|name| {
            Ok::<_, KeyPolicyError>(
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned()),
            )
        })
    }

    #[test]
    fn defaults_are_a_year_and_fifteen_minutes() {
        let policy = read(&[]).unwrap_or_default();
        assert_eq!(policy.max_lifetime(), Some(Duration::days(365)));
        assert_eq!(policy.reauthentication(), Some(Duration::minutes(15)));
    }

    #[test]
    fn zero_turns_each_off() {
        let policy = read(&[
            ("CLAB_KEYS_MAX_LIFETIME_DAYS", "0"),
            ("CLAB_KEYS_REAUTH_MAX_AGE_MINUTES", "0"),
        ]);
        assert!(
            matches!(policy, Ok(p) if p.max_lifetime().is_none() && p.reauthentication().is_none())
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("CLAB_KEYS_MAX_LIFETIME_DAYS", "36501"),
            ("CLAB_KEYS_MAX_LIFETIME_DAYS", "-1"),
            ("CLAB_KEYS_REAUTH_MAX_AGE_MINUTES", "1441"),
            ("CLAB_KEYS_REAUTH_MAX_AGE_MINUTES", "15m"),
        ] {
            let err = read(&[(name, value)]).err().map(|e| e.to_string());
            assert!(err.is_some_and(|e| e.starts_with(name)), "{name}={value}");
        }
    }
}
