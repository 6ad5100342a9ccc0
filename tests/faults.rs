//! Delivery under faults, through the real binary against the scriptable SMTP server: one test per
//! row of the README's delivery states (4xx, a stated wait, `max_attempts`, 5xx, connection
//! refused, a drop in the middle of the data, a drop after its end, stalls before and after the
//! end of data, a slow server), a partial rejection, and how a run reports what it did not send.
//!
//! The fixture here (a generated directory of organisations and a statement addressed to all of
//! them) is shared by the crash, rate and TLS suites.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::port::ReservedPort;
use crate::support::smtp::{Fault, Reply, Script, SmtpServer, Stage, Times};
use crate::support::workspace::{Output, Workspace};

/// How long a test waits for the server to see something.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// The group every generated organisation belongs to, and the phrase the statement names it by.
const GROUP_PHRASE: &str = "the test institutions";

/// One generated organisation.
#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub(crate) id: String,
    pub(crate) emails: Vec<String>,
}

impl Org {
    /// `org-07` at `office@org-07.example`.
    pub(crate) fn numbered(n: usize) -> Org {
        let id = format!("org-{n:02}");
        Org {
            emails: vec![format!("office@{id}.example")],
            id,
        }
    }

    pub(crate) fn with_emails(id: &str, emails: &[&str]) -> Org {
        Org {
            id: id.to_owned(),
            emails: emails.iter().map(|e| (*e).to_owned()).collect(),
        }
    }
}

/// A workspace whose directory holds exactly `orgs` and a statement addressed to all of them.
pub(crate) struct Fixture {
    pub(crate) ws: Workspace,
    pub(crate) statement: PathBuf,
    pub(crate) orgs: Vec<Org>,
}

impl Fixture {
    pub(crate) fn new(orgs: Vec<Org>) -> Fixture {
        Fixture::with_body(orgs, "The body of the statement, in a few words.")
    }

    /// `body` is the statement's main paragraph: a multi-megabyte one makes a message large
    /// enough that a connection reset reaches herald while it is still writing the data.
    pub(crate) fn with_body(orgs: Vec<Org>, body: &str) -> Fixture {
        let ws = Workspace::new();
        std::fs::remove_dir_all(ws.path().join("recipients")).expect("remove shipped recipients");
        let mut toml = String::new();
        for org in &orgs {
            let emails: Vec<String> = org.emails.iter().map(|e| format!("\"{e}\"")).collect();
            toml.push_str(&format!(
                "[[organization]]\nid = \"{id}\"\nname = \"Test organisation {id}\"\n\
                 emails = [{emails}]\ngroups = [\"test-institutions\"]\n\n",
                id = org.id,
                emails = emails.join(", ")
            ));
        }
        toml.push_str(&format!(
            "[[group]]\nid = \"test-institutions\"\nname = \"Test institutions\"\n\
             aliases = [\"{GROUP_PHRASE}\"]\n"
        ));
        ws.recipients("test.toml", &toml);
        let statement = ws.statement(
            "statement.txt",
            &format!(
                "Statement on delivery under faults\n\n{body}\n\nSabina Aliyeva\n\n\
                 The Commissioner for Human Rights (Ombudsman)\n\n27 May 2021\n\n\
                 This Statement is addressed to {GROUP_PHRASE}.\n"
            ),
        );
        Fixture {
            ws,
            statement,
            orgs,
        }
    }

    /// Points the transport at `port` with fast retries: backoff from `base` seconds (capped at
    /// `cap`), `max_attempts` attempts, one worker, a 5-second command timeout, no rate limit.
    pub(crate) fn smtp(&self, port: u16, max_attempts: i64, base: f64, cap: f64) -> &Fixture {
        self.ws
            .smtp(port)
            .set("smtp", "timeout_secs", 5)
            .set("delivery", "concurrency", 1)
            .set("delivery", "rate_per_minute", 0)
            .set("delivery", "max_attempts", max_attempts)
            .set("delivery", "backoff_base_secs", base)
            .set("delivery", "backoff_cap_secs", cap);
        self
    }

    pub(crate) fn set(&self, section: &str, key: &str, value: impl Into<toml::Value>) -> &Fixture {
        self.ws.set(section, key, value);
        self
    }

