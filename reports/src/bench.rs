//! Benchmark results (`bench.json`) and their plots: time against group size, log scales,
//! one line per implementation, as inline SVG (no script, no network).
//!
//! `bench.json` (schema version 1) holds one entry per measurement, e.g. the mean of a
//! criterion benchmark:
//!
//! ```json
//! { "schema_version": 1,
//!   "results": [
//!     { "benchmark": "commit (add one member)", "implementation": "reference",
//!       "group_size": 64, "mean_ns": 1250000.0 } ] }
//! ```
//!
//! `benchmark` names a plot, `implementation` a line in it, `group_size` (at least 1) and
//! `mean_ns` (nanoseconds, above 0) a point.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::input::InputError;
use crate::render::escape;

/// The `bench.json` layout version this Concord reads.
pub const BENCH_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchFile {
    pub schema_version: u32,
    pub results: Vec<BenchPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchPoint {
    pub benchmark: String,
    pub implementation: String,
    pub group_size: u64,
    pub mean_ns: f64,
}

impl BenchFile {
    pub fn load(path: &std::path::Path) -> Result<Self, InputError> {
        let (text, file) = crate::input::read(path)?;
        BenchFile::parse(&text, &file)
    }

    pub fn parse(text: &str, file: &str) -> Result<Self, InputError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let parsed: BenchFile =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                InputError {
                    file: file.to_string(),
                    line: inner.line(),
                    column: inner.column(),
                    field: if path == "." { String::new() } else { path },
                    message: inner.to_string(),
                }
            })?;
        let at = |field: String, message: String| InputError {
            file: file.to_string(),
            line: 0,
            column: 0,
            field,
            message,
        };
        if parsed.schema_version != BENCH_SCHEMA_VERSION {
            return Err(at(
                "schema_version".into(),
                format!(
                    "expected {BENCH_SCHEMA_VERSION}, found {}",
                    parsed.schema_version
                ),
            ));
        }
        for (i, point) in parsed.results.iter().enumerate() {
            if point.group_size == 0 {
                return Err(at(
                    format!("results[{i}].group_size"),
                    "expected at least 1".into(),
                ));
            }
            if !(point.mean_ns.is_finite() && point.mean_ns > 0.0) {
                return Err(at(
                    format!("results[{i}].mean_ns"),
                    format!("expected a time above 0 ns, found {}", point.mean_ns),
                ));
            }
        }
        Ok(parsed)
    }

    /// Benchmark → implementation → points sorted by group size.
    fn series(&self) -> BTreeMap<&str, Lines<'_>> {
        let mut out: BTreeMap<&str, Lines<'_>> = BTreeMap::new();
        for p in &self.results {
            out.entry(&p.benchmark)
                .or_default()
                .entry(&p.implementation)
                .or_default()
                .push((p.group_size, p.mean_ns));
        }
        for lines in out.values_mut() {
            for points in lines.values_mut() {
                points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            }
        }
        out
    }

    /// One `<figure>` with an inline SVG per benchmark.
    pub fn to_svg_figures(&self) -> String {
        self.series()
            .iter()
            .map(|(benchmark, lines)| plot(benchmark, lines))
            .collect()
    }
}

/// Implementation → (group size, mean ns) points of one plot.
type Lines<'a> = BTreeMap<&'a str, Vec<(u64, f64)>>;

const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];
const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 45.0;

fn format_ns(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    format!("{value:.3}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
        + " "
        + unit
}

fn plot(benchmark: &str, lines: &Lines<'_>) -> String {
    let points = || lines.values().flat_map(|p| p.iter());
    let min_x = points().map(|p| p.0).min().unwrap_or(1) as f64;
    let max_x = points().map(|p| p.0).max().unwrap_or(1) as f64;
    let min_y = points().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let max_y = points().map(|p| p.1).fold(0.0, f64::max);
    // Whole decades on the time axis, powers of two on the size axis.
    let y_low = min_y.log10().floor();
    let y_high = max_y.log10().ceil().max(y_low + 1.0);
    let x_low = min_x.log2().floor();
    let x_high = max_x.log2().ceil().max(x_low + 1.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_at = |size: f64| LEFT + (size.log2() - x_low) / (x_high - x_low) * plot_w;
    let y_at = |ns: f64| TOP + plot_h - (ns.log10() - y_low) / (y_high - y_low) * plot_h;

    let mut svg = format!(
        "<figure class=\"bench\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-label=\"{}\">\n",
        escape(&format!("{benchmark}: time against group size"))
    );
    svg.push_str(&format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"none\" stroke=\"#999\"/>\n"
    ));
    let mut exponent = y_low;
    while exponent <= y_high {
        let y = y_at(10f64.powf(exponent));
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>\n",
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            escape(&format_ns(10f64.powf(exponent)))
        ));
        exponent += 1.0;
    }
    let mut exponent = x_low;
    while exponent <= x_high {
        let x = x_at(2f64.powf(exponent));
        svg.push_str(&format!(
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#eee\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n",
            TOP + plot_h,
            TOP + plot_h + 15.0,
            2f64.powf(exponent)
        ));
        exponent += 1.0;
    }
    svg.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\">group size (members, log scale)</text>\n",
        LEFT + plot_w / 2.0,
        HEIGHT - 8.0
    ));
    for (i, (implementation, points)) in lines.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let coordinates: Vec<String> = points
            .iter()
            .map(|&(size, ns)| format!("{:.1},{:.1}", x_at(size as f64), y_at(ns)))
            .collect();
        svg.push_str(&format!(
            "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n",
            coordinates.join(" ")
        ));
        for &(size, ns) in points {
            svg.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{}</title></circle>\n",
                x_at(size as f64),
                y_at(ns),
                escape(&format!("{implementation}, {size} members: {}", format_ns(ns)))
            ));
        }
        let legend_y = TOP + 10.0 + 18.0 * i as f64;
        svg.push_str(&format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{legend_y:.1}\" y2=\"{legend_y:.1}\" stroke=\"{colour}\" stroke-width=\"3\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>\n",
            LEFT + plot_w + 10.0,
            LEFT + plot_w + 30.0,
            LEFT + plot_w + 35.0,
            legend_y + 4.0,
            escape(implementation)
        ));
    }
    svg.push_str(&format!(
        "</svg><figcaption>{} (time per operation, log scale)</figcaption></figure>\n",
        escape(benchmark)
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_points_are_named() {
        let text = r#"{"schema_version":1,"results":[{"benchmark":"b","implementation":"i","group_size":0,"mean_ns":1.0}]}"#;
        let error = BenchFile::parse(text, "bench.json").unwrap_err();
        assert_eq!(error.field, "results[0].group_size");
        let text = r#"{"schema_version":1,"results":[{"benchmark":"b","implementation":"i","group_size":2}]}"#;
        let error = BenchFile::parse(text, "bench.json").unwrap_err();
        assert!(error.message.contains("mean_ns"), "{error}");
    }

    #[test]
    fn one_line_per_implementation() {
        let text = r#"{"schema_version":1,"results":[
            {"benchmark":"commit","implementation":"a","group_size":2,"mean_ns":1000.0},
            {"benchmark":"commit","implementation":"a","group_size":64,"mean_ns":90000.0},
            {"benchmark":"commit","implementation":"b","group_size":2,"mean_ns":2000.0}]}"#;
        let svg = BenchFile::parse(text, "bench.json")
            .unwrap()
            .to_svg_figures();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("100 µs"), "{svg}");
    }
}
