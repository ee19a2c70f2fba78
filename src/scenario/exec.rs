//! Running a checked [`Scenario`] on a target, step by step.
//!
//! The executor keeps what a shop keeps between calls: the session body it
//! created, the order body it will send at create order (the session body,
//! plus the addresses, customer and cart given at authorize, plus every
//! `update_session` and `mutate`), and the values earlier answers gave
//! (`session_id`, `authorization_token`, `order_id` and every `save`).
//! It stops at the first step whose answer misses an expectation; snapshot
//! mismatches are collected and the run goes on, so one run records every
//! changed snapshot of the scenario.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::expect::{check, saved_text};
use super::format::{Action, Scenario, Step};
use super::path::{interpolate, interpolate_json};
use crate::client::KlarnaClient;
use crate::engine::Invariants;
use crate::exchange::Exchange;
use crate::verdict::Problem;
use std::path::PathBuf;

use crate::snapshot::{Redactor, SnapshotMismatch, SnapshotSettings, Snapshotted, assert_snapshot};
use crate::targets::{Credentials, Target, TargetError};

/// Authorize-time data that joins the order body (what `authorize()` was given
/// is what create order is compared with, docs/klarna.md §3.4).
const AUTHORIZED_FIELDS: [&str; 6] = [
    "billing_address",
    "shipping_address",
    "customer",
    "order_lines",
    "order_amount",
    "order_tax_amount",
];

/// The password sent by `credentials = "wrong"` steps.
const WRONG_PASSWORD: &str = "wrong-password-for-a-401";

/// Why a scenario did not pass.
#[derive(Debug)]
pub enum Failure {
    /// The answer missed expectations (or lacked a value to save).
    Step {
        step: usize,
        kind: &'static str,
        line: usize,
        problems: Vec<String>,
        exchange: Option<Box<Exchange>>,
    },
    /// A snapshotted answer differs from the recorded snapshot.
    Snapshot {
        step: usize,
        kind: &'static str,
        mismatch: SnapshotMismatch,
    },
}

impl Failure {
    /// The 1-based index of the step that failed.
    pub fn step(&self) -> usize {
        match self {
            Failure::Step { step, .. } | Failure::Snapshot { step, .. } => *step,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Step {
                step,
                kind,
                line,
                problems,
                exchange,
            } => {
                writeln!(f, "step {step} ({kind}, line {line}) failed:")?;
                for p in problems {
                    writeln!(f, "  - {p}")?;
                }
                if let Some(e) = exchange {
                    writeln!(f, "  exchange:")?;
                    for l in e.to_string().lines() {
                        writeln!(f, "    {l}")?;
                    }
                }
                Ok(())
            }
            Failure::Snapshot {
                step,
                kind,
                mismatch,
            } => writeln!(f, "step {step} ({kind}): {mismatch}"),
        }
    }
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    Passed,
    Failed(Vec<Failure>),
    /// The target could not be used; not a verdict on the target's conformance.
    TargetError {
        step: usize,
        error: TargetError,
    },
}

/// Everything a run produced.
#[derive(Debug)]
pub struct Report {
    /// `(step index, exchange)` in the order sent.
    pub exchanges: Vec<(usize, Exchange)>,
    pub outcome: Outcome,
    /// Snapshot files this run recorded because none existed yet (a first
    /// run against a target other than the mock): to be reviewed, not a failure.
    pub new_snapshots: Vec<PathBuf>,
}

impl Report {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed)
    }

    /// A readable account of why the run did not pass (empty when it passed).
    pub fn failure_text(&self) -> String {
        match &self.outcome {
            Outcome::Passed => String::new(),
            Outcome::Failed(failures) => failures.iter().map(|f| f.to_string()).collect(),
            Outcome::TargetError { step, error } => {
                format!("step {step}: the target could not be used: {error}\n")
            }
        }
    }
}

/// Where a run's snapshots go and under which target name.
#[derive(Debug, Clone)]
pub struct SnapshotPlan {
    pub settings: SnapshotSettings,
    /// `mock`, `url`, `playground` (for the description in the header).
    pub target: String,
}

