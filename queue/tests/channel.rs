//! Behaviour of the channel handles, `weft_queue::{bounded, unbounded}`.
#![cfg(not(loom))]

use std::cell::Cell;
use std::panic::{RefUnwindSafe, UnwindSafe, catch_unwind};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use weft_queue::{
    Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError, Sender, TryRecvError,
    TrySendError, bounded, unbounded,
};
use weft_testkit::{Watchdog, iterations};

/// How long a test that waits on a wake-up may run before its [`Watchdog`]
/// fails it: far more than any of them needs on a busy machine. Under Miri
/// the clock is virtual, ticking with each step interpreted, so there the
/// limit is longer still: it catches a deadlock, where Miri skips ahead to
/// the earliest timeout, and nothing slow.
const HANG: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 120 });

type Make = fn() -> (Sender<u64>, Receiver<u64>);

/// Every flavor: rendezvous, bounded(1), bounded(64), unbounded.
fn flavors() -> Vec<(&'static str, Make)> {
    vec![
        ("rendezvous", || bounded(0)),
        ("bounded(1)", || bounded(1)),
        ("bounded(64)", || bounded(64)),
        ("unbounded", unbounded),
    ]
}

#[test]
fn handles_of_send_values_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Sender<u64>>();
    check::<Receiver<u64>>();
    check::<Sender<Cell<u64>>>();
}

/// As in crossbeam-channel and std, the handles may cross `catch_unwind`,
/// whatever the values: a panic leaves the channel usable.
#[test]
fn handles_are_unwind_safe_and_a_panic_leaves_the_channel_usable() {
    fn check<T: UnwindSafe + RefUnwindSafe>() {}
    check::<Sender<Cell<u64>>>();
    check::<Receiver<Cell<u64>>>();
    check::<Sender<*const u8>>();
    check::<Receiver<&mut u64>>();

    let (tx, rx) = unbounded::<u64>();
    tx.send(1).unwrap();
    assert!(catch_unwind(move || drop(rx)).is_ok());
    assert_eq!(tx.send(2), Err(SendError(2)));

    for (name, make) in flavors() {
        let (tx, rx) = make();
        let panicked = catch_unwind(|| {
            let _ = tx.try_send(1);
            let _ = rx.try_recv();
            panic!("between two operations");
        });
        assert!(panicked.is_err(), "{name}");
        if tx.capacity() != Some(0) {
            tx.send(3).unwrap();
            assert_eq!(rx.recv(), Ok(3), "{name}");
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{name}");
    }
}

/// A value whose drop panics while the last receiver drains the channel:
/// the panic comes out of the receiver's `drop`, and the values behind it
/// are leaked, as crossbeam-channel leaks them, rather than dropped while
/// that panic unwinds, where a second panic would abort the process. It
/// makes no difference whether a sender keeps the channel alive.
#[test]
fn a_drop_that_panics_in_the_drain_leaks_the_rest_instead_of_aborting() {
    struct PanicsOnDrop<'a>(&'a AtomicUsize);
    impl Drop for PanicsOnDrop<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Relaxed);
            panic!("a value that panics when dropped");
        }
    }
    for capacity in [Some(4), None] {
        for sender_stays in [false, true] {
            let case = format!("{capacity:?}, sender stays: {sender_stays}");
            let drops = AtomicUsize::new(0);
            let (tx, rx) = match capacity {
                Some(c) => bounded(c),
                None => unbounded(),
            };
            for _ in 0..3 {
                tx.send(PanicsOnDrop(&drops)).unwrap();
            }
            let tx = sender_stays.then_some(tx);
            assert!(catch_unwind(move || drop(rx)).is_err(), "{case}");
            assert_eq!(drops.load(Relaxed), 1, "{case}: the first panicked");
            if let Some(tx) = &tx {
                assert_eq!(tx.len(), 0, "{case}: nothing left queued");
            }
            drop(tx);
            assert_eq!(drops.load(Relaxed), 1, "{case}: the rest leaked");
        }
    }
}

