//! Request bodies for the management endpoints, read with a cap so a huge body costs nothing.

use std::task::{Context, Poll};

/// Largest request body the management endpoints accept, in bytes. A larger one is answered
/// `413 payload_too_large`, after authentication and in JSON.
pub const MAX_BODY_LEN: usize = 16 * 1024;

/// Reads a request body for the management endpoints, keeping at most [`MAX_BODY_LEN`] + 1
/// bytes: enough to see that a body is too large (and answer 413 in JSON) without buffering
/// more. See [`BodyBuffer::read`].
#[derive(Debug, Default)]
pub struct BodyBuffer {
    bytes: Vec<u8>,
}

impl BodyBuffer {
    /// Whether more bytes are worth reading.
    fn wants_more(&self) -> bool {
        self.bytes.len() <= MAX_BODY_LEN
    }

    /// Appends a chunk, keeping no more than [`MAX_BODY_LEN`] + 1 bytes in all.
    fn push(&mut self, chunk: &[u8]) {
        let room = (MAX_BODY_LEN + 1).saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    /// The bytes collected.
    fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Reads a whole body through a buffer: `poll_next` polls the framework's body for its
    /// next chunk (`None` at the end; axum's `poll_frame`, actix-web's `poll_next`) and is not
    /// polled again once [`MAX_BODY_LEN`] + 1 bytes are in. A body that fails to arrive reads
    /// as empty, which the management endpoints answer as a malformed request
    /// (`400 invalid_request`).
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::task::Poll;
    /// use clab_keys::{BodyBuffer, MAX_BODY_LEN};
    /// let mut chunks = std::iter::repeat_with(|| Ok::<_, ()>(vec![b'x'; 1000])).take(100);
    /// let body = BodyBuffer::read(|_cx| Poll::Ready(chunks.next())).await;
    /// assert_eq!(body.len(), MAX_BODY_LEN + 1);
    /// # });
    /// ```
    pub async fn read<F, B, E>(mut poll_next: F) -> Vec<u8>
    where
        F: FnMut(&mut Context<'_>) -> Poll<Option<Result<B, E>>>,
        B: AsRef<[u8]>,
    {
        let mut buf = Self::default();
        while buf.wants_more() {
            match std::future::poll_fn(&mut poll_next).await {
                None => break,
                Some(Ok(chunk)) => buf.push(chunk.as_ref()),
                Some(Err(_)) => return Vec::new(),
            }
        }
        buf.into_bytes()
    }
}
