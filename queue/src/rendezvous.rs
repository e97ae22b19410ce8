//! The rendezvous flavor, `bounded(0)`: a send completes only when a
//! receiver takes the value.
//!
//! # Implementation
//!
//! There is no buffer to make lock-free, only a meeting point, so this
//! flavor is a monitor: a Weft [`Mutex`] around a list of *offers* (values
//! that senders hold out), the selects waiting on the channel, and three
//! [`Condvar`]s: receivers wait on one for an offer, senders on another
//! for theirs to be taken, and the receiving side of a hand-off (below) on
//! the third for its value.
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
//!
//! # Select
//!
//! A select cannot wait on the condition variables: it sleeps on its own
//! context word (see `select/context.rs`), so it registers an entry in one
//! of two lists, `receivers` or `senders`. Pairing with a select means
//! *claiming* its context for the operation, and the value then goes
//! through a **hand-off**: a numbered record, under the mutex, that the
//! sending side fills and the receiving side empties, waiting for the
//! value if it is not there yet. Everything happens under the mutex, so a
//! select's "register, then check whether a partner is there" and a
//! partner's "arrive, then look for registered selects" cannot miss each
//! other.
//!
//! - A send (blocking or `try_send`) that finds no receiver waiting in
//!   `recv` claims a select registered to receive, and leaves its value in
//!   a hand-off for it; a `recv` or `try_recv` that finds no offer claims a
//!   select registered to send, and waits for that select's caller to
//!   complete the send into the hand-off.
//! - A select that finds an offer takes it, as `recv` does. A select whose
//!   send finds a receiver waiting in `recv` appends a *promise*: an offer
//!   without a value yet, which that receiver (or any other) takes like any
//!   offer and then waits on as a hand-off, until the select's caller
//!   completes the send.
//! - A select that finds another select registered with the opposite
//!   operation claims it, and the two share a hand-off: the sending one
//!   fills it when its caller completes the send, the receiving one empties
//!   it when its caller completes the receive. Entries of the claiming
//!   thread's own context are skipped: a select never pairs with itself.
//!
//! `Select::ready` registers *watchers* in the same lists: they are never
//! claimed as partners, only woken whenever a partner for them may have
//! arrived.

use std::collections::VecDeque;

use weft_futex::Deadline;
use weft_mutex::{Condvar, Mutex, MutexGuard};

use crate::RecvError;
use crate::select::{Context, Entry, Token};

/// A value held out by a sender, or promised by a select's send.
struct Offer<T> {
    ticket: u64,
    /// `None` for a promise, until the select's send completes.
    value: Option<T>,
}

/// A select registered with the channel, and the hand-off it was claimed
/// for, if a partner claimed it.
struct Waiter {
    entry: Entry,
    handoff: Option<u64>,
}

struct State<T> {
    /// Offers in arrival order.
    offers: VecDeque<Offer<T>>,
    /// Pairs made, each waiting for its receiving side to take the value
    /// (or, while it is `None`, for the sending side to give it).
    handoffs: Vec<Offer<T>>,
    /// Numbers offers and hand-offs.
    next_ticket: u64,
    /// Receivers waiting inside `recv`.
    waiting_receivers: usize,
    /// Selects (and watchers) waiting to receive.
    receivers: Vec<Waiter>,
    /// Selects (and watchers) waiting to send.
    senders: Vec<Waiter>,
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
    /// Receiving sides of hand-offs wait here for their value.
    handed: Condvar,
}