/// Runs `scenario` on `target` with `credentials`.
pub async fn execute(
    scenario: &Scenario,
    target: Arc<dyn Target>,
    credentials: Credentials,
    snapshots: Option<&SnapshotPlan>,
) -> Report {
    let mut wrong = credentials.clone();
    wrong.password = if credentials.password == WRONG_PASSWORD {
        format!("{WRONG_PASSWORD}-2")
    } else {
        WRONG_PASSWORD.to_owned()
    };
    let mut run = Run {
        client: KlarnaClient::new(target.clone(), credentials.clone()),
        wrong: KlarnaClient::new(target, wrong),
        redactor: Redactor::new().with_secrets([credentials.password.clone()]),
        values: BTreeMap::new(),
        session_body: Value::Object(Map::new()),
        order_body: Value::Object(Map::new()),
        exchanges: Vec::new(),
    };
    let mut failures = Vec::new();
    let mut new_snapshots = Vec::new();
    // The checks every answer must pass, as in `run` and `certify`.
    let mut invariants = Invariants::new(&[], None, "scenario", 0);
    for step in &scenario.steps {
        match run.step(step).await {
            Ok(None) => {}
            Ok(Some(exchange)) => {
                let expects_401 = step.wrong_credentials || step.expect.status == Some(401);
                let mut problems = Vec::new();
                match invariants.check(&exchange, exchange.json().as_ref(), step.index, expects_401)
                {
                    Ok(()) => {}
                    Err(Problem::Target(error)) => {
                        run.exchanges.push((step.index, exchange));
                        return Report {
                            exchanges: run.exchanges,
                            outcome: Outcome::TargetError {
                                step: step.index,
                                error,
                            },
                            new_snapshots,
                        };
                    }
                    Err(Problem::Conformance(f)) => problems.push(format!(
                        "{}: expected {}, got {}",
                        f.check, f.expected, f.actual
                    )),
                }
                problems.extend(run.after(step, &exchange));
                let failed = !problems.is_empty();
                if failed {
                    failures.push(Failure::Step {
                        step: step.index,
                        kind: step.action.kind(),
                        line: step.line,
                        problems,
                        exchange: Some(Box::new(exchange.clone())),
                    });
                } else if let Some(plan) = snapshots {
                    // Every answer goes through the redactor, snapshotted or not, so
                    // placeholders are numbered by first appearance in the scenario.
                    let text = run.redactor.snapshot_text(&exchange);
                    if !step.snapshot {
                        run.exchanges.push((step.index, exchange));
                        continue;
                    }
                    let name = format!(
                        "{}__{:02}_{}",
                        scenario.stem,
                        step.index,
                        step.action.kind()
                    );
                    let description = format!(
                        "{}\nstep {} ({}), target {}",
                        scenario.description.trim(),
                        step.index,
                        step.action.kind(),
                        plan.target
                    );
                    match assert_snapshot(&plan.settings, &name, &description, &text) {
                        Ok(Snapshotted::Matched) => {}
                        Ok(Snapshotted::Recorded(file)) => new_snapshots.push(file),
                        Err(mismatch) => failures.push(Failure::Snapshot {
                            step: step.index,
                            kind: step.action.kind(),
                            mismatch,
                        }),
                    }
                }
                run.exchanges.push((step.index, exchange));
                if failed {
                    break;
                }
            }
            Err(StepError::Target(error)) => {
                return Report {
                    exchanges: run.exchanges,
                    outcome: Outcome::TargetError {
                        step: step.index,
                        error,
                    },
                    new_snapshots,
                };
            }
            Err(StepError::Scenario(problem)) => {
                failures.push(Failure::Step {
                    step: step.index,
                    kind: step.action.kind(),
                    line: step.line,
                    problems: vec![problem],
                    exchange: None,
                });
                break;
            }
        }
    }
    Report {
        exchanges: run.exchanges,
        outcome: if failures.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed(failures)
        },
        new_snapshots,
    }
}

enum StepError {
    Target(TargetError),
    /// The step cannot be sent (a value it needs is missing, a path cannot be set).
    Scenario(String),
}

impl From<TargetError> for StepError {
    fn from(e: TargetError) -> Self {
        StepError::Target(e)
    }
}

impl From<String> for StepError {
    fn from(e: String) -> Self {
        StepError::Scenario(e)
    }
}

struct Run {
    client: KlarnaClient,
    wrong: KlarnaClient,
    redactor: Redactor,
    values: BTreeMap<String, String>,
    session_body: Value,
    order_body: Value,
    exchanges: Vec<(usize, Exchange)>,
}

impl Run {
    fn text(&self, template: &str) -> Result<String, StepError> {
        Ok(interpolate(template, &self.values)?)
    }

    fn json(&self, value: &Value) -> Result<Value, StepError> {
        Ok(interpolate_json(value, &self.values)?)
    }

