//! Behaviour of `Select`: which operations are ready, which one is chosen,
//! how a blocked select sleeps and wakes, and rendezvous pairing.
#![cfg(not(loom))]

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::thread;
use std::time::{Duration, Instant};

use weft_queue::{
    Receiver, RecvError, Select, SelectTimeoutError, SendError, Sender, TryRecvError,
    TrySelectError, bounded, unbounded,
};
use weft_testkit::{BLOCKED, Watchdog, assert_sleeps, iterations};

/// How long a test that waits on a wake-up may run before its [`Watchdog`]
/// fails it; far longer under Miri, whose clock ticks with each step.
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

/// The flavors that hold values.
fn buffered() -> Vec<(&'static str, Make)> {
    flavors().into_iter().skip(1).collect()
}

/// Waits until `done` holds, yielding meanwhile.
fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        thread::yield_now();
    }
}

#[test]
fn an_empty_select_fails_at_once_and_waits_out_its_timeout() {
    let mut sel = Select::new();
    assert_eq!(sel.try_select().err(), Some(TrySelectError));
    assert!(sel.try_ready().is_err());
    let wait = Duration::from_millis(20);
    let start = Instant::now();
    assert_eq!(sel.select_timeout(wait).err(), Some(SelectTimeoutError));
    assert!(start.elapsed() >= wait, "left after {:?}", start.elapsed());
    let deadline = Instant::now() + wait;
    assert!(sel.ready_deadline(deadline).is_err());
    assert!(Instant::now() >= deadline);
}

#[test]
#[should_panic(expected = "no operations have been added")]
fn an_empty_select_panics_in_select() {
    let _ = Select::new().select();
}

#[test]
fn indexes_are_distinct_and_remove_leaves_the_others() {
    let (tx1, rx1) = unbounded::<u64>();
    let (tx2, rx2) = unbounded::<u64>();
    let (tx3, rx3) = unbounded::<u64>();
    let mut sel = Select::new();
    let one = sel.recv(&rx1);
    let two = sel.send(&tx2);
    let three = sel.recv(&rx3);
    let indexes: HashSet<_> = [one, two, three].into();
    assert_eq!(indexes.len(), 3);

    // Only the send is ready; once removed, only what is added later.
    let oper = sel.select();
    assert_eq!(oper.index(), two);
    oper.send(&tx2, 5).unwrap();
    sel.remove(two);
    assert!(sel.try_select().is_err());
    tx3.send(3).unwrap();
    let oper = sel.select();
    assert_eq!(oper.index(), three);
    assert_eq!(oper.recv(&rx3), Ok(3));
    tx1.send(1).unwrap();
    let oper = sel.select();
    assert_eq!(oper.index(), one);
    assert_eq!(oper.recv(&rx1), Ok(1));

    // Added after a removal: a new index, and the select still works.
    let four = sel.recv(&rx2);
    assert!(![one, two, three].contains(&four));
    let oper = sel.select();
    assert_eq!(oper.index(), four);
    assert_eq!(oper.recv(&rx2), Ok(5));
    drop(tx1);
    let oper = sel.select();
    assert_eq!(oper.index(), one, "a disconnected channel is ready");
    assert_eq!(oper.recv(&rx1), Err(RecvError));
}

#[test]
#[should_panic(expected = "already removed")]
fn removing_an_operation_twice_panics() {
    let (_tx, rx) = unbounded::<u64>();
    let mut sel = Select::new();
    let index = sel.recv(&rx);
    sel.remove(index);
    sel.remove(index);
}

#[test]
fn a_ready_receive_is_selected_on_every_flavor() {
    for (name, make) in buffered() {
        let (tx, rx) = make();
        let (_tx2, rx2) = make();
        let mut sel = Select::new();
        sel.recv(&rx2);
        let index = sel.recv(&rx);
        assert!(sel.try_select().is_err(), "{name}");
        tx.send(7).unwrap();
        let oper = sel.try_select().unwrap();
        assert_eq!(oper.index(), index, "{name}");
        assert_eq!(oper.recv(&rx), Ok(7), "{name}");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{name}");
    }
}

