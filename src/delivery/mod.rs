//! Delivery: the transports (file, SMTP), the worker pool, the shared rate limit and the
//! classification of every outcome into the delivery states (README.md, "Delivery states").
//!
//! - [`state`]: the states a letter moves through and the rule of which letters may be claimed.
//! - [`classify`]: what happened on the wire → `sent` / `partial` / `deferred` / `failed` /
//!   `uncertain` (pure, table-tested).
//! - [`rate`]: one smooth rate limit shared by all workers.
//! - [`smtp`] and [`file`](mod@file): the transports, which the engine reaches through
//!   [`Transport`].
//! - [`engine`]: the worker pool that claims, composes, sends and records each letter.
//!
//! Both transports leave an end-of-data mark ([`EndOfDataMark`]) just before the step after
//! which a letter may have been delivered, so that recovery after a crash can tell the letters
//! that may have arrived from those that cannot have (`journal::marks`).

pub(crate) mod classify;
pub(crate) mod engine;
pub(crate) mod file;
pub(crate) mod rate;
pub(crate) mod retry;
pub(crate) mod smtp;
pub(crate) mod state;

use std::fmt;

pub(crate) use classify::Outcome;
pub(crate) use engine::{deliver_all, Composer, DeliveryOptions, Ledger, Progress, Undelivered};
pub(crate) use retry::RetryPolicy;
pub(crate) use state::Claim;

use futures_util::future::BoxFuture;

use crate::journal::{JournalError, LetterKey};
use crate::letters::compose::Composed;

/// Leaves the mark that a letter's end of data is about to be written (`journal::marks`); called
/// once, just before, and an error stops the letter there: its end of data is never written.
pub(crate) type EndOfDataMark = Box<dyn FnOnce() -> std::io::Result<()> + Send>;

#[derive(Debug, thiserror::Error)]
pub(crate) enum DeliveryError {
    /// The means of sending could not be set up: nothing was sent (exit 2).
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A delivery worker stopped (a bug): the run stops, the letters it held stay `sending` for
    /// recovery to settle.
    #[error("a delivery worker stopped: {0}")]
    Worker(#[source] tokio::task::JoinError),
    /// The journal refused a claim or a record: the run stops, since nothing may be sent unrecorded.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Why the means of sending could not be set up, before any letter was claimed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SetupError {
    /// The SMTP password is not in the environment variable the configuration names.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A `ca_file` certificate or the STARTTLS parameters were refused.
    #[error("TLS setup for `{host}`: {source}")]
    StartTls {
        host: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    /// A `ca_file` certificate or the TLS protocol versions were refused (`security = "tls"`).
    #[error("TLS setup for `{host}`: {source}")]
    Tls {
        host: String,
        #[source]
        source: tokio_rustls::rustls::Error,
    },
    /// The asynchronous runtime could not start.
    #[error("starting the runtime: {}", crate::error::plain(.0))]
    Runtime(#[source] std::io::Error),
    /// A signal handler could not be installed (`herald daemon`).
    #[error("listening for {signal}: {}", crate::error::plain(source))]
    Signal {
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Where letters go: the outbox folder ([`file::FileTransport`]) or an SMTP server
/// ([`smtp::SmtpTransport`]). Each worker opens its own [`Connection`] and hands its letters to
/// it one after the other.
pub(crate) trait Transport: Send + Sync + 'static {
    /// Where letters go, for the confirmation question: `smtp.example:587` or
    /// `the outbox folder <path>`.
    fn describe(&self) -> String;

    /// A worker's own way to the destination; an SMTP connection is opened for its first letter.
    fn connection(&self) -> Box<dyn Connection + '_>;
}

/// One worker's connection to a [`Transport`].
pub(crate) trait Connection: Send {
    /// Hands one composed letter over, to the addresses `claim` still owes it, and says what
    /// happened; `mark` is called once, just before the step after which the letter may have
    /// been delivered ([`EndOfDataMark`]).
    fn deliver<'a>(
        &'a mut self,
        key: &'a LetterKey,
        letter: Composed,
        claim: &'a Claim,
        mark: EndOfDataMark,
    ) -> BoxFuture<'a, Outcome>;

    /// Ends the connection politely (the run is over); errors do not matter any more.
    fn close(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// What a delivery run did, for the summary and the exit status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) sent: usize,
    pub(crate) partial: usize,
    pub(crate) failed: usize,
    pub(crate) deferred: usize,
    pub(crate) uncertain: usize,
    /// Letters not attempted because they were already sent (or uncertain without `--resend-uncertain`).
    pub(crate) skipped: usize,
    /// Letters left untouched because the run was asked to stop first.
    pub(crate) not_attempted: usize,
    /// Every letter that ended in a state other than `sent`, with the reply that put it there.
    pub(crate) undelivered: Vec<Undelivered>,
}

impl Summary {
    /// True when every attempted letter was sent.
    pub(crate) fn all_sent(&self) -> bool {
        self.partial + self.failed + self.deferred + self.uncertain + self.not_attempted == 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sent, {} partial, {} failed, {} deferred, {} uncertain, {} skipped",
            self.sent, self.partial, self.failed, self.deferred, self.uncertain, self.skipped
        )?;
        if self.not_attempted > 0 {
            write!(f, ", {} not attempted (stopped)", self.not_attempted)?;
        }
        Ok(())
    }
}
