//! The reference model: Klarna Payments v1 (and Order Management's view of
//! its orders) as the documents and recorded answers describe it, written
//! apart from the mock on purpose. A [`World`] holds the state a sequence of
//! requests builds up — sessions, authorization tokens, orders, the clock —
//! and for each [`Action`] predicts the answer ([`World::predict`]) and moves
//! to the next state ([`World::apply`]). Pure: no HTTP, no targets, never the
//! mock's store.
//!
//! Rules, in the order they are checked (docs/klarna.md):
//! - sessions live 48 h after their last update (§5.1); create, a successful
//!   update and an approved authorize count as updates `[I]`; an unknown or
//!   expired session is 404 `Invalid session id` (§4.2); a session whose
//!   order was placed refuses update and authorize with 404
//!   `SESSION_COMPLETED` (§4.2); an update is validated as a whole new
//!   session (§3.2) and changes nothing when refused `[I]`;
//! - a token is valid while less than 3600 s have passed since authorization,
//!   and only the newest of a session is (§5.1); cancelled, replaced, expired
//!   and unknown tokens are 404 `Invalid authorization token` (§3.4);
//! - create order: the token, then body validation (400, never stored on the
//!   token, §11.1), then an order already placed (the identical body: the
//!   same order; another: 409, §4.2, §11.1), then the token's first refusal
//!   when errors stick (§10, playground fidelity), then comparison with what
//!   was authorized (409 `Not matching fields`, §3.4), then success;
//! - Order Management shows what was placed; captures never exceed the
//!   remaining authorized amount, and none while the order is PENDING (§11.3).

use serde_json::{Map, Value};

use super::action::{Action, Id};
use super::answer::{
    Answer, OmView, OrderAnswer, OrderIx, Prediction, SessionIx, SessionView, TokenIx,
};
use super::compare::not_matching_fields;
use super::{ExpectedError, ExpectedMessages, OracleConfig};
use crate::model::market::{self, EmailOutcome};
use crate::model::validate::{self, BodyKind, Fidelity, Grade};
use crate::model::{
    CreateOrderRequest, Customer, OrderLine, SESSION_LIFETIME_SECONDS, Session,
    TOKEN_LIFETIME_SECONDS,
};

const TOKEN_LIFETIME: i64 = TOKEN_LIFETIME_SECONDS as i64;
const SESSION_LIFETIME: i64 = SESSION_LIFETIME_SECONDS as i64;
/// Fields only Klarna writes (docs/klarna.md §2.1); a merchant's are ignored (§11.1).
const READ_ONLY: [&str; 5] = [
    "authorization_token",
    "client_token",
    "expires_at",
    "payment_method_categories",
    "status",
];
/// Customer details, shown by a session read-back only after authorization.
const CUSTOMER_DETAILS: [&str; 3] = ["billing_address", "shipping_address", "customer"];

/// The clock the target runs on, as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockModel {
    /// Unix seconds at the start of the sequence, when the target's clock is
    /// the model's (a virtual clock); `None` for real time, where nothing that
    /// depends on the instant is predicted.
    pub start: Option<i64>,
}

#[derive(Debug, Clone)]
struct SessionState {
    /// What the merchant sent, merged (create, updates, authorize), read-only fields dropped.
    body: Map<String, Value>,
    updated_at: i64,
    authorized: bool,
    latest_token: Option<TokenIx>,
    completed: bool,
}

/// What a token's first create order that got past validation led to.
#[derive(Debug, Clone)]
enum Outcome {
    None,
    Placed {
        order: OrderIx,
        body: Value,
    },
    /// The first business refusal (409, 403): it sticks when errors stick.
    Refused(ExpectedError),
}

#[derive(Debug, Clone)]
struct TokenState {
    /// `None` for a token the user authorized in a browser (certification).
    session: Option<SessionIx>,
    authorized_at: i64,
    /// The session as authorized: what create order is compared with (§3.4).
    authorized: CreateOrderRequest,
    cancelled: bool,
    replaced: bool,
    outcome: Outcome,
}