#[test]
fn a_send_is_ready_while_there_is_room() {
    for (name, make) in buffered() {
        let (tx, rx) = make();
        let capacity = tx.capacity().unwrap_or(100);
        let mut sel = Select::new();
        let index = sel.send(&tx);
        for i in 0..capacity {
            let oper = sel.select_timeout(Duration::ZERO).unwrap();
            assert_eq!(oper.index(), index, "{name}");
            oper.send(&tx, i as u64).unwrap();
        }
        if tx.capacity().is_some() {
            assert!(sel.try_select().is_err(), "{name}: full");
            assert_eq!(rx.recv(), Ok(0), "{name}");
            sel.try_select().unwrap().send(&tx, 99).unwrap();
        }
        assert_eq!(rx.len(), capacity, "{name}");
    }
}

#[test]
fn disconnection_makes_both_operations_ready() {
    for (name, make) in flavors() {
        let (tx, rx) = make();
        drop(rx);
        let mut sel = Select::new();
        sel.send(&tx);
        let oper = sel.try_select().unwrap();
        assert_eq!(oper.send(&tx, 4), Err(SendError(4)), "{name}");

        let (tx, rx) = make();
        if tx.capacity() != Some(0) {
            tx.send(1).unwrap();
        }
        drop(tx);
        let mut sel = Select::new();
        sel.recv(&rx);
        if rx.capacity() != Some(0) {
            assert_eq!(sel.select().recv(&rx), Ok(1), "{name}: drained first");
        }
        let oper = sel.try_select().unwrap();
        assert_eq!(oper.recv(&rx), Err(RecvError), "{name}");
    }
}

#[test]
fn a_zero_timeout_or_a_past_deadline_still_selects_a_ready_operation() {
    let (tx, rx) = bounded(4);
    let mut sel = Select::new();
    sel.recv(&rx);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(sel.select_timeout(Duration::ZERO).unwrap().recv(&rx), Ok(1));
    let past = Instant::now();
    assert_eq!(sel.select_deadline(past).unwrap().recv(&rx), Ok(2));
    assert!(sel.select_timeout(Duration::ZERO).is_err());
    assert!(sel.select_deadline(past).is_err());
}

#[test]
fn select_timeout_waits_out_its_timeout() {
    let (_tx, rx) = unbounded::<u64>();
    let (tx2, _rx2) = bounded::<u64>(1);
    tx2.send(0).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    sel.send(&tx2);
    let wait = Duration::from_millis(30);
    let start = Instant::now();
    assert!(sel.select_timeout(wait).is_err());
    assert!(start.elapsed() >= wait);
    let start = Instant::now();
    assert!(sel.ready_timeout(wait).is_err());
    assert!(start.elapsed() >= wait);
}

/// Other threads hammer one channel while a value sits in another for the
/// whole call: `try_select` must find it every time.
#[test]
fn try_select_never_misses_a_value_that_stays() {
    let _watchdog = Watchdog::new("try_select_never_misses_a_value_that_stays", HANG);
    let rounds = iterations(2_000, 20);
    for (name, make) in buffered() {
        let (busy_tx, busy_rx) = make();
        let (tx, rx) = make();
        let stop = AtomicUsize::new(0);
        thread::scope(|s| {
            s.spawn(|| {
                while stop.load(SeqCst) == 0 {
                    let _ = busy_tx.try_send(1);
                    let _ = busy_rx.try_recv();
                }
            });
            tx.send(5).unwrap();
            for _ in 0..rounds {
                let mut sel = Select::new();
                sel.recv(&busy_rx);
                let index = sel.recv(&rx);
                sel.send(&busy_tx);
                // Whatever is chosen, the lone value must be among the
                // ready operations, so a select always succeeds; when the
                // value is chosen, put it back.
                let oper = sel
                    .try_select()
                    .unwrap_or_else(|_| panic!("{name}: missed"));
                if oper.index() == index {
                    assert_eq!(oper.recv(&rx), Ok(5));
                    tx.send(5).unwrap();
                } else if oper.index() == 0 {
                    let _ = oper.recv(&busy_rx);
                } else {
                    let _ = oper.send(&busy_tx, 1);
                }
            }
            stop.store(1, SeqCst);
        });
    }
}

