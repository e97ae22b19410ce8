//! Producers and consumers on random operations, checked for values lost,
//! duplicated or reordered.
//!
//! A seed picks each scenario: the flavor, one to three producers and one
//! to three consumers, how many values each producer makes, and for every
//! thread a random mix of blocking, `try_` and timed operations (timeouts
//! of up to [`MAX_TIMEOUT_MICROS`]). A queue is closed at a random moment,
//! by a producer, a consumer or a timer thread; a channel loses handles
//! mid-flight, as senders stop early and receivers drop theirs.
//!
//! Every value is tagged with its producer and its place in that producer's
//! sequence. At the end, each value made must have been received exactly
//! once, or handed back to its producer in an error, or (channels only)
//! dropped with the channel; and each consumer must have received each
//! producer's values in the order they were pushed.
#![cfg(not(loom))]

use std::panic::resume_unwind;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::Duration;

use weft_queue::{
    PopTimeoutError, PushTimeoutError, Queue, Receiver, RecvTimeoutError, SendTimeoutError, Sender,
    TryPopError, TryPushError, TryRecvError, TrySendError, bounded, unbounded,
};

/// Scenarios per test.
const SCENARIOS: u64 = if cfg!(miri) { 8 } else { 200 };

/// The most values one producer makes.
const MAX_PER_PRODUCER: u64 = if cfg!(miri) { 8 } else { 1000 };

/// The longest timeout of a timed push or pop.
const MAX_TIMEOUT_MICROS: u64 = 200;

/// How long a scenario may run before it counts as hung. Under Miri the
/// clock is virtual, ticking with each step interpreted, so there the
/// deadline is far longer: it catches a deadlock, where Miri skips ahead to
/// the earliest timeout, and nothing slow.
const DEADLINE: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 60 });

/// A value: the producer that made it and its place in that producer's
/// sequence.
type Tag = (usize, u64);

/// One scenario, all of it derived from `seed`.
#[derive(Clone, Copy, Debug)]
struct Scenario {
    seed: u64,
    /// `None` for unbounded; `Some(0)` is a rendezvous channel.
    capacity: Option<usize>,
    producers: usize,
    consumers: usize,
    per_producer: u64,
}

impl Scenario {
    fn new(seed: u64, capacities: &[Option<usize>]) -> Self {
        let mut rng = Rng::new(seed, 0);
        Self {
            seed,
            capacity: capacities[rng.below(capacities.len() as u64) as usize],
            producers: 1 + rng.below(3) as usize,
            consumers: 1 + rng.below(3) as usize,
            per_producer: 1 + rng.below(MAX_PER_PRODUCER),
        }
    }

    /// The random choices of producer `p`.
    fn producer_rng(&self, p: usize) -> Rng {
        Rng::new(self.seed, 1 + p as u64)
    }

    /// The random choices of consumer `c`.
    fn consumer_rng(&self, c: usize) -> Rng {
        Rng::new(self.seed, 100 + c as u64)
    }

    fn total(&self) -> u64 {
        self.producers as u64 * self.per_producer
    }
}

/// SplitMix64: small, and the same everywhere, so that a seed names a
/// scenario.
struct Rng(u64);

