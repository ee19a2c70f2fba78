//! Sessions, the control API's authorize and clock, over HTTP.

use crate::mock_common;

use base64::Engine as _;
use mock_common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn create_session_answers_a_merchant_session() {
    let mock = Mock::start().await;
    let a = mock.post("/payments/v1/sessions", &session_body()).await;
    assert_eq!(a.status, 200, "{a:?}");
    let id = a.str("session_id");
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    let token = a.str("client_token");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let decode = |p: &str| -> Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    // docs/klarna.md §13.7: RS256 with a key id, the recorded claims.
    let header = decode(parts[0]);
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
    assert_eq!(
        decode(parts[1]),
        json!({
            "session_id": id,
            "base_url": "https://js.playground.klarna.com/eu/kp/legacy/payments",
            "design": "klarna",
            "language": "de",
            "purchase_country": "DE",
            "environment": "playground",
            "merchant_name": "klarna-conformance",
            "session_type": "PAYMENTS",
            "region": "eu",
        })
    );
    assert!(!parts[2].is_empty());
    // The read-back carries the same token.
    let read = mock.get(&format!("/payments/v1/sessions/{id}")).await;
    assert_eq!(read.str("client_token"), token);
    let categories = a.json()["payment_method_categories"].as_array().unwrap();
    assert_eq!(categories[0]["identifier"], "pay_later");
    assert!(categories[0]["asset_urls"]["standard"].is_string());
}

#[tokio::test]
async fn us_sessions_offer_no_pay_now() {
    let mock = Mock::start().await;
    let body = json!({
        "purchase_country": "US", "purchase_currency": "USD", "locale": "en-US",
        "order_amount": 1000, "order_tax_amount": 0,
        "order_lines": [{"type": "physical", "name": "Pen", "quantity": 1, "unit_price": 1000,
            "total_amount": 1000}]
    });
    let a = mock.post("/payments/v1/sessions", &body).await;
    let ids: Vec<&str> = a.json()["payment_method_categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pay_later", "pay_over_time"]);
}

#[tokio::test]
async fn read_session_before_and_after_authorization() {
    let mock = Mock::start().await;
    let mut body = session_body();
    body["billing_address"] = billing("customer@email.de");
    body["customer"] =
        json!({"date_of_birth": "1970-07-10", "national_identification_number": "X"});
    let id = mock.create_session(&body).await;
    let path = format!("/payments/v1/sessions/{id}");
    let before = mock.get(&path).await;
    assert_eq!(before.status, 200);
    let view = before.json();
    assert_eq!(view["status"], "incomplete");
    assert_eq!(view["expires_at"], "2026-01-03T00:00:00Z");
    for hidden in [
        "billing_address",
        "shipping_address",
        "customer",
        "authorization_token",
    ] {
        assert!(
            view.get(hidden).is_none(),
            "{hidden} shown before authorization"
        );
    }
    let auth = mock.authorize(&id, &json!({})).await;
    let token = auth.str("authorization_token");
    let after = mock.get(&path).await;
    let view = after.json();
    assert_eq!(view["authorization_token"], token.as_str());
    assert_eq!(view["shipping_address"], view["billing_address"]);
    assert_eq!(view["customer"], json!({"date_of_birth": "1970-07-10"}));
    mock.get("/payments/v1/sessions/00000000-0000-4000-8000-000000000000")
        .await
        .refused(404, "NOT_FOUND", &["Invalid session id"]);
}

#[tokio::test]
async fn update_session_is_204_and_merged() {
    let mock = Mock::start().await;
    let id = mock.create_session(&session_body()).await;
    let path = format!("/payments/v1/sessions/{id}");
    let mut update = session_body();
    update["merchant_reference1"] = json!("ON4711");
    let a = mock.post(&path, &update).await;
    assert_eq!((a.status, a.raw.len()), (204, 0));
    assert_eq!(
        mock.get(&path).await.json()["merchant_reference1"],
        "ON4711"
    );
    mock.post("/payments/v1/sessions/nope", &update)
        .await
        .refused(404, "NOT_FOUND", &["Invalid session id"]);
}

#[tokio::test]
async fn completed_sessions_refuse_updates_and_authorizations() {
    let mock = Mock::start().await;
    let (id, token) = mock.authorized(&session_body()).await;
    assert_eq!(mock.order(&token, &order_body()).await.status, 200);
    let view = mock.get(&format!("/payments/v1/sessions/{id}")).await;
    assert_eq!(view.json()["status"], "complete");
    mock.post(&format!("/payments/v1/sessions/{id}"), &session_body())
        .await
        .refused(
            404,
            "SESSION_COMPLETED",
            &["Session has already been completed"],
        );
    mock.authorize(&id, &json!({})).await.refused(
        404,
        "SESSION_COMPLETED",
        &["Session has already been completed"],
    );
}

#[tokio::test]
async fn sessions_expire_48_hours_after_the_last_update() {
    let mock = Mock::start().await;
    let id = mock.create_session(&session_body()).await;
    let path = format!("/payments/v1/sessions/{id}");
    mock.advance(47 * 3600).await;
    // An update restarts the 48 hours.
    assert_eq!(mock.post(&path, &session_body()).await.status, 204);
    mock.advance(47 * 3600).await;
    assert_eq!(mock.get(&path).await.status, 200);
    mock.advance(3600).await;
    mock.get(&path)
        .await
        .refused(404, "NOT_FOUND", &["Invalid session id"]);
}

