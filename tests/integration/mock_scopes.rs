//! Scopes over real HTTP: one mock, many tenants named by the Basic username
//! (`<username>+<scope>`), each with its own state, clock, ids and journal;
//! resets; the bound on live scopes; malformed scope names; health. The
//! `MockServer` helpers are in `mock_helpers.rs`.

use crate::mock_common;

use klarna_conformance::mock::{
    DEFAULT_PASSWORD, DEFAULT_START, DEFAULT_USERNAME, MockConfig, MockRequest, MockState,
};
use mock_common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// What a test can compare byte for byte: status, sorted headers, body.
pub(crate) type Wire = (u16, Vec<(String, Vec<u8>)>, Vec<u8>);

pub(crate) fn wire(a: &Answer) -> Wire {
    let mut headers: Vec<(String, Vec<u8>)> = a
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    headers.sort();
    (a.status, headers, a.raw.clone())
}

/// Create session, authorize, create order, read both back, an error, a
/// clock move: every kind of id the mock hands out.
async fn flow(mock: &Mock) -> Vec<Wire> {
    let mut out = Vec::new();
    let a = mock.post("/payments/v1/sessions", &session_body()).await;
    let id = a.str("session_id");
    out.push(wire(&a));
    let auth = mock
        .authorize(
            &id,
            &json!({"billing_address": billing("customer@email.de")}),
        )
        .await;
    let token = auth.str("authorization_token");
    out.push(wire(&auth));
    let o = mock.order(&token, &order_body()).await;
    let order_id = o.str("order_id");
    out.push(wire(&o));
    out.push(wire(
        &mock.get(&format!("/payments/v1/sessions/{id}")).await,
    ));
    let om = format!("/ordermanagement/v1/orders/{order_id}");
    out.push(wire(&mock.get(&om).await));
    out.push(wire(&mock.order("nope", &order_body()).await));
    out.push(wire(&mock.advance(3600).await));
    out
}

#[tokio::test]
async fn scopes_never_see_each_others_sessions_orders_or_clock() {
    let mock = Mock::start().await;
    let (a, b) = (mock.scope("job-a"), mock.scope("job-b"));
    let (session, token) = a.authorized(&session_body()).await;
    let order_id = a.order(&token, &order_body()).await.str("order_id");
    a.advance(7200).await;
    for other in [&b, &mock] {
        let read = other.get(&format!("/payments/v1/sessions/{session}")).await;
        read.refused(404, "NOT_FOUND", &["Invalid session id"]);
        let again = other.order(&token, &order_body()).await;
        again.refused(404, "NOT_FOUND", &["Invalid authorization token"]);
        let om = other
            .get(&format!("/ordermanagement/v1/orders/{order_id}"))
            .await;
        assert_eq!(
            (om.status, om.json()["error_code"].clone()),
            (404, json!("NO_SUCH_ORDER"))
        );
        let authorize = other.authorize(&session, &json!({})).await;
        assert_eq!(authorize.status, 404, "{authorize:?}");
        assert_eq!(other.get("/__mock/clock").await.str("now"), T0);
    }
    assert_eq!(
        a.get("/__mock/clock").await.str("now"),
        "2026-01-01T02:00:00Z"
    );
    // The owner still sees all of it.
    let mine = a
        .get(&format!("/ordermanagement/v1/orders/{order_id}"))
        .await;
    assert_eq!(mine.status, 200, "{mine:?}");
}

/// `--seed N` + a fresh scope + the same requests: the same bytes, `Date`
/// included; another scope name, other ids; the default scope as without scopes.
#[tokio::test]
async fn a_seeded_scope_answers_like_a_fresh_one() {
    let one = Mock::with(MockConfig::default().seed(42)).await;
    let two = Mock::with(MockConfig::default().seed(42)).await;
    // Traffic elsewhere first: it must not move scope x's ids.
    flow(&two.scope("other")).await;
    flow(&two).await;
    let x1 = flow(&one.scope("x")).await;
    let x2 = flow(&two.scope("x")).await;
    assert_eq!(x1, x2);
    assert_ne!(x1, flow(&one.scope("y")).await);
    // After a reset, scope x answers as it did when new.
    let reset = one.scope("x").post("/__mock/reset", &json!({})).await;
    assert_eq!(reset.json(), &json!({"reset": "x"}));
    assert_eq!(flow(&one.scope("x")).await, x1);
    // The default scope keeps the configured seed: it answers as the store
    // of that seed alone, as the mock did before it had scopes.
    let config = MockConfig::default().seed(42);
    let mut store = MockState::new(&config);
    let direct = store.handle(
        MockRequest::CreateSession {
            body: session_body(),
        },
        DEFAULT_START,
    );
    let three = Mock::with(config).await;
    let over_http = three.post("/payments/v1/sessions", &session_body()).await;
    assert_eq!(
        direct.body.as_deref().map(str::as_bytes),
        Some(&over_http.raw[..])
    );
    assert_eq!(over_http.correlation_id(), direct.correlation_id);
}

