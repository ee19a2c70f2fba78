//! Running scenario files against a target: what `cargo test --test scenarios`
//! and `klarna-conformance scenarios` share.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::exec::{Outcome, Report, SnapshotPlan, execute};
use super::format::{MockSettings, Scenario, TargetKind};
use super::{ScenarioError, load_dir};
use crate::mock::{Defect, MockConfig};
use crate::snapshot::{SnapshotSettings, target_dir};
use crate::target::{
    Credentials, Embedded, HttpTarget, PLAYGROUND_EU, PLAYGROUND_NA, PLAYGROUND_OC, Target,
    TargetError,
};

/// Every scenario passed.
pub const EXIT_PASSED: u8 = 0;
/// A scenario failed: a conformance failure (or a changed snapshot).
pub const EXIT_FAILED: u8 = 1;
/// A target could not be used or a scenario file could not be read.
pub const EXIT_UNUSABLE: u8 = 2;

/// The seed of the embedded mock's id generator when a scenario names none.
/// Ids are redacted in snapshots, so any fixed seed gives the same snapshots;
/// a fixed one also makes the raw exchanges of two runs identical.
pub const DEFAULT_MOCK_SEED: u64 = 20_260_101;

/// Environment variables the harness reads.
pub const TARGET_URL_ENV: &str = "KLARNA_TARGET_URL";
pub const USERNAME_ENV: &str = "KLARNA_USERNAME";
pub const PASSWORD_ENV: &str = "KLARNA_PASSWORD";
pub const PLAYGROUND_ENV: &str = "KLARNA_PLAYGROUND";

/// What to run scenarios against.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// A fresh embedded mock per scenario (its own clock and ids), configured
    /// by the scenario's `[mock]` table, plus these deliberate defects.
    Mock { defects: Vec<Defect> },
    /// A server speaking Payments v1 and the mock's control API.
    Url {
        base_url: String,
        credentials: Credentials,
    },
    /// Klarna's playground; the region follows the scenario's purchase country
    /// unless `base_url` is given.
    Playground {
        credentials: Credentials,
        base_url: Option<String>,
    },
}

impl TargetSpec {
    pub fn kind(&self) -> TargetKind {
        match self {
            TargetSpec::Mock { .. } => TargetKind::Mock,
            TargetSpec::Url { .. } => TargetKind::Url,
            TargetSpec::Playground { .. } => TargetKind::Playground,
        }
    }

    /// The faithful embedded mock.
    pub fn mock() -> TargetSpec {
        TargetSpec::Mock {
            defects: Vec::new(),
        }
    }

    /// A URL target with credentials from `KLARNA_USERNAME` / `KLARNA_PASSWORD`,
    /// or the mock's defaults when those are unset.
    pub fn url_from_env(base_url: &str) -> TargetSpec {
        let username = std::env::var(USERNAME_ENV)
            .unwrap_or_else(|_| crate::mock::DEFAULT_USERNAME.to_owned());
        let password = std::env::var(PASSWORD_ENV)
            .unwrap_or_else(|_| crate::mock::DEFAULT_PASSWORD.to_owned());
        TargetSpec::Url {
            base_url: base_url.to_owned(),
            credentials: Credentials::new(username, password),
        }
    }

    /// The playground with credentials from the environment, if both are set.
    pub fn playground_from_env() -> Option<TargetSpec> {
        let username = std::env::var(USERNAME_ENV).ok()?;
        let password = std::env::var(PASSWORD_ENV).ok()?;
        Some(TargetSpec::Playground {
            credentials: Credentials::new(username, password),
            base_url: None,
        })
    }
}

/// The embedded mock's configuration for a scenario.
pub fn mock_config(settings: &MockSettings, defects: &[Defect]) -> MockConfig {
    let mut config = MockConfig::default()
        .seed(settings.seed.unwrap_or(DEFAULT_MOCK_SEED))
        .allow_cart_updates(settings.allow_cart_updates)
        .strict(settings.strict);
    for d in defects {
        config = config.defect(*d);
    }
    config
}

/// The playground region of a purchase country (reference 1.1).
pub fn playground_url(country: Option<&str>) -> &'static str {
    match country.map(str::to_ascii_uppercase).as_deref() {
        Some("US" | "CA" | "MX") => PLAYGROUND_NA,
        Some("AU" | "NZ") => PLAYGROUND_OC,
        _ => PLAYGROUND_EU,
    }
}

/// The target and credentials one scenario runs with.
pub fn connect(
    spec: &TargetSpec,
    scenario: &Scenario,
) -> Result<(Arc<dyn Target>, Credentials), TargetError> {
    Ok(match spec {
        TargetSpec::Mock { defects } => {
            let config = mock_config(&scenario.mock, defects);
            let credentials = Credentials::new(config.username.clone(), config.password.clone());
            (Arc::new(Embedded::new(config)), credentials)
        }
        TargetSpec::Url {
            base_url,
            credentials,
        } => (Arc::new(HttpTarget::new(base_url)?), credentials.clone()),
        TargetSpec::Playground {
            credentials,
            base_url,
        } => {
            let url = base_url.clone().unwrap_or_else(|| {
                playground_url(scenario.purchase_country().as_deref()).to_owned()
            });
            (Arc::new(HttpTarget::playground(&url)?), credentials.clone())
        }
    })
}

/// Runs one scenario on `spec`; snapshots are checked under `snapshot_root`
/// (`snapshot_root` for the mock, `snapshot_root/<target>` otherwise) when given.
pub async fn run_scenario(
    scenario: &Scenario,
    spec: &TargetSpec,
    snapshot_root: Option<&Path>,
) -> Report {
    let (target, credentials) = match connect(spec, scenario) {
        Ok(t) => t,
        Err(error) => {
            return Report {
                exchanges: Vec::new(),
                outcome: Outcome::TargetError { step: 0, error },
            };
        }
    };
    let plan = snapshot_root.map(|root| SnapshotPlan {
        settings: SnapshotSettings {
            dir: target_dir(root, spec.kind().as_str()),
            input_file: Some(scenario.path.clone()),
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
}

impl Summary {
    /// 0 all passed, 1 a scenario failed, 2 an unusable target or unreadable file
    /// (2 wins: a run that could not look cannot say "conformant").
    pub fn exit_code(&self) -> u8 {
        if self.target_errors > 0 || self.unreadable > 0 {
            EXIT_UNUSABLE
        } else if self.failed > 0 {
            EXIT_FAILED
        } else {
            EXIT_PASSED
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
}

/// Runs every scenario of `dir` that lists `spec`'s target, printing one line
/// per scenario (`PASS`, `FAIL`, `ERROR`, `SKIP`) and the reasons of failures.
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
        let report = run_scenario(&scenario, spec, options.snapshot_root.as_deref()).await;
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
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} target errors, {} unreadable, {} skipped",
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
