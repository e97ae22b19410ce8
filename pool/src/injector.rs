//! The pool's job queue, and how idle workers sleep on it and are woken.
//!
//! # Implementation
//!
//! The queue is a `VecDeque` of jobs behind a Weft [`Mutex`], together with
//! the two facts that must change atomically with it: whether the queue is
//! closed, and how many workers have gone to sleep waiting for it. Jobs are
//! small `Copy` handles (a pointer and a function), and a blocking `map`
//! pushes at most one per worker, so the lock is held for a few stores.
//!
//! **Sleeping** is the protocol of a condition variable (see
//! `weft_mutex::condvar`), with the queue's own mutex as its lock and a
//! futex counter `event` as its sequence number. A worker that finds the
//! queue empty first spins a while, watching `pending` (a lock-free mirror
//! of the queue's length); work that comes within microseconds is taken
//! without any system call. When the spin budget is spent it takes the
//! lock once more and, *still holding it*, finds the queue empty, counts
//! itself in `sleepers` and reads `event`; then it unlocks and calls
//! `futex_wait(event, value read)`.
//!
//! **Submitting** pushes the jobs and reads `sleepers` under the same lock.
//! Only if somebody sleeps does it, after unlocking, increment `event` and
//! wake: `min(jobs, sleepers)` threads, all of them with one `wake_all`
//! when that is everybody. A pool whose workers are all busy or spinning
//! therefore takes a job with one lock and no system call.
//!
//! **Why no wake-up is lost.** A worker decides to sleep, and reads
//! `event`, inside one critical section that found the queue empty. A
//! submission's critical section either comes before it (and the worker
//! finds the job instead of sleeping) or after it. In the second case the
//! submitter sees the worker in `sleepers`, and its increment of `event`
//! comes after the worker's read of `event` (the unlock–lock pair orders
//! them). If the increment lands before the worker reaches the kernel,
//! `futex_wait` sees a changed word and returns at once; if after, the
//! worker is queued in the kernel and the wake finds it. Closing the queue
//! works the same way, with a `wake_all`.
//!
//! A woken worker counts itself out of `sleepers` the next time it holds
//! the lock. Until then the count is too high, which can only cause a
//! wake too many, never one too few.
//!
//! **Spurious or surplus wakes** are harmless: a woken worker re-checks
//! the queue and goes back to sleep if it is empty.
//!
//! **Waiting frames** (`help.rs`) take jobs too: a thread that waits for a
//! call of its own runs that call's queued jobs, and their descendants,
//! itself. [`Injector::take`] removes the job its caller picks under the
//! lock. When there is none, [`Injector::take_or_announce`] lets the caller
//! announce, in that same critical section, that it is going to sleep (on
//! its own futex word), and counts it in `waiters`. A push made after that
//! critical section reads `waiters` after its own, so it knows that a
//! waiting frame may sleep and should perhaps be poked; the frames
//! themselves it finds through the job's context (`help.rs`). The argument
//! is the one above, with the frame's word in place of `event`.
//!
//! **Shutdown.** [`Injector::close`] sets `closed` under the lock; from
//! then on [`Injector::push`] refuses jobs, so a worker that holds the lock
//! and sees `closed` with an empty queue knows that no job can ever come
//! from outside, and exits. Queued jobs are still handed out: closing never
//! loses work. Only [`Injector::push_nested`] still pushes, for work
//! already accepted (a `scope`'s task, a `fork_join`'s `b`): each such job
//! has a frame that waits for it and runs it itself if no worker is left.
//!
//! # Memory ordering
//!
//! The mutex orders everything that matters: a job, and the data it points
//! to, are written before the submitter's unlock (`Release`) and read after
//! a worker's lock (`Acquire`). `pending`, `closed` and `event` are
//! `Relaxed`: `pending` and `closed` are hints read outside the lock (a
//! stale value costs a spin or a lock, never a decision), and `event` is
//! only the futex word, whose change the lock ordering above already puts
//! after the sleeper's read.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;

use weft_futex::SpinWait;
use weft_futex::atomic::{AtomicBool, AtomicU32, AtomicUsize};
use weft_mutex::Mutex;

/// How many [`SpinWait`] schedules an idle worker spends watching for work
/// before it sleeps: a few microseconds, about as long as a futex wake
/// takes, so a worker that is about to get a job rarely pays for one.
/// (One under Miri, where spinning costs much and teaches nothing new.)
const IDLE_SPIN_SCHEDULES: u32 = if cfg!(miri) { 1 } else { 2 };

