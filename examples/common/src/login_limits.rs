//! What keeps `POST /api/auth/login` from sinking the app (contract §7): a bound on how many
//! Argon2id checks run at once, and a per-address count of failed logins.
//!
//! - **The hashing bound.** Argon2id takes about 19 MiB and tens of milliseconds of CPU per
//!   check. Unbounded, 64 parallel wrong-password logins held more than a gigabyte and stalled
//!   every other request. A semaphore with `CLAB_KEYS_LOGIN_CONCURRENCY` permits (default: the
//!   machine's available parallelism) now gates each check; a login waits at most
//!   [`HASHING_QUEUE_WAIT`] for a permit, then gets `503 login_busy` with `Retry-After`. The
//!   permit travels into the blocking task and is released only when Argon2 has finished, so a
//!   client that disconnects cannot free a permit while its hash still runs.
//! - **Failed-login throttling.** `CLAB_KEYS_FAILED_LOGINS_PER_MINUTE` failures (default 10;
//!   0 = off) per client address within a minute, counted from the first: further logins from
//!   that address get `429 too_many_failed_attempts` with `Retry-After`, before any look-up or
//!   hash. Logins still running count against the limit, so parallel guesses cannot overshoot
//!   it. The address is the socket peer (IPv6 addresses by their /64 network); only when the
//!   peer is one of `CLAB_KEYS_TRUSTED_PROXIES` is `X-Forwarded-For` read. The table holds at
//!   most [`MAX_TRACKED_ADDRESSES`] addresses, whatever the number of addresses that try.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a login waits for a free Argon2 slot before `503 login_busy`.
pub const HASHING_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// The `Retry-After` of `503 login_busy`, in seconds.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// Failed logins per address per minute when `CLAB_KEYS_FAILED_LOGINS_PER_MINUTE` is unset.
pub const DEFAULT_FAILED_LOGINS_PER_MINUTE: u32 = 10;

/// The largest accepted `CLAB_KEYS_FAILED_LOGINS_PER_MINUTE`.
pub const MAX_FAILED_LOGINS_PER_MINUTE: u32 = 10_000;

/// The largest accepted `CLAB_KEYS_LOGIN_CONCURRENCY`.
pub const MAX_LOGIN_CONCURRENCY: usize = 1_024;

/// The window failed logins are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// The most client addresses the failure table holds (a few MiB at most). A new address needs
/// a failed Argon2 check, which the hashing bound rations, so the table fills slowly; when it
/// is full, addresses whose minute is over go first, then the oldest sixteenth.
pub const MAX_TRACKED_ADDRESSES: usize = 65_536;

/// The variables this module reads (contract §7).
pub const ENV_VARS: [&str; 3] = [
    "CLAB_KEYS_LOGIN_CONCURRENCY",
    "CLAB_KEYS_FAILED_LOGINS_PER_MINUTE",
    "CLAB_KEYS_TRUSTED_PROXIES",
];

/// A login limit variable was refused. The message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginLimitError {
    /// `CLAB_KEYS_LOGIN_CONCURRENCY` is not a whole number from 1 to 1024.
    #[error("CLAB_KEYS_LOGIN_CONCURRENCY must be a whole number from 1 to 1024")]
    InvalidConcurrency,
    /// `CLAB_KEYS_FAILED_LOGINS_PER_MINUTE` is not a whole number from 0 to 10000.
    #[error("CLAB_KEYS_FAILED_LOGINS_PER_MINUTE must be a whole number from 0 (off) to 10000")]
    InvalidFailedLogins,
    /// `CLAB_KEYS_TRUSTED_PROXIES` is not a comma-separated list of IP addresses.
    #[error(
        "CLAB_KEYS_TRUSTED_PROXIES must be a comma-separated list of IP addresses, such as \
         127.0.0.1,::1"
    )]
    InvalidTrustedProxies,
}

/// The login limits' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLimitsConfig {
    concurrency: NonZeroUsize,
    failed_per_minute: u32,
    trusted_proxies: Vec<IpAddr>,
}

impl Default for LoginLimitsConfig {
    /// Available parallelism, 10 failures a minute, no trusted proxy.
    fn default() -> Self {
        Self {
            concurrency: default_concurrency(),
            failed_per_minute: DEFAULT_FAILED_LOGINS_PER_MINUTE,
            trusted_proxies: Vec::new(),
        }
    }
}

