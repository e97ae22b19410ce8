//! The channel handles between threads, in every flavor: timed and `try_`
//! calls as the other side comes and goes, channels torn down from either
//! side mid-operation, channels sent through channels, drops counted while
//! values pass, and blocking calls made while a thread exits. These are the
//! behaviours that crossbeam-channel's and std's suites check, written for
//! Weft's channels (`cargo xtask crossbeam-suite` runs crossbeam's own).
#![cfg(not(loom))]

use std::any::Any;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use weft_queue::{
    Receiver, RecvError, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError, TrySendError,
    bounded, unbounded,
};
use weft_testkit::{Watchdog, iterations};

/// How long a test may run before its [`Watchdog`] fails it; under Miri's
/// virtual clock, far longer (see `tests/channel.rs`).
const HANG: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 120 });

/// A pause long enough for the other thread to block, or to give up.
const PAUSE: Duration = Duration::from_millis(20);

/// A timeout that only the other side's action can beat.
const LONG: Duration = Duration::from_secs(3600);

type Make<T> = fn() -> (Sender<T>, Receiver<T>);

/// Every flavor, for values of type `T`.
fn flavors<T>() -> [(&'static str, Make<T>); 4] {
    [
        ("rendezvous", || bounded(0)),
        ("bounded(1)", || bounded(1)),
        ("bounded(16)", || bounded(16)),
        ("unbounded", unbounded),
    ]
}

/// A receive times out on an empty channel and leaves it usable: the next
/// one gets the value sent meanwhile, and the one after reports the
/// disconnection once the sender is gone.
#[test]
fn a_timed_receive_times_out_then_receives_then_sees_the_disconnection() {
    let _watchdog = Watchdog::new(
        "a_timed_receive_times_out_then_receives_then_sees_the_disconnection",
        HANG,
    );
    for (name, make) in flavors::<u32>() {
        let (tx, rx) = make();
        let (timed_out, wait_for_it) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(move || {
                wait_for_it.recv().unwrap();
                thread::sleep(PAUSE);
                tx.send(7).unwrap();
            });
            assert_eq!(
                rx.recv_timeout(Duration::from_millis(1)),
                Err(RecvTimeoutError::Timeout),
                "{name}"
            );
            timed_out.send(()).unwrap();
            assert_eq!(rx.recv_timeout(LONG), Ok(7), "{name}");
            assert_eq!(
                rx.recv_timeout(LONG),
                Err(RecvTimeoutError::Disconnected),
                "{name}"
            );
        });
    }
}

/// A send times out on a full channel and hands its value back, leaving
/// the channel usable: the next one goes through once a receiver takes a
/// value, and the one after reports the disconnection once the receiver is
/// gone, with its value.
#[test]
fn a_timed_send_times_out_then_sends_then_sees_the_disconnection() {
    let _watchdog = Watchdog::new(
        "a_timed_send_times_out_then_sends_then_sees_the_disconnection",
        HANG,
    );
    for (name, make) in flavors::<u32>() {
        let (tx, rx) = make();
        if tx.capacity().is_none() {
            continue;
        }
        while tx.try_send(0).is_ok() {}
        let queued = tx.len();
        let (timed_out, wait_for_it) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(move || {
                wait_for_it.recv().unwrap();
                thread::sleep(PAUSE);
                for _ in 0..queued {
                    assert_eq!(rx.recv(), Ok(0));
                }
                assert_eq!(rx.recv(), Ok(2));
            });
            assert_eq!(
                tx.send_timeout(1, Duration::from_millis(1)),
                Err(SendTimeoutError::Timeout(1)),
                "{name}"
            );
            timed_out.send(()).unwrap();
            assert_eq!(tx.send_timeout(2, LONG), Ok(()), "{name}");
        });
        // The receiver is gone with its thread.
        assert_eq!(
            tx.send_timeout(3, LONG),
            Err(SendTimeoutError::Disconnected(3)),
            "{name}"
        );
    }
}

/// `try_recv` follows what another thread does: empty, then a value, then
/// empty again, then disconnected once that thread dropped its sender.
#[test]
fn try_recv_follows_the_sender_thread() {
    let _watchdog = Watchdog::new("try_recv_follows_the_sender_thread", HANG);
    for (name, make) in flavors::<u32>().into_iter().skip(1) {
        let (tx, rx) = make();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{name}");
        thread::spawn(move || tx.send(1).unwrap()).join().unwrap();
        assert_eq!(rx.try_recv(), Ok(1), "{name}");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected), "{name}");
        let (tx, rx) = make();
        let tx2 = tx.clone();
        thread::spawn(move || drop(tx)).join().unwrap();
        assert_eq!(
            rx.try_recv(),
            Err(TryRecvError::Empty),
            "{name}: a sender left"
        );
        thread::spawn(move || drop(tx2)).join().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected), "{name}");
    }
}

