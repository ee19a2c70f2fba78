//! Order Management as the model sees it (docs/klarna.md §9, §11.3, §13):
//! status and amounts, captures and refunds with their idempotency keys,
//! the 204 operations (cancel, acknowledge, extend, release, merchant
//! references, shipping info) and their no-op repeats, the authorization's
//! expiry, pending orders decided over time, and the notification journal.

use serde_json::{Value, json};

use super::action::Id;
use super::answer::{
    Answer, CaptureIx, CaptureView, ExpectedNotification, OmOp, OmView, OrderIx, Prediction,
    RefundIx, RefundView,
};
use super::world::{CaptureState, OrderState, RefundState, Review, World, parse};
use super::{ExpectedError, ExpectedMessages};
use crate::model::ORDER_LIFETIME_SECONDS;

/// An extension moves the expiry this much later (docs/klarna.md §13.1).
const EXTENSION: i64 = ORDER_LIFETIME_SECONDS as i64;
/// ... never beyond this long after creation (§5.1).
const LONGEST_AUTHORIZATION: i64 = 180 * 86_400;

fn refused(status: u16, code: &'static str, message: &str) -> Prediction {
    Prediction::error(ExpectedError {
        status,
        error_code: code,
        messages: ExpectedMessages::Exact(vec![message.to_owned()]),
    })
}

/// 422 for a missing amount, as recorded (docs/klarna.md §11.3).
fn must_not_be_null(field: &str) -> Prediction {
    refused(
        422,
        "UNPROCESSABLE_ENTITY",
        &format!("'{field}' must not be null"),
    )
}

pub(super) fn no_such_order(id: &str) -> ExpectedError {
    ExpectedError::new(404, "NO_SUCH_ORDER", &format!("Order {id} cannot be found"))
}

impl OrderState {
    pub(super) fn captured_amount(&self) -> i64 {
        self.captures.iter().map(|c| c.amount).sum()
    }

    pub(super) fn refunded_amount(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount).sum()
    }
}

