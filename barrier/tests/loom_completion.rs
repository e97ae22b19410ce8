//! Loom models of the barrier's completion step and of `arrive_and_drop`:
//! the step runs once per round, after every arrival's writes and before
//! any thread is released (loom checks every access to the cells, the
//! step's own state included); a thread leaving races the last arrival and
//! the round still ends exactly once; a timed waiter's withdrawal races the
//! closing of a round.
#![cfg(loom)]

use std::time::Duration;

use weft_barrier::Barrier;
use weft_futex::UnsafeCell;
use weft_futex::loom::{self, sync::Arc, thread};

/// Cells written by the threads before `wait`, read by the completion
/// step, which writes `total`, read by everybody after `wait`.
struct Cells {
    arrivals: [UnsafeCell<usize>; 2],
    total: UnsafeCell<usize>,
    runs: UnsafeCell<usize>,
}

// SAFETY: the cells are plain shared data whose accesses the barrier must
// order; loom checks every one of them and reports any two it does not.
unsafe impl Sync for Cells {}

impl Cells {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            arrivals: [UnsafeCell::new(0), UnsafeCell::new(0)],
            total: UnsafeCell::new(0),
            runs: UnsafeCell::new(0),
        })
    }
}

/// A model builder with at most two preemptions, whatever
/// `LOOM_MAX_PREEMPTIONS` says: with three, the models of two rounds or
/// three threads run for minutes instead of seconds, and two already cover
/// a preemption between a leave's two steps and one inside the ending of
/// the round.
fn bounded() -> loom::model::Builder {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(2, |bound| bound.min(2)));
    builder
}

/// A barrier for two whose completion sums the arrivals' cells into
/// `total` and counts its runs, all in plain cells.
fn summing_barrier(cells: &Arc<Cells>) -> Barrier {
    let cells = cells.clone();
    Barrier::with_completion(2, move || {
        // SAFETY: the completion runs after both arrivals' writes and
        // before either thread reads `total` or writes again; loom reports
        // any of these accesses that the barrier fails to order.
        unsafe {
            let sum = cells.arrivals.iter().map(|c| c.with(|p| *p)).sum();
            cells.total.with_mut(|p| *p = sum);
            cells.runs.with_mut(|p| *p += 1);
        }
    })
}

/// Two threads, two rounds: each writes its cell, waits; the completion
/// sums; each reads the sum after its wait. At most two preemptions (see
/// [`bounded`]).
#[test]
fn the_completion_runs_between_the_arrivals_and_the_release() {
    bounded().check(|| {
        let cells = Cells::new();
        let barrier = Arc::new(summing_barrier(&cells));
        let run = move |barrier: Arc<Barrier>, cells: Arc<Cells>, me: usize| {
            for round in 1..=2 {
                // SAFETY: only thread `me` writes its cell; the barrier
                // orders it with the completion's read.
                cells.arrivals[me].with_mut(|p| unsafe { *p = round * (me + 1) });
                barrier.wait();
                // SAFETY: written by the completion before the release.
                let total = cells.total.with(|p| unsafe { *p });
                assert_eq!(total, round * 3, "the completion's sum is missing");
                // The next round's writes wait for both reads.
                barrier.wait();
            }
        };
        let other = {
            let (barrier, cells) = (barrier.clone(), cells.clone());
            thread::spawn(move || run(barrier, cells, 1))
        };
        run(barrier, cells.clone(), 0);
        other.join().unwrap();
        // SAFETY: both threads are done.
        assert_eq!(cells.runs.with(|p| unsafe { *p }), 4);
    });
}

/// A barrier for three: one thread waits, one leaves, the main thread
/// waits. Whichever of the leave and the last arrival comes first, the
/// round ends exactly once (no deadlock, one completion), and the next
/// round needs the two that remain. At most two preemptions (see
/// [`bounded`]).
#[test]
fn a_thread_leaving_races_the_last_arrival() {
    bounded().check(|| {
        let cells = Cells::new();
        let barrier = {
            let cells = cells.clone();
            Arc::new(Barrier::with_completion(3, move || {
                // SAFETY: only the thread ending a round runs the step;
                // loom reports two runs that the barrier does not order.
                cells.runs.with_mut(|p| unsafe { *p += 1 });
            }))
        };
        let waiter = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                barrier.wait();
            })
        };
        let leaver = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.arrive_and_drop())
        };
        barrier.wait();
        leaver.join().unwrap();
        barrier.wait();
        waiter.join().unwrap();
        // SAFETY: every thread is done.
        assert_eq!(cells.runs.with(|p| unsafe { *p }), 2);
    });
}

/// Without a completion step: a barrier for two, one thread waits and the
/// other leaves; the waiter is released (by the leave, or by its own
/// arrival if the leave came first) and is alone from then on.
#[test]
fn leaving_releases_the_waiter_it_was_holding_up() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let leaver = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.arrive_and_drop())
        };
        barrier.wait();
        assert!(barrier.wait().is_leader(), "alone, every wait leads");
        leaver.join().unwrap();
    });
}

/// A timed waiter races the arrival that closes the round and runs the
/// completion: it either withdraws before the round is complete (then
/// waits again) or is released with it; either way the step runs once a
/// round, and the second round completes.
#[test]
fn a_timed_waiter_races_the_closing_of_its_round() {
    loom::model(|| {
        let cells = Cells::new();
        let barrier = Arc::new(summing_barrier(&cells));
        let timed = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                if barrier.wait_timeout(Duration::from_secs(3600)).is_none() {
                    barrier.wait();
                }
                barrier.wait();
            })
        };
        barrier.wait();
        barrier.wait();
        timed.join().unwrap();
        // SAFETY: both threads are done.
        assert_eq!(cells.runs.with(|p| unsafe { *p }), 2);
    });
}
