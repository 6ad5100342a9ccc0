//! Crash safety: herald killed with SIGKILL in the middle of a dispatch, then run again. Every
//! organisation ends with exactly one message, except the letters whose final `.` was in flight
//! at the kill, which are reported `uncertain` (at most one per session) and received at most
//! one; none twice, none silently missing. Letters claimed ahead and never offered go back to be
//! sent. After a restart of the machine (a new boot identity) every letter left `sending` is
//! `uncertain`: the end-of-data marks that tell them apart are not synced to disk.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::faults::{per_address, Fixture, Org, WAIT};
use crate::support::smtp::{Fault, Script, SmtpServer};

const ORGANIZATIONS: usize = 60;
const CONCURRENCY: usize = 4;

#[test]
fn a_dispatch_killed_mid_run_and_run_again_delivers_each_letter_once_or_reports_it_uncertain() {
    // Claimed ahead up to the shipped `max_sending` (16), yet at most one letter per session has
    // its end of data in flight.
    killed_mid_run(None, CONCURRENCY);
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
        assert!(
            last.reply.contains("end-of-data mark found"),
            "{org}: {events:?}"
        );
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

/// Kills in all, over as many workspaces as it takes.
const KILLS: usize = 100;
/// Kills per workspace at most, before a last run sends the rest.
const KILLS_PER_WORKSPACE: usize = 10;
const LETTERS_PER_WORKSPACE: usize = 40;

/// What the kills came to.
#[derive(Debug, Default)]
struct Totals {
    kills: usize,
    /// Letters reported `uncertain` after a kill.
    uncertain: usize,
    /// Of those, the letters whose final `.` the server read.
    uncertain_ended: usize,
    /// Letters a kill left `sending` that went back to be sent (recovery events).
    given_back: usize,
}

#[test]
fn killed_at_a_hundred_random_moments_only_letters_whose_final_dot_was_in_flight_are_uncertain() {
    // Seeded: the same kill moments (relative to what the server saw) on every run.
    let mut rng = fastrand::Rng::with_seed(14);
    let mut totals = Totals::default();
    let mut workspace = 0;
    while totals.kills < KILLS {
        let concurrency = 1 + workspace % 8;
        workspace += 1;
        let left = (KILLS - totals.kills).min(KILLS_PER_WORKSPACE);
        kill_and_dispatch_again(&mut rng, concurrency, left, &mut totals);
    }
    eprintln!(
        "{} kills over {workspace} workspaces: {} letters uncertain, of which {} had their final \
         `.` read by the server; {} letters left `sending` went back to be sent",
        totals.kills, totals.uncertain, totals.uncertain_ended, totals.given_back
    );
    assert_eq!(totals.kills, KILLS);
}

/// Dispatches one statement again and again, each run killed at a random moment (up to `kills`
/// times, or until a run finishes first), then once more to the end; checks what the server
/// received against the journal.
fn kill_and_dispatch_again(
    rng: &mut fastrand::Rng,
    concurrency: usize,
    kills: usize,
    totals: &mut Totals,
) {
    // Every reply after a `.` comes 25 ms late: a kill often catches letters waiting for it.
    let server = SmtpServer::start(Script::new().delay_after_end(Duration::from_millis(25)));
    let fx = Fixture::new((1..=LETTERS_PER_WORKSPACE).map(Org::numbered).collect());
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("delivery", "concurrency", concurrency as i64);
    let statement = fx.statement.display().to_string();
    // Addresses whose data began in a run that was killed: the only ones that may be uncertain.
    let mut receiving: HashSet<String> = HashSet::new();
    let mut killed = 0;
    while killed < kills {
        let started_before = server.data_started().len();
        // The moment: after 0 to 2 more ends of data, then 0 to 30 ms more.
        let target = server.data_ended().len() + rng.usize(0..=2);
        let pause = Duration::from_millis(rng.u64(0..=30));
        let mut run = fx.ws.herald(["dispatch", &statement, "--yes"]).spawn();
        let deadline = Instant::now() + WAIT;
        let mut finished = false;
        while !server.ends_reach(target, Duration::from_millis(5)) {
            if run.wait_timeout(Duration::from_millis(1)).is_some() {
                finished = true;
                break;
            }
            assert!(Instant::now() < deadline, "no end of data within {WAIT:?}");
        }
        if !finished {
            std::thread::sleep(pause);
            run.kill();
        }
        let out = run.wait();
        // Everything the dead process wrote is read before anything is counted.
        server.wait_idle(WAIT);
        if out.status != 128 + 9 {
            // It finished before the moment came: nothing is left to interrupt here.
            assert!(out.status == 0 || out.status == 1, "{out:?}");
            break;
        }
        killed += 1;
        for rcpts in &server.data_started()[started_before..] {
            receiving.extend(rcpts.iter().cloned());
        }
    }
    fx.dispatch(&[]);
    server.wait_idle(WAIT);

    let received = per_address(&server);
    let ended: HashSet<String> = server.data_ended().into_iter().flatten().collect();
    let states = fx.states();
    let mut uncertain = 0;
    for org in &fx.orgs {
        let address = &org.emails[0];
        let count = received.get(address).copied().unwrap_or(0);
        match states[&org.id].as_str() {
            "sent" => assert_eq!(count, 1, "{}: sent, and received {count} times", org.id),
            "uncertain" => {
                uncertain += 1;
                assert!(count <= 1, "{}: uncertain, received {count} times", org.id);
                assert!(
                    receiving.contains(address),
                    "{} is uncertain, but the server never began to receive it while herald \
                     was killed (concurrency {concurrency})",
                    org.id
                );
                if ended.contains(address) {
                    totals.uncertain_ended += 1;
                }
            }
            // Lost: neither sent nor reported.
            other => panic!("{} ended `{other}` (concurrency {concurrency})", org.id),
        }
    }
    assert!(
        uncertain <= killed * concurrency,
        "{uncertain} uncertain after {killed} kills at concurrency {concurrency}"
    );
    let given_back: i64 = fx
        .ws
        .journal()
        .query_row(
            "SELECT count(*) FROM events WHERE from_state = 'sending' AND to_state != 'uncertain' \
             AND json_extract(detail, '$.recovery') LIKE 'never reached the server''s end of data%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    fx.ws.run(["verify"]).assert_success();
    totals.kills += killed;
    totals.uncertain += uncertain;
    totals.given_back += usize::try_from(given_back).unwrap_or(0);
}

/// Kills a dispatch whose first two letters wait forever for the server's answer to their `.`
/// while the session claims ahead, then dispatches again with boot identity `then` and `now`.
/// Returns the letters the kill left `sending`, the two whose `.` went out, and the fixture.
fn left_sending_across_boots(
    then: &str,
    now: &str,
) -> (Vec<String>, Vec<String>, Fixture, SmtpServer) {
    let server = SmtpServer::start(Script::new().on_data_end_first(2, Fault::Stall));
    let fx = Fixture::new((1..=12).map(Org::numbered).collect());
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("delivery", "concurrency", 2)
        .set("delivery", "max_sending", 8);
    let statement = fx.statement.display().to_string();
    let mut first = fx
        .ws
        .herald(["dispatch", &statement, "--yes"])
        .env("HERALD_TEST_BOOT_ID", then)
        .spawn();
    let stalled: Vec<String> = server
        .wait_for_dropped(2, WAIT)
        .into_iter()
        .flat_map(|m| m.rcpt_to)
        .collect();
    first.kill();
    first.wait();
    let mut sending: Vec<String> = fx
        .states()
        .into_iter()
        .filter(|(_, s)| s == "sending")
        .map(|(org, _)| org)
        .collect();
    sending.sort();
    assert!(
        sending.len() > stalled.len(),
        "letters were claimed ahead: {sending:?}, stalled {stalled:?}"
    );
    fx.ws
        .herald(["dispatch", &statement, "--yes"])
        .env("HERALD_TEST_BOOT_ID", now)
        .run();
    (sending, stalled, fx, server)
}

#[test]
fn after_a_restart_of_the_machine_every_letter_left_sending_is_uncertain() {
    let (sending, _, fx, server) = left_sending_across_boots("boot-before", "boot-after");
    let received = per_address(&server);
    for (org, state) in fx.states() {
        let count = received.get(&format!("office@{org}.example")).copied();
        if sending.contains(&org) {
            assert_eq!(state, "uncertain", "{org}");
            let events = fx.outcomes(&org);
            let reply = &events.last().expect("an event").reply;
            assert!(
                reply.contains("the machine restarted") && reply.contains("boot-before"),
                "{org}: {reply}"
            );
            assert_eq!(count, None, "{org} is not sent again");
        } else {
            assert_eq!((state.as_str(), count), ("sent", Some(1)), "{org}");
        }
    }
    // `history` shows the rule that decided.
    let history = fx.history("uncertain");
    assert_eq!(history.len(), sending.len());
    assert!(history.iter().all(|row| row["smtp_reply"]
        .as_str()
        .is_some_and(|r| r.contains("the machine restarted"))));
}

#[test]
fn in_the_same_boot_letters_claimed_ahead_and_never_offered_are_sent_normally() {
    let (sending, stalled, fx, server) = left_sending_across_boots("boot-same", "boot-same");
    let received = per_address(&server);
    for (org, state) in fx.states() {
        let address = format!("office@{org}.example");
        let count = received.get(&address).copied();
        if stalled.contains(&address) {
            // Its `.` went out and the answer never came: it may have arrived.
            assert_eq!(state, "uncertain", "{org}");
            let events = fx.outcomes(&org);
            let reply = &events.last().expect("an event").reply;
            assert!(reply.contains("end-of-data mark found"), "{org}: {reply}");
        } else {
            assert_eq!((state.as_str(), count), ("sent", Some(1)), "{org}");
        }
        if sending.contains(&org) && !stalled.contains(&address) {
            // Given back first, saying why, then sent.
            let events = fx.outcomes(&org);
            assert!(
                events.iter().any(|e| e.state == "pending"
                    && e.reply
                        .starts_with("never reached the server's end of data")),
                "{org}: {events:?}"
            );
        }
    }
    let history = fx.history("uncertain");
    assert_eq!(history.len(), stalled.len(), "{history:?}");
    // With no letter `sending` any more, the marks are emptied: the file does not grow forever.
    let marks = fx.ws.data_dir().join("herald.marks");
    assert_eq!(std::fs::metadata(&marks).map(|m| m.len()).ok(), Some(0));
}
