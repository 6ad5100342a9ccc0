//! `config/herald.toml`: the raw file as serde reads it, and the checked [`Config`] built from it
//! once, with relative paths resolved against the folder that holds the file.
//!
//! After [`Config::load`] the rest of herald never re-checks a setting: enums replace strings,
//! addresses are parsed, and unsafe combinations (plain text to a remote server) are refused here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::Address;

use crate::header;

mod raw;
mod smtp;

use raw::RawConfig;
pub(crate) use smtp::{is_loopback_host, Security, SmtpSettings, TrustedRoots};

/// A configuration problem, worded for the person who edits the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{}: no configuration file here; pass --config PATH or set HERALD_CONFIG \
         (herald looks for `config/herald.toml` under the current folder by default)",
        path.display()
    )]
    NotFound {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot read the configuration: {}", path.display(), crate::error::plain(source))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("the SMTP password variable `{0}` is not set in the environment")]
    MissingPassword(String),
}

/// The largest statement read by default: a statement is a few pages of text (the seed is
/// under 10 KB), and a huge file would be copied into every letter and preview.
pub(crate) const DEFAULT_MAX_STATEMENT_BYTES: u64 = 4 * 1024 * 1024;

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file it came from.
    pub(crate) path: PathBuf,
    pub sender: Sender,
    pub(crate) recipients_dir: PathBuf,
    pub(crate) templates_dir: PathBuf,
    /// Holds the journal (`herald.db`), `previews/`, `outbox/`, `inbox/`, `processed/`, `rejected/`.
    pub(crate) data_dir: PathBuf,
    pub(crate) transport: TransportKind,
    pub(crate) delivery: DeliverySettings,
    pub(crate) daemon: DaemonSettings,
    pub(crate) statement: StatementSettings,
}

#[derive(Debug, Clone)]
pub(crate) struct StatementSettings {
    /// A statement file larger than this is refused before it is read (`[statement] max_bytes`).
    pub(crate) max_bytes: u64,
    /// How a slashed date whose day and month are both 12 or less is read (`[statement]
    /// date_order`).
    pub(crate) date_order: crate::statement::DateOrder,
}

#[derive(Debug, Clone)]
pub struct Sender {
    pub name: String,
    pub email: Address,
    pub reply_to: Option<Address>,
}

impl Sender {
    /// The `From` mailbox: display name and address.
    pub(crate) fn mailbox(&self) -> Mailbox {
        Mailbox::new(Some(self.name.clone()), self.email.clone())
    }
}

#[derive(Debug, Clone)]
pub(crate) enum TransportKind {
    /// Write each message as `.eml` into `<data>/outbox/`.
    File,
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone)]
pub(crate) struct DeliverySettings {
    pub(crate) concurrency: usize,
    /// 0 means no limit.
    pub(crate) rate_per_minute: u32,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_cap: Duration,
    /// Letters `sending` at once over all sessions, at least one per session: the most a crash
    /// can leave `uncertain`.
    pub(crate) max_sending: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct DaemonSettings {
    pub(crate) require_approval: bool,
    /// Hold for `herald approve`, even without `require_approval`, a statement whose earlier
    /// version (same title, or same date and file name) some of its organisations already
    /// received: unattended, a corrected text must not reach everyone again unnoticed.
    pub(crate) hold_corrections: bool,
    pub(crate) settle: Duration,
    pub(crate) poll: Duration,
}

impl Config {
    /// Reads and checks the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            // Run from another folder, the default `config/herald.toml` is not there: say how to
            // point herald at the right file instead of only "no such file".
            if source.kind() == std::io::ErrorKind::NotFound {
                ConfigError::NotFound {
                    path: path.to_path_buf(),
                    source,
                }
            } else {
                ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        Config::parse(path, &text)
    }

