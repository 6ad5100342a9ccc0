//! `config/herald.toml` as serde reads it: every section and key, with the defaults of those
//! left out and the spans that let a problem name its line. Checked into a `Config` by
//! `Config::parse`; nothing else reads these.

use serde::Deserialize;

use super::DEFAULT_MAX_STATEMENT_BYTES;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) sender: toml::Spanned<RawSender>,
    #[serde(default)]
    pub(super) paths: RawPaths,
    #[serde(default)]
    pub(super) transport: RawTransport,
    #[serde(default)]
    pub(super) smtp: Option<toml::Spanned<RawSmtp>>,
    #[serde(default)]
    pub(super) delivery: RawDelivery,
    #[serde(default)]
    pub(super) daemon: RawDaemon,
    #[serde(default)]
    pub(super) statement: RawStatement,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSender {
    pub(super) name: toml::Spanned<String>,
    pub(super) email: toml::Spanned<String>,
    pub(super) reply_to: Option<toml::Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawPaths {
    pub(super) recipients: String,
    pub(super) templates: String,
    pub(super) data: String,
}

impl Default for RawPaths {
    fn default() -> Self {
        RawPaths {
            recipients: "../recipients".into(),
            templates: "../templates".into(),
            data: "../var".into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawTransport {
    pub(super) kind: Option<toml::Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub(super) host: String,
    #[serde(default)]
    pub(super) port: Option<u16>,
    #[serde(default)]
    pub(super) security: Option<toml::Spanned<String>>,
    #[serde(default)]
    pub(super) username: Option<String>,
    #[serde(default)]
    pub(super) password_env: Option<String>,
    #[serde(default)]
    pub(super) timeout_secs: Option<u64>,
    #[serde(default)]
    pub(super) allow_insecure: bool,
    #[serde(default)]
    pub(super) hello_name: Option<toml::Spanned<String>>,
    #[serde(default)]
    pub(super) ca_file: Option<toml::Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawDelivery {
    pub(super) concurrency: usize,
    pub(super) rate_per_minute: u32,
    pub(super) max_attempts: u32,
    pub(super) backoff_base_secs: f64,
    pub(super) backoff_cap_secs: f64,
    pub(super) max_sending: usize,
}

impl Default for RawDelivery {
    fn default() -> Self {
        RawDelivery {
            concurrency: 4,
            rate_per_minute: 0,
            // About two hours of retries (1, 2, 4 … 32 minutes, then the one-hour cap): a mail
            // server restart or a short outage must not turn letters `failed`.
            max_attempts: 8,
            backoff_base_secs: 60.0,
            backoff_cap_secs: 3600.0,
            max_sending: 16,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawDaemon {
    pub(super) require_approval: bool,
    pub(super) hold_corrections: bool,
    pub(super) settle_millis: u64,
    pub(super) poll_secs: u64,
}

impl Default for RawDaemon {
    fn default() -> Self {
        RawDaemon {
            require_approval: false,
            hold_corrections: true,
            settle_millis: 1000,
            poll_secs: 2,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawStatement {
    pub(super) max_bytes: u64,
    pub(super) date_order: Option<toml::Spanned<String>>,
}

impl Default for RawStatement {
    fn default() -> Self {
        RawStatement {
            max_bytes: DEFAULT_MAX_STATEMENT_BYTES,
            date_order: None,
        }
    }
}
