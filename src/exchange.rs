//! What one request and its response looked like on the wire.
//!
//! The runner keeps every exchange of a case; verdicts, snapshots and reports
//! are made from them. Credentials never enter an exchange: the
//! `Authorization` header is added by the target when the request is sent.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One request and its response, as seen on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub method: String,
    /// The path, e.g. `/payments/v1/authorizations/{token}/order` with the real token.
    pub path: String,
    /// Request headers the harness set beyond authorization and content type
    /// (`klarna-idempotency-key`), names lower-cased. Credentials never.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_headers: Vec<(String, String)>,
    /// The request body as sent (JSON text), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    pub status: u16,
    /// Response headers, names lower-cased, in the order received.
    pub response_headers: Vec<(String, String)>,
    /// The response body as received (UTF-8 lossily decoded).
    pub response_body: String,
}

/// The method of a step that is no HTTP request: an authorizer's SDK
/// result (`crate::authorize::sdk_exchange`).
pub const SDK_METHOD: &str = "SDK";
/// The method of a real pause on a target with a real clock (held expiry).
pub const WAIT_METHOD: &str = "WAIT";

impl Exchange {
    /// Whether this step was an HTTP request to the target: the
    /// every-answer invariants hold only there.
    pub fn is_http(&self) -> bool {
        self.method != SDK_METHOD && self.method != WAIT_METHOD
    }

    /// The response body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        if self.response_body.trim().is_empty() {
            return None;
        }
        serde_json::from_str(&self.response_body).ok()
    }

    /// The request body parsed as JSON, if any.
    pub fn request_json(&self) -> Option<Value> {
        self.request_body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
    }

    /// The first response header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Klarna-Correlation-Id`, Klarna's id of the request (docs/klarna.md §1.4).
    pub fn correlation_id(&self) -> Option<&str> {
        self.header("klarna-correlation-id")
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.path)?;
        if let Some(body) = &self.request_body {
            writeln!(f, "{}", indent(&pretty(body)))?;
        }
        writeln!(f, "-> {}", self.status)?;
        if !self.response_body.is_empty() {
            write!(f, "{}", indent(&pretty(&self.response_body)))?;
        }
        Ok(())
    }
}

/// At most `max` characters of `text`, with `…` where it was cut: an
/// answer or an output quoted in a message.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Pretty-prints JSON text; anything else is shown as it is.
pub fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
