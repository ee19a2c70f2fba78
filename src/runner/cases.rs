//! The cases of one property: drawn from per-case seeds, run through the
//! engine, a failure shrunk; the worker loop that takes properties from the
//! run's queue, and the held cases that wait out real lifetimes.

use std::cell::Cell;

use super::*;

/// One held case of `property` (docs/design.md "Held expiry"), on its own
/// runtime and client; its report goes to `results`, to be merged.
pub(super) fn held_case(
    shared: &Shared<'_>,
    property: Property,
    index: u64,
    results: &Mutex<Vec<PropertyReport>>,
) -> Result<(), TargetError> {
    let rt = runtime()?;
    let target = shared_client(shared.config, None)?;
    let cases = Cases::new(shared, property, target.as_ref());
    let case_seed = seed::case_seed(shared.config.seed, property.name(), index);
    let mut report = empty_report(property);
    if shared.stop.load(Ordering::Relaxed) {
        report.interrupted = true;
        return Ok(());
    }
    // A stop (Ctrl-C, another case's target error) ends the hour's wait:
    // the case is dropped where it stands and reported as not run through.
    let outcome = rt.block_on(async {
        let stopped = async {
            while !shared.stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        tokio::select! {
            ran = cases.run_seed(case_seed, index as usize, true, &mut report) => Some(ran),
            () = stopped => None,
        }
    });
    shared.done.fetch_add(1, Ordering::Relaxed);
    let outcome = outcome.unwrap_or_else(|| {
        report.interrupted = true;
        Ok(())
    });
    report.interrupted |= outcome.is_err();
    if let Ok(mut r) = results.lock() {
        r.push(report);
    }
    outcome
}

/// The reports of single cases as one report per property.
pub(super) fn merge_cases(cases: Vec<PropertyReport>) -> Vec<PropertyReport> {
    let mut merged: Vec<PropertyReport> = Vec::new();
    for case in cases {
        let Some(into) = merged.iter_mut().find(|m| m.property == case.property) else {
            merged.push(case);
            continue;
        };
        into.cases += case.cases;
        into.passed += case.passed;
        into.operations += case.operations;
        into.interrupted |= case.interrupted;
        if into.failure.is_none() {
            into.failure = case.failure;
        }
        for (kind, values) in case.labels {
            let counts = into.labels.entry(kind).or_default();
            for (value, n) in values {
                *counts.entry(value).or_default() += n;
            }
        }
    }
    merged
}

/// One worker: takes properties from the run's queue until it is empty,
/// each run on `target` (its own client, and scope when it has one).
pub(super) async fn worker(
    shared: &Shared<'_>,
    queue: &Mutex<Vec<Property>>,
    results: &Mutex<Vec<PropertyReport>>,
    target: Option<&KlarnaClient>,
    owns_scope: bool,
) -> Result<(), TargetError> {
    let clock = Cell::new(None);
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let Some(property) = queue.lock().ok().and_then(|mut q| q.pop()) else {
            return Ok(());
        };
        let mut report = empty_report(property);
        let mut cases = Cases::new(shared, property, target);
        if owns_scope {
            cases = cases.carrying_clock(&clock);
        }
        let outcome = cases.run_property(&mut report).await;
        if shared.config.progress == Progress::Lines {
            eprintln!("{}", report::progress_line(&report));
        }
        if let Ok(mut r) = results.lock() {
            r.push(report);
        }
        outcome?;
    }
}

/// Runs `futures` together on the current thread until every one is done:
/// while one worker waits for an answer, another checks its own.
pub(super) async fn join_all<F: std::future::Future<Output = ()>>(futures: Vec<F>) {
    let mut futures: Vec<Option<std::pin::Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in &mut futures {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await
}

/// The cases of one property.
pub(super) struct Cases<'a> {
    shared: &'a Shared<'a>,
    property: Property,
    target: Option<&'a KlarnaClient>,
    /// A scope's clock as the last passing sequence left it, when this
    /// worker owns the scope: the next sequence starts from it instead of
    /// asking (one request fewer a case). Any other ending reads it again.
    clock: Option<&'a Cell<Option<i64>>>,
}