/// Each of three always-ready operations is chosen about a third of the
/// time (the bound is loose: a fair coin misses it far less than once in a
/// billion runs).
#[test]
fn ready_operations_are_chosen_uniformly() {
    let rounds = iterations(3_000, 60);
    let channels: Vec<_> = (0..3).map(|_| unbounded::<u64>()).collect();
    let mut counts = [0usize; 3];
    let mut sel = Select::new();
    let indexes: Vec<_> = channels.iter().map(|(_, rx)| sel.recv(rx)).collect();
    for (tx, _) in &channels {
        tx.send(0).unwrap();
    }
    for _ in 0..rounds {
        let oper = sel.select();
        let which = indexes.iter().position(|&i| i == oper.index()).unwrap();
        let (tx, rx) = &channels[which];
        assert_eq!(oper.recv(rx), Ok(0));
        tx.send(0).unwrap();
        counts[which] += 1;
    }
    let expected = rounds / 3;
    let slack = if cfg!(miri) { expected } else { expected / 4 };
    for count in counts {
        assert!(
            count.abs_diff(expected) < slack,
            "{counts:?} over {rounds} rounds"
        );
    }
}

#[test]
fn a_biased_select_chooses_the_first_ready_operation() {
    let (tx1, rx1) = unbounded();
    let (tx2, rx2) = unbounded();
    let mut sel = Select::new_biased();
    let second = sel.recv(&rx2);
    let first = sel.recv(&rx1);
    tx1.send(1).unwrap();
    tx2.send(2).unwrap();
    for expected in [second, first] {
        let oper = sel.select();
        assert_eq!(oper.index(), expected);
        if expected == first {
            assert_eq!(oper.recv(&rx1), Ok(1));
        } else {
            assert_eq!(oper.recv(&rx2), Ok(2));
        }
    }
}

/// A select blocked on two empty channels sleeps (measured as CPU time),
/// and a send on either wakes it with that value.
#[test]
#[cfg_attr(miri, ignore = "measures time")]
fn a_blocked_select_sleeps_until_a_send_wakes_it() {
    let _watchdog = Watchdog::new("a_blocked_select_sleeps_until_a_send_wakes_it", HANG);
    for (name, make) in flavors() {
        for which in 0..2 {
            let channels = [make(), make()];
            thread::scope(|s| {
                s.spawn(|| {
                    thread::sleep(BLOCKED);
                    channels[which].0.send(10 + which as u64).unwrap();
                });
                let mut sel = Select::new();
                let indexes = [sel.recv(&channels[0].1), sel.recv(&channels[1].1)];
                let label = format!("a select blocked on two {name} channels");
                let oper = assert_sleeps(&label, || sel.select());
                assert_eq!(oper.index(), indexes[which], "{name}");
                assert_eq!(oper.recv(&channels[which].1), Ok(10 + which as u64));
            });
        }
    }
}

/// A select waiting for room in a full channel sleeps, and a receive
/// makes the room and wakes it.
#[test]
#[cfg_attr(miri, ignore = "measures time")]
fn a_blocked_send_select_wakes_when_room_is_made() {
    let _watchdog = Watchdog::new("a_blocked_send_select_wakes_when_room_is_made", HANG);
    for capacity in [0, 1, 3] {
        let (tx, rx) = bounded(capacity);
        for i in 0..capacity {
            tx.send(i as u64).unwrap();
        }
        thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(BLOCKED);
                for i in 0..=capacity {
                    assert_eq!(rx.recv(), Ok(i as u64));
                }
            });
            let mut sel = Select::new();
            sel.send(&tx);
            let oper = assert_sleeps("a select blocked on a full channel", || sel.select());
            oper.send(&tx, capacity as u64).unwrap();
        });
    }
}

