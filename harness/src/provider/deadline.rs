//! The header deadline of one server connection, kept below hyper: a request whose head is
//! not complete within the deadline gets `408 Request Timeout` before the connection closes
//! (RFC 9110, section 15.5.9), where hyper alone would close without a word; a connection idle
//! between requests is closed quietly.
//!
//! ```text
//!   Idle ──first byte──> Head(deadline) ──head parsed (service called)──> InRequest
//!    ^                        │ deadline passed                               │ answered
//!    │                        v                                               │
//!    │                    Answering408 ──written, write side shut──> Lingering ──> EOF
//!    └────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! While lingering, what the client still sends is read and dropped for a short while, so
//! that the close does not reset the connection before the client has read the 408.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// How long a closing connection reads and drops what the client still sends.
const LINGER: Duration = Duration::from_secs(2);

/// Where a connection is between requests, shared by the IO wrapper and the request handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No byte of the next request yet, since this instant.
    Idle(Instant),
    /// Part of a request head received; it must be complete by this instant.
    Head(Instant),
    /// The head was parsed: the handler's own deadline applies.
    InRequest,
}

/// The handler's side: marks a request's head as received and its answer as given.
#[derive(Debug, Clone)]
pub struct HeadClock(Arc<Mutex<Phase>>);

impl HeadClock {
    /// The request's head is complete: the header deadline no longer applies.
    pub fn request_started(&self) {
        self.set(Phase::InRequest);
    }

    /// The request is answered: the connection is idle until the next request's first byte.
    pub fn request_answered(&self) {
        self.set(Phase::Idle(Instant::now()));
    }

    fn set(&self, phase: Phase) {
        if let Ok(mut current) = self.0.lock() {
            *current = phase;
        }
    }

    fn get(&self) -> Phase {
        self.0
            .lock()
            .map(|p| *p)
            .unwrap_or(Phase::Idle(Instant::now()))
    }
}

/// What the wrapper is doing after the header deadline passed.
#[derive(Debug)]
enum Closing {
    Open,
    /// Writing the 408 answer; this many bytes are out.
    Answering(usize),
    Flushing,
    ShuttingDown,
    /// Reading and dropping until this instant or the client's end.
    Lingering(Instant),
    Closed,
}

/// An IO stream with a header deadline and an idle limit.
pub struct HeaderDeadline<S> {
    inner: S,
    clock: HeadClock,
    header_timeout: Duration,
    idle_timeout: Duration,
    timer: Pin<Box<Sleep>>,
    armed_for: Option<Instant>,
    closing: Closing,
    answer: Vec<u8>,
}

impl<S> std::fmt::Debug for HeaderDeadline<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderDeadline")
            .field("clock", &self.clock)
            .field("closing", &self.closing)
            .finish_non_exhaustive()
    }
}

impl<S> HeaderDeadline<S> {
    /// Wraps `inner`; returns it with the clock the request handler moves.
    pub fn new(inner: S, header_timeout: Duration, idle_timeout: Duration) -> (Self, HeadClock) {
        let clock = HeadClock(Arc::new(Mutex::new(Phase::Idle(Instant::now()))));
        let body = format!(
            "the request's headers were not received within {} s\n",
            header_timeout.as_secs_f64()
        );
        let answer = format!(
            "HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        let wrapper = HeaderDeadline {
            inner,
            clock: clock.clone(),
            header_timeout,
            idle_timeout,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed_for: None,
            closing: Closing::Open,
            answer,
        };
        (wrapper, clock)
    }