impl Rng {
    /// The generator of one `stream` of choices (one thread's) of `seed`.
    fn new(seed: u64, stream: u64) -> Self {
        Self(seed << 16 | stream)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn timeout(&mut self) -> Duration {
        Duration::from_micros(self.below(MAX_TIMEOUT_MICROS + 1))
    }
}

/// What became of one push or send.
enum Pushed {
    Done,
    /// Refused (full, or timed out); the value came back.
    Refused(Tag),
    /// The queue is closed or the channel disconnected; the value came back.
    Ended(Tag),
}

/// What became of one pop or receive.
enum Popped {
    Got(Tag),
    /// Empty, or timed out.
    Nothing,
    /// The queue is closed or the channel disconnected, and it is drained.
    Ended,
}

/// What became of the values of one scenario.
#[derive(Debug, Default)]
struct Ledger {
    /// How many values each producer made: producer `p` made the tags
    /// `(p, 0)` to `(p, made[p] - 1)`.
    made: Vec<u64>,
    /// What each consumer received, in order.
    received: Vec<Vec<Tag>>,
    /// The values handed back to their producers in errors.
    handed_back: Vec<Tag>,
    /// The values the channel dropped.
    dropped_inside: Vec<Tag>,
}

impl Ledger {
    /// Checks that every value made came out exactly once, and that each
    /// consumer received each producer's values in order.
    fn check(&self, scenario: &Scenario) {
        for (c, values) in self.received.iter().enumerate() {
            let mut last = vec![None; self.made.len()];
            for &(p, seq) in values {
                assert!(
                    last[p] < Some(seq),
                    "{scenario:?}: consumer {c} received value {seq} of producer {p} after {:?}",
                    last[p],
                );
                last[p] = Some(seq);
            }
        }
        let mut seen: Vec<Vec<u32>> = self.made.iter().map(|&n| vec![0; n as usize]).collect();
        let ends = (self.received.iter().flatten())
            .chain(&self.handed_back)
            .chain(&self.dropped_inside);
        for &(p, seq) in ends {
            let count = seen.get_mut(p).and_then(|s| s.get_mut(seq as usize));
            *count.unwrap_or_else(|| panic!("{scenario:?}: ({p}, {seq}) was never made")) += 1;
        }
        for (p, counts) in seen.iter().enumerate() {
            for (seq, &count) in counts.iter().enumerate() {
                assert_eq!(
                    count,
                    1,
                    "{scenario:?}: value ({p}, {seq}) came out {count} times: {}",
                    self.whereabouts((p, seq as u64)),
                );
            }
        }
    }

    /// Where `tag` came out, for a failure message.
    fn whereabouts(&self, tag: Tag) -> String {
        let mut receivers = Vec::new();
        for (c, values) in self.received.iter().enumerate() {
            receivers.extend(values.iter().filter(|&&v| v == tag).map(|_| c));
        }
        let handed_back = self.handed_back.iter().filter(|&&v| v == tag).count();
        let dropped = self.dropped_inside.iter().filter(|&&v| v == tag).count();
        format!(
            "received by consumers {receivers:?}, handed back {handed_back} times, \
             dropped inside {dropped} times"
        )
    }
}

/// Runs `run(scenario)` on a thread of its own and checks its ledger;
/// fails, naming the scenario, if it has not finished by [`DEADLINE`].
fn check_within_deadline(scenario: Scenario, run: fn(Scenario) -> Ledger) {
    let (done, finished) = mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        // `done` drops when the scenario ends, however it ends.
        let _done = done;
        run(scenario)
    });
    if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(DEADLINE) {
        panic!("{scenario:?} has not finished after {DEADLINE:?}: a thread is stuck");
    }
    match worker.join() {
        Ok(ledger) => ledger.check(&scenario),
        Err(panic) => resume_unwind(panic),
    }
}

// ---- The queue ----

/// Who closes the queue at a random moment, besides the scenario's own
/// thread, which closes it once every producer is done.
#[derive(Clone, Copy, Debug)]
enum Closer {
    /// Producer `id`, before it pushes its value `before`.
    Producer { id: usize, before: u64 },
    /// Consumer `id`, after it popped `after` values.
    Consumer { id: usize, after: usize },
    /// A thread of its own, after sleeping this long.
    Timer(Duration),
    /// Nobody else.
    Nobody,
}

impl Closer {
    fn of(scenario: &Scenario) -> Self {
        let mut rng = Rng::new(scenario.seed, 200);
        match rng.below(4) {
            0 => Closer::Producer {
                id: rng.below(scenario.producers as u64) as usize,
                before: rng.below(scenario.per_producer),
            },
            1 => Closer::Consumer {
                id: rng.below(scenario.consumers as u64) as usize,
                after: 1 + rng.below(scenario.total()) as usize,
            },
            2 => Closer::Timer(Duration::from_micros(rng.below(2000))),
            _ => Closer::Nobody,
        }
    }
}

