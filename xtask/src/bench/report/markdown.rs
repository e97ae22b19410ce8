//! The report as Markdown: the times and ratios formatted for reading,
//! the crates' results grouped into one table that lines Weft up against
//! its peers, and the text printed and saved as `report.md`.

use super::model::{Environment, Measurement, Mode, WEFT};
use super::stats::{is_behind, ratio};

/// What the tables show where there is no value: a missing peer, or a
/// ratio that cannot be computed.
pub(crate) const MISSING: &str = "—";

/// The mark appended to a ratio below 1.00×, where Weft is slower than the peer.
pub(crate) const BEHIND: &str = "◀ behind";

/// The results of one Weft crate, ready to render as rows of the table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CrateTable {
    /// The crate's name, such as `mutex`.
    pub(crate) name: String,
    /// The peers measured in this crate, in order of first appearance.
    pub(crate) peers: Vec<String>,
    /// One row per scenario, in order of first appearance.
    pub(crate) rows: Vec<Row>,
}

/// One scenario of one crate: Weft's time and each peer's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// The scenario's name, such as `uncontended`.
    pub(crate) scenario: String,
    /// Weft's median time in nanoseconds, if Weft was measured.
    pub(crate) weft: Option<f64>,
    /// Each peer's median time in nanoseconds, matching `CrateTable::peers`.
    pub(crate) peers: Vec<Option<f64>>,
}

/// Groups measurements by crate and scenario.
///
/// Crates follow `crate_order` (the `[[bench]]` list); crates missing from
/// it come last, alphabetically. Scenarios and peers keep the order in which
/// they first appear in `measurements`.
pub(crate) fn group_by_crate(
    measurements: &[Measurement],
    crate_order: &[String],
) -> Vec<CrateTable> {
    // First the crates, their scenarios and their peers, in order of
    // appearance; then each row's times.
    let mut tables: Vec<CrateTable> = Vec::new();
    for m in measurements {
        let index = match tables.iter().position(|t| t.name == m.krate) {
            Some(index) => index,
            None => {
                tables.push(CrateTable {
                    name: m.krate.clone(),
                    peers: Vec::new(),
                    rows: Vec::new(),
                });
                tables.len() - 1
            }
        };
        let table = &mut tables[index];
        if !table.rows.iter().any(|row| row.scenario == m.scenario) {
            table.rows.push(Row {
                scenario: m.scenario.clone(),
                weft: None,
                peers: Vec::new(),
            });
        }
        if m.implementation != WEFT && !table.peers.contains(&m.implementation) {
            table.peers.push(m.implementation.clone());
        }
    }
    for CrateTable { name, peers, rows } in &mut tables {
        for row in rows {
            let time = |implementation: &str| {
                measurements
                    .iter()
                    .find(|m| {
                        m.krate == *name
                            && m.scenario == row.scenario
                            && m.implementation == implementation
                    })
                    .map(|m| m.median.point)
            };
            row.weft = time(WEFT);
            row.peers = peers.iter().map(|peer| time(peer)).collect();
        }
    }

    tables.sort_by_key(|table| {
        let position = crate_order.iter().position(|name| *name == table.name);
        (position.unwrap_or(usize::MAX), table.name.clone())
    });
    tables
}

/// Formats a time in nanoseconds with three significant digits and the
/// largest unit that keeps it at least 1: `10.2 ns`, `1.23 µs`, `45.6 ms`.
pub(crate) fn format_time(ns: f64) -> String {
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

/// Formats a ratio with two decimals, like `1.23×`, or `—` for `None`.
pub(crate) fn format_ratio_value(ratio: Option<f64>) -> String {
    match ratio {
        Some(ratio) => format!("{ratio:.2}×"),
        None => MISSING.to_string(),
    }
}

/// Formats how many times faster Weft is than a peer (see `ratio`), with
/// the ` ◀ behind` mark where it is slower (see `is_behind`).
pub(crate) fn format_ratio(peer_ns: f64, weft_ns: f64) -> String {
    let ratio = ratio(peer_ns, weft_ns);
    match ratio {
        Some(value) if is_behind(value) => format!("{} {BEHIND}", format_ratio_value(ratio)),
        _ => format_ratio_value(ratio),
    }
}

/// How a column of a Markdown table is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text, such as a scenario name.
    Left,
    /// Numbers.
    Right,
}

/// Renders a GitHub Markdown table whose cells are padded so that the raw
/// text lines up in a terminal too. Rows shorter than the header are
/// padded with empty cells; `|` in a cell is escaped.
pub(crate) fn markdown_table(header: &[String], align: &[Align], rows: &[Vec<String>]) -> String {
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
pub(crate) fn render_table(tables: &[CrateTable]) -> String {
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
pub(crate) fn render_report(environment: &Environment, tables: &[CrateTable]) -> String {
    let Environment {
        machine,
        logical_cores,
        memory,
        os,
        rustc,
        date,
        mode,
        criterion_args,
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
         - **Mode:** {} (criterion `{criterion_args}`)\n\
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
        render_verdict(tables),
        render_table(tables),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::fixtures::{environment, measurement, strings};

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
        assert!(!report.contains("Passes"));
        let three_passes = Environment {
            runs: 3,
            ..environment(Mode::Full)
        };
        assert!(
            render_report(&three_passes, &[]).contains("- **Passes:** 3; each time is the median")
        );
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
}