#[test]
fn a_rendezvous_channel_is_empty_and_full_at_once() {
    let (tx, rx) = bounded::<u8>(0);
    assert_eq!(tx.capacity(), Some(0));
    assert_eq!(rx.capacity(), Some(0));
    assert_eq!((tx.len(), rx.len()), (0, 0));
    assert!(tx.is_empty() && tx.is_full());
    assert!(rx.is_empty() && rx.is_full());
    // Nobody waits on the other side.
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn rendezvous_send_waits_for_a_receiver() {
    let _watchdog = Watchdog::new("rendezvous_send_waits_for_a_receiver", HANG);
    let (tx, rx) = bounded(0);
    let taken = AtomicUsize::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            tx.send(5).unwrap();
            // The send returned, so the receiver has the value.
            assert_eq!(taken.load(SeqCst), 1);
        });
        thread::sleep(Duration::from_millis(30));
        taken.store(1, SeqCst);
        assert_eq!(rx.recv(), Ok(5));
    });
}

#[test]
fn rendezvous_try_send_reaches_a_blocked_receiver() {
    let _watchdog = Watchdog::new("rendezvous_try_send_reaches_a_blocked_receiver", HANG);
    let (tx, rx) = bounded(0);
    thread::scope(|s| {
        let receiver = s.spawn(|| rx.recv());
        // Retry until the receiver is blocked in `recv`.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match tx.try_send(9) {
                Ok(()) => break,
                Err(TrySendError::Full(_)) if Instant::now() < deadline => thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(receiver.join().unwrap(), Ok(9));
    });
}

#[test]
fn rendezvous_try_recv_reaches_a_blocked_sender() {
    let _watchdog = Watchdog::new("rendezvous_try_recv_reaches_a_blocked_sender", HANG);
    let (tx, rx) = bounded(0);
    thread::scope(|s| {
        s.spawn(|| tx.send(3).unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match rx.try_recv() {
                Ok(v) => break assert_eq!(v, 3),
                Err(TryRecvError::Empty) if Instant::now() < deadline => thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
    });
}

#[test]
fn rendezvous_timeouts_expire_and_withdraw_the_offer() {
    let (tx, rx) = bounded(0);
    assert_eq!(
        tx.send_timeout(1, Duration::from_millis(20)),
        Err(SendTimeoutError::Timeout(1))
    );
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    );
    // The withdrawn offer is gone.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn sender_drop_disconnects_after_drain() {
    for (name, make) in flavors() {
        let (tx, rx) = make();
        if tx.capacity() != Some(0) {
            tx.send(1).unwrap();
        }
        let tx2 = tx.clone();
        drop(tx);
        assert_eq!(rx.try_recv().is_err(), tx2.capacity() == Some(0), "{name}");
        drop(tx2);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected), "{name}");
        assert_eq!(rx.recv(), Err(RecvError), "{name}");
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(1)),
            Err(RecvTimeoutError::Disconnected)
        );
    }
}

#[test]
fn receiver_drop_hands_values_back() {
    for (name, make) in flavors() {
        let (tx, rx) = make();
        let rx2 = rx.clone();
        drop(rx);
        drop(rx2);
        assert_eq!(tx.send(4), Err(SendError(4)), "{name}");
        assert_eq!(tx.try_send(5), Err(TrySendError::Disconnected(5)), "{name}");
        assert_eq!(
            tx.send_timeout(6, Duration::from_secs(1)),
            Err(SendTimeoutError::Disconnected(6)),
            "{name}"
        );
    }
}

#[test]
fn full_without_receivers_is_disconnected() {
    let (tx, rx) = bounded(1);
    tx.send(1).unwrap();
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    drop(rx);
    assert_eq!(tx.try_send(3), Err(TrySendError::Disconnected(3)));
}

#[test]
fn blocked_receivers_wake_on_disconnect() {
    let _watchdog = Watchdog::new("blocked_receivers_wake_on_disconnect", HANG);
    for (name, make) in flavors() {
        let (tx, rx) = make();
        thread::scope(|s| {
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let rx = rx.clone();
                    s.spawn(move || rx.recv())
                })
                .collect();
            thread::sleep(Duration::from_millis(30));
            drop(tx);
            for w in waiters {
                assert_eq!(w.join().unwrap(), Err(RecvError), "{name}");
            }
        });
    }
}

#[test]
fn blocked_senders_wake_on_disconnect() {
    let _watchdog = Watchdog::new("blocked_senders_wake_on_disconnect", HANG);
    for (name, make) in [
        ("rendezvous", (|| bounded(0)) as Make),
        ("bounded(1)", || bounded(1)),
    ] {
        let (tx, rx) = make();
        if tx.capacity() == Some(1) {
            tx.send(0).unwrap();
        }
        thread::scope(|s| {
            let waiters: Vec<_> = (1..4)
                .map(|i| {
                    let tx = tx.clone();
                    s.spawn(move || tx.send(i))
                })
                .collect();
            thread::sleep(Duration::from_millis(30));
            drop(rx);
            for (i, w) in (1..4).zip(waiters) {
                assert_eq!(w.join().unwrap(), Err(SendError(i)), "{name}");
            }
        });
    }
}

