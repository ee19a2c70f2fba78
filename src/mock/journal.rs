//! The request journal of one scope, like WireMock's: what each request sent
//! and what it was answered, oldest first, for `GET /__mock/requests`.
//!
//! Bounded: the newest `journal_limit` entries (by default
//! [`JOURNAL_LIMIT`]; 0 keeps none) and at most
//! [`JOURNAL_BYTES`] of bodies; the oldest go first. Bodies are kept as the
//! bytes that went over the wire and parsed only when listed, so recording
//! costs a copy of the request body and nothing of the answer's (shared).
//! Of the request headers only the merchant's own are kept
//! (`Klarna-Idempotency-Key`, `Klarna-Integrator`, `Content-Type`): never
//! `Authorization`.

use std::collections::VecDeque;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use serde_json::{Map, Value, json};

use super::clock::rfc3339;

/// At most this many requests are kept per scope, by default
/// (`MockConfig::journal_limit`, `serve --journal-limit`). `[I]`
pub const JOURNAL_LIMIT: usize = 10_000;
/// At most this many bytes of request and answer bodies are kept per scope
/// (one request at the default body limit still fits). `[I]`
pub const JOURNAL_BYTES: usize = 32 * 1024 * 1024;

/// The request headers the journal keeps, as they are named in it.
const KEPT_HEADERS: [&str; 3] = [
    "klarna-idempotency-key",
    "klarna-integrator",
    "content-type",
];

/// What the HTTP layer saw of one request, before it was answered.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub method: Method,
    pub path: Box<str>,
    pub query: Option<Box<str>>,
    /// Copies: hyper's read buffer, which the values point into, is not held on to.
    headers: [Option<Box<[u8]>>; 3],
    /// The body as sent (a copy: hyper's read buffer is not held on to).
    pub body: Option<Bytes>,
}

impl Seen {
    pub fn new(method: &Method, uri: &axum::http::Uri, headers: &HeaderMap) -> Seen {
        Seen {
            method: method.clone(),
            path: uri.path().into(),
            query: uri.query().map(Into::into),
            headers: KEPT_HEADERS.map(|name| headers.get(name).map(|v| v.as_bytes().into())),
            body: None,
        }
    }

    fn content_type_is_json(&self) -> bool {
        self.headers[2]
            .as_deref()
            .is_some_and(|v| v.to_ascii_lowercase().windows(4).any(|w| w == b"json"))
    }
}

/// One request and its answer.
#[derive(Debug, Clone)]
struct Entry {
    /// The scope's clock when the request came (unix seconds).
    at: i64,
    seen: Seen,
    status: u16,
    /// The headers the store set on the answer (name, value); `content-type`
    /// and `klarna-correlation-id` are added when listed, as on the wire.
    headers: Vec<(&'static str, String)>,
    body: Option<Bytes>,
    correlation_id: Box<str>,
    latency_micros: u64,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.seen.body.as_ref().map_or(0, Bytes::len) + self.body.as_ref().map_or(0, Bytes::len)
    }
}

/// What `GET /__mock/requests` lists: every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Filter {
    /// The method, any case.
    pub method: Option<String>,
    /// A prefix of the path.
    pub path: Option<String>,
    pub status: Option<u16>,
    /// Only the newest N of those that match (still listed oldest first).
    pub limit: Option<usize>,
}

impl Filter {
    fn matches(&self, entry: &Entry) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| entry.seen.method.as_str().eq_ignore_ascii_case(m))
            && self
                .path
                .as_deref()
                .is_none_or(|p| entry.seen.path.starts_with(p))
            && self.status.is_none_or(|s| entry.status == s)
    }
}

/// The journal of one scope.
#[derive(Debug)]
pub(super) struct RequestJournal {
    entries: VecDeque<Entry>,
    bytes: usize,
    /// Entries kept at most.
    limit: usize,
}

/// One answer as the journal records it.
pub(super) struct Answered<'a> {
    pub status: u16,
    pub headers: &'a [(&'static str, String)],
    pub body: Option<&'a Bytes>,
    pub correlation_id: &'a str,
}

impl RequestJournal {
    /// An empty journal keeping at most `limit` requests (0: none).
    pub fn new(limit: usize) -> RequestJournal {
        RequestJournal {
            entries: VecDeque::new(),
            bytes: 0,
            limit,
        }
    }