impl<T> Rendezvous<T> {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                offers: VecDeque::new(),
                handoffs: Vec::new(),
                next_ticket: 0,
                waiting_receivers: 0,
                receivers: Vec::new(),
                senders: Vec::new(),
                closed: false,
            }),
            offered: Condvar::new(),
            taken: Condvar::new(),
            handed: Condvar::new(),
        }
    }

    /// Sends `value`, returning once a receiver took it.
    pub(crate) fn send(&self, value: T, deadline: Deadline) -> Result<(), SendFail<T>> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(SendFail::Closed(value));
        }
        let value = match state.hand_to_select(value) {
            Ok(()) => return Ok(()),
            Err(value) => value,
        };
        let ticket = self.offer(&mut state, Some(value));
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

    /// Hands `value` to a receiver that is already waiting (in `recv`, or
    /// in a select), or gives it back.
    pub(crate) fn try_send(&self, value: T) -> Result<(), SendFail<T>> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(SendFail::Closed(value));
        }
        let value = match state.hand_to_select(value) {
            Ok(()) => return Ok(()),
            Err(value) => value,
        };
        // Each waiting receiver can be promised one offer.
        if state.waiting_receivers <= state.offers.len() {
            return Err(SendFail::Timeout(value));
        }
        self.offer(&mut state, Some(value));
        Ok(())
    }

    /// Takes the oldest offer, waiting for one until `deadline`.
    pub(crate) fn recv(&self, deadline: Deadline) -> Result<T, RecvFail> {
        let mut state = self.state.lock();
        loop {
            if let Some(ticket) = self.take_or_pair(&mut state) {
                return match ticket {
                    Ok(value) => Ok(value),
                    Err(handoff) => self
                        .wait_handoff(state, handoff)
                        .map_err(|_| RecvFail::Closed),
                };
            }
            if state.closed {
                return Err(RecvFail::Closed);
            }
            state.waiting_receivers += 1;
            // A send is ready for the senders' watchers now.
            wake_watchers(&state.senders);
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

    /// Takes an offer if a sender holds one out right now (or pairs with a
    /// select that is registered to send, and waits for its value).
    pub(crate) fn try_recv(&self) -> Result<T, RecvFail> {
        let mut state = self.state.lock();
        match self.take_or_pair(&mut state) {
            Some(Ok(value)) => Ok(value),
            Some(Err(handoff)) => self
                .wait_handoff(state, handoff)
                .map_err(|_| RecvFail::Closed),
            None if state.closed => Err(RecvFail::Closed),
            None => Err(RecvFail::Timeout),
        }
    }

    /// Closes the meeting point and wakes everybody, selects included;
    /// `true` if this call closed it.
    pub(crate) fn close(&self) -> bool {
        let mut state = self.state.lock();
        let closed_now = !state.closed;
        state.closed = true;
        for waiter in state.receivers.iter().chain(&state.senders) {
            if waiter.entry.cx.try_claim(waiter.entry.op) {
                waiter.entry.cx.wake();
            }
        }
        drop(state);
        self.offered.notify_all();
        self.taken.notify_all();
        self.handed.notify_all();
        closed_now
    }

    /// Holds `value` out as the newest offer (`None`: a select's promise)
    /// and wakes a receiver and the receivers' watchers for it; returns the
    /// offer's ticket.
    fn offer(&self, state: &mut State<T>, value: Option<T>) -> u64 {
        let ticket = state.ticket();
        state.offers.push_back(Offer { ticket, value });
        self.offered.notify_one();
        wake_watchers(&state.receivers);
        ticket
    }

    /// The first step of a receive: the oldest offer's value (`Ok`), or the
    /// hand-off to wait on (`Err`) if that offer is a select's promise or
    /// if there is no offer but a select registered to send, which this
    /// claims. `None` if there is neither.
    fn take_or_pair(&self, state: &mut State<T>) -> Option<Result<T, u64>> {
        if let Some(offer) = state.offers.pop_front() {
            // Senders wait for different tickets: wake them all to let the
            // owner of this one return.
            self.taken.notify_all();
            return Some(match offer.value {
                Some(value) => Ok(value),
                None => {
                    let ticket = offer.ticket;
                    state.handoffs.push(offer);
                    Err(ticket)
                }
            });
        }
        let ticket = state.ticket();
        if claim(&mut state.senders, None, ticket) {
            state.handoffs.push(Offer {
                ticket,
                value: None,
            });
            return Some(Err(ticket));
        }
        None
    }

    /// Waits until the sending side of hand-off `ticket` gave its value,
    /// and takes it; fails if the channel closes first (the sending side
    /// is then gone: it held a sender until it gave the value).
    fn wait_handoff(
        &self,
        mut state: MutexGuard<'_, State<T>>,
        ticket: u64,
    ) -> Result<T, RecvError> {
        loop {
            let i = state
                .handoffs
                .iter()
                .position(|h| h.ticket == ticket)
                .expect("a hand-off stays until its receiving side takes it");
            if let Some(value) = state.handoffs[i].value.take() {
                state.handoffs.swap_remove(i);
                return Ok(value);
            }
            if state.closed {
                state.handoffs.swap_remove(i);
                return Err(RecvError);
            }
            state = self.handed.wait(state);
        }
    }
}

/// The select side; see "Select" in the module documentation.
impl<T> Rendezvous<T> {
    /// Starts a select's receive: takes an offer, or pairs with a select
    /// registered to send; ready with the disconnection too.
    pub(crate) fn start_recv(&self) -> Option<Token> {
        let mut state = self.state.lock();
        match self.take_or_pair(&mut state) {
            Some(Ok(value)) => Some(Token::received(value)),
            Some(Err(handoff)) => Some(Token::Handoff(handoff)),
            None if state.closed => Some(Token::Disconnected),
            None => None,
        }
    }

    /// Starts a select's send: promises a value to a receiver waiting in
    /// `recv`, or pairs with a select registered to receive; ready with the
    /// disconnection too.
    pub(crate) fn start_send(&self) -> Option<Token> {
        let mut state = self.state.lock();
        if state.closed {
            return Some(Token::Disconnected);
        }
        if state.waiting_receivers > state.offers.len() {
            let ticket = state.ticket();
            // No notification: the receiver wakes for the value, when the
            // select's caller gives it.
            state.offers.push_back(Offer {
                ticket,
                value: None,
            });
            return Some(Token::Handoff(ticket));
        }
        let ticket = state.ticket();
        if claim(&mut state.receivers, None, ticket) {
            state.handoffs.push(Offer {
                ticket,
                value: None,
            });
            return Some(Token::Handoff(ticket));
        }
        None
    }

    /// Completes a receive paired through hand-off `ticket`.
    pub(crate) fn take_handoff(&self, ticket: u64) -> Result<T, RecvError> {
        self.wait_handoff(self.state.lock(), ticket)
    }

    /// Completes a send paired through hand-off (or promise) `ticket`.
    pub(crate) fn give_handoff(&self, ticket: u64, value: T) -> Result<(), T> {
        let mut state = self.state.lock();
        if let Some(i) = state.offers.iter().position(|o| o.ticket == ticket) {
            // A promise no receiver has taken yet.
            if state.closed {
                state.offers.remove(i);
                return Err(value);
            }
            state.offers[i].value = Some(value);
            self.offered.notify_one();
            return Ok(());
        }
        match state.handoffs.iter_mut().find(|h| h.ticket == ticket) {
            Some(handoff) => {
                handoff.value = Some(value);
                drop(state);
                self.handed.notify_all();
                Ok(())
            }
            // The receiving side gave up, on a close.
            None => Err(value),
        }
    }

    /// Registers a select's receive; returns whether it is ready now.
    pub(crate) fn register_recv(&self, entry: Entry) -> bool {
        let mut state = self.state.lock();
        let ready =
            !state.offers.is_empty() || state.closed || can_pair(&state.senders, Some(&entry.cx));
        if !entry.watch {
            wake_watchers(&state.senders);
        }
        state.receivers.push(Waiter {
            entry,
            handoff: None,
        });
        ready
    }

    /// Registers a select's send; returns whether it is ready now.
    pub(crate) fn register_send(&self, entry: Entry) -> bool {
        let mut state = self.state.lock();
        let ready = state.waiting_receivers > state.offers.len()
            || state.closed
            || can_pair(&state.receivers, Some(&entry.cx));
        if !entry.watch {
            wake_watchers(&state.receivers);
        }
        state.senders.push(Waiter {
            entry,
            handoff: None,
        });
        ready
    }

    /// Removes a select's receive; the hand-off, if a partner claimed it.
    pub(crate) fn unregister_recv(&self, cx: &Context, op: u32) -> Option<Token> {
        unregister(&mut self.state.lock().receivers, cx, op)
    }

    /// Removes a select's send; the hand-off, if a partner claimed it.
    pub(crate) fn unregister_send(&self, cx: &Context, op: u32) -> Option<Token> {
        unregister(&mut self.state.lock().senders, cx, op)
    }

    /// Whether a receive would complete now.
    pub(crate) fn ready_to_recv(&self) -> bool {
        let state = self.state.lock();
        !state.offers.is_empty() || state.closed || can_pair(&state.senders, None)
    }

    /// Whether a send would complete now.
    pub(crate) fn ready_to_send(&self) -> bool {
        let state = self.state.lock();
        state.waiting_receivers > state.offers.len()
            || state.closed
            || can_pair(&state.receivers, None)
    }
}

impl<T> State<T> {
    fn ticket(&mut self) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        ticket
    }

    /// Leaves `value` in a hand-off for a select registered to receive, if
    /// no receiver waits in `recv` for an offer; gives it back otherwise.
    fn hand_to_select(&mut self, value: T) -> Result<(), T> {
        if self.waiting_receivers > self.offers.len() {
            return Err(value);
        }
        let ticket = self.ticket();
        if !claim(&mut self.receivers, None, ticket) {
            return Err(value);
        }
        self.handoffs.push(Offer {
            ticket,
            value: Some(value),
        });
        Ok(())
    }
}

