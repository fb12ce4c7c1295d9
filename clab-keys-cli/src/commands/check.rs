//! `check`: reads a token from standard input and says whose key it is and whether it is
//! active, by the steps of `KeyService::authenticate` (contract §4) in its order: parse and
//! checksum, the row of the key id, the hash in constant time, then revocation and expiry.
//! It runs them itself, with the library's public parser and hasher, so that the check writes
//! nothing (no `last_used_at`, no re-hash: an operator's check is not a use of the key) and can
//! name the owner of a key whose secret does not match. The token is held in memory that is
//! zeroed on drop and is never printed.

use std::io::{IsTerminal as _, Read as _};

use clab_keys::sea_orm::SeaOrmStore;
use clab_keys::{HashCheck, KeyFormats, KeyRecord, KeyStore as _};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::config;
use crate::db::{self, KEYS_TABLE};
use crate::error::{CliError, Outcome};
use crate::output;

/// Bytes read from standard input at most: a token is at most 78 bytes; a little more leaves
/// room for a line ending and surrounding spaces, and anything longer is no token.
const MAX_INPUT: u64 = 1_024;

pub async fn run(json: bool) -> Result<Outcome, CliError> {
    let peppers = config::peppers("check")?;
    let token = read_token()?;
    let (db, _) = db::connect().await?;
    db::require_table(&db, KEYS_TABLE).await?;
    let store = SeaOrmStore::new(db);

    let formats = KeyFormats::default();
    let parsed = match formats.parse(&token) {
        Ok(parsed) => parsed,
        Err(e) => return Ok(Answer::malformed(&e.to_string()).print(json)),
    };
    let key_id = parsed.key_id();
    let record = store
        .find(&key_id)
        .await
        .map_err(|e| CliError::store("reading the key failed", &e, ""))?;
    let now = time::OffsetDateTime::now_utc();
    let status = match &record {
        None => "unknown",
        Some(r) => match peppers.hasher.check(parsed.expose_token(), &r.hash) {
            HashCheck::Match { .. } if r.revoked_at.is_some() => "revoked",
            HashCheck::Match { .. } if r.is_expired(now) => "expired",
            HashCheck::Match { .. } => "active",
            HashCheck::UnknownVersion => "unknown_hash_version",
            _ => "wrong_secret",
        },
    };
    let answer = Answer {
        status,
        key_id: Some(key_id.as_str().to_owned()),
        record,
        detail: None,
    };
    Ok(answer.print(json))
}

/// Reads one token from standard input: surrounding white space (a line ending) is dropped.
fn read_token() -> Result<Zeroizing<Vec<u8>>, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!(
            "paste the token and press Enter, then Ctrl-D (it is echoed on this terminal; \
             `clab-keys check < file` avoids that)"
        );
    }
    let mut input = Zeroizing::new(Vec::with_capacity(128));
    stdin
        .lock()
        .take(MAX_INPUT + 1)
        .read_to_end(&mut input)
        .map_err(|e| CliError::Usage(format!("could not read standard input: {e}")))?;
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(input.len());
    let end = input
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    if start == end {
        return Err(CliError::Usage(
            "no token on standard input; pipe it in, such as `clab-keys check < token.txt`"
                .to_owned(),
        ));
    }
    // Longer input is no token; kept whole (at most MAX_INPUT + 1 bytes) so that the parser
    // refuses it by its length, before anything else.
    Ok(Zeroizing::new(input[start..end].to_vec()))
}

/// The answer of `check`.
struct Answer {
    status: &'static str,
    key_id: Option<String>,
    record: Option<KeyRecord>,
    detail: Option<String>,
}

impl Answer {
    fn malformed(detail: &str) -> Self {
        Self {
            status: "malformed",
            key_id: None,
            record: None,
            detail: Some(detail.to_owned()),
        }
    }

    fn active(&self) -> bool {
        self.status == "active"
    }

    /// Prints the answer and returns the exit outcome: 0 only when the key is active.
    fn print(&self, json: bool) -> Outcome {
        if json {
            output::print_json(&self.to_json());
        } else {
            println!("{}", self.to_text());
        }
        if self.active() {
            Outcome::Ok
        } else {
            Outcome::Negative
        }
    }

    fn to_json(&self) -> Value {
        let r = self.record.as_ref();
        json!({
            "active": self.active(),
            "status": self.status,
            "id": self.key_id,
            "prefix": r.map(KeyRecord::display_prefix),
            "user_id": r.map(|r| r.user_id.as_str()),
            "name": r.map(|r| r.name.as_str()),
            "scopes": r.map(|r| r.scopes.iter().collect::<Vec<_>>()),
            "created_at": r.map(|r| output::json_time(r.created_at)),
            "expires_at": r.map_or(Value::Null, |r| output::json_opt_time(r.expires_at)),
            "last_used_at": r.map_or(Value::Null, |r| output::json_opt_time(r.last_used_at)),
            "revoked_at": r.map_or(Value::Null, |r| output::json_opt_time(r.revoked_at)),
            "revocation_reason": r.and_then(|r| r.revocation_reason).map(|x| x.as_str()),
            "hash_version": r.map(|r| r.hash.version.as_u16()),
            "detail": self.detail,
        })
    }

    fn to_text(&self) -> String {
        let Some(r) = &self.record else {
            return match (self.status, &self.key_id) {
                ("malformed", _) => format!(
                    "not active: malformed ({}); a key is {} characters: prefix, key id, secret, \
                     checksum",
                    self.detail.as_deref().unwrap_or("not a key"),
                    KeyFormats::default().primary().token_len()
                ),
                (_, Some(id)) => format!("not active: unknown: no key has the id {id}"),
                (_, None) => format!("not active: {}", self.status),
            };
        };
        let key = format!(
            "key {} (\"{}\") of user {}",
            r.display_prefix(),
            r.name,
            r.user_id
        );
        match self.status {
            "active" => format!(
                "active: {key}; scopes: {}; expires: {}; last used: {}",
                output::text_scopes(r.scopes.iter()),
                output::text_opt_time(r.expires_at, "never"),
                output::text_opt_time(r.last_used_at, "never"),
            ),
            "revoked" => format!(
                "not active: revoked at {}: {key}",
                output::text_revocation(r)
            ),
            "expired" => format!(
                "not active: expired at {}: {key}",
                output::text_opt_time(r.expires_at, "?")
            ),
            "wrong_secret" => format!(
                "not active: wrong secret: the key id belongs to {key}, but the rest of the \
                 token does not match it"
            ),
            "unknown_hash_version" => format!(
                "not active: unknown hash version: {key} was hashed with pepper version {}, \
                 which CLAB_KEYS_PEPPER (version {}) does not cover",
                r.hash.version.as_u16(),
                config::PEPPER_VERSION
            ),
            // The row went between the check and the read.
            other => format!("not active: {other}: {key}"),
        }
    }
}
