//! Watching the inbox for the events that can bring a statement into it, so that a file renamed
//! in is taken at once; where the platform refuses a watcher the daemon polls only.

use std::path::{Path, PathBuf};

use notify::Watcher;
use tokio::sync::mpsc;

pub(super) type Events = mpsc::UnboundedReceiver<notify::Result<notify::Event>>;

/// Starts a file watcher on the inbox; `None` (polling only) when the platform refuses one.
pub(super) fn watch_inbox(dir: &Path) -> Option<(notify::RecommendedWatcher, Events)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let watcher = notify::recommended_watcher(move |event| {
        // The daemon stopped listening: nothing left to tell.
        let _ = tx.send(event);
    })
    .and_then(|mut w| {
        w.watch(dir, notify::RecursiveMode::NonRecursive)?;
        Ok(w)
    });
    match watcher {
        Ok(w) => Some((w, rx)),
        Err(e) => {
            tracing::warn!(
                error = %e,
                inbox = %dir.display(),
                "cannot watch the inbox for changes; polling it only"
            );
            None
        }
    }
}

/// The file an event says was renamed into the inbox, if any.
pub(super) fn renamed_into(event: &notify::Event) -> Option<&Path> {
    use notify::event::{ModifyKind, RenameMode};
    match event.kind {
        notify::EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
            event.paths.first().map(PathBuf::as_path)
        }
        notify::EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            event.paths.get(1).map(PathBuf::as_path)
        }
        _ => None,
    }
}

/// Whether an event can bring a statement into the inbox or complete one: a file created,
/// written, closed after writing, renamed or removed. Opening, reading, closing without writing
/// (as every scan of the folder does) and metadata changes cannot.
pub(super) fn can_bring_statement(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) | notify::EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RenameMode};
    use notify::{Event, EventKind};

    #[test]
    fn only_renames_into_the_folder_make_a_file_complete_at_once() {
        let dir = PathBuf::from("/data/inbox");
        let from = dir.join(".s.txt.tmp");
        let to = dir.join("s.txt");
        let rows: [(EventKind, Vec<PathBuf>, Option<&Path>); 4] = [
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                vec![to.clone()],
                Some(&to),
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                vec![from.clone(), to.clone()],
                Some(&to),
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::From)),
                vec![from.clone()],
                None,
            ),
            (EventKind::Create(CreateKind::File), vec![to.clone()], None),
        ];
        for (kind, paths, expected) in rows {
            let mut event = Event::new(kind);
            event.paths = paths;
            assert_eq!(renamed_into(&event), expected, "{kind:?}");
        }
    }
}
