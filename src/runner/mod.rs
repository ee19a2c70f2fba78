//! The seeded property runner: generate cases, run them against a target,
//! check them against the oracle, shrink a failure to its smallest form and
//! hand back the seed that replays it.

mod property;
pub mod report;
pub mod seed;

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use property::{Labels, Property};

use crate::client::KlarnaClient;
use crate::exchange::Exchange;
use crate::generate::Case;
use crate::openapi::OpenApi;
use crate::oracle::OracleConfig;
use crate::targets::{Embedded, TargetError, TargetSpec};
use crate::verdict::{Failure, Judge, Verdict};

/// The client a case runs with. The embedded mock is made fresh for every
/// case (building its router costs microseconds), its id generator seeded
/// from the case seed: a case's answers then depend on its seed alone, so a
/// replay gives the same bytes as the run, whatever ran before it or on which
/// worker, and its clock is private (DESIGN.md, "Traps"). Other targets are
/// shared, and since their clock is too, their cases run one at a time.
fn case_client(
    config: &RunConfig,
    shared: Option<&KlarnaClient>,
    case_seed: u64,
) -> Result<KlarnaClient, TargetError> {
    match (&config.target, shared) {
        (TargetSpec::Mock(mock), _) => Ok(KlarnaClient::new(
            Arc::new(Embedded::new(mock.clone().seed(seed::mix(case_seed)))),
            config.target.credentials(),
        )),
        (_, Some(client)) => Ok(client.clone()),
        (spec, None) => Ok(KlarnaClient::new(spec.connect(None)?, spec.credentials())),
    }
}

/// The client every case of a run shares: none for the embedded mock.
fn shared_client(config: &RunConfig) -> Result<Option<KlarnaClient>, TargetError> {
    match &config.target {
        TargetSpec::Mock(_) => Ok(None),
        spec => Ok(Some(KlarnaClient::new(
            spec.connect(None)?,
            spec.credentials(),
        ))),
    }
}

/// Everything a run needs. Build it with [`RunConfig::new`] and adjust fields.
#[derive(Clone)]
pub struct RunConfig {
    /// Where requests go, and with which credentials.
    pub target: TargetSpec,
    /// Cases per property.
    pub cases: u64,
    /// The run seed: the same seed gives the same cases and requests.
    pub seed: u64,
    pub properties: Vec<Property>,
    pub oracle: OracleConfig,
    pub judge: Judge,
    /// OpenAPI documents every answer is also checked against (each answer
    /// against the first document that describes its path).
    pub openapi: Vec<Arc<OpenApi>>,
    /// Where failing case seeds are persisted and read back (`proptest-regressions/`);
    /// `None` persists nothing.
    pub regressions_dir: Option<PathBuf>,
    /// Worker threads for targets that allow parallel runs.
    pub workers: usize,
    /// At most this many shrink steps per failure.
    pub max_shrink_steps: u32,
    /// Draw a progress line (on a terminal) or print a line per property.
    pub progress: Progress,
}

/// How the runner shows progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    None,
    /// One line per finished property (CI logs).
    Lines,
    /// A redrawn progress line on a terminal.
    Bar,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise.
    pub fn auto() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress::Bar
        } else {
            Progress::Lines
        }
    }
}

impl RunConfig {
    /// Every property against the embedded mock with its default credentials.
    pub fn new(seed: u64, cases: u64) -> RunConfig {
        RunConfig {
            target: TargetSpec::mock(),
            cases,
            seed,
            properties: Property::ALL.to_vec(),
            oracle: OracleConfig::default(),
            judge: Judge::Exact,
            openapi: Vec::new(),
            regressions_dir: None,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_shrink_steps: 1024,
            progress: Progress::None,
        }
    }
}

/// What a run found.
#[derive(Debug)]
pub struct RunReport {
    pub seed: u64,
    pub properties: Vec<PropertyReport>,
    /// A target that could not be used stops the run (exit 2), whatever else was found.
    pub target_error: Option<TargetError>,
    pub elapsed: Duration,
}

