//! `cargo xtask ci [STEP...]`: every check CI runs, in CI's order.
//!
//! `.ci/run` is this task and nothing else, so a contributor reproduces CI
//! with one command; `cargo xtask ci --help` lists the steps and what each
//! runs, and `cargo xtask ci miri tsan` runs only the steps named. The
//! other-target, MSRV, loom, Miri and ThreadSanitizer builds each get their
//! own directory under Cargo's target directory, so they do not invalidate
//! each other or the normal build. The steps that need a toolchain, target
//! or component add it with rustup first, if it is missing.
//!
//! The soak runs in a child process built in release (see `soak.rs`), not
//! inside this one: a hang ends only the child, through the watchdog's
//! exit, while this process still reports the failed step and its time.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::ValueEnum;

use crate::metadata::Metadata;
use crate::{cargo, crossbeam_suite, soak, workspace_root};

/// Run the checks that CI runs: the steps named, or all of them, in the
/// order listed here.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The steps to run (default: all).
    #[arg(value_enum, value_name = "STEP")]
    steps: Vec<Step>,
}

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Step {
    /// `cargo fmt --all --check`.
    Fmt,
    /// `cargo clippy --workspace --all-targets -- -D warnings`.
    Clippy,
    /// The same clippy over the library crates' code and tests, `--target`
    /// each of Windows, macOS, FreeBSD, 32-bit and Arm Linux.
    TargetsClippy,
    /// `cargo check --lib` of the library crates on the workspace's
    /// `rust-version`.
    Msrv,
    /// `cargo doc --workspace --no-deps` with `RUSTDOCFLAGS=-D warnings`,
    /// then weft-mutex's docs with its `lock_api` feature.
    Doc,
    /// `cargo package` of every published crate, each `.crate` file built
    /// on its own as crates.io would.
    Package,
    /// The loom models (`tests/loom_*.rs`, and those in `src` under
    /// `cfg(all(test, loom))`), `--cfg loom`, release,
    /// `LOOM_MAX_PREEMPTIONS`, through nextest.
    Loom,
    /// The primitives' tests under Miri, strict provenance, 2 to 4 seeds
    /// each; then the `tests/races.rs` files with 32 seeds.
    Miri,
    /// The primitives' tests under Miri, one seed, `--target` each of
    /// Windows, macOS, FreeBSD, 32-bit and big-endian Linux: every futex
    /// back end.
    Targets,
    /// The primitives' tests under ThreadSanitizer (`-Zbuild-std`).
    Tsan,
    /// `cargo run -p weft-algorithms --example NAME` for every file in
    /// `algorithms/examples/`.
    Examples,
    /// `weft-soak --secs 60` in release: every primitive at once for a
    /// minute, with a watchdog.
    Soak,
    /// `cargo xtask crossbeam-suite`: crossbeam-channel's own tests,
    /// unchanged, against weft-queue.
    CrossbeamSuite,
    /// `cargo test --workspace`, the README's test command, last.
    Test,
}

/// The crates whose tests run under Miri and ThreadSanitizer (the
/// primitives; each later one adds itself here), with the number of Miri
/// seeds for each: every test runs once per seed, under a different
/// schedule. The heaviest suites get fewer seeds so that the whole Miri step
/// stays within a few minutes; the wake-up races get many more seeds of
/// their own ([`RACES_SEEDS`]), and the `targets` step runs every suite but
/// the algorithms' once more on each of five other targets, so a test of a
/// primitive runs under nine schedules in all.
const PRIMITIVES: &[(&str, u32)] = &[
    ("weft-futex", 4),
    ("weft-mutex", 4),
    ("weft-semaphore", 4),
    ("weft-barrier", 4),
    ("weft-queue", 2),
    ("weft-pool", 4),
    ("weft-algorithms", 2),
];

/// The crates with a `tests/races.rs`: the scenarios in which a blocked
/// thread must wake because the other side closed or went away, or because
/// its timeout raced a release. The `miri` step runs these files again
/// with [`RACES_SEEDS`] seeds, so that Miri tries many schedules and
/// weak-memory outcomes of these few small races.
const RACES_PACKAGES: &[&str] = &["weft-queue", "weft-semaphore", "weft-barrier", "weft-pool"];

/// Miri seeds for the `races` tests: as many as fit in about three minutes
/// on two cores.
const RACES_SEEDS: u32 = 32;

/// Preemption bound for loom: with 3, every model finishes within seconds;
/// unbounded, the 3-thread models run for many minutes.
const LOOM_MAX_PREEMPTIONS: &str = "3";

/// Miri's flags besides the seeds: strict provenance.
const MIRIFLAGS: &str = "-Zmiri-strict-provenance";

