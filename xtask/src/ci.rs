//! `cargo xtask ci`: every check CI runs, in CI's order.
//!
//! `.ci/run` is this task and nothing else, so a contributor reproduces CI
//! with one command. The steps:
//!
//! | step     | what it runs |
//! |----------|--------------|
//! | `fmt`    | `cargo fmt --all --check` |
//! | `clippy` | `cargo clippy --workspace --all-targets -- -D warnings` |
//! | `targets-clippy` | the same clippy, library crates' code and tests, `--target` each of Windows, macOS, FreeBSD, 32-bit and Arm Linux |
//! | `msrv`   | `cargo check --lib` of the library crates on the `rust-version` of the root `Cargo.toml` |
//! | `doc`    | `cargo doc --workspace --no-deps` with `RUSTDOCFLAGS=-D warnings` |
//! | `package` | `cargo package` of every published crate, each `.crate` file built on its own as crates.io would |
//! | `loom`   | the `tests/loom_*.rs` models, `--cfg loom`, release, `LOOM_MAX_PREEMPTIONS`, through nextest |
//! | `miri`   | the primitives' tests under Miri, strict provenance, 4 to 8 seeds each; then the `tests/races.rs` files with 32 seeds |
//! | `targets` | the primitives' tests under Miri, one seed, `--target` each of Windows, macOS, FreeBSD, 32-bit and big-endian Linux: every futex back end |
//! | `tsan`   | the primitives' tests under ThreadSanitizer (`-Zbuild-std`) |
//! | `examples` | `cargo run -p weft-algorithms --example NAME` for every file in `algorithms/examples/` |
//! | `soak`   | `cargo run --release -p xtask -- soak --secs 60`: every primitive at once for a minute, with a watchdog (see `soak.rs`) |
//! | `test`   | `cargo test --workspace`, the README's test command, last |
//!
//! `cargo xtask ci miri tsan` runs only the steps named. The other-target,
//! MSRV, loom, Miri and ThreadSanitizer builds each get their own target
//! directory under `target/`, so they do not invalidate each other or the
//! normal build. The steps that need a toolchain, target or component add it
//! with rustup first, if it is missing.
//!
//! The soak runs in a child process built in release, not inside this one.
//! Optimized, the primitives run at the speed users get them, with race
//! windows as narrow as theirs, and make more operations in the minute
//! (the debug assertions already run in the `test`, `miri` and `tsan`
//! steps). And a hang ends only the child, through the watchdog's exit,
//! while this process still reports the failed step and its time. The cost
//! is one release build of xtask and the primitives.

use std::path::PathBuf;
use std::process::Command;

use crate::workspace_root;
use std::time::{Duration, Instant};

/// The crates whose tests run under Miri and ThreadSanitizer (the
/// primitives; each later one adds itself here), with the number of Miri
/// seeds for each: every test runs once per seed, under a different
/// schedule. The heaviest suites get fewer seeds so that the whole Miri step
/// stays within a few minutes; the wake-up races get many more seeds of
/// their own ([`RACES_SEEDS`]), and the `targets` step runs the suites once
/// more on other targets.
const PRIMITIVES: &[(&str, u32)] = &[
    ("weft-futex", 8),
    ("weft-mutex", 8),
    ("weft-semaphore", 8),
    ("weft-barrier", 8),
    ("weft-queue", 4),
    ("weft-pool", 8),
    ("weft-algorithms", 4),
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

/// All the steps, in the order they run.
const STEPS: &[&str] = &[
    "fmt",
    "clippy",
    "targets-clippy",
    "msrv",
    "doc",
    "package",
    "loom",
    "miri",
    "targets",
    "tsan",
    "examples",
    "soak",
    "test",
];

/// Runs the steps named in `args`, or all of them; stops at the first
/// failure.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let steps: Vec<&str> = if args.is_empty() {
        STEPS.to_vec()
    } else {
        for arg in args {
            if !STEPS.contains(&arg.as_str()) {
                return Err(format!(
                    "unknown CI step `{arg}`; the steps are: {}",
                    STEPS.join(", ")
                ));
            }
        }
        STEPS
            .iter()
            .copied()
            .filter(|s| args.iter().any(|a| a == s))
            .collect()
    };

    let mut timings = Vec::new();
    for step in steps {
        println!("\n==> ci step `{step}`");
        let start = Instant::now();
        match step {
            "fmt" => fmt()?,
            "clippy" => clippy()?,
            "targets-clippy" => targets_clippy()?,
            "msrv" => msrv()?,
            "doc" => doc()?,
            "package" => package()?,
            "loom" => loom()?,
            "miri" => miri()?,
            "targets" => targets()?,
            "tsan" => tsan()?,
            "examples" => examples()?,
            "soak" => soak()?,
            "test" => test()?,
            _ => unreachable!("steps are checked above"),
        }
        timings.push((step, start.elapsed()));
    }

    println!("\n==> ci passed");
    for (step, time) in timings {
        println!("    {step:<14} {:>6.1} s", time.as_secs_f64());
    }
    Ok(())
}

