//! `--target wiremock --cassette FILE`: a cassette mounted on a wiremock-rs
//! `MockServer` on 127.0.0.1. Each case's n-th request is answered with the
//! n-th answer recorded for that case when its method, path and body (as
//! JSON values) are the recorded ones; anything else is a cassette mismatch,
//! a target error naming the first differing request with a diff (exit 2),
//! never a conformance failure. The answers go through today's invariants
//! and judge like any target's.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate, matchers::any};

use super::{
    BoxFuture, Capabilities, Credentials, HttpTarget, Request, Target, TargetError, TargetKind,
};
use crate::cassette::{self, Cassette};
use crate::exchange::{Exchange, pretty};

/// The status a mismatch is answered with: never a real answer, and turned
/// into [`TargetError::CassetteMismatch`] before anything judges it.
const MISMATCH_STATUS: u16 = 599;

/// A cassette being replayed.
pub struct Player {
    cassette: Cassette,
    /// Each label's cases in the file's order (a label recorded twice is
    /// replayed twice, in order).
    by_label: BTreeMap<(String, u64, u32), Vec<usize>>,
    file: String,
    state: Arc<Mutex<State>>,
    server: MockServer,
}

#[derive(Default)]
struct State {
    /// Which recorded cases a replay has begun.
    begun: Vec<bool>,
    /// The case being replayed and the index of its next request.
    current: Option<(usize, usize)>,
    /// What the answer with [`MISMATCH_STATUS`] stands for.
    mismatch: Option<TargetError>,
}

impl fmt::Debug for Player {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Player")
            .field("file", &self.file)
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

impl Player {
    /// Starts the server (on a thread of its own, so this works from inside
    /// or outside a runtime).
    pub fn start(cassette: Cassette, file: &str) -> Result<Arc<Player>, TargetError> {
        let state = Arc::new(Mutex::new(State {
            begun: vec![false; cassette.cases.len()],
            ..State::default()
        }));
        let responder = Responder {
            cases: cassette.cases.clone(),
            file: file.to_owned(),
            state: state.clone(),
        };
        let server = serve_wiremock(responder)?;
        let mut by_label: BTreeMap<_, Vec<usize>> = BTreeMap::new();
        for (i, c) in cassette.cases.iter().enumerate() {
            by_label
                .entry((c.case.clone(), c.seed, c.shrink))
                .or_default()
                .push(i);
        }
        Ok(Arc::new(Player {
            cassette,
            by_label,
            file: file.to_owned(),
            state,
            server,
        }))
    }

    pub fn cassette(&self) -> &Cassette {
        &self.cassette
    }

    /// The wiremock server's base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The recorded target's kind.
    pub fn kind(&self) -> TargetKind {
        self.cassette.kind()
    }

    pub fn control_api(&self) -> bool {
        self.cassette.target.control_api
    }

    /// Whether the recorded run authorized sessions (older cassettes: when
    /// it had the control API).
    pub fn authorizes(&self) -> bool {
        self.cassette
            .target
            .authorizes
            .unwrap_or(self.cassette.target.control_api)
    }

    /// The recorded answer of a step made without HTTP (an authorizer's SDK
    /// result, a real pause) when the current case's next exchange is one;
    /// `None` when it is an HTTP exchange (then the step goes out as a request).
    pub fn recorded_step(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Option<Result<Exchange, TargetError>> {
        let mut state = self.lock();
        let (case, index) = state.current?;
        // An authorization recorded as the control API's HTTP exchange goes
        // out as one; anything else (a pause, a case that ended) must be
        // the cassette's, never a real wait.
        let next = self.cassette.cases[case].exchanges.get(index);
        if method == crate::exchange::SDK_METHOD && next.is_some_and(Exchange::is_http) {
            return None;
        }
        Some(
            matching(
                &self.cassette.cases,
                &self.file,
                &mut state,
                method,
                path,
                body,
            )
            .cloned(),
        )
    }

    /// The recorded embedded mock's clock at the start of each case.
    pub fn clock_start(&self) -> Option<i64> {
        self.cassette.target.clock_start
    }

    pub fn describe(&self) -> String {
        format!(
            "cassette {} (recorded against {})",
            self.file, self.cassette.target.description
        )
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next requests belong to this case (see [`cassette::begin`]).
    pub fn begin(&self, case: &str, seed: u64, shrink: u32) -> Result<bool, TargetError> {
        let mut state = self.lock();
        let found = self
            .by_label
            .get(&(case.to_owned(), seed, shrink))
            .and_then(|cases| cases.iter().copied().find(|i| !state.begun[*i]));
        match found {
            Some(i) => {
                state.begun[i] = true;
                state.current = Some((i, 0));
                Ok(true)
            }
            None if shrink > 0 => Ok(false),
            None => Err(self.mismatch(
                &cassette::label(case, seed, shrink),
                "no such case (was it recorded with another seed, --cases or --property?)",
                "began it",
                String::new(),
            )),
        }
    }

    /// A recorded case as drawn that the replay never began, when the run
    /// found nothing that stopped a property early: the cassette holds
    /// requests today's run did not send.
    pub fn unreplayed(&self) -> Option<TargetError> {
        let state = self.lock();
        let (_, case) = self
            .cassette
            .cases
            .iter()
            .enumerate()
            .find(|(i, c)| !state.begun[*i] && c.shrink == 0 && !c.exchanges.is_empty())?;
        let first = &case.exchanges[0];
        Some(self.mismatch(
            &case.label(),
            &format!("it, beginning with {} {}", first.method, first.path),
            "never sent it",
            String::new(),
        ))
    }

    fn mismatch(&self, at: &str, expected: &str, got: &str, diff: String) -> TargetError {
        TargetError::CassetteMismatch {
            file: self.file.clone(),
            at: at.to_owned(),
            expected: expected.to_owned(),
            got: got.to_owned(),
            diff,
        }
    }

    /// The target a run sends to: the server over HTTP, mismatches turned
    /// into errors.
    pub fn target(self: &Arc<Player>) -> Result<Arc<dyn Target>, TargetError> {
        // Retries happened below the recorder: the cassette holds the last
        // answer, which a replay must take as it is.
        let http = HttpTarget::with_capabilities(
            &self.uri(),
            Capabilities {
                control_api: self.control_api(),
            },
        )?
        .with_retry(super::Retry::NEVER);
        Ok(Arc::new(Replaying {
            http,
            player: self.clone(),
        }))
    }
}

/// A wiremock `MockServer` on 127.0.0.1 answering every request with
/// `responder`. Started on a thread of its own, so it works from inside or
/// outside a runtime (wiremock serves on a thread of its own too).
pub fn serve_wiremock(responder: impl Respond + 'static) -> Result<MockServer, TargetError> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        Some(rt.block_on(async {
            let server = MockServer::builder()
                .disable_request_recording()
                .start()
                .await;
            Mock::given(any())
                .respond_with(responder)
                .mount(&server)
                .await;
            server
        }))
    })
    .join()
    .ok()
    .flatten()
    .ok_or_else(|| TargetError::Transport {
        target: "wiremock".to_owned(),
        cause: "the wiremock server did not start".to_owned(),
    })
}

