//! `cargo xtask crossbeam-suite [--only FILE,...]`: crossbeam-channel's own
//! test suite, unchanged, run against weft-queue.
//!
//! weft-queue follows crossbeam-channel's API and semantics, and
//! crossbeam-channel's tests are the most thorough statement of them. So
//! this task:
//!
//! 1. finds the crossbeam-channel source that `Cargo.lock` pins (it is a
//!    peer in the benchmarks): `cargo fetch`, then the package's directory
//!    from `cargo metadata`;
//! 2. writes a throw-away crate to `<target>/crossbeam-suite/`
//!    (`generate.rs`): a package named `crossbeam-channel` whose library is
//!    weft-queue re-exported under crossbeam's names, with crossbeam's
//!    `tests/*.rs` copied in as they are and the dependencies they use;
//! 3. builds its test files with `--keep-going`, so that a file that does
//!    not compile fails alone, shown with its first errors;
//! 4. runs the test binaries, a few at once, each with the tests of
//!    [`SKIPS`] left out, stopping a file that runs past [`FILE_TIMEOUT`],
//!    and shows each file's output but the lines of passing tests as it
//!    ends; then runs each test that failed once more, alone
//!    ([`retry_alone`] says why);
//! 5. prints a line per file and the totals (`results.rs`). It fails if a
//!    test failed (alone too), a file did not compile or a file timed out.
//!
//! Nothing of crossbeam's is copied into the project: the suite is read
//! from Cargo's cache of the pinned release, so updating crossbeam-channel
//! in `Cargo.lock` updates the suite too.

mod generate;
mod results;
mod skips;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use self::results::{End, FileResult, Outcome};
use self::skips::SKIPS;
use crate::metadata::Metadata;
use crate::{cargo, cargo_program};

/// The package whose suite runs.
const PACKAGE: &str = "crossbeam-channel";

/// The directory under Cargo's target directory that holds the generated
/// crate (and, in `target/` inside it, its build).
const SUITE_DIR: &str = "crossbeam-suite";

/// How long one test file may run before it is stopped and counted as
/// failed: several times what the slowest file needs, so that only a hang
/// reaches it.
const FILE_TIMEOUT: Duration = Duration::from_secs(120);

/// How many test files run at once unless `--jobs` says otherwise.
const DEFAULT_JOBS: NonZeroUsize = NonZeroUsize::new(4).expect("4 is not zero");

/// How many tests of one file run at once (libtest's `--test-threads`).
/// The suite's slow tests mostly sleep, waiting out timeouts, so more of
/// them than cores fit.
const TEST_THREADS: &str = "4";

/// The files whose tests run one at a time: `golang.rs`'s `select2` counts
/// the bytes the whole process holds through a counting allocator, and
/// fails when tests running beside it allocate (crossbeam-channel's own
/// run of that file fails the same way with four test threads).
const SERIAL_FILES: &[&str] = &["golang"];

/// Run crossbeam-channel's own tests (its tests/*.rs, unchanged) against
/// weft-queue, leaving out only the tests of behaviour that weft-queue
/// documents as different ("Differences from crossbeam-channel" in its
/// README).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only these test files, named without `.rs`: `--only array,list`.
    #[arg(long, value_delimiter = ',', value_name = "FILE")]
    only: Vec<String>,

    /// Print the tests left out, with the reason for each, and exit.
    #[arg(long)]
    list_skips: bool,

    /// How many test files run at once. Most of the suite's time is spent
    /// in sleeps and timeouts, so more files than cores fit.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_JOBS)]
    jobs: NonZeroUsize,
}

impl Default for Args {
    /// Every file, as CI runs them.
    fn default() -> Self {
        Self {
            only: Vec::new(),
            list_skips: false,
            jobs: DEFAULT_JOBS,
        }
    }
}

/// Runs the suite, or the files of `--only`.
pub(crate) fn run(args: Args) -> Result<()> {
    if args.list_skips {
        for skip in SKIPS {
            println!("{}::{}\n    {}", skip.file, skip.test, skip.why);
        }
        return Ok(());
    }
    let start = Instant::now();
    let source = crossbeam_source()?;
    let suite_dir = Metadata::read()?.target_directory.join(SUITE_DIR);
    let files = generate::write_crate(&source, &suite_dir)?;
    let files = select(files, &args.only)?;
    println!(
        "crossbeam-suite: {} test files of {PACKAGE} {}, in {}",
        files.len(),
        source.version,
        suite_dir.display()
    );

    let built = build(&suite_dir, &files)?;
    let mut results = run_all(&suite_dir, &built, args.jobs.get())?;
    retry_alone(&suite_dir, &built, &mut results)?;

    println!("\n{}", results::table(&results));
    let totals = results::Totals::of(&results);
    println!("{}", totals.line());
    println!("    in {:.1} s", start.elapsed().as_secs_f64());
    ensure!(
        totals.is_success(),
        "crossbeam-channel's suite failed against weft-queue: {}",
        results::failed_files(&results).join(", ")
    );
    Ok(())
}

