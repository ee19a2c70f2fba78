//! The proxy's judgement of each exchange, as it passes: the request body
//! against Klarna's field and money rules (the `check-payload` rules), a
//! create order against what the proxy saw of its session, and every answer
//! against the invariants every Klarna answer keeps.
//!
//! What the proxy cannot see: the browser's `Klarna.Payments.load()` and
//! `authorize()` send data straight to Klarna, and Klarna merges it into the
//! session (docs/klarna.md §11.6). So a create order that differs from the
//! session in a field the browser may set (the addresses, `customer`,
//! `locale`) is a warning, not an error, unless the proxy saw that data too:
//! a session read after authorization (it shows the session as Klarna holds
//! it), or the mock's control API `authorize`. An address or customer the
//! session never had is the browser's and not compared at all. Cart, amounts,
//! country and currency come from the merchant's server: a difference there
//! is an error (Klarna answers 409 `Not matching fields`, §3.4).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize as _;
use serde_json::{Map, Value};

use super::operation::Operation;
use super::report::{Finding, Grade, ProxyReport, Seen, cited_section, one_line};
use crate::check;
use crate::engine::{IdKind, Invariants, RunIds};
use crate::exchange::Exchange;
use crate::model::validate::{self, BodyKind, Rule, Violation};
use crate::model::{CreateOrderRequest, Session};
use crate::openapi::OpenApi;
use crate::verdict::{Failure, Problem};

/// What the proxy saw of one session.
#[derive(Debug, Default)]
struct SessionSeen {
    /// The session's fields as sent and merged (create, accepted updates,
    /// and whatever the proxy saw of the browser's data).
    data: Map<String, Value>,
    /// The browser's data is in `data` (a read after authorization, or the
    /// control API's authorize): every difference at create order is an error.
    browser_seen: bool,
    /// An order was placed for it through the proxy.
    ordered: bool,
    /// Violations already reported for it, so a merged re-check of an update
    /// names only what the update broke.
    reported: HashSet<(String, Rule)>,
}

/// How sure the proxy is which session a create order is for.
enum Link {
    /// An answer named the token with its session.
    Named,
    /// The only session seen without an order.
    OnlyOpen,
    /// The closest of several open sessions.
    Closest(usize),
}

/// The proxy's state: the sessions and tokens it saw, and its findings.
pub(super) struct Judge {
    openapi: Vec<Arc<OpenApi>>,
    /// Ids handed out so far: a correlation, session or order id repeated is a finding.
    ids: RunIds,
    sessions: HashMap<String, SessionSeen>,
    /// Authorization token → session id, as answers named them.
    tokens: HashMap<String, String>,
    requests: BTreeMap<&'static str, usize>,
    findings: Vec<Finding>,
}

/// Read-only session fields: what a read adds, never the merchant's data
/// (docs/klarna.md §2.6).
const READ_ONLY: [&str; 6] = [
    "authorization_token",
    "client_token",
    "expires_at",
    "payment_method_categories",
    "status",
    "session_id",
];

/// Top-level fields the browser's `load()`/`authorize()` data may set (docs/klarna.md §11.6).
const BROWSER_FIELDS: [&str; 4] = ["billing_address", "shipping_address", "customer", "locale"];

impl Judge {
    pub(super) fn new(openapi: Vec<Arc<OpenApi>>) -> Judge {
        Judge {
            openapi,
            ids: RunIds::default(),
            sessions: HashMap::new(),
            tokens: HashMap::new(),
            requests: BTreeMap::new(),
            findings: Vec::new(),
        }
    }

