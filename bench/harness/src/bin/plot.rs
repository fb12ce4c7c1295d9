//! Draws the benchmark charts from the scripts' CSV files.
//!
//! usage:
//!   plot propagation --csv propagation.csv --out docs/figures/revocation-propagation.svg [--instances 3]
//!       one cumulative distribution per feed of the time until every other instance refused
//!       the key (the slowest of them, per revocation), with the targets marked
//!   plot load --csv load-ratios.csv --out docs/figures/load-ratios.svg
//!       one bar per row `case,ratio,low,high` (API key vs JWT requests per second)

use std::collections::BTreeMap;

use clab_keys_bench::args::Args;
use clab_keys_bench::chart::{self, Bar, Series};
use clab_keys_bench::stats::summary;
use clab_keys_bench::{BoxError, err};

fn main() -> Result<(), BoxError> {
    let args = Args::from_env()?;
    let csv = std::fs::read_to_string(args.required("csv")?)?;
    let out = args.required("out")?;
    match args.positional.first().map(String::as_str) {
        Some("propagation") => propagation(&csv, out, args.parsed("instances", 3usize)?),
        Some("load") => load(&csv, out),
        _ => Err(err(
            "usage: plot propagation|load --csv FILE --out FILE.svg",
        )),
    }
}

/// The rows of a CSV file with a header, as maps from column name to value.
fn rows(csv: &str) -> Vec<BTreeMap<&str, &str>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| header.iter().copied().zip(l.split(',')).collect())
        .collect()
}

fn number(row: &BTreeMap<&str, &str>, column: &str) -> Result<f64, BoxError> {
    row.get(column)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| err(format!("column {column} is missing or not a number")))
}

fn propagation(csv: &str, out: &str, instances: usize) -> Result<(), BoxError> {
    // feed → revocation → the slowest other instance.
    let mut per_feed: BTreeMap<String, BTreeMap<u64, f64>> = BTreeMap::new();
    let mut order = Vec::new();
    for row in rows(csv) {
        if number(&row, "instances")? as usize != instances {
            continue;
        }
        let feed = row.get("feed").copied().unwrap_or("?").to_owned();
        if !order.contains(&feed) {
            order.push(feed.clone());
        }
        let slot = per_feed
            .entry(feed)
            .or_default()
            .entry(number(&row, "revocation")? as u64)
            .or_insert(0.0);
        *slot = slot.max(number(&row, "refused_after_return_ms")?);
    }
    let series: Vec<Series> = order
        .iter()
        .map(|feed| {
            let values: Vec<f64> = per_feed[feed].values().copied().collect();
            let (p50, p99, max) = summary(&values);
            Series {
                label: format!(
                    "{feed} (n={}): p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms",
                    values.len()
                ),
                values_ms: values,
            }
        })
        .collect();
    chart::cdf(
        out,
        &format!(
            "Revocation reaching every other instance ({instances} axum-app instances, loopback)"
        ),
        &series,
        &[
            (100.0, "100 ms: target for NOTIFY and Redis"),
            (300.0, "300 ms: target for the 250 ms poll"),
        ],
    )
}

fn load(csv: &str, out: &str) -> Result<(), BoxError> {
    let mut bars = Vec::new();
    for row in rows(csv) {
        let spread = match (number(&row, "low"), number(&row, "high")) {
            (Ok(lo), Ok(hi)) => Some((lo, hi)),
            _ => None,
        };
        bars.push(Bar {
            label: row.get("case").copied().unwrap_or("?").to_owned(),
            value: number(&row, "ratio")?,
            spread,
        });
    }
    chart::bars(
        out,
        "GET /api/security/users/me: API key vs JWT requests/s (same run, cache on by default)",
        "API key / JWT requests per second",
        &bars,
        1.0,
    )
}
