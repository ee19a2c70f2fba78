//! The validating proxy (`serve --upstream`): traffic passes unchanged, and
//! what breaks Klarna's rules on the way is reported with its request and
//! rule; credentials never appear in what it prints or writes; Klarna's
//! hosts only with the opt-in, production never; an unreachable upstream is
//! a 502 in Klarna's error shape.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use base64::Engine as _;
use klarna_conformance::mock::{DEFAULT_PASSWORD, DEFAULT_USERNAME, MockConfig, MockServer};
use klarna_conformance::proxy::{Grade, ProxyConfig, ProxyReport, ProxyServer};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

fn cart() -> Value {
    json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": 11900, "order_tax_amount": 1900,
        "order_lines": [{"name": "Jacket", "quantity": 1, "unit_price": 11900,
            "tax_rate": 1900, "total_amount": 11900, "total_tax_amount": 1900}]
    })
}

async fn post(base: &str, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// A proxy in front of `upstream`.
async fn proxy_to(upstream: &str) -> ProxyServer {
    ProxyServer::start(ProxyConfig::new(upstream))
        .await
        .unwrap()
}

fn rules(report: &ProxyReport, grade: Grade) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|f| f.grade == grade)
        .map(|f| f.rule.clone())
        .collect()
}

#[tokio::test]
async fn traffic_passes_unchanged() {
    // Two mocks seeded alike answer the same request with the same bytes:
    // one called directly, the other through the proxy.
    let direct = MockServer::start(MockConfig::default().seed(7))
        .await
        .unwrap();
    let behind = MockServer::start(MockConfig::default().seed(7))
        .await
        .unwrap();
    let proxy = proxy_to(&behind.base_url()).await;
    for (path, body) in [
        ("/payments/v1/sessions", cart()),
        ("/payments/v1/sessions", json!({"order_amount": 1})),
        ("/payments/v1/sessions/nope", cart()),
    ] {
        let a = post(&direct.base_url(), path, &body).await;
        let b = post(&proxy.base_url(), path, &body).await;
        assert_eq!(a.status(), b.status(), "{path}");
        let headers = |r: &reqwest::Response| -> Vec<(String, String)> {
            r.headers()
                .iter()
                .filter(|(n, _)| *n != "date")
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect()
        };
        assert_eq!(headers(&a), headers(&b), "{path}");
        assert_eq!(a.bytes().await.unwrap(), b.bytes().await.unwrap(), "{path}");
    }

    // What the upstream receives: the body's bytes, the query, the
    // merchant's credentials; what it answers comes back byte for byte.
    let stub = wiremock::MockServer::start().await;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("merchant:s3cr3t-key")
    );
    Mock::given(method("POST"))
        .and(path("/payments/v1/sessions"))
        .and(header("authorization", auth.as_str()))
        .and(header("x-shop", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("klarna-correlation-id", "c-1")
                .insert_header("x-upstream", "yes")
                .set_body_raw(
                    r#"{"session_id":"s-1" , "client_token":"a.b.c"}"#,
                    "application/json",
                ),
        )
        .expect(1)
        .mount(&stub)
        .await;
    let proxy = proxy_to(&stub.uri()).await;
    let raw = r#"{ "odd":   "spacing" }"#;
    let answer = reqwest::Client::new()
        .post(format!("{}/payments/v1/sessions?x=1", proxy.base_url()))
        .basic_auth("merchant", Some("s3cr3t-key"))
        .header("x-shop", "1")
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-upstream"], "yes");
    assert_eq!(
        answer.text().await.unwrap(),
        r#"{"session_id":"s-1" , "client_token":"a.b.c"}"#
    );
    let received = &stub.received_requests().await.unwrap()[0];
    assert_eq!(received.body, raw.as_bytes());
    assert_eq!(received.url.query(), Some("x=1"));
}

#[tokio::test]
async fn a_bad_session_body_is_reported_with_its_rule() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let proxy = proxy_to(&mock.base_url()).await;
    let mut body = cart();
    body["order_amount"] = json!(12000); // the lines add up to 11900
    let answer = post(&proxy.base_url(), "/payments/v1/sessions", &body).await;
    assert_eq!(answer.status(), 400, "the answer is the upstream's");
    let report = proxy.shutdown().await;
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "payload.order_amount")
        .unwrap_or_else(|| panic!("{report:#?}"));
    assert_eq!(finding.grade, Grade::Error);
    assert_eq!(finding.source, "docs/klarna.md §3.1");
    let line = finding.to_string();
    assert!(
        line.starts_with("#1 POST /payments/v1/sessions -> 400: error payload.order_amount: Bad value: order_amount"),
        "{line}"
    );
    assert!(
        line.contains("11900"),
        "says what the lines add up to: {line}"
    );
    assert_eq!(report.exit_code(false), 1);
    assert_eq!(report.requests["create session"], 1);
    assert!(
        report
            .render()
            .contains("### payload.order_amount (error, 1")
    );
}

