//! The seeded property runner, the one engine behind `run` and `certify`:
//! draw each property's sequences from per-case seeds, run them through the
//! [`engine`](crate::engine), shrink a failure to its fewest operations, keep
//! its seed, and report. What a target offers decides which properties run;
//! the others are reported as skipped, by name.

mod cases;
mod generators;
mod lifecycle;
mod property;
pub mod report;
mod scopes;
pub mod seed;

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cases::{Cases, held_case, join_all, merge_cases, worker};
pub use property::{Needs, PROPERTIES, Property, PropertyDef};
pub use scopes::Concurrency;

use crate::authorize::{Authorizer, ControlApi};
use crate::cassette::Recording;
use crate::client::KlarnaClient;
use crate::engine::{Engine, Outcome, Pause, RunIds, SequenceRun, Step};
use crate::exchange::Exchange;
use crate::openapi::OpenApi;
use crate::oracle::OracleConfig;
use crate::sequence::{GenConfig, Op, SequenceTree};
use crate::targets::{Credentials, Embedded, TargetError, TargetSpec};
use crate::verdict::{Failure, Judge};

/// At most this many held cases per property (docs/design.md "Held expiry").
pub const MAX_HELD_CASES: u64 = 8;

/// Everything a run needs. Build it with [`RunConfig::new`] and adjust fields.
#[derive(Clone)]
pub struct RunConfig {
    /// Where requests go, and with which credentials.
    pub target: TargetSpec,
    /// Cases (sequences) per property.
    pub cases: u64,
    /// The run seed: the same seed gives the same sequences and requests.
    pub seed: u64,
    pub properties: Vec<Property>,
    pub oracle: OracleConfig,
    pub judge: Judge,
    /// OpenAPI documents every answer is also checked against (each answer
    /// against the first document that describes its path).
    pub openapi: Vec<Arc<OpenApi>>,
    /// Where failing case seeds are kept and read back (`proptest-regressions/`);
    /// `None` keeps nothing. Seeds of a URL target go to its `url/` subfolder.
    pub regressions_dir: Option<PathBuf>,
    /// Workers (sequences run side by side, on no more threads than cores);
    /// `None`: one per core for the embedded mock, four per core for a
    /// server with scopes (each worker in its own). A server without scopes
    /// always runs one case at a time.
    pub workers: Option<usize>,
    /// At most this many shrink steps per failure.
    pub max_shrink_steps: u32,
    /// Draw a progress line (on a terminal) or print a line per property.
    pub progress: Progress,
    /// The markets sessions are created in (all when empty).
    pub markets: Vec<String>,
    /// Tokens the user authorized in a browser, each with its create-order body.
    pub given: Vec<(String, String)>,
    /// What stands for the browser's `authorize()`; `None`: the control API
    /// (a target without one then runs no property that authorizes).
    pub authorizer: Option<Arc<dyn Authorizer>>,
    /// On a target with a real clock and an authorizer, run `token-expiry` by
    /// holding real tokens past their hour (docs/design.md "Held expiry")
    /// instead of reporting it skipped.
    pub hold_expiry: bool,
    /// How a held case pauses; `None`: real time (Tokio's sleep).
    pub pause: Option<Pause>,
    /// Set (e.g. by Ctrl-C) to stop after the cases in flight: what was found
    /// so far is reported.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Every exchange is also kept here (`--record FILE`); the run then goes
    /// one case at a time, in the seed's order.
    pub record: Option<Arc<crate::cassette::Recorder>>,
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
            properties: Property::all().collect(),
            oracle: OracleConfig::default(),
            judge: Judge::Exact,
            openapi: Vec::new(),
            regressions_dir: None,
            workers: None,
            max_shrink_steps: 1024,
            progress: Progress::None,
            markets: Vec::new(),
            given: Vec::new(),
            authorizer: None,
            hold_expiry: false,
            pause: None,
            interrupt: None,
            record: None,
        }
    }

    /// What the target offers.
    pub fn offers(&self) -> Needs {
        let mock_like = match &self.target {
            TargetSpec::Playground { .. } => false,
            TargetSpec::Cassette(player) => player.control_api(),
            _ => true,
        };
        let replayed_authorizations = match &self.target {
            TargetSpec::Cassette(player) => player.authorizes(),
            _ => false,
        };
        Needs {
            authorize: mock_like || self.authorizer.is_some() || replayed_authorizations,
            control_api: mock_like,
            virtual_clock: mock_like,
            given_tokens: !self.given.is_empty(),
        }
    }

    /// Whether `property` runs held on this target: it waits out a token's
    /// hour, the target's clock is real and something can authorize.
    pub fn holds(&self, property: Property) -> bool {
        self.hold_expiry && self.could_hold(property)
    }

    /// How many tokens a held property holds: its cases, at most
    /// [`MAX_HELD_CASES`] (each is a session and an authorization of its own
    /// kept for an hour, all at once).
    pub fn held_cases(&self) -> u64 {
        self.cases.min(MAX_HELD_CASES)
    }

    /// Whether `property` could run held here, were it asked to.
    pub fn could_hold(&self, property: Property) -> bool {
        let offers = self.offers();
        property == Property::TokenExpiry && offers.authorize && !offers.virtual_clock
    }

    /// The generation settings of this run.
    pub fn gen_config(&self) -> GenConfig {
        let offers = self.offers();
        let mut g = GenConfig::new(self.oracle);
        g.authorize = offers.authorize;
        g.control_api = offers.control_api;
        g.virtual_clock = offers.virtual_clock;
        if !self.markets.is_empty() {
            g.markets.retain(|m| {
                self.markets
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(m.country))
            });
        }
        g
    }

    /// Whether seeds this run finds may be kept: not against a mock switched
    /// into a defect mode (those seeds show the defect, not a bug).
    fn keeps_regressions(&self) -> bool {
        !matches!(&self.target, TargetSpec::Mock(mock) if !mock.defects.is_empty())
    }

    /// None while recording or replaying a cassette: seeds tried first would
    /// put cases in it that the run seed does not name.
    fn regressions(&self) -> Option<PathBuf> {
        if self.record.is_some() || matches!(self.target, TargetSpec::Cassette(_)) {
            return None;
        }
        let dir = self.regressions_dir.as_ref()?;
        Some(match self.target {
            TargetSpec::Mock(_) => dir.clone(),
            _ => dir.join("url"),
        })
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
    /// How the cases reached the target (workers, scopes).
    pub concurrency: Concurrency,
}

