//! The producer–consumer problem with a semaphore and a lock.
//!
//! The chapter's construction: a plain double-ended queue shared by a
//! producer and consumers, a semaphore starting at zero that counts the
//! items waiting in it, and a lock around every push and pop, since the
//! queue itself is not safe to change from two threads at once. The
//! producer pushes an item and then releases the semaphore once; a
//! consumer acquires the semaphore, which puts it to sleep while the queue
//! is empty, and then pops. A lock alone could not make consumers wait for
//! data; the semaphore alone could not keep the queue consistent.
//!
//! The chapter's producer and consumers loop forever; here the producer
//! makes a fixed number of items and then one "stop" marker per consumer.
//! The last part runs the library's two versions, `producer_consumer::run`
//! (a Weft queue does both jobs) and `run_with_semaphore` (this
//! construction), with several producers, and checks that nothing was
//! lost, duplicated or reordered.
//!
//! Run with `cargo run -p weft-algorithms --example semaphore_producer_consumer [-- ITEMS]`.

use std::collections::VecDeque;
use std::thread;

use weft_algorithms::producer_consumer;
use weft_mutex::Mutex;
use weft_semaphore::Semaphore;

fn generate_data(i: u64) -> u64 {
    i * i
}

fn main() {
    let items: u64 = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("ITEMS must be a number"))
        .unwrap_or(10);
    let consumers = 2;

    let queue: Mutex<VecDeque<Option<u64>>> = Mutex::new(VecDeque::new());
    let sem = Semaphore::new(0);

    thread::scope(|s| {
        // The producer.
        s.spawn(|| {
            for i in 0..items {
                let new_data = generate_data(i);
                queue.lock().push_back(Some(new_data));
                sem.release(); // increment the semaphore by 1
            }
            for _ in 0..consumers {
                queue.lock().push_back(None); // stop
                sem.release();
            }
        });
        // The consumers.
        for c in 0..consumers {
            let (queue, sem) = (&queue, &sem);
            s.spawn(move || {
                loop {
                    sem.acquire(); // attempt to decrement by 1; sleeps at 0
                    let item = queue.lock().pop_front().expect("a permit means an item");
                    match item {
                        Some(data) => println!("consumer {c} consumed {data}"),
                        None => break,
                    }
                }
            });
        }
    });

    let (producers, consumers, each) = (3, 2, 10_000);
    for (name, report) in [
        (
            "weft Queue",
            producer_consumer::run(producers, consumers, each),
        ),
        (
            "Mutex<VecDeque> + Semaphore",
            producer_consumer::run_with_semaphore(producers, consumers, each),
        ),
    ] {
        println!(
            "{name}: {producers} producers, {consumers} consumers: produced {}, consumed {} \
             (per consumer {:?}), lost {}, duplicated {}, FIFO per producer: {}",
            report.produced,
            report.consumed,
            report.per_consumer,
            report.lost,
            report.duplicated,
            report.in_order_per_producer,
        );
    }
}
