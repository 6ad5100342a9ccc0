//! Crash safety: herald killed with SIGKILL in the middle of a dispatch, then run again. Every
//! organisation ends with exactly one message, except the letters in flight at the kill, which are
//! reported `uncertain` (at most `[delivery] max_sending` of them, or one per session if that is
//! more) and received at most one; none twice, none silently missing.

use std::collections::HashMap;
use std::time::Duration;

use crate::faults::{per_address, Fixture, Org, WAIT};
use crate::support::smtp::{Script, SmtpServer};

const ORGANIZATIONS: usize = 60;
const CONCURRENCY: usize = 4;

/// The shipped `max_sending`: letters claimed ahead, `sending` at once over all sessions.
const SHIPPED_MAX_SENDING: usize = 16;

#[test]
fn a_dispatch_killed_mid_run_and_run_again_delivers_each_letter_once_or_reports_it_uncertain() {
    killed_mid_run(None, SHIPPED_MAX_SENDING);
}

#[test]
fn with_max_sending_at_one_per_session_a_kill_leaves_at_most_one_uncertain_letter_per_session() {
    killed_mid_run(Some(CONCURRENCY), CONCURRENCY);
}

fn killed_mid_run(max_sending: Option<usize>, bound: usize) {
    // 40 ms per reply: each letter takes about 0.16 s, the whole run a few seconds.
    let server = SmtpServer::start(Script::new().delay(Duration::from_millis(40)));
    let fx = Fixture::new((1..=ORGANIZATIONS).map(Org::numbered).collect());
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("delivery", "concurrency", CONCURRENCY as i64);
    if let Some(max) = max_sending {
        fx.set("delivery", "max_sending", max as i64);
    }

    let mut first = fx
        .ws
        .herald(["dispatch", &fx.statement.display().to_string(), "--yes"])
        .spawn();
    server.wait_for(10, WAIT);
    first.kill();
    let killed = first.wait();
    assert_eq!(killed.status, 128 + 9, "killed, not finished: {killed:?}");
    let before = server.messages().len();
    assert!(
        before < ORGANIZATIONS,
        "the kill came mid-run ({before} delivered)"
    );

    let second = fx.dispatch(&[]);
    // Exit 1 if a letter was left uncertain, 0 if the kill caught none in flight.
    let states = fx.states();
    let uncertain: Vec<&String> = states
        .iter()
        .filter(|(_, s)| *s == "uncertain")
        .map(|(org, _)| org)
        .collect();
    eprintln!("uncertain after the kill: {uncertain:?}, {before} before");
    let expected_status = if uncertain.is_empty() { 0 } else { 1 };
    second.assert_code(expected_status);
    assert!(
        uncertain.len() <= bound,
        "at most {bound} uncertain letters: {uncertain:?}"
    );
    for org in &uncertain {
        assert!(
            second.stdout.contains(&format!("uncertain {org}")),
            "{org} is reported:\n{}",
            second.stdout
        );
    }

    let counts: HashMap<String, usize> = per_address(&server);
    for org in &fx.orgs {
        let address = &org.emails[0];
        let received = counts.get(address).copied().unwrap_or(0);
        let state = &states[&org.id];
        match state.as_str() {
            "sent" => assert_eq!(received, 1, "{}: sent exactly once", org.id),
            "uncertain" => assert!(received <= 1, "{}: uncertain, got {received}", org.id),
            other => panic!("{} ended `{other}` with {received} messages", org.id),
        }
    }
    assert!(
        counts.values().all(|n| *n == 1),
        "nobody received a letter twice: {counts:?}"
    );
    // The letters interrupted at the kill carry their reason in the journal.
    for org in &uncertain {
        let events = fx.outcomes(org);
        let last = events.last().expect("an event");
        assert!(last.reply.contains("herald stopped"), "{org}: {events:?}");
    }
}

#[test]
fn a_letter_waiting_for_the_rate_limit_is_not_claimed_so_a_kill_leaves_it_pending() {
    // One message a second, four workers: at any moment three of them wait for a slot. Killed
    // then, only a letter whose transaction had begun may be reported uncertain; the others were
    // never offered to the server and must simply be sent by the next run.
    let server = SmtpServer::start(Script::new());
    let fx = Fixture::new((1..=8).map(Org::numbered).collect());
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("delivery", "concurrency", CONCURRENCY as i64)
        .set("delivery", "rate_per_minute", 60);
    let mut first = fx
        .ws
        .herald(["dispatch", &fx.statement.display().to_string(), "--yes"])
        .spawn();
    server.wait_for(2, WAIT);
    first.kill();
    first.wait();

    let offered: Vec<String> = server
        .commands()
        .iter()
        .filter_map(|(_, c)| c.strip_prefix("RCPT TO:<"))
        .map(|a| a.trim_end_matches('>').to_owned())
        .collect();
    let states = fx.states();
    for (org, state) in &states {
        if state == "uncertain" || state == "sending" {
            assert!(
                offered.contains(&format!("office@{org}.example")),
                "{org} is `{state}` but the server never saw it: {states:?}"
            );
        }
    }

    fx.dispatch(&[]);
    let counts = per_address(&server);
    for (org, state) in fx.states() {
        let received = counts.get(&format!("office@{org}.example")).copied();
        match state.as_str() {
            "sent" => assert_eq!(received, Some(1), "{org}"),
            "uncertain" => assert!(received <= Some(1), "{org}"),
            other => panic!("{org} ended `{other}`"),
        }
    }
}

#[test]
fn a_dispatch_stopped_with_ctrl_c_gives_back_the_letters_it_claimed_ahead() {
    // One session claiming up to 16 letters ahead, 20 ms per reply: stopped after a few letters,
    // most of its claimed letters were never offered to the server.
    let server = SmtpServer::start(Script::new().delay(Duration::from_millis(20)));
    let fx = Fixture::new((1..=40).map(Org::numbered).collect());
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("delivery", "concurrency", 1)
        .set("delivery", "max_sending", 16);
    let mut first = fx
        .ws
        .herald(["dispatch", &fx.statement.display().to_string(), "--yes"])
        .spawn();
    server.wait_for(3, WAIT);
    first.signal(rustix::process::Signal::INT);
    let stopped = first.wait();
    assert_eq!(
        stopped.status, 1,
        "stopped, not everything sent: {stopped:?}"
    );

    // Nothing is left `sending` or `uncertain`: what was offered is recorded, the rest is
    // pending again, and the journal says which claims were given back.
    let states = fx.states();
    let received = server.messages().len();
    let sent = states.values().filter(|s| *s == "sent").count();
    assert_eq!(sent, received, "{states:?}");
    assert!(
        states.values().all(|s| s == "sent" || s == "pending"),
        "{states:?}"
    );
    let released: i64 = fx
        .ws
        .journal()
        .query_row(
            "SELECT count(*) FROM events WHERE from_state = 'sending' AND to_state = 'pending' \
             AND detail LIKE '%\"released\"%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    // At most `max_sending` were claimed at once, so at most that many given back.
    assert!(
        (1..=16).contains(&released),
        "{released} claims given back: {states:?}"
    );
    fx.ws.run(["verify"]).assert_success();

    // The next run sends every letter not yet sent, each once.
    fx.dispatch(&[]).assert_success();
    let counts = per_address(&server);
    assert_eq!(counts.len(), 40);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert!(fx.states().values().all(|s| s == "sent"));
    fx.ws.run(["verify"]).assert_success();
}
