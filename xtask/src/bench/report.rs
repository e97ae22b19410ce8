//! The report: the measurements of one run, the Markdown table that lines
//! Weft up against its peers, and `report.json`, the raw estimates that a
//! later run compares itself with.
//!
//! Every bench follows one naming convention, which is what lets the
//! report pair Weft with its peers: the criterion group id is
//! `<crate>/<scenario>` (for example `mutex/uncontended`) and the function
//! id is the implementation's name, `weft` for ours and anything else
//! (`std`, `parking_lot`, ...) for a peer. A thread-count sweep is a group
//! `<crate>/<scenario>_sweep` whose benchmarks carry the thread count as
//! their criterion parameter, so its rows read `contended_sweep/4`.

use super::Mode;
use super::json::{self, Json};
use super::machine::Environment;

/// The function id that marks Weft's own implementation in every bench group.
pub(super) const WEFT: &str = "weft";

/// What the tables show where there is no value: a missing peer, or a
/// ratio that cannot be computed.
pub(super) const MISSING: &str = "—";

/// The mark appended to a ratio below 1.00×, where Weft is slower than the peer.
pub(super) const BEHIND: &str = "◀ behind";

/// The `format` field that identifies a `report.json`.
const REPORT_FORMAT: &str = "weft-bench-report";

/// The version of `report.json`'s layout that this task writes and reads.
const REPORT_VERSION: f64 = 1.0;

/// One statistic as criterion estimated it, in nanoseconds: the point
/// estimate and the bounds of its bootstrapped confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Estimate {
    /// The point estimate.
    pub(super) point: f64,
    /// The lower bound of the confidence interval.
    pub(super) lower: f64,
    /// The upper bound of the confidence interval.
    pub(super) upper: f64,
}

/// One benchmark result: how long one implementation took in one scenario.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Measurement {
    /// The Weft crate the scenario belongs to, such as `mutex`.
    pub(super) krate: String,
    /// The scenario within that crate, such as `uncontended` or
    /// `contended_sweep/4`.
    pub(super) scenario: String,
    /// The implementation measured: `weft`, or a peer such as `std`.
    pub(super) implementation: String,
    /// The median time per iteration: the figure every table shows.
    pub(super) median: Estimate,
    /// The mean time per iteration, kept in `report.json` for reference.
    pub(super) mean: Estimate,
    /// The confidence level of both intervals, such as 0.95.
    pub(super) confidence_level: f64,
}

/// Everything one run produced: where it ran, and what it measured in run
/// order. This is what `report.json` holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Report {
    /// The machine, compiler, date and mode of the run.
    pub(super) environment: Environment,
    /// The results, in the order criterion ran them.
    pub(super) measurements: Vec<Measurement>,
}

impl Report {
    /// Writes the report as `report.json`: the header facts, then one
    /// result per line so that two reports diff well.
    pub(super) fn to_json(&self) -> String {
        let Environment {
            machine,
            logical_cores,
            memory,
            os,
            rustc,
            date,
            mode,
            runs,
            benches,
        } = &self.environment;
        let criterion_args = mode.criterion_args().join(" ");
        let runs = runs.to_string();
        let fields: [(&str, &str); 10] = [
            ("machine", machine),
            ("logical_cores", logical_cores),
            ("memory", memory),
            ("os", os),
            ("rustc", rustc),
            ("date", date),
            ("mode", mode.name()),
            ("criterion_args", &criterion_args),
            ("runs", &runs),
            ("benches", benches),
        ];
        let environment: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("    {}: {}", json::quote(name), json::quote(value)))
            .collect();

        let estimate = |e: &Estimate| {
            format!(
                "{{\"estimate\": {}, \"lower\": {}, \"upper\": {}}}",
                json::number(e.point),
                json::number(e.lower),
                json::number(e.upper)
            )
        };
        let results: Vec<String> = self
            .measurements
            .iter()
            .map(|m| {
                format!(
                    "    {{\"crate\": {}, \"scenario\": {}, \"implementation\": {}, \
                     \"median_ns\": {}, \"mean_ns\": {}, \"confidence_level\": {}}}",
                    json::quote(&m.krate),
                    json::quote(&m.scenario),
                    json::quote(&m.implementation),
                    estimate(&m.median),
                    estimate(&m.mean),
                    json::number(m.confidence_level)
                )
            })
            .collect();

