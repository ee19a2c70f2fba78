//! The store without a socket: every rule at the state-machine level,
//! and one scenario per defect mode showing that it changes the answer.

use serde_json::{Value, json};

use super::*;
use crate::mock::clock::DEFAULT_START;

const T0: i64 = DEFAULT_START;

fn state(config: MockConfig) -> MockState {
    MockState::new(&config.seed(7))
}

fn faithful() -> MockState {
    state(MockConfig::default())
}

/// A valid German session: one line, 19 % VAT (docs/klarna.md §3.1 arithmetic).
fn session_body() -> Value {
    json!({
        "purchase_country": "DE",
        "purchase_currency": "EUR",
        "locale": "de-DE",
        "order_amount": 11900,
        "order_tax_amount": 1900,
        "order_lines": [{
            "type": "physical",
            "reference": "SKU-1",
            "name": "Jacket",
            "quantity": 1,
            "unit_price": 11900,
            "tax_rate": 1900,
            "total_amount": 11900,
            "total_tax_amount": 1900
        }]
    })
}

fn billing(email: &str) -> Value {
    json!({
        "given_name": "Mock",
        "family_name": "Mock",
        "email": email,
        "street_address": "Neue Schönhauser Str. 2",
        "postal_code": "10178",
        "city": "Berlin",
        "phone": "+49017614284340",
        "country": "DE"
    })
}

/// The session body with a billing address: what the order repeats.
fn order_body() -> Value {
    let mut b = session_body();
    b["billing_address"] = billing("customer@email.de");
    b
}

fn create(s: &mut MockState, body: Value) -> String {
    let r = s.handle(MockRequest::CreateSession { body }, T0);
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["session_id"].as_str().unwrap().to_owned()
}

fn authorize_with(s: &mut MockState, session_id: &str, body: Value, now: i64) -> MockReply {
    s.handle(
        MockRequest::Authorize {
            session_id: session_id.to_owned(),
            body: Some(body),
        },
        now,
    )
}

/// A session authorized for `customer@email.de`; returns (session_id, token).
fn authorized(s: &mut MockState, body: Value) -> (String, String) {
    let id = create(s, body);
    let r = authorize_with(
        s,
        &id,
        json!({"billing_address": billing("customer@email.de")}),
        T0,
    );
    assert_eq!(&r.json()["approved"], true, "{r:?}");
    let token = r.json()["authorization_token"].as_str().unwrap().to_owned();
    (id, token)
}

fn order(s: &mut MockState, token: &str, body: Value, now: i64) -> MockReply {
    s.handle(
        MockRequest::CreateOrder {
            authorization_token: token.to_owned(),
            body,
        },
        now,
    )
}

fn refused(r: &MockReply, status: u16, code: &str, message: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(r.error_code().as_deref(), Some(code), "{r:?}");
    assert_eq!(r.error_messages(), vec![message], "{r:?}");
    assert_eq!(&r.json()["correlation_id"], r.correlation_id.as_str());
}

fn three_lines() -> Value {
    let mut b = order_body();
    let lines = b["order_lines"].as_array_mut().unwrap();
    lines.push(
        json!({"name": "Socks", "quantity": 2, "unit_price": 1190, "tax_rate": 1900,
        "total_amount": 2380, "total_tax_amount": 380}),
    );
    lines.push(
        json!({"name": "Hat", "quantity": 1, "unit_price": 1190, "tax_rate": 1900,
        "total_amount": 1190, "total_tax_amount": 190}),
    );
    b["order_amount"] = json!(15470);
    b["order_tax_amount"] = json!(2470);
    b
}

fn two_lines() -> Value {
    let mut b = three_lines();
    b["order_lines"].as_array_mut().unwrap().pop();
    b["order_amount"] = json!(14280);
    b["order_tax_amount"] = json!(2280);
    b
}

