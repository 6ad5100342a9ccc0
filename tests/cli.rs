//! The command line as a person or a script meets it: a closed pipe, the confirmation prompt,
//! `herald cancel`, what `history` and `verify` say, and what reaches the terminal.

use crate::common::{assert_no_panic, assert_refused, letter_states, resolve_json, SEED};
use crate::support::smtp::{Reply, Script, SmtpServer, Times};
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
    ws.run(["dispatch", SEED, "--yes"]).assert_success();
    ws
}

/// Regression: `herald history --format json | head -3` and the readers under `| true` panicked
/// (exit 101, "failed printing to stdout: Broken pipe"); `resolve` exited 2. A closed standard
/// output now ends the run quietly with 141, as a shell reports a program SIGPIPE stopped.
#[test]
fn a_closed_stdout_ends_every_reader_quietly_with_141() {
    let ws = dispatched_seed();
    let commands: [&[&str]; 7] = [
        &["history"],
        &["history", "--format", "json"],
        &["history", "--format", "csv"],
        &["status"],
        &["verify"],
        &["check", SEED],
        &["resolve", SEED],
    ];
    for args in commands {
        let output = ws.herald(args.iter().copied()).closed_stdout().run();
        assert_no_panic(&output);
        assert_eq!(output.status, 141, "{args:?}: {output:?}");
        assert_eq!(output.stderr, "", "{args:?} is not quiet");
    }
    // The command's own failure still decides: an altered journal is exit 1, pipe or not.
    let db = rusqlite::Connection::open(ws.data_dir().join("herald.db")).expect("journal");
    db.execute_batch(
        "DROP TRIGGER events_no_update; UPDATE events SET detail = '{}' WHERE id = 1;",
    )
    .expect("alter the journal");
    drop(db);
    let output = ws.herald(["verify"]).closed_stdout().run();
    assert_no_panic(&output);
    output.assert_code(1);
}

/// The seed's id and title, as `resolve` reports them.
fn seed_identity(ws: &Workspace) -> (String, String) {
    let (_, json) = resolve_json(ws, SEED);
    let id = json["statement"]["id"].as_str().expect("id").to_owned();
    let title = json["statement"]["title"]
        .as_str()
        .expect("title")
        .to_owned();
    (id, title)
}

/// Regression: declining the prompt (or no `--yes` off a terminal) registered the statement and
/// left its letters `pending` for ever. Now nothing at all is written before a yes.
#[test]
fn declining_or_no_terminal_writes_nothing_to_the_journal() {
    let server = SmtpServer::start(Script::new());
    let ws = Workspace::new();
    ws.smtp(server.port());
    let journal = ws.data_dir().join("herald.db");

    let output = ws.herald(["dispatch", SEED]).stdin("y\n").run();
    assert_refused(&output, &["--yes", "nothing was sent or recorded"]);
    assert!(!journal.exists(), "a journal was created off a terminal");

    let output = ws.herald(["dispatch", SEED]).terminal().stdin("n\n").run();
    assert_no_panic(&output);
    output.assert_code(1);
    assert!(
        output
            .stderr
            .contains("not confirmed; nothing was sent or recorded"),
        "{}",
        output.stderr
    );
    assert!(!journal.exists(), "declining created a journal");
    assert_eq!(server.connections(), 0);

    // With a journal holding another statement, declining adds nothing to it either.
    let small = ws.statement("small.txt", SMALL);
    ws.run(["dispatch", small.to_str().expect("path"), "--yes"])
        .assert_success();
    let before = letter_states(&ws);
    let events = |ws: &Workspace| -> i64 {
        ws.journal()
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .expect("count events")
    };
    let events_before = events(&ws);
    let output = ws.herald(["dispatch", SEED]).terminal().stdin("no\n").run();
    output.assert_code(1);
    assert_eq!(letter_states(&ws), before);
    assert_eq!(events(&ws), events_before);
    let statements: i64 = ws
        .journal()
        .query_row("SELECT count(*) FROM statements", [], |r| r.get(0))
        .expect("count statements");
    assert_eq!(statements, 1);
}

