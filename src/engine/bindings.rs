//! The real ids behind the model's indices: the n-th session the target
//! created, the n-th token it issued, the n-th order it placed with its
//! captures and refunds, the n-th customer token, as its answers named them.
//! Bound only after an answer was judged right, so the indices of model and
//! target stay in step.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::authorize::Authorization;
use crate::exchange::Exchange;
use crate::oracle::{Action, Answer, Id, OmOp, OrderIx, SessionIx, TokenIx};
use crate::targets::{Method, Request};

/// A session the target created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundSession {
    pub id: String,
    /// The identifiers of the payment method categories its create answer offered.
    pub categories: Vec<String>,
    /// The create answer's `client_token` (what a browser authorizes with).
    pub client_token: String,
    /// The market it was created for: purchase country, currency, locale.
    pub market: [String; 3],
}

/// What a 201 of Order Management named (docs/klarna.md §13.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bound201 {
    /// `Capture-Id` or `Refund-Id`.
    pub id: String,
    pub location: String,
    pub transaction: String,
}

/// An order the target placed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoundOrder {
    pub id: String,
    pub redirect_url: Option<String>,
    pub fraud_status: Option<String>,
    /// `authorized_payment_method.type` of its create-order answer.
    pub payment_type: Option<String>,
    pub captures: Vec<Bound201>,
    pub refunds: Vec<Bound201>,
    /// The `Transaction-Id` of each 204 operation's first call.
    pub transactions: HashMap<OmOp, String>,
}

#[derive(Debug, Clone, Default)]
pub struct Bindings {
    pub sessions: Vec<BoundSession>,
    pub tokens: Vec<String>,
    pub orders: Vec<BoundOrder>,
    pub customer_tokens: Vec<String>,
}

fn header(ex: &Exchange, name: &str) -> String {
    ex.header(name).unwrap_or("").to_owned()
}

impl Bindings {
    /// Bindings that start with the tokens a user authorized in a browser.
    pub fn with_tokens(tokens: Vec<String>) -> Bindings {
        Bindings {
            tokens,
            ..Bindings::default()
        }
    }

