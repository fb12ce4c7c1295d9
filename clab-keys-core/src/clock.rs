//! The clock, injectable so expiry and debounce are tested without sleeping.

use std::fmt;

use time::OffsetDateTime;

/// A source of the current time (UTC).
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current time in UTC, truncated to whole microseconds (the precision every
    /// supported database keeps, so what is stored reads back equal).
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc())
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
    // Up to and including `window`: the store writes only when `last` is before `now - window`,
    // so at exactly the window both agree that no write is due.
    now >= last && now - last <= window
}