#[test]
fn iter_ends_at_disconnection_and_try_iter_takes_only_what_is_queued() {
    let _watchdog = Watchdog::new(
        "iter_ends_at_disconnection_and_try_iter_takes_only_what_is_queued",
        HANG,
    );
    let (tx, rx) = unbounded();
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
    assert_eq!(
        rx.try_iter().count(),
        0,
        "try_iter takes only what is queued"
    );
    thread::scope(|s| {
        s.spawn(move || {
            for i in 5..10 {
                tx.send(i).unwrap();
            }
        });
        // Ends when the sender is gone.
        assert_eq!((&rx).into_iter().collect::<Vec<_>>(), [5, 6, 7, 8, 9]);
    });
    assert_eq!(rx.into_iter().count(), 0);
}

#[test]
fn own_send_is_visible_to_own_try_recv() {
    let _watchdog = Watchdog::new("own_send_is_visible_to_own_try_recv", HANG);
    for (name, make) in flavors().into_iter().skip(1) {
        let (tx, rx) = make();
        let rounds = iterations(10_000, 20);
        thread::scope(|s| {
            for _ in 0..2 {
                let (tx, rx) = (tx.clone(), rx.clone());
                s.spawn(move || {
                    for i in 0..rounds as u64 {
                        tx.send(i).unwrap();
                        assert!(rx.try_recv().is_ok(), "{name}: own send not visible");
                    }
                });
            }
        });
    }
}

#[test]
fn errors_have_a_text_per_variant_and_debug_without_t_debug() {
    struct NoDebug;
    // Within each error type, every variant has its own text.
    let pairs = [
        (
            TrySendError::Full(NoDebug).to_string(),
            TrySendError::Disconnected(NoDebug).to_string(),
        ),
        (
            SendTimeoutError::Timeout(NoDebug).to_string(),
            SendTimeoutError::Disconnected(NoDebug).to_string(),
        ),
        (
            TryRecvError::Empty.to_string(),
            TryRecvError::Disconnected.to_string(),
        ),
        (
            RecvTimeoutError::Timeout.to_string(),
            RecvTimeoutError::Disconnected.to_string(),
        ),
        (
            weft_queue::TryPushError::Full(NoDebug).to_string(),
            weft_queue::TryPushError::Closed(NoDebug).to_string(),
        ),
        (
            weft_queue::PushTimeoutError::Timeout(NoDebug).to_string(),
            weft_queue::PushTimeoutError::Closed(NoDebug).to_string(),
        ),
        (
            weft_queue::TryPopError::Empty.to_string(),
            weft_queue::TryPopError::Closed.to_string(),
        ),
        (
            weft_queue::PopTimeoutError::Timeout.to_string(),
            weft_queue::PopTimeoutError::Closed.to_string(),
        ),
    ];
    for (a, b) in pairs {
        assert_ne!(a, b);
        assert!(!a.is_empty() && !b.is_empty());
    }
    assert_eq!(
        RecvError.to_string(),
        "receiving on an empty and disconnected channel"
    );
    assert_eq!(
        SendError(NoDebug).to_string(),
        "sending on a disconnected channel"
    );
    assert_eq!(format!("{:?}", TrySendError::Full(NoDebug)), "Full(..)");
    assert_eq!(format!("{:?}", SendError(NoDebug)), "SendError(..)");
    let (tx, rx) = bounded::<NoDebug>(1);
    drop(rx);
    assert!(tx.send(NoDebug).unwrap_err().into_inner().eq(&NoDebug));
    impl PartialEq for NoDebug {
        fn eq(&self, _: &Self) -> bool {
            true
        }
    }
    let _: &dyn std::error::Error = &RecvError;
}

