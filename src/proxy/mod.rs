//! A validating proxy (`serve --upstream playground|URL`): a merchant's own
//! application talks to Klarna through it, and it judges both directions as
//! they pass, never blocking or altering them.
//!
//! Every request is forwarded to the upstream (method, path and query,
//! body, every end-to-end header, the merchant's `Authorization` included)
//! and the upstream's answer returned as it came. On the way, each create
//! session, update session, create order and create customer token body
//! meets the `check-payload` rules ([`crate::check`]), a create order meets
//! what the proxy saw of its session (docs/klarna.md §3.4; the browser's
//! part of a session does not pass the proxy, see [`judge`]), and each
//! answer meets the invariants every Klarna answer keeps
//! ([`crate::engine::Invariants`]: Klarna's error shape, the correlation id
//! in header and body, fresh ids, a placed order's `fraud_status`, and the
//! OpenAPI documents when given). Findings are reported as they happen and
//! summed up in a [`ProxyReport`] when the proxy stops.
//!
//! Credentials pass through and go nowhere else: no request header is
//! kept, so none can reach a finding, a report or a log.
//!
//! A `*.klarna.com` upstream must be a playground host and needs the opt-in
//! (`KLARNA_PLAYGROUND=1` or `--yes-call-klarna`), as for `certify`
//! ([`crate::certify::check_host`]); [`upstream_url`] refuses before
//! anything is sent.

mod forward;
mod judge;
mod operation;
mod report;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

pub use report::{Finding, Grade, ProxyReport, Seen};

use crate::cassette::{Cassette, Recorder};
use crate::certify::{Region, Unusable, check_host};
use crate::exchange::Exchange;
use crate::openapi::OpenApi;
use judge::Judge;

/// Seconds the upstream has for one answer, unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Called with each finding as it is made (the binary prints it to stderr).
pub type OnFinding = Arc<dyn Fn(&Finding) + Send + Sync>;

/// What a proxy forwards to and how it judges.
#[derive(Clone)]
pub struct ProxyConfig {
    /// The upstream's base URL, without a trailing slash (see [`upstream_url`]).
    pub upstream: String,
    /// How long the upstream has for one answer; after it the client gets 502.
    pub timeout: Duration,
    /// Largest request body taken, in bytes (larger: 413 from the proxy, not forwarded).
    pub body_limit: usize,
    /// Answers are also checked against these OpenAPI documents.
    pub openapi: Vec<Arc<OpenApi>>,
    pub on_finding: Option<OnFinding>,
    /// Every exchange that got an answer goes into this cassette too (see
    /// [`cassette_header`]); it holds no request header but an idempotency key.
    pub recorder: Option<Arc<Recorder>>,
}

impl ProxyConfig {
    pub fn new(upstream: impl Into<String>) -> ProxyConfig {
        ProxyConfig {
            upstream: upstream.into().trim_end_matches('/').to_owned(),
            timeout: DEFAULT_TIMEOUT,
            body_limit: crate::mock::DEFAULT_BODY_LIMIT,
            openapi: Vec::new(),
            on_finding: None,
            recorder: None,
        }
    }
}

/// Why a proxy cannot start; nothing was sent (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(
        "--upstream {host} is Klarna's: set {}=1 or pass --yes-call-klarna to let the proxy forward to it (nothing was sent)",
        crate::targets::env::PLAYGROUND
    )]
    OptInRequired { host: String },
    #[error(
        "--upstream {host} is not a Klarna playground host: the proxy forwards to the playground (api[-na|-oc].playground.klarna.com) only, never to production (nothing was sent)"
    )]
    NotPlayground { host: String },
    #[error("--upstream {given:?}: {why}")]
    BadUpstream { given: String, why: String },
    #[error("{0}")]
    Start(String),
}

