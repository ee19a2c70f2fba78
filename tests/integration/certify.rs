//! `certify` against a wiremock imitation of Klarna's playground
//! (tests/playground): it passes against the faithful imitation despite the
//! playground's recorded quirks, fails on the right check against injected
//! faults, and reports an unusable target (exit 2) as such. No test here
//! reaches Klarna: the opt-in test proves certify refuses before any request.

use crate::playground;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use klarna_conformance::certify::{
    self, AuthorizedOrder, CertifyConfig, CertifyReport, Region, Unusable,
};
use klarna_conformance::generate::untouched_case;
use klarna_conformance::runner::Property;
use klarna_conformance::runner::seed::case_tree;
use klarna_conformance::targets::{Pacing, TargetError};
use playground::{Fault, Imitation, PASSWORD, USERNAME};
use proptest::strategy::Strategy;

const TOKEN: &str = "b4bd3423-24e3-4c1f-9d2e-7a3c1a2b3c4d";

/// A create-order body as a shop would have authorized it.
fn order_body() -> String {
    case_tree(&untouched_case().boxed(), 11)
        .current()
        .order_body()
}

/// Fast pacing for imitations without a rate limit.
fn fast() -> Pacing {
    Pacing {
        max_requests: 1000,
        per: Duration::from_secs(1),
        retries: 2,
        retry_pause: Duration::from_millis(50),
    }
}

fn config(base_url: &str, cases: u64) -> CertifyConfig {
    let mut config = CertifyConfig::new(Region::Eu, Imitation::credentials(), 20260101, cases);
    config.base_url = base_url.to_owned();
    config.pacing = fast();
    config
}

fn summary(report: &CertifyReport) -> String {
    certify::report::render(report, "")
}

/// What certify runs without the control API: every property that needs nothing.
fn needs_nothing() -> Vec<Property> {
    Property::all()
        .filter(|p| {
            let n = p.needs();
            !n.authorize && !n.control_api && !n.virtual_clock && !n.given_tokens
        })
        .collect()
}