fn push(queue: &Queue<Tag>, rng: &mut Rng, tag: Tag) -> Pushed {
    match rng.below(3) {
        0 => match queue.push(tag) {
            Ok(()) => Pushed::Done,
            Err(e) => Pushed::Ended(e.into_inner()),
        },
        1 => match queue.try_push(tag) {
            Ok(()) => Pushed::Done,
            Err(TryPushError::Full(v)) => Pushed::Refused(v),
            Err(TryPushError::Closed(v)) => Pushed::Ended(v),
        },
        _ => match queue.push_timeout(tag, rng.timeout()) {
            Ok(()) => Pushed::Done,
            Err(PushTimeoutError::Timeout(v)) => Pushed::Refused(v),
            Err(PushTimeoutError::Closed(v)) => Pushed::Ended(v),
        },
    }
}

fn pop(queue: &Queue<Tag>, rng: &mut Rng) -> Popped {
    match rng.below(3) {
        0 => queue.pop().map_or(Popped::Ended, Popped::Got),
        1 => match queue.try_pop() {
            Ok(v) => Popped::Got(v),
            Err(TryPopError::Empty) => Popped::Nothing,
            Err(TryPopError::Closed) => Popped::Ended,
        },
        _ => match queue.pop_timeout(rng.timeout()) {
            Ok(v) => Popped::Got(v),
            Err(PopTimeoutError::Timeout) => Popped::Nothing,
            Err(PopTimeoutError::Closed) => Popped::Ended,
        },
    }
}

/// Runs a queue scenario: producers push until they made their values or
/// the queue is closed; consumers pop until it is closed and drained.
fn run_queue(scenario: Scenario) -> Ledger {
    let queue = match scenario.capacity {
        Some(capacity) => Queue::bounded(capacity),
        None => Queue::unbounded(),
    };
    let closer = Closer::of(&scenario);
    let closings = AtomicUsize::new(0);
    let close = || {
        if queue.close() {
            closings.fetch_add(1, Relaxed);
        }
    };
    let mut ledger = Ledger::default();
    thread::scope(|s| {
        let (queue, close) = (&queue, &close);
        let producers: Vec<_> = (0..scenario.producers)
            .map(|p| s.spawn(move || produce(queue, &scenario, p, closer, close)))
            .collect();
        let consumers: Vec<_> = (0..scenario.consumers)
            .map(|c| s.spawn(move || consume(queue, &scenario, c, closer, close)))
            .collect();
        if let Closer::Timer(delay) = closer {
            s.spawn(move || {
                thread::sleep(delay);
                close();
            });
        }
        for producer in producers {
            let (made, handed_back) = producer.join().unwrap();
            ledger.made.push(made);
            ledger.handed_back.extend(handed_back);
        }
        close();
        for consumer in consumers {
            ledger.received.push(consumer.join().unwrap());
        }
    });
    let closings = closings.load(Relaxed);
    assert_eq!(
        closings, 1,
        "{scenario:?}: close returned true {closings} times"
    );
    assert_eq!(queue.try_pop(), Err(TryPopError::Closed), "{scenario:?}");
    ledger
}

/// Producer `p`: pushes its values until it made them all or the queue
/// refuses one as closed. Returns how many it made, and those handed back.
fn produce(
    queue: &Queue<Tag>,
    scenario: &Scenario,
    p: usize,
    closer: Closer,
    close: impl Fn(),
) -> (u64, Vec<Tag>) {
    let mut rng = scenario.producer_rng(p);
    let mut handed_back = Vec::new();
    for seq in 0..scenario.per_producer {
        if let Closer::Producer { id, before } = closer {
            if (id, before) == (p, seq) {
                close();
            }
        }
        match push(queue, &mut rng, (p, seq)) {
            Pushed::Done => {}
            Pushed::Refused(v) => handed_back.push(v),
            Pushed::Ended(v) => {
                assert!(
                    queue.is_closed(),
                    "{scenario:?}: a push failed as Closed on an open queue"
                );
                handed_back.push(v);
                return (seq + 1, handed_back);
            }
        }
    }
    (scenario.per_producer, handed_back)
}