        format!(
            "{{\n  \"format\": {},\n  \"version\": {},\n  \"environment\": {{\n{}\n  }},\n  \"results\": [\n{}\n  ]\n}}\n",
            json::quote(REPORT_FORMAT),
            json::number(REPORT_VERSION),
            environment.join(",\n"),
            results.join(",\n")
        )
    }

    /// Reads a report written by `to_json`, explaining what is wrong with
    /// a file that is not one.
    pub(super) fn from_json(text: &str) -> Result<Report, String> {
        let root = Json::parse(text).map_err(|error| format!("not valid JSON: {error}"))?;
        if root.get("format").and_then(Json::as_str) != Some(REPORT_FORMAT) {
            return Err(format!(
                "not a report.json of `cargo xtask bench` (no \"format\": \"{REPORT_FORMAT}\")"
            ));
        }
        match root.get("version").and_then(Json::as_f64) {
            Some(version) if version == REPORT_VERSION => {}
            Some(version) => {
                return Err(format!(
                    "report.json version {version} is not supported; this xtask reads version {REPORT_VERSION}"
                ));
            }
            None => return Err("report.json has no number `version`".to_string()),
        }

        let environment = root
            .get("environment")
            .ok_or("report.json has no `environment`")?;
        let field = |name: &str| {
            environment
                .get(name)
                .and_then(Json::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("report.json has no string `environment.{name}`"))
        };
        let mode_name = field("mode")?;
        let mode = Mode::from_name(&mode_name).ok_or_else(|| {
            format!("report.json has an unknown `environment.mode`: `{mode_name}`")
        })?;
        let environment = Environment {
            machine: field("machine")?,
            logical_cores: field("logical_cores")?,
            memory: field("memory")?,
            os: field("os")?,
            rustc: field("rustc")?,
            date: field("date")?,
            mode,
            // Reports from before `--runs` existed measured one pass.
            runs: match environment.get("runs") {
                None => 1,
                Some(runs) => runs
                    .as_str()
                    .and_then(|runs| runs.parse().ok())
                    .filter(|&runs| runs > 0)
                    .ok_or("report.json has an `environment.runs` that is not a count of passes")?,
            },
            benches: field("benches")?,
        };

        let results = root
            .get("results")
            .and_then(Json::as_array)
            .ok_or("report.json has no array `results`")?;
        let mut measurements = Vec::with_capacity(results.len());
        for (index, result) in results.iter().enumerate() {
            let text = |name: &str| {
                result
                    .get(name)
                    .and_then(Json::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("report.json: results[{index}] has no string `{name}`"))
            };
            // `null` stands for a number that was not finite when written.
            let number = |value: Option<&Json>, name: &str| match value {
                Some(Json::Number(number)) => Ok(*number),
                Some(Json::Null) => Ok(f64::NAN),
                _ => Err(format!(
                    "report.json: results[{index}] has no number `{name}`"
                )),
            };
            let estimate = |name: &str| -> Result<Estimate, String> {
                let value = result.get(name);
                Ok(Estimate {
                    point: number(
                        value.and_then(|v| v.get("estimate")),
                        &format!("{name}.estimate"),
                    )?,
                    lower: number(value.and_then(|v| v.get("lower")), &format!("{name}.lower"))?,
                    upper: number(value.and_then(|v| v.get("upper")), &format!("{name}.upper"))?,
                })
            };
            measurements.push(Measurement {
                krate: text("crate")?,
                scenario: text("scenario")?,
                implementation: text("implementation")?,
                median: estimate("median_ns")?,
                mean: estimate("mean_ns")?,
                confidence_level: number(result.get("confidence_level"), "confidence_level")?,
            });
        }
        Ok(Report {
            environment,
            measurements,
        })
    }
}

/// Splits a sweep scenario such as `contended_sweep/4` into the sweep's
/// name (`contended_sweep`) and its thread count (4). Any other scenario
/// gives `None`.
pub(super) fn sweep_point(scenario: &str) -> Option<(&str, u32)> {
    let (name, threads) = scenario.rsplit_once('/')?;
    if !name.ends_with("_sweep") {
        return None;
    }
    Some((name, threads.parse().ok()?))
}

/// The results of one Weft crate, ready to render as rows of the table.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CrateTable {
    /// The crate's name, such as `mutex`.
    pub(super) name: String,
    /// The peers measured in this crate, in order of first appearance.
    pub(super) peers: Vec<String>,
    /// One row per scenario, in order of first appearance.
    pub(super) rows: Vec<Row>,
}

