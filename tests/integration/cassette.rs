//! Cassettes end to end: `--record FILE` on run, scenarios and certify, and
//! `--target wiremock --cassette FILE` (or `certify --cassette FILE`) judging
//! the recorded answers again: the same verdict from an untouched cassette,
//! a conformance failure (exit 1) from a recorded answer that breaks a rule,
//! a cassette mismatch (exit 2, with a diff) from requests the cassette does
//! not hold, a clear error for a bad file, and never a credential stored.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use klarna_conformance::mock::{MockConfig, MockServer};
use serde_json::Value;

use crate::playground::{self, Imitation};

fn bin(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"));
    for var in [
        "PROPTEST_CASES",
        "PROPTEST_RNG_SEED",
        "KLARNA_USERNAME",
        "KLARNA_PASSWORD",
        "KLARNA_PLAYGROUND",
        "KLARNA_AUTHORIZATION_TOKENS",
    ] {
        c.env_remove(var);
    }
    c.args(args).output().expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cassette");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}-{name}", std::process::id()))
}

fn edit(from: &Path, to: &str, change: impl FnOnce(&mut Value)) -> PathBuf {
    let mut cassette: Value =
        serde_json::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
    change(&mut cassette);
    let path = scratch(to);
    std::fs::write(&path, cassette.to_string()).unwrap();
    path
}

/// The summary line (`N passed, M failed…`), which a replay must repeat.
fn summary(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    out.lines()
        .find(|l| l.contains(" passed, "))
        .unwrap_or_default()
        .to_owned()
}

