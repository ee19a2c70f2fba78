//! The lifecycle defects (docs/klarna.md §13): for each, the faithful answer
//! first, then the deviation.

use serde_json::{Value, json};

use super::customer_tokens::{
    authorized_for, customer_token, issue, set_status, token_body, token_order,
};
use super::lifecycle::{
    OVER_CAPTURED, capture_with, no_content, op, read_at, references, refund, refund_with, shipping,
};
use super::notifications::{decide, gb_with_urls, journal, of_kind, pending};
use super::*;

fn with(defect: Defect) -> MockState {
    state(MockConfig::default().defect(defect))
}

const DAY: i64 = 86_400;

/// An order with a capture of `amount`; returns (order_id, capture_id).
fn captured(s: &mut MockState, amount: i64) -> (String, String) {
    let id = placed(s, false);
    let r = capture(s, &id, amount);
    assert_eq!(r.status, 201, "{r:?}");
    (id, header(&r, "Capture-Id").unwrap().to_owned())
}

#[test]
fn refund_over_captured() {
    let mut s = faithful();
    let (id, _) = captured(&mut s, 1000);
    assert_eq!(refund(&mut s, &id, 600).status, 201);
    refused(
        &refund(&mut s, &id, 401),
        403,
        "REFUND_NOT_ALLOWED",
        OVER_CAPTURED,
    );

    let mut s = with(Defect::RefundOverCaptured);
    let (id, _) = captured(&mut s, 1000);
    assert_eq!(refund(&mut s, &id, 600).status, 201);
    assert_eq!(refund(&mut s, &id, 5000).status, 201);
    assert_eq!(read_at(&mut s, &id, T0)["refunded_amount"], 5600);
    // Still no refund without a capture.
    let none = placed(&mut s, false);
    assert_eq!(refund(&mut s, &none, 1).status, 403);
}

#[test]
fn refund_without_capture() {
    let message = "Order has no captures. Refund not possible";
    let mut s = faithful();
    let id = placed(&mut s, false);
    refused(
        &refund(&mut s, &id, 100),
        403,
        "REFUND_NOT_ALLOWED",
        message,
    );

    let mut s = with(Defect::RefundWithoutCapture);
    let id = placed(&mut s, false);
    let r = refund(&mut s, &id, 100);
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(read_at(&mut s, &id, T0)["refunded_amount"], 100);
    // With a capture, the amount limit still holds.
    let (id, _) = captured(&mut s, 100);
    refused(
        &refund(&mut s, &id, 101),
        403,
        "REFUND_NOT_ALLOWED",
        OVER_CAPTURED,
    );
}

#[test]
fn cancel_after_capture() {
    let mut s = faithful();
    let (id, _) = captured(&mut s, 100);
    assert_eq!(op(&mut s, "cancel", &id, T0).status, 403);
    assert_eq!(read_at(&mut s, &id, T0)["status"], "PART_CAPTURED");

    let mut s = with(Defect::CancelAfterCapture);
    let (id, _) = captured(&mut s, 100);
    no_content(&op(&mut s, "cancel", &id, T0));
    assert_eq!(read_at(&mut s, &id, T0)["status"], "CANCELLED");
}

#[test]
fn idempotency_key_ignored() {
    let run = |s: &mut MockState| {
        let id = placed(s, false);
        let body = json!({"captured_amount": 100});
        let a = capture_with(s, &id, body.clone(), Some("k"), T0);
        let b = capture_with(s, &id, body, Some("k"), T0);
        let r1 = refund_with(s, &id, json!({"refunded_amount": 10}), Some("r"), T0);
        let r2 = refund_with(s, &id, json!({"refunded_amount": 10}), Some("r"), T0);
        let dto = read_at(s, &id, T0);
        (a.headers == b.headers, r1.headers == r2.headers, dto)
    };
    let (same_capture, same_refund, dto) = run(&mut faithful());
    assert!(same_capture && same_refund);
    assert_eq!(
        (&dto["captured_amount"], &dto["refunded_amount"]),
        (&json!(100), &json!(10))
    );

    let (same_capture, same_refund, dto) = run(&mut with(Defect::IdempotencyKeyIgnored));
    assert!(!same_capture && !same_refund);
    assert_eq!(
        (&dto["captured_amount"], &dto["refunded_amount"]),
        (&json!(200), &json!(20))
    );
}

