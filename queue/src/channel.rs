//! Channel handles over the queue, in crossbeam-channel's style.
//!
//! A channel is one shared [`Queue`] (or, for `bounded(0)`, a rendezvous
//! point) plus two counts: live [`Sender`]s and live [`Receiver`]s. Both
//! handles are `Clone`, so a channel has any number of each.
//!
//! **Disconnection** follows from the counts. When the last sender drops,
//! the queue is closed: receivers drain what is queued and then get
//! `Disconnected`. When the last receiver drops, the queue is closed too:
//! sends fail and hand their value back, and the values still queued are
//! dropped then and there, as crossbeam-channel and std do, since nobody
//! can receive them any more. So every value is received exactly once, or
//! returned in an error, or dropped when the last receiver goes.

use core::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::time::{Duration, Instant};

use weft_futex::Deadline;
use weft_futex::atomic::AtomicUsize;
use weft_futex::sync::Arc;

use crate::rendezvous::{RecvFail, Rendezvous, SendFail};
use crate::timer::{self, Timer};
use crate::{
    PopTimeoutError, PushTimeoutError, Queue, RecvError, RecvTimeoutError, SendError,
    SendTimeoutError, TryPopError, TryPushError, TryRecvError, TrySendError,
};

/// What a channel is made of.
///
/// The hot paths test for `Queue` alone first (`if let`) and match the
/// rest apart: a full `match` on four variants makes the compiler decode
/// the discriminant from the queue's niche with several more instructions
/// on every send and receive.
// The channel exists once, inside an `Arc`; boxing the large variant would
// only add an indirection to every send and receive.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Flavor<T> {
    Queue(Queue<T>),
    Rendezvous(Rendezvous<T>),
    /// `after`, `at` and `tick`: no senders (see `src/timer.rs`).
    Timer(Timer<T>),
    /// `never`: nothing at all.
    Never,
}

pub(crate) struct Channel<T> {
    flavor: Flavor<T>,
    senders: AtomicUsize,
    receivers: AtomicUsize,
}

impl<T> Channel<T> {
    pub(crate) fn new(flavor: Flavor<T>) -> Arc<Self> {
        Arc::new(Self {
            flavor,
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
        })
    }

    /// The last sender is gone: close, and let receivers drain the rest.
    fn disconnect_senders(&self) {
        match &self.flavor {
            Flavor::Queue(queue) => {
                queue.close();
            }
            Flavor::Rendezvous(rendezvous) => {
                rendezvous.close();
            }
            Flavor::Timer(_) | Flavor::Never => {}
        }
    }

    /// The last receiver is gone: close, and drop every value queued.
    ///
    /// After the close no push can claim a place, so the pops below end.
    /// A push that claimed its place before the close may still be writing
    /// its value; the pop that reaches that place waits for it, as any pop
    /// does, so that value is dropped here too, once. A push after the
    /// close fails and hands its value back. (A rendezvous channel holds
    /// no values of its own: each offer belongs to a sender, which takes it
    /// back when it sees the close.)
    ///
    /// If a value's drop panics, the values behind it are leaked, as
    /// crossbeam-channel leaks them: dropped while that panic unwinds, one
    /// more panic would abort the process.
    fn disconnect_receivers(&self) {
        /// While unwinding from a panicking drop, pops the rest and forgets
        /// it.
        struct LeakTheRest<'a, T>(&'a Queue<T>);
        impl<T> Drop for LeakTheRest<'_, T> {
            fn drop(&mut self) {
                while let Ok(value) = self.0.try_pop() {
                    core::mem::forget(value);
                }
            }
        }

        match &self.flavor {
            Flavor::Queue(queue) => {
                queue.close();
                let on_panic = LeakTheRest(queue);
                while queue.try_pop().is_ok() {}
                core::mem::forget(on_panic);
            }
            Flavor::Rendezvous(rendezvous) => {
                rendezvous.close();
            }
            Flavor::Timer(_) | Flavor::Never => {}
        }
    }

    // A timer holds its one due message or nothing, like crossbeam's.
    fn len(&self) -> usize {
        match &self.flavor {
            Flavor::Queue(queue) => queue.len(),
            Flavor::Rendezvous(_) | Flavor::Never => 0,
            Flavor::Timer(timer) => usize::from(timer.is_ready()),
        }
    }

    fn capacity(&self) -> Option<usize> {
        match &self.flavor {
            Flavor::Queue(queue) => queue.capacity(),
            Flavor::Rendezvous(_) | Flavor::Never => Some(0),
            Flavor::Timer(_) => Some(1),
        }
    }

    fn is_full(&self) -> bool {
        match &self.flavor {
            Flavor::Queue(queue) => queue.is_full(),
            Flavor::Rendezvous(_) | Flavor::Never => true,
            Flavor::Timer(timer) => timer.is_ready(),
        }
    }
}

