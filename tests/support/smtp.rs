//! A scriptable SMTP server on loopback, so integration tests can watch what herald really sends
//! and make the server misbehave on cue: reject a recipient, answer 4xx for the first N attempts,
//! break the connection in the middle of the data or after its end, stall, or answer slowly.
//!
//! It speaks SMTP over real TCP with one thread per connection and has a blocking API, so an
//! ordinary `#[test]` can start it, run the herald binary against `.port()`, and then wait on a
//! condition variable for the messages to arrive. Counters for "the Nth time" are shared by all
//! connections, which is what retry tests need: the client reconnects between attempts.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One SMTP reply; more than one line makes a multi-line reply (`451-…` then `451 …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) code: u16,
    pub(crate) lines: Vec<String>,
}

impl Reply {
    pub(crate) fn new(code: u16, text: &str) -> Reply {
        Reply {
            code,
            lines: vec![text.to_owned()],
        }
    }

    pub(crate) fn multiline(code: u16, lines: &[&str]) -> Reply {
        assert!(!lines.is_empty(), "a reply needs at least one line");
        Reply {
            code,
            lines: lines.iter().map(|l| (*l).to_owned()).collect(),
        }
    }

    /// A transient reply whose text tells the client when to come back, as some servers do.
    pub(crate) fn retry_in(code: u16, seconds: u64) -> Reply {
        Reply::new(code, &format!("4.7.1 Try again in {seconds} seconds"))
    }

    fn wire(&self) -> String {
        let last = self.lines.len() - 1;
        self.lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let sep = if i == last { ' ' } else { '-' };
                format!("{}{sep}{line}\r\n", self.code)
            })
            .collect()
    }

    fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

/// What the server does instead of its normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer with this reply (any code, one or more lines).
    Reply(Reply),
    /// Close the connection without answering, with a TCP reset (SO_LINGER 0).
    DropWithoutReply,
    /// At DATA: answer 354, read lines of the message until this many bytes (or its end) came,
    /// then reset the connection: nothing is recorded.
    /// At any other stage it behaves like `DropWithoutReply`.
    DropAfterDataBytes(usize),
    /// Never answer; keep the connection open until the server is dropped.
    Stall,
    /// Answer as normal, but only once this many transactions (this one included) are in
    /// progress at the same time, or the server is dropped: shows that clients overlap without
    /// hoping that they happen to.
    HoldUntilTransactions(usize),
}

impl From<Reply> for Fault {
    fn from(reply: Reply) -> Fault {
        Fault::Reply(reply)
    }
}

/// The point of the conversation a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Stage {
    /// The 220 greeting when a client connects.
    Greeting,
    /// EHLO or HELO.
    Ehlo,
    /// The final answer to AUTH, after the credentials were read and recorded.
    Auth,
    Mail,
    Rcpt,
    /// The answer to the DATA command (normally 354).
    Data,
    /// The answer after the final `.` (normally 250): whether the message was taken.
    DataEnd,
    Rset,
    Noop,
    Quit,
}

/// Which occurrences of a rule's event (counted over all connections, from 1) the fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Times {
    Always,
    /// Only the Nth occurrence.
    Nth(usize),
    /// The first N occurrences, then the normal answer: "fail N attempts, then succeed".
    First(usize),
}

#[derive(Debug, Clone)]
struct Rule {
    stage: Stage,
    /// At RCPT: the address given; at DATA and end of data: one of the accepted recipients.
    recipient: Option<String>,
    times: Times,
    fault: Fault,
    seen: usize,
}

/// How the server behaves: a builder of fault rules plus settings. The first rule that fires for
/// an event decides the answer; every matching rule counts the event either way.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    rules: Vec<Rule>,
    delay: Duration,
    end_delay: Duration,
    auth: Option<(String, String)>,
    max_size: usize,
    pipelining: bool,
}

impl Default for Script {
    fn default() -> Script {
        Script::new()
    }
}