/// The base URL `--upstream` names: `playground` is the playground of
/// `region` (docs/klarna.md §1.1), anything else an http(s) URL. Klarna's
/// hosts are held to [`check_host`]: the playground only, and only with
/// `call_klarna`. Sends nothing.
pub fn upstream_url(given: &str, region: Region, call_klarna: bool) -> Result<String, ProxyError> {
    let url = if given == "playground" {
        region.playground_url()
    } else {
        given
    };
    let url = url.trim_end_matches('/');
    let bad = |why: String| ProxyError::BadUpstream {
        given: given.to_owned(),
        why,
    };
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| bad(format!("{e}; give playground or an http(s) URL")))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a base URL has no query or fragment".into()));
    }
    match check_host(url, call_klarna) {
        Ok(()) => Ok(url.to_owned()),
        Err(Unusable::OptInRequired { host }) => Err(ProxyError::OptInRequired { host }),
        Err(Unusable::NotPlayground { host }) => Err(ProxyError::NotPlayground { host }),
        Err(Unusable::Input(_)) => Err(bad(
            "expected playground or an http:// or https:// URL".into()
        )),
        Err(Unusable::Target(e)) => Err(bad(e.to_string())),
    }
}

/// The header of the cassette a proxy records (`serve --upstream URL
/// --record FILE`): one case, `proxy`, of the traffic in the order it was
/// answered. It replays no seed: the requests were the merchant's.
pub fn cassette_header(upstream: &str) -> Cassette {
    let mut header = Cassette::of_target(
        "serve --upstream",
        &crate::targets::TargetSpec::url(upstream),
    );
    if crate::targets::klarna_host(upstream).is_some() {
        header.target.kind = crate::targets::TargetKind::Playground.as_str().to_owned();
    }
    header.target.control_api = false;
    header.target.clock_start = None;
    header
}

/// A running proxy; [`ProxyServer::shutdown`] stops it and returns what it saw.
pub struct ProxyServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    config: ProxyConfig,
    client: reqwest::Client,
    /// Requests taken so far: the n of the next one is this + 1.
    taken: AtomicUsize,
    judge: Mutex<Judge>,
}

