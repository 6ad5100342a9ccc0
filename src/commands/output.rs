//! What the commands print: every line for standard output or standard error goes through
//! [`write_out`] and [`write_err`] (the `outln!`, `out!` and `errln!` macros), never through
//! `println!`, which panics when a reader has gone away.
//!
//! A closed standard output (`herald history | head -3`, `herald status | true`) is not an error
//! of the command: as `grep` does, herald stops printing and ends quietly, and the command's work
//! (a dispatch in progress, say) is never cut short by it. The run then exits with status 141
//! (128 + SIGPIPE, what a shell reports for a program a closed pipe stopped), unless the command
//! itself failed, whose status wins: `verify | true` on an altered journal still exits 1.
//!
//! Text from the files herald reads (names, titles, file names, server replies) can hold control
//! characters: a newline in a name would fake a line of `status`, ESC and BEL would drive the
//! terminal. [`shown`] escapes every control character of one value (`\n` included); the writers
//! escape those other than line breaks and tabs in whatever else they print.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The exit status of a run whose standard output was closed before it ended.
pub(crate) const CLOSED_STDOUT_STATUS: u8 = 141;

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// A write to standard output that failed for another reason than a closed reader (a full disk
/// under `> file`): reported once at the end.
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Prints to standard output; see the module header.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::output::write_out(format_args!($($arg)*))
    };
}

/// Prints a line to standard output; see the module header.
macro_rules! outln {
    () => {
        $crate::commands::output::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::commands::output::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints a line to standard error (lost, not a panic, if nobody reads it).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::commands::output::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};

/// Writes to standard output, escaping stray control characters; once the reader has gone,
/// writes nothing more.
pub(crate) fn write_out(args: fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let raw = args.to_string();
    let text = escape_terminal(&raw);
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            if let Ok(mut slot) = STDOUT_ERROR.lock() {
                slot.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// Writes to standard error, escaping stray control characters; a failure is ignored (there is
/// nowhere left to report it).
pub(crate) fn write_err(args: fmt::Arguments<'_>) {
    let raw = args.to_string();
    let text = escape_terminal(&raw);
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
}

/// How the run ends as far as standard output goes: `Ok` if everything printed was written,
/// `Err(None)` if the reader went away, `Err(Some(message))` if a write failed otherwise.
pub(crate) fn stdout_outcome() -> Result<(), Option<String>> {
    if !STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    Err(STDOUT_ERROR.lock().ok().and_then(|slot| slot.clone()))
}

/// `n` and the noun in its number: "1 letter", "3 letters".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One value as printed: every control character (line breaks and tabs too) written as a Rust
/// escape (`\n`, `\u{1b}`), so that it stays one value on one line and cannot drive the
/// terminal.
pub(crate) fn shown(value: &str) -> Cow<'_, str> {
    escape(value, |_| true)
}

/// Control characters other than line breaks and tabs, escaped; a carriage return too unless a
/// line feed follows it (alone it would let the rest of a line overwrite its start).
fn escape_terminal(text: &str) -> Cow<'_, str> {
    let lone_cr = text
        .match_indices('\r')
        .any(|(i, _)| !text[i + 1..].starts_with('\n'));
    if lone_cr {
        let mut out = String::with_capacity(text.len() + 8);
        let mut parts = text.split("\r\n").peekable();
        while let Some(part) = parts.next() {
            out.push_str(&escape(part, |c| !matches!(c, '\n' | '\t')));
            if parts.peek().is_some() {
                out.push_str("\r\n");
            }
        }
        return Cow::Owned(out);
    }
    escape(text, |c| !matches!(c, '\n' | '\r' | '\t'))
}

fn escape(text: &str, escaped: impl Fn(char) -> bool) -> Cow<'_, str> {
    let needs = |c: char| c.is_control() && escaped(c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs(c) {
            // Writing into a String cannot fail.
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let cases = [
            ("plain «text» ü", "plain «text» ü", "plain «text» ü"),
            ("a\nb", "a\\nb", "a\nb"),
            ("a\r\nb\tc", "a\\r\\nb\\tc", "a\r\nb\tc"),
            ("over\rwrite\r\n", "over\\rwrite\\r\\n", "over\\rwrite\r\n"),
            (
                "bell\u{7}esc\u{1b}[31m",
                "bell\\u{7}esc\\u{1b}[31m",
                "bell\\u{7}esc\\u{1b}[31m",
            ),
            (
                "c1\u{9b}2J del\u{7f}",
                "c1\\u{9b}2J del\\u{7f}",
                "c1\\u{9b}2J del\\u{7f}",
            ),
        ];
        for (input, value, terminal) in cases {
            assert_eq!(shown(input), value, "{input:?}");
            assert_eq!(escape_terminal(input), terminal, "{input:?}");
        }
    }
}
