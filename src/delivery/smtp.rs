//! The SMTP transport: one connection per worker, reused from message to message, driven with
//! lettre's low-level [`AsyncSmtpConnection`]: MAIL, every RCPT and DATA in one write when the
//! server offers PIPELINING (RFC 2920; after STARTTLS, asked again with a second EHLO), one
//! command at a time otherwise.
//!
//! Why not lettre's `AsyncSmtpTransport`: its `send` stops at the first refused RCPT (so a partial
//! rejection cannot be recorded per address), its timeout covers only connecting (a stalled server
//! hangs it forever), its pool can hand back a connection whose send was cancelled (the next
//! message is then "delivered" with code 354 when it was not), and it never sets TCP_NODELAY (so
//! Nagle and delayed ACKs stall every message about 40 ms). Here we open the socket ourselves with
//! TCP_NODELAY, bound every command and the whole transaction with a timeout, drop the connection
//! after anything but a clean success, and wrap the socket in a [`Tracked`] stream that tells
//! "lost before the end of data" (safe to retry) from "lost waiting for the reply" (uncertain).
//!
//! The message data goes out in two writes: the data itself, then, once the end-of-data mark
//! (`journal::marks`) has been written, the final `<CRLF>.<CRLF>`. A server delivers only after
//! that `.`, so a crash before the mark leaves a letter no server can have delivered. If the mark
//! cannot be written, the `.` is never sent, and the connection, dropped, makes the server
//! discard the transaction.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use futures_util::future::BoxFuture;
use futures_util::FutureExt as _;

