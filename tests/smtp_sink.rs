//! Delivery to Postfix's `smtp-sink`, a third-party SMTP server, through the real binary: so that
//! herald's client and the suite's own test server cannot share a protocol mistake. Every outcome
//! smtp-sink can produce on cue is checked where it lands: in the journal's states and replies.

use std::collections::HashMap;

use crate::faults::{Fixture, Org, WAIT};
use crate::support::sink::Sink;
use crate::support::workspace::Workspace;

#[test]
fn the_seed_statement_goes_through_postfix_smtp_sink_once_per_letter() {
    let sink = Sink::start();
    let ws = Workspace::new();
    ws.smtp(sink.port()).set("delivery", "concurrency", 4);
    let seed = "seeds/2021-05-27-kalbajar-statement.txt";
    let plan = ws.run(["resolve", seed, "--format", "json"]);
    plan.assert_success();
    let letters = plan.json()["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .map(|l| l["organization"].as_str().expect("id").to_owned())
        .collect::<Vec<_>>();
    assert!(letters.len() >= 40, "the seed names many organisations");

    ws.run(["dispatch", seed, "--yes"]).assert_success();
    let messages = sink.wait_for(letters.len(), WAIT);
    assert_eq!(messages.len(), letters.len(), "one message per letter");
    let mut ids: HashMap<String, usize> = HashMap::new();
    for message in &messages {
        let id = message
            .lines()
            .find_map(|l| {
                l.strip_prefix("Message-ID: ")
                    .or_else(|| l.strip_prefix("Message-Id: "))
            })
            .unwrap_or_else(|| panic!("no Message-ID in\n{message}"));
        *ids.entry(id.trim().to_owned()).or_insert(0) += 1;
    }
    for org in &letters {
        let found: Vec<(&String, &usize)> = ids
            .iter()
            .filter(|(id, _)| id.contains(&format!(".{org}@")))
            .collect();
        assert_eq!(found.len(), 1, "{org}: {found:?}");
        assert_eq!(*found[0].1, 1, "{org} arrived once");
    }
    let states = ws.run(["history", "--status", "sent", "--format", "json"]);
    assert_eq!(
        states.json().as_array().map(Vec::len),
        Some(letters.len()),
        "every letter recorded sent"
    );
}

/// Three organisations with two addresses each, in a statement whose body is not ASCII and has
/// lines that start with dots (stuffed on the wire, RFC 5321 4.5.2).
fn two_address_orgs() -> Fixture {
    let orgs = (1..=3)
        .map(|n| {
            let id = format!("org-{n:02}");
            Org::with_emails(
                &id,
                &[&format!("sg@{id}.example"), &format!("office@{id}.example")],
            )
        })
        .collect();
    Fixture::with_body(
        orgs,
        "Deuxième lettre, non ASCII.\n\n.\n\n..leading dots\n\n.a dot starts this line too.",
    )
}

#[test]
fn letters_go_over_one_reused_connection_and_keep_the_full_reply() {
    let sink = Sink::start();
    let fx = two_address_orgs();
    fx.smtp(sink.port(), 5, 0.05, 0.2);
    fx.dispatch(&[]).assert_success();
    let messages = sink.wait_for(3, WAIT);
    // The text arrives as written, whatever the encoding (smtp-sink takes any stuffed dots off).
    for message in &messages {
        let parsed = mail_parser::MessageParser::default()
            .parse(message.as_bytes())
            .unwrap_or_else(|| panic!("a message in\n{message}"));
        let text = parsed.body_text(0).expect("a text part");
        for line in [
            "Deuxième lettre, non ASCII.",
            ".",
            "..leading dots",
            ".a dot starts this line too.",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
    }
    // One worker: every letter after the first went over the first one's connection, so no
    // session had ended when the last letter was taken.
    let counters = sink.counters();
    let at_last = counters
        .iter()
        .find(|c| c.messages == 3)
        .unwrap_or_else(|| panic!("the third message in {counters:?}"));
    assert_eq!(at_last.sessions, 0, "{counters:?}");

    let sent = fx.history("sent");
    assert_eq!(sent.len(), 3, "{sent:?}");
    for row in &sent {
        assert_eq!(row["smtp_code"], 250, "{row}");
        let reply = row["smtp_reply"].as_str().unwrap_or_default();
        assert!(reply.starts_with("250 ") && reply.len() > 4, "{row}");
        let recipients = row["recipients"].as_array().expect("recipients");
        assert_eq!(recipients.len(), 2, "{row}");
        assert!(
            recipients.iter().all(|r| r["accepted"] == true
                && r["code"] == 250
                && r["reply"].as_str().is_some_and(|t| t.starts_with("250 "))),
            "{row}"
        );
    }
}

#[test]
fn a_soft_refusal_at_rcpt_defers_the_letter_and_drops_the_connection() {
    let sink = Sink::start_with(&["-r", "RCPT"]);
    let fx = Fixture::new(vec![Org::numbered(1), Org::numbered(2)]);
    // Retries far beyond the run: each letter is tried once.
    fx.smtp(sink.port(), 5, 120.0, 600.0);
    fx.dispatch(&[]).assert_code(1);
    for org in ["org-01", "org-02"] {
        assert_eq!(fx.state(org), "deferred");
        let events = fx.outcomes(org);
        assert_eq!(events.len(), 1, "{events:?}");
        let code = events[0].code.unwrap_or_default();
        assert!((400..500).contains(&code), "{events:?}");
        assert!(events[0].reply.starts_with(&code.to_string()), "{events:?}");
    }
    for row in fx.history("deferred") {
        let recipients = row["recipients"].as_array().expect("recipients");
        assert_eq!(recipients.len(), 1, "{row}");
        assert_eq!(recipients[0]["accepted"], false, "{row}");
    }
    // The connection is not reused after a refusal: each letter had its own.
    sink.wait_for_sessions(2, WAIT);
    assert_eq!(sink.count(), 0);
}

#[test]
fn a_hard_refusal_at_end_of_data_fails_the_letter_with_its_code() {
    let sink = Sink::start_with(&["-f", "."]);
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(sink.port(), 5, 0.05, 0.2);
    fx.dispatch(&[]).assert_code(1);
    assert_eq!(fx.state("org-01"), "failed");
    let events = fx.outcomes("org-01");
    assert_eq!(events.len(), 1, "not retried: {events:?}");
    let code = events[0].code.unwrap_or_default();
    assert!((500..600).contains(&code), "{events:?}");
    assert!(events[0].reply.starts_with(&code.to_string()), "{events:?}");
}

#[test]
fn a_disconnect_after_end_of_data_leaves_the_letter_uncertain() {
    let sink = Sink::start_with(&["-q", "."]);
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(sink.port(), 5, 0.05, 0.2);
    fx.dispatch(&[]).assert_code(1);
    assert_eq!(fx.state("org-01"), "uncertain");
    let events = fx.outcomes("org-01");
    assert_eq!(events.len(), 1, "never sent again on its own: {events:?}");
    assert_eq!(events[0].code, None, "{events:?}");
}

#[test]
fn a_disconnect_at_data_defers_the_letter_as_not_handed_over() {
    let sink = Sink::start_with(&["-q", "DATA"]);
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(sink.port(), 5, 120.0, 600.0);
    fx.dispatch(&[]).assert_code(1);
    assert_eq!(fx.state("org-01"), "deferred");
    let events = fx.outcomes("org-01");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].code, None, "{events:?}");
    assert!(events[0].reply.contains("DATA"), "{events:?}");
    assert_eq!(sink.count(), 0);
}

#[test]
fn starttls_required_but_not_offered_by_smtp_sink_sends_nothing() {
    let sink = Sink::start();
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(sink.port(), 5, 0.05, 0.2)
        .set("smtp", "security", "starttls");
    // A configuration problem (exit 2), not a letter that failed for its own reasons.
    fx.dispatch(&[]).assert_code(2);
    assert_eq!(fx.state("org-01"), "failed");
    let events = fx.outcomes("org-01");
    assert_eq!(events.len(), 1, "not retried: {events:?}");
    assert!(
        events[0].reply.contains("does not offer STARTTLS"),
        "{events:?}"
    );
    assert_eq!(sink.count(), 0);
}