#[test]
fn create_and_read_a_session() {
    let mut s = faithful();
    let r = s.handle(
        MockRequest::CreateSession {
            body: session_body(),
        },
        T0,
    );
    assert_eq!(r.status, 200);
    let body = r.json();
    let id = body["session_id"].as_str().unwrap();
    assert!(parse_id(id).is_some());
    let token = body["client_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .unwrap();
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["session_id"], id);
    let ids: Vec<&str> = body["payment_method_categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pay_later", "pay_over_time", "pay_now"]);

    let read = s.handle(
        MockRequest::ReadSession {
            session_id: id.into(),
        },
        T0 + 10,
    );
    let view = read.json();
    assert_eq!(view["status"], "incomplete");
    assert_eq!(view["expires_at"], "2026-01-03T00:00:00Z");
    assert_eq!(view["client_token"], token);
    assert_eq!(view["order_amount"], 11900);
    assert!(view.get("authorization_token").is_none());
    let unknown = s.handle(
        MockRequest::ReadSession {
            session_id: "nope".into(),
        },
        T0,
    );
    refused(&unknown, 404, "NOT_FOUND", "Invalid session id");
}

#[test]
fn customer_details_only_after_authorization() {
    let mut s = faithful();
    let mut body = session_body();
    body["billing_address"] = billing("customer@email.de");
    body["customer"] =
        json!({"date_of_birth": "1970-07-10", "national_identification_number": "X1"});
    let id = create(&mut s, body);
    let read = |s: &mut MockState| {
        s.handle(
            MockRequest::ReadSession {
                session_id: id.clone(),
            },
            T0,
        )
        .json()
    };
    let before = read(&mut s);
    assert!(before.get("billing_address").is_none() && before.get("customer").is_none());
    let r = authorize_with(&mut s, &id, json!({}), T0);
    let token = r.json()["authorization_token"].clone();
    let after = read(&mut s);
    assert_eq!(after["authorization_token"], token);
    assert_eq!(after["billing_address"]["postal_code"], "10178");
    // Reference 2.3: the shipping address is a copy of the billing address.
    assert_eq!(after["shipping_address"], after["billing_address"]);
    assert_eq!(after["customer"], json!({"date_of_birth": "1970-07-10"}));
}

#[test]
fn update_merges_and_answers_204() {
    let mut s = faithful();
    let id = create(&mut s, session_body());
    let update = json!({"merchant_reference1": "ON4711"});
    let r = s.handle(
        MockRequest::UpdateSession {
            session_id: id.clone(),
            body: update,
        },
        T0 + 100,
    );
    assert_eq!((r.status, r.body), (204, None));
    let view = s
        .handle(MockRequest::ReadSession { session_id: id }, T0 + 100)
        .json();
    assert_eq!(view["merchant_reference1"], "ON4711");
    assert_eq!(view["order_amount"], 11900);
    assert_eq!(view["expires_at"], "2026-01-03T00:01:40Z");
}

#[test]
fn sessions_expire_48_hours_after_their_last_update_and_are_evicted() {
    let mut s = faithful();
    let id = create(&mut s, session_body());
    let read = |s: &mut MockState, now| {
        s.handle(
            MockRequest::ReadSession {
                session_id: id.clone(),
            },
            now,
        )
    };
    assert_eq!(read(&mut s, T0 + SESSION_LIFETIME - 1).status, 200);
    refused(
        &read(&mut s, T0 + SESSION_LIFETIME),
        404,
        "NOT_FOUND",
        "Invalid session id",
    );
    assert_eq!(s.session_count(), 0);
    // The sweep evicts sessions nobody asks for again.
    for _ in 0..3 {
        create(&mut s, session_body());
    }
    assert_eq!(s.session_count(), 3);
    s.handle(
        MockRequest::ReadOrder {
            order_id: "x".into(),
        },
        T0 + 3 * SESSION_LIFETIME,
    );
    assert_eq!(s.session_count(), 0);
}

#[test]
fn tokens_are_evicted_after_an_hour() {
    let mut s = faithful();
    authorized(&mut s, session_body());
    assert_eq!(s.authorization_count(), 1);
    s.handle(
        MockRequest::ReadOrder {
            order_id: "x".into(),
        },
        T0 + TOKEN_LIFETIME,
    );
    assert_eq!(s.authorization_count(), 0);
}