    /// `herald dispatch <statement> --yes [extra…]`.
    pub(crate) fn dispatch(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "dispatch".to_owned(),
            self.statement.display().to_string(),
            "--yes".to_owned(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        self.ws.run(args)
    }

    /// Each organisation's letter state, from the journal.
    pub(crate) fn states(&self) -> HashMap<String, String> {
        let db = self.ws.journal();
        let mut query = db
            .prepare("SELECT organization, state FROM letters")
            .expect("query letters");
        let rows = query
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("letters");
        rows.map(|r| r.expect("row")).collect()
    }

    pub(crate) fn state(&self, org: &str) -> String {
        self.states()
            .remove(org)
            .unwrap_or_else(|| panic!("no letter for `{org}` in the journal"))
    }

    /// The journal's events for `org` that end an attempt (every move but the claim into
    /// `sending`), oldest first.
    pub(crate) fn outcomes(&self, org: &str) -> Vec<Event> {
        let db = self.ws.journal();
        let mut query = db
            .prepare(
                "SELECT to_state, attempt, smtp_code, smtp_reply FROM events \
                 WHERE organization = ?1 AND to_state != 'sending' AND from_state IS NOT NULL \
                 ORDER BY id",
            )
            .expect("query events");
        let rows = query
            .query_map([org], |r| {
                Ok(Event {
                    state: r.get(0)?,
                    attempt: r.get(1)?,
                    code: r.get(2)?,
                    reply: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                })
            })
            .expect("events");
        rows.map(|r| r.expect("row")).collect()
    }

    /// `herald history --status <status> --format json`, as the array it prints.
    pub(crate) fn history(&self, status: &str) -> Vec<serde_json::Value> {
        let out = self
            .ws
            .run(["history", "--status", status, "--format", "json"]);
        out.assert_success();
        match out.json() {
            serde_json::Value::Array(rows) => rows,
            other => panic!("history is not an array: {other}"),
        }
    }
}

/// One recorded outcome of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) state: String,
    pub(crate) attempt: u32,
    pub(crate) code: Option<u16>,
    pub(crate) reply: String,
}

/// Each outcome as (state, attempt, code), to compare a letter's history with a table.
pub(crate) fn steps(events: &[Event]) -> Vec<(&str, u32, Option<u16>)> {
    events
        .iter()
        .map(|e| (e.state.as_str(), e.attempt, e.code))
        .collect()
}

/// How many messages each address received, from the envelope recipients the server saw.
pub(crate) fn per_address(server: &SmtpServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in server.messages() {
        for rcpt in message.rcpt_to {
            *counts.entry(rcpt).or_insert(0) += 1;
        }
    }
    counts
}

/// MAIL commands the server received: one per attempt that got that far.
fn mail_commands(server: &SmtpServer) -> usize {
    server
        .commands()
        .iter()
        .filter(|(_, c)| c.to_ascii_uppercase().starts_with("MAIL FROM"))
        .count()
}

// ---------------------------------------------------------------------------------------------
// 4xx: deferred, retried with backoff, sent once it succeeds.

/// The server answers `code` at `stage` for the first two attempts; the third goes through.
fn transient_then_success(stage: Stage, code: u16, text: &str) {
    transient_then_success_from(Script::new(), stage, code, text);
}