#[tokio::test]
async fn a_whole_purchase_done_right_has_no_finding() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let proxy = proxy_to(&mock.base_url()).await;
    let base = proxy.base_url();
    let session = json_of(post(&base, "/payments/v1/sessions", &cart()).await).await;
    let id = session["session_id"].as_str().unwrap();
    let update = json!({"merchant_reference1": "order-1"});
    let updated = post(&base, &format!("/payments/v1/sessions/{id}"), &update).await;
    assert_eq!(updated.status(), 204);
    let authorized = post(
        &base,
        &format!("/__mock/sessions/{id}/authorize"),
        &json!({}),
    )
    .await;
    let token = json_of(authorized).await["authorization_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let order = post(
        &base,
        &format!("/payments/v1/authorizations/{token}/order"),
        &cart(),
    )
    .await;
    assert_eq!(order.status(), 200);
    let report = proxy.shutdown().await;
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.exit_code(true), 0);
    assert_eq!(report.requests["create order"], 1);
    assert_eq!(report.requests["mock control API"], 1);
}

#[tokio::test]
async fn a_create_order_that_differs_from_its_session_is_reported() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let proxy = proxy_to(&mock.base_url()).await;
    let base = proxy.base_url();
    let session = json_of(post(&base, "/payments/v1/sessions", &cart()).await).await;
    let id = session["session_id"].as_str().unwrap();
    // Authorized in the "browser": the proxy never sees the token with its session.
    let token = mock
        .authorize(id, None)
        .unwrap()
        .authorization_token
        .unwrap();
    // A cart changed on the server after authorization, consistent in itself.
    let mut changed = cart();
    changed["order_lines"][0]["quantity"] = json!(2);
    changed["order_lines"][0]["total_amount"] = json!(23800);
    changed["order_lines"][0]["total_tax_amount"] = json!(3800);
    changed["order_amount"] = json!(23800);
    changed["order_tax_amount"] = json!(3800);
    changed["billing_address"] = json!({"given_name": "Testperson-de", "country": "DE"});
    let order = post(
        &base,
        &format!("/payments/v1/authorizations/{token}/order"),
        &changed,
    )
    .await;
    assert_eq!(order.status(), 409, "Klarna refuses it too");
    let report = proxy.shutdown().await;
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "order.not_matching")
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", report.findings);
    let finding = errors[0];
    assert_eq!(finding.grade, Grade::Error);
    assert_eq!(finding.request.n, 2);
    for item in [
        "order_amount",
        "order_tax_amount",
        "order_lines[0].quantity",
    ] {
        assert!(
            finding.message.contains(item),
            "{item}: {}",
            finding.message
        );
    }
    assert!(finding.message.contains("the only open session seen"));
    // The billing address came from the browser as far as the proxy knows.
    assert!(
        !finding.message.contains("billing_address"),
        "{}",
        finding.message
    );
    assert!(
        rules(&report, Grade::Error)
            .iter()
            .all(|r| r != "answer.correlation_id")
    );
}