use super::classify::{Outcome, Reply};
use super::state::{Claim, RecipientOutcome};
use super::{Connection, EndOfDataMark, SetupError, Transport};
use crate::config::{ConfigError, Security, SmtpSettings};
use crate::journal::LetterKey;
use crate::letters::compose::Composed;

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
pub struct SmtpTransport {
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
    pub fn new(settings: SmtpSettings) -> Result<SmtpTransport, SetupError> {
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

    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// Sends one message over `session`, connecting first when there is none. After anything but
    /// an accepted message the connection is dropped, never reused: its state is unknown.
    /// `mark` is called once, after the message data and before its end: see the module header.
    pub async fn deliver(
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

    /// Opens a connection: TCP (with TCP_NODELAY), TLS as configured, EHLO, AUTH.
    pub async fn connect(&self) -> Result<SmtpSession, Outcome> {
        let s = &self.settings;
        let per = s.timeout;
        let target = format!("{}:{}", s.host, s.port);
        let tcp =
            match tokio::time::timeout(per, TcpStream::connect((s.host.as_str(), s.port))).await {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(e)) => {
                    return Err(Outcome::NotHandedOver {
                        reason: format!("connecting to {target}: {e}"),
                    })
                }
                Err(_) => {
                    return Err(Outcome::NotHandedOver {
                        reason: format!(
                            "connecting to {target}: no connection within {}s",
                            per.as_secs()
                        ),
                    })
                }
            };
        // Without it every message stalls on Nagle + delayed ACK; failing to set it costs only speed.
        let _ = tcp.set_nodelay(true);
        let (peer, local) = match (tcp.peer_addr(), tcp.local_addr()) {
            (Ok(peer), Ok(local)) => (peer, local),
            (Err(e), _) | (_, Err(e)) => {
                return Err(Outcome::NotHandedOver {
                    reason: format!("connecting to {target}: {e}"),
                })
            }
        };
        let probe = Arc::new(Probe::default());
        probe.capturing.store(true, Ordering::SeqCst);
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit_tls {
            Some(connector) => {
                let name =
                    rustls::pki_types::ServerName::try_from(s.host.clone()).map_err(|e| {
                        Outcome::Unsendable {
                            reason: format!("`{}` is not a valid TLS server name: {e}", s.host),
                        }
                    })?;
                let tls = match tokio::time::timeout(per, connector.connect(name, tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => return Err(tls_failure(&target, e)),
                    Err(_) => {
                        return Err(Outcome::NotHandedOver {
                            reason: format!(
                                "TLS handshake with {target}: no reply within {}s",
                                per.as_secs()
                            ),
                        })
                    }
                };
                Box::new(Tracked::new(tls, peer, Arc::clone(&probe)))
            }
            None => Box::new(Tracked::new(tcp, peer, Arc::clone(&probe))),
        };
        let mut conn = bounded(
            per,
            AsyncSmtpConnection::connect_with_transport(stream, &self.hello),
        )
        .await
        .map_err(|f| f.before_data("greeting and EHLO", Vec::new()))?;
        // After STARTTLS the first EHLO reply no longer counts (RFC 3207); it is asked again
        // below.
        let mut pipelining = probe.offers_pipelining() && self.starttls.is_none();
        let mut encrypted = self.implicit_tls.is_some();
        if let Some(params) = &self.starttls {
            if !conn.server_info().supports_feature(Extension::StartTls) {
                return Err(Outcome::Unsendable {
                    reason: format!(
                        "{target} does not offer STARTTLS; refusing to send in plain text \
                         (use `security = \"tls\"`, or `none` for a loopback server)"
                    ),
                });
            }
            bounded(per, conn.starttls(params.clone(), &self.hello))
                .await
                .map_err(|f| f.before_data("STARTTLS", Vec::new()))?;
            encrypted = true;
            // lettre's own EHLO after the upgrade keeps no PIPELINING, and this stream sees only
            // ciphertext now: ask once more (one round trip per connection, not per letter).
            pipelining = match bounded(per, conn.command(Ehlo::new(self.hello.clone()))).await {
                Ok(reply) => reply_offers_pipelining(&reply),
                // Refused: the session goes on one command at a time.
                Err(Failure::Smtp(e)) if e.status().is_some() => false,
                Err(f) => return Err(f.before_data("EHLO after STARTTLS", Vec::new())),
            };
        }
        if let (Some(user), Some(password)) = (&s.username, &self.password) {
            if !encrypted && !s.is_loopback() {
                return Err(Outcome::Unsendable {
                    reason: format!(
                        "refusing to send the password to {target} over an unencrypted connection"
                    ),
                });
            }
            let credentials = Credentials::new(user.clone(), password.0.clone());
            bounded(
                per,
                conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials),
            )
            .await
            .map_err(|f| f.before_data("AUTH", Vec::new()))?;
        }
        Ok(SmtpSession {
            conn,
            probe,
            local,
            pipelining,
        })
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

fn tls_failure(target: &str, e: io::Error) -> Outcome {
    let reason = format!("TLS handshake with {target}: {e}");
    // A certificate or protocol refusal will not heal by retrying; a dropped connection may.
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(_) => Outcome::Unsendable { reason },
        None => Outcome::NotHandedOver { reason },
    }
}

/// One open connection, owned by one worker.
pub struct SmtpSession {
    conn: AsyncSmtpConnection,
    probe: Arc<Probe>,
    local: SocketAddr,
    /// The server offers PIPELINING: MAIL, every RCPT and DATA go out in one write.
    pipelining: bool,
}

impl SmtpSession {
    /// This end of the connection: tells one connection from another.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Says goodbye politely; errors do not matter any more.
    pub async fn quit(mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.conn.quit()).await;
    }

    async fn transaction(
        &mut self,
        envelope: &Envelope,
        bytes: &[u8],
        mark: EndOfDataMark,
        per: Duration,
    ) -> Outcome {
        self.probe.reset();
        let info = self.conn.server_info();
        let mut parameters = Vec::new();
        let non_ascii_address = envelope
            .to()
            .iter()
            .chain(envelope.from())
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii_address {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Outcome::Unsendable {
                    reason: "an address is not ASCII and the server does not offer SMTPUTF8".into(),
                };
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        if !bytes.is_ascii() {
            if !info.supports_feature(Extension::EightBitMime) {
                return Outcome::Unsendable {
                    reason: "the message is not ASCII and the server does not offer 8BITMIME"
                        .into(),
                };
            }
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mail = Mail::new(envelope.from().cloned(), parameters);
        let rcpts: Vec<Rcpt> = envelope
            .to()
            .iter()
            .map(|address| Rcpt::new(address.clone(), Vec::new()))
            .collect();
        // With PIPELINING (RFC 2920) MAIL, every RCPT and DATA leave in one write, and their
        // replies are still read and judged one by one, in order: one round trip instead of
        // two plus one per address. A failure drops the connection, unread replies with it.
        let mail_reply = if self.pipelining {
            let mut batch = mail.to_string();
            for rcpt in &rcpts {
                batch.push_str(&rcpt.to_string());
            }
            batch.push_str(&Data.to_string());
            bounded(per, self.conn.command(batch)).await
        } else {
            bounded(per, self.conn.command(mail)).await
        };
        if let Err(f) = mail_reply {
            return f.before_data("MAIL FROM", Vec::new());
        }

        let mut recipients = Vec::with_capacity(rcpts.len());
        for (address, rcpt) in envelope.to().iter().zip(rcpts) {
            let reply = if self.pipelining {
                bounded(per, self.conn.read_response()).await
            } else {
                bounded(per, self.conn.command(rcpt)).await
            };
            match reply {
                Ok(response) => {
                    let reply = reply_of(&response);
                    recipients.push(RecipientOutcome {
                        address: address.to_string(),
                        accepted: true,
                        code: Some(reply.code),
                        reply: reply.text,
                    });
                }
                Err(Failure::Smtp(e)) if e.status().is_some() => {
                    let reply = reply_of_error(&e);
                    recipients.push(RecipientOutcome {
                        address: address.to_string(),
                        accepted: false,
                        code: Some(reply.code),
                        reply: reply.text,
                    });
                }
                Err(f) => return f.before_data("RCPT TO", recipients),
            }
        }
        if !recipients.iter().any(|r| r.accepted) {
            // Retry if any address may still take it later; fail only when every refusal is final.
            let chosen = recipients
                .iter()
                .find(|r| r.code.is_some_and(|c| (400..500).contains(&c)))
                .or_else(|| recipients.first());
            let reply = match chosen {
                Some(r) => Reply {
                    code: r.code.unwrap_or(554),
                    text: r.reply.clone(),
                },
                None => {
                    return Outcome::Unsendable {
                        reason: "the letter has no recipient".into(),
                    }
                }
            };
            return Outcome::Refused { reply, recipients };
        }

        let data_reply = if self.pipelining {
            bounded(per, self.conn.read_response()).await
        } else {
            bounded(per, self.conn.command(Data)).await
        };
        if let Err(f) = data_reply {
            return f.before_data("DATA", recipients);
        }
        let sent = match std::str::from_utf8(bytes) {
            Ok(text) => match self.data_then_mark(text, mark, per, &recipients).await {
                Ok(()) => {
                    self.probe.arm();
                    bounded(per, self.conn.message_iter(std::iter::empty::<&[u8]>())).await
                }
                Err(outcome) => return outcome,
            },
            // lettre writes such data and its end at once: the mark goes before both.
            Err(_) => {
                if let Err(e) = mark() {
                    return unmarked(&e);
                }
                self.probe.arm();
                bounded(per, self.conn.message(bytes)).await
            }
        };
        match sent {
            Ok(response) => Outcome::Accepted {
                reply: reply_of(&response),
                recipients,
            },
            Err(Failure::Smtp(e)) if e.status().is_some() => Outcome::Refused {
                reply: reply_of_error(&e),
                recipients,
            },
            Err(f) if self.probe.data_ended() => Outcome::NoReply {
                reason: format!("no reply after the end of data: {f}"),
            },
            Err(f) => Outcome::NotHandedOver {
                reason: format!("connection lost while sending the message data: {f}"),
            },
        }
    }

    /// Writes the message data (stuffed with a fast scan: lettre's `message` stuffs byte by
    /// byte) without its end, then the end-of-data mark. The data goes out through `command`,
    /// which writes, flushes and only then reads: its first read after arming proves the data
    /// left, and the reply it then waits for cannot come before the end of data, so it is
    /// dropped there, having read nothing. `Err` is the letter's outcome.
    async fn data_then_mark(
        &mut self,
        text: &str,
        mark: EndOfDataMark,
        per: Duration,
        recipients: &[RecipientOutcome],
    ) -> Result<(), Outcome> {
        self.probe.arm();
        let probe = &self.probe;
        let mut writing = std::pin::pin!(self.conn.command(data_body(text)));
        let written = bounded_step(
            per,
            std::future::poll_fn(|cx| match writing.as_mut().poll(cx) {
                Poll::Ready(answer) => Poll::Ready(Some(answer)),
                Poll::Pending if probe.data_ended() => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            }),
        )
        .await;
        match written {
            Ok(None) => {}
            // A server answers inside the data only to give up on it (a 421 before closing).
            Ok(Some(Ok(response))) => {
                return Err(Outcome::NotHandedOver {
                    reason: format!(
                        "the server answered before the end of data: {}",
                        reply_of(&response).text
                    ),
                })
            }
            Ok(Some(Err(e))) if e.status().is_some() => {
                return Err(Failure::Smtp(e).before_data("message data", recipients.to_vec()))
            }
            Ok(Some(Err(e))) => {
                return Err(Outcome::NotHandedOver {
                    reason: format!("connection lost while sending the message data: {e}"),
                })
            }
            Err(limit) => {
                return Err(Outcome::NotHandedOver {
                    reason: format!(
                        "connection lost while sending the message data: not taken within {}s",
                        limit.as_secs()
                    ),
                })
            }
        }
        // Only now the mark; an error stops the letter short of its end, and the connection,
        // dropped, makes the server discard the transaction.
        mark().map_err(|e| unmarked(&e))
    }
}

/// The outcome of a letter whose end-of-data mark could not be written.
fn unmarked(e: &io::Error) -> Outcome {
    Outcome::NotHandedOver {
        reason: format!(
            "the end-of-data mark could not be written, so the end of data was not sent: {e}"
        ),
    }
}

/// A message's data as sent after `DATA`, without its end: every line starting with `.` gets
/// another one (RFC 5321 4.5.2); byte for byte what lettre's `message` sends before the end of
/// data `<CRLF>.<CRLF>`. Built in one allocation of about the right size: lettre's `command`
/// copies a `String` once more, but a `Display` it would build up piece by piece, growing as it
/// goes.
fn data_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 64 + 8);
    let mut from = 0;
    if text.starts_with('.') {
        out.push('.');
    }
    // Dots are rare in message data (none in base64), so look for them, then at what precedes.
    let mut at = 0;
    while let Some(dot) = text[at..].find('.') {
        let dot = at + dot;
        if text[..dot].ends_with("\r\n") {
            out.push_str(&text[from..dot]);
            out.push('.');
            from = dot;
        }
        at = dot + 1;
    }
    out.push_str(&text[from..]);
    out
}

/// Why a step did not get a positive reply.
enum Failure {
    Smtp(lettre::transport::smtp::Error),
    TimedOut(Duration),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Smtp(e) => write!(f, "{e}"),
            Failure::TimedOut(limit) => write!(f, "no reply within {}s", limit.as_secs()),
        }
    }
}

