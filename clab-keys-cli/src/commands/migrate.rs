//! `migrate [--status]`: the clab-keys migrations through the standalone migrator
//! (`clab_keys::sea_orm::migration::Migrator`, history in `clab_keys_migrations`).
//!
//! A database whose clab-keys migrations an app runs inside its own `Migrator` (history in
//! `seaql_migrations`, as the example apps do) must not also be migrated standalone: the two
//! histories would disagree and the second run would try to add columns that exist. `migrate`
//! refuses such a database (the app migrates it on start); `--status` reads whichever history
//! the database has.

use clab_keys::sea_orm::migration::{self, Migrator};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait as _, DatabaseConnection};
use sea_orm_migration::MigratorTrait as _;
use serde_json::json;

use crate::db;
use crate::error::{CliError, Outcome, chain};
use crate::output;

/// The standalone migrator's history table.
const STANDALONE_TABLE: &str = "clab_keys_migrations";
/// SeaORM's default history table, where an app's own `Migrator` records clab-keys' migrations.
const APP_TABLE: &str = "seaql_migrations";

pub async fn run(status_only: bool, json: bool) -> Result<Outcome, CliError> {
    let (db, _) = db::connect().await?;
    let names: Vec<String> = migration::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let app_applied = applied_in(&db, APP_TABLE, &names).await?;
    let (table, before) = if app_applied.is_empty() {
        (
            STANDALONE_TABLE,
            applied_in(&db, STANDALONE_TABLE, &names).await?,
        )
    } else {
        (APP_TABLE, app_applied)
    };
    let mut applied_now = Vec::new();
    if !status_only {
        if table == APP_TABLE {
            return Err(CliError::Configuration(format!(
                "this database's clab-keys migrations are recorded in the app's own history \
                 ({APP_TABLE}): the app runs them when it starts; `clab-keys migrate --status` \
                 shows them"
            )));
        }
        Migrator::up(&db, None)
            .await
            .map_err(|e| CliError::Database(format!("migrating failed: {}", chain(&e))))?;
        let after = applied_in(&db, STANDALONE_TABLE, &names).await?;
        applied_now = names
            .iter()
            .filter(|n| after.contains(n) && !before.contains(n))
            .cloned()
            .collect();
    }
    let applied = |name: &String| before.contains(name) || applied_now.contains(name);
    let pending = names.iter().filter(|n| !applied(n)).count();
    if json {
        output::print_json(&json!({
            "history_table": table,
            "migrations": names.iter().map(|n| json!({
                "name": n,
                "applied": applied(n),
            })).collect::<Vec<_>>(),
            "applied_now": applied_now,
            "pending": pending,
        }));
    } else {
        for name in &names {
            let state = if applied_now.contains(name) {
                "applied now"
            } else if applied(name) {
                "applied"
            } else {
                "pending"
            };
            println!("{name}: {state}");
        }
        match (status_only, pending) {
            (true, 0) => println!("up to date (history in {table})"),
            (true, n) => println!("{n} pending; `clab-keys migrate` applies them"),
            (false, _) => println!(
                "up to date: {} migration{} applied now (history in {table})",
                applied_now.len(),
                if applied_now.len() == 1 { "" } else { "s" }
            ),
        }
    }
    Ok(Outcome::Ok)
}

/// The clab-keys migrations recorded in `table` (empty when the table does not exist).
async fn applied_in(
    db: &DatabaseConnection,
    table: &str,
    names: &[String],
) -> Result<Vec<String>, CliError> {
    if !db::has_table(db, table).await? {
        return Ok(Vec::new());
    }
    let select = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new(table))
        .to_owned();
    let rows = db
        .query_all(&select)
        .await
        .map_err(|e| CliError::Database(format!("reading {table} failed: {}", chain(&e))))?;
    let mut applied = Vec::new();
    for row in rows {
        let version: String = row
            .try_get_by_index(0)
            .map_err(|e| CliError::Database(format!("reading {table} failed: {}", chain(&e))))?;
        if names.contains(&version) {
            applied.push(version);
        }
    }
    Ok(applied)
}