/// One scenario of one crate: Weft's time and each peer's.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    /// The scenario's name, such as `uncontended`.
    pub(super) scenario: String,
    /// Weft's median time in nanoseconds, if Weft was measured.
    pub(super) weft: Option<f64>,
    /// Each peer's median time in nanoseconds, matching `CrateTable::peers`.
    pub(super) peers: Vec<Option<f64>>,
}

/// Folds several passes over the same benchmarks into one list, in the
/// first pass's order: each benchmark's median becomes the median of the
/// passes' medians (the mean likewise), and its interval becomes the range
/// those medians spanned, so that `report.json` shows how far the passes
/// disagreed. A benchmark missing from some pass is combined over the passes
/// that have it. One pass comes back as it is.
pub(super) fn combine_passes(mut passes: Vec<Vec<Measurement>>) -> Vec<Measurement> {
    if passes.len() <= 1 {
        return passes.pop().unwrap_or_default();
    }
    let key = |m: &Measurement| {
        (
            m.krate.clone(),
            m.scenario.clone(),
            m.implementation.clone(),
        )
    };
    let mut combined: Vec<Measurement> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for measurement in passes.iter().flatten() {
        if !seen.insert(key(measurement)) {
            continue;
        }
        let same: Vec<&Measurement> = passes
            .iter()
            .flatten()
            .filter(|other| key(other) == key(measurement))
            .collect();
        let medians: Vec<f64> = same.iter().map(|m| m.median.point).collect();
        let means: Vec<f64> = same.iter().map(|m| m.mean.point).collect();
        let spread = |points: &[f64], middle: f64| Estimate {
            point: middle,
            lower: points.iter().copied().fold(f64::INFINITY, f64::min),
            upper: points.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        };
        combined.push(Measurement {
            median: spread(&medians, median_of(&medians)),
            mean: spread(&means, median_of(&means)),
            ..measurement.clone()
        });
    }
    combined
}

/// The median of a non-empty list (the mean of the middle two when even).
fn median_of(points: &[f64]) -> f64 {
    let mut sorted = points.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// Groups measurements by crate and scenario.
///
/// Crates follow `crate_order` (the `[[bench]]` list); crates missing from
/// it come last, alphabetically. Scenarios and peers keep the order in which
/// they first appear in `measurements`.
pub(super) fn group_by_crate(
    measurements: &[Measurement],
    crate_order: &[String],
) -> Vec<CrateTable> {
    let mut tables: Vec<CrateTable> = Vec::new();
    for measurement in measurements {
        let table_index = match tables.iter().position(|t| t.name == measurement.krate) {
            Some(index) => index,
            None => {
                tables.push(CrateTable {
                    name: measurement.krate.clone(),
                    peers: Vec::new(),
                    rows: Vec::new(),
                });
                tables.len() - 1
            }
        };
        let table = &mut tables[table_index];

        let row_index = match table
            .rows
            .iter()
            .position(|r| r.scenario == measurement.scenario)
        {
            Some(index) => index,
            None => {
                table.rows.push(Row {
                    scenario: measurement.scenario.clone(),
                    weft: None,
                    peers: vec![None; table.peers.len()],
                });
                table.rows.len() - 1
            }
        };

        if measurement.implementation == WEFT {
            table.rows[row_index].weft = Some(measurement.median.point);
            continue;
        }
        let peer_index = match table
            .peers
            .iter()
            .position(|p| *p == measurement.implementation)
        {
            Some(index) => index,
            None => {
                // A new peer adds a column, so every row grows a cell for it.
                table.peers.push(measurement.implementation.clone());
                for row in &mut table.rows {
                    row.peers.push(None);
                }
                table.peers.len() - 1
            }
        };
        table.rows[row_index].peers[peer_index] = Some(measurement.median.point);
    }

    tables.sort_by_key(|table| {
        let position = crate_order.iter().position(|name| *name == table.name);
        (position.unwrap_or(usize::MAX), table.name.clone())
    });
    tables
}

/// Formats a time in nanoseconds with three significant digits and the
/// largest unit that keeps it at least 1: `10.2 ns`, `1.23 µs`, `45.6 ms`.
pub(super) fn format_time(ns: f64) -> String {
    const UNITS: [(&str, f64); 4] = [("ns", 1.0), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)];
    if !ns.is_finite() || ns < 0.0 {
        return MISSING.to_string();
    }
    let mut index = UNITS
        .iter()
        .rposition(|&(_, scale)| ns >= scale)
        .unwrap_or(0);
    loop {
        let (unit, scale) = UNITS[index];
        let text = format_significant(ns / scale, 3);
        // Rounding can carry into the next unit: 999.7 ns is `1.00 µs`, not `1000 ns`.
        let rounded: f64 = text.parse().unwrap_or(0.0);
        if rounded >= 1000.0 && index + 1 < UNITS.len() {
            index += 1;
            continue;
        }
        return format!("{text} {unit}");
    }
}

