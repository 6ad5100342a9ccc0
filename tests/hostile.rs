//! Hostile input and a damaged journal: header-bound values with control characters, a raw
//! `hello_name`, international domains, oversized statements, a corrupted journal and a deleted
//! `-wal` file. Each is refused cleanly (exit 2, file, line and value, nothing sent) or handled
//! without ever sending a letter twice.

use std::time::Duration;

use crate::common::{assert_no_panic, assert_refused, letter_states, SEED};
use crate::support::smtp::{Script, SmtpServer};
use crate::support::workspace::Workspace;

fn smtp_workspace() -> (Workspace, SmtpServer) {
    let server = SmtpServer::start(Script::new());
    let ws = Workspace::new();
    ws.smtp(server.port());
    (ws, server)
}

/// `check`, `dispatch --dry-run` and `dispatch --yes` of the seed are each refused naming every
/// needle; nothing reaches the server, nothing is recorded, no preview is left.
fn refused_before_sending(ws: &Workspace, server: &SmtpServer, needles: &[&str]) {
    for args in [
        vec!["check", SEED],
        vec!["dispatch", SEED, "--dry-run"],
        vec!["dispatch", SEED, "--yes"],
    ] {
        let output = ws.run(args.clone());
        assert_refused(&output, needles);
    }
    assert_eq!(server.messages().len(), 0, "something was sent");
    assert_eq!(server.connections(), 0, "herald connected to the server");
    assert!(letter_states(ws).is_empty(), "{:?}", letter_states(ws));
    let previews = ws.data_dir().join("previews");
    assert!(
        !previews.exists()
            || std::fs::read_dir(&previews)
                .expect("previews")
                .all(|e| std::fs::read_dir(e.expect("entry").path())
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(true)),
        "a refused dry run left previews"
    );
}

/// Regression: `name = "Evil Name Org\r\nBcc: evil@x.example"` passed `check`, made the dry run
/// exit 101 inside lettre, and left every letter of the statement `sending`.
#[test]
fn a_line_break_in_a_recipients_value_is_refused_at_load() {
    let cases = [
        (
            "name = \"Evil Name Org\\r\\nBcc: evil@x.example\"",
            "`Evil Name Org\\r\\nBcc: evil@x.example`",
        ),
        ("name = \"Lone CR\\rOrg\"", "`Lone CR\\rOrg`"),
        ("name = \"Lone LF\\nOrg\"", "`Lone LF\\nOrg`"),
        (
            "name = \"Org\"\ncontact = \"Director\\r\\nBcc: evil@x.example\"",
            "`Director\\r\\nBcc: evil@x.example`",
        ),
        (
            "name = \"Org\"\ncc = [\"cc@org.example\\r\\nBcc: evil@x.example\"]",
            "`cc@org.example\\r\\nBcc: evil@x.example`",
        ),
    ];
    for (field, shown) in cases {
        let (ws, server) = smtp_workspace();
        ws.recipients(
            "zz-evil.toml",
            &format!(
                "[[organization]]\nid = \"evil\"\nemails = [\"office@evil.example\"]\n{field}\n"
            ),
        );
        let line = if field.contains("\n") { ":5:" } else { ":4:" };
        let place = format!("recipients/zz-evil.toml{line}");
        refused_before_sending(&ws, &server, &[&place, shown, "control character"]);
    }
}

#[test]
fn a_line_break_in_the_sender_or_the_hello_name_is_refused_at_load() {
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "sender",
            "name",
            "Office\r\nBcc: evil@x.example",
            "`Office\\r\\nBcc: evil@x.example`",
        ),
        (
            "sender",
            "reply_to",
            "office@ombudsman.example\nBcc: evil@x.example",
            "`office@ombudsman.example\\nBcc: evil@x.example`",
        ),
        (
            "smtp",
            "hello_name",
            "herald.example\r\nMAIL FROM:<spoof@x.example>\r\nRCPT TO:<victim@x.example>",
            "`herald.example\\r\\nMAIL FROM:<spoof@x.example>\\r\\nRCPT TO:<victim@x.example>`",
        ),
        (
            "smtp",
            "hello_name",
            "not a host name",
            "`not a host name` is not a host name",
        ),
    ];
    for (section, key, value, shown) in cases {
        let (ws, server) = smtp_workspace();
        ws.set(section, key, value);
        let config = ws.read("config/herald.toml");
        let line = config
            .lines()
            .position(|l| l.starts_with(&format!("{key} =")))
            .expect("the key is in the file")
            + 1;
        let place = format!("config/herald.toml:{line}:");
        refused_before_sending(&ws, &server, &[&place, shown]);
    }
}

