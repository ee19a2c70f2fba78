//! The embedded mock: the project's own mock server, called in-process.
//!
//! Requests go through the mock's real axum router (routing, authentication,
//! JSON parsing, the store) via `tower::ServiceExt::oneshot`, without a
//! socket: the same answers as over loopback, several times faster. Each
//! `Embedded` owns its mock, so its virtual clock is private to whoever made
//! it (the runner makes one per case; docs/design.md, "Traps": moving a shared
//! clock would expire other cases' tokens).

use axum::body::Body;
use tower::ServiceExt as _;

use super::{BoxFuture, Capabilities, Credentials, Request, Target, TargetError};
use crate::exchange::Exchange;
use crate::mock::MockConfig;

/// An in-process mock server.
#[derive(Clone)]
pub struct Embedded {
    router: axum::Router,
}

impl Embedded {
    pub fn new(config: MockConfig) -> Embedded {
        Embedded {
            router: crate::mock::router(config),
        }
    }

    async fn send_inner(
        &self,
        request: &Request,
        credentials: &Credentials,
    ) -> Result<Exchange, TargetError> {
        let transport = |cause: String| TargetError::Transport {
            target: self.describe(),
            cause,
        };
        let mut builder = axum::http::Request::builder()
            .method(request.method.as_str())
            .uri(&request.path)
            .header("authorization", credentials.header_value());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let body = match &request.body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                Body::from(body.clone())
            }
            None => Body::empty(),
        };
        let http_request = builder.body(body).map_err(|e| transport(e.to_string()))?;
        let response = self
            .router
            .clone()
            .oneshot(http_request)
            .await
            .map_err(|e| transport(e.to_string()))?;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| transport(e.to_string()))?;
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()));
        Ok(super::exchange(
            request,
            parts.status.as_u16(),
            headers,
            &bytes,
        ))
    }
}

impl Target for Embedded {
    fn describe(&self) -> String {
        "embedded mock".to_owned()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { control_api: true }
    }

    fn send<'a>(
        &'a self,
        request: &'a Request,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
        Box::pin(self.send_inner(request, credentials))
    }
}