impl Script {
    /// A well-behaved server: accepts every message, no authentication, 10 MiB size limit, offers
    /// PIPELINING (as Postfix and most relays do).
    pub(crate) fn new() -> Script {
        Script {
            rules: Vec::new(),
            delay: Duration::ZERO,
            end_delay: Duration::ZERO,
            auth: None,
            max_size: 10 * 1024 * 1024,
            pipelining: true,
        }
    }

    /// Leaves PIPELINING out of the EHLO reply: a client must then wait for each reply.
    pub(crate) fn without_pipelining(mut self) -> Script {
        self.pipelining = false;
        self
    }

    /// The general form; the other `on_*` methods are shorthands for it.
    pub(crate) fn rule(
        mut self,
        stage: Stage,
        recipient: Option<&str>,
        times: Times,
        fault: impl Into<Fault>,
    ) -> Script {
        let recipient = recipient.map(str::to_ascii_lowercase);
        self.rules.push(Rule {
            stage,
            recipient,
            times,
            fault: fault.into(),
            seen: 0,
        });
        self
    }

    pub(crate) fn on(self, stage: Stage, fault: impl Into<Fault>) -> Script {
        self.rule(stage, None, Times::Always, fault)
    }

    pub(crate) fn on_nth(self, stage: Stage, n: usize, fault: impl Into<Fault>) -> Script {
        self.rule(stage, None, Times::Nth(n), fault)
    }

    pub(crate) fn on_first(self, stage: Stage, n: usize, fault: impl Into<Fault>) -> Script {
        self.rule(stage, None, Times::First(n), fault)
    }

    /// Every RCPT for this address (case-insensitive) gets the fault; other recipients pass.
    pub(crate) fn on_rcpt(self, address: &str, fault: impl Into<Fault>) -> Script {
        self.rule(Stage::Rcpt, Some(address), Times::Always, fault)
    }

    /// The first `n` RCPTs for this address get the fault, later ones are accepted.
    pub(crate) fn on_rcpt_first(self, address: &str, n: usize, fault: impl Into<Fault>) -> Script {
        self.rule(Stage::Rcpt, Some(address), Times::First(n), fault)
    }

    pub(crate) fn on_data_end_nth(self, n: usize, fault: impl Into<Fault>) -> Script {
        self.rule(Stage::DataEnd, None, Times::Nth(n), fault)
    }

    pub(crate) fn on_data_end_first(self, n: usize, fault: impl Into<Fault>) -> Script {
        self.rule(Stage::DataEnd, None, Times::First(n), fault)
    }

    /// End of data of messages that have `address` among their accepted recipients: lets one
    /// letter fail while the others (sent concurrently, in any order) go through.
    pub(crate) fn on_data_end_for(
        self,
        address: &str,
        times: Times,
        fault: impl Into<Fault>,
    ) -> Script {
        self.rule(Stage::DataEnd, Some(address), times, fault)
    }

    /// Wait this long before every reply (a slow server).
    pub(crate) fn delay(mut self, delay: Duration) -> Script {
        self.delay = delay;
        self
    }

    /// Wait this long (more) before answering each end of data: a server slow to take a message,
    /// so that a client spends that long with its final `.` unanswered.
    pub(crate) fn delay_after_end(mut self, delay: Duration) -> Script {
        self.end_delay = delay;
        self
    }

    /// Advertise AUTH PLAIN LOGIN, accept only these credentials, and refuse MAIL before AUTH.
    pub(crate) fn auth(mut self, username: &str, password: &str) -> Script {
        self.auth = Some((username.to_owned(), password.to_owned()));
        self
    }

    /// The SIZE advertised and enforced (552 for larger messages).
    pub(crate) fn max_size(mut self, bytes: usize) -> Script {
        self.max_size = bytes;
        self
    }
}

