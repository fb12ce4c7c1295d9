//! How results are written: JSON with stable field names (`--json`), or text for people.
//! Timestamps in JSON are RFC 3339 UTC with six fractional digits, as in the management API
//! (contract §6); text shows them to the second.

use clab_keys::{KeyInfo, KeyRecord};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

const JSON_TIME: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
const TEXT_TIME: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");

/// A timestamp for JSON: `2026-11-29T08:30:00.400000Z`.
pub fn json_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(JSON_TIME)
        .unwrap_or_default()
}

/// An optional timestamp for JSON (`null` when absent).
pub fn json_opt_time(t: Option<OffsetDateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(json_time(t)))
}

/// A timestamp for text: `2026-11-29 08:30:00Z`.
pub fn text_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(TEXT_TIME)
        .unwrap_or_default()
}

/// An optional timestamp for text, `none` when absent (`never` reads better for expiry).
pub fn text_opt_time(t: Option<OffsetDateTime>, absent: &str) -> String {
    t.map_or_else(|| absent.to_owned(), text_time)
}

/// Prints one JSON value on stdout.
pub fn print_json(value: &Value) {
    println!("{value}");
}

/// `active`, `revoked` or `expired` at `now` (revoked wins over expired).
pub fn status(
    revoked: bool,
    expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> &'static str {
    if revoked {
        "revoked"
    } else if expires_at.is_some_and(|e| now >= e) {
        "expired"
    } else {
        "active"
    }
}

/// A key as `list --json` shows it: the management API's fields (contract §6) plus `user_id`
/// and `status`.
pub fn key_json(key: &KeyInfo, now: OffsetDateTime) -> Value {
    json!({
        "id": key.key_id.as_str(),
        "prefix": key.display_prefix,
        "user_id": key.user_id.as_str(),
        "name": key.name,
        "status": status(key.revoked_at.is_some(), key.expires_at, now),
        "scopes": key.scopes.iter().collect::<Vec<_>>(),
        "created_at": json_time(key.created_at),
        "expires_at": json_opt_time(key.expires_at),
        "last_used_at": json_opt_time(key.last_used_at),
        "revoked_at": json_opt_time(key.revoked_at),
        "revocation_reason": key.revocation_reason.map(|r| r.as_str()),
        "replaced_by": key.replaced_by.map(|k| k.as_str().to_owned()),
    })
}

/// Scopes in text: `unrestricted`, or the names joined by spaces.
pub fn text_scopes<'a>(scopes: impl Iterator<Item = &'a str>) -> String {
    let scopes: Vec<&str> = scopes.collect();
    if scopes.is_empty() {
        "unrestricted".to_owned()
    } else {
        scopes.join(" ")
    }
}

/// What the record says about the revocation, in text: `2026-01-01 00:00:00Z (leaked)`.
pub fn text_revocation(record: &KeyRecord) -> String {
    match (record.revoked_at, record.revocation_reason) {
        (Some(at), Some(reason)) => format!("{} ({reason})", text_time(at)),
        (Some(at), None) => format!("{} (no reason recorded)", text_time(at)),
        (None, _) => "no".to_owned(),
    }
}

/// Prints rows as a table with a header, columns padded to their widest cell (counted in
/// characters), two spaces apart.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
