//! The thread-based algorithms: `increment_counter`, producer–consumer and
//! the dining philosophers.
#![cfg(not(loom))]

mod common;

use common::{cases, iterations};
use weft_algorithms::philosophers::{self, chopsticks};
use weft_algorithms::{increment_counter, producer_consumer};

#[test]
fn counter_is_exact() {
    let increments = iterations(20_000, 20);
    for threads in cases(&[0, 1, 2, 5, 8], &[0, 3]) {
        assert_eq!(
            increment_counter(threads, increments),
            (threads * increments) as u64,
            "{threads} threads"
        );
    }
    assert_eq!(increment_counter(3, 0), 0);
}

/// Checks one report against its configuration.
fn assert_exact(
    report: &producer_consumer::Report,
    producers: usize,
    consumers: usize,
    items: usize,
) {
    let what = format!("{producers} producers, {consumers} consumers, {items} items each");
    assert_eq!(report.produced, producers * items, "{what}");
    assert_eq!(report.consumed, producers * items, "{what}");
    assert_eq!(report.lost, 0, "{what}");
    assert_eq!(report.duplicated, 0, "{what}");
    assert!(report.in_order_per_producer, "{what}");
    assert_eq!(report.per_consumer.len(), consumers, "{what}");
    assert_eq!(
        report.per_consumer.iter().sum::<usize>(),
        report.consumed,
        "{what}"
    );
    assert!(report.is_exact());
}

/// `(producers, consumers)` to try.
fn shapes() -> Vec<(usize, usize)> {
    cases(
        &[(1, 1), (1, 4), (4, 1), (3, 2), (2, 3), (4, 4), (0, 2)],
        &[(3, 2), (0, 2)],
    )
}

#[test]
fn queue_moves_everything_once_in_order() {
    // More items than the queue holds, so producers wait for room.
    let items = iterations(5_000, 8);
    for (producers, consumers) in shapes() {
        let report = producer_consumer::run(producers, consumers, items);
        assert_exact(&report, producers, consumers, items);
    }
    assert_exact(&producer_consumer::run(3, 2, 0), 3, 2, 0);
}

#[test]
fn semaphore_version_moves_everything_once_in_order() {
    let items = iterations(5_000, 8);
    for (producers, consumers) in shapes() {
        let report = producer_consumer::run_with_semaphore(producers, consumers, items);
        assert_exact(&report, producers, consumers, items);
    }
    assert_exact(&producer_consumer::run_with_semaphore(3, 2, 0), 3, 2, 0);
}

#[test]
fn a_lone_consumer_sees_each_producer_in_order() {
    // With one consumer, per-producer FIFO is the whole story: it gets
    // every producer's items in exactly the order they were made.
    let items = iterations(2_000, 6);
    let report = producer_consumer::run(4, 1, items);
    assert_exact(&report, 4, 1, items);
    let report = producer_consumer::run_with_semaphore(4, 1, items);
    assert_exact(&report, 4, 1, items);
}

#[test]
#[should_panic(expected = "there is no consumer")]
fn producers_without_consumers_panic() {
    producer_consumer::run(2, 0, 10);
}

#[test]
#[should_panic(expected = "there is no consumer")]
fn semaphore_producers_without_consumers_panic() {
    producer_consumer::run_with_semaphore(1, 0, 1);
}

#[test]
fn nothing_to_produce_needs_no_consumer() {
    assert_exact(&producer_consumer::run(0, 0, 10), 0, 0, 10);
    assert_exact(&producer_consumer::run_with_semaphore(2, 0, 0), 2, 0, 0);
}

/// Checks a dinner: every philosopher ate every meal, no two neighbours
/// ate together, and the waits are consistent.
fn assert_dinner(report: &philosophers::Report, n: usize, meals: usize) {
    assert_eq!(report.meals, vec![meals; n]);
    assert_eq!(report.neighbours_ate_together, 0);
    assert_eq!(report.longest_wait_per_philosopher.len(), n);
    assert_eq!(
        report
            .longest_wait_per_philosopher
            .iter()
            .max()
            .copied()
            .unwrap_or_default(),
        report.longest_wait
    );
    assert!(report.longest_wait <= report.elapsed);
}

#[test]
fn five_philosophers_finish() {
    let meals = iterations(1000, 10);
    assert_dinner(&philosophers::dine(5, meals), 5, meals);
}

#[test]
fn fifty_philosophers_finish() {
    let (n, meals) = (iterations(50, 8), iterations(1000, 4));
    assert_dinner(&philosophers::dine(n, meals), n, meals);
}

#[test]
fn small_tables() {
    let meals = iterations(500, 5);
    assert_dinner(&philosophers::dine(2, meals), 2, meals);
    assert_dinner(&philosophers::dine(3, meals), 3, meals);
    assert_dinner(&philosophers::dine(0, 10), 0, 10);
    assert_dinner(&philosophers::dine(4, 0), 4, 0);
}

#[test]
#[should_panic(expected = "a lone philosopher")]
fn a_lone_philosopher_panics() {
    philosophers::dine(1, 1);
}

#[test]
fn chopstick_order_rules_out_a_cycle() {
    for n in 2..iterations(40, 8) {
        for i in 0..n {
            let (first, second) = chopsticks(i, n);
            assert!(
                first < second,
                "philosopher {i} of {n} takes {first} then {second}"
            );
            // Its two chopsticks are the ones beside it.
            let mut beside = [i, (i + 1) % n];
            beside.sort_unstable();
            assert_eq!([first, second], beside);
        }
        // Exactly one philosopher (the last) goes against the others'
        // direction, which breaks the circle of "holds i, waits for i+1".
        let against = (0..n).filter(|&i| chopsticks(i, n).0 != i).count();
        assert_eq!(against, 1, "{n} philosophers");
    }
}

#[test]
#[should_panic(expected = "does not sit at a table of 5")]
fn chopsticks_of_a_stranger_panic() {
    chopsticks(5, 5);
}
