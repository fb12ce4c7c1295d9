//! Listing a user's keys page by page, and claiming the keys whose expiry is near (contract §4).

use std::fmt;
use std::str::FromStr;

use time::{Duration, OffsetDateTime};

use super::{KeyInfo, KeyService};
use crate::clock::{truncate_to_micros, unix_micros};
use crate::format::KeyId;
use crate::store::StoreError;
use crate::user::UserId;

/// Where a page of [`KeyService::list_page`] starts: after the key with this creation time and
/// id. Opaque to clients; its text form ([`Display`](fmt::Display), [`KeyCursor::parse`]) uses
/// only `0-9 A-Z a-z . -`, so it goes into a `?cursor=` query parameter as it is.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::KeyCursor;
/// let cursor = KeyCursor::parse("1767225600000000.DocsEx01").unwrap();
/// assert_eq!(cursor.to_string(), "1767225600000000.DocsEx01");
/// assert!(KeyCursor::parse("page-2").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyCursor {
    created_at: OffsetDateTime,
    key_id: KeyId,
}

/// A cursor's text is not one that [`KeyCursor`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not valid")]
pub struct InvalidCursor;

impl KeyCursor {
    /// Longest text of a cursor: 20 characters of microseconds, a dot, 8 of key id.
    pub const MAX_LEN: usize = 29;

    /// The cursor after the key `info`.
    pub fn after(info: &KeyInfo) -> Self {
        Self {
            created_at: info.created_at,
            key_id: info.key_id,
        }
    }

    /// Reads a cursor from the text [`Display`](fmt::Display) wrote: the creation time in
    /// microseconds since the Unix epoch (decimal, `-` for times before 1970), a `.`, the key
    /// id. Total: any other text, including another spelling of the same numbers (a `+`, a
    /// leading zero), is [`InvalidCursor`]; it never panics.
    ///
    /// # Errors
    ///
    /// Returns [`InvalidCursor`] for any text that is not a cursor.
    pub fn parse(text: &str) -> Result<Self, InvalidCursor> {
        if text.len() > Self::MAX_LEN {
            return Err(InvalidCursor);
        }
        let (micros, key_id) = text.split_once('.').ok_or(InvalidCursor)?;
        let key_id = KeyId::parse(key_id).map_err(|_| InvalidCursor)?;
        let micros: i64 = micros.parse().map_err(|_| InvalidCursor)?;
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .map_err(|_| InvalidCursor)?;
        let cursor = Self { created_at, key_id };
        // One spelling per cursor: `+5`, `05` and `-0` parse but are not what we write.
        if cursor.to_string() != text {
            return Err(InvalidCursor);
        }
        Ok(cursor)
    }

    /// The creation time of the key the page starts after.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// The id of the key the page starts after.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
}

impl fmt::Display for KeyCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `created_at` comes from a store row or a parsed cursor: whole microseconds.
        write!(f, "{}.{}", unix_micros(self.created_at), self.key_id)
    }
}

impl FromStr for KeyCursor {
    type Err = InvalidCursor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Which page of [`KeyService::list_page`] to read: at most `limit` keys (1–100, default 100),
/// from the start or after a cursor.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{KeyCursor, ListPage};
/// let first = ListPage::new(20).unwrap();
/// assert_eq!(first.limit(), 20);
/// let next = first.after(KeyCursor::parse("1767225600000000.DocsEx01").unwrap());
/// assert!(next.cursor().is_some());
/// assert!(ListPage::new(0).is_err() && ListPage::new(101).is_err());
/// assert_eq!(ListPage::default().limit(), ListPage::MAX_LIMIT);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPage {
    limit: u32,
    after: Option<KeyCursor>,
}

/// A page size outside 1–[`ListPage::MAX_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the page size must be from 1 to 100")]
pub struct InvalidPageLimit;

impl ListPage {
    /// The largest page.
    pub const MAX_LIMIT: u32 = 100;

    /// The first page, of at most `limit` keys.
    ///
    /// # Errors
    ///
    /// Returns [`InvalidPageLimit`] unless `limit` is 1–[`ListPage::MAX_LIMIT`].
    pub fn new(limit: u32) -> Result<Self, InvalidPageLimit> {
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(InvalidPageLimit);
        }
        Ok(Self { limit, after: None })
    }

    /// The page that starts after `cursor` (a [`KeyPage::next`]).
    pub fn after(mut self, cursor: KeyCursor) -> Self {
        self.after = Some(cursor);
        self
    }

    /// The page size.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Where the page starts; `None` for the first page.
    pub fn cursor(&self) -> Option<&KeyCursor> {
        self.after.as_ref()
    }
}

impl Default for ListPage {
    /// The first page of [`ListPage::MAX_LIMIT`] keys.
    fn default() -> Self {
        Self {
            limit: Self::MAX_LIMIT,
            after: None,
        }
    }
}

/// One page of a user's keys, newest first, and the cursor of the next page (`None` on the
/// last page).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyPage {
    /// The keys, newest first (by `created_at`, then key id, both descending).
    pub keys: Vec<KeyInfo>,
    /// Where the next page starts, if there are more keys.
    pub next: Option<KeyCursor>,
}

