//! Shared machinery of the integration tests: a scriptable SMTP server (`smtp`), Postfix's
//! `smtp-sink` as an independent server (`sink`), and a temporary workspace that runs the real
//! herald binary (`workspace`).

pub(crate) mod sink;
pub(crate) mod smtp;
pub(crate) mod workspace;
