//! Order statistics of measured latencies.

/// The `p`-th percentile (0–100) of `sorted` by nearest rank; `NaN` when empty.
///
/// ```
/// let v = [1.0, 2.0, 3.0, 4.0];
/// assert_eq!(clab_keys_bench::stats::percentile(&v, 50.0), 2.0);
/// assert_eq!(clab_keys_bench::stats::percentile(&v, 100.0), 4.0);
/// ```
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `values` sorted ascending (NaN last).
pub fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// p50, p99 and max of `values`, as `(p50, p99, max)`.
pub fn summary(values: &[f64]) -> (f64, f64, f64) {
    let s = sorted(values);
    (
        percentile(&s, 50.0),
        percentile(&s, 99.0),
        s.last().copied().unwrap_or(f64::NAN),
    )
}
