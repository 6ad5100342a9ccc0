//! TLS and secrets: no silent fallback from STARTTLS to plain text, certificates verified, AUTH
//! in plain text refused off loopback, and the password taken from the environment only and never
//! printed, not even at `-vv`.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

use tokio_rustls::rustls;

use crate::faults::{Fixture, Org, WAIT};
use crate::support::smtp::{Script, SmtpServer};
use crate::support::tls_front::{server_config, Front, TestAuthority};

#[test]
fn starttls_required_but_not_offered_sends_nothing_in_plain_text() {
    // The test server offers no STARTTLS.
    let server = SmtpServer::start(Script::new());
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("smtp", "security", "starttls");
    let out = fx.dispatch(&[]);
    // A configuration problem (exit 2), said as such, not a letter that failed.
    out.assert_code(2);
    assert!(
        out.stderr.contains("SMTP configuration")
            && out.stdout.contains("refuses herald's configuration"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(fx.state("org-01"), "failed");
    let events = fx.outcomes("org-01");
    assert_eq!(events.len(), 1, "not retried: {events:?}");
    assert!(
        events[0].reply.contains("does not offer STARTTLS"),
        "{events:?}"
    );
    let commands = server.commands();
    assert!(
        commands
            .iter()
            .all(|(_, c)| c.starts_with("EHLO") || c.starts_with("QUIT")),
        "nothing but EHLO went out in plain text: {commands:?}"
    );
    assert!(server.messages().is_empty());
}

/// Regression: a `ca_file` certificate refused when TLS is set up stopped the run with exit 1, as
/// if letters had gone undelivered; nothing was sent, so it is a configuration problem (exit 2).
#[test]
fn a_ca_file_certificate_refused_at_tls_setup_exits_2_and_sends_nothing() {
    let server = SmtpServer::start(Script::new());
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("smtp", "security", "tls");
    // Framed as a certificate, so the configuration loads; not one, so TLS setup refuses it.
    std::fs::write(
        fx.ws.path().join("config/relay-ca.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write ca_file");
    fx.set("smtp", "ca_file", "relay-ca.pem");
    let out = fx.dispatch(&[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("TLS setup for `127.0.0.1`"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(server.commands().is_empty(), "{:?}", server.commands());
    assert!(
        !fx.ws.data_dir().join("herald.db").exists(),
        "nothing recorded either"
    );
}

/// A TLS listener with a self-signed certificate for 127.0.0.1 and localhost, counting the
/// handshakes that completed and the lines that came through afterwards.
struct SelfSignedTls {
    addr: SocketAddr,
    seen: Arc<(Mutex<TlsSeen>, Condvar)>,
    _acceptor: JoinHandle<()>,
}

#[derive(Default, Debug)]
struct TlsSeen {
    connections: usize,
    handshakes: usize,
    failures: Vec<String>,
    lines: Vec<String>,
}

impl SelfSignedTls {
    fn start() -> SelfSignedTls {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("a self-signed certificate");
        let config = server_config(vec![cert.cert.der().clone()], &cert.signing_key);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let seen = Arc::new((Mutex::new(TlsSeen::default()), Condvar::new()));
        let acceptor = {
            let seen = Arc::clone(&seen);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(tcp) = stream else { continue };
                    let update = |f: &dyn Fn(&mut TlsSeen)| {
                        f(&mut seen.0.lock().expect("lock"));
                        seen.1.notify_all();
                    };
                    update(&|s| s.connections += 1);
                    let _ = tcp.set_read_timeout(Some(WAIT));
                    let conn = rustls::ServerConnection::new(Arc::clone(&config)).expect("tls");
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    // Writing the greeting drives the handshake first.
                    match tls
                        .write_all(b"220 herald-tls-test ESMTP\r\n")
                        .and_then(|()| tls.flush())
                    {
                        Err(e) => {
                            let message = e.to_string();
                            update(&|s| s.failures.push(message.clone()));
                            continue;
                        }
                        Ok(()) if tls.conn.is_handshaking() => {
                            update(&|s| s.failures.push("handshake unfinished".into()));
                            continue;
                        }
                        Ok(()) => update(&|s| s.handshakes += 1),
                    }
                    let mut reader = BufReader::new(tls);
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 0 {
                        let taken = std::mem::take(&mut line);
                        update(&|s| s.lines.push(taken.trim_end().to_owned()));
                    }
                }
            })
        };
        SelfSignedTls {
            addr,
            seen,
            _acceptor: acceptor,
        }
    }

    /// Waits until `n` connections ended their handshake one way or the other.
    fn wait_for_handshakes(&self, n: usize) -> std::sync::MutexGuard<'_, TlsSeen> {
        let (lock, changed) = &*self.seen;
        let (seen, timeout) = changed
            .wait_timeout_while(lock.lock().expect("lock"), WAIT, |s| {
                s.handshakes + s.failures.len() < n
            })
            .expect("lock");
        assert!(!timeout.timed_out(), "{seen:?}");
        seen
    }
}

#[test]
fn a_self_signed_certificate_is_refused_and_nothing_is_sent() {
    let tls = SelfSignedTls::start();
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(tls.addr.port(), 5, 0.05, 0.2)
        .set("smtp", "security", "tls");
    let out = fx.dispatch(&[]);
    // A configuration problem (exit 2), not a letter that failed.
    out.assert_code(2);
    assert_eq!(fx.state("org-01"), "failed");
    let events = fx.outcomes("org-01");
    assert_eq!(
        events.len(),
        1,
        "a refused certificate is final: {events:?}"
    );
    assert!(
        events[0].reply.contains("certificate"),
        "the reason is recorded: {events:?}"
    );
    let seen = tls.wait_for_handshakes(1);
    assert_eq!(seen.handshakes, 0, "{seen:?}");
    assert!(seen.lines.is_empty(), "{seen:?}");
}

#[test]
fn plain_text_credentials_to_a_remote_server_are_refused_before_anything_is_sent() {
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(2525, 5, 0.05, 0.2)
        .set("smtp", "host", "mail.office.example")
        .set("smtp", "allow_insecure", true)
        .set("smtp", "username", "statements");
    let out = fx
        .ws
        .herald(["dispatch", &fx.statement.display().to_string(), "--yes"])
        .env("HERALD_SMTP_PASSWORD", "not-sent")
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("plain text"), "{}", out.stderr);
    assert!(
        !fx.ws.data_dir().join("herald.db").exists(),
        "nothing recorded"
    );
}

const PASSWORD: &str = "Zq7-distinctive-Secret-4471";

#[test]
fn the_password_comes_from_the_environment_and_is_never_printed() {
    let server = SmtpServer::start(Script::new().auth("statements", PASSWORD));
    let fx = Fixture::new(vec![Org::numbered(1), Org::numbered(2)]);
    // Plain text to loopback with a username is allowed.
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("smtp", "username", "statements")
        .set("smtp", "password_env", "HERALD_TEST_PASSWORD");
    let out = fx
        .ws
        .herald([
            "-vv",
            "dispatch",
            &fx.statement.display().to_string(),
            "--yes",
        ])
        .env("HERALD_TEST_PASSWORD", PASSWORD)
        .run();
    out.assert_success();
    assert_eq!(server.wait_for(2, WAIT).len(), 2);
    let credentials = server.credentials();
    assert!(
        credentials
            .iter()
            .all(|c| c.accepted && c.username == "statements" && c.password == PASSWORD),
        "{credentials:?}"
    );
    assert!(!credentials.is_empty());
    // Verbose output is long enough to have said something about the connection.
    assert!(!out.stderr.is_empty());
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(!text.contains(PASSWORD), "{name} shows the password");
        // Nor its AUTH PLAIN or LOGIN encodings.
        for encoded in server
            .commands()
            .iter()
            .filter(|(_, c)| !c.contains(' ') || c.starts_with("AUTH"))
            .filter_map(|(_, c)| c.split_whitespace().last())
            .filter(|c| c.len() >= 12)
        {
            assert!(!text.contains(encoded), "{name} shows `{encoded}`");
        }
    }
}

