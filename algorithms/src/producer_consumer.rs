//! Producers and consumers sharing a FIFO, two ways.
//!
//! The chapter's producer–consumer problem: producer threads generate items
//! into a FIFO, consumer threads take them out and process them, and items
//! must come out in the order they went in. Two things need
//! synchronizing: consumers must wait while the FIFO is empty, and the
//! FIFO itself must survive concurrent pushes and pops.
//!
//! - [`run`] uses a Weft [`Queue`], which does both: `pop` sleeps while the
//!   queue is empty, and the queue is safe to share. It is bounded, so a
//!   producer that gets ahead also waits, for room. When every producer
//!   is done, the queue is closed; consumers drain it and stop.
//! - [`run_with_semaphore`] is the chapter's own construction: a plain
//!   `VecDeque` behind a [`Mutex`], and a [`Semaphore`] counting the items
//!   in it. A producer pushes under the lock and then `release`s one
//!   permit; a consumer `acquire`s a permit (sleeping while there is none)
//!   and then pops under the lock, knowing an item is there. To stop the
//!   consumers, one end marker per consumer is pushed after the last item.
//!
//! Item `(p, s)` is producer `p`'s `s`-th item. Each run checks what came
//! out against what went in: nothing lost, nothing duplicated, and each
//! consumer received each producer's items in increasing order. That last
//! property is what FIFO means with several consumers: a producer's items
//! leave the queue in order, and each consumer takes its share of them in
//! that order (which consumer gets which item is up to the scheduler).
//!
//! # Examples
//!
//! ```
//! use weft_algorithms::producer_consumer;
//!
//! let report = producer_consumer::run(3, 2, 1000);
//! assert_eq!((report.produced, report.consumed), (3000, 3000));
//! assert!(report.in_order_per_producer);
//! assert_eq!((report.lost, report.duplicated), (0, 0));
//!
//! let report = producer_consumer::run_with_semaphore(2, 3, 500);
//! assert_eq!(report.consumed, 1000);
//! assert!(report.is_exact());
//! ```

use std::collections::VecDeque;
use std::thread;

use weft_mutex::Mutex;
use weft_queue::Queue;
use weft_semaphore::Semaphore;

/// Capacity of [`run`]'s bounded queue: small, so that producers that get
/// ahead wait for the consumers, as they would with real back-pressure
/// (smaller under Miri, so that its small tests fill it too).
const QUEUE_CAPACITY: usize = if cfg!(miri) { 4 } else { 64 };

/// One item: `(producer, sequence number)`.
type Item = (usize, usize);

/// What a producer–consumer run moved, and whether it moved it correctly.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Items pushed by all producers.
    pub produced: usize,
    /// Items received by all consumers.
    pub consumed: usize,
    /// Whether every consumer received every producer's items in the order
    /// that producer made them.
    pub in_order_per_producer: bool,
    /// Items produced but never received.
    pub lost: usize,
    /// Extra receptions of items already received once.
    pub duplicated: usize,
    /// How many items each consumer received.
    pub per_consumer: Vec<usize>,
}

impl Report {
    /// Whether the run was exact: everything produced was consumed once,
    /// in order per producer.
    pub fn is_exact(&self) -> bool {
        self.produced == self.consumed
            && self.lost == 0
            && self.duplicated == 0
            && self.in_order_per_producer
    }
}

/// Runs `producers` producer threads, each pushing `items_per_producer`
/// items into a bounded Weft [`Queue`], and `consumers` consumer threads
/// popping them until the queue is closed and drained; reports what moved.
///
/// # Panics
///
/// If `consumers` is zero while there is something to produce (the
/// producers would wait for room forever), or if a thread cannot be
/// started.
///
/// # Examples
///
/// ```
/// let report = weft_algorithms::producer_consumer::run(1, 1, 100);
/// assert!(report.is_exact());
/// ```
pub fn run(producers: usize, consumers: usize, items_per_producer: usize) -> Report {
    check_consumers(producers, consumers, items_per_producer);
    let queue = Queue::bounded(QUEUE_CAPACITY);
    let (produced, received) = thread::scope(|s| {
        let consumer_threads: Vec<_> = (0..consumers)
            .map(|_| {
                s.spawn(|| {
                    let mut received = Vec::new();
                    // `pop` sleeps while the queue is empty, and returns
                    // `None` once it is closed and drained.
                    while let Some(item) = queue.pop() {
                        received.push(item);
                    }
                    received
                })
            })
            .collect();
        let producer_threads: Vec<_> = (0..producers)
            .map(|p| {
                let queue = &queue;
                s.spawn(move || {
                    for seq in 0..items_per_producer {
                        queue
                            .push((p, seq))
                            .expect("the queue closes only after every producer is done");
                    }
                    items_per_producer
                })
            })
            .collect();
        let produced = join_all(producer_threads);
        // Every item is in; let the consumers finish the queue and stop.
        queue.close();
        (produced, join_all(consumer_threads))
    });
    check(
        producers,
        items_per_producer,
        produced.iter().sum(),
        received,
    )
}

