//! End-of-data marks: what lets recovery tell a letter that may have reached a server from one
//! that cannot have.
//!
//! An SMTP server delivers a message only once it has read the final `.` of its data (RFC 1047,
//! "Duplicate messages and SMTP"); a transaction cut before it is thrown away. So, of the letters
//! a dead process left `sending`, only those whose final `.` was written can have arrived. Just
//! before a letter's end of data is written (the final `.` to a server, the rename into the
//! outbox for the file transport), herald appends one line to `<data>/herald.marks`:
//!
//! ```text
//! <claimant> <statement-id> <organization-id> <attempt>
//! ```
//!
//! Each line is written with a newline before it as well as after it. A write the disk cut short
//! (it was full) leaves a fragment with no end; the next line, whichever process writes it, then
//! still starts a line of its own instead of running on from the fragment and going unmatched.
//!
//! `<claimant>` is the `claimed_by` text of the claim, `<lock token>@<boot id>`: the lock token
//! (`crate::lock`) is unique to one process, so a line names exactly one claim and a stale line
//! can never vouch for a later one. The line goes out in one `write(2)` on a file opened with
//! `O_APPEND`, and the end of data is written only after that call returned. No fsync: the
//! mark has to survive the end of the process (`kill -9`, a panic, an out-of-memory kill), and a
//! write that reached the kernel does; the fsync that makes the claim durable already happened
//! before any data left, and one per letter more would halve the speed of a session.
//!
//! What an unsynced write does not survive is the machine itself stopping (power loss, kernel
//! panic): the `.` may have gone out while the mark was still in memory. So each claim also
//! records the machine's boot identity (Linux: `/proc/sys/kernel/random/boot_id`, new at every
//! boot), and recovery (`Ops::recover_interrupted`) reads the marks only when the boot is the
//! same. A letter left `sending` by a dead process is then:
//!
//! - claimed in another boot, or with no boot identity recorded (an older herald, or a system
//!   without one): `uncertain`, since its mark proves nothing either way;
//! - marked: `uncertain` — its end of data was written and its reply never recorded;
//! - not marked: it never reached a server's delivery point, and goes back to the state it had
//!   before the claim (`pending`, `deferred` …) to be sent normally.
//!
//! So a crash of herald leaves `uncertain` only the letters whose final `.` was in flight (at most
//! one per session), and a power loss at most the letters claimed ahead (`max_sending`).
//!
//! The file only matters while letters are `sending`: it is emptied, inside a journal write
//! transaction (so no other process can claim a letter meanwhile), whenever none is. Recovery
//! empties it only after its verdicts are committed: a recovery killed before its commit leaves
//! the letters `sending`, and the next one needs their marks.
//!
//! Test hook: debug builds (the integration tests run one) take the boot identity from the
//! environment variable `HERALD_TEST_BOOT_ID` when it is set, so that a test can show what a
//! restart of the machine does. Release builds never read it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::LetterKey;

/// Where Linux keeps the identity of the running boot.
const BOOT_ID_FILE: &str = "/proc/sys/kernel/random/boot_id";

/// The test hook described in the module header (debug builds only).
const BOOT_ID_VARIABLE: &str = "HERALD_TEST_BOOT_ID";

/// The marks file of the journal at `journal`: `herald.marks` beside `herald.db`.
pub(crate) fn path_of(journal: &Path) -> PathBuf {
    journal.with_extension("marks")
}

/// The identity of the running boot, if the system has one.
pub(crate) fn boot_id() -> Option<String> {
    if cfg!(debug_assertions) {
        if let Ok(id) = std::env::var(BOOT_ID_VARIABLE) {
            return valid_boot_id(&id);
        }
    }
    valid_boot_id(&std::fs::read_to_string(BOOT_ID_FILE).ok()?)
}

/// A boot id as the kernel prints it (a UUID); anything else is no identity at all.
fn valid_boot_id(text: &str) -> Option<String> {
    let id = text.trim();
    let plausible = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plausible.then(|| id.to_string())
}

/// Who made a claim, as `claimed_by` records it: the process's lock token and, when known, the
/// boot it ran in (`<token>@<boot id>`; an older herald wrote the token alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claimant {
    pub(crate) token: String,
    pub(crate) boot: Option<String>,
}

