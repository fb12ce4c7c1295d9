//! `list --user ID`: a user's keys, newest first, every state.

use clab_keys::UserId;
use clab_keys::sea_orm::SeaOrmStore;
use serde_json::json;

use crate::config;
use crate::db::{self, KEYS_TABLE};
use crate::error::{CliError, Outcome};
use crate::output::{self, json_time};

pub async fn run(user: &UserId, json: bool) -> Result<Outcome, CliError> {
    let (db, _) = db::connect().await?;
    db::require_table(&db, KEYS_TABLE).await?;
    let keys = super::service(SeaOrmStore::new(db), config::unused_hasher()?, None)?;
    let now = keys.now();
    let list = keys
        .list(user)
        .await
        .map_err(|e| CliError::store("listing the keys failed", &e, ""))?;
    if json {
        output::print_json(&json!({
            "user_id": user.as_str(),
            "now": json_time(now),
            "keys": list.iter().map(|k| output::key_json(k, now)).collect::<Vec<_>>(),
        }));
        return Ok(Outcome::Ok);
    }
    if list.is_empty() {
        println!("user {user} has no keys");
        return Ok(Outcome::Ok);
    }
    let active = list
        .iter()
        .filter(|k| output::status(k.revoked_at.is_some(), k.expires_at, now) == "active")
        .count();
    println!("user {user}: {} keys, {active} active", list.len());
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|k| {
            let revoked = match (k.revoked_at, k.revocation_reason) {
                (Some(at), Some(reason)) => format!("{} ({reason})", output::text_time(at)),
                (Some(at), None) => output::text_time(at),
                (None, _) => "-".to_owned(),
            };
            vec![
                k.display_prefix.clone(),
                k.name.clone(),
                output::status(k.revoked_at.is_some(), k.expires_at, now).to_owned(),
                output::text_scopes(k.scopes.iter()),
                output::text_time(k.created_at),
                output::text_opt_time(k.expires_at, "never"),
                output::text_opt_time(k.last_used_at, "never"),
                revoked,
                k.replaced_by
                    .map_or_else(|| "-".to_owned(), |id| id.to_string()),
            ]
        })
        .collect();
    output::print_table(
        &[
            "KEY",
            "NAME",
            "STATUS",
            "SCOPES",
            "CREATED",
            "EXPIRES",
            "LAST USED",
            "REVOKED",
            "REPLACED BY",
        ],
        &rows,
    );
    Ok(Outcome::Ok)
}
