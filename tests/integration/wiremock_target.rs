//! The property runner against a URL target served by wiremock stubs: a
//! target that cannot be used is exit 2 and never a conformance failure, and
//! stubs that answer like a conformant server except for one injected fault
//! make exactly the property that guards against it fail (exit 1).

use std::sync::{Mutex, mpsc};

use klarna_conformance::mock::MockConfig;
use klarna_conformance::runner::{self, Property, RunConfig, RunReport};
use klarna_conformance::targets::{Credentials, Embedded, Method, Target, TargetError, TargetSpec};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
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
    // No `GET /__mock/health` naming scopes: one case at a time.
    let why = report.concurrency.describe().unwrap_or_default();
    assert!(why.contains("offers no scopes"), "{why}");
    assert_eq!(report.exit_code(), 2);
    assert!(report.properties.iter().all(|p| p.failure.is_none()));
}

/// A wiremock responder that answers as the faithful embedded mock does,
/// except for one injected fault: the mock runs on a thread of its own (a
/// wiremock `Respond` is synchronous), each request handed over by channel.
struct Faithful {
    to_mock: Mutex<mpsc::Sender<(Request, mpsc::Sender<ResponseTemplate>)>>,
    fault: fn(&str, &mut Value),
}

impl Faithful {
    fn new(fault: fn(&str, &mut Value)) -> Faithful {
        let (to_mock, requests) = mpsc::channel::<(Request, mpsc::Sender<ResponseTemplate>)>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let mock = Embedded::new(MockConfig::default().seed(17));
            for (request, answer) in requests {
                // The caller's own Basic credentials go through.
                use base64::Engine as _;
                let basic = request
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Basic "))
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let (user, password) = basic.split_once(':').unwrap_or(("", ""));
                let credentials = Credentials::new(user, password);
                let method = match request.method.as_str() {
                    "GET" => Method::Get,
                    "DELETE" => Method::Delete,
                    "PATCH" => Method::Patch,
                    _ => Method::Post,
                };
                // The headers a merchant sets on Klarna's API, forwarded.
                let headers = ["Klarna-Idempotency-Key", "Klarna-Integrator"]
                    .into_iter()
                    .filter_map(|name| {
                        let value = request.headers.get(name)?.to_str().ok()?;
                        Some((name, value.to_owned()))
                    })
                    .collect();
                let body = (!request.body.is_empty())
                    .then(|| String::from_utf8_lossy(&request.body).into_owned());
                let req = klarna_conformance::targets::Request {
                    method,
                    path: request.url.path().to_owned(),
                    body,
                    headers,
                };
                let ex = rt.block_on(mock.send(&req, &credentials)).unwrap();
                let mut template = ResponseTemplate::new(ex.status);
                for (name, value) in &ex.response_headers {
                    if name != "content-length" && name != "content-type" {
                        template = template.insert_header(name.as_str(), value.as_str());
                    }
                }
                if let Some(mut json) = ex.json() {
                    (fault)(&ex.path, &mut json);
                    template = template.set_body_raw(json.to_string(), "application/json");
                }
                let _ = answer.send(template);
            }
        });
        Faithful {
            to_mock: Mutex::new(to_mock),
            fault,
        }
    }
}

impl Respond for Faithful {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (answer, answered) = mpsc::channel();
        let _ = self.fault;
        if let Ok(to_mock) = self.to_mock.lock() {
            let _ = to_mock.send((request.clone(), answer));
        }
        answered
            .recv()
            .unwrap_or_else(|_| ResponseTemplate::new(500))
    }
}

/// Stubs that answer as a conformant server does, except that create order
/// leaves `fraud_status` out: `order-succeeds` fails (exit 1), on the right rule.
#[test]
fn an_order_without_fraud_status_fails_order_succeeds() {
    let (rt, server) = server();
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(Faithful::new(|path, body| {
                if path.ends_with("/order")
                    && let Some(map) = body.as_object_mut()
                {
                    map.remove("fraud_status");
                }
            }))
            .mount(&server),
    );
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
}

/// The same stubs without a fault: the whole run holds (no false alarm
/// through wiremock).
#[test]
fn faithful_stubs_pass_every_property() {
    let (rt, server) = server();
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(Faithful::new(|_, _| {}))
            .mount(&server),
    );
    let mut config = RunConfig::new(4243, 2);
    config.target = TargetSpec::url_from_env(&server.uri());
    let report = runner::run(&config);
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    assert_eq!(
        report.exit_code(),
        0,
        "{}",
        runner::report::render(&report, "")
    );
}
