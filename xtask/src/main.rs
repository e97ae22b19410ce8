//! Weft's project tasks, run as `cargo xtask <task>` (see the alias in
//! `.cargo/config.toml`).
//!
//! One module per task, in the style of rust-analyzer's xtask: `bench`
//! (with its parts in `bench/`), `ci`, `crossbeam_suite` (with its parts
//! in `crossbeam_suite/`) and `soak`. Each task declares its
//! command line once, with clap's derive, so its help and its parsing
//! cannot drift apart. `metadata` asks Cargo about the workspace, and every
//! child process runs through the `$CARGO` that started this one.

mod bench;
mod ci;
mod crossbeam_suite;
mod metadata;
mod soak;

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{CommandFactory, Parser, Subcommand};

/// Weft's project tasks.
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Option<Task>,
}

/// The tasks, one module each.
#[derive(Debug, Subcommand)]
enum Task {
    Bench(bench::Args),
    Ci(ci::Args),
    CrossbeamSuite(crossbeam_suite::Args),
    Soak(soak::Args),
}

/// Runs the task named on the command line, or prints the help if none is;
/// an error is printed on one line with its causes.
fn main() -> ExitCode {
    let result = match Cli::parse().task {
        Some(Task::Bench(args)) => bench::run(args),
        Some(Task::Ci(args)) => ci::run(args),
        Some(Task::CrossbeamSuite(args)) => crossbeam_suite::run(args),
        Some(Task::Soak(args)) => soak::run(args),
        None => Cli::command().print_help().map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Returns the workspace root, the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The cargo that runs this task: `$CARGO`, or `cargo` from the `PATH`.
fn cargo_program() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// A cargo command that runs from the workspace root.
fn cargo() -> Command {
    let mut command = Command::new(cargo_program());
    command.current_dir(workspace_root());
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_declarations_are_consistent() {
        Cli::command().debug_assert();
    }
}
