//! The dining philosophers, with Dijkstra's resource ordering.
//!
//! `n` philosophers sit at a round table with one chopstick between each
//! pair of neighbours: philosopher `i` has chopstick `i` on one side and
//! chopstick `(i + 1) % n` on the other, and needs both to eat. A
//! chopstick is a [`Mutex`].
//!
//! If every philosopher takes the chopstick on the same side first (say
//! `i`, then `i + 1`), all of them can hold one chopstick and wait for the
//! next, which the neighbour holds and will never put down: a cycle of
//! waits, a deadlock. (The `dining_philosophers` example shows this with
//! `--naive`, detecting it with a timed lock instead of hanging.)
//!
//! Dijkstra's fix numbers the chopsticks and makes everyone take the
//! lower-numbered one first ([`chopsticks`]). Philosopher `n - 1` then
//! reaches for chopstick `0` before chopstick `n - 1`, against the others'
//! direction. A deadlock would need a cycle of philosophers each holding a
//! chopstick and waiting for a higher-numbered one, but the numbers along
//! such a chain only grow, so it cannot close into a cycle: the holder of
//! the highest-numbered chopstick in use can always take its second one,
//! or has it already. Somebody always eats, so every philosopher
//! eventually eats (the Weft mutex does not promise fairness, but a
//! philosopher that has eaten thinks, and yields, before reaching again).
//!
//! # Examples
//!
//! ```
//! let report = weft_algorithms::philosophers::dine(5, 100);
//! assert_eq!(report.meals, [100; 5]);
//! assert_eq!(report.neighbours_ate_together, 0);
//! ```

use std::thread;
use std::time::{Duration, Instant};

use weft_barrier::Barrier;
use weft_futex::atomic::AtomicBool;
use weft_mutex::Mutex;

// Relaxed throughout: the `eating` flags are read and written only while
// holding the chopsticks that matter, and those mutexes order the accesses.
use std::sync::atomic::Ordering::Relaxed;

/// What happened at the table.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// How many meals each philosopher ate.
    pub meals: Vec<usize>,
    /// The longest time any philosopher waited between reaching for the
    /// first chopstick and holding both.
    pub longest_wait: Duration,
    /// Each philosopher's longest wait.
    pub longest_wait_per_philosopher: Vec<Duration>,
    /// How many times a philosopher, while eating, saw a neighbour eating
    /// too: always zero, since neighbours share a chopstick.
    pub neighbours_ate_together: usize,
    /// Wall-clock time of the whole dinner.
    pub elapsed: Duration,
}

/// The chopsticks philosopher `i` of `n` takes, in the order taken: the
/// lower-numbered of `i` and `(i + 1) % n` first.
///
/// # Panics
///
/// If `i >= n`.
///
/// # Examples
///
/// ```
/// use weft_algorithms::philosophers::chopsticks;
///
/// assert_eq!(chopsticks(0, 5), (0, 1));
/// assert_eq!(chopsticks(3, 5), (3, 4));
/// assert_eq!(chopsticks(4, 5), (0, 4)); // the one who goes against the flow
/// ```
pub fn chopsticks(i: usize, n: usize) -> (usize, usize) {
    assert!(i < n, "philosopher {i} does not sit at a table of {n}");
    let (left, right) = (i, (i + 1) % n);
    (left.min(right), left.max(right))
}

/// Seats `philosophers` philosophers at a table and lets each eat
/// `meals_each` meals, taking chopsticks in Dijkstra's order; returns what
/// happened. Never deadlocks.
///
/// Each philosopher, in its own thread, repeats: think (yield the CPU),
/// take its lower-numbered chopstick, then its higher-numbered one, eat
/// (count the meal and check that neither neighbour is eating), put both
/// down. All start together, behind a barrier, so that they contend from
/// the first meal.
///
/// # Panics
///
/// If `philosophers == 1`: a lone philosopher has a single chopstick and
/// can never eat. (Zero philosophers make an empty report.) Also if a
/// thread cannot be started.
///
/// # Examples
///
/// ```
/// let report = weft_algorithms::philosophers::dine(3, 10);
/// assert_eq!(report.meals, [10, 10, 10]);
/// ```
pub fn dine(philosophers: usize, meals_each: usize) -> Report {
    assert!(
        philosophers != 1,
        "dine: a lone philosopher has only one chopstick and can never eat"
    );
    let n = philosophers;
    let table: Vec<Mutex<()>> = (0..n).map(|_| Mutex::new(())).collect();
    let eating: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
    let start_together = Barrier::new(n);
    let started = Instant::now();
    let seats: Vec<Seat> = thread::scope(|s| {
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let (table, eating, start_together) = (&table, &eating, &start_together);
                s.spawn(move || {
                    let (first, second) = chopsticks(i, n);
                    let neighbours = [(i + n - 1) % n, (i + 1) % n];
                    let mut seat = Seat::default();
                    start_together.wait();
                    for _ in 0..meals_each {
                        thread::yield_now(); // think
                        let reached = Instant::now();
                        let _first = table[first].lock();
                        let _second = table[second].lock();
                        seat.longest_wait = seat.longest_wait.max(reached.elapsed());
                        // Eat. Both chopsticks shared with the neighbours
                        // are held, so neither can be eating.
                        eating[i].store(true, Relaxed);
                        if neighbours.iter().any(|&j| eating[j].load(Relaxed)) {
                            seat.overlaps += 1;
                        }
                        seat.meals += 1;
                        eating[i].store(false, Relaxed);
                    }
                    seat
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    Report {
        meals: seats.iter().map(|seat| seat.meals).collect(),
        longest_wait: seats
            .iter()
            .map(|seat| seat.longest_wait)
            .max()
            .unwrap_or_default(),
        longest_wait_per_philosopher: seats.iter().map(|seat| seat.longest_wait).collect(),
        neighbours_ate_together: seats.iter().map(|seat| seat.overlaps).sum(),
        elapsed: started.elapsed(),
    }
}

/// One philosopher's record.
#[derive(Default)]
struct Seat {
    meals: usize,
    longest_wait: Duration,
    overlaps: usize,
}
