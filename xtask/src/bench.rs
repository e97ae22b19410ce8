//! `cargo xtask bench [--quick] [--baseline FILE] [FILTER...]`: runs Weft's
//! criterion benchmarks and reports them the way a user deciding whether
//! to depend on a Weft crate wants to read them: one table, Weft against
//! its peers, scenario by scenario.
//!
//! The task has four steps:
//!
//! 1. Compile the benches (`cargo bench --no-run`, output shown), then ask
//!    each bench target how many benchmarks it will run (criterion's
//!    `--list`), so that progress can say how many are left.
//! 2. Delete `<target>/criterion`, so that the results hold only this run,
//!    and run the bench targets one after the other. Within a target every
//!    scenario runs Weft and then its peers in the same process, back to
//!    back, except in the targets of [`ISOLATED_TARGETS`], where each
//!    benchmark runs in a process of its own (criterion's `--exact`).
//!    Criterion's chatter is kept out of the terminal (it goes to
//!    `criterion-output.txt`); instead one line per finished benchmark says
//!    which it was, how many are done and about how long is left.
//! 3. Read the results criterion left behind (`criterion.rs`).
//! 4. Print the report (`report.rs`): the machine, a one-line verdict and
//!    the table; with `--baseline`, the change against an earlier run
//!    (`baseline.rs`). Write it all to `<target>/weft-bench/`: `report.md`
//!    (and the same text as `summary.md`, the name earlier versions used),
//!    `report.json` with the raw estimates, and `report.svg`, the chart
//!    (`chart.rs`).
//!
//! Everything that parses or formats is a pure function, tested next to it
//! on fixture data; only `run` and the `Cargo` helper touch the file
//! system or start processes.

mod baseline;
mod chart;
mod criterion;
mod json;
mod machine;
mod report;

use std::env;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use self::criterion::Finished;
use self::machine::Environment;
use self::report::Report;
use crate::{target_dir, workspace_root};

/// The package that holds every benchmark, in the workspace directory `benches/`.
const BENCH_PACKAGE: &str = "weft-benches";

/// The directory under Cargo's target directory that receives the reports.
const OUTPUT_DIR: &str = "weft-bench";

/// The bench targets whose benchmarks each run in a process of their own.
///
/// Every queue scenario allocates and frees the memory of its messages,
/// and what the allocator keeps of it (pages already faulted in, or handed
/// back to the kernel) sped up whichever channel ran next in the same
/// process: crossbeam-channel's `seq_unbounded` measured 20.7 ns per
/// message on its own and 12.9 ns right after Weft's, while Weft's measured
/// 13.7–14.2 ns either way. In a process of its own, each channel starts
/// from the same allocator, whatever ran before it.
const ISOLATED_TARGETS: &[&str] = &["queue"];

/// Criterion arguments for every measuring run, whatever the mode: no HTML
/// plots (the task draws its own chart), and plain text to parse.
const RUN_ARGS: &[&str] = &["--noplot", "--color", "never"];

