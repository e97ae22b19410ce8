//! [`Select`]: waiting on several channel operations at once.
//!
//! # Implementation
//!
//! The design is crossbeam-channel's: a select *starts* one operation and
//! hands it to the caller as a [`SelectedOperation`], which the caller
//! completes with the handle it registered. In three steps:
//!
//! 1. **Try.** The operations are shuffled (a thread-local xorshift
//!    generator), so that among those ready one is chosen uniformly at
//!    random, and each is tried without blocking; the first that can
//!    complete is started and returned. Ready includes "would fail at
//!    once": a receive on a disconnected, drained channel, a send with no
//!    receivers left. A receive is performed outright (the value travels
//!    in the token); a send claims its room, or its partner, and writes
//!    the value when completed (see [`token`]). Trying is repeated along a
//!    short spin schedule before the thread blocks.
//! 2. **Register.** The thread registers an entry naming its own
//!    [`Context`] (a futex word, see [`context`]) with every channel, and
//!    right after each registration checks that channel once more. A
//!    channel that has become ready meanwhile makes the thread withdraw
//!    (swap `ABORTED` into its word) and go back to step 1. Otherwise it
//!    sleeps on its word until a channel claims it, or until the earliest
//!    of its deadline and the timers' (`after`, `tick`).
//! 3. **Wake.** A channel that receives a value, frees a slot, meets a
//!    rendezvous partner or disconnects claims a registered thread with a
//!    compare-and-swap of the thread's word from `WAITING` to the
//!    operation, and wakes it. The compare-and-swap succeeds once, so when
//!    several channels fire together exactly one claim wins. The woken
//!    thread removes every entry it registered (on a timeout too), then
//!    tries the claimed operation; if another thread took the value first,
//!    it starts over at step 1.
//!
//! **No lost wake-up.** Each channel's "register, then check" on the select
//! side pairs with "change, then look for registrations" on the channel
//! side. For queues that is the event count's Dekker pair of `SeqCst`
//! operations (see [`crate::event_count`]); for rendezvous channels both
//! halves happen under the channel's lock. So either the select's check
//! sees the change, or the channel sees the registration and claims the
//! thread (or the thread has already been claimed by another channel, and
//! wakes anyway). The futex wait compares the word with `WAITING` in the
//! kernel, so a claim between the check and the sleep is not missed either.
//!
//! **What a channel nobody selects on pays.** Nothing on its fast paths: a
//! queue's push and pop already read their event count's `sleepers` word,
//! and registrations are a bit in that word. A rendezvous channel checks
//! its lists of selects under the lock it takes anyway.
//!
//! **Rendezvous pairing** (see [`crate::rendezvous`]): a select whose send
//! (receive) finds a thread blocked in `recv` (`send`) pairs with it; one
//! that finds another thread's select registered with the opposite
//! operation claims that select for a hand-off and becomes its partner.
//! Entries of the selecting thread's own context are skipped, so a select
//! never pairs its own send and receive.

mod context;
mod handle;
mod registry;
mod token;

use core::fmt;
use core::marker::PhantomData;
use std::cell::Cell;
use std::time::{Duration, Instant};

use weft_futex::sync::Arc;
use weft_futex::{Deadline, SpinWait};

use crate::{
    ReadyTimeoutError, Receiver, RecvError, SelectTimeoutError, SendError, Sender, TryReadyError,
    TrySelectError,
};

use self::context::{ABORTED, WAITING};
pub(crate) use self::context::{Context, Entry};
use self::handle::SelectHandle;
pub(crate) use self::registry::Registry;
pub(crate) use self::token::Token;

/// One operation of a select: the handle, the operation's index, and the
/// handle's address, which completing the operation must match.
type Operation<'a> = (&'a dyn SelectHandle, usize, *const u8);

/// How long a select may block.
#[derive(Clone, Copy)]
enum Timeout {
    /// Not at all.
    Now,
    /// Until an operation is ready.
    Never,
    /// Until this instant.
    At(Instant),
}

