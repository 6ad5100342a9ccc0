//! Self-tests of the workspace runner and the smtp-sink wrapper: the copy of the shipped files,
//! config rewriting, the clean environment, the timeout that kills a hanging process, signals to
//! a spawned one, reserved ports, and counting what smtp-sink received.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use lettre::{Message, SmtpTransport, Transport};
use rustix::process::Signal;

use crate::support::port::ReservedPort;
use crate::support::sink::Sink;
use crate::support::workspace::Workspace;

/// Makes the workspace run `script` (a shell script) in place of herald, to exercise the runner.
fn fake_herald(ws: &Workspace, script: &str) -> std::path::PathBuf {
    let path = ws.write("fake-herald", format!("#!/bin/sh\n{script}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn a_new_workspace_holds_the_shipped_config_and_seeds() {
    let ws = Workspace::new();
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/herald.toml"))
            .expect("the repository's config");
    assert_eq!(ws.read("config/herald.toml"), shipped);
    assert!(ws
        .path()
        .join("seeds/2021-05-27-kalbajar-statement.txt")
        .is_file());
}

#[test]
fn smtp_points_the_config_at_a_loopback_server_and_keeps_the_rest() {
    let ws = Workspace::new();
    ws.smtp(2525).set("delivery", "max_attempts", 2);
    let config = ws.config();
    assert_eq!(config["transport"]["kind"].as_str(), Some("smtp"));
    assert_eq!(config["smtp"]["host"].as_str(), Some("127.0.0.1"));
    assert_eq!(config["smtp"]["port"].as_integer(), Some(2525));
    assert_eq!(config["smtp"]["security"].as_str(), Some("none"));
    assert!(config["smtp"].get("username").is_none());
    assert_eq!(config["delivery"]["max_attempts"].as_integer(), Some(2));
    assert_eq!(
        config["delivery"]["concurrency"].as_integer(),
        Some(4),
        "untouched"
    );
    assert_eq!(config["paths"]["data"].as_str(), Some("../var"));
}

#[test]
fn herald_runs_with_the_workspace_config() {
    let ws = Workspace::new();
    let output = ws.run(["--help"]);
    output.assert_success();
    assert!(output.stdout.contains("dispatch"), "{}", output.stdout);
}

#[test]
fn the_runner_passes_the_config_and_a_clean_environment() {
    let ws = Workspace::new();
    let fake = fake_herald(
        &ws,
        r#"echo "$@"; env | grep '^HERALD_' | sort; echo "$PWD" >&2"#,
    );
    let output = ws
        .herald(["check", "x.txt"])
        .program(&fake)
        .env("HERALD_SMTP_PASSWORD", "pw")
        .run();
    output.assert_success();
    let config = ws.config_path();
    let expected = format!(
        "--config {} check x.txt\nHERALD_SMTP_PASSWORD=pw\n",
        config.display()
    );
    assert_eq!(output.stdout, expected);
    assert_eq!(output.stderr.trim(), ws.path().to_string_lossy());
}

#[test]
fn exit_codes_and_stdin_come_through() {
    let ws = Workspace::empty();
    let fake = fake_herald(&ws, "read answer; echo \"got $answer\"; exit 3");
    let output = ws
        .herald(Vec::<String>::new())
        .program(&fake)
        .stdin("yes\n")
        .run();
    output.assert_code(3);
    assert_eq!(output.stdout, "got yes\n");
}

#[test]
#[should_panic(expected = "still running after")]
fn a_hanging_run_is_killed_and_fails_the_test() {
    let ws = Workspace::empty();
    let fake = fake_herald(&ws, "exec sleep 30");
    ws.herald(Vec::<String>::new())
        .program(&fake)
        .timeout(Duration::from_millis(300))
        .run();
}

#[test]
fn a_spawned_process_can_be_signalled_and_waited_for() {
    let ws = Workspace::empty();
    let fake = fake_herald(
        &ws,
        "trap 'echo stopping; exit 0' TERM; echo started; while :; do sleep 1 & wait $!; done",
    );
    let mut process = ws.herald(Vec::<String>::new()).program(&fake).spawn();
    assert!(
        process.wait_timeout(Duration::from_millis(200)).is_none(),
        "still running"
    );
    process.signal(Signal::TERM);
    let output = process.wait();
    output.assert_success();
    assert_eq!(output.stdout, "started\nstopping\n");

    let mut killed = ws.herald(Vec::<String>::new()).program(&fake).spawn();
    killed.kill();
    killed.wait().assert_code(128 + 9);
}

#[test]
fn the_journal_opens_read_only() {
    let ws = Workspace::empty();
    std::fs::create_dir_all(ws.data_dir()).expect("data dir");
    let db = rusqlite::Connection::open(ws.data_dir().join("herald.db")).expect("create");
    db.execute_batch(
        "CREATE TABLE events (id INTEGER PRIMARY KEY); INSERT INTO events VALUES (7);",
    )
    .expect("fill");
    drop(db);
    let journal = ws.journal();
    let id: i64 = journal
        .query_row("SELECT id FROM events", [], |r| r.get(0))
        .expect("read");
    assert_eq!(id, 7);
    assert!(
        journal.execute("DELETE FROM events", []).is_err(),
        "read-only"
    );
}

#[test]
fn smtp_sink_takes_messages_and_dumps_each_to_a_file() {
    let sink = Sink::start();
    let client = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .build();
    for n in 1..=2 {
        let message = Message::builder()
            .from("statements@ombudsman.example".parse().expect("from"))
            .to("sg@un.example".parse().expect("to"))
            .subject(format!("Statement {n}"))
            .body("text\n".to_owned())
            .expect("message");
        client.send(&message).expect("smtp-sink took it");
    }
    let messages = sink.wait_for(2, Duration::from_secs(10));
    assert_eq!(messages.len(), 2);
    for n in 1..=2 {
        assert!(
            messages
                .iter()
                .any(|m| m.contains(&format!("Subject: Statement {n}"))),
            "{messages:?}"
        );
    }
}

#[test]
fn a_reserved_port_refuses_connections_and_an_ordinary_bind() {
    let reserved = ReservedPort::new();
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], reserved.port()));
    let refused = std::net::TcpStream::connect(address).expect_err("nothing listens there");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let other =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    let taken = other.bind(&address.into()).expect_err("the port is held");
    assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse);
}

#[test]
fn smtp_sink_counts_sessions_apart_from_its_readiness_check() {
    let sink = Sink::start();
    assert_eq!(sink.counters().last().copied(), Some(Default::default()));
    let client = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .build();
    let message = Message::builder()
        .from("statements@ombudsman.example".parse().expect("from"))
        .to("sg@un.example".parse().expect("to"))
        .subject("Statement")
        .body("text\n".to_owned())
        .expect("message");
    client.send(&message).expect("smtp-sink took it");
    drop(client);
    let counters = sink.wait_for_sessions(1, Duration::from_secs(10));
    assert_eq!(
        (counters.sessions, counters.messages),
        (1, 1),
        "{counters:?}"
    );
}
