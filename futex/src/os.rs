//! The real futex: one module per operating system, each calling that
//! kernel's own wait and wake (the crate documentation has the table).

use std::sync::atomic::AtomicU32;
use std::time::Duration;

#[cfg(any(target_os = "linux", target_os = "android"))]
#[path = "os/linux.rs"]
mod imp;

#[cfg(windows)]
#[path = "os/windows.rs"]
mod imp;

#[cfg(any(target_os = "macos", target_os = "ios"))]
#[path = "os/apple.rs"]
mod imp;

#[cfg(target_os = "freebsd")]
#[path = "os/freebsd.rs"]
mod imp;

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    windows,
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
)))]
compile_error!(
    "weft-futex supports Linux, Android, Windows, macOS, iOS and FreeBSD: \
     it needs the kernel's futex wait with a timeout, and elsewhere it would \
     have to spin"
);

/// Blocks while `*word == expected`.
///
/// Returns when another thread wakes this one with [`wake_one`] or
/// [`wake_all`], when `*word` did not hold `expected` to begin with, or
/// spuriously. Callers therefore always wait in a loop that re-checks their
/// own condition.
///
/// The comparison and the going-to-sleep are atomic with respect to a
/// `wake_*` on the same word: a thread that changes the word and then wakes
/// cannot slip between them. This is what makes futex protocols free of lost
/// wake-ups.
///
/// `wait` establishes no memory ordering of its own; callers reload their
/// word with the ordering they need after it returns.
#[inline]
pub fn wait(word: &AtomicU32, expected: u32) {
    imp::wait(word, expected, None);
}

/// Wakes at most one thread blocked in [`wait`] or [`wait_timeout`] on
/// `word`.
///
/// It takes a raw pointer because the word may already be freed by the time
/// the waker calls this (a barrier is dropped as soon as its last waiter
/// returns): every supported kernel only uses the address as a key and
/// never dereferences it, so that is allowed.
#[inline]
pub fn wake_one(word: *const AtomicU32) {
    imp::wake_one(word);
}

/// Wakes every thread blocked in [`wait`] or [`wait_timeout`] on `word`.
///
/// As with [`wake_one`], `word` may dangle.
#[inline]
pub fn wake_all(word: *const AtomicU32) {
    imp::wake_all(word);
}

/// Blocks while `*word == expected`, for at most `timeout`.
///
/// Returns `false` if the timeout passed, and `true` otherwise: woken, the
/// word did not hold `expected`, or a spurious return. The thread sleeps in
/// the kernel for the whole wait; nothing polls.
///
/// `false` always means the whole `timeout` has passed by [`Instant`]'s
/// clock: a wait interrupted by a signal resumes with the time it has left,
/// and a kernel that counts in coarser units (milliseconds on Windows,
/// microseconds for macOS's older call) is given the time left rounded up,
/// and asked again if it still returns early. A `timeout` too large to
/// represent waits without a deadline.
///
/// Any error other than a timeout, an interruption or a word that no longer
/// held `expected` means a broken invariant (a bad address or deadline): the
/// process prints the error and aborts, rather than return and leave its
/// caller looping at full speed.
///
/// [`Instant`]: std::time::Instant
pub fn wait_timeout(word: &AtomicU32, expected: u32, timeout: Duration) -> bool {
    imp::wait(word, expected, Some(timeout))
}

/// Prints that the kernel call `call` failed with `error` and aborts.
///
/// No valid word and deadline lead here; returning instead would send the
/// caller round its wait loop at full speed forever.
#[cold]
fn unexpected(call: &str, error: std::io::Error) -> ! {
    eprintln!("weft-futex: {call} failed unexpectedly: {error}");
    std::process::abort();
}

/// The absolute `CLOCK_MONOTONIC` time `timeout` from now, or `None` when it
/// does not fit in a `timespec` (then the caller waits without one).
///
/// Linux and FreeBSD take this absolute deadline, computed once, so that a
/// wait interrupted by a signal resumes with the time it has left rather
/// than starting over.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn monotonic_deadline(timeout: Duration) -> Option<libc::timespec> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } != 0 {
        return None;
    }
    let secs = libc::time_t::try_from(timeout.as_secs()).ok()?;
    let mut tv_sec = now.tv_sec.checked_add(secs)?;
    // Below 2·10⁹, so it fits a `c_long` even where that has 32 bits.
    let mut tv_nsec = now.tv_nsec + timeout.subsec_nanos() as libc::c_long;
    if tv_nsec >= 1_000_000_000 {
        tv_nsec -= 1_000_000_000;
        tv_sec = tv_sec.checked_add(1)?;
    }
    Some(libc::timespec { tv_sec, tv_nsec })
}

#[cfg(all(test, any(target_os = "linux", target_os = "android"), not(miri)))]
mod tests {
    use std::process::Command;
    use std::sync::atomic::AtomicU32;

    /// Not a test on its own: run by
    /// `an_unexpected_futex_error_aborts_the_process` in a child process. A
    /// deadline with a nanosecond field of two seconds makes the kernel
    /// answer `EINVAL`.
    #[test]
    #[ignore = "aborts on purpose; run by an_unexpected_futex_error_aborts_the_process"]
    fn wait_with_an_invalid_deadline() {
        let word = AtomicU32::new(0);
        let invalid = libc::timespec {
            tv_sec: 0,
            tv_nsec: 2_000_000_000,
        };
        let returned = super::imp::wait_until(&word, 0, Some(&invalid));
        println!("wait_until returned {returned}");
    }

    #[test]
    fn an_unexpected_futex_error_aborts_the_process() {
        let output = Command::new(std::env::current_exe().unwrap())
            .args([
                "os::tests::wait_with_an_invalid_deadline",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stdout.contains("1 filtered out") || stdout.contains("running 1 test"),
            "the child did not run the test:\n{stdout}\n{stderr}"
        );
        assert!(
            !stdout.contains("wait_until returned"),
            "the futex error was returned to the caller:\n{stdout}\n{stderr}"
        );
        assert!(
            !output.status.success(),
            "the child succeeded:\n{stdout}\n{stderr}"
        );
        assert!(
            stderr.contains("futex(FUTEX_WAIT_BITSET) failed unexpectedly")
                && stderr.contains("Invalid argument"),
            "the abort does not name the error:\n{stderr}"
        );
    }
}
