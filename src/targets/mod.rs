//! Targets: what the harness talks to.
//!
//! Every target answers the same [`Request`]s with [`Exchange`]s; what differs
//! is where the request goes and what the target can do beyond Klarna's API
//! ([`Capabilities`]): the embedded mock is called in-process (no sockets),
//! a URL target over HTTP (`klarna-conformance serve`, wiremock stubs, a
//! merchant's own fake), and Klarna's playground over HTTPS.

mod cassette;
mod embedded;
mod http;
mod paced;
mod spec;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub use cassette::{Player, serve_wiremock};
pub use embedded::Embedded;
pub use http::{HttpTarget, PLAYGROUND_EU, PLAYGROUND_NA, PLAYGROUND_OC, Retry, safe_to_retry};
pub use paced::{Paced, Pacing};
pub use spec::{
    TargetKind, TargetSpec, env, klarna_host, pacer, playground_opt_in, playground_url,
};

use crate::exchange::Exchange;

/// A boxed future, so targets can be used as `dyn Target`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One request to a target: method, path (with query, if any), JSON body
/// text, and headers beyond authorization and content type (e.g.
/// `Klarna-Idempotency-Key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Option<String>,
    pub headers: Vec<(&'static str, String)>,
}

/// The HTTP methods Klarna's Payments and Order Management APIs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// HTTP Basic credentials. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The `Authorization` header value (docs/klarna.md §1.2).
    pub fn header_value(&self) -> String {
        use base64::Engine as _;
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What a target can do beyond Klarna's own API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// It serves the mock's control API (`/__mock/...`): authorize without a
    /// browser and a virtual clock.
    pub control_api: bool,
}

/// Why a target could not be used. Never a conformance failure: the runner
/// exits 2 on these (docs/design.md: a target error is not a verdict on Klarna's rules).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("cannot reach {target}: {cause}")]
    Unreachable { target: String, cause: String },
    #[error("{target} did not answer within {seconds} s")]
    Timeout { target: String, seconds: u64 },
    #[error("{target} refused the credentials (401): check the username and password")]
    Unauthorized { target: String },
    #[error("{target} has no control API (`/__mock/...`); {what} needs one")]
    NoControlApi { target: String, what: String },
    #[error("{target}: {cause}")]
    Transport { target: String, cause: String },
    /// A token the user authorized in a browser was refused before any rule
    /// could be judged: expired (60 minutes), used already, or not this
    /// merchant's (docs/klarna.md §5.1, §7).
    #[error(
        "browser-authorized token #{index} was refused ({status} {answer}): it may be older than 60 minutes, used already, or not this merchant's; authorize again and rerun"
    )]
    UnusableToken {
        index: usize,
        status: u16,
        answer: String,
    },
    /// What stood for the browser's `authorize()` could not do its job
    /// (docs/design.md "Authorizers").
    #[error("the authorizer ({authorizer}) failed: {cause}")]
    Authorizer { authorizer: String, cause: String },
    /// 429 on every attempt (docs/klarna.md §10: the playground's rate limit).
    #[error("{target} kept answering 429 Too Many Requests ({attempts} attempts, with pauses)")]
    RateLimited { target: String, attempts: u32 },
    /// A replayed cassette does not hold the request this run sent (or holds
    /// requests it did not send): the recording and today's generator
    /// disagree, which says nothing about Klarna's rules.
    #[error(
        "cassette mismatch in {file} at {at}: the cassette holds {expected}; this run {got}{}",
        diff_text(diff)
    )]
    CassetteMismatch {
        file: String,
        /// Which case and request, e.g. `case `order-succeeds` seed 7, request #3`.
        at: String,
        expected: String,
        got: String,
        /// The recorded and the sent request as a line diff (empty when there is no request to compare).
        diff: String,
    },
}

fn diff_text(diff: &str) -> String {
    if diff.is_empty() {
        String::new()
    } else {
        format!("\n{diff}")
    }
}

/// What the harness talks to.
pub trait Target: Send + Sync {
    /// A short description for reports, e.g. `embedded mock` or `http://127.0.0.1:8080`.
    fn describe(&self) -> String;
    fn capabilities(&self) -> Capabilities;
    /// Sends one request with these credentials and records the exchange.
    fn send<'a>(
        &'a self,
        request: &'a Request,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>>;

    /// A step of the run made without a request to the target (an
    /// authorizer's SDK result, a real pause), as it ended: a recording
    /// target keeps it with the exchanges.
    fn note(&self, _step: &Exchange) {}

    /// Whether this target replays a cassette ([`Target::recorded_step`] may
    /// answer), so the step's request is worth building.
    fn replays(&self) -> bool {
        false
    }

    /// Such a step's recorded answer, when this target replays a cassette
    /// whose next exchange is one: the authorizer is then not asked and the
    /// pause not waited. `None` everywhere else.
    fn recorded_step(
        &self,
        _method: &str,
        _path: &str,
        _body: Option<&str>,
    ) -> Option<Result<Exchange, TargetError>> {
        None
    }
}

/// The exchange of `request` answered with `status`, `headers` and `body`:
/// one construction for every target, so all record answers alike.
fn exchange<'h>(
    request: &Request,
    status: u16,
    headers: impl Iterator<Item = (&'h str, &'h [u8])>,
    body: &[u8],
) -> Exchange {
    Exchange {
        method: request.method.as_str().to_owned(),
        path: request.path.clone(),
        request_headers: request
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .collect(),
        request_body: request.body.clone(),
        status,
        response_headers: headers
            .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect(),
        response_body: String::from_utf8_lossy(body).into_owned(),
    }
}
