//! `serve --log PATH`: one JSON line per request, `{"ts", "scope", "method",
//! "path", "status", "correlation_id", "latency_ms"}`, never credentials,
//! query strings or bodies.
//!
//! Lines go through a bounded channel to a writer thread, so a slow disk or
//! a pipe nobody reads never holds up a request: when the channel is full a
//! line is dropped and counted, and the writer says how many it missed
//! (`{"ts", "dropped": N}`) as soon as it can. A mock without a log does
//! nothing of this.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::clock::rfc3339_millis;

/// Lines waiting for the writer at most; more are dropped.
const QUEUE: usize = 64 * 1024;

enum Message {
    Line(String),
    /// Flush, then answer.
    Sync(std::sync::mpsc::Sender<()>),
}

/// Where the request log goes. Clones share one writer; equal when they do.
#[derive(Clone)]
pub struct RequestLog {
    shared: Arc<Shared>,
}

struct Shared {
    sender: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
    /// For `Debug`: the path, or `-`.
    target: String,
}

impl std::fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RequestLog({})", self.shared.target)
    }
}

impl PartialEq for RequestLog {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// One line.
#[derive(Serialize)]
pub(super) struct Line<'a> {
    pub ts: String,
    /// `None` when the credentials were refused (or not needed: health).
    pub scope: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub correlation_id: Option<&'a str>,
    pub latency_ms: f64,
}

impl RequestLog {
    /// A log to `path` (created or truncated); `-` is standard output.
    pub fn open(path: &str) -> std::io::Result<RequestLog> {
        let out: Box<dyn Write + Send> = if path == "-" {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::fs::File::create(path)?)
        };
        Ok(Self::to_writer(path, out))
    }

    /// A log to any writer; `target` names it in `Debug`.
    pub fn to_writer(target: &str, out: Box<dyn Write + Send>) -> RequestLog {
        let (sender, receiver) = std::sync::mpsc::sync_channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&dropped);
        // If the thread cannot start, lines are counted as dropped.
        let _ = std::thread::Builder::new()
            .name("klarna-mock-log".into())
            .spawn(move || write_lines(receiver, out, &counter));
        RequestLog {
            shared: Arc::new(Shared {
                sender,
                dropped,
                target: target.to_owned(),
            }),
        }
    }

    pub(super) fn write(&self, line: &Line<'_>) {
        let Ok(text) = serde_json::to_string(line) else {
            return;
        };
        // Full, or the writer is gone: the line is counted, not waited for.
        if self.shared.sender.try_send(Message::Line(text)).is_err() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits (at most `timeout`) until every line sent so far is written and flushed.
    pub fn sync(&self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        let (done, wait) = std::sync::mpsc::channel();
        let mut message = Message::Sync(done);
        // Never blocks past the deadline, even on a writer stuck on a full pipe.
        loop {
            match self.shared.sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(m)) if std::time::Instant::now() < deadline => {
                    message = m;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        }
        let _ = wait.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()));
    }
}

fn write_lines(receiver: Receiver<Message>, out: Box<dyn Write + Send>, dropped: &AtomicU64) {
    let mut out = std::io::BufWriter::new(out);
    loop {
        // Flush when nothing waits; wake now and then to report drops.
        let message = match receiver.try_recv() {
            Ok(m) => m,
            Err(_) => {
                let _ = out.flush();
                match receiver.recv_timeout(Duration::from_secs(1)) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => {
                        report_dropped(&mut out, dropped);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        match message {
            Message::Line(line) => {
                let _ = writeln!(out, "{line}");
                report_dropped(&mut out, dropped);
            }
            Message::Sync(done) => {
                report_dropped(&mut out, dropped);
                let _ = out.flush();
                let _ = done.send(());
            }
        }
    }
    report_dropped(&mut out, dropped);
    let _ = out.flush();
}

fn report_dropped(out: &mut impl Write, dropped: &AtomicU64) {
    let n = dropped.swap(0, Ordering::Relaxed);
    if n > 0 {
        let ts = rfc3339_millis(SystemTime::now());
        let _ = writeln!(out, r#"{{"ts":"{ts}","dropped":{n}}}"#);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_json_line_per_request() {
        let sink = Sink::default();
        let log = RequestLog::to_writer("test", Box::new(sink.clone()));
        for status in [200, 404] {
            log.write(&Line {
                ts: "2026-01-01T00:00:00.000Z".into(),
                scope: Some("job-1"),
                method: "GET",
                path: "/a\"b",
                status,
                correlation_id: None,
                latency_ms: 0.25,
            });
        }
        log.sync(Duration::from_secs(5));
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[1]["status"], 404);
        assert_eq!(lines[0]["path"], "/a\"b");
        assert_eq!(lines[0]["scope"], "job-1");
        assert_eq!(log, log.clone());
        assert_ne!(
            log,
            RequestLog::to_writer("other", Box::new(Sink::default()))
        );
    }
}
