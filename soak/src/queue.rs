//! The `queue` workload: `weft_queue`'s channels and `Queue`.
//!
//! The workload runs rounds until the run stops. Each round makes one
//! channel or queue of a random kind (`bounded` with capacity 1, 2, 7 or
//! 64, `unbounded`, the rendezvous `bounded(0)`, `Queue::bounded` or
//! `Queue::unbounded`) and starts one to three producers and one to three
//! consumers on it, each choosing among the blocking, `try_` and `_timeout`
//! forms at random, with random timeouts. A producer sends up to a random
//! quota of values tagged (producer, sequence number); a value that comes
//! back with `Full` or `Timeout` is sent again, one that comes back
//! disconnected or closed is kept. The round ends one of three ways:
//!
//! - the senders finish (or the run stops) and drop their handles; the
//!   consumers read until the channel reports the disconnection;
//! - the receivers leave at random points while the senders still send,
//!   which then fail and get their values back;
//! - for a `Queue`, the round's thread closes it at a random moment;
//!   producers then fail, consumers drain it until it reports `Closed`.
//!
//! Every value is a [`Msg`] whose `Drop` settles it in the round's
//! [`Ledger`]: received, returned to its producer, or dropped still queued
//! with the channel. Settling sets the value's bit; a bit already set is a
//! duplicate, and a bit still clear after the channel is gone is a lost
//! value. Values dropped with the channel are allowed only when the
//! receivers left early; otherwise the consumers read to the end and any
//! such value is lost. Each consumer also checks that it gets each
//! producer's values in the order they were sent.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;
use weft_queue::{
    PopTimeoutError, PushTimeoutError, Queue, Receiver, RecvTimeoutError, SendTimeoutError, Sender,
    TryPopError, TryPushError, TryRecvError, TrySendError,
};

use super::{Bits, Ctx, Op};

/// What a round runs on.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// `bounded(capacity)`; 0 is the rendezvous channel.
    Bounded(usize),
    Unbounded,
    /// `Queue::bounded(capacity)`, closed by the round's thread.
    BoundedQueue(usize),
    UnboundedQueue,
}

/// What became of a value, counted by the [`Ledger`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Still inside the channel when it was dropped.
    Queued,
    Received,
    /// Handed back to its producer by a failed send, or never sent.
    Returned,
}

/// One round's account of every value.
struct Ledger {
    /// One bit per value of each producer, set when the value is settled.
    settled: Vec<Bits>,
    /// Values made by each producer: numbered `0..made`.
    made: Vec<AtomicU64>,
    received: AtomicU64,
    returned: AtomicU64,
    dropped_queued: AtomicU64,
    duplicated: AtomicU64,
}

impl Ledger {
    fn new(producers: usize, quota: u64) -> Ledger {
        Ledger {
            settled: (0..producers).map(|_| Bits::new(quota)).collect(),
            made: (0..producers).map(|_| AtomicU64::new(0)).collect(),
            received: AtomicU64::new(0),
            returned: AtomicU64::new(0),
            dropped_queued: AtomicU64::new(0),
            duplicated: AtomicU64::new(0),
        }
    }

    /// The values that were made but never settled.
    fn unsettled(&self) -> u64 {
        let mut missing = 0;
        for (bits, made) in self.settled.iter().zip(&self.made) {
            missing += (0..made.load(Relaxed))
                .filter(|&seq| !bits.get(seq))
                .count() as u64;
        }
        missing
    }
}

/// A value sent through the channel. Dropping it settles it.
struct Msg<'a> {
    producer: usize,
    seq: u64,
    fate: Fate,
    ledger: &'a Ledger,
}

impl Drop for Msg<'_> {
    fn drop(&mut self) {
        // Relaxed, here and below: the counts are read after every thread
        // of the round was joined and the channel dropped.
        if self.ledger.settled[self.producer].set(self.seq) {
            self.ledger.duplicated.fetch_add(1, Relaxed);
        }
        let count = match self.fate {
            Fate::Queued => &self.ledger.dropped_queued,
            Fate::Received => &self.ledger.received,
            Fate::Returned => &self.ledger.returned,
        };
        count.fetch_add(1, Relaxed);
    }
}