/// Every 201 and 204 of Order Management, with or without `Transaction-Id`.
fn transaction_ids(s: &mut MockState) -> Vec<Option<String>> {
    let (id, capture_id) = captured(s, 100);
    let other = placed(s, false);
    let answers = [
        capture(s, &id, 100),
        refund(s, &id, 50),
        shipping(s, &id, &capture_id, json!({"shipping_info": []})),
        op(s, "acknowledge", &id, T0),
        op(s, "extend", &id, T0),
        references(s, &id, json!({"merchant_reference1": "A"})),
        op(s, "release", &id, T0),
        op(s, "cancel", &other, T0),
    ];
    answers
        .iter()
        .map(|r| {
            assert!(matches!(r.status, 201 | 204), "{r:?}");
            header(r, "Transaction-Id").map(str::to_owned)
        })
        .collect()
}

#[test]
fn no_transaction_id() {
    let ids = transaction_ids(&mut faithful());
    assert!(ids.iter().all(Option::is_some), "{ids:?}");
    let ids = transaction_ids(&mut with(Defect::NoTransactionId));
    assert!(ids.iter().all(Option::is_none), "{ids:?}");
    // An idempotent replay has none either.
    let mut s = with(Defect::NoTransactionId);
    let id = placed(&mut s, false);
    capture_with(&mut s, &id, json!({"captured_amount": 1}), Some("k"), T0);
    let again = capture_with(&mut s, &id, json!({"captured_amount": 1}), Some("k"), T0);
    assert_eq!(header(&again, "Transaction-Id"), None);
    assert!(header(&again, "Capture-Id").is_some());
}

/// Each repeated no-op's id against the first call's.
fn repeats(s: &mut MockState) -> Vec<(String, String)> {
    let (id, capture_id) = captured(s, 100);
    let mut pairs = Vec::new();
    let call = |s: &mut MockState, which: usize| match which {
        0 => op(s, "acknowledge", &id, T0),
        1 => op(s, "extend", &id, T0),
        2 => references(s, &id, json!({})),
        3 => shipping(s, &id, &capture_id, json!({"shipping_info": []})),
        _ => op(s, "release", &id, T0),
    };
    for which in 0..5 {
        let first = no_content(&call(s, which));
        let again = no_content(&call(s, which));
        pairs.push((first, again));
    }
    let other = placed(s, false);
    let first = no_content(&op(s, "cancel", &other, T0));
    let again = no_content(&op(s, "cancel", &other, T0));
    pairs.push((first, again));
    pairs
}

#[test]
fn new_transaction_id_on_repeat() {
    for (first, again) in repeats(&mut faithful()) {
        assert_eq!(first, again);
    }
    for (first, again) in repeats(&mut with(Defect::NewTransactionIdOnRepeat)) {
        assert_ne!(first, again);
    }
    // The repeat still changes nothing.
    let mut s = with(Defect::NewTransactionIdOnRepeat);
    let id = placed(&mut s, false);
    no_content(&references(
        &mut s,
        &id,
        json!({"merchant_reference1": "A"}),
    ));
    no_content(&references(
        &mut s,
        &id,
        json!({"merchant_reference1": "B"}),
    ));
    assert_eq!(read_at(&mut s, &id, T0)["merchant_reference1"], "A");
}

