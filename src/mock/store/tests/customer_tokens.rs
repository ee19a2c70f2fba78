//! Customer tokens (docs/klarna.md §13.6): issuing one from an
//! authorization, and the Customer Token API.

use serde_json::{Value, json};

use super::lifecycle::read_at;
use super::*;

pub(super) fn token_body() -> Value {
    json!({"description": "Coffee subscription", "intended_use": "SUBSCRIPTION",
        "locale": "de-DE", "purchase_country": "DE", "purchase_currency": "EUR"})
}

pub(super) fn issue(s: &mut MockState, token: &str, body: Value) -> MockReply {
    s.handle(
        MockRequest::CreateCustomerToken {
            authorization_token: token.to_owned(),
            body,
        },
        T0,
    )
}

/// An authorization for a session of `intent`, with `customer` given.
pub(super) fn authorized_for(s: &mut MockState, intent: &str, category: &str) -> String {
    let mut session = session_body();
    session["intent"] = json!(intent);
    session["customer"] = json!({"date_of_birth": "1970-07-10", "gender": "female",
        "national_identification_number": "X1"});
    let id = create(s, session);
    let r = authorize_with(
        s,
        &id,
        json!({"billing_address": billing("customer@email.de"),
            "payment_method_category": category}),
        T0,
    );
    r.json()["authorization_token"].as_str().unwrap().to_owned()
}

/// A customer token of a `tokenize` session; returns its id.
pub(super) fn customer_token(s: &mut MockState) -> String {
    let token = authorized_for(s, "tokenize", "pay_later");
    let r = issue(s, &token, token_body());
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["token_id"].as_str().unwrap().to_owned()
}

pub(super) fn read_token(s: &mut MockState, id: &str) -> MockReply {
    s.handle(
        MockRequest::ReadCustomerToken {
            token_id: id.to_owned(),
        },
        T0,
    )
}

pub(super) fn set_status(s: &mut MockState, id: &str, body: Value) -> MockReply {
    s.handle(
        MockRequest::UpdateCustomerTokenStatus {
            token_id: id.to_owned(),
            body,
        },
        T0,
    )
}

pub(super) fn token_order(
    s: &mut MockState,
    id: &str,
    body: Value,
    key: Option<&str>,
) -> MockReply {
    s.handle(
        MockRequest::CustomerTokenOrder {
            token_id: id.to_owned(),
            body,
            idempotency_key: key.map(str::to_owned),
        },
        T0,
    )
}

