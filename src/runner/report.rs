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
    let name = report.property.name();
    match (&report.failure, report.skipped) {
        (_, Some(why)) => format!("{name}: skipped ({why})"),
        (None, None) if report.interrupted => {
            format!("{name}: stopped after {} cases", report.cases)
        }
        (None, None) => format!("{name}: {} cases, all held", report.cases),
        (Some(f), None) => format!(
            "{name}: FAILED after {} cases (seed {})",
            report.cases, f.case_seed
        ),
    }
}

/// Shows progress on stderr until the run stops: on a terminal a line
/// redrawn ten times a second (`[#####.....] 1234/3584 cases, 5/14
/// properties, 3 s, about 9 s left`); elsewhere (CI logs) the same line
/// every five seconds.
pub fn progress_bar(
    done: &AtomicU64,
    total: u64,
    stop: &AtomicBool,
    results: &Mutex<Vec<PropertyReport>>,
    properties: usize,
    terminal: bool,
) {
    let start = std::time::Instant::now();
    let tick = if terminal {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(5)
    };
    let mut last = start;
    loop {
        let finished = results.lock().map_or(0, |r| r.len());
        let over = finished >= properties || stop.load(Ordering::Relaxed);
        if terminal || over || last.elapsed() >= tick {
            let n = done.load(Ordering::Relaxed).min(total);
            let line = progress_text(n, total, finished, properties, start.elapsed());
            if terminal {
                eprint!("\r{line}\x1b[K");
                if over {
                    eprintln!();
                }
            } else if !over {
                eprintln!("progress: {line}");
            }
            last = std::time::Instant::now();
        }
        if over {
            return;
        }
        std::thread::sleep(if terminal {
            tick
        } else {
            Duration::from_millis(200)
        });
    }
}

/// `[#####.....] 1234/3584 cases, 5/14 properties, 3 s, about 9 s left`.
fn progress_text(
    n: u64,
    total: u64,
    finished: usize,
    properties: usize,
    elapsed: Duration,
) -> String {
    let width = 30u64;
    let filled = (n * width).checked_div(total).unwrap_or(width) as usize;
    let secs = elapsed.as_secs();
    // The rate so far, once there is one to go by.
    let left = (n > 0 && n < total).then(|| {
        let rate = n as f64 / elapsed.as_secs_f64().max(1e-3);
        ((total - n) as f64 / rate).ceil() as u64
    });
    let eta = left.map_or(String::new(), |l| format!(", about {l} s left"));
    format!(
        "[{}{}] {n}/{total} cases, {finished}/{properties} properties, {secs} s{eta}",
        "#".repeat(filled),
        ".".repeat(width as usize - filled)
    )
}

/// The command that reproduces a failure exactly.
pub fn replay_command(property: Property, failure: &FailureReport, target_flag: &str) -> String {
    format!(
        "{} replay --property {} --seed {}{}",
        crate::errors::invocation(),
        property.name(),
        failure.case_seed,
        target_flag
    )
}

/// A failing sequence as the user reads it: the numbered steps with what
/// each got, the one that broke marked, then its expected and actual answer.
pub fn sequence_text(f: &FailureReport) -> String {
    let mut out = String::new();
    for (i, step) in f.steps.iter().enumerate() {
        let got = step
            .exchange
            .and_then(|e| f.exchanges.get(e))
            .map_or("not sent".to_owned(), |ex| ex.status.to_string());
        let mark = if i == f.failed_step { "✗" } else { " " };
        let _ = writeln!(out, "{mark} {:>2}. {} -> {got}", i + 1, step.describe);
    }
    let _ = writeln!(out, "\n{}", f.failure);
    if let Some(ex) = f.steps[f.failed_step]
        .exchange
        .and_then(|e| f.exchanges.get(e))
    {
        let _ = writeln!(out, "the exchange of step {}:\n{ex}", f.failed_step + 1);
    }
    out
}

/// The whole human report: failures first, then the table and coverage labels.
pub fn render(report: &RunReport, target_flag: &str) -> String {
    render_with(report, &|p, f| replay_command(p, f, target_flag))
}

/// How a failure is reproduced: the command printed under it.
pub type Reproduce<'a> = dyn Fn(Property, &FailureReport) -> String + 'a;

/// [`render`], with the command that reproduces a failure given.
pub fn render_with(report: &RunReport, reproduce: &Reproduce<'_>) -> String {
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
                "\nminimal failing sequence ({} steps, after {} shrink steps):",
                f.steps.len(),
                f.shrink_steps
            );
            let _ = write!(out, "{}", sequence_text(f));
            let _ = writeln!(out, "\nseed: {}", f.case_seed);
            let _ = writeln!(out, "replay: {}", reproduce(p.property, f));
        }
    }
    if let Some(e) = &report.target_error {
        let _ = writeln!(out, "\ntarget error (not a conformance verdict): {e}");
    }
    let _ = writeln!(
        out,
        "\n{:<30} {:>7} {:>9} {:>7} {:>7}",
        "property", "cases", "requests", "passed", "failed"
    );
    for p in &report.properties {
        let failed = u64::from(p.failure.is_some());
        let note = match p.skipped {
            Some(why) => format!("  skipped: {why}"),
            None if p.interrupted && p.failure.is_none() => {
                "  (stopped: not all cases ran)".to_owned()
            }
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<30} {:>7} {:>9} {:>7} {:>7}{note}",
            p.property.name(),
            p.cases,
            p.operations,
            p.passed,
            failed
        );
    }
    coverage(&mut out, report);
    if let Some(how) = report.concurrency.describe() {
        let _ = writeln!(out, "\nran {how}");
    }
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        out,
        "\n{} cases, {} requests in {:.2} s ({:.0} cases/s, {:.0} requests/s), seed {}",
        report.cases(),
        report.operations(),
        secs,
        report.cases() as f64 / secs,
        report.operations() as f64 / secs,
        report.seed
    );
    let _ = writeln!(out, "{}", summary(report));
    out
}