#[test]
fn relative_location() {
    let run = |s: &mut MockState| {
        let (id, capture_id) = captured(s, 100);
        let r = refund(s, &id, 10);
        let refund_id = header(&r, "Refund-Id").unwrap().to_owned();
        let capture = capture_with(s, &id, json!({"captured_amount": 1}), None, T0);
        let second = header(&capture, "Capture-Id").unwrap().to_owned();
        (
            id,
            capture_id,
            second,
            refund_id,
            header(&capture, "Location").unwrap().to_owned(),
            header(&r, "Location").unwrap().to_owned(),
        )
    };
    let (id, _, capture_id, refund_id, capture_at, refund_at) = run(&mut faithful());
    assert_eq!(
        capture_at,
        format!("{BASE}/ordermanagement/v1/orders/{id}/captures/{capture_id}")
    );
    assert_eq!(
        refund_at,
        format!("{BASE}/ordermanagement/v1/orders/{id}/refunds/{refund_id}")
    );
    let (id, _, capture_id, refund_id, capture_at, refund_at) =
        run(&mut with(Defect::RelativeLocation));
    assert_eq!(
        capture_at,
        format!("/ordermanagement/v1/orders/{id}/captures/{capture_id}")
    );
    assert_eq!(
        refund_at,
        format!("/ordermanagement/v1/orders/{id}/refunds/{refund_id}")
    );
}

#[test]
fn missing_amount_400() {
    let run = |s: &mut MockState| {
        let (id, _) = captured(s, 100);
        let c = capture_with(s, &id, json!({}), None, T0);
        let r = refund_with(s, &id, json!({"refunded_amount": null}), None, T0);
        (c, r)
    };
    let (c, r) = run(&mut faithful());
    refused(
        &c,
        422,
        "UNPROCESSABLE_ENTITY",
        "'captured_amount' must not be null",
    );
    refused(
        &r,
        422,
        "UNPROCESSABLE_ENTITY",
        "'refunded_amount' must not be null",
    );
    let (c, r) = run(&mut with(Defect::MissingAmount400));
    refused(&c, 400, "BAD_VALUE", "Bad value: captured_amount");
    refused(&r, 400, "BAD_VALUE", "Bad value: refunded_amount");
}

#[test]
fn refunded_amount_not_shown() {
    let run = |s: &mut MockState| {
        let (id, _) = captured(s, 1000);
        assert_eq!(refund(s, &id, 300).status, 201);
        read_at(s, &id, T0)
    };
    let dto = run(&mut faithful());
    assert_eq!(dto["refunded_amount"], 300);
    let dto = run(&mut with(Defect::RefundedAmountNotShown));
    assert_eq!(dto["refunded_amount"], 0);
    assert_eq!(dto["refunds"][0]["refunded_amount"], 300);
}

#[test]
fn pending_never_decided() {
    let run = |s: &mut MockState| {
        let (_, id) = pending(s, gb_with_urls(), "customer+pend-accept-05@email.uk");
        let later = read_at(s, &id, T0 + 7 * DAY)["fraud_status"].clone();
        (id, later)
    };
    let (_, later) = run(&mut faithful());
    assert_eq!(later, "ACCEPTED");
    let mut s = with(Defect::PendingNeverDecided);
    let (id, later) = run(&mut s);
    assert_eq!(later, "PENDING");
    assert!(of_kind(&journal(&mut s, T0 + 7 * DAY), "notification").is_empty());
    // The control API still decides.
    assert_eq!(
        decide(&mut s, &id, json!({"fraud_status": "ACCEPTED"})).status,
        200
    );
    assert_eq!(
        of_kind(&journal(&mut s, T0 + 7 * DAY), "notification").len(),
        1
    );
}