#[test]
fn a_missing_password_stops_the_run_with_status_2_before_anything_is_sent() {
    let server = SmtpServer::start(Script::new().auth("statements", PASSWORD));
    let fx = Fixture::new(vec![Org::numbered(1)]);
    fx.smtp(server.port(), 5, 0.05, 0.2)
        .set("smtp", "username", "statements")
        .set("smtp", "password_env", "HERALD_TEST_PASSWORD_UNSET");
    let out = fx.dispatch(&[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("HERALD_TEST_PASSWORD_UNSET"),
        "names the variable: {}",
        out.stderr
    );
    assert_eq!(server.connections(), 0);
    assert!(
        !fx.ws.data_dir().join("herald.db").exists(),
        "nothing recorded"
    );
}

/// A fixture of three organisations sending to `front` with `security`, trusting the test
/// authority through `ca_file` when `trust` is given.
fn through_front(security: &str, front: &Front, trust: Option<&TestAuthority>) -> Fixture {
    let fx = Fixture::new((1..=3).map(Org::numbered).collect());
    fx.smtp(front.port(), 5, 0.05, 0.2)
        .set("smtp", "security", security);
    if let Some(authority) = trust {
        // A path relative to the configuration's folder.
        authority.write_ca(&fx.ws.path().join("config/relay-ca.pem"));
        fx.set("smtp", "ca_file", "relay-ca.pem");
    }
    fx
}

#[test]
fn implicit_tls_to_a_relay_signed_by_the_configured_authority_delivers_and_pipelines() {
    let authority = TestAuthority::new();
    let server = SmtpServer::start(Script::new());
    let front = Front::implicit(&authority, server.addr());
    let fx = through_front("tls", &front, Some(&authority));
    delivered_pipelined_over_one_connection(&fx, &server, &front);
}

#[test]
fn starttls_to_a_relay_signed_by_the_configured_authority_delivers_and_pipelines() {
    let authority = TestAuthority::new();
    let server = SmtpServer::start(Script::new());
    let front = Front::starttls(&authority, server.addr());
    let fx = through_front("starttls", &front, Some(&authority));
    delivered_pipelined_over_one_connection(&fx, &server, &front);
    // The EHLO in plain text, lettre's after the upgrade, and herald's own to learn PIPELINING
    // (lettre keeps no such keyword): then every letter pipelined, inside TLS.
    let ehlos = server
        .commands()
        .iter()
        .filter(|(_, c)| c.starts_with("EHLO"))
        .count();
    assert_eq!(ehlos, 3, "{:?}", server.commands());
}

/// The three letters of [`through_front`] were dispatched, recorded `sent` and received, over
/// one TLS connection, each with MAIL, RCPT and DATA in one write.
fn delivered_pipelined_over_one_connection(fx: &Fixture, server: &SmtpServer, front: &Front) {
    fx.dispatch(&[]).assert_success();
    assert_eq!(server.messages().len(), 3);
    assert!(
        fx.states().values().all(|s| s == "sent"),
        "{:?}",
        fx.states()
    );
    assert_eq!(
        front.handshakes(),
        1,
        "one connection for the three letters"
    );
    let pipelined = server.pipelined_commands();
    let data = pipelined.iter().filter(|(_, c)| c == "DATA").count();
    assert_eq!(data, 3, "MAIL, RCPT and DATA in one write: {pipelined:?}");
}

#[test]
fn starttls_to_a_relay_no_trusted_authority_signed_is_refused_after_the_handshake() {
    let authority = TestAuthority::new();
    let server = SmtpServer::start(Script::new());
    let front = Front::starttls(&authority, server.addr());
    let fx = through_front("starttls", &front, None);
    fx.dispatch(&[]).assert_code(1);
    assert!(
        fx.states().values().all(|s| s == "failed"),
        "{:?}",
        fx.states()
    );
    let events = fx.outcomes("org-01");
    assert!(
        events[0].reply.contains("certificate") || events[0].reply.contains("UnknownIssuer"),
        "{events:?}"
    );
    assert_eq!(front.handshakes(), 0);
    assert!(server.messages().is_empty());
    assert!(
        server
            .commands()
            .iter()
            .all(|(_, c)| c.starts_with("EHLO") || c.starts_with("QUIT")),
        "nothing but the plain EHLO reached the relay: {:?}",
        server.commands()
    );
}