/// The targets besides the host that the `targets-clippy` step checks the
/// library crates for: the other futex back ends (Windows, macOS, FreeBSD),
/// a 32-bit Linux and an Arm Linux.
const TARGETS: &[&str] = &[
    "x86_64-pc-windows-msvc",
    "aarch64-apple-darwin",
    "x86_64-unknown-freebsd",
    "i686-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
];

/// The targets besides the host whose futex calls the `targets` step runs
/// under Miri: Windows' `WaitOnAddress`, macOS's `os_sync_*` and FreeBSD's
/// `_umtx_op`, and Linux's `futex` on a 32-bit and on a big-endian machine.
const MIRI_TARGETS: &[&str] = &[
    "x86_64-pc-windows-msvc",
    "aarch64-apple-darwin",
    "x86_64-unknown-freebsd",
    "i686-unknown-linux-gnu",
    "s390x-unknown-linux-gnu",
];

/// The crates whose test suites the `targets` step runs on each of
/// [`MIRI_TARGETS`]: every primitive, the algorithms aside (they only use
/// the primitives, and their suite is the slowest under Miri).
const MIRI_TARGETS_SUITES: &[&str] = &[
    "weft-futex",
    "weft-mutex",
    "weft-semaphore",
    "weft-barrier",
    "weft-queue",
    "weft-pool",
];

/// The package whose `examples/` directory CI runs.
const EXAMPLES_PACKAGE: &str = "weft-algorithms";

/// How long CI's soak runs, in seconds.
const SOAK_SECS: &str = "60";

/// Runs the steps named in `args`, or all of them; stops at the first
/// failure.
pub(crate) fn run(args: Args) -> Result<()> {
    let steps = Step::value_variants()
        .iter()
        .filter(|step| args.steps.is_empty() || args.steps.contains(step));
    let mut timings = Vec::new();
    for &step in steps {
        let name = step.to_possible_value().expect("no step is hidden");
        let name = name.get_name();
        println!("\n==> ci step `{name}`");
        let start = Instant::now();
        match step {
            Step::Fmt => run_cmd(cargo().args(["fmt", "--all", "--check"])),
            Step::Clippy => run_cmd(
                cargo()
                    .args(["clippy", "--workspace", "--all-targets"])
                    .args(LOCK_API)
                    .args(DENY_WARNINGS),
            ),
            Step::TargetsClippy => targets_clippy(),
            Step::Msrv => msrv(),
            // Without the optional features, then weft-mutex with its
            // `lock_api` feature, whose `RawMutex` docs exist only then.
            Step::Doc => run_cmd(
                cargo()
                    .args(["doc", "--workspace", "--no-deps"])
                    .env("RUSTDOCFLAGS", "-D warnings"),
            )
            .and_then(|()| {
                run_cmd(
                    cargo()
                        .args(["doc", "-p", "weft-mutex", "--no-deps"])
                        .args(LOCK_API)
                        .env("RUSTDOCFLAGS", "-D warnings"),
                )
            }),
            // Each `.crate` file is unpacked and built on its own, its
            // dependencies on the other crates taken from the `.crate` files
            // just made, so a file left out of a package, a path dependency
            // without a version or metadata crates.io refuses fails here,
            // not at publication.
            Step::Package => run_cmd(cargo().arg("package").args(package_args())),
            Step::Loom => loom(),
            Step::Miri => miri(),
            Step::Targets => targets(),
            Step::Tsan => tsan(),
            Step::Examples => examples(),
            Step::Soak => run_cmd(&mut soak::command(&["--secs", SOAK_SECS])),
            Step::CrossbeamSuite => crossbeam_suite::run(crossbeam_suite::Args::default()),
            Step::Test => run_cmd(cargo().args(["test", "--workspace"]).args(LOCK_API)),
        }
        .with_context(|| format!("ci step `{name}` failed"))?;
        timings.push((name.to_owned(), start.elapsed()));
    }

    println!("\n==> ci passed");
    for (step, time) in timings {
        println!("    {step:<14} {:>6.1} s", time.as_secs_f64());
    }
    Ok(())
}

/// weft-mutex's optional `lock_api` feature, for the steps that build and
/// test the primitives: its `RawMutex` and tests exist only with it. (The
/// `targets-clippy` step builds without it, so both configurations are
/// checked.)
const LOCK_API: [&str; 2] = ["--features", "weft-mutex/lock_api"];

/// Clippy's arguments that make every warning an error.
const DENY_WARNINGS: [&str; 3] = ["--", "-D", "warnings"];