/// A producer's end of the round: a sender of its own, or the queue.
enum Tx<'q, 'a> {
    Channel(Sender<Msg<'a>>),
    Queue(&'q Queue<Msg<'a>>),
}

/// A consumer's end of the round: a receiver of its own, or the queue.
enum Rx<'q, 'a> {
    Channel(Receiver<Msg<'a>>),
    Queue(&'q Queue<Msg<'a>>),
}

/// How a send went.
enum Sent<'a> {
    Yes,
    /// `Full` or `Timeout`: try again.
    Again(Msg<'a>),
    /// Disconnected or closed: the other side is gone.
    Refused(Msg<'a>),
}

/// How a receive went.
enum Got<'a> {
    Value(Msg<'a>),
    /// `Empty` or `Timeout`: try again.
    Nothing,
    /// Disconnected or closed, and drained.
    End,
}

pub(super) fn run(ctx: &mut Ctx<'_>) {
    let mut round = 0;
    while ctx.running() {
        let kind = match ctx.rng.random_range(0..8) {
            0 => Kind::Bounded(0),
            1 => Kind::Bounded(1),
            2 => Kind::Bounded([2, 7, 64][ctx.rng.random_range(0..3)]),
            3 => Kind::Unbounded,
            4 | 5 => Kind::BoundedQueue([1, 2, 7, 64][ctx.rng.random_range(0..4)]),
            _ => Kind::UnboundedQueue,
        };
        run_round(ctx, round, kind);
        round += 1;
    }
}

/// Runs one round on a new channel or queue of `kind`, and checks its
/// ledger once everything is dropped.
fn run_round(ctx: &mut Ctx<'_>, round: u64, kind: Kind) {
    let soak = ctx.soak;
    let producers = ctx.rng.random_range(1..=3);
    let consumers = ctx.rng.random_range(1..=3);
    // Mostly short rounds, now and then a long one.
    let digits = match ctx.rng.random_range(0..8) {
        0 => 4,
        1 | 2 => 3,
        3 | 4 => 2,
        _ => 1,
    };
    let quota = 10_u64.pow(digits) * ctx.rng.random_range(1..=3);
    let receivers_leave =
        matches!(kind, Kind::Bounded(_) | Kind::Unbounded) && ctx.rng.random_bool(0.3);
    let close_after = Duration::from_micros(ctx.rng.random_range(0..50_000));
    // Declared before the channel: the values in it borrow the ledger.
    let ledger = Ledger::new(producers, quota);
    let mut channel = match kind {
        Kind::Bounded(capacity) => Some(weft_queue::bounded(capacity)),
        Kind::Unbounded => Some(weft_queue::unbounded()),
        _ => None,
    };
    let queue = match kind {
        Kind::BoundedQueue(capacity) => Some(Queue::bounded(capacity)),
        Kind::UnboundedQueue => Some(Queue::unbounded()),
        _ => None,
    };

    thread::scope(|s| {
        let ledger = &ledger;
        for p in 0..producers {
            let tx = match (&channel, &queue) {
                (Some((tx, _)), _) => Tx::Channel(tx.clone()),
                (None, queue) => Tx::Queue(queue.as_ref().expect("a channel or a queue")),
            };
            soak.spawn(s, format!("queue-{round}-producer-{p}"), move |ctx| {
                produce(ctx, tx, ledger, p, quota);
            });
        }
        for c in 0..consumers {
            let rx = match (&channel, &queue) {
                (Some((_, rx)), _) => Rx::Channel(rx.clone()),
                (None, queue) => Rx::Queue(queue.as_ref().expect("a channel or a queue")),
            };
            let leave_after =
                receivers_leave.then(|| ctx.rng.random_range(0..=quota * producers as u64 / 2));
            soak.spawn(s, format!("queue-{round}-consumer-{c}"), move |ctx| {
                consume(ctx, rx, producers, leave_after);
            });
        }
        // A channel's own handles go at once, the threads hold the others;
        // a queue is closed after a while.
        if let Some(handles) = channel.take() {
            drop(handles);
        } else if let Some(queue) = &queue {
            let start = Instant::now();
            while start.elapsed() < close_after && ctx.running() {
                thread::sleep(Duration::from_millis(1));
            }
            ctx.track(Op::Close, || queue.close());
        }
    });
    drop(queue);

    let made: u64 = ledger.made.iter().map(|m| m.load(Relaxed)).sum();
    let queued = ledger.dropped_queued.load(Relaxed);
    let what = format!(
        "round {round}: {kind:?}, {producers} producer(s), {consumers} consumer(s){} \
         ({made} values made: {} received, {} returned, {queued} dropped in the channel)",
        if receivers_leave {
            ", receivers leaving"
        } else {
            ""
        },
        ledger.received.load(Relaxed),
        ledger.returned.load(Relaxed),
    );
    let duplicated = ledger.duplicated.load(Relaxed);
    if duplicated > 0 {
        soak.duplicated(duplicated, format!("values settled twice in {what}"));
    }
    let unsettled = ledger.unsettled();
    if unsettled > 0 {
        soak.lost(
            unsettled,
            format!("values neither received, returned nor dropped in {what}"),
        );
    }
    if queued > 0 && !receivers_leave {
        soak.lost(
            queued,
            format!("values left in the channel though the consumers read to its end, in {what}"),
        );
    }
}

/// A producer: sends its values `0..quota` until they are all sent, the
/// other side is gone, or the run stops.
fn produce<'a>(ctx: &mut Ctx<'_>, tx: Tx<'_, 'a>, ledger: &'a Ledger, p: usize, quota: u64) {
    'values: for seq in 0..quota {
        ledger.made[p].store(seq + 1, Relaxed);
        let mut msg = Msg {
            producer: p,
            seq,
            fate: Fate::Queued,
            ledger,
        };
        loop {
            if !ctx.running() {
                msg.fate = Fate::Returned;
                break 'values;
            }
            match tx.send(ctx, msg) {
                Sent::Yes => continue 'values,
                Sent::Again(back) => {
                    msg = back;
                    ctx.pause();
                }
                Sent::Refused(mut back) => {
                    back.fate = Fate::Returned;
                    break 'values;
                }
            }
        }
    }
    if let Tx::Channel(tx) = tx {
        ctx.track(Op::DropSender, || drop(tx));
    }
}

impl<'a> Tx<'_, 'a> {
    /// One send (or push) in a random form.
    fn send(&self, ctx: &mut Ctx<'_>, msg: Msg<'a>) -> Sent<'a> {
        let timeout = ctx.timeout();
        match (self, ctx.rng.random_range(0..3)) {
            (Tx::Channel(tx), 0) => match ctx.track(Op::Send, || tx.send(msg)) {
                Ok(()) => Sent::Yes,
                Err(error) => Sent::Refused(error.into_inner()),
            },
            (Tx::Channel(tx), 1) => match ctx.track(Op::TrySend, || tx.try_send(msg)) {
                Ok(()) => Sent::Yes,
                Err(TrySendError::Full(msg)) => Sent::Again(msg),
                Err(TrySendError::Disconnected(msg)) => Sent::Refused(msg),
            },
            (Tx::Channel(tx), _) => match ctx.track_timeout(
                Op::SendTimeout,
                timeout,
                || tx.send_timeout(msg, timeout),
                |r| matches!(r, Err(SendTimeoutError::Timeout(_))),
            ) {
                Ok(()) => Sent::Yes,
                Err(SendTimeoutError::Timeout(msg)) => Sent::Again(msg),
                Err(SendTimeoutError::Disconnected(msg)) => Sent::Refused(msg),
            },
            (Tx::Queue(queue), 0) => match ctx.track(Op::Push, || queue.push(msg)) {
                Ok(()) => Sent::Yes,
                Err(error) => Sent::Refused(error.into_inner()),
            },
            (Tx::Queue(queue), 1) => match ctx.track(Op::TryPush, || queue.try_push(msg)) {
                Ok(()) => Sent::Yes,
                Err(TryPushError::Full(msg)) => Sent::Again(msg),
                Err(TryPushError::Closed(msg)) => Sent::Refused(msg),
            },
            (Tx::Queue(queue), _) => match ctx.track_timeout(
                Op::PushTimeout,
                timeout,
                || queue.push_timeout(msg, timeout),
                |r| matches!(r, Err(PushTimeoutError::Timeout(_))),
            ) {
                Ok(()) => Sent::Yes,
                Err(PushTimeoutError::Timeout(msg)) => Sent::Again(msg),
                Err(PushTimeoutError::Closed(msg)) => Sent::Refused(msg),
            },
        }
    }
}

