//! What a run tells its user: progress, the summary table with coverage
//! labels, each failure with its replay command, the JUnit XML report, and
//! the `proptest-regressions/` files that make a failure the next run's first case.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::{FailureReport, Property, PropertyReport, RunReport};

/// `order-succeeds: 256 cases, all held` — one line per finished property.
pub fn progress_line(report: &PropertyReport) -> String {
    match &report.failure {
        None if report.interrupted => format!(
            "{}: stopped after {} cases (the run could not go on)",
            report.property.name(),
            report.cases
        ),
        None => format!(
            "{}: {} cases, all held",
            report.property.name(),
            report.cases
        ),
        Some(f) => format!(
            "{}: FAILED after {} cases (seed {})",
            report.property.name(),
            report.cases,
            f.case_seed
        ),
    }
}

/// Redraws `[#####.....] 1234/3584 cases, 5/14 properties` on stderr until the run stops.
pub fn progress_bar(
    done: &AtomicU64,
    total: u64,
    stop: &AtomicBool,
    results: &Mutex<Vec<PropertyReport>>,
    properties: usize,
) {
    loop {
        let finished = results.lock().map_or(0, |r| r.len());
        let n = done.load(Ordering::Relaxed).min(total);
        let width = 30u64;
        let filled = (n * width).checked_div(total).unwrap_or(width) as usize;
        eprint!(
            "\r[{}{}] {n}/{total} cases, {finished}/{properties} properties",
            "#".repeat(filled),
            ".".repeat(width as usize - filled)
        );
        if finished >= properties || stop.load(Ordering::Relaxed) {
            eprintln!();
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The command that reproduces a failure exactly.
pub fn replay_command(property: Property, failure: &FailureReport, target_flag: &str) -> String {
    format!(
        "klarna-conformance replay --property {} --seed {}{}",
        property.name(),
        failure.case_seed,
        target_flag
    )
}

/// The whole human report: failures first, then the table and coverage labels.
pub fn render(report: &RunReport, target_flag: &str) -> String {
    let mut out = String::new();
    for p in &report.properties {
        if let Some(f) = &p.failure {
            let _ = writeln!(
                out,
                "\nFAILED {} — {}",
                p.property.name(),
                p.property.description()
            );
            let _ = writeln!(
                out,
                "\nminimal failing case (after {} shrink steps):",
                f.shrink_steps
            );
            let _ = writeln!(out, "{}", case_text(&f.case));
            let _ = writeln!(out, "\n{}", f.failure);
            if let Some(last) = f.exchanges.last() {
                let _ = writeln!(out, "last exchange:\n{last}");
            }
            let _ = writeln!(out, "\nseed: {}", f.case_seed);
            let _ = writeln!(
                out,
                "replay: {}",
                replay_command(p.property, f, target_flag)
            );
        }
    }
    if let Some(e) = &report.target_error {
        let _ = writeln!(out, "\ntarget error (not a conformance verdict): {e}");
    }
    let _ = writeln!(
        out,
        "\n{:<30} {:>7} {:>7} {:>7}",
        "property", "cases", "passed", "failed"
    );
    for p in &report.properties {
        let failed = u64::from(p.failure.is_some());
        let note = if p.interrupted && p.failure.is_none() {
            "  (stopped: not all cases ran)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<30} {:>7} {:>7} {:>7}{note}",
            p.property.name(),
            p.cases,
            p.passed,
            failed
        );
    }
    let _ = writeln!(out, "\ncoverage of passing cases:");
    let mut merged: std::collections::BTreeMap<&str, std::collections::BTreeMap<&str, u64>> =
        Default::default();
    for p in &report.properties {
        for (kind, values) in &p.labels {
            for (value, n) in values {
                *merged.entry(kind).or_default().entry(value).or_default() += n;
            }
        }
    }
    for (kind, values) in merged {
        let listed: Vec<String> = values.iter().map(|(v, n)| format!("{v} {n}")).collect();
        let _ = writeln!(out, "  {kind}: {}", listed.join(", "));
    }
    let secs = report.elapsed.as_secs_f64();
    let _ = writeln!(
        out,
        "\n{} cases in {:.2} s ({:.0} cases/s), seed {}",
        report.cases(),
        secs,
        report.cases() as f64 / secs.max(1e-9),
        report.seed
    );
    let count = |f: fn(&PropertyReport) -> bool| report.properties.iter().filter(|p| f(p)).count();
    let failed = count(|p| p.failure.is_some());
    let stopped = count(|p| p.failure.is_none() && p.interrupted);
    let passed = report.properties.len() - failed - stopped;
    let stopped = if stopped > 0 {
        format!(", {stopped} stopped")
    } else {
        String::new()
    };
    let _ = writeln!(out, "{passed} passed, {failed} failed{stopped}");
    out
}

/// The JUnit XML report: one testcase per property, failures with the replay command.
pub fn junit(report: &RunReport, target_flag: &str) -> String {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("klarna-conformance");
    for p in &report.properties {
        let status = match &p.failure {
            None if p.interrupted => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!(
                    "stopped after {} cases: the target could not be used",
                    p.cases
                ));
                s
            }
            None => TestCaseStatus::success(),
            Some(f) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("{} (seed {})", f.failure.check, f.case_seed));
                s.set_description(format!(
                    "{}\n\n{}\n\nreplay: {}",
                    case_text(&f.case),
                    f.failure,
                    replay_command(p.property, f, target_flag)
                ));
                s
            }
        };
        let mut case = TestCase::new(p.property.name(), status);
        case.set_classname("klarna_conformance.properties");
        suite.add_test_case(case);
    }
    junit_xml(suite, report.target_error.as_ref().map(ToString::to_string))
}