/// Clippy on each of [`TARGETS`], over the library crates' code and tests:
/// code under another OS's `cfg` is otherwise never compiled here. Checking
/// needs only each target's standard library, not its linker. Every target
/// is checked, and the step fails naming those that did not pass.
fn targets_clippy() -> Result<()> {
    ensure_installed(
        &["target", "list", "--installed"],
        TARGETS,
        &["target", "add"],
    )?;
    let target_dir = target_dir("targets")?;
    for_each_target(TARGETS, "clippy", |target| {
        run_cmd(
            cargo()
                .args(["clippy", "--lib", "--tests", "--target", target])
                .args(package_args())
                .args(DENY_WARNINGS)
                .env("CARGO_TARGET_DIR", &target_dir),
        )
    })
}

/// `cargo check` of the library crates on the oldest Rust they promise, the
/// workspace's `rust-version`. Only `--lib`: the promise is to users of the
/// crates, who build only the libraries; the tests and their
/// dev-dependencies may use a newer Rust.
fn msrv() -> Result<()> {
    let metadata = Metadata::read()?;
    let futex = metadata.package("weft-futex")?;
    let toolchain = futex
        .rust_version
        .as_deref()
        .with_context(|| format!("no `rust-version` in {}", futex.manifest_path.display()))?;
    // `rustup toolchain list` prints `1.85-x86_64-unknown-linux-gnu`.
    let installed = rustup_output(&["toolchain", "list"])?;
    if !installed
        .lines()
        .any(|l| l.starts_with(&format!("{toolchain}-")))
    {
        println!("installing toolchain {toolchain}");
        run_cmd(Command::new("rustup").args([
            "toolchain",
            "install",
            toolchain,
            "--profile",
            "minimal",
        ]))?;
    }
    run_cmd(
        toolchain_cargo(toolchain)
            .args(["check", "--lib"])
            .args(package_args())
            .args(LOCK_API)
            .env("CARGO_TARGET_DIR", target_dir("msrv")?),
    )
}

/// The loom models. Loom aborts the process when a model fails, so each test
/// must run in its own process, which is what nextest does; without nextest
/// we fall back to `cargo test`, one process per test file.
fn loom() -> Result<()> {
    let has_nextest = cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let runner: &[&str] = if has_nextest {
        &["nextest", "run", "--no-fail-fast"]
    } else {
        println!("cargo-nextest not found: running loom models with `cargo test`");
        &["test"]
    };
    run_cmd(
        cargo()
            .args(runner)
            // `--lib` for the models of private parts, which live beside
            // them in `src` under `cfg(all(test, loom))`.
            .args(["--release", "--workspace", "--lib", "--test", "loom_*"])
            .env("RUSTFLAGS", "--cfg loom -D warnings")
            .env("LOOM_MAX_PREEMPTIONS", LOOM_MAX_PREEMPTIONS)
            .env("CARGO_TARGET_DIR", target_dir("loom")?),
    )
}

/// One Miri run per distinct seed count, each over the crates that use it;
/// then one of the `races` tests of [`RACES_PACKAGES`], with
/// [`RACES_SEEDS`] seeds.
fn miri() -> Result<()> {
    ensure_nightly_components()?;
    let mut seed_counts: Vec<u32> = PRIMITIVES.iter().map(|&(_, seeds)| seeds).collect();
    seed_counts.sort_unstable();
    seed_counts.dedup();
    for seeds in seed_counts {
        let packages = PRIMITIVES
            .iter()
            .filter(|&&(_, s)| s == seeds)
            .flat_map(|&(p, _)| ["-p", p]);
        run_cmd(
            miri_test(seeds)?
                .arg("--tests")
                .args(packages)
                .args(LOCK_API),
        )?;
    }
    run_cmd(
        miri_test(RACES_SEEDS)?
            .args(RACES_PACKAGES.iter().flat_map(|&p| ["-p", p]))
            .args(["--test", "races"]),
    )
}

/// `cargo miri test` with [`MIRIFLAGS`] and `seeds` seeds, in the Miri
/// target directory; the caller adds what to test.
fn miri_test(seeds: u32) -> Result<Command> {
    let mut cmd = toolchain_cargo("nightly");
    cmd.args(["miri", "test"])
        .env(
            "MIRIFLAGS",
            format!("{MIRIFLAGS} -Zmiri-many-seeds=0..{seeds}"),
        )
        .env("CARGO_TARGET_DIR", target_dir("miri")?);
    Ok(cmd)
}

/// The primitives' tests under Miri on each of [`MIRI_TARGETS`], one seed:
/// the only place in CI where another OS's futex calls run at all, on
/// Miri's model of that OS, and where the packed counters run 32 bits wide
/// and big-endian. Miri builds each target's standard library on its first
/// run. Every target runs, and the step fails naming those that did not
/// pass.
fn targets() -> Result<()> {
    ensure_nightly_components()?;
    for_each_target(MIRI_TARGETS, "Miri", |target| {
        run_cmd(
            miri_test(1)?
                .args(["--target", target, "--tests"])
                .args(MIRI_TARGETS_SUITES.iter().flat_map(|&p| ["-p", p]))
                .args(LOCK_API),
        )
    })
}

