//! PUBLISH through one multiplexed connection, opened on first use and replaced when it fails.
//! Announcements and heartbeats both go this way, so a heartbeat that comes back has travelled
//! the path an announcement takes.

use std::sync::Arc;

use redis::aio::MultiplexedConnection;
use redis::{Client, RedisResult};
use tokio::sync::Mutex;

/// The connection in use, numbered so that a failed request drops only the connection it
/// failed on (not one another request has opened since).
type Slot = Option<(u64, MultiplexedConnection)>;

#[derive(Clone)]
pub(crate) struct Publisher {
    client: Client,
    connection: Arc<Mutex<Slot>>,
    opened: Arc<std::sync::atomic::AtomicU64>,
}

impl Publisher {
    /// A publisher over `client`; no I/O until the first [`Publisher::publish`].
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            connection: Arc::default(),
            opened: Arc::default(),
        }
    }

    /// The client, for the subscription's own connections.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// PUBLISHes `payload` on `channel`. On a failure the connection is dropped and the
    /// message sent once more on a new one (a repeated announcement is harmless).
    pub(crate) async fn publish(&self, channel: &str, payload: &str) -> RedisResult<()> {
        match self.try_publish(channel, payload).await {
            Ok(()) => Ok(()),
            Err(_) => self.try_publish(channel, payload).await,
        }
    }

    async fn try_publish(&self, channel: &str, payload: &str) -> RedisResult<()> {
        let (number, mut connection) = self.connection().await?;
        let sent = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async::<i64>(&mut connection)
            .await;
        if sent.is_err() {
            let mut slot = self.connection.lock().await;
            if slot.as_ref().is_some_and(|(n, _)| *n == number) {
                *slot = None;
            }
        }
        sent.map(drop)
    }

    /// The open connection, or a new one. The lock is held while connecting, so concurrent
    /// callers wait for one attempt instead of each opening a connection.
    async fn connection(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        let mut slot = self.connection.lock().await;
        if let Some((number, connection)) = slot.as_ref() {
            return Ok((*number, connection.clone()));
        }
        // The driver's defaults bound this: 1 s to connect, 500 ms per request.
        let connection = self.client.get_multiplexed_async_connection().await?;
        let number = self
            .opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *slot = Some((number, connection.clone()));
        Ok((number, connection))
    }
}