/// Regression: the question was only "send 42 letters to 42 organisations via …?": it now names
/// the statement (id and title) and how many organisations, and `l` lists them first.
#[test]
fn the_prompt_names_the_statement_and_lists_the_organisations() {
    let server = SmtpServer::start(Script::new());
    let ws = Workspace::new();
    ws.smtp(server.port());
    let (id, title) = seed_identity(&ws);
    let (_, json) = resolve_json(&ws, SEED);
    let letters = json["letters"].as_array().expect("letters").len();

    let output = ws
        .herald(["dispatch", SEED])
        .terminal()
        .stdin("l\nn\n")
        .run();
    assert_no_panic(&output);
    output.assert_code(1);
    let shown = &output.stderr;
    assert!(shown.contains(&id) && shown.contains(&title), "{shown}");
    assert!(
        shown.contains(&format!("{letters} organisations")),
        "{shown}"
    );
    assert!(shown.contains("[l]ist"), "{shown}");
    // The list: every organisation's id and address, then the question again.
    for letter in json["letters"].as_array().expect("letters") {
        let org = letter["organization"].as_str().expect("organization");
        let to = letter["to"][0].as_str().expect("an address");
        assert!(
            shown.contains(org) && shown.contains(to),
            "{org} not listed:\n{shown}"
        );
    }
    assert_eq!(shown.matches("[y]es, [n]o").count(), 2, "{shown}");
    assert_eq!(server.connections(), 0);

    // And yes sends.
    let output = ws.herald(["dispatch", SEED]).terminal().stdin("y\n").run();
    output.assert_success();
    assert_eq!(server.messages().len(), letters);
}

fn event_details(ws: &Workspace, to_state: &str) -> Vec<(String, String, String)> {
    let db = ws.journal();
    let mut query = db
        .prepare("SELECT organization, from_state, detail FROM events WHERE to_state = ?1")
        .expect("query events");
    query
        .query_map([to_state], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("events")
        .map(|r| r.expect("an event"))
        .collect()
}

/// Turns the workspace's journal back into a schema version 1 file: the `letters` table with the
/// CHECK of version 1, which has no `cancelled`.
fn downgrade_to_v1(ws: &Workspace) {
    let db = rusqlite::Connection::open(ws.data_dir().join("herald.db")).expect("journal");
    db.execute_batch(
        "PRAGMA foreign_keys = OFF;
         BEGIN;
         CREATE TABLE letters_v1 (
            statement_id TEXT NOT NULL REFERENCES statements(id),
            organization TEXT NOT NULL, to_addresses TEXT NOT NULL, cc_addresses TEXT NOT NULL,
            message_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN
                ('pending', 'sending', 'sent', 'partial', 'deferred', 'failed', 'uncertain')),
            attempts INTEGER NOT NULL DEFAULT 0,
            consecutive_failures INTEGER NOT NULL DEFAULT 0, smtp_code INTEGER, smtp_reply TEXT,
            recipients TEXT NOT NULL DEFAULT '[]', next_attempt_at TEXT, claimed_by TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (statement_id, organization));
         INSERT INTO letters_v1 SELECT * FROM letters;
         DROP TABLE letters;
         ALTER TABLE letters_v1 RENAME TO letters;
         CREATE INDEX letters_by_state ON letters (state, next_attempt_at);
         CREATE INDEX letters_by_update ON letters (updated_at);
         PRAGMA user_version = 1;
         COMMIT;",
    )
    .expect("downgrade the journal");
    let refused =
        db.execute_batch("UPDATE letters SET state = 'cancelled' WHERE organization = 'unesco'");
    assert!(refused.is_err(), "the version 1 table took `cancelled`");
}

fn verify_ok(ws: &Workspace) -> Output {
    let output = ws.run(["verify"]);
    assert_no_panic(&output);
    output.assert_success();
    output
}

/// A workspace whose SMALL statement was dispatched to a server that defers the Council of
/// Europe's letter for an hour: one letter `deferred`, the others `sent`. Returns the server
/// (keep it alive), the workspace and the statement's path.
fn small_dispatched_with_coe_deferred() -> (SmtpServer, Workspace, String) {
    let server = SmtpServer::start(Script::new().on_data_end_for(
        "secretary-general@coe.example",
        Times::Always,
        Reply::retry_in(451, 3600),
    ));
    let ws = Workspace::new();
    ws.smtp(server.port());
    let small = ws.statement("small.txt", SMALL);
    let small = small.to_str().expect("path").to_owned();
    ws.run(["dispatch", &small, "--yes"]).assert_code(1);
    (server, ws, small)
}

