//! Defects of sessions and their read-back, session and token lifetimes, and
//! the pending e-mail patterns: the faithful answer first, then the deviation.

use serde_json::json;

use super::*;

fn with(defect: Defect) -> MockState {
    state(MockConfig::default().defect(defect))
}

const HOUR: i64 = 3600;

fn fraud_status(r: &MockReply) -> String {
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["fraud_status"].as_str().unwrap().to_owned()
}

#[test]
fn pending_everywhere() {
    let pending = "customer+pend-accept-05@email.de";
    assert_eq!(
        fraud_status(&order_for_email(&mut faithful(), session_body(), pending)),
        "ACCEPTED"
    );
    let mut s = with(Defect::PendingEverywhere);
    assert_eq!(
        fraud_status(&order_for_email(&mut s, session_body(), pending)),
        "PENDING"
    );
    // Only the patterns: an ordinary e-mail stays ACCEPTED.
    assert_eq!(
        fraud_status(&order_for_email(
            &mut s,
            session_body(),
            "customer@email.de"
        )),
        "ACCEPTED"
    );
}

#[test]
fn pending_near_miss() {
    let near_misses = [
        "customer+pend-accept-5@email.uk",
        "customer+pend-accepted-05@email.uk",
        "customer+pending-05@email.uk",
        "customer+pend-05@email.uk",
        "customer+pend-reject-123@email.uk",
    ];
    for email in near_misses {
        assert_eq!(
            fraud_status(&order_for_email(&mut faithful(), gb_session(), email)),
            "ACCEPTED",
            "{email}"
        );
        let mut s = with(Defect::PendingNearMiss);
        assert_eq!(
            fraud_status(&order_for_email(&mut s, gb_session(), email)),
            "PENDING",
            "{email}"
        );
        // Still only in US and GB.
        assert_eq!(
            fraud_status(&order_for_email(&mut s, session_body(), email)),
            "ACCEPTED",
            "{email}"
        );
    }
    // The exact pattern is PENDING either way; no tag is ACCEPTED either way.
    let mut s = with(Defect::PendingNearMiss);
    assert_eq!(
        fraud_status(&order_for_email(
            &mut s,
            gb_session(),
            "customer+pend-reject-10@email.uk"
        )),
        "PENDING"
    );
    assert_eq!(
        fraud_status(&order_for_email(&mut s, gb_session(), "customer@email.uk")),
        "ACCEPTED"
    );
}

/// A session whose order was placed; returns the session id.
fn completed(s: &mut MockState) -> String {
    let (id, token) = authorized(s, session_body());
    assert_eq!(order(s, &token, order_body(), T0).status, 200);
    id
}

#[test]
fn session_stays_incomplete() {
    let mut s = faithful();
    let id = completed(&mut s);
    assert_eq!(read_session(&mut s, &id, T0).json()["status"], "complete");

    let mut s = with(Defect::SessionStaysIncomplete);
    let id = completed(&mut s);
    assert_eq!(read_session(&mut s, &id, T0).json()["status"], "incomplete");
    // Pre-purchase operations are still refused.
    refused(
        &update_session(&mut s, &id, json!({"merchant_reference1": "x"}), T0),
        404,
        "SESSION_COMPLETED",
        "Session has already been completed",
    );
    refused(
        &authorize_with(&mut s, &id, json!({}), T0),
        404,
        "SESSION_COMPLETED",
        "Session has already been completed",
    );
}

#[test]
fn update_ignored() {
    let update = json!({"merchant_reference1": "ON4711"});
    let mut s = faithful();
    let id = create(&mut s, session_body());
    assert_eq!(
        update_session(&mut s, &id, update.clone(), T0 + 100).status,
        204
    );
    let view = read_session(&mut s, &id, T0 + 100).json();
    assert_eq!(view["merchant_reference1"], "ON4711");
    assert_eq!(view["expires_at"], "2026-01-03T00:01:40Z");

    let mut s = with(Defect::UpdateIgnored);
    let id = create(&mut s, session_body());
    let r = update_session(&mut s, &id, update, T0 + 100);
    assert_eq!((r.status, &r.body), (204, &None));
    let view = read_session(&mut s, &id, T0 + 100).json();
    assert!(view.get("merchant_reference1").is_none(), "{view}");
    // Not even the last-update time moved.
    assert_eq!(view["expires_at"], "2026-01-03T00:00:00Z");
    // An invalid update is still refused.
    let r = update_session(&mut s, &id, json!({"order_amount": 1}), T0);
    refused(&r, 400, "BAD_VALUE", "Bad value: order_amount");
    assert_eq!(read_session(&mut s, &id, T0 + SESSION_LIFETIME).status, 404);
}

