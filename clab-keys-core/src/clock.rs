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