#[tokio::test]
async fn reset_one_scope_or_all() {
    let mock = Mock::start().await;
    let (a, b) = (mock.scope("a"), mock.scope("b"));
    let in_a = a.create_session(&session_body()).await;
    let in_b = b.create_session(&session_body()).await;
    let in_default = mock.create_session(&session_body()).await;
    a.advance(60).await;
    let reset = a.call(Method::POST, "/__mock/reset", None).await;
    assert_eq!(reset.status, 200, "{reset:?}");
    assert_eq!(reset.json(), &json!({"reset": "a"}));
    assert!(!reset.correlation_id().is_empty());
    assert_eq!(
        a.get(&format!("/payments/v1/sessions/{in_a}")).await.status,
        404
    );
    assert_eq!(a.get("/__mock/clock").await.str("now"), T0);
    assert_eq!(
        b.get(&format!("/payments/v1/sessions/{in_b}")).await.status,
        200
    );
    assert_eq!(
        mock.get(&format!("/payments/v1/sessions/{in_default}"))
            .await
            .status,
        200
    );

    let refused = b.post("/__mock/reset?scope=a", &json!({})).await;
    refused.refused(400, "BAD_VALUE", &["Bad value: scope"]);
    let all = b.post("/__mock/reset?scope=all", &json!({})).await;
    assert_eq!(all.json(), &json!({"reset": "all"}));
    assert_eq!(
        b.get(&format!("/payments/v1/sessions/{in_b}")).await.status,
        404
    );
    assert_eq!(
        mock.get(&format!("/payments/v1/sessions/{in_default}"))
            .await
            .status,
        404
    );
    // The default scope is named by the empty string.
    let default = mock.post("/__mock/reset", &json!({})).await;
    assert_eq!(default.json(), &json!({"reset": ""}));
}

