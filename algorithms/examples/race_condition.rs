//! Lost updates: what happens when threads share a counter without a lock.
//!
//! The chapter opens with five threads that each increment a shared
//! counter `N` by reading it into a local `M` and then writing `M + 1`.
//! Because the read and the write are two separate steps, a second thread
//! can read the same old value in between, and then both write the same
//! result: one of the increments vanishes. This example first runs the
//! chapter's five chatty threads, then makes the race measurable by
//! letting two threads do many read-then-write increments, and finally
//! does the same with a Weft `Mutex` around each read-then-write, which
//! never loses an update.
//!
//! Safe Rust does not let threads share a plain mutable integer at all,
//! and forcing it with `unsafe` would be a data race: undefined behaviour,
//! not merely lost updates. So the counter here is an atomic integer used
//! the wrong way on purpose: a separate `load` and `store`, never an
//! indivisible `fetch_add`. Each access is well defined, but the pair is
//! not atomic, which is exactly the race the chapter describes.
//!
//! Run with `cargo run -p weft-algorithms --example race_condition [-- INCREMENTS]`.

use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::Duration;

use weft_barrier::Barrier;
use weft_futex::atomic::AtomicU64;
use weft_mutex::Mutex;

fn main() {
    let increments: u64 = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("INCREMENTS must be a number"))
        .unwrap_or(200_000);

    println!("== the chapter's five threads ==");
    chatty_threads();

    println!("\n== two threads, {increments} read-then-write increments each ==");
    let n = AtomicU64::new(0);
    let start = Barrier::new(2);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                start.wait(); // start together, so the increments overlap
                for _ in 0..increments {
                    let m = n.load(Relaxed); // M = N
                    n.store(m + 1, Relaxed); // N = M + 1
                }
            });
        }
    });
    let expected = 2 * increments;
    let got = n.load(Relaxed);
    println!(
        "without a lock: N = {got}, expected {expected}: {} updates lost",
        expected - got
    );
    if got == expected {
        println!("(this run happened to lose none; the race is still there, run it again)");
    }

    let n = Mutex::new(0u64);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..increments {
                    let mut guard = n.lock(); // enter the safe region
                    let m = *guard;
                    *guard = m + 1;
                } // leave it: the guard unlocks when dropped
            });
        }
    });
    println!(
        "with a weft Mutex: N = {}, expected {expected}",
        n.into_inner()
    );
}

/// The chapter's first program: five threads print what they read and
/// write, with a pause before exiting. Their output interleaves in a
/// different order each run, and with unlucky timing two of them read the
/// same `N`.
fn chatty_threads() {
    let n = AtomicU64::new(0);
    thread::scope(|s| {
        for i in 1..=5 {
            let n = &n;
            thread::Builder::new()
                .name(format!("Thread-{i}"))
                .spawn_scoped(s, move || {
                    let name = thread::current().name().unwrap_or_default().to_owned();
                    println!("{name} Starting {}", n.load(Relaxed));
                    let m = n.load(Relaxed);
                    println!("{m}");
                    n.store(m + 1, Relaxed);
                    thread::sleep(Duration::from_millis(10));
                    println!("{name} Exiting {}", n.load(Relaxed));
                })
                .expect("failed to start a thread");
        }
    });
}