impl KeyService {
    /// One page of `user`'s keys (metadata only, all states), newest first like
    /// [`KeyService::list`]. Pages follow each other through [`KeyPage::next`]; a key created
    /// after the first page was read never shifts a later page (the store pages by position,
    /// never by offset), and a cursor from another user's page merely starts this user's list
    /// at that position.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use clab_keys::{KeyHasher, KeyService, ListPage, MemoryStore, NewKey, Pepper, UserId};
    /// # let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
    /// let keys = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper).unwrap())
    ///     .build()
    ///     .unwrap();
    /// let user = UserId::from(7_i64);
    /// for name in ["a", "b", "c"] {
    ///     keys.create(&user, NewKey::new(name)).await.unwrap();
    /// }
    /// let first = keys.list_page(&user, ListPage::new(2).unwrap()).await.unwrap();
    /// assert_eq!(first.keys.len(), 2);
    /// let cursor = first.next.unwrap().to_string(); // into `?cursor=`, and back:
    /// let page = ListPage::new(2).unwrap().after(cursor.parse().unwrap());
    /// let second = keys.list_page(&user, page).await.unwrap();
    /// assert_eq!(second.keys.len(), 1);
    /// assert!(second.next.is_none());
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails.
    pub async fn list_page(&self, user: &UserId, page: ListPage) -> Result<KeyPage, StoreError> {
        let after = page.after.map(|c| (c.created_at, c.key_id));
        // One more than asked for says whether there is a next page.
        let mut records = self
            .inner
            .store
            .list_page(user, after, page.limit + 1)
            .await?;
        let more = records.len() > page.limit as usize;
        records.truncate(page.limit as usize);
        let keys: Vec<KeyInfo> = records.into_iter().map(KeyInfo::from).collect();
        let next = if more {
            keys.last().map(KeyCursor::after)
        } else {
            None
        };
        Ok(KeyPage { keys, next })
    }

    /// The keys of every user that expire within `within` from now and were not reported
    /// before, for an expiry notice (contract §4): neither revoked nor replaced by a rotation,
    /// expiring after now and at most `within` later. Each key is reported once, ever: the
    /// store claims the keys atomically as it returns them, so two instances calling at the
    /// same time never both report one. Call it periodically (an hourly job with `within` of
    /// 7 days sends each owner one notice a week ahead); a notice the application then fails
    /// to deliver is not reported again. A negative `within` reports nothing.
    ///
    /// ```
    /// # extern crate clab_keys_core as clab_keys;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use clab_keys::{KeyHasher, KeyService, MemoryStore, NewKey, Pepper, UserId};
    /// use time::Duration;
    /// # let pepper = Pepper::from_base64("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
    /// let keys = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper).unwrap())
    ///     .build()
    ///     .unwrap();
    /// let user = UserId::from(7_i64);
    /// keys.create(&user, NewKey::new("soon").expires_in(Duration::days(3))).await.unwrap();
    /// keys.create(&user, NewKey::new("later").expires_in(Duration::days(30))).await.unwrap();
    ///
    /// let due = keys.expiring_within(Duration::days(7)).await.unwrap();
    /// assert_eq!(due.len(), 1);
    /// assert_eq!(due[0].name, "soon");
    /// assert!(keys.expiring_within(Duration::days(7)).await.unwrap().is_empty(), "once");
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the store fails; nothing is claimed then.
    pub async fn expiring_within(&self, within: Duration) -> Result<Vec<KeyInfo>, StoreError> {
        if within.is_negative() {
            return Ok(Vec::new());
        }
        let now = self.inner.clock.now();
        // Capped at a thousand years, which every database's timestamps hold.
        let until = truncate_to_micros(now + within.min(Duration::days(365_250)));
        let claimed = self.inner.store.claim_expiring(now, until).await?;
        Ok(claimed.into_iter().map(KeyInfo::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_writes() {
        let id = KeyId::parse("DocsEx01").unwrap_or_else(|_| panic!("id"));
        for micros in [0_i64, 1, -1, 1_767_225_600_000_000, -62_135_596_800_000_000] {
            let cursor = KeyCursor {
                created_at: from_micros(micros),
                key_id: id,
            };
            let text = cursor.to_string();
            assert!(text.len() <= KeyCursor::MAX_LEN);
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'),
                "{text}: URL-safe"
            );
            assert_eq!(KeyCursor::parse(&text), Ok(cursor));
        }
    }

    #[test]
    fn other_texts_are_not_cursors() {
        for text in [
            "",
            ".",
            "5",
            "5.",
            ".DocsEx01",
            "+5.DocsEx01",
            "05.DocsEx01",
            "-0.DocsEx01",
            " 5.DocsEx01",
            "5.DocsEx01 ",
            "5.DocsEx0",
            "5.DocsEx012",
            "5.Docs-x01",
            "5..DocsEx01",
            "5.DocsEx01.",
            "1e3.DocsEx01",
            "9223372036854775807.DocsEx01",  // beyond any date
            "-9223372036854775808.DocsEx01", // beyond any date
            "99999999999999999999999.DocsEx01",
            "5%2EDocsEx01",
            "ü.DocsEx01",
        ] {
            assert_eq!(KeyCursor::parse(text), Err(InvalidCursor), "{text:?}");
        }
    }

    fn from_micros(micros: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .unwrap_or_else(|_| panic!("date"))
    }

    proptest::proptest! {
        #[test]
        fn parsing_is_total(text in "\\PC{0,40}") {
            // Never panics; whatever parses writes back the same text.
            if let Ok(cursor) = KeyCursor::parse(&text) {
                proptest::prop_assert_eq!(cursor.to_string(), text);
            }
        }
    }
}
