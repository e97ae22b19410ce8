//! `cargo xtask bench [--quick] [FILTER]`: runs Weft's criterion benchmarks
//! and summarises them in one table, Weft against its peers.
//!
//! The task has three steps:
//!
//! 1. Delete `<target>/criterion`, so that the summary holds only this run,
//!    then run `cargo bench -p weft-benches` with the output inherited, so the
//!    user sees criterion's progress as it happens.
//! 2. Read the results criterion left behind: every `new/` directory under
//!    `<target>/criterion` holds a `benchmark.json` (which benchmark it was)
//!    and an `estimates.json` (how long it took).
//! 3. Print a header describing the machine and a GitHub Markdown table, and
//!    save the same text to `<target>/weft-bench/summary.md`.
//!
//! Every bench follows one naming convention, which is what lets this task
//! pair Weft with its peers: the criterion group id is `<crate>/<scenario>`
//! (for example `mutex/contended_2_threads`) and the function id is the
//! implementation's name, `weft` for ours and anything else (`std`,
//! `parking_lot`, ...) for a peer.
//!
//! Everything that parses or formats is a pure function over strings, tested
//! at the bottom of this file; only `run` and a few small helpers touch the
//! file system or start processes.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{target_dir, workspace_root};

/// The package that holds every benchmark, in the workspace directory `benches/`.
const BENCH_PACKAGE: &str = "weft-benches";

/// The function id that marks Weft's own implementation in every bench group.
const WEFT: &str = "weft";

/// What the table shows where there is no value: a missing peer, or a
/// ratio that cannot be computed.
const MISSING: &str = "—";

/// The mark appended to a ratio below 1.00×, where Weft is slower than the peer.
const BEHIND: &str = " ◀ behind";

/// Runs the `bench` task with the arguments that follow `bench` on the command line.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    if options.help {
        print!("{USAGE}");
        return Ok(());
    }

    let root = workspace_root();
    let manifest_path = root.join("benches").join("Cargo.toml");
    let manifest = fs::read_to_string(&manifest_path)
        .map_err(|error| format!("cannot read {}: {error}", manifest_path.display()))?;
    let targets = bench_targets(&manifest);
    if let Some(filter) = &options.filter {
        if !targets.contains(filter) {
            return Err(unknown_filter_message(filter, &targets, &manifest_path));
        }
    }

    let target_dir = target_dir(&root)?;
    let criterion_dir = target_dir.join("criterion");
    remove_dir_if_present(&criterion_dir)?;

    run_cargo_bench(&root, &target_dir, &criterion_dir, &options)?;

    let measurements = read_results(&criterion_dir)?;
    if measurements.is_empty() {
        return Err(format!(
            "no criterion results found under {}; did any benchmark run?",
            criterion_dir.display()
        ));
    }

    let benches = match &options.filter {
        Some(filter) => filter.clone(),
        None => targets.join(", "),
    };
    let environment = Environment::detect(options.mode, benches);
    let tables = group_by_crate(&measurements, &targets);
    let summary = render_summary(&environment, &tables);
    print!("\n{summary}");

    let summary_path = target_dir.join("weft-bench").join("summary.md");
    write_file(&summary_path, &summary)?;
    println!("\nSummary written to {}", summary_path.display());
    Ok(())
}

/// The usage text of `cargo xtask bench --help`.
const USAGE: &str = "\
Usage: cargo xtask bench [--quick] [FILTER]

Runs the criterion benchmarks of `weft-benches` and prints one Markdown table
comparing Weft with its peers, also saved to `<target>/weft-bench/summary.md`.

Arguments:
    FILTER     run only this bench target (a `[[bench]]` name in benches/Cargo.toml)

Options:
    --quick    shorter, noisier measurements (about a minute after compiling)
    -h, --help print this help
";

/// How long criterion measures each benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The default: one second of warm-up and two of measurement per
    /// benchmark, long enough for stable numbers while about a dozen
    /// scenarios times three implementations finish within about five minutes.
    Full,
    /// Criterion's quick mode with short warm-up and measurement times, for a
    /// first look that finishes in about a minute after compiling.
    Quick,
}

impl Mode {
    /// The arguments passed to each criterion bench binary, after `--`.
    fn criterion_args(self) -> &'static [&'static str] {
        match self {
            Mode::Full => &["--warm-up-time", "1", "--measurement-time", "2", "--noplot"],
            Mode::Quick => &[
                "--quick",
                "--warm-up-time",
                "0.5",
                "--measurement-time",
                "0.5",
                "--noplot",
            ],
        }
    }

    /// The mode's name as shown in the summary header.
    fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Quick => "quick",
        }
    }
}

/// The parsed command line of the `bench` task.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    /// Whether to measure briefly (`--quick`) or thoroughly.
    mode: Mode,
    /// The one bench target to run, or `None` to run them all.
    filter: Option<String>,
    /// Whether the user asked for help instead of a run.
    help: bool,
}

