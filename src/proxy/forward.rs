//! Passing one request to the upstream and its answer back, unchanged but
//! for the hop-by-hop headers (RFC 9110 §7.6.1), which belong to one
//! connection and not to the message.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};

/// Headers that describe one connection, never forwarded either way.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
];

/// `headers` without hop-by-hop ones (and those `Connection` names), nor
/// `Host` (the upstream's comes from its URL), nor `Content-Length`
/// (recomputed from the body, which passes whole), nor `Upgrade`: the proxy
/// speaks plain request/answer HTTP. Nor `Accept-Encoding`: the answer is
/// judged as it passes, so it must come uncompressed (the client gets it
/// so; any HTTP client reads an identity body).
pub(super) fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        let lower = name.as_str();
        let dropped = HOP_BY_HOP.contains(&lower)
            || named.iter().any(|n| n == lower)
            || name == header::HOST
            || name == header::CONTENT_LENGTH
            || name == header::UPGRADE
            || name == header::ACCEPT_ENCODING;
        if !dropped {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// The upstream's answer, whole.
pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why no answer came back.
#[derive(Debug, thiserror::Error)]
pub(super) enum ForwardError {
    #[error("{url}: no answer within {}s", .timeout.as_secs())]
    Timeout { url: String, timeout: Duration },
    #[error("{url}: {cause}")]
    Unreachable { url: String, cause: String },
}

/// The one client of a proxy: no redirects followed (the caller sees the
/// upstream's 3xx as it is), no decompression (bodies pass as bytes), a
/// timeout for the whole exchange.
pub(super) fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Sends the request to `url` (the upstream's base joined with the
/// request's path and query) with the caller's end-to-end headers,
/// credentials included, and reads the whole answer.
pub(super) async fn forward(
    client: &reqwest::Client,
    timeout: Duration,
    method: Method,
    url: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Answer, ForwardError> {
    let fail = |e: reqwest::Error| {
        if e.is_timeout() {
            ForwardError::Timeout {
                url: url.to_owned(),
                timeout,
            }
        } else {
            ForwardError::Unreachable {
                url: url.to_owned(),
                cause: describe(&e),
            }
        }
    };
    let response = client
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(fail)?;
    let status = response.status();
    let headers = end_to_end(response.headers());
    let body = response.bytes().await.map_err(fail)?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// reqwest's error with its causes (`error sending request: connection
/// refused`), without the URL it repeats: the message names it once.
fn describe(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.dedup();
    parts.join(": ")
}

/// Whether a header of this name may carry a secret: never copied into an
/// exchange, a finding or a report.
pub(super) fn is_secret(name: &HeaderName) -> bool {
    name == header::AUTHORIZATION
        || name == header::PROXY_AUTHORIZATION
        || name == header::COOKIE
        || name == header::SET_COOKIE
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn hop_by_hop_headers_stay_behind() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Basic dTpw"),
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("host", "127.0.0.1:8080"),
            ("content-length", "12"),
            ("accept-encoding", "gzip, br"),
            ("content-type", "application/json"),
            ("klarna-idempotency-key", "k-1"),
        ] {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let kept = end_to_end(&headers);
        let names: Vec<&str> = kept.keys().map(HeaderName::as_str).collect();
        assert_eq!(
            names,
            ["authorization", "content-type", "klarna-idempotency-key"]
        );
        assert!(is_secret(&header::AUTHORIZATION));
        assert!(!is_secret(&header::CONTENT_TYPE));
    }
}
