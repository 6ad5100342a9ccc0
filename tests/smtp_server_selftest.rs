//! Self-tests of the scriptable SMTP server: each scripted fault must behave as written, or the
//! delivery tests built on it would prove nothing. The clients are lettre (the library herald
//! sends with) and a raw TCP client for what lettre cannot be made to do.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{Message, SmtpTransport, Transport};

use crate::support::smtp::{Fault, Reply, Script, SmtpServer, Stage, Times};

const WAIT: Duration = Duration::from_secs(10);

fn letter(to: &[&str], subject: &str) -> Message {
    let mut builder = Message::builder()
        .from(
            "Ombudsman <statements@ombudsman.example>"
                .parse()
                .expect("from"),
        )
        .subject(subject);
    for address in to {
        builder = builder.to(address.parse().expect("to"));
    }
    builder
        .body(format!("Body of {subject}\n"))
        .expect("message")
}

fn lettre(server: &SmtpServer) -> SmtpTransport {
    SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.port())
        .timeout(Some(WAIT))
        .build()
}

/// A line-level SMTP client, for byte-exact data and for watching how a connection ends.
struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    /// Connects and returns the client with the greeting it got.
    fn connect(server: &SmtpServer) -> (Raw, io::Result<(u16, Vec<String>)>) {
        let stream = TcpStream::connect(server.addr()).expect("connect");
        stream.set_read_timeout(Some(WAIT)).expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut raw = Raw {
            reader,
            writer: stream,
        };
        let greeting = raw.reply();
        (raw, greeting)
    }

    /// Connects, says EHLO and expects both to succeed.
    fn ready(server: &SmtpServer) -> Raw {
        let (mut raw, greeting) = Raw::connect(server);
        assert_eq!(greeting.expect("greeting").0, 220);
        assert_eq!(raw.command("EHLO client.example").expect("EHLO").0, 250);
        raw
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// Reads one reply, joining continuation lines; EOF is an `UnexpectedEof` error.
    fn reply(&mut self) -> io::Result<(u16, Vec<String>)> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "connection closed",
                ));
            }
            let line = line.trim_end();
            let code = line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .expect("reply code");
            lines.push(line.get(4..).unwrap_or("").to_owned());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, lines));
            }
        }
    }

    fn command(&mut self, line: &str) -> io::Result<(u16, Vec<String>)> {
        self.send(format!("{line}\r\n").as_bytes())?;
        self.reply()
    }

    fn code(&mut self, line: &str) -> u16 {
        self.command(line)
            .unwrap_or_else(|e| panic!("`{line}`: {e}"))
            .0
    }
}

#[test]
fn lettre_delivers_and_the_server_records_envelope_data_and_arrival() {
    let server = SmtpServer::start(Script::new());
    let before = Instant::now();
    let message = letter(&["sg@un.example", "cc@un.example"], "Kalbajar");
    lettre(&server).send(&message).expect("delivered");
    let after = Instant::now();

    let received = server.wait_for(1, WAIT);
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got.mail_from, "statements@ombudsman.example");
    assert_eq!(got.rcpt_to, ["sg@un.example", "cc@un.example"]);
    assert!(
        got.text().contains("Subject: Kalbajar\r\n"),
        "{}",
        got.text()
    );
    assert!(got.text().contains("Body of Kalbajar"));
    // lettre ends the data with CRLF . CRLF after the message's own final CRLF: one blank line.
    assert_eq!(got.data, [message.formatted(), b"\r\n".to_vec()].concat());
    assert!(before <= got.arrived_at && got.arrived_at <= after);
    assert_eq!(got.connection, 1);
    assert_eq!(server.connections(), 1);
    assert!(server.dropped_after_data().is_empty());
}

#[test]
fn ehlo_advertises_8bitmime_and_size_and_auth_only_when_configured() {
    let plain = SmtpServer::start(Script::new().max_size(1000));
    let (mut raw, _) = Raw::connect(&plain);
    let (code, lines) = raw.command("EHLO client.example").expect("EHLO");
    assert_eq!(code, 250);
    assert!(lines.contains(&"8BITMIME".to_owned()), "{lines:?}");
    assert!(lines.contains(&"SIZE 1000".to_owned()), "{lines:?}");
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("AUTH") || l.starts_with("STARTTLS")));
    assert!(lines.contains(&"PIPELINING".to_owned()), "{lines:?}");
    assert_eq!(raw.code("MAIL FROM:<a@b.example> SIZE=1001"), 552);
    assert_eq!(raw.code("MAIL FROM:<a@b.example> SIZE=999"), 250);

    let with_auth = SmtpServer::start(Script::new().auth("statements", "s3cret"));
    let (mut raw, _) = Raw::connect(&with_auth);
    let (_, lines) = raw.command("EHLO client.example").expect("EHLO");
    assert!(lines.contains(&"AUTH PLAIN LOGIN".to_owned()), "{lines:?}");
    let lockstep = SmtpServer::start(Script::new().without_pipelining());
    let (mut raw2, _) = Raw::connect(&lockstep);
    let (_, lines2) = raw2.command("EHLO client.example").expect("EHLO");
    assert!(!lines2.iter().any(|l| l == "PIPELINING"), "{lines2:?}");
    assert_eq!(
        raw.code("MAIL FROM:<a@b.example>"),
        530,
        "MAIL before AUTH is refused"
    );
}

