//! A lock-free MPMC queue with futex blocking, and bounded, unbounded and rendezvous channels over it. (under construction)
