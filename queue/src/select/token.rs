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
pub(crate) struct Erased {
    value: NonNull<()>,
    /// Drops the box, if the value is never taken.
    drop: unsafe fn(NonNull<()>),
}

impl Erased {
    pub(crate) fn new<T>(value: T) -> Self {
        /// # Safety
        ///
        /// `value` is a `Box<T>` made by [`Erased::new`], dropped once.
        unsafe fn drop_box<T>(value: NonNull<()>) {
            // SAFETY: guaranteed by the caller.
            drop(unsafe { Box::from_raw(value.cast::<T>().as_ptr()) });
        }
        Self {
            value: NonNull::from(Box::leak(Box::new(value))).cast(),
            drop: drop_box::<T>,
        }
    }

    /// Takes the value out.
    ///
    /// # Safety
    ///
    /// `T` is the type the value was made with.
    pub(crate) unsafe fn into_inner<T>(self) -> T {
        let value = self.value.cast::<T>();
        core::mem::forget(self);
        // SAFETY: the caller says `T` is right; `forget` keeps `drop` from
        // freeing the box a second time.
        *unsafe { Box::from_raw(value.as_ptr()) }
    }
}

impl Drop for Erased {
    fn drop(&mut self) {
        // SAFETY: `drop` was made for this box's type, and the box is
        // still owned: `into_inner` forgets `self`.
        unsafe { (self.drop)(self.value) };
    }
}

impl fmt::Debug for Erased {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Erased(..)")
    }
}