/// Runs the `bench` task with the arguments that follow `bench` on the command line.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    if options.help {
        print!("{USAGE}");
        return Ok(());
    }
    // Read the baseline first: a typo in its name should not cost a run.
    let baseline = match &options.baseline {
        Some(path) => Some((path.display().to_string(), read_baseline(path)?)),
        None => None,
    };

    let root = workspace_root();
    let manifest_path = root.join("benches").join("Cargo.toml");
    let manifest = fs::read_to_string(&manifest_path)
        .map_err(|error| format!("cannot read {}: {error}", manifest_path.display()))?;
    let targets = bench_targets(&manifest);
    let selections = select(&options.filters, &targets, &manifest_path)?;

    let target_dir = target_dir(&root)?;
    let criterion_dir = target_dir.join("criterion");
    let output_dir = target_dir.join(OUTPUT_DIR);
    let cargo = Cargo {
        root: &root,
        target_dir: &target_dir,
        criterion_dir: &criterion_dir,
    };

    cargo.compile(&selections)?;
    let mut listed = Vec::with_capacity(selections.len());
    for selection in &selections {
        let ids = cargo.list(selection)?;
        if ids.is_empty() {
            return Err(format!(
                "no benchmark of the `{}` bench target matches {}",
                selection.target,
                selection.describe()
            ));
        }
        listed.push(ids);
    }

    fs::create_dir_all(&output_dir)
        .map_err(|error| format!("cannot create {}: {error}", output_dir.display()))?;
    let log_path = output_dir.join("criterion-output.txt");
    let log = fs::File::create(&log_path)
        .map_err(|error| format!("cannot create {}: {error}", log_path.display()))?;

    let per_pass: usize = listed.iter().map(Vec::len).sum();
    let mut progress = Progress::new(per_pass * options.runs);
    eprintln!(
        "\nMeasuring {per_pass} benchmarks in {} mode{}; criterion's own output goes to {}",
        options.mode.name(),
        if options.runs > 1 {
            format!(", {} passes", options.runs)
        } else {
            String::new()
        },
        log_path.display()
    );
    let mut passes = Vec::with_capacity(options.runs);
    for pass in 1..=options.runs {
        // Each pass starts from an empty criterion directory, so that it
        // reads back only its own results.
        remove_dir_if_present(&criterion_dir)?;
        for (index, (selection, ids)) in selections.iter().zip(&listed).enumerate() {
            let pass_note = if options.runs > 1 {
                format!("pass {pass}/{}, ", options.runs)
            } else {
                String::new()
            };
            eprintln!(
                "==> [{pass_note}{}/{}] {}: {} benchmarks, {} elapsed",
                index + 1,
                selections.len(),
                selection.describe(),
                ids.len(),
                format_duration(progress.start.elapsed())
            );
            if ISOLATED_TARGETS.contains(&selection.target.as_str()) {
                for id in ids {
                    cargo.run(selection, Some(id), options.mode, &mut progress, &log)?;
                }
            } else {
                cargo.run(selection, None, options.mode, &mut progress, &log)?;
            }
        }
        let measurements = criterion::read_results(&criterion_dir)?;
        if measurements.is_empty() {
            return Err(format!(
                "no criterion results found under {}; did any benchmark run?",
                criterion_dir.display()
            ));
        }
        passes.push(measurements);
    }
    eprintln!(
        "==> measured {} benchmarks in {}",
        progress.done,
        format_duration(progress.start.elapsed())
    );
    let measurements = report::combine_passes(passes);

    let benches: Vec<String> = selections.iter().map(Selection::describe).collect();
    let report = Report {
        environment: Environment::detect(options.mode, options.runs, benches.join(", ")),
        measurements,
    };
    let tables = report::group_by_crate(&report.measurements, &targets);
    let mut text = report::render_report(&report.environment, &tables);
    if let Some((path, before)) = &baseline {
        text.push('\n');
        text.push_str(&baseline::render_comparison(path, before, &report));
    }
    print!("\n{text}");

    let svg = chart::render_svg(&report)?;
    for (name, contents) in [
        ("report.md", text.as_str()),
        ("summary.md", text.as_str()),
        ("report.json", &report.to_json()),
        ("report.svg", &svg),
    ] {
        write_file(&output_dir.join(name), contents)?;
    }
    println!(
        "\nWritten to {}: report.md (and summary.md, the same), report.json, report.svg, \
         criterion-output.txt",
        output_dir.display()
    );
    Ok(())
}

/// The usage text of `cargo xtask bench --help`.
const USAGE: &str = "\
Usage: cargo xtask bench [--quick] [--runs N] [--baseline FILE] [FILTER...]