/// One property's result.
#[derive(Debug)]
pub struct PropertyReport {
    pub property: Property,
    pub cases: u64,
    pub passed: u64,
    pub failure: Option<FailureReport>,
    /// The run stopped before this property's cases were all run (another
    /// property's target error, or this one's).
    pub interrupted: bool,
    /// Label kind -> value -> count, over the passing cases.
    pub labels: BTreeMap<&'static str, BTreeMap<String, u64>>,
}

/// A failing case, shrunk.
#[derive(Debug)]
pub struct FailureReport {
    /// Replays this case: `klarna-conformance replay --property P --seed S`.
    pub case_seed: u64,
    pub case: Case,
    pub failure: Failure,
    pub exchanges: Vec<Exchange>,
    pub shrink_steps: u32,
}

impl RunReport {
    /// The documented exit code: 0 every property held, 1 a conformance
    /// failure, 2 the target could not be used.
    pub fn exit_code(&self) -> u8 {
        if self.target_error.is_some() {
            crate::errors::exit::USAGE
        } else if self.properties.iter().any(|p| p.failure.is_some()) {
            crate::errors::exit::FAILURE
        } else {
            crate::errors::exit::OK
        }
    }

    pub fn cases(&self) -> u64 {
        self.properties.iter().map(|p| p.cases).sum()
    }
}

/// Runs every configured property.
pub fn run(config: &RunConfig) -> RunReport {
    let start = Instant::now();
    let queue: Mutex<Vec<Property>> = Mutex::new(config.properties.iter().rev().copied().collect());
    let results: Mutex<Vec<PropertyReport>> = Mutex::new(Vec::new());
    let target_error: Mutex<Option<TargetError>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let total = config.cases.saturating_mul(config.properties.len() as u64);
    let parallel = matches!(config.target, TargetSpec::Mock(_));
    let workers = if parallel { config.workers.max(1) } else { 1 };
    std::thread::scope(|scope| {
        for _ in 0..workers.min(config.properties.len().max(1)) {
            scope.spawn(|| {
                let outcome = worker(config, &queue, &results, &stop, &done);
                if let Err(e) = outcome {
                    stop.store(true, Ordering::Relaxed);
                    if let Ok(mut first) = target_error.lock() {
                        first.get_or_insert(e);
                    }
                }
            });
        }
        if config.progress == Progress::Bar {
            scope.spawn(|| {
                report::progress_bar(&done, total, &stop, &results, config.properties.len())
            });
        }
    });
    let mut properties = results.into_inner().unwrap_or_default();
    properties.sort_by_key(|p| config.properties.iter().position(|q| *q == p.property));
    RunReport {
        seed: config.seed,
        properties,
        target_error: target_error.into_inner().unwrap_or(None),
        elapsed: start.elapsed(),
    }
}

/// Replays one case of `property` from its case seed, shrinking it again if it fails.
pub fn replay(config: &RunConfig, property: Property, case_seed: u64) -> RunReport {
    let start = Instant::now();
    let mut report = empty_report(property);
    let outcome = runtime().and_then(|rt| {
        rt.block_on(async {
            let shared = shared_client(config)?;
            run_seed(config, shared.as_ref(), property, case_seed, &mut report).await
        })
    });
    RunReport {
        seed: case_seed,
        properties: vec![report],
        target_error: outcome.err(),
        elapsed: start.elapsed(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, TargetError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| TargetError::Transport {
            target: "runner".to_owned(),
            cause: e.to_string(),
        })
}

fn empty_report(property: Property) -> PropertyReport {
    PropertyReport {
        property,
        cases: 0,
        passed: 0,
        failure: None,
        interrupted: false,
        labels: BTreeMap::new(),
    }
}

fn worker(
    config: &RunConfig,
    queue: &Mutex<Vec<Property>>,
    results: &Mutex<Vec<PropertyReport>>,
    stop: &AtomicBool,
    done: &AtomicU64,
) -> Result<(), TargetError> {
    let rt = runtime()?;
    let shared = shared_client(config)?;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let Some(property) = queue.lock().ok().and_then(|mut q| q.pop()) else {
            return Ok(());
        };
        let mut report = empty_report(property);
        let outcome = rt.block_on(run_property(
            config,
            shared.as_ref(),
            &mut report,
            stop,
            done,
        ));
        if config.progress == Progress::Lines {
            eprintln!("{}", report::progress_line(&report));
        }
        if let Ok(mut r) = results.lock() {
            r.push(report);
        }
        outcome?;
    }
}

