//! `herald history` and `herald verify` on journals written by real dispatches: the filters and
//! formats of the history, and a verify that passes on an untouched journal and names the event
//! when someone edits the SQLite file behind herald's back.

use std::collections::BTreeSet;

use chrono::{Days, SecondsFormat, Utc};
use serde_json::Value;

use crate::common::{assert_no_panic, resolve_json, SEED};
use crate::support::smtp::{Reply, Script, SmtpServer};
use crate::support::workspace::{Output, Workspace};

/// A statement of two letters, UNESCO and the Council of Europe.
const SMALL: &str = "\
Statement on cultural heritage in Kalbajar

The Commissioner calls for the protection of cultural heritage.

This Statement is addressed to UNESCO and the Council of Europe.

Sabina Aliyeva

3 June 2021
";

/// The seed dispatched through the default file transport.
fn dispatched_seed() -> Workspace {
    let ws = Workspace::new();
    let output = ws.run(["dispatch", SEED, "--yes"]);
    output.assert_success();
    // Regression: the file transport has no SMTP code, and its log lines said `code=""`.
    assert!(!output.stderr.contains("code="), "{}", output.stderr);
    ws
}

fn writable_journal(ws: &Workspace) -> rusqlite::Connection {
    rusqlite::Connection::open(ws.data_dir().join("herald.db")).expect("open the journal")
}

fn verify(ws: &Workspace) -> Output {
    let output = ws.run(["verify"]);
    assert_no_panic(&output);
    output
}

/// What verify printed, both streams.
fn said(output: &Output) -> String {
    format!("{}\n{}", output.stdout, output.stderr)
}

