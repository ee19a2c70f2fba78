//! The stateful mock as a wiremock [`Respond`]: a merchant's own wiremock
//! tests get a faithful Klarna (sessions, authorizations, orders, Order
//! Management, the control API, scopes) together with wiremock's
//! expectations, request recording and delays, plus faults on top.
//!
//! ```no_run
//! # async fn demo() {
//! use klarna_conformance::mock::MockConfig;
//! use klarna_conformance::mock::wiremock::{Fault, KlarnaResponder};
//! use wiremock::{Mock, MockServer, matchers::any};
//!
//! let server = MockServer::start().await;
//! let klarna = KlarnaResponder::new(MockConfig::default().seed(1))
//!     // The first create session meets a gateway that is down.
//!     .fault(Fault::status(503).on("/payments/v1/sessions").times(1));
//! Mock::given(any()).respond_with(klarna).mount(&server).await;
//! // Point the integration under test at server.uri().
//! # }
//! ```
//!
//! A wiremock responder is synchronous, so the mock runs on a thread of its
//! own (with its own runtime, which also delivers notifications) and each
//! request is handed over and answered by channel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::Duration;

use ::wiremock::{Request, Respond, ResponseTemplate};
use axum::body::Body;
use tower::ServiceExt as _;

use super::MockConfig;

/// What goes wrong, on which requests.
#[derive(Debug, Clone)]
pub struct Fault {
    kind: FaultKind,
    path_prefix: String,
    /// At most this many requests meet the fault (`None`: every one).
    times: Option<u64>,
}

#[derive(Debug, Clone)]
enum FaultKind {
    /// This status with a Klarna-shaped body; the mock never sees the request.
    Status(u16),
    /// 429 with `Retry-After` (seconds); the mock never sees the request.
    RateLimited(u64),
    /// The mock's answer, this late (wiremock's delay).
    Delay(Duration),
    /// The mock's answer with its body cut in half.
    TruncatedBody,
    /// The request taken in, then the connection closed mid-answer.
    DropConnection,
}

impl Fault {
    /// Answers `status` (500, 502, 503…) with a Klarna-shaped error body
    /// instead of passing the request on.
    pub fn status(status: u16) -> Fault {
        Fault::new(FaultKind::Status(status))
    }

    /// Answers 429 `TOO_MANY_REQUESTS` with `Retry-After: seconds` (the
    /// playground's limit, docs/klarna.md §10) instead of passing it on.
    pub fn rate_limited(retry_after_seconds: u64) -> Fault {
        Fault::new(FaultKind::RateLimited(retry_after_seconds))
    }

    /// Passes the request on and sends the answer after `delay`: past a
    /// client's timeout, the request has taken effect but its answer is lost.
    pub fn delay(delay: Duration) -> Fault {
        Fault::new(FaultKind::Delay(delay))
    }

    /// Passes the request on and cuts the answer's body in half (JSON that
    /// does not parse, with the status and headers of a real answer).
    pub fn truncated_body() -> Fault {
        Fault::new(FaultKind::TruncatedBody)
    }

    /// Passes the request on (it takes effect) and closes the connection
    /// before the answer is complete: the client sees the connection drop,
    /// as when a load balancer or the network gives up mid-answer.
    pub fn drop_connection() -> Fault {
        Fault::new(FaultKind::DropConnection)
    }

    fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            path_prefix: "/".to_owned(),
            times: None,
        }
    }

    /// Only requests whose path starts with `path_prefix` (default: all).
    pub fn on(mut self, path_prefix: &str) -> Fault {
        self.path_prefix = path_prefix.to_owned();
        self
    }

    /// Only the first `n` requests it applies to (default: every one).
    pub fn times(mut self, n: u64) -> Fault {
        self.times = Some(n);
        self
    }
}

/// The mock behind a wiremock `Respond`. Faults are tried in the order they
/// were added; the first that applies to a request is the one it meets.
pub struct KlarnaResponder {
    to_mock: Mutex<mpsc::Sender<Job>>,
    faults: Vec<(Fault, AtomicU64)>,
}

type Job = (axum::http::Request<Body>, mpsc::Sender<Answer>);