impl Options {
    /// Parses the arguments that follow `bench`.
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            mode: Mode::Full,
            filter: None,
            help: false,
        };
        for arg in args {
            match arg.as_str() {
                "--quick" => options.mode = Mode::Quick,
                "-h" | "--help" => options.help = true,
                flag if flag.starts_with('-') => {
                    return Err(format!("unknown option `{flag}`\n\n{USAGE}"));
                }
                filter => {
                    if let Some(first) = &options.filter {
                        return Err(format!(
                            "only one FILTER is allowed, got `{first}` and `{filter}`\n\n{USAGE}"
                        ));
                    }
                    options.filter = Some(filter.to_string());
                }
            }
        }
        Ok(options)
    }
}

/// Deletes `dir` and everything in it, and succeeds if it did not exist.
fn remove_dir_if_present(dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(format!(
            "cannot delete stale results in {}: {error}",
            dir.display()
        )),
    }
}

/// Creates `path`'s parent directories and writes `contents` to it.
fn write_file(path: &Path, contents: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    fs::write(path, contents).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// Runs `$CARGO bench -p weft-benches [--bench FILTER] -- <criterion args>`
/// from the workspace root, with the output going straight to the user.
///
/// `CRITERION_HOME` tells criterion where to save its results, so that it
/// writes exactly where `read_results` looks, whatever criterion would
/// otherwise have guessed. A `$CARGO_TARGET_DIR` set by the user is passed
/// on as the absolute path `target_dir` made of it; when it is not set, the
/// child is left to choose its target directory as it would on its own.
fn run_cargo_bench(
    root: &Path,
    target_dir: &Path,
    criterion_dir: &Path,
    options: &Options,
) -> Result<(), String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut args = vec!["bench", "-p", BENCH_PACKAGE];
    if let Some(filter) = &options.filter {
        args.extend(["--bench", filter.as_str()]);
    }
    args.push("--");
    args.extend(options.mode.criterion_args());

    let mut command = Command::new(&cargo);
    command
        .args(&args)
        .current_dir(root)
        .env("CRITERION_HOME", criterion_dir);
    if env::var_os("CARGO_TARGET_DIR").is_some() {
        command.env("CARGO_TARGET_DIR", target_dir);
    }

    eprintln!("$ {cargo} {}", args.join(" "));
    let status = command
        .status()
        .map_err(|error| format!("cannot run `{cargo}`: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        match status.code() {
            Some(code) => Err(format!("`cargo bench` failed with exit code {code}")),
            None => Err("`cargo bench` was terminated by a signal".to_string()),
        }
    }
}

/// Returns the names of the `[[bench]]` targets in a Cargo manifest, in order.
///
/// This reads just the shape Cargo manifests use for bench targets: a
/// `[[bench]]` header followed by a `name = "..."` line, before the next
/// header.
fn bench_targets(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bench = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let header: String = line
                .split('#')
                .next()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            in_bench = header == "[[bench]]";
            continue;
        }
        if !in_bench {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "name" {
            continue;
        }
        let value = value.trim();
        let name = value
            .strip_prefix('"')
            .and_then(|rest| rest.split_once('"'))
            .or_else(|| {
                value
                    .strip_prefix('\'')
                    .and_then(|rest| rest.split_once('\''))
            });
        if let Some((name, _)) = name {
            names.push(name.to_string());
        }
    }
    names
}

/// Explains that `filter` names no bench target, and lists the ones that exist.
fn unknown_filter_message(filter: &str, targets: &[String], manifest_path: &Path) -> String {
    if targets.is_empty() {
        format!(
            "unknown bench target `{filter}`: {} declares no `[[bench]]` targets",
            manifest_path.display()
        )
    } else {
        format!(
            "unknown bench target `{filter}`; the bench targets in {} are: {}",
            manifest_path.display(),
            targets.join(", ")
        )
    }
}

/// One benchmark result: how long one implementation took in one scenario.
#[derive(Debug, Clone, PartialEq)]
struct Measurement {
    /// The Weft crate the scenario belongs to, such as `mutex`.
    krate: String,
    /// The scenario within that crate, such as `contended_2_threads`.
    scenario: String,
    /// The implementation measured: `weft`, or a peer such as `std`.
    implementation: String,
    /// Criterion's median estimate of the time per iteration, in nanoseconds.
    median_ns: f64,
}

/// Why a criterion result could not become a `Measurement`.
#[derive(Debug, Clone, PartialEq)]
enum ParseError {
    /// The files are not what criterion 0.5 writes: bad JSON or missing fields.
    Format(String),
    /// The files are fine, but the benchmark's ids do not follow the
    /// `<crate>/<scenario>` group and implementation function convention.
    Convention(String),
}