/// The chapter's version: a `VecDeque` behind a Weft [`Mutex`], and a Weft
/// [`Semaphore`] counting its items. Producers push under the lock and
/// release a permit; consumers acquire a permit, then pop under the lock.
/// After the last item, one end marker per consumer stops them.
///
/// # Panics
///
/// As [`run`].
///
/// # Examples
///
/// ```
/// let report = weft_algorithms::producer_consumer::run_with_semaphore(2, 2, 100);
/// assert!(report.is_exact());
/// ```
pub fn run_with_semaphore(producers: usize, consumers: usize, items_per_producer: usize) -> Report {
    check_consumers(producers, consumers, items_per_producer);
    // `None` is an end marker.
    let queue: Mutex<VecDeque<Option<Item>>> = Mutex::new(VecDeque::new());
    // The number of entries in `queue` that no consumer has claimed yet.
    let available = Semaphore::new(0);
    let (produced, received) = thread::scope(|s| {
        let consumer_threads: Vec<_> = (0..consumers)
            .map(|_| {
                s.spawn(|| {
                    let mut received = Vec::new();
                    loop {
                        // Claim one entry; sleeps while there is none.
                        available.acquire();
                        let entry = queue
                            .lock()
                            .pop_front()
                            .expect("a permit stands for an entry in the queue");
                        match entry {
                            Some(item) => received.push(item),
                            None => break received,
                        }
                    }
                })
            })
            .collect();
        let producer_threads: Vec<_> = (0..producers)
            .map(|p| {
                let (queue, available) = (&queue, &available);
                s.spawn(move || {
                    for seq in 0..items_per_producer {
                        queue.lock().push_back(Some((p, seq)));
                        // The item is in the queue before its permit is
                        // released, so a consumer holding the permit finds
                        // it.
                        available.release();
                    }
                    items_per_producer
                })
            })
            .collect();
        let produced = join_all(producer_threads);
        // After every item: one end marker for each consumer. FIFO order
        // puts them behind the last item.
        for _ in 0..consumers {
            queue.lock().push_back(None);
            available.release();
        }
        (produced, join_all(consumer_threads))
    });
    check(
        producers,
        items_per_producer,
        produced.iter().sum(),
        received,
    )
}

/// Panics if there are no consumers for what will be produced.
#[track_caller]
fn check_consumers(producers: usize, consumers: usize, items_per_producer: usize) {
    assert!(
        consumers > 0 || producers == 0 || items_per_producer == 0,
        "producer_consumer: {producers} producers make items but there is no consumer"
    );
}

/// Joins every thread, then re-raises the first panic among them (joining
/// all first, so that no thread is left behind).
fn join_all<R>(threads: Vec<thread::ScopedJoinHandle<'_, R>>) -> Vec<R> {
    let results: Vec<thread::Result<R>> = threads.into_iter().map(|t| t.join()).collect();
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|payload| std::panic::resume_unwind(payload)))
        .collect()
}

/// Compares what the consumers received with what was produced.
fn check(
    producers: usize,
    items_per_producer: usize,
    produced: usize,
    received: Vec<Vec<Item>>,
) -> Report {
    let mut seen = vec![0usize; producers * items_per_producer];
    let mut in_order = true;
    for items in &received {
        let mut last: Vec<Option<usize>> = vec![None; producers];
        for &(p, seq) in items {
            assert!(
                p < producers && seq < items_per_producer,
                "received an item ({p}, {seq}) that no producer made"
            );
            seen[p * items_per_producer + seq] += 1;
            if last[p].is_some_and(|prev| prev >= seq) {
                in_order = false;
            }
            last[p] = Some(seq);
        }
    }
    Report {
        produced,
        consumed: received.iter().map(Vec::len).sum(),
        in_order_per_producer: in_order,
        lost: seen.iter().filter(|&&n| n == 0).count(),
        duplicated: seen.iter().map(|&n| n.saturating_sub(1)).sum(),
        per_consumer: received.iter().map(Vec::len).collect(),
    }
}
