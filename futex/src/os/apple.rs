//! macOS and iOS: `os_sync_wait_on_address` and its siblings where the OS
//! has them (macOS 14.4 and iOS 17.4 added them together), and the older
//! `__ulock_wait` / `__ulock_wake` otherwise.
//!
//! The `os_sync` functions are the public interface; `__ulock` is the
//! private one underneath, in libSystem since macOS 10.12 and iOS 10. Both
//! wait on the word itself. The `os_sync` functions are looked up by name on
//! first use, as std's `weak!` does: naming them in an `extern` block would
//! stop the program from loading on an older OS.

use std::ffi::{CStr, c_int, c_void};
use std::marker::PhantomData;
use std::sync::atomic::AtomicPtr;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::{Duration, Instant};
use std::{mem, ptr};

use super::unexpected;

/// From XNU's `sys/ulock.h`: sleep while the 32-bit word holds the value.
const UL_COMPARE_AND_WAIT: u32 = 1;
/// From `sys/ulock.h`: wake every waiter rather than one.
const ULF_WAKE_ALL: u32 = 0x0000_0100;
/// From `sys/ulock.h`: return an error as its negated code, not in `errno`.
const ULF_NO_ERRNO: u32 = 0x0100_0000;

unsafe extern "C" {
    /// Sleeps while `*addr == value`, for at most `timeout_us` microseconds
    /// (0: no timeout).
    fn __ulock_wait(operation: u32, addr: *mut c_void, value: u64, timeout_us: u32) -> c_int;
    /// Wakes one waiter on `addr`, or all of them with `ULF_WAKE_ALL`.
    fn __ulock_wake(operation: u32, addr: *mut c_void, wake_value: u64) -> c_int;
}

type OsSyncWait = unsafe extern "C" fn(
    addr: *mut c_void,
    value: u64,
    size: usize,
    flags: libc::os_sync_wait_on_address_flags_t,
) -> c_int;
type OsSyncWaitWithTimeout = unsafe extern "C" fn(
    addr: *mut c_void,
    value: u64,
    size: usize,
    flags: libc::os_sync_wait_on_address_flags_t,
    clockid: libc::os_clockid_t,
    timeout_ns: u64,
) -> c_int;
type OsSyncWake = unsafe extern "C" fn(
    addr: *mut c_void,
    size: usize,
    flags: libc::os_sync_wake_by_address_flags_t,
) -> c_int;

// SAFETY: `OsSyncWait` is the C signature of `os_sync_wait_on_address`
// in <os/os_sync_wait_on_address.h>, as the libc crate declares it; the
// same holds for each of the other three.
static OS_SYNC_WAIT: Weak<OsSyncWait> = unsafe { Weak::new(c"os_sync_wait_on_address") };
// SAFETY: see above.
static OS_SYNC_WAIT_WITH_TIMEOUT: Weak<OsSyncWaitWithTimeout> =
    unsafe { Weak::new(c"os_sync_wait_on_address_with_timeout") };
// SAFETY: see above.
static OS_SYNC_WAKE_ANY: Weak<OsSyncWake> = unsafe { Weak::new(c"os_sync_wake_by_address_any") };
// SAFETY: see above.
static OS_SYNC_WAKE_ALL: Weak<OsSyncWake> = unsafe { Weak::new(c"os_sync_wake_by_address_all") };

pub(super) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> bool {
    // Both calls take a relative timeout, so the deadline is kept on
    // `Instant`'s clock and each call gets the time left.
    let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
    loop {
        // Relaxed: only a shortcut; the kernel compares again. After an
        // EFAULT this load also brings the word's page back in.
        if word.load(Relaxed) != expected {
            return true;
        }
        let left = match deadline {
            None => None,
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return false,
            },
        };
        match sleep(word, expected, left) {
            Ok(()) => return true,
            // Interrupted by a signal, or timed out: go round, and the
            // deadline decides. EFAULT: the kernel reads the word without
            // faulting its page in and leaves that to the caller.
            Err((_, libc::EINTR | libc::ETIMEDOUT | libc::EFAULT)) => continue,
            Err((call, code)) => unexpected(call, std::io::Error::from_raw_os_error(code)),
        }
    }
}