/// A valid `hello_name` reaches the server as the EHLO argument, converted to ASCII.
#[test]
fn an_international_hello_name_is_sent_in_ascii() {
    let (ws, server) = smtp_workspace();
    ws.set("smtp", "hello_name", "mail.bücher.example");
    let output = ws.run(["dispatch", SEED, "--yes"]);
    assert_no_panic(&output);
    output.assert_success();
    let ehlo: Vec<String> = server
        .commands()
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| c.starts_with("EHLO"))
        .collect();
    assert!(!ehlo.is_empty());
    assert!(
        ehlo.iter().all(|c| c == "EHLO mail.xn--bcher-kva.example"),
        "{ehlo:?}"
    );
}

/// Regression: a subject template writing a control character passed `check`; the rendered
/// subject is a header and is checked for every letter before anything is sent.
#[test]
fn a_control_character_in_the_rendered_subject_is_refused_before_sending() {
    let (ws, server) = smtp_workspace();
    let subject = ws.read("templates/en/subject.hbs");
    ws.write("templates/en/subject.hbs", format!("\u{7}{subject}"));
    refused_before_sending(&ws, &server, &["subject", "control character", "\\u{7}"]);
}

/// Regression: `a@bücher.example` passed `check` and failed at send on a server without SMTPUTF8.
#[test]
fn international_domains_are_sent_in_ascii_and_unconvertible_ones_refused() {
    let (ws, server) = smtp_workspace();
    ws.recipients(
        "zz-books.toml",
        "[[organization]]\nid = \"book-foundation\"\nname = \"Book Foundation\"\n\
         emails = [\"office@bücher.example\"]\n",
    );
    let statement = ws.statement(
        "books.txt",
        "Statement\n\nThe Commissioner protests.\n\nThis Statement is addressed to the Book \
         Foundation.\n\nSabina Aliyeva\n\n27 May 2021\n",
    );
    let output = ws.run(["dispatch", statement.to_str().expect("utf-8"), "--yes"]);
    assert_no_panic(&output);
    output.assert_success();
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].rcpt_to, vec!["office@xn--bcher-kva.example"]);
    assert!(messages[0].text().contains("office@xn--bcher-kva.example"));

    ws.recipients(
        "zz-books.toml",
        "[[organization]]\nid = \"book-foundation\"\nname = \"Book Foundation\"\n\
         emails = [\"office@bü-.example\"]\n",
    );
    let output = ws.run(["check"]);
    assert_refused(
        &output,
        &[
            "recipients/zz-books.toml:4:",
            "`office@bü-.example`",
            "IDNA",
        ],
    );
}

/// Regression: a 52 MB statement made a dry run write 9.5 GB of previews.
#[test]
fn a_statement_over_the_size_limit_is_refused() {
    let (ws, server) = smtp_workspace();
    let size = std::fs::metadata(ws.path().join(SEED)).expect("seed").len();
    let limit = size - 1;
    ws.set(
        "statement",
        "max_bytes",
        i64::try_from(limit).expect("small"),
    );
    let shown_size = format!("{size} bytes");
    let shown_limit = format!("limit of {limit} bytes");
    for args in [
        vec!["resolve", SEED],
        vec!["check", SEED],
        vec!["dispatch", SEED, "--dry-run"],
        vec!["dispatch", SEED, "--yes"],
    ] {
        let output = ws.run(args);
        assert_refused(&output, &[SEED, &shown_size, &shown_limit, "max_bytes"]);
    }
    assert_eq!(server.messages().len(), 0);

    // The default limit: a few megabytes.
    ws.unset("statement", "max_bytes");
    let seed = ws.read(SEED);
    let big = seed.replacen("\n\n", &format!("\n\n{}\n\n", "word ".repeat(1_000_000)), 1);
    let path = ws.statement("big.txt", &big);
    let output = ws.run(["dispatch", path.to_str().expect("utf-8"), "--yes"]);
    assert_refused(&output, &["big.txt", "max_bytes"]);
    assert_eq!(server.messages().len(), 0);
    output.assert_code(2);
}

/// The journal of a workspace whose every letter of the seed was sent, as bytes, with the
/// number of letters.
fn sent_journal(ws: &Workspace, server: &SmtpServer) -> (Vec<u8>, usize) {
    let output = ws.run(["dispatch", SEED, "--yes"]);
    output.assert_success();
    let sent = server.messages().len();
    assert!(sent > 10, "{sent}");
    // Fold the write-ahead log into the file, as a backup copy would hold it.
    let db = rusqlite::Connection::open(ws.data_dir().join("herald.db")).expect("open");
    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    drop(db);
    let bytes = std::fs::read(ws.data_dir().join("herald.db")).expect("journal");
    (bytes, sent)
}