/// What [`Sender`] and [`Receiver`] share: the observers of the channel,
/// and `Clone` and `Drop`, which keep the count of the handles of one side
/// (`$count`, `senders` or `receivers`) and disconnect the channel when the
/// last one goes (`$disconnect`).
macro_rules! handle_impls {
    ($handle:ident, $count:ident, $disconnect:ident) => {
        impl<T> $handle<T> {
            /// What the channel is made of, for `select`.
            pub(crate) fn flavor(&self) -> &Flavor<T> {
                &self.channel.flavor
            }

            /// The number of messages queued at one instant (always 0 for a
            /// rendezvous channel).
            pub fn len(&self) -> usize {
                self.channel.len()
            }

            /// Whether no message was queued at one instant.
            pub fn is_empty(&self) -> bool {
                self.channel.len() == 0
            }

            /// Whether the channel was full at one instant (always `true` for
            /// a rendezvous channel, always `false` for an unbounded one).
            pub fn is_full(&self) -> bool {
                self.channel.is_full()
            }

            /// The capacity: `Some(0)` for a rendezvous channel, `None` for
            /// an unbounded one.
            pub fn capacity(&self) -> Option<usize> {
                self.channel.capacity()
            }

            /// Whether `self` and `other` are handles on the same channel
            /// (one a clone of the other, or of a clone). Every
            /// [`never`](crate::never) receiver is on the same channel, as
            /// in crossbeam-channel.
            pub fn same_channel(&self, other: &Self) -> bool {
                Arc::ptr_eq(&self.channel, &other.channel)
                    || matches!(
                        (&self.channel.flavor, &other.channel.flavor),
                        (Flavor::Never, Flavor::Never)
                    )
            }
        }

        impl<T> Clone for $handle<T> {
            fn clone(&self) -> Self {
                // Relaxed: a new handle is made from a live one, so the count
                // cannot reach zero meanwhile (as in `Arc::clone`).
                self.channel.$count.fetch_add(1, Relaxed);
                Self {
                    channel: self.channel.clone(),
                }
            }
        }

        impl<T> Drop for $handle<T> {
            fn drop(&mut self) {
                // AcqRel: the last handle's decrement comes after every other
                // one's of its side, so its disconnect follows all their sends
                // (or receives).
                if self.channel.$count.fetch_sub(1, AcqRel) == 1 {
                    self.channel.$disconnect();
                }
            }
        }

        // A panic cannot leave a channel broken, so code that catches one
        // may go on using the handles (crossbeam-channel and std declare
        // the same). The caller's code never runs in the middle of a
        // channel operation: values are only moved in and out, and a value
        // is dropped only once it has left the channel (if one panics while
        // the last receiver drains, the rest is leaked: see
        // `disconnect_receivers`). Every step other threads can see is one
        // atomic operation, or made under the rendezvous's lock with nothing
        // in between that can panic, and that lock does not poison.
        impl<T> UnwindSafe for $handle<T> {}
        impl<T> RefUnwindSafe for $handle<T> {}

        impl<T> fmt::Debug for $handle<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($handle)).finish_non_exhaustive()
            }
        }
    };
}