    /// Judges one exchange (the n-th request) and returns its findings.
    pub(super) fn observe(&mut self, n: usize, ex: &Exchange) -> Vec<Finding> {
        let operation = Operation::of(&ex.method, &ex.path);
        *self.requests.entry(operation.name()).or_default() += 1;
        let seen = Seen {
            n,
            method: ex.method.clone(),
            path: ex.path.clone(),
            status: Some(ex.status),
        };
        let mut found = Findings {
            seen,
            out: Vec::new(),
        };
        let body = ex.json();
        self.request(&operation, ex, &body, &mut found);
        if !matches!(operation, Operation::Mock | Operation::MockAuthorize(_)) {
            self.answer(n, ex, body.as_ref(), &mut found);
        }
        self.findings.extend(found.out.iter().cloned());
        found.out
    }

    /// The request got no answer from the upstream: the proxy answered
    /// itself (502, or 413 for a body it would not take), and says why.
    pub(super) fn unanswered(
        &mut self,
        n: usize,
        method: &str,
        path: &str,
        rule: &str,
        message: String,
    ) -> Finding {
        let operation = Operation::of(method, path);
        *self.requests.entry(operation.name()).or_default() += 1;
        let finding = Finding {
            request: Seen {
                n,
                method: method.to_owned(),
                path: path.to_owned(),
                status: None,
            },
            grade: Grade::Error,
            rule: rule.to_owned(),
            source: String::new(),
            message: one_line(&message, 600),
        };
        self.findings.push(finding.clone());
        finding
    }

    pub(super) fn report(&self, upstream: &str) -> ProxyReport {
        ProxyReport {
            upstream: upstream.to_owned(),
            requests: self.requests.clone(),
            findings: self.findings.clone(),
        }
    }

    /// The request's own checks, and what it teaches about sessions and tokens.
    fn request(
        &mut self,
        operation: &Operation,
        ex: &Exchange,
        answer: &Option<Value>,
        found: &mut Findings,
    ) {
        let sent = ex.request_json();
        match operation {
            Operation::CreateSession => {
                let reported = payload(BodyKind::SessionCreate, ex, found);
                let id = answer.as_ref().and_then(|a| a["session_id"].as_str());
                if let (200, Some(id), Some(Value::Object(data))) = (ex.status, id, sent) {
                    let session = SessionSeen {
                        data,
                        reported,
                        ..SessionSeen::default()
                    };
                    self.sessions.insert(id.to_owned(), session);
                }
            }
            Operation::UpdateSession(id) => {
                let mut reported = payload(BodyKind::SessionUpdate, ex, found);
                let Some(session) = self.sessions.get_mut(id) else {
                    return;
                };
                let merged = merged(&session.data, sent);
                // Klarna validates the session as merged (docs/klarna.md §3.2):
                // an update of the lines alone can break the amounts.
                reported.extend(session.reported.iter().cloned());
                for v in validate::validate(BodyKind::SessionCreate, &Value::Object(merged.clone()))
                {
                    if reported.insert((v.path.clone(), v.rule)) {
                        found.violation(
                            &v,
                            "in the session as merged with this update (docs/klarna.md §3.2): ",
                        );
                    }
                }
                session.reported = reported;
                // A refused update changes nothing (§3.2).
                if ex.status == 204 {
                    session.data = merged;
                }
            }
            Operation::ReadSession(id) => {
                let Some(Value::Object(read)) = answer.as_ref().filter(|_| ex.status == 200) else {
                    return;
                };
                let token = read.get("authorization_token").and_then(Value::as_str);
                if let Some(token) = token.filter(|t| !t.is_empty()) {
                    self.tokens.insert(token.to_owned(), id.clone());
                    // After authorization the read is the session as Klarna
                    // holds it, the browser's data included (§2.6).
                    let session = self.sessions.entry(id.clone()).or_default();
                    let mut data = read.clone();
                    for key in READ_ONLY {
                        data.remove(key);
                    }
                    session.data = data;
                    session.browser_seen = true;
                }
            }
            Operation::MockAuthorize(id) => {
                let token = answer
                    .as_ref()
                    .and_then(|a| a["authorization_token"].as_str());
                if let (200, Some(token)) = (ex.status, token) {
                    self.tokens.insert(token.to_owned(), id.clone());
                    if let Some(session) = self.sessions.get_mut(id) {
                        session.data = merged(&session.data, sent);
                        session.browser_seen = true;
                    }
                }
            }
            Operation::CreateOrder(token) => {
                payload(BodyKind::CreateOrder, ex, found);
                let linked = sent
                    .as_ref()
                    .and_then(|sent| self.against_session(token, sent, found));
                if ex.status == 200 {
                    // The session is complete (§2.6): no later order is for it,
                    // and a retry with this token compares with it again.
                    if let Some(id) = linked {
                        self.tokens
                            .entry(token.clone())
                            .or_insert_with(|| id.clone());
                        if let Some(session) = self.sessions.get_mut(&id) {
                            session.ordered = true;
                        }
                    }
                    self.order_answer(token, answer.as_ref(), found);
                }
            }
            Operation::CustomerToken(_) => {
                payload(BodyKind::CustomerToken, ex, found);
            }
            _ => {}
        }
    }