/// Builds a `Measurement` from the contents of a criterion `new/` directory's
/// `benchmark.json` and `estimates.json`.
///
/// A criterion parameter (`BenchmarkId::new("weft", 4)`, saved as
/// `value_str`) becomes part of the scenario name, as in `contended/4`, so
/// that parameterised benches still pair up by scenario.
fn parse_measurement(
    benchmark_json: &str,
    estimates_json: &str,
) -> Result<Measurement, ParseError> {
    let benchmark = Json::parse(benchmark_json)
        .map_err(|error| ParseError::Format(format!("benchmark.json: {error}")))?;
    let estimates = Json::parse(estimates_json)
        .map_err(|error| ParseError::Format(format!("estimates.json: {error}")))?;

    let group_id = benchmark
        .get("group_id")
        .and_then(Json::as_str)
        .ok_or_else(|| ParseError::Format("benchmark.json has no string `group_id`".to_string()))?;
    let Some((krate, scenario)) = group_id.split_once('/') else {
        return Err(ParseError::Convention(format!(
            "group `{group_id}` is not named `<crate>/<scenario>`"
        )));
    };
    let Some(implementation) = benchmark.get("function_id").and_then(Json::as_str) else {
        return Err(ParseError::Convention(format!(
            "group `{group_id}` has a benchmark without a function id naming its implementation"
        )));
    };
    let scenario = match benchmark.get("value_str").and_then(Json::as_str) {
        Some(value) => format!("{scenario}/{value}"),
        None => scenario.to_string(),
    };

    let median_ns = estimates
        .get("median")
        .and_then(|median| median.get("point_estimate"))
        .and_then(Json::as_f64)
        .ok_or_else(|| {
            ParseError::Format("estimates.json has no number `median.point_estimate`".to_string())
        })?;

    Ok(Measurement {
        krate: krate.to_string(),
        scenario,
        implementation: implementation.to_string(),
        median_ns,
    })
}

/// Reads every result under `criterion_dir`, in the order criterion ran them.
///
/// The run order is the order each bench file declares its scenarios and
/// implementations, which reads better than an alphabetical one
/// (`contended_16_threads` would sort before `contended_2_threads`). It is
/// recovered from the modification times of the `benchmark.json` files,
/// which criterion writes as each benchmark finishes; this is reliable
/// because the directory is emptied before every run. Equal times fall back
/// to path order.
///
/// A result that breaks the naming convention is skipped with a warning; a
/// file that cannot be read or parsed is an error, because it means
/// criterion's format is not what this task expects. A missing
/// `criterion_dir` means no results, which `run` reports.
fn read_results(criterion_dir: &Path) -> Result<Vec<Measurement>, String> {
    let mut new_dirs = Vec::new();
    match find_new_dirs(criterion_dir, &mut new_dirs) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound && new_dirs.is_empty() => {}
        Err(error) => {
            return Err(format!("cannot read {}: {error}", criterion_dir.display()));
        }
    }

    let mut results = Vec::new();
    for dir in new_dirs {
        let benchmark_path = dir.join("benchmark.json");
        let estimates_path = dir.join("estimates.json");
        let read = |path: &Path| {
            fs::read_to_string(path)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))
        };
        let benchmark = read(&benchmark_path)?;
        let estimates = read(&estimates_path)?;
        let finished = fs::metadata(&benchmark_path)
            .and_then(|metadata| metadata.modified())
            .unwrap_or(UNIX_EPOCH);
        match parse_measurement(&benchmark, &estimates) {
            Ok(measurement) => results.push((finished, dir, measurement)),
            Err(ParseError::Convention(reason)) => {
                eprintln!("warning: skipping {}: {reason}", dir.display());
            }
            Err(ParseError::Format(reason)) => {
                return Err(format!(
                    "unexpected criterion output in {}: {reason}",
                    dir.display()
                ));
            }
        }
    }
    results.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(results
        .into_iter()
        .map(|(_, _, measurement)| measurement)
        .collect())
}

/// Appends to `found` every directory named `new` under `dir` that holds a
/// `benchmark.json`, walking subdirectories in sorted order.
fn find_new_dirs(dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        if entry.file_name() == "new" && path.join("benchmark.json").is_file() {
            found.push(path);
        } else {
            find_new_dirs(&path, found)?;
        }
    }
    Ok(())
}

/// The results of one Weft crate, ready to render as rows of the summary table.
#[derive(Debug, Clone, PartialEq)]
struct CrateTable {
    /// The crate's name, such as `mutex`.
    name: String,
    /// The peers measured in this crate, in order of first appearance.
    peers: Vec<String>,
    /// One row per scenario, in order of first appearance.
    rows: Vec<Row>,
}

/// One scenario of one crate: Weft's time and each peer's.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    /// The scenario's name, such as `uncontended`.
    scenario: String,
    /// Weft's median time in nanoseconds, if Weft was measured.
    weft: Option<f64>,
    /// Each peer's median time in nanoseconds, matching `CrateTable::peers`.
    peers: Vec<Option<f64>>,
}

/// Groups measurements by crate and scenario.
///
/// Crates follow `crate_order` (the `[[bench]]` list); crates missing from
/// it come last, alphabetically. Scenarios and peers keep the order in which
/// they first appear in `measurements`.
fn group_by_crate(measurements: &[Measurement], crate_order: &[String]) -> Vec<CrateTable> {
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
            table.rows[row_index].weft = Some(measurement.median_ns);
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
        table.rows[row_index].peers[peer_index] = Some(measurement.median_ns);
    }

    tables.sort_by_key(|table| {
        let position = crate_order.iter().position(|name| *name == table.name);
        (position.unwrap_or(usize::MAX), table.name.clone())
    });
    tables
}