impl LoginLimitsConfig {
    /// Reads [`ENV_VARS`] through `get` (a variable name → its value, `None` when unset).
    ///
    /// # Errors
    ///
    /// Returns `E` from `get`, or a [`LoginLimitError`] (converted) for an invalid value.
    pub fn from_lookup<E: From<LoginLimitError>>(
        get: impl Fn(&'static str) -> Result<Option<String>, E>,
    ) -> Result<Self, E> {
        let mut config = Self::default();
        if let Some(v) = get("CLAB_KEYS_LOGIN_CONCURRENCY")? {
            config.concurrency = v
                .trim()
                .parse::<NonZeroUsize>()
                .ok()
                .filter(|n| n.get() <= MAX_LOGIN_CONCURRENCY)
                .ok_or(LoginLimitError::InvalidConcurrency)?;
        }
        if let Some(v) = get("CLAB_KEYS_FAILED_LOGINS_PER_MINUTE")? {
            config.failed_per_minute = v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_FAILED_LOGINS_PER_MINUTE)
                .ok_or(LoginLimitError::InvalidFailedLogins)?;
        }
        if let Some(v) = get("CLAB_KEYS_TRUSTED_PROXIES")? {
            config.trusted_proxies = v
                .split(',')
                .map(|a| a.trim().parse::<IpAddr>().map(canonical))
                .collect::<Result<_, _>>()
                .map_err(|_| LoginLimitError::InvalidTrustedProxies)?;
        }
        Ok(config)
    }

    /// Sets how many Argon2 checks may run at once.
    pub fn concurrency(mut self, permits: NonZeroUsize) -> Self {
        self.concurrency = permits;
        self
    }

    /// Sets the failed logins allowed per address per minute (0 turns throttling off).
    pub fn failed_per_minute(mut self, limit: u32) -> Self {
        self.failed_per_minute = limit;
        self
    }

    /// Sets the reverse proxies whose `X-Forwarded-For` is believed.
    pub fn trusted_proxies(mut self, proxies: Vec<IpAddr>) -> Self {
        self.trusted_proxies = proxies.into_iter().map(canonical).collect();
        self
    }

    /// How many Argon2 checks may run at once.
    pub fn hashing_permits(&self) -> usize {
        self.concurrency.get()
    }

    /// Failed logins allowed per address per minute; 0 means no throttling.
    pub fn failed_logins_per_minute(&self) -> u32 {
        self.failed_per_minute
    }
}

/// The machine's available parallelism (1 when it cannot be read).
pub fn default_concurrency() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Why a login was refused before its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every Argon2 slot stayed taken for [`HASHING_QUEUE_WAIT`]: `503 login_busy`.
    Busy,
    /// The address failed too often this minute: `429 too_many_failed_attempts`.
    Throttled {
        /// Seconds until the address's minute is over.
        retry_after_secs: u64,
    },
}

/// The hashing bound and the failure table of one app. Cheap to share (`Arc` inside).
#[derive(Debug, Clone)]
pub struct LoginLimits {
    hashing: Arc<Semaphore>,
    failures: Option<Arc<FailureTable>>,
    trusted_proxies: Arc<[IpAddr]>,
}

impl LoginLimits {
    /// Limits as `config` says.
    pub fn new(config: &LoginLimitsConfig) -> Self {
        Self {
            hashing: Arc::new(Semaphore::new(config.concurrency.get())),
            failures: (config.failed_per_minute > 0).then(|| {
                Arc::new(FailureTable::new(
                    config.failed_per_minute,
                    FAILURE_WINDOW,
                    MAX_TRACKED_ADDRESSES,
                ))
            }),
            trusted_proxies: config.trusted_proxies.clone().into(),
        }
    }

    /// The client a login is counted against: the socket peer, or, when the peer is a trusted
    /// proxy, the right-most `X-Forwarded-For` address that is not itself a trusted proxy
    /// (the one the proxy saw). `forwarded_for` are the header's lines, in order.
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let mut client = peer;
        let lines: Vec<&[u8]> = forwarded_for.into_iter().collect();
        // Right to left: every hop appends the address it received the request from.
        for entry in lines
            .iter()
            .rev()
            .flat_map(|line| line.rsplit(|&b| b == b','))
        {
            let Some(address) = std::str::from_utf8(entry)
                .ok()
                .and_then(|s| s.trim().parse::<IpAddr>().ok())
                .map(canonical)
            else {
                // Something unreadable: stop at the last address a trusted hop vouched for.
                break;
            };
            client = address;
            if !self.trusted_proxies.contains(&address) {
                break;
            }
        }
        client
    }

    /// Starts a login from `client`: refuses at once when the address is throttled, then
    /// counts the attempt as running until the returned [`LoginAttempt`] is settled or dropped.
    ///
    /// # Errors
    ///
    /// Returns [`Refusal::Throttled`] when the address is over its limit.
    pub fn begin(&self, client: IpAddr) -> Result<LoginAttempt, Refusal> {
        let key = ClientKey::of(client);
        if let Some(table) = &self.failures {
            table.begin(key, Instant::now())?;
        }
        Ok(LoginAttempt {
            table: self.failures.clone(),
            key,
            settled: false,
        })
    }

    /// Waits, at most [`HASHING_QUEUE_WAIT`], for a free Argon2 slot. Move the permit into the
    /// blocking task that hashes, so that the slot is held until the hash is done.
    ///
    /// # Errors
    ///
    /// Returns [`Refusal::Busy`] when no slot freed up in time.
    pub async fn hashing_permit(&self) -> Result<OwnedSemaphorePermit, Refusal> {
        match tokio::time::timeout(HASHING_QUEUE_WAIT, self.hashing.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a closed one would mean no login can proceed.
            Ok(Err(_)) | Err(_) => Err(Refusal::Busy),
        }
    }

    /// How many addresses the failure table holds now (for tests and metrics).
    pub fn tracked_addresses(&self) -> usize {
        self.failures.as_ref().map_or(0, |t| t.len())
    }
}

