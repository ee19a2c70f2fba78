//! Order Management: the order record, its status (docs/klarna.md §13.1), the
//! read-back (§13.4) and the operations answering 204 (§13.3). Captures,
//! refunds and shipping info are in `om_captures.rs`.
//!
//! Every 204 operation takes effect once per order: the first successful call
//! stores its `Transaction-Id`, every later call of the same operation is a
//! no-op answering 204 with that id, whatever its body (docs/klarna.md §13.2).

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::notifications::Review;
use super::om_captures::{CaptureRecord, Idempotent, RefundRecord};
use super::{MockReply, MockState, ORDER_LIFETIME, ORDER_MEMORY, Refusal, parse_id};
use crate::mock::clock::rfc3339;
use crate::mock::defect::Defect;
use crate::model::{CreateOrderRequest, Customer};

const DAY: i64 = 86_400;
/// An authorization never lasts beyond 180 days after the order's creation
/// (docs/klarna.md §5.1, §13.1).
const LONGEST_AUTHORIZATION: i64 = 180 * DAY;

/// 404 for an unknown order: `NO_SUCH_ORDER` (docs/klarna.md §13.3), or
/// `NOT_FOUND` under the `no-such-order-wrong-code` defect.
fn no_such_order(order_id: &str, code: &'static str) -> Refusal {
    Refusal::new(404, code, format!("Order {order_id} cannot be found"))
}

/// `expires_at` of an order created at `created_at`: 28 days later,
/// truncated to midnight UTC (docs/klarna.md §13.1, recorded once §11.3).
pub(super) fn first_expiry(created_at: i64) -> i64 {
    created_at.saturating_add(ORDER_LIFETIME).div_euclid(DAY) * DAY
}

/// An order's status (docs/klarna.md §5.4, §13.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Authorized,
    PartCaptured,
    Captured,
    Cancelled,
    Expired,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Authorized => "AUTHORIZED",
            Status::PartCaptured => "PART_CAPTURED",
            Status::Captured => "CAPTURED",
            Status::Cancelled => "CANCELLED",
            Status::Expired => "EXPIRED",
            Status::Closed => "CLOSED",
        }
    }

    /// Something is still authorized and can be captured.
    pub fn capturable(self) -> bool {
        matches!(self, Status::Authorized | Status::PartCaptured)
    }
}

/// The operations answering 204 that take effect once (docs/klarna.md §13.2),
/// as indexes into [`OrderRecord::transactions`].
#[derive(Debug, Clone, Copy)]
pub(super) enum OneShot {
    Cancel = 0,
    Acknowledge = 1,
    Extend = 2,
    Release = 3,
    MerchantReferences = 4,
}

/// An order as Order Management sees it.
#[derive(Debug, Clone)]
pub(super) struct OrderRecord {
    pub created_at: i64,
    /// The placed order with addresses, locale and customer resolved from
    /// the session (or the customer token); merchant references as updated.
    pub order: CreateOrderRequest,
    pub fraud_status: &'static str,
    pub klarna_reference: String,
    /// The payment method category chosen at authorization.
    pub payment_method_category: &'static str,
    pub expires_at: i64,
    pub cancelled: bool,
    /// The remaining authorization was released (`CLOSED`).
    pub released: bool,
    /// Sums of the captures and of the refunds (saturating: amounts come
    /// from the client, and defect modes skip their validation).
    pub captured_amount: i64,
    pub refunded_amount: i64,
    pub captures: Vec<CaptureRecord>,
    pub refunds: Vec<RefundRecord>,
    /// The `Transaction-Id` of each [`OneShot`] operation once it took effect.
    pub transactions: [Option<Uuid>; 5],
    /// 201 answers stored under their `Klarna-Idempotency-Key`.
    pub idempotent: Vec<Idempotent>,
    /// While the fraud review is open (`PENDING`).
    pub review: Option<Box<Review>>,
}

impl OrderRecord {
    /// A new order; `auto_capture` is applied by [`MockState::insert_order`].
    pub fn new(
        created_at: i64,
        order: CreateOrderRequest,
        fraud_status: &'static str,
        klarna_reference: String,
        payment_method_category: &'static str,
    ) -> OrderRecord {
        OrderRecord {
            created_at,
            order,
            fraud_status,
            klarna_reference,
            payment_method_category,
            expires_at: first_expiry(created_at),
            cancelled: false,
            released: false,
            captured_amount: 0,
            refunded_amount: 0,
            captures: Vec::new(),
            refunds: Vec::new(),
            transactions: [None; 5],
            idempotent: Vec::new(),
            review: None,
        }
    }

