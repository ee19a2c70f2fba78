//! Every property and every scenario file as a libtest-mimic trial, so that a
//! test runner distributes the work: `cargo nextest run --partition hash:1/4`
//! on four CI machines runs a quarter of the trials each, and nextest's JUnit
//! of each shard merges as any other.
//!
//! A crate adds one test target and calls [`main`]:
//!
//! ```toml
//! [[test]]
//! name = "klarna"
//! harness = false
//! ```
//!
//! ```text
//! // tests/klarna.rs
//! fn main() {
//!     klarna_conformance::trials::main(env!("CARGO_MANIFEST_DIR"));
//! }
//! ```
//!
//! Trials are named `property::<name>::<target>` and `scenario::<file
//! stem>::<target>`. Each trial's seed is made from its name and the run seed
//! alone, so a shard (or one trial, `--exact NAME`) replays without the
//! others. The environment sets the budget:
//!
//! - `KLARNA_CONFORMANCE_CASES`: sequences per property trial (default 16);
//! - `KLARNA_CONFORMANCE_SEED`: the run seed (default fixed, so every shard
//!   of a run agrees; set it per night to explore);
//! - `KLARNA_TARGET_URL` (with `KLARNA_USERNAME` / `KLARNA_PASSWORD`): the
//!   `url` target besides the embedded mock; `KLARNA_PLAYGROUND=1` enables
//!   the scenarios that list the playground.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use libtest_mimic::{Arguments, Failed, Trial};

use crate::runner::{self, Property, RunConfig, seed};
use crate::scenario::{self, Scenario, ScenarioError};
use crate::targets::{TargetKind, TargetSpec, env, playground_opt_in};

/// Cases per property trial unless `KLARNA_CONFORMANCE_CASES` says.
pub const DEFAULT_CASES: u64 = 16;
/// The run seed unless `KLARNA_CONFORMANCE_SEED` says.
pub const DEFAULT_SEED: u64 = 0x6b6c_6172_6e61;

/// What the trials run: where the scenario files and snapshots are, the
/// budget, and the URL target if any.
#[derive(Debug, Clone)]
pub struct Options {
    /// `scenarios/` (absent: no scenario trials).
    pub scenarios: PathBuf,
    pub snapshots: PathBuf,
    pub cases: u64,
    pub seed: u64,
    pub url: Option<String>,
    pub playground: bool,
}

impl Options {
    /// `root/scenarios`, `root/snapshots` and the environment's budget.
    pub fn from_env(root: &Path) -> Result<Options, String> {
        let number = |var: &str, default: u64| match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => v
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("{var}={v} is not a whole number")),
            _ => Ok(default),
        };
        let cases = number("KLARNA_CONFORMANCE_CASES", DEFAULT_CASES)?;
        if cases == 0 {
            return Err("KLARNA_CONFORMANCE_CASES=0: a trial of no case checks nothing".into());
        }
        Ok(Options {
            scenarios: root.join("scenarios"),
            snapshots: root.join("snapshots"),
            cases,
            seed: number("KLARNA_CONFORMANCE_SEED", DEFAULT_SEED)?,
            url: std::env::var(env::TARGET_URL)
                .ok()
                .filter(|u| !u.is_empty()),
            // A value that is neither 1 nor 0 leaves the playground trials ignored.
            playground: playground_opt_in(std::env::var(env::PLAYGROUND).ok().as_deref())
                .unwrap_or(false),
        })
    }
}

/// Runs the trials of the crate at `root` under libtest's command line
/// (`--list`, filters, `--exact`, `--ignored`, `--test-threads`) and exits.
pub fn main(root: impl AsRef<Path>) -> ! {
    let args = Arguments::from_args();
    let trials = match Options::from_env(root.as_ref()) {
        Ok(options) => trials(&options),
        Err(e) => vec![Trial::test("configuration", move || Err(e.into()))],
    };
    libtest_mimic::run(&args, trials).exit()
}

/// Every trial of `options`: properties first, then scenario files.
pub fn trials(options: &Options) -> Vec<Trial> {
    let mut out = property_trials(options);
    if options.scenarios.is_dir() {
        out.extend(scenario_trials(options));
    }
    out
}

/// The seed of the trial named `name` in a run seeded `run_seed`.
pub fn trial_seed(run_seed: u64, name: &str) -> u64 {
    seed::case_seed(run_seed, name, 0)
}

