//! The store without a socket: every rule of issue 3 at the state-machine level,
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

/// A valid German session: one line, 19 % VAT (reference 3.1 arithmetic).
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
    r.body.unwrap()["session_id"].as_str().unwrap().to_owned()
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
    assert_eq!(r.body.as_ref().unwrap()["approved"], true, "{r:?}");
    let token = r.body.unwrap()["authorization_token"]
        .as_str()
        .unwrap()
        .to_owned();
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
    assert_eq!(r.error_code(), Some(code), "{r:?}");
    assert_eq!(r.error_messages(), vec![message], "{r:?}");
    assert_eq!(
        r.body.as_ref().unwrap()["correlation_id"],
        r.correlation_id.as_str()
    );
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
    let body = r.body.unwrap();
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
    let view = read.body.unwrap();
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
        .body
        .unwrap()
    };
    let before = read(&mut s);
    assert!(before.get("billing_address").is_none() && before.get("customer").is_none());
    let r = authorize_with(&mut s, &id, json!({}), T0);
    let token = r.body.unwrap()["authorization_token"].clone();
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
        .body
        .unwrap();
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
fn denied_and_reject_reason_emails_are_declined() {
    for email in [
        "customer+denied@email.de",
        "customer+reject_reason_high_risk@email.us",
    ] {
        let mut s = faithful();
        let id = create(&mut s, session_body());
        let r = authorize_with(&mut s, &id, json!({"billing_address": billing(email)}), T0);
        assert_eq!(
            r.body.unwrap(),
            json!({"approved": false, "show_form": false})
        );
        let view = s
            .handle(MockRequest::ReadSession { session_id: id }, T0)
            .body
            .unwrap();
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

#[test]
fn order_success_completes_the_session() {
    let mut s = faithful();
    let (id, token) = authorized(&mut s, session_body());
    let r = order(&mut s, &token, order_body(), T0 + 60);
    assert_eq!(r.status, 200, "{r:?}");
    let body = r.body.unwrap();
    assert!(parse_id(body["order_id"].as_str().unwrap()).is_some());
    assert_eq!(body["fraud_status"], "ACCEPTED");
    assert_eq!(
        body["authorized_payment_method"],
        json!({"type": "invoice", "number_of_days": 30})
    );
    assert!(body.get("redirect_url").is_none());
    let view = s
        .handle(
            MockRequest::ReadSession {
                session_id: id.clone(),
            },
            T0,
        )
        .body
        .unwrap();
    assert_eq!(view["status"], "complete");
    let update = s.handle(
        MockRequest::UpdateSession {
            session_id: id.clone(),
            body: session_body(),
        },
        T0,
    );
    refused(
        &update,
        404,
        "SESSION_COMPLETED",
        "Session has already been completed",
    );
    let again = authorize_with(&mut s, &id, json!({}), T0);
    refused(
        &again,
        404,
        "SESSION_COMPLETED",
        "Session has already been completed",
    );
}

#[test]
fn chosen_category_gives_the_payment_method() {
    for (category, expected) in [
        (
            "pay_over_time",
            json!({"type": "fixed_amount", "number_of_installments": 3}),
        ),
        ("pay_now", json!({"type": "direct_debit"})),
    ] {
        let mut s = faithful();
        let id = create(&mut s, session_body());
        let auth = json!({"billing_address": billing("customer@email.de"), "payment_method_category": category});
        let token = authorize_with(&mut s, &id, auth, T0).body.unwrap()["authorization_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = order(&mut s, &token, order_body(), T0);
        assert_eq!(r.body.unwrap()["authorized_payment_method"], expected);
    }
}

#[test]
fn redirect_url_exactly_when_confirmation_given() {
    let mut s = faithful();
    let mut body = session_body();
    body["merchant_urls"] = json!({"confirmation": "https://shop.example/thanks"});
    let (_, token) = authorized(&mut s, body);
    let r = order(&mut s, &token, order_body(), T0);
    let url = r.body.unwrap()["redirect_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://payments.klarna.com/redirect/"));
    // Given only in the order body.
    let (_, token) = authorized(&mut s, session_body());
    let mut o = order_body();
    o["merchant_urls"] = json!({"confirmation": "https://shop.example/thanks"});
    assert!(
        order(&mut s, &token, o, T0)
            .body
            .unwrap()
            .get("redirect_url")
            .is_some()
    );
}

#[test]
fn pending_only_in_us_and_gb() {
    let gb = json!({
        "purchase_country": "GB", "purchase_currency": "GBP", "locale": "en-GB",
        "order_amount": 12000, "order_tax_amount": 2000,
        "order_lines": [{"name": "Kettle", "quantity": 1, "unit_price": 12000, "tax_rate": 2000,
            "total_amount": 12000, "total_tax_amount": 2000}]
    });
    for (body, email, expected) in [
        (gb.clone(), "customer+pend-accept-05@email.uk", "PENDING"),
        (gb, "customer@email.uk", "ACCEPTED"),
        (
            session_body(),
            "customer+pend-accept-05@email.de",
            "ACCEPTED",
        ),
    ] {
        let mut s = faithful();
        let id = create(&mut s, body.clone());
        let token = authorize_with(
            &mut s,
            &id,
            json!({"billing_address": {"email": email}}),
            T0,
        )
        .body
        .unwrap()["authorization_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = order(&mut s, &token, body, T0);
        assert_eq!(r.body.unwrap()["fraud_status"], expected, "{email}");
    }
}

#[test]
fn token_valid_for_3599_seconds_not_3600() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    refused(
        &order(&mut s, &token, order_body(), T0 + 3600),
        404,
        "NOT_FOUND",
        "Invalid authorization token",
    );
    let (_, token) = authorized(&mut s, session_body());
    assert_eq!(order(&mut s, &token, order_body(), T0 + 3599).status, 200);
}

#[test]
fn replaced_and_cancelled_tokens_are_not_found() {
    let mut s = faithful();
    let (id, old) = authorized(&mut s, session_body());
    let new = authorize_with(&mut s, &id, json!({}), T0).body.unwrap()["authorization_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(old, new);
    refused(
        &order(&mut s, &old, order_body(), T0),
        404,
        "NOT_FOUND",
        "Invalid authorization token",
    );
    let cancel = |s: &mut MockState, t: &str| {
        s.handle(
            MockRequest::CancelAuthorization {
                authorization_token: t.into(),
            },
            T0,
        )
    };
    let r = cancel(&mut s, &new);
    assert_eq!((r.status, r.body), (204, None));
    refused(
        &order(&mut s, &new, order_body(), T0),
        404,
        "NOT_FOUND",
        "Invalid authorization token",
    );
    refused(
        &cancel(&mut s, &new),
        404,
        "NOT_FOUND",
        "Invalid authorization token",
    );
    refused(
        &cancel(&mut s, "unknown"),
        404,
        "NOT_FOUND",
        "Invalid authorization token",
    );
    let (_, used) = authorized(&mut s, session_body());
    assert_eq!(order(&mut s, &used, order_body(), T0).status, 200);
    refused(
        &cancel(&mut s, &used),
        403,
        "INVALID_OPERATION",
        "Authorization token already consumed",
    );
}

#[test]
fn changed_postal_code_is_409() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    let mut o = order_body();
    o["billing_address"]["postal_code"] = json!("10179");
    refused(
        &order(&mut s, &token, o, T0),
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.postal_code]",
    );
}

#[test]
fn every_differing_path_in_order() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    let mut o = order_body();
    o["billing_address"]["postal_code"] = json!("10 178");
    o["billing_address"]["city"] = json!("BERLIN");
    o["shipping_address"] = billing("customer@email.de");
    o["shipping_address"]["street_address"] = json!("Other St 1");
    o["shipping_address"]["region"] = json!("BE");
    o["order_lines"][0]["name"] = json!("Coat");
    o["order_lines"][0]["product_identifiers"] = json!({"brand": "X"});
    o["locale"] = json!("DE-de");
    o["customer"] = json!({"date_of_birth": "1970-07-10"});
    let expected = "Not matching fields: [billing_address.city, billing_address.postal_code, \
        shipping_address.region, shipping_address.street_address, order_lines[0].name, \
        order_lines[0].product_identifiers, customer.date_of_birth]";
    refused(&order(&mut s, &token, o, T0), 409, "BAD_VALUE", expected);
}

