//! `herald daemon` end to end: the real binary on a temporary data folder, delivering to the test
//! SMTP server. Statements are dropped the safe way (written elsewhere, renamed into the inbox);
//! every wait is on a condition (the server's messages, a file appearing) with a deadline.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::smtp::{Received, Reply, Script, SmtpServer};
use crate::support::workspace::{Process, Workspace};

mod files;

const SEED: &str = "seeds/2021-05-27-kalbajar-statement.txt";
/// Letters the seed statement calls for with the shipped recipients.
const SEED_LETTERS: usize = 42;
const DEADLINE: Duration = Duration::from_secs(45);

/// Three organisations of the shipped directory.
const SMALL: &str = "Statement on the daemon\n\nA paragraph of the body.\n\n\
This Statement is addressed to the UN Secretary-General, the Council of Europe and the \
International Peace Bureau.\n\nSabina Aliyeva\n\n27 May 2021\n";

/// A workspace delivering to `server`, with a daemon that looks often and settles fast.
fn workspace(server: &SmtpServer) -> Workspace {
    let ws = Workspace::new();
    ws.smtp(server.port())
        .set("daemon", "poll_secs", 1)
        .set("daemon", "settle_millis", 200);
    ws
}

fn inbox(ws: &Workspace) -> PathBuf {
    ws.data_dir().join("inbox")
}

/// Drops a statement as a careful user does: written under another name, then renamed in.
fn drop_in(ws: &Workspace, name: &str, text: &str) -> PathBuf {
    let staged = ws.write(&format!("staging/{name}"), text);
    let target = inbox(ws).join(name);
    std::fs::create_dir_all(inbox(ws)).expect("create the inbox");
    std::fs::rename(&staged, &target).expect("rename into the inbox");
    target
}

fn start(ws: &Workspace) -> Process {
    ws.herald(["daemon"]).spawn()
}

/// Sends SIGTERM and expects a clean exit (0) within `bound`; returns the daemon's log.
#[track_caller]
fn stop(mut daemon: Process, bound: Duration) -> String {
    daemon.terminate();
    let ended = Instant::now();
    let status = daemon.wait_timeout(bound);
    let output = daemon.wait();
    assert!(
        status.is_some(),
        "the daemon did not stop within {bound:?} of SIGTERM\n{}",
        output.stderr
    );
    assert!(ended.elapsed() <= bound);
    output.assert_success();
    output.stderr
}

/// Polls `condition` until it holds; fails naming `what` at the deadline.
#[track_caller]
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn report_of(ws: &Workspace) -> Option<serde_json::Value> {
    let processed = ws.data_dir().join("processed");
    let entry = std::fs::read_dir(processed)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".report.json"))?;
    let text = std::fs::read_to_string(entry.path()).ok()?;
    serde_json::from_str(&text).ok()
}