Runs the criterion benchmarks of `weft-benches` (every scenario of every crate,
Weft and its peers back to back; the queue's each in a process of its own) and
prints one Markdown table comparing Weft with its peers. Writes to
`<target>/weft-bench/`:
    report.md     the printed report (summary.md holds the same text)
    report.json   the raw estimates: median and mean with confidence intervals
    report.svg    a chart of the ratios per scenario and of the thread sweeps
    criterion-output.txt   criterion's own output

Arguments:
    FILTER     a bench target (`queue`, a `[[bench]]` name in benches/Cargo.toml),
               or a benchmark id prefix within one (`mutex/contended`); several
               may be given

Options:
    --quick            criterion's quick mode: about a minute after compiling,
                       rough figures, flagged as such in the report
    --runs N           measure everything N times over (one whole pass after
                       another) and report, for each benchmark, the median of
                       the N passes' medians, with their range in report.json;
                       on a small machine a single pass is one draw, and
                       three passes settle which way a close ratio goes
    --baseline FILE    also print how each Weft time and ratio changed against
                       an earlier report.json (keep a copy of the one you want
                       to compare with: every run overwrites
                       target/weft-bench/report.json)
    -h, --help         print this help
";

/// How long criterion measures each benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The default: half a second of warm-up and one and a half of
    /// measurement per benchmark, about 2.2 seconds each with the analysis,
    /// so the hundred-odd benchmarks finish in about five minutes on two
    /// cores. 20 000 bootstrap resamples (criterion's default is 100 000)
    /// are plenty for a 95% interval and save a tenth of a second each.
    Full,
    /// Criterion's quick mode: it doubles the iteration count until two
    /// runs agree within 5%, for at most 0.3 s, with no warm-up, so every
    /// benchmark takes between 0.1 and 0.3 s.
    Quick,
}

impl Mode {
    /// The measurement arguments passed to each criterion bench binary,
    /// after `--`; they override the bench files' own settings.
    fn criterion_args(self) -> &'static [&'static str] {
        match self {
            Mode::Full => &[
                "--warm-up-time",
                "0.5",
                "--measurement-time",
                "1.5",
                "--nresamples",
                "20000",
            ],
            Mode::Quick => &[
                "--quick",
                "--measurement-time",
                "0.3",
                "--nresamples",
                "5000",
            ],
        }
    }

    /// The mode's name as shown in the report.
    fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Quick => "quick",
        }
    }

    /// The mode with the given `name`, as read back from `report.json`.
    fn from_name(name: &str) -> Option<Mode> {
        [Mode::Full, Mode::Quick]
            .into_iter()
            .find(|mode| mode.name() == name)
    }
}

/// The parsed command line of the `bench` task.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    /// Whether to measure briefly (`--quick`) or thoroughly.
    mode: Mode,
    /// The bench targets or benchmark id prefixes to run; empty for all.
    filters: Vec<String>,
    /// The earlier `report.json` to compare with, if any.
    baseline: Option<PathBuf>,
    /// How many whole passes to measure (`--runs`), at least one.
    runs: usize,
    /// Whether the user asked for help instead of a run.
    help: bool,
}

impl Options {
    /// Parses the arguments that follow `bench`.
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            mode: Mode::Full,
            filters: Vec::new(),
            baseline: None,
            runs: 1,
            help: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let baseline = match arg.as_str() {
                "--quick" => {
                    options.mode = Mode::Quick;
                    continue;
                }
                "-h" | "--help" => {
                    options.help = true;
                    continue;
                }
                "--runs" => {
                    options.runs = parse_runs(args.next().map(String::as_str))?;
                    continue;
                }
                flag if flag.starts_with("--runs=") => {
                    options.runs = parse_runs(flag.strip_prefix("--runs="))?;
                    continue;
                }
                "--baseline" => args.next().map(String::as_str),
                flag if flag.starts_with("--baseline=") => flag.strip_prefix("--baseline="),
                flag if flag.starts_with('-') => {
                    return Err(format!("unknown option `{flag}`\n\n{USAGE}"));
                }
                filter => {
                    options.filters.push(filter.to_string());
                    continue;
                }
            };
            match baseline {
                Some(file) if !file.is_empty() => {
                    if options.baseline.is_some() {
                        return Err(format!("`--baseline` is given twice\n\n{USAGE}"));
                    }
                    options.baseline = Some(PathBuf::from(file));
                }
                _ => {
                    return Err(format!(
                        "`--baseline` needs a FILE: an earlier report.json\n\n{USAGE}"
                    ));
                }
            }
        }
        Ok(options)
    }
}

/// The value of `--runs`: a whole number of passes, at least one.
fn parse_runs(value: Option<&str>) -> Result<usize, String> {
    match value.map(str::parse::<usize>) {
        Some(Ok(runs)) if runs > 0 => Ok(runs),
        _ => Err(format!(
            "`--runs` needs a whole number of passes, at least 1\n\n{USAGE}"
        )),
    }
}