#[test]
fn empty_or_missing_customer_matches() {
    let mut s = faithful();
    let mut body = session_body();
    body["customer"] = json!({"date_of_birth": "1970-07-10"});
    let (_, token) = authorized(&mut s, body);
    let mut o = order_body();
    o["customer"] = json!({});
    assert_eq!(order(&mut s, &token, o, T0).status, 200);
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

#[test]
fn changed_item_count_has_its_own_message() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, two_lines());
    let r = order(&mut s, &token, two_lines_and_a_gift(), T0);
    refused(
        &r,
        409,
        "BAD_VALUE",
        "Not matching fields: [Incorrect number of items in the cart. Expected: 2, Actual: 3]",
    );
}

#[test]
fn identical_retry_same_order_conflicting_retry_409() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    let first = order(&mut s, &token, order_body(), T0);
    // Key order does not matter: the parsed values are compared.
    let reordered: Value = serde_json::from_str(&{
        let mut pairs: Vec<(String, Value)> = order_body()
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .collect();
        pairs.reverse();
        let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
        format!("{{{}}}", inner.join(","))
    })
    .unwrap();
    let second = order(&mut s, &token, reordered, T0 + 5);
    assert_eq!((second.status, &second.body), (200, &first.body));
    assert_ne!(second.correlation_id, first.correlation_id);
    let mut other = order_body();
    other["merchant_reference1"] = json!("changed");
    let r = order(&mut s, &token, other, T0);
    refused(
        &r,
        409,
        "BAD_VALUE",
        "The order has been already completed with different request body",
    );
    assert_eq!(s.order_count(), 1);
}

