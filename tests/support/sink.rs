//! Postfix's `smtp-sink` on a loopback port: an independent, real-world SMTP implementation to
//! deliver to, so that herald is tested against more than the project's own test server. Each
//! message it takes is dumped to its own file, which is how a test counts and reads them; its
//! running counters (`-c`: sessions ended, QUITs, messages) tell how many connections were used.
//!
//! Only the `smtp-sink` tool is used, never the Postfix daemon. A missing tool fails the test with
//! the fix (`scripts/test` installs it) rather than skipping: a skipped test proves nothing.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use super::port::ReservedPort;

const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

/// How often a start is tried again when smtp-sink found its port taken after all.
const STARTS: usize = 5;

/// smtp-sink's running counters (`-c`) at one moment, not counting the readiness check's
/// connection: sessions ended so far, QUIT commands, messages taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub(crate) sessions: usize,
    pub(crate) quits: usize,
    pub(crate) messages: usize,
}

/// What smtp-sink printed: every counter line on stdout, and its stderr.
#[derive(Default)]
struct Output {
    counters: Vec<Counters>,
    stderr: String,
    stderr_closed: bool,
}

type Shared = Arc<(Mutex<Output>, Condvar)>;

/// A running `smtp-sink`, killed when dropped.
pub(crate) struct Sink {
    child: Child,
    /// Held for the sink's life, so that its port is nobody else's even after it is gone.
    port: ReservedPort,
    dump: tempfile::TempDir,
    output: Shared,
    /// The counters once the readiness check's connection ended; subtracted from every reading.
    baseline: Counters,
}

/// A start that did not give a listening smtp-sink: how it exited, and what it said.
struct Exited(ExitStatus, String);

impl Sink {
    /// Starts `smtp-sink` with these extra options (e.g. `["-r", "RCPT"]` for soft rejects).
    pub(crate) fn start_with(options: &[&str]) -> Sink {
        let tool = find_tool();
        let mut tries = Vec::new();
        for _ in 0..STARTS {
            match Sink::try_start(tool, options) {
                Ok(sink) => return sink,
                // Only a port taken in spite of the reservation is worth another try.
                Err(Exited(status, stderr)) if stderr.contains("in use") => {
                    tries.push(format!("{status}: {stderr}"));
                }
                Err(Exited(status, stderr)) => {
                    panic!("smtp-sink exited ({status}): {stderr}")
                }
            }
        }
        panic!("smtp-sink found its port taken {STARTS} times: {tries:?}");
    }

    pub(crate) fn start() -> Sink {
        Sink::start_with(&[])
    }

