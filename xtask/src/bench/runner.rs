//! Running the benches: `cargo bench` to compile them, to list their
//! benchmarks and to measure them, with criterion's output read line by
//! line as it comes.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;

use anyhow::{Context, Result, bail, ensure};

use super::criterion::{finished_benchmark, listed_ids};
use super::progress::Progress;
use super::targets::{BENCH_PACKAGE, Selection};
use crate::cargo;

/// Criterion arguments for every measuring run, whatever the mode: no HTML
/// plots (the task draws its own chart), and plain text to parse.
const RUN_ARGS: &[&str] = &["--noplot", "--color", "never"];

/// Starts `cargo bench` the way every step needs it, with criterion told
/// where to write.
#[derive(Debug)]
pub(crate) struct Runner {
    /// Cargo's target directory, as `cargo metadata` gives it.
    pub(crate) target_dir: PathBuf,
    /// Where criterion saves its results.
    pub(crate) criterion_dir: PathBuf,
}

impl Runner {
    /// Builds `$CARGO <args>`, run from the workspace root.
    ///
    /// `CRITERION_HOME` tells criterion where to save its results, so that it
    /// writes exactly where `read_results` looks. The target directory is
    /// passed on as an absolute path, since a relative `$CARGO_TARGET_DIR`
    /// was meant against the user's directory, not the workspace root.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = cargo();
        command
            .args(args)
            .env("CRITERION_HOME", &self.criterion_dir)
            .env("CARGO_TARGET_DIR", &self.target_dir);
        command
    }

    /// Compiles the selected bench targets, with Cargo's output shown.
    pub(crate) fn compile(&self, selections: &[Selection]) -> Result<()> {
        let mut args = vec!["bench", "-p", BENCH_PACKAGE, "--no-run"];
        for selection in selections {
            args.extend(["--bench", selection.target.as_str()]);
        }
        eprintln!("$ cargo {}", args.join(" "));
        let status = self.command(&args).status().context("cannot run cargo")?;
        check_status(status, "`cargo bench --no-run`")
    }

    /// Returns the ids of the benchmarks `selection` will run, from
    /// criterion's `--list`, which prints them without measuring anything.
    pub(crate) fn list(&self, selection: &Selection) -> Result<Vec<String>> {
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
        let output = self.command(&args).output().context("cannot run cargo")?;
        ensure!(
            output.status.success(),
            "listing the benchmarks of `{}` failed ({}):\n{}",
            selection.target,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(listed_ids(&String::from_utf8_lossy(&output.stdout)))
    }

    /// Runs the benchmarks of `selection` (only the one with id `exact`, if
    /// given) with criterion's `mode_args`, printing one progress line per
    /// finished benchmark and copying everything criterion prints to `log`.
    ///
    /// Criterion prints a `time:` line per result on standard output, and
    /// its running commentary (`Benchmarking ...: Warming up`) on standard
    /// error. Both are read line by line as they come: results become
    /// progress lines, and of the commentary only what is not routine
    /// (warnings, panics, Cargo's errors) reaches the terminal.
    pub(crate) fn run(
        &self,
        selection: &Selection,
        exact: Option<&str>,
        mode_args: &[&str],
        progress: &mut Progress,
        log: &File,
    ) -> Result<()> {
        let mut args = vec![
            "bench",
            "-q",
            "-p",
            BENCH_PACKAGE,
            "--bench",
            &selection.target,
            "--",
        ];
        args.extend(mode_args);
        args.extend(RUN_ARGS);
        match exact {
            Some(id) => args.extend(["--exact", id]),
            None => args.extend(selection.criterion_filter.as_deref()),
        }
        log_line(log, &format!("$ cargo {}", args.join(" ")));

        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run cargo")?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        // The clone shares the file offset, so both streams append to the log.
        let stderr_log = log.try_clone().context("cannot share the output log")?;
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
            if let Some(finished) = finished_benchmark(&line, &previous) {
                progress.finished(&finished);
            } else if line.starts_with("Warning") {
                eprintln!("{line}");
            }
            previous = line;
        }

        let forwarded = forwarder.join();
        let status = child.wait().context("cannot wait for cargo")?;
        if forwarded.is_err() {
            bail!("the thread copying criterion's error output panicked");
        }
        check_status(
            status,
            &format!("`cargo bench --bench {}`", selection.target),
        )
    }
}

/// Turns a child's exit status into an error naming `what` failed.
fn check_status(status: ExitStatus, what: &str) -> Result<()> {
    match status.code() {
        _ if status.success() => Ok(()),
        Some(code) => bail!("{what} failed with exit code {code}"),
        None => bail!("{what} was terminated by a signal"),
    }
}

/// Appends `line` to the output log. A log that cannot be written is not
/// worth failing the run for, so errors are ignored.
fn log_line(mut log: &File, line: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