/// Where the pinned crossbeam-channel is, and what it declares.
struct Source {
    /// The release, such as `0.5.17`.
    version: String,
    /// Its edition, which its tests are written in.
    edition: String,
    /// The directory with its `Cargo.toml` and `tests/`.
    dir: PathBuf,
    /// What the tests may use besides the library: its dev-dependencies and
    /// its non-optional dependencies, as `(name, requirement)`.
    test_dependencies: Vec<(String, String)>,
}

/// Downloads what `Cargo.lock` pins (nothing, if Cargo's cache has it) and
/// finds crossbeam-channel in it.
fn crossbeam_source() -> Result<Source> {
    let status = cargo()
        .arg("fetch")
        .status()
        .context("cannot run `cargo fetch`")?;
    ensure!(status.success(), "`cargo fetch` failed ({status})");
    let metadata = Metadata::read_with_dependencies()?;
    let mut found = metadata.packages.iter().filter(|p| p.name == PACKAGE);
    let package = found
        .next()
        .with_context(|| format!("Cargo.lock pins no {PACKAGE}"))?;
    ensure!(
        found.next().is_none(),
        "Cargo.lock pins several versions of {PACKAGE}"
    );
    let dir = package
        .manifest_path
        .parent()
        .context("a manifest path without a directory")?
        .to_path_buf();
    let test_dependencies = package
        .dependencies
        .iter()
        .filter(|d| d.kind.as_deref() == Some("dev") || (d.kind.is_none() && !d.optional))
        .map(|d| (d.name.clone(), d.req.clone()))
        .collect();
    Ok(Source {
        version: package.version.clone(),
        edition: package.edition.clone(),
        dir,
        test_dependencies,
    })
}

/// The files of `only` (all of `files` if it is empty), checked to exist.
fn select(files: Vec<String>, only: &[String]) -> Result<Vec<String>> {
    if only.is_empty() {
        return Ok(files);
    }
    for name in only {
        ensure!(
            files.contains(name),
            "{PACKAGE} has no test file `{name}.rs`; it has: {}",
            files.join(", ")
        );
    }
    Ok(files.into_iter().filter(|f| only.contains(f)).collect())
}

/// What building one test file gave: its executable, or its first errors.
#[derive(Debug)]
struct Built {
    file: String,
    executable: Result<PathBuf, String>,
}

/// Builds the test files with `--keep-going`, reading Cargo's JSON messages
/// for each file's executable or errors; returns them in the order of
/// `files`.
fn build(suite_dir: &Path, files: &[String]) -> Result<Vec<Built>> {
    let output = Command::new(cargo_program())
        .args(["build", "--keep-going", "--message-format=json"])
        .args(files.iter().flat_map(|f| ["--test", f.as_str()]))
        .current_dir(suite_dir)
        .env("CARGO_TARGET_DIR", suite_dir.join("target"))
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run `cargo build` for the suite")?;
    let mut built: Vec<Built> = Vec::new();
    // Errors by target: `(is a test file, name, rendered message)`.
    let mut errors: Vec<(bool, String, String)> = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let target = &message["target"];
        let is_test = target["kind"] == serde_json::json!(["test"]);
        let Some(name) = target["name"].as_str() else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") if is_test => {
                if let Some(exe) = message["executable"].as_str() {
                    built.push(Built {
                        file: name.to_owned(),
                        executable: Ok(PathBuf::from(exe)),
                    });
                }
            }
            Some("compiler-message") if message["message"]["level"] == "error" => {
                let rendered = message["message"]["rendered"].as_str().unwrap_or_default();
                errors.push((is_test, name.to_owned(), rendered.to_owned()));
            }
            _ => {}
        }
    }
    // A library that fails (weft-queue, or a dependency) fails every file.
    let other: Vec<String> = errors
        .iter()
        .filter(|(is_test, ..)| !is_test)
        .map(|(_, name, text)| format!("in {name}: {text}"))
        .take(3)
        .collect();
    ensure!(
        other.is_empty(),
        "the suite's libraries do not compile:\n{}",
        other.concat()
    );
    for file in files {
        if built.iter().any(|b| &b.file == file) {
            continue;
        }
        let first: Vec<&str> = errors
            .iter()
            .filter(|(_, name, _)| name == file)
            .map(|(.., text)| text.as_str())
            .take(3)
            .collect();
        ensure!(
            !first.is_empty() || output.status.success(),
            "`cargo build` of the suite failed before reaching `{file}.rs` ({})",
            output.status
        );
        built.push(Built {
            file: file.clone(),
            executable: Err(first.concat()),
        });
    }
    built.sort_by_key(|b| files.iter().position(|f| *f == b.file));
    Ok(built)
}

