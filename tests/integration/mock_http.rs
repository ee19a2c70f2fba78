//! The HTTP layer: credentials, routing, bad input, body limits, correlation
//! ids, concurrency, determinism, and the `serve` binary.

use crate::mock_common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use klarna_conformance::mock::{DEFAULT_PASSWORD, DEFAULT_USERNAME, MockConfig};
use mock_common::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn raw(
    mock: &Mock,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> Answer {
    let mut r = mock
        .client
        .request(method, mock.url(path))
        .basic_auth(&mock.user, Some(&mock.password))
        .body(body.to_owned());
    if let Some(ct) = content_type {
        r = r.header("content-type", ct);
    }
    read(r.send().await.unwrap()).await
}

#[tokio::test]
async fn credentials_are_required() {
    let mock = Mock::start().await;
    let url = mock.url("/payments/v1/sessions");
    let none = read(
        mock.client
            .post(&url)
            .json(&session_body())
            .send()
            .await
            .unwrap(),
    )
    .await;
    none.refused(401, "UNAUTHORIZED", &[]);
    assert!(none.header("www-authenticate").is_some());
    let wrong = mock
        .client
        .post(&url)
        .basic_auth(DEFAULT_USERNAME, Some("wrong"))
        .json(&session_body());
    read(wrong.send().await.unwrap())
        .await
        .refused(401, "UNAUTHORIZED", &[]);
    // Credentials come before routing.
    let unknown = mock.client.get(mock.url("/nowhere")).send().await.unwrap();
    read(unknown).await.refused(401, "UNAUTHORIZED", &[]);
    let right = mock
        .client
        .post(&url)
        .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
        .json(&session_body());
    assert_eq!(right.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn configured_credentials_replace_the_defaults() {
    let mock = Mock::with(MockConfig::default().credentials("merchant", "s3cret")).await;
    assert_eq!(
        mock.post("/payments/v1/sessions", &session_body())
            .await
            .status,
        200
    );
    let old = mock
        .client
        .post(mock.url("/payments/v1/sessions"))
        .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
        .json(&session_body());
    assert_eq!(old.send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let mock = Mock::start().await;
    let a = mock.get("/payments/v2/sessions").await;
    a.refused(
        404,
        "NOT_FOUND",
        &["No such resource: /payments/v2/sessions"],
    );
    let a = mock.get("/payments/v1/sessions").await;
    assert_eq!(a.status, 405);
    assert_eq!(a.json()["error_code"], "METHOD_NOT_ALLOWED");
    assert_eq!(a.header("allow"), Some("POST"));
    let a = mock
        .call(Method::PUT, "/payments/v1/authorizations/x/order", None)
        .await;
    assert_eq!((a.status, a.header("allow")), (405, Some("POST")));
}

#[tokio::test]
async fn trailing_and_doubled_slashes_are_accepted() {
    let mock = Mock::start().await;
    assert_eq!(
        mock.post("/payments/v1/sessions/", &session_body())
            .await
            .status,
        200
    );
    let id = mock.create_session(&session_body()).await;
    assert_eq!(
        mock.get(&format!("/payments//v1/sessions/{id}/"))
            .await
            .status,
        200
    );
}

/// `--strict` drops the playground's path leniency (docs/klarna.md §10):
/// an empty path segment is an unknown resource.
#[tokio::test]
async fn strict_mode_refuses_trailing_and_doubled_slashes() {
    let mock = Mock::with(MockConfig::default().strict(true)).await;
    for path in ["/payments/v1/sessions/", "/payments//v1/sessions"] {
        mock.post(path, &session_body()).await.refused(
            404,
            "NOT_FOUND",
            &[&format!("No such resource: {path}")],
        );
    }
    let id = mock.create_session(&session_body()).await;
    let path = format!("/payments/v1/sessions/{id}/");
    mock.get(&path)
        .await
        .refused(404, "NOT_FOUND", &[&format!("No such resource: {path}")]);
    assert_eq!(
        mock.get(&format!("/payments/v1/sessions/{id}"))
            .await
            .status,
        200
    );
    // The control API follows the same rule.
    assert_eq!(mock.get("/__mock/clock/").await.status, 404);
}

#[tokio::test]
async fn malformed_json_is_400_bad_request() {
    let mock = Mock::start().await;
    let a = raw(
        &mock,
        Method::POST,
        "/payments/v1/sessions",
        Some("application/json"),
        "{\"order_amount\": 1,",
    )
    .await;
    assert_eq!(
        (a.status, a.json()["error_code"].as_str()),
        (400, Some("BAD_REQUEST"))
    );
    let message = a.json()["error_messages"][0].as_str().unwrap();
    assert!(
        message.starts_with("Invalid JSON: ") && message.contains("line 1 column"),
        "{message}"
    );
    assert_eq!(a.json()["correlation_id"], a.correlation_id());
    let a = raw(
        &mock,
        Method::POST,
        "/payments/v1/sessions",
        Some("application/json"),
        "[1, 2]",
    )
    .await;
    a.refused(
        400,
        "BAD_REQUEST",
        &["Invalid JSON: the body must be a JSON object"],
    );
    let a = raw(
        &mock,
        Method::POST,
        "/payments/v1/sessions",
        Some("application/json"),
        "",
    )
    .await;
    assert_eq!(a.status, 400);
}

#[tokio::test]
async fn a_body_needs_a_json_content_type() {
    let mock = Mock::start().await;
    let body = session_body().to_string();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let a = raw(&mock, Method::POST, "/payments/v1/sessions", ct, &body).await;
        a.refused(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            &["Content-Type must be application/json"],
        );
    }
    for ct in [
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.klarna+json",
    ] {
        let a = raw(
            &mock,
            Method::POST,
            "/payments/v1/sessions",
            Some(ct),
            &body,
        )
        .await;
        assert_eq!(a.status, 200, "{ct}: {a:?}");
    }
}

#[tokio::test]
async fn values_of_the_wrong_type_are_bad_values() {
    let mock = Mock::start().await;
    let mut body = session_body();
    body["order_amount"] = json!("11900");
    let a = mock.post("/payments/v1/sessions", &body).await;
    assert_eq!(
        (a.status, a.json()["error_code"].as_str()),
        (400, Some("BAD_VALUE")),
        "{a:?}"
    );
    assert!(
        a.json()["error_messages"]
            .to_string()
            .contains("order_amount"),
        "{a:?}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let mock = Mock::with(MockConfig::default().body_limit(1024)).await;
    let mut body = session_body();
    body["merchant_data"] = json!("x".repeat(2000));
    mock.post("/payments/v1/sessions", &body).await.refused(
        413,
        "REQUEST_TOO_LARGE",
        &["Request body larger than 1024 bytes"],
    );
    // Chunked (no Content-Length): the limit holds while reading.
    assert_eq!(chunked_post(&mock, &body.to_string()).await, 413);
}

/// Sends a chunked POST over a raw socket and returns the status code.
async fn chunked_post(mock: &Mock, body: &str) -> u16 {
    use base64::Engine as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", mock.user, mock.password));
    let mut request = format!(
        "POST /payments/v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    for chunk in body.as_bytes().chunks(256) {
        request.push_str(&format!(
            "{:x}\r\n{}\r\n",
            chunk.len(),
            String::from_utf8_lossy(chunk)
        ));
    }
    request.push_str("0\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(mock.server.addr())
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The default limit takes Klarna's largest cart: 1000 lines at every maximum length.
#[tokio::test]
async fn the_default_limit_takes_1000_lines_at_maximum_length() {
    let mock = Mock::start().await;
    let line = json!({
        "type": "physical",
        // The longest reference the playground took (docs/klarna.md §11.5, §13.7).
        "reference": "r".repeat(64),
        "name": "n".repeat(255),
        "quantity": 1,
        "quantity_unit": "u".repeat(8),
        "unit_price": 100,
        "tax_rate": 0,
        "total_amount": 100,
        "total_discount_amount": 0,
        "total_tax_amount": 0,
        "merchant_data": "m".repeat(1024),
        "product_url": format!("https://example.com/{}", "p".repeat(1004)),
        "image_url": format!("https://example.com/{}", "i".repeat(1004)),
        "product_identifiers": {
            "brand": "b".repeat(70), "category_path": "c".repeat(750), "color": "c".repeat(64),
            "global_trade_item_number": "1".repeat(50), "manufacturer_part_number": "m".repeat(70),
            "size": "s".repeat(64)
        }
    });
    let mut body = session_body();
    body["order_lines"] = Value::Array(vec![line; 1000]);
    body["order_amount"] = json!(100_000);
    body["order_tax_amount"] = json!(0);
    assert!(body.to_string().len() > 4_000_000);
    let a = mock.post("/payments/v1/sessions", &body).await;
    assert_eq!(
        a.status,
        200,
        "{}",
        String::from_utf8_lossy(&a.raw[..a.raw.len().min(500)])
    );
    assert!(a.status < 500);
}

#[tokio::test]
async fn bad_input_never_gives_a_server_error() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let id = mock.create_session(&session_body()).await;
    let weird = [
        json!({}),
        json!({"order_lines": "x"}),
        json!({"order_lines": [null, 1, "a", {}]}),
        json!({"order_amount": 1e300, "purchase_country": 7}),
        json!({"order_lines": [{"quantity": -9223372036854775808i64, "unit_price": 9223372036854775807i64}]}),
        json!({"billing_address": [], "customer": "me", "merchant_urls": 1}),
        json!({"payment_method_category": {"a": 1}}),
        json!({"captured_amount": "all"}),
        json!({"intent": ["buy"]}),
    ];
    let paths = [
        "/payments/v1/sessions".to_owned(),
        format!("/payments/v1/sessions/{id}"),
        format!("/__mock/sessions/{id}/authorize"),
        format!("/payments/v1/authorizations/{token}/order"),
        format!("/payments/v1/authorizations/{token}/customer-token"),
        "/ordermanagement/v1/orders/x/captures".to_owned(),
        "/__mock/clock".to_owned(),
    ];
    for path in &paths {
        for body in &weird {
            let a = mock.post(path, body).await;
            assert!(a.status < 500, "{path} {body}: {a:?}");
        }
    }
    // Deep nesting is refused by the parser, not by a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let a = raw(
        &mock,
        Method::POST,
        "/payments/v1/sessions",
        Some("application/json"),
        &deep,
    )
    .await;
    assert_eq!(a.status, 400);
    // State is intact afterwards: the refusals were all validation 400s,
    // which never stick to a token (docs/klarna.md §11.1), so the token still
    // places its order; and a new flow works.
    assert_eq!(mock.order(&token, &order_body()).await.status, 200);
    let (_, fresh) = mock.authorized(&session_body()).await;
    assert_eq!(mock.order(&fresh, &order_body()).await.status, 200);
}

#[tokio::test]
async fn every_answer_has_a_correlation_id() {
    let mock = Mock::start().await;
    let (id, token) = mock.authorized(&session_body()).await;
    let mut seen = std::collections::HashSet::new();
    let answers = [
        mock.get(&format!("/payments/v1/sessions/{id}")).await,
        mock.post(&format!("/payments/v1/sessions/{id}"), &session_body())
            .await,
        mock.delete(&format!("/payments/v1/authorizations/{token}"))
            .await,
        mock.get("/__mock/clock").await,
        mock.get("/nowhere").await,
    ];
    for a in &answers {
        assert!(uuid::Uuid::parse_str(a.correlation_id()).is_ok(), "{a:?}");
        assert!(seen.insert(a.correlation_id().to_owned()));
    }
}

#[tokio::test]
async fn the_idempotency_key_is_accepted_and_ignored() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let a = mock
        .client
        .post(mock.url(&format!("/payments/v1/authorizations/{token}/order")))
        .basic_auth(&mock.user, Some(&mock.password))
        .header(
            "Klarna-Idempotency-Key",
            "5a4b3c2d-0000-4000-8000-000000000000",
        )
        .json(&order_body());
    assert_eq!(a.send().await.unwrap().status(), 200);
}

/// 32 clients place the same order at once: one order, the same answer for all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_orders_with_one_token_create_one_order() {
    let mock = Mock::start().await;
    let (_, token) = mock.authorized(&session_body()).await;
    let url = mock.url(&format!("/payments/v1/authorizations/{token}/order"));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let client = reqwest::Client::new();
            let url = url.clone();
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
                    .json(&order_body())
                    .send()
                    .await
                    .unwrap();
                read(r).await
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.status, 200, "{a:?}");
        bodies.push(a.body.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    // Conflicting bodies at once: exactly one wins, the others get the documented 409.
    let (_, token) = mock.authorized(&session_body()).await;
    let url = mock.url(&format!("/payments/v1/authorizations/{token}/order"));
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let client = reqwest::Client::new();
            let url = url.clone();
            tokio::spawn(async move {
                let mut body = order_body();
                body["merchant_reference1"] = json!(format!("client-{i}"));
                let r = client
                    .post(url)
                    .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                read(r).await
            })
        })
        .collect();
    let mut placed = 0;
    for t in tasks {
        let a = t.await.unwrap();
        match a.status {
            200 => placed += 1,
            _ => a.refused(
                409,
                "BAD_VALUE",
                &["The order has been already completed with different request body"],
            ),
        }
    }
    assert_eq!(placed, 1);
}

