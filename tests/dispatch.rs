//! `herald dispatch` end to end: the dry run's previews, a real send of the seed to the test SMTP
//! server (every message once, valid MIME, right envelope and headers, the server's own reply in
//! the history, nothing sent twice), the refusal without a terminal, and the README's main-job
//! command on the default file transport.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::Value;

use crate::common::{
    assert_no_panic, assert_refused, directory, letter_states, resolve_json, strings, SEED,
};
use crate::support::smtp::{Reply, Script, SmtpServer, Times};
use crate::support::workspace::Workspace;

/// A resolved letter: organisation id, To and Cc.
struct Planned {
    org: String,
    to: Vec<String>,
    cc: Vec<String>,
}

fn planned(json: &Value) -> Vec<Planned> {
    json["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .map(|l| Planned {
            org: l["organization"].as_str().expect("organization").to_owned(),
            to: strings(&l["to"]),
            cc: strings(&l["cc"]),
        })
        .collect()
}

/// Gives the Secretary-General a second address and a Cc, so that envelope and headers are
/// tested with more than one recipient (no shipped organisation has either).
fn widen_secretary_general(ws: &Workspace) {
    let un = ws.read("recipients/un.toml");
    let wider = un.replacen(
        "emails = [\"sg@un.example\"]",
        "emails = [\"sg@un.example\", \"eosg@un.example\"]\ncc = [\"protocol@un.example\"]",
        1,
    );
    assert_ne!(un, wider, "the Secretary-General's entry changed shape");
    ws.write("recipients/un.toml", wider);
}

fn eml_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".eml"))
        .collect()
}