    /// Create order against what the proxy saw of the token's session
    /// (§3.4); the session it was compared with, if any.
    fn against_session(
        &mut self,
        token: &str,
        sent: &Value,
        found: &mut Findings,
    ) -> Option<String> {
        let Ok(order) = CreateOrderRequest::deserialize(sent) else {
            // Not a create_order_request at all: the payload check said why.
            return None;
        };
        let authorized = |s: &SessionSeen| {
            Session::deserialize(Value::Object(s.data.clone()))
                .ok()
                .map(|session| CreateOrderRequest::authorized_for(&session))
        };
        let linked = self.tokens.get(token).cloned().map(|id| (id, Link::Named));
        let linked = linked.or_else(|| {
            let open: Vec<(&String, &SessionSeen)> =
                self.sessions.iter().filter(|(_, s)| !s.ordered).collect();
            match open.as_slice() {
                [] => None,
                [(id, _)] => Some(((*id).clone(), Link::OnlyOpen)),
                several => several
                    .iter()
                    .min_by_key(|(id, s)| {
                        let differences = authorized(s).map_or(usize::MAX, |a| {
                            crate::oracle::not_matching_fields(&a, &order).len()
                        });
                        (differences, (*id).clone())
                    })
                    .map(|(id, _)| ((*id).clone(), Link::Closest(several.len()))),
            }
        });
        let Some((id, link)) = linked else {
            found.push(
                Grade::Note,
                "order.no_session",
                "docs/klarna.md §3.4",
                "no session seen for this token (created before the proxy started, or elsewhere): not compared".into(),
            );
            return None;
        };
        let session = self.sessions.get(&id)?;
        let authorized = authorized(session)?;
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        for item in crate::oracle::not_matching_fields(&authorized, &order) {
            let top = if item.starts_with("Incorrect number of items") {
                "order_lines"
            } else {
                item.split(['.', '[']).next().unwrap_or("")
            };
            let browser = BROWSER_FIELDS.contains(&top);
            if browser && !session.browser_seen && !session.data.contains_key(top) {
                continue; // the browser's alone
            }
            let certain = !matches!(link, Link::Closest(_));
            if certain && (session.browser_seen || !browser) {
                errors.push(item);
            } else {
                warnings.push(item);
            }
        }
        let whose = match link {
            Link::Named => format!("session {id}"),
            Link::OnlyOpen => format!("session {id} (the only open session seen)"),
            Link::Closest(n) => format!("session {id} (the closest of {n} open sessions seen)"),
        };
        if !errors.is_empty() {
            found.push(
                Grade::Error,
                "order.not_matching",
                "docs/klarna.md §3.4",
                format!(
                    "create order differs from {whose} in [{}]: Klarna answers 409 BAD_VALUE `Not matching fields` (docs/klarna.md §3.4)",
                    errors.join(", ")
                ),
            );
        }
        if !warnings.is_empty() {
            let why = if matches!(link, Link::Closest(_)) {
                "the token was never seen with its session, so this is the nearest guess"
            } else {
                "fields the browser's load()/authorize() may have set, which the proxy does not see (docs/klarna.md §11.6)"
            };
            found.push(
                Grade::Warning,
                "order.not_matching",
                "docs/klarna.md §3.4",
                format!(
                    "create order differs from {whose} in [{}]; {why}",
                    warnings.join(", ")
                ),
            );
        }
        Some(id)
    }

