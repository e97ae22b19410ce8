//! What a select hands to the [`SelectedOperation`](crate::SelectedOperation)
//! it returns: how the chosen operation completes.
//!
//! A select chooses an operation by starting it. A receive is performed
//! outright and its value kept in the token; a send can only claim room
//! (or a partner), since its value comes with the completion. The token is
//! not generic (a `Select` mixes channels of any types), so a received
//! value travels in an [`Erased`] box and is taken out as the right type
//! again by the handle it came from.

use core::fmt;
use core::ptr::NonNull;

use crate::queue::Claim;

/// How a selected operation completes.
#[derive(Debug)]
pub(crate) enum Token {
    /// A receive took this value.
    Received(Erased),
    /// The channel is disconnected: a receive gets `RecvError`, a send its
    /// value back.
    Disconnected,
    /// A send to a queue, with the room it claimed.
    Push(Claim),
    /// A rendezvous receive or send paired with a partner: the hand-off
    /// (or promise) with this number carries the value.
    Handoff(u64),
}

impl Token {
    /// A receive's token, holding the value it took.
    pub(crate) fn received<T>(value: T) -> Self {
        Self::Received(Erased::new(value))
    }
}

/// A value of a type the token does not name: a `Box<T>` without its `T`.
///
/// A value never taken out is leaked, not dropped: that happens only to a
/// selected operation dropped without being completed, possibly on another
/// thread than its channel's (see the `Send` impl of `Select`), where a
/// message that is not `Send` must not be dropped.
pub(crate) struct Erased(NonNull<()>);

impl Erased {
    pub(crate) fn new<T>(value: T) -> Self {
        Self(NonNull::from(Box::leak(Box::new(value))).cast())
    }

    /// Takes the value out.
    ///
    /// # Safety
    ///
    /// `T` is the type the value was made with.
    pub(crate) unsafe fn into_inner<T>(self) -> T {
        // SAFETY: the caller says `T` is right, and `self` is consumed, so
        // the box is taken once.
        *unsafe { Box::from_raw(self.0.cast::<T>().as_ptr()) }
    }
}

impl fmt::Debug for Erased {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Erased(..)")
    }
}