#[test]
fn a_customer_token_answers_with_the_authorized_details() {
    let mut s = faithful();
    let token = authorized_for(&mut s, "tokenize", "pay_later");
    let r = issue(&mut s, &token, token_body());
    assert_eq!(r.status, 200, "{r:?}");
    let answer = r.json();
    let mut keys: Vec<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["billing_address", "customer", "redirect_url", "token_id"]
    );
    assert_eq!(answer["billing_address"], billing("customer@email.de"));
    assert_eq!(
        answer["customer"],
        json!({"date_of_birth": "1970-07-10", "gender": "female"})
    );
    assert!(
        answer["redirect_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    // The identical body again (key order aside): the same answer.
    let mut reordered = serde_json::Map::new();
    for (k, v) in token_body().as_object().unwrap().iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    let again = issue(&mut s, &token, Value::Object(reordered));
    assert_eq!((again.status, &again.body), (200, &r.body));
    let mut other = token_body();
    other["description"] = json!("Tea subscription");
    refused(
        &issue(&mut s, &token, other),
        403,
        "INVALID_OPERATION",
        "Authorization token already consumed",
    );
    assert_eq!(s.customer_token_count(), 1);
}

/// Validation first (`{}` on a `buy` token is 400), then the intent.
#[test]
fn the_order_of_the_customer_token_checks() {
    let mut s = faithful();
    refused(
        &issue(&mut s, "nope", json!({})),
        404,
        "NOT_FOUND",
        "Invalid authorization token",
    );
    let buy = authorized_for(&mut s, "buy", "pay_later");
    let r = issue(&mut s, &buy, json!({}));
    assert_eq!(
        (r.status, r.error_code().as_deref()),
        (400, Some("BAD_VALUE")),
        "{r:?}"
    );
    refused(
        &issue(&mut s, &buy, token_body()),
        403,
        "INVALID_OPERATION",
        "Not allowed to create customer token for intent buy",
    );
    let tokenize = authorized_for(&mut s, "tokenize", "pay_later");
    let mut at = token_body();
    at["purchase_country"] = json!("AT");
    at["locale"] = json!("de-AT");
    refused(
        &issue(&mut s, &tokenize, at),
        400,
        "BAD_VALUE",
        "Bad value: purchase_country",
    );
    // A refused request issues nothing: the right body still gets a token.
    assert_eq!(issue(&mut s, &tokenize, token_body()).status, 200);
}

/// The spec's other required fields are warnings in Playground fidelity
/// (docs/klarna.md §13.6), refused in Documented fidelity.
#[test]
fn only_description_and_intended_use_are_required_by_the_playground() {
    let minimal = json!({"description": "d", "intended_use": "SUBSCRIPTION"});
    let mut s = faithful();
    let token = authorized_for(&mut s, "tokenize", "pay_later");
    let r = issue(&mut s, &token, minimal.clone());
    assert_eq!(r.status, 200, "{r:?}");
    let mut strict = state(MockConfig::default().strict(true));
    let token = authorized_for(&mut strict, "tokenize", "pay_later");
    let r = issue(&mut strict, &token, minimal);
    assert_eq!(
        (r.status, r.error_code().as_deref()),
        (400, Some("BAD_VALUE")),
        "{r:?}"
    );
}

/// `buy_and_tokenize` allows both, in either order; `tokenize` refuses
/// the order after its customer token.
#[test]
fn buy_and_tokenize_allows_order_and_token() {
    let mut s = faithful();
    let token = authorized_for(&mut s, "buy_and_tokenize", "pay_later");
    let mut o = order_body();
    o["intent"] = json!("buy_and_tokenize");
    let placed = order(&mut s, &token, o.clone(), T0);
    assert_eq!(placed.status, 200, "{placed:?}");
    assert_eq!(issue(&mut s, &token, token_body()).status, 200);
    let token = authorized_for(&mut s, "buy_and_tokenize", "pay_later");
    assert_eq!(issue(&mut s, &token, token_body()).status, 200);
    assert_eq!(order(&mut s, &token, o, T0).status, 200);
}

#[test]
fn the_customer_token_api_reads_and_cancels() {
    let mut s = faithful();
    let id = customer_token(&mut s);
    assert_eq!(
        read_token(&mut s, &id).json(),
        json!({"payment_method_type": "INVOICE", "status": "ACTIVE"})
    );
    for bad in [json!({}), json!({"status": "ACTIVE"}), json!({"status": 1})] {
        refused(
            &set_status(&mut s, &id, bad),
            400,
            "BAD_VALUE",
            "Bad value: status",
        );
    }
    for _ in 0..2 {
        let r = set_status(&mut s, &id, json!({"status": "CANCELLED"}));
        assert_eq!((r.status, &r.body), (202, &None), "{r:?}");
    }
    assert_eq!(read_token(&mut s, &id).json()["status"], "CANCELLED");
    // The authorized method's type in upper case.
    let token = authorized_for(&mut s, "tokenize", "pay_over_time");
    let r = issue(&mut s, &token, token_body());
    let other = r.json()["token_id"].as_str().unwrap().to_owned();
    assert_eq!(
        read_token(&mut s, &other).json()["payment_method_type"],
        "FIXED_AMOUNT"
    );
}

#[test]
fn unknown_customer_tokens_are_token_not_found() {
    let mut s = faithful();
    for id in ["nope", "00000000-0000-4000-8000-000000000000"] {
        for r in [
            read_token(&mut s, id),
            set_status(&mut s, id, json!({"status": "CANCELLED"})),
            token_order(&mut s, id, order_body(), Some("k")),
        ] {
            refused(&r, 404, "TOKEN_NOT_FOUND", "Customer token not found");
        }
    }
}

#[test]
fn a_customer_token_places_orders() {
    let mut s = faithful();
    let id = customer_token(&mut s);
    let mut body = session_body();
    body["merchant_reference1"] = json!("SUB-1");
    let r = token_order(&mut s, &id, body.clone(), None);
    assert_eq!(r.status, 200, "{r:?}");
    let answer = r.json();
    let mut keys: Vec<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["authorized_payment_method", "fraud_status", "order_id"]
    );
    assert_eq!(answer["fraud_status"], "ACCEPTED");
    assert_eq!(
        answer["authorized_payment_method"],
        json!({"type": "invoice"})
    );
    let order_id = answer["order_id"].as_str().unwrap().to_owned();
    let dto = read_at(&mut s, &order_id, T0);
    assert_eq!(dto["status"], "AUTHORIZED");
    assert_eq!(dto["merchant_reference1"], "SUB-1");
    // The token's billing address and customer fill in what the order lacks.
    assert_eq!(dto["billing_address"], billing("customer@email.de"));
    assert_eq!(dto["shipping_address"], billing("customer@email.de"));
    assert_eq!(
        dto["customer"],
        json!({"date_of_birth": "1970-07-10", "type": "person"})
    );
    // The same body twice without a key: two orders.
    let second = token_order(&mut s, &id, body.clone(), None);
    assert_ne!(second.json()["order_id"], answer["order_id"]);
    // The same key: the first order again, whatever the body.
    let keyed = token_order(&mut s, &id, body.clone(), Some("sub-2026-01"));
    for again_body in [body.clone(), json!({})] {
        let again = token_order(&mut s, &id, again_body, Some("sub-2026-01"));
        assert_eq!((again.status, &again.body), (200, &keyed.body));
    }
    let other_key = token_order(&mut s, &id, body, Some("sub-2026-02"));
    assert_ne!(other_key.json()["order_id"], keyed.json()["order_id"]);
    assert_eq!(s.order_count(), 4);
}