/// A message the server took (its end of data was answered 2xx), or saw in full before it broke
/// the connection on purpose (`SmtpServer::dropped_after_data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    pub(crate) mail_from: String,
    pub(crate) rcpt_to: Vec<String>,
    /// The message as sent, CRLF line endings, dot-unstuffed, without the final `.` line.
    pub(crate) data: Vec<u8>,
    pub(crate) arrived_at: Instant,
    /// Which connection (1 for the first accepted) carried it.
    pub(crate) connection: usize,
}

impl Received {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// A reply the server wrote, for timing assertions (how long after a refusal the retry came).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SentReply {
    pub(crate) connection: usize,
    pub(crate) code: u16,
    pub(crate) text: String,
    pub(crate) at: Instant,
}

/// Credentials a client gave in AUTH, whether or not they were accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    /// `PLAIN` or `LOGIN`.
    pub(crate) mechanism: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) accepted: bool,
    pub(crate) connection: usize,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    received: Vec<Received>,
    dropped: Vec<Received>,
    credentials: Vec<Credentials>,
    commands: Vec<(usize, String)>,
    /// Commands that arrived while the command before them was still unanswered (they were
    /// already read, in the same read, when that command was taken): pipelined commands.
    pipelined: Vec<(usize, String)>,
    /// Every reply written: connection, code, when it went out.
    replies: Vec<SentReply>,
    /// The recipients of each message whose data began (DATA answered 354), in order.
    data_started: Vec<Vec<String>>,
    /// The recipients of each message whose final `.` was read, whatever the answer, in order.
    data_ended: Vec<Vec<String>>,
    connections: usize,
    /// Connections open right now, and the most ever open at once.
    open_now: usize,
    max_open: usize,
    /// Transactions (MAIL accepted … end of data answered, reset or connection gone) in progress
    /// right now, and the most ever in progress at once.
    in_transaction: usize,
    max_in_transaction: usize,
    /// A clone of every open connection, so that shutting down can unblock their threads.
    open: HashMap<usize, TcpStream>,
    shutting_down: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    delay: Duration,
    end_delay: Duration,
    auth: Option<(String, String)>,
    max_size: usize,
    pipelining: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A connection thread that panicked leaves the data intact; keep serving the test.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    fn fault_for(&self, stage: Stage, recipients: &[String]) -> Option<Fault> {
        let mut state = self.lock();
        let mut chosen = None;
        for rule in state.rules.iter_mut().filter(|r| r.stage == stage) {
            let matches = match &rule.recipient {
                None => true,
                Some(want) => recipients.iter().any(|r| r.eq_ignore_ascii_case(want)),
            };
            if !matches {
                continue;
            }
            rule.seen += 1;
            let fires = match rule.times {
                Times::Always => true,
                Times::Nth(n) => rule.seen == n,
                Times::First(n) => rule.seen <= n,
            };
            if fires && chosen.is_none() {
                chosen = Some(rule.fault.clone());
            }
        }
        chosen
    }
}

