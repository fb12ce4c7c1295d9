//! [`AuthBody`]: the response body of a service behind the layer, either the inner service's
//! own or core's answer to a refused request.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

pin_project_lite::pin_project! {
    /// The response body of [`Authenticate`](crate::Authenticate): the wrapped service's body
    /// when the request went through, or the bytes of core's answer when the layer refused it
    /// (a JSON error for HTTP, empty for gRPC). It implements [`http_body::Body`] with the
    /// inner body's error type, so servers (hyper, tonic, axum) take it like the inner body.
    ///
    /// ```
    /// # mod clab_keys { pub use ::clab_keys_core::*; pub(crate) use ::clab_keys_tower as tower; }
    /// use clab_keys::tower::AuthBody;
    /// use http_body::Body as _;
    ///
    /// let body: AuthBody<http_body_util::Empty<bytes::Bytes>> = AuthBody::full(&b"{}"[..]);
    /// assert_eq!(body.size_hint().exact(), Some(2));
    /// ```
    #[project = AuthBodyProj]
    pub struct AuthBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Full { bytes: Option<Bytes> },
    }
}

impl<B> AuthBody<B> {
    /// The wrapped service's body, passed through untouched.
    pub fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    /// A body of the given bytes, sent in one frame (core's answer to a refused request).
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes: Bytes = bytes.into();
        Self {
            kind: Kind::Full {
                bytes: (!bytes.is_empty()).then_some(bytes),
            },
        }
    }
}

impl<B> Body for AuthBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let AuthBodyProj { kind } = self.project();
        match kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Full { bytes } => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { bytes } => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { bytes } => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

impl<B> fmt::Debug for AuthBody<B> {
    // The inner body need not be `Debug`; the layer's own answer is summarised by its length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Inner { .. } => f.write_str("AuthBody::Inner"),
            Kind::Full { bytes } => write!(
                f,
                "AuthBody::Full([{} bytes])",
                bytes.as_ref().map_or(0, Bytes::len)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Empty, Full};

    #[tokio::test]
    async fn full_body_is_one_frame_then_the_end() {
        let body: AuthBody<Empty<Bytes>> = AuthBody::full(&b"hello"[..]);
        assert!(!body.is_end_stream());
        let bytes = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        assert_eq!(bytes, &b"hello"[..]);
    }

    #[test]
    fn empty_full_body_is_already_at_its_end() {
        let body: AuthBody<Empty<Bytes>> = AuthBody::full(Bytes::new());
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
    }

    #[tokio::test]
    async fn inner_body_passes_through() {
        let body = AuthBody::inner(Full::new(Bytes::from_static(b"inner")));
        assert_eq!(body.size_hint().exact(), Some(5));
        assert_eq!(format!("{body:?}"), "AuthBody::Inner");
        let bytes = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        assert_eq!(bytes, &b"inner"[..]);
    }
}