#[test]
fn session_lifetime_2h() {
    let mut s = faithful();
    let id = create(&mut s, session_body());
    let r = read_session(&mut s, &id, T0 + 2 * HOUR);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["expires_at"], "2026-01-03T00:00:00Z");

    let mut s = with(Defect::SessionLifetime2h);
    let id = create(&mut s, session_body());
    let r = read_session(&mut s, &id, T0 + 2 * HOUR - 1);
    assert_eq!(r.json()["expires_at"], "2026-01-01T02:00:00Z");
    refused(
        &read_session(&mut s, &id, T0 + 2 * HOUR),
        404,
        "NOT_FOUND",
        "Invalid session id",
    );
    // Still counted from the last update.
    let id = create(&mut s, session_body());
    assert_eq!(
        update_session(&mut s, &id, json!({}), T0 + HOUR).status,
        204
    );
    assert_eq!(read_session(&mut s, &id, T0 + 3 * HOUR - 1).status, 200);
    assert_eq!(read_session(&mut s, &id, T0 + 3 * HOUR).status, 404);
}

#[test]
fn session_lifetime_from_creation() {
    let run = |s: &mut MockState| {
        let id = create(s, session_body());
        assert_eq!(
            update_session(s, &id, json!({}), T0 + 47 * HOUR).status,
            204
        );
        let before = read_session(s, &id, T0 + 47 * HOUR).json()["expires_at"].clone();
        (before, read_session(s, &id, T0 + 48 * HOUR))
    };
    let (before, after) = run(&mut faithful());
    assert_eq!(before, "2026-01-04T23:00:00Z");
    assert_eq!(after.status, 200);

    let (before, after) = run(&mut with(Defect::SessionLifetimeFromCreation));
    assert_eq!(before, "2026-01-03T00:00:00Z");
    refused(&after, 404, "NOT_FOUND", "Invalid session id");
    // Authorize does not extend it either.
    let mut s = with(Defect::SessionLifetimeFromCreation);
    let id = create(&mut s, session_body());
    let r = authorize_with(
        &mut s,
        &id,
        json!({"billing_address": billing("customer@email.de")}),
        T0 + 47 * HOUR,
    );
    assert_eq!(r.json()["approved"], true, "{r:?}");
    assert_eq!(read_session(&mut s, &id, T0 + 48 * HOUR).status, 404);
}

#[test]
fn expires_at_from_creation() {
    let run = |s: &mut MockState| {
        let id = create(s, session_body());
        assert_eq!(
            update_session(s, &id, json!({}), T0 + 47 * HOUR).status,
            204
        );
        read_session(s, &id, T0 + 48 * HOUR)
    };
    let good = run(&mut faithful());
    assert_eq!(good.json()["expires_at"], "2026-01-04T23:00:00Z");
    // The session lives as it should; only expires_at is wrong.
    let bad = run(&mut with(Defect::ExpiresAtFromCreation));
    assert_eq!(bad.status, 200, "{bad:?}");
    assert_eq!(bad.json()["expires_at"], "2026-01-03T00:00:00Z");
}

#[test]
fn read_back_ignores_updates() {
    let run = |s: &mut MockState| {
        let id = create(s, session_body());
        let mut cart = two_lines();
        cart.as_object_mut().unwrap().remove("billing_address");
        cart["merchant_reference1"] = json!("ON4711");
        assert_eq!(update_session(s, &id, cart, T0).status, 204);
        let before = read_session(s, &id, T0).json();
        let r = authorize_with(
            s,
            &id,
            json!({"billing_address": billing("customer@email.de")}),
            T0,
        );
        let token = r.json()["authorization_token"].as_str().unwrap().to_owned();
        let after = read_session(s, &id, T0).json();
        // The update was applied: the order repeats the updated cart.
        let placed = order(s, &token, two_lines(), T0);
        assert_eq!(placed.status, 200, "{placed:?}");
        (before, after)
    };
    let (before, after) = run(&mut faithful());
    assert_eq!(before["order_amount"], 14280);
    assert_eq!(before["merchant_reference1"], "ON4711");
    assert_eq!(after["order_lines"].as_array().map(Vec::len), Some(2));

    let (before, after) = run(&mut with(Defect::ReadBackIgnoresUpdates));
    assert_eq!(before["order_amount"], 11900);
    assert!(before.get("merchant_reference1").is_none(), "{before}");
    assert_eq!(after["order_lines"].as_array().map(Vec::len), Some(1));
    // What authorize merged in is shown.
    assert_eq!(after["billing_address"]["postal_code"], "10178");
    assert!(after.get("authorization_token").is_some());
}

