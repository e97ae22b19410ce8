//! A lock makes the read-then-write increment safe, and `join` waits for
//! the threads.
//!
//! The chapter's fix for the lost updates of `race_condition`: each thread
//! holds a lock from the moment it reads the counter until it has written
//! it back, so no other thread can read a stale value in between. The main
//! thread keeps the handles of the threads it starts and joins them all
//! before printing, so it prints the final value. Joining each thread
//! right after starting it would also give 5, but the threads would run
//! one after another, with no parallelism at all.
//!
//! The chapter then redoes the program with processes, which share nothing
//! unless given a shared `Value` and a lock explicitly. Threads in Rust
//! share memory, but the borrow checker plays the same role: a thread can
//! only touch the counter through what it is given, here a reference to a
//! `Mutex` that owns the counter, so the value cannot be reached without
//! taking the lock. The last part runs the library's `increment_counter`
//! with more threads and increments.
//!
//! Run with `cargo run -p weft-algorithms --example locked_counter`.

use std::thread;

use weft_mutex::Mutex;

fn main() {
    let n = Mutex::new(0);

    thread::scope(|s| {
        let mut threads = Vec::new();
        for _ in 0..5 {
            let t = s.spawn(|| {
                let mut guard = n.lock(); // enter the safe region
                let m = *guard;
                *guard = m + 1;
            }); // leave it: the guard is dropped at the end of the closure
            threads.push(t);
        }
        // Wait until they finish.
        for t in threads {
            t.join().expect("a worker panicked");
        }
        println!("Value of N is: {}", *n.lock());
    });

    let (workers, increments) = (8, 10_000);
    let total = weft_algorithms::increment_counter(workers, increments);
    println!(
        "increment_counter: {workers} threads × {increments} increments = {total} (expected {})",
        workers * increments
    );
}