/// One login in progress, counted against its address. [`LoginAttempt::failed`] records a
/// failure; dropping it otherwise (success, or a login that never reached the password check)
/// records nothing.
#[derive(Debug)]
pub struct LoginAttempt {
    table: Option<Arc<FailureTable>>,
    key: ClientKey,
    settled: bool,
}

impl LoginAttempt {
    /// Records a failed login (wrong password or unknown email).
    pub fn failed(mut self) {
        self.settle(true);
    }

    fn settle(&mut self, failed: bool) {
        if self.settled {
            return;
        }
        self.settled = true;
        if let Some(table) = &self.table {
            table.end(self.key, failed, Instant::now());
        }
    }
}

impl Drop for LoginAttempt {
    fn drop(&mut self) {
        self.settle(false);
    }
}

/// A client address as throttling sees it: IPv4 as is, IPv6 by its /64 network (one host
/// usually owns a whole /64, and could otherwise change address at every try).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ClientKey {
    V4([u8; 4]),
    V6([u8; 8]),
}

impl ClientKey {
    fn of(address: IpAddr) -> Self {
        match canonical(address) {
            IpAddr::V4(v4) => Self::V4(v4.octets()),
            IpAddr::V6(v6) => {
                let mut network = [0u8; 8];
                network.copy_from_slice(&v6.octets()[..8]);
                Self::V6(network)
            }
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a dual-stack socket reports) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// When the first failure of the current window happened (or the first attempt, while
    /// none has failed yet).
    since: Instant,
    failures: u32,
    running: u32,
}

/// Failed logins per address within a window, for at most `capacity` addresses.
#[derive(Debug)]
struct FailureTable {
    limit: u32,
    window: Duration,
    capacity: usize,
    entries: Mutex<HashMap<ClientKey, Entry>>,
}

impl FailureTable {
    fn new(limit: u32, window: Duration, capacity: usize) -> Self {
        Self {
            limit,
            window,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn begin(&self, key: ClientKey, now: Instant) -> Result<(), Refusal> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if !entries.contains_key(&key) && entries.len() >= self.capacity {
            self.make_room(&mut entries, now);
        }
        let entry = entries.entry(key).or_insert(Entry {
            since: now,
            failures: 0,
            running: 0,
        });
        if entry.failures > 0 && now.duration_since(entry.since) >= self.window {
            entry.failures = 0;
            entry.since = now;
        }
        if entry.failures.saturating_add(entry.running) >= self.limit {
            let left = self.window.saturating_sub(now.duration_since(entry.since));
            // Whole seconds, rounded up, and at least one.
            let retry_after_secs = left.as_millis().div_ceil(1000).max(1);
            return Err(Refusal::Throttled {
                retry_after_secs: u64::try_from(retry_after_secs).unwrap_or(u64::MAX),
            });
        }
        entry.running += 1;
        Ok(())
    }

    fn end(&self, key: ClientKey, failed: bool, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = entries.get_mut(&key) else {
            // Evicted meanwhile: count a failure afresh, so that it is not lost.
            if failed && entries.len() < self.capacity {
                entries.insert(
                    key,
                    Entry {
                        since: now,
                        failures: 1,
                        running: 0,
                    },
                );
            }
            return;
        };
        entry.running = entry.running.saturating_sub(1);
        if failed {
            if entry.failures == 0 || now.duration_since(entry.since) >= self.window {
                entry.failures = 0;
                entry.since = now;
            }
            entry.failures += 1;
        } else if entry.failures == 0 && entry.running == 0 {
            // Nothing to remember about an address that has not failed.
            entries.remove(&key);
        }
    }

    /// Drops addresses whose window is over and nothing runs; if that frees nothing, the
    /// oldest sixteenth of the table.
    fn make_room(&self, entries: &mut HashMap<ClientKey, Entry>, now: Instant) {
        let window = self.window;
        entries.retain(|_, e| e.running > 0 || now.duration_since(e.since) < window);
        if entries.len() < self.capacity {
            return;
        }
        let mut ages: Vec<Instant> = entries.values().map(|e| e.since).collect();
        let cut = (ages.len() / 16).max(1).min(ages.len() - 1);
        let (_, oldest_kept, _) = ages.select_nth_unstable(cut);
        let oldest_kept = *oldest_kept;
        entries.retain(|_, e| e.since >= oldest_kept);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn v4(last: u8) -> ClientKey {
        ClientKey::of(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
    }

    #[test]
    fn an_address_is_throttled_after_the_limit_of_failures_and_others_are_not() {
        let table = FailureTable::new(3, FAILURE_WINDOW, 100);
        let t0 = Instant::now();
        for _ in 0..3 {
            table.begin(v4(2), t0).unwrap();
            table.end(v4(2), true, t0);
        }
        let Err(Refusal::Throttled { retry_after_secs }) = table.begin(v4(2), t0) else {
            panic!("not throttled");
        };
        assert_eq!(retry_after_secs, 60);
        table.begin(v4(3), t0).unwrap();
        // After the minute, the address may try again.
        table.begin(v4(2), t0 + FAILURE_WINDOW).unwrap();
    }

    #[test]
    fn logins_still_running_count_against_the_limit() {
        let table = FailureTable::new(2, FAILURE_WINDOW, 100);
        let t0 = Instant::now();
        table.begin(v4(2), t0).unwrap();
        table.begin(v4(2), t0).unwrap();
        assert!(table.begin(v4(2), t0).is_err());
        table.end(v4(2), false, t0);
        table.begin(v4(2), t0).unwrap();
    }

    #[test]
    fn successes_leave_nothing_behind() {
        let table = FailureTable::new(2, FAILURE_WINDOW, 100);
        let t0 = Instant::now();
        for _ in 0..10 {
            table.begin(v4(2), t0).unwrap();
            table.end(v4(2), false, t0);
        }
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn the_table_never_holds_more_than_its_capacity() {
        let table = FailureTable::new(5, FAILURE_WINDOW, 64);
        let t0 = Instant::now();
        for i in 0..10_000u32 {
            let key = ClientKey::of(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)));
            let at = t0 + Duration::from_millis(u64::from(i));
            table.begin(key, at).unwrap();
            table.end(key, true, at);
            assert!(table.len() <= 64);
        }
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_network_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientKey::of(a), ClientKey::of(b));
        assert_ne!(ClientKey::of(a), ClientKey::of(c));
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        assert_eq!(ClientKey::of(mapped), v4(2));
    }

    #[test]
    fn x_forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let limits = LoginLimits::new(
            &LoginLimitsConfig::default().trusted_proxies(vec![proxy, "10.0.0.2".parse().unwrap()]),
        );
        let header: &[u8] = b"203.0.113.9, 198.51.100.7, 10.0.0.2";
        let client = limits.client_address(proxy, [header]);
        assert_eq!(client, "198.51.100.7".parse::<IpAddr>().unwrap());
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(limits.client_address(stranger, [header]), stranger);
        assert_eq!(limits.client_address(proxy, [&b"junk"[..]]), proxy);
        assert_eq!(limits.client_address(proxy, std::iter::empty()), proxy);
    }