fn transient_then_success_from(script: Script, stage: Stage, code: u16, text: &str) {
    let server = SmtpServer::start(script.on_first(stage, 2, Reply::new(code, text)));
    let fx = Fixture::new(vec![Org::numbered(1)]);
    // A base of 0.2 s: the second wait (×2, jitter ≥ 0.8) is at least 0.32 s.
    fx.smtp(server.port(), 5, 0.2, 5.0);
    let out = fx.dispatch(&[]);
    out.assert_success();

    let messages = server.wait_for(1, WAIT);
    assert_eq!(messages.len(), 1, "sent exactly once");
    assert_eq!(messages[0].rcpt_to, ["office@org-01.example"]);
    assert_eq!(fx.state("org-01"), "sent");

    let events = fx.outcomes("org-01");
    let summary = steps(&events);
    assert_eq!(
        summary,
        [
            ("deferred", 1, Some(code)),
            ("deferred", 2, Some(code)),
            ("sent", 3, Some(250))
        ],
        "{events:#?}"
    );
    for e in &events[..2] {
        assert!(
            e.reply.starts_with(&code.to_string()) && e.reply.contains(text),
            "the server's reply is recorded: {e:?}"
        );
    }
    assert!(events[2].reply.contains("queued as"), "{:?}", events[2]);

    // Backoff, measured at the server: each retry comes after the refusal by at least the
    // (jittered) exponential delay.
    let replies = server.replies();
    let refusals: Vec<Instant> = replies
        .iter()
        .filter(|r| r.code == code)
        .map(|r| r.at)
        .collect();
    assert_eq!(refusals.len(), 2, "{replies:?}");
    let greetings: Vec<Instant> = replies
        .iter()
        .filter(|r| r.code == 220)
        .map(|r| r.at)
        .collect();
    // An attempt starts with a new connection's greeting (a pipelining server also answers the
    // DATA sent with a refused RCPT: that answer is no retry).
    let first_after = |t: Instant| {
        greetings
            .iter()
            .copied()
            .find(|&at| at > t)
            .expect("an attempt after the refusal")
    };
    let waits = [
        first_after(refusals[0]) - refusals[0],
        first_after(refusals[1]) - refusals[1],
    ];
    assert!(waits[0] >= Duration::from_millis(160), "{waits:?}");
    assert!(waits[1] >= Duration::from_millis(320), "{waits:?}");
    // 421 closes the connection; the other refusals leave it open, but herald drops it anyway.
    assert_eq!(greetings.len(), 3, "a new connection per attempt");
}

#[test]
fn a_421_at_mail_is_deferred_then_retried_and_sent_once() {
    transient_then_success(Stage::Mail, 421, "4.3.2 Service shutting down");
}

#[test]
fn a_450_at_rcpt_is_deferred_then_retried_and_sent_once() {
    transient_then_success(Stage::Rcpt, 450, "4.2.1 Mailbox busy");
}

#[test]
fn a_450_at_rcpt_without_pipelining_is_deferred_then_retried_and_sent_once() {
    transient_then_success_from(
        Script::new().without_pipelining(),
        Stage::Rcpt,
        450,
        "4.2.1 Mailbox busy",
    );
}

#[test]
fn a_451_at_data_is_deferred_then_retried_and_sent_once() {
    transient_then_success(Stage::Data, 451, "4.3.0 Local error in processing");
}

#[test]
fn a_452_at_end_of_data_is_deferred_then_retried_and_sent_once() {
    transient_then_success(Stage::DataEnd, 452, "4.3.1 Insufficient system storage");
}

#[test]
fn a_servers_stated_wait_is_honoured() {
    let server = SmtpServer::start(Script::new().on_first(Stage::Rcpt, 1, Reply::retry_in(450, 2)));
    let fx = Fixture::new(vec![Org::numbered(1)]);
    // The backoff alone would retry after 0.05 s.
    fx.smtp(server.port(), 5, 0.05, 30.0);
    fx.dispatch(&[]).assert_success();
    let message = server.wait_for(1, WAIT).remove(0);
    let refusal = server
        .replies()
        .into_iter()
        .find(|r| r.code == 450)
        .expect("the refusal");
    let waited = message.arrived_at - refusal.at;
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
    let events = fx.outcomes("org-01");
    assert_eq!(events[0].state, "deferred");
    assert_eq!(events[0].code, Some(450));
    assert!(
        events[0].reply.contains("Try again in 2 seconds"),
        "{events:?}"
    );
    assert_eq!(events[1].state, "sent");
}