#[test]
fn auth_records_the_credentials_and_accepts_only_the_configured_ones() {
    let server = SmtpServer::start(Script::new().auth("statements", "s3cret"));
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let client = SmtpTransport::builder_dangerous("127.0.0.1")
            .port(server.port())
            .credentials(Credentials::new("statements".into(), "s3cret".into()))
            .authentication(vec![mechanism])
            .build();
        client
            .send(&letter(&["sg@un.example"], "authenticated"))
            .expect("delivered");
    }
    let wrong = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.port())
        .credentials(Credentials::new("statements".into(), "guess".into()))
        .authentication(vec![Mechanism::Plain])
        .build();
    let error = wrong
        .send(&letter(&["sg@un.example"], "refused"))
        .expect_err("bad password");
    assert!(error.is_permanent(), "{error}");

    let credentials = server.credentials();
    let seen: Vec<_> = credentials
        .iter()
        .map(|c| {
            (
                c.mechanism.as_str(),
                c.username.as_str(),
                c.password.as_str(),
                c.accepted,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("PLAIN", "statements", "s3cret", true),
            ("LOGIN", "statements", "s3cret", true),
            ("PLAIN", "statements", "guess", false),
        ]
    );
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn data_is_dot_unstuffed_and_kept_byte_for_byte() {
    let server = SmtpServer::start(Script::new());
    let mut raw = Raw::ready(&server);
    assert_eq!(raw.code("MAIL FROM:<a@b.example>"), 250);
    assert_eq!(raw.code("RCPT TO:<c@d.example>"), 250);
    assert_eq!(raw.code("DATA"), 354);
    raw.send(b"Subject: dots\r\n\r\n..\r\n...leading\r\nmiddle . dot\r\n.\r\n")
        .expect("data");
    let (code, text) = raw.reply().expect("end of data");
    assert_eq!(code, 250);
    assert!(text[0].starts_with("2.0.0 Ok: queued as"), "{text:?}");
    assert_eq!(raw.code("QUIT"), 221);

    let received = server.wait_for(1, WAIT);
    assert_eq!(
        received[0].data,
        b"Subject: dots\r\n\r\n.\r\n..leading\r\nmiddle . dot\r\n"
    );
}

#[test]
fn one_recipient_is_rejected_while_the_others_are_accepted() {
    let script = Script::new().on_rcpt("Bad@X.example", Reply::new(550, "5.1.1 No such user"));
    let server = SmtpServer::start(script);
    let mut raw = Raw::ready(&server);
    assert_eq!(raw.code("MAIL FROM:<a@b.example>"), 250);
    assert_eq!(raw.code("RCPT TO:<good@x.example>"), 250);
    let (code, text) = raw.command("RCPT TO:<bad@x.example>").expect("RCPT");
    assert_eq!((code, text[0].as_str()), (550, "5.1.1 No such user"));
    assert_eq!(raw.code("RCPT TO:<other@x.example>"), 250);
    assert_eq!(raw.code("DATA"), 354);
    raw.send(b"Subject: x\r\n\r\nhi\r\n.\r\n").expect("data");
    assert_eq!(raw.reply().expect("end of data").0, 250);

    let received = server.wait_for(1, WAIT);
    assert_eq!(received[0].rcpt_to, ["good@x.example", "other@x.example"]);
}

#[test]
fn multi_line_replies_reach_the_client_whole() {
    let reply = Reply::multiline(451, &["4.3.0 Local trouble", "4.3.0 Try again later"]);
    let server = SmtpServer::start(Script::new().on(Stage::Mail, reply));
    let mut raw = Raw::ready(&server);
    let (code, lines) = raw.command("MAIL FROM:<a@b.example>").expect("MAIL");
    assert_eq!(code, 451);
    assert_eq!(lines, ["4.3.0 Local trouble", "4.3.0 Try again later"]);

    // lettre sees the same reply as a transient error.
    let error = lettre(&server)
        .send(&letter(&["c@d.example"], "x"))
        .expect_err("451");
    assert!(error.is_transient(), "{error}");
    assert!(server.messages().is_empty());
}

#[test]
fn first_n_attempts_fail_then_delivery_succeeds_across_connections() {
    let script = Script::new().on_data_end_first(2, Reply::retry_in(451, 30));
    let server = SmtpServer::start(script);
    let client = lettre(&server);
    for attempt in 1..=2 {
        let error = client
            .send(&letter(&["c@d.example"], "retry"))
            .expect_err("deferred");
        assert!(error.is_transient(), "attempt {attempt}: {error}");
        assert!(
            error.to_string().contains("Try again in 30 seconds"),
            "{error}"
        );
    }
    client
        .send(&letter(&["c@d.example"], "retry"))
        .expect("third attempt delivered");
    let received = server.wait_for(1, WAIT);
    assert_eq!(received.len(), 1, "the refused attempts are not recorded");
    assert!(server.dropped_after_data().is_empty());
}

#[test]
fn nth_and_recipient_rules_pick_the_right_messages() {
    let script = Script::new()
        .on_data_end_nth(2, Reply::new(554, "5.7.1 Rejected"))
        .on_data_end_for(
            "slow@x.example",
            Times::First(1),
            Reply::new(452, "4.3.1 Full"),
        );
    let server = SmtpServer::start(script);
    let client = lettre(&server);
    client
        .send(&letter(&["a@x.example"], "one"))
        .expect("1st end of data accepted");
    let error = client
        .send(&letter(&["b@x.example"], "two"))
        .expect_err("2nd rejected");
    assert!(error.is_permanent(), "{error}");
    let error = client
        .send(&letter(&["slow@x.example"], "three"))
        .expect_err("first for slow");
    assert!(error.is_transient(), "{error}");
    client
        .send(&letter(&["slow@x.example"], "three"))
        .expect("second for slow accepted");
    let subjects: Vec<_> = server
        .messages()
        .iter()
        .map(|m| m.rcpt_to.join(","))
        .collect();
    assert_eq!(subjects, ["a@x.example", "slow@x.example"]);
}

#[test]
fn a_drop_after_the_end_of_data_resets_the_connection_and_is_recorded_apart() {
    let server = SmtpServer::start(Script::new().on_data_end_nth(1, Fault::DropWithoutReply));
    let mut raw = Raw::ready(&server);
    assert_eq!(raw.code("MAIL FROM:<a@b.example>"), 250);
    assert_eq!(raw.code("RCPT TO:<c@d.example>"), 250);
    assert_eq!(raw.code("DATA"), 354);
    raw.send(b"Subject: lost reply\r\n\r\nhi\r\n.\r\n")
        .expect("data");
    let error = raw.reply().expect_err("no reply after the data");
    assert_eq!(
        error.kind(),
        ErrorKind::ConnectionReset,
        "an RST, not an orderly close"
    );

    let dropped = server.wait_for_dropped(1, WAIT);
    assert_eq!(dropped[0].rcpt_to, ["c@d.example"]);
    assert_eq!(dropped[0].data, b"Subject: lost reply\r\n\r\nhi\r\n");
    assert!(
        server.messages().is_empty(),
        "a message without a 250 is not received"
    );

    // lettre, on the second message, sees the next end of data accepted.
    lettre(&server)
        .send(&letter(&["c@d.example"], "again"))
        .expect("delivered");
    assert_eq!(server.wait_for(1, WAIT).len(), 1);
}

#[test]
fn a_drop_in_the_middle_of_the_data_records_nothing() {
    let server = SmtpServer::start(Script::new().on(Stage::Data, Fault::DropAfterDataBytes(64)));
    let error = lettre(&server)
        .send(&letter(&["c@d.example"], &"long ".repeat(100)))
        .expect_err("connection broken in the data");
    assert!(!error.is_permanent(), "{error}");
    assert_eq!(server.connections(), 1);
    assert!(server.messages().is_empty());
    assert!(server.dropped_after_data().is_empty());

    // A message shorter than the limit is cut at its end, never left waiting for an answer.
    let server =
        SmtpServer::start(Script::new().on(Stage::Data, Fault::DropAfterDataBytes(1 << 20)));
    let short = lettre(&server).send(&letter(&["c@d.example"], "short"));
    let error = short.expect_err("a reset, not a delivery");
    assert!(!error.is_timeout(), "the client was left waiting: {error}");
    assert!(server.messages().is_empty());
    assert!(server.dropped_after_data().is_empty());
}

#[test]
fn a_stalled_command_gets_no_answer_until_the_server_is_dropped() {
    let server = SmtpServer::start(Script::new().on(Stage::Mail, Fault::Stall));
    let mut raw = Raw::ready(&server);
    raw.writer
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let error = raw
        .command("MAIL FROM:<a@b.example>")
        .expect_err("no answer");
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{error}"
    );

    raw.writer.set_read_timeout(Some(WAIT)).expect("timeout");
    let started = Instant::now();
    drop(server);
    let end = raw.reply().expect_err("closed when the server stops");
    assert_eq!(end.kind(), ErrorKind::UnexpectedEof, "{end}");
    assert!(started.elapsed() < WAIT);
}