#[derive(Debug, Clone)]
struct OrderState {
    created_at: i64,
    order_amount: i64,
    purchase_currency: String,
    order_lines: Vec<OrderLine>,
    fraud_status: &'static str,
    captured_amount: i64,
    /// Any capture happened (auto capture included, even of nothing). `[I]`
    captured: bool,
    /// `auto_capture` was asked where the contract decides whether it
    /// happens (lenient): settled by the first read-back.
    capture_unsettled: bool,
}

/// The model state of one sequence.
#[derive(Debug, Clone)]
pub struct World {
    config: OracleConfig,
    clock: ClockModel,
    /// Seconds since the start of the sequence.
    now: i64,
    sessions: Vec<SessionState>,
    tokens: Vec<TokenState>,
    orders: Vec<OrderState>,
    /// Every create-order request sent: (token, body), for retries.
    attempts: Vec<(Id<TokenIx>, String)>,
    /// Tokens 0..given were authorized by the user in a browser.
    given: usize,
}

/// Which answer the target gave, where the prediction allowed more than one.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Observation<'a> {
    /// The answer judged to match: `None` is the predicted one.
    pub answer: Option<&'a Answer>,
    /// The `fraud_status` of a new order, where more than one was allowed.
    pub fraud_status: Option<&'static str>,
}

impl World {
    pub fn new(config: OracleConfig, clock: ClockModel) -> World {
        World {
            config,
            clock,
            now: 0,
            sessions: Vec::new(),
            tokens: Vec::new(),
            orders: Vec::new(),
            attempts: Vec::new(),
            given: 0,
        }
    }

    /// A world that also holds tokens the user authorized in a browser, each
    /// with the create-order body that matches what was authorized (the only
    /// way to a token without a control API, docs/klarna.md §7). They are
    /// tokens 0..n, authorized "now".
    pub fn with_given(mut self, bodies: &[String]) -> World {
        for body in bodies {
            let authorized = serde_json::from_str(body).unwrap_or_default();
            self.tokens.push(TokenState {
                session: None,
                authorized_at: self.now,
                authorized,
                cancelled: false,
                replaced: false,
                outcome: Outcome::None,
            });
        }
        self.given = bodies.len();
        self
    }

    /// The token the user authorized as the n-th, if there is one.
    pub fn given_token(&self, n: usize) -> Option<TokenIx> {
        (n < self.given).then_some(n)
    }

    pub fn config(&self) -> OracleConfig {
        self.config
    }

    /// Seconds since the start of the sequence.
    pub fn now(&self) -> i64 {
        self.now
    }

    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    pub fn tokens(&self) -> usize {
        self.tokens.len()
    }

    pub fn orders(&self) -> usize {
        self.orders.len()
    }

    /// The create-order requests sent so far, oldest first.
    pub fn attempts(&self) -> &[(Id<TokenIx>, String)] {
        &self.attempts
    }

    /// The session's purchase country as the merchant last set it.
    pub fn session_country(&self, s: SessionIx) -> Option<&str> {
        self.sessions.get(s)?.body.get("purchase_country")?.as_str()
    }

    /// The session's fields as Klarna holds them (merged, read-only dropped).
    pub fn session_body(&self, s: SessionIx) -> Option<&Map<String, Value>> {
        self.sessions.get(s).map(|s| &s.body)
    }

    /// Seconds since the session's last update.
    pub fn session_idle(&self, s: SessionIx) -> Option<i64> {
        Some(self.now - self.sessions.get(s)?.updated_at)
    }

    /// The order body that matches what the token authorized (§3.4).
    pub fn authorized_order(&self, t: TokenIx) -> Option<&CreateOrderRequest> {
        self.tokens.get(t).map(|t| &t.authorized)
    }