/// The running server; stops (closing every connection, ending stalls) when dropped.
pub(crate) struct SmtpServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl SmtpServer {
    pub(crate) fn start(script: Script) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test SMTP server");
        let addr = listener
            .local_addr()
            .expect("the test SMTP server's address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                rules: script.rules,
                ..State::default()
            }),
            changed: Condvar::new(),
            delay: script.delay,
            end_delay: script.end_delay,
            auth: script.auth,
            max_size: script.max_size,
            pipelining: script.pipelining,
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || accept_loop(&listener, &shared))
        };
        SmtpServer {
            shared,
            addr,
            acceptor: Some(acceptor),
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Messages taken so far, in the order their end of data was answered.
    pub(crate) fn messages(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    /// Messages read in full whose end-of-data answer was a scripted drop or stall: the client
    /// cannot know whether they were delivered.
    pub(crate) fn dropped_after_data(&self) -> Vec<Received> {
        self.shared.lock().dropped.clone()
    }

    pub(crate) fn credentials(&self) -> Vec<Credentials> {
        self.shared.lock().credentials.clone()
    }

    /// Every command line received, with its connection number (AUTH payloads included).
    pub(crate) fn commands(&self) -> Vec<(usize, String)> {
        self.shared.lock().commands.clone()
    }

    /// Commands that were already waiting, read with the one before them: what a pipelining
    /// client sends (MAIL, RCPT…, DATA in one write); empty for a client that waits for each reply.
    pub(crate) fn pipelined_commands(&self) -> Vec<(usize, String)> {
        self.shared.lock().pipelined.clone()
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> usize {
        self.shared.lock().connections
    }

    /// Every reply written so far, in order.
    pub(crate) fn replies(&self) -> Vec<SentReply> {
        self.shared.lock().replies.clone()
    }

    /// The most connections that were ever open at the same time.
    pub(crate) fn max_open_connections(&self) -> usize {
        self.shared.lock().max_open
    }

    /// The most transactions (from an accepted MAIL to the answer after the data, a reset or the
    /// connection's end) that were ever in progress at the same time.
    pub(crate) fn max_simultaneous_transactions(&self) -> usize {
        self.shared.lock().max_in_transaction
    }

    /// The recipients of every message whose data began (the server answered DATA with 354).
    pub(crate) fn data_started(&self) -> Vec<Vec<String>> {
        self.shared.lock().data_started.clone()
    }

    /// The recipients of every message whose final `.` the server read, answered or not: the
    /// messages a server may have delivered.
    pub(crate) fn data_ended(&self) -> Vec<Vec<String>> {
        self.shared.lock().data_ended.clone()
    }

    /// Waits up to `timeout` for the `.` of `n` messages; false if fewer came.
    pub(crate) fn ends_reach(&self, n: usize, timeout: Duration) -> bool {
        let guard = self.shared.lock();
        let (state, _) = self
            .shared
            .changed
            .wait_timeout_while(guard, timeout, |s| s.data_ended.len() < n)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.data_ended.len() >= n
    }

    /// Blocks until no connection is open: every byte a client wrote before it went (or died)
    /// has been read and accounted for. Panics on timeout.
    pub(crate) fn wait_idle(&self, timeout: Duration) {
        self.wait_until(timeout, "every connection to close", |s| s.open_now == 0);
    }

    /// Blocks until at least `n` messages were taken; panics (showing what arrived) on timeout.
    pub(crate) fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        self.wait_until(timeout, &format!("{n} messages"), |s| s.received.len() >= n);
        self.messages()
    }

    pub(crate) fn wait_for_dropped(&self, n: usize, timeout: Duration) -> Vec<Received> {
        self.wait_until(timeout, &format!("{n} dropped messages"), |s| {
            s.dropped.len() >= n
        });
        self.dropped_after_data()
    }

    pub(crate) fn wait_for_connections(&self, n: usize, timeout: Duration) {
        self.wait_until(timeout, &format!("{n} connections"), |s| s.connections >= n);
    }

    fn wait_until(&self, timeout: Duration, what: &str, done: impl Fn(&State) -> bool) {
        let guard = self.shared.lock();
        let (state, result) = self
            .shared
            .changed
            .wait_timeout_while(guard, timeout, |s| !done(s))
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if result.timed_out() {
            panic!(
                "the test SMTP server waited {timeout:?} for {what}; it had {} messages, {} \
                 dropped after data, {} connections; commands: {:?}",
                state.received.len(),
                state.dropped.len(),
                state.connections,
                state.commands
            );
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.shared.update(|state| {
            state.shutting_down = true;
            for stream in state.open.values() {
                // Unblocks connection threads stuck reading or writing; errors mean already gone.
                let _ = stream.shutdown(Shutdown::Both);
            }
        });
        // Wake the acceptor, blocked in accept(): it sees `shutting_down` and stops.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut workers = Vec::new();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let mut id = 0;
        let mut stop = false;
        shared.update(|state| {
            if state.shutting_down {
                stop = true;
                return;
            }
            state.connections += 1;
            id = state.connections;
            state.open_now += 1;
            state.max_open = state.max_open.max(state.open_now);
            if let Ok(clone) = stream.try_clone() {
                state.open.insert(id, clone);
            }
        });
        if stop {
            break;
        }
        let shared = Arc::clone(shared);
        workers.push(thread::spawn(move || {
            let mut in_transaction = false;
            if let Ok(mut c) = Connection::new(Arc::clone(&shared), id, stream) {
                let _ = c.serve();
                in_transaction = c.mail_from.is_some();
            }
            shared.update(|state| {
                state.open.remove(&id);
                state.open_now -= 1;
                if in_transaction {
                    state.in_transaction -= 1;
                }
            });
        }));
    }
    for worker in workers {
        let _ = worker.join();
    }
}

/// What to do instead of, or as, the answer to a command.
enum Action {
    Reply(Reply),
    Drop,
    Stall,
    DropAfterDataBytes(usize),
    /// This reply once that many transactions are in progress.
    HoldThenReply(usize, Reply),
}

struct Connection {
    shared: Arc<Shared>,
    id: usize,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    greeted: bool,
    authenticated: bool,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    queued: usize,
    /// More input was already read when the last command (or the end of data) was taken.
    ahead: bool,
}

/// Whether the conversation goes on after an answer.
enum Flow {
    Continue(u16),
    Closed,
}

impl Connection {
    fn new(shared: Arc<Shared>, id: usize, stream: TcpStream) -> io::Result<Connection> {
        let reader = BufReader::new(stream.try_clone()?);
        Ok(Connection {
            shared,
            id,
            reader,
            writer: stream,
            greeted: false,
            authenticated: false,
            mail_from: None,
            rcpt_to: Vec::new(),
            queued: 0,
            ahead: false,
        })
    }

    fn decide(&self, stage: Stage, recipients: &[String], normal: Reply) -> Action {
        match self.shared.fault_for(stage, recipients) {
            None => Action::Reply(normal),
            Some(Fault::Reply(reply)) => Action::Reply(reply),
            Some(Fault::DropWithoutReply) => Action::Drop,
            Some(Fault::Stall) => Action::Stall,
            Some(Fault::DropAfterDataBytes(n)) => Action::DropAfterDataBytes(n),
            Some(Fault::HoldUntilTransactions(n)) => Action::HoldThenReply(n, normal),
        }
    }

    fn act(&mut self, action: Action) -> io::Result<Flow> {
        match action {
            Action::Reply(reply) => {
                if !self.shared.delay.is_zero() {
                    thread::sleep(self.shared.delay);
                }
                self.writer.write_all(reply.wire().as_bytes())?;
                self.writer.flush()?;
                let sent = SentReply {
                    connection: self.id,
                    code: reply.code,
                    text: reply.lines.join("\n"),
                    at: Instant::now(),
                };
                self.shared.update(|state| state.replies.push(sent));
                // 421 means the server closes the channel; do it, as real servers do.
                if reply.code == 421 {
                    return Ok(Flow::Closed);
                }
                Ok(Flow::Continue(reply.code))
            }
            Action::Drop | Action::DropAfterDataBytes(_) => {
                self.reset();
                Ok(Flow::Closed)
            }
            Action::Stall => {
                let state = self.shared.lock();
                let _unused = self
                    .shared
                    .changed
                    .wait_while(state, |s| !s.shutting_down)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                Ok(Flow::Closed)
            }
            Action::HoldThenReply(transactions, reply) => {
                let state = self.shared.lock();
                let state = self
                    .shared
                    .changed
                    .wait_while(state, |s| {
                        s.in_transaction < transactions && !s.shutting_down
                    })
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if state.shutting_down {
                    return Ok(Flow::Closed);
                }
                drop(state);
                self.act(Action::Reply(reply))
            }
        }
    }

    fn answer(&mut self, stage: Stage, recipients: &[String], normal: Reply) -> io::Result<Flow> {
        let action = self.decide(stage, recipients, normal);
        self.act(action)
    }

    /// Makes the close an RST: the client sees "connection reset", not an orderly end. The
    /// registry's clone is removed so that the socket really closes when this thread returns.
    fn reset(&mut self) {
        let _ = socket2::SockRef::from(&self.writer).set_linger(Some(Duration::ZERO));
        let id = self.id;
        self.shared.update(|state| {
            state.open.remove(&id);
        });
    }

    fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        if self.reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line))
    }

    fn serve(&mut self) -> io::Result<()> {
        if let Flow::Closed =
            self.answer(Stage::Greeting, &[], Reply::new(220, "herald-test ESMTP"))?
        {
            return Ok(());
        }
        while let Some(raw) = self.read_line()? {
            let pipelined = std::mem::replace(&mut self.ahead, !self.reader.buffer().is_empty());
            let line = String::from_utf8_lossy(&raw)
                .trim_end_matches(['\r', '\n'])
                .to_owned();
            let (id, logged) = (self.id, line.clone());
            self.shared.update(|state| {
                if pipelined {
                    state.pipelined.push((id, logged.clone()));
                }
                state.commands.push((id, logged));
            });
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let rest = line.get(verb.len()..).unwrap_or("").trim();
            let flow = match verb.as_str() {
                "EHLO" => self.ehlo(true)?,
                "HELO" => self.ehlo(false)?,
                "AUTH" => self.auth(rest)?,
                "MAIL" => self.mail(rest)?,
                "RCPT" => self.rcpt(rest)?,
                "DATA" => self.data()?,
                "RSET" => {
                    self.reset_transaction();
                    self.answer(Stage::Rset, &[], Reply::new(250, "2.0.0 Ok"))?
                }
                "NOOP" => self.answer(Stage::Noop, &[], Reply::new(250, "2.0.0 Ok"))?,
                "QUIT" => {
                    self.answer(Stage::Quit, &[], Reply::new(221, "2.0.0 Bye"))?;
                    Flow::Closed
                }
                _ => self.act(Action::Reply(Reply::new(
                    502,
                    "5.5.2 Command not recognized",
                )))?,
            };
            if let Flow::Closed = flow {
                break;
            }
        }
        Ok(())
    }

    fn reset_transaction(&mut self) {
        if self.mail_from.take().is_some() {
            self.shared.update(|state| state.in_transaction -= 1);
        }
        self.rcpt_to.clear();
    }

    fn ehlo(&mut self, extended: bool) -> io::Result<Flow> {
        self.reset_transaction();
        let normal = if extended {
            let size = format!("SIZE {}", self.shared.max_size);
            let mut lines = vec!["herald-test", "8BITMIME", &size, "ENHANCEDSTATUSCODES"];
            if self.shared.auth.is_some() {
                lines.push("AUTH PLAIN LOGIN");
            }
            if self.shared.pipelining {
                lines.push("PIPELINING");
            }
            Reply::multiline(250, &lines)
        } else {
            Reply::new(250, "herald-test")
        };
        let flow = self.answer(Stage::Ehlo, &[], normal)?;
        if let Flow::Continue(250) = flow {
            self.greeted = true;
        }
        Ok(flow)
    }

    fn auth(&mut self, args: &str) -> io::Result<Flow> {
        let Some((user, pass)) = self.shared.auth.clone() else {
            return self.act(Action::Reply(Reply::new(502, "5.5.1 AUTH not supported")));
        };
        let mut words = args.split_whitespace();
        let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
        let initial = words.next().map(str::to_owned);
        let given = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(r) => r,
                    None => match self.challenge("")? {
                        Some(r) => r,
                        None => return Ok(Flow::Closed),
                    },
                };
                let decoded = base64_decode(&response).unwrap_or_default();
                let mut parts = decoded.split(|b| *b == 0).skip(1);
                let username = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
                let password = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
                (username, password)
            }
            "LOGIN" => {
                let username = match initial {
                    Some(r) => r,
                    None => match self.challenge("VXNlcm5hbWU6")? {
                        Some(r) => r,
                        None => return Ok(Flow::Closed),
                    },
                };
                let Some(password) = self.challenge("UGFzc3dvcmQ6")? else {
                    return Ok(Flow::Closed);
                };
                let decode = |s: &str| {
                    String::from_utf8_lossy(&base64_decode(s).unwrap_or_default()).into_owned()
                };
                (decode(&username), decode(&password))
            }
            _ => {
                let reply = Reply::new(504, "5.5.4 Unrecognized authentication type");
                return self.act(Action::Reply(reply));
            }
        };
        let accepted = given.0 == user && given.1 == pass;
        let record = Credentials {
            mechanism,
            username: given.0,
            password: given.1,
            accepted,
            connection: self.id,
        };
        self.shared.update(|state| state.credentials.push(record));
        let normal = if accepted {
            Reply::new(235, "2.7.0 Authentication successful")
        } else {
            Reply::new(535, "5.7.8 Authentication credentials invalid")
        };
        let flow = self.answer(Stage::Auth, &[], normal)?;
        if let Flow::Continue(235) = flow {
            self.authenticated = true;
        }
        Ok(flow)
    }

    /// Sends a 334 challenge and returns the client's answer line.
    fn challenge(&mut self, text: &str) -> io::Result<Option<String>> {
        if let Flow::Closed = self.act(Action::Reply(Reply::new(334, text)))? {
            return Ok(None);
        }
        Ok(self.read_line()?.map(|l| {
            String::from_utf8_lossy(&l)
                .trim_end_matches(['\r', '\n'])
                .to_owned()
        }))
    }

    fn mail(&mut self, args: &str) -> io::Result<Flow> {
        if !self.greeted {
            return self.act(Action::Reply(Reply::new(
                503,
                "5.5.1 Error: send HELO/EHLO first",
            )));
        }
        if self.shared.auth.is_some() && !self.authenticated {
            return self.act(Action::Reply(Reply::new(
                530,
                "5.7.0 Authentication required",
            )));
        }
        if self.mail_from.is_some() {
            return self.act(Action::Reply(Reply::new(
                503,
                "5.5.1 Error: nested MAIL command",
            )));
        }
        let Some(address) = path_argument(args, "FROM:") else {
            return self.act(Action::Reply(Reply::new(
                501,
                "5.5.4 Syntax: MAIL FROM:<address>",
            )));
        };
        let declared_size = args
            .split_whitespace()
            .filter_map(|p| {
                p.to_ascii_uppercase()
                    .strip_prefix("SIZE=")?
                    .parse::<usize>()
                    .ok()
            })
            .next();
        let normal = match declared_size {
            Some(size) if size > self.shared.max_size => {
                Reply::new(552, "5.3.4 Message size exceeds fixed limit")
            }
            _ => Reply::new(250, "2.1.0 Ok"),
        };
        let flow = self.answer(Stage::Mail, &[], normal)?;
        if let Flow::Continue(250) = flow {
            self.mail_from = Some(address);
            self.shared.update(|state| {
                state.in_transaction += 1;
                state.max_in_transaction = state.max_in_transaction.max(state.in_transaction);
            });
        }
        Ok(flow)
    }

    fn rcpt(&mut self, args: &str) -> io::Result<Flow> {
        if self.mail_from.is_none() {
            return self.act(Action::Reply(Reply::new(
                503,
                "5.5.1 Error: need MAIL command",
            )));
        }
        let Some(address) = path_argument(args, "TO:") else {
            return self.act(Action::Reply(Reply::new(
                501,
                "5.5.4 Syntax: RCPT TO:<address>",
            )));
        };
        let flow = self.answer(
            Stage::Rcpt,
            std::slice::from_ref(&address),
            Reply::new(250, "2.1.5 Ok"),
        )?;
        if let Flow::Continue(code) = flow {
            if (200..300).contains(&code) {
                self.rcpt_to.push(address);
            }
        }
        Ok(flow)
    }

    fn data(&mut self) -> io::Result<Flow> {
        let Some(mail_from) = self.mail_from.clone() else {
            return self.act(Action::Reply(Reply::new(
                503,
                "5.5.1 Error: need MAIL command",
            )));
        };
        if self.rcpt_to.is_empty() {
            return self.act(Action::Reply(Reply::new(
                554,
                "5.5.1 Error: no valid recipients",
            )));
        }
        let recipients = self.rcpt_to.clone();
        let normal = Reply::new(354, "End data with <CR><LF>.<CR><LF>");
        let action = self.decide(Stage::Data, &recipients, normal.clone());
        if let Action::DropAfterDataBytes(limit) = action {
            self.act(Action::Reply(normal))?;
            // Whole lines, so a message shorter than the limit still ends in a reset (at its
            // final `.`) instead of a client waiting for an answer that never comes.
            let mut read = 0;
            while read < limit {
                match self.read_line()? {
                    Some(line) if line != b".\r\n" && line != b".\n" => read += line.len(),
                    _ => break,
                }
            }
            return self.act(Action::Drop);
        }
        let flow = self.act(action)?;
        if !matches!(flow, Flow::Continue(354)) {
            if let Flow::Continue(_) = flow {
                self.reset_transaction();
            }
            return Ok(flow);
        }
        let started = recipients.clone();
        self.shared.update(|state| state.data_started.push(started));
        let mut data = Vec::new();
        loop {
            let Some(line) = self.read_line()? else {
                return Ok(Flow::Closed);
            };
            if line == b".\r\n" || line == b".\n" {
                self.ahead = !self.reader.buffer().is_empty();
                let ended = recipients.clone();
                self.shared.update(|state| state.data_ended.push(ended));
                break;
            }
            let unstuffed = if line.first() == Some(&b'.') {
                &line[1..]
            } else {
                &line[..]
            };
            data.extend_from_slice(unstuffed);
        }
        let message = Received {
            mail_from,
            rcpt_to: recipients.clone(),
            data,
            arrived_at: Instant::now(),
            connection: self.id,
        };
        let normal = if message.data.len() > self.shared.max_size {
            Reply::new(552, "5.3.4 Message size exceeds fixed limit")
        } else {
            self.queued += 1;
            Reply::new(
                250,
                &format!("2.0.0 Ok: queued as H{}C{}", self.queued, self.id),
            )
        };
        let action = self.decide(Stage::DataEnd, &recipients, normal);
        // Recorded before the answer goes out, so a client that saw the 250 finds it recorded.
        match &action {
            Action::Reply(reply) | Action::HoldThenReply(_, reply) if reply.is_positive() => {
                self.shared.update(|state| state.received.push(message));
            }
            Action::Reply(_) | Action::HoldThenReply(..) => {}
            Action::Drop | Action::Stall | Action::DropAfterDataBytes(_) => {
                self.shared.update(|state| state.dropped.push(message));
            }
        }
        if !self.shared.end_delay.is_zero() {
            thread::sleep(self.shared.end_delay);
        }
        // The transaction ends with its answer, so it counts as in progress until then (a drop or
        // stall ends it when the connection goes).
        let flow = self.act(action)?;
        if let Flow::Continue(_) = flow {
            self.reset_transaction();
        }
        Ok(flow)
    }
}

/// `FROM:<a@b> SIZE=1` → `a@b`; the null sender `<>` gives an empty string.
fn path_argument(args: &str, keyword: &str) -> Option<String> {
    let upper = args.to_ascii_uppercase();
    if !upper.starts_with(keyword) {
        return None;
    }
    let rest = args[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(rest[..end].to_owned())
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.trim().bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|a| *a == byte)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}
