//! `TaskError`: a task's panic, as the async forms report it.

use std::any::Any;
use std::error::Error;
use std::fmt;

/// A task panicked; carries the panic's payload.
///
/// Returned by [`AsyncResult::get`](crate::AsyncResult::get) (and inside
/// [`GetTimeoutError::Failed`](crate::GetTimeoutError::Failed)).
/// [`into_panic`](Self::into_panic) gives the payload back, for example to
/// re-raise it with [`std::panic::resume_unwind`].
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(1);
/// let failed = pool.apply_async(|| -> u32 { panic!("no answer") }, ()).get().unwrap_err();
/// assert_eq!(failed.to_string(), "task panicked: no answer");
/// let payload = failed.into_panic();
/// assert_eq!(payload.downcast_ref::<&str>(), Some(&"no answer"));
/// ```
pub struct TaskError {
    /// Only ever reached by value, through `into_panic`.
    payload: Box<dyn Any + Send>,
    /// The payload's text, when it is a `&str` or a `String`, as `panic!`
    /// makes them.
    message: Option<String>,
}

/// A `TaskError` never hands out a reference to its payload, only the
/// payload itself through `into_panic(self)`, and its other field is a
/// `String`; so sharing `&TaskError` between threads shares nothing that
/// is not `Sync`. This lets it travel in `Box<dyn Error + Send + Sync>`.
// SAFETY: see the doc comment above.
unsafe impl Sync for TaskError {}

impl TaskError {
    /// Wraps a panic payload as caught by `catch_unwind`.
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((*s).to_owned())
        } else {
            payload.downcast_ref::<String>().cloned()
        };
        Self { payload, message }
    }

    /// The panic's payload, as `std::thread::JoinHandle::join` would return
    /// it; pass it to [`std::panic::resume_unwind`] to re-raise the panic.
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        self.payload
    }

    /// The panic message, when the payload is a string (as `panic!` makes).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskError")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "task panicked: {message}"),
            None => f.write_str("task panicked"),
        }
    }
}

impl Error for TaskError {}
