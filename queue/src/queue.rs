//! [`Queue`]: the flavors, which only try, plus blocking and closing.
//!
//! The flavors ([`crate::array`], bounded, and [`crate::list`], unbounded)
//! only know how to try. This layer adds waiting: a push that finds the
//! queue full sleeps on the *not full* [`EventCount`], a pop that finds it
//! empty sleeps on *not empty*, and every successful operation notifies the
//! other side (a load, and a system call only when somebody sleeps). See
//! [`crate::event_count`] for why no wake-up is lost.
//!
//! # Closing
//!
//! `close` sets a flag inside the tail index itself, with the same atomic
//! operation that pushes use to claim a slot. So a push either claimed its
//! slot before the close (and its value will be popped) or sees the flag and
//! fails, handing the value back; there is no window in which a value slips
//! in after consumers concluded that the queue is closed and drained. After
//! setting the flag, `close` wakes every sleeper on both sides.
//!
//! # Select
//!
//! A select waits on a queue's event counts like a sleeper, through
//! [`register_pop`](Queue::register_pop) and
//! [`register_push`](Queue::register_push), which check the queue after
//! registering (see [`crate::event_count`]). A select's pop is an ordinary
//! `try_pop`; its push is split in two: [`claim_push`](Queue::claim_push)
//! claims room when the select chooses the operation, and
//! [`write_claimed`](Queue::write_claimed) stores the value the caller
//! passes when it completes it.

use core::fmt;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use weft_futex::Deadline;
use weft_futex::atomic::fence;

use crate::array::{Array, PopFail, PushFail};
use crate::event_count::EventCount;
use crate::list::List;
use crate::select::{Context, Entry};
use crate::{PopTimeoutError, PushError, PushTimeoutError, TryPopError, TryPushError};

enum Flavor<T> {
    Bounded(Array<T>),
    Unbounded(List<T>),
}

/// A multi-producer multi-consumer FIFO queue: the "race-condition-free
/// queue that many threads read and write".
///
/// Every method takes `&self`, so a queue is shared by reference (or in an
/// `Arc`) between any number of producers and consumers. Values come out in
/// the order their pushes claimed a place at the tail, a single atomic step
/// inside each push: so the values of one producer come out in the order it
/// pushed them, and a push that returned before another began comes out
/// before it. Two pushes that overlap come out in the order they claimed
/// their places, which need not be the order in which they return.
///
/// A queue is open until [`close`](Self::close): then pushes fail and hand
/// their value back, while pops still drain what is queued and report the
/// end only once it is empty. Values still inside when the queue is dropped
/// are dropped with it, each exactly once.
///
/// # Examples
///
/// ```
/// use weft_queue::Queue;
///
/// let queue = Queue::bounded(16);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         for i in 0..100 {
///             queue.push(i).unwrap();
///         }
///         queue.close();
///     });
///     let mut sum = 0;
///     while let Some(i) = queue.pop() {
///         sum += i;
///     }
///     assert_eq!(sum, 4950);
/// });
/// ```
pub struct Queue<T> {
    flavor: Flavor<T>,
    /// Consumers sleep here while the queue is empty.
    not_empty: EventCount,
    /// Producers sleep here while a bounded queue is full.
    not_full: EventCount,
}

impl<T> Queue<T> {
    /// A queue that holds at most `capacity` values; `push` waits while it
    /// is full.
    ///
    /// # Panics
    ///
    /// If `capacity` is zero ("capacity must be non-zero"; for a rendezvous
    /// use the channel [`bounded(0)`](crate::bounded)), or so large that the
    /// slots cannot be allocated (a panic naming the capacity, not an
    /// abort).
    pub fn bounded(capacity: usize) -> Self {
        Self::with_flavor(Flavor::Bounded(Array::new(capacity)))
    }

    /// A queue without a capacity limit: `push` never waits.
    pub fn unbounded() -> Self {
        Self::with_flavor(Flavor::Unbounded(List::new()))
    }

    fn with_flavor(flavor: Flavor<T>) -> Self {
        Self {
            flavor,
            not_empty: EventCount::new(),
            not_full: EventCount::new(),
        }
    }

    /// Pushes `value`, waiting while the queue is full.
    ///
    /// # Errors
    ///
    /// If the queue is closed (also while waiting), the value comes back in
    /// the error.
    #[inline]
    pub fn push(&self, value: T) -> Result<(), PushError<T>> {
        self.push_until(value, Deadline::NEVER)
            .map_err(|e| PushError(e.into_inner()))
    }

    /// Pushes `value` if there is room right now.
    ///
    /// # Errors
    ///
    /// `Full` or `Closed`, with the value; a closed queue reports `Closed`
    /// even when it is also full.
    pub fn try_push(&self, value: T) -> Result<(), TryPushError<T>> {
        let result = match &self.flavor {
            Flavor::Bounded(array) => array.try_push(value).map_err(|e| match e {
                PushFail::Full(v) => TryPushError::Full(v),
                PushFail::Closed(v) => TryPushError::Closed(v),
            }),
            Flavor::Unbounded(list) => list.push(value).map_err(TryPushError::Closed),
        };
        if result.is_ok() {
            self.not_empty.notify_one();
        }
        result
    }

