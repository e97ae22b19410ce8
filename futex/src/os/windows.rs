//! Windows: `WaitOnAddress`, `WakeByAddressSingle` and `WakeByAddressAll`
//! (Windows 8 and later).

use std::ptr;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{ERROR_TIMEOUT, GetLastError};
use windows_sys::Win32::System::Threading::{WaitOnAddress, WakeByAddressAll, WakeByAddressSingle};
use windows_sys::Win32::System::WindowsProgramming::INFINITE;

use super::unexpected;

pub(super) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> bool {
    // `WaitOnAddress` takes a relative timeout, so the deadline is kept on
    // `Instant`'s clock and each call gets the time left.
    let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
    loop {
        let millis = match deadline {
            None => INFINITE,
            // Rounded up, so the call cannot end before the deadline on
            // account of rounding, and kept below INFINITE: a longer wait
            // (over 49 days) takes more than one call.
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                u32::try_from(left.as_nanos().div_ceil(1_000_000))
                    .map_or(INFINITE - 1, |millis| millis.min(INFINITE - 1))
            }
        };
        // SAFETY: `word` is a live `AtomicU32` and `expected` a live `u32`
        // for the whole call; WaitOnAddress reads four bytes from each.
        let woken = unsafe {
            WaitOnAddress(
                word.as_ptr().cast(),
                ptr::from_ref(&expected).cast(),
                size_of::<u32>(),
                millis,
            )
        };
        // Woken, spuriously or not, or the word did not hold `expected`.
        if woken != 0 {
            return true;
        }
        // SAFETY: GetLastError only reads the calling thread's last error.
        let error = unsafe { GetLastError() };
        if error != ERROR_TIMEOUT {
            unexpected(
                "WaitOnAddress",
                std::io::Error::from_raw_os_error(error as i32),
            );
        }
        // The kernel times the wait on its own timer, whose ticks need not
        // line up with `Instant`'s clock: if the deadline has not come by
        // `Instant`, wait for the rest.
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return false;
        }
    }
}

pub(super) fn wake_one(word: *const AtomicU32) {
    // SAFETY: WakeByAddressSingle uses the address only as a key and never
    // reads it, so any address, even a dangling one, is sound.
    unsafe { WakeByAddressSingle(word.cast()) };
}

pub(super) fn wake_all(word: *const AtomicU32) {
    // SAFETY: as in `wake_one`.
    unsafe { WakeByAddressAll(word.cast()) };
}