#[test]
fn disconnection_wakes_a_blocked_select() {
    let _watchdog = Watchdog::new("disconnection_wakes_a_blocked_select", HANG);
    for (name, make) in flavors() {
        // The receiving side: the last sender drops.
        let (tx, rx) = make();
        let (_tx2, rx2) = make();
        thread::scope(|s| {
            s.spawn(move || {
                thread::sleep(Duration::from_millis(10));
                drop(tx);
            });
            let mut sel = Select::new();
            sel.recv(&rx2);
            let index = sel.recv(&rx);
            let oper = sel.select();
            assert_eq!(oper.index(), index, "{name}");
            assert_eq!(oper.recv(&rx), Err(RecvError), "{name}");
        });
        // The sending side, blocked on a full channel: the last receiver
        // drops.
        let (tx, rx) = make();
        if tx.capacity().is_none() {
            continue;
        }
        while tx.try_send(0).is_ok() {}
        thread::scope(|s| {
            s.spawn(move || {
                thread::sleep(Duration::from_millis(10));
                drop(rx);
            });
            let mut sel = Select::new();
            sel.send(&tx);
            let oper = sel.select();
            assert_eq!(oper.send(&tx, 3), Err(SendError(3)), "{name}");
        });
    }
}

/// A send and a receive on one buffered channel: one of them is always
/// ready, and whichever is chosen completes.
#[test]
fn send_and_receive_on_one_channel_in_one_select() {
    for (name, make) in buffered() {
        let (tx, rx) = make();
        let mut sel = Select::new();
        let send = sel.send(&tx);
        let recv = sel.recv(&rx);
        let mut held = 0i64;
        for i in 0..iterations(200, 20) as u64 {
            let oper = sel.select();
            if oper.index() == send {
                oper.send(&tx, i).unwrap();
                held += 1;
            } else {
                assert_eq!(oper.index(), recv, "{name}");
                oper.recv(&rx).unwrap();
                held -= 1;
            }
            assert_eq!(rx.len() as i64, held, "{name}");
        }
    }
}

/// On a rendezvous channel, a select's send and receive never pair with
/// each other: alone, the select times out.
#[test]
fn a_select_never_pairs_its_own_send_and_receive() {
    let (tx, rx) = bounded::<u64>(0);
    let mut sel = Select::new();
    sel.send(&tx);
    sel.recv(&rx);
    assert!(sel.try_select().is_err());
    assert!(sel.select_timeout(Duration::from_millis(20)).is_err());
}

/// A rendezvous send in one thread's select pairs with another thread's
/// select receiving on that channel, whichever blocks first; each value
/// crosses once.
#[test]
fn two_selects_pair_on_a_rendezvous_channel() {
    let _watchdog = Watchdog::new("two_selects_pair_on_a_rendezvous_channel", HANG);
    let (tx, rx) = bounded::<u64>(0);
    let (_idle_tx, idle_rx) = unbounded::<u64>();
    let (idle_tx2, _idle_rx2) = bounded::<u64>(0);
    let rounds = iterations(300, 10) as u64;
    thread::scope(|s| {
        s.spawn(|| {
            let mut sel = Select::new();
            let send = sel.send(&tx);
            sel.recv(&idle_rx);
            for i in 0..rounds {
                if i % 3 == 0 {
                    thread::yield_now();
                }
                let oper = sel.select();
                assert_eq!(oper.index(), send);
                oper.send(&tx, i).unwrap();
            }
        });
        let mut sel = Select::new();
        let recv = sel.recv(&rx);
        sel.send(&idle_tx2);
        for i in 0..rounds {
            if i % 2 == 0 {
                thread::yield_now();
            }
            let oper = sel.select();
            assert_eq!(oper.index(), recv);
            assert_eq!(oper.recv(&rx), Ok(i));
        }
    });
}

