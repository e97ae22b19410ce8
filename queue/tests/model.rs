//! Property tests: random sequences of operations, run on one thread against
//! a `VecDeque` model of the queue and of the channels, where every result
//! must be the model's.
//!
//! After every step the observers (`len`, `is_empty`, `is_full`,
//! `is_closed`, `capacity`) must agree with the model too, and so must the
//! number of values alive: each value is a [`Tracked`] that records its
//! drop, so a value lost, duplicated or dropped twice fails the test, and
//! when the queue or the last channel handle goes, every value made must
//! have been dropped exactly once.
#![cfg(not(loom))]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use weft_queue::{
    PopTimeoutError, PushTimeoutError, Queue, Receiver, RecvTimeoutError, SendTimeoutError, Sender,
    TryPopError, TryPushError, TryRecvError, TrySendError, bounded, unbounded,
};

/// The timeout of [`Wait::Tiny`]: short, but not zero.
const TINY: Duration = Duration::from_micros(20);

/// The longest burst of one operation: a few times the slots of a block of
/// the unbounded flavor, so that a burst fills and drains several blocks.
const MAX_BURST: usize = 200;

/// Which form of a push or pop (send or receive) an operation uses.
#[derive(Clone, Copy, Debug)]
enum Wait {
    /// `push`, `pop`, `send`, `recv`: run only where the model says it
    /// returns without waiting, since nothing else runs to end a wait.
    Blocking,
    /// `try_push`, `try_pop`, `try_send`, `try_recv`.
    Never,
    /// The `_timeout` form with `Duration::ZERO`.
    Zero,
    /// The `_timeout` form with [`TINY`].
    Tiny,
}

impl Wait {
    fn timeout(self) -> Duration {
        match self {
            Wait::Zero => Duration::ZERO,
            Wait::Tiny => TINY,
            Wait::Blocking | Wait::Never => unreachable!("{self:?} has no timeout"),
        }
    }
}

/// What one push or pop returned, with values reduced to their numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// The value went in.
    Pushed,
    /// The push failed for this reason and handed this value back.
    HandedBack(Why, u64),
    /// The pop returned this value.
    Popped(u64),
    /// The pop failed for this reason.
    NoValue(Why),
}

/// The variant of an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why {
    Full,
    Empty,
    Timeout,
    Closed,
    Disconnected,
}

/// What a push (send) must return when the queue is full and open.
fn when_full(wait: Wait, id: u64) -> Option<Outcome> {
    match wait {
        Wait::Blocking => None,
        Wait::Never => Some(Outcome::HandedBack(Why::Full, id)),
        Wait::Zero | Wait::Tiny => Some(Outcome::HandedBack(Why::Timeout, id)),
    }
}

/// What a pop (receive) must return when the queue is empty and open.
fn when_empty(wait: Wait) -> Option<Outcome> {
    match wait {
        Wait::Blocking => None,
        Wait::Never => Some(Outcome::NoValue(Why::Empty)),
        Wait::Zero | Wait::Tiny => Some(Outcome::NoValue(Why::Timeout)),
    }
}

// ---- Values that count their drops ----

/// A distinct value: its number, and the log its drop goes to.
#[derive(Debug)]
struct Tracked {
    id: u64,
    drops: Arc<Mutex<Vec<u32>>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.lock().unwrap()[self.id as usize] += 1;
    }
}

/// Makes the [`Tracked`] values of one test case, numbered from 0.
struct Values {
    /// `drops[id]`: how often value `id` was dropped.
    drops: Arc<Mutex<Vec<u32>>>,
}