/// Formats a non-negative `value` with `digits` significant digits, keeping
/// trailing zeros (`1.20`) and never using scientific notation.
fn format_significant(value: f64, digits: i32) -> String {
    if value == 0.0 {
        return format!("{:.*}", (digits - 1).max(0) as usize, 0.0);
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = |magnitude: i32| (digits - 1 - magnitude).max(0) as usize;
    let text = format!("{value:.*}", decimals(magnitude));
    // Rounding can add a digit (9.996 becomes `10.00`), which needs one decimal fewer.
    let rounded: f64 = text.parse().unwrap_or(value);
    if rounded.abs() >= 10f64.powi(magnitude + 1) {
        format!("{value:.*}", decimals(magnitude + 1))
    } else {
        text
    }
}

/// Returns how many times faster Weft is than a peer, the peer's time over
/// Weft's, or `None` when either time is not a positive number.
pub(super) fn ratio(peer_ns: f64, weft_ns: f64) -> Option<f64> {
    let valid = |ns: f64| ns.is_finite() && ns > 0.0;
    (valid(peer_ns) && valid(weft_ns)).then(|| peer_ns / weft_ns)
}

/// Whether a ratio shows Weft behind the peer, judged on the value as
/// displayed with two decimals: 0.996 shows as `1.00×` and is not behind,
/// so a mark never contradicts the number next to it.
pub(super) fn is_behind(ratio: f64) -> bool {
    format!("{ratio:.2}")
        .parse::<f64>()
        .is_ok_and(|shown| shown < 1.0)
}

/// Formats a ratio with two decimals, like `1.23×`, or `—` for `None`.
pub(super) fn format_ratio_value(ratio: Option<f64>) -> String {
    match ratio {
        Some(ratio) => format!("{ratio:.2}×"),
        None => MISSING.to_string(),
    }
}

/// Formats how many times faster Weft is than a peer (see `ratio`), with
/// the ` ◀ behind` mark where it is slower (see `is_behind`).
pub(super) fn format_ratio(peer_ns: f64, weft_ns: f64) -> String {
    let ratio = ratio(peer_ns, weft_ns);
    match ratio {
        Some(value) if is_behind(value) => format!("{} {BEHIND}", format_ratio_value(ratio)),
        _ => format_ratio_value(ratio),
    }
}

/// How a column of a Markdown table is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    /// Text, such as a scenario name.
    Left,
    /// Numbers.
    Right,
}

/// Renders a GitHub Markdown table whose cells are padded so that the raw
/// text lines up in a terminal too. Rows shorter than the header are
/// padded with empty cells; `|` in a cell is escaped.
pub(super) fn markdown_table(header: &[String], align: &[Align], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let escape = |cell: &String| cell.replace('|', "\\|");
    let header: Vec<String> = header.iter().map(escape).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut cells: Vec<String> = row.iter().map(escape).collect();
            cells.resize(columns, String::new());
            cells
        })
        .collect();
    // A delimiter cell needs at least three characters: a colon and two dashes.
    let mut widths: Vec<usize> = header
        .iter()
        .map(|cell| cell.chars().count().max(3))
        .collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let align_of = |column: usize| align.get(column).copied().unwrap_or(Align::Right);

    let render_row = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(column, (cell, &width))| match align_of(column) {
                Align::Left => format!("{cell:<width$}"),
                Align::Right => format!("{cell:>width$}"),
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let separator: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(column, &width)| {
            let dashes = "-".repeat(width - 1);
            match align_of(column) {
                Align::Left => format!(":{dashes}"),
                Align::Right => format!("{dashes}:"),
            }
        })
        .collect();

    let mut out = render_row(&header);
    out.push_str(&render_row(&separator));
    for row in &rows {
        out.push_str(&render_row(row));
    }
    out
}

