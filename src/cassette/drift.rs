//! Drift: where one target's normalised answers differ from another's for
//! the same cases (the playground's, "the target", from the embedded mock's, for the
//! certification report). An answer is normalised to its status, its
//! `error_code` and its shape (keys and value types, arrays by the union of
//! their elements): ids, dates, correlation ids, tokens and every other
//! per-run value drop out. Requests are compared by their place in a case
//! while both targets were sent the same method and path (ids in paths
//! replaced by `{id}`); where the two diverge, the rest of the case is not
//! compared (a different answer made the engine send something else).

use std::collections::BTreeMap;

use serde_json::Value;

use super::Cassette;
use crate::exchange::Exchange;

/// What the comparison found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// Requests compared in both.
    pub compared: usize,
    /// Answers that differ.
    pub entries: Vec<Entry>,
    /// Cases whose requests diverged before their end, with where.
    pub diverged: Vec<String>,
    /// Cases only one side holds.
    pub unmatched: Vec<String>,
}

/// One differing answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `case `p` seed 3, request #2`.
    pub at: String,
    /// `POST /payments/v1/sessions/{id}`.
    pub request: String,
    /// The first side's and the second side's normalised answer.
    pub left: String,
    pub right: String,
    /// What differs, in words.
    pub what: String,
}

/// The normalised answers of `left` against `right`, case by case (cases as
/// drawn only: shrink candidates depend on the verdicts).
pub fn compare(left: &Cassette, right: &Cassette) -> Drift {
    let mut drift = Drift::default();
    let key = |c: &super::Case| (c.case.clone(), c.seed);
    let rights: BTreeMap<_, _> = right
        .cases
        .iter()
        .filter(|c| c.shrink == 0)
        .map(|c| (key(c), c))
        .collect();
    for case in left.cases.iter().filter(|c| c.shrink == 0) {
        let Some(other) = rights.get(&key(case)) else {
            drift.unmatched.push(case.label());
            continue;
        };
        for (i, (a, b)) in case.exchanges.iter().zip(&other.exchanges).enumerate() {
            let at = format!("{}, request #{}", case.label(), i + 1);
            let request = format!("{} {}", a.method, template(&a.path));
            if a.method != b.method || template(&a.path) != template(&b.path) {
                drift.diverged.push(format!(
                    "{at}: {request} against {} {}",
                    b.method,
                    template(&b.path)
                ));
                break;
            }
            drift.compared += 1;
            let (na, nb) = (Normal::of(a), Normal::of(b));
            if na != nb {
                drift.entries.push(Entry {
                    at,
                    request,
                    left: na.summary(),
                    right: nb.summary(),
                    what: na.differences(&nb),
                });
            }
        }
    }
    drift
}

/// A path with its ids replaced: segments that are not words (`sessions`,
/// `customer-token`) or a version (`v1`).
pub fn template(path: &str) -> String {
    let (path, _query) = path.split_once('?').unwrap_or((path, ""));
    path.split('/')
        .map(|segment| {
            let word = segment
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_');
            let version = segment
                .strip_prefix('v')
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            if word || version { segment } else { "{id}" }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// An answer without its per-run values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Normal {
    status: u16,
    error_code: Option<String>,
    /// JSON path -> type (`object`, `string`, …); `None` for a body that is
    /// not JSON (the playground's HTML 401).
    shape: Option<BTreeMap<String, &'static str>>,
}

impl Normal {
    fn of(exchange: &Exchange) -> Normal {
        let json = exchange.json();
        let error_code = json
            .as_ref()
            .and_then(|v| v.get("error_code")?.as_str().map(str::to_owned));
        let shape = match (&json, exchange.response_body.trim().is_empty()) {
            (Some(v), _) => {
                let mut shape = BTreeMap::new();
                shape_of(v, "", &mut shape);
                Some(shape)
            }
            (None, true) => Some(BTreeMap::new()),
            (None, false) => None,
        };
        Normal {
            status: exchange.status,
            error_code,
            shape,
        }
    }

    fn summary(&self) -> String {
        let code = self
            .error_code
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        let body = match &self.shape {
            None => "a body that is not JSON".to_owned(),
            Some(s) if s.is_empty() => "no body".to_owned(),
            Some(s) => format!("{} fields", s.len()),
        };
        format!("{}{code}, {body}", self.status)
    }

    fn differences(&self, other: &Normal) -> String {
        let mut what = Vec::new();
        if self.status != other.status {
            what.push(format!("status {} vs {}", self.status, other.status));
        }
        if self.error_code != other.error_code {
            let show = |c: &Option<String>| c.clone().unwrap_or_else(|| "none".to_owned());
            what.push(format!(
                "error_code {} vs {}",
                show(&self.error_code),
                show(&other.error_code)
            ));
        }
        match (&self.shape, &other.shape) {
            (Some(a), Some(b)) => {
                let only = |x: &BTreeMap<String, &str>, y: &BTreeMap<String, &str>| {
                    x.keys()
                        .filter(|k| !y.contains_key(*k))
                        .cloned()
                        .collect::<Vec<_>>()
                };
                let (left, right) = (only(a, b), only(b, a));
                if !left.is_empty() {
                    what.push(format!("only the target's: {}", left.join(", ")));
                }
                if !right.is_empty() {
                    what.push(format!("only the mock's: {}", right.join(", ")));
                }
                let typed: Vec<String> = a
                    .iter()
                    .filter_map(|(k, t)| {
                        b.get(k)
                            .filter(|u| *u != t)
                            .map(|u| format!("{k} ({t} vs {u})"))
                    })
                    .collect();
                if !typed.is_empty() {
                    what.push(format!("types differ: {}", typed.join(", ")));
                }
            }
            (a, b) if a != b => what.push("one body is not JSON".to_owned()),
            _ => {}
        }
        what.join("; ")
    }
}

fn shape_of(value: &Value, path: &str, out: &mut BTreeMap<String, &'static str>) {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(items) => {
            for item in items {
                shape_of(item, &format!("{path}[]"), out);
            }
            "array"
        }
        Value::Object(fields) => {
            for (k, v) in fields {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                shape_of(v, &sub, out);
            }
            "object"
        }
    };
    if !path.is_empty() {
        out.insert(path.to_owned(), kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_leave_paths() {
        assert_eq!(
            template("/ordermanagement/v1/orders/9f1c-77/captures/abc123"),
            "/ordermanagement/v1/orders/{id}/captures/{id}"
        );
        assert_eq!(template("/payments/v1/sessions"), "/payments/v1/sessions");
    }

    #[test]
    fn values_do_not_count_but_shapes_do() {
        let ex = |status, body: &str| Exchange {
            method: "GET".into(),
            path: "/x".into(),
            request_headers: Vec::new(),
            request_body: None,
            status,
            response_headers: Vec::new(),
            response_body: body.into(),
        };
        let a = Normal::of(&ex(200, r#"{"session_id":"a","lines":[{"n":1}]}"#));
        let b = Normal::of(&ex(200, r#"{"session_id":"b","lines":[{"n":2}]}"#));
        assert_eq!(a, b);
        let c = Normal::of(&ex(401, "<html>401</html>"));
        assert!(
            a.differences(&c).contains("status 200 vs 401"),
            "{}",
            a.differences(&c)
        );
        let d = Normal::of(&ex(200, r#"{"session_id":1}"#));
        let what = a.differences(&d);
        assert!(
            what.contains("session_id (string vs number)")
                && what.contains("only the target's: lines"),
            "{what}"
        );
    }
}