    /// Records a request and its answer; drops the oldest past the bounds.
    pub fn record(&mut self, at: i64, seen: Seen, answered: Answered<'_>, latency_micros: u64) {
        if self.limit == 0 {
            return;
        }
        let entry = Entry {
            at,
            seen,
            status: answered.status,
            headers: answered.headers.to_vec(),
            body: answered.body.cloned(),
            correlation_id: answered.correlation_id.into(),
            latency_micros,
        };
        self.bytes += entry.bytes();
        self.entries.push_back(entry);
        while self.entries.len() > self.limit
            || (self.bytes > JOURNAL_BYTES && self.entries.len() > 1)
        {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.bytes();
            }
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries `filter` lets through, oldest first, as JSON.
    pub fn to_json(&self, filter: &Filter) -> Value {
        let matching: Vec<&Entry> = self.entries.iter().filter(|e| filter.matches(e)).collect();
        let skip = filter
            .limit
            .map_or(0, |limit| matching.len().saturating_sub(limit));
        Value::Array(matching[skip..].iter().map(|e| entry_json(e)).collect())
    }
}

fn entry_json(e: &Entry) -> Value {
    let mut request_headers = Map::new();
    for (name, value) in KEPT_HEADERS.iter().zip(&e.seen.headers) {
        if let Some(value) = value {
            let text = String::from_utf8_lossy(value).into_owned();
            request_headers.insert((*name).to_owned(), text.into());
        }
    }
    // As `http::respond` writes them: its own, then the store's (which win).
    let mut response_headers = Map::new();
    if e.body.is_some() {
        response_headers.insert("content-type".into(), "application/json".into());
    }
    if !e.correlation_id.is_empty() {
        response_headers.insert(
            "klarna-correlation-id".into(),
            (*e.correlation_id).to_owned().into(),
        );
    }
    for (name, value) in &e.headers {
        response_headers.insert(name.to_ascii_lowercase(), value.clone().into());
    }
    json!({
        "at": rfc3339(e.at),
        "method": e.seen.method.as_str(),
        "path": &*e.seen.path,
        "query": e.seen.query.as_deref(),
        "request_headers": request_headers,
        "request_body": body_json(e.seen.body.as_ref(), e.seen.content_type_is_json()),
        "status": e.status,
        "response_headers": response_headers,
        "response_body": body_json(e.body.as_ref(), true),
        "correlation_id": (!e.correlation_id.is_empty()).then_some(&*e.correlation_id),
        "latency_ms": e.latency_micros as f64 / 1000.0,
    })
}

/// A body as JSON when it is JSON, else as text; `null` when empty.
fn body_json(body: Option<&Bytes>, json: bool) -> Value {
    match body {
        None => Value::Null,
        Some(b) if b.is_empty() => Value::Null,
        Some(b) => json
            .then(|| serde_json::from_slice(b).ok())
            .flatten()
            .unwrap_or_else(|| Value::String(String::from_utf8_lossy(b).into_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(method: Method, path: &str) -> Seen {
        let uri: axum::http::Uri = path.parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Basic c2VjcmV0".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("klarna-integrator", "shop/1.0".parse().unwrap());
        let mut seen = Seen::new(&method, &uri, &headers);
        seen.body = Some(Bytes::from_static(br#"{"a":1}"#));
        seen
    }

    fn record(journal: &mut RequestJournal, seen: Seen, status: u16, body: &'static [u8]) {
        let body = Bytes::from_static(body);
        journal.record(
            7,
            seen,
            Answered {
                status,
                headers: &[("klarna-correlation-id", "c".to_owned())],
                body: Some(&body),
                correlation_id: "c",
            },
            1500,
        );
    }

    #[test]
    fn entries_carry_the_merchant_headers_and_never_authorization() {
        let mut journal = RequestJournal::new(JOURNAL_LIMIT);
        record(
            &mut journal,
            seen(Method::POST, "/p?x=1"),
            200,
            b"{\"ok\":true}",
        );
        let listed = journal.to_json(&Filter::default());
        let entry = &listed[0];
        assert_eq!(entry["at"], "1970-01-01T00:00:07Z");
        assert_eq!(entry["query"], "x=1");
        assert_eq!(entry["request_body"], json!({"a": 1}));
        assert_eq!(entry["response_body"], json!({"ok": true}));
        assert_eq!(entry["latency_ms"], 1.5);
        assert_eq!(
            entry["request_headers"],
            json!({"content-type": "application/json", "klarna-integrator": "shop/1.0"})
        );
        assert!(
            !listed
                .to_string()
                .to_ascii_lowercase()
                .contains("authorization")
        );
        assert!(!listed.to_string().contains("c2VjcmV0"));
    }

    #[test]
    fn filters_and_limit() {
        let mut journal = RequestJournal::new(JOURNAL_LIMIT);
        record(
            &mut journal,
            seen(Method::POST, "/payments/v1/sessions"),
            200,
            b"1",
        );
        record(
            &mut journal,
            seen(Method::GET, "/payments/v1/sessions/x"),
            404,
            b"2",
        );
        record(
            &mut journal,
            seen(Method::POST, "/payments/v1/sessions"),
            400,
            b"3",
        );
        record(
            &mut journal,
            seen(Method::POST, "/ordermanagement/v1/orders/o/captures"),
            400,
            b"4",
        );
        let bodies = |filter: Filter| -> Vec<Value> {
            let listed = journal.to_json(&filter);
            listed
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["response_body"].clone())
                .collect()
        };
        assert_eq!(
            bodies(Filter::default()),
            [json!(1), json!(2), json!(3), json!(4)]
        );
        let post = Filter {
            method: Some("post".into()),
            ..Filter::default()
        };
        assert_eq!(bodies(post.clone()), [json!(1), json!(3), json!(4)]);
        let sessions = Filter {
            path: Some("/payments/v1/sessions".into()),
            ..post.clone()
        };
        assert_eq!(bodies(sessions.clone()), [json!(1), json!(3)]);
        let refused = Filter {
            status: Some(400),
            ..Filter::default()
        };
        assert_eq!(bodies(refused.clone()), [json!(3), json!(4)]);
        let newest = Filter {
            limit: Some(1),
            ..refused
        };
        assert_eq!(bodies(newest), [json!(4)]);
        let none = Filter {
            limit: Some(0),
            ..Filter::default()
        };
        assert_eq!(bodies(none), Vec::<Value>::new());
    }

    #[test]
    fn bounded_by_count_and_bytes() {
        let mut journal = RequestJournal::new(JOURNAL_LIMIT);
        for _ in 0..JOURNAL_LIMIT + 5 {
            record(&mut journal, seen(Method::GET, "/x"), 200, b"{}");
        }
        assert_eq!(journal.len(), JOURNAL_LIMIT);
        let big = Bytes::from(vec![b'x'; JOURNAL_BYTES / 2 + 1]);
        for _ in 0..3 {
            journal.record(
                0,
                seen(Method::GET, "/big"),
                Answered {
                    status: 200,
                    headers: &[],
                    body: Some(&big),
                    correlation_id: "",
                },
                0,
            );
        }
        assert!(journal.bytes <= JOURNAL_BYTES, "{}", journal.bytes);
        assert_eq!(journal.len(), 1);
    }

    #[test]
    fn the_limit_is_the_configured_one() {
        let mut small = RequestJournal::new(3);
        let mut none = RequestJournal::new(0);
        for path in ["/a", "/b", "/c", "/d"] {
            record(&mut small, seen(Method::GET, path), 200, b"{}");
            record(&mut none, seen(Method::GET, path), 200, b"{}");
        }
        let listed = small.to_json(&Filter::default());
        let paths: Vec<&Value> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["path"])
            .collect();
        assert_eq!(paths, ["/b", "/c", "/d"]);
        assert_eq!(none.len(), 0);
        assert_eq!(none.bytes, 0);
    }

    #[test]
    fn text_bodies_stay_text() {
        let mut journal = RequestJournal::new(JOURNAL_LIMIT);
        let mut s = seen(Method::POST, "/x");
        s.body = Some(Bytes::from_static(b"not json"));
        record(&mut journal, s, 400, b"");
        let entry = &journal.to_json(&Filter::default())[0];
        assert_eq!(entry["request_body"], "not json");
        assert_eq!(entry["response_body"], Value::Null);
    }
}