/// A thousand short-lived channels, each used once by two threads: a send
/// meeting a receive, a send racing the receiver's drop (the value is
/// received by nobody: it comes back, or goes with the channel), and a
/// receive racing the sender's drop. Every value is dropped exactly once.
#[test]
fn one_shot_channels_come_and_go_from_either_side() {
    let _watchdog = Watchdog::new("one_shot_channels_come_and_go_from_either_side", HANG);
    let rounds = iterations(300, 2);
    for (name, make) in flavors::<Box<u32>>() {
        for round in 0..rounds {
            let (tx, rx) = make();
            thread::scope(|s| {
                s.spawn(move || assert_eq!(rx.recv().as_deref(), Ok(&5)));
                s.spawn(move || tx.send(Box::new(5)).unwrap());
            });

            let (tx, rx) = make();
            thread::scope(|s| {
                s.spawn(move || drop(rx));
                s.spawn(move || {
                    if let Err(back) = tx.send(Box::new(6)) {
                        assert_eq!(*back.into_inner(), 6, "{name}, round {round}");
                    }
                });
            });

            let (tx, rx) = make();
            thread::scope(|s| {
                s.spawn(move || assert_eq!(rx.recv(), Err(RecvError)));
                s.spawn(move || drop(tx));
            });
        }
    }
}

/// Channels travel through channels: each message carries the receiver of
/// the next channel, so the two threads move down a chain of channels,
/// each used for one message.
#[test]
fn a_chain_of_channels_sent_through_channels() {
    type Message = Box<dyn Any + Send>;
    let _watchdog = Watchdog::new("a_chain_of_channels_sent_through_channels", HANG);
    let links = iterations(200, 5);
    for (name, make) in flavors::<Message>() {
        let (tx, rx) = make();
        thread::scope(|s| {
            s.spawn(move || {
                let mut tx = tx;
                for _ in 0..links {
                    let (next_tx, next_rx) = make();
                    tx.send(Box::new(next_rx)).unwrap();
                    tx = next_tx;
                }
            });
            let mut rx = rx;
            for link in 0..links {
                let message = rx
                    .recv()
                    .unwrap_or_else(|e| panic!("{name}, link {link}: {e}"));
                rx = *message.downcast::<Receiver<Message>>().expect("a receiver");
            }
            // The last sender went with its thread.
            assert_eq!(rx.recv().err(), Some(RecvError), "{name}");
        });
    }
}

/// One thread asks with `try_send` and collects the answers with
/// `try_iter`; the other answers every question it gets through `iter`
/// until answering fails because the asker has gone. Both loops end, and
/// exactly the answers asked for are counted.
#[test]
fn requests_by_try_send_answered_through_iter_until_the_asker_leaves() {
    let _watchdog = Watchdog::new(
        "requests_by_try_send_answered_through_iter_until_the_asker_leaves",
        HANG,
    );
    let wanted = iterations(1000, 8);
    for (name, make) in flavors::<usize>() {
        let (request_tx, request_rx) = make();
        let (answer_tx, answer_rx) = make();
        thread::scope(|s| {
            s.spawn(move || {
                let mut count = 0;
                loop {
                    for answer in answer_rx.try_iter() {
                        count += answer;
                        if count == wanted {
                            return;
                        }
                    }
                    match request_tx.try_send(1) {
                        Ok(()) | Err(TrySendError::Full(_)) => thread::yield_now(),
                        Err(e) => panic!("{name}: {e}"),
                    }
                }
            });
            let mut answered = 0;
            for request in request_rx.iter() {
                if answer_tx.send(request).is_err() {
                    break;
                }
                answered += 1;
            }
            assert!(answered >= wanted, "{name}: {answered} answers");
        });
    }
}

/// Counts its drops.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Values pass between two threads, then more are queued and left: those
/// received are dropped by the receiver, the rest when the last receiver
/// goes, each exactly once, whatever the traffic.
#[test]
fn every_value_is_dropped_once_whatever_the_traffic() {
    let _watchdog = Watchdog::new("every_value_is_dropped_once_whatever_the_traffic", HANG);
    let traffic = [
        (0, 0),
        (1, 0),
        (iterations(1000, 10), 7),
        (iterations(500, 5), 16),
    ];
    let drops = AtomicUsize::new(0);
    for (name, make) in flavors::<Counted<'_>>() {
        for (passed, left) in traffic {
            drops.store(0, SeqCst);
            let (tx, rx) = make();
            thread::scope(|s| {
                s.spawn(|| {
                    for _ in 0..passed {
                        drop(rx.recv().unwrap());
                    }
                });
                for _ in 0..passed {
                    tx.send(Counted(&drops)).unwrap();
                }
            });
            assert_eq!(drops.load(SeqCst), passed, "{name}");
            let mut queued = 0;
            while queued < left && tx.try_send(Counted(&drops)).is_ok() {
                queued += 1;
            }
            // The values refused were dropped as they came back.
            let refused = usize::from(queued < left);
            assert_eq!(drops.load(SeqCst), passed + refused, "{name}");
            drop(rx);
            assert_eq!(
                drops.load(SeqCst),
                passed + refused + queued,
                "{name}: ({passed}, {left})"
            );
            drop(tx);
            assert_eq!(drops.load(SeqCst), passed + refused + queued, "{name}");
        }
    }
}