/// One property's result.
#[derive(Debug)]
pub struct PropertyReport {
    pub property: Property,
    pub cases: u64,
    pub passed: u64,
    /// Requests judged (every step of every case, shrinking not counted).
    pub operations: u64,
    pub failure: Option<FailureReport>,
    /// Why the property did not run (the target lacks what it needs).
    pub skipped: Option<&'static str>,
    /// The run stopped before this property's cases were all run (another
    /// property's target error, or this one's).
    pub interrupted: bool,
    /// Label kind -> value -> count, over the steps of passing cases.
    pub labels: BTreeMap<&'static str, BTreeMap<String, u64>>,
}

/// A failing sequence, shrunk.
#[derive(Debug)]
pub struct FailureReport {
    /// Replays this case: `klarna-conformance replay --property P --seed S`.
    pub case_seed: u64,
    pub ops: Vec<Op>,
    /// The steps as they ran; the last is the one that failed.
    pub steps: Vec<Step>,
    pub failed_step: usize,
    pub failure: Failure,
    pub exchanges: Vec<Exchange>,
    pub shrink_steps: u32,
}

impl RunReport {
    /// The documented exit code: 0 every property held (or was skipped), 1 a
    /// conformance failure, 2 the target could not be used. The summary line
    /// is made from the same reports, so the two cannot disagree.
    pub fn exit_code(&self) -> u8 {
        if self.target_error.is_some() {
            crate::errors::exit::USAGE
        } else if self.properties.iter().any(|p| p.failure.is_some()) {
            crate::errors::exit::FAILURE
        } else if self.properties.iter().any(|p| p.interrupted) {
            crate::errors::exit::INTERRUPTED
        } else {
            crate::errors::exit::OK
        }
    }