/// Formats a time in nanoseconds with three significant digits and the
/// largest unit that keeps it at least 1: `10.2 ns`, `1.23 µs`, `45.6 ms`.
fn format_time(ns: f64) -> String {
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

/// Formats how many times faster Weft is than a peer: the peer's time over
/// Weft's, like `1.23×`.
///
/// A ratio that displays as below `1.00×` (Weft is slower) gets the
/// ` ◀ behind` mark; the decision uses the displayed value, so a ratio of
/// 0.996 shows as `1.00×` without a contradicting mark. Returns `—` when
/// either time is not a positive number.
fn format_ratio(peer_ns: f64, weft_ns: f64) -> String {
    let valid = |ns: f64| ns.is_finite() && ns > 0.0;
    if !valid(peer_ns) || !valid(weft_ns) {
        return MISSING.to_string();
    }
    let text = format!("{:.2}", peer_ns / weft_ns);
    let behind = text.parse::<f64>().is_ok_and(|ratio| ratio < 1.0);
    if behind {
        format!("{text}×{BEHIND}")
    } else {
        format!("{text}×")
    }
}

/// Renders the tables of all crates as one GitHub Markdown table.
///
/// Crates have different peers, so the peer columns are generic (`Peer 1`,
/// `Peer 1 / Weft`, ...) and each crate starts with a bold row naming its
/// peers in those columns. Cells are padded so that the raw text lines up in
/// a terminal too.
fn render_table(tables: &[CrateTable]) -> String {
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
    let columns = header.len();

    let mut rows: Vec<Vec<String>> = Vec::new();
    for table in tables {
        let mut crate_row = vec![format!("**{}**", table.name), format!("**{WEFT}**")];
        for peer in &table.peers {
            crate_row.push(format!("**{peer}**"));
            crate_row.push(format!("**{peer} / {WEFT}**"));
        }
        crate_row.resize(columns, String::new());
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
            cells.resize(columns, String::new());
            rows.push(cells);
        }
    }

    let escape = |cell: &String| cell.replace('|', "\\|");
    let header: Vec<String> = header.iter().map(escape).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(escape).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    // The scenario column is left-aligned; the columns of numbers are right-aligned.
    let render_row = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(column, (cell, &width))| {
                if column == 0 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    // Every header is at least three characters wide, which is what a
    // delimiter cell needs: a colon and at least two dashes.
    let separator: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(column, &width)| {
            let dashes = "-".repeat(width - 1);
            if column == 0 {
                format!(":{dashes}")
            } else {
                format!("{dashes}:")
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

/// Where and how the benchmarks ran, shown above the table.
#[derive(Debug, Clone, PartialEq)]
struct Environment {
    /// The CPU model and architecture.
    machine: String,
    /// The number of logical cores this process may use.
    logical_cores: String,
    /// The total memory.
    memory: String,
    /// The operating system's name.
    os: String,
    /// The output of `rustc -V`.
    rustc: String,
    /// The date of the run, in UTC.
    date: String,
    /// The measurement mode.
    mode: Mode,
    /// The bench targets that ran.
    benches: String,
}

impl Environment {
    /// Describes this machine, reading Linux's `/proc` and `/etc/os-release`
    /// where they exist and saying `unknown` where they do not.
    fn detect(mode: Mode, benches: String) -> Environment {
        let read = |path: &str| fs::read_to_string(path).unwrap_or_default();
        let cpu = cpu_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown CPU".to_string());
        let logical_cores = std::thread::available_parallelism()
            .map_or_else(|_| "unknown".to_string(), |cores| cores.to_string());
        let memory = mem_total_kib(&read("/proc/meminfo"))
            .map_or_else(|| "unknown".to_string(), format_memory);
        let os =
            os_pretty_name(&read("/etc/os-release")).unwrap_or_else(|| env::consts::OS.to_string());
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Environment {
            machine: format!("{cpu} ({})", env::consts::ARCH),
            logical_cores,
            memory,
            os,
            rustc: rustc_version(),
            date: format_date(seconds),
            mode,
            benches,
        }
    }
}

/// Returns the output of `$RUSTC -V` (or `rustc -V`), or why it is unavailable.
fn rustc_version() -> String {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    match Command::new(&rustc).arg("-V").output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        }
        Ok(output) => format!("unknown (`{rustc} -V` failed with {})", output.status),
        Err(error) => format!("unknown (cannot run `{rustc}`: {error})"),
    }
}

/// Returns the first `model name` in the contents of `/proc/cpuinfo`.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_string())
    })
}

/// Returns `MemTotal` in KiB from the contents of `/proc/meminfo`, whose
/// line reads like `MemTotal:       16318412 kB` (the kernel's kB are KiB).
fn mem_total_kib(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let value = line.strip_prefix("MemTotal:")?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// Formats an amount of memory in KiB as GiB with one decimal, like `15.6 GiB`.
fn format_memory(kib: u64) -> String {
    format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0))
}

/// Returns `PRETTY_NAME` from the contents of `/etc/os-release`, unquoted.
fn os_pretty_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        let value = line.trim().strip_prefix("PRETTY_NAME=")?;
        let unquoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        Some(unquoted.to_string())
    })
}

