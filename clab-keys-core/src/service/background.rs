//! Work kept off the request's critical path (`last_used_at` writes, re-hashing after pepper
//! rotation), and the in-process debounce that keeps most requests from writing at all.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::{Duration, OffsetDateTime};
use tokio::sync::Notify;

use crate::clock::within_window;
use crate::format::{KeyId, KeyIdMap};

/// Runs futures on the current tokio runtime when there is one (and inline when there is
/// not), and counts them so [`Background::idle`] can wait for all to finish at shutdown.
#[derive(Debug, Default)]
pub(crate) struct Background {
    in_flight: std::sync::Arc<(AtomicUsize, Notify)>,
}

impl Background {
    pub(crate) async fn run<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match tokio::runtime::Handle::try_current().ok() {
            Some(handle) => {
                let guard = InFlight::enter(self.in_flight.clone());
                handle.spawn(async move {
                    // The guard counts the task as finished when the future is dropped, whether
                    // it completed or its runtime shut down first (actix-web drops each worker's
                    // runtime at stop), so `idle` never waits for a task that will never run.
                    let _guard = guard;
                    fut.await;
                });
            }
            None => fut.await,
        }
    }

    /// Waits until no spawned work is left.
    pub(crate) async fn idle(&self) {
        loop {
            let notified = self.in_flight.1.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.in_flight.0.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One spawned task in flight; decrements the counter when dropped.
struct InFlight(std::sync::Arc<(AtomicUsize, Notify)>);

impl InFlight {
    fn enter(counter: std::sync::Arc<(AtomicUsize, Notify)>) -> Self {
        counter.0.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.0.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.1.notify_waiters();
        }
    }
}

/// Remembers when this process last tried to write `last_used_at` for each key, so that at
/// most one write per key per window even leaves the process. The database's conditional
/// update bounds writes across processes.
#[derive(Debug)]
pub(crate) struct TouchGuard {
    window: Duration,
    last: Mutex<KeyIdMap<OffsetDateTime>>,
}

/// Entries kept before stale ones are pruned; bounds memory whatever the number of keys.
const MAX_TRACKED: usize = 65_536;

impl TouchGuard {
    pub(crate) fn new(window: Duration) -> Self {
        Self {
            window,
            last: Mutex::new(KeyIdMap::default()),
        }
    }

    pub(crate) fn window(&self) -> Duration {
        self.window
    }

    /// Whether a write is due for `key` at `now`; if so, records the attempt.
    pub(crate) fn due(&self, key: KeyId, now: OffsetDateTime) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = last.get(&key)
            && within_window(*t, now, self.window)
        {
            return false;
        }
        if last.len() >= MAX_TRACKED {
            let cutoff = now - self.window;
            last.retain(|_, t| *t > cutoff);
            if last.len() >= MAX_TRACKED {
                // Only possible with more live keys than the bound within one window; the
                // database condition still keeps writes to one per key per window.
                last.clear();
            }
        }
        last.insert(key, now);
        true
    }
}