#[test]
fn a_4xx_every_time_fails_after_max_attempts() {
    let server = SmtpServer::start(Script::new().on(
        Stage::Rcpt,
        Reply::new(451, "4.7.1 Greylisted, come back later"),
    ));
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(server.port(), 3, 0.05, 0.2);
    let out = fx.dispatch(&[]);
    out.assert_code(1);
    assert!(out.stdout.contains("failed org-01 (451)"), "{}", out.stdout);
    assert_eq!(fx.state("org-01"), "failed");
    let states: Vec<(String, Option<u16>)> = fx
        .outcomes("org-01")
        .into_iter()
        .map(|e| (e.state, e.code))
        .collect();
    assert_eq!(
        states,
        [
            ("deferred".to_owned(), Some(451)),
            ("deferred".to_owned(), Some(451)),
            ("failed".to_owned(), Some(451))
        ]
    );
    assert_eq!(mail_commands(&server), 3, "exactly max_attempts attempts");
    assert!(server.messages().is_empty());
    let failed = fx.history("failed");
    assert_eq!(failed.len(), 1);
    let reply = failed[0]["smtp_reply"].as_str().unwrap_or_default();
    assert!(
        reply.contains("Greylisted") && reply.contains("gave up after 3 attempts"),
        "{reply}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5xx: failed at once, exactly one attempt.

fn permanent(stage: Stage, code: u16, text: &str) {
    let server = SmtpServer::start(Script::new().on(stage, Reply::new(code, text)));
    let fx = Fixture::new(vec![Org::numbered(1), Org::numbered(2)]);
    fx.smtp(server.port(), 5, 0.05, 0.2);
    let out = fx.dispatch(&[]);
    out.assert_code(1);
    for org in ["org-01", "org-02"] {
        assert_eq!(fx.state(org), "failed");
        let events = fx.outcomes(org);
        assert_eq!(events.len(), 1, "one attempt: {events:?}");
        assert_eq!(events[0].code, Some(code));
        assert!(events[0].reply.contains(text), "{events:?}");
        assert!(
            out.stdout.contains(&format!("failed {org} ({code})")),
            "{}",
            out.stdout
        );
    }
    assert_eq!(mail_commands(&server), 2, "one attempt per letter");
    assert!(server.messages().is_empty());
}

#[test]
fn a_550_at_rcpt_fails_at_once() {
    permanent(Stage::Rcpt, 550, "5.1.1 No such user here");
}

#[test]
fn a_552_at_end_of_data_fails_at_once() {
    permanent(
        Stage::DataEnd,
        552,
        "5.3.4 Message size exceeds fixed limit",
    );
}

#[test]
fn a_554_at_mail_fails_at_once() {
    permanent(Stage::Mail, 554, "5.7.1 Sender rejected");
}

// ---------------------------------------------------------------------------------------------
// Connections refused, lost and stalled.

#[test]
fn a_refused_connection_is_deferred_and_sent_by_a_later_dispatch() {
    // Bound, never listening: every connection to it is refused, and no one else can take it.
    let closed = ReservedPort::new();
    let fx = Fixture::new(vec![Org::numbered(1)]);
    // A backoff longer than the run waits within itself: the letter stays deferred.
    fx.smtp(closed.port(), 5, 120.0, 600.0);
    let out = fx.dispatch(&[]);
    out.assert_code(1);
    assert!(out.stdout.contains("deferred org-01"), "{}", out.stdout);
    // The summary says when the letter goes next and how to send it.
    assert!(
        out.stdout.contains("; next attempt at 20"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("1 letter deferred and retried later (the first is due at ")
            && out.stdout.contains(" again, or leave it to the daemon"),
        "{}",
        out.stdout
    );
    assert_eq!(fx.state("org-01"), "deferred");
    let events = fx.outcomes("org-01");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].code, None);
    assert!(events[0].reply.contains("refused"), "{events:?}");
    let deferred = fx.history("deferred");
    assert_eq!(deferred.len(), 1);
    assert!(deferred[0]["next_attempt_at"].is_string(), "{deferred:?}");

    let server = SmtpServer::start(Script::new());
    fx.smtp(server.port(), 5, 120.0, 600.0);
    fx.dispatch(&[]).assert_success();
    assert_eq!(server.wait_for(1, WAIT).len(), 1);
    assert_eq!(fx.state("org-01"), "sent");
}

/// A statement body of about `megabytes` MB in short lines.
fn large_body(megabytes: usize) -> String {
    let line = "Landmines planted in the liberated territories still threaten human life.\n";
    line.repeat(megabytes * 1024 * 1024 / line.len())
}

#[test]
fn a_connection_lost_in_the_middle_of_the_data_is_deferred_and_sent_once() {
    // The server reads 64 KiB of the first message and resets the connection: herald is still
    // writing the rest of its 12 MB, so the write fails before the end of data left it.
    let server = SmtpServer::start(Script::new().max_size(64 * 1024 * 1024).on_first(
        Stage::Data,
        1,
        Fault::DropAfterDataBytes(64 * 1024),
    ));
    let fx = Fixture::with_body(vec![Org::numbered(1)], &large_body(12));
    fx.smtp(server.port(), 5, 0.05, 0.2);
    // Larger than the default limit on statements (a few MB), on purpose.
    fx.set("statement", "max_bytes", 16 * 1024 * 1024);
    fx.dispatch(&[]).assert_success();
    let messages = server.wait_for(1, WAIT);
    assert_eq!(messages.len(), 1);
    assert!(server.dropped_after_data().is_empty());
    let events = fx.outcomes("org-01");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        (events[0].state.as_str(), events[0].code),
        ("deferred", None)
    );
    assert!(events[0].reply.contains("message data"), "{events:?}");
    assert_eq!(
        (events[1].state.as_str(), events[1].code),
        ("sent", Some(250))
    );
    assert_eq!(messages[0].connection, 2);
}

