//! Create order, cancel, customer token and Order Management in the store.

use serde_json::{Value, json};

use super::*;

#[test]
fn order_success_completes_the_session() {
    let mut s = faithful();
    let (id, token) = authorized(&mut s, session_body());
    let r = order(&mut s, &token, order_body(), T0 + 60);
    assert_eq!(r.status, 200, "{r:?}");
    let body = r.json();
    assert!(parse_id(body["order_id"].as_str().unwrap()).is_some());
    assert_eq!(body["fraud_status"], "ACCEPTED");
    assert_eq!(
        body["authorized_payment_method"],
        json!({"type": "invoice"})
    );
    assert!(body.get("redirect_url").is_none());
    let view = s
        .handle(
            MockRequest::ReadSession {
                session_id: id.clone(),
            },
            T0,
        )
        .json();
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
        ("pay_over_time", json!({"type": "fixed_amount"})),
        ("pay_now", json!({"type": "direct_debit"})),
    ] {
        let mut s = faithful();
        let id = create(&mut s, session_body());
        let auth = json!({"billing_address": billing("customer@email.de"), "payment_method_category": category});
        let token = authorize_with(&mut s, &id, auth, T0).json()["authorization_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = order(&mut s, &token, order_body(), T0);
        assert_eq!(r.json()["authorized_payment_method"], expected);
    }
}

#[test]
fn redirect_url_exactly_when_confirmation_given() {
    let mut s = faithful();
    let mut body = session_body();
    body["merchant_urls"] = json!({"confirmation": "https://shop.example/thanks"});
    let (_, token) = authorized(&mut s, body);
    let r = order(&mut s, &token, order_body(), T0);
    let url = r.json()["redirect_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://payments.klarna.com/redirect/"));
    // Given only in the order body.
    let (_, token) = authorized(&mut s, session_body());
    let mut o = order_body();
    o["merchant_urls"] = json!({"confirmation": "https://shop.example/thanks"});
    assert!(
        order(&mut s, &token, o, T0)
            .json()
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
        .json()["authorization_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = order(&mut s, &token, body, T0);
        assert_eq!(r.json()["fraud_status"], expected, "{email}");
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
    let new = authorize_with(&mut s, &id, json!({}), T0).json()["authorization_token"]
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
        "locale": format!("de-{country}"), "purchase_country": country, "purchase_currency": "EUR"});
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
        "Not allowed to create customer token for intent buy",
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
        assert!(parse_id(r.json()["token_id"].as_str().unwrap()).is_some());
        // The identical request again: the same answer (docs/klarna.md §13.6).
        let again = customer_token(&mut s, &token, "DE");
        assert_eq!((again.status, &again.body), (200, &r.body));
        // Another body: consumed.
        let mut other = json!({"description": "Other", "intended_use": "SUBSCRIPTION",
            "locale": "de-DE", "purchase_country": "DE", "purchase_currency": "EUR"});
        let r = s.handle(
            MockRequest::CreateCustomerToken {
                authorization_token: token.clone(),
                body: other.take(),
            },
            T0,
        );
        refused(
            &r,
            403,
            "INVALID_OPERATION",
            "Authorization token already consumed",
        );
    }
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
        .json()
    };
    let dto = read(&mut s);
    assert_eq!(dto["status"], "AUTHORIZED");
    assert_eq!(dto["order_amount"], 11900);
    assert_eq!(dto["remaining_authorized_amount"], 11900);
    assert_eq!(dto["fraud_status"], "ACCEPTED");
    assert_eq!(dto["expires_at"], "2026-01-29T00:00:00Z");
    assert_eq!(dto["billing_address"]["postal_code"], "10178");
    assert_eq!(dto["klarna_reference"].as_str().unwrap().len(), 8);
    let capture = |s: &mut MockState, amount: i64| {
        s.handle(capture_request(&id, json!({"captured_amount": amount})), T0)
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
        "Captured amount is higher than the remaining authorized amount. Capture not possible.",
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
        .json();
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
