//! The recorder behind `--record FILE`: every exchange of the run, redacted,
//! grouped by case, written atomically at the end, every few seconds on the
//! way, and when dropped unfinished (a panic, an early return), so nothing
//! recorded is lost.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{Case, Cassette, CassetteError};
use crate::exchange::Exchange;
use crate::targets::{BoxFuture, Capabilities, Credentials, Request, Target, TargetError};

/// Headers that carry credentials or sessions: never stored.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// A password shorter than this is not scrubbed from bodies: it would too
/// likely occur by chance and corrupt the answers it is found in.
const SCRUB_MIN: usize = 6;

/// How often an unfinished cassette is written while the run goes on.
const FLUSH_EVERY: Duration = Duration::from_secs(2);

/// Collects a run's exchanges.
pub struct Recorder {
    path: Option<PathBuf>,
    /// Texts never written: the password and the Basic header's base64.
    secrets: Vec<String>,
    state: Mutex<State>,
}

struct State {
    cassette: Cassette,
    last_write: Instant,
    finished: bool,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder writing to `path`, checked writable now (an unwritable path
    /// fails before the run, not after it). `credentials` are scrubbed from
    /// anything a target echoes.
    pub fn to_file(
        path: &Path,
        header: Cassette,
        credentials: &Credentials,
    ) -> Result<Arc<Recorder>, CassetteError> {
        let recorder = Recorder::new(Some(path.to_owned()), header, credentials);
        recorder.write(false)?;
        Ok(Arc::new(recorder))
    }

    /// A recorder kept in memory (certify's drift section).
    pub fn in_memory(header: Cassette, credentials: &Credentials) -> Arc<Recorder> {
        Arc::new(Recorder::new(None, header, credentials))
    }

    fn new(path: Option<PathBuf>, header: Cassette, credentials: &Credentials) -> Recorder {
        let basic = credentials.header_value();
        let secrets = [
            credentials.password.clone(),
            basic.trim_start_matches("Basic ").to_owned(),
        ]
        .into_iter()
        .filter(|s| s.len() >= SCRUB_MIN)
        .collect();
        Recorder {
            path,
            secrets,
            state: Mutex::new(State {
                cassette: header,
                last_write: Instant::now(),
                finished: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next requests belong to this case; the cassette so far is written
    /// when the last write is a while ago.
    pub fn begin(&self, case: &str, seed: u64, shrink: u32) {
        let due = {
            let mut state = self.lock();
            state.cassette.cases.push(Case {
                case: case.to_owned(),
                seed,
                shrink,
                error: None,
                exchanges: Vec::new(),
            });
            state.last_write.elapsed() >= FLUSH_EVERY
        };
        if due {
            // A failed write now is reported by the final one.
            let _ = self.write(false);
        }
    }

    /// Keeps one exchange, redacted, in the current case.
    pub fn push(&self, exchange: &Exchange) {
        let exchange = self.redact(exchange);
        let mut state = self.lock();
        current(&mut state.cassette).exchanges.push(exchange);
    }

    /// The target error that ended the current case.
    pub fn failed(&self, error: &TargetError) {
        let text = self.scrub(&error.to_string());
        current(&mut self.lock().cassette).error = Some(text);
    }

    /// Writes the cassette a last time; `complete` when the run ended on its own.
    pub fn finish(&self, complete: bool) -> Result<usize, CassetteError> {
        self.write(complete)?;
        let mut state = self.lock();
        state.finished = true;
        Ok(state.cassette.exchanges().count())
    }

    /// Replaces the header (seed, target, settings), keeping what was
    /// recorded: for callers that know the run's settings only once it starts.
    pub fn set_header(&self, header: Cassette) {
        let mut state = self.lock();
        let cases = std::mem::take(&mut state.cassette.cases);
        state.cassette = Cassette { cases, ..header };
    }

    /// The cassette as recorded so far.
    pub fn cassette(&self) -> Cassette {
        self.lock().cassette.clone()
    }

    fn write(&self, complete: bool) -> Result<(), CassetteError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut state = self.lock();
        state.cassette.complete = complete;
        state.last_write = Instant::now();
        state.cassette.save(path)
    }

    fn redact(&self, exchange: &Exchange) -> Exchange {
        let keep = |headers: &[(String, String)]| {
            headers
                .iter()
                .filter(|(n, _)| !SECRET_HEADERS.iter().any(|s| n.eq_ignore_ascii_case(s)))
                .map(|(n, v)| (n.clone(), self.scrub(v)))
                .collect()
        };
        Exchange {
            method: exchange.method.clone(),
            path: self.scrub(&exchange.path),
            request_headers: keep(&exchange.request_headers),
            request_body: exchange.request_body.as_deref().map(|b| self.scrub(b)),
            status: exchange.status,
            response_headers: keep(&exchange.response_headers),
            response_body: self.scrub(&exchange.response_body),
        }
    }

    fn scrub(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |t, s| t.replace(s.as_str(), "<redacted>"))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let finished = self.lock().finished;
        if !finished {
            let _ = self.write(false);
        }
    }
}

/// The case exchanges go to: the last begun, or one made for requests sent
/// outside any case.
fn current(cassette: &mut Cassette) -> &mut Case {
    if cassette.cases.is_empty() {
        cassette.cases.push(Case {
            case: "(outside a case)".to_owned(),
            seed: 0,
            shrink: 0,
            error: None,
            exchanges: Vec::new(),
        });
    }
    let last = cassette.cases.len() - 1;
    &mut cassette.cases[last]
}

/// A target whose every exchange is also kept by a [`Recorder`].
pub struct Recording {
    inner: Arc<dyn Target>,
    recorder: Arc<Recorder>,
}

impl Recording {
    /// `target` itself when there is nothing to record to.
    pub fn wrap(target: Arc<dyn Target>, recorder: Option<&Arc<Recorder>>) -> Arc<dyn Target> {
        match recorder {
            Some(recorder) => Arc::new(Recording {
                inner: target,
                recorder: recorder.clone(),
            }),
            None => target,
        }
    }
}

impl Target for Recording {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn note(&self, step: &Exchange) {
        self.recorder.push(step);
    }

    fn replays(&self) -> bool {
        self.inner.replays()
    }

    fn recorded_step(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Option<Result<Exchange, TargetError>> {
        self.inner.recorded_step(method, path, body)
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn send<'a>(
        &'a self,
        request: &'a Request,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
        Box::pin(async move {
            let answer = self.inner.send(request, credentials).await;
            match &answer {
                Ok(exchange) => self.recorder.push(exchange),
                Err(error) => self.recorder.failed(error),
            }
            answer
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::RunConfig;

    #[test]
    fn credentials_never_reach_the_cassette() {
        let credentials = Credentials::new("shop", "s3cret-password");
        let recorder =
            Recorder::in_memory(Cassette::of("run", &RunConfig::new(1, 1)), &credentials);
        recorder.begin("p", 1, 0);
        let basic = credentials.header_value();
        recorder.push(&Exchange {
            method: "GET".into(),
            path: "/x".into(),
            request_headers: vec![("authorization".into(), basic.clone())],
            request_body: None,
            status: 200,
            response_headers: vec![
                ("Set-Cookie".into(), "session=abc".into()),
                ("x-echo".into(), basic.clone()),
            ],
            response_body: "{\"password\":\"s3cret-password\"}".into(),
        });
        let text = serde_json::to_string(&recorder.cassette()).unwrap();
        assert!(
            !text.contains("s3cret-password") && !text.contains(&basic[6..]),
            "{text}"
        );
        assert!(!text.to_ascii_lowercase().contains("set-cookie"), "{text}");
        assert!(!text.contains("\"authorization\""), "{text}");
    }

    #[test]
    fn an_unfinished_recording_is_written_when_dropped() {
        let dir = std::env::temp_dir().join(format!("kc-recorder-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.json");
        let header = Cassette::of("run", &RunConfig::new(1, 1));
        let credentials = Credentials::new("u", "password-1");
        let recorder = Recorder::to_file(&path, header, &credentials).unwrap();
        recorder.begin("p", 1, 0);
        drop(recorder);
        let written = Cassette::load(&path).unwrap();
        assert!(!written.complete);
        assert_eq!(written.cases.len(), 1);
        let unwritable = dir.join("no-such-dir").join("c.json");
        let header = Cassette::of("run", &RunConfig::new(1, 1));
        assert!(Recorder::to_file(&unwritable, header, &credentials).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
