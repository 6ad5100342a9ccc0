//! The daemon and what lands in its inbox besides a clean statement: files it does not take,
//! links, a statement dropped again, names at the file system's limit, a broken recipients
//! directory; and what its log says.

use std::path::Path;
use std::time::Duration;

use super::{
    drop_in, inbox, names, report_of, start, statuses, stop, wait_until, workspace, DEADLINE, SMALL,
};
use crate::support::smtp::{Reply, Script, SmtpServer};
use crate::support::workspace::Workspace;

/// A statement to three organisations with its own title (not a correction of `SMALL`).
fn other(title: &str) -> String {
    SMALL.replace("Statement on the daemon", title)
}

/// Whether process `pid` has an inotify watch set up (its fdinfo lists a watch descriptor).
fn watching(pid: u32) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .any(|fd| std::fs::read_to_string(fd.path()).is_ok_and(|info| info.contains("inotify wd:")))
}

fn rename_in(ws: &Workspace, from: &Path, name: &str) {
    std::fs::create_dir_all(inbox(ws)).expect("create the inbox");
    std::fs::rename(from, inbox(ws).join(name)).expect("rename into the inbox");
}

/// Regression: a `.docx` dropped into the inbox stayed there with no log line, and `herald
/// status` said `inbox: empty`. What herald does not take goes to `rejected/` with an error file
/// saying why and what to do; the log says so; status lists it as needing attention.
#[test]
fn what_herald_does_not_take_is_rejected_with_what_to_do() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    let daemon = start(&ws);
    drop_in(&ws, "statement.docx", "PK\u{3}\u{4} a Word document");
    drop_in(&ws, "statement.pdf", "%PDF-1.7");
    drop_in(&ws, "statement", SMALL);
    let folder = ws.path().join("staging/a folder");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join("inside.txt"), SMALL).expect("write");
    rename_in(&ws, &folder, "a folder");

    let rejected = ws.data_dir().join("rejected");
    let error = |name: &str| rejected.join(format!("{name}.error.txt"));
    wait_until("four error files", || {
        ["statement.docx", "statement.pdf", "statement", "a folder"]
            .iter()
            .all(|n| error(n).is_file())
    });
    let read = |name: &str| std::fs::read_to_string(error(name)).expect("error file");
    let docx = read("statement.docx");
    assert!(
        docx.contains("`statement.docx` is a word-processor document (`.docx`)")
            && docx.contains("`*.txt` or `*.md`")
            && docx.contains("save it as plain text")
            && docx.contains("nothing was sent"),
        "{docx}"
    );
    assert!(read("statement.pdf").contains("a PDF document"));
    assert!(
        read("statement").contains("without an extension")
            && read("statement").contains("rename it to end in `.txt`")
    );
    assert!(read("a folder").contains("is a folder"));
    assert!(rejected.join("a folder/inside.txt").is_file());
    assert!(names(&inbox(&ws)).is_empty());

    let status = ws.run(["status", "--format", "json"]).json();
    let files: Vec<&str> = status["needs_attention"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| e["kind"] == "rejected")
        .filter_map(|e| e["file"].as_str())
        .collect();
    assert_eq!(
        files,
        ["a folder", "statement", "statement.docx", "statement.pdf"],
        "{status:#}"
    );
    let text = ws.run(["status"]).stdout;
    assert!(text.contains("REJECTED statement.docx"), "{text}");
    let log = stop(daemon, DEADLINE);
    assert!(
        log.contains("statement.docx") && log.contains("not a statement herald takes"),
        "{log}"
    );
    assert!(server.messages().is_empty());
}