#[test]
fn errors_stick_to_the_token_in_playground_only() {
    for (fidelity, fixed_status) in [(Fidelity::Playground, 409), (Fidelity::Documented, 200)] {
        let mut s = state(MockConfig::default().fidelity(fidelity));
        let (_, token) = authorized(&mut s, session_body());
        let mut bad = order_body();
        bad["billing_address"]["postal_code"] = json!("10179");
        let first = order(&mut s, &token, bad, T0);
        let fixed = order(&mut s, &token, order_body(), T0);
        assert_eq!(fixed.status, fixed_status, "{fidelity:?}");
        if fixed_status == 409 {
            assert_eq!(fixed.error_messages(), first.error_messages());
            assert_ne!(fixed.correlation_id, first.correlation_id);
        }
    }
}

#[test]
fn cart_updates_allowed_accepts_cheaper_carts_rejects_dearer() {
    let config = MockConfig::default().allow_cart_updates(true);
    let mut s = state(config.clone());
    let (_, token) = authorized(&mut s, two_lines());
    let mut cheaper = order_body();
    cheaper["billing_address"] = billing("customer@email.de");
    assert_eq!(order(&mut s, &token, cheaper, T0).status, 200);

    let mut s = state(config.clone());
    let (_, token) = authorized(&mut s, two_lines());
    refused(
        &order(&mut s, &token, three_lines(), T0),
        403,
        "REJECTED",
        "Rejected",
    );

    let mut s = state(config);
    let (_, token) = authorized(&mut s, two_lines());
    let mut moved = order_body();
    moved["billing_address"]["city"] = json!("Bonn");
    refused(
        &order(&mut s, &token, moved, T0),
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.city]",
    );
}

fn customer_token(s: &mut MockState, token: &str, country: &str) -> MockReply {
    let body = json!({"description": "Subscription", "intended_use": "SUBSCRIPTION",
        "locale": "de-DE", "purchase_country": country, "purchase_currency": "EUR"});
    s.handle(
        MockRequest::CreateCustomerToken {
            authorization_token: token.into(),
            body,
        },
        T0,
    )
}

#[test]
fn customer_tokens_follow_the_intent() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    refused(
        &customer_token(&mut s, &token, "DE"),
        403,
        "INVALID_OPERATION",
        "Not allowed to create customer tokens for intent buy",
    );
    for intent in ["tokenize", "buy_and_tokenize"] {
        let mut body = session_body();
        body["intent"] = json!(intent);
        let (_, token) = authorized(&mut s, body);
        refused(
            &customer_token(&mut s, &token, "AT"),
            400,
            "BAD_VALUE",
            "Bad value: purchase_country",
        );
        let r = customer_token(&mut s, &token, "DE");
        assert_eq!(r.status, 200, "{r:?}");
        assert!(parse_id(r.body.unwrap()["token_id"].as_str().unwrap()).is_some());
        refused(
            &customer_token(&mut s, &token, "DE"),
            403,
            "INVALID_OPERATION",
            "Authorization token already consumed",
        );
    }
}

