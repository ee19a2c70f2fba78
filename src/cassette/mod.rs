//! Cassettes: a run's exchanges kept in one JSON file (`--record FILE`) and
//! answered again by a wiremock server (`--target wiremock --cassette FILE`),
//! so that a certification recorded once on the playground is re-judged
//! offline, with today's oracle, forever (docs/design.md, "Cassettes").
//!
//! A cassette is grouped by case: the runner says which case (property and
//! case seed, or a scenario's file stem) its next requests belong to, and a
//! replay answers each case's requests in the order they were recorded. Cases
//! are found by their label, not by their place in the file, so a replay whose
//! verdict differs from the recording's (a failure stops a property early)
//! still finds the cases that follow.

pub mod drift;
mod recorder;

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use recorder::{Recorder, Recording};

use crate::errors::InputError;
use crate::exchange::Exchange;
use crate::model::validate::Fidelity;
use crate::oracle::OracleConfig;
use crate::runner::RunConfig;
use crate::targets::{Player, TargetError, TargetKind, TargetSpec};
use crate::verdict::Judge;

/// The format version this build reads and writes.
pub const VERSION: u32 = 1;

/// Why a cassette run goes one case at a time (the run report says it).
pub const SEQUENTIAL: &str = "a cassette is recorded or replayed in the seed's order";

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cassette {
    /// The format version, [`VERSION`].
    pub cassette: u32,
    /// `klarna-conformance 0.1.0`: the build that recorded it.
    pub tool: String,
    /// `run`, `replay`, `scenarios` or `certify`.
    pub command: String,
    /// The run seed (for `replay`, the case seed).
    pub seed: u64,
    pub target: RecordedTarget,
    pub settings: Settings,
    /// False when the run was interrupted, failed to use its target, or the
    /// file was written before the run ended.
    #[serde(default)]
    pub complete: bool,
    pub cases: Vec<Case>,
}

/// The target a cassette was recorded against: described, never its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTarget {
    /// `mock`, `url` or `playground` ([`TargetKind`]).
    pub kind: String,
    /// `the embedded mock`, a URL without user information.
    pub description: String,
    /// It served the mock's control API: a replay offers it too, so the same
    /// properties run and the same requests are generated.
    pub control_api: bool,
    /// Sessions were authorized (by the control API or an authorizer, whose
    /// SDK results are recorded as `SDK` steps): a replay authorizes too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizes: Option<bool>,
    /// `token-expiry` held real tokens (its pauses are recorded as `WAIT` steps).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held_expiry: bool,
    /// The embedded mock's virtual clock at the start of each case (Unix
    /// seconds): the engine anchors its model to it without asking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_start: Option<i64>,
}

/// What decided the requests: a replay runs with these, so the same seed
/// generates the same requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Cases per property.
    pub cases: u64,
    pub properties: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markets: Vec<String>,
    #[serde(default)]
    pub strict: bool,
    #[serde(default)]
    pub allow_cart_updates: bool,
    #[serde(default)]
    pub lenient: bool,
    /// `exact` (the embedded mock) or `named`.
    pub judge: String,
    pub max_shrink_steps: u32,
    /// Browser-authorized tokens with their create-order bodies (`certify`):
    /// spent once recorded, and needed to generate the same requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_orders: Vec<(String, String)>,
}

/// The exchanges of one case, in the order they were sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// The property, or the scenario's file stem.
    pub case: String,
    /// The case seed (0 for a scenario).
    #[serde(default)]
    pub seed: u64,
    /// 0 for the case as drawn, n for its n-th shrink candidate.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shrink: u32,
    /// The target error that ended the case, if one did: a replay gives it
    /// again after the last exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub exchanges: Vec<Exchange>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Case {
    /// `order-succeeds seed 123` (with ` shrink 4` for a candidate).
    pub fn label(&self) -> String {
        label(&self.case, self.seed, self.shrink)
    }
}

/// How a case is named in messages.
pub fn label(case: &str, seed: u64, shrink: u32) -> String {
    match shrink {
        0 => format!("case `{case}` seed {seed}"),
        n => format!("case `{case}` seed {seed} shrink step {n}"),
    }
}