impl ProxyServer {
    /// A proxy on an ephemeral loopback port.
    pub async fn start(config: ProxyConfig) -> Result<ProxyServer, ProxyError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| ProxyError::Start(format!("cannot bind 127.0.0.1:0: {e}")))?;
        ProxyServer::listen(listener, config)
    }

    /// A proxy on `listener`, served on the current tokio runtime.
    pub fn listen(
        listener: tokio::net::TcpListener,
        config: ProxyConfig,
    ) -> Result<ProxyServer, ProxyError> {
        let addr = listener
            .local_addr()
            .map_err(|e| ProxyError::Start(format!("the listener has no address: {e}")))?;
        let client = forward::client(config.timeout).map_err(ProxyError::Start)?;
        let shared = Arc::new(Shared {
            judge: Mutex::new(Judge::new(config.openapi.clone())),
            config,
            client,
            taken: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            let _ = serve.await;
        });
        Ok(ProxyServer {
            addr,
            shared,
            stop,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the proxy saw so far.
    pub fn report(&self) -> ProxyReport {
        let judge = self
            .shared
            .judge
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        judge.report(&self.shared.config.upstream)
    }

    /// Stops taking requests, lets those under way finish (each within the
    /// upstream timeout), and returns the report.
    pub async fn shutdown(self) -> ProxyReport {
        let _ = self.stop.send(());
        let grace = self.shared.config.timeout + Duration::from_secs(1);
        let _ = tokio::time::timeout(grace, self.task).await;
        let judge = self
            .shared
            .judge
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        judge.report(&self.shared.config.upstream)
    }
}

/// One request: forwarded, answered as the upstream answered, then judged.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let n = shared.taken.fetch_add(1, Ordering::Relaxed) + 1;
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let config = &shared.config;
    let Ok(body) = axum::body::to_bytes(body, config.body_limit).await else {
        let why = format!(
            "the request body is larger than {} bytes, or broke off",
            config.body_limit
        );
        return unanswered(
            &shared,
            (n, &method, &path),
            "proxy.body_limit",
            format!("{why}: not forwarded; the client got 413"),
            (StatusCode::PAYLOAD_TOO_LARGE, "BAD_REQUEST"),
            format!("klarna-conformance proxy: {why}; nothing was forwarded"),
        );
    };
    let url = format!("{}{}", config.upstream, path_and_query);
    let headers = forward::end_to_end(&parts.headers);
    let idempotency_key = parts
        .headers
        .get("klarna-idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| ("klarna-idempotency-key".to_owned(), v.to_owned()));
    let request_body = (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned());
    let sent = forward::forward(
        &shared.client,
        config.timeout,
        parts.method,
        &url,
        headers,
        body,
    )
    .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(e) => {
            return unanswered(
                &shared,
                (n, &method, &path),
                "upstream.unreachable",
                format!("no answer from the upstream {e}; the client got 502"),
                (StatusCode::BAD_GATEWAY, "BAD_GATEWAY"),
                format!("klarna-conformance proxy: no answer from the upstream {e}"),
            );
        }
    };
    let exchange = Exchange {
        method,
        path,
        request_headers: idempotency_key.into_iter().collect(),
        request_body,
        status: answer.status.as_u16(),
        response_headers: answer
            .headers
            .iter()
            .filter(|(name, _)| !forward::is_secret(name))
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        response_body: String::from_utf8_lossy(&answer.body).into_owned(),
    };
    if let Some(recorder) = &config.recorder {
        recorder.push(&exchange);
    }
    let findings = lock(&shared).observe(n, &exchange);
    for finding in &findings {
        tell(config, finding);
    }
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    response
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Judge> {
    shared.judge.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A request the upstream never answered: its finding, told as it happens,
/// and the proxy's own answer to the client.
fn unanswered(
    shared: &Arc<Shared>,
    (n, method, path): (usize, &str, &str),
    rule: &'static str,
    finding: String,
    (status, code): (StatusCode, &str),
    message: String,
) -> Response {
    let finding = lock(shared).unanswered(n, method, path, rule, finding);
    tell(&shared.config, &finding);
    own_error(status, code, n, message)
}

fn tell(config: &ProxyConfig, finding: &Finding) {
    if let Some(on_finding) = &config.on_finding {
        on_finding(finding);
    }
}

/// The proxy's own answer when the upstream gave none: Klarna's error
/// shape (docs/klarna.md §4.1), so the merchant's client reads it as it
/// reads Klarna's, with a correlation id that is plainly the proxy's.
fn own_error(status: StatusCode, code: &str, n: usize, message: String) -> Response {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let correlation_id = format!("klarna-conformance-proxy-{n}-{nanos:x}");
    let body = serde_json::json!({
        "correlation_id": correlation_id,
        "error_code": code,
        "error_messages": [message],
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(&correlation_id) {
        headers.insert("klarna-correlation-id", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_are_held_to_the_playground() {
        assert_eq!(
            upstream_url("playground", Region::Na, true).unwrap(),
            "https://api-na.playground.klarna.com"
        );
        assert!(matches!(
            upstream_url("playground", Region::Eu, false),
            Err(ProxyError::OptInRequired { .. })
        ));
        assert!(matches!(
            upstream_url("https://api.klarna.com/", Region::Eu, true),
            Err(ProxyError::NotPlayground { .. })
        ));
        assert_eq!(
            upstream_url("http://127.0.0.1:9/", Region::Eu, false).unwrap(),
            "http://127.0.0.1:9"
        );
        for bad in ["ftp://x", "nonsense", "http://h/?q=1"] {
            assert!(
                matches!(
                    upstream_url(bad, Region::Eu, false),
                    Err(ProxyError::BadUpstream { .. })
                ),
                "{bad}"
            );
        }
    }
}
