//! Customer tokens over HTTP (docs/klarna.md §13.6): issuing one, the
//! identical retry, and the Customer Token API with `Klarna-Idempotency-Key`.

use crate::mock_common;

use mock_common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn token_request() -> Value {
    json!({"description": "Coffee subscription", "intended_use": "SUBSCRIPTION",
        "locale": "de-DE", "purchase_country": "DE", "purchase_currency": "EUR"})
}

/// A customer token of a `tokenize` session; returns the issuing answer.
async fn issued(mock: &Mock) -> Answer {
    let mut session = session_body();
    session["intent"] = json!("tokenize");
    let (_, token) = mock.authorized(&session).await;
    let path = format!("/payments/v1/authorizations/{token}/customer-token");
    let a = mock.post(&path, &token_request()).await;
    assert_eq!(a.status, 200, "{a:?}");
    // The identical request again: the same answer.
    let again = mock.post(&path, &token_request()).await;
    assert_eq!(again.json(), a.json());
    let mut other = token_request();
    other["description"] = json!("Tea");
    mock.post(&path, &other).await.refused(
        403,
        "INVALID_OPERATION",
        &["Authorization token already consumed"],
    );
    a
}

#[tokio::test]
async fn a_customer_token_lives_in_the_customer_token_api() {
    let mock = Mock::start().await;
    let a = issued(&mock).await;
    assert_eq!(a.json()["billing_address"], billing("customer@email.de"));
    let id = a.str("token_id");
    let path = format!("/customer-token/v1/tokens/{id}");
    let read = mock.get(&path).await;
    assert_eq!(
        read.json(),
        &json!({"payment_method_type": "INVOICE", "status": "ACTIVE"})
    );

    let order_path = format!("{path}/order");
    let key = [("Klarna-Idempotency-Key", "sub-2026-01")];
    let first = mock
        .call_with(Method::POST, &order_path, Some(&session_body()), &key)
        .await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.json()["fraud_status"], "ACCEPTED");
    assert_eq!(
        first.json()["authorized_payment_method"],
        json!({"type": "invoice"})
    );
    assert!(first.json().get("redirect_url").is_none());
    let again = mock
        .call_with(Method::POST, &order_path, Some(&session_body()), &key)
        .await;
    assert_eq!(again.json(), first.json());
    let unkeyed = mock.post(&order_path, &session_body()).await;
    assert_ne!(unkeyed.json()["order_id"], first.json()["order_id"]);
    let o = mock
        .get(&format!(
            "/ordermanagement/v1/orders/{}",
            first.str("order_id")
        ))
        .await;
    assert_eq!(o.json()["status"], "AUTHORIZED");

    let status = format!("{path}/status");
    mock.patch(&status, &json!({"status": "ACTIVE"}))
        .await
        .refused(400, "BAD_VALUE", &["Bad value: status"]);
    for _ in 0..2 {
        let a = mock.patch(&status, &json!({"status": "CANCELLED"})).await;
        assert_eq!((a.status, a.raw.len()), (202, 0), "{a:?}");
    }
    assert_eq!(mock.get(&path).await.json()["status"], "CANCELLED");
    mock.post(&order_path, &session_body()).await.refused(
        403,
        "INVALID_OPERATION",
        &["Customer token is not active"],
    );
    // Validation comes before the cancelled token.
    let mut bad = session_body();
    bad["order_amount"] = json!(1);
    mock.post(&order_path, &bad)
        .await
        .refused(400, "BAD_VALUE", &["Bad value: order_amount"]);
}

#[tokio::test]
async fn unknown_customer_tokens() {
    let mock = Mock::start().await;
    for path in [
        "/customer-token/v1/tokens/nope".to_owned(),
        "/customer-token/v1/tokens/00000000-0000-4000-8000-000000000000".to_owned(),
    ] {
        mock.get(&path)
            .await
            .refused(404, "TOKEN_NOT_FOUND", &["Customer token not found"]);
        mock.patch(&format!("{path}/status"), &json!({"status": "CANCELLED"}))
            .await
            .refused(404, "TOKEN_NOT_FOUND", &["Customer token not found"]);
        mock.post(&format!("{path}/order"), &session_body())
            .await
            .refused(404, "TOKEN_NOT_FOUND", &["Customer token not found"]);
    }
}