#[test]
fn verify_passes_then_names_an_event_whose_reply_was_changed() {
    let ws = dispatched_seed();
    verify(&ws).assert_success();

    let db = writable_journal(&ws);
    let (event, original): (i64, String) = db
        .query_row(
            "SELECT id, smtp_reply FROM events WHERE organization = 'unesco' AND to_state = 'sent'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("unesco's sent event");
    // The journal refuses updates by trigger; someone editing the file drops it first.
    let refused = db.execute(
        "UPDATE events SET smtp_reply = 'edited' WHERE id = ?1",
        [event],
    );
    assert!(refused.is_err(), "an event could be updated in place");
    db.execute_batch("DROP TRIGGER events_no_update")
        .expect("drop the trigger");
    db.execute(
        "UPDATE events SET smtp_reply = ?1 WHERE id = ?2",
        rusqlite::params![format!("{original} (edited)"), event],
    )
    .expect("edit the event");
    drop(db);

    let output = verify(&ws);
    output.assert_code(1);
    assert!(
        said(&output).contains(&format!("#{event}")),
        "verify does not name event #{event}:\n{}",
        said(&output)
    );
}

#[test]
fn verify_fails_when_a_letter_row_no_longer_matches_its_events() {
    let ws = dispatched_seed();
    let db = writable_journal(&ws);
    let changed = db
        .execute(
            "UPDATE letters SET smtp_reply = '250 2.0.0 Ok: queued as FORGED' \
             WHERE organization = 'osce'",
            [],
        )
        .expect("edit the letter");
    assert_eq!(changed, 1);
    drop(db);
    let output = verify(&ws);
    output.assert_code(1);
    let text = said(&output);
    assert!(text.contains("osce"), "{text}");
    assert!(text.contains("FORGED"), "{text}");
}

#[test]
fn verify_fails_when_an_event_was_deleted() {
    let ws = dispatched_seed();
    let db = writable_journal(&ws);
    let (first, last): (i64, i64) = db
        .query_row("SELECT min(id), max(id) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("event ids");
    let middle = (first + last) / 2;
    db.execute_batch("DROP TRIGGER events_no_delete")
        .expect("drop the trigger");
    db.execute("DELETE FROM events WHERE id = ?1", [middle])
        .expect("delete an event");
    drop(db);
    let output = verify(&ws);
    output.assert_code(1);
    assert!(
        said(&output).contains(&format!("#{}", middle + 1)),
        "{}",
        said(&output)
    );
}

#[test]
fn verify_names_a_letter_whose_addresses_were_forged() {
    // Regression: verify compared a letter's state and reply with its events, not its addresses
    // or Message-ID, so `history` showed a forged recipient as having received the letter.
    let ws = dispatched_seed();
    let db = writable_journal(&ws);
    let changed = db
        .execute(
            "UPDATE letters SET to_addresses = '[\"someone-else@evil.example\"]', \
             message_id = '<x@y>' WHERE organization = 'osce'",
            [],
        )
        .expect("edit the letter");
    assert_eq!(changed, 1);
    drop(db);
    let output = verify(&ws);
    output.assert_code(1);
    let text = said(&output);
    assert!(text.contains("`osce`"), "{text}");
    assert!(text.contains("someone-else@evil.example"), "{text}");
}

#[test]
fn verify_names_a_statement_whose_text_was_forged() {
    // Regression: the statements table was not covered by the chain at all.
    let ws = dispatched_seed();
    let (_, json) = resolve_json(&ws, SEED);
    let id = json["statement"]["id"].as_str().expect("id").to_owned();
    let db = writable_journal(&ws);
    let changed = db
        .execute(
            "UPDATE statements SET text = replace(text, 'Armenia', 'Someone') WHERE id = ?1",
            [&id],
        )
        .expect("edit the statement");
    assert_eq!(changed, 1);
    drop(db);
    let output = verify(&ws);
    output.assert_code(1);
    let text = said(&output);
    assert!(text.contains(&format!("statement `{id}`")), "{text}");
    assert!(text.contains("text"), "{text}");
}

/// The `#ID:HASH` that `dispatch` printed as the journal's head.
fn printed_head(output: &Output) -> String {
    let line = output
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("journal head "))
        .unwrap_or_else(|| panic!("dispatch printed no head:\n{}", output.stdout));
    let mut words = line.split_whitespace();
    let (id, hash) = (words.next().expect("an id"), words.next().expect("a hash"));
    assert!(id.starts_with('#'), "{line}");
    assert_eq!(hash.len(), 64, "{line}");
    format!("{id}:{hash}")
}

#[test]
fn an_expected_head_proves_that_the_last_statement_was_not_removed() {
    let ws = Workspace::new();
    let first = ws.run(["dispatch", SEED, "--yes"]);
    first.assert_success();
    let after_seed = printed_head(&first);
    let small = ws.statement("heritage.txt", SMALL);
    let small = small.to_str().expect("utf-8 path");
    let (_, json) = resolve_json(&ws, small);
    let small_id = json["statement"]["id"].as_str().expect("id").to_owned();
    let second = ws.run(["dispatch", small, "--yes"]);
    second.assert_success();
    let last = printed_head(&second);
    assert_ne!(after_seed, last);

    // verify prints the same head dispatch did.
    let output = verify(&ws);
    output.assert_success();
    let (id, hash) = last.split_once(':').expect("#ID:HASH");
    assert!(
        output.stdout.contains(&format!("head {id} {hash}")),
        "{}",
        output.stdout
    );
    for head in [&after_seed, &last] {
        ws.run(["verify", "--expect-head", head]).assert_success();
    }

    // The last statement is removed whole: its events at the end of the chain, its letters, its
    // row. The chain alone cannot tell; the head noted after its dispatch can.
    let db = writable_journal(&ws);
    db.execute_batch("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete")
        .expect("drop the triggers");
    for sql in [
        "DELETE FROM events WHERE statement_id = ?1",
        "DELETE FROM letters WHERE statement_id = ?1",
        "DELETE FROM statements WHERE id = ?1",
    ] {
        let removed = db.execute(sql, [&small_id]).expect("remove the statement");
        assert!(removed > 0, "{sql}");
    }
    drop(db);
    verify(&ws).assert_success();
    ws.run(["verify", "--expect-head", &after_seed])
        .assert_success();
    let output = ws.run(["verify", "--expect-head", &last]);
    assert_no_panic(&output);
    output.assert_code(1);
    assert!(said(&output).contains(hash), "{}", said(&output));

    // A head that is not one is bad input, not a failed verification.
    let bad = ws.run(["verify", "--expect-head", "#3:not-a-hash"]);
    crate::common::assert_refused(&bad, &["not-a-hash"]);
}

fn history(ws: &Workspace, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["history", "--format", "json"];
    all.extend_from_slice(args);
    let output = ws.run(all);
    assert_no_panic(&output);
    output.assert_success();
    output.json().as_array().expect("an array").clone()
}

fn orgs(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| r["organization"].as_str().expect("organization").to_owned())
        .collect()
}