impl<'a> Cases<'a> {
    pub(super) fn new(
        shared: &'a Shared<'a>,
        property: Property,
        target: Option<&'a KlarnaClient>,
    ) -> Cases<'a> {
        Cases {
            shared,
            property,
            target,
            clock: None,
        }
    }

    /// The same cases on a scope this worker alone uses, its clock carried
    /// from one sequence to the next in `clock`.
    pub(super) fn carrying_clock(mut self, clock: &'a Cell<Option<i64>>) -> Cases<'a> {
        self.clock = Some(clock);
        self
    }

    /// Runs the property's cases until one fails or all held. What was found
    /// stays in `report` even when a target error ends the property.
    async fn run_property(&self, report: &mut PropertyReport) -> Result<(), TargetError> {
        let config = self.shared.config;
        let name = self.property.name();
        let persisted = report::read_regressions(config.regressions().as_deref(), self.property);
        // A browser-authorized token places one order: one case per token.
        let cases = if self.property.needs().given_tokens {
            config.given.len() as u64
        } else {
            config.cases
        };
        let fresh = (0..cases).map(|i| (seed::case_seed(config.seed, name, i), i));
        let persisted = persisted.into_iter().map(|s| (s, 0));
        for (case_seed, index) in persisted.chain(fresh) {
            if self.shared.stop.load(Ordering::Relaxed) {
                report.interrupted = true;
                break;
            }
            let outcome = self.run_seed(case_seed, index as usize, true, report).await;
            self.shared.done.fetch_add(1, Ordering::Relaxed);
            if report.failure.is_some() {
                break;
            }
            if let Err(e) = outcome {
                report.interrupted = true;
                return Err(e);
            }
        }
        Ok(())
    }

    /// The generation settings of one case: a browser-authorized token
    /// property sees only the case's own token.
    fn gen_for(&self, index: usize) -> Arc<GenConfig> {
        let given = &self.shared.config.given;
        if self.property.needs().given_tokens
            && let Some((_, body)) = given.get(index)
        {
            let mut g = (**self.shared.generation).clone();
            g.given = vec![body.clone()];
            return Arc::new(g);
        }
        self.shared.generation.clone()
    }

    fn given_tokens(&self, index: usize) -> Vec<String> {
        if self.property.needs().given_tokens {
            self.shared
                .config
                .given
                .get(index)
                .map(|(token, _)| vec![token.clone()])
                .unwrap_or_default()
        } else {
            Vec::new()
        }
    }

    /// One sequence on a fresh client (an embedded mock seeded from the case
    /// seed, so its answers depend on the seed alone).
    async fn run_ops(
        &self,
        generation: &GenConfig,
        given: &[String],
        case_seed: u64,
        ops: &[Op],
        first: bool,
    ) -> Result<SequenceRun, TargetError> {
        let config = self.shared.config;
        let (client, clock_start) = match (&config.target, self.target) {
            (TargetSpec::Mock(mock), _) => (
                KlarnaClient::new(
                    Recording::wrap(
                        Arc::new(Embedded::new(mock.clone().seed(seed::mix(case_seed)))),
                        config.record.as_ref(),
                    ),
                    config.target.credentials(),
                ),
                (!mock.system_clock).then_some(mock.clock_start),
            ),
            // A recorded embedded mock's clock, as the recorded run knew it.
            (TargetSpec::Cassette(player), Some(client)) => (client.clone(), player.clock_start()),
            (_, Some(client)) => (client.clone(), self.clock.and_then(Cell::take)),
            (spec, None) => (
                KlarnaClient::new(
                    Recording::wrap(spec.connect(None)?, config.record.as_ref()),
                    spec.credentials(),
                ),
                None,
            ),
        };
        let engine = Engine {
            client: &client,
            authorizer: config.authorizer.as_deref().unwrap_or(&ControlApi),
            generation,
            judge: config.judge,
            openapi: &config.openapi,
            clock_start,
            run_ids: first.then_some(self.shared.ids),
            property: self.property.name(),
            case_seed,
            given_tokens: given,
            pause: config.pause.as_ref(),
        };
        let run = engine.run(ops).await;
        if let (Some(clock), Outcome::Pass) = (self.clock, &run.outcome) {
            clock.set(run.clock_end);
        }
        Ok(run)
    }

    /// Tells the cassettes which case the next requests belong to.
    fn begin(&self, case_seed: u64, shrink: u32) -> Result<bool, TargetError> {
        let config = self.shared.config;
        crate::cassette::begin(
            config.record.as_ref(),
            &config.target,
            self.property.name(),
            case_seed,
            shrink,
        )
    }

    /// Runs the sequence a seed names; on a conformance failure, shrinks it.
    pub(super) async fn run_seed(
        &self,
        case_seed: u64,
        index: usize,
        first: bool,
        report: &mut PropertyReport,
    ) -> Result<(), TargetError> {
        let generation = self.gen_for(index);
        let given = self.given_tokens(index);
        let mut tree = seed::sequence_tree(&self.property.strategy(&generation), case_seed);
        let ops = proptest::strategy::ValueTree::current(&tree);
        self.begin(case_seed, 0)?;
        report.cases += 1;
        let run = self
            .run_ops(&generation, &given, case_seed, &ops, first)
            .await?;
        report.operations += run.exchanges.len() as u64;
        let (step, failure) = match run.outcome {
            Outcome::Pass => {
                report.passed += 1;
                for (kind, value) in run.labels {
                    *report
                        .labels
                        .entry(kind)
                        .or_default()
                        .entry(value)
                        .or_default() += 1;
                }
                return Ok(());
            }
            Outcome::Target(e) => return Err(e),
            Outcome::Conformance { step, failure } => (step, failure),
        };
        tree.keep_first(run.ran);
        // A held case's every candidate would wait another hour; it is
        // short already.
        let max_shrink = if generation.real_waits { 0 } else { u32::MAX };
        let best = report.failure.insert(FailureReport {
            case_seed,
            ops,
            steps: run.steps,
            failed_step: step,
            failure,
            exchanges: run.exchanges,
            shrink_steps: 0,
        });
        if max_shrink == 0 {
            return Ok(());
        }
        self.shrink(&mut tree, &generation, &given, case_seed, best)
            .await
    }

    /// proptest's shrinking over the sequence: simplify while it still fails,
    /// step back when a simpler one passes. Every candidate runs on a fresh
    /// target from the same seed, so shrinking is as deterministic as the run.
    async fn shrink(
        &self,
        tree: &mut SequenceTree,
        generation: &GenConfig,
        given: &[String],
        case_seed: u64,
        best: &mut FailureReport,
    ) -> Result<(), TargetError> {
        use proptest::strategy::ValueTree as _;
        let max = self.shared.config.max_shrink_steps;
        let mut steps = 0;
        let mut more = tree.simplify();
        while more && steps < max {
            steps += 1;
            if !self.begin(case_seed, steps)? {
                // A replayed cassette ends its shrinking where the recording's did.
                break;
            }
            let candidate = tree.current();
            let run = self
                .run_ops(generation, given, case_seed, &candidate, false)
                .await?;
            match run.outcome {
                Outcome::Conformance { step, failure } => {
                    tree.accept();
                    tree.keep_first(run.ran);
                    *best = FailureReport {
                        case_seed,
                        ops: tree.current(),
                        steps: run.steps,
                        failed_step: step,
                        failure,
                        exchanges: run.exchanges,
                        shrink_steps: steps,
                    };
                    more = tree.simplify();
                }
                Outcome::Pass => more = tree.complicate(),
                Outcome::Target(e) => return Err(e),
            }
        }
        Ok(())
    }
}
