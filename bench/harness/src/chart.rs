//! The SVG charts of the benchmark results, drawn with `plotters` (SVG backend only).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{BoxError, err};

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> BoxError {
    err(e.to_string())
}

/// One feed's latencies, in milliseconds, and the line the legend shows for it.
#[derive(Debug, Clone)]
pub struct Series {
    /// The legend entry (the feed and its p50/p99/max, say).
    pub label: String,
    /// The measured latencies in milliseconds.
    pub values_ms: Vec<f64>,
}

/// Draws the cumulative distribution of each series on a logarithmic time axis, with a
/// dashed vertical line at each of `marks_ms` (targets), into an SVG file at `path`.
///
/// # Errors
///
/// Returns an error when there is nothing to draw or the file cannot be written.
pub fn cdf(
    path: &str,
    title: &str,
    series: &[Series],
    marks_ms: &[(f64, &str)],
) -> Result<(), BoxError> {
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values_ms.iter().copied())
        .collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(0.0, f64::max);
    if !lo.is_finite() {
        return Err(err("no latencies to draw"));
    }
    let x_lo = (lo / 2.0).max(0.01);
    let x_hi = marks_ms.iter().map(|m| m.0).fold(hi, f64::max) * 1.5;

    // The legend goes under the chart, where it hides no line.
    let legend_height = 20 + 22 * series.len() as u32;
    let root = SVGBackend::new(path, (900, 520 + legend_height)).into_drawing_area();
    root.fill(&WHITE).map_err(boxed)?;
    let (upper, lower) = root.split_vertically(520);
    let mut chart = ChartBuilder::on(&upper)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), 0.0..1.0)
        .map_err(boxed)?;
    chart
        .configure_mesh()
        .x_desc("ms until every other instance refuses the key (from the revoke call's answer; log scale)")
        .y_desc("fraction of revocations")
        .x_label_formatter(&|v| format_ms(*v))
        .draw()
        .map_err(boxed)?;
    let mark_color = RGBColor(90, 90, 90);
    for (i, (at, label)) in marks_ms.iter().enumerate() {
        chart
            .draw_series(DashedLineSeries::new(
                [(*at, 0.0), (*at, 1.0)],
                6,
                4,
                mark_color.stroke_width(1),
            ))
            .map_err(boxed)?;
        // Left of its line, so that it never runs off the chart.
        let style = ("sans-serif", 13)
            .into_font()
            .color(&mark_color)
            .pos(Pos::new(HPos::Right, VPos::Center));
        chart
            .draw_series([Text::new(
                (*label).to_owned(),
                (*at / 1.04, 0.97 - 0.06 * i as f64),
                style,
            )])
            .map_err(boxed)?;
    }
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut v = s.values_ms.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len() as f64;
        // A step line: at each value the fraction jumps by 1/n.
        let mut points = Vec::with_capacity(2 * v.len());
        for (k, x) in v.iter().enumerate() {
            let x = x.max(x_lo);
            points.push((x, k as f64 / n));
            points.push((x, (k + 1) as f64 / n));
        }
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(boxed)?;
        let y = 10 + 22 * i as i32;
        lower
            .draw(&PathElement::new(
                [(80, y + 8), (110, y + 8)],
                color.stroke_width(3),
            ))
            .map_err(boxed)?;
        lower
            .draw(&Text::new(s.label.clone(), (120, y), ("sans-serif", 14)))
            .map_err(boxed)?;
    }
    root.present().map_err(boxed)?;
    Ok(())
}

fn format_ms(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// One bar: its label, its value, and the spread of the runs behind it (low, high).
#[derive(Debug, Clone)]
pub struct Bar {
    /// The label under the bar.
    pub label: String,
    /// The bar's height.
    pub value: f64,
    /// The lowest and highest run, drawn as a whisker when present.
    pub spread: Option<(f64, f64)>,
}

/// Draws `bars` with a dashed horizontal line at `target`, into an SVG file at `path`.
///
/// # Errors
///
/// Returns an error when there is nothing to draw or the file cannot be written.
pub fn bars(
    path: &str,
    title: &str,
    y_desc: &str,
    bars: &[Bar],
    target: f64,
) -> Result<(), BoxError> {
    if bars.is_empty() {
        return Err(err("no bars to draw"));
    }
    let top = bars
        .iter()
        .map(|b| b.spread.map_or(b.value, |s| s.1))
        .fold(target, f64::max)
        * 1.2;
    let n = bars.len();
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(boxed)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..n as f64, 0.0..top)
        .map_err(boxed)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc(y_desc)
        .draw()
        .map_err(boxed)?;
    for (i, b) in bars.iter().enumerate() {
        let x = i as f64;
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series([Rectangle::new(
                [(x + 0.2, 0.0), (x + 0.8, b.value)],
                color.filled(),
            )])
            .map_err(boxed)?;
        if let Some((lo, hi)) = b.spread {
            chart
                .draw_series([
                    PathElement::new([(x + 0.5, lo), (x + 0.5, hi)], BLACK.stroke_width(1)),
                    PathElement::new([(x + 0.42, lo), (x + 0.58, lo)], BLACK.stroke_width(1)),
                    PathElement::new([(x + 0.42, hi), (x + 0.58, hi)], BLACK.stroke_width(1)),
                ])
                .map_err(boxed)?;
        }
        let centered = |size| {
            ("sans-serif", size)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Bottom))
        };
        chart
            .draw_series([Text::new(
                format!("{:.2}×", b.value),
                (x + 0.5, b.spread.map_or(b.value, |s| s.1) + top * 0.01),
                centered(15),
            )])
            .map_err(boxed)?;
        // The label goes under the axis, outside the plotting area: drawn on the root.
        let (px, py) = chart.backend_coord(&(x + 0.5, 0.0));
        let below = ("sans-serif", 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(b.label.clone(), (px, py + 8), below))
            .map_err(boxed)?;
    }
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, target), (n as f64, target)],
            6,
            4,
            RED.stroke_width(1),
        ))
        .map_err(boxed)?;
    root.present().map_err(boxed)?;
    Ok(())
}
