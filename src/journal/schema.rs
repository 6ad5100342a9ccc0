//! Opening the SQLite file: connection settings that make the journal durable and shareable, and
//! the versioned schema (`PRAGMA user_version`).
//!
//! `synchronous = FULL` in WAL mode fsyncs the log on every commit, so a letter recorded `sent`
//! survives a power cut; `busy_timeout` lets a daemon and a manual dispatch share one file.
//!
//! Only a writer creates or upgrades the schema, and never in a file that already holds other
//! data. Readers (`status`, `history`, `verify`, the notes of `check` and `resolve`) open the
//! file read-only: a reader that wrote (set WAL mode, created tables) next to a damaged or
//! missing `-wal` file once replaced a journal's content with an empty schema.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::JournalError;

/// The schema this herald writes; an older file is upgraded, a newer one refused.
///
/// 1: the first. 2: letters may be `cancelled` (`herald cancel`).
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA_V1: &str = r#"
CREATE TABLE IF NOT EXISTS statements (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    source        TEXT NOT NULL,
    held          INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1)),
    registered_at TEXT NOT NULL,
    file_name     TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS letters (
    statement_id         TEXT NOT NULL REFERENCES statements(id),
    organization         TEXT NOT NULL,
    to_addresses         TEXT NOT NULL,
    cc_addresses         TEXT NOT NULL,
    message_id           TEXT NOT NULL,
    state                TEXT NOT NULL CHECK (state IN
        ('pending', 'sending', 'sent', 'partial', 'deferred', 'failed', 'uncertain')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    smtp_code            INTEGER,
    smtp_reply           TEXT,
    recipients           TEXT NOT NULL DEFAULT '[]',
    next_attempt_at      TEXT,
    claimed_by           TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    PRIMARY KEY (statement_id, organization)
);
CREATE INDEX IF NOT EXISTS letters_by_state ON letters (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS letters_by_update ON letters (updated_at);

CREATE TABLE IF NOT EXISTS events (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    statement_id TEXT NOT NULL,
    organization TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    smtp_code    INTEGER,
    smtp_reply   TEXT,
    detail       TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    FOREIGN KEY (statement_id, organization) REFERENCES letters (statement_id, organization)
);
CREATE INDEX IF NOT EXISTS events_by_letter ON events (statement_id, organization, id);

-- Events are evidence: herald only ever appends. These make an accidental edit through herald
-- impossible; a deliberate one (dropping the triggers) is what `herald verify` detects.
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'journal events are append-only');
END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'journal events are append-only');
END;
"#;