    #[test]
    fn variables_are_read_and_checked() {
        let read = |pairs: &'static [(&'static str, &'static str)]| {
            LoginLimitsConfig::from_lookup(|name| {
                Ok::<_, LoginLimitError>(
                    pairs
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| (*v).to_owned()),
                )
            })
        };
        let defaults = read(&[]).unwrap();
        assert_eq!(defaults.hashing_permits(), default_concurrency().get());
        assert_eq!(defaults.failed_logins_per_minute(), 10);
        let set = read(&[
            ("CLAB_KEYS_LOGIN_CONCURRENCY", "3"),
            ("CLAB_KEYS_FAILED_LOGINS_PER_MINUTE", "0"),
        ])
        .unwrap();
        assert_eq!(set.hashing_permits(), 3);
        assert_eq!(set.failed_logins_per_minute(), 0);
        assert_eq!(
            read(&[("CLAB_KEYS_LOGIN_CONCURRENCY", "0")]),
            Err(LoginLimitError::InvalidConcurrency)
        );
        assert_eq!(
            read(&[("CLAB_KEYS_FAILED_LOGINS_PER_MINUTE", "-1")]),
            Err(LoginLimitError::InvalidFailedLogins)
        );
        assert_eq!(
            read(&[("CLAB_KEYS_TRUSTED_PROXIES", "10.0.0.1,proxy")]),
            Err(LoginLimitError::InvalidTrustedProxies)
        );
    }
}