/// The status of each letter in a report, by organisation.
fn statuses(report: &serde_json::Value) -> HashMap<String, String> {
    report["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .map(|l| {
            (
                l["organization"].as_str().expect("organization").to_owned(),
                l["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

fn message_id(message: &Received) -> String {
    let text = message.text();
    text.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_owned())
        })
        .expect("every message has a Message-ID")
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn journal_states(ws: &Workspace) -> HashMap<String, (String, u32)> {
    let db = ws.journal();
    let mut stmt = db
        .prepare("SELECT organization, state, attempts FROM letters")
        .expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect()
}

#[test]
fn a_dropped_statement_reaches_every_addressee_and_is_filed_with_its_report() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    let daemon = start(&ws);
    drop_in(&ws, "kalbajar.txt", &ws.read(SEED));

    let messages = server.wait_for(SEED_LETTERS, DEADLINE);
    let processed = ws.data_dir().join("processed");
    wait_until("the statement in processed/", || {
        processed.join("kalbajar.txt").is_file() && report_of(&ws).is_some()
    });
    let report = report_of(&ws).expect("report");
    let statuses = statuses(&report);
    assert_eq!(statuses.len(), SEED_LETTERS);
    assert!(
        statuses.values().all(|s| s == "sent"),
        "every letter sent: {statuses:?}"
    );
    assert_eq!(report["counts"]["sent"], SEED_LETTERS);
    assert_eq!(report["statement"]["file"], "kalbajar.txt");
    assert!(report["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .all(|l| l["smtp_code"] == 250 && l["attempts"] == 1));
    let mut ids: Vec<String> = messages.iter().map(message_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), SEED_LETTERS, "one message per organisation");
    assert!(names(&inbox(&ws)).is_empty());
    stop(daemon, Duration::from_secs(15));
    assert_eq!(server.messages().len(), SEED_LETTERS, "nothing more");
    // The head kept in the report is one `verify --expect-head` finds in the chain.
    let head = &report["journal_head"];
    let expect = format!("#{}:{}", head["id"], head["hash"].as_str().expect("a head"));
    ws.run(["verify", "--expect-head", &expect])
        .assert_success();
}

#[test]
fn a_statement_that_cannot_go_out_is_rejected_with_every_problem_named() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    let daemon = start(&ws);
    let bad = SMALL.replace(
        "the Council of Europe and the International Peace Bureau",
        "the Counsil of Europe and the Northern Federation of Peace Councils",
    );
    drop_in(&ws, "bad.txt", &bad);

    let rejected = ws.data_dir().join("rejected");
    let error_file = rejected.join("bad.txt.error.txt");
    wait_until("the error file", || error_file.is_file());
    assert!(rejected.join("bad.txt").is_file());
    let error = std::fs::read_to_string(&error_file).expect("error file");
    assert!(error.contains("nothing was sent"), "{error}");
    assert!(
        error.contains("`Northern Federation of Peace Councils`"),
        "{error}"
    );
    assert!(
        error.contains("`Counsil of Europe` (did you mean `Council of Europe`?)"),
        "{error}"
    );
    // Regression: the error named `var/inbox/bad.txt`, where the file no longer is.
    assert!(!error.contains("inbox/bad.txt"), "{error}");
    assert!(
        error.contains(&format!("now {}", rejected.join("bad.txt").display()))
            && error.contains("move it back into"),
        "{error}"
    );
    assert!(names(&inbox(&ws)).is_empty());

    // Regression: `herald status` said `0 need attention` and staff took it for sent.
    let status = ws.run(["status", "--format", "json"]);
    status.assert_success();
    let status = status.json();
    let attention = status["needs_attention"].as_array().expect("a list");
    assert_eq!(attention.len(), 1, "{status:#}");
    let entry = &attention[0];
    assert_eq!(entry["kind"], "rejected", "{status:#}");
    assert_eq!(entry["file"], "bad.txt");
    assert_eq!(entry["problems"], 2, "{status:#}");
    assert!(
        entry["error"]
            .as_str()
            .is_some_and(|e| e.contains("2 addressees were not found")),
        "{status:#}"
    );
    assert_eq!(
        entry["error_file"].as_str().map(PathBuf::from),
        Some(error_file.clone())
    );
    assert!(entry["rejected_at"].is_string(), "{status:#}");
    let text = ws.run(["status"]);
    assert!(
        text.stdout.contains("1 need attention")
            && text.stdout.contains("REJECTED bad.txt")
            && text.stdout.contains("bad.txt.error.txt"),
        "{}",
        text.stdout
    );
    // Once the office takes it out of rejected/, it no longer needs attention.
    std::fs::remove_file(rejected.join("bad.txt")).expect("remove");
    let status = ws.run(["status", "--format", "json"]).json();
    assert_eq!(status["needs_attention"], serde_json::json!([]));

    stop(daemon, Duration::from_secs(15));
    assert!(server.messages().is_empty(), "nothing sent");
    assert!(journal_states(&ws).is_empty(), "nothing registered");
}

#[test]
fn files_waiting_at_start_are_taken_and_hidden_or_temporary_ones_are_left() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    let hidden = SMALL.replace("daemon", "hidden file");
    ws.write("var/inbox/waiting.txt", SMALL);
    ws.write("var/inbox/.hidden.txt", &hidden);
    ws.write("var/inbox/draft.txt.part", &hidden);
    ws.write("var/inbox/draft.tmp", &hidden);
    let daemon = start(&ws);

    let processed = ws.data_dir().join("processed");
    wait_until("waiting.txt in processed/", || {
        processed.join("waiting.txt").is_file()
    });
    // Files are taken in name order in one scan: the others would have gone first.
    assert_eq!(
        names(&inbox(&ws)),
        [".hidden.txt", "draft.tmp", "draft.txt.part"]
    );
    stop(daemon, Duration::from_secs(15));
    assert_eq!(server.messages().len(), 3);
}