/// A cassette that cannot be read or written (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CassetteError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{file}: not a cassette: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: cassette format {found}; this build reads format {VERSION}")]
    Version { file: String, found: u64 },
    #[error("cannot write the cassette {file}: {source}")]
    Write {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl Cassette {
    /// The header of a cassette of `config`'s run, without exchanges.
    pub fn of(command: &str, config: &RunConfig) -> Cassette {
        let (kind, clock_start) = match &config.target {
            TargetSpec::Mock(mock) => (
                TargetKind::Mock,
                (!mock.system_clock).then_some(mock.clock_start),
            ),
            spec => (spec.kind(), None),
        };
        Cassette {
            cassette: VERSION,
            tool: format!("klarna-conformance {}", env!("CARGO_PKG_VERSION")),
            command: command.to_owned(),
            seed: config.seed,
            target: RecordedTarget {
                kind: kind.as_str().to_owned(),
                description: config.target.describe(),
                control_api: config.offers().control_api,
                authorizes: Some(config.offers().authorize),
                held_expiry: config.hold_expiry,
                clock_start,
            },
            settings: Settings {
                cases: config.cases,
                properties: config
                    .properties
                    .iter()
                    .map(|p| p.name().to_owned())
                    .collect(),
                markets: config.markets.clone(),
                strict: config.oracle.fidelity == Fidelity::Documented,
                allow_cart_updates: config.oracle.allow_cart_updates,
                lenient: config.oracle.lenient,
                judge: match config.judge {
                    Judge::Exact => "exact",
                    Judge::Named => "named",
                }
                .to_owned(),
                max_shrink_steps: config.max_shrink_steps,
                authorized_orders: config.given.clone(),
            },
            complete: false,
            cases: Vec::new(),
        }
    }

    /// The header of a cassette of a run against `target` without
    /// generated cases (`scenarios`).
    pub fn of_target(command: &str, target: &TargetSpec) -> Cassette {
        let mut config = RunConfig::new(0, 0);
        config.target = target.clone();
        config.properties.clear();
        Cassette::of(command, &config)
    }

    /// Reads a cassette; every way a file can be wrong is an error naming it.
    pub fn load(path: &Path) -> Result<Cassette, CassetteError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
            file: file.clone(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| InputError::not_json(&file, &e))?;
        // The version first, so a newer format is named as such rather than
        // as whatever field it renamed.
        match value.get("cassette").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(found) => return Err(CassetteError::Version { file, found }),
            None => {
                return Err(CassetteError::Invalid {
                    file,
                    message: "no `cassette` format version".to_owned(),
                });
            }
        }
        let cassette: Cassette =
            serde_json::from_value(value).map_err(|e| CassetteError::Invalid {
                file: file.clone(),
                message: e.to_string(),
            })?;
        if TargetKind::parse(&cassette.target.kind).is_none() {
            return Err(CassetteError::Invalid {
                file,
                message: format!(
                    "target kind {:?} is not mock, url or playground",
                    cassette.target.kind
                ),
            });
        }
        Ok(cassette)
    }

    /// Writes the cassette whole or not at all: a temporary file beside it,
    /// then a rename, so an interrupted write never leaves half a cassette.
    pub fn save(&self, path: &Path) -> Result<(), CassetteError> {
        let write = |source| CassetteError::Write {
            file: path.display().to_string(),
            source,
        };
        let text =
            serde_json::to_string_pretty(self).map_err(|e| write(std::io::Error::other(e)))?;
        let name = path
            .file_name()
            .map_or_else(|| "cassette".into(), |n| n.to_string_lossy().into_owned());
        let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        std::fs::write(&temp, text + "\n").map_err(write)?;
        std::fs::rename(&temp, path).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            write(e)
        })
    }

    /// The kind of target it was recorded against.
    pub fn kind(&self) -> TargetKind {
        TargetKind::parse(&self.target.kind).unwrap_or(TargetKind::Url)
    }

    /// Every exchange, case after case.
    pub fn exchanges(&self) -> impl Iterator<Item = &Exchange> {
        self.cases.iter().flat_map(|c| &c.exchanges)
    }

    /// The oracle settings it was recorded with.
    pub fn oracle(&self) -> OracleConfig {
        OracleConfig {
            allow_cart_updates: self.settings.allow_cart_updates,
            fidelity: if self.settings.strict {
                Fidelity::Documented
            } else {
                Fidelity::Playground
            },
            lenient: self.settings.lenient,
        }
    }

    /// A run of the recorded settings against `player`: the same seed,
    /// cases, properties, markets, oracle and judge, so the same requests.
    /// Shrinking goes as far as the cassette holds the candidates.
    pub fn run_config(&self, player: Arc<Player>) -> RunConfig {
        let mut config = RunConfig::new(self.seed, self.settings.cases);
        config.properties = self
            .settings
            .properties
            .iter()
            .filter_map(|name| crate::runner::Property::from_name(name))
            .collect();
        config.markets = self.settings.markets.clone();
        config.oracle = self.oracle();
        config.judge = if self.settings.judge == "exact" {
            Judge::Exact
        } else {
            Judge::Named
        };
        config.max_shrink_steps = self.settings.max_shrink_steps;
        config.given = self.settings.authorized_orders.clone();
        config.hold_expiry = self.target.held_expiry;
        config.target = TargetSpec::Cassette(player);
        config
    }
}

/// Tells the recorder and a replayed cassette that the next requests belong
/// to this case. `Ok(false)`: the replayed cassette does not hold this shrink
/// candidate (shrinking stops there); a case as drawn that it does not hold
/// is a mismatch.
pub fn begin(
    record: Option<&Arc<Recorder>>,
    target: &TargetSpec,
    case: &str,
    seed: u64,
    shrink: u32,
) -> Result<bool, TargetError> {
    if let Some(recorder) = record {
        recorder.begin(case, seed, shrink);
    }
    match target {
        TargetSpec::Cassette(player) => player.begin(case, seed, shrink),
        _ => Ok(true),
    }
}

/// After a replay that found no failure and was not stopped: a recorded case
/// it never sent is a mismatch too (the cassette holds more than today's run
/// sends). A run that failed stops properties early, so their later cases
/// are legitimately left.
pub fn finish_replay(target: &TargetSpec, report: &mut crate::runner::RunReport) {
    let TargetSpec::Cassette(player) = target else {
        return;
    };
    let stopped = report
        .properties
        .iter()
        .any(|p| p.failure.is_some() || p.interrupted);
    if report.target_error.is_none() && !stopped {
        report.target_error = player.unreplayed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_round_trips() {
        let config = RunConfig::new(7, 3);
        let cassette = Cassette::of("run", &config);
        let text = serde_json::to_string(&cassette).unwrap();
        let back: Cassette = serde_json::from_str(&text).unwrap();
        assert_eq!(back, cassette);
        assert_eq!(back.kind(), TargetKind::Mock);
        assert!(back.target.clock_start.is_some() && back.target.control_api);
    }
}