#[test]
fn a_drop_after_the_end_of_data_is_uncertain_and_resent_only_on_request() {
    let server = SmtpServer::start(Script::new().on_data_end_first(1, Fault::DropWithoutReply));
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(server.port(), 5, 0.05, 0.2);
    let out = fx.dispatch(&[]);
    out.assert_code(1);
    assert!(out.stdout.contains("uncertain org-01"), "{}", out.stdout);
    assert_eq!(
        server.dropped_after_data().len(),
        1,
        "the server read it all"
    );
    assert!(server.messages().is_empty());
    assert_eq!(fx.state("org-01"), "uncertain");
    let events = fx.outcomes("org-01");
    assert_eq!(events.len(), 1, "not retried: {events:?}");
    assert_eq!(events[0].code, None);
    assert!(events[0].reply.contains("end of data"), "{events:?}");
    let uncertain = fx.history("uncertain");
    assert_eq!(uncertain.len(), 1);
    assert_eq!(uncertain[0]["organization"], "org-01");

    // A plain second dispatch leaves it alone: it may have arrived.
    let connections = server.connections();
    let again = fx.dispatch(&[]);
    again.assert_code(1);
    assert!(
        again.stdout.contains("uncertain org-01"),
        "{}",
        again.stdout
    );
    assert_eq!(server.connections(), connections, "nothing was sent");
    assert_eq!(fx.state("org-01"), "uncertain");

    // Asked to, it sends it again, exactly once.
    fx.dispatch(&["--resend-uncertain"]).assert_success();
    assert_eq!(server.wait_for(1, WAIT).len(), 1);
    assert_eq!(fx.state("org-01"), "sent");
    fx.dispatch(&["--resend-uncertain"]).assert_success();
    assert_eq!(server.messages().len(), 1, "a sent letter is never re-sent");
}

/// A stall of `stage` on the first occurrence, `timeout_secs = 1`, two letters on one worker.
fn stalled(stage: Stage) -> (SmtpServer, Fixture, Output, Duration) {
    let server = SmtpServer::start(Script::new().rule(stage, None, Times::Nth(1), Fault::Stall));
    let fx = Fixture::new(vec![Org::numbered(1), Org::numbered(2)]);
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("smtp", "timeout_secs", 1);
    let started = Instant::now();
    let out = fx
        .ws
        .herald(["dispatch", &fx.statement.display().to_string(), "--yes"])
        .timeout(Duration::from_secs(30))
        .run();
    (server, fx, out, started.elapsed())
}

#[test]
fn a_stall_before_the_end_of_data_times_out_as_deferred_on_a_new_connection() {
    let (server, fx, out, took) = stalled(Stage::Rcpt);
    out.assert_success();
    assert!(took < Duration::from_secs(15), "bounded: took {took:?}");
    let events = fx.outcomes("org-01");
    assert_eq!(events[0].state, "deferred", "{events:?}");
    assert!(events[0].reply.contains("no reply within 1s"), "{events:?}");
    assert_eq!(events[1].state, "sent", "{events:?}");
    let messages = server.wait_for(2, WAIT);
    assert!(
        messages.iter().all(|m| m.connection != 1),
        "the stalled connection is never used again: {messages:?}"
    );
}

