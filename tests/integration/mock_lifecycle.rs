//! The order lifecycle over HTTP (docs/klarna.md §13.2–13.4): every Order
//! Management operation, `Klarna-Idempotency-Key`, `Transaction-Id`, the
//! absolute `Location`, PATCH, and bad input on every new endpoint.

use crate::mock_common;

use klarna_conformance::mock::MockConfig;
use mock_common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn om(id: &str, rest: &str) -> String {
    format!("/ordermanagement/v1/orders/{id}{rest}")
}

#[track_caller]
fn no_content(a: &Answer) -> String {
    assert_eq!((a.status, a.raw.len()), (204, 0), "{a:?}");
    let tx = a.header("transaction-id").expect("Transaction-Id");
    assert!(uuid::Uuid::parse_str(tx).is_ok(), "{tx}");
    tx.to_owned()
}

#[tokio::test]
async fn captures_refunds_and_their_objects() {
    let mock = Mock::start().await;
    let id = mock.placed().await;
    let key = [(
        "Klarna-Idempotency-Key",
        "7d1c4a0e-0000-4000-8000-000000000001",
    )];
    let body = json!({"captured_amount": 5000, "description": "Parcel 1",
        "shipping_info": [{"shipping_company": "DHL", "tracking_number": "T1"}]});
    let first = mock
        .call_with(Method::POST, &om(&id, "/captures"), Some(&body), &key)
        .await;
    assert_eq!((first.status, first.raw.len()), (201, 0), "{first:?}");
    let capture_id = first.header("capture-id").unwrap().to_owned();
    assert_eq!(
        first.header("location"),
        Some(
            mock.url(&om(&id, &format!("/captures/{capture_id}")))
                .as_str()
        )
    );
    let tx = first.header("transaction-id").unwrap().to_owned();
    // The same key again: the same answer, nothing new (docs/klarna.md §13.2).
    let again = mock
        .call_with(Method::POST, &om(&id, "/captures"), Some(&json!({})), &key)
        .await;
    assert_eq!(again.status, 201);
    for h in ["capture-id", "location", "transaction-id"] {
        assert_eq!(again.header(h), first.header(h), "{h}");
    }
    assert_ne!(again.correlation_id(), first.correlation_id());
    assert_eq!(tx, again.header("transaction-id").unwrap());

    let capture = mock.get(&om(&id, &format!("/captures/{capture_id}"))).await;
    assert_eq!(capture.status, 200, "{capture:?}");
    assert_eq!(capture.json()["captured_amount"], 5000);
    assert_eq!(capture.json()["description"], "Parcel 1");
    let list = mock.get(&om(&id, "/captures")).await;
    assert_eq!(list.json(), &json!([capture.json()]));

    let info = json!({"shipping_info": [{"tracking_number": "T2"}]});
    let ship = om(&id, &format!("/captures/{capture_id}/shipping-info"));
    let first_tx = no_content(&mock.post(&ship, &info).await);
    assert_eq!(no_content(&mock.post(&ship, &json!({})).await), first_tx);

    let r = mock
        .post(
            &om(&id, "/refunds"),
            &json!({"refunded_amount": 2000, "reference": "RF"}),
        )
        .await;
    assert_eq!((r.status, r.raw.len()), (201, 0), "{r:?}");
    let refund_id = r.header("refund-id").unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(
            mock.url(&om(&id, &format!("/refunds/{refund_id}")))
                .as_str()
        )
    );
    assert!(r.header("transaction-id").is_some());
    let refund = mock.get(&om(&id, &format!("/refunds/{refund_id}"))).await;
    assert_eq!(
        refund.json(),
        &json!({"refund_id": refund_id, "refunded_amount": 2000, "refunded_at": T0,
            "order_lines": [], "credit_invoice": false})
    );
    assert_eq!(
        mock.get(&om(&id, "/refunds")).await.json(),
        &json!([refund.json()])
    );
    mock.post(&om(&id, "/refunds"), &json!({"refunded_amount": 3001}))
        .await
        .refused(
            403,
            "REFUND_NOT_ALLOWED",
            &["Refunded amount is higher than the captured amount. Refund not possible."],
        );

    let o = mock.get(&om(&id, "")).await;
    let o = o.json();
    assert_eq!(o["status"], "PART_CAPTURED");
    assert_eq!(o["captured_amount"], 5000);
    assert_eq!(o["refunded_amount"], 2000);
    assert_eq!(o["remaining_authorized_amount"], 6900);
    assert_eq!(
        o["captures"][0]["shipping_info"],
        json!([{"tracking_number": "T2"}])
    );
    assert_eq!(o["refunds"][0]["refund_id"], refund_id.as_str());
    assert_eq!(o["initial_payment_method"]["type"], "INVOICE");
    assert_eq!(o["customer"]["type"], "person");
}

