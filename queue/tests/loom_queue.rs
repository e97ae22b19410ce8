//! Loom models of `weft_queue`: the bounded ring, the unbounded list across
//! a block boundary, close, and the rendezvous hand-off. A lost wake-up
//! shows as a deadlock; a value lost or duplicated fails an assertion.
#![cfg(loom)]

use std::time::Duration;

use weft_futex::loom::{self, sync::Arc, thread};
use weft_queue::{PopTimeoutError, PushError, PushTimeoutError, Queue, TryPopError, bounded};

/// Runs `op` on a new thread, with a handle of its own on `q`.
fn spawn_on<T: 'static, R: 'static>(
    q: &Arc<Queue<T>>,
    op: impl FnOnce(&Queue<T>) -> R + 'static,
) -> thread::JoinHandle<R> {
    let q = q.clone();
    thread::spawn(move || op(&q))
}

/// A `bounded(1)` queue that is full: it holds 0.
fn full_queue() -> Arc<Queue<u32>> {
    let q = Arc::new(Queue::bounded(1));
    q.push(0).unwrap();
    q
}

/// One producer pushes more values than fit; one consumer pops them all.
fn producer_consumer(queue: fn() -> Queue<u32>, n: u32) {
    loom::model(move || {
        let q = Arc::new(queue());
        let producer = spawn_on(&q, move |q| {
            for i in 0..n {
                q.push(i).unwrap();
            }
        });
        for i in 0..n {
            assert_eq!(q.pop(), Some(i));
        }
        producer.join().unwrap();
        assert_eq!(q.try_pop(), Err(TryPopError::Empty));
    });
}

#[test]
fn bounded_1_blocks_both_ways() {
    producer_consumer(|| Queue::bounded(1), 2);
}

#[test]
fn bounded_2_wraps_around() {
    producer_consumer(|| Queue::bounded(2), 3);
}

/// Under loom a block of the unbounded queue holds two slots (the models
/// in `src/list.rs` check that), so three values cross a boundary: the
/// block is installed by the producer and freed by the consumer, which may
/// be asleep in between.
#[test]
fn unbounded_across_a_block() {
    producer_consumer(Queue::unbounded, 3);
}

/// Five values fill three blocks of two slots. The producer needs the
/// third block after the consumer may have freed the first, so the model
/// covers both a fresh block and a recycled one (the spare handed from the
/// consumer's free to the producer's next install), in every order loom
/// finds.
#[test]
fn unbounded_recycles_a_block() {
    producer_consumer(Queue::unbounded, 5);
}

/// Two threads each push once and pop once on a one-slot queue, so both
/// race as producers for the slot and as consumers for its value. (Two
/// threads, not three: a model where two threads spin on a third's
/// half-finished operation has endless schedules in loom.)
#[test]
fn bounded_1_hands_each_of_two_racing_values_to_one_consumer() {
    loom::model(|| {
        let q = Arc::new(Queue::bounded(1));
        let other = spawn_on(&q, |q| {
            q.push(1).unwrap();
            q.pop().unwrap()
        });
        q.push(0).unwrap();
        let mine = q.pop().unwrap();
        let theirs = other.join().unwrap();
        let mut got = [mine, theirs];
        got.sort_unstable();
        assert_eq!(got, [0, 1]);
    });
}

/// A push racing a close either lands (and is popped) or is handed back;
/// a consumer blocked on the empty queue wakes either way.
#[test]
fn a_push_racing_close_is_popped_or_handed_back() {
    for unbounded in [false, true] {
        loom::model(move || {
            let q = Arc::new(if unbounded {
                Queue::unbounded()
            } else {
                Queue::bounded(1)
            });
            let pusher = spawn_on(&q, |q| q.push(7).is_ok());
            let closer = spawn_on(&q, |q| {
                q.close();
            });
            let mut popped = Vec::new();
            while let Some(v) = q.pop() {
                popped.push(v);
            }
            let pushed = pusher.join().unwrap();
            closer.join().unwrap();
            assert_eq!(popped, if pushed { vec![7] } else { vec![] });
        });
    }
}

/// Values left inside are dropped with the queue, exactly once.
#[test]
fn values_left_inside_drop_with_the_queue_exactly_once() {
    loom::model(|| {
        let value = Arc::new(());
        let q = Arc::new(Queue::unbounded());
        let mine = value.clone();
        let producer = spawn_on(&q, move |q| {
            for _ in 0..3 {
                q.push(mine.clone()).unwrap();
            }
        });
        drop(q.pop());
        producer.join().unwrap();
        drop(q);
        assert_eq!(Arc::strong_count(&value), 1);
    });
}

/// The rendezvous hand-off: `send` returns only after `recv` took the
/// value; a blocked receiver is woken by the sender's disconnect.
#[test]
fn rendezvous_send_returns_after_recv_took_the_value() {
    loom::model(|| {
        let (tx, rx) = bounded(0);
        let sender = thread::spawn(move || {
            tx.send(1u32).unwrap();
        });
        assert_eq!(rx.recv(), Ok(1));
        sender.join().unwrap();
        assert!(rx.recv().is_err(), "the sender is gone");
    });
}

/// A producer blocked on a full queue wakes when the queue closes, and gets
/// its value back; the value queued before stays for the consumers.
#[test]
fn close_wakes_a_producer_blocked_on_full() {
    loom::model(|| {
        let q = full_queue();
        let producer = spawn_on(&q, |q| q.push(1));
        q.close();
        assert_eq!(producer.join().unwrap(), Err(PushError(1)));
        assert_eq!(q.pop(), Some(0));
        assert_eq!(q.pop(), None);
    });
}

/// A consumer blocked on an empty queue wakes when the queue closes.
#[test]
fn close_wakes_a_consumer_blocked_on_empty() {
    for unbounded in [false, true] {
        loom::model(move || {
            let q: Arc<Queue<u32>> = Arc::new(if unbounded {
                Queue::unbounded()
            } else {
                Queue::bounded(1)
            });
            let consumer = spawn_on(&q, Queue::pop);
            q.close();
            assert_eq!(consumer.join().unwrap(), None);
        });
    }
}

/// `push_timeout` on a full queue racing `close`: the value comes back
/// (closed or timed out, as the race falls), and the queued value stays.
#[test]
fn close_races_push_timeout() {
    loom::model(|| {
        let q = full_queue();
        let producer = spawn_on(&q, |q| q.push_timeout(1, Duration::from_secs(60)));
        q.close();
        match producer.join().unwrap() {
            Err(PushTimeoutError::Closed(1) | PushTimeoutError::Timeout(1)) => {}
            other => panic!("the value must come back, got {other:?}"),
        }
        assert_eq!(q.pop(), Some(0));
        assert_eq!(q.pop(), None);
    });
}

/// `pop_timeout` on an empty queue racing `close`: it returns without a
/// value, closed or timed out as the race falls.
#[test]
fn close_races_pop_timeout() {
    loom::model(|| {
        let q: Arc<Queue<u32>> = Arc::new(Queue::bounded(1));
        let consumer = spawn_on(&q, |q| q.pop_timeout(Duration::from_secs(60)));
        q.close();
        match consumer.join().unwrap() {
            Err(PopTimeoutError::Closed | PopTimeoutError::Timeout) => {}
            Ok(v) => panic!("popped {v} from a queue nobody pushed to"),
        }
    });
}