/// Renders the tables of all crates as one Markdown table.
///
/// Crates have different peers, so the peer columns are generic (`Peer 1`,
/// `Peer 1 / Weft`, ...) and each crate starts with a bold row naming its
/// peers in those columns.
pub(super) fn render_table(tables: &[CrateTable]) -> String {
    let max_peers = tables
        .iter()
        .map(|table| table.peers.len())
        .max()
        .unwrap_or(0);
    let mut header = vec!["Scenario".to_string(), "Weft".to_string()];
    for number in 1..=max_peers {
        header.push(format!("Peer {number}"));
        header.push(format!("Peer {number} / Weft"));
    }
    let mut align = vec![Align::Left];
    align.resize(header.len(), Align::Right);

    let mut rows: Vec<Vec<String>> = Vec::new();
    for table in tables {
        let mut crate_row = vec![format!("**{}**", table.name), format!("**{WEFT}**")];
        for peer in &table.peers {
            crate_row.push(format!("**{peer}**"));
            crate_row.push(format!("**{peer} / {WEFT}**"));
        }
        rows.push(crate_row);

        for row in &table.rows {
            let mut cells = vec![
                row.scenario.clone(),
                row.weft.map_or(MISSING.to_string(), format_time),
            ];
            for peer in &row.peers {
                cells.push(peer.map_or(MISSING.to_string(), format_time));
                cells.push(match (*peer, row.weft) {
                    (Some(peer), Some(weft)) => format_ratio(peer, weft),
                    _ => MISSING.to_string(),
                });
            }
            rows.push(cells);
        }
    }
    markdown_table(&header, &align, &rows)
}

/// Summarises the table in a sentence or two: in how many comparisons
/// Weft is at least as fast as the peer, and which ones it is behind in.
fn render_verdict(tables: &[CrateTable]) -> String {
    let mut compared = 0;
    let mut behind = Vec::new();
    for table in tables {
        for row in &table.rows {
            for (peer, time) in table.peers.iter().zip(&row.peers) {
                let Some(value) = time.zip(row.weft).and_then(|(p, w)| ratio(p, w)) else {
                    continue;
                };
                compared += 1;
                if is_behind(value) {
                    behind.push(format!(
                        "{}/{} against {peer} ({value:.2}×)",
                        table.name, row.scenario
                    ));
                }
            }
        }
    }
    match behind.len() {
        _ if compared == 0 => "No scenario has both Weft and a peer measured.".to_string(),
        0 => format!("**Weft is at least as fast as the peer in all {compared} comparisons.**"),
        count => format!(
            "**Weft is at least as fast as the peer in {} of {compared} comparisons**, and \
             behind in {count}: {}.",
            compared - count,
            behind.join(", ")
        ),
    }
}