fn target_error(report: &CertifyReport) -> Option<&TargetError> {
    report.run.as_ref()?.target_error.as_ref()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_against_the_faithful_imitation_despite_its_quirks() {
    // A limit like the playground's (docs/klarna.md §10), five times faster to keep
    // the test short, and a client that would go twice
    // as fast: 429s are certain, and must be paced away, never judged.
    let imitation = Imitation::start(Some(20), &[]).await;
    let body = order_body();
    imitation.authorize(TOKEN, &body);
    let mut config = config(&imitation.uri(), 2);
    config.pacing = Pacing {
        max_requests: 40,
        per: Duration::from_secs(1),
        retries: 6,
        retry_pause: Duration::from_millis(300),
    };
    config.authorized_orders = vec![AuthorizedOrder {
        authorization_token: TOKEN.to_owned(),
        order_body: body,
    }];
    let report = certify::certify(&config);
    let text = summary(&report);
    assert!(report.unusable.is_none(), "{text}");
    assert!(report.failed().is_empty(), "{text}");
    assert_eq!(report.exit_code(), 0, "{text}");
    let mut ran = needs_nothing();
    ran.push(Property::AuthorizedTokenOrder);
    for p in Property::all() {
        let r = report.property(p).expect("every property is reported");
        if ran.contains(&p) {
            assert!(r.skipped.is_none(), "{}: {text}", p.name());
            assert!(r.cases > 0 && r.passed == r.cases, "{}: {text}", p.name());
        } else {
            // Authorization and the clock need the mock's control API.
            assert!(r.skipped.is_some(), "{}: {text}", p.name());
        }
    }
    assert!(imitation.throttled() > 0, "the limit was never reached");
    assert_eq!(report.rate_limited, imitation.throttled());
    assert!(text.contains("answered 429 and were retried"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
    let junit = certify::report::junit(&report, "");
    assert!(junit.contains("session-read-back") && !junit.contains("<failure"));
}

#[tokio::test]
async fn without_tokens_the_order_property_is_skipped_not_failed() {
    let imitation = Imitation::start(None, &[]).await;
    let report = certify::certify(&config(&imitation.uri(), 1));
    let text = summary(&report);
    assert_eq!(report.exit_code(), 0, "{text}");
    let r = report.property(Property::AuthorizedTokenOrder).unwrap();
    assert!(
        r.skipped.unwrap().contains("--authorization-token"),
        "{text}"
    );
    assert_eq!(r.cases, 0);
    assert!(
        text.contains("skipped: needs browser-authorized tokens"),
        "{text}"
    );
    let skipped = Property::all().count() - needs_nothing().len();
    assert!(
        text.contains(&format!(
            "{} passed, 0 failed, {skipped} skipped",
            needs_nothing().len()
        )),
        "{text}"
    );
    assert!(certify::report::junit(&report, "").contains("<skipped"));
}

/// Certify against an imitation with `fault`: exit 1, and `property` fails.
async fn fails_on(fault: Fault, property: Property) {
    let imitation = Imitation::start(None, &[fault]).await;
    let report = certify::certify(&config(&imitation.uri(), 3));
    let text = summary(&report);
    assert!(report.unusable.is_none(), "{text}");
    assert_eq!(report.exit_code(), 1, "{text}");
    assert!(report.failed().contains(&property.name()), "{text}");
    assert!(
        text.contains(&format!("FAILED {}", property.name())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "replay: klarna-conformance certify --seed 20260101 --cases 3 --property {}",
            property.name()
        )),
        "{text}"
    );
    assert!(text.contains("✗"), "{text}");
    let junit = certify::report::junit(&report, "");
    assert!(junit.contains("<failure"), "{junit}");
    let markdown = certify::report::markdown(&report, "", "2026-12-02");
    for line in [
        "- **Date**: 2026-12-02 (UTC)".to_owned(),
        format!("| `{}` | ", property.name()),
        format!("## Failed: `{}`", property.name()),
        format!(
            "Rerun: `klarna-conformance certify --seed 20260101 --cases 3 --property {}`",
            property.name()
        ),
    ] {
        assert!(markdown.contains(&line), "{line}\n{markdown}");
    }
    assert!(!markdown.contains(PASSWORD), "{markdown}");
    let result = markdown
        .lines()
        .find(|l| l.starts_with("- **Result**"))
        .unwrap();
    assert!(
        result.starts_with("- **Result**: FAILED: ") && result.contains(property.name()),
        "{result}"
    );
}

#[tokio::test]
async fn inconsistent_amounts_accepted_fail_their_property() {
    fails_on(Fault::InconsistentAccepted, Property::InconsistentAmounts).await;
}

#[tokio::test]
async fn a_correlation_id_other_than_the_header_fails_its_property() {
    fails_on(
        Fault::CorrelationMismatch,
        Property::ErrorsCarryCorrelationId,
    )
    .await;
}

#[tokio::test]
async fn an_unknown_token_answered_200_fails_its_property() {
    fails_on(Fault::UnknownTokenAccepted, Property::UnknownIdsNotFound).await;
}

#[tokio::test]
async fn a_closed_port_is_unusable_not_a_failure() {
    let port = crate::CLOSED_PORT;
    let report = certify::certify(&config(&format!("http://127.0.0.1:{port}"), 1));
    assert!(
        matches!(target_error(&report), Some(TargetError::Unreachable { .. })),
        "{}",
        summary(&report)
    );
    assert_eq!(report.exit_code(), 2);
    assert!(report.failed().is_empty());
    assert!(summary(&report).contains("the target could not be used (exit 2)"));
}

#[tokio::test]
async fn credentials_refused_on_every_call_are_unusable() {
    // wrong-credentials-refused would pass against this server; a 401 to the
    // user's own credentials anywhere else makes the target unusable.
    let imitation = Imitation::start(None, &[Fault::RejectAllCredentials]).await;
    let report = certify::certify(&config(&imitation.uri(), 1));
    assert!(
        matches!(
            target_error(&report),
            Some(TargetError::Unauthorized { .. })
        ),
        "{}",
        summary(&report)
    );
    assert_eq!(report.exit_code(), 2);
    assert!(report.failed().is_empty());
}

#[tokio::test]
async fn a_used_or_expired_token_is_unusable_input() {
    let imitation = Imitation::start(None, &[]).await;
    let mut config = config(&imitation.uri(), 1);
    // Never authorized on this server: what an expired token looks like.
    config.authorized_orders = vec![AuthorizedOrder {
        authorization_token: TOKEN.to_owned(),
        order_body: order_body(),
    }];
    let report = certify::certify(&config);
    let Some(e @ TargetError::UnusableToken { index: 1, .. }) = target_error(&report) else {
        panic!("{}", summary(&report));
    };
    assert!(e.to_string().contains("60 minutes"), "{e}");
    assert_eq!(report.exit_code(), 2);
    assert!(summary(&report).contains("(exit 2)"));
}

#[tokio::test]
async fn klarna_hosts_need_the_opt_in_and_nothing_is_sent_without_it() {
    let mut config = config(Region::Eu.playground_url(), 1);
    config.credentials = Imitation::credentials();
    let report = certify::certify(&config);
    assert!(matches!(
        report.unusable,
        Some(Unusable::OptInRequired { .. })
    ));
    assert_eq!(report.requests, 0);
    assert_eq!(report.exit_code(), 2);
}

fn binary(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"));
    command.args(args);
    for var in [
        "KLARNA_USERNAME",
        "KLARNA_PASSWORD",
        "KLARNA_PLAYGROUND",
        "KLARNA_AUTHORIZATION_TOKENS",
    ] {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_binary_refuses_klarna_without_the_opt_in() {
    // Every proxy variable points at a closed port: had certify sent anything,
    // the error would be a connection error, not the opt-in message.
    let proxy = format!("http://127.0.0.1:{}", crate::CLOSED_PORT);
    let env = [
        ("KLARNA_USERNAME", USERNAME),
        ("KLARNA_PASSWORD", PASSWORD),
        ("HTTPS_PROXY", proxy.as_str()),
        ("HTTP_PROXY", proxy.as_str()),
        ("ALL_PROXY", proxy.as_str()),
    ];
    for args in [
        vec!["certify"],
        vec!["certify", "--region", "na"],
        vec![
            "certify",
            "--base-url",
            "https://api-oc.playground.klarna.com/",
        ],
    ] {
        let out = binary(&args, &env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("KLARNA_PLAYGROUND=1"), "{stderr}");
        assert!(stderr.contains("no request was sent"), "{stderr}");
        assert!(!stderr.contains(PASSWORD) && !text(&out.stdout).contains(PASSWORD));
    }
    let out = binary(
        &["certify", "--base-url", "https://api.klarna.com"],
        &[
            ("KLARNA_USERNAME", USERNAME),
            ("KLARNA_PASSWORD", PASSWORD),
            ("KLARNA_PLAYGROUND", "1"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("playground"));
}

#[test]
fn the_binary_names_the_missing_credentials() {
    let out = binary(&["certify", "--base-url", "http://127.0.0.1:9"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("KLARNA_USERNAME") && stderr.contains("KLARNA_PASSWORD"),
        "{stderr}"
    );
    let out = binary(
        &["certify"],
        &[
            ("KLARNA_USERNAME", USERNAME),
            ("KLARNA_PASSWORD", PASSWORD),
            ("KLARNA_PLAYGROUND", "yes"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("KLARNA_PLAYGROUND"));
}

fn scratch(name: &str, contents: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("certify");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_certifies_an_imitation_end_to_end() {
    let imitation = Imitation::start(Some(20), &[]).await;
    let body = order_body();
    imitation.authorize(TOKEN, &body);
    let body_file = scratch("order.json", &body);
    let junit = scratch("junit.xml", "");
    let markdown = scratch("certification.md", "");
    let uri = imitation.uri();
    let out = tokio::task::spawn_blocking(move || {
        binary(
            &[
                "certify",
                "--base-url",
                &uri,
                "--cases",
                "1",
                "--seed",
                "5",
                "--order-body",
                body_file.to_str().unwrap(),
                "--junit",
                junit.to_str().unwrap(),
                "--report",
                markdown.to_str().unwrap(),
            ],
            &[
                ("KLARNA_USERNAME", USERNAME),
                ("KLARNA_PASSWORD", PASSWORD),
                ("KLARNA_AUTHORIZATION_TOKENS", TOKEN),
            ],
        )
    })
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("authorized-token-order"), "{stdout}");
    let ran = needs_nothing().len() + 1;
    let skipped = Property::all().count() - ran;
    assert!(
        stdout.contains(&format!("{ran} passed, 0 failed, {skipped} skipped")),
        "{stdout}"
    );
    assert!(!stdout.contains(PASSWORD));
    let xml = std::fs::read_to_string(scratch_path("junit.xml")).unwrap();
    assert!(xml.contains("authorized-token-order"), "{xml}");
    let md = std::fs::read_to_string(scratch_path("certification.md")).unwrap();
    assert!(md.contains("- **Result**: passed"), "{md}");
    assert!(md.contains("| `authorized-token-order` | 1 | "), "{md}");
    assert!(md.contains("skipped: "), "{md}");
    assert!(!md.contains(PASSWORD), "{md}");
}

fn scratch_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("certify")
        .join(name)
}
