//! The daemon: watches `<data>/inbox/`, dispatches each complete statement, moves it to
//! `processed/` or `rejected/`, retries deferred letters, and stops cleanly when `shutdown` resolves.

pub(crate) mod inbox;
