//! A wiremock-rs imitation of Klarna's playground at the HTTP level, as
//! docs/klarna.md §10 records it: Basic auth with an HTML 401 from "openresty" and
//! no correlation id; Jackson-style pretty JSON (`"key" : value`) with
//! `service_version` and a `Klarna-Correlation-Id` header matching the body;
//! explanations appended to `Bad value` messages and missing fields joined
//! into one message in a changing order; `payment_method_categories` in a
//! changing order with a `descriptor` that comes and goes; 429 with an empty
//! body past a per-second limit. Faults can be switched on to show certify
//! catching them.
//!
//! Field rules come from the crate's validator: this is an imitation of the
//! playground's HTTP behaviour, not a second oracle.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use klarna_conformance::model::validate::{self, BodyKind, Fidelity, Rule};
use klarna_conformance::targets::Credentials;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

pub const USERNAME: &str = "PK12345_abcdef";
pub const PASSWORD: &str = "imitation-secret-0123456789";

/// A deliberate deviation from the recorded playground.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Create session accepts carts whose amounts do not add up.
    InconsistentAccepted,
    /// Error bodies carry a correlation_id other than the header's.
    CorrelationMismatch,
    /// Create order with an unknown token answers 200.
    UnknownTokenAccepted,
    /// Every request is refused with the gateway's HTML 401.
    RejectAllCredentials,
}

#[derive(Default)]
struct Shared {
    faults: Vec<Fault>,
    /// At most this many requests are answered within one second; the next is a 429.
    limit: Option<usize>,
    arrivals: Mutex<VecDeque<Instant>>,
    throttled: AtomicU64,
    counter: AtomicU64,
    sessions: Mutex<HashMap<String, Value>>,
    /// token -> (authorized body, order id once placed)
    tokens: Mutex<HashMap<String, (Value, Option<String>)>>,
    orders: Mutex<HashMap<String, Value>>,
}

/// The running imitation.
pub struct Imitation {
    pub server: MockServer,
    shared: Arc<Shared>,
}

#[derive(Debug, Clone, Copy)]
enum Route {
    CreateSession,
    ReadSession,
    UpdateSession,
    CreateOrder,
    Cancel,
    ReadOrder,
}