/// Version 1 to 2: the `letters` table again, with `cancelled` among the states its CHECK allows.
/// SQLite cannot change a CHECK in place: the table is copied into a new one, which then takes
/// the old one's name (sqlite.org/lang_altertable.html, "making other kinds of table schema
/// changes"). `events` is not touched, so its hash chain and triggers stay as they are; its
/// foreign key names `letters` and refers to the new table once it bears that name. Runs with
/// foreign keys off (dropping the old table must not check `events` against it), inside the
/// caller's transaction, and ends with a foreign key check.
const MIGRATE_V1_TO_V2: &str = r#"
CREATE TABLE letters_v2 (
    statement_id         TEXT NOT NULL REFERENCES statements(id),
    organization         TEXT NOT NULL,
    to_addresses         TEXT NOT NULL,
    cc_addresses         TEXT NOT NULL,
    message_id           TEXT NOT NULL,
    state                TEXT NOT NULL CHECK (state IN
        ('pending', 'sending', 'sent', 'partial', 'deferred', 'failed', 'uncertain',
         'cancelled')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    smtp_code            INTEGER,
    smtp_reply           TEXT,
    recipients           TEXT NOT NULL DEFAULT '[]',
    next_attempt_at      TEXT,
    claimed_by           TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    PRIMARY KEY (statement_id, organization)
);
INSERT INTO letters_v2 (statement_id, organization, to_addresses, cc_addresses, message_id,
    state, attempts, consecutive_failures, smtp_code, smtp_reply, recipients, next_attempt_at,
    claimed_by, created_at, updated_at)
SELECT statement_id, organization, to_addresses, cc_addresses, message_id,
    state, attempts, consecutive_failures, smtp_code, smtp_reply, recipients, next_attempt_at,
    claimed_by, created_at, updated_at FROM letters;
DROP TABLE letters;
ALTER TABLE letters_v2 RENAME TO letters;
CREATE INDEX letters_by_state ON letters (state, next_attempt_at);
CREATE INDEX letters_by_update ON letters (updated_at);
"#;

/// Opens the connection, applies the settings and brings the schema up to date.
pub(super) fn open(path: &Path) -> Result<Connection, JournalError> {
    let sql = |source| JournalError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| JournalError::Other {
            path: parent.to_path_buf(),
            message: format!("cannot create the journal's folder: {e}"),
        })?;
    }
    // Opening is one process's at a time: a new journal's schema exists at first only in its
    // write-ahead log, and a second process opening the still empty main file could take that
    // for an empty database (SQLite even drops the log of an empty file). The lock is held until
    // the schema is in the main file.
    let _opening = open_lock(path, LockKind::Exclusive)?;
    let mut conn = Connection::open(path).map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    // Before anything is written (even the journal mode): another program's data is left as is.
    let (version, tables): (i64, bool) = conn
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), \
             EXISTS (SELECT 1 FROM sqlite_master)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sql)?;
    if version == 0 && tables {
        return Err(not_a_journal(path));
    }
    // `journal_mode` answers with the mode in force; anything but WAL means the file system
    // refused it, and the durability and sharing promises would not hold.
    let mode = journal_mode_wal(&conn).map_err(sql)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(JournalError::Other {
            path: path.to_path_buf(),
            message: format!("the journal cannot use write-ahead logging (mode `{mode}`)"),
        });
    }
    // Each request of a group commit runs in a savepoint, whose undo copies of the pages it
    // changes go to a statement journal: a temporary file by default (a write per page), in
    // memory with `temp_store = MEMORY`. Nothing durable lives there.
    // Foreign keys are turned on only once the schema is up to date: a migration rebuilds a
    // table other tables refer to (`PRAGMA foreign_keys` cannot change inside a transaction).
    // (The bundled SQLite turns them on by default.)
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF;",
    )
    .map_err(sql)?;

    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql)?;
    if version == 0 && holds_tables(&tx).map_err(sql)? {
        return Err(not_a_journal(path));
    }
    if version > SCHEMA_VERSION {
        return Err(too_new(path, version));
    }
    if version < 1 {
        tx.execute_batch(SCHEMA_V1).map_err(sql)?;
    }
    if version < 2 {
        tx.execute_batch(MIGRATE_V1_TO_V2).map_err(sql)?;
        let dangling: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()
            .map_err(sql)?;
        if let Some(table) = dangling {
            return Err(JournalError::Other {
                path: path.to_path_buf(),
                message: format!(
                    "upgrading the journal to schema version 2: a row of `{table}` refers to \
                     nothing; the journal was left as it was"
                ),
            });
        }
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql)?;
    }
    tx.commit().map_err(sql)?;
    if version == 0 {
        // The new schema into the main file, before another process may open it.
        conn.query_row("PRAGMA wal_checkpoint(FULL)", [], |_| Ok(()))
            .map_err(sql)?;
    }
    conn.execute_batch("PRAGMA foreign_keys = ON;")
        .map_err(sql)?;
    Ok(conn)
}