/// Runs the cases of `report`'s property until one fails or all held. What
/// was found stays in `report` even when a target error ends the property.
async fn run_property(
    config: &RunConfig,
    shared: Option<&KlarnaClient>,
    report: &mut PropertyReport,
    stop: &AtomicBool,
    done: &AtomicU64,
) -> Result<(), TargetError> {
    let property = report.property;
    let persisted = report::read_regressions(config.regressions_dir.as_deref(), property);
    let fresh = (0..config.cases).map(|i| seed::case_seed(config.seed, property.name(), i));
    for case_seed in persisted.into_iter().chain(fresh) {
        if stop.load(Ordering::Relaxed) {
            report.interrupted = true;
            break;
        }
        let outcome = run_seed(config, shared, property, case_seed, report).await;
        done.fetch_add(1, Ordering::Relaxed);
        if let Some(failure) = &report.failure {
            report::persist_regression(config.regressions_dir.as_deref(), property, failure);
            break;
        }
        if let Err(e) = outcome {
            report.interrupted = true;
            return Err(e);
        }
    }
    Ok(())
}

/// Runs the case a seed names; on a conformance failure, shrinks it. A
/// failure found before a target error is kept in `report`.
async fn run_seed(
    config: &RunConfig,
    shared: Option<&KlarnaClient>,
    property: Property,
    case_seed: u64,
    report: &mut PropertyReport,
) -> Result<(), TargetError> {
    let strategy = property.strategy();
    let mut tree = seed::case_tree(&strategy, case_seed);
    let case = tree.current();
    report.cases += 1;
    let client = case_client(config, shared, case_seed)?;
    let (verdict, exchanges, labels) = run_case(config, &client, property, &case).await;
    let failure = match verdict {
        Verdict::Pass => {
            report.passed += 1;
            for (kind, value) in labels {
                *report
                    .labels
                    .entry(kind)
                    .or_default()
                    .entry(value)
                    .or_default() += 1;
            }
            return Ok(());
        }
        Verdict::Target(e) => return Err(e),
        Verdict::Conformance(f) => f,
    };
    let best = report.failure.insert(FailureReport {
        case_seed,
        case,
        failure,
        exchanges,
        shrink_steps: 0,
    });
    // proptest's shrinking: simplify while the case still fails, step back
    // (complicate) when a simpler case passes. Each candidate runs on a fresh
    // target from the same seed, so shrinking is as deterministic as the run.
    let mut steps = 0;
    let mut more = tree.simplify();
    while more && steps < config.max_shrink_steps {
        steps += 1;
        let candidate = tree.current();
        let client = case_client(config, shared, case_seed)?;
        let (verdict, exchanges, _) = run_case(config, &client, property, &candidate).await;
        match verdict {
            Verdict::Conformance(f) => {
                best.case = candidate;
                best.failure = f;
                best.exchanges = exchanges;
                best.shrink_steps = steps;
                more = tree.simplify();
            }
            Verdict::Pass => more = tree.complicate(),
            Verdict::Target(e) => return Err(e),
        }
    }
    Ok(())
}

async fn run_case(
    config: &RunConfig,
    client: &KlarnaClient,
    property: Property,
    case: &Case,
) -> (Verdict, Vec<Exchange>, Labels) {
    let ctx = property::Ctx {
        client,
        oracle: config.oracle,
        judge: config.judge,
        openapi: &config.openapi,
        exchanges: Mutex::new(Vec::new()),
    };
    let outcome = property::check(property, &ctx, case).await;
    let exchanges = ctx.exchanges.into_inner().unwrap_or_default();
    match outcome {
        Ok(labels) => (Verdict::Pass, exchanges, labels),
        Err(problem) => (Verdict::from(Err(problem)), exchanges, Labels::new()),
    }
}