#[test]
fn token_orders_are_validated_then_refused_when_cancelled() {
    let mut s = faithful();
    let id = customer_token(&mut s);
    let kept = token_order(&mut s, &id, session_body(), Some("k"));
    assert_eq!(kept.status, 200);
    let mut bad = session_body();
    bad["order_amount"] = json!(1);
    let r = token_order(&mut s, &id, bad.clone(), None);
    refused(&r, 400, "BAD_VALUE", "Bad value: order_amount");
    set_status(&mut s, &id, json!({"status": "CANCELLED"}));
    // Validation still comes first.
    let r = token_order(&mut s, &id, bad, None);
    assert_eq!(r.status, 400, "{r:?}");
    refused(
        &token_order(&mut s, &id, session_body(), None),
        403,
        "INVALID_OPERATION",
        "Customer token is not active",
    );
    // A stored key still answers its order.
    let again = token_order(&mut s, &id, session_body(), Some("k"));
    assert_eq!((again.status, &again.body), (200, &kept.body));
}

#[test]
fn customer_tokens_are_forgotten_after_365_days() {
    let mut s = faithful();
    let id = customer_token(&mut s);
    assert_eq!(s.customer_token_count(), 1);
    s.handle(
        MockRequest::ListNotifications { ids: Vec::new() },
        T0 + ORDER_MEMORY,
    );
    assert_eq!(s.customer_token_count(), 0);
    refused(
        &read_token(&mut s, &id),
        404,
        "TOKEN_NOT_FOUND",
        "Customer token not found",
    );
}
