//! Weft's soak test, `cargo xtask soak [--secs N] [--seed S]` (which runs
//! this binary in release): every Weft primitive at once, for N seconds,
//! under a random mix of operations and timeouts, on more threads than
//! cores, checking invariants as it goes.
//!
//! Each workload runs on threads of its own, all for the same duration, some
//! 20 to 30 threads in all:
//!
//! | workload    | threads | what it checks |
//! |-------------|---------|----------------|
//! | `lock`      | 6 | `Mutex`: no two holders at once, no increment lost; `Condvar`: a hand-off through a one-value mailbox passes 0, 1, 2, ... in order, with untimed waits that hang if a wake-up is lost |
//! | `semaphore` | 3 | never more permits held than exist, every permit back at the end |
//! | `barrier`   | 6 | one leader per round, every thread in the same round; timed-out waits withdraw cleanly |
//! | `queue`     | 2–7 per round | every value received once, handed back in an error, or dropped with its channel; none twice; each producer's order kept; nothing left behind when receivers read to the end |
//! | `pool`      | 2 + 3 workers, and short-lived pools | results in order; a task's panic comes back as documented; arguments and results dropped once; every accepted task runs once, also when the pool is closed or dropped with work queued |
//!
//! Each module's documentation says how it checks. Every soak thread
//! records the operation it is in (which one and since when, in one atomic
//! word); the watchdog turns an operation lasting over [`HANG_LIMIT`](harness::HANG_LIMIT) into a
//! failure that names it and its thread, and exits the process, since a
//! hung thread cannot be joined. It also prints a progress line every
//! [`PROGRESS_EVERY`](harness::PROGRESS_EVERY). The run ends with
//! `soak: N operations, 0 lost, 0 duplicated, 0 hung`, or with the failures
//! and a non-zero exit code.
//!
//! `--seed` fixes every thread's random choices (each thread's generator is
//! seeded from the seed and the thread's name). The interleaving of the
//! threads still differs from run to run, so a failing seed makes the same
//! mix of operations, not necessarily the same failure.

mod barrier;
mod harness;
mod lock;
mod pool;
mod queue;
mod semaphore;

use std::process::ExitCode;
use std::sync::atomic::Ordering::{Relaxed, Release};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;

pub(crate) use harness::{Bits, Ctx, Op, catch, panic_message};
use harness::{Soak, install_panic_hook};

/// The longest run `--secs` accepts: a week.
const MAX_SECS: u64 = 7 * 24 * 60 * 60;

/// The start of every panic message that the soak provokes on purpose; the
/// panic hook keeps them quiet.
pub(crate) const DELIBERATE: &str = "soak: deliberate panic";

/// Every Weft primitive at once for N seconds under a random mix of
/// operations and timeouts, on more threads than cores, checking invariants
/// as it goes.
///
/// Prints a progress line every 5 s and ends with `soak: N operations, 0
/// lost, 0 duplicated, 0 hung`; exits non-zero on a failure, naming it (and
/// any operation hung for 20 s).
#[derive(Debug, Parser)]
#[command(name = "weft-soak", bin_name = "cargo xtask soak")]
struct Config {
    /// How long to run, in whole seconds (at most a week).
    #[arg(long, value_name = "N", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    secs: u64,
    /// Seed of every thread's random choices (default: random; printed).
    #[arg(long, value_name = "S", default_value_t = rand::random(), hide_default_value = true)]
    seed: u64,
}

/// A workload: runs its threads until the run stops, then checks the end
/// state.
type Workload = fn(&mut Ctx<'_>);

/// The workloads, each started on a coordinating thread of its own name.
const WORKLOADS: &[(&str, Workload)] = &[
    ("lock", lock::run),
    ("semaphore", semaphore::run),
    ("barrier", barrier::run),
    ("queue", queue::run),
    ("pool", pool::run),
];

/// Runs the soak with the command line's settings; a broken invariant
/// ends it with a non-zero exit code.
fn main() -> ExitCode {
    let config = Config::parse();
    println!(
        "soak: {} s, seed {} (repeat with --seed {}), {} CPUs",
        config.secs,
        config.seed,
        config.seed,
        thread::available_parallelism().map_or(1, |n| n.get())
    );
    install_panic_hook();
    let soak = Soak::new(&config);
    thread::scope(|s| {
        let watchdog = thread::Builder::new()
            .name("soak-watchdog".into())
            .spawn_scoped(s, || soak.watch())
            .expect("cannot start the watchdog");
        let workloads: Vec<_> = WORKLOADS
            .iter()
            .map(|&(name, run)| soak.spawn(s, name.to_owned(), run))
            .collect();
        while Instant::now() < soak.deadline && !soak.stop.load(Relaxed) {
            thread::sleep(Duration::from_millis(20));
        }
        soak.stop.store(true, Relaxed);
        for workload in workloads {
            // A panic was caught and reported by `spawn`.
            let _ = workload.join();
        }
        soak.finished.store(true, Release);
        let _ = watchdog.join();
    });
    match soak.report() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::iter;

    use clap::error::ErrorKind;

    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(iter::once("weft-soak").chain(args.iter().copied()))
    }

    #[test]
    fn secs_and_seed_are_read_in_both_spellings() {
        let config = parse(&["--secs", "20", "--seed=42"]).unwrap();
        assert_eq!((config.secs, config.seed), (20, 42));
        let config = parse(&["--secs=5", "--seed", "18446744073709551615"]).unwrap();
        assert_eq!((config.secs, config.seed), (5, u64::MAX));
        assert_eq!(parse(&[]).unwrap().secs, 60);
        assert_eq!(
            parse(&["--help"]).unwrap_err().kind(),
            ErrorKind::DisplayHelp
        );
    }

    #[test]
    fn bad_arguments_are_refused_with_the_reason() {
        for (args, kind) in [
            (&["--secs", "0"][..], ErrorKind::ValueValidation),
            (&["--secs"], ErrorKind::InvalidValue),
            (&["--secs", "1.5"], ErrorKind::ValueValidation),
            (&["--secs", "604801"], ErrorKind::ValueValidation),
            (&["--seed", "-1"], ErrorKind::UnknownArgument),
            (&["--seed="], ErrorKind::ValueValidation),
            (&["--sec", "5"], ErrorKind::UnknownArgument),
        ] {
            let error = parse(args).err().unwrap();
            assert_eq!(error.kind(), kind, "{args:?}: {error}");
        }
    }
}