#[test]
fn a_second_daemon_on_the_same_data_folder_refuses_to_start() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    let first = start(&ws);
    let lock = ws.data_dir().join("daemon.lock");
    let pid = first.pid().to_string();
    wait_until("the first daemon's lock", || {
        std::fs::read_to_string(&lock).is_ok_and(|s| s.trim() == pid)
    });
    wait_until("the first daemon's folders", || inbox(&ws).is_dir());

    let second = ws.run(["daemon"]);
    second.assert_code(2);
    assert!(
        second
            .stderr
            .contains("another herald daemon is already running")
            && second.stderr.contains(&pid),
        "{}",
        second.stderr
    );
    let status = ws.run(["status", "--format", "json"]);
    status.assert_success();
    assert_eq!(status.json()["daemon"]["running"], true);
    assert_eq!(status.json()["daemon"]["pid"], pid.as_str());
    stop(first, Duration::from_secs(15));
    let status = ws.run(["status", "--format", "json"]);
    assert_eq!(status.json()["daemon"]["running"], false);
}

#[test]
fn sigterm_during_a_slow_dispatch_stops_cleanly_and_a_restart_completes_without_duplicates() {
    let server = SmtpServer::start(Script::new().delay(Duration::from_millis(60)));
    let ws = workspace(&server);
    ws.set("delivery", "concurrency", 2);
    let daemon = start(&ws);
    drop_in(&ws, "kalbajar.txt", &ws.read(SEED));

    server.wait_for(4, DEADLINE);
    // In-flight transactions take a few delayed replies, far less than the 10 s SMTP timeout.
    let log = stop(daemon, Duration::from_secs(12));
    let first_run = server.messages().len();
    assert!(
        first_run < SEED_LETTERS,
        "the dispatch was cut short ({first_run} sent)\n{log}"
    );
    assert!(
        inbox(&ws).join("kalbajar.txt").is_file(),
        "an interrupted statement stays in the inbox\n{log}"
    );
    let states = journal_states(&ws);
    assert!(
        states.values().all(|(s, _)| s == "sent" || s == "pending"),
        "a clean stop leaves nothing sending or uncertain: {states:?}"
    );
    assert_eq!(
        states.values().filter(|(s, _)| s == "sent").count(),
        first_run
    );

    let daemon = start(&ws);
    let processed = ws.data_dir().join("processed");
    wait_until("the statement in processed/", || {
        processed.join("kalbajar.txt").is_file()
    });
    stop(daemon, Duration::from_secs(15));
    let mut per_letter: HashMap<String, usize> = HashMap::new();
    for message in server.messages() {
        *per_letter.entry(message_id(&message)).or_default() += 1;
    }
    assert_eq!(per_letter.len(), SEED_LETTERS);
    assert!(
        per_letter.values().all(|&n| n == 1),
        "no letter twice: {per_letter:?}"
    );
    let report = report_of(&ws).expect("report");
    assert!(statuses(&report).values().all(|s| s == "sent"));
}

#[test]
fn a_deferred_letter_is_retried_after_a_restart() {
    // The server asks for 4 s: longer than the first daemon lives after the dispatch.
    let server = SmtpServer::start(Script::new().on_rcpt_first(
        "info@ipb.example",
        1,
        Reply::retry_in(451, 4),
    ));
    let ws = workspace(&server);
    ws.set("delivery", "backoff_base_secs", 4)
        .set("delivery", "backoff_cap_secs", 60);
    let daemon = start(&ws);
    drop_in(&ws, "small.txt", SMALL);

    let processed = ws.data_dir().join("processed");
    wait_until("the report", || {
        processed.join("small.txt").is_file() && report_of(&ws).is_some()
    });
    let report = report_of(&ws).expect("report");
    assert_eq!(
        statuses(&report)["international-peace-bureau"],
        "deferred",
        "{report:#}"
    );
    stop(daemon, Duration::from_secs(15));
    assert_eq!(
        server.messages().len(),
        2,
        "the first daemon stopped before the retry"
    );

    let daemon = start(&ws);
    let messages = server.wait_for(3, DEADLINE);
    assert_eq!(messages[2].rcpt_to, ["info@ipb.example"]);
    wait_until("the report to show the retry", || {
        report_of(&ws).is_some_and(|r| statuses(&r)["international-peace-bureau"] == "sent")
    });
    stop(daemon, Duration::from_secs(15));
    let states = journal_states(&ws);
    assert_eq!(states["international-peace-bureau"], ("sent".to_owned(), 2));
    assert_eq!(server.messages().len(), 3, "no letter twice");
}

