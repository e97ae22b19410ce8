//! Parallel array sum: workers send partial sums back through a queue, and
//! the parent collects them before joining the workers.
//!
//! The chapter sums 250 random integers with 16 processes: each sums its
//! own block and puts the partial sum into a shared queue, and the parent
//! takes 16 values from the queue, adds them up, and only then joins the
//! processes. A worker's return value would be lost, so the queue is how
//! results travel back.
//!
//! The order (collect first, join second) matters. A worker that has put
//! something into a channel may not be able to finish until someone takes
//! it out: in Python, a child process waits until its queued data has been
//! flushed into the pipe. Here the same happens with a bounded Weft queue
//! that holds fewer values than there are workers: a worker whose `push`
//! finds the queue full sleeps until the parent pops. Had the parent
//! joined the workers first, it would wait for workers that wait for it,
//! forever. Collecting first drains the queue as values arrive, so every
//! worker finishes.
//!
//! The last line uses the library's `sum`, which hands the partial sums
//! back through the pool's result vector instead.
//!
//! Run with `cargo run -p weft-algorithms --example array_sum [-- N]`.

use std::thread;

use rand::Rng;
use weft_pool::Pool;
use weft_queue::Queue;

fn worker(a: &[u64], queue: &Queue<u64>) {
    queue
        .push(a.iter().sum())
        .expect("the parent never closes the queue");
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("N must be a number"))
        .unwrap_or(250);
    let mut rng = rand::rng();
    let a: Vec<u64> = (0..n).map(|_| rng.random_range(0..1000)).collect();
    let nproc = 16;
    let bsize = n / nproc + 1;
    // Room for only four partial sums: workers beyond that wait in `push`.
    let queue = Queue::bounded(4);

    let asum: u64 = thread::scope(|s| {
        let mut procs = Vec::with_capacity(nproc);
        for i in 0..nproc {
            // Figure out the block's limits (the last blocks may be empty).
            let (start, end) = ((i * bsize).min(n), ((i + 1) * bsize).min(n));
            let (block, queue) = (&a[start..end], &queue);
            procs.push(s.spawn(move || worker(block, queue)));
        }
        // Collect one partial sum per worker first...
        let asum = (0..nproc)
            .map(|_| queue.pop().expect("the queue is never closed"))
            .sum();
        // ...then join them.
        for p in procs {
            p.join().expect("a worker panicked");
        }
        asum
    });
    println!("{asum} {}", a.iter().sum::<u64>());

    let pool = Pool::new(thread::available_parallelism().map_or(2, |p| p.get()));
    println!("weft_algorithms::sum: {}", weft_algorithms::sum(&pool, &a));
}