    /// Seconds since the token was issued.
    pub fn token_age(&self, t: TokenIx) -> Option<i64> {
        Some(self.now - self.tokens.get(t)?.authorized_at)
    }

    /// Seconds since the order was placed.
    pub fn order_age(&self, o: OrderIx) -> Option<i64> {
        Some(self.now - self.orders.get(o)?.created_at)
    }

    /// The amount still authorized for capture.
    pub fn remaining(&self, o: OrderIx) -> Option<i64> {
        self.orders.get(o).map(OrderState::remaining)
    }

    // ---- predictions ----------------------------------------------------

    /// The answer a conformant target gives to `action` in this state.
    pub fn predict(&self, action: &Action) -> Prediction {
        match action {
            Action::CreateSession { body } => self.predict_create_session(body),
            Action::ReadSession { session } => match self.live_session(session) {
                Some(s) => Prediction::new(Answer::Session(Box::new(self.session_view(s)))),
                None => Prediction::error(invalid_session_id()),
            },
            Action::UpdateSession { session, body } => self.predict_update(*session, body),
            Action::Authorize { session, data, .. } => self.predict_authorize(*session, data),
            Action::CreateOrder { token, body } => self.predict_create_order(token, body),
            Action::CancelAuthorization { token } => match self.usable_token(token) {
                None => Prediction::error(ExpectedError::invalid_token()),
                // The token was used for its order (docs/klarna.md §5.2). `[I]`
                Some(t) if matches!(self.tokens[t].outcome, Outcome::Placed { .. }) => {
                    Prediction::error(ExpectedError::token_consumed())
                }
                Some(_) => Prediction::new(Answer::NoContent),
            },
            Action::ReadOrder { order } => match order {
                Id::Known(o) => {
                    let view = self.om_view(*o);
                    let mut p = Prediction::new(Answer::OmOrder(Box::new(view.clone())));
                    if self.orders[*o].capture_unsettled {
                        // The contract did not allow auto capture (§9).
                        p.alternatives.push(Answer::OmOrder(Box::new(OmView {
                            status: "AUTHORIZED",
                            captured_amount: 0,
                            remaining_authorized_amount: view.order_amount,
                            ..view
                        })));
                    }
                    p
                }
                Id::Unknown(id) => Prediction::error(no_such_order(id)),
            },
            Action::Capture { order, amount } => self.predict_capture(*order, *amount),
            Action::AdvanceClock { seconds } => Prediction::new(Answer::Clock {
                now: self.clock.start.unwrap_or(0) + self.now + *seconds as i64,
            }),
            Action::WrongCredentials { .. } => Prediction::new(Answer::Unauthorized),
        }
    }

    fn predict_create_session(&self, body: &str) -> Prediction {
        let value = parse(body);
        match validate::refusal(
            &validate::validate(BodyKind::SessionCreate, &value),
            self.config.fidelity,
        ) {
            Some(messages) => Prediction::error(ExpectedError::bad_value(messages)),
            None => Prediction::new(Answer::SessionCreated {
                session: self.sessions.len(),
            }),
        }
    }

    fn predict_update(&self, s: SessionIx, body: &str) -> Prediction {
        let Some(state) = self.live_session(&Id::Known(s)).map(|s| &self.sessions[s]) else {
            return Prediction::error(invalid_session_id());
        };
        if state.completed {
            return Prediction::error(session_completed());
        }
        // "An update session call is validated as if it were a new session" (§3.2).
        let merged = merged(&state.body, parse(body));
        match validate::refusal(
            &validate::validate(BodyKind::SessionCreate, &Value::Object(merged)),
            self.config.fidelity,
        ) {
            Some(messages) => Prediction::error(ExpectedError::bad_value(messages)),
            None => Prediction::new(Answer::NoContent),
        }
    }

