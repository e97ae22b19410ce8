//! Loom models of the channel handles: a thread blocked in `send` or `recv`
//! while the last handle on the other side drops. Each must wake with its
//! disconnection error; a missed wake-up shows as a deadlock. And the last
//! receiver dropping while a sender sends: every value dropped once.
#![cfg(loom)]

use std::sync::atomic::Ordering::SeqCst;

use weft_futex::loom::sync::Arc;
use weft_futex::loom::sync::atomic::AtomicUsize;
use weft_futex::loom::{self, thread};
use weft_queue::{Receiver, RecvError, SendError, Sender, bounded, unbounded};

/// A sender blocked on a full channel wakes when the last receiver drops,
/// and gets its value back.
#[test]
fn last_receiver_drop_wakes_a_sender_blocked_on_full() {
    loom::model(|| {
        let (tx, rx) = bounded(1);
        tx.send(0u32).unwrap();
        let sender = thread::spawn(move || tx.send(1));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(SendError(1)));
    });
}

/// A receiver blocked on an empty channel wakes when the last sender drops.
#[test]
fn last_sender_drop_wakes_a_receiver_blocked_on_empty() {
    for capacity in [None, Some(1)] {
        loom::model(move || {
            let (tx, rx) = match capacity {
                Some(n) => bounded::<u32>(n),
                None => unbounded(),
            };
            let receiver = thread::spawn(move || rx.recv());
            drop(tx);
            assert_eq!(receiver.join().unwrap(), Err(RecvError));
        });
    }
}

/// Rendezvous: a sender waiting for a receiver wakes when the last receiver
/// drops, and gets its value back.
#[test]
fn rendezvous_sender_wakes_when_the_receiver_drops() {
    loom::model(|| {
        let (tx, rx) = bounded(0);
        let sender = thread::spawn(move || tx.send(1u32));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(SendError(1)));
    });
}

/// Rendezvous: a receiver waiting for a sender wakes when the last sender
/// drops.
#[test]
fn rendezvous_receiver_wakes_when_the_sender_drops() {
    loom::model(|| {
        let (tx, rx) = bounded::<u32>(0);
        let receiver = thread::spawn(move || rx.recv());
        drop(tx);
        assert_eq!(receiver.join().unwrap(), Err(RecvError));
    });
}

/// How many values the sender of [`last_receiver_drop_racing_a_sender`]
/// tries to send: enough to fill a `bounded(1)` channel and to reach the
/// second block of an unbounded one (two slots a block under loom).
const RACING_VALUES: usize = 3;

/// A value that counts its drops in its own counter.
struct Counted {
    id: usize,
    drops: Arc<[AtomicUsize; RACING_VALUES]>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, SeqCst);
    }
}

/// The last receiver drops while a sender sends [`RACING_VALUES`] values
/// (it stops at the first that comes back). Every value is dropped exactly
/// once, by the receiver's drop or after the error handed it back; and a
/// value whose `send` returned before the drop began is dropped by the time
/// the drop returns. A value pushed while the receiver drains is waited
/// for, or refused: never left behind, read before it is written, or
/// dropped twice.
fn last_receiver_drop_racing_a_sender(make: fn() -> (Sender<Counted>, Receiver<Counted>)) {
    loom::model(move || {
        let drops = Arc::new(core::array::from_fn(|_| AtomicUsize::new(0)));
        let sent = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = make();
        let sender = {
            let (drops, sent) = (drops.clone(), sent.clone());
            thread::spawn(move || {
                for id in 0..RACING_VALUES {
                    let value = Counted {
                        id,
                        drops: drops.clone(),
                    };
                    if let Err(error) = tx.send(value) {
                        drop(error.into_inner());
                        return id + 1;
                    }
                    sent.fetch_add(1, SeqCst);
                }
                RACING_VALUES
            })
        };
        let sent_before = sent.load(SeqCst);
        drop(rx);
        for id in 0..sent_before {
            assert_eq!(drops[id].load(SeqCst), 1, "value {id} sent before the drop");
        }
        let made = sender.join().unwrap();
        for (id, count) in drops.iter().enumerate() {
            let expected = usize::from(id < made);
            assert_eq!(count.load(SeqCst), expected, "drops of value {id}");
        }
    });
}

#[test]
fn last_receiver_drop_racing_a_sender_drops_each_bounded_value_once() {
    last_receiver_drop_racing_a_sender(|| bounded(1));
}

#[test]
fn last_receiver_drop_racing_a_sender_drops_each_unbounded_value_once() {
    last_receiver_drop_racing_a_sender(unbounded);
}