/// Opens an existing journal read-only: nothing is created, upgraded or written, not even the
/// journal mode. `None` when there is no journal yet (no file, or a file without a schema).
pub(super) fn open_read_only(path: &Path) -> Result<Option<Connection>, JournalError> {
    let sql = |source| JournalError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(JournalError::Other {
                path: path.to_path_buf(),
                message: format!("cannot read the journal: {e}"),
            })
        }
        // An empty file is what a writer leaves when it stopped before creating the schema.
        Ok(meta) if meta.len() == 0 => return Ok(None),
        Ok(_) => {}
    }
    // Not while a writer is creating it (see `open`); a reader creates no lock file.
    let _opening = open_lock(path, LockKind::SharedIfPresent)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql)?;
    if version == 0 {
        return if holds_tables(&conn).map_err(sql)? {
            Err(not_a_journal(path))
        } else {
            Ok(None)
        };
    }
    if version > SCHEMA_VERSION {
        return Err(too_new(path, version));
    }
    Ok(Some(conn))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LockKind {
    /// A writer's: the lock file is created if need be.
    Exclusive,
    /// A reader's: only if a writer made the lock file already.
    SharedIfPresent,
}

/// Takes the lock on `<journal>-open.lock` that orders processes opening the journal; released
/// when the file returned is dropped. `None` for a reader where there is no lock file.
fn open_lock(path: &Path, kind: LockKind) -> Result<Option<std::fs::File>, JournalError> {
    let mut name = path.as_os_str().to_owned();
    name.push("-open.lock");
    let lock_path = std::path::PathBuf::from(name);
    let failed = |e: std::io::Error| JournalError::Other {
        path: lock_path.clone(),
        message: format!("cannot lock the journal for opening: {e}"),
    };
    match kind {
        LockKind::Exclusive => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(failed)?;
            file.lock().map_err(failed)?;
            Ok(Some(file))
        }
        LockKind::SharedIfPresent => match std::fs::File::open(&lock_path) {
            Ok(file) => {
                file.lock_shared().map_err(failed)?;
                Ok(Some(file))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(failed(e)),
        },
    }
}

/// Whether the database already holds tables (or any other schema object).
fn holds_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master)", [], |r| {
        r.get(0)
    })
}

/// A journal written by a newer herald, which this one must not read or write.
fn too_new(path: &Path, version: i64) -> JournalError {
    JournalError::Other {
        path: path.to_path_buf(),
        message: format!(
            "the journal has schema version `{version}`, newer than this herald's \
             ({SCHEMA_VERSION}): upgrade herald"
        ),
    }
}

fn not_a_journal(path: &Path) -> JournalError {
    JournalError::Untrusted {
        path: path.to_path_buf(),
        reason: "the file holds data but not a herald journal, and herald never writes over \
                 it"
        .to_string(),
    }
}

/// Puts the file in WAL mode (a no-op when it already is) and answers the mode in force.
///
/// Turning a new file to WAL needs it to itself: when another process opens the same new file at
/// that moment, SQLite answers "database is locked" at once, without the busy handler. That is
/// waited out here, as the busy timeout promises for everything else.
fn journal_mode_wal(conn: &Connection) -> rusqlite::Result<String> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// RFC 3339 UTC with microseconds: fixed width, so text order is time order.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_sort_as_text_and_round_trip() {
        let cases = [
            Utc.with_ymd_and_hms(2021, 5, 27, 9, 0, 0).single(),
            Utc.with_ymd_and_hms(2021, 5, 27, 10, 0, 0).single(),
            Utc.with_ymd_and_hms(2021, 12, 1, 0, 0, 0).single(),
        ];
        let times: Vec<DateTime<Utc>> = cases.into_iter().flatten().collect();
        let texts: Vec<String> = times.iter().map(|t| timestamp(*t)).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
        assert_eq!(texts[0], "2021-05-27T09:00:00.000000Z");
        for (t, s) in times.iter().zip(&texts) {
            assert_eq!(parse_timestamp(s).as_ref(), Ok(t));
        }
    }

    #[test]
    fn reopening_keeps_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/herald.db");
        drop(open(&path).unwrap());
        let conn = open(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = open(&path).err().unwrap().to_string();
        assert!(err.contains("newer than this herald"), "{err}");
    }
}