fn fmt() -> Result<(), String> {
    run_cmd(cargo().args(["fmt", "--all", "--check"]))
}

fn clippy() -> Result<(), String> {
    run_cmd(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

/// Clippy on each of [`TARGETS`], over the library crates' code and tests:
/// code under another OS's `cfg` is otherwise never compiled here. Checking
/// needs only each target's standard library, not its linker. Every target
/// is checked, and the step fails naming those that did not pass.
fn targets_clippy() -> Result<(), String> {
    ensure_targets()?;
    let target_dir = target_dir()?.join("targets");
    let mut failed = Vec::new();
    for &target in TARGETS {
        println!("--> target `{target}`");
        let checked = run_cmd(
            cargo()
                .args(["clippy", "--lib", "--tests", "--target", target])
                .args(package_args())
                .args(["--", "-D", "warnings"])
                .env("CARGO_TARGET_DIR", &target_dir),
        );
        if let Err(e) = checked {
            eprintln!("{e}");
            failed.push(target);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("clippy failed for {}", failed.join(", ")))
    }
}

/// `cargo check` of the library crates on the oldest Rust they promise, the
/// workspace's `rust-version`. Only `--lib`: the promise is to users of the
/// crates, who build only the libraries; the tests and their
/// dev-dependencies may use a newer Rust.
fn msrv() -> Result<(), String> {
    let toolchain = rust_version()?;
    ensure_toolchain(&toolchain)?;
    run_cmd(
        toolchain_cargo(&toolchain)
            .args(["check", "--lib"])
            .args(package_args())
            .env("CARGO_TARGET_DIR", target_dir()?.join("msrv")),
    )
}

fn doc() -> Result<(), String> {
    run_cmd(
        cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
}

/// `cargo package` of the library crates: each `.crate` file is unpacked
/// and built on its own, its dependencies on the other crates taken from
/// the `.crate` files just made, so a file left out of a package, a path
/// dependency without a version or metadata crates.io refuses fails here,
/// not at publication.
fn package() -> Result<(), String> {
    run_cmd(cargo().arg("package").args(package_args()))
}

/// The loom models. Loom aborts the process when a model fails, so each test
/// must run in its own process, which is what nextest does; without nextest
/// we fall back to `cargo test`, one process per test file.
fn loom() -> Result<(), String> {
    let runner: &[&str] = if has_nextest() {
        &["nextest", "run", "--no-fail-fast"]
    } else {
        println!("cargo-nextest not found: running loom models with `cargo test`");
        &["test"]
    };
    run_cmd(
        cargo()
            .args(runner)
            .args(["--release", "--workspace", "--test", "loom_*"])
            .env("RUSTFLAGS", "--cfg loom -D warnings")
            .env("LOOM_MAX_PREEMPTIONS", LOOM_MAX_PREEMPTIONS)
            .env("CARGO_TARGET_DIR", target_dir()?.join("loom")),
    )
}

/// One Miri run per distinct seed count, each over the crates that use it;
/// then one of the `races` tests of [`RACES_PACKAGES`], with
/// [`RACES_SEEDS`] seeds.
fn miri() -> Result<(), String> {
    ensure_nightly_components()?;
    let mut seed_counts: Vec<u32> = PRIMITIVES.iter().map(|&(_, seeds)| seeds).collect();
    seed_counts.sort_unstable();
    seed_counts.dedup();
    for seeds in seed_counts {
        let packages = PRIMITIVES
            .iter()
            .filter(|&&(_, s)| s == seeds)
            .flat_map(|&(p, _)| ["-p", p]);
        run_cmd(miri_test(seeds)?.arg("--tests").args(packages))?;
    }
    run_cmd(
        miri_test(RACES_SEEDS)?
            .args(RACES_PACKAGES.iter().flat_map(|&p| ["-p", p]))
            .args(["--test", "races"]),
    )
}

/// `cargo miri test` with [`MIRIFLAGS`] and `seeds` seeds, in the Miri
/// target directory; the caller adds what to test.
fn miri_test(seeds: u32) -> Result<Command, String> {
    let mut cmd = nightly_cargo();
    cmd.args(["miri", "test"])
        .env(
            "MIRIFLAGS",
            format!("{MIRIFLAGS} -Zmiri-many-seeds=0..{seeds}"),
        )
        .env("CARGO_TARGET_DIR", target_dir()?.join("miri"));
    Ok(cmd)
}

/// The primitives' tests under Miri on each of [`MIRI_TARGETS`], one seed:
/// the only place in CI where another OS's futex calls run at all, on
/// Miri's model of that OS, and where the packed counters run 32 bits wide
/// and big-endian. About four minutes on two cores, once Miri has built
/// each target's standard library (the first run does, a few minutes a
/// target). Every target runs, and the step fails naming those that did
/// not pass.
fn targets() -> Result<(), String> {
    ensure_nightly_components()?;
    let mut failed = Vec::new();
    for &target in MIRI_TARGETS {
        println!("--> target `{target}`");
        let run = run_cmd(
            miri_test(1)?
                .args(["--target", target, "--tests"])
                .args(MIRI_TARGETS_SUITES.iter().flat_map(|&p| ["-p", p])),
        );
        if let Err(e) = run {
            eprintln!("{e}");
            failed.push(target);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("Miri failed for {}", failed.join(", ")))
    }
}

/// ThreadSanitizer needs the standard library built with it too, hence
/// `-Zbuild-std` and an explicit `--target`.
fn tsan() -> Result<(), String> {
    ensure_nightly_components()?;
    let target = host_triple()?;
    run_cmd(
        nightly_cargo()
            .args(["test", "-Zbuild-std", "--target", &target, "--tests"])
            .args(package_args())
            .env("RUSTFLAGS", "-Zsanitizer=thread")
            // A test asks for terabytes to check that a huge queue fails
            // with a panic; TSan's allocator must return null for it, as
            // the system allocator does, instead of aborting.
            .env("TSAN_OPTIONS", "allocator_may_return_null=1")
            .env("CARGO_TARGET_DIR", target_dir()?.join("tsan")),
    )
}

/// The package whose `examples/` directory CI runs.
const EXAMPLES_PACKAGE: &str = "weft-algorithms";

/// Runs every example of [`EXAMPLES_PACKAGE`], found by listing its
/// `examples/` directory, so that a new example is run without being
/// registered anywhere. Each example's default sizes are small: the whole
/// step takes seconds.
fn examples() -> Result<(), String> {
    let dir = workspace_root().join("algorithms").join("examples");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            if let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) {
                names.push(name.to_owned());
            }
        }
    }
    if names.is_empty() {
        return Err(format!("no examples found in {}", dir.display()));
    }
    names.sort();
    for name in &names {
        println!("--> example `{name}`");
        run_cmd(cargo().args(["run", "-q", "-p", EXAMPLES_PACKAGE, "--example", name]))?;
    }
    Ok(())
}