fn property_trials(options: &Options) -> Vec<Trial> {
    let mut targets = vec![(TargetKind::Mock, TargetSpec::mock())];
    if let Some(url) = &options.url {
        targets.push((TargetKind::Url, TargetSpec::url_from_env(url)));
    }
    let mut out = Vec::new();
    for (kind, spec) in targets {
        for p in Property::all() {
            let name = format!("property::{}::{}", p.name(), kind.as_str());
            let mut config = RunConfig::new(trial_seed(options.seed, &name), options.cases);
            config.properties = vec![p];
            config.target = spec.clone();
            config.workers = Some(1);
            let unmet = p.needs().unmet(config.offers());
            let trial = Trial::test(name, move || property(&config));
            out.push(trial.with_ignored_flag(unmet.is_some()));
        }
    }
    out
}

fn property(config: &RunConfig) -> Result<(), Failed> {
    // A server without scopes has one clock for every client (docs/design.md):
    // a property that moves it runs alone. With scopes the run is in scopes of
    // its own, but whether the server has them is only known once asked.
    let _guard = match config.target.kind() {
        TargetKind::Url => Guard::Write(URL_CLOCK.write().unwrap_or_else(PoisonError::into_inner)),
        _ => Guard::None,
    };
    let report = runner::run(config);
    if report.exit_code() == crate::errors::exit::OK {
        Ok(())
    } else {
        Err(runner::report::render(&report, "").into())
    }
}

fn scenario_trials(options: &Options) -> Vec<Trial> {
    let loaded = match scenario::load_dir(&options.scenarios) {
        Ok(l) => l,
        Err(e) => {
            let message = e.to_string();
            return vec![Trial::test("scenario::files", move || Err(message.into()))];
        }
    };
    let mut out = Vec::new();
    for s in loaded {
        let s = match s {
            Ok(s) => Arc::new(s),
            Err(e) => {
                out.push(unreadable(e));
                continue;
            }
        };
        for kind in &s.targets {
            let name = format!("scenario::{}::{}", s.stem, kind.as_str());
            let (spec, ignored) = match kind {
                TargetKind::Mock => (Some(TargetSpec::mock()), false),
                TargetKind::Url => match &options.url {
                    Some(u) => (Some(TargetSpec::url_from_env(u)), false),
                    None => continue,
                },
                TargetKind::Playground => {
                    let spec = TargetSpec::playground_from_env();
                    let ready = options.playground && spec.is_some();
                    (spec, !ready)
                }
            };
            let (s, root) = (s.clone(), options.snapshots.clone());
            out.push(
                Trial::test(name, move || run_scenario(&s, spec, &root)).with_ignored_flag(ignored),
            );
        }
    }
    out
}

/// A file that cannot be used is a failing trial named after it, so the
/// message (path:line:column) shows in the test output.
fn unreadable(e: ScenarioError) -> Trial {
    let stem = match &e {
        ScenarioError::Io { path, .. } | ScenarioError::Invalid { path, .. } => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ScenarioError::Emit(_) => String::new(),
    };
    let message = e.to_string();
    Trial::test(format!("scenario::{stem}::mock"), move || {
        Err(message.into())
    })
}

/// A URL target has one clock for every client: a trial that moves it must
/// not run beside others, or their tokens expire under them (docs/design.md).
static URL_CLOCK: RwLock<()> = RwLock::new(());
/// The playground answers the fifth request within a second with 429
/// (docs/klarna.md §10): its scenarios run one at a time.
static PLAYGROUND: Mutex<()> = Mutex::new(());

fn run_scenario(s: &Scenario, spec: Option<TargetSpec>, root: &Path) -> Result<(), Failed> {
    let spec = spec.ok_or_else(|| {
        Failed::from(
            "the playground needs KLARNA_USERNAME and KLARNA_PASSWORD (and KLARNA_PLAYGROUND=1)",
        )
    })?;
    let _guard = match spec.kind() {
        TargetKind::Url if s.moves_clock() => {
            Guard::Write(URL_CLOCK.write().unwrap_or_else(PoisonError::into_inner))
        }
        TargetKind::Url => Guard::Read(URL_CLOCK.read().unwrap_or_else(PoisonError::into_inner)),
        TargetKind::Playground => {
            Guard::Alone(PLAYGROUND.lock().unwrap_or_else(PoisonError::into_inner))
        }
        TargetKind::Mock => Guard::None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("cannot start a runtime: {e}")))?;
    let report = runtime.block_on(scenario::run_scenario(s, &spec, Some(root)));
    // A first run against a new target records its answers instead of failing;
    // say where, so they are reviewed (and committed) rather than missed.
    for file in &report.new_snapshots {
        eprintln!("NEW   {} (recorded: review it)", file.display());
    }
    if report.passed() {
        Ok(())
    } else {
        Err(report.failure_text().into())
    }
}

#[allow(dead_code)] // the guards are held, never read
enum Guard<'a> {
    None,
    Read(std::sync::RwLockReadGuard<'a, ()>),
    Write(std::sync::RwLockWriteGuard<'a, ()>),
    Alone(std::sync::MutexGuard<'a, ()>),
}
