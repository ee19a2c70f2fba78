//! Order Management captures, refunds and capture shipping info
//! (docs/klarna.md §9, §13.2, §13.3).
//!
//! A capture or refund answers 201 without a body, with `Capture-Id` or
//! `Refund-Id`, an absolute `Location` and a `Transaction-Id`. With a
//! `Klarna-Idempotency-Key`, the first 201 is kept under the key (per order
//! and operation `[I]`) and answered again, unchanged, to every later request
//! with that key, whatever its body; the key is looked up right after the
//! order is found. Keys are kept as long as the order. `[I]`

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::om::{OrderRecord, Status};
use super::{MockReply, MockState, Refusal, parse_id};
use crate::mock::clock::rfc3339;
use crate::mock::defect::Defect;

/// The remaining authorized amount is exceeded (recorded message, docs/klarna.md §11.3).
const OVER_REMAINING: &str =
    "Captured amount is higher than the remaining authorized amount. Capture not possible.";
/// More is refunded than was captured (docs/klarna.md §13.3).
const OVER_CAPTURED: &str =
    "Refunded amount is higher than the captured amount. Refund not possible.";

/// The two operations that create money movements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Money {
    Capture,
    Refund,
}

impl Money {
    fn amount_field(self) -> &'static str {
        match self {
            Money::Capture => "captured_amount",
            Money::Refund => "refunded_amount",
        }
    }

    fn collection(self) -> &'static str {
        match self {
            Money::Capture => "captures",
            Money::Refund => "refunds",
        }
    }

    fn id_header(self) -> &'static str {
        match self {
            Money::Capture => "Capture-Id",
            Money::Refund => "Refund-Id",
        }
    }
}

/// A 201 answer stored under its idempotency key.
#[derive(Debug, Clone)]
pub(super) struct Idempotent {
    operation: Money,
    key: Box<str>,
    headers: Vec<(&'static str, String)>,
}

/// One capture.
#[derive(Debug, Clone)]
pub(super) struct CaptureRecord {
    pub capture_id: Uuid,
    pub captured_amount: i64,
    pub captured_at: i64,
    pub description: Option<String>,
    pub order_lines: Vec<Value>,
    pub shipping_info: Vec<Value>,
    /// The `Transaction-Id` of the shipping-info call that took effect.
    pub shipping_transaction: Option<Uuid>,
}

impl CaptureRecord {
    pub fn new(capture_id: Uuid, captured_amount: i64, captured_at: i64) -> CaptureRecord {
        CaptureRecord {
            capture_id,
            captured_amount,
            captured_at,
            description: None,
            order_lines: Vec::new(),
            shipping_info: Vec::new(),
            shipping_transaction: None,
        }
    }
}

/// One refund.
#[derive(Debug, Clone)]
pub(super) struct RefundRecord {
    pub refund_id: Uuid,
    pub refunded_amount: i64,
    pub refunded_at: i64,
    pub description: Option<String>,
    pub order_lines: Vec<Value>,
}

impl RefundRecord {
    /// A refund object (docs/klarna.md §13.4): the `reference` sent is not echoed.
    pub fn to_json(&self) -> Value {
        let mut refund = json!({
            "refund_id": self.refund_id.to_string(),
            "refunded_amount": self.refunded_amount,
            "refunded_at": rfc3339(self.refunded_at),
            "order_lines": self.order_lines,
            "credit_invoice": false,
        });
        if let Some(d) = &self.description {
            refund["description"] = d.as_str().into();
        }
        refund
    }
}

impl OrderRecord {
    /// The capture object of capture `index` (docs/klarna.md §13.4):
    /// `klarna_reference` is the order's with `-<n>`, n counting captures
    /// from 1 (the OM spec's example `K4MADNY-1`) `[I]`; `refunded_amount` is
    /// 0, refunds being the order's.
    pub fn capture_json(&self, index: usize) -> Value {
        let c = &self.captures[index];
        let mut capture = Map::new();
        capture.insert("capture_id".into(), c.capture_id.to_string().into());
        capture.insert(
            "klarna_reference".into(),
            format!("{}-{}", self.klarna_reference, index + 1).into(),
        );
        capture.insert("captured_amount".into(), c.captured_amount.into());
        capture.insert("captured_at".into(), rfc3339(c.captured_at).into());
        if let Some(d) = &c.description {
            capture.insert("description".into(), d.as_str().into());
        }
        capture.insert("order_lines".into(), c.order_lines.clone().into());
        capture.insert("refunded_amount".into(), 0.into());
        for (key, address) in [
            ("billing_address", &self.order.billing_address),
            ("shipping_address", &self.order.shipping_address),
        ] {
            if let Some(a) = address.as_ref().and_then(|a| serde_json::to_value(a).ok()) {
                capture.insert(key.into(), a);
            }
        }
        capture.insert("shipping_info".into(), c.shipping_info.clone().into());
        Value::Object(capture)
    }
}

/// A whole number ≥ 1 (a float without fraction counts, as Klarna's reader
/// takes `1000.0` for 1000).
fn whole_amount(value: &Value) -> Option<i64> {
    if let Some(i) = value.as_i64() {
        return (i >= 1).then_some(i);
    }
    let f = value.as_f64()?;
    (f.fract() == 0.0 && (1.0..9.2e18).contains(&f)).then_some(f as i64)
}

/// An optional string field; `null` counts as absent, another type is
/// 400 `Bad value: <field>`. `[I]`
fn optional_string(body: &Value, field: &str) -> Result<Option<String>, Refusal> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Refusal::bad_field(field)),
    }
}