#[tokio::test]
async fn the_204_operations_take_effect_once() {
    let mock = Mock::start().await;
    let id = mock.placed().await;
    for op in ["/acknowledge", "/extend-authorization-time"] {
        let tx = no_content(&mock.post(&om(&id, op), &json!({})).await);
        // A body is optional.
        let again = mock.call(Method::POST, &om(&id, op), None).await;
        assert_eq!(no_content(&again), tx, "{op}");
    }
    assert_eq!(
        mock.get(&om(&id, "")).await.json()["expires_at"],
        "2026-02-26T00:00:00Z"
    );
    let refs = om(&id, "/merchant-references");
    let tx = no_content(
        &mock
            .patch(
                &refs,
                &json!({"merchant_reference1": "ON-1", "merchant_reference2": "E-2"}),
            )
            .await,
    );
    assert_eq!(
        no_content(
            &mock
                .patch(&refs, &json!({"merchant_reference1": "X"}))
                .await
        ),
        tx
    );
    let o = mock.get(&om(&id, "")).await;
    assert_eq!(
        (
            &o.json()["merchant_reference1"],
            &o.json()["merchant_reference2"]
        ),
        (&json!("ON-1"), &json!("E-2"))
    );
    let tx = no_content(
        &mock
            .call(
                Method::POST,
                &om(&id, "/release-remaining-authorization"),
                None,
            )
            .await,
    );
    assert_eq!(mock.get(&om(&id, "")).await.json()["status"], "CLOSED");
    assert_eq!(
        no_content(
            &mock
                .call(
                    Method::POST,
                    &om(&id, "/release-remaining-authorization"),
                    None
                )
                .await
        ),
        tx
    );
    let tx = no_content(&mock.call(Method::POST, &om(&id, "/cancel"), None).await);
    assert_eq!(
        no_content(&mock.call(Method::POST, &om(&id, "/cancel"), None).await),
        tx
    );
    assert_eq!(mock.get(&om(&id, "")).await.json()["status"], "CANCELLED");

    let captured = mock.placed().await;
    mock.post(&om(&captured, "/captures"), &json!({"captured_amount": 1}))
        .await;
    mock.call(Method::POST, &om(&captured, "/cancel"), None)
        .await
        .refused(
            403,
            "CANCEL_NOT_ALLOWED",
            &["Order has previous captures. Cancel not possible"],
        );
}

/// Expiry on the virtual clock: EXPIRED after 28 days, refused extension.
#[tokio::test]
async fn orders_expire_on_the_virtual_clock() {
    let mock = Mock::start().await;
    let id = mock.placed().await;
    mock.advance(28 * 86_400).await;
    let o = mock.get(&om(&id, "")).await;
    assert_eq!(
        (
            &o.json()["status"],
            &o.json()["remaining_authorized_amount"]
        ),
        (&json!("EXPIRED"), &json!(0))
    );
    mock.post(&om(&id, "/extend-authorization-time"), &json!({}))
        .await
        .refused(
            403,
            "NOT_ALLOWED",
            &["Order is expired. Authorization time cannot be extended."],
        );
    mock.post(&om(&id, "/captures"), &json!({"captured_amount": 1}))
        .await
        .refused(403, "CAPTURE_NOT_ALLOWED", &["Capture not allowed"]);
    mock.advance(337 * 86_400).await;
    mock.get(&om(&id, "")).await.refused(
        404,
        "NO_SUCH_ORDER",
        &[&format!("Order {id} cannot be found")],
    );
}

