//! The property runner against a URL target served by wiremock stubs: a
//! target that cannot be used is exit 2 and never a conformance failure, and
//! stubs that answer like a conformant server except for one injected fault
//! make exactly the property that guards against it fail (exit 1).

use std::sync::{Arc, Mutex};

use klarna_conformance::runner::{self, Property, RunConfig, RunReport};
use klarna_conformance::targets::TargetError;
use klarna_conformance::targets::TargetSpec;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A wiremock server on its own runtime (wiremock serves from a thread of
/// its own; the runner is synchronous and builds its own runtimes).
fn server() -> (tokio::runtime::Runtime, MockServer) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start());
    (rt, server)
}

fn run_against(url: String, property: Property, cases: u64) -> RunReport {
    let mut config = RunConfig::new(4242, cases);
    config.target = TargetSpec::url_from_env(&url);
    config.properties = vec![property];
    config.max_shrink_steps = 16;
    runner::run(&config)
}

#[test]
fn an_unreachable_url_is_a_target_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let report = run_against(
        format!("http://127.0.0.1:{port}"),
        Property::OrderSucceeds,
        4,
    );
    assert!(
        matches!(report.target_error, Some(TargetError::Unreachable { .. })),
        "{:?}",
        report.target_error
    );
    assert_eq!(report.exit_code(), 2);
    assert!(report.properties.iter().all(|p| p.failure.is_none()));
}

#[test]
fn an_html_401_on_every_request_is_unauthorized() {
    let (rt, server) = server();
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(
                ResponseTemplate::new(401)
                    .insert_header("Content-Type", "text/html")
                    .set_body_string(
                        "<html><head><title>401 Authorization Required</title></head></html>",
                    ),
            )
            .mount(&server),
    );
    let report = run_against(server.uri(), Property::OrderSucceeds, 4);
    assert!(
        matches!(report.target_error, Some(TargetError::Unauthorized { .. })),
        "{:?}",
        report.target_error
    );
    assert_eq!(report.exit_code(), 2);
    assert!(report.properties.iter().all(|p| p.failure.is_none()));
}

/// Rate limits and unavailable gateways say nothing about Klarna's rules:
/// the run stops with a target error, and nothing is shrunk or reported failed.
#[test]
fn rate_limits_and_unavailable_gateways_are_target_errors() {
    for (status, body) in [
        (429, ""),
        (503, "<html>Service Unavailable</html>"),
        (502, ""),
    ] {
        let (rt, server) = server();
        rt.block_on(
            Mock::given(wiremock::matchers::any())
                .respond_with(ResponseTemplate::new(status).set_body_string(body))
                .mount(&server),
        );
        let report = run_against(server.uri(), Property::OrderSucceeds, 4);
        assert!(
            matches!(&report.target_error, Some(TargetError::Transport { cause, .. }) if cause.contains(&status.to_string())),
            "{status}: {:?}",
            report.target_error
        );
        assert_eq!(report.exit_code(), 2);
        assert!(report.properties.iter().all(|p| p.failure.is_none()));
    }
}

/// A server that speaks Payments v1 but not the mock's control API (the
/// playground, a merchant's fake) cannot be driven by `run`: exit 2.
#[test]
fn a_server_without_the_control_api_is_unusable() {
    let (rt, server) = server();
    rt.block_on(async {
        Mock::given(method("POST"))
            .and(path("/payments/v1/sessions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "session_id": "0b1d9815-165e-42e2-8867-35bc03789e00",
                "client_token": "eyJhbGciOiJIUzI1NiJ9.e30.x",
                "payment_method_categories": [{"identifier": "pay_later", "name": "Pay later"}]
            })))
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_json(json!({
                        "correlation_id": "c0ffee00-0000-4000-8000-000000000000",
                        "error_code": "NOT_FOUND",
                        "error_messages": ["No such resource"]
                    }))
                    .insert_header(
                        "Klarna-Correlation-Id",
                        "c0ffee00-0000-4000-8000-000000000000",
                    ),
            )
            .mount(&server)
            .await;
    });
    let report = run_against(server.uri(), Property::OrderSucceeds, 4);
    assert!(
        matches!(report.target_error, Some(TargetError::NoControlApi { .. })),
        "{:?}",
        report.target_error
    );
    assert_eq!(report.exit_code(), 2);
    assert!(report.properties.iter().all(|p| p.failure.is_none()));
}

/// Answers create order as the oracle expects of a conformant server
/// (order_id, authorized_payment_method, redirect_url exactly when a
/// confirmation URL was given; reference 2.6, 5.5) — except that
/// `fraud_status` is left out. Remembers the amount for Order Management.
struct OrderWithoutFraudStatus {
    amounts: Arc<Mutex<Vec<i64>>>,
}

impl Respond for OrderWithoutFraudStatus {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        if let (Some(amount), Ok(mut amounts)) =
            (body["order_amount"].as_i64(), self.amounts.lock())
        {
            amounts.push(amount);
        }
        let mut order = json!({
            "order_id": "0b1d9815-165e-42e2-8867-35bc03789e00",
            "authorized_payment_method": {"type": "invoice"},
        });
        if body["merchant_urls"]["confirmation"].is_string() {
            order["redirect_url"] = json!("https://payments.klarna.com/redirect/1");
        }
        ResponseTemplate::new(200).set_body_json(order)
    }
}

/// Order Management shows the last order placed, as a conformant server would.
struct OmOrder {
    amounts: Arc<Mutex<Vec<i64>>>,
}

impl Respond for OmOrder {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let amount = self
            .amounts
            .lock()
            .ok()
            .and_then(|a| a.last().copied())
            .unwrap_or(0);
        ResponseTemplate::new(200).set_body_json(json!({
            "order_id": "0b1d9815-165e-42e2-8867-35bc03789e00",
            "status": "AUTHORIZED",
            "fraud_status": "ACCEPTED",
            "order_amount": amount,
        }))
    }
}

#[test]
fn an_order_without_fraud_status_fails_order_succeeds() {
    let (rt, server) = server();
    let amounts = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        Mock::given(method("POST"))
            .and(path("/payments/v1/sessions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "session_id": "068df369-13a7-4d47-a564-62f8408bb760",
                "client_token": "eyJhbGciOiJSUzI1NiJ9.stub",
                "payment_method_categories": [{"identifier": "pay_later", "name": "Pay later"}],
            })))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/__mock/sessions/[^/]+/authorize$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "approved": true,
                "show_form": true,
                "authorization_token": "b4bd3423-24e3-4c1f-9d2e-7a3c1a2b3c4d",
            })))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/__mock/clock"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"now": "2026-01-01T00:00:00Z"})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/payments/v1/authorizations/[^/]+/order$"))
            .respond_with(OrderWithoutFraudStatus {
                amounts: amounts.clone(),
            })
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/ordermanagement/v1/orders/[^/]+$"))
            .respond_with(OmOrder {
                amounts: amounts.clone(),
            })
            .mount(&server)
            .await;
    });
    let report = run_against(server.uri(), Property::OrderSucceeds, 8);
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    assert_eq!(report.exit_code(), 1);
    let failure = report.properties[0]
        .failure
        .as_ref()
        .expect("order-succeeds failed");
    assert!(
        failure.failure.check.contains("fraud_status"),
        "{}",
        failure.failure
    );
    let text = runner::report::render(&report, &format!(" --target {}", server.uri()));
    assert!(text.contains("replay: klarna-conformance replay --property order-succeeds --seed"));
    // The harness got as far as create order: every stub before it answered
    // as a conformant server does.
    assert!(!amounts.lock().unwrap().is_empty());
}