/// The wiremock side: answers from the cassette.
struct Responder {
    cases: Vec<cassette::Case>,
    file: String,
    state: Arc<Mutex<State>>,
}

impl Respond for Responder {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let path = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let body =
            (!request.body.is_empty()).then(|| String::from_utf8_lossy(&request.body).into_owned());
        let method = request.method.as_str();
        match matching(
            &self.cases,
            &self.file,
            &mut state,
            method,
            &path,
            body.as_deref(),
        ) {
            Ok(expected) => answer(expected),
            Err(mismatch) => {
                state.mismatch = Some(mismatch);
                ResponseTemplate::new(MISMATCH_STATUS)
            }
        }
    }
}

/// The current case's next recorded exchange when `method`, `path` and
/// `body` are its request (the case then moves on); otherwise the mismatch.
fn matching<'c>(
    cases: &'c [cassette::Case],
    file: &str,
    state: &mut State,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<&'c Exchange, TargetError> {
    let sent = format!("{method} {path}");
    let Some((case, index)) = state.current else {
        return Err(TargetError::CassetteMismatch {
            file: file.to_owned(),
            at: "a request outside any case".to_owned(),
            expected: "no request outside a case".to_owned(),
            got: format!("sent {sent}"),
            diff: String::new(),
        });
    };
    let recorded = &cases[case];
    let at = format!("{}, request #{}", recorded.label(), index + 1);
    let Some(expected) = recorded.exchanges.get(index) else {
        return Err(match &recorded.error {
            // The recorded run's target failed here: so does the replay.
            Some(error) => TargetError::Transport {
                target: format!("cassette {file}"),
                cause: format!("the recorded run's target error: {error}"),
            },
            None => TargetError::CassetteMismatch {
                file: file.to_owned(),
                at,
                expected: format!(
                    "no more: the recorded case ended after {} requests",
                    recorded.exchanges.len()
                ),
                got: format!("sent {sent}"),
                diff: String::new(),
            },
        });
    };
    if expected.method != method
        || expected.path != path
        || !same_body(expected.request_body.as_deref(), body)
    {
        let shown = |method: &str, path: &str, body: Option<&str>| {
            format!("{method} {path}\n{}", body.map(pretty).unwrap_or_default())
        };
        return Err(TargetError::CassetteMismatch {
            file: file.to_owned(),
            at,
            expected: format!("{} {}", expected.method, expected.path),
            got: if expected.method == method && expected.path == path {
                format!("sent {sent} with another body")
            } else {
                format!("sent {sent}")
            },
            diff: crate::verdict::line_diff(
                &shown(
                    &expected.method,
                    &expected.path,
                    expected.request_body.as_deref(),
                ),
                &shown(method, path, body),
            ),
        });
    }
    state.current = Some((case, index + 1));
    Ok(expected)
}

/// Bodies as JSON values when both are JSON (key order and spacing are
/// the serializer's business), else as text.
fn same_body(recorded: Option<&str>, sent: Option<&str>) -> bool {
    let json = |b: &str| serde_json::from_str::<Value>(b).ok();
    match (recorded, sent) {
        (None, None) => true,
        (Some(a), Some(b)) => match (json(a), json(b)) {
            (Some(a), Some(b)) => a == b,
            _ => a == b,
        },
        (Some(a), None) | (None, Some(a)) => a.is_empty(),
    }
}