/// Where the cells of the letters' primary-key index begin in the journal file: damage there
/// makes registered letters look absent (SQLite's page header gives the cell content area).
fn letters_index_cells(db_path: &std::path::Path, bytes: &[u8]) -> usize {
    let root: usize = {
        let db = rusqlite::Connection::open(db_path).expect("open");
        db.query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_letters_1'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .expect("the index")
        .try_into()
        .expect("positive")
    };
    let page = (root - 1) * 4096;
    let content = usize::from(u16::from_be_bytes([bytes[page + 5], bytes[page + 6]]));
    page + content
}

/// Whether SQLite and `herald verify` both find nothing wrong with the journal.
fn looks_intact(ws: &Workspace) -> bool {
    let path = ws.data_dir().join("herald.db");
    let sqlite_ok =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|db| db.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)))
            .is_ok_and(|r| r == "ok");
    sqlite_ok && ws.run(["verify"]).status == 0
}

/// Regression: with every letter `sent` and a few bytes of the journal overwritten, dispatch
/// re-sent letters already delivered (an index missing a row: the letter looked unregistered)
/// and exited 0. It must refuse (exit 2, how to restore) whenever the journal is damaged, and
/// never send.
#[test]
fn a_corrupted_journal_is_refused_and_nothing_is_sent_again() {
    let (ws, server) = smtp_workspace();
    let (clean, sent) = sent_journal(&ws, &server);
    let db_path = ws.data_dir().join("herald.db");
    let page = 4096;
    let pages = clean.len() / page;

    // The cells of the letters' primary-key index: damage there hides registered letters.
    let cells = letters_index_cells(&db_path, &clean);
    let mut trials: Vec<(usize, Vec<u8>)> =
        vec![(cells + 8, vec![0x00; 8]), (cells + 40, vec![0xff; 4])];
    let mut rng = fastrand::Rng::with_seed(16_002);
    for _ in 0..10 {
        // Past the first page: a damaged header only makes every command fail.
        let offset = rng.usize(page..pages * page - 16);
        let bytes: Vec<u8> = (0..rng.usize(1..16)).map(|_| rng.u8(..)).collect();
        trials.push((offset, bytes));
    }
    let mut refused = 0;
    for (offset, bytes) in trials {
        let mut damaged = clean.clone();
        damaged[offset..offset + bytes.len()].copy_from_slice(&bytes);
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(ws.data_dir().join(format!("herald.db{suffix}")));
        }
        std::fs::write(&db_path, &damaged).expect("write the damaged journal");
        let intact = looks_intact(&ws);
        let output = ws.run(["dispatch", SEED, "--yes"]);
        assert_no_panic(&output);
        assert_eq!(
            server.messages().len(),
            sent,
            "offset {offset}: letters were sent again\n{}",
            output.stderr
        );
        if intact {
            output.assert_success();
        } else {
            refused += 1;
            assert_refused(&output, &["cannot vouch", "backup", "herald verify"]);
        }
    }
    assert!(refused >= 2, "only {refused} trials damaged the journal");
}

/// Regression: `rm var/herald.db-wal` during a dispatch, then `herald status` (which opened the
/// journal for writing and created a schema) left `verify` saying `0 events`, and the next
/// dispatch re-sent every letter. Readers open the journal read-only.
#[test]
fn a_deleted_wal_and_a_reader_never_lead_to_letters_sent_twice() {
    // The race was lost in about 2 runs of 5: several runs while the dispatch is going, one after.
    for during in [true, true, true, true, true, false] {
        let server = SmtpServer::start(Script::new().delay(Duration::from_millis(20)));
        let ws = Workspace::new();
        ws.smtp(server.port()).set("delivery", "concurrency", 1);
        let wal = ws.data_dir().join("herald.db-wal");
        let first = if during {
            let running = ws.herald(["dispatch", SEED, "--yes"]).spawn();
            server.wait_for(5, Duration::from_secs(30));
            assert!(wal.exists(), "the dispatch has a write-ahead log");
            std::fs::remove_file(&wal).expect("delete the -wal file");
            let status = ws.run(["status"]);
            assert_no_panic(&status);
            running.wait()
        } else {
            let output = ws.run(["dispatch", SEED, "--yes"]);
            let _ = std::fs::remove_file(&wal);
            let status = ws.run(["status"]);
            assert_no_panic(&status);
            output
        };
        assert_no_panic(&first);
        let sent = server.messages().len();
        for reader in [["history"].as_slice(), &["verify"], &["status"]] {
            assert_no_panic(&ws.run(reader));
        }
        let again = ws.run(["dispatch", SEED, "--yes"]);
        assert_no_panic(&again);
        let mut seen = std::collections::HashSet::new();
        for m in server.messages() {
            assert!(
                seen.insert(m.rcpt_to.clone()),
                "during={during}: {:?} received the letter twice (first run sent {sent})\n{}",
                m.rcpt_to,
                again.stderr
            );
        }
    }
}