#[test]
fn with_approval_required_a_statement_waits_for_herald_approve() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    ws.set("daemon", "require_approval", true);
    let daemon = start(&ws);
    drop_in(&ws, "small.txt", SMALL);

    let previews = ws.data_dir().join("previews");
    wait_until("the previews", || {
        names(&previews)
            .iter()
            .any(|id| previews.join(id).join("index.html").is_file())
    });
    let status = ws.run(["status", "--format", "json"]);
    status.assert_success();
    let status = status.json();
    let held = &status["in_progress"][0];
    assert_eq!(held["held"], true, "{status:#}");
    assert_eq!(held["counts"]["pending"], 3, "{status:#}");
    let id = held["id"].as_str().expect("statement id").to_owned();
    assert!(previews.join(&id).join("index.html").is_file());
    assert!(server.messages().is_empty(), "nothing sent before approval");
    assert_eq!(names(&inbox(&ws)), ["small.txt"]);
    let text = ws.run(["status"]);
    assert!(
        text.stdout.contains(&format!("herald approve {id}")),
        "{}",
        text.stdout
    );

    let approve = ws.run(["approve", &id]);
    approve.assert_success();
    assert!(approve.stdout.contains("approved"), "{}", approve.stdout);
    server.wait_for(3, DEADLINE);
    let processed = ws.data_dir().join("processed");
    wait_until("the statement in processed/", || {
        processed.join("small.txt").is_file()
    });

    let again = ws.run(["approve", &id]);
    again.assert_success();
    assert!(again.stdout.contains("not held"), "{}", again.stdout);
    let unknown = ws.run(["approve", "2021-05-27-00000000"]);
    unknown.assert_code(2);
    assert!(
        unknown
            .stderr
            .contains("no statement `2021-05-27-00000000`"),
        "{}",
        unknown.stderr
    );
    stop(daemon, Duration::from_secs(15));
    assert_eq!(server.messages().len(), 3);
}

#[test]
fn status_without_a_journal_says_so() {
    let ws = Workspace::new();
    let output = ws.run(["status"]);
    output.assert_success();
    assert!(
        output.stdout.contains("no journal yet"),
        "{}",
        output.stdout
    );
    assert!(
        !ws.data_dir().join("herald.db").exists(),
        "status creates no journal"
    );
}

#[test]
fn after_a_crash_the_restarted_daemon_reports_uncertain_letters_and_sends_the_rest_once() {
    let server = SmtpServer::start(Script::new().delay(Duration::from_millis(60)));
    let ws = workspace(&server);
    ws.set("delivery", "concurrency", 2);
    let mut daemon = start(&ws);
    drop_in(&ws, "kalbajar.txt", &ws.read(SEED));
    server.wait_for(4, DEADLINE);
    daemon.kill();
    drop(daemon.wait());

    let daemon = start(&ws);
    let processed = ws.data_dir().join("processed");
    wait_until("the statement in processed/", || {
        processed.join("kalbajar.txt").is_file()
    });
    let log = stop(daemon, Duration::from_secs(15));
    let states = journal_states(&ws);
    let uncertain: Vec<&String> = states
        .iter()
        .filter(|(_, (s, _))| s == "uncertain")
        .map(|(org, _)| org)
        .collect();
    assert!(
        states
            .values()
            .all(|(s, _)| s == "sent" || s == "uncertain"),
        "{states:?}"
    );
    for org in &uncertain {
        assert!(log.contains(org.as_str()), "{org} is reported\n{log}");
    }
    let mut per_letter: HashMap<String, usize> = HashMap::new();
    for message in server.messages() {
        *per_letter.entry(message_id(&message)).or_default() += 1;
    }
    assert!(
        per_letter.values().all(|&n| n == 1),
        "no letter twice: {per_letter:?}"
    );
    for (org, (state, _)) in &states {
        let arrived = per_letter.keys().any(|id| id.contains(&format!(".{org}@")));
        if state == "sent" {
            assert!(arrived, "{org} is sent and arrived");
        }
    }
}