    /// The notification journal of this sequence's own orders, sessions and
    /// tokens (`?id=`, docs/design.md "Scopes"): on a server that keeps every
    /// case's entries the answer stays the size of one case's.
    fn notifications_path(&self) -> String {
        let ids = self.orders.iter().map(|o| o.id.as_str());
        let ids = ids
            .chain(self.sessions.iter().map(|s| s.id.as_str()))
            .chain(self.tokens.iter().map(String::as_str))
            .filter(|id| !id.is_empty());
        let mut path = "/__mock/notifications".to_owned();
        for (n, id) in ids.enumerate() {
            path.push_str(if n == 0 { "?id=" } else { "&id=" });
            for b in id.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    path.push(b as char);
                } else {
                    path.push_str(&format!("%{b:02X}"));
                }
            }
        }
        path
    }

    pub fn session(&self, s: SessionIx) -> &str {
        self.sessions.get(s).map_or("", |b| b.id.as_str())
    }

    pub fn token(&self, t: TokenIx) -> &str {
        self.tokens.get(t).map_or("", String::as_str)
    }

    pub fn order(&self, o: OrderIx) -> Option<&BoundOrder> {
        self.orders.get(o)
    }

    pub fn order_id(&self, o: OrderIx) -> &str {
        self.orders.get(o).map_or("", |b| b.id.as_str())
    }

    pub fn capture(&self, o: OrderIx, c: usize) -> Option<&Bound201> {
        self.orders.get(o)?.captures.get(c)
    }

    pub fn refund(&self, o: OrderIx, r: usize) -> Option<&Bound201> {
        self.orders.get(o)?.refunds.get(r)
    }

    pub fn customer_token(&self, c: usize) -> &str {
        self.customer_tokens.get(c).map_or("", String::as_str)
    }

    fn id<'a, T: Copy>(&'a self, id: &'a Id<T>, known: impl Fn(T) -> &'a str) -> &'a str {
        match id {
            Id::Known(ix) => known(*ix),
            Id::Unknown(id) => id,
        }
    }

    /// The request `action` sends, with the real ids put in. The control
    /// API's requests are sent through the client, which knows them; this is
    /// what they look like on the wire all the same.
    pub fn request(&self, action: &Action) -> Request {
        let request = |method, path: String, body: Option<String>| Request {
            method,
            path,
            body,
            headers: Vec::new(),
        };
        let post = |path: String, body: &str| request(Method::Post, path, Some(body.to_owned()));
        let get = |path: String| request(Method::Get, path, None);
        let om = |o: OrderIx| format!("/ordermanagement/v1/orders/{}", self.order_id(o));
        let keyed = |mut r: Request, key: &Option<String>| {
            if let Some(key) = key {
                r.headers.push(("Klarna-Idempotency-Key", key.clone()));
            }
            r
        };
        let amount_body = |field: &str, amount: &Option<i64>, description: &Option<String>| {
            let mut body = Map::new();
            if let Some(a) = amount {
                body.insert(field.to_owned(), json!(a));
            }
            if let Some(d) = description {
                body.insert("description".to_owned(), json!(d));
            }
            Value::Object(body).to_string()
        };
        match action {
            Action::CreateSession { body } => post("/payments/v1/sessions".to_owned(), body),
            Action::ReadSession { session } => get(format!(
                "/payments/v1/sessions/{}",
                self.id(session, |s| self.session(s))
            )),
            Action::UpdateSession { session, body } => post(
                format!("/payments/v1/sessions/{}", self.session(*session)),
                body,
            ),
            Action::Authorize {
                session,
                data,
                category,
            } => post(
                format!("/__mock/sessions/{}/authorize", self.session(*session)),
                &self.authorize_body(*session, data, *category),
            ),
            Action::CreateOrder { token, body } => post(
                format!(
                    "/payments/v1/authorizations/{}/order",
                    self.id(token, |t| self.token(t))
                ),
                body,
            ),
            Action::CancelAuthorization { token } => request(
                Method::Delete,
                format!(
                    "/payments/v1/authorizations/{}",
                    self.id(token, |t| self.token(t))
                ),
                None,
            ),
            Action::ReadOrder { order } => get(format!(
                "/ordermanagement/v1/orders/{}",
                self.id(order, |o| self.order_id(o))
            )),
            Action::Capture {
                order,
                amount,
                description,
                key,
            } => keyed(
                post(
                    format!("{}/captures", om(*order)),
                    &amount_body("captured_amount", amount, description),
                ),
                key,
            ),
            Action::Refund {
                order,
                amount,
                description,
                key,
            } => keyed(
                post(
                    format!("{}/refunds", om(*order)),
                    &amount_body("refunded_amount", amount, description),
                ),
                key,
            ),
            Action::OmOperation { order, op, body } => {
                let capture_id = match op {
                    OmOp::ShippingInfo(c) => self.capture(*order, *c).map_or("", |b| b.id.as_str()),
                    _ => "",
                };
                let method = if *op == OmOp::MerchantReferences {
                    Method::Patch
                } else {
                    Method::Post
                };
                request(
                    method,
                    format!("{}{}", om(*order), op.path(capture_id)),
                    body.clone(),
                )
            }
            Action::ReadCaptures { order } => get(format!("{}/captures", om(*order))),
            Action::ReadCapture { order, capture } => get(format!(
                "{}/captures/{}",
                om(*order),
                self.id(capture, |c| self
                    .capture(*order, c)
                    .map_or("", |b| b.id.as_str()))
            )),
            Action::ReadRefunds { order } => get(format!("{}/refunds", om(*order))),
            Action::ReadRefund { order, refund } => get(format!(
                "{}/refunds/{}",
                om(*order),
                self.id(refund, |r| self
                    .refund(*order, r)
                    .map_or("", |b| b.id.as_str()))
            )),
            Action::FraudDecision {
                order,
                fraud_status,
            } => post(
                format!("/__mock/orders/{}/fraud-decision", self.order_id(*order)),
                &json!({ "fraud_status": fraud_status }).to_string(),
            ),
            Action::ReadNotifications => get(self.notifications_path()),
            Action::CreateCustomerToken { token, body } => post(
                format!(
                    "/payments/v1/authorizations/{}/customer-token",
                    self.id(token, |t| self.token(t))
                ),
                body,
            ),
            Action::ReadCustomerToken { ctoken } => get(format!(
                "/customer-token/v1/tokens/{}",
                self.id(ctoken, |c| self.customer_token(c))
            )),
            Action::SetCustomerTokenStatus { ctoken, status } => request(
                Method::Patch,
                format!(
                    "/customer-token/v1/tokens/{}/status",
                    self.customer_token(*ctoken)
                ),
                Some(json!({ "status": status }).to_string()),
            ),
            Action::CustomerTokenOrder { ctoken, body, key } => keyed(
                post(
                    format!(
                        "/customer-token/v1/tokens/{}/order",
                        self.customer_token(*ctoken)
                    ),
                    body,
                ),
                key,
            ),
            Action::AdvanceClock { seconds } => post(
                "/__mock/clock".to_owned(),
                &format!("{{\"advance_seconds\":{seconds}}}"),
            ),
            Action::WrongCredentials { session_id } => {
                get(format!("/payments/v1/sessions/{session_id}"))
            }
        }
    }

    /// The category chosen from those the session's create answer offered
    /// (a target that offers only `klarna` is asked for `klarna`).
    fn category(&self, s: SessionIx, category: Option<u8>) -> Option<String> {
        let offered = self
            .sessions
            .get(s)
            .map(|b| &b.categories[..])
            .unwrap_or(&[]);
        category
            .filter(|_| !offered.is_empty())
            .map(|c| offered[usize::from(c) % offered.len()].clone())
    }

    /// The control API's authorize body: the authorize-time data with the
    /// chosen category.
    fn authorize_body(&self, s: SessionIx, data: &str, category: Option<u8>) -> String {
        let parsed = serde_json::from_str(data).unwrap_or(Value::Null);
        with_category(data, &parsed, self.category(s, category).as_deref())
    }

    /// What `authorize()` is called with for session `s`: its ids and
    /// market, the chosen category and the authorize-time data.
    pub fn authorization(&self, s: SessionIx, data: &str, category: Option<u8>) -> Authorization {
        let bound = self.sessions.get(s);
        let market = |i: usize| bound.map_or(String::new(), |b| b.market[i].clone());
        let country = market(0);
        let category = self.category(s, category);
        let parsed = serde_json::from_str(data).unwrap_or(Value::Null);
        Authorization {
            session_id: self.session(s).to_owned(),
            client_token: bound.map_or(String::new(), |b| b.client_token.clone()),
            region: crate::certify::Region::of_country(&country).name(),
            purchase_country: country,
            purchase_currency: market(1),
            locale: market(2),
            control_body: with_category(data, &parsed, category.as_deref()),
            payment_method_category: category,
            data: parsed,
        }
    }

    /// Records the ids a right answer handed out.
    pub fn bind(&mut self, answer: &Answer, ex: &Exchange, body: Option<&Value>) {
        let null = Value::Null;
        let body = body.unwrap_or(&null);
        let text = |key: &str| body[key].as_str().map(str::to_owned);
        let created = || Bound201 {
            id: header(ex, "capture-id") + &header(ex, "refund-id"),
            location: header(ex, "location"),
            transaction: header(ex, "transaction-id"),
        };
        match answer {
            Answer::SessionCreated { .. } => self.sessions.push(BoundSession {
                id: text("session_id").unwrap_or_default(),
                client_token: text("client_token").unwrap_or_default(),
                market: sent_market(ex),
                categories: body["payment_method_categories"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["identifier"].as_str().map(str::to_owned))
                    .collect(),
            }),
            Answer::Authorized { .. } => self
                .tokens
                .push(text("authorization_token").unwrap_or_default()),
            Answer::Order(o) if !o.again => self.orders.push(BoundOrder {
                id: text("order_id").unwrap_or_default(),
                redirect_url: text("redirect_url"),
                fraud_status: text("fraud_status"),
                payment_type: payment_type(body),
                ..BoundOrder::default()
            }),
            Answer::TokenOrder { again: false, .. } => self.orders.push(BoundOrder {
                id: text("order_id").unwrap_or_default(),
                fraud_status: text("fraud_status"),
                payment_type: payment_type(body),
                ..BoundOrder::default()
            }),
            Answer::Captured {
                order,
                again: false,
                ..
            } => {
                if let Some(o) = self.orders.get_mut(*order) {
                    o.captures.push(created());
                }
            }
            Answer::Refunded {
                order,
                again: false,
                ..
            } => {
                if let Some(o) = self.orders.get_mut(*order) {
                    o.refunds.push(created());
                }
            }
            Answer::OmDone {
                order,
                op,
                repeat: false,
            } => {
                if let Some(o) = self.orders.get_mut(*order) {
                    o.transactions.insert(*op, header(ex, "transaction-id"));
                }
            }
            // Captures made without a 201 (auto capture) are bound by the
            // first read-back that lists them.
            Answer::OmOrder(v) => self.bind_listed(v.order, &body["captures"]),
            Answer::Captures(list) => {
                if let Some(c) = list.first() {
                    self.bind_listed(c.order, body);
                }
            }
            Answer::CustomerTokenCreated { again: false, .. } => self
                .customer_tokens
                .push(text("token_id").unwrap_or_default()),
            _ => {}
        }
    }
}