    /// Checks configuration text; `path` names it in messages and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let invalid =
            |span: Option<std::ops::Range<usize>>, message: String| ConfigError::Invalid {
                path: path.to_path_buf(),
                line: span.map_or(1, |s| line_of(text, s.start)),
                message,
            };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, message) = if crate::toml_error::is_valid_syntax(text) {
                crate::toml_error::describe_value(text, e.span(), e.message())
            } else {
                crate::toml_error::describe(text, e.span(), e.message())
            };
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                message,
            }
        })?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let resolve = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                clean(p)
            } else {
                clean(&base.join(p))
            }
        };

        let raw_sender = raw.sender.into_inner();
        let name = &raw_sender.name;
        if name.get_ref().trim().is_empty() {
            return Err(invalid(Some(name.span()), "[sender] name is empty".into()));
        }
        // The name and addresses go into `From:` and `Reply-To:` of every letter.
        if let Some(problem) = header::control_problem("[sender] name", name.get_ref()) {
            return Err(invalid(Some(name.span()), problem));
        }
        let parse_address = |value: &toml::Spanned<String>, key: &str| {
            header::parse_address(value.get_ref()).map_err(|reason| {
                invalid(
                    Some(value.span()),
                    format!(
                        "[sender] {key} `{}` {reason}",
                        header::escaped(value.get_ref())
                    ),
                )
            })
        };
        let sender = Sender {
            name: name.get_ref().trim().to_string(),
            email: parse_address(&raw_sender.email, "email")?,
            reply_to: raw_sender
                .reply_to
                .as_ref()
                .map(|r| parse_address(r, "reply_to"))
                .transpose()?,
        };

        let kind = raw
            .transport
            .kind
            .as_ref()
            .map(|k| (k.get_ref().as_str(), k.span()));
        let transport = match kind {
            None | Some(("file", _)) => TransportKind::File,
            Some(("smtp", span)) => {
                let Some(smtp) = raw.smtp else {
                    return Err(invalid(
                        Some(span),
                        "transport `smtp` needs an [smtp] section".into(),
                    ));
                };
                let smtp_span = smtp.span();
                let smtp = smtp.into_inner();
                let security = match smtp
                    .security
                    .as_ref()
                    .map(|s| (s.get_ref().as_str(), s.span()))
                {
                    None | Some(("starttls", _)) => Security::StartTls,
                    Some(("tls", _)) => Security::Tls,
                    Some(("none", _)) => Security::None,
                    Some((other, span)) => {
                        return Err(invalid(
                            Some(span),
                            format!(
                                "[smtp] security `{other}` is not one of `starttls`, `tls`, `none`"
                            ),
                        ))
                    }
                };
                if smtp.host.trim().is_empty() {
                    return Err(invalid(Some(smtp_span), "[smtp] host is empty".into()));
                }
                // The user name goes on an SMTP command line, the host into messages.
                for (key, value) in [
                    ("host", Some(&smtp.host)),
                    ("username", smtp.username.as_ref()),
                ] {
                    if let Some(problem) =
                        value.and_then(|v| header::control_problem(&format!("[smtp] {key}"), v))
                    {
                        return Err(invalid(Some(smtp_span), problem));
                    }
                }
                // Sent raw after `EHLO`: anything but a host name could carry SMTP commands.
                let hello_name = match &smtp.hello_name {
                    Some(name) => Some(header::hello_name(name.get_ref()).map_err(|reason| {
                        invalid(
                            Some(name.span()),
                            format!(
                                "[smtp] hello_name `{}` {reason}",
                                header::escaped(name.get_ref())
                            ),
                        )
                    })?),
                    None => None,
                };
                if security == Security::None
                    && !is_loopback_host(&smtp.host)
                    && !smtp.allow_insecure
                {
                    return Err(invalid(
                        Some(smtp_span),
                        format!(
                            "[smtp] security `none` to `{}` would send letters and credentials in plain text; \
                             use `starttls` or `tls`, or set `allow_insecure = true`",
                            smtp.host
                        ),
                    ));
                }
                // `allow_insecure` may expose letters, never the password: AUTH in plain text
                // is refused off loopback whatever the setting.
                if security == Security::None
                    && !is_loopback_host(&smtp.host)
                    && smtp.username.is_some()
                {
                    return Err(invalid(
                        Some(smtp_span),
                        format!(
                            "[smtp] username with security `none` to `{}` would send the password in plain text; \
                             use `starttls` or `tls`",
                            smtp.host
                        ),
                    ));
                }
                let extra_roots = match &smtp.ca_file {
                    Some(file) => Some(Box::new(
                        TrustedRoots::read(resolve(file.get_ref()))
                            .map_err(|message| invalid(Some(file.span()), message))?,
                    )),
                    None => None,
                };
                let timeout_secs = smtp.timeout_secs.unwrap_or(30);
                if timeout_secs == 0 {
                    return Err(invalid(
                        Some(smtp_span),
                        "[smtp] timeout_secs must be at least 1".into(),
                    ));
                }
                TransportKind::Smtp(SmtpSettings {
                    host: smtp.host.trim().to_string(),
                    port: smtp.port.unwrap_or(match security {
                        Security::Tls => 465,
                        Security::StartTls => 587,
                        Security::None => 25,
                    }),
                    security,
                    username: smtp.username,
                    password_env: smtp
                        .password_env
                        .unwrap_or_else(|| "HERALD_SMTP_PASSWORD".into()),
                    timeout: Duration::from_secs(timeout_secs),
                    hello_name,
                    extra_roots,
                })
            }
            Some((other, span)) => {
                return Err(invalid(
                    Some(span),
                    format!("[transport] kind `{other}` is not one of `file`, `smtp`"),
                ))
            }
        };

        let d = raw.delivery;
        if d.concurrency == 0 || d.concurrency > 256 {
            return Err(invalid(
                None,
                format!(
                    "[delivery] concurrency `{}` must be between 1 and 256",
                    d.concurrency
                ),
            ));
        }
        if d.max_sending == 0 || d.max_sending > 4096 {
            return Err(invalid(
                None,
                format!(
                    "[delivery] max_sending `{}` must be between 1 and 4096",
                    d.max_sending
                ),
            ));
        }
        if d.max_attempts == 0 {
            return Err(invalid(
                None,
                "[delivery] max_attempts must be at least 1".into(),
            ));
        }
        if !(d.backoff_base_secs >= 0.0 && d.backoff_cap_secs >= d.backoff_base_secs) {
            return Err(invalid(
                None,
                "[delivery] backoff_base_secs must be >= 0 and backoff_cap_secs >= backoff_base_secs".into(),
            ));
        }

        let date_order = match &raw.statement.date_order {
            None => crate::statement::DateOrder::default(),
            Some(value) => {
                crate::statement::DateOrder::parse(value.get_ref()).ok_or_else(|| {
                    invalid(
                        Some(value.span()),
                        format!(
                            "[statement] date_order `{}` is not one of `dmy`, `mdy`, `ymd`",
                            value.get_ref()
                        ),
                    )
                })?
            }
        };
        if raw.statement.max_bytes == 0 {
            return Err(invalid(
                None,
                "[statement] max_bytes must be at least 1".into(),
            ));
        }

        Ok(Config {
            path: path.to_path_buf(),
            sender,
            recipients_dir: resolve(&raw.paths.recipients),
            templates_dir: resolve(&raw.paths.templates),
            data_dir: resolve(&raw.paths.data),
            transport,
            delivery: DeliverySettings {
                concurrency: d.concurrency,
                rate_per_minute: d.rate_per_minute,
                max_attempts: d.max_attempts,
                backoff_base: Duration::from_secs_f64(d.backoff_base_secs),
                backoff_cap: Duration::from_secs_f64(d.backoff_cap_secs),
                max_sending: d.max_sending,
            },
            daemon: DaemonSettings {
                require_approval: raw.daemon.require_approval,
                hold_corrections: raw.daemon.hold_corrections,
                settle: Duration::from_millis(raw.daemon.settle_millis),
                poll: Duration::from_secs(raw.daemon.poll_secs.max(1)),
            },
            statement: StatementSettings {
                max_bytes: raw.statement.max_bytes,
                date_order,
            },
        })
    }

    pub(crate) fn journal_path(&self) -> PathBuf {
        self.data_dir.join("herald.db")
    }
}