/// ThreadSanitizer needs the standard library built with it too, hence
/// `-Zbuild-std` and an explicit `--target`.
fn tsan() -> Result<()> {
    ensure_nightly_components()?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(&rustc)
        .arg("-vV")
        .output()
        .with_context(|| format!("cannot run {rustc}"))?;
    let host = String::from_utf8_lossy(&version.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .context("`rustc -vV` printed no host triple")?;
    run_cmd(
        toolchain_cargo("nightly")
            .args(["test", "-Zbuild-std", "--target", &host, "--tests"])
            .args(package_args())
            .args(LOCK_API)
            .env("RUSTFLAGS", "-Zsanitizer=thread")
            // A test asks for terabytes to check that a huge queue fails
            // with a panic; TSan's allocator must return null for it, as
            // the system allocator does, instead of aborting.
            .env("TSAN_OPTIONS", "allocator_may_return_null=1")
            .env("CARGO_TARGET_DIR", target_dir("tsan")?),
    )
}

/// Runs every example of [`EXAMPLES_PACKAGE`], found by listing its
/// `examples/` directory, so that a new example is run without being
/// registered anywhere. Each example's default sizes are small: the whole
/// step takes seconds.
fn examples() -> Result<()> {
    let dir = workspace_root().join("algorithms").join("examples");
    let mut names = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            if let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) {
                names.push(name.to_owned());
            }
        }
    }
    ensure!(!names.is_empty(), "no examples found in {}", dir.display());
    names.sort();
    for name in &names {
        println!("--> example `{name}`");
        run_cmd(cargo().args(["run", "-q", "-p", EXAMPLES_PACKAGE, "--example", name]))?;
    }
    Ok(())
}

/// Runs `check` for every target, and fails naming those it failed for.
fn for_each_target(
    targets: &[&str],
    what: &str,
    mut check: impl FnMut(&str) -> Result<()>,
) -> Result<()> {
    let mut failed = Vec::new();
    for &target in targets {
        println!("--> target `{target}`");
        if let Err(error) = check(target) {
            eprintln!("{error:#}");
            failed.push(target);
        }
    }
    ensure!(failed.is_empty(), "{what} failed for {}", failed.join(", "));
    Ok(())
}

/// `name` under Cargo's target directory: each special build gets its own.
fn target_dir(name: &str) -> Result<PathBuf> {
    Ok(Metadata::read()?.target_directory.join(name))
}

/// `-p crate` for every primitive.
fn package_args() -> Vec<&'static str> {
    PRIMITIVES.iter().flat_map(|&(p, _)| ["-p", p]).collect()
}

/// Miri and `-Zbuild-std` need the nightly's `miri` and `rust-src`
/// components.
fn ensure_nightly_components() -> Result<()> {
    ensure_installed(
        &["component", "list", "--toolchain", "nightly", "--installed"],
        &["miri", "rust-src"],
        &["component", "add", "--toolchain", "nightly"],
    )
}

/// Adds with `rustup <add...>` those of `wanted` that `rustup <list...>`
/// does not print at the start of a line. Rustup, started by our cargo,
/// works on the toolchain this task runs on (it finds it in
/// `RUSTUP_TOOLCHAIN`) unless `--toolchain` says otherwise.
fn ensure_installed(list: &[&str], wanted: &[&str], add: &[&str]) -> Result<()> {
    let installed = rustup_output(list)?;
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !installed.lines().any(|l| l.starts_with(w)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("rustup {}: {}", add.join(" "), missing.join(" "));
    run_cmd(Command::new("rustup").args(add).args(&missing))
}

/// The standard output of `rustup <args>`; empty if it fails, as a list of
/// what is installed does for a toolchain that is not.
fn rustup_output(args: &[&str]) -> Result<String> {
    let output = Command::new("rustup")
        .args(args)
        .output()
        .context("cannot run rustup")?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Cargo on `toolchain`, through rustup (`$CARGO` is the stable toolchain's
/// own binary and does not understand `+nightly`).
fn toolchain_cargo(toolchain: &str) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", toolchain, "cargo"])
        .current_dir(workspace_root());
    // The stable cargo that started us exports its own toolchain and flags.
    cmd.env_remove("RUSTUP_TOOLCHAIN").env_remove("RUSTC");
    cmd
}

/// Runs `cmd` with inherited output; an error names the command.
fn run_cmd(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    let took = seconds(start.elapsed());
    if !status.success() {
        bail!("{shown} failed ({status}) after {took}");
    }
    println!("    ok in {took}");
    Ok(())
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}
