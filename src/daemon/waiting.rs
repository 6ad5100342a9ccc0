//! Letters that wait in the journal rather than in the inbox: a statement held for approval,
//! sent once `herald approve` releases it, and deferred letters, sent again when due. Both are
//! rebuilt from the statement text the journal keeps, against the current directory and
//! templates, so they survive restarts and the file's move to `processed/`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

use super::log::LogProgress;
use super::{file_name, inbox, log_summary, report, until, Daemon, POLICY};
use crate::directory::OrgId;
use crate::error::Result;
use crate::journal::{LetterKey, StatementInfo};
use crate::plan;
use crate::sending::Letters;
use crate::statement::{self, StatementId};

/// How long a statement whose deferred letters cannot be rebuilt is left alone before the next try.
const STUCK_PAUSE: Duration = Duration::from_secs(300);

impl Daemon {
    pub(super) fn hold(&mut self, path: &Path, letters: &Letters) {
        let id = letters.plan.statement.id.clone();
        let out = self.folders.previews.join(id.as_str());
        if !out.join("index.html").is_file() {
            if let Err(e) = letters.preview(&out) {
                tracing::error!(statement = %id, error = %e, "cannot render the previews");
            }
        }
        if self.holding.get(&id) != Some(&Some(path.to_path_buf())) {
            tracing::info!(
                statement = %id,
                file = %file_name(path),
                previews = %out.display(),
                "held for approval: waiting for `herald approve {id}`"
            );
        }
        self.holding.insert(id, Some(path.to_path_buf()));
    }

    /// Sends the statements whose approval came since the last look.
    pub(super) async fn release_approved(&mut self) -> Result<()> {
        let ids: Vec<StatementId> = self.holding.keys().cloned().collect();
        for id in ids {
            if self.stopping() {
                break;
            }
            let Some(info) = self.courier.reader.statement(&id)? else {
                self.holding.remove(&id);
                continue;
            };
            if info.held {
                continue;
            }
            let file = self.holding.remove(&id).flatten();
            // The approved text is the journal's; the inbox file goes with it only if unchanged.
            let device = self.inbox_device;
            let order = self.config.statement.date_order;
            let max_bytes = self.config.statement.max_bytes;
            let file = file.filter(|f| {
                inbox::read_statement_file(f, device, max_bytes)
                    .ok()
                    .and_then(|bytes| plan::parse_statement(f, bytes, order).ok())
                    .is_some_and(|s| s.id == id)
            });
            tracing::info!(statement = %id, "approved: sending");
            let keys = self.journal_keys(&id)?;
            match self.rebuild(&info) {
                Ok(letters) => self.dispatch(letters, keys, file.as_deref()).await?,
                Err(e) => {
                    tracing::error!(statement = %id, error = %e, "cannot rebuild the approved statement");
                }
            }
        }
        Ok(())
    }

    /// Every letter of a statement, as the journal knows them.
    pub(super) fn journal_keys(&self, id: &StatementId) -> Result<Vec<LetterKey>> {
        Ok(self
            .courier
            .reader
            .letters_of(id)?
            .into_iter()
            .filter_map(|row| {
                OrgId::new(&row.organization).map(|organization| LetterKey {
                    statement: id.clone(),
                    organization,
                })
            })
            .collect())
    }

    /// The letters of a statement rebuilt from the text the journal keeps, against the current
    /// directory and templates.
    pub(super) fn rebuild(&mut self, info: &StatementInfo) -> std::result::Result<Letters, String> {
        self.catalog.refresh(&self.config);
        let shown = format!("{} (kept in the journal)", info.file_name);
        let statement = statement::parse_in_order(
            &shown,
            &info.file_name,
            &info.text,
            self.config.statement.date_order,
        )
        .map_err(|e| e.to_string())?;
        let plan =
            plan::resolve(&self.catalog.directory, statement, &shown).map_err(|e| e.to_string())?;
        Ok(Letters::new(
            plan,
            Arc::clone(&self.catalog.directory),
            Arc::clone(&self.catalog.templates),
            &self.config,
        ))
    }

    /// Sends every deferred letter whose time has come, statement by statement.
    pub(super) async fn retry_due(&mut self) -> Result<()> {
        let now = Utc::now();
        let mut due: BTreeMap<StatementId, Vec<LetterKey>> = BTreeMap::new();
        for (key, at) in self.courier.reader.due_retries(now)? {
            if at <= now {
                due.entry(key.statement.clone()).or_default().push(key);
            }
        }
        for (id, keys) in due {
            if self.stopping() {
                break;
            }
            if self.stuck.get(&id).is_some_and(|until| *until > now) {
                continue;
            }
            let Some(info) = self.courier.reader.statement(&id)? else {
                tracing::error!(statement = %id, "deferred letters of a statement the journal does not know");
                self.stuck.insert(id, now + STUCK_PAUSE);
                continue;
            };
            let letters = match self.rebuild(&info) {
                Ok(letters) => letters,
                Err(e) => {
                    tracing::error!(
                        statement = %id,
                        error = %e,
                        "cannot rebuild the statement to retry its deferred letters; trying again later"
                    );
                    self.stuck.insert(id, now + STUCK_PAUSE);
                    continue;
                }
            };
            self.stuck.remove(&id);
            tracing::info!(statement = %id, letters = keys.len(), "retrying deferred letters");
            let summary = self
                .courier
                .send(
                    Arc::new(letters),
                    keys,
                    POLICY,
                    Arc::new(LogProgress {
                        statement: id.clone(),
                    }),
                    self.stop.clone(),
                )
                .await?;
            if report::path(&self.folders.processed, id.as_str()).is_file() {
                if let Err(e) = self.write_report(&id) {
                    tracing::error!(statement = %id, error = %e, "cannot write the report");
                }
            }
            log_summary(&id, &summary);
        }
        Ok(())
    }

    /// When the next deferred letter is due (statements set aside count from when they may be
    /// tried again).
    pub(super) fn next_retry(&self) -> Result<Option<Instant>> {
        let now = Utc::now();
        let next = self
            .courier
            .reader
            .due_retries(now)?
            .into_iter()
            .map(|(key, at)| match self.stuck.get(&key.statement) {
                Some(until) if *until > at => *until,
                _ => at,
            })
            .min();
        Ok(next.map(until))
    }
}
