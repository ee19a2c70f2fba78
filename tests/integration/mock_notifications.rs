//! Notifications and authorization callbacks over real HTTP (docs/klarna.md
//! §7, §13.5): a `MockServer` delivers to a receiver on 127.0.0.1 and the
//! journal shows each attempt, also of what `MockServer`'s helpers made; a
//! non-loopback host is never contacted; the in-process router only journals.

use crate::mock_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use klarna_conformance::mock::MockConfig;
use mock_common::*;
use serde_json::{Value, json};

/// One request the receiver got: path and query, content type, JSON body.
#[derive(Debug, Clone)]
struct Received {
    uri: String,
    content_type: Option<String>,
    body: Value,
}

/// A small HTTP server on 127.0.0.1:0 that records every request and
/// answers 204, or 500 under `/fail`.
struct Receiver {
    base: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let app = Router::new()
            .fallback(
                |State(seen): State<Arc<Mutex<Vec<Received>>>>,
                 uri: Uri,
                 headers: HeaderMap,
                 body: String| async move {
                    let failing = uri.path().starts_with("/fail");
                    seen.lock().unwrap().push(Received {
                        uri: uri.to_string(),
                        content_type: headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                        body: serde_json::from_str(&body).unwrap_or(Value::Null),
                    });
                    if failing {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                },
            )
            .with_state(Arc::clone(&seen));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { base, seen }
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

/// Polls the journal until `done` holds for it (at most 10 s).
async fn journal_until(mock: &Mock, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..200 {
        let entries = mock.journal().await;
        if done(&entries) {
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the journal never got there: {:?}", mock.journal().await);
}

fn gb_session(urls: Value) -> Value {
    json!({
        "purchase_country": "GB", "purchase_currency": "GBP", "locale": "en-GB",
        "order_amount": 12000, "order_tax_amount": 2000,
        "order_lines": [{"name": "Kettle", "quantity": 1, "unit_price": 12000, "tax_rate": 2000,
            "total_amount": 12000, "total_tax_amount": 2000}],
        "merchant_urls": urls,
    })
}

/// A pending GB order for `email`; returns (session_id, order_id).
async fn pending(mock: &Mock, urls: Value, email: &str) -> (String, String) {
    let session = gb_session(urls);
    let id = mock.create_session(&session).await;
    let a = mock
        .authorize(&id, &json!({"billing_address": {"email": email}}))
        .await;
    let mut o = session;
    o.as_object_mut().unwrap().remove("merchant_urls");
    let placed = mock.order(&a.str("authorization_token"), &o).await;
    assert_eq!(placed.json()["fraud_status"], "PENDING", "{placed:?}");
    (id, placed.str("order_id"))
}

fn delivered(entry: &Value) -> bool {
    entry["status"] == 204
}

#[tokio::test]
async fn the_mock_server_delivers_the_authorization_callback() {
    let receiver = Receiver::start().await;
    let mock = Mock::start().await;
    let url = format!("{}/callbacks/authorized?secret=s1", receiver.base);
    let session = gb_session(json!({"authorization": url}));
    let id = mock.create_session(&session).await;
    let token = mock
        .authorize(&id, &json!({}))
        .await
        .str("authorization_token");
    let entries = journal_until(&mock, |e| e.len() == 1 && delivered(&e[0])).await;
    assert_eq!(
        entries[0],
        json!({
            "kind": "authorization_callback",
            "url": url,
            "body": {"authorization_token": token, "session_id": id},
            "attempts": 1,
            "status": 204,
            "error": null,
        })
    );
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].uri, "/callbacks/authorized?secret=s1");
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(
        seen[0].body,
        json!({"authorization_token": token, "session_id": id})
    );
}

/// `MockServer`'s helpers send what they make, even when called from a
/// thread outside any runtime: the callback of an approved authorize, the
/// notification of a review the clock decides.
#[tokio::test]
async fn the_helpers_deliver_what_they_make() {
    let receiver = Receiver::start().await;
    let mock = Mock::start().await;
    let callback = format!("{}/cb", receiver.base);
    let urls = json!({
        "authorization": callback,
        "notification": format!("{}/kp/{{order.id}}", receiver.base),
    });
    let session = gb_session(urls);
    let id = mock.create_session(&session).await;
    let server = Arc::clone(&mock.server);
    let (session_id, email) = (id.clone(), "customer+pend-accept-05@email.uk");
    let result = std::thread::spawn(move || {
        let data = json!({"billing_address": {"email": email}});
        server.authorize(&session_id, Some(data)).unwrap()
    })
    .join()
    .unwrap();
    let token = result.authorization_token.unwrap();
    let mut o = session;
    o.as_object_mut().unwrap().remove("merchant_urls");
    let placed = mock.order(&token, &o).await;
    assert_eq!(placed.json()["fraud_status"], "PENDING", "{placed:?}");
    let server = Arc::clone(&mock.server);
    std::thread::spawn(move || server.advance_clock(Duration::from_secs(300)).unwrap())
        .join()
        .unwrap();
    let entries = journal_until(&mock, |e| e.len() == 2 && e.iter().all(delivered)).await;
    assert_eq!(entries, mock.server.notifications());
    assert_eq!(entries[0]["kind"], "authorization_callback");
    assert_eq!(
        entries[0]["body"],
        json!({"authorization_token": token, "session_id": id})
    );
    assert_eq!(entries[1]["kind"], "notification");
    assert_eq!(entries[1]["body"]["event_type"], "FRAUD_RISK_ACCEPTED");
    assert_eq!(receiver.seen().len(), 2);
}

#[tokio::test]
async fn a_decision_by_time_is_notified() {
    let receiver = Receiver::start().await;
    let mock = Mock::start().await;
    let urls = json!({"notification": format!("{}/kp/{{order.id}}", receiver.base)});
    let (_, id) = pending(&mock, urls, "customer+pend-accept-05@email.uk").await;
    assert!(mock.journal().await.is_empty());
    // Advancing the clock decides at once, and the notification goes out.
    mock.advance(300).await;
    let entries = journal_until(&mock, |e| e.len() == 1 && delivered(&e[0])).await;
    assert_eq!(entries[0]["kind"], "notification");
    assert_eq!(entries[0]["url"], format!("{}/kp/{id}", receiver.base));
    assert_eq!(entries[0]["attempts"], 1);
    let seen = receiver.seen();
    assert_eq!(seen[0].uri, format!("/kp/{id}"));
    assert_eq!(seen[0].body["event_type"], "FRAUD_RISK_ACCEPTED");
    assert_eq!(seen[0].body["order_id"], id.as_str());
    assert_eq!(seen[0].body["timestamp"], "2026-01-01T00:05:00Z");
    assert_eq!(seen[0].body, entries[0]["body"]);
    let o = mock.get(&format!("/ordermanagement/v1/orders/{id}")).await;
    assert_eq!(o.json()["fraud_status"], "ACCEPTED");
}

#[tokio::test]
async fn a_decision_by_the_control_api_is_notified() {
    let receiver = Receiver::start().await;
    let mock = Mock::start().await;
    let urls = json!({"notification": format!("{}/kp?session={{session.id}}", receiver.base)});
    let (session, id) = pending(&mock, urls, "customer+pend-accept-30@email.uk").await;
    let path = format!("/__mock/orders/{id}/fraud-decision");
    let a = mock.post(&path, &json!({"fraud_status": "STOPPED"})).await;
    assert_eq!(
        a.json(),
        &json!({"order_id": id, "fraud_status": "STOPPED"})
    );
    let entries = journal_until(&mock, |e| e.len() == 1 && delivered(&e[0])).await;
    assert_eq!(entries[0]["body"]["event_type"], "FRAUD_RISK_STOPPED");
    let seen = receiver.seen();
    assert_eq!(seen[0].uri, format!("/kp?session={session}"));
    let o = mock.get(&format!("/ordermanagement/v1/orders/{id}")).await;
    assert_eq!(o.json()["status"], "CANCELLED");
    mock.post(&path, &json!({"fraud_status": "ACCEPTED"}))
        .await
        .refused(403, "NOT_ALLOWED", &["Order is not pending"]);
    mock.post(&path, &json!({"fraud_status": "MAYBE"}))
        .await
        .refused(400, "BAD_VALUE", &["Bad value: fraud_status"]);
}

/// A receiver answering 500 gets three attempts (1 s, then 2 s apart); a
/// closed port three failed connections.
#[tokio::test]
async fn failed_deliveries_are_retried_three_times() {
    let receiver = Receiver::start().await;
    let closed = format!("127.0.0.1:{}", crate::CLOSED_PORT);
    let mock = Mock::start().await;
    let start = std::time::Instant::now();
    for url in [
        format!("{}/fail/auth", receiver.base),
        format!("http://{closed}/auth"),
    ] {
        let id = mock
            .create_session(&gb_session(json!({"authorization": url})))
            .await;
        mock.authorize(&id, &json!({})).await;
    }
    let entries = journal_until(&mock, |e| {
        e.len() == 2 && e.iter().all(|x| x["attempts"] == 3)
    })
    .await;
    assert!(start.elapsed() >= Duration::from_secs(3));
    assert_eq!(
        (&entries[0]["status"], &entries[0]["error"]),
        (&json!(500), &Value::Null)
    );
    assert_eq!(
        (&entries[1]["status"], &entries[1]["error"]),
        (&Value::Null, &json!("could not connect"))
    );
    assert_eq!(receiver.seen().len(), 3);
}

/// Only loopback hosts are contacted unless any host is allowed.
#[tokio::test]
async fn a_non_loopback_host_is_not_contacted() {
    let mock = Mock::start().await;
    let url = "http://192.0.2.1/kp/notify";
    let id = mock
        .create_session(&gb_session(json!({"authorization": url})))
        .await;
    mock.authorize(&id, &json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let entries = mock.journal().await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (
            &entries[0]["attempts"],
            &entries[0]["status"],
            &entries[0]["error"]
        ),
        (
            &json!(0),
            &Value::Null,
            &json!(
                "not delivered: 192.0.2.1 is not a loopback host (serve --notify-any-host allows any)"
            )
        )
    );
}

/// The in-process router (and a server told so) only journal.
#[tokio::test]
async fn delivery_can_be_off() {
    let receiver = Receiver::start().await;
    let url = format!("{}/auth", receiver.base);
    let mock = Mock::with(MockConfig::default().deliver_notifications(false)).await;
    let id = mock
        .create_session(&gb_session(json!({"authorization": url})))
        .await;
    mock.authorize(&id, &json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let entries = mock.journal().await;
    assert_eq!(entries[0]["attempts"], 0);
    assert_eq!(entries[0]["error"], "not delivered: delivery is off");
    assert!(receiver.seen().is_empty());
}

#[tokio::test]
async fn the_router_journals_without_delivering() {
    use axum::body::Body;
    use axum::http::Request;
    use base64::Engine as _;
    use http_body_util::BodyExt;
    use klarna_conformance::mock::{DEFAULT_PASSWORD, DEFAULT_USERNAME};
    use tower::ServiceExt;

    let receiver = Receiver::start().await;
    let app = klarna_conformance::mock::router(MockConfig::default().seed(9));
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{DEFAULT_USERNAME}:{DEFAULT_PASSWORD}"));
    let send = |method: &'static str, path: String, body: Option<Value>| {
        let app = app.clone();
        let auth = auth.clone();
        async move {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", format!("Basic {auth}"))
                .header("content-type", "application/json")
                .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null)
        }
    };
    let session = gb_session(json!({"authorization": format!("{}/auth", receiver.base)}));
    let created = send("POST", "/payments/v1/sessions".into(), Some(session)).await;
    let id = created["session_id"].as_str().unwrap().to_owned();
    send("POST", format!("/__mock/sessions/{id}/authorize"), None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let entries = send("GET", "/__mock/notifications".into(), None).await;
    assert_eq!(entries[0]["kind"], "authorization_callback");
    assert_eq!(entries[0]["attempts"], 0);
    assert_eq!(entries[0]["error"], "not delivered: delivery is off");
    assert!(receiver.seen().is_empty());
}

/// `serve` delivers, takes `--pending-review` and `--notify-any-host`.
#[tokio::test]
async fn serve_takes_the_notification_flags() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let receiver = Receiver::start().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--pending-review",
            "2",
            "--notify-any-host",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("first line")
        .to_owned();
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut r = client.request(method, format!("{base}{path}")).basic_auth(
            klarna_conformance::mock::DEFAULT_USERNAME,
            Some(klarna_conformance::mock::DEFAULT_PASSWORD),
        );
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move { read(r.send().await.unwrap()).await }
    };
    let urls = json!({"notification": format!("{}/n", receiver.base)});
    let session = gb_session(urls);
    let id = call(
        reqwest::Method::POST,
        "/payments/v1/sessions",
        Some(session.clone()),
    )
    .await
    .str("session_id");
    let token = call(
        reqwest::Method::POST,
        &format!("/__mock/sessions/{id}/authorize"),
        Some(json!({"billing_address": {"email": "customer+pend-reject-50@email.uk"}})),
    )
    .await
    .str("authorization_token");
    let mut o = session;
    o.as_object_mut().unwrap().remove("merchant_urls");
    let placed = call(
        reqwest::Method::POST,
        &format!("/payments/v1/authorizations/{token}/order"),
        Some(o),
    )
    .await;
    assert_eq!(placed.json()["fraud_status"], "PENDING");
    // --pending-review 2: decided after 2 s, not 50 minutes.
    call(
        reqwest::Method::POST,
        "/__mock/clock",
        Some(json!({"advance_seconds": 2})),
    )
    .await;
    let mut entries = Vec::new();
    for _ in 0..100 {
        let a = call(reqwest::Method::GET, "/__mock/notifications", None).await;
        entries = a.json().as_array().unwrap().clone();
        if entries.first().is_some_and(|e| e["status"] == 204) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        entries[0]["body"]["event_type"], "FRAUD_RISK_REJECTED",
        "{entries:?}"
    );
    assert_eq!(receiver.seen().len(), 1);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}