impl Imitation {
    pub async fn start(limit: Option<usize>, faults: &[Fault]) -> Imitation {
        let server = MockServer::start().await;
        let shared = Arc::new(Shared {
            faults: faults.to_vec(),
            limit,
            ..Shared::default()
        });
        let routes = [
            (
                "POST",
                None,
                Some("/payments/v1/sessions"),
                Route::CreateSession,
            ),
            (
                "GET",
                Some(r"^/payments/v1/sessions/[^/]+$"),
                None,
                Route::ReadSession,
            ),
            (
                "POST",
                Some(r"^/payments/v1/sessions/[^/]+$"),
                None,
                Route::UpdateSession,
            ),
            (
                "POST",
                Some(r"^/payments/v1/authorizations/[^/]+/order$"),
                None,
                Route::CreateOrder,
            ),
            (
                "DELETE",
                Some(r"^/payments/v1/authorizations/[^/]+$"),
                None,
                Route::Cancel,
            ),
            (
                "GET",
                Some(r"^/ordermanagement/v1/orders/[^/]+$"),
                None,
                Route::ReadOrder,
            ),
        ];
        for (verb, regex, exact, route) in routes {
            let handler = Handler {
                shared: shared.clone(),
                route,
            };
            let mock = match (regex, exact) {
                (Some(r), _) => Mock::given(method(verb)).and(path_regex(r)),
                (None, Some(p)) => Mock::given(method(verb)).and(path(p)),
                (None, None) => continue,
            };
            mock.respond_with(handler).mount(&server).await;
        }
        Imitation { server, shared }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn credentials() -> Credentials {
        Credentials::new(USERNAME, PASSWORD)
    }

    /// What a browser's `authorize()` would have done: `token` is valid for `body`.
    pub fn authorize(&self, token: &str, body: &str) {
        let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        lock(&self.shared.tokens).insert(token.to_owned(), (body, None));
    }

    /// 429 answers given so far.
    pub fn throttled(&self) -> u64 {
        self.shared.throttled.load(Ordering::Relaxed)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Handler {
    shared: Arc<Shared>,
    route: Route,
}

impl Respond for Handler {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let s = &self.shared;
        if let Some(limit) = s.limit {
            let mut arrivals = lock(&s.arrivals);
            let now = Instant::now();
            while arrivals
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                arrivals.pop_front();
            }
            if arrivals.len() >= limit {
                // docs/klarna.md §10: 429, empty body.
                s.throttled.fetch_add(1, Ordering::Relaxed);
                return ResponseTemplate::new(429);
            }
            arrivals.push_back(now);
        }
        let expected = Imitation::credentials().header_value();
        let given = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if s.faults.contains(&Fault::RejectAllCredentials) || given != Some(expected.as_str()) {
            return html_401();
        }
        let id = request
            .url
            .path()
            .trim_end_matches('/')
            .rsplit('/')
            .find(|seg| *seg != "order")
            .unwrap_or("")
            .to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match self.route {
            Route::CreateSession => self.create_session(body),
            Route::ReadSession => {
                let session = lock(&s.sessions).get(&id).cloned();
                match session {
                    Some(session) => {
                        let mut read = session;
                        // Customer details only after authorization (none is, here).
                        if let Some(map) = read.as_object_mut() {
                            for key in ["billing_address", "shipping_address", "customer"] {
                                map.remove(key);
                            }
                        }
                        read["status"] = json!("incomplete");
                        read["client_token"] = json!(client_token(&id));
                        read["expires_at"] = json!("2099-01-01T00:00:00Z");
                        read["payment_method_categories"] = categories(self.tick());
                        self.ok(&read)
                    }
                    None => self.error(404, "NOT_FOUND", vec!["Invalid session id".to_owned()]),
                }
            }
            Route::UpdateSession => self.update_session(&id, body),
            Route::CreateOrder => self.create_order(&id, body),
            Route::Cancel => match lock(&s.tokens).remove(&id) {
                Some(_) => ResponseTemplate::new(204)
                    .insert_header("Klarna-Correlation-Id", self.new_id().as_str()),
                None => self.error(
                    404,
                    "NOT_FOUND",
                    vec!["Invalid authorization token".to_owned()],
                ),
            },
            Route::ReadOrder => match lock(&s.orders).get(&id).cloned() {
                Some(order) => self.ok(&order),
                None => self.error(
                    404,
                    "NO_SUCH_ORDER",
                    vec![format!("Order {id} cannot be found")],
                ),
            },
        }
    }
}

impl Handler {
    fn tick(&self) -> u64 {
        self.shared.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// Ids like the real ones: UUID-shaped, not RFC 4122 v4 (docs/klarna.md §11.4).
    fn new_id(&self) -> String {
        let n = self.tick();
        format!("{:08x}-3f1c-1b2a-9d6e-{:012x}", n, n.wrapping_mul(7919))
    }

    /// A success: compact-free Jackson JSON with a fresh correlation id.
    fn ok(&self, value: &Value) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .insert_header("Content-Type", "application/json")
            .insert_header("Klarna-Correlation-Id", self.new_id().as_str())
            .set_body_raw(jackson(value, 0), "application/json")
    }

    /// Update: merged into the session and validated as a whole (docs/klarna.md §3.2).
    fn update_session(&self, id: &str, update: Value) -> ResponseTemplate {
        let Some(mut session) = lock(&self.shared.sessions).get(id).cloned() else {
            return self.error(404, "NOT_FOUND", vec!["Invalid session id".to_owned()]);
        };
        if let (Some(map), Value::Object(update)) = (session.as_object_mut(), update) {
            for (k, v) in update {
                map.insert(k, v);
            }
        }
        let violations = validate::validate(BodyKind::SessionCreate, &session);
        if let Some(messages) = validate::refusal(&violations, Fidelity::Playground) {
            return self.error(400, "BAD_VALUE", messages);
        }
        lock(&self.shared.sessions).insert(id.to_owned(), session);
        ResponseTemplate::new(204).insert_header("Klarna-Correlation-Id", self.new_id().as_str())
    }