/// While values pass, `len` never exceeds the capacity, and a rendezvous
/// channel stays empty and full at once.
#[test]
fn len_stays_within_the_capacity_while_values_pass() {
    let _watchdog = Watchdog::new("len_stays_within_the_capacity_while_values_pass", HANG);
    let count = iterations(5000, 12);
    for (name, make) in flavors::<usize>() {
        let (tx, rx) = make();
        let capacity = tx.capacity().unwrap_or(usize::MAX);
        let check = |len: usize, is_empty: bool, is_full: bool| {
            assert!(len <= capacity, "{name}: len {len}");
            if capacity == 0 {
                assert!(is_empty && is_full, "{name}");
            }
        };
        thread::scope(|s| {
            s.spawn(|| {
                for i in 0..count {
                    assert_eq!(rx.recv(), Ok(i), "{name}");
                    check(rx.len(), rx.is_empty(), rx.is_full());
                }
            });
            for i in 0..count {
                tx.send(i).unwrap();
                check(tx.len(), tx.is_empty(), tx.is_full());
            }
        });
        assert_eq!((tx.len(), rx.len()), (0, 0), "{name}");
    }
}

/// Two senders send as fast as they can until the receiver, which takes a
/// few values and leaves, is gone: both see the disconnection and stop.
#[test]
fn senders_stop_when_the_receiver_leaves() {
    let _watchdog = Watchdog::new("senders_stop_when_the_receiver_leaves", HANG);
    for (name, make) in flavors::<u32>() {
        let (tx, rx) = make();
        let sent = AtomicUsize::new(0);
        thread::scope(|s| {
            for _ in 0..2 {
                let tx = tx.clone();
                let sent = &sent;
                s.spawn(move || {
                    while tx.send(1).is_ok() {
                        sent.fetch_add(1, Relaxed);
                    }
                });
            }
            drop(tx);
            for _ in 0..3 {
                assert_eq!(rx.recv(), Ok(1), "{name}");
            }
            drop(rx);
        });
        assert!(sent.load(Relaxed) >= 3, "{name}");
    }
}

/// A timeout too long to add to the clock means no timeout: the call waits
/// until the other side acts, and does not panic.
#[test]
fn a_timeout_too_long_for_the_clock_waits_for_the_other_side() {
    let _watchdog = Watchdog::new(
        "a_timeout_too_long_for_the_clock_waits_for_the_other_side",
        HANG,
    );
    for (name, make) in flavors::<u32>() {
        let (tx, rx) = make();
        thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(PAUSE);
                tx.send(1).unwrap();
            });
            assert_eq!(rx.recv_timeout(Duration::MAX), Ok(1), "{name}");
        });
        if tx.capacity().is_some() {
            while tx.try_send(0).is_ok() {}
            // A rendezvous receiver takes the value itself; a bounded one
            // takes a queued value, which makes room.
            let expected = if tx.capacity() == Some(0) { 2 } else { 0 };
            thread::scope(|s| {
                s.spawn(|| {
                    thread::sleep(PAUSE);
                    assert_eq!(rx.recv(), Ok(expected), "{name}");
                });
                assert_eq!(tx.send_timeout(2, Duration::MAX), Ok(()), "{name}");
            });
        }
    }
}

/// Blocking calls still work inside a thread-local's destructor, while the
/// thread exits and other thread-locals may already be gone.
#[test]
fn blocking_calls_work_while_a_thread_exits() {
    struct OnExit;
    impl Drop for OnExit {
        fn drop(&mut self) {
            for (name, make) in flavors::<u32>() {
                let (tx, rx) = make();
                assert_eq!(
                    rx.recv_timeout(Duration::from_millis(1)),
                    Err(RecvTimeoutError::Timeout),
                    "{name}"
                );
                if tx.capacity().is_some() {
                    while tx.try_send(0).is_ok() {}
                    assert_eq!(
                        tx.send_timeout(1, Duration::from_millis(1)),
                        Err(SendTimeoutError::Timeout(1)),
                        "{name}"
                    );
                }
            }
        }
    }
    thread_local! {
        static ON_EXIT: OnExit = const { OnExit };
    }

    let _watchdog = Watchdog::new("blocking_calls_work_while_a_thread_exits", HANG);
    let (tx, rx) = unbounded();
    let exiting = thread::spawn(move || {
        // Made first, so dropped last.
        ON_EXIT.with(|_| ());
        rx.recv().unwrap();
    });
    thread::sleep(PAUSE);
    tx.send(()).unwrap();
    exiting.join().unwrap();
}