    fn predict_authorize(&self, s: SessionIx, data: &str) -> Prediction {
        let Some(state) = self.live_session(&Id::Known(s)).map(|s| &self.sessions[s]) else {
            return Prediction::error(invalid_session_id());
        };
        if state.completed {
            return Prediction::error(session_completed());
        }
        let merged = with_derived_shipping(merged(&state.body, parse(data)));
        let value = Value::Object(merged);
        let violations = validate::validate(BodyKind::SessionCreate, &value);
        if validate::refusal(&violations, self.config.fidelity).is_some() {
            // The browser SDK's answer to data it cannot take (§7, §11.6).
            let mut invalid_fields: Vec<String> = Vec::new();
            for v in violations {
                if (self.config.fidelity == Fidelity::Documented || v.grade == Grade::Error)
                    && !invalid_fields.contains(&v.path)
                {
                    invalid_fields.push(v.path);
                }
            }
            return Prediction::new(Answer::NotAuthorized {
                show_form: true,
                invalid_fields,
            });
        }
        let country = value["purchase_country"].as_str().unwrap_or("");
        let email = value
            .pointer("/billing_address/email")
            .and_then(Value::as_str)
            .unwrap_or("");
        if market::email_outcome(email).declines_in(country) {
            return Prediction::new(Answer::NotAuthorized {
                show_form: false,
                invalid_fields: Vec::new(),
            });
        }
        Prediction::new(Answer::Authorized {
            token: self.tokens.len(),
        })
    }

    fn predict_create_order(&self, token: &Id<TokenIx>, body: &str) -> Prediction {
        let Some(t) = self.usable_token(token) else {
            return Prediction::error(ExpectedError::invalid_token());
        };
        let mut value = parse(body);
        // Validation first, before anything the token remembers (§11.1).
        if let Some(messages) = validate::refusal(
            &validate::validate(BodyKind::CreateOrder, &value),
            self.config.fidelity,
        ) {
            return Prediction::error(ExpectedError::bad_value(messages));
        }
        let state = &self.tokens[t];
        match &state.outcome {
            Outcome::Placed { order, body } => {
                return if *body == value {
                    let mut p = Prediction::new(Answer::Order(OrderAnswer {
                        order: *order,
                        again: true,
                        fraud_status: self.placed_fraud(*order),
                        redirect_url: false,
                    }));
                    // A real account may answer it as the documents list it
                    // (§4.2) instead of with the same order (§11.1).
                    p.alternatives
                        .push(Answer::Error(ExpectedError::token_consumed()));
                    p
                } else {
                    Prediction::error(ExpectedError::completed_with_different_body())
                };
            }
            Outcome::Refused(first) if self.config.fidelity == Fidelity::Playground => {
                return Prediction::error(first.clone());
            }
            _ => {}
        }
        // Klarna reads `10000.0` as 10000 (§10; graded by validation above).
        validate::truncate_fractions(&mut value);
        let Ok(order) = serde_json::from_value::<CreateOrderRequest>(value) else {
            // Validation passes only what the model types hold; should it not,
            // the answer cannot be predicted beyond "refused".
            return Prediction::error(ExpectedError::bad_value(vec!["Bad value".to_owned()]));
        };
        if let Some(refusal) = self.comparison(&state.authorized, &order) {
            return Prediction::error(refusal);
        }
        let answer = OrderAnswer {
            order: self.orders.len(),
            again: false,
            fraud_status: self.fraud_status(&state.authorized),
            redirect_url: confirmation(&state.authorized) || confirmation(&order),
        };
        let mut prediction = Prediction::new(Answer::Order(answer.clone()));
        if state.session.is_none() {
            // A browser-authorized token: its session may have carried a
            // confirmation URL the body does not repeat.
            prediction.alternatives.push(Answer::Order(OrderAnswer {
                redirect_url: !answer.redirect_url,
                ..answer
            }));
        }
        prediction
    }