    /// A Jackson-style error with a fresh correlation id in header and body.
    fn error(&self, status: u16, code: &str, messages: Vec<String>) -> ResponseTemplate {
        let correlation = self.new_id();
        let in_body = if self.shared.faults.contains(&Fault::CorrelationMismatch) {
            self.new_id()
        } else {
            correlation.clone()
        };
        let body = jackson_object(&[
            ("error_code", json!(code)),
            ("error_messages", json!(messages)),
            ("correlation_id", json!(in_body)),
            ("service_version", json!("SNAPSHOT")),
        ]);
        ResponseTemplate::new(status)
            .insert_header("Content-Type", "application/json")
            .insert_header("Klarna-Correlation-Id", correlation.as_str())
            .insert_header("Server", "openresty")
            .set_body_raw(body, "application/json")
    }

    fn create_session(&self, body: Value) -> ResponseTemplate {
        let mut violations = validate::validate(BodyKind::SessionCreate, &body);
        if self.shared.faults.contains(&Fault::InconsistentAccepted) {
            violations.retain(|v| {
                !matches!(
                    v.rule,
                    Rule::LineTotal | Rule::LineTax | Rule::OrderAmount | Rule::OrderTaxAmount
                )
            });
        }
        if let Some(messages) = validate::refusal(&violations, Fidelity::Playground) {
            let turn = self.tick() as usize;
            let messages = messages
                .into_iter()
                .map(|m| explain(&m, &body, turn))
                .collect();
            return self.error(400, "BAD_VALUE", messages);
        }
        let session_id = self.new_id();
        lock(&self.shared.sessions).insert(session_id.clone(), body);
        self.ok(&json!({
            "session_id": session_id,
            "client_token": client_token(&session_id),
            "payment_method_categories": categories(self.tick()),
        }))
    }