/// Claims the first select in `waiters` that can pair (not a watcher, not
/// claimed, not `me`), for hand-off `ticket`.
fn claim(waiters: &mut [Waiter], me: Option<&Context>, ticket: u64) -> bool {
    for waiter in waiters {
        let entry = &waiter.entry;
        if !entry.watch
            && waiter.handoff.is_none()
            && me.is_none_or(|me| !entry.cx.is(me))
            && entry.cx.try_claim(entry.op)
        {
            waiter.handoff = Some(ticket);
            entry.cx.wake();
            return true;
        }
    }
    false
}

/// Whether a select in `waiters` other than `me`'s could pair now.
fn can_pair(waiters: &[Waiter], me: Option<&Context>) -> bool {
    waiters.iter().any(|waiter| {
        !waiter.entry.watch
            && waiter.handoff.is_none()
            && me.is_none_or(|me| !waiter.entry.cx.is(me))
            && waiter.entry.cx.is_waiting()
    })
}

/// Wakes the watchers in `waiters`: an operation may be ready for them.
fn wake_watchers(waiters: &[Waiter]) {
    for waiter in waiters {
        if waiter.entry.watch && waiter.entry.cx.try_claim(waiter.entry.op) {
            waiter.entry.cx.wake();
        }
    }
}

/// Removes the entry of `cx` for `op`; its hand-off, if it was claimed for
/// one.
fn unregister(waiters: &mut Vec<Waiter>, cx: &Context, op: u32) -> Option<Token> {
    let i = waiters
        .iter()
        .position(|w| w.entry.op == op && w.entry.cx.is(cx))?;
    waiters.swap_remove(i).handoff.map(Token::Handoff)
}

/// Removes offer `i`, a sender's, and returns its value to the sender.
fn withdraw<T>(state: &mut MutexGuard<'_, State<T>>, i: usize) -> T {
    state
        .offers
        .remove(i)
        .and_then(|offer| offer.value)
        .expect("a sender's offer, with its value")
}