/// What the passing cases covered, in words: sessions per market, create
/// orders per change made after authorization, and, per request, how often
/// each answer came; counts in numeric order of their labels.
fn coverage(out: &mut String, report: &RunReport) {
    use std::collections::BTreeMap;
    let mut merged: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for p in &report.properties {
        for (kind, values) in &p.labels {
            for (value, n) in values {
                *merged.entry(kind).or_default().entry(value).or_default() += n;
            }
        }
    }
    if merged.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nwhat the passing cases covered:");
    let listed = |values: Vec<(&str, u64)>| {
        let mut values = values;
        values.sort_by(|a, b| natural(a.0, b.0));
        values
            .iter()
            .map(|(v, n)| format!("{v} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (kind, values) in merged {
        match kind {
            "step" => {
                let _ = writeln!(out, "  answers, per request:");
                let mut per: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
                for (label, n) in values {
                    let (request, answer) = label.split_once(" → ").unwrap_or((label, ""));
                    per.entry(request).or_default().push((answer, n));
                }
                for (request, answers) in per {
                    let _ = writeln!(out, "    {request}: {}", listed(answers));
                }
            }
            _ => {
                let what = match kind {
                    "market" => "sessions created, per purchase country",
                    "mutation" => "create orders, per change made after authorization",
                    other => other,
                };
                let _ = writeln!(out, "  {what}: {}", listed(values.into_iter().collect()));
            }
        }
    }
}

/// Labels compared with their numbers as numbers (`2 captures` before `10 captures`).
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    // Runs of digits and of other characters, digits compared by value.
    fn chunks(s: &str) -> Vec<(Option<u64>, &str)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let digit = c.is_ascii_digit();
            let end = rest
                .find(|x: char| x.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (chunk, tail) = rest.split_at(end);
            out.push((digit.then(|| chunk.parse().unwrap_or(u64::MAX)), chunk));
            rest = tail;
        }
        out
    }
    chunks(a).cmp(&chunks(b))
}

/// `20 passed, 1 failed, 2 skipped`: made from the same reports as the exit
/// code, so the two cannot disagree.
pub fn summary(report: &RunReport) -> String {
    let count = |f: fn(&PropertyReport) -> bool| report.properties.iter().filter(|p| f(p)).count();
    let failed = count(|p| p.failure.is_some());
    let skipped = count(|p| p.skipped.is_some());
    let stopped = count(|p| p.failure.is_none() && p.skipped.is_none() && p.interrupted);
    let passed = report.properties.len() - failed - skipped - stopped;
    let mut out = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        out.push_str(&format!(", {skipped} skipped"));
    }
    if stopped > 0 {
        out.push_str(&format!(", {stopped} stopped"));
    }
    if report.target_error.is_some() {
        out.push_str(" — the target could not be used (exit 2)");
    } else if stopped > 0 && failed == 0 {
        out.push_str(" — interrupted before every case ran (exit 130)");
    }
    out
}

/// The JUnit XML report: one testcase per property, failures with the replay command.
#[cfg(feature = "cli")]
pub fn junit(report: &RunReport, target_flag: &str) -> String {
    junit_with(report, "klarna-conformance", &|p, f| {
        replay_command(p, f, target_flag)
    })
}

/// [`junit`] for a suite of another name, with the command that reproduces a failure given.
#[cfg(feature = "cli")]
pub fn junit_with(report: &RunReport, suite_name: &str, reproduce: &Reproduce<'_>) -> String {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new(suite_name);
    for p in &report.properties {
        let status = match &p.failure {
            None if p.skipped.is_some() => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(p.skipped.unwrap_or_default());
                s
            }
            None if p.interrupted => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!(
                    "stopped after {} cases: {}",
                    p.cases,
                    if report.target_error.is_some() {
                        "the target could not be used"
                    } else {
                        "the run was interrupted"
                    }
                ));
                s
            }
            None => TestCaseStatus::success(),
            Some(f) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("{} (seed {})", f.failure.check, f.case_seed));
                s.set_description(format!(
                    "{}\nreplay: {}",
                    sequence_text(f),
                    reproduce(p.property, f)
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

/// `--list`: every property, its rule and what a target must offer for it.
pub fn list() -> String {
    let mut out = String::new();
    for d in super::PROPERTIES.iter() {
        let mut needs = Vec::new();
        if d.needs.authorize {
            needs.push("authorizations");
        }
        if d.needs.control_api {
            needs.push("control API");
        }
        if d.needs.virtual_clock {
            needs.push("virtual clock");
        }
        if d.needs.given_tokens {
            needs.push("browser-authorized tokens");
        }
        let needs = if needs.is_empty() {
            String::new()
        } else {
            format!(" [needs: {}]", needs.join(", "))
        };
        let _ = writeln!(out, "{:<28} {}{needs}", d.name, d.rule);
    }
    out
}

/// The XML of a JUnit suite, with a failing `target` testcase when the target
/// could not be used (so CI shows why the run stopped).
#[cfg(feature = "cli")]
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

/// The case seeds kept for a property (`cc <seed>` lines, as proptest writes).
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

#[cfg(test)]
mod tests {
    #[test]
    fn labels_sort_with_numbers_as_numbers() {
        let mut labels = vec![
            "200 10 captures",
            "200 2 captures",
            "200 0 captures",
            "404 x",
        ];
        labels.sort_by(|a, b| super::natural(a, b));
        assert_eq!(
            labels,
            [
                "200 0 captures",
                "200 2 captures",
                "200 10 captures",
                "404 x"
            ]
        );
    }
}
