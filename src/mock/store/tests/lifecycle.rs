//! The order lifecycle of docs/klarna.md §13 at the state-machine level:
//! status and expiry, the read-back, the 204 operations and their repeats
//! (captures and refunds: captures.rs), and the helpers the other lifecycle
//! tests share.

use serde_json::{Value, json};

use super::*;

pub(super) const OVER_REMAINING: &str =
    "Captured amount is higher than the remaining authorized amount. Capture not possible.";
pub(super) const OVER_CAPTURED: &str =
    "Refunded amount is higher than the captured amount. Refund not possible.";

pub(super) fn read_at(s: &mut MockState, id: &str, now: i64) -> Value {
    let r = s.handle(
        MockRequest::ReadOrder {
            order_id: id.to_owned(),
        },
        now,
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.json()
}

pub(super) fn capture_with(
    s: &mut MockState,
    id: &str,
    body: Value,
    key: Option<&str>,
    now: i64,
) -> MockReply {
    s.handle(
        MockRequest::Capture {
            order_id: id.to_owned(),
            body,
            idempotency_key: key.map(str::to_owned),
            base_url: BASE.to_owned(),
        },
        now,
    )
}

pub(super) fn refund_with(
    s: &mut MockState,
    id: &str,
    body: Value,
    key: Option<&str>,
    now: i64,
) -> MockReply {
    s.handle(
        MockRequest::Refund {
            order_id: id.to_owned(),
            body,
            idempotency_key: key.map(str::to_owned),
            base_url: BASE.to_owned(),
        },
        now,
    )
}

pub(super) fn refund(s: &mut MockState, id: &str, amount: i64) -> MockReply {
    refund_with(s, id, json!({"refunded_amount": amount}), None, T0)
}

/// One of the bodiless 204 operations.
pub(super) fn op(s: &mut MockState, name: &str, id: &str, now: i64) -> MockReply {
    let order_id = id.to_owned();
    let request = match name {
        "cancel" => MockRequest::CancelOrder { order_id },
        "extend" => MockRequest::ExtendAuthorizationTime { order_id },
        "release" => MockRequest::ReleaseRemainingAuthorization { order_id },
        "acknowledge" => MockRequest::AcknowledgeOrder { order_id },
        other => panic!("no operation {other}"),
    };
    s.handle(request, now)
}

pub(super) fn references(s: &mut MockState, id: &str, body: Value) -> MockReply {
    s.handle(
        MockRequest::UpdateMerchantReferences {
            order_id: id.to_owned(),
            body,
        },
        T0,
    )
}

pub(super) fn shipping(s: &mut MockState, id: &str, capture_id: &str, body: Value) -> MockReply {
    s.handle(
        MockRequest::AddShippingInfo {
            order_id: id.to_owned(),
            capture_id: capture_id.to_owned(),
            body,
        },
        T0,
    )
}

/// A 204 with a Transaction-Id and no body; returns the id.
#[track_caller]
pub(super) fn no_content(r: &MockReply) -> String {
    assert_eq!((r.status, &r.body), (204, &None), "{r:?}");
    let tx = header(r, "Transaction-Id").expect("a Transaction-Id");
    assert!(parse_id(tx).is_some(), "{tx}");
    tx.to_owned()
}

const DAY: i64 = 86_400;

#[test]
fn the_read_back_has_every_field() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    let mut o = order_body();
    o["merchant_data"] = json!("{\"pos\": 7}");
    o["merchant_reference1"] = json!("ON4711");
    let r = order(&mut s, &token, o, T0);
    let id = r.json()["order_id"].as_str().unwrap().to_owned();
    let dto = read_at(&mut s, &id, T0);
    let mut keys: Vec<&str> = dto
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "billing_address",
            "captured_amount",
            "captures",
            "created_at",
            "customer",
            "expires_at",
            "fraud_status",
            "initial_payment_method",
            "klarna_reference",
            "locale",
            "merchant_data",
            "merchant_reference1",
            "order_amount",
            "order_id",
            "order_lines",
            "original_order_amount",
            "purchase_country",
            "purchase_currency",
            "refunded_amount",
            "refunds",
            "remaining_authorized_amount",
            "shipping_address",
            "status",
        ]
    );
    assert_eq!(dto["status"], "AUTHORIZED");
    assert_eq!(dto["captures"], json!([]));
    assert_eq!(dto["refunds"], json!([]));
    assert_eq!(dto["customer"], json!({"type": "person"}));
    assert_eq!(
        dto["initial_payment_method"],
        json!({"type": "INVOICE", "description": "Pay later"})
    );
    assert_eq!(dto["shipping_address"], dto["billing_address"]);
    assert_eq!(dto["merchant_data"], "{\"pos\": 7}");
    let reference = dto["klarna_reference"].as_str().unwrap();
    assert!(
        reference.len() == 8
            && reference
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{reference}"
    );
    assert_eq!(dto["created_at"], "2026-01-01T00:00:00Z");
    assert_eq!(dto["expires_at"], "2026-01-29T00:00:00Z");
}

