//! Order Management, enough to read back what was placed and capture it (docs/klarna.md §9).

use serde_json::{Value, json};
use uuid::Uuid;

use super::{MockReply, MockState, ORDER_LIFETIME, OrderRecord, Refusal, as_read, parse_id};
use crate::mock::clock::rfc3339;
use crate::mock::defect::Defect;
use crate::model::validate::Fidelity;

/// 404 for an unknown order: `NO_SUCH_ORDER` (docs/klarna.md §9), or
/// `NOT_FOUND` under the `no-such-order-wrong-code` defect.
fn no_such_order(order_id: &str, code: &'static str) -> Refusal {
    Refusal::new(404, code, format!("Order {order_id} cannot be found"))
}

/// The remaining authorized amount is exceeded (recorded message, docs/klarna.md §11.3).
const OVER_REMAINING: &str =
    "Captured amount is higher than the remaining authorized amount. Capture not possible.";

impl OrderRecord {
    fn status(&self) -> &'static str {
        if !self.captured {
            "AUTHORIZED"
        } else if self.captured_amount >= self.order.order_amount {
            "CAPTURED"
        } else {
            "PART_CAPTURED"
        }
    }

    fn remaining(&self) -> i64 {
        // Saturating: amounts come from the client (and defect modes skip
        // their validation), so no arithmetic on them may overflow.
        self.order
            .order_amount
            .saturating_sub(self.captured_amount)
            .max(0)
    }
}

impl MockState {
    /// The live order behind an id; an order is gone once its authorization
    /// expired (28 days, docs/klarna.md §5.1). `[I]`
    fn live_order(&mut self, order_id: &str, now: i64) -> Result<Uuid, Refusal> {
        let code = if self.has(Defect::NoSuchOrderWrongCode) {
            "NOT_FOUND"
        } else {
            "NO_SUCH_ORDER"
        };
        let id = parse_id(order_id).ok_or_else(|| no_such_order(order_id, code))?;
        let order = self
            .orders
            .get(&id)
            .ok_or_else(|| no_such_order(order_id, code))?;
        if now.saturating_sub(order.created_at) >= ORDER_LIFETIME {
            self.orders.remove(&id);
            return Err(no_such_order(order_id, code));
        }
        Ok(id)
    }

    /// `GET /ordermanagement/v1/orders/{order_id}`: a `MerchantOrderDto`.
    pub(super) fn read_order(&mut self, order_id: &str, now: i64) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        let record = &self.orders[&id];
        let order = &record.order;
        let shown_amount = if self.has(Defect::OmWrongAmount) {
            order.order_amount.saturating_add(1)
        } else {
            order.order_amount
        };
        let status = if self.has(Defect::OmStatusStaysAuthorized) {
            "AUTHORIZED"
        } else {
            record.status()
        };
        let fraud_status = if self.has(Defect::OmFraudStatusAccepted) {
            "ACCEPTED"
        } else {
            record.fraud_status
        };
        let remaining = if self.has(Defect::OmRemainingNotReduced) {
            order.order_amount.max(0)
        } else {
            record.remaining()
        };
        let lines = if self.has(Defect::OmDropsLastLine) {
            let n = order.order_lines.len().saturating_sub(1);
            &order.order_lines[..n]
        } else {
            &order.order_lines[..]
        };
        let mut dto = json!({
            "order_id": id.to_string(),
            "status": status,
            "fraud_status": fraud_status,
            "order_amount": shown_amount,
            "original_order_amount": order.order_amount,
            "captured_amount": record.captured_amount,
            "refunded_amount": 0,
            "remaining_authorized_amount": remaining,
            "purchase_country": order.purchase_country.to_ascii_uppercase(),
            "purchase_currency": order.purchase_currency.to_ascii_uppercase(),
            "order_lines": serde_json::to_value(lines).unwrap_or(Value::Null),
            "klarna_reference": record.klarna_reference,
            "created_at": rfc3339(record.created_at),
            "expires_at": rfc3339(record.created_at.saturating_add(ORDER_LIFETIME)),
        });
        let optional = [
            ("locale", order.locale.clone().map(Value::from)),
            (
                "billing_address",
                order
                    .billing_address
                    .as_ref()
                    .and_then(|a| serde_json::to_value(a).ok()),
            ),
            (
                "shipping_address",
                order
                    .shipping_address
                    .as_ref()
                    .and_then(|a| serde_json::to_value(a).ok()),
            ),
            (
                "merchant_reference1",
                order.merchant_reference1.clone().map(Value::from),
            ),
            (
                "merchant_reference2",
                order.merchant_reference2.clone().map(Value::from),
            ),
            (
                "merchant_data",
                order.merchant_data.clone().map(Value::from),
            ),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                dto[key] = value;
            }
        }
        Ok(self.reply(200, Some(dto)))
    }

    /// `POST /ordermanagement/v1/orders/{order_id}/captures`: 201 with
    /// `Capture-Id` and `Location`, no body (docs/klarna.md §9, §11.3).
    /// Checks in this order `[I]`: the order (404), `captured_amount` (400),
    /// a PENDING order (403 CAPTURE_NOT_ALLOWED `Capture not allowed`: the
    /// refusal was recorded, the message is `[I]`), more than the remaining
    /// authorized amount (403 CAPTURE_NOT_ALLOWED with the recorded message).
    pub(super) fn capture(
        &mut self,
        order_id: &str,
        body: Value,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        // captured_amount is required; a capture of nothing is refused. `[I]`
        // Read as Klarna reads integers: a float is truncated (`as_read`); a
        // fraction is a warning the strict mock refuses, as in Payments bodies.
        let fraction = body
            .get("captured_amount")
            .and_then(Value::as_f64)
            .is_some_and(|a| a.fract() != 0.0);
        if fraction && self.fidelity == Fidelity::Documented {
            return Err(Refusal::bad_field("captured_amount"));
        }
        let amount = as_read(body)
            .get("captured_amount")
            .and_then(Value::as_i64)
            .filter(|a| *a > 0)
            .ok_or_else(|| Refusal::bad_field("captured_amount"))?;
        let pending_allowed = self.has(Defect::CapturePendingAllowed);
        let over_allowed = self.has(Defect::CaptureOverRemaining);
        let record = self.orders.get_mut(&id).expect("checked above");
        if record.fraud_status == "PENDING" && !pending_allowed {
            return Err(Refusal::new(
                403,
                "CAPTURE_NOT_ALLOWED",
                "Capture not allowed",
            ));
        }
        if amount > record.remaining() && !over_allowed {
            return Err(Refusal::new(403, "CAPTURE_NOT_ALLOWED", OVER_REMAINING));
        }
        record.captured_amount = record.captured_amount.saturating_add(amount);
        record.captured = true;
        let capture_id = self.ids.uuid();
        let mut reply = self.reply(201, None);
        reply.headers.push(("Capture-Id", capture_id.to_string()));
        // A path-absolute Location: the store does not know the host it is served on. `[I]`
        if !self.has(Defect::CaptureWithoutLocation) {
            reply.headers.push((
                "Location",
                format!("/ordermanagement/v1/orders/{id}/captures/{capture_id}"),
            ));
        }
        Ok(reply)
    }
}
