//! The SMTP transport: one connection per worker, reused from message to message, driven with
//! lettre's low-level `AsyncSmtpConnection`: MAIL, every RCPT and DATA in one write when the
//! server offers PIPELINING (RFC 2920; after STARTTLS, asked again with a second EHLO), one
//! command at a time otherwise.
//!
//! Why not lettre's `AsyncSmtpTransport`: its `send` stops at the first refused RCPT (so a partial
//! rejection cannot be recorded per address), its timeout covers only connecting (a stalled server
//! hangs it forever), its pool can hand back a connection whose send was cancelled (the next
//! message is then "delivered" with code 354 when it was not), and it never sets TCP_NODELAY (so
//! Nagle and delayed ACKs stall every message about 40 ms). Here we open the socket ourselves with
//! TCP_NODELAY, bound every command and the whole transaction with a timeout, drop the connection
//! after anything but a clean success, and wrap the socket in a `Tracked` stream that tells
//! "lost before the end of data" (safe to retry) from "lost waiting for the reply" (uncertain).
//!
//! The message data goes out in two writes: the data itself, then, once the end-of-data mark
//! (`journal::marks`) has been written, the final `<CRLF>.<CRLF>`. A server delivers only after
//! that `.`, so a crash before the mark leaves a letter no server can have delivered. If the mark
//! cannot be written, the `.` is never sent, and the connection, dropped, makes the server
//! discard the transaction.
//!
//! `connect` opens a connection, `session` is one open connection and the stream under it,
//! `transaction` sends one message over it; this file holds the transport that joins them.

mod connect;
mod session;
mod transaction;

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt as _;
use lettre::address::Envelope;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio_rustls::rustls;

use super::classify::Outcome;
use super::state::Claim;
use super::{Connection, EndOfDataMark, SetupError, Transport};
use crate::config::{ConfigError, Security, SmtpSettings};
use crate::journal::LetterKey;
use crate::letters::compose::Composed;

pub(crate) use session::SmtpSession;

/// The whole transaction (MAIL, every RCPT, DATA, the data and its answer) may take one
/// per-command timeout per command plus this many more: every step is bounded on its own, and
/// this outer bound only backs them up, so it must never cut off a slow server that answers each
/// command in time (a letter to many addresses takes many RCPTs).
const TRANSACTION_SPARE_TIMEOUTS: u32 = 1;

/// The SMTP password: never printed, not even by `Debug`.
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Connects to the configured server; each worker asks it for its own [`SmtpSession`].
pub(crate) struct SmtpTransport {
    settings: SmtpSettings,
    hello: ClientId,
    password: Option<Secret>,
    starttls: Option<TlsParameters>,
    implicit_tls: Option<tokio_rustls::TlsConnector>,
}

impl SmtpTransport {
    /// Prepares the transport; reads the password from the environment variable named in the
    /// configuration when a username is set, so a missing password stops the run before anything
    /// is sent.
    pub(crate) fn new(settings: SmtpSettings) -> Result<SmtpTransport, SetupError> {
        let password = match &settings.username {
            Some(_) => Some(Secret(std::env::var(&settings.password_env).map_err(
                |_| ConfigError::MissingPassword(settings.password_env.clone()),
            )?)),
            None => None,
        };
        let hello = settings
            .hello_name
            .clone()
            .map(ClientId::Domain)
            .unwrap_or_default();
        let starttls_failed = |source| SetupError::StartTls {
            host: settings.host.clone(),
            source,
        };
        let tls_failed = |source| SetupError::Tls {
            host: settings.host.clone(),
            source,
        };
        let extra_roots = settings
            .extra_roots
            .as_ref()
            .map_or(&[][..], |r| r.certificates.as_slice());
        let starttls = match settings.security {
            Security::StartTls => {
                let mut builder = TlsParameters::builder(settings.host.clone());
                for root in extra_roots {
                    let root = Certificate::from_der(root.to_vec()).map_err(starttls_failed)?;
                    builder = builder.add_root_certificate(root);
                }
                Some(builder.build().map_err(starttls_failed)?)
            }
            _ => None,
        };
        let implicit_tls = match settings.security {
            Security::Tls => {
                let mut roots = rustls::RootCertStore::from_iter(
                    webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
                );
                for root in extra_roots {
                    roots.add(root.clone()).map_err(tls_failed)?;
                }
                let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .map_err(tls_failed)?
                .with_root_certificates(roots)
                .with_no_client_auth();
                Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
            }
            _ => None,
        };
        Ok(SmtpTransport {
            settings,
            hello,
            password,
            starttls,
            implicit_tls,
        })
    }