    pub fn cases(&self) -> u64 {
        self.properties.iter().map(|p| p.cases).sum()
    }

    /// Judged requests, over every property.
    pub fn operations(&self) -> u64 {
        self.properties.iter().map(|p| p.operations).sum()
    }
}

/// Runs every configured property (from synchronous code: it makes its own
/// runtimes, one per worker thread).
pub fn run(config: &RunConfig) -> RunReport {
    let start = Instant::now();
    let generation = Arc::new(config.gen_config());
    let offers = config.offers();
    let mut properties: Vec<PropertyReport> = Vec::new();
    let mut runnable = Vec::new();
    let mut held = Vec::new();
    for &p in &config.properties {
        match p.needs().unmet(offers) {
            Some(_) if config.holds(p) => held.push(p),
            Some(_) if config.could_hold(p) => {
                let mut r = empty_report(p);
                r.skipped = Some("holds real tokens for 62 minutes: skipped (--skip-expiry)");
                properties.push(r);
            }
            Some(why) => {
                let mut r = empty_report(p);
                r.skipped = Some(why);
                properties.push(r);
            }
            None => runnable.push(p),
        }
    }
    let held_generation = Arc::new(GenConfig {
        real_waits: true,
        ..(*generation).clone()
    });
    let concurrency = match plan(config, runnable.len()) {
        Ok(plan) => plan,
        Err(e) => {
            // Unusable before the first case: every property is reported, none ran.
            properties.extend(runnable.iter().map(|p| empty_report(*p)));
            properties.sort_by_key(|p| config.properties.iter().position(|q| *q == p.property));
            return RunReport {
                seed: config.seed,
                properties,
                target_error: Some(e),
                elapsed: start.elapsed(),
                concurrency: Concurrency::Sequential {
                    why: "the target could not be used",
                },
            };
        }
    };
    let queue: Mutex<Vec<Property>> =
        Mutex::new(longest_last(&runnable, &generation, concurrency.workers()));
    let results: Mutex<Vec<PropertyReport>> = Mutex::new(Vec::new());
    let target_error: Mutex<Option<TargetError>> = Mutex::new(None);
    let own_stop = AtomicBool::new(false);
    let stop: &AtomicBool = config.interrupt.as_deref().unwrap_or(&own_stop);
    let done = AtomicU64::new(0);
    let total = config.cases.saturating_mul(runnable.len() as u64)
        + config.held_cases() * held.len() as u64;
    let ids = RunIds::new();
    let base = config.target.credentials();
    let shared = Shared {
        config,
        generation: &generation,
        ids: &ids,
        stop,
        done: &done,
    };
    let held_shared = Shared {
        generation: &held_generation,
        ..shared
    };
    let held_results: Mutex<Vec<PropertyReport>> = Mutex::new(Vec::new());
    let failed = |e: TargetError| {
        stop.store(true, Ordering::Relaxed);
        if let Ok(mut first) = target_error.lock() {
            first.get_or_insert(e);
        }
    };
    std::thread::scope(|scope| {
        // Held cases first, each on a thread of its own: they spend their
        // hour waiting while the other properties run.
        // A cassette keeps one case at a time: a recorded or replayed run
        // holds its tokens one after another, before the rest.
        let taped = config.record.is_some() || matches!(config.target, TargetSpec::Cassette(_));
        for &property in &held {
            for index in 0..config.held_cases() {
                let (shared, results) = (&held_shared, &held_results);
                if taped {
                    if let Err(e) = held_case(shared, property, index, results) {
                        failed(e);
                        break;
                    }
                } else {
                    scope.spawn(move || {
                        if let Err(e) = held_case(shared, property, index, results) {
                            failed(e);
                        }
                    });
                }
            }
        }
        // No more threads than cores: a thread's workers take turns on it,
        // one checking an answer while the others wait for theirs; more
        // threads than cores would only add switches between them.
        let workers = concurrency.workers();
        let threads = workers.min(cores());
        // A worker in a scope of its own is the only one to move its clock;
        // a cassette keeps every case's own clock read, so that each case
        // replays alone.
        let scoped = matches!(concurrency, Concurrency::Scoped { .. }) && config.record.is_none();
        for thread in 0..threads {
            let (shared, queue, results) = (&shared, &queue, &results);
            let (concurrency, base, failed) = (&concurrency, &base, &failed);
            scope.spawn(move || {
                let rt = match runtime() {
                    Ok(rt) => rt,
                    Err(e) => return failed(e),
                };
                let mut clients = Vec::new();
                for index in (thread..workers).step_by(threads) {
                    match shared_client(shared.config, concurrency.credentials(base, index)) {
                        Ok(client) => clients.push(client),
                        Err(e) => return failed(e),
                    }
                }
                let loops = clients
                    .iter()
                    .map(|client| async {
                        let outcome = worker(shared, queue, results, client.as_ref(), scoped).await;
                        if let Err(e) = outcome {
                            failed(e);
                        }
                    })
                    .collect();
                rt.block_on(join_all(loops));
            });
        }
        if config.progress != Progress::None {
            let terminal = config.progress == Progress::Bar;
            let (done, results, n) = (&done, &results, runnable.len());
            scope.spawn(move || report::progress_bar(done, total, stop, results, n, terminal));
        }
    });
    properties.extend(results.into_inner().unwrap_or_default());
    properties.extend(merge_cases(held_results.into_inner().unwrap_or_default()));
    properties.sort_by_key(|p| config.properties.iter().position(|q| *q == p.property));
    let report = RunReport {
        seed: config.seed,
        properties,
        target_error: target_error.into_inner().unwrap_or(None),
        elapsed: start.elapsed(),
        concurrency,
    };
    // Seeds are kept only from a run whose target was usable throughout.
    if report.target_error.is_none() && config.keeps_regressions() {
        for p in &report.properties {
            if let Some(f) = &p.failure {
                report::persist_regression(config.regressions().as_deref(), p.property, f);
            }
        }
    }
    report
}

