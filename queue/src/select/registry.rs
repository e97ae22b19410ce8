//! The entries of the threads selecting on one side of a queue: those
//! waiting for a value (registered with *not empty*) or for room
//! (*not full*).
//!
//! A queue that notifies its side claims one selector and wakes every
//! watcher (see [`Entry::watch`]); closing claims them all. A claimed
//! selector does not stay in the list for long: its thread removes every
//! entry it registered as soon as it wakes, so the queue only skips it
//! meanwhile.

use super::context::{Context, Entry};

/// The selectors and watchers of one side of a queue.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn register(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Removes the entry of `cx` for `op`, if it is still there.
    pub(crate) fn unregister(&mut self, cx: &Context, op: u32) {
        if let Some(i) = self.entries.iter().position(|e| e.op == op && e.cx.is(cx)) {
            self.entries.swap_remove(i);
        }
    }

    /// Claims and wakes every watcher, and one selector, or every selector
    /// if `all`. Returns whether a selector was claimed.
    ///
    /// One selector is enough for one new value (or one free slot): the
    /// claimed thread tries that operation first when it wakes, and if
    /// another thread took the value meanwhile, that thread is the one the
    /// value served.
    pub(crate) fn notify(&mut self, all: bool) -> bool {
        let mut claimed = false;
        for entry in &self.entries {
            if (entry.watch || all || !claimed)
                && entry.cx.is_waiting()
                && entry.cx.try_claim(entry.op)
            {
                entry.cx.wake();
                claimed |= !entry.watch;
            }
        }
        claimed
    }
}
