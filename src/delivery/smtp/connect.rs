//! Opening a connection: TCP with TCP_NODELAY, TLS as configured (implicit, or STARTTLS with
//! no fallback to plain text), EHLO and whether the server offers PIPELINING, AUTH.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::commands::Ehlo;
use lettre::transport::smtp::extension::Extension;
use lettre::transport::smtp::response::Response;
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use super::session::{Probe, SmtpSession, Tracked};
use super::transaction::{bounded, Failure};
use super::SmtpTransport;
use crate::delivery::classify::Outcome;

impl SmtpTransport {
    /// Opens a connection: TCP (with TCP_NODELAY), TLS as configured, EHLO, AUTH.
    pub(crate) async fn connect(&self) -> Result<SmtpSession, Outcome> {
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
        let peer = match tcp.peer_addr() {
            Ok(peer) => peer,
            Err(e) => {
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
            pipelining,
        })
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

/// Whether an EHLO reply (`250-name`, `250-PIPELINING`, … `250 SIZE`) lists PIPELINING
/// (RFC 2920).
pub(super) fn offers_pipelining(reply: &str) -> bool {
    reply.lines().any(|line| {
        let line = line.trim_end_matches('\r');
        (line.starts_with("250-") || line.starts_with("250 ")) && is_pipelining(&line[4..])
    })
}

/// The same for an EHLO reply lettre parsed: its first line is the server's name.
pub(super) fn reply_offers_pipelining(reply: &Response) -> bool {
    reply.message().skip(1).any(is_pipelining)
}

/// An EHLO keyword line (`PIPELINING`, `SIZE 10240000` …) that names PIPELINING.
fn is_pipelining(keyword_line: &str) -> bool {
    keyword_line
        .split_whitespace()
        .next()
        .is_some_and(|keyword| keyword.eq_ignore_ascii_case("PIPELINING"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