impl Bindings {
    fn bind_listed(&mut self, o: OrderIx, listed: &Value) {
        let Some(order) = self.orders.get_mut(o) else {
            return;
        };
        let listed = listed.as_array().map_or(&[][..], Vec::as_slice);
        for c in listed.iter().skip(order.captures.len()) {
            order.captures.push(Bound201 {
                id: c["capture_id"].as_str().unwrap_or("").to_owned(),
                ..Bound201::default()
            });
        }
    }
}

/// `data` (parsed as `parsed`) with `payment_method_category` set, when
/// there is one and the data is an object; `data` as it is otherwise.
fn with_category(data: &str, parsed: &Value, category: Option<&str>) -> String {
    match (category, parsed) {
        (Some(c), Value::Object(map)) => {
            let mut map = map.clone();
            map.insert(
                "payment_method_category".into(),
                Value::String(c.to_owned()),
            );
            Value::Object(map).to_string()
        }
        _ => data.to_owned(),
    }
}

/// `authorized_payment_method.type`, in either form it comes in.
fn payment_type(body: &Value) -> Option<String> {
    let method = &body["authorized_payment_method"];
    method["type"]
        .as_str()
        .or(method.as_str())
        .map(str::to_owned)
}

/// Purchase country, currency and locale of a create-session request as
/// sent, as `Value::as_str` reads them: empty where absent or not strings,
/// the last of repeated keys. Read without building the whole body: this
/// runs on every session created.
fn sent_market(ex: &Exchange) -> [String; 3] {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    const KEYS: [&str; 3] = ["purchase_country", "purchase_currency", "locale"];
    /// The top-level object's three strings.
    struct Market;
    impl<'de> Visitor<'de> for Market {
        type Value = [String; 3];
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<[String; 3], A::Error> {
            let mut found: [String; 3] = Default::default();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match KEYS.iter().position(|k| *k == key) {
                    Some(i) => found[i] = map.next_value::<StrOrNot>()?.0,
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(found)
        }
    }
    /// A string value, or "" for any other.
    struct StrOrNot(String);
    impl<'de> serde::Deserialize<'de> for StrOrNot {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StrOrNot, D::Error> {
            Ok(match serde_json::Value::deserialize(d)? {
                Value::String(s) => StrOrNot(s),
                _ => StrOrNot(String::new()),
            })
        }
    }
    let read = |body: &str| {
        let mut de = serde_json::Deserializer::from_str(body);
        let market = de.deserialize_map(Market).ok()?;
        de.end().ok().map(|()| market)
    };
    ex.request_body
        .as_deref()
        .and_then(read)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_market_sent_is_read_as_the_json_value_reads() {
        let market = |body: &str| {
            sent_market(&Exchange {
                method: "POST".into(),
                path: "/payments/v1/sessions".into(),
                request_headers: Vec::new(),
                request_body: Some(body.into()),
                status: 200,
                response_headers: Vec::new(),
                response_body: String::new(),
            })
        };
        let body = r#"{"order_lines":[{"name":"a"}],"locale":"de-DE","purchase_country":"AT",
            "billing_address":{"country":"DE"},"purchase_currency":"EUR","purchase_country":"DE"}"#;
        // The last of repeated keys, nested objects skipped.
        assert_eq!(market(body), ["DE", "EUR", "de-DE"]);
        assert_eq!(
            market(r#"{"purchase_country":7,"locale":null,"purchase_currency":"S\u0045K"}"#),
            ["", "SEK", ""]
        );
        // Not JSON, trailing text, not an object: nothing read.
        for body in ["{", r#"{"locale":"de-DE"} x"#, "[1]", ""] {
            assert_eq!(market(body), ["", "", ""], "{body}");
        }
    }

    #[test]
    fn the_category_asked_for_is_one_the_session_offered() {
        // A target that offers only `klarna` (as Klarna's own sample does) is
        // asked for `klarna`, whatever index the operation drew.
        let mut b = Bindings::default();
        b.sessions.push(BoundSession {
            client_token: String::new(),
            market: Default::default(),
            id: "s-1".into(),
            categories: vec!["klarna".into()],
        });
        let action = Action::Authorize {
            session: 0,
            data: r#"{"billing_address":{"email":"customer@email.se"}}"#.into(),
            category: Some(2),
        };
        let request = b.request(&action);
        assert_eq!(request.path, "/__mock/sessions/s-1/authorize");
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["payment_method_category"], "klarna");
        // None lets the target choose: no category is sent.
        let action = Action::Authorize {
            session: 0,
            data: "{}".into(),
            category: None,
        };
        assert_eq!(b.request(&action).body.as_deref(), Some("{}"));
    }
}