#[test]
fn the_customer_reads_back_with_its_type() {
    let mut s = faithful();
    let mut session = session_body();
    session["customer"] = json!({"date_of_birth": "1970-07-10", "type": "organization",
        "national_identification_number": "X1"});
    let (_, token) = authorized(&mut s, session);
    let r = order(&mut s, &token, order_body(), T0);
    let id = r.json()["order_id"].as_str().unwrap().to_owned();
    assert_eq!(
        read_at(&mut s, &id, T0)["customer"],
        json!({"date_of_birth": "1970-07-10", "type": "organization"})
    );
}

/// Each category's payment method in Order Management's vocabulary.
#[test]
fn initial_payment_method_per_category() {
    for (category, method, kp_type) in [
        (
            "pay_later",
            json!({"type": "INVOICE", "description": "Pay later"}),
            "invoice",
        ),
        (
            "pay_over_time",
            json!({"type": "FIXED_AMOUNT", "description": "Pay over time", "number_of_installments": 3}),
            "fixed_amount",
        ),
        (
            "pay_now",
            json!({"type": "DIRECT_DEBIT", "description": "Pay now"}),
            "direct_debit",
        ),
    ] {
        let mut s = faithful();
        let session = create(&mut s, session_body());
        let r = authorize_with(
            &mut s,
            &session,
            json!({"billing_address": billing("customer@email.de"),
                "payment_method_category": category}),
            T0,
        );
        let token = r.json()["authorization_token"].as_str().unwrap().to_owned();
        let r = order(&mut s, &token, order_body(), T0);
        assert_eq!(
            r.json()["authorized_payment_method"],
            json!({"type": kp_type})
        );
        let id = r.json()["order_id"].as_str().unwrap().to_owned();
        assert_eq!(read_at(&mut s, &id, T0)["initial_payment_method"], method);
    }
}

#[test]
fn the_om_vocabulary_of_13_4() {
    use super::super::om::om_payment_method_type as om_type;
    for (kp, om) in [
        ("invoice", "INVOICE"),
        ("fixed_amount", "FIXED_AMOUNT"),
        ("slice_it_by_card", "FIXED_AMOUNT_BY_CARD"),
        ("direct_debit", "DIRECT_DEBIT"),
        ("direct_bank_transfer", "BANK_TRANSFER"),
        ("base_account", "ACCOUNT"),
        ("b2b_invoice", "INVOICE_BUSINESS"),
        ("card", "CARD"),
        ("pay_later_by_card", "PAY_LATER_BY_CARD"),
        ("pay_by_card", "PAY_BY_CARD"),
        ("fixed_sum_credit", "FIXED_SUM_CREDIT"),
        ("alternative_payment_method", "ALTERNATIVE_PAYMENT_METHOD"),
        ("swish", "OTHER"),
    ] {
        assert_eq!(om_type(kp), om, "{kp}");
    }
}

