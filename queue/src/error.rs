//! The errors of the queue and the channels.
//!
//! Every error that refuses a value hands it back (`into_inner`), so nothing
//! is ever lost silently. `Debug` never requires `T: Debug` (it prints `..`
//! for the value), so `unwrap` works on any channel. The channel errors have
//! std's and crossbeam-channel's names.

use core::fmt;

/// Declares an error that carries the refused value in every variant.
macro_rules! value_error {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub enum $name<T> {
            $($(#[$vmeta])* $variant(T),)+
        }

        impl<T> $name<T> {
            /// Returns the value that was not delivered.
            pub fn into_inner(self) -> T {
                match self {
                    $(Self::$variant(value) => value,)+
                }
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Self::$variant(_) => f.write_str(concat!(stringify!($variant), "(..)")),)+
                }
            }
        }

        impl<T> fmt::Display for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Self::$variant(_) => f.write_str($text),)+
                }
            }
        }

        impl<T> std::error::Error for $name<T> {}
    };
}

/// Declares the error of a blocking push or send, which fails only one way:
/// a tuple struct around the refused value.
macro_rules! ended_error {
    (
        $(#[$meta:meta])*
        $name:ident => $text:literal
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub struct $name<T>(pub T);

        impl<T> $name<T> {
            /// Returns the value that was not delivered.
            pub fn into_inner(self) -> T {
                self.0
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }

        impl<T> fmt::Display for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($text)
            }
        }

        impl<T> std::error::Error for $name<T> {}
    };
}

/// Declares a value-less error enum.
macro_rules! plain_error {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Self::$variant => f.write_str($text),)+
                }
            }
        }

        impl std::error::Error for $name {}
    };
}

// ---- Queue errors ----

ended_error! {
    /// [`Queue::push`](crate::Queue::push) failed: the queue is closed. The
    /// value is handed back.
    PushError => "pushing into a closed queue"
}

value_error! {
    /// [`Queue::try_push`](crate::Queue::try_push) failed.
    TryPushError {
        /// The queue is full; the value is handed back.
        Full => "pushing into a full queue",
        /// The queue is closed; the value is handed back.
        Closed => "pushing into a closed queue",
    }
}

value_error! {
    /// [`Queue::push_timeout`](crate::Queue::push_timeout) failed.
    PushTimeoutError {
        /// The queue stayed full until the timeout; the value is handed back.
        Timeout => "timed out pushing into a full queue",
        /// The queue is closed; the value is handed back.
        Closed => "pushing into a closed queue",
    }
}

plain_error! {
    /// [`Queue::try_pop`](crate::Queue::try_pop) failed.
    TryPopError {
        /// The queue is empty, and open.
        Empty => "popping from an empty queue",
        /// The queue is closed and empty: no value will ever come.
        Closed => "popping from a closed and empty queue",
    }
}

plain_error! {
    /// [`Queue::pop_timeout`](crate::Queue::pop_timeout) failed.
    PopTimeoutError {
        /// The queue stayed empty until the timeout.
        Timeout => "timed out popping from an empty queue",
        /// The queue is closed and empty: no value will ever come.
        Closed => "popping from a closed and empty queue",
    }
}

// ---- Channel errors ----

ended_error! {
    /// [`Sender::send`](crate::Sender::send) failed: every receiver is gone.
    /// The value is handed back.
    SendError => "sending on a disconnected channel"
}

value_error! {
    /// [`Sender::try_send`](crate::Sender::try_send) failed.
    TrySendError {
        /// The channel is full (or, for a rendezvous channel, no receiver is
        /// waiting); the value is handed back.
        Full => "sending on a full channel",
        /// Every receiver is gone; the value is handed back.
        Disconnected => "sending on a disconnected channel",
    }
}

value_error! {
    /// [`Sender::send_timeout`](crate::Sender::send_timeout) failed.
    SendTimeoutError {
        /// The channel stayed full until the timeout; the value is handed
        /// back.
        Timeout => "timed out sending on a full channel",
        /// Every receiver is gone; the value is handed back.
        Disconnected => "sending on a disconnected channel",
    }
}

/// [`Receiver::recv`](crate::Receiver::recv) failed: the channel is empty
/// and every sender is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

plain_error! {
    /// [`Receiver::try_recv`](crate::Receiver::try_recv) failed.
    TryRecvError {
        /// The channel is empty, and a sender may still send.
        Empty => "receiving on an empty channel",
        /// The channel is empty and every sender is gone.
        Disconnected => "receiving on an empty and disconnected channel",
    }
}

plain_error! {
    /// [`Receiver::recv_timeout`](crate::Receiver::recv_timeout) failed.
    RecvTimeoutError {
        /// The channel stayed empty until the timeout.
        Timeout => "timed out waiting on an empty channel",
        /// The channel is empty and every sender is gone.
        Disconnected => "receiving on an empty and disconnected channel",
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on an empty and disconnected channel")
    }
}

impl std::error::Error for RecvError {}

impl<T> TrySendError<T> {
    /// Whether the channel was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether every receiver was gone.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }
}

impl<T> SendTimeoutError<T> {
    /// Whether the send timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }

    /// Whether every receiver was gone.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }
}

impl TryRecvError {
    /// Whether the channel was empty.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// Whether the channel was empty and disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected)
    }
}

impl RecvTimeoutError {
    /// Whether the receive timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout)
    }

    /// Whether the channel was empty and disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected)
    }
}

// ---- Select errors ----

/// Declares a unit error struct of `Select`.
macro_rules! select_error {
    ($(#[$meta:meta])* $name:ident => $text:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name;

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($text)
            }
        }

        impl std::error::Error for $name {}
    };
}

select_error! {
    /// [`Select::try_select`](crate::Select::try_select) failed: no
    /// operation was ready.
    TrySelectError => "no operation in the select was ready"
}

select_error! {
    /// [`Select::select_timeout`](crate::Select::select_timeout) (or
    /// `select_deadline`) failed: no operation became ready in time.
    SelectTimeoutError => "timed out waiting for an operation in the select"
}

select_error! {
    /// [`Select::try_ready`](crate::Select::try_ready) failed: no operation
    /// was ready.
    TryReadyError => "no operation in the select was ready to run"
}

select_error! {
    /// [`Select::ready_timeout`](crate::Select::ready_timeout) (or
    /// `ready_deadline`) failed: no operation became ready in time.
    ReadyTimeoutError => "timed out waiting for an operation in the select to be ready"
}
