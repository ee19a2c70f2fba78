//! Any server reached over HTTP(S): `klarna-conformance serve`, wiremock stubs,
//! a merchant's fake, Klarna's playground.

use std::time::Duration;

use super::{BoxFuture, Capabilities, Credentials, Request, Target, TargetError};
use crate::exchange::Exchange;

/// Klarna's playground base URLs per region (docs/klarna.md §1.1).
pub const PLAYGROUND_EU: &str = "https://api.playground.klarna.com";
pub const PLAYGROUND_NA: &str = "https://api-na.playground.klarna.com";
pub const PLAYGROUND_OC: &str = "https://api-oc.playground.klarna.com";

/// A target reached over HTTP.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    base: String,
    /// `base` without `user:password@`, for messages and reports.
    shown: String,
    client: reqwest::Client,
    capabilities: Capabilities,
    timeout: Duration,
    retry: Retry,
}

/// What a careful integration does when a call fails in transit or a gateway
/// answers 502, 503 or 504: try again, a bounded number of times, but only
/// where a second arrival cannot do anything the first did not
/// ([`safe_to_retry`]). A 429 is the pacer's ([`super::Paced`]); any other
/// answer is the target's and is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries after the first.
    pub retries: u32,
    /// The pause before the first retry, doubled for each further one,
    /// unless a 503 says `Retry-After` (seconds, at most 30).
    pub pause: Duration,
}

impl Retry {
    pub const DEFAULT: Retry = Retry {
        retries: 2,
        pause: Duration::from_millis(250),
    };
    pub const NEVER: Retry = Retry {
        retries: 0,
        pause: Duration::ZERO,
    };
}

/// Whether sending `request` twice does what sending it once does: reads;
/// create order, which with an identical body answers the same order
/// (docs/klarna.md §5.2); anything carrying a `Klarna-Idempotency-Key`
/// (docs/klarna.md §13.4). Creating a session, updating one, cancelling an
/// authorization or an Order Management call without a key are not: the
/// first may have taken effect.
pub fn safe_to_retry(request: &Request) -> bool {
    let keyed = request
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("klarna-idempotency-key"));
    let path = request.path.split('?').next().unwrap_or("");
    match request.method {
        super::Method::Get => true,
        super::Method::Post if path.starts_with("/payments/v1/authorizations/") => {
            path.trim_end_matches('/').ends_with("/order")
        }
        _ => keyed,
    }
}

/// The HTTP client of a target. A redirect is the target's answer, judged
/// as it is: Klarna's API answers none, and following one would hide it.
fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(64)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

impl HttpTarget {
    /// A server speaking Payments v1 and the mock's control API at `base_url`.
    pub fn new(base_url: &str) -> Result<HttpTarget, TargetError> {
        Self::with_capabilities(base_url, Capabilities { control_api: true })
    }

    /// Klarna's real playground: no control API, a real clock.
    pub fn playground(base_url: &str) -> Result<HttpTarget, TargetError> {
        Self::with_capabilities(base_url, Capabilities { control_api: false })
    }

