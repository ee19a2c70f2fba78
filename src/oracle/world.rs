//! The reference model: Klarna Payments v1 and Order Management as the
//! documents and recorded answers describe them (docs/klarna.md), written
//! apart from the mock on purpose. A [`World`] holds the state a sequence of
//! requests builds up — sessions, authorization tokens, orders with their
//! captures and refunds, customer tokens, the notifications sent, the clock —
//! and for each [`Action`] predicts the answer ([`World::predict`]) and moves
//! to the next state ([`World::apply`]). Pure: no HTTP, no targets, never the
//! mock's store.
//!
//! The rules live by resource: `sessions.rs` (sessions and authorize),
//! `orders.rs` (create order and its retries, cancel authorization, fraud),
//! `om.rs` (Order Management: status, amounts, captures, refunds, the 204
//! operations, expiry, pending decisions, the notification journal),
//! `tokens.rs` (customer tokens). docs/design.md lists them in order.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::action::{Action, Id};
use super::answer::{Answer, CustomerTokenIx, OrderIx, Prediction, SessionIx, TokenIx};
use super::{ExpectedError, OracleConfig};
use crate::model::validate;
use crate::model::{CreateOrderRequest, OrderLine};

/// Fields only Klarna writes (docs/klarna.md §2.1); a merchant's are ignored (§11.1).
pub(super) const READ_ONLY: [&str; 5] = [
    "authorization_token",
    "client_token",
    "expires_at",
    "payment_method_categories",
    "status",
];

/// The clock the target runs on, as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockModel {
    /// Unix seconds at the start of the sequence, when the target's clock is
    /// the model's (a virtual clock); `None` for real time, where nothing that
    /// depends on the instant is predicted.
    pub start: Option<i64>,
}

#[derive(Debug, Clone)]
pub(super) struct SessionState {
    /// What the merchant sent, merged (create, updates, authorize), read-only fields dropped.
    pub(super) body: Map<String, Value>,
    pub(super) updated_at: i64,
    pub(super) authorized: bool,
    pub(super) latest_token: Option<TokenIx>,
    pub(super) completed: bool,
}

/// What a token's first create order that got past validation led to.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    None,
    Placed {
        order: OrderIx,
        body: Value,
    },
    /// The first business refusal (409, 403): it sticks when errors stick.
    Refused(ExpectedError),
}

#[derive(Debug, Clone)]
pub(super) struct TokenState {
    /// `None` for a token the user authorized in a browser (certification).
    pub(super) session: Option<SessionIx>,
    pub(super) authorized_at: i64,
    /// The session as authorized: what create order is compared with (§3.4).
    pub(super) authorized: CreateOrderRequest,
    /// The session's `intent` as authorized (`buy` when absent, §2.1).
    pub(super) intent: String,
    pub(super) cancelled: bool,
    pub(super) replaced: bool,
    pub(super) outcome: Outcome,
    /// The customer token made from it, with the body that made it.
    pub(super) customer_token: Option<(CustomerTokenIx, Value)>,
}

#[derive(Debug, Clone)]
pub(super) struct CaptureState {
    pub(super) amount: i64,
    pub(super) description: Option<String>,
    pub(super) order_lines: Value,
    pub(super) shipping_info: Option<Value>,
    /// Its id was seen (a 201, or a read-back listing it): an auto capture's
    /// is not until a read-back.
    pub(super) known: bool,
}

#[derive(Debug, Clone)]
pub(super) struct RefundState {
    pub(super) amount: i64,
    pub(super) description: Option<String>,
    pub(super) order_lines: Value,
}

/// What a fraud review of a PENDING order will decide, and when (§13.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Review {
    pub(super) at: i64,
    pub(super) outcome: &'static str,
}

