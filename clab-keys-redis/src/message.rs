//! What travels on the channel: announcements (`evict <id> <id>…`) and heartbeats
//! (`beat <subscriber> <nonce>`, a random number per heartbeat), as text, so that `redis-cli SUBSCRIBE` shows them
//! plainly. Key ids are base62 and safe to log (contract §2); nothing secret is ever sent.

use clab_keys_core::KeyId;

const EVICT: &str = "evict";
const BEAT: &str = "beat";

/// One message received on the channel.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Message<'a> {
    /// These keys left use.
    Evict(Vec<KeyId>),
    /// A heartbeat: `subscriber` is the token of the subscription that sent it.
    Beat { subscriber: &'a str, sequence: u64 },
    /// Anything else. An announcement that cannot be read may have named any key, so the
    /// receiver treats it as "evict everything".
    Unreadable,
}

/// The payload announcing `key_ids` (at least one).
pub(crate) fn evict(key_ids: &[KeyId]) -> String {
    let mut payload = String::with_capacity(EVICT.len() + key_ids.len() * 9);
    payload.push_str(EVICT);
    for key_id in key_ids {
        payload.push(' ');
        payload.push_str(key_id.as_str());
    }
    payload
}

/// The payload of the heartbeat `sequence` (a random nonce) of `subscriber`.
pub(crate) fn beat(subscriber: &str, sequence: u64) -> String {
    format!("{BEAT} {subscriber} {sequence}")
}

/// Reads a payload.
pub(crate) fn parse(payload: &[u8]) -> Message<'_> {
    let Ok(text) = std::str::from_utf8(payload) else {
        return Message::Unreadable;
    };
    let mut words = text.split(' ');
    match words.next() {
        Some(EVICT) => {
            let ids: Result<Vec<_>, _> = words.map(KeyId::parse).collect();
            match ids {
                Ok(ids) if !ids.is_empty() => Message::Evict(ids),
                _ => Message::Unreadable,
            }
        }
        Some(BEAT) => match (words.next(), words.next().map(str::parse), words.next()) {
            (Some(subscriber), Some(Ok(sequence)), None) if !subscriber.is_empty() => {
                Message::Beat {
                    subscriber,
                    sequence,
                }
            }
            _ => Message::Unreadable,
        },
        _ => Message::Unreadable,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn id(s: &str) -> KeyId {
        KeyId::parse(s).unwrap()
    }

    #[test]
    fn announcements_round_trip() {
        let ids = vec![id("DocsEx01"), id("abcdEF23")];
        let payload = evict(&ids);
        assert_eq!(payload, "evict DocsEx01 abcdEF23");
        assert_eq!(parse(payload.as_bytes()), Message::Evict(ids));
    }

    #[test]
    fn heartbeats_round_trip() {
        let payload = beat("0f1e", 42);
        assert_eq!(
            parse(payload.as_bytes()),
            Message::Beat {
                subscriber: "0f1e",
                sequence: 42
            }
        );
    }

    #[test]
    fn anything_else_is_unreadable() {
        for payload in [
            &b""[..],
            b"evict",
            b"evict ",
            b"evict DocsEx01 not-an-id",
            b"evict DocsEx01  abcdEF23",
            b"beat",
            b"beat abc",
            b"beat abc x",
            b"beat abc 1 2",
            b"beat  1",
            b"hello",
            b"\xff\xfe",
        ] {
            assert_eq!(parse(payload), Message::Unreadable, "{payload:?}");
        }
    }
}