/// Each scope decides on its own clock and journals and delivers its own
/// notifications; a reset forgets a scope's journal.
#[tokio::test]
async fn every_scope_notifies_on_its_own() {
    let receiver = Receiver::start().await;
    let mock = Mock::start().await;
    let (a, b) = (mock.scope("a"), mock.scope("b"));
    let urls = json!({"notification": format!("{}/kp/{{order.id}}", receiver.base)});
    let (_, in_a) = pending(&a, urls.clone(), "customer+pend-accept-05@email.uk").await;
    let (_, in_b) = pending(&b, urls, "customer+pend-accept-05@email.uk").await;
    a.advance(300).await;
    let entries = journal_until(&a, |e| e.len() == 1 && delivered(&e[0])).await;
    assert_eq!(entries[0]["body"]["order_id"], in_a.as_str());
    // b's clock has not moved: its review is still open, nothing was sent.
    assert!(b.journal().await.is_empty());
    assert!(mock.journal().await.is_empty());
    let o = b.get(&format!("/ordermanagement/v1/orders/{in_b}")).await;
    assert_eq!(o.json()["fraud_status"], "PENDING");
    b.advance(300).await;
    let entries = journal_until(&b, |e| e.len() == 1 && delivered(&e[0])).await;
    assert_eq!(entries[0]["body"]["order_id"], in_b.as_str());
    let seen: Vec<Value> = receiver
        .seen()
        .iter()
        .map(|r| r.body["order_id"].clone())
        .collect();
    assert_eq!(seen, [json!(in_a), json!(in_b)]);
    a.post("/__mock/reset", &json!({})).await;
    assert!(a.journal().await.is_empty());
    assert_eq!(b.journal().await.len(), 1);
}