#[tokio::test]
async fn the_request_journal_lists_what_was_sent_and_answered() {
    let mock = Mock::start().await;
    let job = mock.scope("job");
    let created = job
        .call_with(
            Method::POST,
            "/payments/v1/sessions",
            Some(&session_body()),
            &[
                ("Klarna-Integrator", "shop/1.0"),
                ("Klarna-Idempotency-Key", "k1"),
            ],
        )
        .await;
    let mut bad = session_body();
    bad["order_amount"] = json!(1);
    let refused = job.post("/payments/v1/sessions", &bad).await;
    job.get("/nowhere").await;
    job.raw(
        Method::POST,
        "/payments/v1/sessions",
        Some("text/plain"),
        "hello",
    )
    .await;
    // Neither a 401 nor the other scopes' requests are in it.
    read(
        mock.client
            .get(mock.url("/__mock/clock"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    mock.create_session(&session_body()).await;

    let listed = job.get("/__mock/requests").await;
    assert_eq!(listed.status, 200);
    let entries = listed.json().as_array().unwrap();
    assert_eq!(entries.len(), 4, "{listed:?}");
    let first = &entries[0];
    assert_eq!(first["at"], T0);
    assert_eq!(
        (first["method"].as_str(), first["path"].as_str()),
        (Some("POST"), Some("/payments/v1/sessions"))
    );
    assert_eq!(first["query"], Value::Null);
    assert_eq!(
        first["request_headers"],
        json!({"content-type": "application/json", "klarna-idempotency-key": "k1", "klarna-integrator": "shop/1.0"})
    );
    assert_eq!(first["request_body"], session_body());
    assert_eq!(first["status"], 200);
    assert_eq!(&first["response_body"], created.json());
    assert_eq!(first["correlation_id"], created.correlation_id());
    assert_eq!(
        first["response_headers"]["klarna-correlation-id"],
        created.correlation_id()
    );
    assert_eq!(
        first["response_headers"]["content-type"],
        "application/json"
    );
    assert_eq!(
        first["response_headers"]["date"],
        "Thu, 01 Jan 2026 00:00:00 GMT"
    );
    assert!(first["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(entries[1]["status"], 400);
    assert_eq!(&entries[1]["response_body"], refused.json());
    assert_eq!(entries[2]["status"], 404);
    assert_eq!(entries[3]["status"], 415);
    assert_eq!(entries[3]["request_body"], "hello");

    // No credentials anywhere in it.
    let text = String::from_utf8_lossy(&listed.raw).to_ascii_lowercase();
    let basic =
        base64_of(&format!("{DEFAULT_USERNAME}+job:{DEFAULT_PASSWORD}")).to_ascii_lowercase();
    for secret in ["authorization", DEFAULT_PASSWORD, &basic] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    let path = |q: &str| format!("/__mock/requests?{q}");
    let count = |a: Answer| a.json().as_array().unwrap().len();
    assert_eq!(count(job.get(&path("method=post")).await), 3);
    assert_eq!(
        count(
            job.get(&path("method=POST&path=/payments/v1/sessions&status=400"))
                .await
        ),
        1
    );
    assert_eq!(count(job.get(&path("path=/payments")).await), 3);
    let newest = job.get(&path("limit=2")).await;
    assert_eq!(newest.json()[0]["status"], 404);
    assert_eq!(newest.json()[1]["status"], 415);
    job.get(&path("status=teapot"))
        .await
        .refused(400, "BAD_VALUE", &["Bad value: status"]);
    job.get(&path("colour=red"))
        .await
        .refused(400, "BAD_VALUE", &["Bad value: colour"]);
    // Reading the journal is not journaled, and the default scope has its own.
    assert_eq!(count(job.get("/__mock/requests").await), 4);
    assert_eq!(count(mock.get("/__mock/requests").await), 1);
    // A reset empties it.
    job.post("/__mock/reset", &json!({})).await;
    assert_eq!(count(job.get("/__mock/requests").await), 0);
    // The notification journal's filter: ids only, none empty.
    let notifications = |q: &str| format!("/__mock/notifications?{q}");
    assert_eq!(count(job.get(&notifications("id=a%2Db&id=c")).await), 0);
    job.get(&notifications("id="))
        .await
        .refused(400, "BAD_VALUE", &["Bad value: id"]);
    job.get(&notifications("order_id=x"))
        .await
        .refused(400, "BAD_VALUE", &["Bad value: order_id"]);
}

#[tokio::test]
async fn a_journal_limit_keeps_the_newest_and_zero_keeps_none() {
    let count = |a: Answer| a.json().as_array().unwrap().len();
    let small = Mock::with(MockConfig::default().seed(3).journal_limit(2)).await;
    for path in ["/a", "/b", "/c"] {
        small.get(path).await;
    }
    let listed = small.get("/__mock/requests").await;
    let paths: Vec<&Value> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["path"])
        .collect();
    assert_eq!(paths, ["/b", "/c"]);

    let none = Mock::with(MockConfig::default().seed(3).journal_limit(0)).await;
    let id = none.create_session(&session_body()).await;
    none.get("/nowhere").await;
    assert_eq!(count(none.get("/__mock/requests").await), 0);
    // Only the journal is off: the session reads back.
    let read = none.get(&format!("/payments/v1/sessions/{id}")).await;
    assert_eq!(read.status, 200, "{read:?}");
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn health_needs_no_credentials_and_takes_no_id() {
    let polled = Mock::with(MockConfig::default().seed(9)).await;
    for _ in 0..3 {
        let r = polled
            .client
            .get(polled.url("/__mock/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("klarna-correlation-id").is_none());
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body,
            json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"), "scopes": "username+scope"})
        );
    }
    let quiet = Mock::with(MockConfig::default().seed(9)).await;
    assert_eq!(flow(&polled).await, flow(&quiet).await);
    // With credentials it answers the same; another method is a 405.
    assert_eq!(polled.get("/__mock/health").await.json()["status"], "ok");
    let post = polled.post("/__mock/health", &json!({})).await;
    assert_eq!((post.status, post.header("allow")), (405, Some("GET")));
}

#[tokio::test]
async fn past_the_bound_the_least_recently_used_scope_is_dropped() {
    let mock = Mock::with(MockConfig::default().max_scopes(2)).await;
    let (a, b, c) = (mock.scope("a"), mock.scope("b"), mock.scope("c"));
    let in_a = a.create_session(&session_body()).await;
    let in_b = b.create_session(&session_body()).await;
    let in_default = mock.create_session(&session_body()).await;
    // a is used again, so b is the least recently used when c comes.
    assert_eq!(
        a.get(&format!("/payments/v1/sessions/{in_a}")).await.status,
        200
    );
    c.create_session(&session_body()).await;
    assert_eq!(
        a.get(&format!("/payments/v1/sessions/{in_a}")).await.status,
        200
    );
    assert_eq!(
        b.get(&format!("/payments/v1/sessions/{in_b}")).await.status,
        404
    );
    // The default scope is not counted.
    assert_eq!(
        mock.get(&format!("/payments/v1/sessions/{in_default}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn malformed_scope_names_are_401_without_echo() {
    let mock = Mock::start().await;
    let message =
        "The username's scope (after \"+\") must be 1 to 64 characters of A-Z a-z 0-9 . _ -";
    let long = "x".repeat(65);
    for scope in ["", "a b", "a/b", "a+b", long.as_str()] {
        let bad = mock.scope(scope);
        let a = bad.get("/__mock/clock").await;
        a.refused(401, "UNAUTHORIZED", &[message]);
        assert!(a.header("www-authenticate").is_some());
        if !scope.is_empty() {
            assert!(!String::from_utf8_lossy(&a.raw).contains(scope), "{a:?}");
        }
    }
    // A scope with the wrong password says nothing more than any wrong password.
    let wrong = read(
        mock.client
            .get(mock.url("/__mock/clock"))
            .basic_auth(format!("{DEFAULT_USERNAME}+ok"), Some("wrong"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    wrong.refused(401, "UNAUTHORIZED", &[]);
    let other = read(
        mock.client
            .get(mock.url("/__mock/clock"))
            .basic_auth("someone+ok", Some(DEFAULT_PASSWORD))
            .send()
            .await
            .unwrap(),
    )
    .await;
    other.refused(401, "UNAUTHORIZED", &[]);
}

/// Defect modes hold in every scope.
#[tokio::test]
async fn defects_apply_to_every_scope() {
    use klarna_conformance::mock::Defect;
    let mock = Mock::with(MockConfig::default().defect(Defect::AcceptExpiredTokens)).await;
    for scope in [mock.scope("a"), mock.scope("b")] {
        let (_, token) = scope.authorized(&session_body()).await;
        scope.advance(7200).await;
        assert_eq!(scope.order(&token, &order_body()).await.status, 200);
    }
}

// `MockServer`'s helpers: the control API without HTTP or credentials.

/// A run in scopes reads each scope's clock once: a worker owns its scope,
/// so the next sequence starts where the last passing one left the clock
/// (every move of it an answer the model judged). The clock still counts:
/// a mock that lets a token outlive its hour is caught across carried clocks.
#[tokio::test(flavor = "multi_thread")]
async fn a_scoped_run_reads_each_clock_once() {
    use klarna_conformance::mock::{Defect, MockServer};
    use klarna_conformance::runner::{self, Property, RunConfig};
    use klarna_conformance::targets::TargetSpec;
    let server = MockServer::start(MockConfig::default().seed(5))
        .await
        .unwrap();
    let mut config = RunConfig::new(31, 12);
    config.target = TargetSpec::url(server.base_url());
    config.properties = vec![Property::TokenExpiry, Property::SessionLifetime];
    config.workers = Some(2);
    config.regressions_dir = None;
    let report = runner::run_async(config.clone()).await;
    let text = runner::report::render(&report, "");
    assert_eq!(report.exit_code(), 0, "{text}");
    // The run's scopes: `<username>+run-<seed as 16 hex digits>.w<n>` (README "Scopes").
    let scope_of = |w: usize| format!("run-{:016x}.w{w}", 31);
    for w in [1, 2] {
        let requests = server.scope(&scope_of(w)).unwrap().requests();
        let reads = requests
            .iter()
            .filter(|r| r["method"] == "GET" && r["path"] == "/__mock/clock")
            .count();
        let advances = requests
            .iter()
            .filter(|r| r["method"] == "POST" && r["path"] == "/__mock/clock")
            .count();
        assert_eq!(reads, 1, "scope w{w}: {reads} clock reads");
        assert!(advances >= 6, "scope w{w}: {advances} clock moves");
    }
    server.shutdown().await;

    let defective = MockServer::start(
        MockConfig::default()
            .seed(5)
            .defect(Defect::AcceptExpiredTokens),
    )
    .await
    .unwrap();
    config.target = TargetSpec::url(defective.base_url());
    let report = runner::run_async(config).await;
    let text = runner::report::render(&report, "");
    assert_eq!(report.exit_code(), 1, "{text}");
    assert!(text.contains("token-expiry"), "{text}");
    defective.shutdown().await;
}
