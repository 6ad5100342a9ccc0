//! A TLS front for the suite's SMTP server, so the TLS success paths run end to end: a
//! certificate authority made for the test signs a certificate for 127.0.0.1 and localhost, and
//! herald trusts that authority through `[smtp] ca_file`.
//!
//! `Front::implicit` speaks TLS from the first byte (`security = "tls"`); `Front::starttls`
//! relays the plain greeting and EHLO, adds STARTTLS to the EHLO reply, answers the STARTTLS
//! command itself and then speaks TLS (`security = "starttls"`). After the handshake every byte
//! is relayed as read, in both directions, to the `SmtpServer` behind, which records the
//! conversation as usual (it never sees STARTTLS).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

/// A certificate authority and a server certificate it signed for 127.0.0.1 and localhost.
pub(crate) struct TestAuthority {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl TestAuthority {
    pub(crate) fn new() -> TestAuthority {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "herald test authority");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");

        let key = rcgen::KeyPair::generate().expect("server key");
        let params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server");
        let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        TestAuthority {
            ca_pem: ca.pem(),
            server: server_config(vec![cert.der().clone(), ca.der().clone()], &key),
        }
    }

    /// Writes the authority's certificate (PEM) to `path`, for `ca_file`.
    pub(crate) fn write_ca(&self, path: &Path) {
        std::fs::write(path, &self.ca_pem).expect("write the CA certificate");
    }
}

/// A TLS server configuration presenting `chain` (the server's certificate first) with `key`.
pub(crate) fn server_config(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: &rcgen::KeyPair,
) -> Arc<rustls::ServerConfig> {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(
        chain,
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .expect("server config");
    Arc::new(config)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Implicit,
    StartTls,
}

/// A running front; it stops with the test process.
pub(crate) struct Front {
    addr: SocketAddr,
    handshakes: Arc<AtomicUsize>,
}

impl Front {
    pub(crate) fn implicit(authority: &TestAuthority, backend: SocketAddr) -> Front {
        Front::start(authority, backend, Mode::Implicit)
    }

    pub(crate) fn starttls(authority: &TestAuthority, backend: SocketAddr) -> Front {
        Front::start(authority, backend, Mode::StartTls)
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// TLS handshakes completed so far.
    pub(crate) fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    fn start(authority: &TestAuthority, backend: SocketAddr, mode: Mode) -> Front {
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&authority.server));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("address");
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&handshakes);
        thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("listener");
                while let Ok((client, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    let counted = Arc::clone(&counted);
                    tokio::spawn(async move {
                        // A connection that fails only ends that connection.
                        let _ = relay(client, backend, acceptor, mode, counted).await;
                    });
                }
            });
        });
        Front { addr, handshakes }
    }
}

async fn relay(
    client: TcpStream,
    backend: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    mode: Mode,
    handshakes: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let _ = client.set_nodelay(true);
    let server = TcpStream::connect(backend).await?;
    let _ = server.set_nodelay(true);
    let mut server = BufReader::new(server);
    let mut client = BufReader::new(client);
    if mode == Mode::StartTls {
        // Greeting, then EHLO and its reply with STARTTLS added, then STARTTLS answered here.
        let greeting = read_reply(&mut server).await?;
        client.get_mut().write_all(greeting.as_bytes()).await?;
        let mut ehlo = String::new();
        client.read_line(&mut ehlo).await?;
        server.get_mut().write_all(ehlo.as_bytes()).await?;
        let reply = read_reply(&mut server).await?;
        let (first, rest) = reply.split_once("\r\n").unwrap_or((&reply, ""));
        let first = first.replacen("250 ", "250-", 1);
        client
            .get_mut()
            .write_all(format!("{first}\r\n250-STARTTLS\r\n{rest}").as_bytes())
            .await?;
        let mut command = String::new();
        client.read_line(&mut command).await?;
        if !command.trim().eq_ignore_ascii_case("STARTTLS") {
            return Ok(());
        }
        client
            .get_mut()
            .write_all(b"220 2.0.0 Ready to start TLS\r\n")
            .await?;
    }
    // Nothing is buffered on the client side here: it waits for the greeting (implicit TLS) or
    // for the 220 to STARTTLS before it starts the handshake.
    let mut tls = acceptor.accept(client.into_inner()).await?;
    handshakes.fetch_add(1, Ordering::SeqCst);
    let mut server = server.into_inner();
    tokio::io::copy_bidirectional(&mut tls, &mut server).await?;
    Ok(())
}

/// One whole reply (every `250-` line and the last `250 ` one), CRLF kept.
async fn read_reply(from: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        if from.read_line(&mut line).await? == 0 {
            return Ok(reply);
        }
        let last = line.as_bytes().get(3) != Some(&b'-');
        reply.push_str(&line);
        if last {
            return Ok(reply);
        }
    }
}
