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
    client: reqwest::Client,
    capabilities: Capabilities,
    timeout: Duration,
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
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| TargetError::Transport {
                target: base.clone(),
                cause: e.to_string(),
            })?;
        Ok(HttpTarget {
            base,
            client,
            capabilities,
            timeout,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn send_inner(
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
        let response = builder.send().await.map_err(|e| self.classify(e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| self.classify(e))?;
        let headers = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
        Ok(super::exchange(request, status, headers, &bytes))
    }

    fn classify(&self, e: reqwest::Error) -> TargetError {
        let target = self.base.clone();
        if e.is_timeout() {
            TargetError::Timeout {
                target,
                seconds: self.timeout.as_secs(),
            }
        } else if e.is_connect() {
            TargetError::Unreachable {
                target,
                cause: root_cause(&e),
            }
        } else {
            TargetError::Transport {
                target,
                cause: root_cause(&e),
            }
        }
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
        self.base.clone()
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn send<'a>(
        &'a self,
        request: &'a Request,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
        Box::pin(self.send_inner(request, credentials))
    }
}