    pub fn with_capabilities(
        base_url: &str,
        capabilities: Capabilities,
    ) -> Result<HttpTarget, TargetError> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(TargetError::Unreachable {
                target: base_url.to_owned(),
                cause: "not an http:// or https:// URL".to_owned(),
            });
        }
        let timeout = Duration::from_secs(30);
        let client = client(timeout).map_err(|e| TargetError::Transport {
            target: base.clone(),
            cause: e.to_string(),
        })?;
        let shown = without_userinfo(&base);
        Ok(HttpTarget {
            base,
            shown,
            client,
            capabilities,
            timeout,
            retry: Retry::DEFAULT,
        })
    }

    /// The same target with another timeout per call (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Result<HttpTarget, TargetError> {
        self.client = client(timeout).map_err(|e| TargetError::Transport {
            target: self.shown.clone(),
            cause: e.to_string(),
        })?;
        self.timeout = timeout;
        Ok(self)
    }

    /// The same target with another retry policy (default [`Retry::DEFAULT`]).
    pub fn with_retry(mut self, retry: Retry) -> HttpTarget {
        self.retry = retry;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends `request`, retrying as [`Retry`] allows when it is safe.
    async fn send_retrying(
        &self,
        request: &Request,
        credentials: &Credentials,
    ) -> Result<Exchange, TargetError> {
        let retries = if safe_to_retry(request) {
            self.retry.retries
        } else {
            0
        };
        let mut attempt = 0;
        loop {
            let sent = self.send_once(request, credentials).await;
            let pause = match &sent {
                // Nothing listens: trying again at once will not help.
                Err(TargetError::Unreachable { .. }) => None,
                Err(_) => Some(None),
                Ok(ex) if matches!(ex.status, 502..=504) => Some(super::paced::retry_after(ex)),
                Ok(_) => None,
            };
            match pause {
                Some(after) if attempt < retries => {
                    let backoff = self.retry.pause.saturating_mul(1 << attempt.min(16));
                    let pause = after.unwrap_or(backoff).min(super::paced::MAX_PAUSE);
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Some(_) if attempt > 0 => {
                    return sent.map_err(|e| retried(e, attempt + 1));
                }
                _ => return sent,
            }
        }
    }

    async fn send_once(
        &self,
        request: &Request,
        credentials: &Credentials,
    ) -> Result<Exchange, TargetError> {
        let url = format!("{}{}", self.base, request.path);
        let method = match request.method {
            super::Method::Get => reqwest::Method::GET,
            super::Method::Post => reqwest::Method::POST,
            super::Method::Patch => reqwest::Method::PATCH,
            super::Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .client
            .request(method, &url)
            .header(reqwest::header::AUTHORIZATION, credentials.header_value());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| self.classify(e, request))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.classify(e, request))?;
        let headers = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
        Ok(super::exchange(request, status, headers, &bytes))
    }

    /// A failed call as a target error; beyond a refused connection it
    /// names the request (`POST http://host/payments/v1/sessions`).
    fn classify(&self, e: reqwest::Error, request: &Request) -> TargetError {
        let named = || format!("{} {}{}", request.method, self.shown, request.path);
        if e.is_timeout() {
            TargetError::Timeout {
                target: named(),
                seconds: self.timeout.as_secs(),
            }
        } else if e.is_connect() {
            TargetError::Unreachable {
                target: self.shown.clone(),
                cause: root_cause(&e),
            }
        } else {
            TargetError::Transport {
                target: named(),
                cause: root_cause(&e),
            }
        }
    }
}

/// `url` without `user:password@`: a password in a target URL must not
/// reach a message, a report or a cassette.
pub fn without_userinfo(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.as_str().trim_end_matches('/').to_owned()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
#[test]
fn userinfo_is_dropped_from_descriptions() {
    assert_eq!(
        without_userinfo("http://shop:s3cret@127.0.0.1:8080/"),
        "http://127.0.0.1:8080"
    );
    assert_eq!(without_userinfo("the embedded mock"), "the embedded mock");
    let target = HttpTarget::new("http://shop:s3cret@127.0.0.1:8080").unwrap();
    assert_eq!(target.describe(), "http://127.0.0.1:8080");
}

/// `e` after `attempts` tries, saying so.
fn retried(e: TargetError, attempts: u32) -> TargetError {
    match e {
        TargetError::Transport { target, cause } => TargetError::Transport {
            target,
            cause: format!("{cause} (on each of {attempts} attempts)"),
        },
        TargetError::Timeout { target, seconds } => TargetError::Transport {
            target,
            cause: format!("no answer within {seconds} s on each of {attempts} attempts"),
        },
        other => other,
    }
}

/// The innermost error message: reqwest's own text says only "error sending request".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

impl Target for HttpTarget {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn send<'a>(
        &'a self,
        request: &'a Request,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
        Box::pin(self.send_retrying(request, credentials))
    }
}
