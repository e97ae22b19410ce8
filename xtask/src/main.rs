//! Weft's project tasks, run as `cargo xtask <task>` (see the alias in
//! `.cargo/config.toml`).
//!
//! This binary only reads the task name and hands the remaining arguments to
//! that task's module, one file per task, in the style of rust-analyzer's
//! xtask (the bench and soak tasks keep their parts in `bench/` and
//! `soak/`). Its dependencies are `plotters`, with only the SVG backend and
//! line series, which draws the bench report's chart, and, for the soak
//! test, the Weft primitives themselves and `rand`; it still compiles in
//! seconds.

mod bench;
mod ci;
mod soak;

use std::env;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The usage text printed by `cargo xtask`, `cargo xtask help` and on errors.
const HELP: &str = "\
Weft's project tasks.

Usage: cargo xtask <TASK> [ARGS]

Tasks:
    bench [--quick] [--baseline FILE] [FILTER...]
        Run the criterion benchmarks in `benches/` and print one Markdown table
        comparing Weft with its peers. Writes `target/weft-bench/report.md`
        (also as `summary.md`), `report.json` (raw estimates) and `report.svg`
        (a chart of the ratios and thread sweeps).
          --quick           shorter, rougher run (about a minute after compiling)
          --baseline FILE   also print the change against an earlier report.json
          FILTER            a bench target (`mutex`) or an id prefix (`mutex/contended`)
    ci
        Run the checks that CI runs.
    soak [--secs N] [--seed S]
        Run every primitive at once for N seconds (default 60) under a random
        mix of operations and timeouts, checking invariants, with a watchdog
        that fails any operation hung for 20 s.
          --secs N          how long to run, in whole seconds
          --seed S          seed of the random choices (default: random, printed)
    help
        Print this help.
";

/// Dispatches to the task named by the first argument and reports its error, if any.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("help" | "--help" | "-h") => {
            print!("{HELP}");
            Ok(())
        }
        Some("bench") => bench::run(&args[1..]),
        Some("ci") => ci::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some(other) => Err(format!("unknown task `{other}`\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Returns the workspace root, the parent of this crate's directory.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Returns Cargo's target directory as an absolute path: `$CARGO_TARGET_DIR`
/// if it is set, otherwise `<workspace root>/target`.
///
/// Cargo reads a relative `$CARGO_TARGET_DIR` against the current directory,
/// so it is resolved against ours here; the child `cargo bench` then gets the
/// absolute path, because it runs from the workspace root instead. A
/// `build.target-dir` in Cargo's configuration is not consulted: Weft sets
/// none, and criterion's results land in the right place regardless,
/// because `run_cargo_bench` tells criterion where to write them.
pub(crate) fn target_dir(root: &Path) -> Result<PathBuf, String> {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                Ok(dir)
            } else {
                let current = env::current_dir()
                    .map_err(|error| format!("cannot read the current directory: {error}"))?;
                Ok(current.join(dir))
            }
        }
        _ => Ok(root.join("target")),
    }
}
