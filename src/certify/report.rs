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
