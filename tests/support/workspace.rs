//! A throw-away herald workspace for integration tests: a temporary folder holding a copy of the
//! repository's config/, recipients/, templates/ and seeds/ (or custom ones), a way to rewrite
//! the configuration, and a runner for the real `herald` binary with a clean environment and a
//! hard timeout, so that a hanging herald fails its test instead of hanging the suite.

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rustix::process::{Pid, Signal};

/// How long a herald run may take before the test kills it and fails.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The folders copied from the repository by `Workspace::new`.
const SHIPPED: [&str; 4] = ["config", "recipients", "templates", "seeds"];

pub(crate) struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// A workspace holding a copy of the repository's shipped folders (those that exist).
    pub(crate) fn new() -> Workspace {
        let ws = Workspace::empty();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in SHIPPED {
            let from = repo.join(name);
            if from.is_dir() {
                copy_dir(&from, &ws.path().join(name));
            }
        }
        ws
    }

    /// An empty workspace: the test writes every file it needs.
    pub(crate) fn empty() -> Workspace {
        let dir = tempfile::Builder::new()
            .prefix("herald-test-")
            .tempdir()
            .expect("temp dir");
        Workspace { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.path().join("config/herald.toml")
    }

    /// The data folder of the shipped config (`paths.data = "../var"`).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.path().join("var")
    }

    /// Writes `contents` to `relative` (creating folders) and returns the full path.
    pub(crate) fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent folder");
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    pub(crate) fn read(&self, relative: &str) -> String {
        let path = self.path().join(relative);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Adds (or replaces) `recipients/<name>`.
    pub(crate) fn recipients(&self, name: &str, toml: &str) -> PathBuf {
        self.write(&format!("recipients/{name}"), toml)
    }

    /// Writes a statement under `statements/<name>` and returns its path.
    pub(crate) fn statement(&self, name: &str, text: &str) -> PathBuf {
        self.write(&format!("statements/{name}"), text)
    }

    /// The config as a TOML table (empty if there is none yet).
    pub(crate) fn config(&self) -> toml::Table {
        match fs::read_to_string(self.config_path()) {
            Ok(text) => text.parse().expect("the workspace config is valid TOML"),
            Err(_) => toml::Table::new(),
        }
    }

    /// Replaces the config file with this table (comments of the shipped file are lost).
    pub(crate) fn set_config(&self, table: &toml::Table) -> &Workspace {
        self.write("config/herald.toml", table.to_string());
        self
    }

    /// Sets `[section] key = value` in the config, creating the section if needed.
    pub(crate) fn set(
        &self,
        section: &str,
        key: &str,
        value: impl Into<toml::Value>,
    ) -> &Workspace {
        let mut config = self.config();
        let entry = config
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(table) = entry else {
            panic!("`{section}` in the workspace config is not a table");
        };
        table.insert(key.to_owned(), value.into());
        self.set_config(&config)
    }

    /// Removes `[section] key` from the config.
    pub(crate) fn unset(&self, section: &str, key: &str) -> &Workspace {
        let mut config = self.config();
        if let Some(toml::Value::Table(table)) = config.get_mut(section) {
            table.remove(key);
        }
        self.set_config(&config)
    }

    /// Points the transport at a plain-text SMTP server on 127.0.0.1:`port` without
    /// authentication (use `.set("smtp", "username", …)` to add it back).
    pub(crate) fn smtp(&self, port: u16) -> &Workspace {
        self.set("transport", "kind", "smtp")
            .set("smtp", "host", "127.0.0.1")
            .set("smtp", "port", i64::from(port))
            .set("smtp", "security", "none")
            .set("smtp", "timeout_secs", 10)
            .unset("smtp", "username")
    }

    /// A command running herald in this workspace with `--config <ws>/config/herald.toml`.
    pub(crate) fn herald<I, S>(&self, args: I) -> Herald
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Herald {
            program: PathBuf::from(env!("CARGO_BIN_EXE_herald")),
            root: self.path().to_owned(),
            config: Some(self.config_path()),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
            closed_stdout: false,
            terminal: false,
        }
    }

    /// Runs herald with these arguments and the default settings.
    pub(crate) fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.herald(args).run()
    }

    /// Opens the journal `<data>/herald.db` read-only.
    pub(crate) fn journal(&self) -> rusqlite::Connection {
        let path = self.data_dir().join("herald.db");
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("open the journal {}: {e}", path.display()))
    }
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace::new()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create folder");
    for entry in fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A herald invocation being set up.
