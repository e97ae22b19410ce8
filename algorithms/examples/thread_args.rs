//! Passing arguments to threads, and what "by value" means for a thread.
//!
//! The chapter starts threads with arguments: thread `i` gets `(i, i + 1)`
//! and prints their sum, and the sums come out in whatever order the
//! threads happen to run. It then asks whether a thread could increment a
//! counter passed to it as an argument, and answers no: a number is passed
//! by value, so the thread only changes its own copy. An array is passed
//! by reference, which is why the parallel sort can sort blocks of the
//! caller's array.
//!
//! In Rust the same distinction is explicit: `move` gives each thread its
//! own copy of a number, while a thread that must change the caller's data
//! gets a reference, here to a Weft `Mutex`, or a `&mut` to its own
//! disjoint block of a slice.
//!
//! Run with `cargo run -p weft-algorithms --example thread_args`.

use std::thread;

use weft_mutex::Mutex;

fn worker(arg1: u32, arg2: u32) {
    println!("{}", arg1 + arg2);
}

fn main() {
    thread::scope(|s| {
        for i in 0..5 {
            s.spawn(move || worker(i, i + 1));
        }
    });

    // A copy: each thread increments its own `n`; the caller's stays 0.
    let n = 0;
    thread::scope(|s| {
        for _ in 0..5 {
            s.spawn(move || {
                let mut n = n;
                n += 1;
                n
            });
        }
    });
    println!("passed by value, N is still {n}");

    // A reference to shared, locked data: the increments land.
    let shared = Mutex::new(0);
    thread::scope(|s| {
        for _ in 0..5 {
            s.spawn(|| *shared.lock() += 1);
        }
    });
    println!(
        "passed by reference to a Mutex, N is {}",
        shared.into_inner()
    );

    // Disjoint blocks of one array: each thread gets its own `&mut` block.
    let mut array = [0u32; 10];
    thread::scope(|s| {
        for (i, block) in array.chunks_mut(4).enumerate() {
            s.spawn(move || block.fill(i as u32 + 1));
        }
    });
    println!("each thread filled its own block: {array:?}");
}