impl Timeout {
    fn after(timeout: Duration) -> Self {
        Instant::now()
            .checked_add(timeout)
            .map_or(Self::Never, Self::At)
    }

    fn has_passed(self) -> bool {
        match self {
            Self::Now => true,
            Self::Never => false,
            Self::At(at) => Instant::now() >= at,
        }
    }
}

/// A set of channel operations to wait on, of which one is performed.
///
/// Add receive and send operations with [`recv`](Self::recv) and
/// [`send`](Self::send); each returns the operation's index. Then either
///
/// - **select** one with [`select`](Self::select),
///   [`try_select`](Self::try_select),
///   [`select_timeout`](Self::select_timeout) or
///   [`select_deadline`](Self::select_deadline): the operation is
///   *started* and returned as a [`SelectedOperation`], which must be
///   completed with [`SelectedOperation::recv`] or
///   [`SelectedOperation::send`] on the handle that was added; or
/// - wait until one is **ready** with [`ready`](Self::ready),
///   [`try_ready`](Self::try_ready), [`ready_timeout`](Self::ready_timeout)
///   or [`ready_deadline`](Self::ready_deadline), which only return an
///   index: by the time the caller tries the operation, another thread may
///   have taken the value, so use a loop.
///
/// An operation is ready when it can complete without waiting, including
/// when it would only report that the channel is disconnected. Among
/// several ready operations one is chosen at random, uniformly
/// ([`new_biased`](Self::new_biased): the first added). Bounded, unbounded
/// and rendezvous channels all take part, and so do the receivers of
/// [`after`](crate::after), [`at`](crate::at), [`tick`](crate::tick) and
/// [`never`](crate::never): a blocked select wakes by itself when the
/// earliest of its timers is due. A rendezvous
/// send in one thread's select pairs with a receive blocked in `recv`, or
/// with another thread's select receiving on that channel (and vice versa),
/// but never with a receive of the same select.
///
/// A thread blocked in a select spins briefly and then sleeps on a futex
/// word of its own until a channel wakes it; see the `select` module's
/// documentation (`src/select.rs`) for how. The [`select!`](crate::select!)
/// macro builds a `Select` for a fixed list of operations.
///
/// # Examples
///
/// Receive from whichever of a list of channels has a message first:
///
/// ```
/// use weft_queue::{Receiver, RecvError, Select, unbounded};
///
/// fn recv_any<T>(receivers: &[Receiver<T>]) -> Result<T, RecvError> {
///     let mut sel = Select::new();
///     for r in receivers {
///         sel.recv(r);
///     }
///     let oper = sel.select();
///     let index = oper.index();
///     oper.recv(&receivers[index])
/// }
///
/// let (tx1, rx1) = unbounded();
/// let (_tx2, rx2) = unbounded();
/// std::thread::scope(|s| {
///     s.spawn(move || tx1.send("one").unwrap());
///     assert_eq!(recv_any(&[rx1, rx2]), Ok("one"));
/// });
/// ```
pub struct Select<'a> {
    operations: Vec<Operation<'a>>,
    /// The index of the next operation added; indexes are never reused.
    next_index: usize,
    biased: bool,
}

