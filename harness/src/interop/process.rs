//! A client under test whose server Concord runs itself: `--client exec:'COMMAND ... {port}'`.
//!
//! ```text
//! first call ──start──> pick a free loopback port, run `sh -c COMMAND` with {port} replaced,
//!                       keep the tail of its stderr, wait until the port accepts
//! every call ──MLSClient gRPC──> the server
//!    unreachable / connection broken / no answer in time
//!       ──> the process's exit status (or "killed: hung") and its stderr tail join the
//!           error (a client fault); the process is stopped, and the next call starts a
//!           fresh one, so the next case starts clean
//! ```
//!
//! Each lane of a run gets its own process (one `ExecClient` per lane), so a server that
//! keeps one state for every connection never sees two lanes at once.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::grpc::GrpcClient;
use crate::client::proto::*;
use crate::client::{ClientError, ClientUnderTest, for_each_mls_client_method};

/// How long a started server has to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Lines of the server's stderr kept for a failure's detail (the last ones; a panic's
/// message is picked out of them).
const STDERR_LINES: usize = 64;
/// Lines of it shown in a failure's detail.
const STDERR_SHOWN: usize = 6;

/// Why an `exec:` specification cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ExecSpecError {
    #[error(
        "exec: client `{0}` has no `{{port}}` in its command: Concord picks the port and puts it there"
    )]
    NoPort(String),
    #[error("exec: client has an empty command")]
    Empty,
}

/// A server process Concord started, and the gRPC client that talks to it.
struct Server {
    child: Child,
    grpc: GrpcClient,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

/// An MLSClient server run by Concord, restarted after a crash or a hang.
pub struct ExecClient {
    command: String,
    timeout: Duration,
    server: Option<Server>,
    /// How many processes were started so far.
    starts: u32,
}

impl std::fmt::Debug for ExecClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecClient")
            .field("command", &self.command)
            .field("starts", &self.starts)
            .finish_non_exhaustive()
    }
}

impl ExecClient {
    /// A client for `command` (which contains `{port}`); the process starts at the first
    /// call.
    pub fn new(command: &str, timeout: Duration) -> Result<Self, ExecSpecError> {
        if command.trim().is_empty() {
            return Err(ExecSpecError::Empty);
        }
        if !command.contains("{port}") {
            return Err(ExecSpecError::NoPort(command.to_string()));
        }
        Ok(ExecClient {
            command: command.to_string(),
            timeout,
            server: None,
            starts: 0,
        })
    }

    /// How many server processes were started so far.
    pub fn starts(&self) -> u32 {
        self.starts
    }

    fn start(&mut self, method: &'static str) -> Result<&mut Server, ClientError> {
        if self.server.is_none() {
            let server = self.spawn(method)?;
            self.server = Some(server);
        }
        self.server
            .as_mut()
            .ok_or_else(|| ClientError::Unreachable {
                method,
                detail: "the server process is gone".into(),
            })
    }