/// A consumer: receives until the channel or queue reports its end, or, if
/// `leave_after` is set, until it has that many values (or the run stops)
/// and then drops its receiver. Checks that each producer's values come in
/// the order they were sent.
fn consume(ctx: &mut Ctx<'_>, rx: Rx<'_, '_>, producers: usize, leave_after: Option<u64>) {
    let mut last_seq: Vec<Option<u64>> = vec![None; producers];
    let mut received = 0;
    while leave_after.is_none_or(|n| received < n && ctx.running()) {
        let mut msg = match rx.recv(ctx) {
            Got::Value(msg) => msg,
            Got::Nothing => {
                ctx.pause();
                continue;
            }
            Got::End => break,
        };
        let last = &mut last_seq[msg.producer];
        if let Some(before) = *last {
            if msg.seq <= before {
                ctx.soak.broken(format!(
                    "a consumer got producer {}'s value {} after its value {before}",
                    msg.producer, msg.seq
                ));
            }
        }
        *last = Some(msg.seq);
        msg.fate = Fate::Received;
        received += 1;
    }
    if let Rx::Channel(rx) = rx {
        ctx.track(Op::DropReceiver, || drop(rx));
    }
}

impl<'a> Rx<'_, 'a> {
    /// One receive (or pop) in a random form.
    fn recv(&self, ctx: &mut Ctx<'_>) -> Got<'a> {
        let timeout = ctx.timeout();
        match (self, ctx.rng.random_range(0..3)) {
            (Rx::Channel(rx), 0) => match ctx.track(Op::Recv, || rx.recv()) {
                Ok(msg) => Got::Value(msg),
                Err(_) => Got::End,
            },
            (Rx::Channel(rx), 1) => match ctx.track(Op::TryRecv, || rx.try_recv()) {
                Ok(msg) => Got::Value(msg),
                Err(TryRecvError::Empty) => Got::Nothing,
                Err(TryRecvError::Disconnected) => Got::End,
            },
            (Rx::Channel(rx), _) => match ctx.track_timeout(
                Op::RecvTimeout,
                timeout,
                || rx.recv_timeout(timeout),
                |r| matches!(r, Err(RecvTimeoutError::Timeout)),
            ) {
                Ok(msg) => Got::Value(msg),
                Err(RecvTimeoutError::Timeout) => Got::Nothing,
                Err(RecvTimeoutError::Disconnected) => Got::End,
            },
            (Rx::Queue(queue), 0) => match ctx.track(Op::Pop, || queue.pop()) {
                Some(msg) => Got::Value(msg),
                None => Got::End,
            },
            (Rx::Queue(queue), 1) => match ctx.track(Op::TryPop, || queue.try_pop()) {
                Ok(msg) => Got::Value(msg),
                Err(TryPopError::Empty) => Got::Nothing,
                Err(TryPopError::Closed) => Got::End,
            },
            (Rx::Queue(queue), _) => match ctx.track_timeout(
                Op::PopTimeout,
                timeout,
                || queue.pop_timeout(timeout),
                |r| matches!(r, Err(PopTimeoutError::Timeout)),
            ) {
                Ok(msg) => Got::Value(msg),
                Err(PopTimeoutError::Timeout) => Got::Nothing,
                Err(PopTimeoutError::Closed) => Got::End,
            },
        }
    }
}