/// `Location` names the host the request was sent to.
#[tokio::test]
async fn location_follows_the_host_header() {
    let mock = Mock::start().await;
    let id = mock.placed().await;
    let a = mock
        .call_with(
            Method::POST,
            &om(&id, "/captures"),
            Some(&json!({"captured_amount": 100})),
            &[("host", "api.shop-proxy.example:8443")],
        )
        .await;
    let location = a.header("location").unwrap();
    assert!(
        location.starts_with(&format!(
            "http://api.shop-proxy.example:8443/ordermanagement/v1/orders/{id}/captures/"
        )),
        "{location}"
    );
}

/// In-process, without a `Host` header: `http://localhost`.
#[tokio::test]
async fn the_router_without_a_host_says_localhost() {
    use axum::body::Body;
    use axum::http::Request;
    use base64::Engine as _;
    use http_body_util::BodyExt;
    use klarna_conformance::mock::{DEFAULT_PASSWORD, DEFAULT_USERNAME};
    use tower::ServiceExt;

    let app = klarna_conformance::mock::router(MockConfig::default().seed(5));
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{DEFAULT_USERNAME}:{DEFAULT_PASSWORD}"));
    let send = |method: &'static str, path: String, body: Value| {
        let app = app.clone();
        let auth = auth.clone();
        async move {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", format!("Basic {auth}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            (headers, body)
        }
    };
    let (_, session) = send("POST", "/payments/v1/sessions".into(), session_body()).await;
    let session_id = session["session_id"].as_str().unwrap().to_owned();
    let (_, auth_answer) = send(
        "POST",
        format!("/__mock/sessions/{session_id}/authorize"),
        json!({"billing_address": billing("customer@email.de")}),
    )
    .await;
    let token = auth_answer["authorization_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, placed) = send(
        "POST",
        format!("/payments/v1/authorizations/{token}/order"),
        order_body(),
    )
    .await;
    let id = placed["order_id"].as_str().unwrap().to_owned();
    let (headers, _) = send(
        "POST",
        om(&id, "/captures"),
        json!({"captured_amount": 100}),
    )
    .await;
    let location = headers.get("location").unwrap().to_str().unwrap();
    assert!(
        location.starts_with(&format!(
            "http://localhost/ordermanagement/v1/orders/{id}/captures/"
        )),
        "{location}"
    );
}

/// Every new endpoint: wrong methods are 405 with `Allow`.
#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let mock = Mock::start().await;
    let id = mock.placed().await;
    for (method, path, allow) in [
        (Method::DELETE, om(&id, "/captures"), "GET, POST"),
        (Method::PATCH, om(&id, "/captures/c"), "GET"),
        (Method::GET, om(&id, "/captures/c/shipping-info"), "POST"),
        (Method::PUT, om(&id, "/refunds"), "GET, POST"),
        (Method::POST, om(&id, "/refunds/r"), "GET"),
        (Method::GET, om(&id, "/cancel"), "POST"),
        (Method::PATCH, om(&id, "/extend-authorization-time"), "POST"),
        (
            Method::GET,
            om(&id, "/release-remaining-authorization"),
            "POST",
        ),
        (Method::DELETE, om(&id, "/acknowledge"), "POST"),
        (Method::POST, om(&id, "/merchant-references"), "PATCH"),
        (Method::POST, "/customer-token/v1/tokens/t".into(), "GET"),
        (
            Method::POST,
            "/customer-token/v1/tokens/t/status".into(),
            "PATCH",
        ),
        (
            Method::GET,
            "/customer-token/v1/tokens/t/order".into(),
            "POST",
        ),
        (
            Method::GET,
            format!("/__mock/orders/{id}/fraud-decision"),
            "POST",
        ),
        (Method::POST, "/__mock/notifications".into(), "GET"),
        (Method::PATCH, "/payments/v1/sessions".into(), "POST"),
    ] {
        let a = mock.call(method.clone(), &path, None).await;
        assert_eq!(a.status, 405, "{method} {path}: {a:?}");
        assert_eq!(a.json()["error_code"], "METHOD_NOT_ALLOWED");
        assert_eq!(a.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(a.json()["correlation_id"], a.correlation_id());
    }
    for path in [
        om(&id, "/captures/c/x"),
        om(&id, "/shipping-info/x"),
        "/customer-token/v1/tokens".to_owned(),
        "/customer-token/v1/tokens/t/x".to_owned(),
        "/__mock/orders/x".to_owned(),
    ] {
        mock.get(&path)
            .await
            .refused(404, "NOT_FOUND", &[&format!("No such resource: {path}")]);
    }
}

