//! Create order, cancel and customer token over HTTP: every row of the seed
//! page's error table, the 3600 s boundary, retries, sticky errors, the order
//! of checks (docs/klarna.md §11.1), cart updates.

use crate::mock_common;

use klarna_conformance::mock::{Fidelity, MockConfig};
use mock_common::*;
use serde_json::{Value, json};

const INVALID_TOKEN: &[&str] = &["Invalid authorization token"];

#[tokio::test]
async fn an_order_that_matches_is_placed() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let a = mock.order(&token, &order_body()).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(uuid::Uuid::parse_str(&a.str("order_id")).is_ok());
    assert_eq!(a.json()["fraud_status"], "ACCEPTED");
    assert_eq!(
        a.json()["authorized_payment_method"],
        json!({"type": "invoice"})
    );
    assert!(a.json().get("redirect_url").is_none());
}

#[tokio::test]
async fn redirect_url_when_confirmation_was_given() {
    let mock = Mock::start().await;
    let mut session = session_body();
    session["merchant_urls"] = json!({"confirmation": "https://shop.example/done"});
    let (_, token) = mock.authorized(&session).await;
    let a = mock.order(&token, &order_body()).await;
    assert!(
        a.str("redirect_url")
            .starts_with("https://payments.klarna.com/redirect/")
    );
}

#[tokio::test]
async fn pending_email_in_the_uk_is_pending() {
    let mock = Mock::start().await;
    let gb = json!({
        "purchase_country": "GB", "purchase_currency": "GBP", "locale": "en-GB",
        "order_amount": 12000, "order_tax_amount": 2000,
        "order_lines": [{"type": "physical", "name": "Kettle", "quantity": 1, "unit_price": 12000,
            "tax_rate": 2000, "total_amount": 12000, "total_tax_amount": 2000}]
    });
    let id = mock.create_session(&gb).await;
    let email = "customer+pend-accept-05@email.uk";
    let a = mock
        .authorize(
            &id,
            &json!({"billing_address": {"given_name": "Test", "family_name": "Person-uk",
            "email": email, "street_address": "10 New Burlington Street", "postal_code": "W1S 3BE",
            "city": "London", "phone": "+447755564318", "country": "GB"}}),
        )
        .await;
    let a = mock.order(&a.str("authorization_token"), &gb).await;
    assert_eq!(a.json()["fraud_status"], "PENDING", "{a:?}");
}

// Seed page row 1: NOT_FOUND "Invalid authorization token" after 60 minutes.
#[tokio::test]
async fn token_expires_at_3600_seconds() {
    let mock = Mock::start().await;
    let (_, late) = mock.authorized(&session_body()).await;
    let (_, in_time) = mock.authorized(&session_body()).await;
    mock.advance(3599).await;
    assert_eq!(mock.order(&in_time, &order_body()).await.status, 200);
    mock.advance(1).await;
    mock.order(&late, &order_body())
        .await
        .refused(404, "NOT_FOUND", INVALID_TOKEN);
}

#[tokio::test]
async fn unknown_tokens_are_not_found() {
    let mock = Mock::start().await;
    for token in ["nope", "00000000-0000-4000-8000-000000000000"] {
        mock.order(token, &order_body())
            .await
            .refused(404, "NOT_FOUND", INVALID_TOKEN);
    }
}

// Seed page row 2: BAD_VALUE "Not matching fields: [billing_address.postal_code]", 409.
#[tokio::test]
async fn changed_postal_code_is_a_409() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let mut o = order_body();
    o["billing_address"]["postal_code"] = json!("10179");
    mock.order(&token, &o).await.refused(
        409,
        "BAD_VALUE",
        &["Not matching fields: [billing_address.postal_code]"],
    );
}

// Reference 10: a removed space in a postal code counts for both addresses.
#[tokio::test]
async fn no_normalisation_of_addresses() {
    let mock = Mock::start().await;
    let mut session = session_body();
    session["billing_address"] = billing("customer@email.de");
    session["billing_address"]["postal_code"] = json!("1068 SR");
    let id = mock.create_session(&session).await;
    let token = mock
        .authorize(&id, &json!({}))
        .await
        .str("authorization_token");
    let mut o = session.clone();
    o["billing_address"]["postal_code"] = json!("1068SR");
    o["shipping_address"] = o["billing_address"].clone();
    mock.order(&token, &o).await.refused(
        409,
        "BAD_VALUE",
        &["Not matching fields: [billing_address.postal_code, shipping_address.postal_code]"],
    );
}

