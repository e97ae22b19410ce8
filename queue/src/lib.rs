//! A multi-producer multi-consumer FIFO queue, and channels over it.
//!
//! - [`Queue<T>`]: a queue shared by reference; every method takes `&self`.
//!   [`Queue::bounded`] holds at most `capacity` values and makes `push`
//!   wait while full; [`Queue::unbounded`] never makes it wait. `pop` waits
//!   while empty. [`Queue::close`] ends it: pushes fail, pops drain what is
//!   left and then report the end.
//! - [`bounded`] and [`unbounded`] return a channel's ([`Sender`],
//!   [`Receiver`]) pair, in crossbeam-channel's style, over the same queue;
//!   `bounded(0)` is a rendezvous channel. The channel closes itself when
//!   the last handle on either side drops; when the last receiver drops,
//!   the values still queued are dropped at once.
//! - [`select!`] and [`Select`] wait on several channel operations and
//!   perform one; [`after`], [`at`], [`tick`] and [`never`](never()) make receivers
//!   without senders, for timeouts and periodic work in a select.
//!
//! The bounded queue is Vyukov's ring of stamped slots (`src/array.rs`),
//! the unbounded one a linked list of blocks (`src/list.rs`). Both claim a
//! place with one compare-and-swap and take no lock, but neither is
//! lock-free in the strict sense, as crossbeam's queues are not: a push
//! claims its slot and then writes it, and a pop that reaches a claimed slot
//! before it is written waits for that producer to finish (a few
//! instructions, unless the producer is descheduled right there). A thread
//! that must wait spins briefly and then sleeps on an event count, a futex
//! word that the other side bumps (`src/event_count.rs`), so a push or pop
//! with nobody waiting makes no system call, and a sleeping thread costs
//! nothing. The rendezvous channel is a small monitor
//! (`src/rendezvous.rs`). A select registers its thread's own futex word
//! with every channel it waits on, and the first channel that can serve it
//! claims the word and wakes it (`src/select.rs`). Each of those files
//! explains its algorithm, its memory orderings and why no wake-up is
//! lost.
//!
//! # Which to use
//!
//! Use a `Queue` when the queue is a shared object with an explicit end
//! (the work list of a pool, a pipeline stage that someone shuts down).
//! Use the channel handles when ownership decides the end: the channel
//! disconnects when the senders (or receivers) are gone, with no `close`
//! to forget. To wait on several channels at once, use [`select!`] (or
//! [`Select`], for a list of operations built at run time). For one
//! producer and one consumer, a single-producer single-consumer ring (not
//! in Weft) can be faster.
//!
//! # Example
//!
//! ```
//! let (tx, rx) = weft_queue::bounded(64);
//! std::thread::scope(|s| {
//!     for id in 0..4 {
//!         let tx = tx.clone();
//!         s.spawn(move || {
//!             for i in 0..100 {
//!                 tx.send((id, i)).unwrap();
//!             }
//!         });
//!     }
//!     drop(tx); // the channel ends when the last sender is gone
//!     assert_eq!(rx.iter().count(), 400);
//! });
//! ```
//!
//! # Differences from crossbeam-channel
//!
//! The channels follow crossbeam-channel's API and behaviour, and
//! crossbeam-channel's own test suite runs against them, unchanged, with
//! no test left out (`cargo xtask crossbeam-suite`; the README names any
//! test left out for a difference). Where the two differ: when the last
//! receiver drops, the values still queued are dropped at once in every
//! flavor, as std's channels do; crossbeam-channel 0.5 does so for an
//! unbounded channel, while a bounded one keeps them until its last sender
//! is gone too.

mod array;
mod channel;
mod error;
mod event_count;
mod list;
mod queue;
mod rendezvous;
mod select;
mod select_macro;
mod timer;

pub use channel::{IntoIter, Iter, Receiver, Sender, TryIter, bounded, unbounded};
pub use error::{
    PopTimeoutError, PushError, PushTimeoutError, ReadyTimeoutError, RecvError, RecvTimeoutError,
    SelectTimeoutError, SendError, SendTimeoutError, TryPopError, TryPushError, TryReadyError,
    TryRecvError, TrySelectError, TrySendError,
};
pub use queue::Queue;
pub use select::{Select, SelectedOperation};
pub use timer::{after, at, never, tick};
