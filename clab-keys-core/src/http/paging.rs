//! The list endpoint of contract §6, one page at a time: `GET {mount}?limit=N&cursor=…` answers
//! a JSON array of at most `limit` keys (default and maximum 100), newest first, and a
//! `Link: <{mount}?limit=N&cursor=…>; rel="next"` header (RFC 8288) while more remain. A
//! scoped API key lists only with the scope [`KEYS_READ`].

use super::management::{key_info_json, unavailable};
use super::principal::{CredentialKind, Principal};
use super::rejection::RejectionKind;
use super::response::ApiResponse;
use super::router::CredentialRouter;
use crate::service::{KeyCursor, ListPage};

/// The scope a scoped API key needs to list its user's keys. Unrestricted keys and sessions
/// list without it.
pub(crate) const KEYS_READ: &str = "keys:read";

/// `GET /api/user/api-keys`: one page of the caller's keys, metadata only, newest first.
pub(super) async fn list_keys(
    router: &CredentialRouter,
    principal: &Principal,
    collection: &str,
    query: Option<&str>,
) -> ApiResponse {
    if principal.kind() == CredentialKind::ApiKey && !principal.has_scope(KEYS_READ) {
        return router
            .reject(RejectionKind::InsufficientScope(KEYS_READ.to_owned()))
            .to_response();
    }
    let Some(page) = page_of(query) else {
        return ApiResponse::error(
            400,
            "invalid_request",
            "limit must be a whole number from 1 to 100, and cursor the value a Link header gave",
        );
    };
    match router.keys().list_page(principal.user_id(), page).await {
        Ok(found) => {
            let items = found.keys.iter().map(key_info_json).collect::<Vec<_>>();
            let mut answer = ApiResponse::serialized(200, &items);
            if let Some(next) = found.next {
                answer.headers.push((
                    "link",
                    format!(
                        "<{collection}?limit={}&cursor={next}>; rel=\"next\"",
                        page.limit()
                    ),
                ));
            }
            answer
        }
        Err(e) => {
            tracing::error!(target: "clab_keys", error = %e, "listing api keys failed");
            unavailable(router)
        }
    }
}

/// The page a query string asks for: `limit` (decimal digits, 1–100) and `cursor` (as a
/// `Link` header wrote it), each at most once, percent-decoded; other parameters are ignored.
/// `None` for anything else.
fn page_of(query: Option<&str>) -> Option<ListPage> {
    let mut limit = None;
    let mut cursor = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .ok()?;
        match &*percent_encoding::percent_decode_str(name).decode_utf8_lossy() {
            "limit" if limit.is_none() => {
                // Digits only: no sign, no spaces; `ListPage::new` checks the range.
                if value.is_empty() || value.len() > 3 || !value.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                limit = Some(value.parse::<u32>().ok()?);
            }
            "cursor" if cursor.is_none() => cursor = Some(KeyCursor::parse(&value).ok()?),
            "limit" | "cursor" => return None,
            _ => {}
        }
    }
    let page = ListPage::new(limit.unwrap_or(ListPage::MAX_LIMIT)).ok()?;
    Some(match cursor {
        Some(cursor) => page.after(cursor),
        None => page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_choose_the_page() {
        assert_eq!(page_of(None).map(|p| p.limit()), Some(100));
        assert_eq!(page_of(Some("limit=7&page=2")).map(|p| p.limit()), Some(7));
        let page = page_of(Some("cursor=1767225600000000.DocsEx01&limit=1"));
        assert!(page.is_some_and(|p| p.cursor().is_some() && p.limit() == 1));
    }

    #[test]
    fn bad_limits_and_cursors_are_refused() {
        for query in [
            "limit=0",
            "limit=101",
            "limit=",
            "limit=-1",
            "limit=%2B5",
            "limit=abc",
            "limit=1000000000000",
            "limit=5&limit=5",
            "cursor=page-2",
            "cursor=",
            "cursor=%FF",
        ] {
            assert!(page_of(Some(query)).is_none(), "{query}");
        }
    }
}