/// Formats seconds since the Unix epoch as a UTC date, `YYYY-MM-DD`.
///
/// This is Howard Hinnant's `civil_from_days` algorithm, which counts in
/// 400-year eras of the proleptic Gregorian calendar with years starting on
/// 1 March, so that the leap day is the last day of a year.
fn format_date(seconds_since_epoch: u64) -> String {
    let days = (seconds_since_epoch / 86_400) as i64;
    // Shift the epoch from 1970-01-01 to 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Renders the header and the table: the text that is both printed and
/// saved as `summary.md`.
fn render_summary(environment: &Environment, tables: &[CrateTable]) -> String {
    let Environment {
        machine,
        logical_cores,
        memory,
        os,
        rustc,
        date,
        mode,
        benches,
    } = environment;
    format!(
        "## Weft benchmark summary\n\
         \n\
         - **Machine:** {machine}\n\
         - **Logical cores:** {logical_cores}\n\
         - **Memory:** {memory}\n\
         - **OS:** {os}\n\
         - **Compiler:** {rustc}\n\
         - **Date:** {date} (UTC)\n\
         - **Mode:** {} (criterion `{}`)\n\
         - **Benches:** {benches}\n\
         \n\
         Times are criterion's median time per iteration. A ratio is the peer's \
         time divided by Weft's: above 1.00× Weft is faster, and `◀ behind` marks \
         where Weft is slower. `—` means not measured.\n\
         \n\
         {}",
        mode.name(),
        mode.criterion_args().join(" "),
        render_table(tables),
    )
}

/// A parsed JSON value: enough of JSON to read criterion's result files.
///
/// Arrays and booleans are checked for well-formedness, but their contents
/// are not kept, because no field this task reads holds one.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number, always as an `f64` (criterion's numbers are all `f64`s).
    Number(f64),
    /// A string, with its escapes decoded.
    String(String),
    /// An array.
    Array,
    /// An object, its members in file order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses a complete JSON document.
    fn parse(text: &str) -> Result<Json, String> {
        let mut parser = JsonParser { text, pos: 0 };
        let value = parser.value()?;
        parser.skip_whitespace();
        if parser.pos != text.len() {
            return Err(parser.error("trailing characters after the JSON value"));
        }
        Ok(value)
    }

    /// Returns the member `key` if this is an object that has one.
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// Returns the string if this is one.
    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(string) => Some(string),
            _ => None,
        }
    }

    /// Returns the number if this is one.
    fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(number) => Some(*number),
            _ => None,
        }
    }
}

/// A recursive-descent JSON parser over a string, following RFC 8259.
#[derive(Debug)]
struct JsonParser<'a> {
    /// The whole document.
    text: &'a str,
    /// The byte offset of the next character to read.
    pos: usize,
}

