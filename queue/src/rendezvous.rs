//! The rendezvous flavor, `bounded(0)`: a send completes only when a
//! receiver takes the value.
//!
//! # Implementation
//!
//! There is no buffer to make lock-free, only a meeting point, so this
//! flavor is a monitor: a Weft [`Mutex`] around a list of *offers* (values
//! that senders hold out), and two [`Condvar`]s, one where receivers wait
//! for an offer and one where senders wait for theirs to be taken.
//!
//! - `send` appends its offer, wakes a receiver, and waits until a receiver
//!   has removed the offer (or the channel closes, or its deadline passes:
//!   then it withdraws the offer and keeps the value, unless a receiver
//!   waiting in `recv` is bound to take it, as `try_send` leaves it).
//! - `recv` takes the oldest offer, or waits for one.
//! - `try_send` succeeds only if a receiver is already waiting in `recv`
//!   without an offer set aside for it; the value is then left for that
//!   receiver, and the sender does not wait.
//! - `try_recv` succeeds only if a sender is waiting with an offer.
//!
//! Every wait loops on its condition, so spurious wake-ups are harmless, and
//! every change that a waiter waits for is made under the mutex and followed
//! by a notification, so none is lost (see [`weft_mutex::condvar`]).

use std::collections::VecDeque;

use weft_futex::Deadline;
use weft_mutex::{Condvar, Mutex, MutexGuard};

/// A value held out by a sender.
struct Offer<T> {
    ticket: u64,
    value: T,
}

struct State<T> {
    /// Offers in arrival order.
    offers: VecDeque<Offer<T>>,
    next_ticket: u64,
    /// Receivers waiting inside `recv`.
    waiting_receivers: usize,
    closed: bool,
}

/// Why a rendezvous send failed; the value comes back.
pub(crate) enum SendFail<T> {
    /// Nobody took it in time (or, for `try_send`, nobody was waiting).
    Timeout(T),
    Closed(T),
}

/// Why a rendezvous receive failed.
pub(crate) enum RecvFail {
    Timeout,
    Closed,
}

/// The meeting point of a rendezvous channel; see the module documentation.
pub(crate) struct Rendezvous<T> {
    state: Mutex<State<T>>,
    /// Receivers wait here for an offer.
    offered: Condvar,
    /// Senders wait here for their offer to be taken.
    taken: Condvar,
}

impl<T> Rendezvous<T> {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                offers: VecDeque::new(),
                next_ticket: 0,
                waiting_receivers: 0,
                closed: false,
            }),
            offered: Condvar::new(),
            taken: Condvar::new(),
        }
    }

    /// Sends `value`, returning once a receiver took it.
    pub(crate) fn send(&self, value: T, deadline: Deadline) -> Result<(), SendFail<T>> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(SendFail::Closed(value));
        }
        let ticket = self.offer(&mut state, value);
        loop {
            let Some(i) = state.offers.iter().position(|o| o.ticket == ticket) else {
                // A receiver took it.
                return Ok(());
            };
            if state.closed {
                return Err(SendFail::Closed(withdraw(&mut state, i)));
            }
            state = match deadline.remaining() {
                None => self.taken.wait(state),
                // Each waiting receiver takes one offer, oldest first, before
                // it leaves `recv`: offer `i` is promised to one of them if
                // there are more than `i`, and stays, as with `try_send`.
                Some(left) if left.is_zero() && i < state.waiting_receivers => return Ok(()),
                Some(left) if left.is_zero() => {
                    return Err(SendFail::Timeout(withdraw(&mut state, i)));
                }
                Some(left) => self.taken.wait_timeout(state, left).0,
            };
        }
    }

    /// Hands `value` to a receiver that is already waiting, or gives it
    /// back.
    pub(crate) fn try_send(&self, value: T) -> Result<(), SendFail<T>> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(SendFail::Closed(value));
        }
        // Each waiting receiver can be promised one offer.
        if state.waiting_receivers <= state.offers.len() {
            return Err(SendFail::Timeout(value));
        }
        self.offer(&mut state, value);
        Ok(())
    }

    /// Takes the oldest offer, waiting for one until `deadline`.
    pub(crate) fn recv(&self, deadline: Deadline) -> Result<T, RecvFail> {
        let mut state = self.state.lock();
        loop {
            if let Some(offer) = state.offers.pop_front() {
                // Senders wait for different tickets: wake them all to let
                // the owner of this one return.
                self.taken.notify_all();
                return Ok(offer.value);
            }
            if state.closed {
                return Err(RecvFail::Closed);
            }
            state.waiting_receivers += 1;
            state = match deadline.remaining() {
                None => self.offered.wait(state),
                Some(left) if left.is_zero() => {
                    state.waiting_receivers -= 1;
                    return Err(RecvFail::Timeout);
                }
                Some(left) => self.offered.wait_timeout(state, left).0,
            };
            state.waiting_receivers -= 1;
        }
    }

    /// Takes an offer if a sender holds one out right now.
    pub(crate) fn try_recv(&self) -> Result<T, RecvFail> {
        let mut state = self.state.lock();
        match state.offers.pop_front() {
            Some(offer) => {
                self.taken.notify_all();
                Ok(offer.value)
            }
            None if state.closed => Err(RecvFail::Closed),
            None => Err(RecvFail::Timeout),
        }
    }

    /// Closes the meeting point and wakes everybody; `true` if this call
    /// closed it.
    pub(crate) fn close(&self) -> bool {
        let mut state = self.state.lock();
        let closed_now = !state.closed;
        state.closed = true;
        drop(state);
        self.offered.notify_all();
        self.taken.notify_all();
        closed_now
    }

    /// Holds `value` out as the newest offer and wakes a receiver for it;
    /// returns the offer's ticket.
    fn offer(&self, state: &mut State<T>, value: T) -> u64 {
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.offers.push_back(Offer { ticket, value });
        self.offered.notify_one();
        ticket
    }
}

/// Removes offer `i` and returns its value to the sender.
fn withdraw<T>(state: &mut MutexGuard<'_, State<T>>, i: usize) -> T {
    state.offers.remove(i).expect("index found above").value
}
