//! The checked `[smtp]` section: the server, how the connection is secured, the login, and the
//! certificate authorities a `ca_file` adds, read when the configuration is loaded.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Security {
    /// Plain connection, then STARTTLS; refused if the server does not offer it.
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only to loopback unless `allow_insecure = true`.
    None,
}

#[derive(Debug, Clone)]
pub(crate) struct SmtpSettings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) security: Security,
    pub(crate) username: Option<String>,
    /// The environment variable that holds the password; the password itself is read only when
    /// a connection is made, and never stored in this struct (so it cannot leak through `Debug`).
    pub(crate) password_env: String,
    pub(crate) timeout: Duration,
    pub(crate) hello_name: Option<String>,
    /// Certificate authorities trusted besides the public ones (`ca_file`): a relay whose
    /// certificate an organisation's own authority signed.
    pub(crate) extra_roots: Option<Box<TrustedRoots>>,
}

/// The certificates of a `ca_file`, read and checked when the configuration is loaded.
#[derive(Clone)]
pub(crate) struct TrustedRoots {
    pub(crate) file: PathBuf,
    pub(crate) certificates: Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>>,
}

impl std::fmt::Debug for TrustedRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} certificates)",
            self.file.display(),
            self.certificates.len()
        )
    }
}

impl TrustedRoots {
    /// Reads every PEM certificate of `file`; the message says what is wrong with it.
    pub(super) fn read(file: PathBuf) -> Result<TrustedRoots, String> {
        use tokio_rustls::rustls::pki_types::{pem::PemObject, CertificateDer};
        let shown = file.display().to_string();
        let bytes = std::fs::read(&file)
            .map_err(|e| format!("[smtp] ca_file `{shown}` cannot be read: {e}"))?;
        let certificates = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("[smtp] ca_file `{shown}` is not valid PEM: {e}"))?;
        if certificates.is_empty() {
            return Err(format!(
                "[smtp] ca_file `{shown}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)"
            ));
        }
        Ok(TrustedRoots { file, certificates })
    }
}

impl SmtpSettings {
    /// True when `host` is a loopback name or address.
    pub(crate) fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

pub(crate) fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