fn unescape_html(s: &str) -> String {
    s.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn a_dry_run_previews_every_letter_and_sends_and_records_nothing() {
    let server = SmtpServer::start(Script::new());
    let ws = Workspace::new();
    ws.smtp(server.port());
    let (_, json) = resolve_json(&ws, SEED);
    let id = json["statement"]["id"].as_str().expect("id").to_owned();
    let letters = planned(&json);

    let output = ws.run(["dispatch", SEED, "--dry-run"]);
    assert_no_panic(&output);
    output.assert_success();
    let previews = ws.data_dir().join("previews").join(&id);
    let expected: BTreeSet<String> = letters.iter().map(|l| format!("{}.eml", l.org)).collect();
    assert_eq!(eml_files(&previews), expected);

    let index = std::fs::read_to_string(previews.join("index.html")).expect("index.html");
    for letter in &letters {
        let link = format!("href=\"{}.html\"", letter.org);
        assert!(index.contains(&link), "index.html lacks {link}");
        assert!(previews.join(format!("{}.html", letter.org)).is_file());
        for address in &letter.to {
            assert!(
                index.contains(address.as_str()),
                "index.html lacks {address}"
            );
        }
    }
    for eml in &expected {
        let bytes = std::fs::read(previews.join(eml)).expect("preview");
        assert!(MessageParser::default().parse(&bytes).is_some(), "{eml}");
    }

    assert_eq!(server.connections(), 0, "a dry run connected to the server");
    assert!(letter_states(&ws).is_empty(), "{:?}", letter_states(&ws));
    assert!(!ws.data_dir().join("outbox").exists());

    // --out puts the previews elsewhere, and only there.
    let out = ws.path().join("elsewhere/previews");
    std::fs::remove_dir_all(&previews).expect("remove the first previews");
    let output = ws.run([
        "dispatch",
        SEED,
        "--dry-run",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    output.assert_success();
    assert_eq!(eml_files(&out), expected);
    assert!(out.join("index.html").is_file());
    assert!(!previews.exists(), "wrote to the default folder too");
    assert_eq!(server.connections(), 0);
    assert!(letter_states(&ws).is_empty());

    // A folder that cannot be made is refused, named once, in the system's words.
    let file = ws.path().join("a-file");
    std::fs::write(&file, "").expect("write a file");
    let out = file.join("previews");
    let out = out.to_str().expect("utf-8");
    let output = ws.run(["dispatch", SEED, "--dry-run", "--out", out]);
    assert_refused(&output, &[&format!("{out}: Not a directory")]);
    assert_eq!(output.stderr.matches(out).count(), 1, "{}", output.stderr);
}

#[test]
fn the_seed_goes_to_the_smtp_server_once_per_organisation_and_is_journaled() {
    let ws = Workspace::new();
    widen_secretary_general(&ws);
    let (_, json) = resolve_json(&ws, SEED);
    let id = json["statement"]["id"].as_str().expect("id").to_owned();
    let letters = planned(&json);
    let n = letters.len();
    let sg = letters
        .iter()
        .find(|l| l.org == "un-secretary-general")
        .expect("the Secretary-General is an addressee");
    assert_eq!((sg.to.len(), sg.cc.len()), (2, 1), "the widened entry");

    // Each organisation's message gets its own queue id, keyed by its first address, so the
    // history can be checked against exactly what the server said to that message.
    let firsts: BTreeSet<&str> = letters.iter().map(|l| l.to[0].as_str()).collect();
    assert_eq!(firsts.len(), n, "two organisations share a first address");
    let mut script = Script::new();
    let mut replies = BTreeMap::new();
    for (i, letter) in letters.iter().enumerate() {
        let text = format!("2.0.0 Ok: queued as 7QX{i:03}K");
        script = script.on_data_end_for(&letter.to[0], Times::Always, Reply::new(250, &text));
        replies.insert(letter.org.clone(), format!("250 {text}"));
    }
    let server = SmtpServer::start(script);
    ws.smtp(server.port());

    let output = ws.run(["dispatch", SEED, "--yes"]);
    assert_no_panic(&output);
    output.assert_success();
    let received = server.wait_for(n, Duration::from_secs(10));
    assert_eq!(received.len(), n, "every letter exactly once");

    let shipped = directory(&ws);
    let statement_bytes = std::fs::read(ws.path().join(SEED)).expect("seed");
    let statement_name = Path::new(SEED).file_name().expect("name").to_string_lossy();
    let mut seen = BTreeSet::new();
    for message in &received {
        let parsed = MessageParser::default()
            .parse(&message.data)
            .unwrap_or_else(|| panic!("not a MIME message:\n{}", message.text()));
        let message_id = parsed.message_id().expect("a Message-ID").to_owned();
        let org = message_id
            .strip_prefix(&format!("{id}."))
            .and_then(|rest| rest.strip_suffix("@ombudsman.example"))
            .unwrap_or_else(|| panic!("Message-ID `{message_id}`"))
            .to_owned();
        assert!(seen.insert(org.clone()), "`{org}` received twice");
        let letter = letters
            .iter()
            .find(|l| l.org == org)
            .unwrap_or_else(|| panic!("a message for `{org}`, which is not an addressee"));

        // Envelope: To and Cc, nothing else.
        let mut envelope: Vec<String> = message.rcpt_to.iter().map(|a| a.to_lowercase()).collect();
        envelope.sort();
        let mut wanted: Vec<String> = letter.to.iter().chain(&letter.cc).cloned().collect();
        wanted.sort();
        assert_eq!(envelope, wanted, "{org}");
        assert_eq!(message.mail_from, "statements@ombudsman.example");

        // Headers.
        let header = |address: Option<&mail_parser::Address<'_>>| -> Vec<String> {
            address
                .map(|a| {
                    a.iter()
                        .map(|x| x.address().expect("an address").to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(header(parsed.to()), letter.to, "{org}: To");
        assert_eq!(header(parsed.cc()), letter.cc, "{org}: Cc");
        assert_eq!(header(parsed.from()), ["statements@ombudsman.example"]);
        assert_eq!(header(parsed.reply_to()), ["office@ombudsman.example"]);
        assert!(
            parsed.subject().is_some_and(|s| !s.trim().is_empty()),
            "{org}"
        );

        // Body: a text and an HTML part naming the organisation, and the statement attached.
        let name = &shipped[&org].name;
        let text = parsed.body_text(0).expect("a text part");
        assert!(
            text.contains(name.as_str()),
            "{org}: the text does not name `{name}`"
        );
        let html = parsed.body_html(0).expect("an HTML part");
        assert!(
            unescape_html(&html).contains(name.as_str()),
            "{org}: the HTML does not name `{name}`"
        );
        assert_eq!(parsed.attachment_count(), 1, "{org}");
        let attachment = parsed.attachment(0).expect("the attachment");
        assert_eq!(
            attachment.attachment_name(),
            Some(&*statement_name),
            "{org}"
        );
        assert_eq!(attachment.contents(), statement_bytes.as_slice(), "{org}");
        assert!(
            message
                .data
                .split(|&b| b == b'\n')
                .all(|line| line.len() <= 998),
            "{org}: a line over 998 octets"
        );
    }

    // The history holds the reply the server gave to each message.
    let history = ws.run(["history", "--format", "json"]);
    history.assert_success();
    let rows = history.json();
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), n);
    for row in rows {
        let org = row["organization"].as_str().expect("organization");
        let letter = letters
            .iter()
            .find(|l| l.org == org)
            .expect("a planned letter");
        assert_eq!(row["statement_id"], id.as_str());
        assert_eq!(row["status"], "sent", "{row}");
        assert_eq!(row["attempts"], 1, "{row}");
        assert_eq!(row["smtp_code"], 250, "{row}");
        assert_eq!(row["smtp_reply"], replies[org].as_str(), "{row}");
        assert_eq!(row["message_id"], format!("<{id}.{org}@ombudsman.example>"));
        assert_eq!(strings(&row["to"]), letter.to);
        assert!(row["updated_at"].as_str().is_some_and(|s| !s.is_empty()));
    }

    // Again: nothing goes out, and the count comes from what resolve planned.
    let again = ws.run(["dispatch", SEED, "--yes"]);
    again.assert_success();
    assert!(
        again
            .stdout
            .contains(&format!("{n} of {n} already delivered")),
        "{}",
        again.stdout
    );
    assert_eq!(
        server.messages().len(),
        n,
        "a second dispatch sent something"
    );

    ws.run(["verify"]).assert_success();
}

#[test]
fn without_a_terminal_and_without_yes_nothing_is_sent() {
    let server = SmtpServer::start(Script::new());
    let ws = Workspace::new();
    ws.smtp(server.port());
    // An answer on stdin is no confirmation: nobody saw the question.
    let output = ws.herald(["dispatch", SEED]).stdin("y\n").run();
    assert_refused(&output, &["--yes"]);
    assert_eq!(server.connections(), 0);
    assert!(letter_states(&ws)
        .iter()
        .all(|(_, _, state)| state == "pending"));
}

#[test]
fn the_readme_main_job_writes_one_eml_per_letter_to_the_outbox() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let command = readme
        .lines()
        .find(|l| l.trim_start().starts_with("cargo run -- dispatch"))
        .expect("the main-job command in README.md");
    let command = command.split('#').next().expect("the command");
    let args: Vec<&str> = command
        .split_whitespace()
        .skip_while(|w| *w != "--")
        .skip(1)
        .collect();
    assert_eq!(args.first(), Some(&"dispatch"), "{command}");

    let ws = Workspace::new();
    assert_eq!(ws.config()["transport"]["kind"].as_str(), Some("file"));
    let (_, json) = resolve_json(&ws, args[1]);
    let id = json["statement"]["id"].as_str().expect("id").to_owned();
    let letters = planned(&json);

    let output = ws.run(args.clone());
    assert_no_panic(&output);
    output.assert_success();
    let outbox = ws.data_dir().join("outbox").join(&id);
    let expected: BTreeSet<String> = letters.iter().map(|l| format!("{}.eml", l.org)).collect();
    assert_eq!(eml_files(&outbox), expected);
    for letter in &letters {
        let bytes = std::fs::read(outbox.join(format!("{}.eml", letter.org))).expect("eml");
        let parsed = MessageParser::default().parse(&bytes).expect("MIME");
        assert_eq!(
            parsed.message_id(),
            Some(format!("{id}.{}@ombudsman.example", letter.org).as_str())
        );
    }
    let states = letter_states(&ws);
    assert_eq!(states.len(), letters.len());
    assert!(states.iter().all(|(_, _, s)| s == "sent"), "{states:?}");

    let again = ws.run(args);
    again.assert_success();
    let n = letters.len();
    assert!(
        again
            .stdout
            .contains(&format!("{n} of {n} already delivered")),
        "{}",
        again.stdout
    );
}

/// The seed with one word changed: a new statement (new id), the same title and file name.
fn corrected_seed(ws: &Workspace) -> std::path::PathBuf {
    let seed = ws.read(SEED);
    let corrected = seed.replacen("at around 03:00 a.m.", "at about 03:00 a.m.", 1);
    assert_ne!(seed, corrected, "the seed changed shape");
    ws.write(SEED, corrected);
    ws.path().join(SEED)
}

#[test]
fn a_corrected_statement_is_sent_again_but_never_without_a_warning() {
    // Regression: one word changed, `dispatch --yes` sent all 42 letters again without a word.
    let ws = Workspace::new();
    let (_, first) = resolve_json(&ws, SEED);
    let first_id = first["statement"]["id"].as_str().expect("id").to_owned();
    let n = planned(&first).len();
    ws.run(["dispatch", SEED, "--yes"]).assert_success();

    // Before: the same statement again is no correction, so no note.
    let (_, same) = resolve_json(&ws, SEED);
    assert!(same.get("already_received").is_none(), "{same:#}");

    corrected_seed(&ws);
    let warning = format!(
        "{n} of these organisations already received statement {first_id} «{}»",
        first["statement"]["title"].as_str().expect("title")
    );
    let (_, json) = resolve_json(&ws, SEED);
    let second_id = json["statement"]["id"].as_str().expect("id").to_owned();
    assert_ne!(second_id, first_id);
    let earlier = &json["already_received"][0];
    assert_eq!(earlier["id"], first_id.as_str(), "{json:#}");
    assert_eq!(earlier["organizations"].as_array().map(Vec::len), Some(n));
    for command in [vec!["resolve", SEED], vec!["check", SEED]] {
        let output = ws.run(command.clone());
        output.assert_success();
        assert!(
            output.stdout.contains("note") && output.stdout.contains(&warning),
            "{command:?}\n{}",
            output.stdout
        );
    }
    let dry = ws.run(["dispatch", SEED, "--dry-run"]);
    dry.assert_success();
    assert!(dry.stdout.contains(&warning), "{}", dry.stdout);

    // Without a terminal nothing is sent; with --yes it goes out, warned about.
    ws.run(["dispatch", SEED]).assert_code(2);
    let output = ws.run(["dispatch", SEED, "--yes"]);
    output.assert_success();
    assert!(
        output.stderr.contains(&format!("warning: {warning}"))
            && output.stderr.contains("they will receive it again"),
        "{}",
        output.stderr
    );
    let states = letter_states(&ws);
    let sent = |id: &str| {
        states
            .iter()
            .filter(|(s, _, state)| s == id && state == "sent")
            .count()
    };
    assert_eq!((sent(&first_id), sent(&second_id)), (n, n));
}

#[test]
fn commands_are_pipelined_exactly_when_the_server_offers_it() {
    for offered in [true, false] {
        let script = if offered {
            Script::new()
        } else {
            Script::new().without_pipelining()
        };
        let server = SmtpServer::start(script);
        let ws = Workspace::new();
        ws.smtp(server.port());
        // One letter with three addresses (two To, one Cc): three RCPTs in one transaction.
        widen_secretary_general(&ws);
        let (_, json) = resolve_json(&ws, SEED);
        let letters = planned(&json);

        let output = ws.run(["dispatch", SEED, "--yes"]);
        assert_no_panic(&output);
        output.assert_success();
        assert_eq!(server.messages().len(), letters.len(), "offered: {offered}");

        let pipelined = server.pipelined_commands();
        if offered {
            // Every RCPT and every DATA were already there when the command before them was
            // read: MAIL, RCPT… and DATA left in one write. Nothing else was pipelined.
            let count = |verb: &str| {
                pipelined
                    .iter()
                    .filter(|(_, c)| c.starts_with(verb))
                    .count()
            };
            let addresses: usize = letters.iter().map(|l| l.to.len() + l.cc.len()).sum();
            assert_eq!(count("RCPT TO:"), addresses, "{pipelined:?}");
            assert_eq!(count("DATA"), letters.len(), "{pipelined:?}");
            assert_eq!(pipelined.len(), addresses + letters.len(), "{pipelined:?}");
        } else {
            assert!(pipelined.is_empty(), "{pipelined:?}");
        }
    }
}