    /// A placed order carries `order_id` (the body's shape, checked with the
    /// invariants) and `fraud_status` ACCEPTED or PENDING (§5.3, §12); its id is new.
    fn order_answer(&mut self, token: &str, answer: Option<&Value>, found: &mut Findings) {
        let Some(answer) = answer else { return };
        match answer.get("fraud_status").and_then(Value::as_str) {
            Some("ACCEPTED" | "PENDING") => {}
            other => found.push(
                Grade::Error,
                "answer.fraud_status",
                "docs/klarna.md §5.3",
                format!("a placed order carries fraud_status ACCEPTED or PENDING (docs/klarna.md §5.3, §12), got {other:?}"),
            ),
        }
        if let Some(order_id) = answer.get("order_id").and_then(Value::as_str) {
            let mut invariants = Invariants::new(&self.openapi, Some(&self.ids), "proxy", 0);
            // An identical retry repeats its own order (§11.1): the owner is the token.
            let owner = format!("the order of token {token}");
            if let Err(problem) = invariants.fresh(IdKind::Order, order_id, found.seen.n, owner) {
                found.problem(problem);
            }
        }
    }

    /// The every-answer invariants (docs/design.md "Invariants").
    fn answer(&mut self, n: usize, ex: &Exchange, body: Option<&Value>, found: &mut Findings) {
        let mut invariants = Invariants::new(&self.openapi, Some(&self.ids), "proxy", 0);
        if let Err(problem) = invariants.check(ex, body, n, false) {
            found.problem(problem);
        }
        if let (Operation::CreateSession, 200, Some(id)) = (
            Operation::of(&ex.method, &ex.path),
            ex.status,
            body.and_then(|b| b["session_id"].as_str()),
        ) && let Err(problem) =
            invariants.fresh(IdKind::Session, id, n, format!("create session #{n}"))
        {
            found.problem(problem);
        }
    }
}

/// A session's data with an update merged in, as the model merges it: a
/// field given replaces the earlier one, `null` removes it, read-only fields
/// are Klarna's (§2.6).
fn merged(base: &Map<String, Value>, update: Option<Value>) -> Map<String, Value> {
    crate::oracle::merged(base, update.unwrap_or(Value::Null))
}

/// The check-payload rules on the request body; what they found, for later
/// merged re-checks. A body that is not JSON is one error.
fn payload(kind: BodyKind, ex: &Exchange, found: &mut Findings) -> HashSet<(String, Rule)> {
    let bytes = ex.request_body.as_deref().unwrap_or("").as_bytes();
    let mut reported = HashSet::new();
    match check::check_bytes(kind, "the request body", bytes) {
        Ok(report) => {
            for v in &report.violations {
                reported.insert((v.path.clone(), v.rule));
                found.violation(v, "");
            }
        }
        Err(e) => found.push(
            Grade::Error,
            "payload.json",
            "docs/klarna.md §1.4",
            format!("{e}: Klarna's bodies are JSON (docs/klarna.md §1.4)"),
        ),
    }
    reported
}

/// The findings of one exchange.
struct Findings {
    seen: Seen,
    out: Vec<Finding>,
}

impl Findings {
    fn push(&mut self, grade: Grade, rule: &str, source: &str, message: String) {
        self.out.push(Finding {
            request: self.seen.clone(),
            grade,
            rule: rule.to_owned(),
            source: source.to_owned(),
            message: one_line(&message, 600),
        });
    }