    /// 409 for fields that differ from what was authorized (§3.4); with cart
    /// updates allowed, only a higher amount is refused, 403 REJECTED (§12 `[I]`).
    fn comparison(
        &self,
        authorized: &CreateOrderRequest,
        order: &CreateOrderRequest,
    ) -> Option<ExpectedError> {
        let differences = not_matching_fields(authorized, order);
        if differences.is_empty() {
            return None;
        }
        if !self.config.allow_cart_updates {
            return Some(ExpectedError::not_matching(differences));
        }
        let (cart, other): (Vec<_>, Vec<_>) =
            differences.into_iter().partition(|d| is_cart_field(d));
        if !other.is_empty() {
            return Some(ExpectedError::not_matching(other));
        }
        (!cart.is_empty() && order.order_amount > authorized.order_amount).then(|| ExpectedError {
            status: 403,
            error_code: "REJECTED",
            messages: ExpectedMessages::Exact(vec!["Rejected".to_owned()]),
        })
    }

    /// PENDING only for the pending e-mail patterns, and only where the
    /// authorized purchase country has pending orders (US, UK: §5.3, §6.1).
    fn fraud_status(&self, authorized: &CreateOrderRequest) -> &'static [&'static str] {
        let email = authorized
            .billing_address
            .as_ref()
            .and_then(|a| a.email.as_deref())
            .unwrap_or("");
        let pending_market =
            market::market(&authorized.purchase_country).is_some_and(|m| m.pending_available);
        match market::email_outcome(email) {
            EmailOutcome::Pending { .. } if pending_market && self.config.lenient => {
                &["PENDING", "ACCEPTED"]
            }
            EmailOutcome::Pending { .. } if pending_market => &["PENDING"],
            _ => &["ACCEPTED"],
        }
    }

    fn placed_fraud(&self, o: OrderIx) -> &'static [&'static str] {
        match self.orders[o].fraud_status {
            "PENDING" => &["PENDING"],
            _ => &["ACCEPTED"],
        }
    }

    fn predict_capture(&self, o: OrderIx, amount: i64) -> Prediction {
        let order = &self.orders[o];
        let refused = |message: &str| {
            Prediction::error(ExpectedError {
                status: 403,
                error_code: "CAPTURE_NOT_ALLOWED",
                messages: ExpectedMessages::Exact(vec![message.to_owned()]),
            })
        };
        // A PENDING order was recorded refusing captures (§11.3); the message `[I]`.
        if order.fraud_status == "PENDING" {
            return refused("Capture not allowed");
        }
        if amount > order.remaining() {
            return refused(
                "Captured amount is higher than the remaining authorized amount. Capture not possible.",
            );
        }
        Prediction::new(Answer::Captured { order: o })
    }

    fn session_view(&self, s: SessionIx) -> SessionView {
        let state = &self.sessions[s];
        let mut fields = state.body.clone();
        let mut absent = Vec::new();
        if state.authorized {
            fields = with_derived_shipping(fields);
            // `customer_read` leaves out the secret identifiers (§2.4).
            if let Some(customer) = fields.get("customer")
                && let Ok(c) = serde_json::from_value::<Customer>(customer.clone())
            {
                fields.insert(
                    "customer".into(),
                    serde_json::to_value(c.to_read()).unwrap_or_default(),
                );
            }
        } else {
            for key in CUSTOMER_DETAILS {
                fields.remove(key);
                absent.push(key);
            }
        }
        SessionView {
            session: s,
            status: if state.completed {
                "complete"
            } else {
                "incomplete"
            },
            fields,
            absent,
            authorization_token: state.latest_token,
            expires_at: self
                .clock
                .start
                .map(|start| start + state.updated_at + SESSION_LIFETIME),
        }
    }

    fn om_view(&self, o: OrderIx) -> OmView {
        let order = &self.orders[o];
        OmView {
            order: o,
            status: order.status(),
            fraud_status: self.placed_fraud(o),
            order_amount: order.order_amount,
            captured_amount: order.captured_amount,
            refunded_amount: 0,
            remaining_authorized_amount: order.remaining(),
            purchase_currency: order.purchase_currency.to_ascii_uppercase(),
            order_lines: order.order_lines.clone(),
        }
    }

    fn live_session(&self, session: &Id<SessionIx>) -> Option<SessionIx> {
        let Id::Known(s) = session else { return None };
        let state = self.sessions.get(*s)?;
        (self.now - state.updated_at < SESSION_LIFETIME).then_some(*s)
    }

    fn usable_token(&self, token: &Id<TokenIx>) -> Option<TokenIx> {
        let Id::Known(t) = token else { return None };
        let state = self.tokens.get(*t)?;
        let fresh = self.now - state.authorized_at < TOKEN_LIFETIME;
        (fresh && !state.cancelled && !state.replaced).then_some(*t)
    }

    // ---- transitions ----------------------------------------------------

    /// Moves to the state after `action` was answered as `observed` says
    /// (the predicted answer unless the target chose a lenient alternative).
    pub fn apply(&mut self, action: &Action, prediction: &Prediction, observed: Observation<'_>) {
        let answer = observed.answer.unwrap_or(&prediction.answer);
        match (action, answer) {
            (Action::CreateSession { body }, Answer::SessionCreated { .. }) => {
                let mut body = match parse(body) {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                for key in READ_ONLY {
                    body.remove(key);
                }
                body.retain(|_, v| !v.is_null());
                self.sessions.push(SessionState {
                    body: as_read(body),
                    updated_at: self.now,
                    authorized: false,
                    latest_token: None,
                    completed: false,
                });
            }
            (Action::UpdateSession { session, body }, Answer::NoContent) => {
                let now = self.now;
                let state = &mut self.sessions[*session];
                state.body = as_read(merged(&state.body, parse(body)));
                state.updated_at = now;
            }
            (Action::Authorize { session, data, .. }, Answer::Authorized { .. }) => {
                let now = self.now;
                let token = self.tokens.len();
                let state = &mut self.sessions[*session];
                let body = as_read(merged(&state.body, parse(data)));
                let snapshot: Session =
                    serde_json::from_value(Value::Object(with_derived_shipping(body.clone())))
                        .unwrap_or_default();
                state.body = body;
                state.authorized = true;
                // authorize() carries session data: it counts as an update. `[I]`
                state.updated_at = now;
                if let Some(previous) = state.latest_token.replace(token) {
                    self.tokens[previous].replaced = true;
                }
                self.tokens.push(TokenState {
                    session: Some(*session),
                    authorized_at: now,
                    authorized: CreateOrderRequest::authorized_for(&snapshot),
                    cancelled: false,
                    replaced: false,
                    outcome: Outcome::None,
                });
            }
            (Action::CreateOrder { token, body }, _) => {
                self.attempts.push((token.clone(), body.clone()));
                let Some(t) = self.usable_token(token) else {
                    return;
                };
                match answer {
                    Answer::Order(o) if !o.again => {
                        let mut value = parse(body);
                        let sent = value.clone();
                        validate::truncate_fractions(&mut value);
                        let order: CreateOrderRequest =
                            serde_json::from_value(value).unwrap_or_default();
                        let fraud_status = observed
                            .fraud_status
                            .filter(|f| o.fraud_status.contains(f))
                            .unwrap_or(o.fraud_status[0]);
                        let auto = order.auto_capture == Some(true);
                        let index = self.orders.len();
                        self.orders.push(OrderState {
                            created_at: self.now,
                            order_amount: order.order_amount,
                            purchase_currency: order.purchase_currency.clone(),
                            order_lines: order.order_lines,
                            fraud_status,
                            captured_amount: if auto { order.order_amount } else { 0 },
                            captured: auto,
                            capture_unsettled: auto && self.config.lenient,
                        });
                        self.tokens[t].outcome = Outcome::Placed {
                            order: index,
                            body: sent,
                        };
                        if let Some(session) = self.tokens[t].session {
                            self.sessions[session].completed = true;
                        }
                    }
                    // A business refusal is the token's first outcome; a 400
                    // never reached the order logic and is not kept (§11.1).
                    Answer::Error(e)
                        if matches!(self.tokens[t].outcome, Outcome::None)
                            && matches!(e.status, 403 | 409) =>
                    {
                        self.tokens[t].outcome = Outcome::Refused(e.clone());
                    }
                    _ => {}
                }
            }
            (Action::CancelAuthorization { token }, Answer::NoContent) => {
                if let Some(t) = self.usable_token(token) {
                    self.tokens[t].cancelled = true;
                }
            }
            (Action::Capture { order, amount }, Answer::Captured { .. }) => {
                let state = &mut self.orders[*order];
                state.captured_amount = state.captured_amount.saturating_add(*amount);
                state.captured = true;
            }
            (
                Action::ReadOrder {
                    order: Id::Known(o),
                },
                Answer::OmOrder(view),
            ) => {
                let state = &mut self.orders[*o];
                if state.capture_unsettled {
                    state.capture_unsettled = false;
                    state.captured_amount = view.captured_amount;
                    state.captured = view.captured_amount > 0 || view.status != "AUTHORIZED";
                }
            }
            (Action::AdvanceClock { seconds }, Answer::Clock { .. }) => {
                self.now = self.now.saturating_add(*seconds as i64);
            }
            _ => {}
        }
    }
}