/// Reads and checks the `report.json` given to `--baseline`.
fn read_baseline(path: &Path) -> Result<Report, String> {
    let text = fs::read_to_string(path)
        .map_err(|error| format!("cannot read the baseline {}: {error}", path.display()))?;
    Report::from_json(&text).map_err(|error| format!("baseline {}: {error}", path.display()))
}

/// One bench target to run, and which of its benchmarks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selection {
    /// The `[[bench]]` target, such as `mutex`.
    target: String,
    /// The criterion filter (a regular expression over benchmark ids), or
    /// `None` to run the whole target.
    criterion_filter: Option<String>,
    /// The filters the user gave for this target, for messages.
    filters: Vec<String>,
}

impl Selection {
    /// Names what runs: the target, or the user's filters within it.
    fn describe(&self) -> String {
        if self.filters.is_empty() {
            self.target.clone()
        } else {
            self.filters.join(", ")
        }
    }
}

/// Turns the user's filters into the bench targets to run, in the
/// manifest's order.
///
/// A filter is either a target name (`queue`: all of it) or starts with
/// one and a slash (`mutex/contended`: the benchmarks whose id contains
/// it, which for an id prefix means the ids that start with it).
fn select(
    filters: &[String],
    targets: &[String],
    manifest_path: &Path,
) -> Result<Vec<Selection>, String> {
    if filters.is_empty() {
        return Ok(targets
            .iter()
            .map(|target| Selection {
                target: target.clone(),
                criterion_filter: None,
                filters: Vec::new(),
            })
            .collect());
    }
    for filter in filters {
        let target = filter.split('/').next().unwrap_or_default();
        if !targets.iter().any(|t| t == target) {
            return Err(unknown_filter_message(filter, targets, manifest_path));
        }
    }
    let mut selections = Vec::new();
    for target in targets {
        let mine: Vec<&String> = filters
            .iter()
            .filter(|filter| filter.split('/').next() == Some(target.as_str()))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let whole = mine.contains(&target);
        let criterion_filter = (!whole).then(|| {
            let patterns: Vec<String> = mine.iter().map(|filter| regex_escape(filter)).collect();
            patterns.join("|")
        });
        selections.push(Selection {
            target: target.clone(),
            criterion_filter,
            filters: if whole {
                Vec::new()
            } else {
                mine.into_iter().cloned().collect()
            },
        });
    }
    Ok(selections)
}

/// Escapes the characters that mean something in a regular expression, so
/// that criterion's filter matches `text` literally.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
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
    let target = filter.split('/').next().unwrap_or(filter);
    let named = if target == filter {
        format!("`{filter}`")
    } else {
        format!("`{target}` (in `{filter}`)")
    };
    if targets.is_empty() {
        format!(
            "unknown bench target {named}: {} declares no `[[bench]]` targets",
            manifest_path.display()
        )
    } else {
        format!(
            "unknown bench target {named}; the bench targets in {} are: {}",
            manifest_path.display(),
            targets.join(", ")
        )
    }
}

/// Starts Cargo the way every step needs it: the `cargo` that runs this
/// task, from the workspace root, with criterion told where to write.
#[derive(Debug)]
struct Cargo<'a> {
    /// The workspace root.
    root: &'a Path,
    /// Cargo's target directory, as `crate::target_dir` resolved it.
    target_dir: &'a Path,
    /// Where criterion saves its results.
    criterion_dir: &'a Path,
}

