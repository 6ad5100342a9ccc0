//! Locks in the data folder that let several herald processes share one journal safely.
//!
//! Every process that may send holds a [`ProcessLock`]: an exclusively locked file
//! `<data>/locks/<token>.lock`, its token written into each letter it claims. A letter left
//! `sending` is taken as interrupted only when its owner's lock file is no longer locked — so a
//! manual dispatch never marks as `uncertain` a letter the daemon is sending at that moment. The
//! operating system releases the lock when a process dies, even by SIGKILL.
//!
//! The daemon also holds [`DaemonLock`] (`<data>/daemon.lock`), so a second daemon on the same
//! data folder refuses to start.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Held for the life of a process that may claim letters.
#[derive(Debug)]
pub(crate) struct ProcessLock {
    path: PathBuf,
    token: String,
    _file: File,
}

impl ProcessLock {
    /// Creates and locks this process's lock file under `<data>/locks/`.
    pub(crate) fn acquire(data_dir: &Path) -> std::io::Result<ProcessLock> {
        let dir = data_dir.join("locks");
        std::fs::create_dir_all(&dir)?;
        let token = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
        let path = dir.join(format!("{token}.lock"));
        let file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)?;
        file.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => e,
            TryLockError::WouldBlock => {
                std::io::Error::other("a fresh lock file was already locked")
            }
        })?;
        Ok(ProcessLock {
            path,
            token,
            _file: file,
        })
    }

    /// The token written into the journal with each claim.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// Whether the process that holds `token`'s lock is still running. A stale lock file (its
    /// process died) is removed on the way.
    pub(crate) fn is_alive(data_dir: &Path, token: &str) -> bool {
        if token.contains(['/', '\\']) || token.starts_with('.') {
            return false;
        }
        let path = data_dir.join("locks").join(format!("{token}.lock"));
        let file = match OpenOptions::new().write(true).open(&path) {
            Ok(file) => file,
            // A process removes its lock file when it ends.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
            // Unknown (no permission, no file descriptor left …): assume alive, as below.
            Err(e) => {
                tracing::warn!(
                    "{}: cannot tell whether the process that holds it is still running ({}): \
                     its letters stay `sending` until it can be read",
                    path.display(),
                    crate::error::plain(&e)
                );
                return true;
            }
        };
        match file.try_lock() {
            Ok(()) => {
                drop(file);
                let _ = std::fs::remove_file(&path);
                false
            }
            Err(TryLockError::WouldBlock) => true,
            // Unknown: assume alive, so that a letter is never wrongly declared interrupted.
            Err(TryLockError::Error(_)) => true,
        }
    }
}

impl Drop for ProcessLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Held by the one daemon of a data folder.
#[derive(Debug)]
pub(crate) struct DaemonLock {
    _file: File,
}

/// Why the daemon lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DaemonLockError {
    #[error("another herald daemon is already running on {} (it holds {}{})", .data.display(), .lock.display(), .pid.as_deref().map(|p| format!(", process {p}")).unwrap_or_default())]
    Held {
        data: PathBuf,
        lock: PathBuf,
        pid: Option<String>,
    },
    #[error("{}: cannot take the daemon lock: {}", .lock.display(), crate::error::plain(source))]
    Io {
        lock: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DaemonLock {
    pub(crate) fn acquire(data_dir: &Path) -> Result<DaemonLock, DaemonLockError> {
        let lock = data_dir.join("daemon.lock");
        let io = |source| DaemonLockError::Io {
            lock: lock.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&lock)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty());
                return Err(DaemonLockError::Held {
                    data: data_dir.to_path_buf(),
                    lock,
                    pid,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DaemonLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_process_lock_is_alive_and_a_dropped_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let lock = ProcessLock::acquire(dir.path()).unwrap();
        let token = lock.token().to_string();
        assert!(ProcessLock::is_alive(dir.path(), &token));
        drop(lock);
        assert!(!ProcessLock::is_alive(dir.path(), &token));
        assert!(!ProcessLock::is_alive(dir.path(), "../escape"));
    }

    #[test]
    fn a_lock_file_left_unlocked_is_dead_and_one_that_cannot_be_opened_is_alive() {
        let dir = tempfile::tempdir().unwrap();
        let locks = dir.path().join("locks");
        std::fs::create_dir_all(&locks).unwrap();
        // What a killed process leaves: its file, no lock on it.
        std::fs::write(locks.join("1-aa.lock"), "").unwrap();
        assert!(!ProcessLock::is_alive(dir.path(), "1-aa"));
        assert!(!locks.join("1-aa.lock").exists());
        // A lock file that cannot be opened says nothing about its process.
        std::fs::create_dir(locks.join("2-bb.lock")).unwrap();
        assert!(ProcessLock::is_alive(dir.path(), "2-bb"));
    }

    #[test]
    fn a_second_daemon_lock_is_refused_with_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = DaemonLock::acquire(dir.path()).unwrap();
        let err = DaemonLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(err.contains("already running"), "{err}");
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        drop(first);
        DaemonLock::acquire(dir.path()).unwrap();
    }
}
