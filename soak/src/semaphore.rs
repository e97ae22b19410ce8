//! The `semaphore` workload: `weft_semaphore::Semaphore`.
//!
//! Three threads share a semaphore of [`PERMITS`] permits. Each takes one
//! or several at random (`acquire`, `try_acquire`, `try_acquire_for` with a
//! random timeout, `acquire_many`, `try_acquire_many`, `access`), counts
//! them into an atomic "in use" total that must never exceed [`PERMITS`],
//! holds them for a moment, counts them out and gives them back
//! (`release`, `release_many`, or the guard's drop). At the end every
//! permit must be back.
//!
//! Waiters are not served in order, so an `acquire_many` can be overtaken
//! for as long as the others keep some permits taken; the threads pause
//! now and then between rounds, so it gets its turn long before the
//! watchdog would call it hung.

use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;

use rand::Rng;
use weft_semaphore::Semaphore;

use super::{Ctx, Op};

/// The semaphore's permits.
const PERMITS: u32 = 4;

pub(super) fn run(ctx: &mut Ctx<'_>) {
    let soak = ctx.soak;
    let semaphore = Semaphore::new(PERMITS);
    let in_use = AtomicU32::new(0);
    thread::scope(|s| {
        for i in 0..3 {
            soak.spawn(s, format!("semaphore-{i}"), |ctx| {
                while ctx.running() {
                    take_and_give_back(ctx, &semaphore, &in_use);
                    ctx.pause();
                }
            });
        }
    });
    let available = semaphore.available_permits();
    if available < PERMITS {
        soak.lost(
            u64::from(PERMITS - available),
            format!("the semaphore holds {available} of its {PERMITS} permits at the end"),
        );
    } else if available > PERMITS {
        soak.duplicated(
            u64::from(available - PERMITS),
            format!("the semaphore holds {available} permits at the end, made with {PERMITS}"),
        );
    }
}

/// One round: take permits in a random way, check the total held, give
/// them back.
fn take_and_give_back(ctx: &mut Ctx<'_>, semaphore: &Semaphore, in_use: &AtomicU32) {
    let many = ctx.rng.random_range(1..=PERMITS);
    let taken = match ctx.rng.random_range(0..6) {
        0 => {
            ctx.track(Op::Acquire, || semaphore.acquire());
            1
        }
        1 => u32::from(ctx.track(Op::TryAcquire, || semaphore.try_acquire())),
        2 => {
            let timeout = ctx.timeout();
            let took = ctx.track_timeout(
                Op::TryAcquireFor,
                timeout,
                || semaphore.try_acquire_for(timeout),
                |&took| !took,
            );
            u32::from(took)
        }
        3 => {
            ctx.track(Op::AcquireMany, || semaphore.acquire_many(many));
            many
        }
        4 => {
            let took = ctx.track(Op::TryAcquireMany, || semaphore.try_acquire_many(many));
            if took { many } else { 0 }
        }
        _ => {
            let permit = ctx.track(Op::Access, || semaphore.access());
            hold(ctx, in_use, 1);
            ctx.track(Op::Release, || drop(permit));
            return;
        }
    };
    if taken == 0 {
        return;
    }
    hold(ctx, in_use, taken);
    ctx.track(Op::Release, || {
        if taken == 1 {
            semaphore.release();
        } else {
            semaphore.release_many(taken);
        }
    });
}

/// Counts `taken` permits in, checks the total, pauses, and counts them
/// out again (before they are released, so that the total never counts a
/// permit twice).
fn hold(ctx: &mut Ctx<'_>, in_use: &AtomicU32, taken: u32) {
    // Relaxed: the semaphore's own acquire and release order these counts
    // with those of the previous and next holders.
    let held = in_use.fetch_add(taken, Relaxed) + taken;
    if held > PERMITS {
        ctx.soak.broken(format!(
            "{held} semaphore permits held at once, of {PERMITS}"
        ));
    }
    ctx.pause();
    in_use.fetch_sub(taken, Relaxed);
}