/// `herald cancel` withdraws the letters never offered to a server (here a deferred one) and
/// leaves the sent one; it records who and when; the journal (a version 1 file, upgraded in
/// place) stays intact, and dispatching again sends nothing and is not a failure.
#[test]
fn cancel_withdraws_unsent_letters_on_a_journal_upgraded_from_version_1() {
    let (server, ws, small) = small_dispatched_with_coe_deferred();
    let mut states = letter_states(&ws);
    states.sort();
    let id = states[0].0.clone();
    let state_of = |ws: &Workspace, org: &str| -> String {
        letter_states(ws)
            .into_iter()
            .find(|(_, o, _)| o == org)
            .map(|(_, _, s)| s)
            .expect("the letter")
    };
    assert_eq!(state_of(&ws, "council-of-europe"), "deferred");
    assert_eq!(state_of(&ws, "unesco"), "sent");
    let head_before = verify_ok(&ws).stdout;

    downgrade_to_v1(&ws);
    let output = ws
        .herald(["cancel", &id, "--yes"])
        .env("USER", "clerk-anna")
        .run();
    assert_no_panic(&output);
    output.assert_success();
    assert!(
        output
            .stdout
            .contains("1 letter cancelled by clerk-anna: council-of-europe"),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("1 sent"), "{}", output.stdout);
    assert_eq!(state_of(&ws, "council-of-europe"), "cancelled");
    assert_eq!(state_of(&ws, "unesco"), "sent");

    let db = ws.journal();
    let version: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 2);
    let triggers: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'",
            [],
            |r| r.get(0),
        )
        .expect("triggers");
    assert_eq!(triggers, 2, "the events' triggers are gone");
    drop(db);
    let cancelled = event_details(&ws, "cancelled");
    assert_eq!(cancelled.len(), 1, "{cancelled:?}");
    assert_eq!(cancelled[0].0, "council-of-europe");
    assert_eq!(cancelled[0].1, "deferred");
    assert!(
        cancelled[0].2.contains("\"cancelled_by\":\"clerk-anna\""),
        "{}",
        cancelled[0].2
    );

    // The chain noted before the upgrade is still there, and the whole journal verifies.
    let old_head = head_before
        .split("head ")
        .nth(1)
        .expect("a head")
        .trim()
        .replace(' ', ":");
    let output = ws.run(["verify", "--expect-head", &old_head]);
    output.assert_success();

    let history = ws.run(["history", "--status", "cancelled", "--format", "json"]);
    history.assert_success();
    let rows = history.json();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    let status = ws.run(["status"]);
    status.assert_success();
    assert!(status.stdout.contains("1 cancelled"), "{}", status.stdout);
    assert!(status.stdout.contains("0 in progress"), "{}", status.stdout);

    // Nothing left to send: no connection, and not a failure.
    let connections = server.connections();
    let again = ws.run(["dispatch", &small, "--yes"]);
    again.assert_success();
    assert!(
        again
            .stdout
            .contains("1 of 2 already delivered, 1 cancelled"),
        "{}",
        again.stdout
    );
    assert_eq!(server.connections(), connections);

    // A second cancel finds nothing more; an unknown id is refused.
    let output = ws.run(["cancel", &id, "--yes"]);
    output.assert_success();
    assert!(
        output.stdout.contains("no letter to cancel"),
        "{}",
        output.stdout
    );
    assert_refused(
        &ws.run(["cancel", "2021-01-01-00000000", "--yes"]),
        &["no statement"],
    );
}

/// Regression: `verify --expect-head` with the right hash under a wrong number said "journal
/// altered … rewritten"; the journal is intact, the number is what does not match.
#[test]
fn a_right_head_hash_with_a_wrong_number_says_the_number_does_not_match() {
    let ws = dispatched_seed();
    let output = verify_ok(&ws);
    let head = output.stdout.split("head #").nth(1).expect("a head").trim();
    let (id, hash) = head.split_once(' ').expect("#ID HASH");
    let id: i64 = id.parse().expect("an event id");
    ws.run(["verify", "--expect-head", &format!("#{id}:{hash}")])
        .assert_success();

    let output = ws.run(["verify", "--expect-head", &format!("#{}:{hash}", id - 3)]);
    assert_no_panic(&output);
    output.assert_code(2);
    let said = format!("{}{}", output.stdout, output.stderr);
    assert!(said.contains("head number does not match"), "{said}");
    assert!(said.contains(&format!("event #{id}")), "{said}");
    assert!(
        !said.contains("altered") && !said.contains("rewritten"),
        "{said}"
    );
}

