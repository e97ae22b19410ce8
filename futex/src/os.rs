//! The real futex: `atomic-wait` for waiting and waking, and the Linux
//! `futex(2)` system call for waiting with a deadline.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

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
    atomic_wait::wait(word, expected);
}

/// Wakes at most one thread blocked in [`wait`] or [`wait_timeout`] on
/// `word`.
///
/// It takes a raw pointer because the word may already be freed by the time
/// the waker calls this (a barrier is dropped as soon as its last waiter
/// returns): the kernel only uses the address as a key and never
/// dereferences it, so that is allowed.
#[inline]
pub fn wake_one(word: *const AtomicU32) {
    atomic_wait::wake_one(word);
}

/// Wakes every thread blocked in [`wait`] or [`wait_timeout`] on `word`.
///
/// As with [`wake_one`], `word` may dangle.
#[inline]
pub fn wake_all(word: *const AtomicU32) {
    atomic_wait::wake_all(word);
}

/// Blocks while `*word == expected`, for at most `timeout`.
///
/// Returns `false` if the timeout passed, and `true` otherwise: woken, the
/// word did not hold `expected`, or a spurious return. A `timeout` too large
/// to represent waits without a deadline.
///
/// On Linux this is `FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG` with an
/// absolute `CLOCK_MONOTONIC` deadline, computed once, so a wait interrupted
/// by a signal (`EINTR`) resumes with the time it has left rather than
/// starting over. Any error other than a timeout, an interruption or a word
/// that no longer held `expected` means a broken invariant (a bad address or
/// deadline): the process prints the error and aborts, rather than return
/// and leave its caller looping at full speed. Elsewhere there is no timed futex in `atomic-wait`, and
/// this polls the word with a backoff that grows from 1 µs to 1 ms; a
/// `wake_*` that does not change the word is then noticed only at the
/// deadline. Every Weft primitive changes the word before it wakes.
pub fn wait_timeout(word: &AtomicU32, expected: u32, timeout: Duration) -> bool {
    imp::wait_timeout(word, expected, timeout)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::ptr;
    use std::sync::atomic::AtomicU32;
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::Duration;

    pub(super) fn wait_timeout(word: &AtomicU32, expected: u32, timeout: Duration) -> bool {
        let deadline = monotonic_now().and_then(|now| add(now, timeout));
        wait_until(word, expected, deadline.as_ref())
    }

    /// Sleeps while `*word == expected` until the absolute `CLOCK_MONOTONIC`
    /// time `deadline`, or without one; returns `false` if it passed.
    pub(super) fn wait_until(
        word: &AtomicU32,
        expected: u32,
        deadline: Option<&libc::timespec>,
    ) -> bool {
        let deadline_ptr = deadline.map_or(ptr::null(), |ts| ts as *const libc::timespec);
        loop {
            // Relaxed: only a shortcut; the kernel compares again.
            if word.load(Relaxed) != expected {
                return true;
            }
            // The bitset argument is the "match any" mask FUTEX_WAIT_BITSET
            // requires.
            // SAFETY: `word` is a live `AtomicU32` for the whole call and the
            // kernel only reads it; `deadline_ptr` is null or points to a
            // `timespec` that the caller's borrow keeps alive.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    word.as_ptr(),
                    libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG,
                    expected,
                    deadline_ptr,
                    ptr::null::<u32>(),
                    !0u32,
                )
            };
            if r == 0 {
                return true;
            }
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ETIMEDOUT) => return false,
                // The word no longer held `expected`.
                Some(libc::EAGAIN) => return true,
                // Nothing else can happen with a valid word and deadline;
                // returning would send the caller round its loop at full
                // speed forever.
                errno => {
                    eprintln!(
                        "weft-futex: futex(FUTEX_WAIT_BITSET) failed unexpectedly: {}",
                        errno.map_or_else(
                            || "no error code".to_owned(),
                            |e| std::io::Error::from_raw_os_error(e).to_string()
                        )
                    );
                    std::process::abort();
                }
            }
        }
    }

    fn monotonic_now() -> Option<libc::timespec> {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid, writable `timespec`.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
        (r == 0).then_some(now)
    }

    /// `now + timeout`, or `None` when that does not fit in a `timespec`.
    fn add(now: libc::timespec, timeout: Duration) -> Option<libc::timespec> {
        let secs = libc::time_t::try_from(timeout.as_secs()).ok()?;
        let mut tv_sec = now.tv_sec.checked_add(secs)?;
        let mut tv_nsec = now.tv_nsec + libc::c_long::from(timeout.subsec_nanos() as i32);
        if tv_nsec >= 1_000_000_000 {
            tv_nsec -= 1_000_000_000;
            tv_sec = tv_sec.checked_add(1)?;
        }
        Some(libc::timespec { tv_sec, tv_nsec })
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::sync::atomic::AtomicU32;
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::{Duration, Instant};

    pub(super) fn wait_timeout(word: &AtomicU32, expected: u32, timeout: Duration) -> bool {
        const MAX_NAP: Duration = Duration::from_millis(1);
        let start = Instant::now();
        let mut nap = Duration::from_micros(1);
        loop {
            // Relaxed: the caller reloads with its own ordering.
            if word.load(Relaxed) != expected {
                return true;
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return false;
            }
            std::thread::sleep(nap.min(timeout - elapsed));
            nap = (nap * 2).min(MAX_NAP);
        }
    }
}

#[cfg(all(test, target_os = "linux", not(miri)))]
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

/// The CPU time the calling thread has used so far, where the OS tells
/// (`None` elsewhere, and under Miri).
///
/// Weft's tests use it to check that a blocked thread sleeps in the kernel
/// rather than spinning: a waiter that burns a core for 200 ms shows about
/// 200 ms here, a sleeping one almost nothing.
pub fn thread_cpu_time() -> Option<Duration> {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid, writable `timespec`.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        if r == 0 {
            let secs = u64::try_from(now.tv_sec).ok()?;
            let nanos = u32::try_from(now.tv_nsec).ok()?;
            return Some(Duration::new(secs, nanos));
        }
    }
    None
}