    /// A check-payload violation, after `context` (what was checked when
    /// it is not the body as sent).
    fn violation(&mut self, v: &Violation, context: &str) {
        let grade = match v.grade {
            validate::Grade::Error => Grade::Error,
            validate::Grade::Warning => Grade::Warning,
        };
        let source = cited_section(&v.why).unwrap_or_else(|| "docs/klarna.md §3".into());
        let message = if v.why.is_empty() {
            format!("{context}{}", v.message)
        } else {
            format!("{context}{} — {}", v.message, v.why)
        };
        self.push(grade, &format!("payload.{}", v.rule), &source, message);
    }

    /// An invariant's verdict: a conformance failure is an error; an answer
    /// that says the target could not be used (401, 429, 5xx) is context.
    fn problem(&mut self, problem: Problem) {
        match problem {
            Problem::Conformance(failure) => {
                let (rule, source) = invariant_rule(&failure);
                let message = format!(
                    "{}: expected {}, got {}",
                    strip_context(&failure.check),
                    failure.expected,
                    failure.actual
                );
                self.push(Grade::Error, rule, source, message);
            }
            Problem::Target(e) => {
                let (grade, rule, source) = match self.seen.status {
                    Some(401) => (Grade::Note, "answer.unauthorized", "docs/klarna.md §1.2"),
                    Some(429) => (Grade::Warning, "answer.rate_limited", "docs/klarna.md §10"),
                    _ => (Grade::Warning, "answer.unavailable", "docs/klarna.md §4.2"),
                };
                self.push(grade, rule, source, e.to_string());
            }
        }
    }
}

/// The rule an invariant failure falls under, by what its check says.
fn invariant_rule(failure: &Failure) -> (&'static str, &'static str) {
    let check = failure.check.as_str();
    if check.contains(" is new") {
        ("answer.fresh_id", "docs/klarna.md §11.4")
    } else if check.contains("Klarna-Correlation-Id") || check.contains("correlation_id") {
        ("answer.correlation_id", "docs/klarna.md §1.4")
    } else if check.contains("error body") || check.contains("ErrorV2") {
        ("answer.error_shape", "docs/klarna.md §4.1")
    } else if check.contains("error_messages") {
        ("answer.error_messages", "docs/klarna.md §4.2")
    } else if check.contains("application/json") {
        ("answer.content_type", "docs/klarna.md §1.4")
    } else if check.contains("client_token") {
        ("answer.client_token", "docs/klarna.md §11.4")
    } else if check.contains("schema") {
        ("answer.schema", "docs/klarna.md §2.6")
    } else {
        ("answer.invariant", "docs/design.md")
    }
}

/// A check without the `METHOD PATH -> STATUS: ` or `step N: ` it starts
/// with: the finding names its request already.
fn strip_context(check: &str) -> &str {
    let rest = check.strip_prefix("step ").map_or(check, |s| {
        s.split_once(": ").map_or(check, |(_, rest)| rest)
    });
    match rest.split_once(" -> ") {
        Some((_, after)) => after.split_once(": ").map_or(rest, |(_, r)| r),
        None => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_stripped_from_checks() {
        assert_eq!(
            strip_context("GET /p -> 404: correlation_id equals the header"),
            "correlation_id equals the header"
        );
        assert_eq!(strip_context("step 3: every x is new"), "every x is new");
        assert_eq!(strip_context("plain"), "plain");
    }

    #[test]
    fn updates_merge_and_null_removes() {
        let base = serde_json::json!({"a": 1, "b": 2})
            .as_object()
            .cloned()
            .unwrap();
        let out = merged(
            &base,
            Some(serde_json::json!({"a": 3, "b": null, "status": "x"})),
        );
        assert_eq!(Value::Object(out), serde_json::json!({"a": 3}));
    }
}
