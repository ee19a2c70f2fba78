//! What certification tells its user: each failure with the exchange that
//! showed it and the command that reruns it, the table of checks, and the
//! JUnit XML report. Credentials never appear: exchanges hold no
//! `Authorization` header, and the rerun command names the variables, not
//! their values.

use std::fmt::Write as _;

use super::{CertifyReport, Check};

/// The command that runs the same checks on the same generated cases again.
/// `target_flags` is how the user named the target (`--region na`, `--base-url U`).
pub fn rerun_command(report: &CertifyReport, target_flags: &str) -> String {
    format!(
        "klarna-conformance certify{target_flags} --seed {} --cases {}",
        report.seed, report.cases
    )
}

/// The whole human report: failures first, then the table.
pub fn render(report: &CertifyReport, target_flags: &str) -> String {
    let mut out = String::new();
    for c in &report.checks {
        if let Some(f) = &c.failure {
            let _ = writeln!(
                out,
                "\nFAILED {} — {}",
                c.check.name(),
                c.check.description()
            );
            let _ = writeln!(out, "\n{}", f.failure);
            if let Some(last) = f.exchanges.last() {
                let _ = writeln!(out, "exchange:\n{last}");
            }
        }
    }
    if let Some(e) = &report.unusable {
        let _ = writeln!(out, "\ntarget not usable (not a conformance verdict): {e}");
    }
    let _ = writeln!(
        out,
        "\n{:<30} {:>6} {:>7} {:>7}",
        "check", "runs", "passed", "failed"
    );
    for c in &report.checks {
        match &c.skipped {
            Some(why) => {
                let _ = writeln!(
                    out,
                    "{:<30} {:>6} {:>7} {:>7}  skipped: {why}",
                    c.check.name(),
                    "-",
                    "-",
                    "-"
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "{:<30} {:>6} {:>7} {:>7}",
                    c.check.name(),
                    c.runs,
                    c.passed,
                    u64::from(c.failure.is_some())
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} requests to {} in {:.1} s; {} answered 429 and were retried after a pause (reference 10)",
        report.requests,
        report.base_url,
        report.elapsed.as_secs_f64(),
        report.rate_limited
    );
    let failed = report.failed();
    if !failed.is_empty() {
        let _ = writeln!(out, "rerun: {}", rerun_command(report, target_flags));
    }
    let ran = report.checks.iter().filter(|c| c.skipped.is_none()).count();
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} skipped",
        ran - failed.len(),
        failed.len(),
        report.checks.len() - ran
    );
    out
}

/// The JUnit XML report: one testcase per check; skipped checks as skipped,
/// an unusable target as an error.
pub fn junit(report: &CertifyReport, target_flags: &str) -> String {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("klarna-conformance certify");
    for c in &report.checks {
        let status = match (&c.skipped, &c.failure) {
            (Some(why), _) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(why.clone());
                s
            }
            (None, None) => TestCaseStatus::success(),
            (None, Some(f)) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(f.failure.check.clone());
                let exchange = f
                    .exchanges
                    .last()
                    .map(|e| format!("\n\nexchange:\n{e}"))
                    .unwrap_or_default();
                s.set_description(format!(
                    "{}{exchange}\n\nrerun: {}",
                    f.failure,
                    rerun_command(report, target_flags)
                ));
                s
            }
        };
        let mut case = TestCase::new(c.check.name(), status);
        case.set_classname("klarna_conformance.certify");
        suite.add_test_case(case);
    }
    crate::runner::report::junit_xml(suite, report.unusable.as_ref().map(ToString::to_string))
}

/// `certify --list`: every check with its description.
pub fn list() -> String {
    let mut out = String::new();
    for c in Check::ALL {
        let note = if c.needs_token() {
            " [needs --authorization-token]"
        } else {
            ""
        };
        let _ = writeln!(out, "{:<30} {}{note}", c.name(), c.description());
    }
    out
}