// Seed page row 3: "Incorrect number of items in the cart. Expected: 2, Actual: 3".
#[tokio::test]
async fn changed_item_count_has_the_exact_message() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&two_lines()).await;
    mock.order(&token, &two_lines_and_a_gift()).await.refused(
        409,
        "BAD_VALUE",
        &["Not matching fields: [Incorrect number of items in the cart. Expected: 2, Actual: 3]"],
    );
}

// Seed page row 4: REJECTED "Rejected" when cart updates are allowed.
#[tokio::test]
async fn cart_updates_allowed_rejects_a_dearer_cart() {
    let mock = Mock::with(MockConfig::default().allow_cart_updates(true)).await;
    let (_, token) = mock.authorized(&two_lines()).await;
    mock.order(&token, &three_lines())
        .await
        .refused(403, "REJECTED", &["Rejected"]);
    let (_, token) = mock.authorized(&two_lines()).await;
    let a = mock.order(&token, &two_lines_and_a_gift()).await;
    assert_eq!(a.status, 200, "{a:?}");
    let (_, token) = mock.authorized(&two_lines()).await;
    let mut moved = two_lines();
    moved["billing_address"]["city"] = json!("Bonn");
    mock.order(&token, &moved).await.refused(
        409,
        "BAD_VALUE",
        &["Not matching fields: [billing_address.city]"],
    );
}

#[tokio::test]
async fn every_differing_field_is_listed_in_order() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let mut o = order_body();
    o["billing_address"]["given_name"] = json!("Mack");
    o["billing_address"]["city"] = json!("BERLIN");
    o["order_lines"][0]["quantity_unit"] = json!("pcs");
    o["order_lines"][0]["merchant_data"] = json!("x");
    o["customer"] = json!({"gender": "female"});
    mock.order(&token, &o).await.refused(
        409,
        "BAD_VALUE",
        &[
            "Not matching fields: [billing_address.city, billing_address.given_name, \
           order_lines[0].quantity_unit, order_lines[0].merchant_data, customer.gender]",
        ],
    );
}

#[tokio::test]
async fn an_empty_customer_matches() {
    let mock = Mock::start().await;
    let mut session = session_body();
    session["customer"] = json!({"date_of_birth": "1970-07-10"});
    let (_, token) = mock.authorized(&session).await;
    let mut o = order_body();
    o["customer"] = json!({});
    assert_eq!(mock.order(&token, &o).await.status, 200);
}

#[tokio::test]
async fn identical_retry_gets_the_same_order_and_a_different_body_409() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let first = mock.order(&token, &order_body()).await;
    let again = mock.order(&token, &order_body()).await;
    assert_eq!((again.status, &again.body), (200, &first.body));
    assert_ne!(again.correlation_id(), first.correlation_id());
    let mut other = order_body();
    other["merchant_reference1"] = json!("other");
    mock.order(&token, &other).await.refused(
        409,
        "BAD_VALUE",
        &["The order has been already completed with different request body"],
    );
}

#[tokio::test]
async fn errors_stick_to_the_token_in_playground_mode() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let mut o = order_body();
    o["billing_address"]["postal_code"] = json!("10179");
    let first = mock.order(&token, &o).await;
    let fixed = mock.order(&token, &order_body()).await;
    fixed.refused(
        409,
        "BAD_VALUE",
        &["Not matching fields: [billing_address.postal_code]"],
    );
    assert_ne!(fixed.correlation_id(), first.correlation_id());
}

#[tokio::test]
async fn errors_do_not_stick_in_strict_mode() {
    let mock = Mock::with(MockConfig::default().fidelity(Fidelity::Documented)).await;
    let (_, token) = mock.authorized(&session_body()).await;
    let mut o = order_body();
    o["billing_address"]["postal_code"] = json!("10179");
    assert_eq!(mock.order(&token, &o).await.status, 409);
    assert_eq!(mock.order(&token, &order_body()).await.status, 200);
}