#[test]
fn denied_emails_are_declined() {
    // reject_reason e-mails: review.rs (only US and CA).
    for email in [
        "customer+denied@email.de",
        "customer+denied+auth_id_scan@email.de",
    ] {
        let mut s = faithful();
        let id = create(&mut s, session_body());
        let r = authorize_with(&mut s, &id, json!({"billing_address": billing(email)}), T0);
        assert_eq!(r.json(), json!({"approved": false, "show_form": false}));
        let view = s
            .handle(MockRequest::ReadSession { session_id: id }, T0)
            .json();
        assert!(view.get("authorization_token").is_none());
    }
}

#[test]
fn authorize_refuses_unknown_sessions_and_categories() {
    let mut s = faithful();
    refused(
        &authorize_with(&mut s, "nope", json!({}), T0),
        404,
        "NOT_FOUND",
        "Invalid session id",
    );
    let id = create(&mut s, session_body());
    let r = authorize_with(
        &mut s,
        &id,
        json!({"payment_method_category": "klarna"}),
        T0,
    );
    refused(&r, 400, "BAD_VALUE", "Bad value: payment_method_category");
}

/// `two_lines()` plus a free gift: three lines, same amounts.
fn two_lines_and_a_gift() -> Value {
    let mut b = two_lines();
    b["order_lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "Gift", "quantity": 1,
        "unit_price": 0, "tax_rate": 1900, "total_amount": 0, "total_tax_amount": 0}));
    b
}

fn placed(s: &mut MockState, auto_capture: bool) -> String {
    let (_, token) = authorized(s, session_body());
    let mut o = order_body();
    o["auto_capture"] = json!(auto_capture);
    let r = order(s, &token, o, T0);
    r.json()["order_id"].as_str().unwrap().to_owned()
}

/// A valid British session (pending e-mails work in GB): one line, no tax.
fn gb_session() -> Value {
    json!({
        "purchase_country": "GB", "purchase_currency": "GBP", "locale": "en-GB",
        "order_amount": 12000, "order_tax_amount": 2000,
        "order_lines": [{"name": "Kettle", "quantity": 1, "unit_price": 12000, "tax_rate": 2000,
            "total_amount": 12000, "total_tax_amount": 2000}]
    })
}

/// Creates `session`, authorizes it for `email` and places the order that
/// repeats the session; returns the create-order answer.
fn order_for_email(s: &mut MockState, session: Value, email: &str) -> MockReply {
    let id = create(s, session.clone());
    let r = authorize_with(s, &id, json!({"billing_address": {"email": email}}), T0);
    let token = r.json()["authorization_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{email} not approved: {r:?}"))
        .to_owned();
    order(s, &token, session, T0)
}

fn read_session(s: &mut MockState, id: &str, now: i64) -> MockReply {
    s.handle(
        MockRequest::ReadSession {
            session_id: id.to_owned(),
        },
        now,
    )
}

fn update_session(s: &mut MockState, id: &str, body: Value, now: i64) -> MockReply {
    s.handle(
        MockRequest::UpdateSession {
            session_id: id.to_owned(),
            body,
        },
        now,
    )
}

fn read_order(s: &mut MockState, order_id: &str) -> MockReply {
    s.handle(
        MockRequest::ReadOrder {
            order_id: order_id.to_owned(),
        },
        T0,
    )
}

/// Where the store's tests say requests were sent.
const BASE: &str = "http://localhost";

/// A capture request without an idempotency key.
fn capture_request(order_id: &str, body: Value) -> MockRequest {
    MockRequest::Capture {
        order_id: order_id.to_owned(),
        body,
        idempotency_key: None,
        base_url: BASE.to_owned(),
    }
}

fn capture(s: &mut MockState, order_id: &str, amount: i64) -> MockReply {
    s.handle(
        capture_request(order_id, json!({"captured_amount": amount})),
        T0,
    )
}

fn header<'a>(r: &'a MockReply, name: &str) -> Option<&'a str> {
    r.header(name)
}

mod captures;
mod customer_tokens;
mod defects;
mod defects_http;
mod defects_om;
mod defects_orders;
mod defects_sessions;
mod lifecycle;
mod lifecycle_defects;
mod notifications;
mod orders;
mod precedence;
mod review;
