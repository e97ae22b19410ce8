//! `cargo xtask bench [--quick] [--runs N] [--baseline FILE] [FILTER...]`:
//! runs Weft's criterion benchmarks and reports them the way a user
//! deciding whether to depend on a Weft crate wants to read them: one
//! table, Weft against its peers, scenario by scenario.
//!
//! The task has four steps:
//!
//! 1. Find the bench targets with `cargo metadata` and narrow them to the
//!    filters (`targets.rs`); compile them (`cargo bench --no-run`, output
//!    shown), then ask each how many benchmarks it will run (criterion's
//!    `--list`), so that progress can say how many are left.
//! 2. Delete `<target>/criterion`, so that the results hold only this run,
//!    and run the bench targets one after the other (`runner.rs`). Within a
//!    target every scenario runs Weft and then its peers in the same
//!    process, back to back, except in the targets of [`ISOLATED_TARGETS`],
//!    where each benchmark runs in a process of its own (criterion's
//!    `--exact`). Criterion's chatter goes to `criterion-output.txt`;
//!    instead one line per finished benchmark says which it was, how many
//!    are done and about how long is left (`progress.rs`).
//! 3. Read the results criterion left behind (`criterion.rs`), once per
//!    pass with `--runs`, and combine the passes.
//! 4. Print the report (`report/`): the machine (`machine.rs`), a one-line
//!    verdict and the table; with `--baseline`, the change against an
//!    earlier run. Write it all to `<target>/weft-bench/`: `report.md` (and
//!    the same text as `summary.md`, the name earlier versions used),
//!    `report.json` with the raw estimates, and `report.svg`, the chart.
//!
//! Everything that parses or formats is a pure function, tested next to it
//! on fixture data; only this file and `runner.rs` touch the file system or
//! start processes.

mod cli;
mod criterion;
mod machine;
mod progress;
mod report;
mod runner;
mod targets;

use std::fs;
use std::io;

use anyhow::{Context, Result, bail, ensure};

pub(crate) use self::cli::Args;
use self::progress::{Progress, format_duration};
use self::report::model::{Environment, Report};
use self::report::{baseline, markdown, stats, svg};
use self::runner::Runner;
use self::targets::{BENCH_PACKAGE, bench_targets, select};
use crate::metadata::Metadata;

/// The directory under Cargo's target directory that receives the reports.
const OUTPUT_DIR: &str = "weft-bench";

/// The bench targets whose benchmarks each run in a process of their own.
///
/// Every queue scenario allocates and frees the memory of its messages,
/// and what the allocator keeps of it (pages already faulted in, or handed
/// back to the kernel) speeds up whichever channel runs next in the same
/// process. In a process of its own, each channel starts from the same
/// allocator, whatever ran before it.
const ISOLATED_TARGETS: &[&str] = &["queue"];

/// Runs the `bench` task.
pub(crate) fn run(args: Args) -> Result<()> {
    let mode = args.mode();
    let runs = args.runs.get();
    // Read the baseline first: a typo in its name should not cost a run.
    let baseline = match &args.baseline {
        Some(path) => {
            let read = || Report::from_json(&fs::read_to_string(path)?);
            let report = read().with_context(|| format!("baseline {}", path.display()))?;
            Some((path.display().to_string(), report))
        }
        None => None,
    };

    let metadata = Metadata::read()?;
    let package = metadata.package(BENCH_PACKAGE)?;
    let targets = bench_targets(package);
    let selections = select(&args.filters, &targets, &package.manifest_path)?;
    let runner = Runner {
        criterion_dir: metadata.target_directory.join("criterion"),
        target_dir: metadata.target_directory.clone(),
    };
    let output_dir = metadata.target_directory.join(OUTPUT_DIR);

    runner.compile(&selections)?;
    let mut listed = Vec::with_capacity(selections.len());
    for selection in &selections {
        let ids = runner.list(selection)?;
        ensure!(
            !ids.is_empty(),
            "no benchmark of the `{}` bench target matches {}",
            selection.target,
            selection.describe()
        );
        listed.push(ids);
    }

    fs::create_dir_all(&output_dir)
        .with_context(|| format!("cannot create {}", output_dir.display()))?;
    let log_path = output_dir.join("criterion-output.txt");
    let log = fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;

    let per_pass: usize = listed.iter().map(Vec::len).sum();
    let mut progress = Progress::new(per_pass * runs);
    let passes_note = |text: String| if runs > 1 { text } else { String::new() };
    eprintln!(
        "\nMeasuring {per_pass} benchmarks in {} mode{}; criterion's own output goes to {}",
        mode.name(),
        passes_note(format!(", {runs} passes")),
        log_path.display()
    );
    let mut passes = Vec::with_capacity(runs);
    for pass in 1..=runs {
        // Each pass starts from an empty criterion directory, so that it
        // reads back only its own results.
        match fs::remove_dir_all(&runner.criterion_dir) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                return Err(error).with_context(|| {
                    format!(
                        "cannot delete stale results in {}",
                        runner.criterion_dir.display()
                    )
                });
            }
            _ => {}
        }
        for (index, (selection, ids)) in selections.iter().zip(&listed).enumerate() {
            eprintln!(
                "==> [{}{}/{}] {}: {} benchmarks, {} elapsed",
                passes_note(format!("pass {pass}/{runs}, ")),
                index + 1,
                selections.len(),
                selection.describe(),
                ids.len(),
                format_duration(progress.start.elapsed())
            );
            let mode_args = mode.criterion_args();
            if ISOLATED_TARGETS.contains(&selection.target.as_str()) {
                for id in ids {
                    runner.run(selection, Some(id), mode_args, &mut progress, &log)?;
                }
            } else {
                runner.run(selection, None, mode_args, &mut progress, &log)?;
            }
        }
        let measurements = criterion::read_results(&runner.criterion_dir)?;
        if measurements.is_empty() {
            bail!(
                "no criterion results found under {}; did any benchmark run?",
                runner.criterion_dir.display()
            );
        }
        passes.push(measurements);
    }
    eprintln!(
        "==> measured {} benchmarks in {}",
        progress.done,
        format_duration(progress.start.elapsed())
    );

    let benches: Vec<String> = selections.iter().map(|s| s.describe()).collect();
    let report = Report {
        environment: Environment::detect(mode, runs, benches.join(", ")),
        measurements: stats::combine_passes(passes),
    };
    let tables = markdown::group_by_crate(&report.measurements, &targets);
    let mut text = markdown::render_report(&report.environment, &tables);
    if let Some((path, before)) = &baseline {
        text.push('\n');
        text.push_str(&baseline::render_comparison(path, before, &report));
    }
    print!("\n{text}");

    for (name, contents) in [
        ("report.md", text.clone()),
        ("summary.md", text),
        ("report.json", report.to_json()?),
        ("report.svg", svg::render_svg(&report)?),
    ] {
        let path = output_dir.join(name);
        fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "\nWritten to {}: report.md (and summary.md, the same), report.json, report.svg, \
         criterion-output.txt",
        output_dir.display()
    );
    Ok(())
}