/// 4 senders × 4 receivers on every flavor: every value is received exactly
/// once (count and checksum), in order per sender, and none is lost when
/// the channel disconnects.
#[test]
fn four_senders_and_four_receivers_move_every_value_once_in_order() {
    let _watchdog = Watchdog::new(
        "four_senders_and_four_receivers_move_every_value_once_in_order",
        HANG,
    );
    const SENDERS: u64 = 4;
    let per_sender = iterations(250_000, 20) as u64;
    for (name, make) in flavors() {
        // The rendezvous flavor hands over one value per meeting; keep its
        // run shorter.
        let per_sender = if name == "rendezvous" {
            per_sender / 10
        } else {
            per_sender
        };
        let (tx, rx) = make();
        let seen: Vec<AtomicUsize> = (0..SENDERS * per_sender)
            .map(|_| AtomicUsize::new(0))
            .collect();
        let (count, sum) = (AtomicUsize::new(0), AtomicUsize::new(0));
        thread::scope(|s| {
            for p in 0..SENDERS {
                let tx = tx.clone();
                s.spawn(move || {
                    for i in 0..per_sender {
                        tx.send(p * per_sender + i).unwrap();
                    }
                });
            }
            drop(tx);
            for _ in 0..4 {
                let rx = rx.clone();
                let (seen, count, sum) = (&seen, &count, &sum);
                s.spawn(move || {
                    let mut last = [None::<u64>; SENDERS as usize];
                    for v in rx {
                        let (p, i) = ((v / per_sender) as usize, v % per_sender);
                        assert!(
                            last[p].is_none_or(|l| l < i),
                            "{name}: sender {p} out of order"
                        );
                        last[p] = Some(i);
                        seen[v as usize].fetch_add(1, Relaxed);
                        count.fetch_add(1, Relaxed);
                        sum.fetch_add(v as usize, Relaxed);
                    }
                });
            }
        });
        let n = SENDERS * per_sender;
        assert_eq!(count.load(Relaxed) as u64, n, "{name}: count");
        assert_eq!(
            sum.load(Relaxed) as u64,
            n * (n - 1) / 2,
            "{name}: checksum"
        );
        assert!(
            seen.iter().all(|c| c.load(Relaxed) == 1),
            "{name}: a value twice or never"
        );
    }
}

/// Counts its drops in the counter it points to.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// Values still queued when the last receiver goes are dropped with it,
/// exactly once, and values handed back in errors are the caller's.
#[test]
fn nothing_leaks_or_drops_twice() {
    for capacity in [Some(1), Some(8), None] {
        let drops = AtomicUsize::new(0);
        let (tx, rx) = match capacity {
            Some(c) => bounded(c),
            None => unbounded(),
        };
        let mut made = 0;
        for _ in 0..capacity.unwrap_or(40) {
            tx.send(Counted(&drops)).unwrap();
            made += 1;
        }
        drop(rx.recv().unwrap());
        drop(rx);
        assert_eq!(
            drops.load(Relaxed),
            made,
            "{capacity:?}: queued values dropped"
        );
        let back = tx.send(Counted(&drops)).unwrap_err().into_inner();
        made += 1;
        assert_eq!(drops.load(Relaxed), made - 1, "a value handed back lives");
        drop(back);
        drop(tx);
        assert_eq!(
            drops.load(Relaxed),
            made,
            "{capacity:?}: every value dropped once"
        );
    }
}

/// The values queued stay while any receiver is left, and are dropped, each
/// once, when the last one goes, before its `drop` returns: not when the
/// last sender goes. Enough values for the unbounded channel to fill a few
/// blocks.
#[test]
fn the_last_receiver_drops_what_is_queued_at_once() {
    let n = if cfg!(miri) { 70 } else { 200 };
    for capacity in [Some(1), Some(3), Some(n), None] {
        let drops = AtomicUsize::new(0);
        let (tx, rx) = match capacity {
            Some(c) => bounded(c),
            None => unbounded(),
        };
        let sent = capacity.unwrap_or(n);
        for _ in 0..sent {
            tx.send(Counted(&drops)).unwrap();
        }
        let rx2 = rx.clone();
        drop(rx);
        assert_eq!(drops.load(Relaxed), 0, "{capacity:?}: a receiver is left");
        assert_eq!(tx.len(), sent, "{capacity:?}");
        drop(rx2);
        assert_eq!(drops.load(Relaxed), sent, "{capacity:?}: dropped at once");
        assert_eq!(tx.len(), 0, "{capacity:?}");
        assert!(tx.is_empty(), "{capacity:?}");
        drop(tx);
        assert_eq!(drops.load(Relaxed), sent, "{capacity:?}: none twice");
    }
}

/// An instant already past.
fn past() -> Instant {
    let now = Instant::now();
    now.checked_sub(Duration::from_secs(1)).unwrap_or(now)
}

