//! The parallel algorithms of the course chapter Weft comes from, built on
//! nothing but Weft's own primitives.
//!
//! The chapter teaches parallel processing with Python's `threading` and
//! `multiprocessing`: split the work into disjoint blocks, hand the blocks
//! to threads or to a pool, protect what is shared, and collect partial
//! results. Each function here is one of its programs, grown up: generic,
//! fast, and checked against a sequential reference in `tests/`.
//!
//! | function | the chapter's idea | built on |
//! |---|---|---|
//! | [`sum`], [`matrix_sum`] | partial sums of disjoint blocks (or rows), then the sum of the partials | [`Pool::map`](weft_pool::Pool::map) |
//! | [`matvec`] | `y = A x`, rows in parallel | [`Pool::map`](weft_pool::Pool::map) |
//! | [`sort`], [`sort_in_blocks`] | sort `T` blocks in parallel, then merge them in `O(n log T)` | [`Pool::map`](weft_pool::Pool::map), all inside one [`Pool::apply`](weft_pool::Pool::apply) task |
//! | [`merge_sorted`] | merge `K` sorted lists in pairwise rounds | [`Pool::starmap`](weft_pool::Pool::starmap) |
//! | [`populate_random`] | fill disjoint blocks of an array in parallel | [`Pool::map`](weft_pool::Pool::map) |
//! | [`prefix_sum`] | threads that wait for each other between two phases | `weft_barrier::Barrier` |
//! | [`increment_counter`] | a lock makes a read-then-write exact | `weft_mutex::Mutex` |
//! | [`producer_consumer`] | producers and consumers over a FIFO | `weft_queue::Queue`, or `Mutex<VecDeque>` + `weft_semaphore::Semaphore` |
//! | [`philosophers`] | Dijkstra's resource ordering rules out deadlock | `weft_mutex::Mutex` |
//!
//! Every function takes its [`Pool`](weft_pool::Pool) (or its number of
//! threads) explicitly, so a program decides how many threads it uses and
//! can share one pool between calls. The crate's `examples/` directory
//! holds a runnable counterpart of every program in the chapter (`cargo
//! run -p weft-algorithms --example dining_philosophers -- --naive`).
//!
//! # When to use it
//!
//! To learn, first: each module tells how its algorithm works and why it is
//! correct. The functions are meant to be fast too (the sort merges in
//! parallel, the sums keep several accumulators so that floating-point
//! additions overlap), and are benchmarked against sequential code and
//! rayon. For general data parallelism over iterators, though, rayon's
//! adaptive splitting fits more shapes of work than a pool with fixed
//! chunks, and the thread-based functions ([`increment_counter`],
//! [`producer_consumer`], [`philosophers`]) are demonstrations that report
//! what happened rather than building blocks.
//!
//! # Example
//!
//! ```
//! use weft_pool::Pool;
//!
//! let pool = Pool::new(2);
//! let mut data = weft_algorithms::populate_random(&pool, 10_000, 0..=1000, 7);
//! let total: i64 = data.iter().map(|&x| i64::from(x)).sum();
//!
//! let wide: Vec<i64> = data.iter().map(|&x| i64::from(x)).collect();
//! assert_eq!(weft_algorithms::sum(&pool, &wide), total);
//!
//! weft_algorithms::sort(&pool, &mut data);
//! assert!(data.is_sorted());
//! ```

mod counter;
mod matvec;
mod merge;
pub mod philosophers;
mod prefix_sum;
pub mod producer_consumer;
mod random;
mod sort;
mod sum;

pub use counter::increment_counter;
pub use matvec::matvec;
pub use merge::merge_sorted;
pub use prefix_sum::prefix_sum;
pub use random::{RANDOM_BLOCK, populate_random};
pub use sort::{sort, sort_in_blocks};
pub use sum::{matrix_sum, sum};