/// Regression: `history --organization OSCE` found nothing (ids are lower case), and the table
/// ran past 100 columns without the address the letter went to. Now the filter ignores case,
/// every line fits 100 columns and names the To address, and `--wide` shows the whole reply.
#[test]
fn history_matches_any_case_fits_100_columns_and_wide_shows_the_full_reply() {
    let long_reply = format!(
        "2.0.0 Ok: queued as 4F2K9 {}",
        "and-a-long-tail ".repeat(10)
    );
    let long_reply = long_reply.trim_end();
    let server = SmtpServer::start(Script::new().on_data_end_for(
        "pm@osce.example",
        Times::Always,
        Reply::new(250, long_reply),
    ));
    let ws = Workspace::new();
    ws.smtp(server.port());
    ws.run(["dispatch", SEED, "--yes"]).assert_success();
    let (_, json) = resolve_json(&ws, SEED);
    let letters = json["letters"].as_array().expect("letters");

    for filter in ["OSCE", "osce", "Osce"] {
        let output = ws.run(["history", "--organization", filter]);
        output.assert_success();
        assert!(
            output.stdout.contains("osce"),
            "{filter}: {}",
            output.stdout
        );
        assert_eq!(
            output.stdout.lines().count(),
            3,
            "{filter}: {}",
            output.stdout
        );
    }

    let table = ws.run(["history"]);
    table.assert_success();
    for line in table.stdout.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    for letter in letters {
        let to = letter["to"][0].as_str().expect("an address");
        assert!(
            table.stdout.contains(&format!("to {to}")),
            "{to} missing:\n{}",
            table.stdout
        );
    }
    assert!(!table.stdout.contains(long_reply), "{}", table.stdout);

    let wide = ws.run(["history", "--organization", "OSCE", "--wide"]);
    wide.assert_success();
    assert!(
        wide.stdout.contains(&format!("250 {long_reply}")),
        "{}",
        wide.stdout
    );
}