#[derive(Debug, Clone)]
pub(super) struct OrderState {
    pub(super) created_at: i64,
    /// The authorization's expiry, in model seconds (§13.1).
    pub(super) expires_at: i64,
    pub(super) order_amount: i64,
    pub(super) purchase_currency: String,
    pub(super) order_lines: Vec<OrderLine>,
    /// The session the order's token came from (`None`: a browser-authorized
    /// token, or a customer token's order).
    pub(super) session: Option<SessionIx>,
    /// The fraud status it was placed with, and the review still to come.
    pub(super) fraud_status: &'static str,
    pub(super) review: Option<Review>,
    /// A decision made through the control API, and when.
    pub(super) decided: Option<Review>,
    pub(super) captures: Vec<CaptureState>,
    pub(super) refunds: Vec<RefundState>,
    /// `auto_capture` was asked where the contract decides whether it
    /// happens (lenient): settled by the first read-back, which shows the
    /// auto capture (the first capture) or not.
    pub(super) capture_unsettled: bool,
    /// The 204 operations done once (their repeats are no-ops, §13.2).
    pub(super) done: Vec<super::answer::OmOp>,
    pub(super) cancelled: bool,
    pub(super) released: bool,
    pub(super) extended: bool,
    pub(super) merchant_references: Option<(Option<String>, Option<String>)>,
    /// `Klarna-Idempotency-Key` -> the capture (refund) its first 201 made;
    /// captures and refunds keep their keys apart. `[I]`
    pub(super) capture_keys: HashMap<String, usize>,
    pub(super) refund_keys: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
pub(super) struct CustomerTokenState {
    pub(super) token: TokenIx,
    pub(super) active: bool,
    /// `Klarna-Idempotency-Key` -> the order it placed.
    pub(super) keys: HashMap<String, OrderIx>,
    /// Every key sent with its orders, oldest first.
    pub(super) keys_sent: Vec<String>,
}

/// The model state of one sequence.
#[derive(Debug, Clone)]
pub struct World {
    pub(super) config: OracleConfig,
    pub(super) clock: ClockModel,
    /// Seconds since the start of the sequence.
    pub(super) now: i64,
    pub(super) sessions: Vec<SessionState>,
    pub(super) tokens: Vec<TokenState>,
    pub(super) orders: Vec<OrderState>,
    pub(super) customer_tokens: Vec<CustomerTokenState>,
    /// Every create-order request sent: (token, body), for retries.
    pub(super) attempts: Vec<(Id<TokenIx>, String)>,
    /// Every idempotency key sent, per order (for operations that reuse one).
    pub(super) keys_sent: Vec<(OrderIx, String)>,
    /// Authorization callbacks made: (session, token, the callback URL).
    pub(super) callbacks: Vec<(SessionIx, TokenIx, String)>,
    /// Tokens 0..given were authorized by the user in a browser.
    pub(super) given: usize,
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
            customer_tokens: Vec::new(),
            attempts: Vec::new(),
            keys_sent: Vec::new(),
            callbacks: Vec::new(),
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
                intent: "buy".to_owned(),
                cancelled: false,
                replaced: false,
                outcome: Outcome::None,
                customer_token: None,
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

    pub fn customer_tokens(&self) -> usize {
        self.customer_tokens.len()
    }

    /// The create-order requests sent so far, oldest first.
    pub fn attempts(&self) -> &[(Id<TokenIx>, String)] {
        &self.attempts
    }