    /// Whether `deadline` has passed; if not, the task is woken when it does.
    fn expired(&mut self, deadline: Instant, cx: &mut Context<'_>) -> bool {
        if self.armed_for != Some(deadline) {
            self.timer.as_mut().reset(deadline);
            self.armed_for = Some(deadline);
        }
        self.timer.as_mut().poll(cx).is_ready()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> HeaderDeadline<S> {
    /// Drives the 408 answer and the lingering close; `Ready` is the end of the stream.
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match self.closing {
                Closing::Open | Closing::Closed => return Poll::Ready(Ok(())),
                Closing::Answering(written) => {
                    if written >= self.answer.len() {
                        self.closing = Closing::Flushing;
                        continue;
                    }
                    match Pin::new(&mut self.inner).poll_write(cx, &self.answer[written..]) {
                        Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => self.closing = Closing::Closed,
                        Poll::Ready(Ok(n)) => self.closing = Closing::Answering(written + n),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Closing::Flushing => match Pin::new(&mut self.inner).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.closing = Closing::ShuttingDown,
                    Poll::Ready(Err(_)) => self.closing = Closing::Closed,
                    Poll::Pending => return Poll::Pending,
                },
                Closing::ShuttingDown => match Pin::new(&mut self.inner).poll_shutdown(cx) {
                    Poll::Ready(_) => self.closing = Closing::Lingering(Instant::now() + LINGER),
                    Poll::Pending => return Poll::Pending,
                },
                Closing::Lingering(until) => {
                    if self.expired(until, cx) {
                        self.closing = Closing::Closed;
                        continue;
                    }
                    let mut scratch = [0u8; 4096];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                        Poll::Ready(Ok(())) if !buf.filled().is_empty() => {}
                        Poll::Ready(_) => self.closing = Closing::Closed,
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for HeaderDeadline<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !matches!(this.closing, Closing::Open) {
            return this.poll_close(cx);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before
                    && let Phase::Idle(_) = this.clock.get()
                {
                    this.clock
                        .set(Phase::Head(Instant::now() + this.header_timeout));
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.clock.get() {
                Phase::InRequest => Poll::Pending,
                Phase::Idle(since) => {
                    if this.expired(since + this.idle_timeout, cx) {
                        // Idle too long: end of stream, hyper closes quietly.
                        this.closing = Closing::Closed;
                        Poll::Ready(Ok(()))
                    } else {
                        Poll::Pending
                    }
                }
                Phase::Head(deadline) => {
                    if this.expired(deadline, cx) {
                        this.closing = Closing::Answering(0);
                        this.poll_close(cx)
                    } else {
                        Poll::Pending
                    }
                }
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeaderDeadline<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Cites nothing of the RFCs: the server's own promise (README, `serve-provider`).
    #[tokio::test(start_paused = true)]
    async fn an_incomplete_head_gets_408_and_an_idle_connection_closes_quietly() {
        let (server, mut client) = tokio::io::duplex(1 << 16);
        let (mut wrapped, _clock) =
            HeaderDeadline::new(server, Duration::from_secs(10), Duration::from_secs(30));
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        let n = wrapped.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"GET / HTTP/1.1\r\n");
        // No more bytes: the next read waits for the deadline, answers 408, then ends.
        let reader = tokio::spawn(async move {
            let mut rest = Vec::new();
            let _ = wrapped.read_to_end(&mut rest).await;
            rest
        });
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        assert!(
            answer.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        drop(client);
        assert!(reader.await.unwrap().is_empty());

        let (server, mut client) = tokio::io::duplex(1 << 16);
        let (mut wrapped, clock) =
            HeaderDeadline::new(server, Duration::from_secs(10), Duration::from_secs(30));
        clock.request_started();
        clock.request_answered();
        let mut buf = [0u8; 8];
        let n = wrapped.read(&mut buf).await.unwrap();
        assert_eq!(n, 0, "idle past the limit: end of stream");
        let mut answer = Vec::new();
        drop(wrapped);
        client.read_to_end(&mut answer).await.unwrap();
        assert!(
            answer.is_empty(),
            "an idle connection closes without an answer"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_progress_has_no_header_deadline() {
        let (server, mut client) = tokio::io::duplex(1 << 16);
        let (mut wrapped, clock) =
            HeaderDeadline::new(server, Duration::from_secs(1), Duration::from_secs(30));
        client.write_all(b"POST / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 19];
        wrapped.read_exact(&mut buf).await.unwrap();
        clock.request_started();
        let read = tokio::time::timeout(Duration::from_secs(5), wrapped.read(&mut buf)).await;
        assert!(
            read.is_err(),
            "still waiting for the body after 5 s: {read:?}"
        );
    }
}