    /// Pushes `value`, waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// `Timeout` or `Closed`, with the value.
    pub fn push_timeout(&self, value: T, timeout: Duration) -> Result<(), PushTimeoutError<T>> {
        self.push_until(value, Deadline::after(timeout))
    }

    /// Pops the oldest value, waiting while the queue is empty. Returns
    /// `None` once the queue is closed and everything in it was popped.
    #[inline]
    pub fn pop(&self) -> Option<T> {
        self.pop_until(Deadline::NEVER).ok()
    }

    /// Pops the oldest value if there is one right now.
    ///
    /// # Errors
    ///
    /// `Empty` while open, `Closed` once closed and drained.
    pub fn try_pop(&self) -> Result<T, TryPopError> {
        match self.try_pop_once() {
            Ok(value) => Ok(value),
            Err(PopFail::Empty) => Err(TryPopError::Empty),
            Err(PopFail::Closed) => Err(TryPopError::Closed),
        }
    }

    /// Pops the oldest value, waiting at most `timeout` for one.
    ///
    /// # Errors
    ///
    /// `Timeout`, or `Closed` once closed and drained.
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, PopTimeoutError> {
        self.pop_until(Deadline::after(timeout))
    }

    /// Closes the queue: later pushes fail, pops drain what is left and then
    /// report the end, and every thread waiting in `push` or `pop` wakes.
    /// Returns `true` if this call closed it, `false` if it already was.
    pub fn close(&self) -> bool {
        let closed_now = match &self.flavor {
            Flavor::Bounded(array) => array.close(),
            Flavor::Unbounded(list) => list.close(),
        };
        if closed_now {
            self.not_empty.notify_all();
            self.not_full.notify_all();
        }
        closed_now
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        match &self.flavor {
            Flavor::Bounded(array) => array.is_closed(),
            Flavor::Unbounded(list) => list.is_closed(),
        }
    }

    /// The number of values in the queue at one instant (it may change as
    /// soon as it is returned). Never more than the capacity.
    pub fn len(&self) -> usize {
        match &self.flavor {
            Flavor::Bounded(array) => array.len(),
            Flavor::Unbounded(list) => list.len(),
        }
    }

    /// Whether the queue held no value at one instant.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a bounded queue was full at one instant; always `false` for
    /// an unbounded one.
    pub fn is_full(&self) -> bool {
        match &self.flavor {
            Flavor::Bounded(array) => array.len() == array.capacity(),
            Flavor::Unbounded(_) => false,
        }
    }

    /// The capacity, or `None` for an unbounded queue.
    pub fn capacity(&self) -> Option<usize> {
        match &self.flavor {
            Flavor::Bounded(array) => Some(array.capacity()),
            Flavor::Unbounded(_) => None,
        }
    }

    /// Push with a deadline, perhaps [`Deadline::NEVER`]; the work behind
    /// `push` and `push_timeout`.
    ///
    /// The common case, room right away, is inlined into the caller; the
    /// waiting machinery is in [`push_wait`](Self::push_wait), out of line,
    /// so that it does not stop the compiler from inlining the rest.
    #[inline]
    pub(crate) fn push_until(
        &self,
        value: T,
        deadline: Deadline,
    ) -> Result<(), PushTimeoutError<T>> {
        match &self.flavor {
            Flavor::Bounded(array) => match array.try_push(value) {
                Ok(()) => {
                    self.not_empty.notify_one();
                    Ok(())
                }
                Err(PushFail::Closed(v)) => Err(PushTimeoutError::Closed(v)),
                Err(PushFail::Full(v)) => self.push_wait(array, v, deadline),
            },
            Flavor::Unbounded(list) => {
                list.push(value).map_err(PushTimeoutError::Closed)?;
                self.not_empty.notify_one();
                Ok(())
            }
        }
    }

    /// The rest of [`push_until`](Self::push_until) once the bounded queue
    /// was found full: wait for room.
    #[inline(never)]
    fn push_wait(
        &self,
        array: &Array<T>,
        value: T,
        deadline: Deadline,
    ) -> Result<(), PushTimeoutError<T>> {
        // The value moves into each attempt and comes back when it fails.
        let mut value = Some(value);
        let outcome = self.not_full.wait_until(deadline, || {
            match array.try_push(value.take().expect("a failed attempt returns the value")) {
                Ok(()) => Some(Ok(())),
                Err(PushFail::Closed(v)) => Some(Err(v)),
                Err(PushFail::Full(v)) => {
                    value = Some(v);
                    None
                }
            }
        });
        match outcome {
            Some(Ok(())) => {
                self.not_empty.notify_one();
                Ok(())
            }
            Some(Err(v)) => Err(PushTimeoutError::Closed(v)),
            None => Err(PushTimeoutError::Timeout(
                value.take().expect("a failed attempt returns the value"),
            )),
        }
    }

