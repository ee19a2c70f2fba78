//! The header-level defect modes on the wire, through the router (no socket).

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::http::app;
use super::{DEFAULT_PASSWORD, DEFAULT_USERNAME, Defect, MockConfig};

struct Wire {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Wire {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send(app: &Router, method: Method, path: &str, body: Option<Value>) -> Wire {
    let auth = STANDARD.encode(format!("{DEFAULT_USERNAME}:{DEFAULT_PASSWORD}"));
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Basic {auth}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Wire {
        status,
        headers,
        body,
    }
}

fn session() -> Value {
    json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": 100, "order_tax_amount": 0,
        "order_lines": [{"name": "Pen", "quantity": 1, "unit_price": 100, "tax_rate": 0,
            "total_amount": 100, "total_tax_amount": 0}]
    })
}

fn mock(defect: Option<Defect>) -> Router {
    let config = MockConfig::default().seed(11);
    app(match defect {
        Some(d) => config.defect(d),
        None => config,
    })
}

/// A success (create session), a 204 (update), a store refusal (unknown
/// token) and an HTTP-layer refusal (unknown path).
async fn four_answers(app: &Router) -> [Wire; 4] {
    let created = send(app, Method::POST, "/payments/v1/sessions", Some(session())).await;
    let id = created.body["session_id"].as_str().unwrap_or("").to_owned();
    let updated = send(
        app,
        Method::POST,
        &format!("/payments/v1/sessions/{id}"),
        Some(json!({"merchant_reference1": "x"})),
    )
    .await;
    let unknown = send(
        app,
        Method::DELETE,
        "/payments/v1/authorizations/unknown",
        None,
    )
    .await;
    let nowhere = send(app, Method::GET, "/nowhere", None).await;
    [created, updated, unknown, nowhere]
}

#[tokio::test]
async fn text_plain_errors() {
    let [created, _, unknown, nowhere] = four_answers(&mock(None)).await;
    for error in [&unknown, &nowhere] {
        assert_eq!(error.header("content-type"), Some("application/json"));
    }
    assert_eq!(created.header("content-type"), Some("application/json"));

    let [created, _, unknown, nowhere] = four_answers(&mock(Some(Defect::TextPlainErrors))).await;
    for error in [&unknown, &nowhere] {
        assert!(error.status >= 400);
        assert_eq!(error.header("content-type"), Some("text/plain"));
        // The JSON body is unchanged.
        assert_eq!(
            error.body["correlation_id"].as_str(),
            error.header("klarna-correlation-id")
        );
    }
    assert_eq!(unknown.body["error_code"], "NOT_FOUND");
    assert_eq!(created.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn no_correlation_id_on_success() {
    for answer in four_answers(&mock(None)).await {
        assert!(answer.header("klarna-correlation-id").is_some());
    }
    let [created, updated, unknown, nowhere] =
        four_answers(&mock(Some(Defect::NoCorrelationIdOnSuccess))).await;
    assert_eq!((created.status, updated.status), (200, 204));
    assert!(!created.headers.contains_key("klarna-correlation-id"));
    assert!(!updated.headers.contains_key("klarna-correlation-id"));
    for error in [&unknown, &nowhere] {
        assert!(error.header("klarna-correlation-id").is_some());
    }
}

#[tokio::test]
async fn repeated_correlation_id() {
    let ids = |answers: &[Wire; 4]| -> Vec<String> {
        answers
            .iter()
            .map(|a| a.header("klarna-correlation-id").unwrap_or("").to_owned())
            .collect()
    };
    let faithful = ids(&four_answers(&mock(None)).await);
    let distinct: std::collections::HashSet<&String> = faithful.iter().collect();
    assert_eq!(distinct.len(), 4, "{faithful:?}");

    let app = mock(Some(Defect::RepeatedCorrelationId));
    let answers = four_answers(&app).await;
    let repeated = ids(&answers);
    assert!(uuid::Uuid::parse_str(&repeated[0]).is_ok());
    assert!(repeated.iter().all(|id| *id == repeated[0]), "{repeated:?}");
    assert_eq!(answers[2].body["correlation_id"], repeated[0].as_str());
    let later = send(&app, Method::GET, "/__mock/clock", None).await;
    assert_eq!(
        later.header("klarna-correlation-id"),
        Some(repeated[0].as_str())
    );
}

async fn with_password(app: &Router, password: &str) -> u16 {
    let auth = STANDARD.encode(format!("{DEFAULT_USERNAME}:{password}"));
    let request = Request::builder()
        .method(Method::GET)
        .uri("/__mock/clock")
        .header(header::AUTHORIZATION, format!("Basic {auth}"))
        .body(Body::empty())
        .unwrap();
    app.clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn accept_wrong_credentials() {
    assert_eq!(with_password(&mock(None), "wrong").await, 401);
    let app = mock(Some(Defect::AcceptWrongCredentials));
    assert_eq!(with_password(&app, "wrong").await, 200);
    assert_eq!(with_password(&app, DEFAULT_PASSWORD).await, 200);
}

#[tokio::test]
async fn missing_fields_accepted() {
    let mut body = session();
    body.as_object_mut().unwrap().remove("purchase_currency");
    let refused = send(
        &mock(None),
        Method::POST,
        "/payments/v1/sessions",
        Some(body.clone()),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.body["error_messages"][0],
        "Bad value: purchase_currency"
    );
    let app = mock(Some(Defect::MissingFieldsAccepted));
    let accepted = send(&app, Method::POST, "/payments/v1/sessions", Some(body)).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
}
