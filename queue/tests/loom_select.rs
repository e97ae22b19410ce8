//! Loom models of `Select`: a select blocked on two channels that both
//! fire while one also closes; two selects racing for one message; and two
//! selects meeting on a rendezvous channel. A lost wake-up shows as a
//! deadlock; a value lost or taken twice fails an assertion.
#![cfg(loom)]

use weft_futex::loom::{self, thread};
use weft_queue::{RecvError, Select, bounded, unbounded};

/// Explores every interleaving with at most two preemptions: the models
/// have three threads, and each select registers with two channels.
fn model(f: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(f);
}

/// A thread selects on a bounded and an unbounded channel while two
/// threads each send one message on one of them and then drop their
/// sender. Whichever channel fires while the select sleeps must wake it,
/// and when both fire together only one claim wins: the select goes on
/// until it has both messages and both disconnections (removing each
/// channel once it has disconnected), so a lost wake-up leaves it asleep
/// forever.
#[test]
fn a_select_on_two_channels_gets_both_messages_and_both_disconnections() {
    model(|| {
        let (tx_a, rx_a) = bounded::<u32>(1);
        let (tx_b, rx_b) = unbounded::<u32>();
        let a = thread::spawn(move || tx_a.send(1).unwrap());
        let b = thread::spawn(move || tx_b.send(2).unwrap());

        let mut sel = Select::new();
        let receivers = [(sel.recv(&rx_a), &rx_a), (sel.recv(&rx_b), &rx_b)];
        let mut got = Vec::new();
        let mut open = 2;
        while open > 0 {
            let oper = sel.select();
            let (index, rx) = receivers
                .into_iter()
                .find(|&(index, _)| index == oper.index())
                .unwrap();
            match oper.recv(rx) {
                Ok(value) => got.push(value),
                Err(RecvError) => {
                    sel.remove(index);
                    open -= 1;
                }
            }
        }
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        a.join().unwrap();
        b.join().unwrap();
    });
}

/// Two selects wait on the same channel (and on a second one, for their
/// release); one message goes in. Exactly one select takes it, and it must
/// be woken to do so: the main thread waits for its report. Only then does
/// the second channel close, releasing the other select empty-handed.
#[test]
fn two_selects_racing_for_one_message_take_it_once() {
    model(|| {
        let (tx, rx) = unbounded::<u32>();
        let (release, released) = unbounded::<u32>();
        let (report, reports) = unbounded::<u32>();
        let selector = |rx: weft_queue::Receiver<u32>,
                        released: weft_queue::Receiver<u32>,
                        report: weft_queue::Sender<u32>| {
            thread::spawn(move || {
                let mut sel = Select::new();
                let op = sel.recv(&rx);
                sel.recv(&released);
                let oper = sel.select();
                if oper.index() == op {
                    let value = oper.recv(&rx).unwrap();
                    report.send(value).unwrap();
                    true
                } else {
                    assert_eq!(oper.recv(&released), Err(RecvError));
                    false
                }
            })
        };
        let first = selector(rx.clone(), released.clone(), report.clone());
        let second = selector(rx.clone(), released, report);
        tx.send(7).unwrap();
        assert_eq!(reports.recv(), Ok(7));
        drop(release);
        let took = [first.join().unwrap(), second.join().unwrap()];
        assert_eq!(took.iter().filter(|&&took| took).count(), 1);
        assert!(rx.try_recv().is_err(), "the message was taken");
    });
}

/// A select sending on a rendezvous channel and a select receiving on it,
/// in two threads, pair with each other whichever registers first, and the
/// value crosses once. Each also holds a receive on a channel of its own
/// that never fires, so that both go through the whole select.
#[test]
fn two_selects_pair_on_a_rendezvous_channel() {
    model(|| {
        let (tx, rx) = bounded::<u32>(0);
        let (_idle_tx, idle_rx) = unbounded::<u32>();
        let sender = {
            let idle_rx = idle_rx.clone();
            thread::spawn(move || {
                let mut sel = Select::new();
                let op = sel.send(&tx);
                sel.recv(&idle_rx);
                let oper = sel.select();
                assert_eq!(oper.index(), op);
                oper.send(&tx, 5)
            })
        };
        let mut sel = Select::new();
        let op = sel.recv(&rx);
        sel.recv(&idle_rx);
        let oper = sel.select();
        assert_eq!(oper.index(), op);
        assert_eq!(oper.recv(&rx), Ok(5));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}