    fn spawn(&mut self, method: &'static str) -> Result<Server, ClientError> {
        let unreachable = |detail: String| ClientError::Unreachable { method, detail };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| unreachable(format!("no free loopback port: {e}")))?
            .port();
        let command = self.command.replace("{port}", &port.to_string());
        let mut process = Command::new("sh");
        process
            .arg("-c")
            .arg(&command)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut process, 0);
        let mut child = process
            .spawn()
            .map_err(|e| unreachable(format!("cannot run `{command}`: {e}")))?;
        self.starts += 1;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            let tail = Arc::clone(&stderr);
            std::thread::Builder::new()
                .name("concord-exec-stderr".into())
                .spawn(move || {
                    for line in BufReader::new(pipe).lines() {
                        let Ok(line) = line else { break };
                        if let Ok(mut tail) = tail.lock() {
                            if tail.len() == STDERR_LINES {
                                tail.pop_front();
                            }
                            tail.push_back(line);
                        }
                    }
                })
                .map_err(|e| unreachable(format!("cannot read the server's stderr: {e}")))?;
        }
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return Err(unreachable(format!(
                    "`{command}` exited ({status}) before listening on {address}{}",
                    tail_text(&stderr)
                )));
            }
            if started.elapsed() > START_TIMEOUT {
                stop(&mut child);
                return Err(unreachable(format!(
                    "`{command}` did not listen on {address} within {START_TIMEOUT:?}{}",
                    tail_text(&stderr)
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let grpc = GrpcClient::new(&format!("grpc://{address}"), self.timeout)
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Server {
            child,
            grpc,
            stderr,
        })
    }

    /// After a call: a failure that leaves the server gone or stuck stops the process and
    /// says how it ended; the next call starts a fresh one.
    fn after<T>(&mut self, result: Result<T, ClientError>) -> Result<T, ClientError> {
        match result {
            Err(e) if e.leaves_client_down() => {
                let Some(mut server) = self.server.take() else {
                    return Err(e);
                };
                // A crash may take a moment to show as an exit.
                let mut status = None;
                for _ in 0..10 {
                    if let Ok(Some(s)) = server.child.try_wait() {
                        status = Some(s);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let ended = match status {
                    Some(status) => format!("the server process exited ({status})"),
                    None => {
                        stop(&mut server.child);
                        "the server process was still running: stopped, to be restarted".into()
                    }
                };
                let context = format!("{ended}{}", tail_text(&server.stderr));
                Err(e.with_context(&context))
            }
            other => other,
        }
    }
}

impl Drop for ExecClient {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            stop(&mut server.child);
        }
    }
}

/// Stops a server process and everything it started (its process group), and reaps it.
fn stop(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `; its stderr ...` with what the server wrote last: a panic's message when there is one
/// (the line that says where it panicked and the next), else the last few lines.
fn tail_text(stderr: &Arc<Mutex<VecDeque<String>>>) -> String {
    let lines: Vec<String> = stderr
        .lock()
        .map(|tail| tail.iter().cloned().collect())
        .unwrap_or_default();
    if let Some(at) = lines.iter().rposition(|l| l.contains("panicked at")) {
        let shown: Vec<&str> = lines.iter().skip(at).take(2).map(|l| l.trim()).collect();
        return format!("; it panicked: {}", shown.join(" "));
    }
    if lines.is_empty() {
        return String::new();
    }
    let from = lines.len().saturating_sub(STDERR_SHOWN);
    format!("; its stderr ended with: {}", lines[from..].join(" | "))
}

macro_rules! exec_methods {
    ($(($method:ident, $rpc:ident, $request:ident, $response:ident)),* $(,)?) => {
        impl ClientUnderTest for ExecClient {
            $(
                fn $method(&mut self, request: $request) -> Result<$response, ClientError> {
                    let result = self
                        .start(stringify!($rpc))
                        .and_then(|server| server.grpc.$method(request));
                    self.after(result)
                }
            )*
        }
    };
}
for_each_mls_client_method!(exec_methods);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_without_a_port_placeholder_is_refused() {
        assert!(matches!(
            ExecClient::new("mls-server --port 1", Duration::from_secs(1)),
            Err(ExecSpecError::NoPort(_))
        ));
        assert!(matches!(
            ExecClient::new("  ", Duration::from_secs(1)),
            Err(ExecSpecError::Empty)
        ));
    }

    #[test]
    fn a_server_that_exits_before_listening_is_unreachable_with_its_stderr() {
        let mut client = ExecClient::new(
            "echo 'cannot bind {port}' >&2; exit 7",
            Duration::from_secs(2),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let error = client.name(NameRequest {}).expect_err("nothing listens");
        let text = error.to_string();
        assert!(matches!(error, ClientError::Unreachable { .. }), "{text}");
        assert!(text.contains("exit status: 7"), "{text}");
        assert!(text.contains("cannot bind"), "{text}");
        assert_eq!(client.starts(), 1);
        // The next call tries again with a fresh process.
        let _ = client.name(NameRequest {});
        assert_eq!(client.starts(), 2);
    }
}