/// `config/../var` → `var`: removes `.` and folds `..` into the component before it, without
/// touching the file system (the folders may not exist yet), so messages show short paths.
fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// 1-based line number of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/herald/herald.toml"), text)
    }

    const SENDER: &str = "[sender]\nname = \"Office\"\nemail = \"statements@office.example\"\n";

    #[test]
    fn defaults_are_the_file_transport_and_paths_beside_the_config() {
        let config = parse(SENDER).expect("valid");
        assert!(matches!(config.transport, TransportKind::File));
        assert_eq!(config.data_dir, Path::new("/etc/var"));
        assert_eq!(config.delivery.concurrency, 4);
    }

    #[test]
    fn paths_are_shown_without_dot_segments() {
        let cases = [
            ("config/../var", "var"),
            ("./config/../../var", "../var"),
            ("/etc/herald/./../var", "/etc/var"),
            ("/../var", "/var"),
            ("config/..", "."),
        ];
        for (given, expected) in cases {
            assert_eq!(clean(Path::new(given)), Path::new(expected), "{given}");
        }
    }

    #[test]
    fn plain_text_to_a_remote_server_is_refused() {
        let text = format!("{SENDER}[transport]\nkind = \"smtp\"\n[smtp]\nhost = \"mail.office.example\"\nsecurity = \"none\"\n");
        let err = parse(&text).expect_err("refused").to_string();
        assert!(err.contains("/etc/herald/herald.toml:6:"), "{err}");
        assert!(err.contains("plain text"), "{err}");
    }

    #[test]
    fn credentials_in_plain_text_are_refused_off_loopback_and_allowed_on_it() {
        // (host, allow_insecure, username, accepted)
        let rows = [
            ("mail.office.example", true, false, true),
            ("mail.office.example", true, true, false),
            ("mail.office.example", false, true, false),
            ("127.0.0.1", false, true, true),
            ("localhost", false, true, true),
        ];
        for (host, insecure, username, accepted) in rows {
            let user = if username {
                "username = \"statements\"\n"
            } else {
                ""
            };
            let text = format!(
                "{SENDER}[transport]\nkind = \"smtp\"\n[smtp]\nhost = \"{host}\"\nsecurity = \"none\"\n\
                 allow_insecure = {insecure}\n{user}"
            );
            let result = parse(&text);
            assert_eq!(
                result.is_ok(),
                accepted,
                "{host} {insecure} {username}: {result:?}"
            );
            if let Err(e) = result {
                assert!(e.to_string().contains("plain text"), "{e}");
            }
        }
    }

    #[test]
    fn plain_text_to_loopback_is_allowed() {
        for host in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            let text = format!("{SENDER}[transport]\nkind = \"smtp\"\n[smtp]\nhost = \"{host}\"\nsecurity = \"none\"\n");
            assert!(parse(&text).is_ok(), "{host}");
        }
    }

    #[test]
    fn a_bad_sender_address_names_the_line_and_value() {
        let err = parse("[sender]\nname = \"Office\"\nemail = \"statements@\"\n")
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains(":3:") && err.contains("`statements@`"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_says_how_to_name_the_configuration() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("config/herald.toml");
        let err = Config::load(&missing).expect_err("no file").to_string();
        assert!(err.starts_with(&missing.display().to_string()), "{err}");
        assert!(
            err.contains("--config PATH") && err.contains("HERALD_CONFIG"),
            "{err}"
        );
        // A file that exists but cannot be read is a different problem: no hint about the path.
        let err = Config::load(dir.path()).expect_err("a folder").to_string();
        assert!(err.contains("cannot read the configuration"), "{err}");
        assert!(!err.contains("HERALD_CONFIG"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_line() {
        let err = parse(&format!("{SENDER}[delivery]\nconcurency = 3\n"))
            .expect_err("refused")
            .to_string();
        assert!(err.contains(":5:") && err.contains("concurency"), "{err}");
    }

    #[test]
    fn a_ca_file_is_read_beside_the_configuration_and_its_problems_are_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("herald.toml");
        let with = |file: &str| {
            format!(
                "{SENDER}[transport]\nkind = \"smtp\"\n[smtp]\nhost = \"relay.example\"\n\
                 ca_file = \"{file}\"\n"
            )
        };
        let err = Config::parse(&config, &with("missing.pem"))
            .expect_err("refused")
            .to_string();
        let missing = dir.path().join("missing.pem").display().to_string();
        assert!(
            err.contains(":8:") && err.contains(&format!("`{missing}` cannot be read")),
            "{err}"
        );
        std::fs::write(dir.path().join("empty.pem"), "not a certificate\n").expect("write");
        let err = Config::parse(&config, &with("empty.pem"))
            .expect_err("refused")
            .to_string();
        assert!(err.contains("holds no PEM certificate"), "{err}");

        let ca = rcgen::generate_simple_self_signed(vec!["relay.example".into()]).expect("cert");
        std::fs::write(dir.path().join("ca.pem"), ca.cert.pem()).expect("write");
        let parsed = Config::parse(&config, &with("ca.pem")).expect("valid");
        let TransportKind::Smtp(smtp) = parsed.transport else {
            panic!("smtp expected");
        };
        let roots = smtp.extra_roots.expect("read");
        assert_eq!(roots.file, dir.path().join("ca.pem"));
        assert_eq!(roots.certificates.len(), 1);
        assert_eq!(roots.certificates[0].as_ref(), ca.cert.der().as_ref());
    }

    /// Regression: a CR or LF in `[sender] name` passed `check` and panicked inside lettre's
    /// `From:` code; CRLF and SMTP commands in `hello_name` reached the wire raw. Every value that
    /// reaches a header or a command line is refused at load with its line and escaped value.
    #[test]
    fn header_bound_values_with_control_characters_are_refused() {
        let smtp =
            "[transport]\nkind = \"smtp\"\n[smtp]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\n";
        // (configuration, line, what the message shows)
        let rows = [
            (
                "[sender]\nname = \"Office\\r\\nBcc: evil@x.example\"\nemail = \"s@office.example\"\n".to_string(),
                2,
                "`Office\\r\\nBcc: evil@x.example` holds a control character",
            ),
            (
                "[sender]\nname = \"Office\\n\"\nemail = \"s@office.example\"\n".to_string(),
                2,
                "`Office\\n`",
            ),
            (
                "[sender]\nname = \"Office\"\nemail = \"s@office.example\\r\"\n".to_string(),
                3,
                "email `s@office.example\\r` holds a control character",
            ),
            (
                format!("{SENDER}reply_to = \"r@office.example\\nBcc: x@x.example\"\n"),
                4,
                "reply_to `r@office.example\\nBcc: x@x.example`",
            ),
            (
                format!("{SENDER}{smtp}hello_name = \"mail.example\\r\\nMAIL FROM:<spoof@x.example>\"\n"),
                9,
                "hello_name `mail.example\\r\\nMAIL FROM:<spoof@x.example>` holds a control character",
            ),
            (
                format!("{SENDER}{smtp}hello_name = \"not a host\"\n"),
                9,
                "hello_name `not a host` is not a host name",
            ),
            (
                format!("{SENDER}{smtp}hello_name = \"[10.0.0.300]\"\n"),
                9,
                "is not an address literal",
            ),
            (
                format!("{SENDER}{smtp}username = \"me\\r\\nQUIT\"\n"),
                6,
                "[smtp] username `me\\r\\nQUIT`",
            ),
        ];
        for (text, line, shown) in rows {
            let err = parse(&text).expect_err(&text).to_string();
            assert!(
                err.starts_with(&format!("/etc/herald/herald.toml:{line}: "))
                    && err.contains(shown),
                "{text}\n{err}"
            );
        }
    }

    #[test]
    fn international_domains_become_ascii_and_hello_names_are_kept_checked() {
        let text = "[sender]\nname = \"Office\"\nemail = \"s@bücher.example\"\n\
                    reply_to = \"r@мвд.example\"\n[transport]\nkind = \"smtp\"\n[smtp]\n\
                    host = \"127.0.0.1\"\nsecurity = \"none\"\nhello_name = \"mail.bücher.example\"\n";
        let config = parse(text).expect("valid");
        assert_eq!(config.sender.email.to_string(), "s@xn--bcher-kva.example");
        assert_eq!(
            config.sender.reply_to.map(|a| a.to_string()).as_deref(),
            Some("r@xn--b1aew.example")
        );
        let TransportKind::Smtp(smtp) = config.transport else {
            panic!("smtp expected");
        };
        assert_eq!(
            smtp.hello_name.as_deref(),
            Some("mail.xn--bcher-kva.example")
        );
        let err = parse("[sender]\nname = \"Office\"\nemail = \"s@bü-.example\"\n")
            .expect_err("refused")
            .to_string();
        assert!(err.contains(":3:") && err.contains("IDNA"), "{err}");
    }

    #[test]
    fn statements_have_a_size_limit() {
        assert_eq!(
            parse(SENDER).expect("valid").statement.max_bytes,
            DEFAULT_MAX_STATEMENT_BYTES
        );
        let small = parse(&format!("{SENDER}[statement]\nmax_bytes = 1000\n")).expect("valid");
        assert_eq!(small.statement.max_bytes, 1000);
        for value in ["0", "-1", "\"big\""] {
            assert!(
                parse(&format!("{SENDER}[statement]\nmax_bytes = {value}\n")).is_err(),
                "{value}"
            );
        }
    }

    /// `config/herald.toml` as shipped, parsed.
    fn shipped() -> Config {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/herald.toml"),
        )
        .expect("the shipped configuration");
        Config::parse(Path::new("config/herald.toml"), &text).expect("valid")
    }

    #[test]
    fn max_sending_is_one_or_more_and_the_shipped_file_says_the_default() {
        let shipped = shipped();
        assert_eq!(
            shipped.delivery.max_sending,
            parse(SENDER).expect("valid").delivery.max_sending
        );
        for value in ["0", "4097"] {
            let err = parse(&format!("{SENDER}[delivery]\nmax_sending = {value}\n"))
                .expect_err("refused")
                .to_string();
            assert!(err.contains(&format!("max_sending `{value}`")), "{err}");
        }
        let one = parse(&format!("{SENDER}[delivery]\nmax_sending = 1\n")).expect("valid");
        assert_eq!(one.delivery.max_sending, 1);
    }

    /// Regression: with 5 attempts 5 s apart, a two-minute mail server restart turned every
    /// letter `failed`. The default and the shipped retries must outlast an hour's outage, and
    /// the shipped file must say what the defaults say.
    #[test]
    fn the_retries_outlast_a_short_outage() {
        let shipped = shipped();
        let default = parse(SENDER).expect("valid");
        for delivery in [&shipped.delivery, &default.delivery] {
            assert_eq!(delivery.max_attempts, default.delivery.max_attempts);
            assert_eq!(delivery.backoff_base, default.delivery.backoff_base);
            assert_eq!(delivery.backoff_cap, default.delivery.backoff_cap);
            // The waits between attempts, with the shortest jitter.
            let policy = crate::delivery::retry::RetryPolicy {
                max_attempts: delivery.max_attempts,
                backoff_base: delivery.backoff_base,
                backoff_cap: delivery.backoff_cap,
            };
            let total: Duration = (1..delivery.max_attempts)
                .map(|n| crate::delivery::retry::backoff(n, &policy, 0.8))
                .sum();
            assert!(total >= Duration::from_secs(3600), "{total:?}");
            // The first retry is not crammed into the outage's first seconds.
            assert!(delivery.backoff_base >= Duration::from_secs(60));
        }
    }
}