/// Consumer `c`: pops until the queue is closed and drained. Returns what
/// it popped, in order.
fn consume(
    queue: &Queue<Tag>,
    scenario: &Scenario,
    c: usize,
    closer: Closer,
    close: impl Fn(),
) -> Vec<Tag> {
    let mut rng = scenario.consumer_rng(c);
    let mut received = Vec::new();
    loop {
        match pop(queue, &mut rng) {
            Popped::Got(v) => received.push(v),
            Popped::Nothing => thread::yield_now(),
            Popped::Ended => {
                assert!(
                    queue.is_closed() && queue.is_empty(),
                    "{scenario:?}: a pop failed as Closed before the end"
                );
                return received;
            }
        }
        if let Closer::Consumer { id, after } = closer {
            if (id, after) == (c, received.len()) {
                close();
            }
        }
    }
}

/// A queue closed at a random moment, by a producer, a consumer or a
/// timer, pops each value once and in each producer's order, or hands it
/// back to its producer.
#[test]
fn a_queue_closed_mid_flight_loses_and_reorders_nothing() {
    let capacities = [Some(1), Some(2), Some(3), Some(16), None];
    for seed in 0..SCENARIOS {
        check_within_deadline(Scenario::new(seed, &capacities), run_queue);
    }
}

// ---- The channels ----

/// A channel's value: its tag, recorded in `dropped` if the channel drops
/// it instead of handing it out.
struct Message<'a> {
    tag: Tag,
    dropped: &'a Mutex<Vec<Tag>>,
    handed_out: bool,
}

impl Message<'_> {
    /// Takes the tag of a value received or handed back.
    fn hand_out(mut self) -> Tag {
        self.handed_out = true;
        self.tag
    }
}

impl Drop for Message<'_> {
    fn drop(&mut self) {
        if !self.handed_out {
            self.dropped.lock().unwrap().push(self.tag);
        }
    }
}

fn send<'a>(sender: &Sender<Message<'a>>, rng: &mut Rng, message: Message<'a>) -> Pushed {
    match rng.below(3) {
        0 => match sender.send(message) {
            Ok(()) => Pushed::Done,
            Err(e) => Pushed::Ended(e.into_inner().hand_out()),
        },
        1 => match sender.try_send(message) {
            Ok(()) => Pushed::Done,
            Err(TrySendError::Full(v)) => Pushed::Refused(v.hand_out()),
            Err(TrySendError::Disconnected(v)) => Pushed::Ended(v.hand_out()),
        },
        _ => match sender.send_timeout(message, rng.timeout()) {
            Ok(()) => Pushed::Done,
            Err(SendTimeoutError::Timeout(v)) => Pushed::Refused(v.hand_out()),
            Err(SendTimeoutError::Disconnected(v)) => Pushed::Ended(v.hand_out()),
        },
    }
}

fn recv(receiver: &Receiver<Message<'_>>, rng: &mut Rng) -> Popped {
    match rng.below(3) {
        0 => receiver
            .recv()
            .map_or(Popped::Ended, |v| Popped::Got(v.hand_out())),
        1 => match receiver.try_recv() {
            Ok(v) => Popped::Got(v.hand_out()),
            Err(TryRecvError::Empty) => Popped::Nothing,
            Err(TryRecvError::Disconnected) => Popped::Ended,
        },
        _ => match receiver.recv_timeout(rng.timeout()) {
            Ok(v) => Popped::Got(v.hand_out()),
            Err(RecvTimeoutError::Timeout) => Popped::Nothing,
            Err(RecvTimeoutError::Disconnected) => Popped::Ended,
        },
    }
}

