//! The receivers that no sender feeds: [`after`], [`at`], [`tick`] and
//! [`never`], with crossbeam-channel's semantics.
//!
//! Their messages are made when they are received: an `after` or `at`
//! receiver holds one instant, delivered once when the time has come, and
//! is then empty for good; a `tick` receiver holds the next delivery time,
//! which every delivery moves one period past the time of the delivery (so
//! ticks missed while nobody received are not queued up); a `never`
//! receiver holds nothing. None of them ever disconnects.
//!
//! Nothing wakes a thread that waits on them: a blocking receive sleeps
//! until the delivery time (or its own deadline), and a select sleeps until
//! the earliest delivery time among its timers, which
//! [`Timer::deadline`] tells it.
//!
//! A timer's channel is generic like any other (`Receiver<T>`), but only
//! ever made with `T = Instant`; the `message` function, the identity,
//! turns the delivery time into a `T` without naming that type.

use std::time::{Duration, Instant};

use weft_futex::Deadline;
use weft_futex::atomic::AtomicBool;
use weft_mutex::Mutex;

use crate::channel::{Channel, Flavor, Receiver};
use crate::{RecvTimeoutError, TryRecvError};

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

/// The channel of an [`after`], [`at`] or [`tick`] receiver.
pub(crate) struct Timer<T> {
    kind: Kind,
    /// Makes the message from its delivery time.
    message: fn(Instant) -> T,
}

enum Kind {
    /// One message, due at `at`.
    Once { at: Instant, taken: AtomicBool },
    /// A message due at `next`, then every `period`.
    Every {
        next: Mutex<Instant>,
        period: Duration,
    },
}

/// A receiver that delivers one message, the instant it was due, once
/// `duration` has passed; after that it is empty forever. It never
/// disconnects.
///
/// A `duration` too long to add to the current time gives a [`never`](never())
/// receiver.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use weft_queue::{after, select, unbounded};
///
/// let (_tx, rx) = unbounded::<i32>();
/// let start = Instant::now();
/// let timeout = after(Duration::from_millis(20));
/// select! {
///     recv(rx) -> _ => panic!("nothing is sent"),
///     recv(timeout) -> due => assert!(due.unwrap() >= start),
/// }
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// assert!(timeout.try_recv().is_err(), "one message only");
/// ```
pub fn after(duration: Duration) -> Receiver<Instant> {
    match Instant::now().checked_add(duration) {
        Some(when) => at(when),
        None => never(),
    }
}

/// A receiver that delivers one message, `when`, once that instant has
/// come; after that it is empty forever. It never disconnects.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let when = Instant::now() + Duration::from_millis(10);
/// let rx = weft_queue::at(when);
/// assert_eq!(rx.recv(), Ok(when));
/// assert!(Instant::now() >= when);
/// ```
pub fn at(when: Instant) -> Receiver<Instant> {
    timer(Kind::Once {
        at: when,
        taken: AtomicBool::new(false),
    })
}

/// A receiver that delivers a message every `duration`: the instant the
/// message was due. The first is due `duration` from now; each delivery
/// makes the next one due `duration` after the later of its due time and
/// the time it was received, so ticks missed while nobody received are not
/// made up for. It never disconnects.
///
/// A `duration` too long to add to the current time gives a [`never`](never())
/// receiver.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let period = Duration::from_millis(10);
/// let start = Instant::now();
/// let ticks = weft_queue::tick(period);
/// let first = ticks.recv().unwrap();
/// let second = ticks.recv().unwrap();
/// assert!(first >= start + period);
/// assert!(second >= first + period);
/// ```
pub fn tick(duration: Duration) -> Receiver<Instant> {
    match Instant::now().checked_add(duration) {
        Some(next) => timer(Kind::Every {
            next: Mutex::new(next),
            period: duration,
        }),
        None => never(),
    }
}

