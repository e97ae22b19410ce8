//! The receivers without senders: `after`, `at`, `tick` and `never`, as
//! plain receivers and in selects.
#![cfg(not(loom))]

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::thread;
use std::time::{Duration, Instant};

use weft_queue::{
    Receiver, RecvTimeoutError, Select, TryRecvError, after, at, never, select, tick, unbounded,
};
use weft_testkit::{BLOCKED, Watchdog, assert_sleeps};

/// How long a test that waits on a wake-up may run before its [`Watchdog`]
/// fails it; far longer under Miri, whose clock ticks with each step.
const HANG: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 120 });

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[test]
fn after_delivers_its_instant_once_when_due() {
    let start = Instant::now();
    let rx = after(ms(30));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let due = rx.recv().unwrap();
    assert!(due >= start + ms(30));
    assert!(Instant::now() >= due);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.recv_timeout(ms(10)), Err(RecvTimeoutError::Timeout));
    assert!(rx.try_iter().next().is_none());
}

#[test]
fn after_is_a_channel_of_capacity_one_that_never_disconnects() {
    let rx = after(ms(20));
    assert_eq!(rx.capacity(), Some(1));
    assert_eq!((rx.len(), rx.is_empty(), rx.is_full()), (0, true, false));
    thread::sleep(ms(30));
    assert_eq!((rx.len(), rx.is_empty(), rx.is_full()), (1, false, true));
    rx.try_recv().unwrap();
    assert_eq!((rx.len(), rx.is_empty(), rx.is_full()), (0, true, false));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "not disconnected");
}

#[test]
fn a_timed_receive_before_the_instant_times_out_and_a_later_one_succeeds() {
    let start = Instant::now();
    let rx = after(ms(60));
    assert_eq!(rx.recv_timeout(ms(20)), Err(RecvTimeoutError::Timeout));
    assert!(start.elapsed() >= ms(20));
    assert!(rx.recv_timeout(ms(1000)).is_ok());
    assert!(start.elapsed() >= ms(60));
}

#[test]
fn at_delivers_the_instant_it_was_given() {
    let when = Instant::now() + ms(10);
    assert_eq!(at(when).recv(), Ok(when));
    let past = Instant::now();
    assert_eq!(at(past).try_recv(), Ok(past));
}

/// Clones share the one message: of several threads racing for it,
/// exactly one gets it.
#[test]
fn clones_of_after_share_its_one_message() {
    let _watchdog = Watchdog::new("clones_of_after_share_its_one_message", HANG);
    let rx = after(ms(20));
    let got = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            let rx = rx.clone();
            let got = &got;
            s.spawn(move || {
                if rx.recv_timeout(ms(200)).is_ok() {
                    got.fetch_add(1, SeqCst);
                }
            });
        }
    });
    assert_eq!(got.load(SeqCst), 1);
    assert!(rx.same_channel(&rx.clone()));
    assert!(!rx.same_channel(&after(ms(20))));
}

#[test]
fn a_duration_too_long_gives_a_receiver_that_never_delivers() {
    for rx in [after(Duration::MAX), tick(Duration::MAX)] {
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(rx.recv_timeout(ms(1)), Err(RecvTimeoutError::Timeout));
        assert!(rx.same_channel(&never()));
    }
}

#[test]
fn tick_delivers_every_period_the_instant_each_was_due() {
    let period = ms(20);
    let start = Instant::now();
    let rx = tick(period);
    let mut last = start;
    for _ in 0..3 {
        let due = rx.recv().unwrap();
        assert!(due >= last + period, "{:?} after the last", due - last);
        assert!(Instant::now() >= due);
        last = due;
    }
    assert_eq!(rx.capacity(), Some(1));
}

/// Ticks missed while nobody received are not made up for: one message
/// waits, and the next is a whole period after it was taken.
#[test]
fn missed_ticks_are_not_queued() {
    let period = ms(20);
    let rx = tick(period);
    thread::sleep(period * 4);
    assert_eq!((rx.len(), rx.is_full()), (1, true));
    rx.try_recv().unwrap();
    let taken = Instant::now();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.len(), 0);
    let next = rx.recv().unwrap();
    assert!(
        next >= taken,
        "due {:?} before the last was taken",
        taken - next
    );
}

#[test]
fn a_tick_timed_receive_shorter_than_the_period_times_out() {
    let rx = tick(ms(100));
    let start = Instant::now();
    assert_eq!(rx.recv_timeout(ms(10)), Err(RecvTimeoutError::Timeout));
    assert!(start.elapsed() >= ms(10));
    assert!(rx.recv_timeout(ms(1000)).is_ok());
}