/// An optional array field, as [`optional_string`]. `[I]`
fn optional_array(body: &Value, field: &str) -> Result<Vec<Value>, Refusal> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(_) => Err(Refusal::bad_field(field)),
    }
}

/// 404 NO_SUCH_CAPTURE / NO_SUCH_REFUND (docs/klarna.md §13.3).
fn no_such(kind: Money, id: &str) -> Refusal {
    match kind {
        Money::Capture => Refusal::new(
            404,
            "NO_SUCH_CAPTURE",
            format!("Capture {id} cannot be found"),
        ),
        Money::Refund => Refusal::new(
            404,
            "NO_SUCH_REFUND",
            format!("Refund {id} cannot be found"),
        ),
    }
}

/// The description, reference and order lines of a capture or refund body.
struct Details {
    description: Option<String>,
    order_lines: Vec<Value>,
}

impl MockState {
    /// The amount of a capture or refund (docs/klarna.md §13.2): missing or
    /// `null` is 422 UNPROCESSABLE_ENTITY `'<field>' must not be null` (400
    /// BAD_VALUE under `missing-amount-400`), anything but a whole number ≥ 1
    /// is 400 `Bad value: <field>`.
    fn read_amount(&self, body: &Value, field: &'static str) -> Result<i64, Refusal> {
        match body.get(field) {
            None | Some(Value::Null) if self.has(Defect::MissingAmount400) => {
                Err(Refusal::bad_field(field))
            }
            None | Some(Value::Null) => Err(Refusal::new(
                422,
                "UNPROCESSABLE_ENTITY",
                format!("'{field}' must not be null"),
            )),
            Some(v) => whole_amount(v).ok_or_else(|| Refusal::bad_field(field)),
        }
    }

    /// The amount (422 / 400), then the types of the optional fields (400). `[I]`
    fn read_money_body(&self, kind: Money, body: &Value) -> Result<(i64, Details), Refusal> {
        let amount = self.read_amount(body, kind.amount_field())?;
        let description = optional_string(body, "description")?;
        optional_string(body, "reference")?;
        let order_lines = optional_array(body, "order_lines")?;
        Ok((
            amount,
            Details {
                description,
                order_lines,
            },
        ))
    }

    /// The stored answer for a repeated idempotency key, if any.
    fn replay(&mut self, id: Uuid, kind: Money, key: Option<&str>) -> Option<MockReply> {
        let key = key.filter(|k| !k.is_empty())?;
        if self.has(Defect::IdempotencyKeyIgnored) {
            return None;
        }
        let headers = self.orders[&id]
            .idempotent
            .iter()
            .find(|i| i.operation == kind && &*i.key == key)?
            .headers
            .clone();
        let mut reply = self.reply(201, None);
        reply.headers = headers;
        Some(reply)
    }