#[test]
fn a_held_answer_goes_out_once_another_transaction_is_open() {
    let server = SmtpServer::start(Script::new().rule(
        Stage::DataEnd,
        None,
        Times::Nth(1),
        Fault::HoldUntilTransactions(2),
    ));
    let mut first = Raw::ready(&server);
    assert_eq!(first.code("MAIL FROM:<a@b.example>"), 250);
    assert_eq!(first.code("RCPT TO:<c@d.example>"), 250);
    assert_eq!(first.code("DATA"), 354);
    first
        .writer
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let error = first.command("x\r\n.").expect_err("held");
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{error}"
    );

    // A second connection's MAIL opens a second transaction: the first answer goes out.
    let mut second = Raw::ready(&server);
    assert_eq!(second.code("MAIL FROM:<a@b.example>"), 250);
    first.writer.set_read_timeout(Some(WAIT)).expect("timeout");
    assert_eq!(first.reply().expect("the held answer").0, 250);
    assert_eq!(server.max_simultaneous_transactions(), 2);
    // Only the first end of data was held.
    assert_eq!(second.code("RCPT TO:<c@d.example>"), 250);
    assert_eq!(second.code("DATA"), 354);
    assert_eq!(second.code("y\r\n."), 250);
    assert_eq!(server.wait_for(2, WAIT).len(), 2);
}