#[test]
fn rejected_not_cancelled() {
    let run = |s: &mut MockState| {
        let (_, rejected) = pending(s, gb_with_urls(), "customer+pend-reject-05@email.uk");
        let (_, stopped) = pending(s, gb_with_urls(), "customer+pend-accept-05@email.uk");
        decide(s, &stopped, json!({"fraud_status": "STOPPED"}));
        [
            read_at(s, &rejected, T0 + 300),
            read_at(s, &stopped, T0 + 300),
        ]
    };
    for dto in run(&mut faithful()) {
        assert_eq!(dto["status"], "CANCELLED");
    }
    for dto in run(&mut with(Defect::RejectedNotCancelled)) {
        assert_eq!(dto["status"], "AUTHORIZED");
        assert!(matches!(
            dto["fraud_status"].as_str(),
            Some("REJECTED" | "STOPPED")
        ));
        assert_eq!(dto["remaining_authorized_amount"], 12000);
    }
}

#[test]
fn no_fraud_notification() {
    let run = |s: &mut MockState| {
        let (_, id) = pending(s, gb_with_urls(), "customer+pend-reject-05@email.uk");
        let (_, other) = pending(s, gb_with_urls(), "customer+pend-reject-50@email.uk");
        decide(s, &other, json!({"fraud_status": "ACCEPTED"}));
        let status = read_at(s, &id, T0 + 300)["fraud_status"].clone();
        (status, of_kind(&journal(s, T0 + 300), "notification").len())
    };
    assert_eq!(run(&mut faithful()), (json!("REJECTED"), 2));
    assert_eq!(
        run(&mut with(Defect::NoFraudNotification)),
        (json!("REJECTED"), 0)
    );
}

#[test]
fn no_authorization_callback() {
    let run = |s: &mut MockState| {
        let id = create(s, gb_with_urls());
        let r = authorize_with(s, &id, json!({}), T0);
        assert_eq!(r.json()["approved"], true);
        of_kind(&journal(s, T0), "authorization_callback").len()
    };
    assert_eq!(run(&mut faithful()), 1);
    assert_eq!(run(&mut with(Defect::NoAuthorizationCallback)), 0);
}

#[test]
fn never_expires() {
    let run = |s: &mut MockState| {
        let id = placed(s, false);
        let later = T0 + 30 * DAY;
        let status = read_at(s, &id, later)["status"].clone();
        let r = capture_with(s, &id, json!({"captured_amount": 100}), None, later);
        (status, r.status)
    };
    assert_eq!(run(&mut faithful()), (json!("EXPIRED"), 403));
    assert_eq!(
        run(&mut with(Defect::NeverExpires)),
        (json!("AUTHORIZED"), 201)
    );
    // The read-back still names the date.
    let mut s = with(Defect::NeverExpires);
    let id = placed(&mut s, false);
    assert_eq!(
        read_at(&mut s, &id, T0)["expires_at"],
        "2026-01-29T00:00:00Z"
    );
}

#[test]
fn extend_after_expiry() {
    let expiry = T0 + 28 * DAY;
    let mut s = faithful();
    let id = placed(&mut s, false);
    refused(
        &op(&mut s, "extend", &id, expiry),
        403,
        "NOT_ALLOWED",
        "Order is expired. Authorization time cannot be extended.",
    );
    let mut s = with(Defect::ExtendAfterExpiry);
    let id = placed(&mut s, false);
    no_content(&op(&mut s, "extend", &id, expiry));
    let dto = read_at(&mut s, &id, expiry);
    assert_eq!(
        (&dto["status"], &dto["expires_at"]),
        (&json!("AUTHORIZED"), &json!("2026-02-26T00:00:00Z"))
    );
}

#[test]
fn release_keeps_remaining() {
    let run = |s: &mut MockState| {
        let (id, _) = captured(s, 1000);
        no_content(&op(s, "release", &id, T0));
        let dto = read_at(s, &id, T0);
        (
            dto["status"].clone(),
            dto["remaining_authorized_amount"].clone(),
        )
    };
    assert_eq!(run(&mut faithful()), (json!("CLOSED"), json!(0)));
    assert_eq!(
        run(&mut with(Defect::ReleaseKeepsRemaining)),
        (json!("PART_CAPTURED"), json!(10900))
    );
}

