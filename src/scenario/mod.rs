//! Scenarios: hand-written request sequences with the answers they must get.
//!
//! Properties explore; scenarios pin down. A scenario is one TOML file in
//! `scenarios/` (format: `scenarios/README.md`): a description, the targets it
//! applies to, optional mock settings and fixtures, and `[[step]]`s such as
//! `create_session`, `authorize`, `mutate`, `advance_clock`, `create_order`,
//! each with what it expects and whether its answer is snapshotted.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//! use std::sync::Arc;
//! use klarna_conformance::scenario;
//! use klarna_conformance::targets::{Credentials, HttpTarget};
//!
//! let shared = scenario::load_fixtures(Path::new("scenarios"))?;
//! let s = scenario::load_file(Path::new("scenarios/expired_token.toml"), &shared)?;
//! let target = Arc::new(HttpTarget::new("http://127.0.0.1:8080")?);
//! let report = scenario::execute(&s, target, Credentials::new("u", "p"), None).await;
//! print!("{}", report.failure_text());
//! # Ok(()) }
//! ```
//!
//! A file that cannot be read or is inconsistent fails with
//! `path:line:column: what is wrong` ([`ScenarioError`]) before anything is sent.

mod check;
mod emit;
mod exec;
mod expect;
mod fixtures;
mod format;
mod path;
mod raw;
mod run;

use std::path::{Path, PathBuf};

pub use emit::from_sequence;
pub use exec::{Failure, Outcome, Report, SnapshotPlan, execute};
pub use fixtures::{CartFixture, FixtureSet, LineFixture, sample_address};
pub use format::{Action, Edit, Expect, MockSettings, STEP_KINDS, Scenario, Step};
pub use path::JsonPath;
pub use run::{
    DEFAULT_MOCK_SEED, RunOptions, Summary, connect, mock_config, run_files, run_scenario,
};

/// The shared fixtures file beside the scenario files; never a scenario itself.
pub const FIXTURES_FILE: &str = "fixtures.toml";

/// Why a scenario file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{}: cannot read: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", .path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A generated case cannot be written as a scenario.
    #[error("cannot write the case as a scenario: {0}")]
    Emit(String),
}

fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        path: path.to_owned(),
        source,
    })
}

/// The shared fixtures of a scenario directory (`<dir>/fixtures.toml`); none when absent.
pub fn load_fixtures(dir: &Path) -> Result<FixtureSet, ScenarioError> {
    let path = dir.join(FIXTURES_FILE);
    if !path.exists() {
        return Ok(FixtureSet::default());
    }
    check::parse_fixtures(&path, &read(&path)?)
}

/// Reads and checks one scenario file.
pub fn load_file(path: &Path, shared: &FixtureSet) -> Result<Scenario, ScenarioError> {
    check::parse_scenario(path, &read(path)?, shared)
}

/// Checks scenario text (`path` is only used in messages and for the stem).
pub fn parse(path: &Path, text: &str, shared: &FixtureSet) -> Result<Scenario, ScenarioError> {
    check::parse_scenario(path, text, shared)
}

/// The scenario files of a directory (`*.toml` but `fixtures.toml`), sorted by name.
pub fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ScenarioError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "toml")
                && p.file_name().is_some_and(|n| n != FIXTURES_FILE)
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Every scenario of a directory, each checked on its own: one bad file does
/// not hide the others. Fails as a whole only when the directory or the
/// shared fixtures cannot be read.
pub fn load_dir(dir: &Path) -> Result<Vec<Result<Scenario, ScenarioError>>, ScenarioError> {
    let shared = load_fixtures(dir)?;
    Ok(scenario_files(dir)?
        .iter()
        .map(|p| load_file(p, &shared))
        .collect())
}

#[cfg(test)]
mod tests;