/// One kernel sleep while `*word == expected`, for at most `left` (which is
/// not zero). `Ok` when woken, spuriously or not, or when the word did not
/// hold `expected`; otherwise the call's name and error code.
fn sleep(
    word: &AtomicU32,
    expected: u32,
    left: Option<Duration>,
) -> Result<(), (&'static str, c_int)> {
    let addr = word.as_ptr().cast::<c_void>();
    let value = u64::from(expected);
    let size = size_of::<u32>();
    let flags = libc::OS_SYNC_WAIT_ON_ADDRESS_NONE;
    let r = match (left, OS_SYNC_WAIT.get(), OS_SYNC_WAIT_WITH_TIMEOUT.get()) {
        // SAFETY: `word` is a live `AtomicU32` for the whole call, which only
        // reads it; `size` is its size.
        (None, Some(wait), _) => unsafe { wait(addr, value, size, flags) },
        (Some(left), _, Some(wait_with_timeout)) => {
            // Mach absolute time is the only clock the call takes; `nanos`
            // is not zero, which the call refuses.
            let nanos = u64::try_from(left.as_nanos()).unwrap_or(u64::MAX);
            // SAFETY: as above.
            unsafe {
                wait_with_timeout(
                    addr,
                    value,
                    size,
                    flags,
                    libc::OS_CLOCK_MACH_ABSOLUTE_TIME,
                    nanos,
                )
            }
        }
        _ => {
            // Rounded up, so the call cannot end before the deadline on
            // account of rounding, and never 0 (which would mean no timeout);
            // a wait over 71 minutes takes more than one call.
            let micros = left.map_or(0, |left| {
                u32::try_from(left.as_nanos().div_ceil(1_000)).unwrap_or(u32::MAX)
            });
            // SAFETY: `word` is a live `AtomicU32` for the whole call, which
            // only reads it.
            let r =
                unsafe { __ulock_wait(UL_COMPARE_AND_WAIT | ULF_NO_ERRNO, addr, value, micros) };
            return if r >= 0 {
                Ok(())
            } else {
                Err(("__ulock_wait", -r))
            };
        }
    };
    if r >= 0 {
        Ok(())
    } else {
        let code = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        Err(("os_sync_wait_on_address", code))
    }
}

pub(super) fn wake_one(word: *const AtomicU32) {
    wake(word, &OS_SYNC_WAKE_ANY, 0);
}

pub(super) fn wake_all(word: *const AtomicU32) {
    wake(word, &OS_SYNC_WAKE_ALL, ULF_WAKE_ALL);
}

/// Wakes through `os_sync` where the OS has it, else through `__ulock_wake`
/// with `ulock_flags`. The answer (0, or ENOENT when nobody waited) is not
/// needed.
fn wake(word: *const AtomicU32, os_sync: &Weak<OsSyncWake>, ulock_flags: u32) {
    let addr = word.cast_mut().cast::<c_void>();
    // XNU takes the queue's lock on every wake, even with nobody waiting,
    // so a waiter that reaches the kernel after this wake reads the word as
    // the waker left it. Miri's `os_sync_wake_by_address_*` returns early
    // when nobody waits, skipping the SeqCst fence its other futexes use to
    // stand for that lock, so the waiter could read an older value and
    // sleep through the wake; under Miri this fence stands in for it.
    // SeqCst: pairs with the SeqCst fence in Miri's `os_sync_wait_on_address`.
    #[cfg(miri)]
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    match os_sync.get() {
        // SAFETY: the wake calls use the address only as a key and never
        // read it, so any address, even a dangling one, is sound.
        Some(wake) => unsafe { wake(addr, size_of::<u32>(), libc::OS_SYNC_WAKE_BY_ADDRESS_NONE) },
        // SAFETY: as above.
        None => unsafe { __ulock_wake(UL_COMPARE_AND_WAIT | ULF_NO_ERRNO | ulock_flags, addr, 0) },
    };
}

/// A libSystem function looked up by name on first use, and null if this
/// OS lacks it.
struct Weak<F> {
    name: &'static CStr,
    /// What `dlsym` returned, or [`NOT_LOOKED_UP`].
    addr: AtomicPtr<c_void>,
    func: PhantomData<F>,
}

/// `Weak::addr` before the first lookup: an address no function has.
const NOT_LOOKED_UP: *mut c_void = ptr::without_provenance_mut(1);

impl<F: Copy> Weak<F> {
    /// # Safety
    ///
    /// `F` must be an `unsafe extern "C" fn` type with the C signature of
    /// the function called `name`.
    const unsafe fn new(name: &'static CStr) -> Self {
        Self {
            name,
            addr: AtomicPtr::new(NOT_LOOKED_UP),
            func: PhantomData,
        }
    }

    fn get(&self) -> Option<F> {
        // Acquire: pairs with the Release store below, as in std's `weak!`:
        // whatever `dlsym` did to make the function callable happens before
        // this thread calls it.
        let mut addr = self.addr.load(Acquire);
        if addr == NOT_LOOKED_UP {
            // SAFETY: `name` is a NUL-terminated string that lives forever.
            addr = unsafe { libc::dlsym(libc::RTLD_DEFAULT, self.name.as_ptr()) };
            // Release: pairs with the Acquire load above. Threads that race
            // here all find and store the same address.
            self.addr.store(addr, Release);
        }
        if addr.is_null() {
            return None;
        }
        // SAFETY: `addr` is the address of the function called `name`, whose
        // pointer type `F` is (the contract of `new`); function and data
        // pointers have one size and representation on Apple's platforms.
        Some(unsafe { mem::transmute_copy::<*mut c_void, F>(&addr) })
    }
}
