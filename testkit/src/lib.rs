//! What Weft's test suites share. Not published: the crates list it as a
//! path dev-dependency, which `cargo package` leaves out.
//!
//! - [`iterations`]: a loop count that is smaller under Miri, which runs
//!   a thousand times slower than native code.
//! - [`assert_sleeps`]: a blocked thread must sleep in the kernel, not spin.
//!   Measured as the CPU time the thread used while it was blocked, so the
//!   check does not depend on how fast the machine is.
//! - [`Watchdog`]: a test that would hang (a lost wake-up) fails instead,
//!   naming itself.
//! - [`increment_under`]: the exclusion check of a lock.
//! - [`races`]: the rounds of the `tests/races.rs` files.

pub mod races;

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// `normal` natively, `miri` under Miri.
#[must_use]
pub fn iterations(normal: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { normal }
}

/// How long the thread given to [`assert_sleeps`] is expected to be
/// blocked: the tests block it by sleeping this long on another thread
/// before they release it.
pub const BLOCKED: Duration = Duration::from_millis(200);

/// Has `threads` threads each increment a counter `iterations(20_000, 30)`
/// times under `lock`, as a read-modify-write split into a read, a pause
/// now and then, and a write: without exclusion, concurrent threads would
/// overwrite each other's increments. Returns how many increments were
/// made, which the counter must then hold.
pub fn increment_under<G>(threads: usize, lock: impl Fn() -> G + Sync) -> u64
where
    G: std::ops::DerefMut<Target = u64>,
{
    let per_thread = iterations(20_000, 30);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for i in 0..per_thread {
                    let mut guard = lock();
                    let seen = *guard;
                    if i % 64 == 0 {
                        thread::yield_now();
                    }
                    *guard = seen + 1;
                }
            });
        }
    });
    (threads * per_thread) as u64
}

/// The CPU time the calling thread has used so far, where the OS tells
/// (`CLOCK_THREAD_CPUTIME_ID` on Linux, the BSDs and Apple's systems);
/// `None` elsewhere and under Miri.
#[must_use]
pub fn thread_cpu_time() -> Option<Duration> {
    #[cfg(all(unix, not(miri)))]
    return cpu_time(libc::CLOCK_THREAD_CPUTIME_ID);
    #[cfg(not(all(unix, not(miri))))]
    None
}

/// The CPU time used so far by every thread of this process, where the OS
/// tells (`CLOCK_PROCESS_CPUTIME_ID`); `None` elsewhere and under Miri.
#[must_use]
pub fn process_cpu_time() -> Option<Duration> {
    #[cfg(all(unix, not(miri)))]
    return cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID);
    #[cfg(not(all(unix, not(miri))))]
    None
}

/// Reads the CPU-time clock `clock` (Unix, natively).
#[cfg(all(unix, not(miri)))]
fn cpu_time(clock: libc::clockid_t) -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`.
    if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
        return None;
    }
    let secs = u64::try_from(now.tv_sec).ok()?;
    let nanos = u32::try_from(now.tv_nsec).ok()?;
    Some(Duration::new(secs, nanos))
}

/// Runs `block`, which the test keeps blocked for about [`BLOCKED`], and
/// panics if the calling thread used more than a quarter of that in CPU
/// time: a thread that spins or polls while it waits uses nearly all of
/// it, one asleep in the kernel almost none. Where [`thread_cpu_time`]
/// cannot tell, only runs `block`.
///
/// `what` names the blocked operation in the panic message.
pub fn assert_sleeps<R>(what: &str, block: impl FnOnce() -> R) -> R {
    let before = thread_cpu_time();
    let result = block();
    if let (Some(before), Some(after)) = (before, thread_cpu_time()) {
        let busy = after - before;
        assert!(
            busy < BLOCKED / 4,
            "{what}, blocked for about {BLOCKED:?}, used {busy:?} of CPU: \
             it spun instead of sleeping"
        );
    }
    result
}

/// While alive, aborts the process if it lives longer than its limit,
/// after printing which test hung.
///
/// A test of a lost wake-up fails by never ending, and a hung `cargo test`
/// says nothing about which test it was. Create one at the top of such a
/// test: dropping it at the end (or while the test panics) stops the
/// watchdog.
#[derive(Debug)]
#[must_use = "the watchdog stops when dropped"]
pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// A watchdog for the test `name`, which must be over within `limit`.
    pub fn new(name: &'static str, limit: Duration) -> Self {
        let (done, finished) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            if finished.recv_timeout(limit) == Err(RecvTimeoutError::Timeout) {
                eprintln!("test `{name}` still running after {limit:?}: it hangs");
                std::process::abort();
            }
        });
        Self {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Disconnecting the channel ends the watchdog's wait at once.
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
