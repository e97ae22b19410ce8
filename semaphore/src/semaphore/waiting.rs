//! The slow paths: how a thread that found too few permits registers,
//! spins, sleeps and takes them, and how a release wakes it. Why no
//! wake-up is lost, and the orderings, are in the `semaphore` module's
//! documentation.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use weft_futex::{Deadline, SpinWait};

use super::{MANY_PERMITS_WAITER, ONE_PERMIT_WAITER, Semaphore};

impl Semaphore {
    /// The slow path of acquiring `n` permits: spin briefly, then register
    /// as a waiter and sleep until the permits are ours. Returns `false`
    /// only if the deadline passed first.
    #[cold]
    pub(super) fn acquire_contended(&self, n: u32, deadline: Deadline) -> bool {
        if self.spin_take(n) {
            return true;
        }
        let weight = if n == 1 {
            ONE_PERMIT_WAITER
        } else {
            MANY_PERMITS_WAITER
        };
        // Relaxed: published by the Release read-modify-write at the start
        // of `wait_for_permits`.
        self.waiters.fetch_add(weight, Relaxed);
        let acquired = self.wait_for_permits(n, deadline);
        // Relaxed: a release that still counts us only wakes once too often.
        self.waiters.fetch_sub(weight, Relaxed);
        acquired
    }

    /// Backs off with [`SpinWait`]'s schedule and re-reads the count (reads
    /// only, no writes that would steal the cache line from a releasing
    /// thread), taking the permits if enough show up before the budget is
    /// spent.
    ///
    /// It backs off *before* each read: the caller has just seen too few
    /// permits. Under loom `SpinWait` gives up at once, so this function
    /// then touches no atomic at all and the model explores only the
    /// sleeping path.
    #[inline]
    fn spin_take(&self, n: u32) -> bool {
        let mut spin = SpinWait::new();
        while spin.spin() {
            // Relaxed: only chooses the next step; the take is Acquire.
            let mut permits = self.permits.load(Relaxed);
            if permits >= n && self.take_from(&mut permits, n) {
                return true;
            }
        }
        false
    }

    /// The sleeping loop of a registered waiter: take the permits when there
    /// are enough, otherwise sleep until a release may have added some.
    fn wait_for_permits(&self, n: u32, deadline: Deadline) -> bool {
        let many = n > 1;
        // Acquire: pairs with the Release increment in `wake`, so if we
        // read an epoch from a release, the permits load below sees its
        // permits. Read before `permits`: a release we miss there then
        // changes `epoch` after this read, and `futex_wait` notices.
        let mut epoch = if many { self.epoch.load(Acquire) } else { 0 };
        // The registration's read-modify-write (see "Why no wake-up is
        // lost"). Release: pairs with the Acquire compare-and-swap of every
        // later release, so they all see our increment of `waiters`.
        let mut permits = self.permits.fetch_add(0, Release);
        let mut timed_out = false;
        loop {
            if self.take_from(&mut permits, n) {
                return true;
            }
            // A timed-out waiter makes the attempt above once more before it
            // gives up, so a permit that is there at the deadline is taken
            // rather than reported as a timeout. (Lost wake-ups are not the
            // reason: a futex waiter that a wake reached returns as woken,
            // never as timed out, so a waiter that gives up spent no wake.)
            if timed_out {
                return false;
            }
            let (word, expected) = if many {
                (&self.epoch, epoch)
            } else {
                (&self.permits, permits)
            };
            timed_out = !weft_futex::wait_until(word, expected, deadline);
            if many {
                // Acquire: as above.
                epoch = self.epoch.load(Acquire);
            }
            // Relaxed: only chooses the next step; the take is Acquire.
            permits = self.permits.load(Relaxed);
        }
    }

    /// Wakes the waiters that `released` new permits may let through; the
    /// release found `waiters` registered and left `now_available` permits.
    ///
    /// Threads waiting for one permit sleep on `permits`, and each of them
    /// can use any single permit, so `released` wakes are enough: each
    /// woken thread takes a permit, or finds another thread took it (the
    /// permit is then in use, and its release will wake again). When the
    /// release covers every registered one-permit waiter, one `wake_all`
    /// replaces the `wake_one`s. A registered thread that is not asleep yet
    /// needs no wake: this release came after its registration, so either
    /// it reads the new count, or it passes `futex_wait` an older value and
    /// the kernel, finding the word changed, does not put it to sleep.
    ///
    /// Threads waiting for several permits sleep on `epoch` and are all
    /// woken (see "Waiting for several permits" in the module
    /// documentation).
    #[cold]
    pub(super) fn wake(&self, released: u32, now_available: u32, waiters: u64) {
        let one_permit = waiters as u32;
        let many_permits = (waiters >> 32) as u32;
        if one_permit != 0 {
            if released >= one_permit {
                weft_futex::wake_all(&self.permits);
            } else {
                for _ in 0..released {
                    weft_futex::wake_one(&self.permits);
                }
            }
        }
        // Each of them needs at least two permits: with fewer available
        // after this release, none can proceed, and the release that brings
        // the count to two or more will see them registered and wake them.
        if many_permits != 0 && now_available >= 2 {
            // Release: pairs with the Acquire loads of `epoch` in
            // `wait_for_permits`, carrying the new permits with it.
            self.epoch.fetch_add(1, Release);
            weft_futex::wake_all(&self.epoch);
        }
    }
}