/// Same seed, same requests: byte-identical answers, headers (`Date` from the
/// virtual clock) and correlation ids included.
#[tokio::test]
async fn seeded_mocks_answer_byte_for_byte_the_same() {
    type Wire = (u16, Vec<(String, Vec<u8>)>, Vec<u8>);
    async fn run(seed: u64) -> Vec<Wire> {
        let mock = Mock::with(MockConfig::default().seed(seed)).await;
        let mut out = Vec::new();
        let a = mock.post("/payments/v1/sessions", &session_body()).await;
        let id = a.str("session_id");
        out.push(a);
        let auth = mock
            .authorize(
                &id,
                &json!({"billing_address": billing("customer@email.de")}),
            )
            .await;
        let token = auth.str("authorization_token");
        out.push(auth);
        let o = mock.order(&token, &order_body()).await;
        let order_id = o.str("order_id");
        out.push(o);
        out.push(mock.get(&format!("/payments/v1/sessions/{id}")).await);
        out.push(
            mock.get(&format!("/ordermanagement/v1/orders/{order_id}"))
                .await,
        );
        out.push(mock.order("nope", &order_body()).await);
        out.push(mock.advance(3600).await);
        out.push(mock.get("/payments/v2/nope").await);
        out.into_iter()
            .map(|a| {
                let mut headers: Vec<(String, Vec<u8>)> = a
                    .headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
                    .collect();
                headers.sort();
                assert!(
                    headers.iter().any(|(k, _)| k == "klarna-correlation-id"),
                    "{headers:?}"
                );
                (a.status, headers, a.raw)
            })
            .collect()
    }
    let a = run(42).await;
    // Let the wall clock move on: a wall-clock Date would differ now.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (b, c) = (run(42).await, run(43).await);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// Every answer's `Date` is the mock's virtual time in IMF-fixdate form
/// (RFC 9110 5.6.7), so seeded answers are byte-identical.
#[tokio::test]
async fn the_date_header_follows_the_virtual_clock() {
    let mock = Mock::start().await;
    let date = |a: &Answer| a.header("date").map(str::to_owned);
    let a = mock.get("/__mock/clock").await;
    assert_eq!(date(&a).as_deref(), Some("Thu, 01 Jan 2026 00:00:00 GMT"));
    let a = mock.post("/payments/v1/sessions", &session_body()).await;
    assert_eq!(date(&a).as_deref(), Some("Thu, 01 Jan 2026 00:00:00 GMT"));
    let a = mock.advance(86_400 * 59 + 3661).await;
    assert_eq!(date(&a).as_deref(), Some("Sun, 01 Mar 2026 01:01:01 GMT"));
    // Refusals made before the store (credentials, routing) carry it too.
    let a = read(
        mock.client
            .get(mock.url("/__mock/clock"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(date(&a).as_deref(), Some("Sun, 01 Mar 2026 01:01:01 GMT"));
    let a = mock.get("/nowhere").await;
    assert_eq!(date(&a).as_deref(), Some("Sun, 01 Mar 2026 01:01:01 GMT"));
}

/// `klarna-conformance serve`: first line names the address; SIGTERM stops it cleanly.
#[tokio::test]
async fn the_serve_command_prints_its_address_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--seed",
            "1",
            "--defect",
            "never-pending",
        ])
        .env("KLARNA_MOCK_USERNAME", "u1")
        .env("KLARNA_MOCK_PASSWORD", "p1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("first line")
        .to_owned();
    let r = reqwest::Client::new()
        .get(format!("{url}/__mock/clock"))
        .basic_auth("u1", Some("p1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn serve_refuses_unknown_defects() {
    let out = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"))
        .args(["serve", "--defect", "no-such-defect"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-defect"));
}

/// In-process without a socket: the router answers through tower's `oneshot`
/// (axum `examples/testing` style).
#[tokio::test]
async fn the_router_works_without_a_socket() {
    use axum::body::Body;
    use axum::http::Request;
    use base64::Engine as _;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let app = klarna_conformance::mock::router(MockConfig::default().seed(5));
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{DEFAULT_USERNAME}:{DEFAULT_PASSWORD}"));
    let request = Request::post("/payments/v1/sessions")
        .header("authorization", format!("Basic {auth}"))
        .header("content-type", "application/json")
        .body(Body::from(session_body().to_string()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("klarna-correlation-id"));
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(body["session_id"].is_string());
}

#[tokio::test]
async fn the_system_clock_can_replace_the_virtual_one() {
    let mock = Mock::with(MockConfig::default().system_clock(true)).await;
    let now = mock.get("/__mock/clock").await.str("now");
    let unix = klarna_conformance::mock::parse_rfc3339(&now).unwrap();
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((unix - system).abs() < 60, "{now}");
    let later = mock.advance(3600).await.str("now");
    assert!(klarna_conformance::mock::parse_rfc3339(&later).unwrap() >= unix + 3600);
}