/// Readers never create, upgrade or write a journal; a writer never writes over a file that
/// holds other data.
#[test]
fn readers_open_the_journal_read_only_and_writers_keep_off_foreign_files() {
    let ws = Workspace::new();
    for reader in [
        vec!["status"],
        vec!["history"],
        vec!["verify"],
        vec!["check", SEED],
        vec!["resolve", SEED],
    ] {
        let output = ws.run(reader.clone());
        assert_no_panic(&output);
        assert!(
            !ws.data_dir().join("herald.db").exists(),
            "{reader:?} created a journal"
        );
    }
    // A read-only journal can be read.
    ws.run(["dispatch", SEED, "--yes"]).assert_success();
    let db = ws.data_dir().join("herald.db");
    let before = std::fs::read(&db).expect("journal");
    for reader in [vec!["status"], vec!["history"], vec!["verify"]] {
        let output = ws.run(reader.clone());
        assert_no_panic(&output);
        output.assert_success();
    }
    assert!(
        std::fs::read(&db).expect("journal") == before,
        "a reader wrote"
    );

    // Some other program's database where the journal should be.
    let other = Workspace::new();
    let foreign = other.data_dir().join("herald.db");
    std::fs::create_dir_all(other.data_dir()).expect("data folder");
    {
        let db = rusqlite::Connection::open(&foreign).expect("create");
        db.execute_batch("CREATE TABLE accounts (name TEXT); INSERT INTO accounts VALUES ('x');")
            .expect("fill");
    }
    let before = std::fs::read(&foreign).expect("file");
    let output = other.run(["dispatch", SEED, "--yes"]);
    assert_refused(&output, &["herald.db", "not a herald journal"]);
    let output = other.run(["status"]);
    assert_no_panic(&output);
    assert_ne!(output.status, 0, "{}", output.stdout);
    assert!(
        std::fs::read(&foreign).expect("file") == before,
        "herald wrote into another program's database"
    );
}

/// Polls `condition` until it holds, for at most a generous deadline.
#[track_caller]
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(45);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The daemon applies the size limit too: the statement is rejected with the reason, nothing
/// is sent, and the daemon keeps running.
#[test]
fn the_daemon_rejects_a_statement_over_the_size_limit() {
    let (ws, server) = smtp_workspace();
    ws.set("daemon", "poll_secs", 1)
        .set("daemon", "settle_millis", 200)
        .set("statement", "max_bytes", 1000);
    let mut daemon = ws.herald(["daemon"]).spawn();
    let staged = ws.write("staging/long.txt", ws.read(SEED));
    let inbox = ws.data_dir().join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    std::fs::rename(&staged, inbox.join("long.txt")).expect("rename into the inbox");
    let error = ws.data_dir().join("rejected/long.txt.error.txt");
    wait_until("the rejection", || error.exists());
    let text = std::fs::read_to_string(&error).expect("error file");
    assert!(
        text.contains("max_bytes") && text.contains("limit of 1000 bytes"),
        "{text}"
    );
    assert!(
        daemon.wait_timeout(Duration::ZERO).is_none(),
        "the daemon stopped"
    );
    daemon.terminate();
    let output = daemon.wait();
    assert_no_panic(&output);
    assert_eq!(server.messages().len(), 0);
}

/// The daemon vouches for the journal before it sends anything: on a damaged one it exits 2.
#[test]
fn the_daemon_refuses_to_start_on_a_damaged_journal() {
    let (ws, server) = smtp_workspace();
    let (clean, sent) = sent_journal(&ws, &server);
    let db_path = ws.data_dir().join("herald.db");
    let mut damaged = clean;
    let at = letters_index_cells(&db_path, &damaged) + 8;
    damaged[at..at + 8].copy_from_slice(&[0; 8]);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(ws.data_dir().join(format!("herald.db{suffix}")));
    }
    std::fs::write(&db_path, &damaged).expect("write the damaged journal");
    ws.set("daemon", "poll_secs", 1);
    let staged = ws.write("staging/seed.txt", ws.read(SEED));
    let inbox = ws.data_dir().join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    std::fs::rename(&staged, inbox.join("seed.txt")).expect("rename into the inbox");
    let mut daemon = ws.herald(["daemon"]).spawn();
    let status = daemon.wait_timeout(Duration::from_secs(45));
    if status.is_none() {
        daemon.kill();
    }
    let output = daemon.wait();
    assert!(
        status.is_some(),
        "the daemon kept running\n{}",
        output.stderr
    );
    assert_refused(&output, &["cannot vouch", "backup"]);
    assert_eq!(server.messages().len(), sent, "letters were sent again");
}