#[test]
fn read_back_without_captures() {
    let run = |s: &mut MockState| {
        let (id, capture_id) = captured(s, 1000);
        let dto = read_at(s, &id, T0);
        let list = s
            .handle(MockRequest::ListCaptures { order_id: id }, T0)
            .json();
        (dto, list, capture_id)
    };
    let (dto, list, capture_id) = run(&mut faithful());
    assert_eq!(dto["captures"][0]["capture_id"], capture_id.as_str());
    assert_eq!(dto["captures"], list);
    let (dto, list, capture_id) = run(&mut with(Defect::ReadBackWithoutCaptures));
    assert_eq!(dto["captures"], json!([]));
    assert_eq!(dto["captured_amount"], 1000);
    assert_eq!(list[0]["capture_id"], capture_id.as_str());
}

#[test]
fn capture_list_drops_latest() {
    let run = |s: &mut MockState| {
        let (id, first) = captured(s, 1000);
        let r = capture(s, &id, 500);
        let latest = header(&r, "Capture-Id").unwrap().to_owned();
        let list = s
            .handle(
                MockRequest::ListCaptures {
                    order_id: id.clone(),
                },
                T0,
            )
            .json();
        let ids: Vec<Value> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["capture_id"].clone())
            .collect();
        let read = s.handle(
            MockRequest::ReadCapture {
                order_id: id,
                capture_id: latest.clone(),
            },
            T0,
        );
        (ids, first, latest, read.status)
    };
    let (ids, first, latest, read) = run(&mut faithful());
    assert_eq!(ids, [json!(first), json!(latest)]);
    assert_eq!(read, 200);
    let (ids, first, _, read) = run(&mut with(Defect::CaptureListDropsLatest));
    assert_eq!(ids, [json!(first)]);
    assert_eq!(read, 200);
}

#[test]
fn kp_vocabulary_payment_method() {
    let run = |s: &mut MockState| {
        let id = placed(s, false);
        read_at(s, &id, T0)["initial_payment_method"]["type"].clone()
    };
    assert_eq!(run(&mut faithful()), "INVOICE");
    assert_eq!(run(&mut with(Defect::KpVocabularyPaymentMethod)), "invoice");
}

#[test]
fn customer_token_retry_refused() {
    let run = |s: &mut MockState| {
        let token = authorized_for(s, "tokenize", "pay_later");
        let first = issue(s, &token, token_body());
        let again = issue(s, &token, token_body());
        (first, again)
    };
    let (first, again) = run(&mut faithful());
    assert_eq!((again.status, &again.body), (200, &first.body));
    let (first, again) = run(&mut with(Defect::CustomerTokenRetryRefused));
    assert_eq!(first.status, 200);
    refused(
        &again,
        403,
        "INVALID_OPERATION",
        "Authorization token already consumed",
    );
}

#[test]
fn token_order_idempotency_ignored() {
    let run = |s: &mut MockState| {
        let id = customer_token(s);
        let a = token_order(s, &id, session_body(), Some("k"));
        let b = token_order(s, &id, session_body(), Some("k"));
        (
            a.json()["order_id"].clone(),
            b.json()["order_id"].clone(),
            s.order_count(),
        )
    };
    let (a, b, count) = run(&mut faithful());
    assert_eq!((a == b, count), (true, 1));
    let (a, b, count) = run(&mut with(Defect::TokenOrderIdempotencyIgnored));
    assert_eq!((a == b, count), (false, 2));
}

#[test]
fn cancelled_customer_token_orders() {
    let run = |s: &mut MockState| {
        let id = customer_token(s);
        let r = set_status(s, &id, json!({"status": "CANCELLED"}));
        assert_eq!(r.status, 202);
        token_order(s, &id, session_body(), None)
    };
    refused(
        &run(&mut faithful()),
        403,
        "INVALID_OPERATION",
        "Customer token is not active",
    );
    let r = run(&mut with(Defect::CancelledCustomerTokenOrders));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["fraud_status"], "ACCEPTED");
}