    /// The first rule that applies (docs/klarna.md §13.1): cancelled,
    /// released, fully captured, expired (`EXPIRED` when nothing was
    /// captured, else `CLOSED`), partly captured, authorized. `expiry: false`
    /// is the `never-expires` defect.
    pub fn status(&self, now: i64, expiry: bool) -> Status {
        if self.cancelled {
            Status::Cancelled
        } else if self.released {
            Status::Closed
        } else if self.captured_amount >= self.order.order_amount {
            Status::Captured
        } else if expiry && now >= self.expires_at {
            if self.captured_amount > 0 {
                Status::Closed
            } else {
                Status::Expired
            }
        } else if self.captured_amount > 0 {
            Status::PartCaptured
        } else {
            Status::Authorized
        }
    }

    /// `order_amount − captured_amount` while the order can still be
    /// captured, else 0 (docs/klarna.md §13.1).
    pub fn remaining(&self, status: Status) -> i64 {
        if status.capturable() {
            self.order
                .order_amount
                .saturating_sub(self.captured_amount)
                .max(0)
        } else {
            0
        }
    }
}

/// The Payments `authorized_payment_method.type` for the category chosen at
/// authorization. `[I]` pay_later (and anything unknown) is an invoice,
/// pay_over_time fixed instalments, pay_now a direct debit.
pub(super) fn payment_method_type(category: &str) -> &'static str {
    match category {
        "pay_over_time" => "fixed_amount",
        "pay_now" | "direct_debit" => "direct_debit",
        "direct_bank_transfer" => "direct_bank_transfer",
        _ => "invoice",
    }
}