impl Cargo<'_> {
    /// Builds `$CARGO <args>`.
    ///
    /// `CRITERION_HOME` tells criterion where to save its results, so that it
    /// writes exactly where `read_results` looks, whatever criterion would
    /// otherwise have guessed. A `$CARGO_TARGET_DIR` set by the user is passed
    /// on as the absolute path `target_dir` made of it; when it is not set, the
    /// child is left to choose its target directory as it would on its own.
    fn command(&self, args: &[&str]) -> Command {
        let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut command = Command::new(cargo);
        command
            .args(args)
            .current_dir(self.root)
            .env("CRITERION_HOME", self.criterion_dir);
        if env::var_os("CARGO_TARGET_DIR").is_some() {
            command.env("CARGO_TARGET_DIR", self.target_dir);
        }
        command
    }

    /// Compiles the selected bench targets, with Cargo's output shown.
    fn compile(&self, selections: &[Selection]) -> Result<(), String> {
        let mut args = vec!["bench", "-p", BENCH_PACKAGE, "--no-run"];
        for selection in selections {
            args.extend(["--bench", selection.target.as_str()]);
        }
        eprintln!("$ cargo {}", args.join(" "));
        let status = self
            .command(&args)
            .status()
            .map_err(|error| format!("cannot run cargo: {error}"))?;
        check_status(status, "`cargo bench --no-run`")
    }

    /// Returns the ids of the benchmarks `selection` will run, from
    /// criterion's `--list`, which prints them without measuring anything.
    fn list(&self, selection: &Selection) -> Result<Vec<String>, String> {
        let mut args = vec![
            "bench",
            "-q",
            "-p",
            BENCH_PACKAGE,
            "--bench",
            &selection.target,
            "--",
            "--list",
        ];
        args.extend(selection.criterion_filter.as_deref());
        let output = self
            .command(&args)
            .output()
            .map_err(|error| format!("cannot run cargo: {error}"))?;
        if !output.status.success() {
            return Err(format!(
                "listing the benchmarks of `{}` failed ({}):\n{}",
                selection.target,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(criterion::listed_ids(&String::from_utf8_lossy(
            &output.stdout,
        )))
    }

    /// Runs the benchmarks of `selection` (only the one with id `exact`, if
    /// given), printing one progress line per finished benchmark and
    /// copying everything criterion prints to `log`.
    ///
    /// Criterion prints a `time:` line per result on standard output, and
    /// its running commentary (`Benchmarking ...: Warming up`) on standard
    /// error. Both are read line by line as they come: results become
    /// progress lines, and of the commentary only what is not routine
    /// (warnings, panics, Cargo's errors) reaches the terminal.
    fn run(
        &self,
        selection: &Selection,
        exact: Option<&str>,
        mode: Mode,
        progress: &mut Progress,
        log: &fs::File,
    ) -> Result<(), String> {
        let mut args = vec![
            "bench",
            "-q",
            "-p",
            BENCH_PACKAGE,
            "--bench",
            &selection.target,
            "--",
        ];
        args.extend(mode.criterion_args());
        args.extend(RUN_ARGS);
        match exact {
            Some(id) => args.extend(["--exact", id]),
            None => args.extend(selection.criterion_filter.as_deref()),
        }
        log_line(log, &format!("$ cargo {}", args.join(" ")));

        let mut command = self.command(&args);
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot run cargo: {error}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        // The clone shares the file offset, so both streams append to the log.
        let stderr_log = log
            .try_clone()
            .map_err(|error| format!("cannot share the output log: {error}"))?;
        let forwarder = thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log_line(&stderr_log, &line);
                if shows_on_stderr(&line) {
                    eprintln!("{line}");
                }
            }
        });

        let mut previous = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            log_line(log, &line);
            if let Some(finished) = criterion::finished_benchmark(&line, &previous) {
                progress.finished(&finished);
            } else if line.starts_with("Warning") {
                eprintln!("{line}");
            }
            previous = line;
        }

        let forwarded = forwarder.join();
        let status = child
            .wait()
            .map_err(|error| format!("cannot wait for cargo: {error}"))?;
        if forwarded.is_err() {
            return Err("the thread copying criterion's error output panicked".to_string());
        }
        check_status(
            status,
            &format!("`cargo bench --bench {}`", selection.target),
        )
    }
}

/// Turns a child's exit status into an error naming `what` failed.
fn check_status(status: std::process::ExitStatus, what: &str) -> Result<(), String> {
    if status.success() {
        Ok(())
    } else {
        match status.code() {
            Some(code) => Err(format!("{what} failed with exit code {code}")),
            None => Err(format!("{what} was terminated by a signal")),
        }
    }
}

/// Appends `line` to the output log. A log that cannot be written is not
/// worth failing the run for, so errors are ignored.
fn log_line(mut log: &fs::File, line: &str) {
    // One write per line, so lines from the two streams never mix.
    let _ = log.write_all(format!("{line}\n").as_bytes());
}

