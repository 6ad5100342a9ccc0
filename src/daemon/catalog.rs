//! The recipients directory and the templates the daemon sends with, and what it knows of the
//! folders on disk.
//!
//! They are read again when their files change (and before each statement), so an edit needs no
//! restart. An edit that breaks them must not stop the sending of statements the last good copy
//! can serve, so that copy stays in use — but an office must see that the folder on disk is
//! broken without reading the log: the daemon keeps `<data>/daemon-state.json` (when each copy in
//! use was loaded, and since when and why the folder on disk does not load), which `herald status`
//! reads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::directory::{self, Directory};
use crate::error::Result;
use crate::letters::Templates;

/// The state file's name under the data folder.
pub(crate) const STATE_FILE: &str = "daemon-state.json";

/// What the daemon last found of the recipients directory and the templates on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CatalogState {
    pub(crate) recipients: Health,
    pub(crate) templates: Health,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Health {
    /// The folder the daemon reads.
    pub(crate) path: String,
    /// When the copy in use was loaded.
    pub(crate) loaded_at: Option<DateTime<Utc>>,
    /// Set while the folder on disk does not load.
    pub(crate) broken: Option<Broken>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Broken {
    /// When the daemon first found it broken (it has stayed broken since).
    pub(crate) since: DateTime<Utc>,
    /// Each problem, as `herald check` words it.
    pub(crate) problems: Vec<String>,
}

impl Health {
    fn loaded(path: &Path, at: DateTime<Utc>) -> Health {
        Health {
            path: path.display().to_string(),
            loaded_at: Some(at),
            broken: None,
        }
    }

    /// Records a failed load; `since` stays the first failure's time.
    fn failed(&mut self, problems: Vec<String>, now: DateTime<Utc>) {
        let since = self.broken.as_ref().map_or(now, |b| b.since);
        self.broken = Some(Broken { since, problems });
    }
}

/// Reads the state file of the data folder `data`; `None` when there is none (no daemon ran) or
/// it cannot be read as herald writes it.
fn read_state(data: &Path) -> Option<CatalogState> {
    let text = std::fs::read_to_string(data.join(STATE_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// A folder that does not load as it is on disk now, as `herald status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BrokenFolder {
    /// `recipients` or `templates`.
    pub(crate) folder: &'static str,
    pub(crate) path: String,
    /// Since when: when the daemon first found it broken, or else when a file in it last changed.
    pub(crate) since: Option<DateTime<Utc>>,
    pub(crate) problems: Vec<String>,
    /// When the copy the daemon still uses was loaded, if a daemon recorded one.
    pub(crate) in_use_since: Option<DateTime<Utc>>,
}

/// Loads the recipients directory and the templates as they are on disk now (what the next
/// statement would meet), and returns those that do not load, with what the daemon recorded.
pub(crate) fn broken_on_disk(config: &Config) -> Vec<BrokenFolder> {
    let state = read_state(&config.data_dir).unwrap_or_default();
    let mut out = Vec::new();
    let mut add = |folder, dir: &Path, health: &Health, problems: Vec<String>| {
        let changed = fingerprint(dir)
            .into_iter()
            .filter_map(|(_, _, modified)| modified)
            .max()
            .map(DateTime::<Utc>::from);
        let recorded = health.broken.as_ref().map(|b| b.since);
        out.push(BrokenFolder {
            folder,
            path: dir.display().to_string(),
            since: recorded.or(changed),
            problems,
            in_use_since: health.loaded_at,
        });
    };
    if let Err(e) = directory::load(&config.recipients_dir) {
        let problems = e.0.iter().map(ToString::to_string).collect();
        add(
            "recipients",
            &config.recipients_dir,
            &state.recipients,
            problems,
        );
    }
    if let Err(e) = Templates::load(&config.templates_dir) {
        add(
            "templates",
            &config.templates_dir,
            &state.templates,
            lines(&e.to_string()),
        );
    }
    out
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Each file under a folder with its size and modification time: a cheap way to see an edit.
type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

fn fingerprint(dir: &Path) -> Fingerprint {
    let mut out = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                folders.push(entry.path());
            } else {
                out.push((entry.path(), meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    out
}

/// The copies in use, and the state of the folders on disk.
pub(crate) struct Catalog {
    pub(crate) directory: Arc<Directory>,
    pub(crate) templates: Arc<Templates>,
    state: CatalogState,
    state_file: PathBuf,
    seen: (Fingerprint, Fingerprint),
}

impl Catalog {
    /// The first load: a folder that does not load stops the daemon before it starts.
    pub(crate) fn load(config: &Config, data: &Path) -> Result<Catalog> {
        let seen = (
            fingerprint(&config.recipients_dir),
            fingerprint(&config.templates_dir),
        );
        let now = Utc::now();
        let catalog = Catalog {
            directory: Arc::new(directory::load(&config.recipients_dir)?),
            templates: Arc::new(Templates::load(&config.templates_dir)?),
            state: CatalogState {
                recipients: Health::loaded(&config.recipients_dir, now),
                templates: Health::loaded(&config.templates_dir, now),
            },
            state_file: data.join(STATE_FILE),
            seen,
        };
        catalog.save();
        Ok(catalog)
    }

    /// Reads both folders again if a file in them changed since the last look.
    pub(crate) fn refresh_if_changed(&mut self, config: &Config) {
        let now = (
            fingerprint(&config.recipients_dir),
            fingerprint(&config.templates_dir),
        );
        if now != self.seen {
            self.refresh(config);
        }
    }

    /// Reads both folders again; a folder that does not load keeps the last good copy in use.
    pub(crate) fn refresh(&mut self, config: &Config) {
        self.seen = (
            fingerprint(&config.recipients_dir),
            fingerprint(&config.templates_dir),
        );
        let now = Utc::now();
        match directory::load(&config.recipients_dir) {
            Ok(d) => {
                if self.state.recipients.broken.is_some() {
                    tracing::info!(
                        recipients = %config.recipients_dir.display(),
                        "the recipients directory loads again; using it"
                    );
                }
                self.directory = Arc::new(d);
                self.state.recipients = Health::loaded(&config.recipients_dir, now);
            }
            Err(e) => {
                let problems: Vec<String> = e.0.iter().map(ToString::to_string).collect();
                if self.state.recipients.broken.as_ref().map(|b| &b.problems) != Some(&problems) {
                    tracing::error!(
                        error = %e,
                        "the recipients directory does not load; using the last good one until it \
                         is fixed (`herald check` shows the problems)"
                    );
                }
                self.state.recipients.failed(problems, now);
            }
        }
        match Templates::load(&config.templates_dir) {
            Ok(t) => {
                if self.state.templates.broken.is_some() {
                    tracing::info!(
                        templates = %config.templates_dir.display(),
                        "the templates load again; using them"
                    );
                }
                self.templates = Arc::new(t);
                self.state.templates = Health::loaded(&config.templates_dir, now);
            }
            Err(e) => {
                let problems = lines(&e.to_string());
                if self.state.templates.broken.as_ref().map(|b| &b.problems) != Some(&problems) {
                    tracing::error!(
                        error = %e,
                        "the templates do not load; using the last good ones until they are fixed"
                    );
                }
                self.state.templates.failed(problems, now);
            }
        }
        self.save();
    }

    /// Writes the state file whole (a temporary file renamed over it); a failure is logged, as
    /// it only costs `herald status` its view of the folders.
    fn save(&self) {
        let result = serde_json::to_string_pretty(&self.state)
            .map_err(std::io::Error::other)
            .and_then(|text| {
                let temporary = self.state_file.with_extension("json.tmp");
                std::fs::write(&temporary, text + "\n")?;
                std::fs::rename(&temporary, &self.state_file)
            });
        if let Err(e) = result {
            tracing::warn!(
                file = %self.state_file.display(),
                error = %e,
                "cannot write the daemon's state file; `herald status` will not show the state of \
                 the recipients directory and templates"
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;

    #[test]
    fn a_folder_stays_broken_since_its_first_failure_and_recovers_at_once() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let mut health = Health::loaded(Path::new("recipients"), t("2026-12-02T09:00:00Z"));
        health.failed(vec!["a".into()], t("2026-12-02T10:00:00Z"));
        health.failed(vec!["a".into(), "b".into()], t("2026-12-02T11:00:00Z"));
        let broken = health.broken.clone().unwrap();
        assert_eq!(broken.since, t("2026-12-02T10:00:00Z"));
        assert_eq!(broken.problems, ["a", "b"]);
        assert_eq!(health.loaded_at, Some(t("2026-12-02T09:00:00Z")));
    }

    #[test]
    fn an_edit_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("partials")).unwrap();
        std::fs::write(dir.path().join("partials/a.hbs"), "a").unwrap();
        let before = fingerprint(dir.path());
        assert_eq!(before.len(), 1);
        std::fs::write(dir.path().join("partials/a.hbs"), "ab").unwrap();
        assert_ne!(fingerprint(dir.path()), before);
    }
}