#[test]
fn a_stall_after_the_end_of_data_is_uncertain_and_the_connection_is_not_reused() {
    let (server, fx, out, took) = stalled(Stage::DataEnd);
    out.assert_code(1);
    assert!(took < Duration::from_secs(15), "bounded: took {took:?}");
    assert_eq!(fx.state("org-01"), "uncertain");
    let events = fx.outcomes("org-01");
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].reply.contains("end of data"), "{events:?}");
    assert_eq!(fx.state("org-02"), "sent");
    let messages = server.wait_for(1, WAIT);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].rcpt_to, ["office@org-02.example"]);
    assert_ne!(messages[0].connection, 1, "not over the stalled connection");
    assert_eq!(server.dropped_after_data()[0].connection, 1);
}

#[test]
fn a_slow_server_that_answers_each_command_in_time_is_not_cut_off() {
    // Each reply takes 0.4 s against a 1 s timeout; a letter to eight addresses takes eleven
    // replies (4.4 s) once connected: more than a few timeouts, but never one command's.
    let emails: Vec<String> = (1..=8).map(|i| format!("desk{i}@org-01.example")).collect();
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    let server = SmtpServer::start(Script::new().delay(Duration::from_millis(400)));
    let fx = Fixture::new(vec![Org::with_emails("org-01", &emails), Org::numbered(2)]);
    fx.smtp(server.port(), 1, 0.05, 0.2)
        .set("smtp", "timeout_secs", 1);
    fx.dispatch(&[]).assert_success();
    let messages = server.wait_for(2, WAIT);
    assert_eq!(messages[0].rcpt_to.len(), 8);
    assert_eq!(fx.state("org-01"), "sent");
    assert_eq!(fx.state("org-02"), "sent");
}

// ---------------------------------------------------------------------------------------------
// Partial rejection and the run's outcome.

#[test]
fn a_refused_address_next_to_an_accepted_one_is_partial_and_not_resent() {
    refused_address_next_to_an_accepted_one(Script::new());
}

#[test]
fn a_refused_address_is_partial_without_pipelining_too() {
    refused_address_next_to_an_accepted_one(Script::new().without_pipelining());
}

fn refused_address_next_to_an_accepted_one(script: Script) {
    let server = SmtpServer::start(
        script.on_rcpt("gone@org-01.example", Reply::new(550, "5.1.1 User unknown")),
    );
    let fx = Fixture::new(vec![
        Org::with_emails("org-01", &["office@org-01.example", "gone@org-01.example"]),
        Org::numbered(2),
    ]);
    fx.smtp(server.port(), 5, 0.05, 0.2);
    let out = fx.dispatch(&[]);
    out.assert_code(1);
    assert!(out.stdout.contains("partial org-01"), "{}", out.stdout);
    assert_eq!(fx.state("org-01"), "partial");
    assert_eq!(fx.state("org-02"), "sent");
    let counts = per_address(&server);
    assert_eq!(counts.get("office@org-01.example"), Some(&1));
    assert_eq!(counts.get("gone@org-01.example"), None);

    let partial = fx.history("partial");
    assert_eq!(partial.len(), 1);
    let recipients = partial[0]["recipients"].as_array().expect("recipients");
    let outcome = |address: &str| {
        recipients
            .iter()
            .find(|r| r["address"] == address)
            .unwrap_or_else(|| panic!("{address} in {recipients:?}"))
            .clone()
    };
    assert_eq!(outcome("office@org-01.example")["accepted"], true);
    assert_eq!(outcome("office@org-01.example")["code"], 250);
    assert_eq!(outcome("gone@org-01.example")["accepted"], false);
    assert_eq!(outcome("gone@org-01.example")["code"], 550);
    assert!(outcome("gone@org-01.example")["reply"]
        .as_str()
        .is_some_and(|r| r.contains("User unknown")));

    let again = fx.dispatch(&[]);
    again.assert_code(1);
    assert_eq!(server.messages().len(), 2, "not sent again");
    assert_eq!(fx.state("org-01"), "partial");
}

