//! The `select!` and `select_biased!` macros: crossbeam-channel's grammar,
//! each handle evaluated once, bodies inline (so `break` works), and the
//! behaviour of the `Select` underneath.
#![cfg(not(loom))]
#![forbid(unsafe_code)]

use std::cell::Cell;
use std::ops::Deref;
use std::thread;
use std::time::{Duration, Instant};

use weft_queue::{
    Receiver, RecvError, SendError, Sender, bounded, select, select_biased, unbounded,
};
use weft_testkit::{Watchdog, iterations};

/// How long a test that waits on a wake-up may run before its [`Watchdog`]
/// fails it; far longer under Miri, whose clock ticks with each step.
const HANG: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 120 });

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[test]
fn the_ready_receive_is_chosen() {
    let (tx1, rx1) = unbounded::<i32>();
    let (tx2, rx2) = unbounded::<i32>();
    tx1.send(1).unwrap();
    select! {
        recv(rx1) -> msg => assert_eq!(msg, Ok(1)),
        recv(rx2) -> _ => panic!("nothing was sent there"),
    }
    tx2.send(2).unwrap();
    select! {
        recv(rx1) -> _ => panic!("nothing left there"),
        recv(rx2) -> msg => assert_eq!(msg, Ok(2)),
    }
}

#[test]
fn default_runs_when_nothing_is_ready_in_every_spelling() {
    let (tx, rx) = unbounded::<i32>();
    let (_tx2, rx2) = unbounded::<i32>();
    let mut ran = 0;
    select! {
        recv(rx) -> _ => panic!(),
        recv(rx2) -> _ => panic!(),
        default => ran += 1,
    }
    select! {
        recv(rx) -> _ => panic!(),
        default() => ran += 1,
    }
    select! {
        recv(rx) -> _ => panic!(),
        default(ms(1)) => ran += 1,
    }
    select! {
        default => ran += 1,
    }
    select! {
        default() => { ran += 1 }
    }
    assert_eq!(ran, 5);
    tx.send(3).unwrap();
    select! {
        recv(rx) -> msg => assert_eq!(msg, Ok(3)),
        default => panic!("a message was there"),
    }
}

#[test]
fn a_disconnected_channel_is_ready_before_default() {
    let (_, rx) = unbounded::<i32>();
    select! {
        recv(rx) -> res => assert_eq!(res, Err(RecvError)),
        default => panic!(),
    }
    let (tx, _) = bounded::<i32>(0);
    select! {
        send(tx, 4) -> res => assert_eq!(res, Err(SendError(4))),
        default(ms(1000)) => panic!(),
    }
}

#[test]
fn a_timeout_runs_default_after_waiting_it_out() {
    let (_tx, rx) = unbounded::<i32>();
    let (tx2, _rx2) = bounded::<i32>(0);
    let start = Instant::now();
    select! {
        recv(rx) -> _ => panic!(),
        send(tx2, 1) -> _ => panic!(),
        default(ms(50)) => {}
    }
    assert!(start.elapsed() >= ms(50));
    let start = Instant::now();
    select! {
        default(ms(30)) => {}
    }
    assert!(start.elapsed() >= ms(30));
}

#[test]
fn a_blocked_select_is_unblocked_by_a_send_or_a_receive() {
    let _watchdog = Watchdog::new("a_blocked_select_is_unblocked_by_a_send_or_a_receive", HANG);
    let (tx1, rx1) = bounded::<i32>(0);
    let (tx2, rx2) = bounded::<i32>(0);
    thread::scope(|s| {
        s.spawn(|| {
            thread::sleep(ms(20));
            tx2.send(2).unwrap();
        });
        select! {
            recv(rx1) -> _ => panic!(),
            recv(rx2) -> msg => assert_eq!(msg, Ok(2)),
        }
        s.spawn(|| {
            thread::sleep(ms(20));
            assert_eq!(rx1.recv(), Ok(1));
        });
        select! {
            send(tx1, 1) -> res => res.unwrap(),
            send(tx2, 2) -> _ => panic!(),
        }
    });
}

// The handle expressions are deliberately roundabout.
#[allow(clippy::unnecessary_literal_unwrap, clippy::redundant_closure_call)]
#[test]
fn handles_may_be_references_boxes_derefs_or_temporaries() {
    let (tx, rx) = unbounded::<i32>();
    select! {
        send(&&&tx, 1) -> res => res.unwrap(),
        recv(&&&rx) -> _ => panic!("empty"),
    }
    select! {
        recv(Some(&rx).unwrap_or(&weft_queue::unbounded().1)) -> msg => assert_eq!(msg, Ok(1)),
        default => panic!(),
    }
    let (boxed_tx, boxed_rx) = (Box::new(tx.clone()), Box::new(rx.clone()));
    select! {
        send(*boxed_tx, 2) -> res => res.unwrap(),
        recv(*boxed_rx) -> _ => panic!("empty"),
    }

    struct Wrapped<T>(T);
    impl<T> Deref for Wrapped<T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.0
        }
    }
    let (wrapped_tx, wrapped_rx) = (Wrapped(tx), Wrapped(rx));
    select! {
        recv(wrapped_rx) -> msg => assert_eq!(msg, Ok(2)),
        send(wrapped_tx, 3) -> _ => {}
    }
    drop((boxed_tx, boxed_rx, wrapped_tx));
    let moved = wrapped_rx.0;
    select! {
        recv((move || moved)()) -> _ => {}
    }
}