/// Whether a line criterion (or Cargo) printed on standard error should
/// reach the terminal: everything but blank lines and criterion's routine
/// commentary, which the progress lines replace.
fn shows_on_stderr(line: &str) -> bool {
    let line = line.trim();
    !(line.is_empty() || line.starts_with("Benchmarking ") || line.starts_with("Gnuplot not found"))
}

/// Counts finished benchmarks and prints a progress line for each.
#[derive(Debug)]
struct Progress {
    /// How many benchmarks the run has, from criterion's `--list`.
    total: usize,
    /// How many have finished.
    done: usize,
    /// When measuring started.
    start: Instant,
}

impl Progress {
    /// Starts counting `total` benchmarks now.
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            start: Instant::now(),
        }
    }

    /// Records that a benchmark finished, and says so.
    fn finished(&mut self, finished: &Finished) {
        self.done += 1;
        eprintln!(
            "{}",
            progress_line(self.done, self.total, finished, self.start.elapsed())
        );
    }
}

/// Formats one progress line: how many are done, which benchmark just
/// finished and criterion's estimate, the time so far and, from the
/// average so far, about how long the rest will take.
fn progress_line(done: usize, total: usize, finished: &Finished, elapsed: Duration) -> String {
    let width = total.to_string().len();
    let mut line = format!(
        "[{done:>width$}/{total}] {:<40} {:>11}   {} elapsed",
        finished.id,
        finished.time,
        format_duration(elapsed)
    );
    if done > 0 && done < total {
        let left = elapsed.mul_f64((total - done) as f64 / done as f64);
        line.push_str(&format!(", about {} left", format_duration(left)));
    }
    line
}

/// Formats a duration to the second: `45s`, `1m12s`, `1h05m`.
fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64().round() as u64;
    if seconds < 60 {
        format!("{seconds}s")
    } else if seconds < 3600 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60)
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

#[cfg(test)]
mod tests {
    use super::*;
    use report::tests::strings;

    #[test]
    fn parses_options() {
        assert_eq!(
            Options::parse(&[]).unwrap(),
            Options {
                mode: Mode::Full,
                filters: Vec::new(),
                baseline: None,
                runs: 1,
                help: false
            }
        );
        assert_eq!(
            Options::parse(&strings(&[
                "--quick",
                "mutex",
                "--baseline",
                "old.json",
                "queue/spsc"
            ]))
            .unwrap(),
            Options {
                mode: Mode::Quick,
                filters: strings(&["mutex", "queue/spsc"]),
                baseline: Some(PathBuf::from("old.json")),
                runs: 1,
                help: false
            }
        );
        assert_eq!(
            Options::parse(&strings(&["--baseline=a/report.json"]))
                .unwrap()
                .baseline,
            Some(PathBuf::from("a/report.json"))
        );
        assert!(Options::parse(&strings(&["--help"])).unwrap().help);
        assert_eq!(Options::parse(&strings(&["--runs", "3"])).unwrap().runs, 3);
        assert_eq!(Options::parse(&strings(&["--runs=2"])).unwrap().runs, 2);
        let error = |args: &[&str]| Options::parse(&strings(args)).unwrap_err();
        assert!(error(&["--fast"]).starts_with("unknown option `--fast`"));
        assert!(error(&["--baseline"]).starts_with("`--baseline` needs a FILE"));
        for bad in [&["--runs"][..], &["--runs", "0"], &["--runs=two"]] {
            assert!(error(bad).starts_with("`--runs` needs a whole number"));
        }
        assert!(error(&["--baseline="]).starts_with("`--baseline` needs a FILE"));
        assert!(
            error(&["--baseline", "a", "--baseline", "b"])
                .starts_with("`--baseline` is given twice")
        );
    }

