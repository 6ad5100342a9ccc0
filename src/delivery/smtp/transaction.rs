//! One SMTP transaction on an open session: MAIL, every RCPT and DATA (in one write when the
//! server offers PIPELINING), the dot-stuffed data, the end-of-data mark, then the final `.`;
//! each step bounded by its own timeout, each reply kept as the server sent it.

use std::fmt;
use std::future::Future;
use std::io;
use std::task::Poll;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;

use super::session::SmtpSession;
use crate::delivery::classify::{Outcome, Reply};
use crate::delivery::state::RecipientOutcome;
use crate::delivery::EndOfDataMark;

impl SmtpSession {
    pub(super) async fn transaction(
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
pub(super) fn unmarked(e: &io::Error) -> Outcome {
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
pub(super) fn data_body(text: &str) -> String {
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
pub(super) enum Failure {
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
    pub(super) fn before_data(self, step: &str, recipients: Vec<RecipientOutcome>) -> Outcome {
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
pub(super) async fn bounded_step<T>(
    limit: Duration,
    step: impl Future<Output = T>,
) -> Result<T, Duration> {
    tokio::time::timeout(limit, step).await.map_err(|_| limit)
}

pub(super) async fn bounded<T>(
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
pub(super) fn reply_of(response: &Response) -> Reply {
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
pub(super) fn reply_of_error(e: &lettre::transport::smtp::Error) -> Reply {
    let code = e.status().map_or(0, u16::from);
    let message = std::error::Error::source(e)
        .map(ToString::to_string)
        .unwrap_or_default();
    Reply {
        code,
        text: format!("{code} {message}").trim_end().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::Context;

    use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
    use lettre::transport::smtp::extension::ClientId;
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    use super::*;

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
}