    /// The idempotency keys sent for an order, oldest first.
    pub fn keys_sent(&self, o: OrderIx) -> Vec<&str> {
        self.keys_sent
            .iter()
            .filter(|(order, _)| *order == o)
            .map(|(_, k)| k.as_str())
            .collect()
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

    /// Seconds until the order's authorization expires (negative: expired).
    pub fn until_expiry(&self, o: OrderIx) -> Option<i64> {
        Some(self.orders.get(o)?.expires_at - self.now)
    }

    /// Seconds until the order's fraud review decides, if one is due.
    pub fn until_review(&self, o: OrderIx) -> Option<i64> {
        let order = self.orders.get(o)?;
        let review = order.review.filter(|_| order.decided.is_none())?;
        Some(review.at - self.now)
    }

    /// The amount still authorized for capture.
    pub fn remaining(&self, o: OrderIx) -> Option<i64> {
        self.orders.get(o).map(|order| self.om_remaining(order))
    }

    /// What can still be refunded: captured minus refunded.
    pub fn refundable(&self, o: OrderIx) -> Option<i64> {
        self.orders.get(o).map(|order| {
            let captured: i64 = order.captured_amount();
            captured.saturating_sub(order.refunded_amount())
        })
    }

    /// How many captures and refunds an order has.
    pub fn captures(&self, o: OrderIx) -> usize {
        self.orders.get(o).map_or(0, |order| order.captures.len())
    }

    /// The captures whose ids the harness has seen, oldest first.
    pub fn known_captures(&self, o: OrderIx) -> Vec<usize> {
        self.orders.get(o).map_or(Vec::new(), |order| {
            (0..order.captures.len())
                .filter(|c| order.captures[*c].known)
                .collect()
        })
    }

    pub fn refunds(&self, o: OrderIx) -> usize {
        self.orders.get(o).map_or(0, |order| order.refunds.len())
    }

    /// The idempotency keys a customer token's orders were sent with.
    pub fn customer_token_keys(&self, c: CustomerTokenIx) -> Vec<&str> {
        self.customer_tokens
            .get(c)
            .map(|t| t.keys_sent.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The authorized order a customer token stands on (for its orders).
    pub fn customer_token_order(&self, c: CustomerTokenIx) -> Option<&CreateOrderRequest> {
        let token = self.customer_tokens.get(c)?.token;
        self.authorized_order(token)
    }

    /// Absolute unix seconds of a model instant, on a virtual clock.
    pub(super) fn at(&self, model_seconds: i64) -> Option<i64> {
        self.clock.start.map(|start| start + model_seconds)
    }

    // ---- predictions ----------------------------------------------------

    /// The answer a conformant target gives to `action` in this state.
    pub fn predict(&self, action: &Action) -> Prediction {
        match action {
            Action::CreateSession { body } => self.predict_create_session(body),
            Action::ReadSession { session } => self.predict_read_session(session),
            Action::UpdateSession { session, body } => self.predict_update(*session, body),
            Action::Authorize { session, data, .. } => self.predict_authorize(*session, data),
            Action::CreateOrder { token, body } => self.predict_create_order(token, body),
            Action::CancelAuthorization { token } => self.predict_cancel_authorization(token),
            Action::ReadOrder { order } => self.predict_read_order(order),
            Action::Capture {
                order, amount, key, ..
            } => self.predict_capture(*order, *amount, key.as_deref()),
            Action::Refund {
                order, amount, key, ..
            } => self.predict_refund(*order, *amount, key.as_deref()),
            Action::OmOperation { order, op, body } => {
                self.predict_om_operation(*order, *op, body.as_deref())
            }
            Action::ReadCaptures { order } => self.predict_read_captures(*order),
            Action::ReadCapture { order, capture } => self.predict_read_capture(*order, capture),
            Action::ReadRefunds { order } => self.predict_read_refunds(*order),
            Action::ReadRefund { order, refund } => self.predict_read_refund(*order, refund),
            Action::FraudDecision {
                order,
                fraud_status,
            } => self.predict_fraud_decision(*order, fraud_status),
            Action::ReadNotifications => self.predict_notifications(),
            Action::CreateCustomerToken { token, body } => {
                self.predict_create_customer_token(token, body)
            }
            Action::ReadCustomerToken { ctoken } => self.predict_read_customer_token(ctoken),
            Action::SetCustomerTokenStatus { ctoken, status } => {
                self.predict_customer_token_status(*ctoken, status)
            }
            Action::CustomerTokenOrder { ctoken, body, key } => {
                self.predict_customer_token_order(*ctoken, body, key.as_deref())
            }
            Action::AdvanceClock { seconds } => Prediction::new(Answer::Clock {
                now: self.clock.start.unwrap_or(0) + self.now + *seconds as i64,
            }),
            Action::WrongCredentials { .. } => Prediction::new(Answer::Unauthorized),
        }
    }

    // ---- transitions ----------------------------------------------------

    /// Moves to the state after `action` was answered as `observed` says
    /// (the predicted answer unless the target chose a lenient alternative).
    pub fn apply(&mut self, action: &Action, prediction: &Prediction, observed: Observation<'_>) {
        let answer = observed.answer.unwrap_or(&prediction.answer);
        let worked = prediction.worked.take();
        match action {
            Action::CreateSession { body } => self.apply_create_session(body, answer, worked),
            Action::UpdateSession { session, body } => {
                self.apply_update(*session, body, answer, worked)
            }
            Action::Authorize { session, data, .. } => {
                self.apply_authorize(*session, data, answer, worked)
            }
            Action::CreateOrder { token, body } => {
                self.apply_create_order(token, body, answer, observed, worked)
            }
            Action::CancelAuthorization { token } => {
                if matches!(answer, Answer::NoContent)
                    && let Some(t) = self.usable_token(token)
                {
                    self.tokens[t].cancelled = true;
                }
            }
            Action::ReadOrder { order } => self.apply_read_order(order, answer),
            Action::ReadCaptures { order } => {
                if let Answer::Captures(_) = answer {
                    self.orders[*order]
                        .captures
                        .iter_mut()
                        .for_each(|c| c.known = true);
                }
            }
            Action::Capture {
                order,
                amount,
                description,
                key,
            } => self.apply_capture(
                *order,
                *amount,
                key.as_deref(),
                description.as_deref(),
                answer,
            ),
            Action::Refund {
                order,
                amount,
                description,
                key,
            } => self.apply_refund(
                *order,
                *amount,
                key.as_deref(),
                description.as_deref(),
                answer,
            ),
            Action::OmOperation { order, op, body } => {
                self.apply_om_operation(*order, *op, body.as_deref(), answer)
            }
            Action::FraudDecision {
                order,
                fraud_status,
            } => {
                if matches!(answer, Answer::FraudDecided { .. }) {
                    self.orders[*order].decided = Some(Review {
                        at: self.now,
                        outcome: fraud_status,
                    });
                }
            }
            Action::CreateCustomerToken { token, body } => {
                self.apply_create_customer_token(token, body, answer)
            }
            Action::SetCustomerTokenStatus { ctoken, .. } => {
                if matches!(answer, Answer::Accepted) {
                    self.customer_tokens[*ctoken].active = false;
                }
            }
            Action::CustomerTokenOrder { ctoken, body, key } => {
                self.apply_customer_token_order(*ctoken, body, key.as_deref(), answer)
            }
            Action::AdvanceClock { seconds } => {
                if matches!(answer, Answer::Clock { .. }) {
                    self.now = self.now.saturating_add(*seconds as i64);
                }
            }
            Action::ReadSession { .. }
            | Action::ReadCapture { .. }
            | Action::ReadRefunds { .. }
            | Action::ReadRefund { .. }
            | Action::ReadNotifications
            | Action::ReadCustomerToken { .. }
            | Action::WrongCredentials { .. } => {}
        }
    }

    pub(super) fn live_session(&self, session: &Id<SessionIx>) -> Option<SessionIx> {
        let Id::Known(s) = session else { return None };
        let state = self.sessions.get(*s)?;
        (self.now - state.updated_at < SESSION_LIFETIME).then_some(*s)
    }

    pub(super) fn usable_token(&self, token: &Id<TokenIx>) -> Option<TokenIx> {
        let Id::Known(t) = token else { return None };
        let state = self.tokens.get(*t)?;
        let fresh = self.now - state.authorized_at < TOKEN_LIFETIME;
        (fresh && !state.cancelled && !state.replaced).then_some(*t)
    }
}

pub(super) const TOKEN_LIFETIME: i64 = crate::model::TOKEN_LIFETIME_SECONDS as i64;
pub(super) const SESSION_LIFETIME: i64 = crate::model::SESSION_LIFETIME_SECONDS as i64;

pub(super) fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Floats in integer fields read as Klarna reads them (truncated, §10).
pub(super) fn as_read(body: Map<String, Value>) -> Map<String, Value> {
    let mut value = Value::Object(body);
    validate::truncate_fractions(&mut value);
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(super) fn invalid_session_id() -> ExpectedError {
    ExpectedError::new(404, "NOT_FOUND", "Invalid session id")
}

pub(super) fn session_completed() -> ExpectedError {
    ExpectedError::new(
        404,
        "SESSION_COMPLETED",
        "Session has already been completed",
    )
}
