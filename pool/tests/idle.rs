//! An idle pool sleeps: its workers use no CPU while there is no work.
//!
//! This file holds one test so that it runs alone in its process: it
//! measures the whole process's CPU time, which other tests running in
//! parallel would add to, and only where the OS tells it.
#![cfg(not(loom))]

mod common;

use std::thread;
use std::time::Duration;

use weft_pool::Pool;
use weft_testkit::Watchdog;

use common::HANG;

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read the process's CPU time")]
fn an_idle_pool_uses_no_cpu() {
    let _watchdog = Watchdog::new("an_idle_pool_uses_no_cpu", HANG);
    let pool = Pool::new(4);
    // Start every worker and give it work once, then let it spin out and
    // fall asleep.
    assert_eq!(pool.map(|x: u64| x + 1, 0..1000).len(), 1000);
    thread::sleep(Duration::from_millis(50));

    let Some(before) = weft_testkit::process_cpu_time() else {
        return;
    };
    thread::sleep(Duration::from_millis(300));
    let used = weft_testkit::process_cpu_time().unwrap() - before;
    // One spinning worker alone would use about 300 ms.
    assert!(
        used < Duration::from_millis(15),
        "a pool idle for 300 ms used {used:?} of CPU: its workers do not sleep"
    );

    // And the sleeping workers wake up for new work.
    assert_eq!(pool.map(|x: u64| x * 2, 0..100)[99], 198);
}
