//! The file transport (the default): each message becomes
//! `<data>/outbox/<statement-id>/<org-id>.eml`, written whole or not at all (temporary name,
//! fsync, rename, fsync of the folder), so a crash never leaves half a letter that looks sent.
//! The rename is this transport's end of data: the end-of-data mark goes just before it.

use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;
use futures_util::FutureExt as _;

use super::classify::Outcome;
use super::state::Claim;
use super::{Connection, EndOfDataMark, Transport};
use crate::journal::LetterKey;
use crate::letters::compose::Composed;

#[derive(Debug, Clone)]
pub(crate) struct FileTransport {
    outbox: PathBuf,
}

impl FileTransport {
    /// Writes under `<data_dir>/outbox/`.
    pub(crate) fn new(data_dir: &Path) -> FileTransport {
        FileTransport {
            outbox: data_dir.join("outbox"),
        }
    }

    pub(crate) fn outbox(&self) -> &Path {
        &self.outbox
    }

    /// Where the letter `key` is written.
    pub(crate) fn path_of(&self, key: &LetterKey) -> PathBuf {
        self.outbox
            .join(key.statement.as_str())
            .join(format!("{}.eml", key.organization.as_str()))
    }

    pub(crate) async fn deliver(
        &self,
        key: &LetterKey,
        bytes: Vec<u8>,
        mark: EndOfDataMark,
    ) -> Outcome {
        let path = self.path_of(key);
        let written = path.clone();
        match tokio::task::spawn_blocking(move || write_atomically(&written, &bytes, mark)).await {
            Ok(Ok(())) => Outcome::Written {
                path: path.display().to_string(),
            },
            Ok(Err(e)) => Outcome::NotHandedOver {
                reason: format!("writing {}: {e}", path.display()),
            },
            Err(e) => Outcome::NotHandedOver {
                reason: format!("writing {}: {e}", path.display()),
            },
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8], mark: EndOfDataMark) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    mark().map_err(|e| std::io::Error::new(e.kind(), format!("the end-of-data mark: {e}")))?;
    std::fs::rename(&temporary, path)?;
    // The rename is durable only once the folder itself is synced.
    std::fs::File::open(dir)?.sync_all()
}

impl Transport for FileTransport {
    fn describe(&self) -> String {
        format!("the outbox folder {}", self.outbox().display())
    }

    fn connection(&self) -> Box<dyn Connection + '_> {
        Box::new(self)
    }
}

/// A folder needs no connection: each letter is one file, written whole with every address.
impl Connection for &FileTransport {
    fn deliver<'a>(
        &'a mut self,
        key: &'a LetterKey,
        letter: Composed,
        _claim: &'a Claim,
        mark: EndOfDataMark,
    ) -> BoxFuture<'a, Outcome> {
        FileTransport::deliver(self, key, letter.bytes, mark).boxed()
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        std::future::ready(()).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::OrgId;
    use crate::statement::StatementId;

    #[tokio::test]
    async fn writes_the_message_under_the_statement_and_reports_where() {
        let data = tempfile::tempdir().expect("tempdir");
        let transport = FileTransport::new(data.path());
        let key = LetterKey {
            statement: StatementId::parse("2021-05-27-1a2b3c4d").expect("id"),
            organization: OrgId::new("un-secretary-general").expect("org id"),
        };
        let outcome = transport
            .deliver(
                &key,
                b"Subject: x\r\n\r\nbody\r\n".to_vec(),
                Box::new(|| Ok(())),
            )
            .await;
        let expected = data
            .path()
            .join("outbox/2021-05-27-1a2b3c4d/un-secretary-general.eml");
        assert_eq!(
            outcome,
            Outcome::Written {
                path: expected.display().to_string()
            }
        );
        assert_eq!(
            std::fs::read(&expected).expect("written"),
            b"Subject: x\r\n\r\nbody\r\n"
        );
        let leftovers: Vec<_> = std::fs::read_dir(expected.parent().expect("dir"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[tokio::test]
    async fn an_unwritable_outbox_defers() {
        let data = tempfile::tempdir().expect("tempdir");
        // A file where the outbox folder should be.
        std::fs::write(data.path().join("outbox"), b"").expect("file");
        let transport = FileTransport::new(data.path());
        let key = LetterKey {
            statement: StatementId::parse("2021-05-27-1a2b3c4d").expect("id"),
            organization: OrgId::new("un").expect("org id"),
        };
        let outcome = transport
            .deliver(&key, b"x".to_vec(), Box::new(|| Ok(())))
            .await;
        assert!(
            matches!(outcome, Outcome::NotHandedOver { .. }),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_letter_whose_mark_cannot_be_written_is_not_put_in_the_outbox() {
        let data = tempfile::tempdir().expect("tempdir");
        let transport = FileTransport::new(data.path());
        let key = LetterKey {
            statement: StatementId::parse("2021-05-27-1a2b3c4d").expect("id"),
            organization: OrgId::new("un").expect("org id"),
        };
        let outcome = transport
            .deliver(
                &key,
                b"x".to_vec(),
                Box::new(|| Err(std::io::Error::other("disk full"))),
            )
            .await;
        assert!(
            matches!(&outcome, Outcome::NotHandedOver { reason } if reason.contains("disk full")),
            "{outcome:?}"
        );
        assert!(!transport.path_of(&key).exists());
    }
}