    fn try_start(tool: &str, options: &[&str]) -> Result<Sink, Exited> {
        let dump = tempfile::Builder::new()
            .prefix("herald-sink-")
            .tempdir()
            .expect("temp dir");
        let is_root = rustix::process::getuid().is_root();
        if is_root {
            // smtp-sink drops to `nobody`, who must be able to write the dump files.
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dump.path(), fs::Permissions::from_mode(0o777))
                .expect("open the dump folder to nobody");
        }
        // smtp-sink binds its port itself and cannot report one it chose; the port stays
        // reserved for it (and for no one else) while it starts.
        let port = ReservedPort::new();
        let mut command = Command::new(tool);
        if is_root {
            // As root smtp-sink insists on dropping privileges.
            command.args(["-u", "nobody"]);
        }
        // -c: counters on stdout; -d: one file per message, "%M." is the minute, smtp-sink
        // appends a random suffix.
        let template = format!("{}/%M.", dump.path().display());
        command
            .args(options)
            .args(["-c", "-d", &template])
            .arg(format!("127.0.0.1:{}", port.port()))
            .arg("100")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start smtp-sink");
        let output: Shared = Arc::default();
        read_counters(child.stdout.take().expect("stdout"), Arc::clone(&output));
        read_stderr(child.stderr.take().expect("stderr"), Arc::clone(&output));
        let mut sink = Sink {
            child,
            port,
            dump,
            output,
            baseline: Counters::default(),
        };
        sink.wait_ready()?;
        Ok(sink)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port.port()
    }

    pub(crate) fn dump_dir(&self) -> &Path {
        self.dump.path()
    }

    /// The dump files, one per message taken, oldest name first. Each holds smtp-sink's
    /// `X-Client-…`, `X-Mail-Args`, `X-Rcpt-Args` lines followed by the message.
    pub(crate) fn message_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(self.dump.path())
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.is_file());
        files.sort();
        files
    }

    pub(crate) fn messages(&self) -> Vec<String> {
        self.message_files()
            .iter()
            .map(|p| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned())
            .collect()
    }

    pub(crate) fn count(&self) -> usize {
        self.message_files().len()
    }

    /// Blocks until `n` messages were dumped, woken by file events; panics on timeout.
    pub(crate) fn wait_for(&self, n: usize, timeout: Duration) -> Vec<String> {
        let (events, changed) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |_| {
            let _ = events.send(());
        })
        .expect("watch the dump folder");
        watcher
            .watch(self.dump.path(), RecursiveMode::NonRecursive)
            .expect("watch the dump");
        let deadline = Instant::now() + timeout;
        // Counting after the watch is set up means no file can slip in unnoticed.
        while self.count() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if changed.recv_timeout(left).is_err() {
                panic!(
                    "smtp-sink got {} of {n} messages within {timeout:?}",
                    self.count()
                );
            }
        }
        self.messages()
    }

    /// Every reading of the counters so far, oldest first: smtp-sink prints one when a session
    /// ends, on QUIT and on each message's final `.`.
    pub(crate) fn counters(&self) -> Vec<Counters> {
        let output = lock(&self.output.0);
        output
            .counters
            .iter()
            .filter(|c| c.sessions >= self.baseline.sessions)
            .map(|c| Counters {
                sessions: c.sessions - self.baseline.sessions,
                quits: c.quits.saturating_sub(self.baseline.quits),
                messages: c.messages.saturating_sub(self.baseline.messages),
            })
            .collect()
    }

    /// Blocks until `n` sessions (connections) have ended; panics on timeout.
    pub(crate) fn wait_for_sessions(&self, n: usize, timeout: Duration) -> Counters {
        let wanted = self.baseline.sessions + n;
        self.wait_counters(timeout, |c| c.sessions >= wanted)
            .unwrap_or_else(|| {
                panic!(
                    "{n} sessions did not end within {timeout:?}: {:?}",
                    self.counters()
                )
            });
        self.counters().last().copied().unwrap_or_default()
    }

    /// Waits until a reading satisfies `done`; the reading, or `None` on timeout.
    fn wait_counters(
        &self,
        timeout: Duration,
        done: impl Fn(&Counters) -> bool,
    ) -> Option<Counters> {
        let (output, changed) = &*self.output;
        let (output, _) = changed
            .wait_timeout_while(lock(output), timeout, |o| {
                !o.counters.last().is_some_and(&done)
            })
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        output.counters.last().copied().filter(|c| done(c))
    }

    /// Waits until smtp-sink answers with its 220 greeting, then until it counted that check's
    /// session as ended, so that the counters start from a known reading. smtp-sink cannot tell
    /// us when it is listening, so this retries the connection (refused by the reserving socket
    /// until then); each failed try waits a little longer.
    fn wait_ready(&mut self) -> Result<(), Exited> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut pause = Duration::from_millis(5);
        loop {
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port())) {
                let mut reader = BufReader::new(&stream);
                let mut greeting = String::new();
                let _ = reader.read_line(&mut greeting);
                if greeting.starts_with("220") {
                    let _ = (&stream).write_all(b"QUIT\r\n");
                    let mut bye = String::new();
                    let _ = reader.read_line(&mut bye);
                    drop(reader);
                    drop(stream);
                    let left = deadline.saturating_duration_since(Instant::now());
                    self.baseline = self
                        .wait_counters(left, |c| c.sessions >= 1)
                        .unwrap_or_else(|| panic!("smtp-sink did not count its first session"));
                    return Ok(());
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let stderr = self.stderr_after_exit();
                return Err(Exited(status, stderr));
            }
            assert!(
                Instant::now() < deadline,
                "smtp-sink is not listening on {}",
                self.port()
            );
            thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    fn stderr_after_exit(&self) -> String {
        let (output, changed) = &*self.output;
        let (output, _) = changed
            .wait_timeout_while(lock(output), Duration::from_secs(5), |o| !o.stderr_closed)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        output.stderr.clone()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Parses `sess=1 quit=1 mesg=3` readings, which smtp-sink ends with `\r`, as they come.
fn read_counters(stdout: impl Read + Send + 'static, output: Shared) {
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut reading = Vec::new();
        while reader.read_until(b'\r', &mut reading).unwrap_or(0) > 0 {
            let text = String::from_utf8_lossy(&reading);
            let value = |key: &str| {
                text.split_whitespace()
                    .find_map(|field| field.strip_prefix(key)?.parse::<usize>().ok())
            };
            if let (Some(sessions), Some(quits), Some(messages)) =
                (value("sess="), value("quit="), value("mesg="))
            {
                let (out, changed) = &*output;
                lock(out).counters.push(Counters {
                    sessions,
                    quits,
                    messages,
                });
                changed.notify_all();
            }
            reading.clear();
        }
    });
}

/// Keeps smtp-sink's stderr, so that a full pipe never blocks it and an early exit can say why.
fn read_stderr(stderr: impl Read + Send + 'static, output: Shared) {
    thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        let (out, changed) = &*output;
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            lock(out).stderr.push_str(&line);
            line.clear();
        }
        lock(out).stderr_closed = true;
        changed.notify_all();
    });
}

fn find_tool() -> &'static str {
    assert!(
        Path::new(SMTP_SINK).is_file(),
        "{SMTP_SINK} is missing: this test delivers to Postfix's smtp-sink. Install it with \
         `apt-get install postfix` (or run `scripts/test`, which does)."
    );
    SMTP_SINK
}