/// Order Management's name of a Payments payment method type (docs/klarna.md §13.4).
pub(super) fn om_payment_method_type(kp_type: &str) -> &'static str {
    match kp_type {
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

/// `customer` of the read-back: `{date_of_birth, type}`, `type` `person`
/// unless given (docs/klarna.md §13.4); `date_of_birth` left out when unknown. `[I]`
fn customer_json(customer: Option<&Customer>) -> Value {
    let mut out = Map::new();
    if let Some(dob) = customer.and_then(|c| c.date_of_birth.as_deref()) {
        out.insert("date_of_birth".into(), dob.into());
    }
    let kind = customer
        .and_then(|c| c.customer_type.as_deref())
        .unwrap_or("person");
    out.insert("type".into(), kind.into());
    Value::Object(out)
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl MockState {
    /// The live order behind an id; an order is forgotten 365 days after its
    /// creation (docs/klarna.md §13.1).
    pub(super) fn live_order(&mut self, order_id: &str, now: i64) -> Result<Uuid, Refusal> {
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
        if now.saturating_sub(order.created_at) >= ORDER_MEMORY {
            self.orders.remove(&id);
            return Err(no_such_order(order_id, code));
        }
        Ok(id)
    }

    /// The status as this mock computes it (`never-expires` ignores expiry).
    pub(super) fn order_status(&self, record: &OrderRecord, now: i64) -> Status {
        record.status(now, !self.has(Defect::NeverExpires))
    }

    /// Stores a placed order (create order or a customer-token order);
    /// `auto_capture: true` captures the whole order at once, one capture of
    /// `order_amount` at creation (docs/klarna.md §13.1; the capture object `[I]`).
    pub(super) fn insert_order(&mut self, id: Uuid, mut record: OrderRecord) {
        if record.order.auto_capture == Some(true) && !self.has(Defect::OmNeverCaptured) {
            let amount = record.order.order_amount;
            record.captures.push(CaptureRecord::new(
                self.ids.uuid(),
                amount,
                record.created_at,
            ));
            record.captured_amount = amount;
        }
        self.orders.insert(id, record);
    }

    /// A 2xx answer of Order Management with its `Transaction-Id` (none
    /// under `no-transaction-id`).
    pub(super) fn with_transaction(&mut self, status: u16, transaction: Uuid) -> MockReply {
        let mut reply = self.reply(status, None);
        if !self.has(Defect::NoTransactionId) {
            reply
                .headers
                .push(("Transaction-Id", transaction.to_string()));
        }
        reply
    }

    /// The `Transaction-Id` of a repeated no-op: the first call's, or a new
    /// one under `new-transaction-id-on-repeat`.
    pub(super) fn repeated(&mut self, first: Uuid) -> Uuid {
        if self.has(Defect::NewTransactionIdOnRepeat) {
            self.ids.uuid()
        } else {
            first
        }
    }

    /// Runs a [`OneShot`] operation: a repeat answers 204 with the stored
    /// `Transaction-Id`; otherwise `effect` checks (its refusal is the answer)
    /// and applies, and the new `Transaction-Id` is stored.
    fn one_shot(
        &mut self,
        id: Uuid,
        op: OneShot,
        effect: impl FnOnce(&MockState, &mut OrderRecord) -> Result<(), Refusal>,
    ) -> Result<MockReply, Refusal> {
        if let Some(first) = self.orders[&id].transactions[op as usize] {
            let transaction = self.repeated(first);
            return Ok(self.with_transaction(204, transaction));
        }
        let mut record = self.orders.remove(&id).expect("a live order");
        let outcome = effect(self, &mut record);
        let transaction = outcome.is_ok().then(|| self.ids.uuid());
        record.transactions[op as usize] = transaction;
        self.orders.insert(id, record);
        outcome?;
        Ok(self.with_transaction(204, transaction.expect("set on success")))
    }

    /// `GET /ordermanagement/v1/orders/{order_id}`: the read-back of
    /// docs/klarna.md §13.4.
    pub(super) fn read_order(&mut self, order_id: &str, now: i64) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        let dto = self.order_dto(id, now);
        Ok(self.reply(200, Some(dto)))
    }

    fn order_dto(&self, id: Uuid, now: i64) -> Value {
        let record = &self.orders[&id];
        let order = &record.order;
        let status = self.order_status(record, now);
        let shown_amount = if self.has(Defect::OmWrongAmount) {
            order.order_amount.saturating_add(1)
        } else {
            order.order_amount
        };
        // The defect hides captures from the status only.
        let shown_status = match status {
            Status::Captured | Status::PartCaptured
                if self.has(Defect::OmStatusStaysAuthorized) =>
            {
                "AUTHORIZED"
            }
            _ => status.as_str(),
        };
        let fraud_status = if self.has(Defect::OmFraudStatusAccepted) {
            "ACCEPTED"
        } else {
            record.fraud_status
        };
        let remaining = if self.has(Defect::OmRemainingNotReduced) {
            order.order_amount.max(0)
        } else {
            record.remaining(status)
        };
        let refunded = if self.has(Defect::RefundedAmountNotShown) {
            0
        } else {
            record.refunded_amount
        };
        let lines = if self.has(Defect::OmDropsLastLine) {
            let n = order.order_lines.len().saturating_sub(1);
            &order.order_lines[..n]
        } else {
            &order.order_lines[..]
        };
        let captures: Vec<Value> = if self.has(Defect::ReadBackWithoutCaptures) {
            Vec::new()
        } else {
            (0..record.captures.len())
                .map(|i| record.capture_json(i))
                .collect()
        };
        let refunds: Vec<Value> = record.refunds.iter().map(RefundRecord::to_json).collect();
        let mut dto = json!({
            "order_id": id.to_string(),
            "status": shown_status,
            "fraud_status": fraud_status,
            "order_amount": shown_amount,
            "original_order_amount": order.order_amount,
            "captured_amount": record.captured_amount,
            "refunded_amount": refunded,
            "remaining_authorized_amount": remaining,
            "purchase_country": order.purchase_country.to_ascii_uppercase(),
            "purchase_currency": order.purchase_currency.to_ascii_uppercase(),
            "order_lines": to_json(&lines),
            "klarna_reference": record.klarna_reference,
            "customer": customer_json(order.customer.as_ref()),
            "initial_payment_method": self.initial_payment_method(record.payment_method_category),
            "created_at": rfc3339(record.created_at),
            "expires_at": rfc3339(record.expires_at),
            "captures": captures,
            "refunds": refunds,
        });
        let optional = [
            ("locale", order.locale.clone().map(Value::from)),
            (
                "billing_address",
                order.billing_address.as_ref().map(to_json),
            ),
            (
                "shipping_address",
                order.shipping_address.as_ref().map(to_json),
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
        dto
    }

    /// `initial_payment_method` (docs/klarna.md §13.4): `type` in Order
    /// Management's vocabulary (the Payments one under
    /// `kp-vocabulary-payment-method`), `description` the category's display
    /// name `[I]`, `number_of_installments` 3 for fixed instalments `[I]`.
    fn initial_payment_method(&self, category: &'static str) -> Value {
        let kp_type = payment_method_type(category);
        let shown = if self.has(Defect::KpVocabularyPaymentMethod) {
            kp_type
        } else {
            om_payment_method_type(kp_type)
        };
        let mut method = json!({
            "type": shown,
            "description": super::sessions::category_name(category),
        });
        if kp_type == "fixed_amount" {
            method["number_of_installments"] = json!(3);
        }
        method
    }

    /// `POST …/cancel` (docs/klarna.md §13.3): a repeat is 204; an order with
    /// captures (even one of 0) is 403 CANCEL_NOT_ALLOWED; else 204, even when
    /// `EXPIRED`. `[I]` An order cancelled by a fraud rejection has had no
    /// cancel call, so its first one is judged like any other.
    pub(super) fn cancel_order(&mut self, order_id: &str, now: i64) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        self.one_shot(id, OneShot::Cancel, |s, record| {
            if !record.captures.is_empty() && !s.has(Defect::CancelAfterCapture) {
                return Err(Refusal::new(
                    403,
                    "CANCEL_NOT_ALLOWED",
                    "Order has previous captures. Cancel not possible",
                ));
            }
            record.cancelled = true;
            Ok(())
        })
    }

    /// `POST …/extend-authorization-time` (docs/klarna.md §13.3): `expires_at`
    /// moves 28 days later, never beyond creation + 180 days.
    pub(super) fn extend_authorization_time(
        &mut self,
        order_id: &str,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        self.one_shot(id, OneShot::Extend, |s, record| {
            match s.order_status(record, now) {
                Status::Expired if !s.has(Defect::ExtendAfterExpiry) => {
                    return Err(Refusal::new(
                        403,
                        "NOT_ALLOWED",
                        "Order is expired. Authorization time cannot be extended.",
                    ));
                }
                Status::Cancelled | Status::Captured | Status::Closed => {
                    return Err(Refusal::new(
                        403,
                        "NOT_ALLOWED",
                        "Authorization time cannot be extended.",
                    ));
                }
                _ => {}
            }
            let longest = record.created_at.saturating_add(LONGEST_AUTHORIZATION);
            record.expires_at = record
                .expires_at
                .saturating_add(ORDER_LIFETIME)
                .min(longest);
            Ok(())
        })
    }

    /// `POST …/release-remaining-authorization` (docs/klarna.md §13.3): an
    /// order with something still authorized becomes `CLOSED`.
    pub(super) fn release_remaining_authorization(
        &mut self,
        order_id: &str,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        self.one_shot(id, OneShot::Release, |s, record| {
            if s.order_status(record, now).capturable() && !s.has(Defect::ReleaseKeepsRemaining) {
                record.released = true;
            }
            Ok(())
        })
    }

    /// `POST …/acknowledge` (docs/klarna.md §13.3).
    pub(super) fn acknowledge(&mut self, order_id: &str, now: i64) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        self.one_shot(id, OneShot::Acknowledge, |_, _| Ok(()))
    }

    /// `PATCH …/merchant-references` `{merchant_reference1?,
    /// merchant_reference2?}` (docs/klarna.md §13.3): a value longer than 255
    /// characters is 400 `Bad value: merchant_reference1` (the first such
    /// field); `[I]` a value that is not a string is refused the same way, an
    /// absent or `null` one leaves the reference as it was, and length counts
    /// characters.
    pub(super) fn update_merchant_references(
        &mut self,
        order_id: &str,
        body: Value,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        self.one_shot(id, OneShot::MerchantReferences, |_, record| {
            let mut given: [Option<String>; 2] = [None, None];
            for (slot, field) in given
                .iter_mut()
                .zip(["merchant_reference1", "merchant_reference2"])
            {
                match body.get(field) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(v)) if v.chars().count() <= 255 => *slot = Some(v.clone()),
                    Some(_) => return Err(Refusal::bad_field(field)),
                }
            }
            let [first, second] = given;
            if first.is_some() {
                record.order.merchant_reference1 = first;
            }
            if second.is_some() {
                record.order.merchant_reference2 = second;
            }
            Ok(())
        })
    }
}
