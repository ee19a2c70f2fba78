//! Order Management read-back and capture over HTTP (docs/klarna.md §9, §13);
//! the rest of the lifecycle is in mock_lifecycle.rs.

use crate::mock_common;

use mock_common::*;
use serde_json::json;

/// The recorded message (docs/klarna.md §11.3).
const OVER_REMAINING: &str =
    "Captured amount is higher than the remaining authorized amount. Capture not possible.";

async fn placed(mock: &Mock, auto_capture: bool) -> String {
    let (_, token) = mock.authorized(&session_body()).await;
    let mut o = order_body();
    o["auto_capture"] = json!(auto_capture);
    o["merchant_reference1"] = json!("ON4711");
    mock.order(&token, &o).await.str("order_id")
}

#[tokio::test]
async fn the_placed_order_reads_back() {
    let mock = Mock::start().await;
    let id = placed(&mock, false).await;
    let a = mock.get(&format!("/ordermanagement/v1/orders/{id}")).await;
    assert_eq!(a.status, 200, "{a:?}");
    let o = a.json();
    assert_eq!(o["order_id"], id.as_str());
    assert_eq!(o["status"], "AUTHORIZED");
    assert_eq!(o["order_amount"], 11900);
    assert_eq!(o["original_order_amount"], 11900);
    assert_eq!(o["captured_amount"], 0);
    assert_eq!(o["refunded_amount"], 0);
    assert_eq!(o["remaining_authorized_amount"], 11900);
    assert_eq!(o["purchase_currency"], "EUR");
    assert_eq!(o["locale"], "de-DE");
    assert_eq!(o["fraud_status"], "ACCEPTED");
    assert_eq!(o["merchant_reference1"], "ON4711");
    assert_eq!(o["order_lines"], order_body()["order_lines"]);
    assert_eq!(o["billing_address"], billing("customer@email.de"));
    assert_eq!(o["created_at"], T0);
    assert_eq!(o["expires_at"], "2026-01-29T00:00:00Z");
}

#[tokio::test]
async fn auto_capture_gives_captured() {
    let mock = Mock::start().await;
    let id = placed(&mock, true).await;
    let o = mock.get(&format!("/ordermanagement/v1/orders/{id}")).await;
    assert_eq!(o.json()["status"], "CAPTURED");
    assert_eq!(o.json()["remaining_authorized_amount"], 0);
}

#[tokio::test]
async fn captures_up_to_the_remaining_amount() {
    let mock = Mock::start().await;
    let id = placed(&mock, false).await;
    let path = format!("/ordermanagement/v1/orders/{id}/captures");
    let a = mock.post(&path, &json!({"captured_amount": 4000})).await;
    assert_eq!((a.status, a.raw.len()), (201, 0), "{a:?}");
    let capture_id = a.header("capture-id").unwrap().to_owned();
    // Absolute: the scheme and host the request was sent to (docs/klarna.md §13.2).
    assert_eq!(
        a.header("location").unwrap(),
        mock.url(&format!(
            "/ordermanagement/v1/orders/{id}/captures/{capture_id}"
        ))
    );
    assert!(uuid::Uuid::parse_str(a.header("transaction-id").unwrap()).is_ok());
    let read = format!("/ordermanagement/v1/orders/{id}");
    assert_eq!(mock.get(&read).await.json()["status"], "PART_CAPTURED");
    mock.post(&path, &json!({"captured_amount": 7901}))
        .await
        .refused(403, "CAPTURE_NOT_ALLOWED", &[OVER_REMAINING]);
    assert_eq!(
        mock.post(&path, &json!({"captured_amount": 7900}))
            .await
            .status,
        201
    );
    assert_eq!(mock.get(&read).await.json()["status"], "CAPTURED");
    mock.post(&path, &json!({"description": "no amount"}))
        .await
        .refused(
            422,
            "UNPROCESSABLE_ENTITY",
            &["'captured_amount' must not be null"],
        );
}

/// A PENDING order refuses captures (recorded, docs/klarna.md §11.3; the
/// message is inferred); it reads back as PENDING and AUTHORIZED.
#[tokio::test]
async fn pending_orders_refuse_captures() {
    let mock = Mock::start().await;
    let gb = json!({
        "purchase_country": "GB", "purchase_currency": "GBP", "locale": "en-GB",
        "order_amount": 12000, "order_tax_amount": 2000,
        "order_lines": [{"name": "Kettle", "quantity": 1, "unit_price": 12000, "tax_rate": 2000,
            "total_amount": 12000, "total_tax_amount": 2000}]
    });
    let session = mock.create_session(&gb).await;
    let a = mock
        .authorize(
            &session,
            &json!({"billing_address": {"email": "customer+pend-accept-05@email.uk"}}),
        )
        .await;
    let placed = mock.order(&a.str("authorization_token"), &gb).await;
    assert_eq!(placed.json()["fraud_status"], "PENDING", "{placed:?}");
    let id = placed.str("order_id");
    mock.post(
        &format!("/ordermanagement/v1/orders/{id}/captures"),
        &json!({"captured_amount": 100}),
    )
    .await
    .refused(403, "CAPTURE_NOT_ALLOWED", &["Capture not allowed"]);
    let o = mock.get(&format!("/ordermanagement/v1/orders/{id}")).await;
    assert_eq!(o.json()["fraud_status"], "PENDING");
    assert_eq!(o.json()["status"], "AUTHORIZED");
    assert_eq!(o.json()["captured_amount"], 0);
}

#[tokio::test]
async fn unknown_orders_are_no_such_order() {
    let mock = Mock::start().await;
    mock.get("/ordermanagement/v1/orders/abc").await.refused(
        404,
        "NO_SUCH_ORDER",
        &["Order abc cannot be found"],
    );
    mock.post(
        "/ordermanagement/v1/orders/abc/captures",
        &json!({"captured_amount": 1}),
    )
    .await
    .refused(404, "NO_SUCH_ORDER", &["Order abc cannot be found"]);
}
