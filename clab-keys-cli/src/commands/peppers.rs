//! `peppers`: active keys per hash version (`KeyService::hash_version_counts`), and which of
//! those versions the configured pepper covers. A previous pepper can be retired once its
//! version has no active key left (contract §3: a key re-hashes under the current pepper on
//! its next use); a version no configured pepper covers holds keys that fail today.

use clab_keys::sea_orm::SeaOrmStore;
use serde_json::json;

use crate::config;
use crate::db::{self, KEYS_TABLE};
use crate::error::{CliError, Outcome};
use crate::output;

pub async fn run(json: bool) -> Result<Outcome, CliError> {
    let peppers = config::peppers("peppers")?;
    let (db, _) = db::connect().await?;
    db::require_table(&db, KEYS_TABLE).await?;
    let current = peppers.hasher.current_version().as_u16();
    let configured = peppers.versions.clone();
    let keys = super::service(SeaOrmStore::new(db), peppers.hasher, None)?;
    let counts = keys
        .hash_version_counts()
        .await
        .map_err(|e| CliError::store("counting the hash versions failed", &e, ""))?;
    let covered = |v: u16| configured.contains(&v);
    let uncovered: u64 = counts
        .iter()
        .filter(|(v, _)| !covered(v.as_u16()))
        .map(|(_, n)| n)
        .sum();
    // Previous peppers with no active key left: safe to remove from the configuration.
    let retirable: Vec<u16> = configured
        .iter()
        .copied()
        .filter(|v| *v != current && !counts.iter().any(|(c, _)| c.as_u16() == *v))
        .collect();
    if json {
        output::print_json(&json!({
            "current_version": current,
            "configured_versions": configured,
            "versions": counts.iter().map(|(v, n)| json!({
                "version": v.as_u16(),
                "active_keys": n,
                "covered": covered(v.as_u16()),
                "current": v.as_u16() == current,
            })).collect::<Vec<_>>(),
            "uncovered_active_keys": uncovered,
            "retirable_versions": retirable,
        }));
    } else {
        println!(
            "configured peppers: version {current} (CLAB_KEYS_PEPPER, current){}",
            configured
                .iter()
                .filter(|v| **v != current)
                .map(|v| format!(", version {v}"))
                .collect::<String>()
        );
        if counts.is_empty() {
            println!("no active keys");
        }
        for (version, n) in &counts {
            let v = version.as_u16();
            let note = if v == current {
                "current pepper".to_owned()
            } else if covered(v) {
                "previous pepper; keys move to the current one on their next use".to_owned()
            } else if v == 0 {
                "plain SHA-256 (no pepper): refused unless the app accepts it through \
                 dangerous::accept_unpeppered_sha256"
                    .to_owned()
            } else {
                "NOT COVERED: no configured pepper has this version; these keys fail".to_owned()
            };
            println!(
                "version {v}: {n} active key{} ({note})",
                if *n == 1 { "" } else { "s" }
            );
        }
        for v in &retirable {
            println!("version {v} has no active key: its pepper can be retired");
        }
        if uncovered > 0 {
            println!(
                "{uncovered} active key{} under versions the configured peppers do not cover",
                if uncovered == 1 { " is" } else { "s are" }
            );
        }
    }
    Ok(if uncovered > 0 {
        Outcome::Negative
    } else {
        Outcome::Ok
    })
}