    /// The 201 of a new capture or refund, kept under `key` when there is one.
    fn created(
        &mut self,
        id: Uuid,
        kind: Money,
        new_id: Uuid,
        key: Option<String>,
        base_url: &str,
    ) -> MockReply {
        let transaction = self.ids.uuid();
        let mut headers = vec![(kind.id_header(), new_id.to_string())];
        let without_location = kind == Money::Capture && self.has(Defect::CaptureWithoutLocation);
        if !without_location {
            let path = format!(
                "/ordermanagement/v1/orders/{id}/{}/{new_id}",
                kind.collection()
            );
            let location = if self.has(Defect::RelativeLocation) {
                path
            } else {
                format!("{base_url}{path}")
            };
            headers.push(("Location", location));
        }
        if !self.has(Defect::NoTransactionId) {
            headers.push(("Transaction-Id", transaction.to_string()));
        }
        if let Some(key) = key.filter(|k| !k.is_empty())
            && let Some(record) = self.orders.get_mut(&id)
        {
            record.idempotent.push(Idempotent {
                operation: kind,
                key: key.into_boxed_str(),
                headers: headers.clone(),
            });
        }
        let mut reply = self.reply(201, None);
        reply.headers = headers;
        reply
    }

    /// `POST …/captures` (docs/klarna.md §13.3): the order (404), the
    /// idempotency key, the amount (422 / 400), the other fields' types (400
    /// `[I]`), a `CANCELLED`, `EXPIRED`, `CLOSED` or `PENDING` order (403
    /// `Capture not allowed`, the message `[I]`), more than the remaining
    /// authorized amount (403, recorded message), else 201.
    pub(super) fn capture(
        &mut self,
        order_id: &str,
        body: Value,
        key: Option<String>,
        base_url: &str,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        if let Some(reply) = self.replay(id, Money::Capture, key.as_deref()) {
            return Ok(reply);
        }
        let (amount, details) = self.read_money_body(Money::Capture, &body)?;
        let shipping_info = optional_array(&body, "shipping_info")?;
        let record = &self.orders[&id];
        let status = self.order_status(record, now);
        let pending = record.fraud_status == "PENDING" && !self.has(Defect::CapturePendingAllowed);
        if matches!(status, Status::Cancelled | Status::Expired | Status::Closed) || pending {
            return Err(Refusal::new(
                403,
                "CAPTURE_NOT_ALLOWED",
                "Capture not allowed",
            ));
        }
        if amount > record.remaining(status) && !self.has(Defect::CaptureOverRemaining) {
            return Err(Refusal::new(403, "CAPTURE_NOT_ALLOWED", OVER_REMAINING));
        }
        let capture_id = self.ids.uuid();
        let record = self.orders.get_mut(&id).expect("checked above");
        record.captures.push(CaptureRecord {
            description: details.description,
            order_lines: details.order_lines,
            shipping_info,
            ..CaptureRecord::new(capture_id, amount, now)
        });
        record.captured_amount = record.captured_amount.saturating_add(amount);
        Ok(self.created(id, Money::Capture, capture_id, key, base_url))
    }

    /// `POST …/refunds` (docs/klarna.md §13.3): the order (404), the
    /// idempotency key, the amount (422 / 400), the other fields' types (400
    /// `[I]`), no captures (403), more than captured minus refunded (403),
    /// else 201.
    pub(super) fn refund(
        &mut self,
        order_id: &str,
        body: Value,
        key: Option<String>,
        base_url: &str,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        if let Some(reply) = self.replay(id, Money::Refund, key.as_deref()) {
            return Ok(reply);
        }
        let (amount, details) = self.read_money_body(Money::Refund, &body)?;
        let record = &self.orders[&id];
        if record.captures.is_empty() {
            // `refund-without-capture` accepts it whatever the amount.
            if !self.has(Defect::RefundWithoutCapture) {
                return Err(Refusal::new(
                    403,
                    "REFUND_NOT_ALLOWED",
                    "Order has no captures. Refund not possible",
                ));
            }
        } else if amount
            > record
                .captured_amount
                .saturating_sub(record.refunded_amount)
            && !self.has(Defect::RefundOverCaptured)
        {
            return Err(Refusal::new(403, "REFUND_NOT_ALLOWED", OVER_CAPTURED));
        }
        let refund_id = self.ids.uuid();
        let record = self.orders.get_mut(&id).expect("checked above");
        record.refunds.push(RefundRecord {
            refund_id,
            refunded_amount: amount,
            refunded_at: now,
            description: details.description,
            order_lines: details.order_lines,
        });
        record.refunded_amount = record.refunded_amount.saturating_add(amount);
        Ok(self.created(id, Money::Refund, refund_id, key, base_url))
    }