impl Values {
    fn new() -> Self {
        Self {
            drops: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The number [`make`](Self::make) gives next.
    fn next_id(&self) -> u64 {
        self.drops.lock().unwrap().len() as u64
    }

    fn make(&self) -> Tracked {
        let mut drops = self.drops.lock().unwrap();
        drops.push(0);
        Tracked {
            id: drops.len() as u64 - 1,
            drops: self.drops.clone(),
        }
    }

    /// How many values are alive: each holds a reference to the log.
    fn alive(&self) -> usize {
        Arc::strong_count(&self.drops) - 1
    }

    fn assert_each_dropped_once(&self) {
        let drops = self.drops.lock().unwrap();
        for (id, &count) in drops.iter().enumerate() {
            assert_eq!(count, 1, "value {id} was dropped {count} times");
        }
    }
}

// ---- The queue ----

/// One step of a queue test: a push or pop repeated `times` times, or a
/// close.
#[derive(Clone, Debug)]
enum QueueOp {
    Push(Wait, usize),
    Pop(Wait, usize),
    Close,
}

/// The queue as the documentation describes it.
struct QueueModel {
    items: VecDeque<u64>,
    capacity: Option<usize>,
    closed: bool,
}

impl QueueModel {
    fn new(capacity: Option<usize>) -> Self {
        Self {
            items: VecDeque::new(),
            capacity,
            closed: false,
        }
    }

    fn is_full(&self) -> bool {
        self.capacity == Some(self.items.len())
    }

    /// What pushing value `id` must return, or `None` if the blocking form
    /// would wait. A closed queue refuses even when it is also full.
    fn push(&mut self, wait: Wait, id: u64) -> Option<Outcome> {
        if self.closed {
            return Some(Outcome::HandedBack(Why::Closed, id));
        }
        if self.is_full() {
            return when_full(wait, id);
        }
        self.items.push_back(id);
        Some(Outcome::Pushed)
    }

    /// What a pop must return, or `None` if the blocking form would wait.
    /// A closed queue is drained before pops report `Closed`.
    fn pop(&mut self, wait: Wait) -> Option<Outcome> {
        if let Some(id) = self.items.pop_front() {
            return Some(Outcome::Popped(id));
        }
        if self.closed {
            return Some(Outcome::NoValue(Why::Closed));
        }
        when_empty(wait)
    }
}

fn push(queue: &Queue<Tracked>, wait: Wait, value: Tracked) -> Outcome {
    use Outcome::{HandedBack, Pushed};
    match wait {
        Wait::Blocking => match queue.push(value) {
            Ok(()) => Pushed,
            Err(e) => HandedBack(Why::Closed, e.into_inner().id),
        },
        Wait::Never => match queue.try_push(value) {
            Ok(()) => Pushed,
            Err(TryPushError::Full(v)) => HandedBack(Why::Full, v.id),
            Err(TryPushError::Closed(v)) => HandedBack(Why::Closed, v.id),
        },
        Wait::Zero | Wait::Tiny => match queue.push_timeout(value, wait.timeout()) {
            Ok(()) => Pushed,
            Err(PushTimeoutError::Timeout(v)) => HandedBack(Why::Timeout, v.id),
            Err(PushTimeoutError::Closed(v)) => HandedBack(Why::Closed, v.id),
        },
    }
}

fn pop(queue: &Queue<Tracked>, wait: Wait) -> Outcome {
    use Outcome::{NoValue, Popped};
    match wait {
        Wait::Blocking => match queue.pop() {
            Some(v) => Popped(v.id),
            None => NoValue(Why::Closed),
        },
        Wait::Never => match queue.try_pop() {
            Ok(v) => Popped(v.id),
            Err(TryPopError::Empty) => NoValue(Why::Empty),
            Err(TryPopError::Closed) => NoValue(Why::Closed),
        },
        Wait::Zero | Wait::Tiny => match queue.pop_timeout(wait.timeout()) {
            Ok(v) => Popped(v.id),
            Err(PopTimeoutError::Timeout) => NoValue(Why::Timeout),
            Err(PopTimeoutError::Closed) => NoValue(Why::Closed),
        },
    }
}

/// Runs `ops` on `queue` and on the model of a queue of `capacity`.
fn run_queue(queue: Queue<Tracked>, capacity: Option<usize>, ops: &[QueueOp]) {
    let values = Values::new();
    let mut model = QueueModel::new(capacity);
    for (step, op) in ops.iter().enumerate() {
        match *op {
            QueueOp::Push(wait, times) => {
                for _ in 0..times {
                    let Some(expected) = model.push(wait, values.next_id()) else {
                        continue;
                    };
                    let outcome = push(&queue, wait, values.make());
                    assert_eq!(outcome, expected, "step {step}, {op:?}");
                }
            }
            QueueOp::Pop(wait, times) => {
                for _ in 0..times {
                    let Some(expected) = model.pop(wait) else {
                        continue;
                    };
                    assert_eq!(pop(&queue, wait), expected, "step {step}, {op:?}");
                }
            }
            QueueOp::Close => {
                assert_eq!(queue.close(), !model.closed, "step {step}, {op:?}");
                model.closed = true;
            }
        }
        let after = format!("after step {step}, {op:?}");
        assert_eq!(queue.len(), model.items.len(), "len {after}");
        assert_eq!(queue.is_empty(), model.items.is_empty(), "is_empty {after}");
        assert_eq!(queue.is_full(), model.is_full(), "is_full {after}");
        assert_eq!(queue.is_closed(), model.closed, "is_closed {after}");
        assert_eq!(queue.capacity(), model.capacity, "capacity {after}");
        assert_eq!(values.alive(), model.items.len(), "values alive {after}");
    }
    drop(queue);
    values.assert_each_dropped_once();
}

// ---- The channels ----

/// One step of a channel test. The `Index` picks one of the handles held
/// on that side; with none left, the step does nothing.
#[derive(Clone, Debug)]
enum ChannelOp {
    CloneSender(Index),
    CloneReceiver(Index),
    DropSender(Index),
    DropReceiver(Index),
    Send(Index, Wait, usize),
    Recv(Index, Wait, usize),
}

/// A channel as the documentation describes it: a queue that closes when
/// the last handle on either side drops.
struct ChannelModel {
    items: VecDeque<u64>,
    /// `Some(0)` for a rendezvous channel, which is always full.
    capacity: Option<usize>,
    senders: usize,
    receivers: usize,
}

impl ChannelModel {
    fn new(capacity: Option<usize>) -> Self {
        Self {
            items: VecDeque::new(),
            capacity,
            senders: 1,
            receivers: 1,
        }
    }

    fn is_full(&self) -> bool {
        self.capacity == Some(self.items.len())
    }

    /// What sending value `id` must return, or `None` if `send` would wait.
    /// Without receivers, even a full channel reports `Disconnected`.
    fn send(&mut self, wait: Wait, id: u64) -> Option<Outcome> {
        if self.receivers == 0 {
            return Some(Outcome::HandedBack(Why::Disconnected, id));
        }
        if self.is_full() {
            return when_full(wait, id);
        }
        self.items.push_back(id);
        Some(Outcome::Pushed)
    }

    /// What a receive must return, or `None` if `recv` would wait. Without
    /// senders, the channel is drained before it reports `Disconnected`.
    fn recv(&mut self, wait: Wait) -> Option<Outcome> {
        if let Some(id) = self.items.pop_front() {
            return Some(Outcome::Popped(id));
        }
        if self.senders == 0 {
            return Some(Outcome::NoValue(Why::Disconnected));
        }
        when_empty(wait)
    }
}

fn send(sender: &Sender<Tracked>, wait: Wait, value: Tracked) -> Outcome {
    use Outcome::{HandedBack, Pushed};
    match wait {
        Wait::Blocking => match sender.send(value) {
            Ok(()) => Pushed,
            Err(e) => HandedBack(Why::Disconnected, e.into_inner().id),
        },
        Wait::Never => match sender.try_send(value) {
            Ok(()) => Pushed,
            Err(TrySendError::Full(v)) => HandedBack(Why::Full, v.id),
            Err(TrySendError::Disconnected(v)) => HandedBack(Why::Disconnected, v.id),
        },
        Wait::Zero | Wait::Tiny => match sender.send_timeout(value, wait.timeout()) {
            Ok(()) => Pushed,
            Err(SendTimeoutError::Timeout(v)) => HandedBack(Why::Timeout, v.id),
            Err(SendTimeoutError::Disconnected(v)) => HandedBack(Why::Disconnected, v.id),
        },
    }
}

fn recv(receiver: &Receiver<Tracked>, wait: Wait) -> Outcome {
    use Outcome::{NoValue, Popped};
    match wait {
        Wait::Blocking => match receiver.recv() {
            Ok(v) => Popped(v.id),
            Err(_) => NoValue(Why::Disconnected),
        },
        Wait::Never => match receiver.try_recv() {
            Ok(v) => Popped(v.id),
            Err(TryRecvError::Empty) => NoValue(Why::Empty),
            Err(TryRecvError::Disconnected) => NoValue(Why::Disconnected),
        },
        Wait::Zero | Wait::Tiny => match receiver.recv_timeout(wait.timeout()) {
            Ok(v) => Popped(v.id),
            Err(RecvTimeoutError::Timeout) => NoValue(Why::Timeout),
            Err(RecvTimeoutError::Disconnected) => NoValue(Why::Disconnected),
        },
    }
}

/// Runs `ops` on the channel `(sender, receiver)` and on the model of a
/// channel of `capacity`.
///
/// When the last receiver goes, the values still queued are dropped with
/// it: the model empties, and no value may stay alive. At the end every
/// value must have been dropped exactly once.
fn run_channel(
    (sender, receiver): (Sender<Tracked>, Receiver<Tracked>),
    capacity: Option<usize>,
    ops: &[ChannelOp],
) {
    let values = Values::new();
    let mut model = ChannelModel::new(capacity);
    let mut senders = vec![sender];
    let mut receivers = vec![receiver];
    for (step, op) in ops.iter().enumerate() {
        match op {
            ChannelOp::CloneSender(i) if !senders.is_empty() => {
                senders.push(i.get(&senders).clone());
                model.senders += 1;
            }
            ChannelOp::CloneReceiver(i) if !receivers.is_empty() => {
                receivers.push(i.get(&receivers).clone());
                model.receivers += 1;
            }
            ChannelOp::DropSender(i) if !senders.is_empty() => {
                drop(senders.swap_remove(i.index(senders.len())));
                model.senders -= 1;
            }
            ChannelOp::DropReceiver(i) if !receivers.is_empty() => {
                drop(receivers.swap_remove(i.index(receivers.len())));
                model.receivers -= 1;
                if model.receivers == 0 {
                    model.items.clear();
                }
            }
            &ChannelOp::Send(i, wait, times) if !senders.is_empty() => {
                let sender = i.get(&senders);
                for _ in 0..times {
                    let Some(expected) = model.send(wait, values.next_id()) else {
                        continue;
                    };
                    let outcome = send(sender, wait, values.make());
                    assert_eq!(outcome, expected, "step {step}, {op:?}");
                }
            }
            &ChannelOp::Recv(i, wait, times) if !receivers.is_empty() => {
                let receiver = i.get(&receivers);
                for _ in 0..times {
                    let Some(expected) = model.recv(wait) else {
                        continue;
                    };
                    assert_eq!(recv(receiver, wait), expected, "step {step}, {op:?}");
                }
            }
            _ => {}
        }
        let after = format!("after step {step}, {op:?}");
        if let Some(sender) = senders.first() {
            assert_eq!(sender.capacity(), model.capacity, "capacity {after}");
            assert_eq!(sender.len(), model.items.len(), "len {after}");
            assert_eq!(
                sender.is_empty(),
                model.items.is_empty(),
                "is_empty {after}"
            );
            assert_eq!(sender.is_full(), model.is_full(), "is_full {after}");
        }
        if let Some(receiver) = receivers.first() {
            assert_eq!(receiver.capacity(), model.capacity, "capacity {after}");
            assert_eq!(receiver.len(), model.items.len(), "len {after}");
            assert_eq!(
                receiver.is_empty(),
                model.items.is_empty(),
                "is_empty {after}"
            );
            assert_eq!(receiver.is_full(), model.is_full(), "is_full {after}");
        }
        assert_eq!(values.alive(), model.items.len(), "values alive {after}");
    }
    drop(senders);
    drop(receivers);
    values.assert_each_dropped_once();
}

// ---- Strategies ----

/// Usually one operation, sometimes a burst of up to [`MAX_BURST`].
fn times() -> impl Strategy<Value = usize> {
    prop_oneof![4 => Just(1), 1 => 1..=MAX_BURST]
}

/// A form and how many times to repeat it. Timeouts are not repeated: each
/// one that expires first spins for some microseconds.
fn wait_and_times() -> impl Strategy<Value = (Wait, usize)> {
    prop_oneof![
        3 => (prop_oneof![Just(Wait::Blocking), Just(Wait::Never)], times()),
        1 => (prop_oneof![Just(Wait::Zero), Just(Wait::Tiny)], Just(1)),
    ]
}

/// Up to `max_len` queue operations, about one in 150 a close: about half
/// the cases close the queue, at any point.
fn queue_ops(max_len: usize) -> impl Strategy<Value = Vec<QueueOp>> {
    let op = prop_oneof![
        75 => wait_and_times().prop_map(|(wait, times)| QueueOp::Push(wait, times)),
        75 => wait_and_times().prop_map(|(wait, times)| QueueOp::Pop(wait, times)),
        1 => Just(QueueOp::Close),
    ];
    prop::collection::vec(op, 1..=max_len)
}

/// Up to `max_len` channel operations. Clones are twice as likely as drops,
/// so about half the cases lose every handle of a side at some point.
fn channel_ops(max_len: usize) -> impl Strategy<Value = Vec<ChannelOp>> {
    let op = prop_oneof![
        10 => (any::<Index>(), wait_and_times())
            .prop_map(|(i, (wait, times))| ChannelOp::Send(i, wait, times)),
        10 => (any::<Index>(), wait_and_times())
            .prop_map(|(i, (wait, times))| ChannelOp::Recv(i, wait, times)),
        2 => any::<Index>().prop_map(ChannelOp::CloneSender),
        2 => any::<Index>().prop_map(ChannelOp::CloneReceiver),
        1 => any::<Index>().prop_map(ChannelOp::DropSender),
        1 => any::<Index>().prop_map(ChannelOp::DropReceiver),
    ];
    prop::collection::vec(op, 1..=max_len)
}

/// The default configuration (`PROPTEST_CASES` still applies), without
/// writing failures into the source tree.
fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    #[cfg_attr(miri, ignore = "proptest runs hundreds of cases")]
    fn bounded_queue_matches_a_vecdeque(
        capacity in prop::sample::select(vec![1, 2, 3, 7, 100]),
        ops in queue_ops(200),
    ) {
        run_queue(Queue::bounded(capacity), Some(capacity), &ops);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest runs hundreds of cases")]
    fn unbounded_queue_matches_a_vecdeque_across_many_blocks(ops in queue_ops(300)) {
        run_queue(Queue::unbounded(), None, &ops);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest runs hundreds of cases")]
    fn bounded_channel_matches_a_vecdeque_as_handles_come_and_go(
        capacity in prop_oneof![1..=8usize, Just(100)],
        ops in channel_ops(200),
    ) {
        run_channel(bounded(capacity), Some(capacity), &ops);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest runs hundreds of cases")]
    fn unbounded_channel_matches_a_vecdeque_as_handles_come_and_go(ops in channel_ops(300)) {
        run_channel(unbounded(), None, &ops);
    }

    /// Single-threaded, nobody ever waits on the other side of a rendezvous,
    /// so only disconnection lets a blocking form return, and every `try_`
    /// or timed send is refused.
    #[test]
    #[cfg_attr(miri, ignore = "proptest runs hundreds of cases")]
    fn rendezvous_channel_matches_a_channel_that_is_always_full(ops in channel_ops(100)) {
        run_channel(bounded(0), Some(0), &ops);
    }
}
