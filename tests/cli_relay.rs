//! The command line against a relay and other herald processes: a server that cannot be
//! reached or refuses the configuration, `check --smtp`, errors alike for many letters, and two
//! dispatches (or a dispatch and readers) at once.

use crate::common::{assert_no_panic, assert_refused, letter_states, resolve_json, SEED};
use crate::support::smtp::{Fault, Script, SmtpServer};
use crate::support::workspace::{Output, Workspace};

/// Regression: with the SMTP server down, every letter was tried (42 identical `deferred …
/// Connection refused` lines) and retried within the run for about a minute. Now the run stops
/// at the first refused connection, says so once, and leaves the letters not tried as they were.
#[test]
fn an_unreachable_server_is_said_once_and_the_other_letters_are_not_tried() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let ws = Workspace::new();
    // Retries due within the run, which it would otherwise wait for; letters claimed ahead (at
    // most `max_sending`) may be tried before the run stops, no other.
    ws.smtp(free)
        .set("delivery", "backoff_base_secs", 1.0)
        .set("delivery", "max_sending", 4);
    let output = ws.run(["dispatch", SEED, "--yes"]);
    assert_no_panic(&output);
    output.assert_code(1);
    assert_eq!(
        output.stdout.matches("cannot be reached").count(),
        1,
        "{}",
        output.stdout
    );
    assert!(output.stdout.lines().count() < 10, "{}", output.stdout);

    let states = letter_states(&ws);
    let (_, json) = resolve_json(&ws, SEED);
    assert_eq!(
        states.len(),
        json["letters"].as_array().expect("letters").len()
    );
    let tried = states.iter().filter(|(_, _, s)| s != "pending").count();
    assert!((1..=4).contains(&tried), "{tried} tried: {states:?}");
    assert!(
        states
            .iter()
            .all(|(_, _, s)| s == "pending" || s == "deferred"),
        "{states:?}"
    );
    // Each letter tried was tried once: no retry within the run.
    let attempts: i64 = ws
        .journal()
        .query_row("SELECT max(attempts) FROM letters", [], |r| r.get(0))
        .expect("attempts");
    assert_eq!(attempts, 1);
}

