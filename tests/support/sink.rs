//! Postfix's `smtp-sink` on a loopback port: an independent, real-world SMTP implementation to
//! deliver to, so that herald is tested against more than the project's own test server. Each
//! message it takes is dumped to its own file, which is how a test counts and reads them.
//!
//! Only the `smtp-sink` tool is used, never the Postfix daemon. A missing tool fails the test with
//! the fix (`scripts/test` installs it) rather than skipping: a skipped test proves nothing.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

/// A running `smtp-sink`, killed when dropped.
pub(crate) struct Sink {
    child: Child,
    port: u16,
    dump: tempfile::TempDir,
}

impl Sink {
    /// Starts `smtp-sink` with these extra options (e.g. `["-r", "RCPT"]` for soft rejects).
    pub(crate) fn start_with(options: &[&str]) -> Sink {
        let tool = find_tool();
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
        // smtp-sink cannot report a port it chose, so take a free one and hand it over; another
        // process grabbing it in between makes smtp-sink exit, which `wait_ready` reports.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut command = Command::new(tool);
        if is_root {
            command.args(["-u", "nobody"]);
        }
        // -d: one file per message; "%M." is the minute, smtp-sink appends a random suffix.
        let template = format!("{}/%M.", dump.path().display());
        command
            .args(options)
            .args(["-d", &template, &format!("127.0.0.1:{port}"), "100"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = command.spawn().expect("start smtp-sink");
        let mut sink = Sink { child, port, dump };
        sink.wait_ready();
        sink
    }

    pub(crate) fn start() -> Sink {
        Sink::start_with(&[])
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
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

    /// Waits until smtp-sink answers with its 220 greeting. smtp-sink cannot tell us when it is
    /// listening, so this retries the connection; each failed try waits a little longer.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut pause = Duration::from_millis(5);
        loop {
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let mut greeting = String::new();
                let _ = BufReader::new(&stream).read_line(&mut greeting);
                if greeting.starts_with("220") {
                    let _ = std::io::Write::write_all(&mut &stream, b"QUIT\r\n");
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                panic!(
                    "smtp-sink exited ({status}) on port {}: {stderr}",
                    self.port
                );
            }
            assert!(
                Instant::now() < deadline,
                "smtp-sink is not listening on {}",
                self.port
            );
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_tool() -> &'static str {
    assert!(
        Path::new(SMTP_SINK).is_file(),
        "{SMTP_SINK} is missing: this test delivers to Postfix's smtp-sink. Install it with \
         `apt-get install postfix` (or run `scripts/test`, which does)."
    );
    SMTP_SINK
}