#[test]
fn shows_customer_before_authorize() {
    let run = |s: &mut MockState| {
        let mut body = session_body();
        body["billing_address"] = billing("customer@email.de");
        body["customer"] =
            json!({"date_of_birth": "1970-07-10", "national_identification_number": "X1"});
        let id = create(s, body);
        read_session(s, &id, T0).json()
    };
    let view = run(&mut faithful());
    for key in ["billing_address", "shipping_address", "customer"] {
        assert!(view.get(key).is_none(), "{key}: {view}");
    }
    let view = run(&mut with(Defect::ShowsCustomerBeforeAuthorize));
    assert_eq!(view["billing_address"]["postal_code"], "10178");
    assert_eq!(view["shipping_address"], view["billing_address"]);
    // Still the customer_read form, without the secret identifiers.
    assert_eq!(view["customer"], json!({"date_of_birth": "1970-07-10"}));
    assert!(view.get("authorization_token").is_none());
}

#[test]
fn inconsistent_update_accepted() {
    let broken = [
        json!({"order_amount": 1}),
        json!({"order_tax_amount": 5}),
        json!({"order_lines": [{"name": "Jacket", "quantity": 1, "unit_price": 11900,
            "tax_rate": 1900, "total_amount": 11000, "total_tax_amount": 1900}]}),
        json!({"order_lines": [{"name": "Jacket", "quantity": 1, "unit_price": 11900,
            "tax_rate": 1900, "total_amount": 11900, "total_tax_amount": 100}]}),
    ];
    for update in &broken {
        let mut s = faithful();
        let id = create(&mut s, session_body());
        let r = update_session(&mut s, &id, update.clone(), T0);
        assert_eq!(r.status, 400, "{update}: {r:?}");

        let mut s = with(Defect::InconsistentUpdateAccepted);
        let id = create(&mut s, session_body());
        let r = update_session(&mut s, &id, update.clone(), T0);
        assert_eq!(r.status, 204, "{update}: {r:?}");
        let view = read_session(&mut s, &id, T0).json();
        for (key, value) in update.as_object().unwrap() {
            assert_eq!(&view[key], value, "{update}");
        }
    }
    // Other rules still hold for updates, and amounts still hold at create.
    let mut s = with(Defect::InconsistentUpdateAccepted);
    let id = create(&mut s, session_body());
    let r = update_session(&mut s, &id, json!({"purchase_country": null}), T0);
    assert_eq!(r.status, 400, "{r:?}");
    let mut body = session_body();
    body["order_amount"] = json!(1);
    let r = s.handle(MockRequest::CreateSession { body }, T0);
    assert_eq!(r.status, 400, "{r:?}");
}

#[test]
fn token_lifetime_from_session() {
    let run = |s: &mut MockState| {
        let id = create(s, session_body());
        let r = authorize_with(
            s,
            &id,
            json!({"billing_address": billing("customer@email.de")}),
            T0 + 3000,
        );
        let token = r.json()["authorization_token"].as_str().unwrap().to_owned();
        order(s, &token, order_body(), T0 + 4000)
    };
    assert_eq!(run(&mut faithful()).status, 200);
    refused(
        &run(&mut with(Defect::TokenLifetimeFromSession)),
        404,
        "NOT_FOUND",
        "Invalid authorization token",
    );
    // Within the first hour of the session the token works.
    let mut s = with(Defect::TokenLifetimeFromSession);
    let (_, token) = authorized(&mut s, session_body());
    assert_eq!(order(&mut s, &token, order_body(), T0 + 3599).status, 200);
}

#[test]
fn update_after_order_allowed() {
    let update = json!({"merchant_reference1": "late"});
    let mut s = faithful();
    let id = completed(&mut s);
    refused(
        &update_session(&mut s, &id, update.clone(), T0),
        404,
        "SESSION_COMPLETED",
        "Session has already been completed",
    );

    let mut s = with(Defect::UpdateAfterOrderAllowed);
    let id = completed(&mut s);
    assert_eq!(update_session(&mut s, &id, update, T0).status, 204);
    let view = read_session(&mut s, &id, T0).json();
    assert_eq!(view["merchant_reference1"], "late");
    assert_eq!(view["status"], "complete");
    // Authorize is still refused.
    assert_eq!(authorize_with(&mut s, &id, json!({}), T0).status, 404);
}