impl Failure {
    /// The outcome of a failure at `step`, before any message data was sent.
    fn before_data(self, step: &str, recipients: Vec<RecipientOutcome>) -> Outcome {
        match self {
            Failure::Smtp(e) if e.status().is_some() => Outcome::Refused {
                reply: reply_of_error(&e),
                recipients,
            },
            // lettre's client errors (no common AUTH mechanism …) and TLS refusals are not
            // going to change on the next attempt.
            Failure::Smtp(e) if e.is_client() || e.is_tls() => Outcome::Unsendable {
                reason: format!("{step}: {e}"),
            },
            other => Outcome::NotHandedOver {
                reason: format!("{step}: {other}"),
            },
        }
    }
}

/// A step bounded by `limit`, whose own result is not a lettre `Result`; `Err(limit)` on
/// timeout.
async fn bounded_step<T>(limit: Duration, step: impl Future<Output = T>) -> Result<T, Duration> {
    tokio::time::timeout(limit, step).await.map_err(|_| limit)
}

async fn bounded<T>(
    limit: Duration,
    step: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(limit, step).await {
        Ok(result) => result.map_err(Failure::Smtp),
        Err(_) => Err(Failure::TimedOut(limit)),
    }
}

/// The reply as the server sent it: `250 2.0.0 Ok: queued as 4F2K9`, continuation lines as
/// `250-…` joined by `\n`.
fn reply_of(response: &Response) -> Reply {
    let code = u16::from(response.code());
    let lines: Vec<&str> = response.message().collect();
    let text = if lines.is_empty() {
        code.to_string()
    } else {
        let last = lines.len() - 1;
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| format!("{code}{}{line}", if i == last { ' ' } else { '-' }))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Reply { code, text }
}