fn placed(s: &mut MockState, auto_capture: bool) -> String {
    let (_, token) = authorized(s, session_body());
    let mut o = order_body();
    o["auto_capture"] = json!(auto_capture);
    let r = order(s, &token, o, T0);
    r.body.unwrap()["order_id"].as_str().unwrap().to_owned()
}

#[test]
fn order_management_reads_and_captures() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let read = |s: &mut MockState| {
        s.handle(
            MockRequest::ReadOrder {
                order_id: id.clone(),
            },
            T0,
        )
        .body
        .unwrap()
    };
    let dto = read(&mut s);
    assert_eq!(dto["status"], "AUTHORIZED");
    assert_eq!(dto["order_amount"], 11900);
    assert_eq!(dto["remaining_authorized_amount"], 11900);
    assert_eq!(dto["fraud_status"], "ACCEPTED");
    assert_eq!(dto["expires_at"], "2026-01-29T00:00:00Z");
    assert_eq!(dto["billing_address"]["postal_code"], "10178");
    assert_eq!(dto["klarna_reference"].as_str().unwrap().len(), 7);
    let capture = |s: &mut MockState, amount: i64| {
        s.handle(
            MockRequest::Capture {
                order_id: id.clone(),
                body: json!({"captured_amount": amount}),
            },
            T0,
        )
    };
    let r = capture(&mut s, 5000);
    assert_eq!((r.status, &r.body), (201, &None));
    let capture_id = &r
        .headers
        .iter()
        .find(|(k, _)| *k == "Capture-Id")
        .unwrap()
        .1;
    let location = &r.headers.iter().find(|(k, _)| *k == "Location").unwrap().1;
    assert!(location.ends_with(capture_id.as_str()));
    assert_eq!(read(&mut s)["status"], "PART_CAPTURED");
    refused(
        &capture(&mut s, 6901),
        403,
        "CAPTURE_NOT_ALLOWED",
        "Capture not allowed",
    );
    assert_eq!(capture(&mut s, 6900).status, 201);
    assert_eq!(read(&mut s)["status"], "CAPTURED");
    let unknown = s.handle(
        MockRequest::ReadOrder {
            order_id: "nope".into(),
        },
        T0,
    );
    refused(&unknown, 404, "NO_SUCH_ORDER", "Order nope cannot be found");

    let auto = placed(&mut s, true);
    let dto = s
        .handle(MockRequest::ReadOrder { order_id: auto }, T0)
        .body
        .unwrap();
    assert_eq!(
        (dto["status"].as_str(), dto["captured_amount"].as_i64()),
        (Some("CAPTURED"), Some(11900))
    );
}

#[test]
fn same_seed_same_answers() {
    let run = || {
        let mut s = faithful();
        let (id, token) = authorized(&mut s, session_body());
        let o = order(&mut s, &token, order_body(), T0);
        let read = s.handle(MockRequest::ReadSession { session_id: id }, T0);
        (token, o, read)
    };
    assert_eq!(run(), run());
}

/// Runs `scenario` on a faithful mock and on one with `defect`; returns both last answers.
fn both(defect: Defect, scenario: impl Fn(&mut MockState) -> MockReply) -> (MockReply, MockReply) {
    let good = scenario(&mut faithful());
    let bad = scenario(&mut state(MockConfig::default().defect(defect)));
    (good, bad)
}

fn order_after(
    s: &mut MockState,
    session: Value,
    change: impl Fn(&mut Value),
    now: i64,
) -> MockReply {
    let (_, token) = authorized(s, session);
    let mut o = order_body();
    change(&mut o);
    order(s, &token, o, now)
}