/// The XML of a JUnit suite, with a failing `target` testcase when the target
/// could not be used (so CI shows why the run stopped).
pub fn junit_xml(mut suite: quick_junit::TestSuite, target_error: Option<String>) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus};
    if let Some(e) = target_error {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(e);
        suite.add_test_case(TestCase::new("target", s));
    }
    let mut r = Report::new("klarna-conformance");
    r.add_test_suite(suite);
    r.to_string().unwrap_or_default()
}

/// The case seeds persisted for a property (`cc <seed>` lines, as proptest writes).
pub fn read_regressions(dir: Option<&Path>, property: Property) -> Vec<u64> {
    let Some(dir) = dir else { return Vec::new() };
    let path = dir.join(format!("{}.txt", property.name()));
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("cc "))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Appends a failing case's seed so the next run tries it first. Errors are
/// reported, never fatal: the failure itself is already in the report.
pub fn persist_regression(dir: Option<&Path>, property: Property, failure: &FailureReport) {
    let Some(dir) = dir else { return };
    if read_regressions(Some(dir), property).contains(&failure.case_seed) {
        return;
    }
    let path = dir.join(format!("{}.txt", property.name()));
    let header = if path.exists() {
        String::new()
    } else {
        "# Seeds of cases that failed; `klarna-conformance run` tries them first.\n# Commit this file.\n".to_owned()
    };
    let summary = failure.failure.check.replace('\n', " ");
    let line = format!("{header}cc {} # {summary}\n", failure.case_seed);
    let result = std::fs::create_dir_all(dir).and_then(|()| {
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
    });
    if let Err(e) = result {
        eprintln!(
            "note: could not record the failing seed in {}: {e}",
            path.display()
        );
    }
}

/// A case as the user reads it: the request bodies and what happened between them.
pub fn case_text(case: &crate::generate::Case) -> String {
    format!(
        "market {market}, wait {wait} s, auto_capture {capture}\nmutation: {mutation}\nsession:\n{session}\nauthorize:\n{authorize}",
        market = case.session.purchase_country.as_deref().unwrap_or("?"),
        wait = case.wait_seconds,
        capture = case.auto_capture,
        mutation = case.mutation,
        session = serde_json::to_string_pretty(&case.session).unwrap_or_default(),
        authorize = serde_json::to_string_pretty(&case.authorize).unwrap_or_default(),
    )
}
