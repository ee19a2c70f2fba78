//! The harness judged by its own defects: every property runs against the
//! embedded mock switched into each defect mode, and a defect that no
//! property fails has survived. The share of defects caught is the harness's
//! mutation score, printed by `klarna-conformance selftest`.
//!
//! ```no_run
//! use klarna_conformance::selftest::{self, SelftestConfig};
//!
//! let results = selftest::selftest(&SelftestConfig::new(7, 32));
//! assert!(results.iter().all(|r| !r.caught_by.is_empty()));
//! ```

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::mock::{Defect, MockConfig};
use crate::runner::{self, Property, RunConfig};
use crate::targets::{TargetError, TargetSpec};

/// What a self-test runs.
#[derive(Debug, Clone)]
pub struct SelftestConfig {
    /// The run seed of every defect's run (the same seed, the same verdicts).
    pub seed: u64,
    /// Cases per property and defect; a property stops at its first failure.
    pub cases: u64,
    /// The defect modes to try (all when empty).
    pub defects: Vec<Defect>,
    /// Worker threads per run (`None`: one per core).
    pub workers: Option<usize>,
}

impl SelftestConfig {
    /// Every defect mode, `cases` cases per property.
    pub fn new(seed: u64, cases: u64) -> SelftestConfig {
        SelftestConfig {
            seed,
            cases,
            defects: Vec::new(),
            workers: None,
        }
    }

    /// The defect modes a self-test tries.
    pub fn defects(&self) -> Vec<Defect> {
        if self.defects.is_empty() {
            Defect::ALL.to_vec()
        } else {
            self.defects.clone()
        }
    }
}

/// One defect mode and the properties that failed against it.
#[derive(Debug, Clone)]
pub struct DefectResult {
    pub defect: Defect,
    /// Empty: the defect survived every property.
    pub caught_by: Vec<Property>,
    /// The embedded mock cannot be unusable, but a run reports it if it were.
    pub target_error: Option<TargetError>,
    pub elapsed: Duration,
}

/// Runs every property against each defect mode of `config`, in order.
pub fn selftest(config: &SelftestConfig) -> Vec<DefectResult> {
    config
        .defects()
        .into_iter()
        .map(|defect| run_one(config, defect))
        .collect()
}

fn run_one(config: &SelftestConfig, defect: Defect) -> DefectResult {
    let start = Instant::now();
    let mut run = RunConfig::new(config.seed, config.cases);
    run.target = TargetSpec::Mock(MockConfig::default().defect(defect));
    run.workers = config.workers;
    // Which property fails is the finding; a minimal case is not needed.
    run.max_shrink_steps = 0;
    let report = runner::run(&run);
    DefectResult {
        defect,
        caught_by: report
            .properties
            .iter()
            .filter(|p| p.failure.is_some())
            .map(|p| p.property)
            .collect(),
        target_error: report.target_error,
        elapsed: start.elapsed(),
    }
}

/// One line per defect, then the score.
pub fn render(results: &[DefectResult]) -> String {
    let mut out = String::new();
    let width = results
        .iter()
        .map(|r| r.defect.name().len())
        .max()
        .unwrap_or(0);
    for r in results {
        let verdict = match (&r.target_error, r.caught_by.as_slice()) {
            (Some(e), _) => format!("target error: {e}"),
            (None, []) => "NOT CAUGHT by any property".to_owned(),
            (None, by) => {
                let names: Vec<&str> = by.iter().map(|p| p.name()).collect();
                format!("caught by {}", names.join(", "))
            }
        };
        let _ = writeln!(out, "{:<width$}  {verdict}", r.defect.name());
    }
    let caught = results.iter().filter(|r| !r.caught_by.is_empty()).count();
    let _ = writeln!(
        out,
        "\nmutation score: {caught} of {} defect modes caught",
        results.len()
    );
    out
}

/// 0 when every defect was caught, 1 when one survived.
pub fn exit_code(results: &[DefectResult]) -> u8 {
    if results.iter().any(|r| r.target_error.is_some()) {
        crate::errors::exit::USAGE
    } else if results.iter().all(|r| !r.caught_by.is_empty()) {
        crate::errors::exit::OK
    } else {
        crate::errors::exit::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_defect_names_its_properties_and_a_survivor_fails_the_score() {
        let config = SelftestConfig {
            defects: vec![Defect::DropOrderId],
            ..SelftestConfig::new(3, 8)
        };
        let mut results = selftest(&config);
        assert!(results[0].caught_by.contains(&Property::OrderSucceeds));
        assert_eq!(exit_code(&results), crate::errors::exit::OK);
        assert!(render(&results).contains("1 of 1 defect modes caught"));
        // A defect no property failed is named and makes the score fail.
        results.push(DefectResult {
            defect: Defect::SessionLifetime2h,
            caught_by: Vec::new(),
            target_error: None,
            elapsed: Duration::ZERO,
        });
        let text = render(&results);
        assert!(text.contains("session-lifetime-2h  NOT CAUGHT"), "{text}");
        assert!(text.contains("1 of 2 defect modes caught"), "{text}");
        assert_eq!(exit_code(&results), crate::errors::exit::FAILURE);
    }
}