#[test]
fn never_delivers_nothing_and_waits_out_timeouts() {
    let rx = never::<i32>();
    assert_eq!(rx.capacity(), Some(0));
    assert_eq!((rx.len(), rx.is_empty(), rx.is_full()), (0, true, true));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let start = Instant::now();
    assert_eq!(rx.recv_timeout(ms(20)), Err(RecvTimeoutError::Timeout));
    assert!(start.elapsed() >= ms(20));
    let deadline = Instant::now() + ms(10);
    assert_eq!(rx.recv_deadline(deadline), Err(RecvTimeoutError::Timeout));
    assert!(Instant::now() >= deadline);
    assert!(rx.same_channel(&never()) && rx.same_channel(&rx.clone()));
}

/// A select sleeps until its earliest timer, and chooses it.
#[test]
#[cfg_attr(miri, ignore = "measures time")]
fn a_select_sleeps_until_its_earliest_timer() {
    let _watchdog = Watchdog::new("a_select_sleeps_until_its_earliest_timer", HANG);
    let (_tx, rx) = unbounded::<Instant>();
    let start = Instant::now();
    let early = after(BLOCKED);
    let late = after(BLOCKED * 10);
    let never = never::<Instant>();
    let mut sel = Select::new();
    sel.recv(&rx);
    sel.recv(&late);
    sel.recv(&never);
    let index = sel.recv(&early);
    let oper = assert_sleeps("a select waiting for a timer", || sel.select());
    assert_eq!(oper.index(), index);
    assert!(oper.recv(&early).unwrap() >= start + BLOCKED);
    assert!(start.elapsed() >= BLOCKED);
}

#[test]
fn a_timer_in_select_serves_as_a_timeout() {
    let (_tx, rx) = unbounded::<i32>();
    let start = Instant::now();
    let timeout = after(ms(30));
    select! {
        recv(rx) -> _ => panic!("nothing is sent"),
        recv(timeout) -> due => assert!(due.unwrap() >= start + ms(30)),
    }
    assert!(start.elapsed() >= ms(30));
    // Spent: from now on the timer is never ready.
    select! {
        recv(timeout) -> _ => panic!("after delivers once"),
        default(ms(10)) => {}
    }
}

#[test]
fn a_message_wins_over_a_later_timer() {
    let _watchdog = Watchdog::new("a_message_wins_over_a_later_timer", HANG);
    let (tx, rx) = unbounded::<i32>();
    thread::scope(|s| {
        s.spawn(move || {
            thread::sleep(ms(10));
            tx.send(1).unwrap();
        });
        select! {
            recv(rx) -> msg => assert_eq!(msg, Ok(1)),
            recv(after(ms(5000))) -> _ => panic!("the message comes first"),
        }
    });
}

/// The `never` and `tick` example of crossbeam-channel: ticks until the
/// receiver is swapped for `never`, then the timeout.
#[test]
fn a_receiver_swapped_for_never_is_never_chosen() {
    let mut rx = tick(ms(10));
    let mut steps = 0;
    loop {
        select! {
            recv(rx) -> _ => steps += 1,
            default(ms(100)) => break,
        }
        if steps == 3 {
            rx = never();
        }
    }
    assert_eq!(steps, 3);

    let (tx, real) = unbounded::<i32>();
    tx.send(1).unwrap();
    let mut optional: Option<&Receiver<i32>> = Some(&real);
    select! {
        recv(optional.unwrap_or(&never())) -> msg => assert_eq!(msg, Ok(1)),
        default => panic!("ready"),
    }
    optional = None;
    select! {
        recv(optional.unwrap_or(&never())) -> _ => panic!("never ready"),
        default => {}
    }
}

#[test]
fn ready_and_try_ready_see_due_timers() {
    let rx = after(ms(20));
    let ticks = tick(ms(1000));
    let mut sel = Select::new();
    let index = sel.recv(&rx);
    sel.recv(&ticks);
    assert!(sel.try_ready().is_err());
    assert_eq!(sel.ready(), index);
    assert!(rx.try_recv().is_ok());
    assert!(sel.ready_timeout(ms(10)).is_err());
}

/// Several threads select over the same ticker and a channel: each tick
/// is delivered to one of them, and no two get the same one.
#[test]
#[cfg_attr(miri, ignore = "many rounds of sleeping")]
fn threads_selecting_on_one_ticker_get_distinct_ticks() {
    let _watchdog = Watchdog::new("threads_selecting_on_one_ticker_get_distinct_ticks", HANG);
    let ticks = tick(ms(5));
    let (_tx, rx) = unbounded::<Instant>();
    let seen = std::sync::Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..5 {
                    select! {
                        recv(ticks) -> due => seen.lock().unwrap().push(due.unwrap()),
                        recv(rx) -> _ => unreachable!(),
                    }
                }
            });
        }
    });
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 15);
}