    /// The index of a capture of a live order (404 NO_SUCH_CAPTURE).
    fn find_capture(&self, id: Uuid, capture_id: &str) -> Result<usize, Refusal> {
        let wanted = parse_id(capture_id).ok_or_else(|| no_such(Money::Capture, capture_id))?;
        self.orders[&id]
            .captures
            .iter()
            .position(|c| c.capture_id == wanted)
            .ok_or_else(|| no_such(Money::Capture, capture_id))
    }

    /// `GET …/captures`: the capture objects, oldest first (docs/klarna.md §13.3).
    pub(super) fn list_captures(&mut self, order_id: &str, now: i64) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        let record = &self.orders[&id];
        let mut shown = record.captures.len();
        if self.has(Defect::CaptureListDropsLatest) {
            shown = shown.saturating_sub(1);
        }
        let list: Vec<Value> = (0..shown).map(|i| record.capture_json(i)).collect();
        Ok(self.reply(200, Some(Value::Array(list))))
    }

    /// `GET …/captures/{capture_id}`.
    pub(super) fn read_capture(
        &mut self,
        order_id: &str,
        capture_id: &str,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        let index = self.find_capture(id, capture_id)?;
        let capture = self.orders[&id].capture_json(index);
        Ok(self.reply(200, Some(capture)))
    }

    /// `POST …/captures/{capture_id}/shipping-info` `{shipping_info: [...]}`
    /// (docs/klarna.md §13.3): the order, the capture, a repeat (204 with the
    /// first `Transaction-Id`), 422 when `shipping_info` is missing or `null`,
    /// 400 `Bad value: shipping_info` when it is not an array `[I]`, else 204.
    /// The items replace the capture's `shipping_info` (§13.4: "as set"). `[I]`
    pub(super) fn add_shipping_info(
        &mut self,
        order_id: &str,
        capture_id: &str,
        body: Value,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        let index = self.find_capture(id, capture_id)?;
        if let Some(first) = self.orders[&id].captures[index].shipping_transaction {
            let transaction = self.repeated(first);
            return Ok(self.with_transaction(204, transaction));
        }
        let items = match body.get("shipping_info") {
            None | Some(Value::Null) => {
                return Err(Refusal::new(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    "'shipping_info' must not be null",
                ));
            }
            Some(Value::Array(items)) => items.clone(),
            Some(_) => return Err(Refusal::bad_field("shipping_info")),
        };
        let transaction = self.ids.uuid();
        let capture = &mut self.orders.get_mut(&id).expect("checked above").captures[index];
        capture.shipping_info = items;
        capture.shipping_transaction = Some(transaction);
        Ok(self.with_transaction(204, transaction))
    }

    /// `GET …/refunds`: the refund objects, oldest first.
    pub(super) fn list_refunds(&mut self, order_id: &str, now: i64) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        let list: Vec<Value> = self.orders[&id]
            .refunds
            .iter()
            .map(RefundRecord::to_json)
            .collect();
        Ok(self.reply(200, Some(Value::Array(list))))
    }

    /// `GET …/refunds/{refund_id}` (404 NO_SUCH_REFUND).
    pub(super) fn read_refund(
        &mut self,
        order_id: &str,
        refund_id: &str,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        let wanted = parse_id(refund_id).ok_or_else(|| no_such(Money::Refund, refund_id))?;
        let refund = self.orders[&id]
            .refunds
            .iter()
            .find(|r| r.refund_id == wanted)
            .map(RefundRecord::to_json)
            .ok_or_else(|| no_such(Money::Refund, refund_id))?;
        Ok(self.reply(200, Some(refund)))
    }
}