/// Recorded (docs/klarna.md §11.1): `{}` on a token that has its order is
/// 400, and the identical body afterwards still gets the same order.
#[tokio::test]
async fn an_invalid_body_on_a_used_token_is_400_and_not_stored() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let first = mock.order(&token, &order_body()).await;
    assert_eq!(first.status, 200, "{first:?}");
    let empty = mock.order(&token, &json!({})).await;
    assert_eq!(
        (empty.status, empty.json()["error_code"].as_str()),
        (400, Some("BAD_VALUE")),
        "{empty:?}"
    );
    let again = mock.order(&token, &order_body()).await;
    assert_eq!((again.status, &again.body), (200, &first.body));
}

/// A validation 400 never sticks, in the default (Playground) fidelity either.
#[tokio::test]
async fn a_400_first_does_not_stick() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    assert_eq!(mock.order(&token, &json!({})).await.status, 400);
    let placed = mock.order(&token, &order_body()).await;
    assert_eq!(placed.status, 200, "{placed:?}");
}

#[tokio::test]
async fn invalid_order_bodies_are_400_bad_value() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let mut o = order_body();
    o["order_amount"] = json!(11901);
    let a = mock.order(&token, &o).await;
    assert_eq!(
        (a.status, a.json()["error_code"].as_str()),
        (400, Some("BAD_VALUE")),
        "{a:?}"
    );
    assert!(
        a.json()["error_messages"][0]
            .as_str()
            .unwrap()
            .starts_with("Bad value: ")
    );
}

#[tokio::test]
async fn validation_comes_before_comparison() {
    let mock = Mock::with(MockConfig::default().fidelity(Fidelity::Documented)).await;
    let (_, token) = mock.authorized(&session_body()).await;
    let mut o = order_body();
    o["order_amount"] = json!(1);
    o["billing_address"]["city"] = json!("Bonn");
    assert_eq!(mock.order(&token, &o).await.status, 400);
}

#[tokio::test]
async fn cancelled_tokens_are_not_found_and_consumed_ones_403() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let path = format!("/payments/v1/authorizations/{token}");
    let a = mock.delete(&path).await;
    assert_eq!((a.status, a.raw.len()), (204, 0));
    mock.order(&token, &order_body())
        .await
        .refused(404, "NOT_FOUND", INVALID_TOKEN);
    mock.delete(&path)
        .await
        .refused(404, "NOT_FOUND", INVALID_TOKEN);
    let (_, used) = mock.authorized(&session_body()).await;
    assert_eq!(mock.order(&used, &order_body()).await.status, 200);
    mock.delete(&format!("/payments/v1/authorizations/{used}"))
        .await
        .refused(
            403,
            "INVALID_OPERATION",
            &["Authorization token already consumed"],
        );
}

#[tokio::test]
async fn a_new_authorization_replaces_the_token() {
    let mock = Mock::start().await;
    let (id, old) = mock.authorized(&session_body()).await;
    let new = mock
        .authorize(&id, &json!({}))
        .await
        .str("authorization_token");
    mock.order(&old, &order_body())
        .await
        .refused(404, "NOT_FOUND", INVALID_TOKEN);
    assert_eq!(mock.order(&new, &order_body()).await.status, 200);
}

fn token_request(country: &str) -> serde_json::Value {
    json!({"description": "Coffee subscription", "intended_use": "SUBSCRIPTION",
        "locale": format!("de-{country}"), "purchase_country": country, "purchase_currency": "EUR"})
}

#[tokio::test]
async fn customer_token_follows_the_intent() {
    let mock = Mock::start().await;
    let (_, buy) = mock.authorized(&session_body()).await;
    let path = |t: &str| format!("/payments/v1/authorizations/{t}/customer-token");
    mock.post(&path(&buy), &token_request("DE")).await.refused(
        403,
        "INVALID_OPERATION",
        &["Not allowed to create customer token for intent buy"],
    );
    let mut session = session_body();
    session["intent"] = json!("tokenize");
    let (_, tokenize) = mock.authorized(&session).await;
    mock.post(&path(&tokenize), &token_request("AT"))
        .await
        .refused(400, "BAD_VALUE", &["Bad value: purchase_country"]);
    let a = mock.post(&path(&tokenize), &token_request("DE")).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(uuid::Uuid::parse_str(&a.str("token_id")).is_ok());
    assert!(a.str("redirect_url").starts_with("https://"));
}