// The bodies are deliberately odd expressions.
#[allow(clippy::never_loop, clippy::match_single_binding)]
#[test]
fn bodies_may_be_blocks_without_commas_or_any_expression() {
    let (tx, rx) = unbounded::<i32>();
    let value = select! {
        recv(rx) -> _ => 1.5,
        recv(rx) -> _ => loop {
            unreachable!()
        },
        recv(rx) -> _ => match 7 {
            _ => unreachable!(),
        },
        default => 2.5
    };
    assert_eq!(value, 2.5);
    tx.send(1).unwrap();
    let value = select! {
        recv(rx) -> msg => {
            let msg = msg.unwrap();
            msg * 10
        }
        default => { 0 }
    };
    assert_eq!(value, 10);
    tx.send(1).unwrap();
    let value = select! {
        send(tx, 5) -> _ => { "sent" }
        recv(rx) -> _ => { "received" }
    };
    assert!(value == "sent" || value == "received");
}

#[test]
fn break_and_continue_in_an_arm_leave_the_enclosing_loop() {
    let (tx, rx) = unbounded::<i32>();
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut got = Vec::new();
    loop {
        select! {
            recv(rx) -> msg => match msg {
                Ok(3) => continue,
                Ok(value) => got.push(value),
                Err(_) => break,
            },
        }
    }
    assert_eq!(got, [0, 1, 2, 4]);

    let (tx, rx) = bounded::<i32>(1);
    let (_tx2, rx2) = unbounded::<i32>();
    let mut sent = 0;
    'outer: loop {
        select! {
            send(tx, sent) -> res => {
                res.unwrap();
                sent += 1;
            }
            recv(rx2) -> _ => unreachable!(),
            default => break 'outer,
        }
    }
    assert_eq!((sent, rx.recv()), (1, Ok(0)));
}

#[test]
fn each_handle_is_evaluated_once_and_a_message_only_if_sent() {
    let (tx, rx) = unbounded::<i32>();
    let handles = Cell::new(0);
    let messages = Cell::new(0);
    let receiver = || {
        handles.set(handles.get() + 1);
        &rx
    };
    let sender = || {
        handles.set(handles.get() + 1);
        &tx
    };
    let message = |value| {
        messages.set(messages.get() + 1);
        value
    };
    for _ in 0..10 {
        select! {
            recv(receiver()) -> _ => {}
            send(sender(), message(1)) -> _ => {}
            send(sender(), message(2)) -> _ => {}
        }
    }
    assert_eq!(handles.get(), 30);
    // Only the sends that were chosen evaluated their message, and each
    // round did one operation: sends minus receives is what is queued.
    let sent = messages.get() as usize;
    assert_eq!(rx.len(), sent - (10 - sent));

    let once = Box::new(());
    let (_, rx) = unbounded::<i32>();
    let take = move || {
        drop(once);
        rx
    };
    select! {
        recv(take()) -> res => assert!(res.is_err()),
    }
}

#[test]
fn the_result_pattern_may_shadow_the_handle_and_results_have_their_types() {
    let (_, r) = unbounded::<i32>();
    select! {
        recv(r) -> r => assert!(r.is_err()),
    }
    let (s, _) = bounded::<i32>(0);
    let (_, r) = bounded::<i32>(0);
    select! {
        recv(r) -> res => { let _: Result<i32, RecvError> = res; }
        default => {}
    }
    select! {
        send(s, 0) -> res => { let _: Result<(), SendError<i32>> = res; }
        recv(r) -> res => { let _: Result<i32, RecvError> = res; }
    }
    let (s, r) = unbounded();
    select! {
        recv(r) -> _ => {}
        default => {}
    }
    s.send("inferred").unwrap();
}

