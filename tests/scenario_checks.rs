//! The scenario harness can fail: an altered snapshot fails with a readable
//! diff, a defect mode of the mock fails at the step that should notice, and
//! `run_files` maps outcomes to the CLI's exit codes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use klarna_conformance::errors::exit;
use klarna_conformance::mock::{Defect, MockConfig, MockServer};
use klarna_conformance::scenario::{
    self, CaseBodies, ExpectedAnswer, Failure, MockSettings, Outcome, RunOptions, Scenario,
};
use klarna_conformance::target::{Credentials, Embedded, TargetSpec};
use serde_json::json;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(stem: &str) -> Scenario {
    let dir = root().join("scenarios");
    let shared = scenario::load_fixtures(&dir).unwrap();
    scenario::load_file(&dir.join(format!("{stem}.toml")), &shared).unwrap()
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "klarna-conformance-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn an_altered_snapshot_fails_with_a_readable_diff() {
    // Under INSTA_UPDATE=always or INSTA_FORCE_PASS insta accepts any change by
    // design; the check is about the default and CI (INSTA_UPDATE=no).
    if std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always" || v == "force")
        || std::env::var("INSTA_FORCE_PASS").is_ok_and(|v| v == "1")
    {
        eprintln!("skipped: INSTA_UPDATE=always/force or INSTA_FORCE_PASS=1 accepts every change");
        return;
    }
    let stem = "changed_billing_postal_code";
    let tmp = TempDir::new("altered");
    let scenarios = tmp.0.join("scenarios");
    let snapshots = tmp.0.join("snapshots");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::create_dir_all(&snapshots).unwrap();
    for f in [format!("{stem}.toml"), "fixtures.toml".to_owned()] {
        std::fs::copy(root().join("scenarios").join(&f), scenarios.join(&f)).unwrap();
    }
    let snap = format!("{stem}__04_create_order.snap");
    let recorded = std::fs::read_to_string(root().join("snapshots").join(&snap)).unwrap();
    let altered = recorded.replace("\"postal_code\": \"10025\"", "\"postal_code\": \"10026\"");
    assert_ne!(
        altered, recorded,
        "the snapshot should hold the changed postal code"
    );
    std::fs::write(snapshots.join(&snap), altered).unwrap();

    let shared = scenario::load_fixtures(&scenarios).unwrap();
    let s = scenario::load_file(&scenarios.join(format!("{stem}.toml")), &shared).unwrap();
    let report = scenario::run_scenario(&s, &TargetSpec::mock(), Some(&snapshots)).await;
    let Outcome::Failed(failures) = &report.outcome else {
        panic!(
            "an altered snapshot must fail the scenario: {:?}",
            report.outcome
        );
    };
    assert!(matches!(failures[..], [Failure::Snapshot { step: 4, .. }]));
    let text = report.failure_text();
    assert!(
        text.starts_with(&format!(
            "step 4 (create_order): snapshot `{stem}__04_create_order`"
        )),
        "{text}"
    );
    assert!(text.contains("differs"), "{text}");
    assert!(
        text.contains("-        \"postal_code\": \"10026\",\n+        \"postal_code\": \"10025\","),
        "{text}"
    );
    // The real snapshot is untouched and still passes.
    let report =
        scenario::run_scenario(&s, &TargetSpec::mock(), Some(&root().join("snapshots"))).await;
    assert!(report.passed(), "{}", report.failure_text());
}

#[tokio::test]
async fn a_missing_snapshot_fails_in_ci_mode() {
    if std::env::var("INSTA_UPDATE").as_deref() != Ok("no") {
        eprintln!("skipped: only meaningful with INSTA_UPDATE=no (as CI sets it)");
        return;
    }
    let tmp = TempDir::new("missing");
    let s = load("wrong_credentials");
    let report = scenario::run_scenario(&s, &TargetSpec::mock(), Some(&tmp.0)).await;
    let text = report.failure_text();
    assert!(text.contains("does not exist yet"), "{text}");
    assert!(
        !tmp.0
            .join("wrong_credentials__01_create_session.snap")
            .exists()
    );
}

/// Each defect breaks one rule; the scenario pinning that rule must fail at
/// the step that checks it, and say what it expected.
#[tokio::test]
async fn defect_modes_fail_at_the_step_that_notices() {
    let cases: [(&str, Defect, usize, &str, &str); 7] = [
        (
            "changed_billing_postal_code",
            Defect::IgnoreAddressChanges,
            4,
            "create_order",
            "expected status 409, got 200",
        ),
        (
            "expired_token",
            Defect::AcceptExpiredTokens,
            4,
            "create_order",
            "expected status 404, got 200",
        ),
        (
            "changed_item_count",
            Defect::NoItemCountMessage,
            4,
            "create_order",
            "expected error_messages [\"Not matching fields: [Incorrect number of items",
        ),
        (
            "identical_retry",
            Defect::NewOrderIdOnRetry,
            4,
            "create_order",
            "expected `order_id` = ",
        ),
        (
            "pending_fraud_status",
            Defect::NeverPending,
            3,
            "create_order",
            "expected `fraud_status` = \"PENDING\", got \"ACCEPTED\"",
        ),
        (
            "success_with_confirmation_url",
            Defect::NeverRedirectUrl,
            3,
            "create_order",
            "expected `redirect_url` in the answer, it is absent",
        ),
        (
            "auto_capture_captured",
            Defect::OmNeverCaptured,
            4,
            "read_order",
            "expected `status` = \"CAPTURED\", got \"AUTHORIZED\"",
        ),
    ];
    for (stem, defect, step, kind, says) in cases {
        let s = load(stem);
        let spec = TargetSpec::Mock(MockConfig::default().defect(defect));
        let report = scenario::run_scenario(&s, &spec, None).await;
        let Outcome::Failed(failures) = &report.outcome else {
            panic!("{stem} with {defect} must fail: {:?}", report.outcome);
        };
        assert_eq!(failures.len(), 1, "{stem}");
        assert_eq!(failures[0].step(), step, "{stem} with {defect}");
        let text = report.failure_text();
        assert!(
            text.starts_with(&format!("step {step} ({kind}, line ")),
            "{stem} with {defect}: {text}"
        );
        assert!(text.contains(says), "{stem} with {defect}: {text}");
        // The faithful mock passes the same scenario.
        assert!(
            scenario::run_scenario(&s, &TargetSpec::mock(), None)
                .await
                .passed()
        );
    }
}