#[test]
fn expires_at_is_truncated_to_midnight() {
    let mut s = faithful();
    let later = T0 + 13 * 3600 + 59;
    let (_, token) = authorized_at(&mut s, later);
    let r = order(&mut s, &token, order_body(), later);
    let id = r.json()["order_id"].as_str().unwrap().to_owned();
    let dto = read_at(&mut s, &id, later);
    assert_eq!(dto["created_at"], "2026-01-01T13:00:59Z");
    assert_eq!(dto["expires_at"], "2026-01-29T00:00:00Z");
}

/// A session authorized at `now`.
fn authorized_at(s: &mut MockState, now: i64) -> (String, String) {
    let r = s.handle(
        MockRequest::CreateSession {
            body: session_body(),
        },
        now,
    );
    let id = r.json()["session_id"].as_str().unwrap().to_owned();
    let r = authorize_with(
        s,
        &id,
        json!({"billing_address": billing("customer@email.de")}),
        now,
    );
    (
        id,
        r.json()["authorization_token"].as_str().unwrap().to_owned(),
    )
}

/// docs/klarna.md §13.1: expired with nothing captured is EXPIRED, with a
/// part captured CLOSED; both refuse captures and show nothing remaining.
#[test]
fn expiry_gives_expired_or_closed() {
    let mut s = faithful();
    let untouched = placed(&mut s, false);
    let part = placed(&mut s, false);
    assert_eq!(capture(&mut s, &part, 1000).status, 201);
    let expiry = T0 + 28 * DAY;
    let before = read_at(&mut s, &untouched, expiry - 1);
    assert_eq!(
        (&before["status"], &before["remaining_authorized_amount"]),
        (&json!("AUTHORIZED"), &json!(11900))
    );
    assert_eq!(
        read_at(&mut s, &part, expiry - 1)["status"],
        "PART_CAPTURED"
    );
    let after = read_at(&mut s, &untouched, expiry);
    assert_eq!(
        (&after["status"], &after["remaining_authorized_amount"]),
        (&json!("EXPIRED"), &json!(0))
    );
    let closed = read_at(&mut s, &part, expiry);
    assert_eq!(
        (&closed["status"], &closed["remaining_authorized_amount"]),
        (&json!("CLOSED"), &json!(0))
    );
    for id in [&untouched, &part] {
        let r = capture_with(&mut s, id, json!({"captured_amount": 1}), None, expiry);
        refused(&r, 403, "CAPTURE_NOT_ALLOWED", "Capture not allowed");
    }
    // Refunds of what was captured still work after expiry.
    let r = refund_with(&mut s, &part, json!({"refunded_amount": 500}), None, expiry);
    assert_eq!(r.status, 201, "{r:?}");
}

/// Orders are forgotten 365 days after creation, and swept.
#[test]
fn orders_are_forgotten_after_365_days() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    assert_eq!(
        read_at(&mut s, &id, T0 + ORDER_MEMORY - 1)["status"],
        "EXPIRED"
    );
    let r = s.handle(
        MockRequest::ReadOrder {
            order_id: id.clone(),
        },
        T0 + ORDER_MEMORY,
    );
    refused(
        &r,
        404,
        "NO_SUCH_ORDER",
        &format!("Order {id} cannot be found"),
    );
    placed(&mut s, false);
    assert_eq!(s.order_count(), 1);
    s.handle(
        MockRequest::ListNotifications { ids: Vec::new() },
        T0 + 2 * ORDER_MEMORY,
    );
    assert_eq!(s.order_count(), 0);
}

#[test]
fn cancel_once_and_not_after_a_capture() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let tx = no_content(&op(&mut s, "cancel", &id, T0));
    assert_eq!(no_content(&op(&mut s, "cancel", &id, T0 + 9)), tx);
    let dto = read_at(&mut s, &id, T0);
    assert_eq!(
        (&dto["status"], &dto["remaining_authorized_amount"]),
        (&json!("CANCELLED"), &json!(0))
    );
    let captured = placed(&mut s, false);
    assert_eq!(capture(&mut s, &captured, 100).status, 201);
    refused(
        &op(&mut s, "cancel", &captured, T0),
        403,
        "CANCEL_NOT_ALLOWED",
        "Order has previous captures. Cancel not possible",
    );
    // An expired order can be cancelled.
    let expired = placed(&mut s, false);
    let later = T0 + 28 * DAY;
    assert_eq!(read_at(&mut s, &expired, later)["status"], "EXPIRED");
    no_content(&op(&mut s, "cancel", &expired, later));
    assert_eq!(read_at(&mut s, &expired, later)["status"], "CANCELLED");
    refused(
        &op(&mut s, "cancel", "nope", T0),
        404,
        "NO_SUCH_ORDER",
        "Order nope cannot be found",
    );
}