    #[test]
    fn selects_targets_and_benchmark_prefixes() {
        let targets = strings(&["mutex", "semaphore", "queue"]);
        let manifest = Path::new("benches/Cargo.toml");
        let all = select(&[], &targets, manifest).unwrap();
        assert_eq!(all.len(), 3);
        assert!(
            all.iter()
                .all(|s| s.criterion_filter.is_none() && s.filters.is_empty())
        );

        // Targets run in the manifest's order, whatever the user's order.
        let chosen = select(
            &strings(&["queue/mpmc_bounded1_sweep", "mutex", "queue/spsc"]),
            &targets,
            manifest,
        )
        .unwrap();
        assert_eq!(
            chosen,
            [
                Selection {
                    target: "mutex".to_string(),
                    criterion_filter: None,
                    filters: Vec::new(),
                },
                Selection {
                    target: "queue".to_string(),
                    criterion_filter: Some("queue/mpmc_bounded1_sweep|queue/spsc".to_string()),
                    filters: strings(&["queue/mpmc_bounded1_sweep", "queue/spsc"]),
                },
            ]
        );
        assert_eq!(
            chosen[1].describe(),
            "queue/mpmc_bounded1_sweep, queue/spsc"
        );
        assert_eq!(chosen[0].describe(), "mutex");

        // A whole target wins over a prefix within it.
        let whole = select(
            &strings(&["mutex/uncontended", "mutex"]),
            &targets,
            manifest,
        )
        .unwrap();
        assert_eq!(whole[0].criterion_filter, None);

        assert_eq!(
            select(&strings(&["mutx/uncontended"]), &targets, manifest).unwrap_err(),
            "unknown bench target `mutx` (in `mutx/uncontended`); the bench targets in \
             benches/Cargo.toml are: mutex, semaphore, queue"
        );
        assert_eq!(regex_escape("a.b+c/d_e"), "a\\.b\\+c/d_e");
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
        assert_eq!(
            unknown_filter_message("x", &[], Path::new("benches/Cargo.toml")),
            "unknown bench target `x`: benches/Cargo.toml declares no `[[bench]]` targets"
        );
    }

    #[test]
    fn modes_pass_their_measurement_times_to_criterion() {
        assert_eq!(
            Mode::Full.criterion_args(),
            [
                "--warm-up-time",
                "0.5",
                "--measurement-time",
                "1.5",
                "--nresamples",
                "20000"
            ]
        );
        assert_eq!(
            Mode::Quick.criterion_args(),
            [
                "--quick",
                "--measurement-time",
                "0.3",
                "--nresamples",
                "5000"
            ]
        );
        assert_eq!(Mode::from_name("quick"), Some(Mode::Quick));
        assert_eq!(Mode::from_name(Mode::Full.name()), Some(Mode::Full));
        assert_eq!(Mode::from_name("slow"), None);
    }

    #[test]
    fn formats_progress_lines() {
        let finished = Finished {
            id: "mutex/contended_sweep/weft/4".to_string(),
            time: "8.12 ns".to_string(),
        };
        assert_eq!(
            progress_line(25, 109, &finished, Duration::from_secs(50)),
            "[ 25/109] mutex/contended_sweep/weft/4                 8.12 ns   50s elapsed, \
             about 2m48s left"
        );
        // The last one, and more than announced, have no estimate left.
        assert!(
            progress_line(109, 109, &finished, Duration::from_secs(240)).ends_with("4m00s elapsed")
        );
        assert!(
            progress_line(110, 109, &finished, Duration::from_secs(240)).ends_with("4m00s elapsed")
        );

        assert_eq!(format_duration(Duration::from_millis(400)), "0s");
        assert_eq!(format_duration(Duration::from_secs(59)), "59s");
        assert_eq!(format_duration(Duration::from_secs(72)), "1m12s");
        assert_eq!(format_duration(Duration::from_secs(3_900)), "1h05m");
    }

    #[test]
    fn keeps_only_unusual_lines_of_criterion_stderr() {
        assert!(!shows_on_stderr(
            "Benchmarking mutex/uncontended/weft: Warming up for 500.00 ms"
        ));
        assert!(!shows_on_stderr("Benchmarking mutex/uncontended/weft"));
        assert!(!shows_on_stderr("   "));
        assert!(!shows_on_stderr(
            "Gnuplot not found, using plotters backend"
        ));
        assert!(shows_on_stderr(
            "Warning: Unable to complete 30 samples in 1.5s. You may wish to increase target time to 2.1s."
        ));
        assert!(shows_on_stderr(
            "thread 'main' panicked at benches/benches/queue.rs:12:5:"
        ));
        assert!(shows_on_stderr(
            "error: bench failed, to rerun pass `--bench queue`"
        ));
    }
}
