//! The property runner against a URL target served by wiremock stubs: a
//! target that cannot be used is exit 2 and never a conformance failure, and
//! stubs that answer like a conformant server except for one injected fault
//! make exactly the property that guards against it fail (exit 1).

use std::time::Duration;

use klarna_conformance::mock::wiremock::{Fault, KlarnaResponder};
use klarna_conformance::mock::{Defect, MockConfig};
use klarna_conformance::runner::{self, Property, RunConfig, RunReport};
use klarna_conformance::targets::{
    Credentials, Embedded, HttpTarget, Method, Request, Target, TargetError, TargetSpec,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
    let port = crate::CLOSED_PORT;
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

/// Stubs that answer as a conformant server does (the library's
/// `KlarnaResponder`), except that create order leaves `fraud_status` out:
/// `order-succeeds` fails (exit 1), on the right rule.
#[test]
fn an_order_without_fraud_status_fails_order_succeeds() {
    let (rt, server) = server();
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(KlarnaResponder::new(
                MockConfig::default()
                    .seed(17)
                    .defect(Defect::DropFraudStatus),
            ))
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

/// A redirect is the target's answer, judged as it is: the harness does not
/// follow it to the faithful answer behind (Klarna's API redirects nothing).
#[test]
fn a_redirect_is_judged_not_followed() {
    let (rt, server) = server();
    rt.block_on(async {
        Mock::given(method("POST"))
            .and(path("/payments/v1/sessions"))
            .and(wiremock::matchers::query_param_is_missing("followed"))
            .respond_with(
                ResponseTemplate::new(307)
                    .insert_header("Location", "/payments/v1/sessions?followed=1"),
            )
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(KlarnaResponder::new(MockConfig::default().seed(17)))
            .mount(&server)
            .await;
    });
    let report = run_against(server.uri(), Property::OrderSucceeds, 2);
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    assert_eq!(report.exit_code(), 1);
    let failure = &report.properties[0]
        .failure
        .as_ref()
        .expect("a failure")
        .failure;
    assert!(failure.to_string().contains("-> 307"), "{failure}");
}

/// The same stubs without a fault: the whole run holds (no false alarm
/// through wiremock).
#[test]
fn faithful_stubs_pass_every_property() {
    let (rt, server) = server();
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(KlarnaResponder::new(MockConfig::default().seed(17)))
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

/// Faults on top of the faithful responder: each applies to the requests it
/// names, as often as it says, and the mock behind never sees a refused one.
#[test]
fn faults_apply_to_the_requests_they_name() {
    let (rt, server) = server();
    let klarna = KlarnaResponder::new(MockConfig::default().seed(3))
        .fault(Fault::status(503).on("/payments/v1/sessions").times(1))
        .fault(Fault::rate_limited(7).on("/__mock/clock").times(1))
        .fault(Fault::truncated_body().on("/__mock/notifications"))
        .fault(Fault::delay(Duration::from_millis(20)).on("/__mock/health"));
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(klarna)
            .mount(&server),
    );
    let target = HttpTarget::new(&server.uri()).unwrap();
    let credentials = Credentials::new(
        klarna_conformance::mock::DEFAULT_USERNAME,
        klarna_conformance::mock::DEFAULT_PASSWORD,
    );
    let send = |method: Method, path: &str, body: Option<&str>| {
        let request = Request {
            method,
            path: path.to_owned(),
            body: body.map(str::to_owned),
            headers: Vec::new(),
        };
        rt.block_on(target.send(&request, &credentials)).unwrap()
    };
    let session = r#"{"purchase_country":"SE","purchase_currency":"SEK","locale":"sv-SE","order_amount":100,"order_tax_amount":0,"order_lines":[{"name":"x","quantity":1,"unit_price":100,"tax_rate":0,"total_amount":100,"total_tax_amount":0}]}"#;
    let first = send(Method::Post, "/payments/v1/sessions", Some(session));
    assert_eq!(first.status, 503);
    assert_eq!(first.json().unwrap()["error_code"], "SERVICE_FAULT");
    let second = send(Method::Post, "/payments/v1/sessions", Some(session));
    assert_eq!(second.status, 200, "{}", second.response_body);
    // The refused request never reached the mock: the session is the one a
    // fresh mock of the same seed makes first.
    let fresh = Embedded::new(MockConfig::default().seed(3));
    let request = Request {
        method: Method::Post,
        path: "/payments/v1/sessions".to_owned(),
        body: Some(session.to_owned()),
        headers: Vec::new(),
    };
    let first_of_fresh = rt.block_on(fresh.send(&request, &credentials)).unwrap();
    assert_eq!(
        second.json().unwrap()["session_id"],
        first_of_fresh.json().unwrap()["session_id"]
    );
    let limited = send(Method::Get, "/__mock/clock", None);
    assert_eq!(
        (limited.status, limited.header("retry-after")),
        (429, Some("7"))
    );
    assert_eq!(send(Method::Get, "/__mock/clock", None).status, 200);
    let cut = send(Method::Get, "/__mock/notifications", None);
    assert_eq!(cut.status, 200);
    assert!(cut.json().is_none(), "{}", cut.response_body);
    assert_eq!(send(Method::Get, "/__mock/health", None).status, 200);
}

/// A fault that persists makes the target unusable (exit 2), never a
/// conformance failure; a body cut short is a conformance failure.
#[test]
fn persistent_faults_are_target_errors_and_cut_bodies_are_failures() {
    let (rt, server) = server();
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(
                KlarnaResponder::new(MockConfig::default().seed(5))
                    .fault(Fault::status(502).on("/payments/v1/authorizations")),
            )
            .mount(&server),
    );
    let report = run_against(server.uri(), Property::OrderSucceeds, 4);
    assert!(
        matches!(&report.target_error, Some(TargetError::Transport { cause, .. }) if cause.contains("502")),
        "{:?}",
        report.target_error
    );
    assert_eq!(report.exit_code(), 2);
    drop((server, rt));

    let (rt, server) = self::server();
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(
                KlarnaResponder::new(MockConfig::default().seed(5))
                    .fault(Fault::truncated_body().on("/payments/v1/authorizations")),
            )
            .mount(&server),
    );
    let report = run_against(server.uri(), Property::OrderSucceeds, 4);
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    assert_eq!(
        report.exit_code(),
        1,
        "{}",
        runner::report::render(&report, "")
    );
}