#[test]
fn extend_authorization_time() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let tx = no_content(&op(&mut s, "extend", &id, T0 + DAY));
    assert_eq!(
        read_at(&mut s, &id, T0)["expires_at"],
        "2026-02-26T00:00:00Z"
    );
    // A repeat is a no-op with the same id.
    assert_eq!(no_content(&op(&mut s, "extend", &id, T0 + 2 * DAY)), tx);
    assert_eq!(
        read_at(&mut s, &id, T0)["expires_at"],
        "2026-02-26T00:00:00Z"
    );
    // Capturable until the new date.
    let r = capture_with(
        &mut s,
        &id,
        json!({"captured_amount": 100}),
        None,
        T0 + 40 * DAY,
    );
    assert_eq!(r.status, 201, "{r:?}");

    let expired = placed(&mut s, false);
    refused(
        &op(&mut s, "extend", &expired, T0 + 28 * DAY),
        403,
        "NOT_ALLOWED",
        "Order is expired. Authorization time cannot be extended.",
    );
    let cancelled = placed(&mut s, false);
    no_content(&op(&mut s, "cancel", &cancelled, T0));
    let captured = placed(&mut s, true);
    let closed = placed(&mut s, false);
    no_content(&op(&mut s, "release", &closed, T0));
    for id in [&cancelled, &captured, &closed] {
        refused(
            &op(&mut s, "extend", id, T0),
            403,
            "NOT_ALLOWED",
            "Authorization time cannot be extended.",
        );
    }
    // A refused call takes no effect: a PART_CAPTURED order extends later.
    let part = placed(&mut s, false);
    assert_eq!(capture(&mut s, &part, 100).status, 201);
    no_content(&op(&mut s, "extend", &part, T0));
}

/// Never beyond creation + 180 days (docs/klarna.md §5.1).
#[test]
fn extension_stops_at_180_days() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let uuid = parse_id(&id).unwrap();
    s.orders.get_mut(&uuid).unwrap().expires_at = T0 + 170 * DAY;
    no_content(&op(&mut s, "extend", &id, T0));
    assert_eq!(
        read_at(&mut s, &id, T0)["expires_at"],
        json!(crate::mock::rfc3339(T0 + 180 * DAY))
    );
}

#[test]
fn release_closes_what_remains() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    assert_eq!(capture(&mut s, &id, 5000).status, 201);
    let tx = no_content(&op(&mut s, "release", &id, T0));
    let dto = read_at(&mut s, &id, T0);
    assert_eq!(
        (
            &dto["status"],
            &dto["remaining_authorized_amount"],
            &dto["captured_amount"]
        ),
        (&json!("CLOSED"), &json!(0), &json!(5000))
    );
    assert_eq!(no_content(&op(&mut s, "release", &id, T0)), tx);
    // Refunds still work on a closed order.
    assert_eq!(refund(&mut s, &id, 5000).status, 201);
    // Nothing remains of a captured order: 204, still CAPTURED.
    let full = placed(&mut s, true);
    no_content(&op(&mut s, "release", &full, T0));
    assert_eq!(read_at(&mut s, &full, T0)["status"], "CAPTURED");
}

#[test]
fn acknowledge_once() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let tx = no_content(&op(&mut s, "acknowledge", &id, T0));
    assert_eq!(no_content(&op(&mut s, "acknowledge", &id, T0)), tx);
    assert_eq!(read_at(&mut s, &id, T0)["status"], "AUTHORIZED");
    // Each operation has its own Transaction-Id.
    let cancel = no_content(&op(&mut s, "cancel", &id, T0));
    assert_ne!(cancel, tx);
}

