//! What a select does with each kind of channel: [`SelectHandle`], for
//! [`Receiver`] and [`Sender`].
//!
//! - A queue's receive is `try_pop`; it registers with the queue's
//!   *not empty* event count. A queue's send claims room (`claim_push`)
//!   and registers with *not full*.
//! - A rendezvous channel pairs a select with a thread blocked in `send`
//!   or `recv`, or with another select (see [`crate::rendezvous`]).
//! - `after` and `tick` receivers are ready once their time has come, and
//!   tell the select when that is ([`SelectHandle::deadline`]); nothing
//!   wakes a select for them, it sleeps until the earliest such instant.
//!   `never` receivers are never ready.

use std::time::Instant;

use crate::channel::Flavor;
use crate::queue::Claim;
use crate::{Receiver, RecvError, SendError, Sender, TryPopError};

use super::context::{Context, Entry};
use super::token::Token;

/// A channel handle taking part in a select.
pub(crate) trait SelectHandle {
    /// Starts the operation if it can complete now (also when it would
    /// only report the disconnection), and says how it completes.
    fn try_select(&self) -> Option<Token>;

    /// When a timer's receive becomes ready by itself, if it is a timer's.
    fn deadline(&self) -> Option<Instant>;

    /// Registers `entry`, to be claimed when the operation may have become
    /// ready; returns whether it is ready now, checked after registering.
    fn register(&self, entry: Entry) -> bool;

    /// Removes what `register` registered for `cx` and `op`. Returns the
    /// token of the operation if a rendezvous partner claimed it for a
    /// hand-off; any other claim only says "try again".
    fn unregister(&self, cx: &Context, op: u32) -> Option<Token>;

    /// Whether the operation could complete now, without starting it.
    fn is_ready(&self) -> bool;
}

impl<T> SelectHandle for Receiver<T> {
    fn try_select(&self) -> Option<Token> {
        match self.flavor() {
            Flavor::Queue(queue) => match queue.try_pop() {
                Ok(value) => Some(Token::received(value)),
                Err(TryPopError::Closed) => Some(Token::Disconnected),
                Err(TryPopError::Empty) => None,
            },
            Flavor::Rendezvous(rendezvous) => rendezvous.start_recv(),
            Flavor::Timer(timer) => timer.try_recv().ok().map(Token::received),
            Flavor::Never => None,
        }
    }

    fn deadline(&self) -> Option<Instant> {
        match self.flavor() {
            Flavor::Timer(timer) => timer.deadline(),
            _ => None,
        }
    }

    fn register(&self, entry: Entry) -> bool {
        match self.flavor() {
            Flavor::Queue(queue) => queue.register_pop(entry),
            Flavor::Rendezvous(rendezvous) => rendezvous.register_recv(entry),
            Flavor::Timer(timer) => timer.is_ready(),
            Flavor::Never => false,
        }
    }

    fn unregister(&self, cx: &Context, op: u32) -> Option<Token> {
        match self.flavor() {
            Flavor::Queue(queue) => {
                queue.unregister_pop(cx, op);
                None
            }
            Flavor::Rendezvous(rendezvous) => rendezvous.unregister_recv(cx, op),
            Flavor::Timer(_) | Flavor::Never => None,
        }
    }

    fn is_ready(&self) -> bool {
        match self.flavor() {
            Flavor::Queue(queue) => queue.ready_to_pop(),
            Flavor::Rendezvous(rendezvous) => rendezvous.ready_to_recv(),
            Flavor::Timer(timer) => timer.is_ready(),
            Flavor::Never => false,
        }
    }
}

impl<T> SelectHandle for Sender<T> {
    fn try_select(&self) -> Option<Token> {
        match self.flavor() {
            Flavor::Queue(queue) => match queue.claim_push()? {
                Claim::Closed => Some(Token::Disconnected),
                claim => Some(Token::Push(claim)),
            },
            Flavor::Rendezvous(rendezvous) => rendezvous.start_send(),
            Flavor::Timer(_) | Flavor::Never => unreachable!("timers have no senders"),
        }
    }

    fn deadline(&self) -> Option<Instant> {
        None
    }

    fn register(&self, entry: Entry) -> bool {
        match self.flavor() {
            Flavor::Queue(queue) => queue.register_push(entry),
            Flavor::Rendezvous(rendezvous) => rendezvous.register_send(entry),
            Flavor::Timer(_) | Flavor::Never => unreachable!("timers have no senders"),
        }
    }

    fn unregister(&self, cx: &Context, op: u32) -> Option<Token> {
        match self.flavor() {
            Flavor::Queue(queue) => {
                queue.unregister_push(cx, op);
                None
            }
            Flavor::Rendezvous(rendezvous) => rendezvous.unregister_send(cx, op),
            Flavor::Timer(_) | Flavor::Never => unreachable!("timers have no senders"),
        }
    }

    fn is_ready(&self) -> bool {
        match self.flavor() {
            Flavor::Queue(queue) => queue.ready_to_push(),
            Flavor::Rendezvous(rendezvous) => rendezvous.ready_to_send(),
            Flavor::Timer(_) | Flavor::Never => unreachable!("timers have no senders"),
        }
    }
}

impl<T> Receiver<T> {
    /// Completes a receive that a select started on this receiver.
    ///
    /// # Safety
    ///
    /// `token` came from this receiver's [`SelectHandle`] methods.
    pub(crate) unsafe fn complete_recv(&self, token: Token) -> Result<T, RecvError> {
        match token {
            // SAFETY: the caller says the value was received from this
            // receiver, whose messages are `T`s.
            Token::Received(value) => Ok(unsafe { value.into_inner::<T>() }),
            Token::Disconnected => Err(RecvError),
            Token::Handoff(handoff) => match self.flavor() {
                Flavor::Rendezvous(rendezvous) => rendezvous.take_handoff(handoff),
                _ => unreachable!("only a rendezvous channel hands off"),
            },
            Token::Push(_) => unreachable!("a send's token for a receive"),
        }
    }
}

impl<T> Sender<T> {
    /// Completes a send that a select started on this sender.
    ///
    /// # Safety
    ///
    /// `token` came from this sender's [`SelectHandle`] methods.
    pub(crate) unsafe fn complete_send(&self, token: Token, value: T) -> Result<(), SendError<T>> {
        let result = match (token, self.flavor()) {
            (Token::Disconnected, _) => Err(value),
            // SAFETY: the caller says the claim was made on this queue, by
            // a select that is now completed, so it is used once.
            (Token::Push(claim), Flavor::Queue(queue)) => unsafe {
                queue.write_claimed(claim, value)
            },
            (Token::Handoff(handoff), Flavor::Rendezvous(rendezvous)) => {
                rendezvous.give_handoff(handoff, value)
            }
            _ => unreachable!("a token from another kind of channel"),
        };
        result.map_err(SendError)
    }
}