/// Regression: a misspelt template variable printed the same error once per letter (38 lines),
/// then "check found 1 problem". The same mistake is now one line saying how many letters, and
/// the count agrees with the lines; a dry run says it once too.
#[test]
fn the_same_template_error_for_every_letter_is_one_line() {
    let ws = Workspace::new();
    let template = ws.read("templates/en/letter.txt.hbs");
    ws.write(
        "templates/en/letter.txt.hbs",
        format!("{{{{statment.title}}}}\n{template}"),
    );
    let output = ws.run(["check"]);
    assert_refused(&output, &["check found 1 problem"]);
    let lines: Vec<&str> = output
        .stderr
        .lines()
        .filter(|l| l.contains("statment.title"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", output.stderr);
    assert!(lines[0].contains(" letters: line 1"), "{}", lines[0]);

    let output = ws.run(["dispatch", SEED, "--dry-run"]);
    assert_refused(&output, &["cannot be rendered"]);
    assert_eq!(
        output.stderr.matches("statment.title").count(),
        1,
        "{}",
        output.stderr
    );
}

/// Regression: two dispatches of one statement at once: the first to finish exited 1, counting
/// the letters the other was still sending as undelivered; once it failed with `journal:
/// database is locked`. Letters another live process holds are now reported as such, are no
/// failure, and the journal waits for its lock.
#[test]
fn two_dispatches_at_once_share_the_letters_and_neither_fails() {
    let server = SmtpServer::start(Script::new().delay(std::time::Duration::from_millis(20)));
    let ws = Workspace::new();
    ws.smtp(server.port());
    let (_, json) = resolve_json(&ws, SEED);
    let letters = json["letters"].as_array().expect("letters").len();
    let first = ws.herald(["dispatch", SEED, "--yes"]).spawn();
    let second = ws.herald(["dispatch", SEED, "--yes"]).spawn();
    let outputs = [first.wait(), second.wait()];
    for output in &outputs {
        assert_no_panic(output);
        assert!(!output.stderr.contains("locked"), "{}", output.stderr);
        output.assert_success();
    }
    let messages = server.messages();
    assert_eq!(messages.len(), letters, "each letter once");
    assert!(letter_states(&ws).iter().all(|(_, _, s)| s == "sent"));
}

/// A dispatch that meets a letter another live herald process is sending names it, says that
/// process reports it, and does not count it as a failure; it finds it among the letters
/// `sending`, without reading every letter of the statement again.
#[test]
fn a_dispatch_names_the_letter_another_process_is_sending() {
    let server = SmtpServer::start(Script::new().on_data_end_first(1, Fault::Stall));
    let ws = Workspace::new();
    ws.smtp(server.port())
        .set("delivery", "concurrency", 1)
        .set("delivery", "max_sending", 1);
    let first = ws.herald(["dispatch", SEED, "--yes"]).spawn();
    assert!(
        server.ends_reach(1, std::time::Duration::from_secs(60)),
        "the first dispatch sent the end of its first letter"
    );
    let second = ws.run(["dispatch", SEED, "--yes"]);
    assert_no_panic(&second);
    second.assert_success();
    let held: Vec<String> = letter_states(&ws)
        .into_iter()
        .filter(|(_, _, state)| state == "sending")
        .map(|(_, organization, _)| organization)
        .collect();
    assert_eq!(held.len(), 1, "{held:?}");
    let line = "1 letter is being sent by another herald process right now, which records and \
                reports them (`herald history --statement";
    assert!(second.stdout.contains(line), "{}", second.stdout);
    assert!(
        second
            .stdout
            .trim_end()
            .ends_with(&format!("): {}", held[0])),
        "{}",
        second.stdout
    );
    // The stalled letter goes when the server does; the first dispatch ends on its own.
    drop(server);
    assert_no_panic(&first.wait());
}

/// Regression: a dispatch starting while another herald process opened or closed the same new
/// journal failed at once with `journal: database is locked` (6 runs in 200 of two dispatches, a
/// status and a history at once), instead of waiting as the busy timeout promises. Several
/// rounds, each on a new journal; the failure was a race, so one round alone rarely showed it.
#[test]
fn processes_opening_a_new_journal_together_wait_for_each_other() {
    let ws = Workspace::new();
    for round in 0..8 {
        let _ = std::fs::remove_dir_all(ws.data_dir());
        let runs = [
            ws.herald(["dispatch", SEED, "--yes"]).spawn(),
            ws.herald(["dispatch", SEED, "--yes"]).spawn(),
            ws.herald(["status"]).spawn(),
            ws.herald(["history"]).spawn(),
        ];
        for run in runs {
            let output = run.wait();
            assert_no_panic(&output);
            assert!(
                !output.stderr.contains("locked"),
                "round {round}: {}",
                output.stderr
            );
            output.assert_success();
        }
        assert!(
            letter_states(&ws).iter().all(|(_, _, s)| s == "sent"),
            "round {round}"
        );
    }
}

/// Asserts that some line of `check --smtp`'s report names `step` and ends with `status`.
fn assert_step_ends(output: &Output, step: &str, status: &str) {
    assert!(
        output
            .stdout
            .lines()
            .any(|l| l.contains(step) && l.ends_with(status)),
        "no `{step}` step ending `{status}`:\n{}",
        output.stdout
    );
}

/// Regression: `check` passed with the SMTP password variable unset, and dispatch then refused.
/// And `check --smtp` tries the relay step by step (connect, EHLO, STARTTLS and its certificate,
/// AUTH, QUIT), sending no mail.
#[test]
fn check_finds_a_missing_password_and_tries_the_relay_step_by_step() {
    use crate::support::tls_front::{Front, TestAuthority};

    let server = SmtpServer::start(Script::new().auth("statements", "s3cret"));
    let ws = Workspace::new();
    ws.smtp(server.port()).set("smtp", "username", "statements");
    let output = ws.run(["check"]);
    assert_refused(&output, &["HERALD_SMTP_PASSWORD", "check found 1 problem"]);
    assert_eq!(server.connections(), 0);

    // Without the password, `--smtp` still tries the relay up to AUTH: whoever checks it need
    // not hold the secret. The missing password stays a problem.
    let output = ws.run(["check", "--smtp"]);
    assert_refused(&output, &["HERALD_SMTP_PASSWORD"]);
    for (step, status) in [
        ("connect to 127.0.0.1", " ok"),
        ("greeting and EHLO", " ok"),
        ("AUTH as `statements`", "not tried (no password)"),
        ("QUIT", " ok"),
    ] {
        let line = output
            .stdout
            .lines()
            .find(|l| l.contains(step))
            .unwrap_or_else(|| panic!("no `{step}` step:\n{}", output.stdout));
        assert!(line.ends_with(status), "{line}");
    }
    assert_eq!(server.connections(), 1);
    assert!(
        server.credentials().is_empty(),
        "no AUTH without a password"
    );

    let output = ws
        .herald(["check", "--smtp"])
        .env("HERALD_SMTP_PASSWORD", "s3cret")
        .run();
    assert_no_panic(&output);
    output.assert_success();
    for step in [
        "connect to 127.0.0.1",
        "greeting and EHLO",
        "AUTH as `statements`",
        "QUIT",
    ] {
        let line = output
            .stdout
            .lines()
            .find(|l| l.contains(step))
            .unwrap_or_else(|| panic!("no `{step}` step:\n{}", output.stdout));
        assert!(line.ends_with(" ok"), "{line}");
    }
    assert!(!output.stdout.contains("s3cret") && !output.stderr.contains("s3cret"));
    assert_eq!(server.credentials().len(), 1);
    assert!(server.messages().is_empty(), "check sent mail");
    let commands: Vec<String> = server.commands().into_iter().map(|(_, c)| c).collect();
    assert!(
        commands.iter().any(|c| c.starts_with("QUIT")),
        "{commands:?}"
    );
    assert!(
        !commands.iter().any(|c| c.starts_with("MAIL")),
        "{commands:?}"
    );

    // A wrong password: AUTH is the step that fails.
    let output = ws
        .herald(["check", "--smtp"])
        .env("HERALD_SMTP_PASSWORD", "wrong")
        .run();
    assert_refused(&output, &["--smtp"]);
    assert_step_ends(&output, "AUTH", "FAILED");

    // STARTTLS required and not offered: that step fails, nothing after it is tried.
    let ws = Workspace::new();
    ws.smtp(server.port()).set("smtp", "security", "starttls");
    let output = ws.run(["check", "--smtp"]);
    assert_refused(&output, &["does not offer STARTTLS"]);
    assert_step_ends(&output, "STARTTLS", "FAILED");
    assert_step_ends(&output, "QUIT", "not tried");

    // Through a STARTTLS relay whose certificate an authority the configuration names signed;
    // then the same relay without that authority: the certificate step fails.
    let authority = TestAuthority::new();
    let front = Front::starttls(&authority, server.addr());
    let ws = Workspace::new();
    ws.smtp(front.port()).set("smtp", "security", "starttls");
    authority.write_ca(&ws.path().join("config/relay-ca.pem"));
    ws.set("smtp", "ca_file", "relay-ca.pem");
    let output = ws.run(["check", "--smtp"]);
    output.assert_success();
    assert_step_ends(&output, "STARTTLS, certificate for 127.0.0.1", " ok");
    ws.unset("smtp", "ca_file");
    let output = ws.run(["check", "--smtp"]);
    assert_refused(&output, &["certificate"]);
    assert_step_ends(&output, "STARTTLS", "FAILED");
    assert!(server.messages().is_empty(), "check sent mail");
}