#[test]
fn merchant_references_are_updated_once() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let long = "r".repeat(256);
    for (body, field) in [
        (json!({"merchant_reference1": long}), "merchant_reference1"),
        (
            json!({"merchant_reference1": "ok", "merchant_reference2": long}),
            "merchant_reference2",
        ),
        (json!({"merchant_reference2": 7}), "merchant_reference2"),
    ] {
        refused(
            &references(&mut s, &id, body),
            400,
            "BAD_VALUE",
            &format!("Bad value: {field}"),
        );
    }
    assert!(
        read_at(&mut s, &id, T0)
            .get("merchant_reference1")
            .is_none()
    );
    let body = json!({"merchant_reference1": "r".repeat(255), "merchant_reference2": "ERP-9"});
    let tx = no_content(&references(&mut s, &id, body));
    let repeat = json!({"merchant_reference1": "changed", "merchant_reference2": long});
    assert_eq!(no_content(&references(&mut s, &id, repeat)), tx);
    let dto = read_at(&mut s, &id, T0);
    assert_eq!(dto["merchant_reference1"], "r".repeat(255));
    assert_eq!(dto["merchant_reference2"], "ERP-9");
    // An absent field leaves the reference as it was.
    let (_, token) = authorized(&mut s, session_body());
    let mut o = order_body();
    o["merchant_reference1"] = json!("ON1");
    let r = order(&mut s, &token, o, T0);
    let other = r.json()["order_id"].as_str().unwrap().to_owned();
    no_content(&references(
        &mut s,
        &other,
        json!({"merchant_reference2": "B"}),
    ));
    let dto = read_at(&mut s, &other, T0);
    assert_eq!(
        (&dto["merchant_reference1"], &dto["merchant_reference2"]),
        (&json!("ON1"), &json!("B"))
    );
}

#[test]
fn unknown_orders_are_404_on_every_operation() {
    let mut s = faithful();
    let unknown = "00000000-0000-4000-8000-000000000000";
    let message = format!("Order {unknown} cannot be found");
    let o = || unknown.to_owned();
    let requests = [
        MockRequest::ListCaptures { order_id: o() },
        MockRequest::ReadCapture {
            order_id: o(),
            capture_id: o(),
        },
        MockRequest::AddShippingInfo {
            order_id: o(),
            capture_id: o(),
            body: json!({}),
        },
        MockRequest::Refund {
            order_id: o(),
            body: json!({}),
            idempotency_key: None,
            base_url: BASE.into(),
        },
        MockRequest::ListRefunds { order_id: o() },
        MockRequest::ReadRefund {
            order_id: o(),
            refund_id: o(),
        },
        MockRequest::CancelOrder { order_id: o() },
        MockRequest::ExtendAuthorizationTime { order_id: o() },
        MockRequest::ReleaseRemainingAuthorization { order_id: o() },
        MockRequest::AcknowledgeOrder { order_id: o() },
        MockRequest::UpdateMerchantReferences {
            order_id: o(),
            body: json!({}),
        },
        MockRequest::FraudDecision {
            order_id: o(),
            body: json!({}),
        },
    ];
    for request in requests {
        let r = s.handle(request.clone(), T0);
        assert_eq!(r.status, 404, "{request:?}: {r:?}");
        refused(&r, 404, "NO_SUCH_ORDER", &message);
    }
}

/// A seeded mock's lifecycle answers are identical, ids included.
#[test]
fn the_lifecycle_is_deterministic() {
    let run = || {
        let mut s = faithful();
        let id = placed(&mut s, false);
        let c = capture_with(&mut s, &id, json!({"captured_amount": 100}), Some("k"), T0);
        let r = refund(&mut s, &id, 50);
        let x = op(&mut s, "extend", &id, T0);
        (c, r, x, read_at(&mut s, &id, T0))
    };
    assert_eq!(run(), run());
}