/// Regression: the scan checked a file without following links and the read followed them, so a
/// link renamed into the inbox could mail a file from anywhere. A symbolic link, or a second name
/// of a file lying elsewhere, is refused as what it is; what it points to is never read.
#[test]
fn a_link_into_the_inbox_is_refused_and_what_it_points_to_is_never_sent() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    let secret = ws.write("outside/secret.txt", other("Secret text outside the inbox"));
    let daemon = start(&ws);
    let symlink = ws.path().join("staging/symlink.txt");
    std::fs::create_dir_all(ws.path().join("staging")).expect("mkdir");
    std::os::unix::fs::symlink(&secret, &symlink).expect("symlink");
    rename_in(&ws, &symlink, "symlink.txt");
    let hard = ws.path().join("staging/hard.txt");
    std::fs::hard_link(&secret, &hard).expect("hard link");
    rename_in(&ws, &hard, "hard.txt");

    let rejected = ws.data_dir().join("rejected");
    wait_until("both refused", || {
        rejected.join("symlink.txt.error.txt").is_file()
            && rejected.join("hard.txt.error.txt").is_file()
    });
    let symlink_error =
        std::fs::read_to_string(rejected.join("symlink.txt.error.txt")).expect("error file");
    assert!(symlink_error.contains("symbolic link"), "{symlink_error}");
    let hard_error =
        std::fs::read_to_string(rejected.join("hard.txt.error.txt")).expect("error file");
    assert!(hard_error.contains("hard link"), "{hard_error}");
    // A statement dropped after them goes out: the daemon looked at them and went on.
    drop_in(&ws, "small.txt", SMALL);
    server.wait_for(3, DEADLINE);
    stop(daemon, DEADLINE);
    assert_eq!(server.messages().len(), 3);
    assert!(
        server
            .messages()
            .iter()
            .all(|m| !m.text().contains("Secret text outside the inbox")),
        "the linked file was sent"
    );
    assert!(secret.is_file(), "the file outside is left where it was");
}

/// Regression: dropping an unchanged, fully sent statement again logged "they will receive it
/// again" and "held", then "skipped". The same text (same id) is no correction: it is filed with
/// "already dispatched on <date>, nothing to send", and nothing else is said or sent.
#[test]
fn a_statement_dropped_again_is_filed_as_already_dispatched() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    let daemon = start(&ws);
    drop_in(&ws, "small.txt", SMALL);
    server.wait_for(3, DEADLINE);
    let processed = ws.data_dir().join("processed");
    wait_until("the first drop in processed/", || {
        processed.join("small.txt").is_file()
    });
    let first = report_of(&ws).expect("report");

    // The same text re-saved with CRLF under another name: the same statement.
    drop_in(&ws, "small copy.txt", &SMALL.replace('\n', "\r\n"));
    wait_until("the second drop in processed/", || {
        processed.join("small copy.txt").is_file()
    });
    // And once more under the first name.
    drop_in(&ws, "small.txt", SMALL);
    wait_until("the third drop in processed/", || {
        processed.join("small.1.txt").is_file()
    });
    let status = ws.run(["status", "--format", "json"]).json();
    let log = stop(daemon, DEADLINE);
    let id = first["statement"]["id"].as_str().expect("id");
    assert_eq!(
        log.matches(&format!("statement {id} was already dispatched on 20"))
            .count(),
        2,
        "{log}"
    );
    assert!(log.contains(" UTC: nothing to send (3 sent)"), "{log}");
    for alarm in ["receive it again", "held", "herald approve", "skipped"] {
        assert!(!log.contains(alarm), "`{alarm}` in\n{log}");
    }
    assert_eq!(server.messages().len(), 3, "nothing sent again");
    assert_eq!(status["in_progress"], serde_json::json!([]), "{status:#}");
    let report = report_of(&ws).expect("report");
    assert_eq!(
        report["already_received"],
        serde_json::json!([]),
        "{report:#}"
    );
    assert!(statuses(&report).values().all(|s| s == "sent"));
    assert!(names(&inbox(&ws)).is_empty());
}