/// RCPT commands the server received for `address`: one per attempt that asked for it.
fn rcpt_commands(server: &SmtpServer, address: &str) -> usize {
    let wanted = format!("RCPT TO:<{address}>");
    server
        .commands()
        .iter()
        .filter(|(_, c)| c.eq_ignore_ascii_case(&wanted))
        .count()
}

/// Each address's `(accepted, code)` in a history row's `recipients`.
fn recipient_outcomes(row: &serde_json::Value) -> HashMap<String, (bool, u64)> {
    row["recipients"]
        .as_array()
        .unwrap_or_else(|| panic!("recipients in {row}"))
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap_or_default().to_owned(),
                (
                    r["accepted"].as_bool().unwrap_or_default(),
                    r["code"].as_u64().unwrap_or_default(),
                ),
            )
        })
        .collect()
}

/// A received message's Message-ID and its To addresses, as its headers give them.
fn identity(message: &crate::support::smtp::Received) -> (String, Vec<String>) {
    let parsed = mail_parser::MessageParser::default()
        .parse(&message.data)
        .expect("a parsable message");
    let to = parsed
        .to()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.address())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    (parsed.message_id().unwrap_or_default().to_owned(), to)
}

/// An organisation with two addresses, one refused with 450 at the first attempt: the first
/// attempt delivers to the other, the retry only to the refused one, and the journal ends `sent`.
/// `base` is the backoff: short enough for the run's own retry, or too long, left to a later
/// dispatch.
fn one_address_refused_for_now(base: f64) {
    let server = SmtpServer::start(Script::new().on_rcpt_first(
        "busy@org-01.example",
        1,
        Reply::new(450, "4.2.1 Mailbox busy"),
    ));
    let fx = Fixture::new(vec![Org::with_emails(
        "org-01",
        &["office@org-01.example", "busy@org-01.example"],
    )]);
    fx.smtp(server.port(), 5, base, base.max(0.2));
    let first = fx.dispatch(&[]);
    if base > 60.0 {
        first.assert_code(1);
        assert_eq!(fx.state("org-01"), "deferred");
        let deferred = fx.history("deferred");
        assert_eq!(deferred.len(), 1, "{deferred:?}");
        let outcomes = recipient_outcomes(&deferred[0]);
        assert_eq!(outcomes["office@org-01.example"], (true, 250));
        assert_eq!(outcomes["busy@org-01.example"], (false, 450));
        let reply = deferred[0]["smtp_reply"].as_str().unwrap_or_default();
        assert!(
            reply.contains("Mailbox busy") && reply.contains("busy@org-01.example"),
            "{reply}"
        );
        fx.dispatch(&[]).assert_success();
    } else {
        first.assert_success();
    }

    let messages = server.wait_for(2, WAIT);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0].rcpt_to, ["office@org-01.example"]);
    assert_eq!(messages[1].rcpt_to, ["busy@org-01.example"]);
    let counts = per_address(&server);
    assert_eq!(counts.get("office@org-01.example"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("busy@org-01.example"), Some(&1), "{counts:?}");
    assert_eq!(rcpt_commands(&server, "office@org-01.example"), 1);
    assert_eq!(rcpt_commands(&server, "busy@org-01.example"), 2);
    // One coherent letter: the same message, naming both addresses, reached each.
    let (id, to) = identity(&messages[1]);
    assert_eq!(identity(&messages[0]), (id.clone(), to.clone()));
    assert!(
        id.starts_with("2021-05-27-") && id.ends_with(".org-01@ombudsman.example"),
        "{id}"
    );
    assert_eq!(to, ["office@org-01.example", "busy@org-01.example"]);

    assert_eq!(fx.state("org-01"), "sent");
    let events = fx.outcomes("org-01");
    let summary = steps(&events);
    assert_eq!(
        summary,
        [("deferred", 1, Some(450)), ("sent", 2, Some(250))],
        "{events:#?}"
    );
    let sent = fx.history("sent");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let outcomes = recipient_outcomes(&sent[0]);
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert_eq!(outcomes["office@org-01.example"], (true, 250));
    assert_eq!(outcomes["busy@org-01.example"], (true, 250));

    fx.ws.run(["verify"]).assert_success();
    fx.dispatch(&[]).assert_success();
    assert_eq!(server.messages().len(), 2, "nothing is sent again");
}