/// How long CI's soak runs, in seconds.
const SOAK_SECS: &str = "60";

/// `cargo xtask soak` for [`SOAK_SECS`], in a release build of its own
/// (see the module documentation for why).
fn soak() -> Result<(), String> {
    run_cmd(cargo().args([
        "run",
        "--release",
        "-p",
        "xtask",
        "--",
        "soak",
        "--secs",
        SOAK_SECS,
    ]))
}

/// The README's test command, run last so the log ends on its summary.
fn test() -> Result<(), String> {
    run_cmd(cargo().args(["test", "--workspace"]))
}

/// Cargo's target directory, under which each special build gets its own.
fn target_dir() -> Result<PathBuf, String> {
    crate::target_dir(&workspace_root())
}

/// `-p crate` for every primitive.
fn package_args() -> Vec<&'static str> {
    PRIMITIVES.iter().flat_map(|&(p, _)| ["-p", p]).collect()
}

/// Miri and `-Zbuild-std` need the nightly's `miri` and `rust-src`
/// components; add them only if missing.
fn ensure_nightly_components() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["component", "list", "--toolchain", "nightly", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    let list = String::from_utf8_lossy(&installed.stdout);
    let missing: Vec<&str> = ["miri", "rust-src"]
        .into_iter()
        .filter(|c| !list.lines().any(|l| l.starts_with(c)))
        .collect();
    if installed.status.success() && missing.is_empty() {
        return Ok(());
    }
    println!("adding nightly components: miri rust-src");
    run_cmd(Command::new("rustup").args([
        "component",
        "add",
        "--toolchain",
        "nightly",
        "miri",
        "rust-src",
    ]))
}

/// Adds the [`TARGETS`] missing from the toolchain this task runs on
/// (rustup, started by our cargo, finds it in `RUSTUP_TOOLCHAIN`).
fn ensure_targets() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    let list = String::from_utf8_lossy(&installed.stdout);
    let missing: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|t| !list.lines().any(|l| l == *t))
        .collect();
    if installed.status.success() && missing.is_empty() {
        return Ok(());
    }
    println!("adding targets: {}", missing.join(" "));
    run_cmd(
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing),
    )
}

/// Installs `toolchain` (`1.85`), with the minimal profile, if missing.
fn ensure_toolchain(toolchain: &str) -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    let prefix = format!("{toolchain}-");
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.starts_with(&prefix))
    {
        return Ok(());
    }
    println!("installing toolchain {toolchain}");
    run_cmd(Command::new("rustup").args([
        "toolchain",
        "install",
        toolchain,
        "--profile",
        "minimal",
    ]))
}

/// The workspace's `rust-version`, from the root `Cargo.toml`.
fn rust_version() -> Result<String, String> {
    let path = workspace_root().join("Cargo.toml");
    let manifest = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"').to_owned())
        .ok_or_else(|| format!("no `rust-version` in {}", path.display()))
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> Result<String, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "`rustc -vV` printed no host triple".into())
}

/// The cargo that runs this task.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Cargo on the nightly toolchain.
fn nightly_cargo() -> Command {
    toolchain_cargo("nightly")
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
fn run_cmd(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let took = start.elapsed();
    if status.success() {
        println!("    ok in {}", seconds(took));
        Ok(())
    } else {
        Err(format!("{shown} failed ({status}) after {}", seconds(took)))
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}