/// A receiver that never delivers a message and never disconnects: a
/// placeholder for an operation that should never be chosen, such as an
/// optional channel in a [`select!`](crate::select!).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_queue::{never, select, unbounded, Receiver};
///
/// let (tx, rx) = unbounded();
/// tx.send(1).unwrap();
/// let optional: Option<&Receiver<i32>> = None;
/// select! {
///     recv(optional.unwrap_or(&never())) -> _ => panic!("never ready"),
///     recv(rx) -> msg => assert_eq!(msg, Ok(1)),
/// }
/// assert!(never::<i32>().recv_timeout(Duration::from_millis(1)).is_err());
/// ```
pub fn never<T>() -> Receiver<T> {
    Receiver::new(Channel::new(Flavor::Never))
}

fn timer(kind: Kind) -> Receiver<Instant> {
    Receiver::new(Channel::new(Flavor::Timer(Timer {
        kind,
        message: |due| due,
    })))
}

impl<T> Timer<T> {
    /// Takes the message if it is due; `Empty` otherwise.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let now = Instant::now();
        let due = match &self.kind {
            Kind::Once { at, taken } => {
                // Relaxed: only a shortcut; the swap decides.
                if taken.load(Relaxed) || now < *at {
                    return Err(TryRecvError::Empty);
                }
                // SeqCst: the one swap that takes the message; nothing else
                // is published with it.
                if taken.swap(true, SeqCst) {
                    return Err(TryRecvError::Empty);
                }
                *at
            }
            Kind::Every { next, period } => {
                let mut next = next.lock();
                if now < *next {
                    return Err(TryRecvError::Empty);
                }
                let due = *next;
                *next = later(now, *period);
                due
            }
        };
        Ok((self.message)(due))
    }

    /// Waits for the message until `deadline`.
    pub(crate) fn recv(&self, deadline: Deadline) -> Result<T, RecvTimeoutError> {
        let due = match &self.kind {
            Kind::Once { at, taken } => {
                // Relaxed: only a shortcut; the swap decides.
                if !taken.load(Relaxed) && sleep_until(Deadline::at(*at), deadline) {
                    // SeqCst: as in `try_recv`.
                    if !taken.swap(true, SeqCst) {
                        return Ok((self.message)(*at));
                    }
                }
                sleep_until(deadline, Deadline::NEVER);
                return Err(RecvTimeoutError::Timeout);
            }
            Kind::Every { next, period } => {
                let mut next = next.lock();
                let due = *next;
                if deadline.instant().is_some_and(|end| end < due) {
                    drop(next);
                    sleep_until(deadline, Deadline::NEVER);
                    return Err(RecvTimeoutError::Timeout);
                }
                *next = later(due.max(Instant::now()), *period);
                due
            }
        };
        sleep_until(Deadline::at(due), Deadline::NEVER);
        Ok((self.message)(due))
    }

    /// When the next message is due, unless there will be none.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match &self.kind {
            // Relaxed: a select only learns when to look again.
            Kind::Once { at, taken } => (!taken.load(Relaxed)).then_some(*at),
            Kind::Every { next, .. } => Some(*next.lock()),
        }
    }

    /// Whether a message is due and not yet taken.
    pub(crate) fn is_ready(&self) -> bool {
        match &self.kind {
            // SeqCst: as in `try_recv`.
            Kind::Once { at, taken } => !taken.load(SeqCst) && Instant::now() >= *at,
            Kind::Every { next, .. } => Instant::now() >= *next.lock(),
        }
    }
}

/// `period` after `from`, or as far as an `Instant` reaches.
fn later(from: Instant, period: Duration) -> Instant {
    from.checked_add(period).unwrap_or(from)
}

/// Sleeps until `wanted`, unless `deadline` comes first; returns whether
/// `wanted` came. With both [`Deadline::NEVER`], sleeps forever.
pub(crate) fn sleep_until(wanted: Deadline, deadline: Deadline) -> bool {
    loop {
        let (wanted_left, deadline_left) = (wanted.remaining(), deadline.remaining());
        if wanted_left.is_some_and(|left| left.is_zero()) {
            return true;
        }
        let nap = match (wanted_left, deadline_left) {
            (_, Some(left)) if left.is_zero() => return false,
            (Some(a), Some(b)) => a.min(b),
            (Some(left), None) | (None, Some(left)) => left,
            (None, None) => Duration::from_secs(3600),
        };
        std::thread::sleep(nap);
    }
}