#[test]
fn a_421_greeting_closes_the_connection() {
    let server = SmtpServer::start(Script::new().on_first(
        Stage::Greeting,
        1,
        Reply::new(421, "4.3.2 Service not available"),
    ));
    let (mut raw, greeting) = Raw::connect(&server);
    assert_eq!(greeting.expect("greeting").0, 421);
    let end = raw.reply().expect_err("closed after 421");
    assert_eq!(end.kind(), ErrorKind::UnexpectedEof);
    // The rule applied to the first connection only.
    let (_, greeting) = Raw::connect(&server);
    assert_eq!(greeting.expect("greeting").0, 220);
    server.wait_for_connections(2, WAIT);
}

#[test]
fn a_delayed_server_answers_every_command_late() {
    let delay = Duration::from_millis(150);
    let server = SmtpServer::start(Script::new().delay(delay));
    let mut raw = Raw::ready(&server);
    let started = Instant::now();
    assert_eq!(raw.code("NOOP"), 250);
    assert!(
        started.elapsed() >= delay,
        "answered after {:?}",
        started.elapsed()
    );
}

#[test]
fn commands_out_of_order_are_refused_and_rset_clears_the_transaction() {
    let server = SmtpServer::start(Script::new());
    let (mut raw, _) = Raw::connect(&server);
    assert_eq!(raw.code("MAIL FROM:<a@b.example>"), 503, "MAIL before EHLO");
    assert_eq!(raw.code("HELO client.example"), 250);
    assert_eq!(raw.code("RCPT TO:<c@d.example>"), 503, "RCPT before MAIL");
    assert_eq!(raw.code("MAIL FROM:<a@b.example>"), 250);
    assert_eq!(raw.code("DATA"), 554, "DATA without recipients");
    assert_eq!(raw.code("RCPT TO:<c@d.example>"), 250);
    assert_eq!(raw.code("RSET"), 250);
    assert_eq!(raw.code("DATA"), 503, "RSET forgot the sender");
    assert_eq!(raw.code("XYZZY"), 502);
    assert_eq!(raw.code("QUIT"), 221);
    let commands: Vec<_> = server.commands().into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        commands.first().map(String::as_str),
        Some("MAIL FROM:<a@b.example>")
    );
    assert_eq!(commands.last().map(String::as_str), Some("QUIT"));
}

#[test]
fn wait_for_wakes_when_a_message_arrives_from_another_thread() {
    let server = SmtpServer::start(Script::new().delay(Duration::from_millis(20)));
    let port = server.port();
    let sender = thread::spawn(move || {
        let client = SmtpTransport::builder_dangerous("127.0.0.1")
            .port(port)
            .build();
        for n in 0..3 {
            client
                .send(&letter(&["c@d.example"], &format!("n{n}")))
                .expect("delivered");
        }
    });
    let received = server.wait_for(3, WAIT);
    assert_eq!(received.len(), 3);
    assert!(received
        .windows(2)
        .all(|w| w[0].arrived_at <= w[1].arrived_at));
    sender.join().expect("sender");
}

#[test]
#[should_panic(expected = "waited")]
fn wait_for_fails_the_test_on_timeout() {
    let server = SmtpServer::start(Script::new());
    server.wait_for(1, Duration::from_millis(50));
}