impl<'a> Select<'a> {
    /// An empty set of operations, chosen among at random when several
    /// are ready.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut sel = weft_queue::Select::new();
    /// // Nothing to select from.
    /// assert!(sel.try_select().is_err());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            operations: Vec::with_capacity(4),
            next_index: 0,
            biased: false,
        }
    }

    /// An empty set of operations that, when several are ready, chooses
    /// the one added first.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx1, rx1) = weft_queue::unbounded();
    /// let (tx2, rx2) = weft_queue::unbounded();
    /// tx1.send(1).unwrap();
    /// tx2.send(2).unwrap();
    /// let mut sel = weft_queue::Select::new_biased();
    /// let first = sel.recv(&rx1);
    /// sel.recv(&rx2);
    /// let oper = sel.select();
    /// assert_eq!(oper.index(), first);
    /// assert_eq!(oper.recv(&rx1), Ok(1));
    /// ```
    #[must_use]
    pub fn new_biased() -> Self {
        Self {
            biased: true,
            ..Self::new()
        }
    }

    /// Adds a receive operation on `r` and returns its index.
    pub fn recv<T>(&mut self, r: &'a Receiver<T>) -> usize {
        self.add(r, (r as *const Receiver<T>).cast())
    }

    /// Adds a send operation on `s` and returns its index.
    pub fn send<T>(&mut self, s: &'a Sender<T>) -> usize {
        self.add(s, (s as *const Sender<T>).cast())
    }

    fn add(&mut self, handle: &'a dyn SelectHandle, address: *const u8) -> usize {
        let index = self.next_index;
        self.operations.push((handle, index, address));
        self.next_index += 1;
        index
    }

    /// Removes the operation with index `index`. The other operations keep
    /// their indexes, and operations added later get new ones.
    ///
    /// # Panics
    ///
    /// If there is no operation with that index (never added, or already
    /// removed).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx1, rx1) = weft_queue::unbounded::<i32>();
    /// let (tx2, rx2) = weft_queue::unbounded::<i32>();
    /// drop(tx2);
    /// let mut sel = weft_queue::Select::new();
    /// let one = sel.recv(&rx1);
    /// let two = sel.recv(&rx2);
    /// // The disconnected channel is ready, and so chosen.
    /// let oper = sel.select();
    /// assert_eq!(oper.index(), two);
    /// assert!(oper.recv(&rx2).is_err());
    /// sel.remove(two);
    /// tx1.send(10).unwrap();
    /// let oper = sel.select();
    /// assert_eq!(oper.index(), one);
    /// assert_eq!(oper.recv(&rx1), Ok(10));
    /// ```
    pub fn remove(&mut self, index: usize) {
        assert!(
            index < self.next_index,
            "no operation with index {index} (only {} were added)",
            self.next_index
        );
        let position = self
            .operations
            .iter()
            .position(|&(_, i, _)| i == index)
            .unwrap_or_else(|| panic!("the operation with index {index} was already removed"));
        self.operations.swap_remove(position);
    }

    /// Selects an operation that can complete now, if there is one.
    ///
    /// # Errors
    ///
    /// [`TrySelectError`] if none is ready (always, without operations).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_queue::unbounded();
    /// let mut sel = weft_queue::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.try_select().is_err());
    /// tx.send(5).unwrap();
    /// let oper = sel.try_select().unwrap();
    /// assert_eq!(oper.recv(&rx), Ok(5));
    /// ```
    pub fn try_select(&mut self) -> Result<SelectedOperation<'a>, TrySelectError> {
        self.run(Timeout::Now).ok_or(TrySelectError)
    }

    /// Blocks until an operation can complete, and selects it.
    ///
    /// # Panics
    ///
    /// If no operation was added.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx1, rx1) = weft_queue::bounded(0);
    /// let (tx2, rx2) = weft_queue::bounded::<i32>(1);
    /// let mut sel = weft_queue::Select::new();
    /// let send = sel.send(&tx2);
    /// let recv = sel.recv(&rx1);
    /// std::thread::scope(|s| {
    ///     s.spawn(move || tx1.send("hi").unwrap());
    ///     // The bounded channel has room, so its send is ready at once;
    ///     // the rendezvous receive may be ready too, once the thread runs.
    ///     let oper = sel.select();
    ///     if oper.index() == send {
    ///         oper.send(&tx2, 1).unwrap();
    ///         assert_eq!(rx1.recv(), Ok("hi"));
    ///     } else {
    ///         assert_eq!(oper.index(), recv);
    ///         assert_eq!(oper.recv(&rx1), Ok("hi"));
    ///     }
    /// });
    /// ```
    pub fn select(&mut self) -> SelectedOperation<'a> {
        assert!(
            !self.operations.is_empty(),
            "no operations have been added to the Select"
        );
        self.run(Timeout::Never)
            .expect("a select without a timeout ends only with an operation")
    }

    /// Blocks until an operation can complete, and selects it, or until
    /// `timeout` has passed. A zero timeout still selects an operation that
    /// is ready.
    ///
    /// # Errors
    ///
    /// [`SelectTimeoutError`] if no operation became ready in time; without
    /// operations, after waiting out the timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (_tx, rx) = weft_queue::unbounded::<i32>();
    /// let mut sel = weft_queue::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.select_timeout(Duration::from_millis(10)).is_err());
    /// ```
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.run(Timeout::after(timeout)).ok_or(SelectTimeoutError)
    }

    /// Blocks until an operation can complete, and selects it, or until
    /// `deadline`. A deadline already past still selects an operation that
    /// is ready.
    ///
    /// # Errors
    ///
    /// [`SelectTimeoutError`] if no operation became ready in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let (tx, rx) = weft_queue::unbounded();
    /// let mut sel = weft_queue::Select::new();
    /// sel.recv(&rx);
    /// std::thread::scope(|s| {
    ///     s.spawn(move || tx.send(1).unwrap());
    ///     let deadline = Instant::now() + Duration::from_secs(10);
    ///     let oper = sel.select_deadline(deadline).unwrap();
    ///     assert_eq!(oper.recv(&rx), Ok(1));
    /// });
    /// ```
    pub fn select_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.run(Timeout::At(deadline)).ok_or(SelectTimeoutError)
    }

    /// Returns the index of an operation that is ready now, without
    /// starting it.
    ///
    /// # Errors
    ///
    /// [`TryReadyError`] if none is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_queue::unbounded();
    /// let mut sel = weft_queue::Select::new();
    /// let index = sel.recv(&rx);
    /// assert!(sel.try_ready().is_err());
    /// tx.send(1).unwrap();
    /// assert_eq!(sel.try_ready(), Ok(index));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_ready(&mut self) -> Result<usize, TryReadyError> {
        self.run_ready(Timeout::Now).ok_or(TryReadyError)
    }

    /// Blocks until an operation is ready, and returns its index without
    /// starting it. Another thread may make it not ready again before the
    /// caller tries it.
    ///
    /// # Panics
    ///
    /// If no operation was added.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_queue::{Receiver, Select, TryRecvError};
    ///
    /// fn recv_any<T>(receivers: &[Receiver<T>]) -> Option<T> {
    ///     let mut sel = Select::new();
    ///     for r in receivers {
    ///         sel.recv(r);
    ///     }
    ///     loop {
    ///         let index = sel.ready();
    ///         match receivers[index].try_recv() {
    ///             Ok(value) => return Some(value),
    ///             Err(TryRecvError::Disconnected) => return None,
    ///             // Another thread took it first.
    ///             Err(TryRecvError::Empty) => continue,
    ///         }
    ///     }
    /// }
    ///
    /// let (tx, rx) = weft_queue::bounded(1);
    /// tx.send('x').unwrap();
    /// assert_eq!(recv_any(&[rx]), Some('x'));
    /// ```
    pub fn ready(&mut self) -> usize {
        assert!(
            !self.operations.is_empty(),
            "no operations have been added to the Select"
        );
        self.run_ready(Timeout::Never)
            .expect("a wait without a timeout ends only with an operation")
    }

    /// Like [`ready`](Self::ready), giving up after `timeout`.
    ///
    /// # Errors
    ///
    /// [`ReadyTimeoutError`] if no operation became ready in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (_tx, rx) = weft_queue::unbounded::<i32>();
    /// let mut sel = weft_queue::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.ready_timeout(Duration::from_millis(10)).is_err());
    /// ```
    pub fn ready_timeout(&mut self, timeout: Duration) -> Result<usize, ReadyTimeoutError> {
        self.run_ready(Timeout::after(timeout))
            .ok_or(ReadyTimeoutError)
    }

    /// Like [`ready`](Self::ready), giving up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`ReadyTimeoutError`] if no operation became ready in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// let (tx, rx) = weft_queue::unbounded();
    /// tx.send(1).unwrap();
    /// let mut sel = weft_queue::Select::new();
    /// let index = sel.recv(&rx);
    /// assert_eq!(sel.ready_deadline(Instant::now()), Ok(index));
    /// ```
    pub fn ready_deadline(&mut self, deadline: Instant) -> Result<usize, ReadyTimeoutError> {
        self.run_ready(Timeout::At(deadline))
            .ok_or(ReadyTimeoutError)
    }

    /// Selects an operation, blocking within `timeout`: the three steps of
    /// the module documentation.
    fn run(&mut self, timeout: Timeout) -> Option<SelectedOperation<'a>> {
        let operations = &mut self.operations[..];
        if operations.is_empty() {
            sleep_until(timeout);
            return None;
        }
        if !self.biased {
            shuffle(operations);
        }
        let mut spin = SpinWait::new();
        loop {
            for &(handle, index, address) in operations.iter() {
                if let Some(token) = handle.try_select() {
                    return Some(SelectedOperation::new(token, index, address));
                }
            }
            if timeout.has_passed() {
                return None;
            }
            if spin.spin() {
                continue;
            }
            if let Some(selected) = block(operations, timeout) {
                return Some(selected);
            }
        }
    }

    /// Waits until an operation is ready, blocking within `timeout`, and
    /// returns its index.
    fn run_ready(&mut self, timeout: Timeout) -> Option<usize> {
        let operations = &mut self.operations[..];
        if operations.is_empty() {
            sleep_until(timeout);
            return None;
        }
        if !self.biased {
            shuffle(operations);
        }
        let mut spin = SpinWait::new();
        loop {
            for &(handle, index, _) in operations.iter() {
                if handle.is_ready() {
                    return Some(index);
                }
            }
            if timeout.has_passed() {
                return None;
            }
            if spin.spin() {
                continue;
            }
            if let Some(index) = watch(operations, timeout) {
                return Some(index);
            }
        }
    }
}