/// A negative reply, which lettre hands back as an error holding the code and the joined lines.
fn reply_of_error(e: &lettre::transport::smtp::Error) -> Reply {
    let code = e.status().map_or(0, u16::from);
    let message = std::error::Error::source(e)
        .map(ToString::to_string)
        .unwrap_or_default();
    Reply {
        code,
        text: format!("{code} {message}").trim_end().to_string(),
    }
}

/// What the [`Tracked`] stream saw since the current message's data began.
#[derive(Debug, Default)]
struct Probe {
    armed: AtomicBool,
    read_after_arm: AtomicBool,
    /// While set, every byte read is kept in `greeting` (the greeting and the EHLO reply, which
    /// lettre parses without keeping the PIPELINING keyword).
    capturing: AtomicBool,
    greeting: std::sync::Mutex<Vec<u8>>,
}

impl Probe {
    fn reset(&self) {
        self.armed.store(false, Ordering::SeqCst);
        self.read_after_arm.store(false, Ordering::SeqCst);
    }

    fn arm(&self) {
        self.read_after_arm.store(false, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// lettre reads a reply only after it has written and flushed what it was given (the data,
    /// then the final `\r\n.\r\n`); so a read after arming proves that left this process.
    fn data_ended(&self) -> bool {
        self.read_after_arm.load(Ordering::SeqCst)
    }

    /// Stops capturing and says whether the EHLO reply read so far offers PIPELINING.
    fn offers_pipelining(&self) -> bool {
        self.capturing.store(false, Ordering::SeqCst);
        let captured = match self.greeting.lock() {
            Ok(mut bytes) => std::mem::take(&mut *bytes),
            Err(_) => return false,
        };
        offers_pipelining(&String::from_utf8_lossy(&captured))
    }

    fn capture(&self, bytes: &[u8]) {
        if let Ok(mut greeting) = self.greeting.lock() {
            // A greeting and EHLO reply are a few hundred bytes; never keep more than a little.
            if greeting.len() < 64 * 1024 {
                greeting.extend_from_slice(bytes);
            }
        }
    }
}

/// Whether an EHLO reply (`250-name`, `250-PIPELINING`, … `250 SIZE`) lists PIPELINING
/// (RFC 2920).
fn offers_pipelining(reply: &str) -> bool {
    reply.lines().any(|line| {
        let line = line.trim_end_matches('\r');
        (line.starts_with("250-") || line.starts_with("250 ")) && is_pipelining(&line[4..])
    })
}

/// The same for an EHLO reply lettre parsed: its first line is the server's name.
fn reply_offers_pipelining(reply: &Response) -> bool {
    reply.message().skip(1).any(is_pipelining)
}

/// An EHLO keyword line (`PIPELINING`, `SIZE 10240000` …) that names PIPELINING.
fn is_pipelining(keyword_line: &str) -> bool {
    keyword_line
        .split_whitespace()
        .next()
        .is_some_and(|keyword| keyword.eq_ignore_ascii_case("PIPELINING"))
}

/// The socket handed to lettre, noting when lettre starts waiting for a reply.
#[derive(Debug)]
struct Tracked<S> {
    inner: S,
    peer: SocketAddr,
    probe: Arc<Probe>,
}

impl<S> Tracked<S> {
    fn new(inner: S, peer: SocketAddr, probe: Arc<Probe>) -> Self {
        Tracked { inner, peer, probe }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.probe.armed.load(Ordering::SeqCst) {
            self.probe.read_after_arm.store(true, Ordering::SeqCst);
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.probe.capturing.load(Ordering::SeqCst) {
            if let Poll::Ready(Ok(())) = polled {
                self.probe.capture(&buf.filled()[before..]);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl<S> AsyncTokioStream for Tracked<S>
where
    S: AsyncRead + AsyncWrite + Send + Sync + Unpin + fmt::Debug,
{
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}

#[cfg(test)]
mod tests {
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
    fn pipelining_is_read_from_a_parsed_ehlo_reply_after_the_server_name() {
        use lettre::transport::smtp::response::{Category, Code, Detail, Severity};
        let reply = |lines: &[&str]| {
            Response::new(
                Code::new(
                    Severity::PositiveCompletion,
                    Category::MailSystem,
                    Detail::Zero,
                ),
                lines.iter().map(|l| l.to_string()).collect(),
            )
        };
        assert!(reply_offers_pipelining(&reply(&[
            "relay",
            "8BITMIME",
            "PIPELINING"
        ])));
        assert!(reply_offers_pipelining(&reply(&["relay", "pipelining"])));
        assert!(!reply_offers_pipelining(&reply(&["relay", "SIZE 100"])));
        // The first line is the server's name, whatever it says.
        assert!(!reply_offers_pipelining(&reply(&[
            "PIPELINING",
            "SIZE 100"
        ])));
    }

    #[test]
    fn pipelining_is_read_from_the_ehlo_reply_only() {
        let cases = [
            (
                "220 sink ESMTP\r\n250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
                true,
            ),
            (
                "220 sink\r\n250-sink\r\n250-SIZE 1000\r\n250 pipelining\r\n",
                true,
            ),
            (
                "220 sink\r\n250-sink\r\n250-8BITMIME\r\n250 SIZE 1000\r\n",
                false,
            ),
            // Only an EHLO keyword counts: not the greeting, not a longer keyword.
            ("220-PIPELINING\r\n220 sink\r\n250 sink\r\n", false),
            ("220 sink\r\n250-sink\r\n250 PIPELININGX\r\n", false),
            (
                "220 sink\r\n250-sink says PIPELINING\r\n250 SIZE\r\n",
                false,
            ),
            ("", false),
        ];
        for (reply, expected) in cases {
            assert_eq!(offers_pipelining(reply), expected, "{reply:?}");
        }
    }

    #[test]
    fn data_lines_starting_with_a_dot_get_another_and_the_data_ends_with_a_lone_dot() {
        // The data as `data_body` stuffs it, then the end lettre's `message_iter` writes.
        for (text, wire) in [
            ("", "\r\n.\r\n"),
            ("a\r\nb\r\n", "a\r\nb\r\n\r\n.\r\n"),
            (".a", "..a\r\n.\r\n"),
            ("a\r\n.b\r\n..c", "a\r\n..b\r\n...c\r\n.\r\n"),
            ("a\r\n.\r\n.", "a\r\n..\r\n..\r\n.\r\n"),
            // Only a dot after CRLF starts a line, as in lettre's codec.
            ("a\n.b\r.c", "a\n.b\r.c\r\n.\r\n"),
            ("é\r\n.é", "é\r\n..é\r\n.\r\n"),
        ] {
            assert_eq!(data_body(text) + "\r\n.\r\n", wire, "{text:?}");
        }
    }

    /// The server side of a connection for lettre to write to: records every byte written, and
    /// answers the greeting and then every command with a one-line reply.
    #[derive(Debug)]
    struct Recorder {
        written: Arc<std::sync::Mutex<Vec<u8>>>,
        greeted: bool,
    }

    impl AsyncRead for Recorder {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            // One reply per read, so that lettre never reads ahead of what it asked.
            let reply: &[u8] = if self.greeted {
                b"250 test\r\n"
            } else {
                b"220 test\r\n"
            };
            self.greeted = true;
            buf.put_slice(&reply[..reply.len().min(buf.remaining())]);
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
            written.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncTokioStream for Recorder {
        fn peer_addr(&self) -> io::Result<SocketAddr> {
            Ok(SocketAddr::from(([127, 0, 0, 1], 25)))
        }
    }

    /// Every text of up to `len` characters over `alphabet`, the empty one first.
    fn every_text(alphabet: &[char], len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut shorter = vec![String::new()];
        for _ in 0..len {
            shorter = shorter
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(shorter.iter().cloned());
        }
        all
    }

    #[tokio::test]
    async fn data_is_stuffed_byte_for_byte_as_lettre_stuffs_it() {
        let written = Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorder = Recorder {
            written: Arc::clone(&written),
            greeted: false,
        };
        let mut lettre = AsyncSmtpConnection::connect_with_transport(
            Box::new(recorder),
            &ClientId::Domain("herald.test".into()),
        )
        .await
        .expect("lettre greets the recorder");
        // Every arrangement of dots, lone CRs and LFs, CRLFs and multi-byte characters up to six
        // characters long: each line start, lone dot and line end twice over.
        let mut texts = every_text(&['.', '\r', '\n', 'a', 'é'], 6);
        let long_line = "a".repeat(5000);
        texts.extend([
            format!(".{long_line}\r\n.{long_line}"),
            "Subject: x\r\n\r\n.\r\n..\r\n...\r\n.x\r\n".repeat(200),
            "line\r\n".repeat(1000) + ".",
        ]);
        for text in &texts {
            written.lock().expect("recorder").clear();
            lettre
                .message(text.as_bytes())
                .await
                .expect("lettre sends the data");
            let stuffed = std::mem::take(&mut *written.lock().expect("recorder"));
            // herald writes the end of data `\r\n.\r\n` on its own, after the end-of-data mark.
            let ours = data_body(text) + "\r\n.\r\n";
            assert_eq!(ours.as_bytes(), stuffed.as_slice(), "{text:?}");
        }
        assert_eq!(texts.len(), 19_531 + 3);
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