/// The mock's answer as it went out.
struct Answer {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl KlarnaResponder {
    /// The mock with `config` (each responder its own state), on a thread of
    /// its own that ends when the responder is dropped.
    pub fn new(config: MockConfig) -> KlarnaResponder {
        let (to_mock, jobs) = mpsc::channel::<Job>();
        let router = super::router(config);
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            for (request, answer) in jobs {
                let answered = rt.block_on(async {
                    match router.clone().oneshot(request).await {
                        Ok(response) => read(response).await,
                        Err(never) => match never {},
                    }
                });
                let _ = answer.send(answered);
            }
        });
        KlarnaResponder {
            to_mock: Mutex::new(to_mock),
            faults: Vec::new(),
        }
    }

    /// Adds a fault.
    pub fn fault(mut self, fault: Fault) -> KlarnaResponder {
        self.faults.push((fault, AtomicU64::new(0)));
        self
    }

    /// The first fault that applies to `path`, counted as met.
    fn fault_for(&self, path: &str) -> Option<&FaultKind> {
        self.faults.iter().find_map(|(fault, met)| {
            if !path.starts_with(&fault.path_prefix) {
                return None;
            }
            let before = met.fetch_add(1, Ordering::Relaxed);
            fault
                .times
                .is_none_or(|n| before < n)
                .then_some(&fault.kind)
        })
    }

    /// The mock's answer to `request`; its body cut in half when `truncate`.
    fn forward(&self, request: &Request, truncate: bool) -> ResponseTemplate {
        let mut builder = axum::http::Request::builder()
            .method(request.method.as_str())
            .uri(match request.url.query() {
                Some(q) => format!("{}?{q}", request.url.path()),
                None => request.url.path().to_owned(),
            });
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let Ok(http_request) = builder.body(Body::from(request.body.clone())) else {
            return klarna_error(400, "BAD_REQUEST", "The request could not be read");
        };
        let (answer, answered) = mpsc::channel();
        let sent = self
            .to_mock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send((http_request, answer));
        match sent.ok().and_then(|()| answered.recv().ok()) {
            Some(answer) => template(answer, truncate),
            None => klarna_error(500, "INTERNAL_SERVER_ERROR", "The mock stopped"),
        }
    }
}

impl Respond for KlarnaResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.fault_for(request.url.path()) {
            Some(FaultKind::Status(status)) => {
                klarna_error(*status, "SERVICE_FAULT", "Fault injected by the test")
            }
            Some(FaultKind::RateLimited(seconds)) => {
                klarna_error(429, "TOO_MANY_REQUESTS", "Too many requests")
                    .insert_header("Retry-After", seconds.to_string().as_str())
            }
            Some(FaultKind::Delay(delay)) => self.forward(request, false).set_delay(*delay),
            Some(FaultKind::TruncatedBody) => self.forward(request, true),
            // A length beyond the body: the server closes the connection
            // when the body ends short of it, and the client sees it drop.
            Some(FaultKind::DropConnection) => self
                .forward(request, true)
                .insert_header("content-length", "1048576"),
            None => self.forward(request, false),
        }
    }
}

/// The mock's answer, read whole.
async fn read(response: axum::response::Response) -> Answer {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default()
        .to_vec();
    let mut answer = Answer {
        status: parts.status.as_u16(),
        headers: Vec::new(),
        content_type: None,
        body,
    };
    for (name, value) in &parts.headers {
        match name.as_str() {
            // wiremock sets the length itself.
            "content-length" => {}
            "content-type" => answer.content_type = value.to_str().ok().map(str::to_owned),
            _ => answer
                .headers
                .push((name.as_str().to_owned(), value.as_bytes().to_vec())),
        }
    }
    answer
}

/// The answer as a template: status, headers, body as sent (its first half
/// when `truncate`).
fn template(answer: Answer, truncate: bool) -> ResponseTemplate {
    let mut template = ResponseTemplate::new(answer.status);
    for (name, value) in &answer.headers {
        template = template.append_header(name.as_str(), value.as_slice());
    }
    if answer.body.is_empty() {
        return template;
    }
    let mut body = answer.body;
    if truncate {
        body.truncate(body.len() / 2);
    }
    let mime = answer.content_type.as_deref().unwrap_or("application/json");
    template.set_body_raw(body, mime)
}

/// A Klarna-shaped error answer made by the fault, not by the mock.
fn klarna_error(status: u16, error_code: &str, message: &str) -> ResponseTemplate {
    let correlation_id = "00000000-0000-4000-8000-00000000fa17";
    ResponseTemplate::new(status)
        .insert_header("Klarna-Correlation-Id", correlation_id)
        .set_body_raw(
            serde_json::json!({
                "correlation_id": correlation_id,
                "error_code": error_code,
                "error_messages": [message],
            })
            .to_string(),
            "application/json",
        )
}
