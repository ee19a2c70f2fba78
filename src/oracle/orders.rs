//! Create order with an authorization token, its retries, and cancelling
//! the authorization (docs/klarna.md §3.4, §4.2, §5.2, §5.3, §11.1): the token,
//! then body validation (400, never kept on the token), then an order already
//! placed (the identical body: the same order; another: 409), then the token's
//! first refusal when errors stick (playground fidelity), then comparison with
//! what was authorized (409 `Not matching fields`), then success.

use std::collections::HashMap;

use serde_json::Value;

use super::action::Id;
use super::answer::{Answer, OrderAnswer, OrderIx, Prediction, TokenIx, Work};
use super::compare::not_matching_fields;
use super::world::{CaptureState, Observation, OrderState, Outcome, Review, World, parse};
use super::{ExpectedError, ExpectedMessages};
use crate::model::market::{self, EmailOutcome};
use crate::model::validate::{self, BodyKind, Fidelity};
use crate::model::{CreateOrderRequest, ORDER_LIFETIME_SECONDS};

impl World {
    pub(super) fn predict_create_order(&self, token: &Id<TokenIx>, body: &str) -> Prediction {
        let Some(t) = self.usable_token(token) else {
            return Prediction::error(ExpectedError::invalid_token());
        };
        let sent = parse(body);
        // Validation first, before anything the token remembers (§11.1).
        if let Some(messages) = validate::refusal(
            &validate::validate(BodyKind::CreateOrder, &sent),
            self.config.fidelity,
        ) {
            return Prediction::error(ExpectedError::bad_value(messages));
        }
        let state = &self.tokens[t];
        match &state.outcome {
            Outcome::Placed { order, body } => {
                return if *body == sent {
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
        // After a customer token, a session of intent `tokenize` has nothing
        // left to buy (§13.6).
        if state.customer_token.is_some() && state.intent == "tokenize" {
            return Prediction::error(ExpectedError::token_consumed());
        }
        let Some(order) = read_order(&sent) else {
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
        prediction.with(Work::Order(sent, Box::new(order)))
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
    pub(super) fn fraud_status(&self, authorized: &CreateOrderRequest) -> &'static [&'static str] {
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

    pub(super) fn placed_fraud(&self, o: OrderIx) -> &'static [&'static str] {
        match self.orders[o].fraud_status {
            "PENDING" => &["PENDING"],
            _ => &["ACCEPTED"],
        }
    }

    pub(super) fn predict_cancel_authorization(&self, token: &Id<TokenIx>) -> Prediction {
        match self.usable_token(token) {
            None => Prediction::error(ExpectedError::invalid_token()),
            // The token was used for its order (docs/klarna.md §5.2). `[I]`
            Some(t) if matches!(self.tokens[t].outcome, Outcome::Placed { .. }) => {
                Prediction::error(ExpectedError::token_consumed())
            }
            Some(_) => Prediction::new(Answer::NoContent),
        }
    }

    pub(super) fn apply_create_order(
        &mut self,
        token: &Id<TokenIx>,
        body: &str,
        answer: &Answer,
        observed: Observation<'_>,
        worked: Option<Work>,
    ) {
        self.attempts.push((token.clone(), body.to_owned()));
        let Some(t) = self.usable_token(token) else {
            return;
        };
        match answer {
            Answer::Order(o) if !o.again => {
                let (sent, order) = match worked {
                    Some(Work::Order(sent, order)) => (sent, Some(*order)),
                    _ => (parse(body), None),
                };
                let fraud_status = observed
                    .fraud_status
                    .filter(|f| o.fraud_status.contains(f))
                    .unwrap_or(o.fraud_status[0]);
                let session = self.tokens[t].session;
                let order = order.unwrap_or_else(|| read_order(&sent).unwrap_or_default());
                let index = self.place(order, fraud_status, session);
                self.tokens[t].outcome = Outcome::Placed {
                    order: index,
                    body: sent,
                };
                if let Some(session) = session {
                    self.sessions[session].completed = true;
                }
            }
            // A business refusal is the token's first outcome; a 400 never
            // reached the order logic and is not kept (§11.1).
            Answer::Error(e)
                if matches!(self.tokens[t].outcome, Outcome::None)
                    && matches!(e.status, 403 | 409) =>
            {
                self.tokens[t].outcome = Outcome::Refused(e.clone());
            }
            _ => {}
        }
    }

    /// A new order in Order Management from a create-order body as sent;
    /// its index.
    pub(super) fn place(
        &mut self,
        order: CreateOrderRequest,
        fraud_status: &'static str,
        session: Option<usize>,
    ) -> OrderIx {
        let auto = order.auto_capture == Some(true);
        let review = (fraud_status == "PENDING")
            .then(|| review_of(&order))
            .flatten()
            .map(|(minutes, outcome)| Review {
                at: self.now + minutes * 60,
                outcome,
            });
        let expires_at = self.expiry_of(self.now);
        self.orders.push(OrderState {
            created_at: self.now,
            expires_at,
            order_amount: order.order_amount,
            purchase_currency: order.purchase_currency.clone(),
            order_lines: order.order_lines,
            session,
            fraud_status,
            review,
            decided: None,
            // Auto capture is one capture of the whole order, even of
            // nothing (§13.1). `[I]`
            captures: if auto {
                vec![CaptureState {
                    amount: order.order_amount,
                    description: None,
                    order_lines: serde_json::json!([]),
                    shipping_info: None,
                    known: false,
                }]
            } else {
                Vec::new()
            },
            refunds: Vec::new(),
            capture_unsettled: auto && self.config.lenient,
            done: Vec::new(),
            cancelled: false,
            released: false,
            extended: false,
            merchant_references: None,
            capture_keys: HashMap::new(),
            refund_keys: HashMap::new(),
        });
        self.orders.len() - 1
    }

    /// The authorization's expiry of an order placed at `created` (model
    /// seconds): 28 days later, truncated to midnight UTC on the target's
    /// clock (docs/klarna.md §11.3, §13.1).
    pub(super) fn expiry_of(&self, created: i64) -> i64 {
        let start = self.clock.start.unwrap_or(0);
        let absolute = start + created + ORDER_LIFETIME_SECONDS as i64;
        absolute - absolute.rem_euclid(86_400) - start
    }
}

/// The review a pending e-mail asks for: its delay in minutes and outcome
/// (`+pend-accept-NN`, `+pend-reject-NN`: docs/klarna.md §6.1, §13.5).
fn review_of(order: &CreateOrderRequest) -> Option<(i64, &'static str)> {
    let email = order.billing_address.as_ref()?.email.as_deref()?;
    match market::email_outcome(email) {
        EmailOutcome::Pending {
            accept,
            delay_minutes,
        } => Some((
            i64::from(delay_minutes),
            if accept { "ACCEPTED" } else { "REJECTED" },
        )),
        _ => None,
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

/// A create-order body as Klarna reads it: `10000.0` as 10000 (§10; graded
/// by validation); `None` when the model's types cannot hold it.
pub(super) fn read_order(sent: &Value) -> Option<CreateOrderRequest> {
    let mut value = sent.clone();
    validate::truncate_fractions(&mut value);
    serde_json::from_value(value).ok()
}