#[test]
fn every_defect_changes_an_answer() {
    let placed_order = |s: &mut MockState| order_after(s, session_body(), |_| {}, T0);
    for defect in Defect::ALL.iter().copied() {
        let (good, bad) = match defect {
            Defect::AcceptExpiredTokens => both(defect, |s| {
                order_after(s, session_body(), |_| {}, T0 + 7200)
            }),
            Defect::ExpireOneSecondLate => both(defect, |s| {
                order_after(s, session_body(), |_| {}, T0 + 3600)
            }),
            Defect::AcceptCancelledTokens => both(defect, |s| {
                let (_, token) = authorized(s, session_body());
                s.handle(
                    MockRequest::CancelAuthorization {
                        authorization_token: token.clone(),
                    },
                    T0,
                );
                order(s, &token, order_body(), T0)
            }),
            Defect::AcceptReplacedTokens => both(defect, |s| {
                let (id, token) = authorized(s, session_body());
                authorize_with(s, &id, json!({}), T0);
                order(s, &token, order_body(), T0)
            }),
            Defect::DropOrderId
            | Defect::DropFraudStatus
            | Defect::DropAuthorizedPaymentMethod
            | Defect::AlwaysRedirectUrl
            | Defect::NumericOrderId
            | Defect::MismatchedCorrelationId => both(defect, |s| {
                if defect == Defect::MismatchedCorrelationId {
                    return order(s, "unknown", order_body(), T0);
                }
                placed_order(s)
            }),
            Defect::NeverPending => both(defect, |s| {
                let gb = json!({"purchase_country": "GB", "purchase_currency": "GBP", "locale": "en-GB",
                    "order_amount": 100, "order_tax_amount": 0,
                    "order_lines": [{"name": "Pen", "quantity": 1, "unit_price": 100, "tax_rate": 0,
                        "total_amount": 100, "total_tax_amount": 0}]});
                let id = create(s, gb.clone());
                let token = authorize_with(
                    s,
                    &id,
                    json!({"billing_address": {"email": "a+pend-reject-10@email.uk"}}),
                    T0,
                )
                .body
                .unwrap()["authorization_token"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                order(s, &token, gb, T0)
            }),
            Defect::NeverRedirectUrl => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["merchant_urls"] = json!({"confirmation": "https://x.example"}),
                    T0,
                )
            }),
            Defect::IgnoreAddressChanges => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["billing_address"]["city"] = json!("Bonn"),
                    T0,
                )
            }),
            Defect::IgnoreCartChanges => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["order_lines"][0]["reference"] = json!("SKU-2"),
                    T0,
                )
            }),
            Defect::IgnoreAmountChanges => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["purchase_currency"] = json!("SEK"),
                    T0,
                )
            }),
            Defect::ReportFirstMismatchOnly => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| {
                        o["billing_address"]["city"] = json!("Bonn");
                        o["billing_address"]["postal_code"] = json!("53111");
                    },
                    T0,
                )
            }),
            Defect::NoItemCountMessage => both(defect, |s| {
                let (_, token) = authorized(s, two_lines());
                order(s, &token, two_lines_and_a_gift(), T0)
            }),
            Defect::RequireCustomerMatch => both(defect, |s| {
                let mut body = session_body();
                body["customer"] = json!({"gender": "female"});
                order_after(s, body, |_| {}, T0)
            }),
            Defect::NewOrderIdOnRetry => both(defect, |s| {
                let (_, token) = authorized(s, session_body());
                order(s, &token, order_body(), T0);
                order(s, &token, order_body(), T0)
            }),
            Defect::AcceptConflictingRetry => both(defect, |s| {
                let (_, token) = authorized(s, session_body());
                order(s, &token, order_body(), T0);
                let mut other = order_body();
                other["merchant_reference2"] = json!("x");
                order(s, &token, other, T0)
            }),
            Defect::SkipAmountValidation => both(defect, |s| {
                s.handle(MockRequest::CreateSession { body: json!({
                    "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
                    "order_amount": 999, "order_tax_amount": 1900,
                    "order_lines": [{"name": "Jacket", "quantity": 1, "unit_price": 11900, "tax_rate": 1900,
                        "total_amount": 11900, "total_tax_amount": 1900}]}) }, T0)
            }),
            Defect::ApproveDenied => both(defect, |s| {
                let id = create(s, session_body());
                authorize_with(
                    s,
                    &id,
                    json!({"billing_address": billing("customer+denied@email.de")}),
                    T0,
                )
            }),
            Defect::EmptyErrorMessages => both(defect, |s| order(s, "unknown", order_body(), T0)),
            Defect::OmWrongAmount | Defect::OmNeverCaptured => both(defect, |s| {
                let id = placed(s, true);
                s.handle(MockRequest::ReadOrder { order_id: id }, T0)
            }),
            Defect::WrongStatusForMismatch => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["billing_address"]["city"] = json!("Bonn"),
                    T0,
                )
            }),
        };
        assert_ne!(
            (good.status, &good.body),
            (bad.status, &bad.body),
            "{defect} changed nothing"
        );
        if defect == Defect::MismatchedCorrelationId {
            assert_ne!(
                bad.body.as_ref().unwrap()["correlation_id"],
                bad.correlation_id.as_str()
            );
        }
    }
}
