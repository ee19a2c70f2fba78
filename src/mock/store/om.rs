//! Order Management, enough to read back what was placed and capture it (reference 9).

use serde_json::{Value, json};
use uuid::Uuid;

use super::{MockReply, MockState, ORDER_LIFETIME, OrderRecord, Refusal, as_read, parse_id};
use crate::mock::clock::rfc3339;
use crate::mock::defect::Defect;
use crate::model::validate::Fidelity;

fn no_such_order(order_id: &str) -> Refusal {
    Refusal::new(
        404,
        "NO_SUCH_ORDER",
        format!("Order {order_id} cannot be found"),
    )
}

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
    /// expired (28 days, reference 5.1). `[I]`
    fn live_order(&mut self, order_id: &str, now: i64) -> Result<Uuid, Refusal> {
        let id = parse_id(order_id).ok_or_else(|| no_such_order(order_id))?;
        let order = self
            .orders
            .get(&id)
            .ok_or_else(|| no_such_order(order_id))?;
        if now.saturating_sub(order.created_at) >= ORDER_LIFETIME {
            self.orders.remove(&id);
            return Err(no_such_order(order_id));
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
        let mut dto = json!({
            "order_id": id.to_string(),
            "status": record.status(),
            "fraud_status": record.fraud_status,
            "order_amount": shown_amount,
            "original_order_amount": order.order_amount,
            "captured_amount": record.captured_amount,
            "refunded_amount": 0,
            "remaining_authorized_amount": record.remaining(),
            "purchase_country": order.purchase_country.to_ascii_uppercase(),
            "purchase_currency": order.purchase_currency.to_ascii_uppercase(),
            "order_lines": serde_json::to_value(&order.order_lines).unwrap_or(Value::Null),
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
    /// `Capture-Id` and `Location`, no body; more than the remaining authorized
    /// amount gives 403 CAPTURE_NOT_ALLOWED (reference 9).
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
        let record = self.orders.get_mut(&id).expect("checked above");
        if amount > record.remaining() {
            return Err(Refusal::new(
                403,
                "CAPTURE_NOT_ALLOWED",
                "Capture not allowed",
            ));
        }
        record.captured_amount = record.captured_amount.saturating_add(amount);
        record.captured = true;
        let capture_id = self.ids.uuid();
        let mut reply = self.reply(201, None);
        reply.headers.push(("Capture-Id", capture_id.to_string()));
        // A path-absolute Location: the store does not know the host it is served on. `[I]`
        reply.headers.push((
            "Location",
            format!("/ordermanagement/v1/orders/{id}/captures/{capture_id}"),
        ));
        Ok(reply)
    }
}