    /// Sends one message over `session`, connecting first when there is none. After anything but
    /// an accepted message the connection is dropped, never reused: its state is unknown.
    /// `mark` is called once, after the message data and before its end: see the module header.
    pub(crate) async fn deliver(
        &self,
        session: &mut Option<SmtpSession>,
        envelope: &Envelope,
        bytes: &[u8],
        mark: EndOfDataMark,
    ) -> Outcome {
        if session.is_none() {
            match self.connect().await {
                Ok(s) => *session = Some(s),
                Err(outcome) => return outcome,
            }
        }
        let Some(s) = session.as_mut() else {
            return Outcome::NotHandedOver {
                reason: "no connection".into(),
            };
        };
        let commands = u32::try_from(envelope.to().len())
            .unwrap_or(u32::MAX)
            .saturating_add(3 + TRANSACTION_SPARE_TIMEOUTS);
        let limit = self.settings.timeout.saturating_mul(commands);
        let outcome = match tokio::time::timeout(
            limit,
            s.transaction(envelope, bytes, mark, self.settings.timeout),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) if s.probe.data_ended() => Outcome::NoReply {
                reason: format!(
                    "no reply to the end of data within the transaction limit of {}s",
                    limit.as_secs()
                ),
            },
            Err(_) => Outcome::NotHandedOver {
                reason: format!("the transaction did not finish within {}s", limit.as_secs()),
            },
        };
        if !matches!(outcome, Outcome::Accepted { .. }) {
            *session = None;
        }
        outcome
    }
}

impl Transport for SmtpTransport {
    fn describe(&self) -> String {
        format!("{}:{}", self.settings.host, self.settings.port)
    }

    fn connection(&self) -> Box<dyn Connection + '_> {
        Box::new(SmtpConnection {
            transport: self,
            session: None,
        })
    }
}

/// One worker's connection to the server: opened for its first letter and kept from letter to
/// letter while the server accepts them ([`SmtpTransport::deliver`] drops it after anything else).
struct SmtpConnection<'t> {
    transport: &'t SmtpTransport,
    session: Option<SmtpSession>,
}

impl Connection for SmtpConnection<'_> {
    fn deliver<'a>(
        &'a mut self,
        _key: &'a LetterKey,
        letter: Composed,
        claim: &'a Claim,
        mark: EndOfDataMark,
    ) -> BoxFuture<'a, Outcome> {
        // The same message (same Message-ID, every address in its headers), but only to the
        // addresses that still need it: the others have it or refused it for good.
        match remaining(&letter.envelope, claim) {
            Some(envelope) => async move {
                self.transport
                    .deliver(&mut self.session, &envelope, &letter.bytes, mark)
                    .await
            }
            .boxed(),
            None => std::future::ready(Outcome::NoAddressLeft).boxed(),
        }
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        let limit = self.transport.settings.timeout;
        let session = self.session;
        async move {
            if let Some(session) = session {
                session.quit(limit).await;
            }
        }
        .boxed()
    }
}

