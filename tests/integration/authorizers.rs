//! Authorizers (`--authorizer CMD`, README "Authorizers"): an external
//! program stands for the browser. Shown against a target the harness
//! treats as the playground (no control API, lenient judging), whose
//! authorizations come only from the program, which here asks the mock's
//! control API as a browser would ask Klarna's SDK.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use klarna_conformance::authorize::{self, Authorizer};
use klarna_conformance::certify;
use klarna_conformance::mock::{self, MockConfig, MockServer};
use klarna_conformance::runner::{self, Property, RunConfig};
use klarna_conformance::targets::{Credentials, Pacing, TargetSpec};

/// A program that authorizes through the mock's control API at `base`,
/// printing what it answers: the SDK's callback result. With `forge`, it
/// prints an approval with a token the mock never issued instead.
fn program(name: &str, base: &str, forge: bool) -> String {
    let dir = std::env::temp_dir().join(format!("kc-authorizers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(name);
    let script = format!(
        r#"import base64, json, sys, urllib.request
a = json.load(sys.stdin)
if {forge}:
    print(json.dumps({{"approved": True, "show_form": True, "authorization_token": "forged-" + a["session_id"]}}))
    sys.exit(0)
body = dict(a["data"] or {{}})
if a["payment_method_category"]:
    body["payment_method_category"] = a["payment_method_category"]
auth = base64.b64encode(b"{user}:{password}").decode()
request = urllib.request.Request(
    "{base}/__mock/sessions/" + a["session_id"] + "/authorize",
    data=json.dumps(body).encode(),
    headers={{"Authorization": "Basic " + auth, "Content-Type": "application/json"}},
)
print(urllib.request.urlopen(request).read().decode())
"#,
        forge = if forge { "True" } else { "False" },
        user = mock::DEFAULT_USERNAME,
        password = mock::DEFAULT_PASSWORD,
    );
    std::fs::write(&path, script).unwrap();
    format!("python3 {}", path.display())
}

/// A run against `server` as if it were the playground, authorizing with `authorizer`.
fn playground_run(server: &MockServer, authorizer: Arc<dyn Authorizer>) -> RunConfig {
    let mut config = RunConfig::new(7, 4);
    config.target = TargetSpec::Playground {
        base_url: Some(server.base_url()),
        credentials: Credentials::new(mock::DEFAULT_USERNAME, mock::DEFAULT_PASSWORD),
        pacing: Pacing::UNPACED,
    };
    certify::playground_settings(&mut config);
    config.authorizer = Some(authorizer);
    config.markets = vec!["SE".into(), "DE".into()];
    config
}

fn command(text: String) -> Arc<dyn Authorizer> {
    Arc::new(authorize::Command::new(
        text,
        authorize::Command::DEFAULT_TIMEOUT,
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_authorizes_where_there_is_no_control_api() {
    let server = MockServer::start(MockConfig::default().seed(3))
        .await
        .unwrap();
    let authorizer = command(program("approve.py", &server.base_url(), false));
    let mut config = playground_run(&server, authorizer);
    config.properties = vec![
        Property::OrderSucceeds,
        Property::ChangedDataRefused,
        Property::Refunds,
        Property::TokenExpiry,
    ];
    let report = runner::run_async(config).await;
    let text = runner::report::render(&report, "");
    assert_eq!(report.exit_code(), 0, "{text}");
    let ran = |p: Property| report.properties.iter().find(|r| r.property == p).unwrap();
    for p in [
        Property::OrderSucceeds,
        Property::ChangedDataRefused,
        Property::Refunds,
    ] {
        assert!(ran(p).skipped.is_none() && ran(p).cases == 4, "{text}");
    }
    // Expiry needs a clock the harness can move.
    assert!(ran(Property::TokenExpiry).skipped.is_some(), "{text}");
    // Every token came from the program: the mock journaled its requests.
    let authorizations = server
        .requests()
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").ends_with("/authorize"))
        .count();
    assert!(authorizations >= 12, "{authorizations}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_approval_fails_at_the_order_it_was_for() {
    let server = MockServer::start(MockConfig::default().seed(3))
        .await
        .unwrap();
    let authorizer = command(program("forge.py", &server.base_url(), true));
    let mut config = playground_run(&server, authorizer);
    config.properties = vec![Property::OrderSucceeds];
    // Each shrink step starts the program again.
    config.max_shrink_steps = 4;
    let report = runner::run_async(config).await;
    let text = runner::report::render(&report, "");
    assert_eq!(report.exit_code(), 1, "{text}");
    assert!(text.contains("forged-"), "{text}");
    server.shutdown().await;
}

fn binary(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"));
    c.args(args)
        .env_remove("KLARNA_PLAYGROUND")
        .env_remove("KLARNA_USERNAME")
        .env_remove("KLARNA_PASSWORD");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text)
}

#[test]
fn the_binary_explains_what_the_playground_needs_before_sending_anything() {
    let creds = [
        ("KLARNA_PLAYGROUND", "1"),
        ("KLARNA_USERNAME", "PK0000_user"),
        ("KLARNA_PASSWORD", "never-printed"),
    ];
    let (code, text) = binary(&["run", "--target", "playground"], &creds);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("--authorizer") && text.contains("certify"),
        "{text}"
    );
    let (code, text) = binary(&["run", "--authorizer", " "], &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("--authorizer is empty"), "{text}");
    let (code, text) = binary(&["run", "--skip-expiry"], &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(!text.contains("never-printed"));
}

#[test]
fn a_broken_program_is_a_target_error_naming_it() {
    let (code, text) = binary(
        &[
            "run",
            "--authorizer",
            "echo not-json",
            "--property",
            "order-succeeds",
            "--cases",
            "2",
            "--no-regressions",
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("echo not-json") && text.contains("not one JSON object"),
        "{text}"
    );
}

/// Held expiry (docs/design.md "Held expiry"): on a real clock token-expiry
/// holds each token past its hour while the rest runs. The pause seam stands
/// for the hour here by moving the imitation's clock; a target that still
/// takes the held token fails the property.
async fn held(move_the_clock: bool) -> runner::RunReport {
    let server = Arc::new(
        MockServer::start(MockConfig::default().seed(11))
            .await
            .unwrap(),
    );
    let authorizer = command(program("held.py", &server.base_url(), false));
    let mut config = playground_run(&server, authorizer);
    config.properties = vec![Property::TokenExpiry, Property::OrderSucceeds];
    config.cases = 3;
    config.hold_expiry = true;
    let clock = server.clone();
    config.pause = Some(Arc::new(move |hour| {
        if move_the_clock {
            clock.advance_clock(hour).unwrap();
        }
        Box::pin(async {})
    }));
    runner::run_async(config).await
}

#[tokio::test(flavor = "multi_thread")]
async fn held_tokens_are_judged_after_their_hour() {
    let report = held(true).await;
    let text = runner::report::render(&report, "");
    assert_eq!(report.exit_code(), 0, "{text}");
    let expiry = &report.properties[0];
    assert_eq!((expiry.cases, expiry.passed), (3, 3), "{text}");
    assert!(text.contains("NOT_FOUND"), "{text}");

    let report = held(false).await;
    let text = runner::report::render(&report, "");
    assert_eq!(report.exit_code(), 1, "{text}");
    assert!(
        text.contains("token-expiry") && text.contains("wait 3720 s of real time"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_holding_token_expiry_is_skipped_saying_why() {
    let server = MockServer::start(MockConfig::default()).await.unwrap();
    let authorizer = command(program("skip.py", &server.base_url(), false));
    let mut config = playground_run(&server, authorizer);
    config.properties = vec![Property::TokenExpiry, Property::SessionLifetime];
    let report = runner::run_async(config).await;
    let why: Vec<_> = report.properties.iter().map(|p| p.skipped).collect();
    assert!(why[0].unwrap().contains("--skip-expiry"), "{why:?}");
    assert!(why[1].is_some(), "{why:?}");
}