#[test]
fn an_address_refused_for_now_is_retried_alone_in_the_same_run() {
    one_address_refused_for_now(0.05);
}

#[test]
fn an_address_refused_for_now_is_retried_alone_by_a_later_dispatch() {
    one_address_refused_for_now(120.0);
}

#[test]
fn an_address_refused_for_good_is_not_retried_next_to_one_refused_for_now() {
    let server = SmtpServer::start(
        Script::new()
            .on_rcpt("gone@org-01.example", Reply::new(550, "5.1.1 User unknown"))
            .on_rcpt_first(
                "busy@org-01.example",
                1,
                Reply::new(450, "4.2.1 Mailbox busy"),
            ),
    );
    let fx = Fixture::new(vec![Org::with_emails(
        "org-01",
        &["gone@org-01.example", "busy@org-01.example"],
    )]);
    fx.smtp(server.port(), 5, 0.05, 0.2);
    let out = fx.dispatch(&[]);
    out.assert_code(1);
    assert!(out.stdout.contains("partial org-01"), "{}", out.stdout);

    let messages = server.wait_for(1, WAIT);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].rcpt_to, ["busy@org-01.example"]);
    assert_eq!(
        rcpt_commands(&server, "gone@org-01.example"),
        1,
        "not asked again"
    );
    assert_eq!(rcpt_commands(&server, "busy@org-01.example"), 2);

    assert_eq!(fx.state("org-01"), "partial");
    let events = fx.outcomes("org-01");
    let summary = steps(&events);
    assert_eq!(
        summary,
        [("deferred", 1, Some(450)), ("partial", 2, Some(250))],
        "{events:#?}"
    );
    let partial = fx.history("partial");
    assert_eq!(partial.len(), 1, "{partial:?}");
    let outcomes = recipient_outcomes(&partial[0]);
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert_eq!(outcomes["gone@org-01.example"], (false, 550));
    assert_eq!(outcomes["busy@org-01.example"], (true, 250));
    let gone = partial[0]["recipients"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == "gone@org-01.example"))
        .and_then(|r| r["reply"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(gone.contains("User unknown"), "{gone}");

    fx.ws.run(["verify"]).assert_success();
    fx.dispatch(&[]).assert_code(1);
    assert_eq!(
        server.messages().len(),
        1,
        "a partial letter is not re-sent"
    );
}

#[test]
fn a_run_with_undelivered_letters_exits_1_and_names_each_with_its_reply() {
    let server = SmtpServer::start(
        Script::new()
            .on_rcpt(
                "office@org-02.example",
                Reply::new(550, "5.1.1 Mailbox unavailable"),
            )
            .on_rcpt(
                "office@org-03.example",
                Reply::new(450, "4.2.0 Mailbox busy"),
            )
            .on_data_end_for(
                "office@org-04.example",
                Times::Always,
                Fault::DropWithoutReply,
            ),
    );
    let fx = Fixture::new((1..=4).map(Org::numbered).collect());
    // Retries of the deferred letter are due beyond what the run waits for.
    fx.smtp(server.port(), 5, 120.0, 600.0);
    let out = fx.dispatch(&[]);
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("1 sent, 0 partial, 1 failed, 1 deferred, 1 uncertain"),
        "{}",
        out.stdout
    );
    for (org, state, reply) in [
        ("org-02", "failed", "Mailbox unavailable"),
        ("org-03", "deferred", "Mailbox busy"),
        ("org-04", "uncertain", "end of data"),
    ] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.contains(org))
            .unwrap_or_else(|| panic!("{org} named in\n{}", out.stdout));
        assert!(line.contains(state) && line.contains(reply), "{line}");
        let rows = fx.history(state);
        assert_eq!(rows.len(), 1, "{state}: {rows:?}");
        assert_eq!(rows[0]["organization"], org);
        let recorded = rows[0]["smtp_reply"].as_str().unwrap_or_default();
        assert!(recorded.contains(reply), "{state}: {recorded}");
    }
    assert!(!out.stdout.contains("org-01"), "{}", out.stdout);
    assert_eq!(fx.state("org-01"), "sent");
}