    /// Pop with a deadline, perhaps [`Deadline::NEVER`]; the work behind
    /// `pop` and `pop_timeout`.
    ///
    /// As in [`push_until`](Self::push_until), the common case (a value
    /// right away) is inlined, and the waiting is in
    /// [`pop_wait`](Self::pop_wait).
    #[inline]
    pub(crate) fn pop_until(&self, deadline: Deadline) -> Result<T, PopTimeoutError> {
        match self.try_pop_once() {
            Ok(value) => Ok(value),
            Err(PopFail::Closed) => Err(PopTimeoutError::Closed),
            Err(PopFail::Empty) => self.pop_wait(deadline),
        }
    }

    /// The rest of [`pop_until`](Self::pop_until) once the queue was found
    /// empty: wait for a value.
    #[inline(never)]
    fn pop_wait(&self, deadline: Deadline) -> Result<T, PopTimeoutError> {
        let outcome = self
            .not_empty
            .wait_until(deadline, || match self.try_pop_once() {
                Ok(value) => Some(Ok(value)),
                Err(PopFail::Closed) => Some(Err(PopTimeoutError::Closed)),
                Err(PopFail::Empty) => None,
            });
        outcome.unwrap_or(Err(PopTimeoutError::Timeout))
    }

    /// One pop attempt; a successful pop from a bounded queue makes room,
    /// so it notifies a sleeping producer.
    #[inline]
    fn try_pop_once(&self) -> Result<T, PopFail> {
        match &self.flavor {
            Flavor::Bounded(array) => {
                let value = array.try_pop()?;
                self.not_full.notify_one();
                Ok(value)
            }
            Flavor::Unbounded(list) => list.try_pop(),
        }
    }
}

/// Room claimed for a select's send; see "Select" in the module
/// documentation.
#[derive(Debug)]
pub(crate) enum Claim {
    /// A bounded queue's slot at this position, to be written.
    Slot(usize),
    /// An unbounded queue always has room: the value is pushed when it
    /// comes.
    Unbounded,
    /// The queue is closed: the send fails.
    Closed,
}

/// The select side of a queue; see "Select" in the module documentation.
impl<T> Queue<T> {
    /// Registers a select waiting for a value; returns whether a pop would
    /// complete now (with a value, or with the close), checked after the
    /// registration.
    pub(crate) fn register_pop(&self, entry: Entry) -> bool {
        self.not_empty.register(entry);
        self.ready_to_pop()
    }

    /// Removes what [`register_pop`](Self::register_pop) registered.
    pub(crate) fn unregister_pop(&self, cx: &Context, op: u32) {
        self.not_empty.unregister(cx, op);
    }

    /// Registers a select waiting for room; returns whether a push would
    /// complete now, checked after the registration.
    pub(crate) fn register_push(&self, entry: Entry) -> bool {
        self.not_full.register(entry);
        self.ready_to_push()
    }

    /// Removes what [`register_push`](Self::register_push) registered.
    pub(crate) fn unregister_push(&self, cx: &Context, op: u32) {
        self.not_full.unregister(cx, op);
    }

    /// Whether a pop would complete now: the queue holds a value or is
    /// closed.
    pub(crate) fn ready_to_pop(&self) -> bool {
        // SeqCst fence: the select's half of the Dekker pair with pushes
        // and `close` (see `crate::event_count`).
        fence(SeqCst);
        !self.is_empty() || self.is_closed()
    }

    /// Whether a push would complete now: there is room, or the queue is
    /// closed (and the push would fail).
    pub(crate) fn ready_to_push(&self) -> bool {
        // SeqCst fence: as in `ready_to_pop`, with pops.
        fence(SeqCst);
        !self.is_full() || self.is_closed()
    }

    /// Claims room for a value that [`write_claimed`](Self::write_claimed)
    /// stores later; `None` if the queue is full.
    pub(crate) fn claim_push(&self) -> Option<Claim> {
        match &self.flavor {
            Flavor::Bounded(array) => match array.claim() {
                Ok(position) => Some(Claim::Slot(position)),
                Err(PushFail::Full(())) => None,
                Err(PushFail::Closed(())) => Some(Claim::Closed),
            },
            Flavor::Unbounded(list) if list.is_closed() => Some(Claim::Closed),
            Flavor::Unbounded(_) => Some(Claim::Unbounded),
        }
    }

    /// Completes a push whose room [`claim_push`](Self::claim_push)
    /// claimed; the value comes back if the queue is closed (only an
    /// unbounded queue's claim can end that way).
    ///
    /// # Safety
    ///
    /// `claim` came from `claim_push` on this queue, and is used once.
    pub(crate) unsafe fn write_claimed(&self, claim: Claim, value: T) -> Result<(), T> {
        match (claim, &self.flavor) {
            (Claim::Slot(position), Flavor::Bounded(array)) => {
                // SAFETY: the caller's claim gave it `position`, unwritten.
                unsafe { array.write(position, value) };
                self.not_empty.notify_one();
                Ok(())
            }
            (Claim::Unbounded, _) => self.try_push(value).map_err(TryPushError::into_inner),
            (Claim::Closed, _) => Err(value),
            (Claim::Slot(_), Flavor::Unbounded(_)) => {
                unreachable!("an unbounded queue claims no slots")
            }
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
