//! One open connection, owned by one worker, and the [`Tracked`] stream under it that tells
//! "lost before the end of data" (safe to retry) from "lost waiting for the reply" (uncertain).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::connect::offers_pipelining;

/// One open connection, owned by one worker.
pub(crate) struct SmtpSession {
    pub(super) conn: AsyncSmtpConnection,
    pub(super) probe: Arc<Probe>,
    /// The server offers PIPELINING: MAIL, every RCPT and DATA go out in one write.
    pub(super) pipelining: bool,
}

impl SmtpSession {
    /// Says goodbye politely; errors do not matter any more.
    pub(crate) async fn quit(mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.conn.quit()).await;
    }
}

/// What the [`Tracked`] stream saw since the current message's data began.
#[derive(Debug, Default)]
pub(super) struct Probe {
    armed: AtomicBool,
    read_after_arm: AtomicBool,
    /// While set, every byte read is kept in `greeting` (the greeting and the EHLO reply, which
    /// lettre parses without keeping the PIPELINING keyword).
    pub(super) capturing: AtomicBool,
    greeting: std::sync::Mutex<Vec<u8>>,
}

impl Probe {
    pub(super) fn reset(&self) {
        self.armed.store(false, Ordering::SeqCst);
        self.read_after_arm.store(false, Ordering::SeqCst);
    }

    pub(super) fn arm(&self) {
        self.read_after_arm.store(false, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// lettre reads a reply only after it has written and flushed what it was given (the data,
    /// then the final `\r\n.\r\n`); so a read after arming proves that left this process.
    pub(super) fn data_ended(&self) -> bool {
        self.read_after_arm.load(Ordering::SeqCst)
    }

    /// Stops capturing and says whether the EHLO reply read so far offers PIPELINING.
    pub(super) fn offers_pipelining(&self) -> bool {
        self.capturing.store(false, Ordering::SeqCst);
        let captured = match self.greeting.lock() {
            Ok(mut bytes) => std::mem::take(&mut *bytes),
            Err(_) => return false,
        };
        offers_pipelining(&String::from_utf8_lossy(&captured))
    }

    fn capture(&self, bytes: &[u8]) {
        if let Ok(mut greeting) = self.greeting.lock() {
            // A greeting and EHLO reply are a few hundred bytes; never keep more than a little.
            if greeting.len() < 64 * 1024 {
                greeting.extend_from_slice(bytes);
            }
        }
    }
}

/// The socket handed to lettre, noting when lettre starts waiting for a reply.
#[derive(Debug)]
pub(super) struct Tracked<S> {
    inner: S,
    peer: SocketAddr,
    probe: Arc<Probe>,
}

impl<S> Tracked<S> {
    pub(super) fn new(inner: S, peer: SocketAddr, probe: Arc<Probe>) -> Self {
        Tracked { inner, peer, probe }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.probe.armed.load(Ordering::SeqCst) {
            self.probe.read_after_arm.store(true, Ordering::SeqCst);
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.probe.capturing.load(Ordering::SeqCst) {
            if let Poll::Ready(Ok(())) = polled {
                self.probe.capture(&buf.filled()[before..]);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl<S> AsyncTokioStream for Tracked<S>
where
    S: AsyncRead + AsyncWrite + Send + Sync + Unpin + fmt::Debug,
{
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}
