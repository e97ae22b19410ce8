//! The `lock` workload: `weft_mutex::Mutex` and `Condvar`.
//!
//! - **Counter.** Two threads increment one counter under the lock, taken
//!   with `lock`, `try_lock` or `try_lock_for` (random timeout), sometimes
//!   pausing while they hold it. A flag set inside the critical section
//!   catches two holders at once; at the end the counter must equal the
//!   increments the threads made.
//! - **Hand-off.** Two producers put the numbers 0, 1, 2, ... into a
//!   one-value mailbox and two consumers take them out, each side sleeping
//!   on its own condvar, woken with `notify_one` or `notify_all`. A thread
//!   waits with `wait_while` (no timeout: a lost wake-up hangs it, and the
//!   watchdog reports the hang) or with `wait_timeout` and a random timeout.
//!   The numbers must come out in order, none skipped or repeated.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;

use rand::Rng;
use weft_mutex::{Condvar, Mutex, MutexGuard};

use super::{Ctx, Op};

/// The mailbox of the hand-off.
struct Mailbox {
    /// The number waiting to be taken, if any.
    slot: Option<u64>,
    /// The next number to put in.
    produced: u64,
    /// The next number expected out.
    taken: u64,
    /// Set at the end of the run: every waiter returns.
    closing: bool,
}

/// The mailbox and a condvar for each side.
struct HandOff {
    mailbox: Mutex<Mailbox>,
    not_full: Condvar,
    not_empty: Condvar,
}

pub(super) fn run(ctx: &mut Ctx<'_>) {
    let soak = ctx.soak;
    let counter = Mutex::new(0_u64);
    let inside = AtomicBool::new(false);
    let hand_off = HandOff {
        mailbox: Mutex::new(Mailbox {
            slot: None,
            produced: 0,
            taken: 0,
            closing: false,
        }),
        not_full: Condvar::new(),
        not_empty: Condvar::new(),
    };
    let increments: u64 = thread::scope(|s| {
        let counters: Vec<_> = (0..2)
            .map(|i| {
                soak.spawn(s, format!("lock-counter-{i}"), |ctx| {
                    increment(ctx, &counter, &inside)
                })
            })
            .collect();
        for i in 0..2 {
            soak.spawn(s, format!("lock-producer-{i}"), |ctx| {
                hand(ctx, &hand_off, true);
            });
            soak.spawn(s, format!("lock-consumer-{i}"), |ctx| {
                hand(ctx, &hand_off, false);
            });
        }
        ctx.wait_for_stop();
        ctx.track(Op::MutexLock, || hand_off.mailbox.lock()).closing = true;
        ctx.track(Op::CondvarNotify, || {
            hand_off.not_full.notify_all();
            hand_off.not_empty.notify_all();
        });
        counters
            .into_iter()
            .map(|c| c.join().ok().flatten().unwrap_or(0))
            .sum()
    });

    let value = counter.into_inner();
    if value < increments {
        soak.lost(
            increments - value,
            format!("the mutex counter reads {value} after {increments} increments"),
        );
    } else if value > increments {
        soak.duplicated(
            value - increments,
            format!("the mutex counter reads {value} after {increments} increments"),
        );
    }
    let mailbox = hand_off.mailbox.into_inner();
    let left = u64::from(mailbox.slot.is_some());
    if mailbox.produced != mailbox.taken + left {
        soak.broken(format!(
            "the condvar hand-off put in {} numbers, took out {} and left {left}",
            mailbox.produced, mailbox.taken
        ));
    }
}

/// The counter thread: increments under the lock until the run stops, and
/// returns how many times it did.
fn increment(ctx: &mut Ctx<'_>, counter: &Mutex<u64>, inside: &AtomicBool) -> u64 {
    let mut done = 0;
    while ctx.running() {
        let guard = match ctx.rng.random_range(0..4) {
            0 | 1 => Some(ctx.track(Op::MutexLock, || counter.lock())),
            2 => ctx.track(Op::MutexTryLock, || counter.try_lock()),
            _ => {
                let timeout = ctx.timeout();
                ctx.track_timeout(
                    Op::MutexTryLockFor,
                    timeout,
                    || counter.try_lock_for(timeout),
                    Option::is_none,
                )
            }
        };
        let Some(mut guard) = guard else {
            continue;
        };
        // Relaxed: the lock orders the holders; if it does not, the swap
        // (a read-modify-write, so it reads the latest value) sees `true`.
        if inside.swap(true, Relaxed) {
            ctx.soak
                .broken("two threads held the mutex at once".to_owned());
        }
        *guard += 1;
        done += 1;
        ctx.pause();
        inside.store(false, Relaxed);
        drop(guard);
    }
    done
}

/// A hand-off thread: a producer puts the next number into the mailbox, a
/// consumer takes it and checks it is the one expected.
fn hand(ctx: &mut Ctx<'_>, hand_off: &HandOff, producer: bool) {
    let (my_turn, other_turn) = if producer {
        (&hand_off.not_full, &hand_off.not_empty)
    } else {
        (&hand_off.not_empty, &hand_off.not_full)
    };
    // Whether this side must still wait: the slot is full for a producer,
    // empty for a consumer.
    let blocked = |m: &mut Mailbox| m.slot.is_some() == producer && !m.closing;
    loop {
        let mut mailbox: MutexGuard<'_, Mailbox> =
            ctx.track(Op::MutexLock, || hand_off.mailbox.lock());
        if ctx.rng.random_bool(0.5) {
            mailbox = ctx.track(Op::CondvarWaitWhile, || {
                my_turn.wait_while(mailbox, blocked)
            });
        } else {
            let timeout = ctx.timeout();
            let (guard, _) = ctx.track_timeout(
                Op::CondvarWaitTimeout,
                timeout,
                || my_turn.wait_timeout(mailbox, timeout),
                |&(_, timed_out)| timed_out,
            );
            mailbox = guard;
            if blocked(&mut mailbox) {
                // Timed out, or woken for nothing: try again.
                continue;
            }
        }
        if mailbox.closing {
            return;
        }
        if producer {
            mailbox.slot = Some(mailbox.produced);
            mailbox.produced += 1;
        } else {
            let value = mailbox.slot.take().expect("a consumer waits for a value");
            if value != mailbox.taken {
                ctx.soak.broken(format!(
                    "the condvar hand-off gave {value} where {} was due",
                    mailbox.taken
                ));
            }
            mailbox.taken += 1;
        }
        drop(mailbox);
        let all = ctx.rng.random_ratio(1, 4);
        ctx.track(Op::CondvarNotify, || {
            if all {
                other_turn.notify_all();
            } else {
                other_turn.notify_one();
            }
        });
    }
}