/// The endpoints that take a body, with the body each needs.
fn bodied(id: &str, capture_id: &str) -> Vec<(Method, String)> {
    vec![
        (Method::POST, om(id, "/captures")),
        (
            Method::POST,
            om(id, &format!("/captures/{capture_id}/shipping-info")),
        ),
        (Method::POST, om(id, "/refunds")),
        (Method::PATCH, om(id, "/merchant-references")),
        (
            Method::PATCH,
            "/customer-token/v1/tokens/t/status".to_owned(),
        ),
        (Method::POST, "/customer-token/v1/tokens/t/order".to_owned()),
        (Method::POST, format!("/__mock/orders/{id}/fraud-decision")),
        // Optional bodies are still judged when sent.
        (Method::POST, om(id, "/cancel")),
        (Method::POST, om(id, "/extend-authorization-time")),
        (Method::POST, om(id, "/release-remaining-authorization")),
        (Method::POST, om(id, "/acknowledge")),
    ]
}

#[tokio::test]
async fn bad_bodies_on_every_new_endpoint() {
    let mock = Mock::with(MockConfig::default().body_limit(1024)).await;
    let id = mock.placed().await;
    let a = mock
        .post(&om(&id, "/captures"), &json!({"captured_amount": 10}))
        .await;
    let capture_id = a.header("capture-id").unwrap().to_owned();
    let big = json!({"description": "x".repeat(2000)}).to_string();
    for (method, path) in bodied(&id, &capture_id) {
        let a = mock
            .raw(method.clone(), &path, Some("application/json"), "{\"a\": ")
            .await;
        assert_eq!(
            (a.status, a.json()["error_code"].as_str()),
            (400, Some("BAD_REQUEST")),
            "{method} {path}: {a:?}"
        );
        assert_eq!(a.json()["correlation_id"], a.correlation_id());
        mock.raw(method.clone(), &path, Some("application/json"), "[1]")
            .await
            .refused(
                400,
                "BAD_REQUEST",
                &["Invalid JSON: the body must be a JSON object"],
            );
        mock.raw(method.clone(), &path, Some("text/plain"), "{}")
            .await
            .refused(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                &["Content-Type must be application/json"],
            );
        mock.raw(method.clone(), &path, Some("application/json"), &big)
            .await
            .refused(
                413,
                "REQUEST_TOO_LARGE",
                &["Request body larger than 1024 bytes"],
            );
    }
}