/// Regression: a 255-byte name could not get its `.error.txt` in `rejected/`, nor be numbered in
/// `processed/`: the daemon exited 2 at every start. Names are shortened to fit; the daemon goes
/// on.
#[test]
fn names_at_the_length_limit_are_shortened_and_the_daemon_goes_on() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    // Two versions under one name are corrections of each other: let them go out unheld.
    ws.set("daemon", "hold_corrections", false);
    let long = format!("{}.txt", "é".repeat(125) + "a");
    assert_eq!(long.len(), 255);
    let daemon = start(&ws);
    let bad = SMALL.replace("the Council of Europe", "the Counsil of Europe");
    drop_in(&ws, &long, &bad);
    let rejected = ws.data_dir().join("rejected");
    wait_until("the refused statement and its error file", || {
        names(&rejected).len() == 2
    });
    let in_rejected = names(&rejected);
    assert!(
        in_rejected.iter().all(|n| n.len() <= 255),
        "{in_rejected:?}"
    );
    let error = in_rejected
        .iter()
        .find(|n| n.ends_with(".txt.error.txt"))
        .expect("an error file");
    let error = std::fs::read_to_string(rejected.join(error)).expect("error file");
    assert!(error.contains("Counsil of Europe"), "{error}");

    let processed = ws.data_dir().join("processed");
    let filed = || {
        names(&processed)
            .into_iter()
            .filter(|n| !n.ends_with(".report.json"))
            .collect::<Vec<String>>()
    };
    drop_in(&ws, &long, SMALL);
    server.wait_for(3, DEADLINE);
    wait_until("the first version in processed/", || filed().len() == 1);
    drop_in(&ws, &long, &SMALL.replace("A paragraph", "One paragraph"));
    server.wait_for(6, DEADLINE);
    wait_until("both versions in processed/", || filed().len() == 2);
    let filed = filed();
    assert!(filed.iter().all(|n| n.len() <= 255), "{filed:?}");
    assert!(
        filed.iter().any(|n| n.ends_with(".1.txt")),
        "the second is numbered: {filed:?}"
    );
    let status = ws.run(["status", "--format", "json"]).json();
    assert_eq!(status["daemon"]["running"], true, "{status:#}");
    stop(daemon, DEADLINE);
}

/// Regression: with a relative `--config` the inbox was a relative path, the watcher's were
/// absolute, and no rename into the inbox was recognised: files waited for `settle_millis`.
#[test]
fn with_a_relative_config_a_file_renamed_in_is_taken_at_once() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    // An hour to settle: only a recognised rename brings the statement in within the deadline.
    ws.set("daemon", "settle_millis", 3_600_000);
    let daemon = ws.herald(["daemon"]).config("config/herald.toml").spawn();
    // A file there before the watch starts would only be seen by a scan, and wait the hour.
    wait_until("the daemon to watch its inbox", || watching(daemon.pid()));
    drop_in(&ws, "small.txt", SMALL);
    server.wait_for(3, DEADLINE);
    stop(daemon, DEADLINE);
}

/// Regression: the recipients directory broken on disk was only in the log. The daemon keeps
/// sending with the last good copy, and `herald status` shows the folder broken, its problems and
/// since when.
#[test]
fn a_broken_recipients_directory_is_shown_by_status_and_the_last_good_one_is_used() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    let daemon = start(&ws);
    wait_until("the daemon's state file", || {
        ws.data_dir().join("daemon-state.json").is_file()
    });
    ws.write(
        "recipients/zz-broken.toml",
        "[[organization]]\nid = \"broken\"\nname = \"Broken\"\nemails = [\"not an address\"]\n",
    );
    let state_file = ws.data_dir().join("daemon-state.json");
    wait_until("the daemon to notice", || {
        std::fs::read_to_string(&state_file).is_ok_and(|s| s.contains("\"since\""))
    });
    drop_in(&ws, "small.txt", SMALL);
    server.wait_for(3, DEADLINE);

    let status = ws.run(["status", "--format", "json"]);
    status.assert_success();
    let status = status.json();
    let broken = &status["broken"][0];
    assert_eq!(broken["folder"], "recipients", "{status:#}");
    let problems = broken["problems"].as_array().expect("problems");
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.contains("zz-broken.toml"))),
        "{status:#}"
    );
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).expect("state")).expect("JSON");
    assert_eq!(broken["since"], state["recipients"]["broken"]["since"]);
    assert!(broken["in_use_since"].is_string(), "{status:#}");
    let text = ws.run(["status"]).stdout;
    assert!(
        text.contains("BROKEN: the recipients directory")
            && text.contains("zz-broken.toml")
            && text.contains("keeps using the copy it loaded at"),
        "{text}"
    );

    // Fixed: status no longer says so.
    std::fs::remove_file(ws.path().join("recipients/zz-broken.toml")).expect("remove");
    let status = ws.run(["status", "--format", "json"]).json();
    assert_eq!(status["broken"], serde_json::json!([]), "{status:#}");
    stop(daemon, DEADLINE);
}

