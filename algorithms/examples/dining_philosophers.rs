//! The dining philosophers: a deadlock, and Dijkstra's ordering that
//! prevents it.
//!
//! Five philosophers sit around a table with one chopstick between each
//! pair of neighbours, and each needs both neighbouring chopsticks to eat.
//! The obvious protocol, "take the left chopstick, then the right", can
//! deadlock: if everyone takes their left chopstick at the same moment,
//! everyone waits for a right chopstick that a neighbour holds and will
//! never release. Dijkstra's fix numbers the chopsticks and has everyone
//! take the lower-numbered of their two first; one philosopher then
//! reaches in the opposite direction, the circle of waiting cannot close,
//! and someone can always eat.
//!
//! By default the example runs the chapter's program with Dijkstra's order,
//! printing as each philosopher waits for a chopstick and eats (for a few
//! rounds instead of forever, and sleeping milliseconds instead of
//! seconds), and then the library's `philosophers::dine`, which reports the
//! meals and the longest wait.
//!
//! With `--naive`, it stages the deadlock instead: every philosopher takes
//! the left chopstick, waits at a barrier until all have theirs, and then
//! tries the right one. A plain `lock` would hang forever; `try_lock_for`
//! gives up after a timeout, which is how the example detects, and reports,
//! that every philosopher was stuck waiting for a neighbour.
//!
//! Run with `cargo run -p weft-algorithms --example dining_philosophers [-- --naive]`.

use std::thread;
use std::time::Duration;

use rand::Rng;
use weft_algorithms::philosophers::{self, chopsticks};
use weft_barrier::Barrier;
use weft_mutex::Mutex;

const PHILOSOPHERS: usize = 5;

fn main() {
    if std::env::args().skip(1).any(|arg| arg == "--naive") {
        naive();
    } else {
        ordered();
    }
}

/// The chapter's solution: take the lower-numbered chopstick first.
fn ordered() {
    let rounds = 3;
    let table: Vec<Mutex<()>> = (0..PHILOSOPHERS).map(|_| Mutex::new(())).collect();
    thread::scope(|s| {
        for i in 0..PHILOSOPHERS {
            let table = &table;
            s.spawn(move || {
                let (first, last) = chopsticks(i, PHILOSOPHERS);
                let mut rng = rand::rng();
                for _ in 0..rounds {
                    println!("Philosopher {i} waits for first chopstick");
                    let _first = table[first].lock();
                    println!("Philosopher {i} waits for second chopstick");
                    let _last = table[last].lock();
                    println!("Philosopher {i} eats");
                    thread::sleep(Duration::from_millis(rng.random_range(0..=2))); // eat
                }
            });
        }
    });

    let meals = 1000;
    let report = philosophers::dine(PHILOSOPHERS, meals);
    println!(
        "philosophers::dine({PHILOSOPHERS}, {meals}): meals {:?}, longest wait {:?}, \
         neighbours ate together {} times, {:?} in all",
        report.meals, report.longest_wait, report.neighbours_ate_together, report.elapsed
    );
}

/// Everyone takes the left chopstick first: a guaranteed deadlock, caught
/// by a timeout.
fn naive() {
    let timeout = Duration::from_millis(200);
    let table: Vec<Mutex<()>> = (0..PHILOSOPHERS).map(|_| Mutex::new(())).collect();
    let all_hold_left = Barrier::new(PHILOSOPHERS);
    let all_gave_up = Barrier::new(PHILOSOPHERS);
    let stuck = thread::scope(|s| {
        let threads: Vec<_> = (0..PHILOSOPHERS)
            .map(|i| {
                let (table, all_hold_left, all_gave_up) = (&table, &all_hold_left, &all_gave_up);
                s.spawn(move || {
                    let (left, right) = (i, (i + 1) % PHILOSOPHERS);
                    println!("Philosopher {i} waits for the left chopstick ({left})");
                    let _left = table[left].lock();
                    // Make the unlucky timing certain: everybody holds a
                    // left chopstick before anybody reaches right.
                    all_hold_left.wait();
                    println!("Philosopher {i} waits for the right chopstick ({right})");
                    let ate = match table[right].try_lock_for(timeout) {
                        Some(_right) => {
                            println!("Philosopher {i} eats");
                            true
                        }
                        None => {
                            println!(
                                "Philosopher {i} gave up after {timeout:?}: chopstick {right} is held by philosopher {right}"
                            );
                            false
                        }
                    };
                    // Keep the left chopstick until everyone has tried, so
                    // no one is rescued by a neighbour giving up.
                    all_gave_up.wait();
                    !ate
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a philosopher panicked"))
            .filter(|&stuck| stuck)
            .count()
    });
    if stuck == PHILOSOPHERS {
        println!(
            "deadlock detected: all {PHILOSOPHERS} philosophers hold their left chopstick and \
             wait for their right one, which their neighbour holds; with plain `lock` this \
             program would hang forever. Run without --naive for Dijkstra's ordering."
        );
    } else {
        println!("{stuck} of {PHILOSOPHERS} philosophers were stuck");
    }
}