/// A mock run recorded: two properties, three cases each.
fn recorded_mock_run(name: &str) -> PathBuf {
    let cassette = scratch(name);
    let o = bin(&[
        "run",
        "--property",
        "order-succeeds",
        "--property",
        "token-expiry",
        "--cases",
        "3",
        "--seed",
        "11",
        "--record",
        cassette.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("recorded "), "{}", text(&o));
    cassette
}

fn replay(cassette: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--target",
        "wiremock",
        "--cassette",
        cassette.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    bin(&args)
}

#[test]
fn a_mock_run_replays_to_the_same_verdict() {
    let cassette = recorded_mock_run("same.json");
    let o = replay(&cassette, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(summary(&o), "2 passed, 0 failed", "{}", text(&o));
    assert!(text(&o).contains("seed 11"), "{}", text(&o));

    // A failing run, shrunk, replays to the same minimal case.
    let failing = scratch("failing.json");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "run",
            "--property",
            "order-succeeds",
            "--cases",
            "20",
            "--seed",
            "3",
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let recorded = bin(&args(&[
        "--defect",
        "drop-fraud-status",
        "--record",
        failing.to_str().unwrap(),
    ])
    .iter()
    .map(String::as_str)
    .collect::<Vec<_>>());
    assert_eq!(recorded.status.code(), Some(1), "{}", text(&recorded));
    let replayed = replay(&failing, &[]);
    assert_eq!(replayed.status.code(), Some(1), "{}", text(&replayed));
    let minimal = |o: &Output| {
        text(o)
            .lines()
            .find(|l| l.starts_with("minimal failing sequence"))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(!minimal(&recorded).is_empty(), "{}", text(&recorded));
    assert_eq!(
        minimal(&replayed),
        minimal(&recorded),
        "{}",
        text(&replayed)
    );
}

#[test]
fn a_recorded_answer_that_breaks_a_rule_fails_its_property() {
    let cassette = recorded_mock_run("rule.json");
    let broken = edit(&cassette, "rule-broken.json", |c| {
        let order = c["cases"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .flat_map(|case| case["exchanges"].as_array_mut().unwrap().iter_mut())
            .find(|e| e["path"].as_str().unwrap().ends_with("/order") && e["status"] == 200)
            .expect("a recorded order");
        let mut body: Value =
            serde_json::from_str(order["response_body"].as_str().unwrap()).unwrap();
        body["fraud_status"] = "REJECTED".into();
        order["response_body"] = body.to_string().into();
    });
    let o = replay(&broken, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("FAILED order-succeeds"), "{}", text(&o));
    assert!(text(&o).contains("fraud_status"), "{}", text(&o));
    assert!(!text(&o).contains("cassette mismatch"), "{}", text(&o));
}

#[test]
fn requests_the_cassette_does_not_hold_are_a_mismatch_not_a_failure() {
    let cassette = recorded_mock_run("mismatch.json");
    let changed = edit(&cassette, "mismatch-changed.json", |c| {
        let first = &mut c["cases"][0]["exchanges"][0];
        let mut body: Value =
            serde_json::from_str(first["request_body"].as_str().unwrap()).unwrap();
        body["purchase_country"] = "XX".into();
        first["request_body"] = body.to_string().into();
    });
    let o = replay(&changed, &[]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("cassette mismatch"), "{out}");
    assert!(
        out.contains("request #1") && out.contains("POST /payments/v1/sessions"),
        "{out}"
    );
    assert!(out.contains("-   \"purchase_country\": \"XX\""), "{out}");
    assert!(!out.contains("FAILED"), "{out}");

    for other in [&["--seed", "12"][..], &["--cases", "4"], &["--cases", "2"]] {
        let o = replay(&cassette, other);
        assert_eq!(o.status.code(), Some(2), "{other:?}: {}", text(&o));
        assert!(
            text(&o).contains("cassette mismatch"),
            "{other:?}: {}",
            text(&o)
        );
        assert!(!text(&o).contains("FAILED"), "{}", text(&o));
    }
}

#[test]
fn a_bad_cassette_file_is_named_and_exits_2() {
    let cassette = recorded_mock_run("bad.json");
    let whole = std::fs::read_to_string(&cassette).unwrap();
    let truncated = scratch("truncated.json");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let newer = edit(&cassette, "newer.json", |c| c["cassette"] = 99.into());
    let missing = scratch("missing.json");
    for (file, says) in [
        (&truncated, "not JSON"),
        (&newer, "format 99"),
        (&missing, "cannot read"),
    ] {
        let o = replay(file, &[]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(
            out.contains(file.to_str().unwrap()) && out.contains(says),
            "{out}"
        );
        assert!(!out.contains("panicked"), "{out}");
    }
    let o = bin(&["run", "--target", "wiremock"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--cassette"), "{}", text(&o));
    let o = bin(&["run", "--cassette", cassette.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--target wiremock"), "{}", text(&o));
    // An unwritable --record fails before anything runs.
    let o = bin(&["run", "--cases", "1", "--record", "/nonexistent-dir/c.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("/nonexistent-dir/c.json"), "{}", text(&o));
    assert!(!text(&o).contains("passed"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_run_replays_and_its_cassette_holds_no_credentials() {
    let (user, password) = ("shop-user", "url-secret-5309");
    let server = MockServer::start(MockConfig::default().seed(3).credentials(user, password))
        .await
        .unwrap();
    let cassette = scratch("url.json");
    let (url, file) = (server.base_url(), cassette.clone());
    let recorded = tokio::task::spawn_blocking(move || {
        bin(&[
            "run",
            "--target",
            &url,
            "--username",
            user,
            "--password",
            password,
            "--cases",
            "2",
            "--seed",
            "5",
            "--no-regressions",
            "--record",
            file.to_str().unwrap(),
        ])
    })
    .await
    .unwrap();
    assert_eq!(recorded.status.code(), Some(0), "{}", text(&recorded));
    let stored = std::fs::read_to_string(&cassette).unwrap();
    let basic = klarna_conformance::targets::Credentials::new(user, password).header_value();
    assert!(
        !stored.contains(password),
        "the password is in the cassette"
    );
    assert!(
        !stored.contains(&basic["Basic ".len()..]),
        "the Basic credentials are in the cassette"
    );
    assert!(!stored.to_ascii_lowercase().contains("\"authorization\""));
    // Paths name the ids the server handed out: a replay sends the same
    // paths only because it takes its ids from the recorded answers.
    assert!(
        stored.contains("\"path\": \"/payments/v1/sessions/")
            && stored.contains("\"path\": \"/payments/v1/authorizations/"),
        "{stored}"
    );
    drop(server);
    // Offline: the server is gone, the cassette answers.
    let replayed = tokio::task::spawn_blocking(move || replay(&cassette, &[]))
        .await
        .unwrap();
    assert_eq!(replayed.status.code(), Some(0), "{}", text(&replayed));
    assert_eq!(
        summary(&replayed),
        summary(&recorded),
        "{}",
        text(&replayed)
    );
}

#[test]
fn scenarios_replay_from_a_cassette() {
    let cassette = scratch("scenarios.json");
    let args = |extra: &[&str]| {
        let mut a = vec!["scenarios", "--no-snapshots"];
        a.extend_from_slice(extra);
        a.push("happy_path_se");
        bin(&a)
    };
    let o = args(&["--record", cassette.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = args(&[
        "--target",
        "wiremock",
        "--cassette",
        cassette.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("PASS  happy_path_se::mock"),
        "{}",
        text(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certification_is_rejudged_offline_with_a_drift_section() {
    let imitation = Imitation::start(None, &[]).await;
    let cassette = scratch("certify.json");
    let report = scratch("certify.md");
    let (uri, file, md) = (imitation.uri(), cassette.clone(), report.clone());
    let recorded = tokio::task::spawn_blocking(move || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"));
        c.env("KLARNA_USERNAME", playground::USERNAME)
            .env("KLARNA_PASSWORD", playground::PASSWORD)
            .env_remove("KLARNA_PLAYGROUND")
            .env_remove("KLARNA_AUTHORIZATION_TOKENS")
            .args(["certify", "--base-url", &uri, "--cases", "1", "--seed", "5"])
            .args(["--record", file.to_str().unwrap()])
            .args(["--report", md.to_str().unwrap()]);
        c.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(recorded.status.code(), Some(0), "{}", text(&recorded));
    let stored = std::fs::read_to_string(&cassette).unwrap();
    assert!(!stored.contains(playground::PASSWORD));
    drop(imitation);
    let (file, md) = (cassette.clone(), report.clone());
    let replayed = tokio::task::spawn_blocking(move || {
        bin(&[
            "certify",
            "--cassette",
            file.to_str().unwrap(),
            "--report",
            md.to_str().unwrap(),
        ])
    })
    .await
    .unwrap();
    assert_eq!(replayed.status.code(), Some(0), "{}", text(&replayed));
    assert_eq!(
        summary(&replayed),
        summary(&recorded),
        "{}",
        text(&replayed)
    );
    let markdown = std::fs::read_to_string(&report).unwrap();
    assert!(markdown.contains("- **Result**: passed"), "{markdown}");
    assert!(
        markdown.contains("## Drift from the embedded mock"),
        "{markdown}"
    );
    // The imitation answers a refused password with the playground's HTML
    // 401 (docs/klarna.md §10); the mock with JSON.
    assert!(markdown.contains("one body is not JSON"), "{markdown}");
    assert!(!markdown.contains(playground::PASSWORD));
}