impl Claimant {
    pub(crate) fn new(token: &str, boot: Option<String>) -> Claimant {
        Claimant {
            token: token.to_string(),
            boot,
        }
    }

    pub(crate) fn parse(claimed_by: &str) -> Claimant {
        match claimed_by.split_once('@') {
            Some((token, boot)) => Claimant::new(token, valid_boot_id(boot)),
            None => Claimant::new(claimed_by, None),
        }
    }

    /// The `claimed_by` text.
    pub(crate) fn text(&self) -> String {
        match &self.boot {
            Some(boot) => format!("{}@{boot}", self.token),
            None => self.token.clone(),
        }
    }
}

/// The line that marks the end of data of one claim, as recovery looks for it. `Marks::mark`
/// writes it after a newline of its own (see the module header).
pub(crate) fn line(claimed_by: &str, key: &LetterKey, attempt: u32) -> String {
    format!(
        "{claimed_by} {} {} {attempt}\n",
        key.statement.as_str(),
        key.organization.as_str()
    )
}

/// This process's side of the marks file: opened once, appended to before each end of data.
#[derive(Debug)]
pub(crate) struct Marks {
    file: File,
    claimed_by: String,
}

impl Marks {
    /// Opens (creating if needed) the marks file of the journal at `journal` for claims made as
    /// `claimant`.
    pub(crate) fn open(journal: &Path, claimant: &Claimant) -> std::io::Result<Marks> {
        let path = path_of(journal);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Marks {
            file,
            claimed_by: claimant.text(),
        })
    }

    /// Marks that attempt `attempt` of `key` is about to write its end of data. Returns once the
    /// line is with the operating system; an error means it may not be, and the end of data must
    /// not be written.
    pub(crate) fn mark(&self, key: &LetterKey, attempt: u32) -> std::io::Result<()> {
        let line = format!("\n{}", line(&self.claimed_by, key, attempt));
        // One write call, so concurrent sessions never interleave within a line; a short write
        // (a full disk) leaves a fragment recovery will not match, and is an error here.
        let written = (&self.file).write(line.as_bytes())?;
        if written != line.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::WriteZero,
                format!("only {written} of {} bytes written", line.len()),
            ));
        }
        Ok(())
    }
}

/// Every whole line of the marks file at `path`, blank ones aside (none if it does not exist).
pub(crate) fn read(path: &Path) -> std::io::Result<std::collections::HashSet<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes)
            .split_inclusive('\n')
            .filter(|l| l.len() > 1 && l.ends_with('\n'))
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(e),
    }
}

