//! The clock, injectable so expiry and debounce are tested without sleeping.

use std::fmt;

use time::OffsetDateTime;

/// A source of the current time (UTC).
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current time in UTC, truncated to whole microseconds (the precision every
    /// supported database keeps, so what is stored reads back equal).
    fn now(&self) -> OffsetDateTime;

    /// The same instant as [`Clock::now`], as whole microseconds since the Unix epoch: what a
    /// cached verification compares (cheaper than building a date). The default derives it
    /// from `now`; override it only with an equal, faster reading.
    fn now_micros(&self) -> i64 {
        unix_micros(self.now())
    }
}

/// Whole microseconds since the Unix epoch (saturating far outside any real date).
pub(crate) fn unix_micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// The instant `micros` after the Unix epoch, as [`Clock::now`] gives it.
pub(crate) fn from_unix_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc())
    }

    fn now_micros(&self) -> i64 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            // A system clock set before 1970: the slow path gives the same answer.
            Err(_) => unix_micros(self.now()),
        }
    }
}

/// Drops sub-microsecond precision.
pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

/// Whether `last` lies within `window` before `now` (and not in the future): the one
/// definition of "recently" that the `last_used_at` debounce uses everywhere.
pub(crate) fn within_window(
    last: OffsetDateTime,
    now: OffsetDateTime,
    window: time::Duration,
) -> bool {
    within_window_micros(unix_micros(last), unix_micros(now), duration_micros(window))
}

/// [`within_window`] on microseconds since the epoch, for the cached path.
pub(crate) fn within_window_micros(last: i64, now: i64, window: i64) -> bool {
    // Up to and including `window`: the store writes only when `last` is before `now - window`,
    // so at exactly the window both agree that no write is due.
    now >= last && now - last <= window
}

/// A duration in whole microseconds (saturating).
pub(crate) fn duration_micros(d: time::Duration) -> i64 {
    i64::try_from(d.whole_microseconds()).unwrap_or(if d.is_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}