impl JsonParser<'_> {
    /// Parses one value, with any whitespace around it.
    fn value(&mut self) -> Result<Json, String> {
        self.skip_whitespace();
        let value = match self.peek() {
            Some(b'{') => self.object()?,
            Some(b'[') => self.array()?,
            Some(b'"') => Json::String(self.string()?),
            Some(b't') => self.literal("true", Json::Bool)?,
            Some(b'f') => self.literal("false", Json::Bool)?,
            Some(b'n') => self.literal("null", Json::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.error("expected a JSON value")),
            None => return Err(self.error("unexpected end of input")),
        };
        self.skip_whitespace();
        Ok(value)
    }

    /// Parses an object; the next character is `{`.
    fn object(&mut self) -> Result<Json, String> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.eat(b'}') {
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string as an object key"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if !self.eat(b':') {
                return Err(self.error("expected `:` after an object key"));
            }
            members.push((key, self.value()?));
            if self.eat(b'}') {
                return Ok(Json::Object(members));
            }
            if !self.eat(b',') {
                return Err(self.error("expected `,` or `}` in an object"));
            }
        }
    }

    /// Parses an array, keeping only that it was one; the next character is `[`.
    fn array(&mut self) -> Result<Json, String> {
        self.pos += 1;
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(Json::Array);
        }
        loop {
            self.value()?;
            if self.eat(b']') {
                return Ok(Json::Array);
            }
            if !self.eat(b',') {
                return Err(self.error("expected `,` or `]` in an array"));
            }
        }
    }

    /// Parses a string and decodes its escapes; the next character is `"`.
    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy everything up to the next quote or backslash in one go.
            let rest = &self.text[self.pos..];
            let end = rest
                .find(['"', '\\'])
                .ok_or_else(|| self.error("unterminated string"))?;
            if rest[..end].chars().any(|c| c < ' ') {
                return Err(self.error("control character in a string"));
            }
            out.push_str(&rest[..end]);
            self.pos += end;
            if self.eat(b'"') {
                return Ok(out);
            }
            // The next character is a backslash.
            self.pos += 1;
            let escape = self
                .peek()
                .ok_or_else(|| self.error("unterminated escape"))?;
            self.pos += 1;
            let decoded = match escape {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.unicode_escape()?,
                _ => return Err(self.error("unknown escape in a string")),
            };
            out.push(decoded);
        }
    }

    /// Decodes the rest of a `\uXXXX` escape, including a following low
    /// surrogate when the first one is a high surrogate.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.text[self.pos..].starts_with("\\u") {
                return Err(self.error("unpaired surrogate in a string"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("unpaired surrogate in a string"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid `\\u` escape in a string"))
    }

    /// Reads four hexadecimal digits.
    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected four hex digits after `\\u`"))?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid `\\u` escape"))
    }

    /// Parses a number; the next character is `-` or a digit.
    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        self.eat(b'-');
        if !self.eat(b'0') && !self.digits() {
            return Err(self.error("expected digits in a number"));
        }
        if self.eat(b'.') && !self.digits() {
            return Err(self.error("expected digits after `.` in a number"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !self.digits() {
                return Err(self.error("expected digits in a number's exponent"));
            }
        }
        // The grammar above accepts only what Rust's `f64` parser accepts too.
        self.text[start..self.pos]
            .parse()
            .map(Json::Number)
            .map_err(|_| self.error("invalid number"))
    }

    /// Consumes a run of ASCII digits and returns whether there was one.
    fn digits(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Consumes `word` and returns `value`, or fails if `word` is not next.
    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected `true`, `false` or `null`"))
        }
    }

    /// Returns the next byte without consuming it.
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Consumes `byte` if it is next, and returns whether it was.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.pos += 1;
        }
        next
    }

    /// Skips JSON whitespace.
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Describes a parse error at the current position.
    fn error(&self, message: &str) -> String {
        format!("{message} at byte {}", self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `benchmark.json` as criterion 0.5 writes it for `mutex/uncontended/weft`.
    const BENCHMARK_WEFT: &str = r#"{"group_id":"mutex/uncontended","function_id":"weft","value_str":null,"throughput":null,"full_id":"mutex/uncontended/weft","directory_name":"mutex_uncontended/weft","title":"mutex/uncontended/weft"}"#;

    /// `estimates.json` as criterion 0.5 writes it, with a median of 10.2 ns.
    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":10.1,"upper_bound":10.5},"point_estimate":10.3,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":10.05,"upper_bound":10.4},"point_estimate":10.2,"standard_error":0.1},"median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":0.08,"upper_bound":0.2},"point_estimate":0.14,"standard_error":0.03},"slope":null,"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":0.2,"upper_bound":0.6},"point_estimate":0.41,"standard_error":0.1}}"#;

    /// Builds a measurement for the grouping and rendering tests.
    fn measurement(
        krate: &str,
        scenario: &str,
        implementation: &str,
        median_ns: f64,
    ) -> Measurement {
        Measurement {
            krate: krate.to_string(),
            scenario: scenario.to_string(),
            implementation: implementation.to_string(),
            median_ns,
        }
    }

    /// Converts string literals into the owned arguments `Options::parse` takes.
    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn parses_criterion_fixture() {
        let parsed = parse_measurement(BENCHMARK_WEFT, ESTIMATES).unwrap();
        assert_eq!(parsed, measurement("mutex", "uncontended", "weft", 10.2));
    }

    #[test]
    fn parses_peer_with_slope_and_pretty_printing() {
        let benchmark = r#"{
            "group_id": "mutex/contended_2_threads",
            "function_id": "parking_lot",
            "value_str": null,
            "throughput": null,
            "full_id": "mutex/contended_2_threads/parking_lot",
            "directory_name": "mutex_contended_2_threads/parking_lot",
            "title": "mutex/contended_2_threads/parking_lot"
        }"#;
        let estimates = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.5e2,"upper_bound":1.6E2},"point_estimate":155.0,"standard_error":1.0},
            "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":150,"upper_bound":158},"point_estimate":1.5421e2,"standard_error":1.2},
            "median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1,"upper_bound":3},"point_estimate":2,"standard_error":0.5},
            "slope":{"confidence_interval":{"confidence_level":0.95,"lower_bound":149.0,"upper_bound":157.0},"point_estimate":153.0,"standard_error":1.0},
            "std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":3,"upper_bound":6},"point_estimate":4,"standard_error":0.7}}"#;
        let parsed = parse_measurement(benchmark, estimates).unwrap();
        assert_eq!(
            parsed,
            measurement("mutex", "contended_2_threads", "parking_lot", 154.21)
        );
    }

    #[test]
    fn parameter_becomes_part_of_the_scenario() {
        let benchmark = r#"{"group_id":"queue/mpmc","function_id":"crossbeam","value_str":"4","throughput":{"Elements":1000},"full_id":"queue/mpmc/crossbeam/4","directory_name":"queue_mpmc/crossbeam/4","title":"queue/mpmc/crossbeam/4"}"#;
        let parsed = parse_measurement(benchmark, ESTIMATES).unwrap();
        assert_eq!(parsed, measurement("queue", "mpmc/4", "crossbeam", 10.2));
    }

    #[test]
    fn convention_breaks_are_distinguished_from_format_errors() {
        let no_slash = BENCHMARK_WEFT.replace("\"mutex/uncontended\"", "\"uncontended\"");
        assert!(matches!(
            parse_measurement(&no_slash, ESTIMATES),
            Err(ParseError::Convention(_))
        ));

        let no_function = BENCHMARK_WEFT.replace("\"weft\"", "null");
        assert!(matches!(
            parse_measurement(&no_function, ESTIMATES),
            Err(ParseError::Convention(_))
        ));

        let no_median = ESTIMATES.replace("\"median\"", "\"medium\"");
        assert_eq!(
            parse_measurement(BENCHMARK_WEFT, &no_median),
            Err(ParseError::Format(
                "estimates.json has no number `median.point_estimate`".to_string()
            ))
        );

        let truncated = &BENCHMARK_WEFT[..40];
        assert!(matches!(
            parse_measurement(truncated, ESTIMATES),
            Err(ParseError::Format(_))
        ));
    }

    #[test]
    fn reads_results_in_run_order_and_skips_convention_breaks() {
        let dir = env::temp_dir().join(format!("weft-xtask-bench-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        // Criterion's layout: `<group dir>/<function dir>/new/`, plus `base/`
        // copies and a `report/` directory, which must both be ignored.
        let write = |relative: &str, benchmark: &str, seconds: u64| {
            let new_dir = dir.join(relative).join("new");
            fs::create_dir_all(&new_dir).unwrap();
            let benchmark_path = new_dir.join("benchmark.json");
            fs::write(&benchmark_path, benchmark).unwrap();
            fs::write(new_dir.join("estimates.json"), ESTIMATES).unwrap();
            let file = fs::File::options()
                .write(true)
                .open(&benchmark_path)
                .unwrap();
            file.set_modified(UNIX_EPOCH + std::time::Duration::from_secs(seconds))
                .unwrap();
        };
        // `std` sorts before `weft` by path, but ran after it.
        write("mutex_uncontended/weft", BENCHMARK_WEFT, 100);
        write(
            "mutex_uncontended/std",
            &BENCHMARK_WEFT.replace("\"weft\"", "\"std\""),
            200,
        );
        write(
            "adhoc",
            &BENCHMARK_WEFT.replace("\"mutex/uncontended\"", "\"adhoc\""),
            50,
        );
        fs::create_dir_all(dir.join("mutex_uncontended/weft/base")).unwrap();
        fs::write(
            dir.join("mutex_uncontended/weft/base/benchmark.json"),
            "not json",
        )
        .unwrap();
        fs::create_dir_all(dir.join("report")).unwrap();

        let results = read_results(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            results.unwrap(),
            [
                measurement("mutex", "uncontended", "weft", 10.2),
                measurement("mutex", "uncontended", "std", 10.2),
            ]
        );
        assert_eq!(read_results(&dir).unwrap(), []);
    }

    #[test]
    fn json_parser_decodes_values() {
        let json = Json::parse(r#" {"a": [1, {"b": true}, []], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "n": -0.5e-3, "z": null, "f": false} "#)
            .unwrap();
        assert_eq!(json.get("a"), Some(&Json::Array));
        assert_eq!(json.get("s").and_then(Json::as_str), Some("x\"\\/\né😀"));
        assert_eq!(json.get("n").and_then(Json::as_f64), Some(-0.0005));
        assert_eq!(json.get("z"), Some(&Json::Null));
        assert_eq!(json.get("f"), Some(&Json::Bool));
        assert_eq!(json.get("missing"), None);
        assert_eq!(Json::parse("{}").unwrap(), Json::Object(Vec::new()));
        assert_eq!(Json::parse("\"µs\"").unwrap().as_str(), Some("µs"));
    }

    #[test]
    fn json_parser_rejects_malformed_input() {
        for bad in [
            "",
            "{",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "[1 2]",
            "01x",
            "1.",
            "-",
            "1e",
            "tru",
            "\"abc",
            "\"\\x\"",
            "\"\\ud83d\"",
            "{} {}",
            "{'a':1}",
            "\"tab\there\"",
        ] {
            assert!(Json::parse(bad).is_err(), "accepted {bad:?}");
        }
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
    }

    #[test]
    fn reads_bench_targets_from_the_manifest() {
        let manifest = r#"
[package]
name = "weft-benches"

[lib]
path = "src/lib.rs"
bench = false

[[bench]]
name = "mutex"
harness = false

[[ bench ]] # The semaphore benches.
harness = false
name = 'semaphore' # Single quotes work too.

[dev-dependencies]
name = "not-a-bench"

[[bench]]
name = "queue"
"#;
        assert_eq!(
            bench_targets(manifest),
            strings(&["mutex", "semaphore", "queue"])
        );
        assert_eq!(
            bench_targets("[package]\nname = \"x\"\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unknown_filter_lists_the_targets() {
        let message = unknown_filter_message(
            "mutx",
            &strings(&["mutex", "queue"]),
            Path::new("benches/Cargo.toml"),
        );
        assert_eq!(
            message,
            "unknown bench target `mutx`; the bench targets in benches/Cargo.toml are: mutex, queue"
        );
    }

    #[test]
    fn parses_options() {
        assert_eq!(
            Options::parse(&[]).unwrap(),
            Options {
                mode: Mode::Full,
                filter: None,
                help: false
            }
        );
        assert_eq!(
            Options::parse(&strings(&["--quick", "mutex"])).unwrap(),
            Options {
                mode: Mode::Quick,
                filter: Some("mutex".to_string()),
                help: false
            }
        );
        assert!(Options::parse(&strings(&["--help"])).unwrap().help);
        assert!(
            Options::parse(&strings(&["--fast"]))
                .unwrap_err()
                .starts_with("unknown option `--fast`")
        );
        assert!(
            Options::parse(&strings(&["mutex", "queue"]))
                .unwrap_err()
                .starts_with("only one FILTER is allowed, got `mutex` and `queue`")
        );
    }

    #[test]
    fn criterion_args_per_mode() {
        assert_eq!(
            Mode::Full.criterion_args(),
            ["--warm-up-time", "1", "--measurement-time", "2", "--noplot"]
        );
        assert_eq!(
            Mode::Quick.criterion_args(),
            [
                "--quick",
                "--warm-up-time",
                "0.5",
                "--measurement-time",
                "0.5",
                "--noplot"
            ]
        );
    }

    #[test]
    fn groups_by_crate_in_bench_order_and_fills_missing_peers() {
        let measurements = [
            measurement("queue", "spsc", "weft", 20.0),
            measurement("queue", "spsc", "crossbeam", 25.0),
            measurement("mutex", "uncontended", "weft", 10.0),
            measurement("mutex", "uncontended", "std", 12.0),
            measurement("mutex", "contended_2_threads", "weft", 100.0),
            measurement("mutex", "contended_2_threads", "std", 90.0),
            // `parking_lot` appears only in the second scenario.
            measurement("mutex", "contended_2_threads", "parking_lot", 80.0),
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
                    scenario: "contended_2_threads".to_string(),
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
            measurement("mutex", "contended_2_threads", "weft", 150.0),
            measurement("mutex", "contended_2_threads", "std", 1_234.0),
            measurement("mutex", "contended_2_threads", "parking_lot", 120.0),
            measurement("queue", "spsc", "crossbeam", 25.0),
        ];
        let tables = group_by_crate(&measurements, &strings(&["mutex", "queue"]));
        let expected = "\
| Scenario            |     Weft |        Peer 1 |        Peer 1 / Weft |          Peer 2 |          Peer 2 / Weft |
| :------------------ | -------: | ------------: | -------------------: | --------------: | ---------------------: |
| **mutex**           | **weft** |       **std** |       **std / weft** | **parking_lot** | **parking_lot / weft** |
| uncontended         |  10.2 ns |       12.5 ns |                1.23× |               — |                      — |
| contended_2_threads |   150 ns |       1.23 µs |                8.23× |          120 ns |         0.80× ◀ behind |
| **queue**           | **weft** | **crossbeam** | **crossbeam / weft** |                 |                        |
| spsc                |        — |       25.0 ns |                    — |                 |                        |
";
        assert_eq!(render_table(&tables), expected);
    }

    #[test]
    fn reads_machine_details() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(
            cpu_model(cpuinfo).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(cpu_model("processor\t: 0\n"), None);

        let meminfo = "MemTotal:       16318412 kB\nMemFree:         1234567 kB\n";
        assert_eq!(mem_total_kib(meminfo), Some(16_318_412));
        assert_eq!(format_memory(16_318_412), "15.6 GiB");
        assert_eq!(mem_total_kib("MemFree: 1 kB\n"), None);

        let os_release =
            "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n";
        assert_eq!(
            os_pretty_name(os_release).as_deref(),
            Some("Ubuntu 24.04.1 LTS")
        );
        assert_eq!(
            os_pretty_name("PRETTY_NAME=Alpine\n").as_deref(),
            Some("Alpine")
        );
        assert_eq!(os_pretty_name("NAME=x\n"), None);
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(86_399), "1970-01-01");
        assert_eq!(format_date(951_782_400), "2000-02-29");
        assert_eq!(format_date(1_709_251_199), "2024-02-29");
        assert_eq!(format_date(1_709_251_200), "2024-03-01");
        assert_eq!(format_date(1_735_689_599), "2024-12-31");
        assert_eq!(format_date(4_107_542_400), "2100-03-01");
    }

    #[test]
    fn summary_has_header_and_table() {
        let environment = Environment {
            machine: "Test CPU (x86_64)".to_string(),
            logical_cores: "2".to_string(),
            memory: "7.8 GiB".to_string(),
            os: "Test OS".to_string(),
            rustc: "rustc 1.95.0".to_string(),
            date: "2026-04-20".to_string(),
            mode: Mode::Quick,
            benches: "mutex".to_string(),
        };
        let tables = group_by_crate(&[measurement("mutex", "uncontended", "weft", 10.0)], &[]);
        let summary = render_summary(&environment, &tables);
        assert!(
            summary.starts_with("## Weft benchmark summary\n\n- **Machine:** Test CPU (x86_64)\n")
        );
        assert!(summary.contains(
            "- **Mode:** quick (criterion `--quick --warm-up-time 0.5 --measurement-time 0.5 --noplot`)\n"
        ));
        assert!(summary.contains("- **Date:** 2026-04-20 (UTC)\n"));
        assert!(summary.ends_with(
            "`—` means not measured.\n\n\
             | Scenario    |     Weft |\n\
             | :---------- | -------: |\n\
             | **mutex**   | **weft** |\n\
             | uncontended |  10.0 ns |\n"
        ));
    }
}