pub(crate) struct Herald {
    program: PathBuf,
    root: PathBuf,
    /// The `--config` passed, if any.
    config: Option<PathBuf>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    closed_stdout: bool,
    terminal: bool,
}

impl Herald {
    /// Runs herald with its standard input and standard error on a terminal (a pseudo-terminal
    /// the test holds): the input given with `stdin` is typed there, and `Output::stderr` is
    /// what the terminal showed (the typed input echoed too). Standard output stays a pipe.
    pub(crate) fn terminal(mut self) -> Herald {
        self.terminal = true;
        self
    }

    /// Gives herald a standard output whose reader has already gone (as `herald … | head`
    /// once `head` has exited): every write fails with a broken pipe.
    pub(crate) fn closed_stdout(mut self) -> Herald {
        self.closed_stdout = true;
        self
    }

    pub(crate) fn arg(mut self, arg: impl Into<OsString>) -> Herald {
        self.args.push(arg.into());
        self
    }

    pub(crate) fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Herald {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Feeds this to herald's standard input (otherwise it reads an empty one).
    pub(crate) fn stdin(mut self, input: impl Into<Vec<u8>>) -> Herald {
        self.stdin = Some(input.into());
        self
    }

    /// Runs this program in place of herald (with the same arguments): for the runner's own
    /// tests, which need processes that hang, trap signals or exit with chosen codes.
    pub(crate) fn program(mut self, program: impl Into<PathBuf>) -> Herald {
        self.program = program.into();
        self
    }

    /// Passes this `--config` instead of the workspace's absolute one (a relative path is taken
    /// from the workspace folder, where herald runs).
    pub(crate) fn config(mut self, path: impl Into<PathBuf>) -> Herald {
        self.config = Some(path.into());
        self
    }

    /// Passes no `--config`: herald finds its configuration as a user's shell would have it.
    pub(crate) fn without_config(mut self) -> Herald {
        self.config = None;
        self
    }

    pub(crate) fn timeout(mut self, timeout: Duration) -> Herald {
        self.timeout = timeout;
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        command.args(&self.args).current_dir(&self.root);
        // The test decides every HERALD_* variable herald sees, and its log format.
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("HERALD_") || name == "RUST_LOG" || name == "NO_COLOR" {
                command.env_remove(&key);
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.closed_stdout {
            let (reader, writer) = std::io::pipe().expect("a pipe");
            drop(reader);
            command.stdout(writer);
        }
        command
    }

    /// Runs herald to the end; panics if it runs past the timeout (it is killed first).
    pub(crate) fn run(self) -> Output {
        let description = format!("herald {:?}", self.args);
        let mut process = self.spawn_inner();
        if process.wait_timeout(self.timeout).is_none() {
            process.kill();
            let output = process.finish();
            panic!(
                "{description} still running after {:?}; killed it\n--- stdout\n{}\n--- stderr\n{}",
                self.timeout, output.stdout, output.stderr
            );
        }
        process.finish()
    }

    /// Starts herald and returns at once (for the daemon); its output is collected in the
    /// background and returned by `Process::wait_timeout`/`finish`.
    pub(crate) fn spawn(self) -> Process {
        self.spawn_inner()
    }

    fn spawn_inner(&self) -> Process {
        let mut command = self.command();
        let input = self.stdin.clone().unwrap_or_default();
        let mut terminal = None;
        if self.terminal {
            let (master, slave) = pseudo_terminal();
            command
                .stdin(slave.try_clone().expect("the terminal"))
                .stderr(slave);
            terminal = Some(master);
        }
        let mut child = command.spawn().expect("start the herald binary");
        let stderr = match (terminal, child.stdin.take(), child.stderr.take()) {
            (Some(master), _, _) => {
                // Typed ahead: the terminal keeps the lines until herald reads them.
                let mut typing = master.try_clone().expect("the terminal");
                typing.write_all(&input).expect("type on the terminal");
                // Once herald has exited, reading the terminal fails (EIO): the end of it.
                reader(master)
            }
            (None, Some(mut stdin), Some(stderr)) => {
                // A thread, so that a large input cannot deadlock against herald's output.
                thread::spawn(move || {
                    let _ = stdin.write_all(&input);
                });
                reader(stderr)
            }
            _ => panic!("herald's stdin and stderr are not set up"),
        };
        let stdout = match child.stdout.take() {
            Some(pipe) => reader(pipe),
            None => thread::spawn(String::new),
        };
        let pid = child.id();
        let (done, status) = mpsc::channel();
        thread::spawn(move || {
            let _ = done.send(wait(child));
        });
        Process {
            pid,
            status,
            exit: None,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }
}

/// A pseudo-terminal: the test's end (master) and herald's (slave).
fn pseudo_terminal() -> (fs::File, fs::File) {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
        .expect("open a pseudo-terminal");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let path = std::ffi::OsStr::from_bytes(name.as_bytes()).to_owned();
    let slave = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open the terminal's other end");
    (fs::File::from(master), slave)
}

fn wait(mut child: Child) -> std::io::Result<ExitStatus> {
    child.wait()
}

fn reader(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The exit code, or 128 + the signal number for a process killed by a signal (as shells do).
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

/// A running herald; killed when dropped if still running.
pub(crate) struct Process {
    pid: u32,
    status: mpsc::Receiver<std::io::Result<ExitStatus>>,
    exit: Option<ExitStatus>,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Process {
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends a signal (`Signal::TERM`, `Signal::INT`, …) if the process is still running.
    pub(crate) fn signal(&mut self, signal: Signal) {
        if self.exit.is_some() {
            return;
        }
        let pid = i32::try_from(self.pid)
            .ok()
            .and_then(Pid::from_raw)
            .expect("a valid pid");
        // ESRCH: it ended in the meantime; the waiter thread has, or will have, its status.
        let _ = rustix::process::kill_process(pid, signal);
    }

    pub(crate) fn terminate(&mut self) {
        self.signal(Signal::TERM);
    }

    pub(crate) fn kill(&mut self) {
        self.signal(Signal::KILL);
    }

    /// Waits for the process to end; `None` if it is still running after `timeout`.
    pub(crate) fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.exit.is_none() {
            match self.status.recv_timeout(timeout) {
                Ok(Ok(status)) => self.exit = Some(status),
                Ok(Err(e)) => panic!("waiting for herald: {e}"),
                Err(_) => return None,
            }
        }
        self.exit
    }

    /// Waits until it has ended (at most `DEFAULT_TIMEOUT`, then kills it and fails) and
    /// returns what it printed.
    pub(crate) fn wait(mut self) -> Output {
        if self.wait_timeout(DEFAULT_TIMEOUT).is_none() {
            self.kill();
            let output = self.finish();
            panic!(
                "herald still running after {DEFAULT_TIMEOUT:?}; killed it\n--- stdout\n{}\n--- \
                 stderr\n{}",
                output.stdout, output.stderr
            );
        }
        self.finish()
    }

    /// Collects the output once the process has ended or been killed.
    fn finish(&mut self) -> Output {
        if self.exit.is_none() {
            // Killed: the pipes close when it dies, so this wait ends promptly.
            let _ = self.wait_timeout(DEFAULT_TIMEOUT);
        }
        let stdout = self
            .stdout
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Output {
            status: self.exit.map_or(-1, exit_code),
            stdout,
            stderr,
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.exit.is_none() {
            self.kill();
            let _ = self.wait_timeout(Duration::from_secs(10));
        }
    }
}

/// What a finished herald run printed and how it ended.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    /// Exit code; 128 + N if killed by signal N.
    pub(crate) status: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    #[track_caller]
    pub(crate) fn assert_success(&self) -> &Output {
        self.assert_code(0)
    }

    #[track_caller]
    pub(crate) fn assert_code(&self, code: i32) -> &Output {
        assert_eq!(
            self.status, code,
            "herald exited {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        );
        self
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}