/// The envelope of this attempt: the letter's, without the addresses `claim` says are settled;
/// `None` when none is left.
fn remaining(envelope: &Envelope, claim: &Claim) -> Option<Envelope> {
    let to: Vec<lettre::Address> = envelope
        .to()
        .iter()
        .filter(|a| claim.still_owed(a.as_ref()))
        .cloned()
        .collect();
    // `Envelope::new` refuses only an empty recipient list.
    Envelope::new(envelope.from().cloned(), to).ok()
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("settings", &self.settings)
            .field("password", &self.password)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use lettre::message::{header::ContentType, Message};

    use super::*;

    fn transport(port: u16) -> SmtpTransport {
        SmtpTransport::new(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: Security::None,
            username: None,
            password_env: "HERALD_TEST_UNUSED_PASSWORD".into(),
            timeout: Duration::from_secs(5),
            hello_name: Some("herald.test".into()),
            extra_roots: None,
        })
        .expect("transport")
    }

    fn message(to: &[&str], body: &str) -> (Envelope, Vec<u8>) {
        let mut builder = Message::builder()
            .from("Office <statements@office.example>".parse().expect("from"))
            .subject("Statement");
        for address in to {
            builder = builder.to(address.parse().expect("to"));
        }
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .expect("message");
        (message.envelope().clone(), message.formatted())
    }

    /// The data lines a server read, and whether the final `.` came after the mark (`None`: it
    /// never came).
    type Heard = (Vec<String>, Option<bool>);

    /// A minimal SMTP server on a blocking thread for one message: it answers every command,
    /// reads the data and, when the final `.` arrives, notes whether `marked` was already set.
    /// Joined, it returns the data lines read and whether the `.` came after the mark (`None`
    /// if it never came).
    fn one_message_server(marked: Arc<AtomicBool>) -> (u16, std::thread::JoinHandle<Heard>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut writer = stream;
            let mut lines = Vec::new();
            let mut in_data = false;
            let _ = writer.write_all(b"220 test\r\n");
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return (lines, None);
                }
                if in_data {
                    if line == ".\r\n" {
                        let after_mark = marked.load(Ordering::SeqCst);
                        let _ = writer.write_all(b"250 2.0.0 queued\r\n");
                        return (lines, Some(after_mark));
                    }
                    lines.push(line);
                    continue;
                }
                let reply: &[u8] = match line.get(..4).unwrap_or("") {
                    "EHLO" => b"250-test\r\n250 8BITMIME\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    _ => b"250 ok\r\n",
                };
                let _ = writer.write_all(reply);
            }
        });
        (port, server)
    }

    #[tokio::test]
    async fn the_end_of_data_leaves_only_after_the_mark_was_written() {
        let marked = Arc::new(AtomicBool::new(false));
        let (port, server) = one_message_server(Arc::clone(&marked));
        let (envelope, bytes) = message(&["sg@un.example"], "First line.\r\n.leading dot\r\n");
        let flag = Arc::clone(&marked);
        let outcome = transport(port)
            .deliver(
                &mut None,
                &envelope,
                &bytes,
                Box::new(move || {
                    flag.store(true, Ordering::SeqCst);
                    Ok(())
                }),
            )
            .await;
        assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
        let (lines, after_mark) = server.join().expect("server");
        assert_eq!(after_mark, Some(true), "the `.` came before the mark");
        // The data went out whole and dot-stuffed before it.
        assert!(
            lines.contains(&"..leading dot\r\n".to_string()),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn when_the_mark_cannot_be_written_the_end_of_data_is_never_sent() {
        let marked = Arc::new(AtomicBool::new(false));
        let (port, server) = one_message_server(marked);
        let (envelope, bytes) = message(&["sg@un.example"], "x\r\n");
        let mut session = None;
        let outcome = transport(port)
            .deliver(
                &mut session,
                &envelope,
                &bytes,
                Box::new(|| Err(io::Error::other("disk full"))),
            )
            .await;
        assert!(
            matches!(&outcome, Outcome::NotHandedOver { reason } if reason.contains("end-of-data mark") && reason.contains("disk full")),
            "{outcome:?}"
        );
        assert!(session.is_none(), "the connection is dropped");
        let (lines, end) = server.join().expect("server");
        assert_eq!(end, None, "no end of data after {lines:?}");
        assert!(!lines.is_empty(), "the data itself went out");
    }

    #[test]
    fn a_missing_password_is_a_configuration_error_and_never_printed() {
        let settings = SmtpSettings {
            host: "127.0.0.1".into(),
            port: 25,
            security: Security::None,
            username: Some("statements".into()),
            password_env: "HERALD_TEST_SURELY_UNSET_PASSWORD".into(),
            timeout: Duration::from_secs(5),
            hello_name: None,
            extra_roots: None,
        };
        let err = SmtpTransport::new(settings).expect_err("refused");
        assert!(
            matches!(err, SetupError::Config(ConfigError::MissingPassword(_))),
            "{err:?}"
        );
        let err = crate::error::Error::from(crate::delivery::DeliveryError::from(err));
        assert_eq!(err.code(), 2);
        assert_eq!(format!("{:?}", Secret("hunter2".into())), "<redacted>");
    }
}
