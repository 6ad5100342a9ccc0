//! Shared machinery of the integration tests: a scriptable SMTP server (`smtp`), a TLS front for
//! it with a test certificate authority (`tls_front`), Postfix's `smtp-sink` as an independent
//! server (`sink`), loopback ports reserved without a race (`port`), and a temporary workspace
//! that runs the real herald binary (`workspace`).

pub(crate) mod port;
pub(crate) mod sink;
pub(crate) mod smtp;
pub(crate) mod tls_front;
pub(crate) mod workspace;