/// A closable FIFO of jobs on which idle consumers sleep.
///
/// The pool keeps one, of `JobRef`s; its tests use one of integers.
pub(crate) struct Injector<J> {
    /// The queue and what must change atomically with it.
    state: Mutex<State<J>>,
    /// The queue's length, stored under the lock and read without it by
    /// spinning workers.
    pending: AtomicUsize,
    /// `state.closed`, stored under the lock and read without it.
    closed: AtomicBool,
    /// The futex word sleeping workers wait on; submitters increment it
    /// before they wake.
    event: AtomicU32,
    /// Frames asleep in a helping wait: counted in the critical section
    /// that found nothing for them ([`take_or_announce`](Self::take_or_announce)),
    /// counted out when they wake.
    waiters: AtomicUsize,
}

/// The part of the injector that the lock protects.
struct State<J> {
    jobs: VecDeque<J>,
    /// Set once by `close`; `push` refuses jobs from then on.
    closed: bool,
    /// Workers that decided to sleep (under this lock) and have not yet
    /// counted themselves out again.
    sleepers: usize,
}

impl<J: Clone> Injector<J> {
    /// An open, empty queue.
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                closed: false,
                sleepers: 0,
            }),
            pending: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            event: AtomicU32::new(0),
            waiters: AtomicUsize::new(0),
        }
    }

    /// Appends `copies` copies of `job` in one critical section and wakes
    /// as many sleeping consumers as there are new jobs (at most). Returns
    /// `false`, and pushes nothing, if the queue is closed.
    pub(crate) fn push(&self, job: J, copies: usize) -> bool {
        let mut state = self.state.lock();
        if state.closed {
            return false;
        }
        state.jobs.extend(std::iter::repeat_n(job, copies));
        self.pending.store(state.jobs.len(), Relaxed);
        let sleepers = state.sleepers;
        drop(state);
        if sleepers > 0 && copies > 0 {
            self.wake(copies.min(sleepers), sleepers);
        }
        true
    }

    /// Appends `copies` copies of `job` like [`push`](Self::push), but even
    /// to a closed queue: the job belongs to work the pool has accepted,
    /// and has a waiting frame that runs it if no worker is left.
    ///
    /// Returns how many of the new jobs no sleeping consumer was woken for,
    /// if some waiting frame sleeps (counted by
    /// [`take_or_announce`](Self::take_or_announce) in a critical section
    /// before this one); 0 otherwise. The caller pokes waiting frames for
    /// those.
    pub(crate) fn push_nested(&self, job: J, copies: usize) -> usize {
        let mut state = self.state.lock();
        state.jobs.extend(std::iter::repeat_n(job, copies));
        self.pending.store(state.jobs.len(), Relaxed);
        let sleepers = state.sleepers;
        drop(state);
        let woken = copies.min(sleepers);
        if woken > 0 {
            self.wake(woken, sleepers);
        }
        // Relaxed: a waiter counts itself in before it unlocks, and this
        // load comes after our lock, so the lock orders the two.
        if self.waiters.load(Relaxed) == 0 {
            0
        } else {
            copies - woken
        }
    }

    /// Wakes `n` of the `sleepers` consumers counted under the lock.
    ///
    /// Each of them decided to sleep in a critical section that came before
    /// ours, so each read `event` before this increment: the increment
    /// makes every later `futex_wait` on the old value return at once, and
    /// the wakes find those already queued in the kernel. Some counted
    /// sleepers may already be awake (they count themselves out only when
    /// they next lock), so waking `min(jobs, sleepers)` can wake fewer
    /// threads than jobs; that is fine, because every awake consumer keeps
    /// popping until the queue is empty.
    #[cold]
    fn wake(&self, n: usize, sleepers: usize) {
        // Relaxed: the lock already orders this after the sleepers' reads
        // of `event` (see "Why no wake-up is lost" in the module docs).
        self.event.fetch_add(1, Relaxed);
        if n >= sleepers {
            weft_futex::wake_all(&self.event);
        } else {
            for _ in 0..n {
                weft_futex::wake_one(&self.event);
            }
        }
    }

    /// Takes the oldest job; when there is none, spins a little and then
    /// sleeps until a job comes. Returns `None` only when the queue is
    /// closed and empty: then no job can ever come.
    pub(crate) fn pop_or_sleep(&self) -> Option<J> {
        let mut spun = false;
        let mut counted = false;
        loop {
            let mut state = self.state.lock();
            if counted {
                state.sleepers -= 1;
                counted = false;
            }
            if let Some(job) = state.jobs.pop_front() {
                self.pending.store(state.jobs.len(), Relaxed);
                return Some(job);
            }
            if state.closed {
                return None;
            }
            if !spun {
                drop(state);
                spun = true;
                self.spin_for_work();
                continue;
            }
            // Still holding the lock that showed an empty, open queue:
            // count ourselves in and read the word we will sleep on.
            state.sleepers += 1;
            counted = true;
            let seen = self.event.load(Relaxed);
            drop(state);
            weft_futex::wait(&self.event, seen);
        }
    }

    /// Spins until a job or the close seems to have come, or the budget is
    /// spent. Reads only the lock-free mirrors; the caller re-checks under
    /// the lock. Does nothing under loom (see [`SpinWait`]).
    fn spin_for_work(&self) {
        let mut spin = SpinWait::repeated(IDLE_SPIN_SCHEDULES);
        while spin.spin() {
            // Relaxed: hints only.
            if self.pending.load(Relaxed) > 0 || self.closed.load(Relaxed) {
                return;
            }
        }
    }

    /// Removes and returns the queued job at the index `pick` returns, if
    /// it returns one; `pick` sees the queue, oldest job first, under the
    /// lock.
    pub(crate) fn take(&self, pick: impl FnOnce(&VecDeque<J>) -> Option<usize>) -> Option<J> {
        // Relaxed: a zero here is exact for jobs this thread pushed (see
        // `remove_where`); others' jobs are found by the caller's next look
        // under the lock, `take_or_announce`.
        if self.pending.load(Relaxed) == 0 {
            return None;
        }
        let mut state = self.state.lock();
        let i = pick(&state.jobs)?;
        let job = state.jobs.remove(i);
        self.pending.store(state.jobs.len(), Relaxed);
        job
    }

    /// [`take`](Self::take), and when `pick` finds nothing, calls
    /// `announce` in the same critical section: the caller's announcement
    /// that it goes to sleep. If `announce` returns `Some`, the caller is
    /// counted among the sleeping waiters, and must call
    /// [`waiter_awake`](Self::waiter_awake) once it has slept.
    ///
    /// Returns the job, or what `announce` returned.
    pub(crate) fn take_or_announce<T>(
        &self,
        pick: impl FnOnce(&VecDeque<J>) -> Option<usize>,
        announce: impl FnOnce() -> Option<T>,
    ) -> Result<J, Option<T>> {
        let mut state = self.state.lock();
        if let Some(i) = pick(&state.jobs) {
            let job = state
                .jobs
                .remove(i)
                .expect("`pick` returns the index of a queued job");
            self.pending.store(state.jobs.len(), Relaxed);
            return Ok(job);
        }
        let announced = announce();
        if announced.is_some() {
            // Relaxed: read by pushers after their own lock (see
            // `push_nested`).
            self.waiters.fetch_add(1, Relaxed);
        }
        Err(announced)
    }

    /// Counts out a waiter counted in by
    /// [`take_or_announce`](Self::take_or_announce), after its sleep.
    pub(crate) fn waiter_awake(&self) {
        // Relaxed: a count only; a count too high costs a needless poke.
        self.waiters.fetch_sub(1, Relaxed);
    }

    /// Removes every queued job for which `matches` is true, and returns how
    /// many it removed. The pool uses it to take back a blocking call's
    /// jobs that no worker has picked up.
    pub(crate) fn remove_where(&self, mut matches: impl FnMut(&J) -> bool) -> usize {
        // Relaxed: a zero here is exact for jobs this thread pushed, since
        // every update of `pending` happens under the lock, in one order.
        if self.pending.load(Relaxed) == 0 {
            return 0;
        }
        let mut state = self.state.lock();
        let before = state.jobs.len();
        state.jobs.retain(|job| !matches(job));
        self.pending.store(state.jobs.len(), Relaxed);
        before - state.jobs.len()
    }

    /// Refuses new jobs from now on and wakes every sleeping consumer, so
    /// that each drains the queue and then sees it closed. Returns `false`
    /// if it was already closed.
    pub(crate) fn close(&self) -> bool {
        let mut state = self.state.lock();
        if state.closed {
            return false;
        }
        state.closed = true;
        self.closed.store(true, Relaxed);
        let sleepers = state.sleepers;
        drop(state);
        if sleepers > 0 {
            self.wake(sleepers, sleepers);
        }
        true
    }

    /// Whether [`close`](Self::close) has been called. Exact for a thread
    /// that called `close` itself or synchronized with the thread that did.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        // Relaxed: read-read coherence gives the guarantee above; a racing
        // close is a race whichever way it is decided.
        self.closed.load(Relaxed)
    }

    /// The number of queued jobs at some recent instant.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.pending.load(Relaxed)
    }
}