#[tokio::test]
async fn authorize_decides_from_the_email() {
    let mock = Mock::start().await;
    let id = mock.create_session(&session_body()).await;
    let denied = mock
        .authorize(
            &id,
            &json!({"billing_address": billing("customer+denied@email.de")}),
        )
        .await;
    assert_eq!(
        denied.json(),
        &json!({"approved": false, "show_form": false})
    );
    let approved = mock
        .authorize(
            &id,
            &json!({"billing_address": billing("customer@email.de")}),
        )
        .await;
    assert_eq!(approved.json()["approved"], true);
    assert_eq!(approved.json()["show_form"], true);
    assert!(uuid::Uuid::parse_str(&approved.str("authorization_token")).is_ok());
    mock.authorize("nope", &json!({}))
        .await
        .refused(404, "NOT_FOUND", &["Invalid session id"]);
}

#[tokio::test]
async fn authorize_without_a_body() {
    let mock = Mock::start().await;
    let id = mock.create_session(&session_body()).await;
    let a = mock
        .client
        .post(mock.url(&format!("/__mock/sessions/{id}/authorize")))
        .basic_auth(&mock.user, Some(&mock.password))
        .send()
        .await
        .unwrap();
    let a = read(a).await;
    assert_eq!(a.json()["approved"], true, "{a:?}");
}

#[tokio::test]
async fn authorize_with_invalid_data_names_the_fields() {
    let mock = Mock::start().await;
    let id = mock.create_session(&session_body()).await;
    let a = mock
        .authorize(
            &id,
            &json!({"order_amount": 1, "billing_address": billing("customer@email.de")}),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["approved"], false, "{a:?}");
    assert_eq!(a.json()["show_form"], true);
    let fields = a.json()["error"]["invalid_fields"].as_array().unwrap();
    assert!(fields.contains(&json!("order_amount")), "{fields:?}");
}

#[tokio::test]
async fn the_clock_is_virtual_and_advances_on_request() {
    let mock = Mock::start().await;
    let a = mock.get("/__mock/clock").await;
    assert_eq!(a.json(), &json!({"now": T0}));
    let a = mock.advance(3599).await;
    assert_eq!(a.json(), &json!({"now": "2026-01-01T00:59:59Z"}));
    for bad in [
        json!({"advance_seconds": -1}),
        json!({"advance_seconds": 1.5}),
        json!({"advance_seconds": "60"}),
        json!({}),
    ] {
        mock.post("/__mock/clock", &bad).await.refused(
            400,
            "BAD_VALUE",
            &["Bad value: advance_seconds"],
        );
    }
    assert_eq!(
        mock.get("/__mock/clock").await.json()["now"],
        "2026-01-01T00:59:59Z"
    );
}

#[tokio::test]
async fn the_clock_start_is_configurable() {
    let config = klarna_conformance::mock::MockConfig::default().clock_start(0);
    let mock = Mock::with(config).await;
    assert_eq!(
        mock.get("/__mock/clock").await.json()["now"],
        "1970-01-01T00:00:00Z"
    );
}

/// Virtual time ends at 9999-12-31T23:59:59Z (the last instant RFC 3339 and
/// HTTP dates can write): an advance beyond it is refused and changes nothing.
#[tokio::test]
async fn the_clock_stops_at_the_end_of_year_9999() {
    let mock = Mock::start().await;
    let t0 = klarna_conformance::mock::parse_rfc3339(T0).unwrap();
    let last = klarna_conformance::mock::parse_rfc3339("9999-12-31T23:59:59Z").unwrap();
    for seconds in [u64::MAX, (last - t0 + 1) as u64] {
        mock.post("/__mock/clock", &json!({"advance_seconds": seconds}))
            .await
            .refused(400, "BAD_VALUE", &["Bad value: advance_seconds"]);
        assert_eq!(mock.get("/__mock/clock").await.json()["now"], T0);
    }
    let a = mock.advance((last - t0) as u64).await;
    assert_eq!(a.json()["now"], "9999-12-31T23:59:59Z");
    assert_eq!(a.header("date"), Some("Fri, 31 Dec 9999 23:59:59 GMT"));
    mock.post("/__mock/clock", &json!({"advance_seconds": 1}))
        .await
        .refused(400, "BAD_VALUE", &["Bad value: advance_seconds"]);
    assert_eq!(mock.advance(0).await.json()["now"], "9999-12-31T23:59:59Z");
}

/// Reference 3.2: an update is validated as if it were a new session.
#[tokio::test]
async fn an_update_that_breaks_the_session_is_400_and_changes_nothing() {
    let mock = Mock::start().await;
    let id = mock.create_session(&session_body()).await;
    let path = format!("/payments/v1/sessions/{id}");
    mock.post(&path, &json!({"order_amount": 1})).await.refused(
        400,
        "BAD_VALUE",
        &["Bad value: order_amount"],
    );
    mock.post(
        &path,
        &json!({"order_lines": null, "purchase_country": null}),
    )
    .await
    .refused(
        400,
        "BAD_VALUE",
        &["Bad value: order_lines, purchase_country"],
    );
    let view = mock.get(&path).await;
    assert_eq!(view.json()["order_amount"], 11900);
    assert_eq!(view.json()["purchase_country"], "DE");
    let (_, token) = {
        let a = mock
            .authorize(
                &id,
                &json!({"billing_address": billing("customer@email.de")}),
            )
            .await;
        (id.clone(), a.str("authorization_token"))
    };
    assert_eq!(mock.order(&token, &order_body()).await.status, 200);
}
