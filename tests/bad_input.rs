//! Bad statements and a bad recipients directory: `resolve`, `check` and `dispatch` each refuse
//! with exit 2 and a message naming the file, line and value, never panic, and `dispatch` sends
//! nothing (the SMTP server sees no message) and records nothing as sent.

use crate::common::{assert_refused, letter_states, SEED};
use crate::support::smtp::{Script, SmtpServer};
use crate::support::workspace::Workspace;

/// A workspace whose transport is a fresh test SMTP server.
fn smtp_workspace() -> (Workspace, SmtpServer) {
    let server = SmtpServer::start(Script::new());
    let ws = Workspace::new();
    ws.smtp(server.port());
    (ws, server)
}

/// Runs `resolve`, `check` and `dispatch --yes` on `statement`; each must be refused naming
/// every needle, and dispatch must leave the server and the journal without a delivery.
fn refused_everywhere(ws: &Workspace, server: &SmtpServer, statement: &str, needles: &[&str]) {
    for args in [
        vec!["resolve", statement],
        vec!["resolve", statement, "--format", "json"],
        vec!["check", statement],
        vec!["dispatch", statement, "--dry-run"],
        vec!["dispatch", statement, "--yes"],
    ] {
        let output = ws.run(args.clone());
        assert_refused(&output, needles);
        assert!(
            !output.stderr.contains("Some(") && !output.stderr.contains("Err("),
            "{args:?}: a debug representation leaked into the message:\n{}",
            output.stderr
        );
        // The system's words, not the programmer's error number.
        assert!(
            !output.stderr.contains("(os error"),
            "{args:?}: {}",
            output.stderr
        );
    }
    assert_eq!(server.messages().len(), 0, "something was sent");
    assert_eq!(server.connections(), 0, "herald connected to the server");
    let sent: Vec<_> = letter_states(ws)
        .into_iter()
        .filter(|(_, _, state)| state != "pending")
        .collect();
    assert!(sent.is_empty(), "recorded: {sent:?}");
    assert!(
        !ws.data_dir().join("previews").exists()
            || std::fs::read_dir(ws.data_dir().join("previews"))
                .expect("previews")
                .next()
                .is_none(),
        "a refused dry run wrote previews"
    );
}

#[test]
fn a_missing_statement_is_refused() {
    let (ws, server) = smtp_workspace();
    refused_everywhere(
        &ws,
        &server,
        "statements/absent.txt",
        &["statements/absent.txt: cannot read the statement: No such file or directory"],
    );
}

#[test]
fn an_empty_statement_is_refused() {
    let (ws, server) = smtp_workspace();
    ws.statement("empty.txt", "");
    refused_everywhere(
        &ws,
        &server,
        "statements/empty.txt",
        &["statements/empty.txt", "empty"],
    );
    ws.statement("blank.txt", "  \n\n\t\n");
    refused_everywhere(
        &ws,
        &server,
        "statements/blank.txt",
        &["statements/blank.txt", "empty"],
    );
}

#[test]
fn invalid_utf8_is_refused_with_the_byte_offset() {
    let (ws, server) = smtp_workspace();
    let mut bytes = b"Statement\n\nThe Commissioner protests ".to_vec();
    let offset = bytes.len();
    bytes.extend_from_slice(b"\xff\xfe here.\n\nThis Statement is addressed to UNESCO.\n");
    ws.write("statements/latin1.txt", &bytes);
    let at = format!("{offset}");
    refused_everywhere(
        &ws,
        &server,
        "statements/latin1.txt",
        &["statements/latin1.txt", "UTF-8", &at],
    );
}

#[test]
fn a_statement_without_addressees_is_refused() {
    let (ws, server) = smtp_workspace();
    ws.statement(
        "nobody.txt",
        "Statement\n\nThe Commissioner protests.\n\nSabina Aliyeva\n\n27 May 2021\n",
    );
    refused_everywhere(
        &ws,
        &server,
        "statements/nobody.txt",
        &["statements/nobody.txt", "addressee"],
    );
}

#[test]
fn an_unresolved_addressee_stops_the_whole_dispatch() {
    let (ws, server) = smtp_workspace();
    ws.statement(
        "partly.txt",
        "Statement\n\nText.\n\nThis Statement is addressed to UNESCO and the Northern Federation \
         of Peace Councils.\n\nSabina Aliyeva\n\n27 May 2021\n",
    );
    refused_everywhere(
        &ws,
        &server,
        "statements/partly.txt",
        &[
            "statements/partly.txt",
            "Northern Federation of Peace Councils",
        ],
    );
}

#[test]
fn malformed_recipients_toml_is_refused_with_file_and_line() {
    let (ws, server) = smtp_workspace();
    ws.recipients(
        "broken.toml",
        "# added by hand\n\n[[organization]\nid = \"x\"\n",
    );
    refused_everywhere(&ws, &server, SEED, &["recipients/broken.toml:3", "TOML"]);
}

#[test]
fn a_duplicate_id_is_refused_naming_both_places() {
    let (ws, server) = smtp_workspace();
    ws.recipients(
        "zz-extra.toml",
        "[[organization]]\nid = \"unesco\"\nname = \"Another UNESCO\"\nemails = [\"x@unesco.example\"]\n",
    );
    // An entry is located by its `[[organization]]` header.
    let un = ws.read("recipients/un.toml");
    let lines: Vec<&str> = un.lines().collect();
    let id_line = lines
        .iter()
        .position(|l| l.trim() == "id = \"unesco\"")
        .expect("unesco in un.toml");
    let header = lines[..id_line]
        .iter()
        .rposition(|l| l.trim() == "[[organization]]")
        .expect("a header above it")
        + 1;
    let first = format!("recipients/un.toml:{header}");
    refused_everywhere(
        &ws,
        &server,
        SEED,
        &["recipients/zz-extra.toml:1", "`unesco`", &first],
    );
}

#[test]
fn an_unknown_group_is_refused() {
    let (ws, server) = smtp_workspace();
    ws.recipients(
        "extra.toml",
        "[[organization]]\nid = \"peace-bureau-2\"\nname = \"Second Peace Bureau\"\n\
         emails = [\"office@peace.example\"]\ngroups = [\"no-such-group\"]\n",
    );
    refused_everywhere(
        &ws,
        &server,
        SEED,
        &["recipients/extra.toml:5", "`no-such-group`"],
    );
}

#[test]
fn an_invalid_address_is_refused() {
    let (ws, server) = smtp_workspace();
    ws.recipients(
        "extra.toml",
        "[[organization]]\nid = \"peace-bureau-2\"\nname = \"Second Peace Bureau\"\n\
         emails = [\"office.peace.example\"]\ncc = [\"sg@un\"]\n",
    );
    refused_everywhere(
        &ws,
        &server,
        SEED,
        &[
            "recipients/extra.toml:4: `office.peace.example` is not a valid email address",
            "recipients/extra.toml:5: `sg@un` is not a valid email address",
        ],
    );
}

#[test]
fn every_directory_problem_is_reported_at_once() {
    let (ws, server) = smtp_workspace();
    ws.recipients("broken.toml", "[[organization]\n");
    ws.recipients(
        "extra.toml",
        "[[organization]]\nid = \"peace-bureau-2\"\nname = \"Second Peace Bureau\"\n\
         emails = [\"not an email\"]\ngroups = [\"no-such-group\"]\n",
    );
    refused_everywhere(
        &ws,
        &server,
        SEED,
        &[
            "recipients/broken.toml:1",
            "recipients/extra.toml:4: `not an email`",
            "recipients/extra.toml:5: `no-such-group`",
            "3 problems",
        ],
    );
}
