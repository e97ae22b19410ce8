//! `cargo xtask soak [--secs N] [--seed S]`: runs the soak test, the
//! `weft-soak` binary (`soak/`), built in release.
//!
//! Optimized, the primitives run at the speed users get them, with race
//! windows as narrow as theirs, and make more operations in the time (the
//! debug assertions already run in the tests). The arguments go to
//! `weft-soak` as they are, so its `--help` is the one that describes them.

use std::process::Command;

use anyhow::{Context, Result, ensure};

use crate::cargo;

/// Run every primitive at once for N seconds (default 60) under a random
/// mix of operations and timeouts, checking invariants, with a watchdog
/// that fails any operation hung for 20 s.
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub(crate) struct Args {
    /// The soak's arguments: `--secs N`, `--seed S`, `--help`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Runs the soak with the given arguments.
pub(crate) fn run(args: Args) -> Result<()> {
    let status = command(&args.args).status().context("cannot run cargo")?;
    ensure!(status.success(), "the soak failed ({status})");
    Ok(())
}

/// `cargo run --release -p weft-soak -- <args>`.
pub(crate) fn command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut command = cargo();
    command
        .args(["run", "--release", "-p", "weft-soak", "--"])
        .args(args);
    command
}