/// A select's rendezvous send pairs with a thread blocked in `recv`, and a
/// select's receive with a thread blocked in `send`; `try_send` and
/// `try_recv` pair with a blocked select.
#[test]
fn selects_pair_with_blocked_calls_and_try_calls_pair_with_selects() {
    let _watchdog = Watchdog::new(
        "selects_pair_with_blocked_calls_and_try_calls_pair_with_selects",
        HANG,
    );
    let (tx, rx) = bounded::<u64>(0);
    thread::scope(|s| {
        let receiver = s.spawn(|| rx.recv());
        let mut sel = Select::new();
        sel.send(&tx);
        sel.select().send(&tx, 1).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(1));

        s.spawn(|| tx.send(2).unwrap());
        let mut sel = Select::new();
        sel.recv(&rx);
        assert_eq!(sel.select().recv(&rx), Ok(2));

        let selecting = s.spawn(|| {
            let mut sel = Select::new();
            sel.recv(&rx);
            sel.select().recv(&rx)
        });
        until(|| tx.try_send(3).is_ok());
        assert_eq!(selecting.join().unwrap(), Ok(3));

        let selecting = s.spawn(|| {
            let mut sel = Select::new();
            sel.send(&tx);
            sel.select().send(&tx, 4)
        });
        let value = loop {
            match rx.try_recv() {
                Ok(value) => break value,
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(value, 4);
        assert_eq!(selecting.join().unwrap(), Ok(()));
    });
}

/// Several threads select over shared channels of every flavor, some
/// receiving and some sending: every message is received exactly once.
#[test]
fn many_selecting_threads_receive_every_message_once() {
    let _watchdog = Watchdog::new("many_selecting_threads_receive_every_message_once", HANG);
    let per_sender = iterations(2_000, 15) as u64;
    let channels: Vec<_> = flavors().into_iter().map(|(_, make)| make()).collect();
    let senders = 3u64;
    let received = AtomicUsize::new(0);
    let seen: Vec<AtomicUsize> = (0..senders * per_sender)
        .map(|_| AtomicUsize::new(0))
        .collect();
    thread::scope(|s| {
        for id in 0..senders {
            let channels = &channels;
            s.spawn(move || {
                let mut sel = Select::new();
                for (tx, _) in channels {
                    sel.send(tx);
                }
                for i in 0..per_sender {
                    let oper = sel.select();
                    let (tx, _) = &channels[oper.index()];
                    oper.send(tx, id * per_sender + i).unwrap();
                }
            });
        }
        for _ in 0..3 {
            s.spawn(|| {
                let mut sel = Select::new();
                for (_, rx) in &channels {
                    sel.recv(rx);
                }
                while received.load(SeqCst) < (senders * per_sender) as usize {
                    let Ok(oper) = sel.select_timeout(Duration::from_millis(20)) else {
                        continue;
                    };
                    let (_, rx) = &channels[oper.index()];
                    let value = oper.recv(rx).unwrap();
                    seen[value as usize].fetch_add(1, SeqCst);
                    received.fetch_add(1, SeqCst);
                }
            });
        }
    });
    for (value, count) in seen.iter().enumerate() {
        assert_eq!(count.load(SeqCst), 1, "value {value}");
    }
}

/// Two selects wait for the same channel; one message wakes one of them,
/// and the other keeps waiting until its timeout.
#[test]
fn one_message_is_taken_by_one_of_two_blocked_selects() {
    let _watchdog = Watchdog::new("one_message_is_taken_by_one_of_two_blocked_selects", HANG);
    for (name, make) in flavors() {
        let (tx, rx) = make();
        let got = AtomicUsize::new(0);
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    let mut sel = Select::new();
                    sel.recv(&rx);
                    if let Ok(oper) = sel.select_timeout(Duration::from_millis(300)) {
                        assert_eq!(oper.recv(&rx), Ok(8));
                        got.fetch_add(1, SeqCst);
                    }
                });
            }
            thread::sleep(Duration::from_millis(30));
            tx.send(8).unwrap();
        });
        assert_eq!(got.load(SeqCst), 1, "{name}");
    }
}

