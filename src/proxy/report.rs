//! What the proxy saw: one finding per broken rule, each naming its request,
//! and the summary printed and written at shutdown.
//!
//! Nothing here holds a credential: findings are built from paths, bodies
//! and the upstream's answer, never from request headers.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

/// How much a finding weighs in the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    /// Context, never a failure (a create order whose session the proxy did
    /// not see, a 401 to the merchant's own credentials).
    Note,
    /// What the documents forbid but Klarna was recorded accepting, or a
    /// difference the browser may explain: exit 1 only with `--strict`.
    Warning,
    /// What Klarna refuses, or an answer breaking a rule every answer keeps: exit 1.
    Error,
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Grade::Note => "note",
            Grade::Warning => "warning",
            Grade::Error => "error",
        })
    }
}

/// The request a finding is about: the n-th the proxy took (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub n: usize,
    pub method: String,
    /// The path without its query.
    pub path: String,
    /// The upstream's status; `None` when it gave no answer.
    pub status: Option<u16>,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} {}", self.n, self.method, self.path)?;
        match self.status {
            Some(status) => write!(f, " -> {status}"),
            None => write!(f, " -> no answer"),
        }
    }
}

/// One broken rule on one request or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub request: Seen,
    pub grade: Grade,
    /// The rule's name: `payload.order_amount`, `order.not_matching`,
    /// `answer.correlation_id`, `upstream.unreachable`, ...
    pub rule: String,
    /// Where the rule comes from, e.g. `docs/klarna.md §3.1`.
    pub source: String,
    /// What was wrong, on one line.
    pub message: String,
}

impl fmt::Display for Finding {
    /// `#3 POST /payments/v1/sessions -> 400: error payload.order_amount: MESSAGE (SOURCE)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {}: {}",
            self.request, self.grade, self.rule, self.message
        )?;
        if !self.source.is_empty() && !self.message.contains(&self.source) {
            write!(f, " ({})", self.source)?;
        }
        Ok(())
    }
}

/// Everything the proxy saw until it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyReport {
    /// The upstream's base URL.
    pub upstream: String,
    /// Requests seen, by Klarna operation (`create session`, ...).
    pub requests: BTreeMap<&'static str, usize>,
    /// Every finding, in the order found.
    pub findings: Vec<Finding>,
}

impl ProxyReport {
    pub fn errors(&self) -> usize {
        self.count(Grade::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Grade::Warning)
    }

    fn count(&self, grade: Grade) -> usize {
        self.findings.iter().filter(|f| f.grade == grade).count()
    }

    /// 0 when no finding is an error (with `strict`, no warning either), else 1.
    pub fn exit_code(&self, strict: bool) -> u8 {
        let failed = self.errors() > 0 || (strict && self.warnings() > 0);
        if failed {
            crate::errors::exit::FAILURE
        } else {
            crate::errors::exit::OK
        }
    }

    /// The summary, as Markdown (plain enough to read as text): requests per
    /// operation, findings by rule, each with its request.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let total: usize = self.requests.values().sum();
        let _ = writeln!(out, "# klarna-conformance proxy report\n");
        let _ = writeln!(out, "- upstream: {}", self.upstream);
        let _ = writeln!(
            out,
            "- tool: klarna-conformance {}",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(out, "- requests: {total}");
        let _ = writeln!(
            out,
            "- findings: {} error(s), {} warning(s), {} note(s)\n",
            self.errors(),
            self.warnings(),
            self.count(Grade::Note)
        );
        let _ = writeln!(out, "## Requests by operation\n");
        if self.requests.is_empty() {
            let _ = writeln!(out, "none\n");
        } else {
            let _ = writeln!(out, "| operation | requests |\n|---|---|");
            for (operation, n) in &self.requests {
                let _ = writeln!(out, "| {operation} | {n} |");
            }
            out.push('\n');
        }
        let _ = writeln!(out, "## Findings by rule\n");
        if self.findings.is_empty() {
            let _ = writeln!(out, "none");
            return out;
        }
        let mut by_rule: BTreeMap<(&str, std::cmp::Reverse<Grade>), Vec<&Finding>> =
            BTreeMap::new();
        for finding in &self.findings {
            by_rule
                .entry((&finding.rule, std::cmp::Reverse(finding.grade)))
                .or_default()
                .push(finding);
        }
        for ((rule, grade), findings) in by_rule {
            let source = &findings[0].source;
            let _ = writeln!(
                out,
                "### {rule} ({}, {}{})\n",
                grade.0,
                findings.len(),
                if source.is_empty() {
                    String::new()
                } else {
                    format!(", {source}")
                }
            );
            for f in findings {
                let _ = writeln!(out, "- {}: {}", f.request, f.message);
            }
            out.push('\n');
        }
        out
    }
}

/// `docs/klarna.md §N.N` as it appears in `text`, if it does.
pub(super) fn cited_section(text: &str) -> Option<String> {
    let start = text.find("docs/klarna.md §")?;
    let rest = &text[start + "docs/klarna.md §".len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let section = rest[..end].trim_end_matches('.');
    (!section.is_empty()).then(|| format!("docs/klarna.md §{section}"))
}

/// `text` on one line, at most `max` characters (a report line, not a dump).
pub(super) fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::exchange::clip(&flat, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(grade: Grade, rule: &str) -> Finding {
        Finding {
            request: Seen {
                n: 1,
                method: "POST".into(),
                path: "/payments/v1/sessions".into(),
                status: Some(200),
            },
            grade,
            rule: rule.into(),
            source: "docs/klarna.md §3.1".into(),
            message: "Bad value: order_amount".into(),
        }
    }

    #[test]
    fn exit_codes_follow_grades() {
        let mut report = ProxyReport::default();
        assert_eq!(report.exit_code(true), 0);
        report.findings.push(finding(Grade::Note, "x"));
        assert_eq!(report.exit_code(true), 0);
        report.findings.push(finding(Grade::Warning, "x"));
        assert_eq!((report.exit_code(false), report.exit_code(true)), (0, 1));
        report.findings.push(finding(Grade::Error, "x"));
        assert_eq!(report.exit_code(false), 1);
    }

    #[test]
    fn findings_name_their_request_and_source() {
        let f = finding(Grade::Error, "payload.order_amount");
        assert_eq!(
            f.to_string(),
            "#1 POST /payments/v1/sessions -> 200: error payload.order_amount: Bad value: order_amount (docs/klarna.md §3.1)"
        );
        let mut report = ProxyReport::default();
        report.findings.push(f);
        assert!(
            report
                .render()
                .contains("### payload.order_amount (error, 1, docs/klarna.md §3.1)")
        );
    }

    #[test]
    fn sections_and_lines() {
        assert_eq!(
            cited_section("is 9400, but ... (docs/klarna.md §3.1)").as_deref(),
            Some("docs/klarna.md §3.1")
        );
        assert_eq!(cited_section("nothing"), None);
        assert_eq!(one_line("a\n  b", 10), "a b");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