/// Handles are on the same channel when one was cloned from the other;
/// two channels, even of one flavor, are never the same.
#[test]
fn same_channel_holds_for_clones_only() {
    for (name, make) in flavors() {
        let (tx, rx) = make();
        let (tx2, rx2) = (tx.clone(), rx.clone());
        assert!(tx.same_channel(&tx) && tx.same_channel(&tx2), "{name}");
        assert!(rx.same_channel(&rx) && rx2.same_channel(&rx), "{name}");
        for (other_name, other) in flavors() {
            let (tx3, rx3) = other();
            assert!(!tx.same_channel(&tx3), "{name} and {other_name}");
            assert!(!rx2.same_channel(&rx3), "{name} and {other_name}");
        }
        drop((tx, rx2));
        assert!(tx2.same_channel(&tx2.clone()), "{name}: after a drop");
    }
}

/// A deadline already past still tries once: it sends when there is room
/// and receives what is queued, and reports `Timeout` only otherwise;
/// disconnection comes first, as for the timeouts.
#[test]
fn a_past_deadline_tries_once() {
    for (name, make) in flavors() {
        let (tx, rx) = make();
        if tx.capacity() != Some(0) {
            assert_eq!(tx.send_deadline(1, past()), Ok(()), "{name}");
            assert_eq!(rx.recv_deadline(past()), Ok(1), "{name}");
            assert_eq!(tx.send_timeout(2, Duration::ZERO), Ok(()), "{name}");
            assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(2), "{name}");
        }
        assert_eq!(
            rx.recv_deadline(past()),
            Err(RecvTimeoutError::Timeout),
            "{name}"
        );
        if tx.capacity().is_some() {
            while tx.try_send(0).is_ok() {}
            assert_eq!(
                tx.send_deadline(3, past()),
                Err(SendTimeoutError::Timeout(3)),
                "{name}"
            );
        }
        drop(rx);
        assert_eq!(
            tx.send_deadline(4, past()),
            Err(SendTimeoutError::Disconnected(4)),
            "{name}"
        );
        let (tx, rx) = make();
        drop(tx);
        assert_eq!(
            rx.recv_deadline(past()),
            Err(RecvTimeoutError::Disconnected),
            "{name}"
        );
    }
}

/// A deadline in the future is waited out when nothing happens.
#[test]
fn deadlines_are_waited_out() {
    let _watchdog = Watchdog::new("deadlines_are_waited_out", HANG);
    let wait = Duration::from_millis(20);
    for (name, make) in flavors() {
        let (tx, rx) = make();
        let deadline = Instant::now() + wait;
        assert_eq!(
            rx.recv_deadline(deadline),
            Err(RecvTimeoutError::Timeout),
            "{name}"
        );
        assert!(Instant::now() >= deadline, "{name}: receive left early");
        if tx.capacity().is_some() {
            while tx.try_send(0).is_ok() {}
            let deadline = Instant::now() + wait;
            assert_eq!(
                tx.send_deadline(7, deadline),
                Err(SendTimeoutError::Timeout(7)),
                "{name}"
            );
            assert!(Instant::now() >= deadline, "{name}: send left early");
        }
    }
}

/// With no time left, a rendezvous send still hands its value to a
/// receiver already blocked in `recv`, as `try_send` does; and a receive
/// with no time left takes the value of a sender blocked in `send`.
#[test]
fn rendezvous_calls_with_no_time_left_reach_a_blocked_partner() {
    let _watchdog = Watchdog::new(
        "rendezvous_calls_with_no_time_left_reach_a_blocked_partner",
        HANG,
    );
    let (tx, rx) = bounded(0);
    type NoTimeSend = fn(&Sender<u64>, u64) -> Result<(), SendTimeoutError<u64>>;
    let sends: [NoTimeSend; 2] = [
        |tx, v| tx.send_deadline(v, past()),
        |tx, v| tx.send_timeout(v, Duration::ZERO),
    ];
    for (value, send) in (10..).zip(sends) {
        thread::scope(|s| {
            let receiver = s.spawn(|| rx.recv());
            // Retry until the receiver is blocked in `recv`.
            loop {
                match send(&tx, value) {
                    Ok(()) => break,
                    Err(SendTimeoutError::Timeout(_)) => thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(receiver.join().unwrap(), Ok(value));
        });
    }
    thread::scope(|s| {
        s.spawn(|| tx.send(20).unwrap());
        loop {
            match rx.recv_deadline(past()) {
                Ok(v) => break assert_eq!(v, 20),
                Err(RecvTimeoutError::Timeout) => thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
    });
}
