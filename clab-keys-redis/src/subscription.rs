//! The subscription task of one service: SUBSCRIBE on a connection of its own, evict what is
//! announced, and prove it is caught up with heartbeats that travel the announcements' path.
//!
//! Why a returned heartbeat proves it: the heartbeat is PUBLISHed after `sent_at`, so Redis
//! executes it after every PUBLISH that had returned by then, and Redis delivers a channel's
//! messages to a subscriber in the order it executed them. When heartbeat `n` arrives, every
//! announcement published before `sent_at(n)` has been delivered, and the cache may be trusted
//! until `sent_at(n) + lease`. An announcement published later arrives as long as the
//! connection lives; if the connection dies without a word, heartbeats stop coming back and
//! the trust lapses at most a lease after that announcement was published.

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clab_keys_core::{Entropy as _, Invalidations, OsEntropy};
use futures_util::StreamExt as _;
use tokio::time::MissedTickBehavior;

use crate::message::{self, Message};
use crate::publisher::Publisher;

/// How long a connection attempt (connect and SUBSCRIBE) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The first wait before reconnecting; it doubles after each failed attempt, up to the next.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What a subscription task needs.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) publisher: Publisher,
    pub(crate) channel: String,
    pub(crate) heartbeat: Duration,
    pub(crate) lease: Duration,
}

/// Why a session ended.
enum End {
    /// The service is gone.
    Closed,
    /// The subscription was lost (or never made); `was_caught_up` when it had vouched for the
    /// cache at least once.
    Lost { reason: String, was_caught_up: bool },
}

/// Runs until the service behind `sink` is dropped: subscribes, reconnects after a loss (the
/// cache is bypassed meanwhile), and subscribes again.
pub(crate) async fn run(settings: Settings, sink: Invalidations) {
    let subscriber = subscriber_token();
    let mut backoff = MIN_BACKOFF;
    loop {
        if sink.is_closed() {
            return;
        }
        match session(&settings, &sink, &subscriber).await {
            End::Closed => return,
            End::Lost {
                reason,
                was_caught_up,
            } => {
                sink.disconnected();
                if was_caught_up {
                    tracing::warn!(
                        target: "clab_keys",
                        channel = %settings.channel,
                        %reason,
                        "Redis invalidation feed lost; the verification cache is bypassed until it is back"
                    );
                    backoff = MIN_BACKOFF;
                } else {
                    tracing::debug!(
                        target: "clab_keys",
                        channel = %settings.channel,
                        %reason,
                        "Redis invalidation feed not connected"
                    );
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's life: from SUBSCRIBE to its loss.
async fn session(settings: &Settings, sink: &Invalidations, subscriber: &str) -> End {
    let connect = async {
        let mut pubsub = settings.publisher.client().get_async_pubsub().await?;
        // SUBSCRIBE returns once Redis confirmed it: every PUBLISH from here on reaches us.
        pubsub.subscribe(&settings.channel).await?;
        Ok::<_, redis::RedisError>(pubsub)
    };
    let pubsub = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(pubsub)) => pubsub,
        Ok(Err(e)) => return lost(format!("cannot subscribe: {e}"), false),
        Err(_) => return lost("cannot subscribe: timed out".to_owned(), false),
    };
    // The sink half is dropped: the stream ends when the connection does.
    let mut messages = pubsub.into_on_message();
    let mut ticks = tokio::time::interval(settings.heartbeat);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Heartbeats sent and not yet back, oldest first.
    let mut in_flight: VecDeque<(u64, Instant)> = VecDeque::new();
    // Since when the subscription has gone without proof of life: the subscription itself,
    // then the send time of the last heartbeat that came back.
    let mut vouched_since = Instant::now();
    let mut was_caught_up = false;
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else {
                    return lost("the subscription connection closed".to_owned(), was_caught_up);
                };
                if message.get_channel_name() != settings.channel {
                    continue;
                }
                match message::parse(message.get_payload_bytes()) {
                    Message::Evict(key_ids) => {
                        for key_id in &key_ids {
                            sink.evict(key_id);
                        }
                    }
                    Message::Beat { subscriber: from, sequence: n } if from == subscriber => {
                        // Heartbeats may overtake one another on the way out; the newest to
                        // come back is the one that counts, and older ones are done with.
                        // Only a nonce this subscription sent and still waits for counts; each
                        // is random, so nobody can publish one before this subscription has.
                        let Some(i) = in_flight.iter().position(|(m, _)| *m == n) else {
                            continue;
                        };
                        let (_, sent_at) = in_flight[i];
                        in_flight.drain(..=i);
                        sink.caught_up(sent_at + settings.lease);
                        vouched_since = sent_at;
                        was_caught_up = true;
                    }
                    // Another subscription's heartbeat.
                    Message::Beat { .. } => {}
                    Message::Unreadable => {
                        // It may have named any key: empty the cache. The next heartbeat
                        // trusts it again.
                        tracing::warn!(
                            target: "clab_keys",
                            channel = %settings.channel,
                            "unreadable message on the Redis invalidation channel; the verification cache is emptied"
                        );
                        sink.disconnected();
                    }
                }
            }
            _ = ticks.tick() => {
                if sink.is_closed() {
                    return End::Closed;
                }
                if vouched_since.elapsed() > settings.lease {
                    return lost("no heartbeat came back within the lease".to_owned(), was_caught_up);
                }
                let mut nonce = [0_u8; 8];
                if OsEntropy.fill(&mut nonce).is_err() {
                    // No heartbeat: the lease lapses and the cache is bypassed.
                    continue;
                }
                let nonce = u64::from_le_bytes(nonce);
                let sent_at = Instant::now();
                in_flight.push_back((nonce, sent_at));
                let settings = settings.clone();
                let payload = message::beat(subscriber, nonce);
                // Sent off the loop, so that announcements keep being delivered meanwhile.
                tokio::spawn(async move {
                    if let Err(e) = settings.publisher.publish(&settings.channel, &payload).await {
                        tracing::debug!(target: "clab_keys", error = %e, "Redis heartbeat not sent");
                    }
                });
            }
        }
    }
}

fn lost(reason: String, was_caught_up: bool) -> End {
    End::Lost {
        reason,
        was_caught_up,
    }
}

/// A token that tells this subscription's heartbeats from those of every other subscriber on
/// the channel (other services in this process and in other processes): 128 bits from the
/// standard library's randomly keyed hasher, over the process id, the time and a counter.
fn subscriber_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = (
        std::process::id(),
        std::time::SystemTime::now(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    );
    let high = RandomState::new().hash_one(seed);
    let low = RandomState::new().hash_one(seed);
    format!("{high:016x}{low:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriber_tokens_differ() {
        let tokens: std::collections::HashSet<_> = (0..1000).map(|_| subscriber_token()).collect();
        assert_eq!(tokens.len(), 1000);
        assert!(tokens.iter().all(|t| t.len() == 32));
    }
}
