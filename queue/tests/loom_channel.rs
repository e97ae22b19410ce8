//! Loom models of the channel handles: a thread blocked in `send` or `recv`
//! while the last handle on the other side drops. Each must wake with its
//! disconnection error; a missed wake-up shows as a deadlock.
#![cfg(loom)]

use weft_futex::loom::{self, thread};
use weft_queue::{RecvError, SendError, bounded, unbounded};

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
