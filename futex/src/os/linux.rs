//! Linux and Android: the `futex(2)` system call, on process-private words.

use std::ptr;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::{monotonic_deadline, unexpected};

pub(super) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> bool {
    let deadline = timeout.and_then(monotonic_deadline);
    wait_until(word, expected, deadline.as_ref())
}

/// Sleeps while `*word == expected` until the absolute `CLOCK_MONOTONIC`
/// time `deadline`, or without one; returns `false` if it passed.
///
/// `FUTEX_WAIT_BITSET` is the variant of `FUTEX_WAIT` that takes an absolute
/// deadline, so a wait interrupted by a signal (`EINTR`) resumes with the
/// time it has left.
pub(super) fn wait_until(
    word: &AtomicU32,
    expected: u32,
    deadline: Option<&libc::timespec>,
) -> bool {
    let deadline_ptr = deadline.map_or(ptr::null(), ptr::from_ref);
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
        let error = std::io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ETIMEDOUT) => return false,
            // The word no longer held `expected`.
            Some(libc::EAGAIN) => return true,
            _ => unexpected("futex(FUTEX_WAIT_BITSET)", error),
        }
    }
}

pub(super) fn wake_one(word: *const AtomicU32) {
    wake(word, 1);
}

pub(super) fn wake_all(word: *const AtomicU32) {
    wake(word, i32::MAX);
}

/// Wakes up to `count` threads; the kernel's answer is how many it woke,
/// which nobody needs.
fn wake(word: *const AtomicU32, count: i32) {
    // SAFETY: a private FUTEX_WAKE keys its queue on the address and the
    // process's memory map and never reads the word, so any address, even
    // a dangling one, is sound.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word,
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            count,
        )
    };
}