/// [`run`] for async code (a `#[tokio::test]`, a service's own runtime):
/// the run goes to a blocking thread, so that a [`crate::mock::MockServer`]
/// started on the caller's runtime keeps serving while it waits. Calling the
/// synchronous [`run`] there instead blocks that runtime's only thread and
/// never returns.
pub async fn run_async(config: RunConfig) -> RunReport {
    match tokio::task::spawn_blocking(move || run(&config)).await {
        Ok(report) => report,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Replays one case of `property` from its case seed, shrinking it again if it fails.
pub fn replay(config: &RunConfig, property: Property, case_seed: u64) -> RunReport {
    let start = Instant::now();
    let generation = Arc::new(config.gen_config());
    let mut report = empty_report(property);
    let ids = RunIds::new();
    let (stop, done) = (AtomicBool::new(false), AtomicU64::new(0));
    let shared = Shared {
        config,
        generation: &generation,
        ids: &ids,
        stop: &stop,
        done: &done,
    };
    // A URL target with scopes replays in a fresh scope of its own.
    let concurrency = plan(config, 1);
    let outcome = match (property.needs().unmet(config.offers()), &concurrency) {
        (Some(why), _) => {
            report.skipped = Some(why);
            Ok(())
        }
        (None, Err(e)) => Err(e.clone()),
        (None, Ok(plan)) => runtime().and_then(|rt| {
            rt.block_on(async {
                let own = plan.credentials(&config.target.credentials(), 0);
                let target = shared_client(config, own)?;
                let cases = Cases::new(&shared, property, target.as_ref());
                cases.run_seed(case_seed, 0, false, &mut report).await
            })
        }),
    };
    RunReport {
        seed: case_seed,
        properties: vec![report],
        target_error: outcome.err(),
        elapsed: start.elapsed(),
        concurrency: concurrency.unwrap_or(Concurrency::Sequential {
            why: "the target could not be used",
        }),
    }
}

/// How this run's workers reach its target: never more workers than
/// properties to run, and a URL target's scopes looked up and reset first.
fn plan(config: &RunConfig, runnable: usize) -> Result<Concurrency, TargetError> {
    let workers = |per_core: usize| {
        config
            .workers
            .unwrap_or(cores() * per_core)
            .clamp(1, runnable.max(1))
    };
    // A cassette is recorded and replayed one case at a time, so its order is the seed's.
    let recording = config.record.is_some();
    match &config.target {
        TargetSpec::Mock(_) if recording => Ok(Concurrency::Sequential {
            why: crate::cassette::SEQUENTIAL,
        }),
        TargetSpec::Mock(_) => Ok(Concurrency::Embedded {
            workers: workers(1),
        }),
        spec @ TargetSpec::Url { credentials, .. } => runtime()?.block_on(scopes::scoped(
            spec,
            credentials,
            config.seed,
            if recording {
                1
            } else {
                workers(scopes::WORKERS_PER_CORE)
            },
        )),
        TargetSpec::Playground { .. } => Ok(Concurrency::Sequential {
            why: "a server without the mock's control API",
        }),
        TargetSpec::Cassette(_) => Ok(Concurrency::Sequential {
            why: crate::cassette::SEQUENTIAL,
        }),
    }
}

/// What every worker shares.
#[derive(Clone, Copy)]
struct Shared<'a> {
    config: &'a RunConfig,
    generation: &'a Arc<GenConfig>,
    ids: &'a RunIds,
    stop: &'a AtomicBool,
    done: &'a AtomicU64,
}

/// The work queue (popped from the end): with several workers the
/// properties with the longest sequences start first, so that no long one
/// is left running alone at the end while the other workers are idle (the
/// free `sequences` are about three times as long as the focused ones).
/// Each property's length is the mean of a few sequences drawn for it;
/// the report keeps the configured order whatever the queue's.
fn longest_last(
    runnable: &[Property],
    generation: &Arc<GenConfig>,
    workers: usize,
) -> Vec<Property> {
    const SAMPLES: u64 = 8;
    let mut queue: Vec<Property> = runnable.iter().rev().copied().collect();
    if workers > 1 {
        let length = |p: &Property| -> usize {
            let strategy = p.strategy(generation);
            (0..SAMPLES)
                .map(|i| {
                    let tree = seed::sequence_tree(&strategy, seed::case_seed(0, p.name(), i));
                    proptest::strategy::ValueTree::current(&tree).len()
                })
                .sum()
        };
        // Stable: equally long properties keep the configured order.
        queue.sort_by_cached_key(length);
    }
    queue
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
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
        operations: 0,
        failure: None,
        skipped: None,
        interrupted: false,
        labels: BTreeMap::new(),
    }
}

/// The client every case of a run shares: none for the embedded mock, which
/// is made fresh per case.
fn shared_client(
    config: &RunConfig,
    own: Option<Credentials>,
) -> Result<Option<KlarnaClient>, TargetError> {
    match &config.target {
        TargetSpec::Mock(_) => Ok(None),
        spec => Ok(Some(KlarnaClient::new(
            Recording::wrap(spec.connect(None)?, config.record.as_ref()),
            own.unwrap_or_else(|| spec.credentials()),
        ))),
    }
}
