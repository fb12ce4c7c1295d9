//! `revoke KEY_ID` and `revoke-user USER_ID`: revocation through the key service, announced
//! on the feed the apps listen to (see `crate::feed`), so that running instances evict the
//! keys from their verification caches at once.

use clab_keys::sea_orm::SeaOrmStore;
use clab_keys::{
    KeyFormats, KeyId, KeyStore as _, RevocationReason, RevokeError, TokenFormat, UserId,
};
use serde_json::json;

use crate::config;
use crate::db::{self, CHANGES_TABLE, KEYS_TABLE};
use crate::error::{CliError, Outcome};
use crate::feed::{self, FeedKind};
use crate::output;

/// `revoke KEY_ID [--reason R]`.
pub async fn one(text: &str, reason: RevocationReason, json: bool) -> Result<Outcome, CliError> {
    let key_id = key_id_argument(text)?;
    let (db, backend) = db::connect().await?;
    let feed = feed::choose(backend)?;
    require_tables(&db, feed.kind).await?;
    let store = SeaOrmStore::new(db.clone());
    let Some(before) = store
        .find(&key_id)
        .await
        .map_err(|e| CliError::store("looking the key up failed", &e, ""))?
    else {
        return Err(CliError::NotFound(format!("no key has the id {key_id}")));
    };
    let owner = before.user_id.clone();
    let keys = super::service(store.clone(), config::unused_hasher()?, feed.build(&db)?)?;
    match keys
        .revoke_with_reason(&owner, key_id.as_str(), reason)
        .await
    {
        Ok(()) => {}
        // Deleted (pruned) between the lookup and the revocation.
        Err(RevokeError::NotFound) => {
            return Err(CliError::NotFound(format!("no key has the id {key_id}")));
        }
        Err(RevokeError::Store(e)) => {
            return Err(CliError::store(
                &format!("revoking {key_id} failed"),
                &e,
                "run the same command again to announce it again",
            ));
        }
        Err(e) => return Err(CliError::Internal(format!("revoking {key_id} failed: {e}"))),
    }
    let after = store
        .find(&key_id)
        .await
        .map_err(|e| CliError::store("reading the revoked key failed", &e, ""))?
        .unwrap_or(before.clone());
    let already = before.revoked_at.is_some();
    if json {
        output::print_json(&json!({
            "id": key_id.as_str(),
            "prefix": after.display_prefix(),
            "user_id": owner.as_str(),
            "already_revoked": already,
            "revoked_at": output::json_opt_time(after.revoked_at),
            "revocation_reason": after.revocation_reason.map(|r| r.as_str()),
            "feed": feed.kind.as_str(),
        }));
    } else {
        let revocation = output::text_revocation(&after);
        if already {
            println!(
                "key {} of user {owner} was already revoked at {revocation}; announced again \
                 through {}",
                after.display_prefix(),
                feed.kind.describe()
            );
        } else {
            println!(
                "revoked key {} of user {owner} at {revocation}; announced through {}",
                after.display_prefix(),
                feed.kind.describe()
            );
        }
        warn_if_unannounced(feed.kind);
    }
    Ok(Outcome::Ok)
}

/// `revoke-user USER_ID [--reason R]`.
pub async fn all(user: &UserId, reason: RevocationReason, json: bool) -> Result<Outcome, CliError> {
    let (db, backend) = db::connect().await?;
    let feed = feed::choose(backend)?;
    require_tables(&db, feed.kind).await?;
    let keys = super::service(
        SeaOrmStore::new(db.clone()),
        config::unused_hasher()?,
        feed.build(&db)?,
    )?;
    let revoked = keys.revoke_all(user, reason).await.map_err(|e| {
        CliError::store(
            &format!("revoking the keys of user {user} failed"),
            &e,
            "`clab-keys list --user` shows them; `clab-keys revoke KEY_ID` on each announces it \
             again",
        )
    })?;
    if json {
        output::print_json(&json!({
            "user_id": user.as_str(),
            "revoked": revoked,
            "revocation_reason": reason.as_str(),
            "feed": feed.kind.as_str(),
        }));
    } else {
        println!(
            "revoked {revoked} key{} of user {user} ({reason}); announced through {}",
            if revoked == 1 { "" } else { "s" },
            feed.kind.describe()
        );
        warn_if_unannounced(feed.kind);
    }
    Ok(Outcome::Ok)
}

/// The key id from `KEY_ID`: the 8-character id, or a display prefix (`clab_user_3fK9xQ2a`).
/// A whole token is refused without being repeated: it belongs on standard input (`check`),
/// and should be revoked as leaked now that it is in the shell history.
fn key_id_argument(text: &str) -> Result<KeyId, CliError> {
    let formats = KeyFormats::default();
    let id = formats
        .iter()
        .find_map(|f| text.strip_prefix(f.prefix().as_str()))
        .unwrap_or(text);
    if let Ok(key_id) = KeyId::parse(id) {
        return Ok(key_id);
    }
    if formats.parse(text.as_bytes()).is_ok() || id.len() >= TokenFormat::BODY_LEN {
        return Err(CliError::Usage(
            "KEY_ID must be the 8-character key id, not a whole token; the token is now in your \
             shell history: revoke its key with --reason leaked"
                .to_owned(),
        ));
    }
    Err(CliError::Usage(
        "KEY_ID must be the 8-character key id (base62), such as 3fK9xQ2a, or the display \
         prefix, such as clab_user_3fK9xQ2a"
            .to_owned(),
    ))
}

/// The tables a revocation needs: the keys, and the change log when that is the feed.
async fn require_tables(db: &sea_orm::DatabaseConnection, feed: FeedKind) -> Result<(), CliError> {
    db::require_table(db, KEYS_TABLE).await?;
    if feed == FeedKind::ChangeLog {
        db::require_table(db, CHANGES_TABLE).await?;
    }
    Ok(())
}

/// Says on stderr that nothing was announced, when no feed is configured.
fn warn_if_unannounced(feed: FeedKind) {
    if feed == FeedKind::None {
        eprintln!(
            "note: CLAB_KEYS_INVALIDATION_FEED=none: running instances accept the key until \
             their cache entry expires (at most 5 s)"
        );
    }
}