/// Steps 2 and 3 of the module documentation: registers every operation,
/// sleeps, and removes the registrations. Returns the operation a channel
/// claimed, started, or `None` to try them all again.
fn block<'a>(operations: &[Operation<'a>], timeout: Timeout) -> Option<SelectedOperation<'a>> {
    let cx = Context::current();
    let (registered, state) = register(operations, &cx, false, timeout);
    let mut handoff = None;
    for (i, &(handle, ..)) in operations[..registered].iter().enumerate() {
        if let Some(token) = handle.unregister(&cx, Context::op(i)) {
            handoff = Some(token);
        }
    }
    let claimed = Context::claimed(state)?;
    let (handle, index, address) = operations[claimed];
    // A hand-off is the claimed operation's (only a claim makes one); any
    // other claim means "ready, try it".
    let token = match handoff {
        Some(token) => token,
        None => handle.try_select()?,
    };
    Some(SelectedOperation::new(token, index, address))
}

/// Like [`block`], for [`Select::ready`]: registers watchers, which are not
/// claimed for an operation, only woken. Returns the index of the operation
/// found ready.
fn watch(operations: &[Operation<'_>], timeout: Timeout) -> Option<usize> {
    let cx = Context::current();
    let (registered, state) = register(operations, &cx, true, timeout);
    for (i, &(handle, ..)) in operations[..registered].iter().enumerate() {
        handle.unregister(&cx, Context::op(i));
    }
    Context::claimed(state).map(|i| operations[i].1)
}

/// Registers `operations` in turn until one is ready or claimed, then, if
/// none was, sleeps until one is claimed or the deadline. Returns how many
/// were registered and the context's final state.
fn register(
    operations: &[Operation<'_>],
    cx: &Arc<Context>,
    watch: bool,
    timeout: Timeout,
) -> (usize, u32) {
    let mut state = WAITING;
    let mut registered = 0;
    for (i, &(handle, ..)) in operations.iter().enumerate() {
        registered += 1;
        let entry = Entry {
            cx: cx.clone(),
            op: Context::op(i),
            watch,
        };
        if handle.register(entry) {
            state = cx.abort();
            // A watcher that found its operation ready has its answer.
            if watch && state == ABORTED {
                state = Context::op(i);
            }
            break;
        }
        state = cx.state();
        if state != WAITING {
            break;
        }
    }
    if state == WAITING {
        state = cx.wait_until(deadline(operations, timeout));
    }
    (registered, state)
}

/// When a blocked select wakes up by itself: at its timeout, or at the
/// earliest instant a timer among its operations becomes ready.
fn deadline(operations: &[Operation<'_>], timeout: Timeout) -> Deadline {
    let timers = operations
        .iter()
        .filter_map(|&(handle, ..)| handle.deadline());
    let earliest = match timeout {
        Timeout::At(at) => timers.fold(at, Instant::min),
        Timeout::Now | Timeout::Never => match timers.min() {
            Some(at) => at,
            None => return Deadline::NEVER,
        },
    };
    Deadline::at(earliest)
}

/// What a select without operations does: waits out its timeout.
fn sleep_until(timeout: Timeout) {
    match timeout {
        Timeout::Now => {}
        Timeout::Never => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        Timeout::At(at) => {
            let mut now = Instant::now();
            while now < at {
                std::thread::sleep(at - now);
                now = Instant::now();
            }
        }
    }
}

/// Shuffles the operations (Fisher-Yates), so that the first ready one
/// found is a uniformly random one of those ready.
///
/// The generator is a 32-bit xorshift per thread, seeded from std's
/// per-thread random hashing keys. Under loom nothing is shuffled: a model
/// must make the same choices in every execution.
fn shuffle<T>(operations: &mut [T]) {
    std::thread_local! {
        static RNG: Cell<u32> = Cell::new(seed());
    }
    if cfg!(loom) || operations.len() < 2 {
        return;
    }
    let _ = RNG.try_with(|rng| {
        let mut x = rng.get();
        for i in (1..operations.len()).rev() {
            // Xorshift32 (Marsaglia, "Xorshift RNGs", 2003).
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            // A number below i + 1 from the high bits of x * (i + 1)
            // (Lemire's multiply-shift, fairer and cheaper than `%`).
            let j = ((u64::from(x) * (i as u64 + 1)) >> 32) as usize;
            operations.swap(i, j);
        }
        rng.set(x);
    });
}

/// A nonzero seed for [`shuffle`], different for every thread.
fn seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    (RandomState::new().hash_one(0u8) as u32) | 1
}

/// A `Select` may go to another thread and be used there, as
/// crossbeam-channel's may, whatever its channels carry.
///
/// It holds only references to handles. Used on another thread, it runs
/// their operations there, which the channels are built for; the one
/// thing that needs care is a message that is not `Send`, since its
/// receiver is not `Sync` and so may not go with the `Select`. A receive
/// moves such a message into the [`SelectedOperation`], which cannot leave
/// the thread (it is neither `Send` nor `Sync`) and hands the message out
/// only through [`SelectedOperation::recv`], which takes a reference to the
/// receiver: a thread that has one may own the message. Dropped without
/// being completed, the operation leaks the message instead of dropping it.
/// No other operation touches a message on the select's thread: a send
/// claims room or a partner, and the message comes with its completion.
// SAFETY: see the doc comment above.
unsafe impl Send for Select<'_> {}
// SAFETY: a shared `Select` only lends its references to `clone`, which
// makes a `Select` for the thread that calls it, as `Send` allows.
unsafe impl Sync for Select<'_> {}

impl Default for Select<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for Select<'_> {
    fn clone(&self) -> Self {
        Self {
            operations: self.operations.clone(),
            next_index: self.next_index,
            biased: self.biased,
        }
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("operations", &self.operations.len())
            .field("biased", &self.biased)
            .finish_non_exhaustive()
    }
}

/// An operation that a [`Select`] chose and started, to be completed with
/// [`recv`](Self::recv) or [`send`](Self::send) on the very handle that
/// was added to the select.
///
/// # Panics
///
/// Dropping it without completing it panics: the operation has begun (a
/// value was taken from a channel, room or a partner was claimed), and
/// leaving it unfinished loses the value or blocks the channel's other
/// users.
///
/// It stays on the thread that selected it:
///
/// ```compile_fail
/// let (tx, rx) = weft_queue::unbounded::<i32>();
/// tx.send(1).unwrap();
/// let mut sel = weft_queue::Select::new();
/// sel.recv(&rx);
/// let oper = sel.select();
/// std::thread::scope(|s| {
///     s.spawn(move || oper.recv(&rx));
/// });
/// ```
#[must_use = "a selected operation must be completed with `recv` or `send`"]
pub struct SelectedOperation<'a> {
    /// How the operation completes; `None` once it has.
    token: Option<Token>,
    index: usize,
    /// The address of the handle that was added.
    address: *const u8,
    /// The handles stay borrowed until the operation completes.
    _handles: PhantomData<&'a ()>,
}

