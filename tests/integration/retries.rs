//! The harness as a careful integration (issue 11 item 5): a timeout on
//! every call, bounded retries only where a second arrival is harmless
//! (reads; create order with an identical body; keyed Order Management
//! calls), and a fault that persists reported as a target error naming the
//! request (exit 2), never as a verdict on Klarna's rules.

use klarna_conformance::mock::wiremock::{Fault, KlarnaResponder};
use klarna_conformance::mock::{self, MockConfig};
use klarna_conformance::runner::{self, Property, RunConfig, RunReport};
use klarna_conformance::targets::{
    Credentials, HttpTarget, Method, Request, Target, TargetError, TargetSpec, safe_to_retry,
};
use wiremock::{Mock, MockServer};

fn serve(klarna: KlarnaResponder) -> (tokio::runtime::Runtime, MockServer) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(klarna)
            .mount(&server),
    );
    (rt, server)
}

fn run(server: &MockServer, property: Property) -> RunReport {
    let mut config = RunConfig::new(99, 6);
    config.target = TargetSpec::url(server.uri());
    config.properties = vec![property];
    config.workers = Some(1);
    config.max_shrink_steps = 8;
    runner::run(&config)
}

fn request(method: Method, path: &str, key: bool) -> Request {
    Request {
        method,
        path: path.to_owned(),
        body: Some("{}".to_owned()),
        headers: if key {
            vec![("Klarna-Idempotency-Key", "k-1".to_owned())]
        } else {
            Vec::new()
        },
    }
}

#[test]
fn only_calls_a_second_arrival_cannot_harm_are_retried() {
    let safe = [
        request(Method::Get, "/payments/v1/sessions/s-1", false),
        request(Method::Post, "/payments/v1/authorizations/t-1/order", false),
        request(
            Method::Post,
            "/ordermanagement/v1/orders/o-1/captures",
            true,
        ),
    ];
    let unsafe_ = [
        request(Method::Post, "/payments/v1/sessions", false),
        request(Method::Post, "/payments/v1/sessions/s-1", false),
        request(Method::Delete, "/payments/v1/authorizations/t-1", false),
        request(
            Method::Post,
            "/ordermanagement/v1/orders/o-1/captures",
            false,
        ),
        request(
            Method::Post,
            "/payments/v1/authorizations/t-1/customer-token",
            false,
        ),
    ];
    for r in &safe {
        assert!(safe_to_retry(r), "{} {}", r.method, r.path);
    }
    for r in &unsafe_ {
        assert!(!safe_to_retry(r), "{} {}", r.method, r.path);
    }
}

/// Gateways that fail for a moment and connections that drop mid-answer on
/// the calls that may be repeated: the run retries and passes. A dropped
/// create order took effect; its identical retry answers the same order.
#[test]
fn passing_faults_on_safe_calls_are_retried_away() {
    let (rt, server) = serve(
        KlarnaResponder::new(MockConfig::default().seed(8))
            // The first create order: a 503, then dropped after it took
            // effect, then answered (three attempts: two retries).
            .fault(
                Fault::status(503)
                    .on("/payments/v1/authorizations")
                    .times(1),
            )
            .fault(
                Fault::drop_connection()
                    .on("/payments/v1/authorizations")
                    .times(1),
            )
            .fault(Fault::drop_connection().on("/ordermanagement").times(2)),
    );
    let report = run(&server, Property::OrderSucceeds);
    assert_eq!(
        report.exit_code(),
        0,
        "{}",
        runner::report::render(&report, "")
    );
    // Every judged exchange, the scope probe and reset, and one retry for
    // each of the four faults met.
    let received = rt.block_on(server.received_requests()).unwrap().len() as u64;
    assert_eq!(received, report.operations() + 2 + 4, "{received}");
}

/// A dropped create session may have made a session: it is not repeated, and
/// the run stops with a target error naming the request.
#[test]
fn a_dropped_unsafe_call_is_a_target_error_naming_it() {
    let (_rt, server) = serve(
        KlarnaResponder::new(MockConfig::default().seed(8)).fault(
            Fault::drop_connection()
                .on("/payments/v1/sessions")
                .times(1),
        ),
    );
    let report = run(&server, Property::OrderSucceeds);
    let error = report.target_error.as_ref().map(ToString::to_string);
    assert_eq!(report.exit_code(), 2, "{error:?}");
    let error = error.unwrap();
    assert!(
        error.contains("POST") && error.contains("/payments/v1/sessions"),
        "{error}"
    );
}

/// A read whose connection drops every time: three attempts, then a target
/// error that says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_fault_that_persists_is_a_target_error_after_the_retries() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(KlarnaResponder::new(MockConfig::default()).fault(Fault::drop_connection()))
        .mount(&server)
        .await;
    let target = HttpTarget::new(&server.uri()).unwrap();
    let credentials = Credentials::new(mock::DEFAULT_USERNAME, mock::DEFAULT_PASSWORD);
    let read = Request {
        method: Method::Get,
        path: "/payments/v1/sessions/s-1".to_owned(),
        body: None,
        headers: Vec::new(),
    };
    let e = target.send(&read, &credentials).await.unwrap_err();
    assert!(
        matches!(&e, TargetError::Transport { cause, .. } if cause.contains("3 attempts")),
        "{e}"
    );
    assert!(e.to_string().contains("GET "), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

/// An answer later than the client's timeout: the read is tried again, and
/// a delay on every attempt is a target error naming the request.
#[tokio::test(flavor = "multi_thread")]
async fn answers_past_the_timeout_are_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            KlarnaResponder::new(MockConfig::default())
                .fault(Fault::delay(std::time::Duration::from_secs(2)).on("/__mock/health")),
        )
        .mount(&server)
        .await;
    let target = HttpTarget::new(&server.uri())
        .unwrap()
        .with_timeout(std::time::Duration::from_millis(100))
        .unwrap();
    let credentials = Credentials::new(mock::DEFAULT_USERNAME, mock::DEFAULT_PASSWORD);
    let health = Request {
        method: Method::Get,
        path: "/__mock/health".to_owned(),
        body: None,
        headers: Vec::new(),
    };
    let e = target.send(&health, &credentials).await.unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("GET ") && text.contains("/__mock/health") && text.contains("3 attempts"),
        "{text}"
    );
}