#[test]
fn history_filters_by_statement_organisation_status_and_time() {
    // UNESCO refuses for good: its letter of the second statement fails.
    let ws = Workspace::new();
    let unesco = crate::common::directory(&ws)["unesco"].emails[0].clone();
    let server = SmtpServer::start(
        Script::new().on_rcpt(&unesco, Reply::new(550, "5.1.1 Mailbox unavailable")),
    );
    ws.smtp(server.port());
    let (_, seed) = resolve_json(&ws, SEED);
    let seed_id = seed["statement"]["id"].as_str().expect("id").to_owned();
    let seed_orgs: BTreeSet<String> = seed["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .map(|l| l["organization"].as_str().expect("org").to_owned())
        .collect();
    let small = ws.statement("heritage.txt", SMALL);
    let small = small.to_str().expect("utf-8 path");
    let (_, small_json) = resolve_json(&ws, small);
    let small_id = small_json["statement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // The seed names UNESCO too, so both runs leave one letter failed and exit 1.
    ws.run(["dispatch", SEED, "--yes"]).assert_code(1);
    assert_eq!(server.messages().len(), seed_orgs.len() - 1);
    // The second run is another process started after this instant.
    let between = Utc::now();
    ws.run(["dispatch", small, "--yes"]).assert_code(1);

    let all = history(&ws, &[]);
    assert_eq!(all.len(), seed_orgs.len() + 2);

    let rows = history(&ws, &["--statement", &small_id]);
    assert_eq!(
        orgs(&rows),
        ["council-of-europe", "unesco"].map(String::from).into()
    );
    let rows = history(&ws, &["--statement", &seed_id]);
    assert_eq!(orgs(&rows), seed_orgs);

    let rows = history(&ws, &["--organization", "unesco"]);
    assert_eq!(rows.len(), 2);
    let ids: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["statement_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [seed_id.as_str(), small_id.as_str()].into());

    let failed = history(&ws, &["--status", "failed"]);
    assert_eq!(orgs(&failed), ["unesco".to_owned()].into());
    assert_eq!(failed.len(), 2);
    for row in &failed {
        assert_eq!(row["smtp_code"], 550, "{row}");
        assert!(
            row["smtp_reply"]
                .as_str()
                .expect("reply")
                .contains("5.1.1 Mailbox unavailable"),
            "{row}"
        );
    }
    let sent = history(&ws, &["--status", "sent"]);
    assert_eq!(sent.len(), all.len() - 2);
    assert!(!orgs(&sent).contains("unesco"));
    let combined = history(&ws, &["--status", "sent", "--statement", &small_id]);
    assert_eq!(orgs(&combined), ["council-of-europe".to_owned()].into());

    let stamp = between.to_rfc3339_opts(SecondsFormat::Micros, true);
    let since = history(&ws, &["--since", &stamp]);
    assert!(
        since.iter().all(|r| r["statement_id"] == small_id.as_str()),
        "{since:#?}"
    );
    assert_eq!(since.len(), 2);
    let until = history(&ws, &["--until", &stamp]);
    assert!(until.iter().all(|r| r["statement_id"] == seed_id.as_str()));
    assert_eq!(until.len(), seed_orgs.len());
    let tomorrow = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(1))
        .expect("a date")
        .to_string();
    assert!(history(&ws, &["--since", &tomorrow]).is_empty());
    assert_eq!(history(&ws, &["--until", &tomorrow]).len(), all.len());
    assert!(history(&ws, &["--organization", "no-such-org"]).is_empty());

    // A status that does not exist is bad input, not an empty answer.
    let bad = ws.run(["history", "--status", "delivered"]);
    crate::common::assert_refused(&bad, &["delivered"]);
}

#[test]
fn history_as_csv_has_a_header_and_one_row_per_letter() {
    let ws = dispatched_seed();
    let (_, json) = resolve_json(&ws, SEED);
    let n = json["letters"].as_array().expect("letters").len();
    let output = ws.run(["history", "--format", "csv"]);
    output.assert_success();
    let mut lines = output.stdout.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    for column in [
        "statement_id",
        "organization",
        "to",
        "status",
        "attempts",
        "smtp_code",
        "smtp_reply",
        "message_id",
        "updated_at",
    ] {
        assert!(header.contains(&column), "no `{column}` in {header:?}");
    }
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), n);
    let id = json["statement"]["id"].as_str().expect("id");
    assert!(
        rows.iter().all(|r| r.starts_with(&format!("{id},"))),
        "{rows:#?}"
    );
    // Regression: CSV times ended in `+00:00` where JSON and the README use `Z`.
    for row in &rows {
        let updated_at = row.rsplit(',').next().expect("a last column");
        assert!(updated_at.ends_with('Z'), "{row}");
        assert!(!row.contains("+00:00"), "{row}");
    }

    // Regression: a filter that matched nothing printed nothing at all.
    let none = ws.run(["history", "--status", "failed"]);
    none.assert_success();
    assert_eq!(none.stdout, "");
    assert!(none.stderr.contains("no letters match"), "{}", none.stderr);
    let none = ws.run(["history", "--status", "failed", "--format", "csv"]);
    assert_eq!(none.stdout.lines().count(), 1, "{}", none.stdout);
    assert!(!none.stderr.contains("no letters match"), "{}", none.stderr);

    // The table names each organisation too.
    let table = ws.run(["history", "--organization", "unesco"]);
    table.assert_success();
    assert!(table.stdout.contains("unesco"));
    assert!(!table.stdout.contains("osce"), "{}", table.stdout);
}
