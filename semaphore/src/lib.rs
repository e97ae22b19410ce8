//! A counting semaphore on a futex word. (under construction)