/// A channel that holds at most `capacity` messages; `bounded(0)` is a
/// rendezvous channel, where a send completes only when a receiver takes
/// the value.
///
/// # Panics
///
/// If `capacity` is too large to allocate.
///
/// # Examples
///
/// ```
/// let (tx, rx) = weft_queue::bounded(0);
/// std::thread::scope(|s| {
///     s.spawn(move || tx.send("hand-off").unwrap());
///     assert_eq!(rx.recv(), Ok("hand-off"));
/// });
/// ```
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let flavor = if capacity == 0 {
        Flavor::Rendezvous(Rendezvous::new())
    } else {
        Flavor::Queue(Queue::bounded(capacity))
    };
    handles(Channel::new(flavor))
}

/// A channel without a capacity limit: `send` never waits.
///
/// # Examples
///
/// ```
/// let (tx, rx) = weft_queue::unbounded();
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    handles(Channel::new(Flavor::Queue(Queue::unbounded())))
}

fn handles<T>(channel: Arc<Channel<T>>) -> (Sender<T>, Receiver<T>) {
    (
        Sender {
            channel: channel.clone(),
        },
        Receiver { channel },
    )
}

/// The sending half of a channel. Clone it for more senders; when the last
/// one drops, receivers see the channel disconnect once it is drained.
pub struct Sender<T> {
    channel: Arc<Channel<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full (or, for a
    /// rendezvous channel, until a receiver takes it).
    ///
    /// # Errors
    ///
    /// If every receiver is gone, the value comes back in the error.
    #[inline]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.send_until(value, Deadline::NEVER)
            .map_err(|e| SendError(e.into_inner()))
    }

    /// Sends `value` if that needs no waiting: there is room, or (for a
    /// rendezvous channel) a receiver is already waiting in `recv`.
    ///
    /// # Errors
    ///
    /// `Full` or `Disconnected`, with the value. A full channel without
    /// receivers reports `Disconnected`.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        // The queue first, alone: see `Flavor`.
        if let Flavor::Queue(queue) = &self.channel.flavor {
            return queue.try_push(value).map_err(|e| match e {
                TryPushError::Full(v) => TrySendError::Full(v),
                TryPushError::Closed(v) => TrySendError::Disconnected(v),
            });
        }
        match &self.channel.flavor {
            Flavor::Rendezvous(rendezvous) => rendezvous.try_send(value).map_err(|e| match e {
                SendFail::Timeout(v) => TrySendError::Full(v),
                SendFail::Closed(v) => TrySendError::Disconnected(v),
            }),
            _ => unreachable!("only queues and rendezvous channels have senders"),
        }
    }

    /// Sends `value`, waiting at most `timeout`. A zero timeout still
    /// sends if that needs no waiting, as [`try_send`](Self::try_send)
    /// does.
    ///
    /// # Errors
    ///
    /// `Timeout` or `Disconnected`, with the value.
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.send_until(value, Deadline::after(timeout))
    }

    /// Sends `value`, waiting until `deadline` at the latest. A deadline
    /// already past still sends if that needs no waiting, as
    /// [`try_send`](Self::try_send) does.
    ///
    /// # Errors
    ///
    /// `Timeout` or `Disconnected`, with the value.
    pub fn send_deadline(&self, value: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.send_until(value, Deadline::at(deadline))
    }

    /// The one path of `send`, `send_timeout` and `send_deadline`.
    #[inline]
    fn send_until(&self, value: T, deadline: Deadline) -> Result<(), SendTimeoutError<T>> {
        // The queue first, alone: see `Flavor`.
        if let Flavor::Queue(queue) = &self.channel.flavor {
            return queue.push_until(value, deadline).map_err(|e| match e {
                PushTimeoutError::Timeout(v) => SendTimeoutError::Timeout(v),
                PushTimeoutError::Closed(v) => SendTimeoutError::Disconnected(v),
            });
        }
        match &self.channel.flavor {
            Flavor::Rendezvous(rendezvous) => {
                rendezvous.send(value, deadline).map_err(|e| match e {
                    SendFail::Timeout(v) => SendTimeoutError::Timeout(v),
                    SendFail::Closed(v) => SendTimeoutError::Disconnected(v),
                })
            }
            _ => unreachable!("only queues and rendezvous channels have senders"),
        }
    }
}