// Reference 10: language-only locales were accepted by the playground; the
// documents require language-country.
#[tokio::test]
async fn language_only_locale_playground_accepts_strict_refuses() {
    let mut us = json!({
        "purchase_country": "US", "purchase_currency": "USD", "locale": "en",
        "order_amount": 1000, "order_tax_amount": 0,
        "order_lines": [{"type": "physical", "name": "Pen", "quantity": 1, "unit_price": 1000,
            "total_amount": 1000}]
    });
    let playground = Mock::start().await;
    let a = playground.post("/payments/v1/sessions", &us).await;
    assert_eq!(a.status, 200, "{a:?}");
    let strict = Mock::with(MockConfig::default().strict(true)).await;
    let a = strict.post("/payments/v1/sessions", &us).await;
    assert_eq!(a.status, 400, "{a:?}");
    assert!(
        a.json()["error_messages"]
            .to_string()
            .contains("Bad value: locale"),
        "{a:?}"
    );
    us["locale"] = json!("en-US");
    assert_eq!(strict.post("/payments/v1/sessions", &us).await.status, 200);
}

// The schema check is a real oracle: a mock that sends order_id as a number
// fails it (and the faithful mock, checked on every answer above, passes).
#[tokio::test]
async fn the_openapi_check_catches_a_numeric_order_id() {
    let Some(api) = klarna_conformance::openapi::OpenApi::from_env("KLARNA_OPENAPI")
        .expect("KLARNA_OPENAPI is usable")
    else {
        return;
    };
    let config = MockConfig::default().defect(klarna_conformance::mock::Defect::NumericOrderId);
    let mock = Mock::with(config).await;
    let (_, token) = mock.authorized(&session_body()).await;
    let path = format!("/payments/v1/authorizations/{token}/order");
    let a = read(
        mock.client
            .post(mock.url(&path))
            .basic_auth(&mock.user, Some(&mock.password))
            .json(&order_body())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(a.json()["order_id"].is_number());
    let errors = api.check_response("POST", &path, a.status, a.body.as_ref());
    assert!(errors.iter().any(|e| e.path == "order_id"), "{errors:?}");
}

/// A whole number written as a float (`10000.0`) is the integer, as the
/// validator reads it (Jackson); a fraction (quantity 1.5) is truncated, a
/// warning the playground lets through. Create session, authorize, create
/// order and capture all agree; a captured amount with a fraction is refused
/// (docs/klarna.md §13.2).
#[tokio::test]
async fn floats_in_integer_fields_are_read_as_klarna_reads_them() {
    let mock = Mock::start().await;
    let floats = |mut b: Value| {
        b["order_amount"] = json!(11900.0);
        b["order_lines"][0]["unit_price"] = json!(11900.0);
        b["order_lines"][0]["quantity"] = json!(1.5);
        b
    };
    let (_, token) = mock.authorized(&floats(session_body())).await;
    let a = mock.order(&token, &floats(order_body())).await;
    assert_eq!(a.status, 200, "{a:?}");
    let order_id = a.str("order_id");
    let a = mock
        .post(
            &format!("/ordermanagement/v1/orders/{order_id}/captures"),
            &json!({"captured_amount": 100.0}),
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let a = mock
        .get(&format!("/ordermanagement/v1/orders/{order_id}"))
        .await;
    assert_eq!(a.json()["order_amount"], 11900);
    assert_eq!(a.json()["order_lines"][0]["quantity"], 1);
    assert_eq!(a.json()["captured_amount"], 100);

    // docs/klarna.md §13.2: an amount that is not a whole number is 400,
    // in both fidelities.
    mock.post(
        &format!("/ordermanagement/v1/orders/{order_id}/captures"),
        &json!({"captured_amount": 10.7}),
    )
    .await
    .refused(400, "BAD_VALUE", &["Bad value: captured_amount"]);

    let strict = Mock::with(MockConfig::default().strict(true)).await;
    let a = strict
        .post("/payments/v1/sessions", &floats(session_body()))
        .await;
    a.refused(400, "BAD_VALUE", &["Bad value: order_lines[0].quantity"]);
    // Order Management too: the strict mock refuses a fractional capture.
    let (_, token) = strict.authorized(&session_body()).await;
    let a = strict.order(&token, &order_body()).await;
    let order_id = a.str("order_id");
    let a = strict
        .post(
            &format!("/ordermanagement/v1/orders/{order_id}/captures"),
            &json!({"captured_amount": 10.7}),
        )
        .await;
    a.refused(400, "BAD_VALUE", &["Bad value: captured_amount"]);
}