impl<J> fmt::Debug for Injector<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Injector")
            .field("pending", &self.pending.load(Relaxed))
            .field("closed", &self.closed.load(Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::thread;

    use weft_testkit::Watchdog;

    use super::*;

    /// A consumer drains what was queued before the close, then sees the
    /// queue closed and empty, and stops; a closed queue refuses jobs.
    #[test]
    fn a_closed_queue_is_drained_and_then_ends_its_consumers() {
        let _watchdog = Watchdog::new(
            "a_closed_queue_is_drained_and_then_ends_its_consumers",
            crate::HANG,
        );
        let queue = Injector::new();
        thread::scope(|s| {
            let worker = s.spawn(|| {
                let mut seen = Vec::new();
                while let Some(job) = queue.pop_or_sleep() {
                    seen.push(job);
                }
                seen
            });
            assert!(queue.push(7, 2));
            queue.close();
            assert!(!queue.push(8, 1), "a closed queue refuses jobs");
            assert_eq!(worker.join().unwrap(), [7, 7]);
        });
    }
}

/// Loom models of the sleep protocol: on `weft-futex`'s futex model a
/// consumer that is never woken is a deadlock that loom reports. Breaking
/// the protocol (no wake on push, one wake for a batch, reading `event`
/// after unlocking) makes them fail.
#[cfg(all(test, loom))]
mod models {
    use weft_futex::loom::{self, thread};
    use weft_futex::sync::Arc;

    use super::*;

    /// A consumer that may be asleep is woken by each push (no close comes
    /// to rescue a missed wake).
    #[test]
    fn each_push_wakes_a_sleeping_consumer() {
        loom::model(|| {
            let queue = Arc::new(Injector::new());
            let consumer = {
                let queue = queue.clone();
                thread::spawn(move || [queue.pop_or_sleep(), queue.pop_or_sleep()])
            };
            assert!(queue.push(1, 1));
            assert!(queue.push(2, 1));
            assert_eq!(consumer.join().unwrap(), [Some(1), Some(2)]);
        });
    }

    /// Two consumers that may both be asleep, and two jobs pushed one at a
    /// time or as one batch: each push wakes as many sleepers as it brings
    /// jobs (a batch that woke one would leave the other asleep with a job
    /// queued), and each consumer gets one job.
    #[test]
    fn two_sleeping_consumers_get_two_jobs_pushed_singly_or_as_a_batch() {
        for batch in [false, true] {
            loom::model(move || {
                let queue = Arc::new(Injector::new());
                let consumers: Vec<_> = (0..2)
                    .map(|_| {
                        let queue = queue.clone();
                        thread::spawn(move || queue.pop_or_sleep())
                    })
                    .collect();
                let expected = if batch {
                    assert!(queue.push(7, 2));
                    vec![Some(7), Some(7)]
                } else {
                    assert!(queue.push(1, 1));
                    assert!(queue.push(2, 1));
                    vec![Some(1), Some(2)]
                };
                let mut got: Vec<_> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
                got.sort();
                assert_eq!(got, expected, "batch: {batch}");
            });
        }
    }

    /// A push racing a close is either refused or delivered: never lost,
    /// never duplicated, and the consumer always exits.
    #[test]
    fn a_push_racing_a_close_is_refused_or_delivered_once() {
        loom::model(|| {
            let queue = Arc::new(Injector::new());
            let consumer = {
                let queue = queue.clone();
                thread::spawn(move || {
                    let mut seen = Vec::new();
                    while let Some(job) = queue.pop_or_sleep() {
                        seen.push(job);
                    }
                    seen
                })
            };
            let closer = {
                let queue = queue.clone();
                thread::spawn(move || queue.close())
            };
            let accepted = queue.push(5, 1);
            assert!(closer.join().unwrap(), "only one close");
            let seen = consumer.join().unwrap();
            assert_eq!(seen, if accepted { vec![5] } else { vec![] });
            assert!(!queue.push(6, 1), "closed for good");
        });
    }
}
