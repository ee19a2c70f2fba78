//! The order of checks at create order and capture, as recorded
//! (docs/klarna.md §10, §11.1, §11.3).

use serde_json::json;

use super::*;

fn strict() -> MockState {
    state(MockConfig::default().strict(true))
}

fn moved() -> Value {
    let mut o = order_body();
    o["billing_address"]["postal_code"] = json!("10179");
    o
}

/// `{}` on a token with an order is validated first (400), is not stored, and
/// the identical body afterwards still returns the same order.
#[test]
fn an_invalid_body_on_a_used_token_is_400_and_spoils_nothing() {
    for mut s in [faithful(), strict()] {
        let (_, token) = authorized(&mut s, session_body());
        let first = order(&mut s, &token, order_body(), T0);
        assert_eq!(first.status, 200, "{first:?}");
        let empty = order(&mut s, &token, json!({}), T0 + 1);
        assert_eq!(empty.status, 400, "{empty:?}");
        assert_eq!(empty.error_code().as_deref(), Some("BAD_VALUE"));
        let mut invalid = order_body();
        invalid["order_amount"] = json!(1);
        assert_eq!(order(&mut s, &token, invalid, T0 + 2).status, 400);
        let again = order(&mut s, &token, order_body(), T0 + 3);
        assert_eq!((again.status, &again.body), (200, &first.body));
        assert_eq!(s.order_count(), 1);
    }
}

/// The playground's joined message for an empty body (docs/klarna.md §10).
#[test]
fn an_empty_body_names_every_missing_field() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    order(&mut s, &token, order_body(), T0);
    let r = order(&mut s, &token, json!({}), T0);
    assert_eq!(r.status, 400, "{r:?}");
    let message = r.error_messages().join("");
    for field in [
        "order_amount",
        "order_lines",
        "purchase_country",
        "purchase_currency",
    ] {
        assert!(message.contains(field), "{message}");
    }
    assert!(message.starts_with("Bad value: "), "{message}");
}

/// A validation 400 never sticks: the valid body afterwards is placed, in
/// both fidelities.
#[test]
fn a_400_first_then_the_valid_body_succeeds() {
    for mut s in [faithful(), strict()] {
        let (_, token) = authorized(&mut s, session_body());
        assert_eq!(order(&mut s, &token, json!({}), T0).status, 400);
        let mut invalid = order_body();
        invalid["order_lines"][0]["total_amount"] = json!(1);
        assert_eq!(order(&mut s, &token, invalid, T0).status, 400);
        let r = order(&mut s, &token, order_body(), T0);
        assert_eq!(r.status, 200, "{r:?}");
    }
}

/// A 409 mismatch sticks in Playground fidelity (the fixed body still gets
/// it, with a new correlation id); in strict fidelity the fixed body succeeds.
#[test]
fn a_409_first_sticks_in_playground_only() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    let first = order(&mut s, &token, moved(), T0);
    refused(
        &first,
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.postal_code]",
    );
    let fixed = order(&mut s, &token, order_body(), T0);
    assert_eq!(fixed.status, 409);
    assert_eq!(fixed.error_messages(), first.error_messages());
    assert_ne!(fixed.correlation_id, first.correlation_id);
    assert_eq!(s.order_count(), 0);

    let mut s = strict();
    let (_, token) = authorized(&mut s, session_body());
    assert_eq!(order(&mut s, &token, moved(), T0).status, 409);
    assert_eq!(order(&mut s, &token, order_body(), T0).status, 200);
}

/// A stuck token still validates first: an invalid body gets its own 400,
/// not the stored 409.
#[test]
fn a_stuck_token_still_validates_first() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    assert_eq!(order(&mut s, &token, moved(), T0).status, 409);
    let r = order(&mut s, &token, json!({}), T0);
    assert_eq!(r.status, 400, "{r:?}");
    // A different mismatch repeats the first one.
    let mut other = order_body();
    other["billing_address"]["city"] = json!("Bonn");
    refused(
        &order(&mut s, &token, other, T0),
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.postal_code]",
    );
}

/// 403 REJECTED (a dearer cart with cart updates allowed) is a business
/// outcome too: it sticks in Playground fidelity.
#[test]
fn a_rejected_cart_sticks_in_playground_only() {
    for (strict, fixed_status) in [(false, 403), (true, 200)] {
        let mut s = state(
            MockConfig::default()
                .allow_cart_updates(true)
                .strict(strict),
        );
        let (_, token) = authorized(&mut s, two_lines());
        let r = order(&mut s, &token, three_lines(), T0);
        refused(&r, 403, "REJECTED", "Rejected");
        let fixed = order(&mut s, &token, two_lines(), T0);
        assert_eq!(fixed.status, fixed_status, "strict {strict}: {fixed:?}");
    }
}

