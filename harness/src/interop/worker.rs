//! One thread per client under test, so that a client that hangs or panics is a verdict.
//!
//! ```text
//! runner ──job──> worker thread ── client.method(request) ──> result ──> runner
//!          (waits at most the call timeout; a panic is caught and reported)
//! ```
//!
//! A remote client times out on its own (the gRPC client's per-call timeout); an in-process
//! client cannot be interrupted, so the runner stops waiting for it after the timeout and
//! answers every later call with "still busy" until the stuck call returns, if ever.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use crate::client::{ClientError, ClientUnderTest};

/// How long past the call timeout the runner waits before giving up on a call (at most
/// the timeout itself): a remote client's own timeout fires first and gives the more
/// precise verdict.
const GRACE: Duration = Duration::from_secs(5);

/// Why a call gave no usable answer from the client's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The client answered with an error (or its transport reported one).
    Client(ClientError),
    /// The client panicked (in-process clients).
    Panicked {
        method: &'static str,
        message: String,
    },
    /// The client did not return within the timeout, or is still busy with such a call.
    Stuck {
        method: &'static str,
        detail: String,
    },
    /// Not called: the client went down earlier in the run (`since` says where and how).
    Down { method: &'static str, since: String },
}

impl CallError {
    /// Whether the call failed because of the client itself (exit code 3 class).
    pub fn is_client_fault(&self) -> bool {
        match self {
            CallError::Client(e) => e.is_client_fault(),
            CallError::Panicked { .. } | CallError::Stuck { .. } => true,
            CallError::Down { .. } => false,
        }
    }

    /// Whether the client is gone or stuck after this error, so that later calls could
    /// only fail the same way.
    pub fn leaves_client_down(&self) -> bool {
        match self {
            CallError::Client(e) => e.leaves_client_down(),
            CallError::Stuck { .. } => true,
            CallError::Panicked { .. } | CallError::Down { .. } => false,
        }
    }
}

/// What a run knows of one client's health, shared by every lane: once a client is found
/// dead, hung or poisoned it stays down for the rest of the run, and the cases that need
/// it are not run (reported as skipped, "client down since case X"), so one crash costs
/// one client fault, not a cascade. A client Concord restarts itself (`exec:`) is never
/// marked down: its next call starts a fresh process.
#[derive(Debug, Default)]
pub struct Health {
    restartable: bool,
    down: std::sync::Mutex<Option<String>>,
}

impl Health {
    pub fn new(restartable: bool) -> Self {
        Health {
            restartable,
            down: std::sync::Mutex::new(None),
        }
    }

    pub fn restartable(&self) -> bool {
        self.restartable
    }

    /// Why and since when the client is down, if it is.
    pub fn down_since(&self) -> Option<String> {
        self.down.lock().map_or(None, |down| down.clone())
    }

    /// Marks the client down, found so by `case`; true if this call did (the first to).
    pub fn mark_down(&self, case: &str, why: &str) -> bool {
        match self.down.lock() {
            Ok(mut down) if down.is_none() => {
                *down = Some(format!("client down since case {case}: {why}"));
                true
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Client(e) => write!(f, "{e}"),
            CallError::Panicked { method, message } => {
                write!(f, "{method}: the client panicked: {message}")
            }
            CallError::Stuck { method, detail } => write!(f, "{method}: {detail}"),
            CallError::Down { method, since } => write!(f, "{method}: not called: {since}"),
        }
    }
}

type Job = Box<dyn FnOnce(&mut dyn ClientUnderTest) + Send>;

/// A client under test on its own thread.
pub struct Worker {
    jobs: Option<Sender<Job>>,
    idle: Arc<AtomicBool>,
    timeout: Duration,
    restartable: bool,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("idle", &self.idle.load(Ordering::SeqCst))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// Moves `client` onto a new thread; calls wait at most `timeout` (plus a grace period).
    pub fn spawn(mut client: Box<dyn ClientUnderTest>, timeout: Duration) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let idle = Arc::new(AtomicBool::new(true));
        thread::Builder::new()
            .name("concord-client".into())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job(client.as_mut());
                }
            })?;
        Ok(Worker {
            jobs: Some(jobs),
            idle,
            timeout,
            restartable: false,
        })
    }

    /// Marks the client as one that restarts itself after a crash or hang (a server
    /// Concord started, `exec:`).
    pub fn restarting(mut self, restartable: bool) -> Self {
        self.restartable = restartable;
        self
    }

    pub fn restartable(&self) -> bool {
        self.restartable
    }

    /// Calls `method` on the client with `request`.
    pub fn call<Req, Resp>(
        &self,
        method: &'static str,
        request: Req,
        f: fn(&mut dyn ClientUnderTest, Req) -> Result<Resp, ClientError>,
    ) -> Result<Resp, CallError>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
    {
        if !self.idle.load(Ordering::SeqCst) {
            return Err(CallError::Stuck {
                method,
                detail: "the client is still busy with an earlier call that never returned".into(),
            });
        }
        let Some(jobs) = &self.jobs else {
            return Err(CallError::Stuck {
                method,
                detail: "the client's thread is gone".into(),
            });
        };
        let (answer, answered) = mpsc::channel();
        let idle = Arc::clone(&self.idle);
        let job: Job = Box::new(move |client| {
            let result = catch_unwind(AssertUnwindSafe(|| f(client, request)));
            // Idle again before the answer is seen, so the next call finds it so.
            idle.store(true, Ordering::SeqCst);
            let _ = answer.send(result);
        });
        self.idle.store(false, Ordering::SeqCst);
        if jobs.send(job).is_err() {
            return Err(CallError::Stuck {
                method,
                detail: "the client's thread is gone (an earlier panic escaped)".into(),
            });
        }
        let patience = self.timeout + GRACE.min(self.timeout);
        match answered.recv_timeout(patience) {
            Ok(Ok(result)) => result.map_err(CallError::Client),
            Ok(Err(payload)) => Err(CallError::Panicked {
                method,
                message: panic_message(payload.as_ref()),
            }),
            Err(RecvTimeoutError::Timeout) => Err(CallError::Stuck {
                method,
                detail: format!("no answer within {patience:?}"),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(CallError::Stuck {
                method,
                detail: "the client's thread ended without answering".into(),
            }),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the queue ends the thread once its current call (if any) returns; a
        // stuck thread is left behind rather than waited for.
        self.jobs.take();
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".into()
    }
}