#[test]
fn a_corrected_statement_is_held_for_approval_and_its_report_names_the_earlier_version() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    let daemon = start(&ws);
    drop_in(&ws, "small.txt", SMALL);
    server.wait_for(3, DEADLINE);
    let processed = ws.data_dir().join("processed");
    wait_until("the first version in processed/", || {
        processed.join("small.txt").is_file()
    });
    let first = report_of(&ws).expect("report");
    let first_id = first["statement"]["id"].as_str().expect("id").to_owned();

    // One word changed: a new statement to the same three organisations.
    drop_in(
        &ws,
        "small.txt",
        &SMALL.replace("A paragraph", "One paragraph"),
    );
    let mut held = None;
    wait_until("the correction to be held", || {
        let status = ws.run(["status", "--format", "json"]).json();
        held = status["in_progress"]
            .as_array()
            .and_then(|l| l.iter().find(|s| s["held"] == true).cloned());
        held.is_some()
    });
    let second_id = held.expect("held")["id"].as_str().expect("id").to_owned();
    assert_ne!(second_id, first_id);
    assert_eq!(server.messages().len(), 3, "nothing sent before approval");

    ws.run(["approve", &second_id]).assert_success();
    server.wait_for(6, DEADLINE);
    let report = processed.join(format!("{second_id}.report.json"));
    wait_until("the correction's report", || report.is_file());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("JSON");
    assert_eq!(report["already_received"][0]["id"], first_id.as_str());
    assert_eq!(
        report["already_received"][0]["organizations"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    let log = stop(daemon, Duration::from_secs(15));
    assert!(
        log.contains(&format!(
            "3 of these organisations already received statement {first_id}"
        )) && log.contains(&format!("herald approve {second_id}")),
        "{log}"
    );
}

#[test]
fn with_hold_corrections_off_a_correction_goes_out_with_a_warning() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    ws.set("daemon", "hold_corrections", false);
    let daemon = start(&ws);
    drop_in(&ws, "small.txt", SMALL);
    server.wait_for(3, DEADLINE);
    let processed = ws.data_dir().join("processed");
    wait_until("the first version in processed/", || {
        processed.join("small.txt").is_file()
    });
    drop_in(
        &ws,
        "small.txt",
        &SMALL.replace("A paragraph", "One paragraph"),
    );
    server.wait_for(6, DEADLINE);
    wait_until("the correction in processed/", || {
        processed.join("small.1.txt").is_file()
    });
    let log = stop(daemon, Duration::from_secs(15));
    assert!(
        log.contains("3 of these organisations already received statement")
            && log.contains("they will receive it again"),
        "{log}"
    );
}

/// CPU seconds (user + system) the process `pid` has used so far, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat
        .rfind(')')
        .expect("stat has the command in parentheses")
        + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / rustix::param::clock_ticks_per_second() as f64
}

/// Regression: scanning the inbox opens it, which the watcher reported as an event, which made
/// the daemon scan again: an idle daemon used a whole core. It must idle, and still take a file
/// the moment it is renamed in — with polling set far off, only the watcher can bring it.
#[test]
fn an_idle_daemon_uses_no_cpu_and_still_takes_a_statement_at_once() {
    let server = SmtpServer::start(Script::new());
    let ws = workspace(&server);
    // No poll for an hour: a statement renamed in is found through the watcher or not at all.
    ws.set("daemon", "poll_secs", 3600);
    let daemon = start(&ws);
    // A first statement taken shows the daemon is up and watching (the watcher is set up
    // before the first scan, which finds the file whichever came first).
    drop_in(&ws, "first.txt", SMALL);
    wait_until("the first statement's letters", || {
        server.messages().len() == 3
    });
    wait_until("the first statement to be processed", || {
        report_of(&ws).is_some()
    });

    let before = cpu_seconds(daemon.pid());
    std::thread::sleep(Duration::from_secs(10));
    let used = cpu_seconds(daemon.pid()) - before;
    assert!(
        used < 0.1,
        "an idle daemon used {used:.2} s of CPU in 10 s (1% is 0.1 s)"
    );

    // Another statement, not a correction of the first (which would be held for approval).
    let second = SMALL.replace("Statement on the daemon", "A second statement");
    drop_in(&ws, "second.txt", &second);
    wait_until("the second statement's letters", || {
        server.messages().len() == 6
    });
    stop(daemon, DEADLINE);
}