/// Empties the marks file at `path`, if there is one.
pub(crate) fn clear(path: &Path) -> std::io::Result<()> {
    match OpenOptions::new().write(true).open(path) {
        Ok(file) => file.set_len(0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;
    use crate::directory::OrgId;
    use crate::statement::StatementId;

    fn key(org: &str) -> LetterKey {
        LetterKey {
            statement: StatementId::parse("2021-05-27-1a2b3c4d").unwrap(),
            organization: OrgId::new(org).unwrap(),
        }
    }

    #[test]
    fn claimed_by_text_round_trips_and_an_older_token_has_no_boot() {
        let cases = [
            (
                "123-00ff@6a1f0c2e-0d4b-4c1e-9f3a-2b7e5d8c9a10",
                Some("6a1f0c2e-0d4b-4c1e-9f3a-2b7e5d8c9a10"),
            ),
            ("123-00ff", None),
            ("123-00ff@", None),
            ("123-00ff@not a boot id", None),
        ];
        for (text, boot) in cases {
            let claimant = Claimant::parse(text);
            assert_eq!(claimant.token, "123-00ff", "{text}");
            assert_eq!(claimant.boot.as_deref(), boot, "{text}");
            if boot.is_some() || !text.contains('@') {
                assert_eq!(claimant.text(), text);
            }
        }
    }

    #[test]
    fn a_boot_id_is_a_trimmed_uuid_or_nothing() {
        let cases = [
            (
                "6a1f0c2e-0d4b-4c1e-9f3a-2b7e5d8c9a10\n",
                Some("6a1f0c2e-0d4b-4c1e-9f3a-2b7e5d8c9a10"),
            ),
            ("", None),
            ("  \n", None),
            ("a b", None),
            ("a@b", None),
        ];
        for (text, expected) in cases {
            assert_eq!(valid_boot_id(text).as_deref(), expected, "{text:?}");
        }
    }

    #[test]
    fn marks_are_lines_read_back_whole_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("herald.db");
        let claimant = Claimant::new("42-ab", Some("boot-1".into()));
        let marks = Marks::open(&journal, &claimant).unwrap();
        let file = dir.path().join("herald.marks");
        assert_eq!(path_of(&journal), file);
        marks.mark(&key("un"), 1).unwrap();
        marks.mark(&key("oas"), 3).unwrap();
        // A torn line (the disk filled up) matches nothing, and the line written after it, by
        // this process or another, is still read whole.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap()
            .write_all(b"\n42-ab@boot-1 2021-05-27-1a2b3c4d e")
            .unwrap();
        let other = Marks::open(&journal, &Claimant::new("43-cd", Some("boot-1".into()))).unwrap();
        other.mark(&key("eu"), 2).unwrap();
        let read_back = read(&file).unwrap();
        // The fragment, ended by the next line's leading newline, is a line no claim matches.
        assert_eq!(read_back.len(), 4, "{read_back:?}");
        assert!(read_back.contains("42-ab@boot-1 2021-05-27-1a2b3c4d e\n"));
        assert!(read_back.contains(&line("42-ab@boot-1", &key("un"), 1)));
        assert!(read_back.contains("42-ab@boot-1 2021-05-27-1a2b3c4d oas 3\n"));
        assert!(read_back.contains(&line("43-cd@boot-1", &key("eu"), 2)));
        clear(&file).unwrap();
        assert!(read(&file).unwrap().is_empty());
        // Appending goes on at the new end.
        marks.mark(&key("un"), 2).unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "\n42-ab@boot-1 2021-05-27-1a2b3c4d un 2\n"
        );
        assert!(read(&dir.path().join("absent.marks")).unwrap().is_empty());
        clear(&dir.path().join("absent.marks")).unwrap();
    }

    mod recovery {
        use super::super::super::tests::{intact_events, key, planned, statement, t};
        use super::*;
        use crate::journal::{AttemptResult, ClaimPolicy, Journal, LetterRow, State};

        fn row(j: &Journal, org: &str) -> LetterRow {
            j.letters_of(&statement().id)
                .unwrap()
                .into_iter()
                .find(|r| r.organization == org)
                .unwrap()
        }

        /// A journal with `un` and `osce` `sending` (attempt 1) and `coe` `sending` on its second
        /// attempt after a deferral, all claimed by a process of boot `boot-1`; only `un` marked.
        fn left_sending() -> (tempfile::TempDir, Journal) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("herald.db");
            let mut j = Journal::open(&path).unwrap();
            j.register(
                &statement(),
                &[planned("un"), planned("osce"), planned("coe")],
                t(0),
            )
            .unwrap();
            let claimant = Claimant::new("7-ab", Some("boot-1".into()));
            j.set_owner(&claimant);
            let any = ClaimPolicy::default();
            j.claim(&key("coe"), any, t(1)).unwrap().unwrap();
            let deferred = AttemptResult {
                state: State::Deferred,
                smtp_code: Some(451),
                reply: "451 4.3.0 try later".into(),
                recipients: vec![],
                next_attempt_at: Some(t(30)),
            };
            j.record(&key("coe"), &deferred, t(2)).unwrap();
            for org in ["un", "osce", "coe"] {
                j.claim(&key(org), any, t(3)).unwrap().unwrap();
            }
            let marks = Marks::open(&path, &claimant).unwrap();
            marks.mark(&key("un"), 1).unwrap();
            (dir, j)
        }

        #[test]
        fn in_the_same_boot_only_a_marked_letter_is_uncertain_and_the_others_go_back() {
            let (dir, mut j) = left_sending();
            let recovery = j
                .recover_interrupted(t(9), &|_| false, Some("boot-1"))
                .unwrap();
            assert_eq!(recovery.uncertain, vec![key("un")]);
            assert_eq!(recovery.given_back, vec![key("coe"), key("osce")]);

            let un = row(&j, "un");
            assert_eq!((un.status, un.attempts), (State::Uncertain, 1));
            let reply = un.smtp_reply.unwrap();
            assert!(
                reply.contains("herald stopped") && reply.contains("end-of-data mark found"),
                "{reply}"
            );
            let osce = row(&j, "osce");
            assert_eq!((osce.status, osce.attempts), (State::Pending, 0));
            assert!(osce
                .smtp_reply
                .unwrap()
                .starts_with("never reached the server's end of data"));
            // Back as it was before the claim: deferred, its first attempt counted, due when it
            // was.
            let coe = row(&j, "coe");
            assert_eq!((coe.status, coe.attempts), (State::Deferred, 1));
            assert_eq!(coe.next_attempt_at, Some(t(30)));

            let recovery_events: i64 = j
                .conn
                .query_row(
                    "SELECT count(*) FROM events WHERE from_state = 'sending' \
                     AND json_extract(detail, '$.recovery') IS NOT NULL",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(recovery_events, 3, "each says which rule decided");
            // Creations, claims, the deferral, and the three recoveries.
            assert_eq!(intact_events(&j), 3 + 4 + 1 + 3);
            assert!(
                read(&dir.path().join("herald.marks")).unwrap().is_empty(),
                "nothing is sending any more: the marks are emptied"
            );
            // The letters given back are claimed again as usual.
            assert!(j
                .claim(&key("osce"), ClaimPolicy::default(), t(10))
                .unwrap()
                .is_some());
        }

        #[test]
        fn whether_a_process_is_alive_is_asked_once_for_all_its_letters() {
            let (_dir, mut j) = left_sending();
            let asked = std::cell::Cell::new(0);
            let recovery = j
                .recover_interrupted(
                    t(9),
                    &|token| {
                        asked.set(asked.get() + 1);
                        assert_eq!(token, "7-ab");
                        false
                    },
                    Some("boot-1"),
                )
                .unwrap();
            assert_eq!(recovery.uncertain.len() + recovery.given_back.len(), 3);
            assert_eq!(asked.get(), 1);
        }

        #[test]
        fn a_recovery_killed_before_its_commit_leaves_the_marks_for_the_next() {
            let (dir, mut j) = left_sending();
            // What a kill between the verdicts and their commit leaves: the transaction is
            // rolled back, the letters are still `sending`.
            let killed = j.write(|ops| {
                ops.recover_interrupted(t(9), &|_| false, Some("boot-1"))?;
                Err::<(), _>(ops.other("killed before the commit".into()))
            });
            assert!(killed.is_err());
            assert_eq!(row(&j, "un").status, State::Sending);
            assert_eq!(read(&dir.path().join("herald.marks")).unwrap().len(), 1);

            let recovery = j
                .recover_interrupted(t(10), &|_| false, Some("boot-1"))
                .unwrap();
            assert_eq!(
                recovery.uncertain,
                vec![key("un")],
                "its end of data was written: it must not be sent again"
            );
        }

        #[test]
        fn after_a_restart_of_the_machine_every_letter_left_sending_is_uncertain() {
            let (_dir, mut j) = left_sending();
            let recovery = j
                .recover_interrupted(t(9), &|_| false, Some("boot-2"))
                .unwrap();
            assert_eq!(recovery.uncertain, vec![key("coe"), key("osce"), key("un")]);
            assert!(recovery.given_back.is_empty());
            for org in ["un", "osce", "coe"] {
                let reply = row(&j, org).smtp_reply.unwrap();
                assert!(reply.contains("the machine restarted"), "{org}: {reply}");
            }
            intact_events(&j);
        }

        #[test]
        fn marks_are_kept_while_a_live_process_is_sending() {
            let (dir, mut j) = left_sending();
            let recovery = j
                .recover_interrupted(t(9), &|token| token == "7-ab", Some("boot-1"))
                .unwrap();
            assert_eq!(recovery, crate::journal::Recovery::default());
            assert!(!j.prune_marks().unwrap());
            assert_eq!(read(&dir.path().join("herald.marks")).unwrap().len(), 1);
        }
    }
}
