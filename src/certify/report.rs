//! What certification tells its user: the engine's report (each failure as
//! its numbered steps, the table of properties with those skipped and why,
//! coverage), the requests sent and rate limits met, and the command that
//! reruns it. Credentials never appear: exchanges hold no `Authorization`
//! header, and the rerun command names no secret.

use std::fmt::Write as _;

use super::CertifyReport;
use crate::runner::{self, FailureReport, Property};

/// The command that runs the same property on the same sequences again.
/// `target_flags` is how the user named the target (`--region na`, `--base-url U`).
pub fn rerun_command(
    report: &CertifyReport,
    target_flags: &str,
    property: Property,
    _failure: &FailureReport,
) -> String {
    let seed = report.run.as_ref().map_or(0, |r| r.seed);
    let cases = report.cases;
    format!(
        "{} certify{target_flags} --seed {seed} --cases {cases} --property {}",
        crate::errors::invocation(),
        property.name()
    )
}

/// The whole human report.
pub fn render(report: &CertifyReport, target_flags: &str) -> String {
    let mut out = String::new();
    if let Some(run) = &report.run {
        out.push_str(&runner::report::render_with(run, &|p, f| {
            rerun_command(report, target_flags, p, f)
        }));
    }
    if let Some(e) = &report.unusable {
        let _ = writeln!(out, "\ntarget not usable (not a conformance verdict): {e}");
    }
    let _ = writeln!(
        out,
        "{} requests to {} in {:.1} s; {} answered 429 and were retried after a pause (docs/klarna.md §10)",
        report.requests,
        report.base_url,
        report.elapsed.as_secs_f64(),
        report.rate_limited
    );
    out
}

/// The JUnit XML report: one testcase per property; skipped ones as skipped,
/// an unusable target as an error.
#[cfg(feature = "cli")]
pub fn junit(report: &CertifyReport, target_flags: &str) -> String {
    match &report.run {
        Some(run) => runner::report::junit_with(run, "klarna-conformance certify", &|p, f| {
            rerun_command(report, target_flags, p, f)
        }),
        None => runner::report::junit_xml(
            quick_junit::TestSuite::new("klarna-conformance certify"),
            report.unusable.as_ref().map(ToString::to_string),
        ),
    }
}

/// `certify --list`: every property, with what it needs that certify may lack.
pub fn list() -> String {
    runner::report::list()
}

/// The certification as Markdown, for a pull request or an audit trail:
/// when, against what, with which tool, every property with its cases and
/// result (skipped ones with why), and each failure with its steps and the
/// command that reruns it. `date` is the day of the run (`YYYY-MM-DD`, UTC).
pub fn markdown(report: &CertifyReport, target_flags: &str, date: &str) -> String {
    let mut out = String::from("# Klarna Payments v1 certification\n\n");
    let result = match (&report.unusable, &report.run) {
        (Some(e), _) => format!("not usable (not a conformance verdict): {e}"),
        (None, None) => "nothing was sent".to_owned(),
        (None, Some(run)) => match (run.target_error.as_ref(), report.failed().as_slice()) {
            (Some(e), _) => format!("not usable (not a conformance verdict): {e}"),
            (None, []) => "passed".to_owned(),
            (None, failed) => format!("FAILED: {}", failed.join(", ")),
        },
    };
    let seed = report.run.as_ref().map_or(0, |r| r.seed);
    for (what, value) in [
        ("Date", format!("{date} (UTC)")),
        ("Target", format!("`{}`", report.base_url)),
        (
            "Tool",
            format!("klarna-conformance {}", env!("CARGO_PKG_VERSION")),
        ),
        (
            "Seed, cases per property",
            format!("{seed}, {}", report.cases),
        ),
        (
            "Requests",
            format!(
                "{} in {:.1} s; {} answered 429 and were retried after a pause",
                report.requests,
                report.elapsed.as_secs_f64(),
                report.rate_limited
            ),
        ),
        ("Result", result),
    ] {
        let _ = writeln!(out, "- **{what}**: {value}");
    }
    let Some(run) = &report.run else {
        return out;
    };
    out.push_str("\n| property | cases | requests | result |\n|---|---:|---:|---|\n");
    for p in &run.properties {
        let result = match (&p.skipped, &p.failure) {
            (Some(why), _) => format!("skipped: {why}"),
            (None, Some(_)) => "**failed**".to_owned(),
            (None, None) if p.interrupted => "stopped before all cases ran".to_owned(),
            (None, None) => "passed".to_owned(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {result} |",
            p.property.name(),
            p.cases,
            p.operations
        );
    }
    for p in &run.properties {
        let Some(f) = &p.failure else { continue };
        let _ = writeln!(
            out,
            "\n## Failed: `{}`\n\n{}\n\nMinimal failing sequence ({} steps), seed {}:\n\n```text\n{}```\n\nRerun: `{}`",
            p.property.name(),
            p.property.description(),
            f.steps.len(),
            f.case_seed,
            runner::report::sequence_text(f),
            rerun_command(report, target_flags, p.property, f)
        );
    }
    if let Some(drift) = &report.drift {
        out.push_str(&drift_section(drift));
    }
    out
}

/// At most this many differing answers are listed; the count says the rest.
const DRIFT_ROWS: usize = 50;

/// The drift section: where the target's normalised answers (status,
/// `error_code`, the body's keys and value types) differ from the embedded
/// mock's for the same cases.
fn drift_section(drift: &crate::cassette::drift::Drift) -> String {
    let mut out = String::from("\n## Drift from the embedded mock\n\n");
    let _ = writeln!(
        out,
        "The same cases run against the embedded mock (without its control API); \
         answers compared by status, `error_code` and shape (keys and value types: \
         ids, dates, correlation ids and tokens left out). {} requests compared, \
         {} answers differ.",
        drift.compared,
        drift.entries.len()
    );
    if !drift.entries.is_empty() {
        out.push_str(
            "\n| where | request | target | mock | what differs |\n|---|---|---|---|---|\n",
        );
        for e in drift.entries.iter().take(DRIFT_ROWS) {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} |",
                cell(&e.at),
                e.request,
                cell(&e.left),
                cell(&e.right),
                cell(&e.what)
            );
        }
        if drift.entries.len() > DRIFT_ROWS {
            let _ = writeln!(
                out,
                "\n{} more not listed.",
                drift.entries.len() - DRIFT_ROWS
            );
        }
    }
    if !drift.diverged.is_empty() {
        out.push_str("\nCases whose requests diverged (not compared after that point):\n\n");
        for d in &drift.diverged {
            let _ = writeln!(out, "- {}", cell(d));
        }
    }
    if !drift.unmatched.is_empty() {
        let _ = writeln!(
            out,
            "\nCases the mock run did not reach (a property that failed there stops early, or needs browser-authorized tokens): {}",
            drift.unmatched.len()
        );
    }
    out
}

/// Text safe in a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