/// Runs the test files that compiled, `jobs` at a time, each one's output
/// shown when it ends; returns every file's result, in `built`'s order.
fn run_all(suite_dir: &Path, built: &[Built], jobs: usize) -> Result<Vec<FileResult>> {
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new(built.iter().map(|_| None).collect());
    thread::scope(|s| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, Relaxed);
                        let Some(file) = built.get(i) else {
                            return Ok(());
                        };
                        let outcome = match &file.executable {
                            Ok(exe) => {
                                let (outcome, shown) = run_file(suite_dir, &file.file, exe)?;
                                print!("\n--> {}.rs\n{shown}", file.file);
                                outcome
                            }
                            Err(errors) => Outcome::NotCompiled(errors.clone()),
                        };
                        lock(&outcomes)[i] = Some(outcome);
                    }
                })
            })
            .collect();
        for worker in workers {
            match worker.join() {
                Ok(result) => result?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok::<_, anyhow::Error>(())
    })?;
    let outcomes = outcomes
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    Ok(built
        .iter()
        .zip(outcomes)
        .map(|(built, outcome)| FileResult {
            file: built.file.clone(),
            outcome: outcome.expect("every file was run"),
        })
        .collect())
}

/// Runs each test that failed while other tests ran beside it once more,
/// alone. Many of the suite's tests are races against the clock (a 50 ms
/// timer must fire before a 100 ms one, a spinning thread must meet a
/// sleeping one within 500 ms), which assume that a thread runs within
/// tens of milliseconds of becoming ready; with four files at once on two
/// cores, it sometimes does not. A test that fails alone too has failed;
/// one that passes alone counts as passed, and the report names it.
fn retry_alone(suite_dir: &Path, built: &[Built], results: &mut [FileResult]) -> Result<()> {
    for (result, built) in results.iter_mut().zip(built) {
        let (Outcome::Ran(counts), Ok(exe)) = (&mut result.outcome, &built.executable) else {
            continue;
        };
        // A file that crashed or hung is not retried: its failure is not a
        // lost race.
        if counts.problem.is_some() {
            continue;
        }
        for test in counts.failures.clone() {
            println!("\n--> {}.rs, `{test}` alone", result.file);
            let mut command = Command::new(exe);
            command
                .current_dir(suite_dir)
                .args(["--test-threads", "1", "--exact", &test]);
            let (outcome, shown) = run_test_binary(command, &result.file, exe)?;
            print!("{shown}");
            if let Outcome::Ran(alone) = outcome
                && alone.passed == 1
                && alone.failed == 0
                && alone.problem.is_none()
            {
                counts.passed_alone(&test);
            }
        }
    }
    Ok(())
}

/// `mutex`'s guard; a panic elsewhere does not make its data unusable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs one test binary without the tests skipped for `file`, and stops it
/// after [`FILE_TIMEOUT`]; returns what became of it, and its output
/// without the lines of passing tests, to show.
fn run_file(suite_dir: &Path, file: &str, exe: &Path) -> Result<(Outcome, String)> {
    let mut command = Command::new(exe);
    let threads = if SERIAL_FILES.contains(&file) {
        "1"
    } else {
        TEST_THREADS
    };
    command
        .current_dir(suite_dir)
        .args(["--test-threads", threads, "--exact"]);
    for skip in SKIPS.iter().filter(|s| s.file == file) {
        command.args(["--skip", skip.test]);
    }
    run_test_binary(command, file, exe)
}

/// Runs `command`, a test binary of `file` (at `exe`), and stops it after
/// [`FILE_TIMEOUT`]; returns what became of it, and its output without the
/// lines of passing tests, to show.
fn run_test_binary(mut command: Command, file: &str, exe: &Path) -> Result<(Outcome, String)> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    let stdout = child.stdout.take().context("no pipe from the test")?;
    let stderr = child.stderr.take().context("no pipe from the test")?;
    let read_stdout = thread::spawn(move || read_all(stdout));
    let read_stderr = thread::spawn(move || read_all(stderr));
    let status = wait_or_kill(&mut child, FILE_TIMEOUT)?;
    let (Ok(text), Ok(errors)) = (read_stdout.join(), read_stderr.join()) else {
        bail!("the reader of {file}'s output panicked");
    };
    let end = match status {
        Some(status) if status.success() => End::Passed,
        Some(status) => End::Failed(status.to_string()),
        None => End::TimedOut(FILE_TIMEOUT),
    };
    let mut shown: String = text
        .lines()
        .filter(|line| !results::is_passing_line(line))
        .flat_map(|line| [line, "\n"])
        .collect();
    shown.push_str(&errors);
    Ok((results::parse(&text, &end), shown))
}

/// Everything `pipe` gives until it closes, as text.
fn read_all(pipe: impl Read) -> String {
    let mut text = String::new();
    for line in BufReader::new(pipe).lines().map_while(Result::ok) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// Waits for `child` up to `timeout`; kills it and returns `None` if it
/// is still running then.
fn wait_or_kill(child: &mut Child, timeout: Duration) -> Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            child.kill().context("cannot stop a test file")?;
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Removes `dir` and everything in it, if it exists.
fn remove_dir(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", dir.display()))
        }
        _ => Ok(()),
    }
}