/// The recorded answer as it was: status, headers, body bytes.
fn answer(exchange: &Exchange) -> ResponseTemplate {
    let mut template = ResponseTemplate::new(exchange.status);
    let mut mime = None;
    for (name, value) in &exchange.response_headers {
        match name.to_ascii_lowercase().as_str() {
            // The server sets the length and framing of what it sends.
            "content-length" | "transfer-encoding" | "connection" => {}
            "content-type" => mime = Some(value.clone()),
            _ => template = template.append_header(name.as_str(), value.as_str()),
        }
    }
    if exchange.response_body.is_empty() {
        if let Some(mime) = mime {
            template = template.insert_header("content-type", mime.as_str());
        }
        return template;
    }
    template.set_body_raw(
        exchange.response_body.clone().into_bytes(),
        mime.as_deref().unwrap_or("application/octet-stream"),
    )
}

/// The run's side: HTTP to the server, a mismatch answer as its error.
struct Replaying {
    http: HttpTarget,
    player: Arc<Player>,
}

impl Target for Replaying {
    fn describe(&self) -> String {
        self.player.describe()
    }

    fn replays(&self) -> bool {
        true
    }

    fn recorded_step(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Option<Result<Exchange, TargetError>> {
        self.player.recorded_step(method, path, body)
    }

    fn capabilities(&self) -> Capabilities {
        self.http.capabilities()
    }

    fn send<'a>(
        &'a self,
        request: &'a Request,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
        Box::pin(async move {
            let exchange = self.http.send(request, credentials).await?;
            if exchange.status == MISMATCH_STATUS
                && let Some(error) = self.player.lock().mismatch.take()
            {
                return Err(error);
            }
            Ok(exchange)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::Case;
    use crate::runner::RunConfig;
    use crate::targets::Method;

    fn exchange(path: &str, body: Option<&str>, status: u16) -> Exchange {
        Exchange {
            method: "POST".into(),
            path: path.into(),
            request_headers: Vec::new(),
            request_body: body.map(str::to_owned),
            status,
            response_headers: vec![("content-type".into(), "application/json".into())],
            response_body: "{\"ok\":true}".into(),
        }
    }

    fn player(error: Option<&str>) -> Arc<Player> {
        let mut cassette = Cassette::of("run", &RunConfig::new(1, 1));
        cassette.cases.push(Case {
            case: "p".into(),
            seed: 9,
            shrink: 0,
            error: error.map(str::to_owned),
            exchanges: vec![exchange("/a", Some("{\"x\":1,\"y\":2}"), 201)],
        });
        Player::start(cassette, "t.json").unwrap()
    }

    fn request(body: &str) -> Request {
        Request {
            method: Method::Post,
            path: "/a".into(),
            body: Some(body.into()),
            headers: Vec::new(),
        }
    }

    #[tokio::test]
    async fn answers_in_order_and_names_what_differs() {
        let player = player(None);
        let target = player.target().unwrap();
        let credentials = Credentials::new("u", "p");
        assert!(!player.begin("p", 9, 1).unwrap(), "no such shrink step");
        assert!(player.begin("p", 8, 0).is_err(), "no such case");
        assert!(player.unreplayed().is_some());
        assert!(player.begin("p", 9, 0).unwrap());
        // Key order and spacing are not differences.
        let answer = target
            .send(&request("{ \"y\": 2, \"x\": 1 }"), &credentials)
            .await;
        assert_eq!(answer.unwrap().status, 201);
        let beyond = target.send(&request("{}"), &credentials).await.unwrap_err();
        assert!(
            beyond.to_string().contains("ended after 1 requests"),
            "{beyond}"
        );
        assert!(player.unreplayed().is_none());
        let player = self::player(None);
        player.begin("p", 9, 0).unwrap();
        let target = player.target().unwrap();
        let other = target
            .send(&request("{\"x\":1,\"y\":3}"), &credentials)
            .await;
        let TargetError::CassetteMismatch { at, got, diff, .. } = other.unwrap_err() else {
            panic!("a mismatch");
        };
        assert!(
            at.contains("request #1") && got.contains("another body"),
            "{at} {got}"
        );
        assert!(
            diff.contains("-   \"y\": 2") && diff.contains("+   \"y\": 3"),
            "{diff}"
        );
    }

    #[tokio::test]
    async fn a_recorded_target_error_is_given_again() {
        let player = player(Some("cannot reach http://x: refused"));
        player.begin("p", 9, 0).unwrap();
        let target = player.target().unwrap();
        let credentials = Credentials::new("u", "p");
        target
            .send(&request("{\"x\":1,\"y\":2}"), &credentials)
            .await
            .unwrap();
        let error = target.send(&request("{}"), &credentials).await.unwrap_err();
        assert!(matches!(error, TargetError::Transport { .. }), "{error}");
        assert!(error.to_string().contains("refused"), "{error}");
    }
}