/// Regression: a config folder copied elsewhere failed with only `<folder>/recipients: cannot
/// read the recipients folder`. The message now says that paths are relative to the config
/// file's folder, names the config file and the path it resolved to.
#[test]
fn a_copied_config_folder_says_paths_are_relative_to_the_config_file() {
    let shipped = Workspace::new();
    let ws = Workspace::empty();
    ws.write("config/herald.toml", shipped.read("config/herald.toml"));
    let config = ws.config_path();
    let resolved = ws.path().join("recipients");
    for args in [
        vec!["check"],
        vec!["resolve", "x.txt"],
        vec!["dispatch", "x.txt", "--yes"],
    ] {
        let output = ws.run(args.clone());
        assert_refused(
            &output,
            &[
                "relative to that file's folder",
                &config.display().to_string(),
                &resolved.display().to_string(),
                "`[paths] recipients`",
            ],
        );
    }
    let output = ws.run(["check"]);
    assert!(
        output.stderr.contains("`[paths] templates`"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("check found 2 problems"),
        "{}",
        output.stderr
    );
}

/// Regression: with the config file in the current folder, named as `--config herald.toml`, the
/// message said paths are read "relative to that file's folder (), not to the current folder":
/// an empty folder, and a distinction that does not exist there.
#[test]
fn a_config_in_the_current_folder_is_not_told_apart_from_it() {
    let shipped = Workspace::new();
    let ws = Workspace::empty();
    ws.write("herald.toml", shipped.read("config/herald.toml"));
    let output = ws.herald(["check"]).config("herald.toml").run();
    assert_refused(
        &output,
        &[
            "the recipients folder ",
            "in the config file herald.toml names it relative to the folder of that file, the \
             current folder",
            "`[paths] recipients`",
        ],
    );
    assert!(!output.stderr.contains("()"), "{}", output.stderr);
    assert!(
        !output.stderr.contains("not to the current folder"),
        "{}",
        output.stderr
    );
}

/// Regression: `HERALD_CONFIG=` (set but empty, as `export HERALD_CONFIG=` leaves it) stopped
/// every command with clap's "a value is required for '--config <CONFIG>'". Empty means unset:
/// the default `config/herald.toml` under the current folder.
#[test]
fn an_empty_herald_config_means_the_default() {
    let ws = Workspace::new();
    let output = ws
        .herald(["check"])
        .without_config()
        .env("HERALD_CONFIG", "")
        .run();
    output.assert_success();
    assert!(
        output.stdout.contains("config/herald.toml: ok"),
        "{}",
        output.stdout
    );
}

/// The shipped `recipients/un.toml` with `edit` applied to its first line that satisfies `pick`;
/// returns the 1-based number of that line.
fn edit_un_toml(
    ws: &Workspace,
    pick: impl Fn(&str) -> bool,
    edit: impl Fn(&str) -> String,
) -> usize {
    let text = ws.read("recipients/un.toml");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let at = lines.iter().position(|l| pick(l)).expect("a line to edit");
    lines[at] = edit(&lines[at]);
    ws.recipients("un.toml", &(lines.join("\n") + "\n"));
    at + 1
}

/// Regression: one missing `]` gave 111 error lines, the first naming the next line, none the
/// line of the mistake; `language = fr` said "invalid boolean". Now: one message per file, at
/// the line and column of the mistake, with the line and a caret, and quotes shown.
#[test]
fn one_toml_mistake_gives_one_message_at_its_place() {
    let ws = Workspace::new();
    let line = edit_un_toml(
        &ws,
        |l| l.starts_with("emails = [") && l.ends_with(']'),
        |l| l.trim_end_matches(']').to_string(),
    );
    let output = ws.run(["check"]);
    assert_refused(&output, &["check found 1 problem"]);
    let said = &output.stderr;
    assert!(
        said.contains(&format!("un.toml:{line}: a `]` is missing here")),
        "{said}"
    );
    assert_eq!(said.matches('^').count(), 1, "{said}");
    assert!(said.lines().count() <= 8, "{said}");

    let ws = Workspace::new();
    let line = edit_un_toml(
        &ws,
        |l| l.starts_with("language = \""),
        |_| "language = fr".into(),
    );
    let output = ws.run(["check"]);
    assert_refused(&output, &["check found 1 problem", "language = \"fr\""]);
    assert!(
        output
            .stderr
            .contains(&format!("un.toml:{line}: `fr` needs quotes")),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains("boolean"), "{}", output.stderr);

    // The configuration too.
    let ws = Workspace::new();
    let config = ws.read("config/herald.toml");
    assert!(config.contains("kind = \"file\""), "{config}");
    ws.write(
        "config/herald.toml",
        config.replacen("kind = \"file\"", "kind = file", 1),
    );
    let output = ws.run(["check"]);
    assert_refused(&output, &["`file` needs quotes", "kind = \"file\"", "^"]);
}

/// Regression: values were printed raw: a file name with a line break faked lines of `status`,
/// and ESC and BEL from a title reached the terminal. Every control character in a value is now
/// printed escaped.
#[test]
fn control_characters_in_values_never_reach_the_terminal_raw() {
    let ws = Workspace::new();
    let title = "Statement on cultural heritage \u{1b}[2J\u{7} in Kalbajar";
    let text = SMALL.replacen("Statement on cultural heritage in Kalbajar", title, 1);
    let path = ws.statement("escape.txt", &text);
    let output = ws.run(["resolve", path.to_str().expect("path")]);
    output.assert_success();
    assert!(
        !output.stdout.contains('\u{1b}') && !output.stdout.contains('\u{7}'),
        "{:?}",
        output.stdout
    );
    assert!(
        output.stdout.contains("\\u{1b}[2J\\u{7}"),
        "{}",
        output.stdout
    );

    // A file in the inbox whose name holds a line break and an escape sequence.
    ws.write(
        "var/inbox/evil\nstatements: 99 in progress\u{1b}[1A.txt",
        SMALL,
    );
    let output = ws.run(["status"]);
    output.assert_success();
    assert!(!output.stdout.contains('\u{1b}'), "{:?}", output.stdout);
    assert!(
        !output
            .stdout
            .lines()
            .any(|l| l.starts_with("statements: 99")),
        "a file name faked a line:\n{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("evil\\nstatements: 99 in progress\\u{1b}[1A.txt"),
        "{}",
        output.stdout
    );
}

/// Withdrawing letters cannot be undone, so `cancel` asks first as `dispatch` does: "no" on a
/// terminal withdraws nothing (exit 1), and where nobody can be asked `--yes` is needed (exit 2).
#[test]
fn cancel_asks_before_withdrawing() {
    let (_server, ws, _) = small_dispatched_with_coe_deferred();
    let id = letter_states(&ws)[0].0.clone();
    let deferred = |ws: &Workspace| {
        letter_states(ws)
            .iter()
            .filter(|(_, _, s)| s == "deferred")
            .count()
    };
    assert_eq!(deferred(&ws), 1);

    let output = ws.run(["cancel", &id]);
    assert_refused(&output, &["--yes"]);
    assert_eq!(deferred(&ws), 1, "withdrawn without confirmation");

    let output = ws.herald(["cancel", &id]).terminal().stdin("n\n").run();
    assert_no_panic(&output);
    output.assert_code(1);
    assert!(
        output.stderr.contains("withdraw 1 letter of")
            && output.stderr.contains("nothing was withdrawn"),
        "{}",
        output.stderr
    );
    assert_eq!(deferred(&ws), 1, "withdrawn though the answer was no");

    let output = ws.herald(["cancel", &id]).terminal().stdin("y\n").run();
    output.assert_success();
    assert_eq!(deferred(&ws), 0);
}
