//! The command line as a person or a script meets it: a closed pipe, the confirmation prompt,
//! `herald cancel`, what `history` and `verify` say, and what reaches the terminal.

use crate::common::{assert_no_panic, SEED};
use crate::support::workspace::Workspace;

/// The seed dispatched through the default file transport.
fn dispatched_seed() -> Workspace {
    let ws = Workspace::new();
    ws.run(["dispatch", SEED, "--yes"]).assert_success();
    ws
}

/// Regression: `herald history --format json | head -3` and the readers under `| true` panicked
/// (exit 101, "failed printing to stdout: Broken pipe"); `resolve` exited 2. A closed standard
/// output now ends the run quietly with 141, as a shell reports a program SIGPIPE stopped.
#[test]
fn a_closed_stdout_ends_every_reader_quietly_with_141() {
    let ws = dispatched_seed();
    let commands: [&[&str]; 7] = [
        &["history"],
        &["history", "--format", "json"],
        &["history", "--format", "csv"],
        &["status"],
        &["verify"],
        &["check", SEED],
        &["resolve", SEED],
    ];
    for args in commands {
        let output = ws.herald(args.iter().copied()).closed_stdout().run();
        assert_no_panic(&output);
        assert_eq!(output.status, 141, "{args:?}: {output:?}");
        assert_eq!(output.stderr, "", "{args:?} is not quiet");
    }
    // The command's own failure still decides: an altered journal is exit 1, pipe or not.
    let db = rusqlite::Connection::open(ws.data_dir().join("herald.db")).expect("journal");
    db.execute_batch(
        "DROP TRIGGER events_no_update; UPDATE events SET detail = '{}' WHERE id = 1;",
    )
    .expect("alter the journal");
    drop(db);
    let output = ws.herald(["verify"]).closed_stdout().run();
    assert_no_panic(&output);
    output.assert_code(1);
}
