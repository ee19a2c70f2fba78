//! Every JSON example quoted from Klarna's documents (reference sections 2.6,
//! 3.1, 3.3, 4.1, 10 and §12) round-trips through the model without
//! loss, and every request example is valid by Klarna's rules.

use std::path::Path;

use klarna_conformance::model::validate::{BodyKind, validate};
use klarna_conformance::model::{
    AuthorizedPaymentMethod, CreateOrderRequest, ErrorV2, MerchantSession, Order, OrderLine,
    Session,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Parses `name` as `T`, writes it back, and demands the same JSON value.
fn round_trip<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let original = fixture(name);
    let typed: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back, original, "{name} changed in a round trip");
    typed
}

#[test]
fn seed_create_order_request() {
    let req: CreateOrderRequest = round_trip("seed-create-order-request.json");
    assert_eq!(req.purchase_country, "US");
    let violations = validate(
        BodyKind::CreateOrder,
        &fixture("seed-create-order-request.json"),
    );
    assert_eq!(violations, []);
}

#[test]
fn seed_success_responses_with_string_payment_method() {
    for name in [
        "seed-order-response.json",
        "seed-order-response-pending.json",
    ] {
        let order: Order = round_trip(name);
        assert_eq!(
            order.authorized_payment_method,
            Some(AuthorizedPaymentMethod::Name("invoice".into()))
        );
    }
    let pending: Order = round_trip("seed-order-response-pending.json");
    assert_eq!(pending.fraud_status.as_deref(), Some("PENDING"));
}

#[test]
fn object_form_payment_method() {
    let order: Order = round_trip("order-response-object-method.json");
    let method = order.authorized_payment_method.unwrap();
    assert!(matches!(method, AuthorizedPaymentMethod::Object { .. }));
    assert_eq!(method.method_type(), "invoice");
    let full: Order = round_trip("order-response-object-method-full.json");
    assert!(matches!(
        full.authorized_payment_method,
        Some(AuthorizedPaymentMethod::Object {
            number_of_days: Some(14),
            ..
        })
    ));
    round_trip::<Order>("order-response-kco-php.json");
}

#[test]
fn error_bodies() {
    let seed: ErrorV2 = round_trip("seed-error.json");
    assert_eq!(seed.messages(), ["ERROR_MESSAGE"]);
    let jackson: ErrorV2 = round_trip("error-bad-value-jackson.json");
    assert_eq!(
        jackson.messages(),
        ["Bad value: order_lines[3].total_tax_amount"]
    );
    let newer: ErrorV2 = round_trip("error-bad-value-service-version.json");
    assert_eq!(newer.unknown["service_version"], "SNAPSHOT");
    round_trip::<ErrorV2>("error-not-matching-fields.json");
    let single: ErrorV2 = round_trip("error-single-message.json");
    assert_eq!(single.messages(), ["Invalid authorization token"]);
}

#[test]
fn create_session_response() {
    let session: MerchantSession = round_trip("create-session-response.json");
    assert_eq!(session.session_id, "068df369-13a7-4d47-a564-62f8408bb760");
    let read: Session = round_trip("session-read-response.json");
    let categories = read.payment_method_categories.unwrap();
    // A field Klarna added is kept, so a checker can report it.
    assert!(categories[0].unknown.contains_key("descriptor"));
}

#[test]
fn session_create_request() {
    round_trip::<Session>("session-create-request-se.json");
    let violations = validate(
        BodyKind::SessionCreate,
        &fixture("session-create-request-se.json"),
    );
    assert_eq!(violations, []);
}

#[test]
fn documented_order_lines() {
    for name in [
        "order-line-gift-card.json",
        "order-line-discounted-shoe.json",
        "order-line-discounted-tshirt.json",
    ] {
        round_trip::<OrderLine>(name);
        // Each documented line, alone in a cart of its market, is valid.
        let line = fixture(name);
        let total = line["total_amount"].as_i64().unwrap().max(0);
        let tax = line["total_tax_amount"].as_i64().unwrap().max(0);
        if total == 0 {
            continue; // a gift card alone makes a negative order
        }
        let body = serde_json::json!({
            "purchase_country": "SE", "purchase_currency": "SEK", "locale": "sv-SE",
            "order_amount": total, "order_tax_amount": tax, "order_lines": [line],
        });
        assert_eq!(validate(BodyKind::SessionCreate, &body), [], "{name}");
    }
}

#[test]
fn example_payloads_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/payloads");
    for name in ["session-valid.json", "session-three-violations.json"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let original: Value = serde_json::from_str(&text).unwrap();
        let typed: Session = serde_json::from_value(original.clone()).unwrap();
        assert_eq!(serde_json::to_value(typed).unwrap(), original, "{name}");
    }
}