#[test]
fn ready_reports_a_ready_operation_without_performing_it() {
    let _watchdog = Watchdog::new(
        "ready_reports_a_ready_operation_without_performing_it",
        HANG,
    );
    for (name, make) in flavors() {
        let (tx, rx) = make();
        let mut sel = Select::new();
        let index = sel.recv(&rx);
        assert!(sel.try_ready().is_err(), "{name}");
        thread::scope(|s| {
            s.spawn(|| tx.send(6).unwrap());
            assert_eq!(sel.ready(), index, "{name}");
            let value = loop {
                match rx.try_recv() {
                    Ok(value) => break value,
                    Err(TryRecvError::Empty) => thread::yield_now(),
                    Err(e) => panic!("{name}: {e}"),
                }
            };
            assert_eq!(value, 6);
        });
        drop(tx);
        assert_eq!(sel.try_ready(), Ok(index), "{name}: disconnected");
    }
}

#[test]
#[should_panic(expected = "passed a receiver that was not the selected operation's")]
fn completing_with_another_receiver_panics() {
    let (tx, rx) = unbounded::<u64>();
    let other = rx.clone();
    drop(tx);
    let mut sel = Select::new();
    sel.recv(&rx);
    let _ = sel.select().recv(&other);
}

#[test]
#[should_panic(expected = "passed a sender that was not the selected operation's")]
fn completing_with_another_sender_panics() {
    let (tx, _rx) = unbounded::<u64>();
    let other = tx.clone();
    let mut sel = Select::new();
    sel.send(&tx);
    let _ = sel.select().send(&other, 1);
}

#[test]
fn dropping_a_selected_operation_uncompleted_panics() {
    let (tx, _rx) = unbounded::<u64>();
    let mut sel = Select::new();
    sel.send(&tx);
    let panic = catch_unwind(AssertUnwindSafe(|| drop(sel.select()))).unwrap_err();
    let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("without completing"), "{message}");
}

/// As crossbeam-channel's, a `Select` may be sent to, or cloned on, other
/// threads, which then select with it.
#[test]
fn a_select_may_be_sent_to_and_cloned_on_other_threads() {
    fn check<T: Send + Sync>() {}
    check::<Select<'_>>();
    let _watchdog = Watchdog::new("a_select_may_be_sent_to_and_cloned_on_other_threads", HANG);
    let (tx, rx) = bounded::<u64>(0);
    let mut sel = Select::new();
    let recv = sel.recv(&rx);
    let send = sel.send(&tx);
    let threads = 6;
    let sent = AtomicUsize::new(0);
    thread::scope(|s| {
        for i in 0..threads {
            let mut sel = sel.clone();
            let (tx, rx, sent) = (&tx, &rx, &sent);
            s.spawn(move || {
                let oper = sel.select();
                if oper.index() == send {
                    oper.send(tx, i).unwrap();
                    sent.fetch_add(1, SeqCst);
                } else {
                    assert_eq!(oper.index(), recv);
                    assert_ne!(oper.recv(rx), Ok(i), "a select pairs with another");
                }
            });
        }
    });
    assert_eq!(sent.load(SeqCst), threads as usize / 2);
}

#[test]
fn select_debug_and_default() {
    let sel = Select::default();
    assert!(format!("{sel:?}").starts_with("Select"));
    let (tx, _rx) = unbounded::<u64>();
    let mut sel = sel.clone();
    sel.send(&tx);
    let oper = sel.select();
    assert!(format!("{oper:?}").contains("index: 0"));
    oper.send(&tx, 0).unwrap();
}