    fn create_order(&self, token: &str, body: Value) -> ResponseTemplate {
        let mut tokens = lock(&self.shared.tokens);
        let known = tokens.get_mut(token);
        let Some((authorized, placed)) = known else {
            drop(tokens);
            if self.shared.faults.contains(&Fault::UnknownTokenAccepted) {
                return self.ok(&json!({
                    "order_id": self.new_id(),
                    "fraud_status": "ACCEPTED",
                    "authorized_payment_method": {"type": "invoice"},
                }));
            }
            return self.error(
                404,
                "NOT_FOUND",
                vec!["Invalid authorization token".to_owned()],
            );
        };
        if *authorized != body {
            // The imitation does not work out which fields differ; one item will do.
            let message = if placed.is_some() {
                "The order has been already completed with different request body"
            } else {
                "Not matching fields: [order_amount]"
            };
            drop(tokens);
            return self.error(409, "BAD_VALUE", vec![message.to_owned()]);
        }
        let order_id = match placed {
            Some(id) => id.clone(),
            None => {
                let id = self.new_id();
                *placed = Some(id.clone());
                // The recorded read-back (docs/klarna.md §9, §11.3).
                lock(&self.shared.orders).insert(
                    id.clone(),
                    json!({
                        "order_id": id,
                        "status": "AUTHORIZED",
                        "fraud_status": "ACCEPTED",
                        "order_amount": body["order_amount"],
                        "original_order_amount": body["order_amount"],
                        "captured_amount": 0,
                        "refunded_amount": 0,
                        "remaining_authorized_amount": body["order_amount"],
                        "purchase_currency": body["purchase_currency"],
                        "order_lines": body["order_lines"],
                        "captures": [],
                        "refunds": [],
                        "klarna_reference": "K4MADNY",
                    }),
                );
                id
            }
        };
        drop(tokens);
        self.ok(&json!({
            "order_id": order_id,
            "fraud_status": "ACCEPTED",
            "authorized_payment_method": {"type": "invoice"},
        }))
    }
}

/// docs/klarna.md §10: a tax message gets the calculated value appended; the
/// missing fields of a joined message come in a changing order.
fn explain(message: &str, body: &Value, turn: usize) -> String {
    let Some(rest) = message.strip_prefix("Bad value: ") else {
        return message.to_owned();
    };
    if rest.contains(", ") {
        let mut fields: Vec<&str> = rest.split(", ").collect();
        let n = fields.len();
        fields.rotate_left(turn % n);
        return format!("Bad value: {}", fields.join(", "));
    }
    if let Some(index) = rest
        .strip_prefix("order_lines[")
        .and_then(|r| r.strip_suffix("].total_tax_amount"))
        .and_then(|i| i.parse::<usize>().ok())
    {
        let line = &body["order_lines"][index];
        let total = line["total_amount"].as_i64().unwrap_or(0);
        let rate = line["tax_rate"].as_i64().unwrap_or(0);
        let calculated = total * rate / (10_000 + rate).max(1);
        return format!(
            "{message} differs from the calculated value [{calculated}] by more than [1]"
        );
    }
    message.to_owned()
}

/// The categories in an order that turns with every call, sometimes with a `descriptor`.
fn categories(turn: u64) -> Value {
    let mut all = vec![
        json!({"identifier": "pay_later", "name": "Pay later",
               "asset_urls": {"descriptive": "https://x.klarnacdn.net/d.svg", "standard": "https://x.klarnacdn.net/s.svg"}}),
        json!({"identifier": "pay_over_time", "name": "Financing"}),
        json!({"identifier": "pay_now", "name": if turn.is_multiple_of(2) { "Pay now" } else { "Direct debit" }}),
    ];
    all.rotate_left((turn % 3) as usize);
    if turn % 2 == 1 {
        all[0]["descriptor"] = json!({"tagline": "Pay in 30 days"});
    }
    Value::Array(all)
}

/// A three-part RS256-style JWT whose payload carries the recorded claims
/// (docs/klarna.md §11.4); the signature is not a real one.
fn client_token(session_id: &str) -> String {
    use base64::Engine as _;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let header = b64(&json!({"alg": "RS256", "kid": "imitation"}));
    let payload = b64(&json!({
        "session_id": session_id,
        "base_url": "https://js.playground.klarna.com/eu/kp/legacy/payments",
        "design": "klarna",
        "language": "en",
        "purchase_country": "SE",
        "environment": "playground",
        "merchant_name": "Imitation",
        "session_type": "PAYMENTS",
        "region": "eu",
    }));
    format!("{header}.{payload}.c2lnbmF0dXJl")
}

/// The gateway's refusal: HTML, no correlation id (docs/klarna.md §1.2, 10).
fn html_401() -> ResponseTemplate {
    ResponseTemplate::new(401)
        .insert_header("Content-Type", "text/html")
        .insert_header("Server", "openresty")
        .set_body_string(
            "<html><head><title>401 Authorization Required</title></head>\n<body>\n<center><h1>401 Authorization Required</h1></center>\n<hr><center>openresty</center>\n</body>\n</html>\n",
        )
}

/// An object in this key order, Jackson-style.
fn jackson_object(entries: &[(&str, Value)]) -> String {
    let inner: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("  \"{k}\" : {}", jackson(v, 2)))
        .collect();
    format!("{{\n{}\n}}", inner.join(",\n"))
}

/// Jackson's default pretty printer: `"key" : value`, arrays on one line.
fn jackson(value: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{pad}  \"{k}\" : {}", jackson(v, indent + 2)))
                .collect();
            format!("{{\n{}\n{pad}}}", inner.join(",\n"))
        }
        Value::Array(items) if !items.is_empty() => {
            let inner: Vec<String> = items.iter().map(|v| jackson(v, indent)).collect();
            format!("[ {} ]", inner.join(", "))
        }
        Value::Array(_) => "[ ]".to_owned(),
        Value::Object(_) => "{ }".to_owned(),
        other => other.to_string(),
    }
}
