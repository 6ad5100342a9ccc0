//! Concurrency and rate, measured at the server: `concurrency` bounds the transactions in flight,
//! and `rate_per_minute` is one smooth limit shared by every worker.

use std::time::{Duration, Instant};

use crate::faults::{Fixture, Org, WAIT};
use crate::support::smtp::{Script, SmtpServer};

#[test]
fn at_600_a_minute_with_8_workers_no_second_carries_more_than_11_messages() {
    let server = SmtpServer::start(Script::new());
    let fx = Fixture::new((1..=40).map(Org::numbered).collect());
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("delivery", "concurrency", 8)
        .set("delivery", "rate_per_minute", 600);
    fx.dispatch(&[]).assert_success();
    let mut arrivals: Vec<Instant> = server
        .wait_for(40, WAIT)
        .iter()
        .map(|m| m.arrived_at)
        .collect();
    assert_eq!(arrivals.len(), 40);
    arrivals.sort();
    let mut busiest = 0;
    for (i, start) in arrivals.iter().enumerate() {
        let in_window = arrivals[i..]
            .iter()
            .take_while(|t| **t - *start < Duration::from_secs(1))
            .count();
        busiest = busiest.max(in_window);
    }
    assert!(busiest <= 11, "{busiest} messages within one second");
    // The limit paces, it does not stall: 40 slots 0.1 s apart take about 3.9 s.
    let span = arrivals[39] - arrivals[0];
    assert!(span >= Duration::from_millis(3500), "{span:?}");
    assert!(span < Duration::from_secs(10), "{span:?}");
}

#[test]
fn concurrency_bounds_the_transactions_the_server_sees_at_once() {
    // Slow replies make every transaction long, so the workers overlap as much as they can.
    let server = SmtpServer::start(Script::new().delay(Duration::from_millis(50)));
    let fx = Fixture::new((1..=24).map(Org::numbered).collect());
    fx.smtp(server.port(), 5, 0.05, 0.2)
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
