//! The races of `loom_queue.rs` and `loom_channel.rs` in which a blocked
//! thread must wake because the other side went away (a close, the last
//! handle dropped) or because its timeout raced that, run with real
//! threads, round after round (`weft_testkit::races` says how the rounds
//! vary).
#![cfg(not(loom))]

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::thread;

use weft_queue::{
    PopTimeoutError, PushError, PushTimeoutError, Queue, RecvError, SendError, bounded, unbounded,
};
use weft_testkit::races::{SHORT, pause, rounds, timeout};

/// A blocked `push` on a full queue wakes when the queue closes and hands
/// its value back; the value queued before stays for the consumers.
#[test]
fn close_wakes_a_producer_blocked_on_full() {
    rounds("close_wakes_a_producer_blocked_on_full", |round| {
        let q = Arc::new(Queue::bounded(1));
        q.push(0u32).unwrap();
        let producer = {
            let q = q.clone();
            thread::spawn(move || q.push(1))
        };
        pause(round);
        q.close();
        assert_eq!(producer.join().unwrap(), Err(PushError(1)));
        assert_eq!(q.pop(), Some(0));
        assert_eq!(q.pop(), None);
    });
}

/// A blocked `pop` on an empty queue, bounded or unbounded, wakes when the
/// queue closes and returns `None`.
#[test]
fn close_wakes_a_consumer_blocked_on_empty() {
    rounds("close_wakes_a_consumer_blocked_on_empty", |round| {
        let q: Arc<Queue<u32>> = Arc::new(if round % 4 < 2 {
            Queue::bounded(1)
        } else {
            Queue::unbounded()
        });
        let consumer = {
            let q = q.clone();
            thread::spawn(move || q.pop())
        };
        pause(round);
        q.close();
        assert_eq!(consumer.join().unwrap(), None);
    });
}

/// `push_timeout` on a full queue racing `close`: the value comes back,
/// as `Closed` or, if the short timeout expired first, as `Timeout`; with a
/// timeout that never expires, only as `Closed`. The queued value stays.
#[test]
fn close_races_push_timeout() {
    rounds("close_races_push_timeout", |round| {
        let q = Arc::new(Queue::bounded(1));
        q.push(0u32).unwrap();
        let timeout = timeout(round);
        let producer = {
            let q = q.clone();
            thread::spawn(move || q.push_timeout(1, timeout))
        };
        pause(round);
        q.close();
        match producer.join().unwrap() {
            Err(PushTimeoutError::Closed(1)) => {}
            Err(PushTimeoutError::Timeout(1)) if timeout == SHORT => {}
            other => panic!("round {round}: the value must come back, got {other:?}"),
        }
        assert_eq!(q.pop(), Some(0));
        assert_eq!(q.pop(), None);
    });
}

/// `pop_timeout` on an empty queue racing `close`: it returns without a
/// value, as `Closed` or, if the short timeout expired first, as `Timeout`;
/// with a timeout that never expires, only as `Closed`.
#[test]
fn close_races_pop_timeout() {
    rounds("close_races_pop_timeout", |round| {
        let q: Arc<Queue<u32>> = Arc::new(Queue::bounded(1));
        let timeout = timeout(round);
        let consumer = {
            let q = q.clone();
            thread::spawn(move || q.pop_timeout(timeout))
        };
        pause(round);
        q.close();
        match consumer.join().unwrap() {
            Err(PopTimeoutError::Closed) => {}
            Err(PopTimeoutError::Timeout) if timeout == SHORT => {}
            other => panic!("round {round}: expected Closed, got {other:?}"),
        }
    });
}

/// A sender blocked on a full `bounded(1)` channel wakes when the last
/// receiver drops, and gets its value back.
#[test]
fn last_receiver_drop_wakes_a_sender_blocked_on_full() {
    rounds(
        "last_receiver_drop_wakes_a_sender_blocked_on_full",
        |round| {
            let (tx, rx) = bounded(1);
            tx.send(0u32).unwrap();
            let sender = thread::spawn(move || tx.send(1));
            pause(round);
            drop(rx);
            assert_eq!(sender.join().unwrap(), Err(SendError(1)));
        },
    );
}

/// A receiver blocked on an empty channel, bounded or unbounded, wakes when
/// the last sender drops.
#[test]
fn last_sender_drop_wakes_a_receiver_blocked_on_empty() {
    rounds(
        "last_sender_drop_wakes_a_receiver_blocked_on_empty",
        |round| {
            let (tx, rx) = if round % 4 < 2 {
                bounded::<u32>(1)
            } else {
                unbounded()
            };
            let receiver = thread::spawn(move || rx.recv());
            pause(round);
            drop(tx);
            assert_eq!(receiver.join().unwrap(), Err(RecvError));
        },
    );
}

/// Rendezvous: a sender waiting for a receiver wakes when the last
/// receiver drops, and gets its value back.
#[test]
fn rendezvous_sender_wakes_when_the_receiver_drops() {
    rounds("rendezvous_sender_wakes_when_the_receiver_drops", |round| {
        let (tx, rx) = bounded(0);
        let sender = thread::spawn(move || tx.send(1u32));
        pause(round);
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(SendError(1)));
    });
}

/// Rendezvous: a receiver waiting for a sender wakes when the last sender
/// drops.
#[test]
fn rendezvous_receiver_wakes_when_the_sender_drops() {
    rounds("rendezvous_receiver_wakes_when_the_sender_drops", |round| {
        let (tx, rx) = bounded::<u32>(0);
        let receiver = thread::spawn(move || rx.recv());
        pause(round);
        drop(tx);
        assert_eq!(receiver.join().unwrap(), Err(RecvError));
    });
}

/// Counts its drops in the counter it shares.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// The last receiver drops while a sender is sending, to a `bounded(2)`
/// channel (where the sender may be asleep on full) or an unbounded one:
/// every value is dropped exactly once, by the receiver's drop or after
/// the sender's error handed it back, and the values whose `send` returned
/// before the drop began are gone by the time it returns.
#[test]
fn last_receiver_drop_racing_a_sender_drops_each_value_once() {
    rounds(
        "last_receiver_drop_racing_a_sender_drops_each_value_once",
        |round| {
            const VALUES: usize = if cfg!(miri) { 8 } else { 100 };
            let drops = Arc::new(AtomicUsize::new(0));
            let sent = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = if round % 4 < 2 {
                bounded(2)
            } else {
                unbounded()
            };
            let sender = {
                let (drops, sent) = (drops.clone(), sent.clone());
                thread::spawn(move || {
                    for made in 1..=VALUES {
                        if let Err(error) = tx.send(Counted(drops.clone())) {
                            drop(error.into_inner());
                            return made;
                        }
                        sent.fetch_add(1, SeqCst);
                    }
                    VALUES
                })
            };
            pause(round);
            let sent_before = sent.load(SeqCst);
            drop(rx);
            let dropped = drops.load(SeqCst);
            assert!(
                dropped >= sent_before,
                "{sent_before} values sent before the drop, {dropped} dropped by its end"
            );
            let made = sender.join().unwrap();
            assert_eq!(drops.load(SeqCst), made, "each value dropped once");
        },
    );
}