impl OrderState {
    fn remaining(&self) -> i64 {
        self.order_amount
            .saturating_sub(self.captured_amount)
            .max(0)
    }

    fn status(&self) -> &'static str {
        if !self.captured {
            "AUTHORIZED"
        } else if self.captured_amount >= self.order_amount {
            "CAPTURED"
        } else {
            "PART_CAPTURED"
        }
    }
}

fn confirmation(order: &CreateOrderRequest) -> bool {
    order
        .merchant_urls
        .as_ref()
        .is_some_and(|u| u.confirmation.is_some())
}

fn is_cart_field(item: &str) -> bool {
    item.starts_with("order_lines")
        || item.starts_with("Incorrect number of items")
        || item == "order_amount"
        || item == "order_tax_amount"
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Klarna merges data sent later into the session: a field given replaces the
/// earlier value (§2.3), read-only fields are ignored, `null` removes. `[I]`
/// The category chosen at authorize is the widget's, not a session field.
fn merged(base: &Map<String, Value>, update: Value) -> Map<String, Value> {
    let mut out = base.clone();
    if let Value::Object(update) = update {
        for (key, value) in update {
            if READ_ONLY.contains(&key.as_str()) || key == "payment_method_category" {
                continue;
            }
            if value.is_null() {
                out.remove(&key);
            } else {
                out.insert(key, value);
            }
        }
    }
    out
}

/// Floats in integer fields read as Klarna reads them (truncated, §10).
fn as_read(body: Map<String, Value>) -> Map<String, Value> {
    let mut value = Value::Object(body);
    validate::truncate_fractions(&mut value);
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// "If shipping_address is missing, Klarna copies billing_address into it" (§2.3).
fn with_derived_shipping(mut session: Map<String, Value>) -> Map<String, Value> {
    if !session.contains_key("shipping_address")
        && let Some(billing) = session.get("billing_address").cloned()
    {
        session.insert("shipping_address".into(), billing);
    }
    session
}

fn invalid_session_id() -> ExpectedError {
    ExpectedError::new(404, "NOT_FOUND", "Invalid session id")
}

fn session_completed() -> ExpectedError {
    ExpectedError::new(
        404,
        "SESSION_COMPLETED",
        "Session has already been completed",
    )
}

fn no_such_order(id: &str) -> ExpectedError {
    ExpectedError::new(404, "NO_SUCH_ORDER", &format!("Order {id} cannot be found"))
}
