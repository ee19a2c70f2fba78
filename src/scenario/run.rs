//! Running scenario files against a target: what `cargo test --test scenarios`
//! and `klarna-conformance scenarios` share.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::exec::{Outcome, Report, SnapshotPlan, execute};
use super::format::{MockSettings, Scenario};
use super::{ScenarioError, load_dir};
use crate::cassette::{Recorder, Recording};
use crate::errors::exit;
use crate::mock::MockConfig;
use crate::snapshot::{SnapshotSettings, target_dir};
use crate::targets::{TargetError, TargetKind, TargetSpec};

/// The seed of the embedded mock's id generator when neither the scenario nor
/// the caller names one. Ids are redacted in snapshots, so any fixed seed
/// gives the same snapshots; a fixed one also makes the raw exchanges of two
/// runs identical.
pub const DEFAULT_MOCK_SEED: u64 = 20_260_101;

/// The embedded mock of one scenario: `base` (credentials, defects) with the
/// scenario's `[mock]` merchant settings on top.
pub fn mock_config(base: &MockConfig, settings: &MockSettings) -> MockConfig {
    base.clone()
        .seed(settings.seed.or(base.seed).unwrap_or(DEFAULT_MOCK_SEED))
        .allow_cart_updates(settings.allow_cart_updates)
        .strict(settings.strict)
}

/// The target and credentials one scenario runs with.
pub fn connect(
    spec: &TargetSpec,
    scenario: &Scenario,
) -> Result<
    (
        std::sync::Arc<dyn crate::targets::Target>,
        crate::targets::Credentials,
    ),
    TargetError,
> {
    let spec = match spec {
        TargetSpec::Mock(base) => TargetSpec::Mock(mock_config(base, &scenario.mock)),
        other => other.clone(),
    };
    let country = scenario.purchase_country();
    Ok((spec.connect(country.as_deref())?, spec.credentials()))
}

/// Runs one scenario on `spec`; snapshots are checked under `snapshot_root`
/// (`snapshot_root` for the mock, `snapshot_root/<target>` otherwise) when given.
pub async fn run_scenario(
    scenario: &Scenario,
    spec: &TargetSpec,
    snapshot_root: Option<&Path>,
) -> Report {
    run_recorded(scenario, spec, snapshot_root, None).await
}

/// [`run_scenario`], its exchanges also kept by `record` (`--record FILE`).
async fn run_recorded(
    scenario: &Scenario,
    spec: &TargetSpec,
    snapshot_root: Option<&Path>,
    record: Option<&Arc<Recorder>>,
) -> Report {
    let connected = crate::cassette::begin(record, spec, &scenario.stem, 0, 0)
        .and_then(|_| connect(spec, scenario));
    let (target, credentials) = match connected {
        Ok((target, credentials)) => (Recording::wrap(target, record), credentials),
        Err(error) => {
            return Report {
                exchanges: Vec::new(),
                outcome: Outcome::TargetError { step: 0, error },
                new_snapshots: Vec::new(),
            };
        }
    };
    let plan = snapshot_root.map(|root| SnapshotPlan {
        settings: SnapshotSettings {
            dir: target_dir(root, spec.kind().as_str()),
            input_file: Some(scenario.path.clone()),
            record_missing: spec.kind() != TargetKind::Mock,
        },
        target: spec.kind().as_str().to_owned(),
    });
    execute(scenario, target, credentials, plan.as_ref()).await
}

/// What a run of many scenarios gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub target_errors: usize,
    /// Files that could not be read or checked.
    pub unreadable: usize,
    /// Scenarios whose `targets` do not list this target.
    pub skipped: usize,
    /// Snapshots recorded because none existed yet (not failures).
    pub new_snapshots: usize,
}

impl Summary {
    /// 0 all passed, 1 a scenario failed, 2 an unusable target or unreadable
    /// file, or nothing to run at all (2 wins: a run that could not look
    /// cannot say "conformant"; a filter matching nothing is most likely a typo).
    pub fn exit_code(&self) -> u8 {
        let nothing =
            self.passed + self.failed + self.target_errors + self.unreadable + self.skipped == 0;
        if self.target_errors > 0 || self.unreadable > 0 || nothing {
            exit::USAGE
        } else if self.failed > 0 {
            exit::FAILURE
        } else {
            exit::OK
        }
    }
}

/// Options of [`run_files`].
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only scenarios whose stem contains this text.
    pub filter: Option<String>,
    /// Check snapshots under this folder (`snapshots/`); `None`: do not snapshot.
    pub snapshot_root: Option<PathBuf>,
    /// Every exchange is also kept here (`--record FILE`).
    pub record: Option<Arc<Recorder>>,
}

/// Runs every scenario of `dir` that lists `spec`'s target, printing one line
/// per scenario (`PASS`, `FAIL`, `ERROR`, `SKIP`), the reasons of failures,
/// and one `NEW` line per snapshot recorded because none existed yet.
pub async fn run_files(
    dir: &Path,
    spec: &TargetSpec,
    options: &RunOptions,
    out: &mut dyn Write,
) -> Summary {
    let mut summary = Summary::default();
    let kind = spec.kind().as_str();
    let scenarios = match load_dir(dir) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(out, "ERROR {e}");
            summary.unreadable += 1;
            return summary;
        }
    };
    for loaded in scenarios {
        let scenario = match loaded {
            Ok(s) => s,
            Err(e) => {
                if matches_filter(&e, options.filter.as_deref()) {
                    let _ = writeln!(out, "ERROR {e}");
                    summary.unreadable += 1;
                }
                continue;
            }
        };
        if let Some(f) = &options.filter
            && !scenario.stem.contains(f.as_str())
        {
            continue;
        }
        let name = format!("{}::{kind}", scenario.stem);
        if !scenario.targets.contains(&spec.kind()) {
            let _ = writeln!(out, "SKIP  {name} (targets: {})", targets_text(&scenario));
            summary.skipped += 1;
            continue;
        }
        let report = run_recorded(
            &scenario,
            spec,
            options.snapshot_root.as_deref(),
            options.record.as_ref(),
        )
        .await;
        for file in &report.new_snapshots {
            summary.new_snapshots += 1;
            let _ = writeln!(out, "NEW   {} (recorded: review it)", file.display());
        }
        match &report.outcome {
            Outcome::Passed => {
                summary.passed += 1;
                let _ = writeln!(out, "PASS  {name}");
            }
            Outcome::Failed(_) => {
                summary.failed += 1;
                let _ = writeln!(out, "FAIL  {name}\n{}", indent(&report.failure_text()));
            }
            Outcome::TargetError { .. } => {
                summary.target_errors += 1;
                let _ = writeln!(out, "ERROR {name}\n{}", indent(&report.failure_text()));
            }
        }
    }
    if summary == Summary::default() {
        let _ = match &options.filter {
            Some(f) => writeln!(out, "no scenario matches `{f}`"),
            None => writeln!(out, "no scenario in {}", dir.display()),
        };
    }
    let new = match summary.new_snapshots {
        0 => String::new(),
        n => format!(", {n} new snapshots"),
    };
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} target errors, {} unreadable, {} skipped{new}",
        summary.passed, summary.failed, summary.target_errors, summary.unreadable, summary.skipped
    );
    summary
}

fn matches_filter(e: &ScenarioError, filter: Option<&str>) -> bool {
    match (e, filter) {
        (ScenarioError::Invalid { path, .. } | ScenarioError::Io { path, .. }, Some(f)) => {
            super::check::stem_of(path).contains(f)
        }
        _ => true,
    }
}

fn targets_text(s: &Scenario) -> String {
    s.targets
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
