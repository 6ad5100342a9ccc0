//! What a letter carries, checked on the dry run's `.eml` files (the exact messages that would be
//! sent): every header line within RFC 5322's limit whatever the directory holds, the statement
//! attached byte for byte in base64, and the attachment's name in the parameters older clients
//! read.

use std::path::PathBuf;

use mail_parser::{MessageParser, MimeHeaders};

use crate::common::{assert_no_panic, SEED};
use crate::support::workspace::Workspace;

/// A statement addressed to UNESCO (a shipped organisation), as a file under `statements/`.
const TO_UNESCO: &str = "Statement on the border\n\nThe Commissioner protests.\n\n\
    This Statement is addressed to UNESCO.\n\nSabina Aliyeva\n\n27 May 2021\n";

/// Runs `dispatch --dry-run` on `statement` into `previews/` and returns that folder.
fn dry_run(ws: &Workspace, statement: &str) -> PathBuf {
    let out = ws.path().join("previews");
    let output = ws.run([
        "dispatch",
        statement,
        "--dry-run",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_no_panic(&output);
    output.assert_success();
    out
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The octets of each line of `eml`, line endings not counted.
fn line_lengths(eml: &[u8]) -> Vec<usize> {
    eml.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line).len())
        .collect()
}

/// Regression: a 10 KB name in one word made a 10,264-octet `To:` line (RFC 5322 allows 998).
#[test]
fn a_ten_kilobyte_one_word_name_keeps_every_line_within_the_limit() {
    let ws = Workspace::new();
    let name = "N".repeat(10_000);
    ws.recipients(
        "long.toml",
        &format!(
            "[[organization]]\nid = \"long-name\"\nname = \"{name}\"\n\
             aliases = [\"Long Name Office\"]\nemails = [\"office@long-name.example\", \
             \"second@long-name.example\"]\nlanguage = \"en\"\n"
        ),
    );
    let statement = ws.statement(
        "long.txt",
        "Statement on the border\n\nThe Commissioner protests.\n\n\
         This Statement is addressed to the Long Name Office.\n\nSabina Aliyeva\n\n27 May 2021\n",
    );
    let out = dry_run(&ws, statement.to_str().expect("utf-8 path"));
    let eml = read(out.join("long-name.eml"));
    let longest = line_lengths(&eml).into_iter().max().unwrap_or(0);
    assert!(longest <= 998, "a line of {longest} octets");
    // And the name reads back whole, at both addresses.
    let message = MessageParser::default().parse(&eml).expect("a message");
    let to: Vec<(Option<&str>, Option<&str>)> = message
        .to()
        .expect("To")
        .iter()
        .map(|a| (a.name(), a.address()))
        .collect();
    assert_eq!(
        to,
        vec![
            (Some(name.as_str()), Some("office@long-name.example")),
            (Some(name.as_str()), Some("second@long-name.example")),
        ]
    );
}

/// Regression: a short ASCII statement was attached 7bit, with its bare line feeds. The
/// attachment is the evidence of what was sent: always base64, byte for byte. Its name is in
/// the plain `filename=` and `name=` parameters older clients read (it was only in RFC 2231
/// form, `filename*0=`), and a name that is not ASCII still reads back.
#[test]
fn the_statement_is_attached_in_base64_byte_for_byte_under_its_own_name() {
    for file_name in ["short-statement.txt", "déclaration courte.txt"] {
        let ws = Workspace::new();
        let statement = ws.statement(file_name, TO_UNESCO);
        let out = dry_run(&ws, statement.to_str().expect("utf-8 path"));
        let eml = read(out.join("unesco.eml"));
        let message = MessageParser::default().parse(&eml).expect("a message");
        assert_eq!(message.attachment_count(), 1);
        let attachment = message.attachment(0).expect("the attachment");
        assert_eq!(attachment.content_transfer_encoding(), Some("base64"));
        assert_eq!(attachment.contents(), TO_UNESCO.as_bytes());
        assert_eq!(attachment.attachment_name(), Some(file_name));

        let text = String::from_utf8_lossy(&eml).replace("\r\n ", " ");
        let plain = file_name.is_ascii();
        for parameter in [
            format!("Content-Disposition: attachment; filename=\"{file_name}\""),
            format!("Content-Type: text/plain; charset=utf-8; name=\"{file_name}\""),
        ] {
            assert_eq!(text.contains(&parameter), plain, "{parameter}:\n{text}");
        }
    }
}

/// What dispatch sends is what the dry run shows, letter for letter: the check before sending
/// keeps the letters it rendered for the send, and each must go to its own organisation as
/// rendered.
#[test]
fn sent_letters_are_the_dry_runs_letters() {
    let ws = Workspace::new();
    let previews = dry_run(&ws, SEED);
    let output = ws.run(["dispatch", SEED, "--yes"]);
    assert_no_panic(&output);
    output.assert_success();
    let folders: Vec<PathBuf> = std::fs::read_dir(ws.data_dir().join("outbox"))
        .expect("the outbox")
        .map(|entry| entry.expect("an outbox entry").path())
        .collect();
    let [outbox] = folders.as_slice() else {
        panic!("one statement's folder in the outbox: {folders:?}");
    };
    let mut compared = 0;
    for entry in std::fs::read_dir(&previews).expect("the previews") {
        let preview = entry.expect("a preview entry").path();
        if preview.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let name = preview.file_name().expect("a file name");
        let (shown, sent) = (read(preview.clone()), read(outbox.join(name)));
        let parser = MessageParser::default();
        let shown = parser.parse(&shown).expect("a MIME preview");
        let sent = parser.parse(&sent).expect("a MIME message");
        assert_eq!(sent.subject(), shown.subject(), "{name:?}");
        assert_eq!(sent.body_text(0), shown.body_text(0), "{name:?}");
        assert_eq!(sent.body_html(0), shown.body_html(0), "{name:?}");
        assert!(
            shown
                .body_text(0)
                .is_some_and(|text| text.contains("Kalbajar")),
            "{name:?}: the statement's body"
        );
        compared += 1;
    }
    assert!(compared > 1, "{compared} letters compared");
}
