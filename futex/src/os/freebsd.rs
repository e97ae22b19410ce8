//! FreeBSD: the `_umtx_op(2)` system call, on process-private words.

use std::ptr;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::{monotonic_deadline, unexpected};

pub(super) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> bool {
    // An absolute CLOCK_MONOTONIC deadline, so that a wait interrupted by a
    // signal (`EINTR`) resumes with the time it has left.
    let deadline = timeout
        .and_then(monotonic_deadline)
        .map(|deadline| libc::_umtx_time {
            _timeout: deadline,
            _flags: libc::UMTX_ABSTIME,
            _clockid: libc::CLOCK_MONOTONIC as u32,
        });
    // `_umtx_op` tells a `_umtx_time` from a bare `timespec` (a relative
    // CLOCK_REALTIME timeout) by the size passed in `uaddr`.
    let (size, time) = match &deadline {
        Some(time) => (
            ptr::without_provenance_mut(size_of::<libc::_umtx_time>()),
            ptr::from_ref(time).cast_mut().cast(),
        ),
        None => (ptr::null_mut(), ptr::null_mut()),
    };
    loop {
        // Relaxed: only a shortcut; the kernel compares again.
        if word.load(Relaxed) != expected {
            return true;
        }
        // SAFETY: `word` is a live `AtomicU32` for the whole call and
        // UMTX_OP_WAIT_UINT_PRIVATE only reads it as an unsigned int; `time`
        // is null or points to `deadline`, which lives until we return and
        // which the kernel only reads, and `size` is its size.
        let r = unsafe {
            libc::_umtx_op(
                word.as_ptr().cast(),
                libc::UMTX_OP_WAIT_UINT_PRIVATE,
                libc::c_ulong::from(expected),
                size,
                time,
            )
        };
        // Woken, spuriously or not, or the word no longer held `expected`.
        if r == 0 {
            return true;
        }
        let error = std::io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ETIMEDOUT) => return false,
            _ => unexpected("_umtx_op(UMTX_OP_WAIT_UINT_PRIVATE)", error),
        }
    }
}

pub(super) fn wake_one(word: *const AtomicU32) {
    wake(word, 1);
}

pub(super) fn wake_all(word: *const AtomicU32) {
    // The kernel reads the count as an `int`.
    wake(word, i32::MAX as libc::c_ulong);
}

/// Wakes up to `count` threads.
fn wake(word: *const AtomicU32, count: libc::c_ulong) {
    // SAFETY: a private UMTX_OP_WAKE keys its queue on the address and the
    // process's memory map and never reads the word, so any address, even
    // a dangling one, is sound.
    unsafe {
        libc::_umtx_op(
            word.cast_mut().cast(),
            libc::UMTX_OP_WAKE_PRIVATE,
            count,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
}