/// Renders the header, a one-line verdict and the table: the text that is
/// printed and saved as `report.md` (and `summary.md`).
pub(super) fn render_report(environment: &Environment, tables: &[CrateTable]) -> String {
    let Environment {
        machine,
        logical_cores,
        memory,
        os,
        rustc,
        date,
        mode,
        runs,
        benches,
    } = environment;
    let runs_line = if *runs > 1 {
        format!("- **Passes:** {runs}; each time is the median of the {runs} passes' medians\n")
    } else {
        String::new()
    };
    let quick_warning = match mode {
        Mode::Quick => {
            "> **Quick run:** criterion's quick mode takes only a few samples per \
             benchmark, so these figures are rough. Use them for a first look, and a \
             full run (`cargo xtask bench`) for conclusions.\n\n"
        }
        Mode::Full => "",
    };
    format!(
        "## Weft benchmark report\n\
         \n\
         {quick_warning}\
         - **Machine:** {machine}\n\
         - **Logical cores:** {logical_cores}\n\
         - **Memory:** {memory}\n\
         - **OS:** {os}\n\
         - **Compiler:** {rustc}\n\
         - **Date:** {date} (UTC)\n\
         - **Mode:** {} (criterion `{}`)\n\
         {runs_line}\
         - **Benches:** {benches}\n\
         \n\
         Times are criterion's median time per iteration. A ratio is the peer's \
         time divided by Weft's: above 1.00× Weft is faster, and `{BEHIND}` marks \
         where Weft is slower. `{MISSING}` means not measured. A row \
         `<scenario>_sweep/N` is one point of a thread-count sweep: the scenario \
         with N threads.\n\
         \n\
         {}\n\
         \n\
         {}",
        mode.name(),
        mode.criterion_args().join(" "),
        render_verdict(tables),
        render_table(tables),
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Builds a measurement with the given median and a tight interval.
    pub(crate) fn measurement(
        krate: &str,
        scenario: &str,
        implementation: &str,
        median_ns: f64,
    ) -> Measurement {
        Measurement {
            krate: krate.to_string(),
            scenario: scenario.to_string(),
            implementation: implementation.to_string(),
            median: Estimate {
                point: median_ns,
                lower: median_ns * 0.99,
                upper: median_ns * 1.01,
            },
            mean: Estimate {
                point: median_ns * 1.02,
                lower: median_ns * 1.01,
                upper: median_ns * 1.03,
            },
            confidence_level: 0.95,
        }
    }

    /// An environment like the one `Environment::detect` returns.
    pub(crate) fn environment(mode: Mode) -> Environment {
        Environment {
            machine: "Test CPU (x86_64)".to_string(),
            logical_cores: "2".to_string(),
            memory: "7.8 GiB".to_string(),
            os: "Test OS".to_string(),
            rustc: "rustc 1.95.0".to_string(),
            date: "2026-04-20".to_string(),
            mode,
            runs: 1,
            benches: "mutex, queue".to_string(),
        }
    }

    /// Converts string literals into owned strings.
    pub(crate) fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn formats_times_with_three_significant_digits() {
        assert_eq!(format_time(0.0), "0.00 ns");
        assert_eq!(format_time(0.5), "0.500 ns");
        assert_eq!(format_time(10.234), "10.2 ns");
        assert_eq!(format_time(9.996), "10.0 ns");
        assert_eq!(format_time(123.4), "123 ns");
        assert_eq!(format_time(999.7), "1.00 µs");
        assert_eq!(format_time(1_234.5), "1.23 µs");
        assert_eq!(format_time(45_678.0), "45.7 µs");
        assert_eq!(format_time(2_500_000.0), "2.50 ms");
        assert_eq!(format_time(999_999_999.0), "1.00 s");
        assert_eq!(format_time(12_345_000_000.0), "12.3 s");
        assert_eq!(format_time(f64::NAN), "—");
        assert_eq!(format_time(-1.0), "—");
    }

    #[test]
    fn formats_ratios_and_marks_weft_behind() {
        assert_eq!(format_ratio(12.3, 10.0), "1.23×");
        assert_eq!(format_ratio(10.0, 10.0), "1.00×");
        assert_eq!(format_ratio(8.7, 10.0), "0.87× ◀ behind");
        // 0.996 displays as 1.00, so it carries no mark contradicting the number.
        assert_eq!(format_ratio(9.96, 10.0), "1.00×");
        assert_eq!(format_ratio(9.94, 10.0), "0.99× ◀ behind");
        assert_eq!(format_ratio(1_500.0, 10.0), "150.00×");
        assert_eq!(format_ratio(10.0, 0.0), "—");
        assert_eq!(format_ratio(f64::INFINITY, 10.0), "—");
        assert_eq!(ratio(5.0, 10.0), Some(0.5));
        assert_eq!(ratio(5.0, f64::NAN), None);
    }

    #[test]
    fn recognises_sweep_points() {
        assert_eq!(
            sweep_point("contended_sweep/4"),
            Some(("contended_sweep", 4))
        );
        assert_eq!(
            sweep_point("mpmc_bounded1_sweep/8"),
            Some(("mpmc_bounded1_sweep", 8))
        );
        assert_eq!(sweep_point("contended_sweep"), None);
        assert_eq!(sweep_point("mpmc/4"), None);
        assert_eq!(sweep_point("contended_sweep/many"), None);
    }

    #[test]
    fn groups_by_crate_in_bench_order_and_fills_missing_peers() {
        let measurements = [
            measurement("queue", "spsc", "weft", 20.0),
            measurement("queue", "spsc", "crossbeam", 25.0),
            measurement("mutex", "uncontended", "weft", 10.0),
            measurement("mutex", "uncontended", "std", 12.0),
            measurement("mutex", "contended_sweep/2", "weft", 100.0),
            measurement("mutex", "contended_sweep/2", "std", 90.0),
            // `parking_lot` appears only in the second scenario.
            measurement("mutex", "contended_sweep/2", "parking_lot", 80.0),
            measurement("zebra", "stripes", "std", 5.0),
            measurement("extra", "thing", "weft", 1.0),
        ];
        let tables = group_by_crate(&measurements, &strings(&["mutex", "queue"]));
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["mutex", "queue", "extra", "zebra"]);

        let mutex = &tables[0];
        assert_eq!(mutex.peers, strings(&["std", "parking_lot"]));
        assert_eq!(
            mutex.rows,
            [
                Row {
                    scenario: "uncontended".to_string(),
                    weft: Some(10.0),
                    peers: vec![Some(12.0), None]
                },
                Row {
                    scenario: "contended_sweep/2".to_string(),
                    weft: Some(100.0),
                    peers: vec![Some(90.0), Some(80.0)],
                },
            ]
        );
        assert_eq!(
            tables[3].rows,
            [Row {
                scenario: "stripes".to_string(),
                weft: None,
                peers: vec![Some(5.0)]
            }]
        );
    }

    #[test]
    fn renders_one_table_with_missing_peer_and_missing_weft() {
        let measurements = [
            measurement("mutex", "uncontended", "weft", 10.2),
            measurement("mutex", "uncontended", "std", 12.5),
            measurement("mutex", "contended_sweep/2", "weft", 150.0),
            measurement("mutex", "contended_sweep/2", "std", 1_234.0),
            measurement("mutex", "contended_sweep/2", "parking_lot", 120.0),
            measurement("queue", "spsc", "crossbeam", 25.0),
        ];
        let tables = group_by_crate(&measurements, &strings(&["mutex", "queue"]));
        let expected = "\
| Scenario          |     Weft |        Peer 1 |        Peer 1 / Weft |          Peer 2 |          Peer 2 / Weft |
| :---------------- | -------: | ------------: | -------------------: | --------------: | ---------------------: |
| **mutex**         | **weft** |       **std** |       **std / weft** | **parking_lot** | **parking_lot / weft** |
| uncontended       |  10.2 ns |       12.5 ns |                1.23× |               — |                      — |
| contended_sweep/2 |   150 ns |       1.23 µs |                8.23× |          120 ns |         0.80× ◀ behind |
| **queue**         | **weft** | **crossbeam** | **crossbeam / weft** |                 |                        |
| spsc              |        — |       25.0 ns |                    — |                 |                        |
";
        assert_eq!(render_table(&tables), expected);
    }

    #[test]
    fn markdown_table_escapes_pipes_and_keeps_short_columns_valid() {
        let table = markdown_table(
            &strings(&["A", "B"]),
            &[Align::Left, Align::Right],
            &[strings(&["x|y"]), strings(&["long text", "1"])],
        );
        assert_eq!(
            table,
            "\
| A         |   B |
| :-------- | --: |
| x\\|y      |     |
| long text |   1 |
"
        );
    }

    #[test]
    fn report_has_header_verdict_and_table() {
        let tables = group_by_crate(
            &[
                measurement("mutex", "uncontended", "weft", 10.0),
                measurement("mutex", "uncontended", "std", 12.0),
            ],
            &[],
        );
        let report = render_report(&environment(Mode::Full), &tables);
        assert!(
            report.starts_with("## Weft benchmark report\n\n- **Machine:** Test CPU (x86_64)\n")
        );
        assert!(report.contains(&format!(
            "- **Mode:** full (criterion `{}`)\n",
            Mode::Full.criterion_args().join(" ")
        )));
        assert!(report.contains("- **Date:** 2026-04-20 (UTC)\n"));
        assert!(
            report.contains("**Weft is at least as fast as the peer in all 1 comparisons.**\n")
        );
        assert!(report.ends_with(
            "| Scenario    |     Weft |  Peer 1 |  Peer 1 / Weft |\n\
             | :---------- | -------: | ------: | -------------: |\n\
             | **mutex**   | **weft** | **std** | **std / weft** |\n\
             | uncontended |  10.0 ns | 12.0 ns |          1.20× |\n"
        ));
        assert!(!report.contains("Quick run"));
    }

    #[test]
    fn quick_report_is_flagged_and_verdict_names_where_weft_is_behind() {
        let tables = group_by_crate(
            &[
                measurement("mutex", "uncontended", "weft", 10.0),
                measurement("mutex", "uncontended", "std", 12.0),
                measurement("mutex", "uncontended", "parking_lot", 8.0),
                measurement("queue", "spsc", "weft", 10.0),
                measurement("queue", "spsc", "flume", 9.96),
                measurement("queue", "spsc_lonely", "crossbeam", 9.0),
            ],
            &[],
        );
        let report = render_report(&environment(Mode::Quick), &tables);
        assert!(report.starts_with("## Weft benchmark report\n\n> **Quick run:**"));
        assert!(report.contains("- **Mode:** quick (criterion `--quick"));
        assert!(report.contains(
            "**Weft is at least as fast as the peer in 2 of 3 comparisons**, and behind in 1: \
             mutex/uncontended against parking_lot (0.80×).\n"
        ));
        assert_eq!(
            render_verdict(&group_by_crate(
                &[measurement("queue", "spsc", "crossbeam", 9.0)],
                &[]
            )),
            "No scenario has both Weft and a peer measured."
        );
    }

    #[test]
    fn passes_combine_into_medians_with_their_range() {
        let pass = |weft: f64, std: f64| {
            vec![
                measurement("mutex", "uncontended", "weft", weft),
                measurement("mutex", "uncontended", "std", std),
            ]
        };
        let combined = combine_passes(vec![pass(5.0, 9.0), pass(4.0, 30.0), pass(6.0, 10.0)]);
        assert_eq!(combined.len(), 2);
        assert_eq!(combined[0].implementation, "weft");
        assert_eq!(
            (
                combined[0].median.point,
                combined[0].median.lower,
                combined[0].median.upper
            ),
            (5.0, 4.0, 6.0)
        );
        // One outlier pass does not move the median far.
        assert_eq!(combined[1].median.point, 10.0);
        assert_eq!(combined[1].median.upper, 30.0);
        // An even number of passes takes the middle two.
        let even = combine_passes(vec![pass(4.0, 1.0), pass(6.0, 1.0)]);
        assert_eq!(even[0].median.point, 5.0);
        // A single pass is left alone.
        assert_eq!(combine_passes(vec![pass(5.0, 9.0)]), pass(5.0, 9.0));
        assert!(combine_passes(Vec::new()).is_empty());
    }

    #[test]
    fn report_json_round_trips() {
        let mut std = measurement("mutex", "uncontended", "std", 26.4);
        std.median = Estimate {
            point: 26.4,
            lower: 26.1,
            upper: 26.7,
        };
        let mut odd = measurement("queue", "mpmc_bounded1_sweep/8", "std", 1_234.567_89);
        odd.mean.upper = f64::INFINITY;
        let report = Report {
            environment: Environment {
                os: "Name with \"quotes\" and \\ backslash".to_string(),
                runs: 3,
                ..environment(Mode::Quick)
            },
            measurements: vec![
                measurement("mutex", "uncontended", "weft", 4.361_862_838_268_28),
                std,
                odd,
            ],
        };
        let text = report.to_json();
        let read = Report::from_json(&text).unwrap();
        assert_eq!(read.environment, report.environment);
        // A report from before `--runs` has no `runs`: one pass.
        let old_style: String = text
            .lines()
            .filter(|line| !line.contains("\"runs\""))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(Report::from_json(&old_style).unwrap().environment.runs, 1);
        let rendered = render_report(&report.environment, &[]);
        assert!(rendered.contains("- **Passes:** 3; each time is the median"));
        assert_eq!(read.measurements[..2], report.measurements[..2]);
        // A number that was not finite is written as `null` and reads as NaN.
        assert!(read.measurements[2].mean.upper.is_nan());
        assert_eq!(read.measurements[2].median, report.measurements[2].median);

        // One result per line, after the header facts.
        assert!(text.starts_with(
            "{\n  \"format\": \"weft-bench-report\",\n  \"version\": 1,\n  \"environment\": {\n    \"machine\": \"Test CPU (x86_64)\",\n"
        ));
        assert!(text.contains(
            "\n    {\"crate\": \"mutex\", \"scenario\": \"uncontended\", \"implementation\": \"std\", \
             \"median_ns\": {\"estimate\": 26.4, \"lower\": 26.1, \"upper\": 26.7}, "
        ));
        assert!(text.contains("\"criterion_args\": \"--quick"));
    }

    #[test]
    fn report_json_errors_name_the_problem() {
        let report = Report {
            environment: environment(Mode::Full),
            measurements: vec![measurement("mutex", "uncontended", "weft", 4.0)],
        };
        let good = report.to_json();
        let error = |text: &str| Report::from_json(text).unwrap_err();
        assert!(error("{").starts_with("not valid JSON: "));
        assert!(error("{}").starts_with("not a report.json of `cargo xtask bench`"));
        assert_eq!(
            error(&good.replace("\"version\": 1", "\"version\": 2")),
            "report.json version 2 is not supported; this xtask reads version 1"
        );
        assert_eq!(
            error(&good.replace("\"mode\": \"full\"", "\"mode\": \"slow\"")),
            "report.json has an unknown `environment.mode`: `slow`"
        );
        assert_eq!(
            error(&good.replace("\"rustc\"", "\"compiler\"")),
            "report.json has no string `environment.rustc`"
        );
        assert_eq!(
            error(&good.replace("\"lower\"", "\"low\"")),
            "report.json: results[0] has no number `median_ns.lower`"
        );
        assert_eq!(
            error(&good.replace("\"crate\": \"mutex\"", "\"crate\": 7")),
            "report.json: results[0] has no string `crate`"
        );
    }
}