#[tokio::test]
async fn answers_breaking_the_invariants_are_reported() {
    let stub = wiremock::MockServer::start().await;
    // A Klarna error body without the correlation id, and no header.
    Mock::given(path("/payments/v1/sessions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error_code": "BAD_VALUE", "error_messages": ["Bad value: order_amount"]}),
        ))
        .mount(&stub)
        .await;
    // An HTML error page where Klarna answers JSON.
    Mock::given(path("/payments/v1/sessions/s-1"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("klarna-correlation-id", "c-2")
                .set_body_raw("<html>Not found</html>", "text/html"),
        )
        .mount(&stub)
        .await;
    // A placed order without fraud_status.
    Mock::given(path("/payments/v1/authorizations/t-1/order"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("klarna-correlation-id", "c-3")
                .set_body_json(json!({"order_id": "o-1"})),
        )
        .mount(&stub)
        .await;
    let proxy = proxy_to(&stub.uri()).await;
    let base = proxy.base_url();
    post(&base, "/payments/v1/sessions", &cart()).await;
    let read = reqwest::Client::new()
        .get(format!("{base}/payments/v1/sessions/s-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 404);
    assert_eq!(read.text().await.unwrap(), "<html>Not found</html>");
    post(&base, "/payments/v1/authorizations/t-1/order", &cart()).await;
    let report = proxy.shutdown().await;
    let found: Vec<(usize, &str)> = report
        .findings
        .iter()
        .filter(|f| f.grade == Grade::Error)
        .map(|f| (f.request.n, f.rule.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (1, "answer.correlation_id"),
            (2, "answer.error_shape"),
            (3, "answer.fraud_status")
        ],
        "{:#?}",
        report.findings
    );
    assert!(
        report.findings[0]
            .to_string()
            .contains("docs/klarna.md §1.4")
    );
    // The order without a session seen is context, not a failure.
    assert!(rules(&report, Grade::Note).contains(&"order.no_session".to_owned()));
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_klarna_shaped_502() {
    let upstream = format!("http://127.0.0.1:{}", crate::CLOSED_PORT);
    let proxy = proxy_to(&upstream).await;
    let answer = post(&proxy.base_url(), "/payments/v1/sessions", &cart()).await;
    assert_eq!(answer.status(), 502);
    let header = answer.headers()["klarna-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = json_of(answer).await;
    assert_eq!(body["correlation_id"], header.as_str());
    assert_eq!(body["error_code"], "BAD_GATEWAY");
    let message = body["error_messages"][0].as_str().unwrap();
    assert!(message.contains(&upstream), "{message}");
    let report = proxy.shutdown().await;
    assert_eq!(rules(&report, Grade::Error), ["upstream.unreachable"]);
    assert!(report.findings[0].to_string().contains("-> no answer"));
}

/// `serve` with these arguments, without the variables of whoever runs the tests.
fn serve(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"));
    command
        .arg("serve")
        .args(args)
        .env_remove("KLARNA_PLAYGROUND")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn klarna_hosts_need_the_opt_in_and_production_is_never_called() {
    let refused = serve(&[
        "--upstream",
        "https://api.playground.klarna.com",
        "--addr",
        "127.0.0.1:0",
    ])
    .output()
    .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("KLARNA_PLAYGROUND=1"), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert!(refused.stdout.is_empty(), "never listened");
    for production in ["https://api.klarna.com", "https://api-na.klarna.com/"] {
        let refused = serve(&[
            "--upstream",
            production,
            "--yes-call-klarna",
            "--addr",
            "127.0.0.1:0",
        ])
        .env("KLARNA_PLAYGROUND", "1")
        .output()
        .unwrap();
        assert_eq!(refused.status.code(), Some(2), "{production}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("not a Klarna playground host"), "{stderr}");
        assert!(refused.stdout.is_empty());
    }
    // Other usage errors: a LAN address, mock-only flags, a bad URL.
    for args in [
        &["--upstream", "http://127.0.0.1:9", "--addr", "0.0.0.0:0"][..],
        &["--upstream", "http://127.0.0.1:9", "--seed", "1"],
        &["--upstream", "ftp://x"],
        &["--region", "na"],
    ] {
        let refused = serve(args).output().unwrap();
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        assert!(refused.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_reports_at_shutdown_and_never_shows_credentials() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("kc-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report_file = dir.join("report.md");
    let cassette_file = dir.join("cassette.json");
    let mut child = serve(&[
        "--upstream",
        &mock.base_url(),
        "--addr",
        "127.0.0.1:0",
        "--report",
        report_file.to_str().unwrap(),
        "--record",
        cassette_file.to_str().unwrap(),
    ])
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let secret = "pw-Sup3rS3cret";
    let client = reqwest::Client::new();
    let mut bad = cart();
    bad["order_lines"][0]["total_tax_amount"] = json!(1000);
    for (user, password) in [(DEFAULT_USERNAME, DEFAULT_PASSWORD), ("merchant", secret)] {
        client
            .post(format!("{base}/payments/v1/sessions"))
            .basic_auth(user, Some(password))
            .json(&bad)
            .send()
            .await
            .unwrap();
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "an error-level finding: {stderr}");
    assert!(
        stderr.contains("proxy: #1 POST /payments/v1/sessions -> 400: error payload.line_tax"),
        "{stderr}"
    );
    assert!(rest.contains("| create session | 2 |"), "{rest}");
    assert!(rest.contains("### payload.line_tax (error, 2"), "{rest}");
    assert!(
        rest.contains("answer.unauthorized"),
        "the 401 is a note: {rest}"
    );
    let written = std::fs::read_to_string(&report_file).unwrap();
    assert_eq!(written, rest, "the report file is the printed summary");
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("merchant:{secret}"));
    let default = base64::engine::general_purpose::STANDARD
        .encode(format!("{DEFAULT_USERNAME}:{DEFAULT_PASSWORD}"));
    let cassette = std::fs::read_to_string(&cassette_file).unwrap();
    let recorded: Value = serde_json::from_str(&cassette).unwrap();
    assert_eq!(recorded["complete"], true);
    assert_eq!(recorded["cases"][0]["case"], "proxy");
    let exchanges = recorded["cases"][0]["exchanges"].as_array().unwrap();
    let statuses: Vec<&Value> = exchanges.iter().map(|e| &e["status"]).collect();
    assert_eq!(statuses, [400, 401]);
    for text in [&rest, &stderr, &written, &cassette] {
        // (`WWW-Authenticate: Basic realm=...` in the mock's 401 is no secret.)
        for leaked in [secret, &encoded, &default, DEFAULT_PASSWORD] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        assert!(
            !text.to_ascii_lowercase().contains("authorization:"),
            "{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