impl World {
    /// The order's fraud status now: a decision made through the control
    /// API, else its review once due, else the status it was placed with.
    pub(super) fn fraud_now(&self, order: &OrderState) -> &'static str {
        if let Some(d) = order.decided {
            return d.outcome;
        }
        match order.review {
            Some(r) if r.at <= self.now => r.outcome,
            _ => order.fraud_status,
        }
    }

    /// The decision made, and when, if one was (§13.5).
    fn decision(&self, order: &OrderState) -> Option<Review> {
        order.decided.or(order.review.filter(|r| r.at <= self.now))
    }

    /// Status, first rule that applies (docs/klarna.md §13.1).
    pub(super) fn om_status(&self, order: &OrderState) -> &'static str {
        let rejected = matches!(self.fraud_now(order), "REJECTED" | "STOPPED");
        let captured = order.captured_amount();
        if order.cancelled || rejected {
            "CANCELLED"
        } else if order.released {
            "CLOSED"
        } else if captured >= order.order_amount {
            "CAPTURED"
        } else if self.now >= order.expires_at {
            if captured == 0 { "EXPIRED" } else { "CLOSED" }
        } else if captured > 0 {
            "PART_CAPTURED"
        } else {
            "AUTHORIZED"
        }
    }

    pub(super) fn om_remaining(&self, order: &OrderState) -> i64 {
        match self.om_status(order) {
            "AUTHORIZED" | "PART_CAPTURED" => order
                .order_amount
                .saturating_sub(order.captured_amount())
                .max(0),
            _ => 0,
        }
    }

    fn fraud_allowed(&self, o: OrderIx) -> &'static [&'static str] {
        let order = &self.orders[o];
        match self.fraud_now(order) {
            "PENDING" => &["PENDING"],
            "REJECTED" => &["REJECTED"],
            "STOPPED" => &["STOPPED"],
            _ => &["ACCEPTED"],
        }
    }

    fn capture_view(&self, o: OrderIx, c: CaptureIx) -> CaptureView {
        let capture = &self.orders[o].captures[c];
        CaptureView {
            order: o,
            capture: c,
            captured_amount: capture.amount,
            description: capture.description.clone(),
            order_lines: capture.order_lines.clone(),
            shipping_info: capture.shipping_info.clone().unwrap_or(json!([])),
        }
    }

    fn refund_view(&self, o: OrderIx, r: RefundIx) -> RefundView {
        let refund = &self.orders[o].refunds[r];
        RefundView {
            order: o,
            refund: r,
            refunded_amount: refund.amount,
            description: refund.description.clone(),
            order_lines: refund.order_lines.clone(),
        }
    }

    pub(super) fn om_view(&self, o: OrderIx) -> OmView {
        let order = &self.orders[o];
        OmView {
            order: o,
            status: self.om_status(order),
            fraud_status: self.fraud_allowed(o),
            order_amount: order.order_amount,
            captured_amount: order.captured_amount(),
            refunded_amount: order.refunded_amount(),
            remaining_authorized_amount: self.om_remaining(order),
            purchase_currency: order.purchase_currency.to_ascii_uppercase(),
            order_lines: order.order_lines.clone(),
            captures: (0..order.captures.len())
                .map(|c| self.capture_view(o, c))
                .collect(),
            refunds: (0..order.refunds.len())
                .map(|r| self.refund_view(o, r))
                .collect(),
            merchant_references: order.merchant_references.clone(),
            expires_at: self.at(order.expires_at),
        }
    }

    pub(super) fn predict_read_order(&self, order: &Id<OrderIx>) -> Prediction {
        let o = match order {
            Id::Known(o) => *o,
            Id::Unknown(id) => return Prediction::error(no_such_order(id)),
        };
        let view = self.om_view(o);
        let mut p = Prediction::new(Answer::OmOrder(Box::new(view.clone())));
        if self.orders[o].capture_unsettled {
            // The contract did not allow auto capture (§9).
            let captured = view.captured_amount - view.order_amount;
            p.alternatives.push(Answer::OmOrder(Box::new(OmView {
                status: if captured > 0 {
                    "PART_CAPTURED"
                } else {
                    "AUTHORIZED"
                },
                captured_amount: captured,
                remaining_authorized_amount: view.order_amount - captured,
                captures: view.captures.iter().skip(1).cloned().collect(),
                ..view
            })));
        }
        p
    }

    pub(super) fn apply_read_order(&mut self, order: &Id<OrderIx>, answer: &Answer) {
        if let (Id::Known(o), Answer::OmOrder(view)) = (order, answer) {
            let state = &mut self.orders[*o];
            if !view.captures.is_empty() || state.capture_unsettled {
                state.captures.iter_mut().for_each(|c| c.known = true);
            }
            if state.capture_unsettled {
                state.capture_unsettled = false;
                if view.captures.len() < state.captures.len() {
                    state.captures.remove(0);
                }
            }
        }
    }

    pub(super) fn predict_capture(
        &self,
        o: OrderIx,
        amount: Option<i64>,
        key: Option<&str>,
    ) -> Prediction {
        let order = &self.orders[o];
        // Only the key matters (§1.4, §13.2).
        if let Some(c) = key.and_then(|k| order.capture_keys.get(k)) {
            return Prediction::new(Answer::Captured {
                order: o,
                capture: *c,
                again: true,
            });
        }
        let Some(amount) = amount else {
            return must_not_be_null("captured_amount");
        };
        if amount < 1 {
            return refused(400, "BAD_VALUE", "Bad value: captured_amount");
        }
        let capturable = matches!(
            self.om_status(order),
            "AUTHORIZED" | "PART_CAPTURED" | "CAPTURED"
        );
        // A PENDING order was recorded refusing captures (§11.3); the message `[I]`.
        if !capturable || self.fraud_now(order) == "PENDING" {
            return refused(403, "CAPTURE_NOT_ALLOWED", "Capture not allowed");
        }
        if amount > self.om_remaining(order) {
            return refused(
                403,
                "CAPTURE_NOT_ALLOWED",
                "Captured amount is higher than the remaining authorized amount. Capture not possible.",
            );
        }
        Prediction::new(Answer::Captured {
            order: o,
            capture: order.captures.len(),
            again: false,
        })
    }

    pub(super) fn apply_capture(
        &mut self,
        o: OrderIx,
        amount: Option<i64>,
        key: Option<&str>,
        description: Option<&str>,
        answer: &Answer,
    ) {
        if let Some(key) = key {
            self.keys_sent.push((o, key.to_owned()));
        }
        if let (Answer::Captured { again: false, .. }, Some(amount)) = (answer, amount) {
            let order = &mut self.orders[o];
            order.captures.push(CaptureState {
                amount,
                description: description.map(str::to_owned),
                order_lines: json!([]),
                shipping_info: None,
                known: true,
            });
            if let Some(key) = key {
                let c = order.captures.len() - 1;
                order.capture_keys.insert(key.to_owned(), c);
            }
        }
    }

    pub(super) fn predict_refund(
        &self,
        o: OrderIx,
        amount: Option<i64>,
        key: Option<&str>,
    ) -> Prediction {
        let order = &self.orders[o];
        if let Some(r) = key.and_then(|k| order.refund_keys.get(k)) {
            return Prediction::new(Answer::Refunded {
                order: o,
                refund: *r,
                again: true,
            });
        }
        let Some(amount) = amount else {
            return must_not_be_null("refunded_amount");
        };
        if amount < 1 {
            return refused(400, "BAD_VALUE", "Bad value: refunded_amount");
        }
        let captured = order.captured_amount();
        // Captures of nothing (an auto-captured order of 0) count as captures.
        if order.captures.is_empty() {
            return refused(
                403,
                "REFUND_NOT_ALLOWED",
                "Order has no captures. Refund not possible",
            );
        }
        if amount > captured - order.refunded_amount() {
            return refused(
                403,
                "REFUND_NOT_ALLOWED",
                "Refunded amount is higher than the captured amount. Refund not possible.",
            );
        }
        Prediction::new(Answer::Refunded {
            order: o,
            refund: order.refunds.len(),
            again: false,
        })
    }

    pub(super) fn apply_refund(
        &mut self,
        o: OrderIx,
        amount: Option<i64>,
        key: Option<&str>,
        description: Option<&str>,
        answer: &Answer,
    ) {
        if let Some(key) = key {
            self.keys_sent.push((o, key.to_owned()));
        }
        if let (Answer::Refunded { again: false, .. }, Some(amount)) = (answer, amount) {
            let order = &mut self.orders[o];
            order.refunds.push(RefundState {
                amount,
                description: description.map(str::to_owned),
                order_lines: json!([]),
            });
            if let Some(key) = key {
                let r = order.refunds.len() - 1;
                order.refund_keys.insert(key.to_owned(), r);
            }
        }
    }

    pub(super) fn predict_om_operation(
        &self,
        o: OrderIx,
        op: OmOp,
        body: Option<&str>,
    ) -> Prediction {
        let order = &self.orders[o];
        let done = |repeat| {
            Prediction::new(Answer::OmDone {
                order: o,
                op,
                repeat,
            })
        };
        // Every later call of an operation done once is a no-op (§13.2).
        if order.done.contains(&op) {
            return done(true);
        }
        let status = self.om_status(order);
        match op {
            OmOp::Cancel if !order.captures.is_empty() => refused(
                403,
                "CANCEL_NOT_ALLOWED",
                "Order has previous captures. Cancel not possible",
            ),
            OmOp::ExtendAuthorizationTime if status == "EXPIRED" => refused(
                403,
                "NOT_ALLOWED",
                "Order is expired. Authorization time cannot be extended.",
            ),
            OmOp::ExtendAuthorizationTime
                if matches!(status, "CANCELLED" | "CAPTURED" | "CLOSED") =>
            {
                refused(403, "NOT_ALLOWED", "Authorization time cannot be extended.")
            }
            OmOp::MerchantReferences => {
                let value = body.map(parse).unwrap_or(Value::Null);
                for key in ["merchant_reference1", "merchant_reference2"] {
                    if value[key].as_str().is_some_and(|r| r.chars().count() > 255) {
                        return refused(400, "BAD_VALUE", &format!("Bad value: {key}"));
                    }
                }
                done(false)
            }
            OmOp::ShippingInfo(_) => {
                let value = body.map(parse).unwrap_or(Value::Null);
                if value.get("shipping_info").is_none_or(Value::is_null) {
                    return must_not_be_null("shipping_info");
                }
                done(false)
            }
            _ => done(false),
        }
    }

    pub(super) fn apply_om_operation(
        &mut self,
        o: OrderIx,
        op: OmOp,
        body: Option<&str>,
        answer: &Answer,
    ) {
        if !matches!(answer, Answer::OmDone { repeat: false, .. }) {
            return;
        }
        let capturable = matches!(
            self.om_status(&self.orders[o]),
            "AUTHORIZED" | "PART_CAPTURED"
        );
        let order = &mut self.orders[o];
        order.done.push(op);
        match op {
            OmOp::Cancel => order.cancelled = true,
            OmOp::ExtendAuthorizationTime => {
                order.extended = true;
                order.expires_at =
                    (order.expires_at + EXTENSION).min(order.created_at + LONGEST_AUTHORIZATION);
            }
            OmOp::ReleaseRemainingAuthorization if capturable => order.released = true,
            OmOp::MerchantReferences => {
                let value = body.map(parse).unwrap_or(Value::Null);
                let text = |key: &str| value[key].as_str().map(str::to_owned);
                let previous = order.merchant_references.clone().unwrap_or_default();
                order.merchant_references = Some((
                    text("merchant_reference1").or(previous.0),
                    text("merchant_reference2").or(previous.1),
                ));
            }
            OmOp::ShippingInfo(c) => {
                let value = body.map(parse).unwrap_or(Value::Null);
                if let Some(capture) = order.captures.get_mut(c) {
                    capture.shipping_info = Some(value["shipping_info"].clone());
                }
            }
            _ => {}
        }
    }

    pub(super) fn predict_read_captures(&self, o: OrderIx) -> Prediction {
        let n = self.orders[o].captures.len();
        Prediction::new(Answer::Captures(
            (0..n).map(|c| self.capture_view(o, c)).collect(),
        ))
    }

    pub(super) fn predict_read_capture(&self, o: OrderIx, capture: &Id<CaptureIx>) -> Prediction {
        match capture {
            Id::Known(c) => Prediction::new(Answer::Capture(Box::new(self.capture_view(o, *c)))),
            Id::Unknown(id) => refused(
                404,
                "NO_SUCH_CAPTURE",
                &format!("Capture {id} cannot be found"),
            ),
        }
    }

    pub(super) fn predict_read_refunds(&self, o: OrderIx) -> Prediction {
        let n = self.orders[o].refunds.len();
        Prediction::new(Answer::Refunds(
            (0..n).map(|r| self.refund_view(o, r)).collect(),
        ))
    }

    pub(super) fn predict_read_refund(&self, o: OrderIx, refund: &Id<RefundIx>) -> Prediction {
        match refund {
            Id::Known(r) => Prediction::new(Answer::Refund(Box::new(self.refund_view(o, *r)))),
            Id::Unknown(id) => refused(
                404,
                "NO_SUCH_REFUND",
                &format!("Refund {id} cannot be found"),
            ),
        }
    }

    pub(super) fn predict_fraud_decision(
        &self,
        o: OrderIx,
        fraud_status: &'static str,
    ) -> Prediction {
        if !matches!(fraud_status, "ACCEPTED" | "REJECTED" | "STOPPED") {
            return refused(400, "BAD_VALUE", "Bad value: fraud_status");
        }
        if self.fraud_now(&self.orders[o]) != "PENDING" {
            return refused(403, "NOT_ALLOWED", "Order is not pending");
        }
        Prediction::new(Answer::FraudDecided {
            order: o,
            fraud_status,
        })
    }

    /// Every notification and callback made so far (§13.5), in any order.
    pub(super) fn predict_notifications(&self) -> Prediction {
        let mut entries = Vec::new();
        for (o, order) in self.orders.iter().enumerate() {
            let Some(decision) = self.decision(order) else {
                continue;
            };
            let url = order
                .session
                .and_then(|s| self.sessions[s].body.get("merchant_urls"))
                .and_then(|u| u.get("notification"))
                .and_then(Value::as_str);
            if let Some(url) = url {
                entries.push(ExpectedNotification {
                    kind: "notification",
                    url: url.to_owned(),
                    session: order.session,
                    order: Some(o),
                    token: None,
                    event_type: Some(match decision.outcome {
                        "ACCEPTED" => "FRAUD_RISK_ACCEPTED",
                        "REJECTED" => "FRAUD_RISK_REJECTED",
                        _ => "FRAUD_RISK_STOPPED",
                    }),
                });
            }
        }
        for (s, t, url) in &self.callbacks {
            entries.push(ExpectedNotification {
                kind: "authorization_callback",
                url: url.clone(),
                session: Some(*s),
                order: None,
                token: Some(*t),
                event_type: None,
            });
        }
        Prediction::new(Answer::Notifications(entries))
    }
}

/// Order Management's name for a Payments `authorized_payment_method.type`
/// (docs/klarna.md §5.4, §13.4).
pub fn om_payment_method(kp: &str) -> &'static str {
    match kp.to_ascii_lowercase().as_str() {
        "invoice" => "INVOICE",
        "fixed_amount" => "FIXED_AMOUNT",
        "slice_it_by_card" => "FIXED_AMOUNT_BY_CARD",
        "direct_debit" => "DIRECT_DEBIT",
        "direct_bank_transfer" => "BANK_TRANSFER",
        "base_account" => "ACCOUNT",
        "b2b_invoice" => "INVOICE_BUSINESS",
        "card" => "CARD",
        "pay_later_by_card" => "PAY_LATER_BY_CARD",
        "pay_by_card" => "PAY_BY_CARD",
        "fixed_sum_credit" => "FIXED_SUM_CREDIT",
        "alternative_payment_method" => "ALTERNATIVE_PAYMENT_METHOD",
        _ => "OTHER",
    }
}