handle_impls!(Sender, senders, disconnect_senders);

/// The receiving half of a channel. Clone it for more receivers; when the
/// last one drops, the values still queued are dropped, and sends fail and
/// hand their value back.
pub struct Receiver<T> {
    channel: Arc<Channel<T>>,
}

impl<T> Receiver<T> {
    /// The one receiver of a channel without senders (a timer's).
    pub(crate) fn new(channel: Arc<Channel<T>>) -> Self {
        Self { channel }
    }

    /// Receives the oldest message, waiting while the channel is empty.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the channel is empty and every sender is gone.
    #[inline]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(Deadline::NEVER).map_err(|_| RecvError)
    }

    /// Receives a message if one is there right now (for a rendezvous
    /// channel: if a sender is waiting in `send`).
    ///
    /// # Errors
    ///
    /// `Empty`, or `Disconnected` once empty and every sender is gone.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        // The queue first, alone: see `Flavor`.
        if let Flavor::Queue(queue) = &self.channel.flavor {
            return queue.try_pop().map_err(|e| match e {
                TryPopError::Empty => TryRecvError::Empty,
                TryPopError::Closed => TryRecvError::Disconnected,
            });
        }
        match &self.channel.flavor {
            Flavor::Rendezvous(rendezvous) => rendezvous.try_recv().map_err(|e| match e {
                RecvFail::Timeout => TryRecvError::Empty,
                RecvFail::Closed => TryRecvError::Disconnected,
            }),
            Flavor::Timer(timer) => timer.try_recv(),
            // `never` (the queue was taken above).
            _ => Err(TryRecvError::Empty),
        }
    }

    /// Receives a message, waiting at most `timeout`. A zero timeout still
    /// receives a message that is there, as [`try_recv`](Self::try_recv)
    /// does.
    ///
    /// # Errors
    ///
    /// `Timeout`, or `Disconnected` once empty and every sender is gone.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_until(Deadline::after(timeout))
    }

    /// Receives a message, waiting until `deadline` at the latest. A
    /// deadline already past still receives a message that is there, as
    /// [`try_recv`](Self::try_recv) does.
    ///
    /// # Errors
    ///
    /// `Timeout`, or `Disconnected` once empty and every sender is gone.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Deadline::at(deadline))
    }

    /// The one path of `recv`, `recv_timeout` and `recv_deadline`.
    #[inline]
    fn recv_until(&self, deadline: Deadline) -> Result<T, RecvTimeoutError> {
        // The queue first, alone: see `Flavor`.
        if let Flavor::Queue(queue) = &self.channel.flavor {
            return queue.pop_until(deadline).map_err(|e| match e {
                PopTimeoutError::Timeout => RecvTimeoutError::Timeout,
                PopTimeoutError::Closed => RecvTimeoutError::Disconnected,
            });
        }
        match &self.channel.flavor {
            Flavor::Rendezvous(rendezvous) => rendezvous.recv(deadline).map_err(|e| match e {
                RecvFail::Timeout => RecvTimeoutError::Timeout,
                RecvFail::Closed => RecvTimeoutError::Disconnected,
            }),
            Flavor::Timer(timer) => timer.recv(deadline),
            // `never` (the queue was taken above).
            _ => {
                timer::sleep_until(deadline, Deadline::NEVER);
                Err(RecvTimeoutError::Timeout)
            }
        }
    }

    /// A blocking iterator over messages; it ends when the channel is
    /// empty and every sender is gone.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { receiver: self }
    }

    /// An iterator over the messages queued right now; it never waits.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { receiver: self }
    }
}

handle_impls!(Receiver, receivers, disconnect_receivers);

/// Blocking iterator from [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

/// Non-blocking iterator from [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.try_recv().ok()
    }
}

/// Owning blocking iterator, from `Receiver::into_iter`.
#[derive(Debug)]
pub struct IntoIter<T> {
    receiver: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { receiver: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