/// The 409 for a different body on a used token is not stored: the identical
/// body afterwards still gets the order.
#[test]
fn a_conflicting_retry_spoils_nothing() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    let first = order(&mut s, &token, order_body(), T0);
    refused(
        &order(&mut s, &token, moved(), T0),
        409,
        "BAD_VALUE",
        "The order has been already completed with different request body",
    );
    let again = order(&mut s, &token, order_body(), T0);
    assert_eq!((again.status, &again.body), (200, &first.body));
}

/// The token comes before the body: an expired token with an invalid body is 404.
#[test]
fn the_token_comes_before_the_body() {
    let mut s = faithful();
    let (_, token) = authorized(&mut s, session_body());
    refused(
        &order(&mut s, &token, json!({}), T0 + TOKEN_LIFETIME),
        404,
        "NOT_FOUND",
        "Invalid authorization token",
    );
}

/// The intent check after a customer token (403 consumed) does not stick: it
/// is not a business outcome of create order.
#[test]
fn a_consumed_tokenize_token_does_not_stick() {
    let mut s = faithful();
    let mut body = session_body();
    body["intent"] = json!("tokenize");
    let (_, token) = authorized(&mut s, body);
    let r = s.handle(
        MockRequest::CreateCustomerToken {
            authorization_token: token.clone(),
            body: json!({"description": "d", "intended_use": "SUBSCRIPTION",
                "locale": "de-DE", "purchase_country": "DE", "purchase_currency": "EUR"}),
        },
        T0,
    );
    assert_eq!(r.status, 200, "{r:?}");
    let mut o = order_body();
    o["intent"] = json!("tokenize");
    for _ in 0..2 {
        refused(
            &order(&mut s, &token, o.clone(), T0),
            403,
            "INVALID_OPERATION",
            "Authorization token already consumed",
        );
    }
}

/// A capture above the remaining amount: the recorded message (docs/klarna.md §11.3).
#[test]
fn a_capture_above_the_remaining_amount_has_the_recorded_message() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    assert_eq!(capture(&mut s, &id, 11000).status, 201);
    refused(
        &capture(&mut s, &id, 901),
        403,
        "CAPTURE_NOT_ALLOWED",
        "Captured amount is higher than the remaining authorized amount. Capture not possible.",
    );
    assert_eq!(capture(&mut s, &id, 900).status, 201);
    // Nothing is left after a full capture (auto_capture included).
    let auto = placed(&mut s, true);
    refused(
        &capture(&mut s, &auto, 1),
        403,
        "CAPTURE_NOT_ALLOWED",
        "Captured amount is higher than the remaining authorized amount. Capture not possible.",
    );
}

/// A PENDING order refuses captures, even within the authorized amount; the
/// missing amount is still judged first.
#[test]
fn a_pending_order_refuses_captures() {
    for mut s in [faithful(), strict()] {
        let r = order_for_email(&mut s, gb_session(), "customer+pend-accept-05@email.uk");
        assert_eq!(r.json()["fraud_status"], "PENDING", "{r:?}");
        let id = r.json()["order_id"].as_str().unwrap().to_owned();
        refused(
            &capture(&mut s, &id, 100),
            403,
            "CAPTURE_NOT_ALLOWED",
            "Capture not allowed",
        );
        let no_amount = s.handle(capture_request(&id, json!({})), T0);
        refused(
            &no_amount,
            422,
            "UNPROCESSABLE_ENTITY",
            "'captured_amount' must not be null",
        );
        let dto = read_order(&mut s, &id).json();
        assert_eq!(
            (
                &dto["status"],
                &dto["captured_amount"],
                &dto["fraud_status"]
            ),
            (&json!("AUTHORIZED"), &json!(0), &json!("PENDING"))
        );
    }
    // An ACCEPTED order of the same market captures.
    let mut s = faithful();
    let r = order_for_email(&mut s, gb_session(), "customer@email.uk");
    let id = r.json()["order_id"].as_str().unwrap().to_owned();
    assert_eq!(capture(&mut s, &id, 100).status, 201);
}
