//! `prune --older-than DURATION`: deletes the rows of keys revoked or expired before now minus
//! the duration, in batches of `KeyService::PRUNE_BATCH` rows (one short statement each, so the
//! apps keep answering), with a progress bar on a terminal and a line per second otherwise.
//!
//! It runs the loop of `KeyService::prune` itself, batch by batch through the store's `prune`,
//! to report each batch as it goes: the same cutoff rule (never later than now, so no working
//! key is deleted), the same batch size and the same audit event.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use clab_keys::sea_orm::SeaOrmStore;
use clab_keys::{KeyService, KeyStore as _, truncate_to_micros};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use time::OffsetDateTime;

use crate::db::{self, KEYS_TABLE};
use crate::error::{CliError, Outcome};
use crate::output;

pub async fn run(older_than: time::Duration, json: bool) -> Result<Outcome, CliError> {
    let (db, _) = db::connect().await?;
    db::require_table(&db, KEYS_TABLE).await?;
    let store = SeaOrmStore::new(db);
    let cutoff = truncate_to_micros(OffsetDateTime::now_utc())
        .checked_sub(older_than)
        .ok_or_else(|| CliError::Usage("--older-than reaches before the year -9999".to_owned()))?;
    let mut progress = Progress::new();
    let started = Instant::now();
    let (mut deleted, mut batches) = (0_u64, 0_u32);
    let result = loop {
        match store.prune(cutoff, KeyService::PRUNE_BATCH).await {
            Ok(n) => {
                deleted += n;
                batches += 1;
                progress.batch(n);
                if n < u64::from(KeyService::PRUNE_BATCH) {
                    break Ok(());
                }
            }
            Err(e) => break Err(e),
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    tracing::info!(
        target: "clab_keys::audit",
        event = "authn_tokens_pruned",
        cutoff = %cutoff,
        count = deleted,
        batches,
        complete = result.is_ok(),
        "revoked and expired api keys pruned"
    );
    result.map_err(|e| {
        CliError::store(
            &format!("pruning failed after {deleted} rows (those stay deleted)"),
            &e,
            "",
        )
    })?;
    if json {
        output::print_json(&json!({
            "deleted": deleted,
            "cutoff": output::json_time(cutoff),
            "seconds": (seconds * 1000.0).round() / 1000.0,
        }));
    } else {
        println!(
            "pruned {deleted} row{} of keys revoked or expired before {} ({seconds:.1} s)",
            if deleted == 1 { "" } else { "s" },
            output::text_time(cutoff)
        );
    }
    Ok(Outcome::Ok)
}

/// Where the batches are reported: an indicatif spinner on a terminal (stderr), plain lines on
/// stderr otherwise, at most one a second.
struct Progress {
    bar: Option<ProgressBar>,
    deleted: u64,
    batches: u64,
    last: Instant,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} pruning: {human_pos} rows deleted ({per_sec}), {elapsed}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            deleted: 0,
            batches: 0,
            last: Instant::now(),
        }
    }

    fn batch(&mut self, n: u64) {
        self.deleted += n;
        self.batches += 1;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        } else if self.last.elapsed() >= Duration::from_secs(1) {
            self.last = Instant::now();
            eprintln!(
                "pruning: {} rows deleted in {} batches",
                self.deleted, self.batches
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