    /// Sends the step's request; `None` for steps that send nothing (`mutate`).
    async fn step(&mut self, step: &Step) -> Result<Option<Exchange>, StepError> {
        let client = if step.wrong_credentials {
            &self.wrong
        } else {
            &self.client
        };
        let exchange = match &step.action {
            Action::CreateSession { body } => {
                let body = self.json(body)?;
                self.session_body = body.clone();
                self.order_body = body.clone();
                client.create_session(&body.to_string()).await?
            }
            Action::Authorize { body } => {
                let session_id = self.text("{session_id}")?;
                let body = body.as_ref().map(|b| self.json(b)).transpose()?;
                if let (Some(Value::Object(given)), Some(order)) =
                    (&body, self.order_body.as_object_mut())
                {
                    for field in AUTHORIZED_FIELDS {
                        if let Some(v) = given.get(field) {
                            order.insert(field.to_owned(), v.clone());
                        }
                    }
                }
                client
                    .authorize(&session_id, body.map(|b| b.to_string()))
                    .await?
            }
            Action::UpdateSession { session_id, edit } => {
                let session_id = self.text(session_id)?;
                let mut edit = edit.clone();
                for (_, v) in &mut edit.set {
                    *v = self.json(v)?;
                }
                edit.apply(&mut self.session_body)?;
                edit.apply(&mut self.order_body)?;
                client
                    .update_session(&session_id, &self.session_body.to_string())
                    .await?
            }
            Action::Mutate { edit } => {
                let mut edit = edit.clone();
                for (_, v) in &mut edit.set {
                    *v = self.json(v)?;
                }
                edit.apply(&mut self.order_body)?;
                return Ok(None);
            }
            Action::AdvanceClock { seconds } => client.advance_clock(*seconds).await?,
            Action::CreateOrder {
                token,
                body,
                auto_capture,
            } => {
                let token = self.text(token)?;
                if let Some(b) = body {
                    self.order_body = self.json(b)?;
                }
                if let (Some(ac), Some(o)) = (auto_capture, self.order_body.as_object_mut()) {
                    o.insert("auto_capture".into(), Value::Bool(*ac));
                }
                client
                    .create_order(&token, &self.order_body.to_string())
                    .await?
            }
            Action::CancelAuthorization { token } => {
                client.cancel_authorization(&self.text(token)?).await?
            }
            Action::ReadSession { session_id } => {
                client.read_session(&self.text(session_id)?).await?
            }
            Action::ReadOrder { order_id } => client.read_order(&self.text(order_id)?).await?,
            Action::Capture {
                order_id,
                body,
                captured_amount,
            } => {
                let order_id = self.text(order_id)?;
                let body = match body {
                    Some(b) => self.json(b)?,
                    None => {
                        let amount = captured_amount
                            .or_else(|| self.order_body.get("order_amount").and_then(Value::as_i64))
                            .ok_or_else(|| {
                                "capture needs `captured_amount` (the order body has no order_amount)"
                                    .to_owned()
                            })?;
                        serde_json::json!({ "captured_amount": amount })
                    }
                };
                client.capture(&order_id, &body.to_string()).await?
            }
            Action::Raw {
                method,
                path,
                body_text,
                headers,
            } => {
                let request = crate::targets::Request {
                    method: *method,
                    path: self.text(path)?,
                    body: body_text.as_deref().map(|b| self.text(b)).transpose()?,
                    headers: headers
                        .iter()
                        .map(|(n, v)| Ok((*n, self.text(v)?)))
                        .collect::<Result<_, StepError>>()?,
                };
                client.send_request(&request).await?
            }
        };
        Ok(Some(exchange))
    }

    /// Checks the answer and keeps its values; the problems found, if any.
    fn after(&mut self, step: &Step, exchange: &Exchange) -> Vec<String> {
        let mut problems = check(&step.expect, exchange, &self.values);
        if !problems.is_empty() {
            return problems;
        }
        if !(200..300).contains(&exchange.status) {
            return problems;
        }
        let body = exchange.json().unwrap_or(Value::Null);
        for name in step.action.auto_saves() {
            match body.get(*name).and_then(saved_text) {
                Some(v) => {
                    self.values.insert((*name).to_owned(), v);
                }
                None if step.expect.expects_success() => problems.push(format!(
                    "the answer has no `{name}`, which later steps refer to as `{{{name}}}`"
                )),
                None => {}
            }
        }
        for (name, path) in &step.save {
            match path.get(&body).and_then(saved_text) {
                Some(v) => {
                    self.values.insert(name.clone(), v);
                }
                None => problems.push(format!(
                    "save `{name}`: the answer has no text or number at `{path}`"
                )),
            }
        }
        for (name, header) in &step.save_headers {
            match exchange.header(header) {
                Some(v) => {
                    self.values.insert(name.clone(), v.to_owned());
                }
                None => problems.push(format!(
                    "save_headers `{name}`: the answer has no `{header}` header"
                )),
            }
        }
        problems
    }
}
