//! Delivery: the transports (file, SMTP), the worker pool, the shared rate limit and the
//! classification of every outcome into the states of DESIGN.md.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("{0}")]
    Setup(String),
}

/// What a dispatch run did, for the summary and the exit status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub sent: usize,
    pub partial: usize,
    pub failed: usize,
    pub deferred: usize,
    pub uncertain: usize,
    /// Letters not attempted because they were already sent (or uncertain without `--resend-uncertain`).
    pub skipped: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sent, {} partial, {} failed, {} deferred, {} uncertain, {} skipped",
            self.sent, self.partial, self.failed, self.deferred, self.uncertain, self.skipped
        )
    }
}