/// Values of the wrong type: Klarna-shaped 400/422, never a server error.
#[tokio::test]
async fn wrong_types_on_every_new_endpoint() {
    let mock = Mock::start().await;
    let id = mock.placed().await;
    let a = mock
        .post(&om(&id, "/captures"), &json!({"captured_amount": 10}))
        .await;
    let capture_id = a.header("capture-id").unwrap().to_owned();
    let weird = [
        json!({}),
        json!({"captured_amount": "10", "refunded_amount": [1], "shipping_info": "x"}),
        json!({"captured_amount": -1, "refunded_amount": 1e300, "shipping_info": {}}),
        json!({"merchant_reference1": 1, "status": ["CANCELLED"], "fraud_status": {}}),
        json!({"order_lines": "x", "description": 5, "reference": null}),
        json!({"order_amount": "x", "purchase_country": 7, "order_lines": [null]}),
    ];
    for (method, path) in bodied(&id, &capture_id) {
        for body in &weird {
            let a = mock.call(method.clone(), &path, Some(body)).await;
            assert!(a.status < 500, "{method} {path} {body}: {a:?}");
            if a.status >= 400 {
                assert!(a.json()["error_code"].is_string(), "{a:?}");
                assert_eq!(a.json()["correlation_id"], a.correlation_id());
            }
        }
    }
    mock.post(&om(&id, "/captures"), &json!({"captured_amount": "10"}))
        .await
        .refused(400, "BAD_VALUE", &["Bad value: captured_amount"]);
    mock.post(&om(&id, "/refunds"), &json!({})).await.refused(
        422,
        "UNPROCESSABLE_ENTITY",
        &["'refunded_amount' must not be null"],
    );
    mock.post(
        &om(&id, &format!("/captures/{capture_id}/shipping-info")),
        &json!({"shipping_info": null}),
    )
    .await;
}

/// Unknown ids on every new endpoint: the documented 404s.
#[tokio::test]
async fn unknown_ids_on_every_new_endpoint() {
    let mock = Mock::start().await;
    let none = "00000000-0000-4000-8000-000000000000";
    let message = format!("Order {none} cannot be found");
    for (method, path, body) in [
        (Method::GET, om(none, "/captures"), None),
        (Method::GET, om(none, "/captures/c"), None),
        (
            Method::POST,
            om(none, "/captures/c/shipping-info"),
            Some(json!({"shipping_info": []})),
        ),
        (
            Method::POST,
            om(none, "/refunds"),
            Some(json!({"refunded_amount": 1})),
        ),
        (Method::GET, om(none, "/refunds"), None),
        (Method::GET, om(none, "/refunds/r"), None),
        (Method::POST, om(none, "/cancel"), None),
        (Method::POST, om(none, "/extend-authorization-time"), None),
        (
            Method::POST,
            om(none, "/release-remaining-authorization"),
            None,
        ),
        (Method::POST, om(none, "/acknowledge"), None),
        (
            Method::PATCH,
            om(none, "/merchant-references"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/__mock/orders/{none}/fraud-decision"),
            Some(json!({"fraud_status": "ACCEPTED"})),
        ),
    ] {
        mock.call(method, &path, body.as_ref())
            .await
            .refused(404, "NO_SUCH_ORDER", &[&message]);
    }
    let id = mock.placed().await;
    mock.get(&om(&id, &format!("/captures/{none}")))
        .await
        .refused(
            404,
            "NO_SUCH_CAPTURE",
            &[&format!("Capture {none} cannot be found")],
        );
    mock.post(
        &om(&id, "/captures/c-1/shipping-info"),
        &json!({"shipping_info": []}),
    )
    .await
    .refused(404, "NO_SUCH_CAPTURE", &["Capture c-1 cannot be found"]);
    mock.get(&om(&id, "/refunds/r-1")).await.refused(
        404,
        "NO_SUCH_REFUND",
        &["Refund r-1 cannot be found"],
    );
    for (method, path, body) in [
        (
            Method::GET,
            format!("/customer-token/v1/tokens/{none}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/customer-token/v1/tokens/{none}/status"),
            Some(json!({"status": "CANCELLED"})),
        ),
        (
            Method::POST,
            format!("/customer-token/v1/tokens/{none}/order"),
            Some(order_body()),
        ),
    ] {
        mock.call(method, &path, body.as_ref()).await.refused(
            404,
            "TOKEN_NOT_FOUND",
            &["Customer token not found"],
        );
    }
}