impl SelectedOperation<'_> {
    fn new(token: Token, index: usize, address: *const u8) -> Self {
        Self {
            token: Some(token),
            index,
            address,
            _handles: PhantomData,
        }
    }

    /// The index of the operation, as returned when it was added.
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// Completes a receive operation: returns the message, or
    /// [`RecvError`] if the channel was disconnected and empty.
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the channel was empty and every sender gone.
    ///
    /// # Panics
    ///
    /// If `r` is not the receiver this operation was added with.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_queue::bounded::<i32>(0);
    /// drop(tx);
    /// let mut sel = weft_queue::Select::new();
    /// sel.recv(&rx);
    /// let oper = sel.select();
    /// assert_eq!(oper.recv(&rx), Err(weft_queue::RecvError));
    /// ```
    pub fn recv<T>(mut self, r: &Receiver<T>) -> Result<T, RecvError> {
        assert!(
            core::ptr::eq((r as *const Receiver<T>).cast(), self.address),
            "passed a receiver that was not the selected operation's"
        );
        let token = self.token.take().expect("an operation completes once");
        // SAFETY: the address is that of the handle whose select produced
        // the token. That handle is still borrowed (for `'a`), so it is
        // alive at that address: `r` is that very receiver.
        unsafe { r.complete_recv(token) }
    }

    /// Completes a send operation with `value`.
    ///
    /// # Errors
    ///
    /// [`SendError`], with the value, if every receiver was gone.
    ///
    /// # Panics
    ///
    /// If `s` is not the sender this operation was added with.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_queue::bounded(1);
    /// let mut sel = weft_queue::Select::new();
    /// sel.send(&tx);
    /// let oper = sel.select();
    /// oper.send(&tx, 'a').unwrap();
    /// assert_eq!(rx.recv(), Ok('a'));
    /// ```
    pub fn send<T>(mut self, s: &Sender<T>, value: T) -> Result<(), SendError<T>> {
        assert!(
            core::ptr::eq((s as *const Sender<T>).cast(), self.address),
            "passed a sender that was not the selected operation's"
        );
        let token = self.token.take().expect("an operation completes once");
        // SAFETY: as in `recv`: `s` is the sender that produced the token.
        unsafe { s.complete_send(token, value) }
    }
}

impl fmt::Debug for SelectedOperation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectedOperation")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Drop for SelectedOperation<'_> {
    /// Panics, unless the operation was completed (or a panic is already
    /// unwinding). A message the operation received is leaked, not
    /// dropped: see the `Send` impl of [`Select`].
    fn drop(&mut self) {
        // A token never drops a received message (see `Erased`).
        if self.token.take().is_some() && !std::thread::panicking() {
            panic!("dropped a SelectedOperation without completing the operation");
        }
    }
}