#[tokio::test]
async fn run_files_prints_one_line_per_scenario_and_maps_exit_codes() {
    let dir = root().join("scenarios");
    let options = RunOptions {
        filter: Some("happy_path".into()),
        snapshot_root: Some(root().join("snapshots")),
    };
    let mut out = Vec::new();
    let summary = scenario::run_files(&dir, &TargetSpec::mock(), &options, &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(summary.passed, 4, "{text}");
    assert_eq!(summary.exit_code(), exit::OK);
    for cc in ["de", "gb", "se", "us"] {
        assert!(
            text.contains(&format!("PASS  happy_path_{cc}::mock\n")),
            "{text}"
        );
    }

    let defective = TargetSpec::Mock(MockConfig::default().defect(Defect::DropFraudStatus));
    let options = RunOptions {
        filter: Some("happy_path_se".into()),
        snapshot_root: None,
    };
    let mut out = Vec::new();
    let summary = scenario::run_files(&dir, &defective, &options, &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(summary.failed, 1, "{text}");
    assert_eq!(summary.exit_code(), exit::FAILURE);
    assert!(
        text.contains("FAIL  happy_path_se::mock\n    step 3 (create_order, line "),
        "{text}"
    );

    // Nobody listens on port 1: the target is unusable, not non-conformant.
    let unreachable = TargetSpec::url_from_env("http://127.0.0.1:1");
    let mut out = Vec::new();
    let summary = scenario::run_files(&dir, &unreachable, &options, &mut out).await;
    assert_eq!(summary.target_errors, 1);
    assert_eq!(summary.exit_code(), exit::USAGE);
    // A scenario that does not list the target is skipped.
    let options = RunOptions {
        filter: Some("expired_token".into()),
        snapshot_root: None,
    };
    let mut out = Vec::new();
    let summary = scenario::run_files(&dir, &unreachable, &options, &mut out).await;
    assert_eq!((summary.skipped, summary.exit_code()), (1, 0));

    let mut out = Vec::new();
    let missing = root().join("no-such-dir");
    let summary = scenario::run_files(&missing, &TargetSpec::mock(), &options, &mut out).await;
    assert_eq!(summary.exit_code(), exit::USAGE);
}

#[tokio::test]
async fn scenarios_run_against_a_url_target() {
    let server = MockServer::start(MockConfig::default().seed(7))
        .await
        .unwrap();
    let spec = TargetSpec::Url {
        base_url: server.base_url(),
        credentials: Credentials::new(
            klarna_conformance::mock::DEFAULT_USERNAME,
            klarna_conformance::mock::DEFAULT_PASSWORD,
        ),
    };
    for stem in [
        "happy_path_us",
        "changed_billing_postal_code",
        "wrong_credentials",
        "malformed_body",
    ] {
        let report = scenario::run_scenario(&load(stem), &spec, None).await;
        assert!(report.passed(), "{stem}: {}", report.failure_text());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn an_emitted_case_runs_as_a_scenario() {
    let session = json!({
        "purchase_country": "SE", "purchase_currency": "SEK", "locale": "sv-SE",
        "order_amount": 10000, "order_tax_amount": 2000,
        "order_lines": [{"name": "Löparsko", "quantity": 1, "unit_price": 10000,
            "tax_rate": 2500, "total_amount": 10000, "total_tax_amount": 2000}]
    });
    let address = json!({"given_name": "Alice", "family_name": "Test", "email": "customer@email.se",
        "street_address": "Södra Blasieholmshamnen 2", "postal_code": "11 148",
        "city": "Stockholm", "country": "SE"});
    let mut order = session.clone();
    order["billing_address"] = address.clone();
    let case = CaseBodies {
        description: "property token_lifetime, seed 9".into(),
        session,
        authorize: Some(json!({"billing_address": address})),
        wait_seconds: 3600,
        order,
        mock: MockSettings::default(),
    };
    let expected = ExpectedAnswer {
        status: 404,
        error_code: Some("NOT_FOUND".into()),
        messages: vec!["Invalid authorization token".into()],
        order: None,
    };
    let text = scenario::from_case(&case, &expected).unwrap();
    let s = scenario::parse(Path::new("emitted.toml"), &text, &Default::default()).unwrap();
    let config = scenario::mock_config(&MockConfig::default(), &s.mock);
    let credentials = Credentials::new(config.username.clone(), config.password.clone());
    let report = scenario::execute(&s, Arc::new(Embedded::new(config)), credentials, None).await;
    assert!(report.passed(), "{text}\n{}", report.failure_text());
    assert_eq!(report.exchanges.len(), 4);
}
