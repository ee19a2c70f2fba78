//! The scenario harness can fail: an altered snapshot fails with a readable
//! diff, a defect mode of the mock fails at the step that should notice, and
//! `run_files` maps outcomes to the CLI's exit codes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use klarna_conformance::errors::exit;
use klarna_conformance::mock::{Defect, MockConfig, MockServer};
use klarna_conformance::scenario::{self, Failure, MockSettings, Outcome, RunOptions, Scenario};
use klarna_conformance::targets::{Credentials, Embedded, TargetSpec};

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
async fn a_missing_snapshot_fails_unless_updates_are_accepted() {
    // Under INSTA_UPDATE=always a new snapshot is accepted by design.
    if std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always" || v == "force") {
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
        ..RunOptions::default()
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
        ..RunOptions::default()
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

    // Credentials the mock refuses make it unusable (exit 2), as in `run`.
    let mut out = Vec::new();
    let mut only_mock = options.clone();
    only_mock.filter = Some("happy_path_se".into());
    let refused = {
        // The embedded mock checks against its own config; send other credentials.
        let mock = MockConfig::default();
        let server = MockServer::start(mock).await.unwrap();
        let spec = TargetSpec::Url {
            base_url: server.base_url(),
            credentials: Credentials::new("nobody", "wrong"),
        };
        let summary = scenario::run_files(&dir, &spec, &only_mock, &mut out).await;
        server.shutdown().await;
        summary
    };
    assert_eq!(
        refused.target_errors,
        1,
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(refused.exit_code(), exit::USAGE);
    assert!(String::from_utf8_lossy(&out).contains("refused the credentials"));

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
        ..RunOptions::default()
    };
    let mut out = Vec::new();
    let summary = scenario::run_files(&dir, &unreachable, &options, &mut out).await;
    assert_eq!((summary.skipped, summary.exit_code()), (1, 0));

    // A filter matching nothing is most likely a typo, not a pass.
    let options = RunOptions {
        filter: Some("zzz".into()),
        snapshot_root: None,
        ..RunOptions::default()
    };
    let mut out = Vec::new();
    let summary = scenario::run_files(&dir, &TargetSpec::mock(), &options, &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(summary.exit_code(), exit::USAGE, "{text}");
    assert!(text.starts_with("no scenario matches `zzz`\n"), "{text}");

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

/// A shrunk failing sequence written as a scenario passes against the
/// faithful mock and fails against the defect it was found with.
#[test]
fn emitted_sequences_pin_down_their_defect() {
    use klarna_conformance::runner::{self, Property, RunConfig};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pairs = [
        (Property::TokenExpiry, Defect::AcceptExpiredTokens),
        (Property::ChangedDataRefused, Defect::TrimAddressSpaces),
        (Property::SessionReadBack, Defect::UpdateIgnored),
        (Property::OrderManagement, Defect::OmRemainingNotReduced),
        (Property::RetryIdempotent, Defect::NewOrderIdOnLateRetry),
        (Property::Refunds, Defect::RefundOverCaptured),
        (Property::IdempotencyKeys, Defect::IdempotencyKeyIgnored),
        (Property::OperationsRepeat, Defect::NewTransactionIdOnRepeat),
        (Property::Refunds, Defect::CaptureListDropsLatest),
        (
            Property::CustomerTokens,
            Defect::CancelledCustomerTokenOrders,
        ),
        (Property::PendingReview, Defect::RejectedNotCancelled),
    ];
    for (property, defect) in pairs {
        let mut config = RunConfig::new(21, 300);
        config.properties = vec![property];
        config.target = TargetSpec::Mock(MockConfig::default().seed(21).defect(defect));
        let report = runner::run(&config);
        let failure = report.properties[0].failure.as_ref().expect("found");
        let text = scenario::from_sequence(
            "emitted",
            &MockSettings::default(),
            &failure.steps,
            &failure.exchanges,
        )
        .unwrap();
        let s = scenario::parse(Path::new("emitted.toml"), &text, &Default::default()).unwrap();
        let run_on = |mock: MockConfig| {
            let config = scenario::mock_config(&mock, &s.mock);
            let credentials = Credentials::new(config.username.clone(), config.password.clone());
            rt.block_on(scenario::execute(
                &s,
                Arc::new(Embedded::new(config)),
                credentials,
                None,
            ))
        };
        let faithful = run_on(MockConfig::default());
        assert!(
            faithful.passed(),
            "{defect}: {text}\n{}",
            faithful.failure_text()
        );
        let broken = run_on(MockConfig::default().defect(defect));
        assert!(
            !broken.passed(),
            "{defect}: the scenario passes the defect:\n{text}"
        );
    }
}

/// The binary with no credentials or insta settings from the caller's shell.
fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_klarna-conformance"))
        .args(args)
        .env_remove("KLARNA_USERNAME")
        .env_remove("KLARNA_PASSWORD")
        .env_remove("INSTA_UPDATE")
        .env_remove("INSTA_FORCE_PASS")
        .env_remove("CI")
        .env_remove("TF_BUILD")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the binary runs")
}

fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A first run against a new target has no snapshots to compare with: it
/// records them (NEW) and passes; the next run compares with them; a changed
/// one fails with a diff, and insta's panic text is never printed.
#[test]
fn a_url_target_records_missing_snapshots_then_checks_them() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(MockServer::start(MockConfig::default().seed(3)))
        .unwrap();
    let url = server.base_url();
    let tmp = TempDir::new("url-snapshots");
    let root = tmp.0.to_str().unwrap();
    let dir = root_dir_arg();
    let args = [
        "scenarios",
        "--target",
        &url,
        "--dir",
        &dir,
        "--snapshots",
        root,
        "happy_path_us",
    ];
    let first = cli(&args);
    let out = output_text(&first);
    assert_eq!(first.status.code(), Some(0), "{out}");
    let snap = tmp
        .0
        .join("url")
        .join("happy_path_us__03_create_order.snap");
    assert!(
        out.contains(&format!("NEW   {} (recorded: review it)", snap.display())),
        "{out}"
    );
    assert!(
        out.contains("1 passed, 0 failed") && out.contains("new snapshots"),
        "{out}"
    );
    let recorded = std::fs::read_to_string(&snap).unwrap();
    assert!(
        recorded.starts_with("---\nsource: src/snapshot.rs\ndescription: \""),
        "{recorded}"
    );
    assert!(recorded.contains("\"[order_id-1]\""), "{recorded}");
    // Nothing is left for the mock's own folder.
    assert!(!tmp.0.join("happy_path_us__03_create_order.snap").exists());

    let second = cli(&args);
    let out = output_text(&second);
    assert_eq!(second.status.code(), Some(0), "{out}");
    assert!(
        out.contains("PASS  happy_path_us::url") && !out.contains("NEW"),
        "{out}"
    );

    let altered = recorded.replace(
        "\"fraud_status\": \"ACCEPTED\"",
        "\"fraud_status\": \"PENDING\"",
    );
    assert_ne!(altered, recorded);
    std::fs::write(&snap, &altered).unwrap();
    let third = cli(&args);
    let out = output_text(&third);
    assert_eq!(third.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL  happy_path_us::url"), "{out}");
    assert!(out.contains("differs"), "{out}");
    assert!(
        out.contains("-    \"fraud_status\": \"PENDING\",\n")
            && out.contains("+    \"fraud_status\": \"ACCEPTED\",\n"),
        "{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    rt.block_on(server.shutdown());
}

/// In CI (`INSTA_UPDATE=no`) a new target's answers are still recorded, as
/// `.snap.new` for review, and the run passes; the mock's missing snapshot fails.
#[test]
fn in_ci_new_snapshots_of_a_url_target_are_pending_review() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(MockServer::start(MockConfig::default().seed(3)))
        .unwrap();
    let url = server.base_url();
    let tmp = TempDir::new("url-snapshots-ci");
    let root = tmp.0.to_str().unwrap();
    let dir = root_dir_arg();
    let run = |target: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_klarna-conformance"))
            .args([
                "scenarios",
                "--target",
                target,
                "--dir",
                &dir,
                "--snapshots",
                root,
            ])
            .arg("wrong_credentials")
            .env_remove("KLARNA_USERNAME")
            .env_remove("KLARNA_PASSWORD")
            .env("INSTA_UPDATE", "no")
            .output()
            .unwrap()
    };
    let o = run(&url);
    let out = output_text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let pending = tmp
        .0
        .join("url")
        .join("wrong_credentials__01_create_session.snap.new");
    assert!(pending.exists(), "{out}");
    assert!(
        out.contains(&format!("NEW   {}", pending.display())),
        "{out}"
    );

    let o = run("mock");
    let out = output_text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("does not exist yet"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    rt.block_on(server.shutdown());
}

#[test]
fn a_filter_matching_nothing_is_a_usage_error() {
    let o = cli(&[
        "scenarios",
        "--dir",
        &root_dir_arg(),
        "--no-snapshots",
        "zzz",
    ]);
    let out = output_text(&o);
    assert_eq!(o.status.code(), Some(i32::from(exit::USAGE)), "{out}");
    assert!(out.contains("no scenario matches `zzz`"), "{out}");
}

fn root_dir_arg() -> String {
    root().join("scenarios").to_string_lossy().into_owned()
}
