//! Concurrency and rate, measured at the server: `concurrency` bounds the transactions in flight,
//! and `rate_per_minute` is one smooth limit shared by every worker.
//!
//! Nothing here depends on how fast the machine is. A slow machine only delays a letter after its
//! rate-limit slot, never before it, so the rate is checked from below: the slots are at least
//! `60 / rate` seconds apart and the first is no earlier than herald's start, so the k-th letter
//! to arrive (from 0) arrives no earlier than k slots after the test started herald. That is the
//! strongest statement arrival times allow; the limiter's own schedule (no burst, no stall) is
//! checked exactly on a paused clock in `src/delivery/rate.rs`. Overlap is not hoped for either:
//! the server holds its first answer until a second transaction is open.

use std::time::{Duration, Instant};

use crate::faults::{Fixture, Org, WAIT};
use crate::support::smtp::{Fault, Script, SmtpServer, Stage, Times};

#[test]
fn at_600_a_minute_with_8_workers_no_letter_arrives_before_its_slot() {
    let server = SmtpServer::start(Script::new());
    let fx = Fixture::new((1..=40).map(Org::numbered).collect());
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("delivery", "concurrency", 8)
        .set("delivery", "rate_per_minute", 600);
    // Before herald starts, so before its first slot.
    let started = Instant::now();
    fx.dispatch(&[]).assert_success();
    let mut arrivals: Vec<Duration> = server
        .wait_for(40, WAIT)
        .iter()
        .map(|m| m.arrived_at.saturating_duration_since(started))
        .collect();
    assert_eq!(arrivals.len(), 40);

    arrivals.sort();
    // One slot every 100 ms for all workers together: eight workers with a limit each would
    // bring the 40th letter in after about 0.5 s instead of 3.9 s, a burst brings some early.
    let slot = Duration::from_millis(100);
    for (k, arrived) in arrivals.iter().enumerate() {
        let earliest = slot * u32::try_from(k).expect("40 letters");
        assert!(
            *arrived >= earliest,
            "letter {k} arrived {arrived:?} after the start, before its slot at {earliest:?}: \
             {arrivals:?}"
        );
    }
}

#[test]
fn concurrency_bounds_the_transactions_the_server_sees_at_once() {
    // Slow replies make every transaction long, so the workers overlap as much as they can; the
    // first message is answered only once a second transaction is open, which side-by-side
    // workers bring about and a single one never would (it would time out instead).
    let server = SmtpServer::start(Script::new().delay(Duration::from_millis(50)).rule(
        Stage::DataEnd,
        None,
        Times::Nth(1),
        Fault::HoldUntilTransactions(2),
    ));
    let fx = Fixture::new((1..=24).map(Org::numbered).collect());
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("smtp", "timeout_secs", 30)
        .set("delivery", "concurrency", 3);
    fx.dispatch(&[]).assert_success();
    assert_eq!(server.wait_for(24, WAIT).len(), 24);
    let transactions = server.max_simultaneous_transactions();
    let connections = server.max_open_connections();
    assert!(transactions <= 3, "{transactions} transactions at once");
    assert!(connections <= 3, "{connections} connections at once");
    // And the workers really do run side by side.
    assert!(transactions >= 2, "{transactions}");
}