/// Runs a channel scenario: every sender and receiver thread owns a handle
/// and drops it when it stops.
fn run_channel(scenario: Scenario) -> Ledger {
    let dropped = Mutex::new(Vec::new());
    let mut ledger = Ledger::default();
    thread::scope(|s| {
        let (sender, receiver) = match scenario.capacity {
            Some(capacity) => bounded(capacity),
            None => unbounded(),
        };
        let dropped = &dropped;
        let senders: Vec<_> = (0..scenario.producers)
            .map(|p| {
                let sender = sender.clone();
                s.spawn(move || send_all(sender, &scenario, p, dropped))
            })
            .collect();
        let receivers: Vec<_> = (0..scenario.consumers)
            .map(|c| {
                let receiver = receiver.clone();
                s.spawn(move || receive(receiver, &scenario, c))
            })
            .collect();
        // The threads hold the only handles now.
        drop((sender, receiver));
        for sender in senders {
            let (made, handed_back) = sender.join().unwrap();
            ledger.made.push(made);
            ledger.handed_back.extend(handed_back);
        }
        for receiver in receivers {
            ledger.received.push(receiver.join().unwrap());
        }
    });
    // Every handle is gone, and the channel with them.
    ledger.dropped_inside = dropped.into_inner().unwrap();
    ledger
}

/// Sender `p`: sends its values until it made them all, or (one time in
/// three) stops early, or the channel disconnects. Returns how many it
/// made, and those handed back.
fn send_all<'a>(
    sender: Sender<Message<'a>>,
    scenario: &Scenario,
    p: usize,
    dropped: &'a Mutex<Vec<Tag>>,
) -> (u64, Vec<Tag>) {
    let mut rng = scenario.producer_rng(p);
    let stop_before = match rng.below(3) {
        0 => rng.below(scenario.per_producer),
        _ => scenario.per_producer,
    };
    let mut handed_back = Vec::new();
    for seq in 0..stop_before {
        let message = Message {
            tag: (p, seq),
            dropped,
            handed_out: false,
        };
        match send(&sender, &mut rng, message) {
            Pushed::Done => {}
            Pushed::Refused(v) => handed_back.push(v),
            Pushed::Ended(v) => {
                handed_back.push(v);
                return (seq + 1, handed_back);
            }
        }
    }
    (stop_before, handed_back)
}

/// Receiver `c`: receives until the channel disconnects, or (one time in
/// two) drops its handle after a random number of values. Returns what it
/// received, in order.
fn receive(receiver: Receiver<Message<'_>>, scenario: &Scenario, c: usize) -> Vec<Tag> {
    let mut rng = scenario.consumer_rng(c);
    let drop_after = match rng.below(2) {
        0 => Some(rng.below(scenario.total() + 1) as usize),
        _ => None,
    };
    let mut received = Vec::new();
    while drop_after != Some(received.len()) {
        match recv(&receiver, &mut rng) {
            Popped::Got(v) => received.push(v),
            Popped::Nothing => thread::yield_now(),
            Popped::Ended => break,
        }
    }
    received
}

/// A bounded or unbounded channel whose senders stop and whose receivers
/// drop their handles at random moments receives each value once and in
/// each sender's order, or hands it back, or drops it with the channel.
#[test]
fn a_channel_losing_handles_mid_flight_loses_and_reorders_nothing() {
    let capacities = [Some(1), Some(2), Some(16), None];
    for seed in 0..SCENARIOS {
        check_within_deadline(Scenario::new(seed, &capacities), run_channel);
    }
}

/// The same for a rendezvous channel.
#[test]
fn a_rendezvous_channel_losing_handles_mid_flight_loses_and_reorders_nothing() {
    for seed in 0..SCENARIOS {
        check_within_deadline(Scenario::new(seed, &[Some(0)]), run_channel);
    }
}