/// Regression: the log showed `next_attempt_at=Some(2026-…)` and `retrying=false`, Rust's debug
/// output. Times read `2026-12-02 10:13 UTC`; outcomes are words.
#[test]
fn the_log_reads_as_a_person_reads_it() {
    let server = SmtpServer::start(Script::new().on_rcpt_first(
        "info@ipb.example",
        1,
        Reply::retry_in(451, 600),
    ));
    let ws = workspace(&server);
    let daemon = start(&ws);
    drop_in(&ws, "small.txt", SMALL);
    let processed = ws.data_dir().join("processed");
    wait_until("the report", || {
        processed.join("small.txt").is_file() && report_of(&ws).is_some()
    });
    let log = stop(daemon, Duration::from_secs(15));
    for debug in ["Some(", "None", "=false", "=true", "retrying"] {
        assert!(!log.contains(debug), "`{debug}` in\n{log}");
    }
    let line = log
        .lines()
        .find(|l| l.contains("international-peace-bureau") && l.contains("deferred"))
        .unwrap_or_else(|| panic!("no line for the deferred letter\n{log}"));
    let at = line
        .split("next attempt at ")
        .nth(1)
        .unwrap_or_else(|| panic!("no next attempt in `{line}`"));
    // `2026-12-02 10:13 UTC`
    let when = &at[..20.min(at.len())];
    assert!(
        chrono::NaiveDateTime::parse_from_str(&when[..16], "%Y-%m-%d %H:%M").is_ok()
            && when.ends_with(" UTC"),
        "`{when}` in `{line}`"
    );
}

/// Regression: with a `.docx` in the inbox, `herald status` said `inbox: empty`. Without a
/// daemon to move it, status names what lies there that herald will not take.
#[test]
fn status_names_what_in_the_inbox_is_not_a_statement() {
    let ws = Workspace::new();
    ws.write("var/inbox/letter.docx", "PK");
    ws.write("var/inbox/statement.txt", SMALL);
    ws.write("var/inbox/.hidden.docx", "PK");
    let status = ws.run(["status", "--format", "json"]);
    status.assert_success();
    let status = status.json();
    assert_eq!(
        status["inbox"]["not_statements"],
        serde_json::json!(["letter.docx"]),
        "{status:#}"
    );
    assert_eq!(
        status["inbox"]["waiting"],
        serde_json::json!(["statement.txt"])
    );
    let text = ws.run(["status"]).stdout;
    assert!(
        text.contains("1 not a statement herald takes") && text.contains("letter.docx"),
        "{text}"
    );
}

/// Without a daemon, a broken recipients directory is shown too, since its last edit, and no
/// copy is said to be in use.
#[test]
fn status_without_a_daemon_shows_a_broken_recipients_directory() {
    let ws = Workspace::new();
    ws.write(
        "recipients/zz-broken.toml",
        "[[organization]]\nid = \"broken\"\nname = \"Broken\"\nemails = [\"not an address\"]\n",
    );
    let status = ws.run(["status", "--format", "json"]);
    status.assert_success();
    let status = status.json();
    let broken = &status["broken"][0];
    assert_eq!(broken["folder"], "recipients", "{status:#}");
    assert!(broken["since"].is_string(), "{status:#}");
    assert!(broken["in_use_since"].is_null(), "{status:#}");
    let text = ws.run(["status"]).stdout;
    assert!(
        text.contains("BROKEN: the recipients directory") && text.contains("`herald check`"),
        "{text}"
    );
}
