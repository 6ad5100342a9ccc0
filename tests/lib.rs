//! herald's integration tests: one binary that drives the compiled `herald` against temporary
//! workspaces and real SMTP servers on loopback.

// Not every suite uses every helper; the support API is kept whole for the ones to come.
#[allow(dead_code)]
mod support;

mod common;

mod bad_input;
mod check;
mod cli;
mod cli_relay;
mod crash;
mod daemon;
mod deploy;
mod dispatch;
mod docs;
mod faults;
mod history_verify;
mod hostile;
mod letters;
mod matching;
mod passages;
mod rate;
mod resolve;
mod smtp_server_selftest;
mod smtp_sink;
mod statements;
mod support_selftest;
mod tls;