#[test]
fn selects_nest_and_an_operation_may_appear_twice() {
    let (tx, rx) = unbounded::<i32>();
    select! {
        send(tx, 0) -> _ => select! {
            recv(rx) -> msg => {
                assert_eq!(msg, Ok(0));
                select! {
                    send(tx, 1) -> _ => select! {
                        recv(rx) -> msg => assert_eq!(msg, Ok(1)),
                    }
                }
            }
        }
    }
    let mut hit = [false; 4];
    let mut rounds = 0;
    while hit.iter().any(|hit| !hit) {
        rounds += 1;
        assert!(rounds < 10_000, "{hit:?}");
        select! {
            recv(rx) -> _ => hit[0] = true,
            recv(rx) -> _ => hit[1] = true,
            send(tx, 0) -> _ => hit[2] = true,
            send(tx, 0) -> _ => hit[3] = true,
        }
    }
}

#[test]
fn select_biased_chooses_the_first_ready_arm() {
    let (tx1, rx1) = unbounded::<i32>();
    let (tx2, rx2) = unbounded::<i32>();
    for i in 0..10 {
        tx1.send(i).unwrap();
        tx2.send(i).unwrap();
    }
    for i in 0..10 {
        select_biased! {
            recv(rx1) -> msg => assert_eq!(msg, Ok(i)),
            recv(rx2) -> _ => panic!("the first arm is ready"),
        }
    }
    for _ in 0..3 {
        select_biased! {
            recv(rx1) -> _ => panic!("empty"),
            recv(rx2) -> msg => assert!(msg.is_ok()),
            default => panic!("the second arm is ready"),
        }
    }
}

/// Ready arms are chosen about equally often.
#[test]
fn select_chooses_among_ready_arms_fairly() {
    let rounds = iterations(3_000, 40);
    let (tx1, rx1) = unbounded::<()>();
    let (tx2, rx2) = unbounded::<()>();
    for _ in 0..rounds {
        tx1.send(()).unwrap();
        tx2.send(()).unwrap();
    }
    let mut hits = [0usize; 2];
    for _ in 0..rounds {
        select! {
            recv(rx1) -> _ => hits[0] += 1,
            recv(rx2) -> _ => hits[1] += 1,
        }
    }
    let slack = if cfg!(miri) { rounds / 2 } else { rounds / 8 };
    for hit in hits {
        assert!(hit.abs_diff(rounds / 2) < slack, "{hits:?}");
    }
}

/// Threads ping-pong through selects over a rendezvous channel and a
/// bounded one; every value makes it across once.
#[test]
fn two_threads_exchange_values_through_selects() {
    let _watchdog = Watchdog::new("two_threads_exchange_values_through_selects", HANG);
    let rounds = iterations(1_000, 10) as i32;
    let (tx0, rx0) = bounded::<i32>(0);
    let (tx1, rx1) = bounded::<i32>(1);
    let (_idle_tx, idle_rx) = unbounded::<i32>();
    thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..rounds {
                select! {
                    recv(rx0) -> msg => select! {
                        send(tx1, msg.unwrap() + 1) -> res => res.unwrap(),
                        recv(idle_rx) -> _ => unreachable!("nothing is sent there"),
                    },
                    recv(idle_rx) -> _ => unreachable!("nothing is sent there"),
                }
            }
        });
        for i in 0..rounds {
            select! {
                send(tx0, i) -> res => res.unwrap(),
                recv(idle_rx) -> _ => unreachable!("nothing is sent there"),
            }
            select! {
                recv(rx1) -> msg => assert_eq!(msg, Ok(i + 1)),
                recv(idle_rx) -> _ => unreachable!("nothing is sent there"),
            }
        }
    });
}

/// A value that crosses through a select, in a struct that is not `Copy`,
/// so that a lost or doubled value shows up as a wrong count of drops.
#[test]
fn values_received_through_selects_are_dropped_once() {
    use std::rc::Rc;
    let counter = Rc::new(());
    let (tx, rx) = unbounded::<Rc<()>>();
    let (tx2, rx2) = bounded::<Rc<()>>(2);
    for _ in 0..3 {
        tx.send(counter.clone()).unwrap();
        let _ = tx2.try_send(counter.clone());
    }
    for _ in 0..5 {
        select! {
            recv(rx) -> msg => drop(msg.unwrap()),
            recv(rx2) -> msg => drop(msg.unwrap()),
        }
    }
    assert_eq!(Rc::strong_count(&counter), 1);
    drop((tx, rx, tx2, rx2));
}

/// The handles of a `select!` may be of different message types.
#[test]
fn arms_may_have_different_message_types() {
    let (tx_int, rx_int) = unbounded::<i32>();
    let (tx_str, rx_str): (Sender<&str>, Receiver<&str>) = unbounded();
    tx_str.send("s").unwrap();
    select! {
        recv(rx_int) -> _ => panic!(),
        recv(rx_str) -> msg => assert_eq!(msg, Ok("s")),
    }
    select! {
        send(tx_int, 1) -> res => res.unwrap(),
        send(tx_str, "t") -> res => res.unwrap(),
    }
    assert_eq!(rx_int.len() + rx_str.len(), 1);
}
