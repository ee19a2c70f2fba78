//! The engine: one sequence of operations run against a target and judged
//! step by step. For every operation the reference model predicts the answer;
//! the request goes out with the real ids the target handed out so far; the
//! answer must pass the every-exchange [`invariants`] and match the
//! prediction; then the model moves on. `run`, `certify` and the scenario
//! executor all record, check and judge exchanges here.

mod bindings;
mod describe;
pub mod invariants;
mod judge;
mod judge_om;

use std::sync::Arc;

pub use bindings::{Bindings, BoundOrder, BoundSession};
pub use describe::describe;
pub use invariants::{IdKind, Invariants, RunIds, jwt_payload};
pub use judge::{contains, judge};

use crate::authorize::Authorizer;
use crate::client::KlarnaClient;
use crate::exchange::Exchange;
use crate::openapi::OpenApi;
use crate::oracle::{Action, Answer, ClockModel, Observation};
use crate::sequence::{GenConfig, Op, resolve};
use crate::targets::TargetError;
use crate::verdict::{Failure, Judge, Problem};

/// Everything a sequence runs with.
pub struct Engine<'a> {
    pub client: &'a KlarnaClient,
    /// What stands for the browser's `authorize()` (the control API unless
    /// the user chose another, [`crate::authorize`]).
    pub authorizer: &'a dyn Authorizer,
    pub generation: &'a GenConfig,
    pub judge: Judge,
    pub openapi: &'a [Arc<OpenApi>],
    /// Unix seconds on the target's clock when the sequence starts, when
    /// known without asking (the embedded mock's configured start). With a
    /// virtual clock and no start, the engine reads the clock first.
    pub clock_start: Option<i64>,
    /// The run's ids, for a first run of a sequence.
    pub run_ids: Option<&'a RunIds>,
    pub property: &'static str,
    pub case_seed: u64,
    /// The tokens the user authorized in a browser (`generation.given` holds their bodies).
    pub given_tokens: &'a [String],
    /// How a real wait pauses (`generation.real_waits`); `None`: Tokio's sleep.
    pub pause: Option<&'a Pause>,
}

/// A real pause of the given length: a seam so that tests can stand for an
/// hour of real time with a moved clock.
pub type Pause =
    Arc<dyn Fn(std::time::Duration) -> crate::targets::BoxFuture<'static, ()> + Send + Sync>;

/// One step as it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What it did (`create order with token #1: no change`).
    pub describe: String,
    /// The answer the model predicted (`None`: the engine's own clock read).
    pub answer: Option<Answer>,
    /// Its exchange, an index into [`SequenceRun::exchanges`].
    pub exchange: Option<usize>,
}

/// How a sequence ended.
#[derive(Debug)]
pub enum Outcome {
    Pass,
    /// Step `step` (0-based, into `steps`) broke a rule.
    Conformance {
        step: usize,
        failure: Failure,
    },
    /// The target could not be used (not a verdict).
    Target(TargetError),
}

/// A sequence run: its steps, every exchange, and how it ended.
#[derive(Debug)]
pub struct SequenceRun {
    pub steps: Vec<Step>,
    pub exchanges: Vec<Exchange>,
    pub outcome: Outcome,
    /// Coverage labels of the steps that passed: kind, value.
    pub labels: Vec<(&'static str, String)>,
    /// Operations that did not apply where they stood (skipped, not sent).
    pub skipped: usize,
    /// How many operations of the sequence were taken, skipped ones and a
    /// failing one included: the rest never ran.
    pub ran: usize,
    /// The target's virtual clock (Unix seconds) after a sequence that
    /// passed: every move of it was an answer judged against the model.
    pub clock_end: Option<i64>,
}

impl Engine<'_> {
    /// Runs `ops` in order until one fails.
    pub async fn run(&self, ops: &[Op]) -> SequenceRun {
        let mut run = SequenceRun {
            steps: Vec::new(),
            exchanges: Vec::new(),
            outcome: Outcome::Pass,
            labels: Vec::new(),
            skipped: 0,
            ran: 0,
            clock_end: None,
        };
        let mut invariants =
            Invariants::new(self.openapi, self.run_ids, self.property, self.case_seed);
        let start = match self.clock_start {
            Some(start) => Some(start),
            None if self.generation.virtual_clock => {
                match self.read_clock(&mut run, &mut invariants).await {
                    Ok(now) => Some(now),
                    Err(()) => return run,
                }
            }
            None => None,
        };
        let clock = ClockModel { start };
        let mut world = self.generation.world(clock);
        let mut bindings = Bindings::with_tokens(self.given_tokens.to_vec());
        let lenient = self.generation.oracle.lenient;
        for op in ops {
            run.ran += 1;
            let Some(r) = resolve(op, &world, self.generation) else {
                run.skipped += 1;
                continue;
            };
            let prediction = world.predict(&r.action);
            let step = run.steps.len();
            run.steps.push(Step {
                describe: r.describe.clone(),
                answer: Some(prediction.answer.clone()),
                exchange: None,
            });
            let ex = match self.send(&r.action, &bindings).await {
                Ok(ex) => ex,
                Err(e) => {
                    run.outcome = Outcome::Target(e);
                    return run;
                }
            };
            if let Some(index) = r.given_token
                && matches!(ex.status, 403 | 404 | 409)
            {
                run.outcome = Outcome::Target(TargetError::UnusableToken {
                    index: index + 1,
                    status: ex.status,
                    answer: ex.response_body.chars().take(200).collect(),
                });
                run.exchanges.push(ex);
                return run;
            }
            run.steps[step].exchange = Some(run.exchanges.len());
            run.exchanges.push(ex);
            let ex = run.exchanges.last().expect("just pushed");
            // Parsed once; every check below reads this.
            let body = ex.json();
            let expects_401 = matches!(prediction.answer, Answer::Unauthorized);
            let what = || format!("step {} ({})", step + 1, r.describe);
            // An authorizer's SDK result or a real pause is no HTTP answer of
            // Klarna's API: only the judge applies to it.
            let checked = if ex.is_http() {
                invariants.check(ex, body.as_ref(), step + 1, expects_401)
            } else {
                Ok(())
            };
            let judged = checked
                .and_then(|()| {
                    let mut first = None;
                    for answer in prediction.answers(lenient) {
                        let verdict = judge(
                            &what,
                            answer,
                            ex,
                            body.as_ref(),
                            &bindings,
                            self.judge,
                            start.is_some(),
                        );
                        match verdict {
                            Ok(observed) => return Ok((answer, observed)),
                            Err(p) => {
                                first.get_or_insert(p);
                            }
                        }
                    }
                    Err(first.expect("a prediction has an answer"))
                })
                .and_then(|(answer, observed)| {
                    self.fresh_ids(&mut invariants, answer, ex, body.as_ref(), step + 1)
                        .map(|()| (answer, observed))
                });
            let (answer, observed) = match judged {
                Ok(found) => found,
                Err(Problem::Conformance(failure)) => {
                    run.outcome = Outcome::Conformance { step, failure };
                    return run;
                }
                Err(Problem::Target(e)) => {
                    run.outcome = Outcome::Target(e);
                    return run;
                }
            };
            run.labels.push((
                "step",
                format!("{} → {}", r.action.kind(), label(answer, body.as_ref())),
            ));
            if let Some(kind) = r.mutation {
                run.labels.push(("mutation", kind.to_owned()));
            }
            if let Some(market) = r.market {
                run.labels.push(("market", market.to_owned()));
            }
            bindings.bind(answer, ex, body.as_ref());
            let observation = Observation {
                answer: (!std::ptr::eq(answer, &prediction.answer)).then_some(answer),
                fraud_status: observed.fraud_status,
            };
            world.apply(&r.action, &prediction, observation);
        }
        run.clock_end = start.map(|s| s + world.now());
        run
    }

    /// Reads the target's virtual clock, as the first step.
    async fn read_clock(
        &self,
        run: &mut SequenceRun,
        invariants: &mut Invariants<'_>,
    ) -> Result<i64, ()> {
        run.steps.push(Step {
            describe: "read the target's clock".to_owned(),
            answer: None,
            exchange: Some(0),
        });
        let ex = match self.client.read_clock().await {
            Ok(ex) => ex,
            Err(e) => {
                run.outcome = Outcome::Target(e);
                return Err(());
            }
        };
        run.exchanges.push(ex);
        let ex = &run.exchanges[0];
        let now = ex
            .json()
            .and_then(|b| b["now"].as_str().and_then(crate::mock::parse_rfc3339));
        let checked = invariants.check(ex, ex.json().as_ref(), 1, false);
        match (checked, now) {
            (Ok(()), Some(now)) if ex.status == 200 => Ok(now),
            (Err(Problem::Target(e)), _) => {
                run.outcome = Outcome::Target(e);
                Err(())
            }
            (Err(Problem::Conformance(failure)), _) => {
                run.outcome = Outcome::Conformance { step: 0, failure };
                Err(())
            }
            _ => {
                run.outcome = Outcome::Target(TargetError::Transport {
                    target: self.client.target().describe(),
                    cause: format!(
                        "GET /__mock/clock answered {} without a readable \"now\"",
                        ex.status
                    ),
                });
                Err(())
            }
        }
    }

    async fn send(&self, action: &Action, b: &Bindings) -> Result<Exchange, TargetError> {
        // Built only where the step is a request (an authorization is not).
        let request = || b.request(action);
        match action {
            Action::Authorize {
                session,
                data,
                category,
            } => {
                let authorization = b.authorization(*session, data, *category);
                let target = self.client.target();
                if target.replays() {
                    let body = crate::authorize::sdk_request_body(&authorization);
                    let sdk = (crate::exchange::SDK_METHOD, crate::authorize::SDK_PATH);
                    if let Some(recorded) = target.recorded_step(sdk.0, sdk.1, Some(&body)) {
                        return recorded;
                    }
                }
                let ex = self
                    .authorizer
                    .authorize(self.client, &authorization)
                    .await?;
                if !ex.is_http() {
                    target.note(&ex);
                }
                Ok(ex)
            }
            Action::AdvanceClock { seconds } if self.generation.real_waits => {
                let body = format!("{{\"seconds\":{seconds}}}");
                let target = self.client.target();
                let wait = (crate::exchange::WAIT_METHOD, "real time");
                if let Some(recorded) = target.recorded_step(wait.0, wait.1, Some(&body)) {
                    return recorded;
                }
                let pause = std::time::Duration::from_secs(*seconds);
                match self.pause {
                    Some(pause_for) => pause_for(pause).await,
                    None => tokio::time::sleep(pause).await,
                }
                let ex = Exchange {
                    method: wait.0.to_owned(),
                    path: wait.1.to_owned(),
                    request_headers: Vec::new(),
                    request_body: Some(body),
                    status: 200,
                    response_headers: Vec::new(),
                    response_body: format!("{{\"waited_seconds\":{seconds}}}"),
                };
                target.note(&ex);
                Ok(ex)
            }
            Action::AdvanceClock { .. } => {
                self.client
                    .control_request("advancing the clock", &request())
                    .await
            }
            Action::FraudDecision { .. } => {
                self.client
                    .control_request("deciding a pending order", &request())
                    .await
            }
            Action::ReadNotifications => {
                self.client
                    .control_request("reading the notification journal", &request())
                    .await
            }
            Action::WrongCredentials { .. } => {
                self.client
                    .with_password(WRONG_PASSWORD)
                    .send_request(&request())
                    .await
            }
            _ => self.client.send_request(&request()).await,
        }
    }

    /// The ids a right answer handed out must be new (an identical retry's
    /// order id is the same order's).
    fn fresh_ids(
        &self,
        invariants: &mut Invariants<'_>,
        answer: &Answer,
        ex: &Exchange,
        body: Option<&serde_json::Value>,
        step: usize,
    ) -> Result<(), Problem> {
        let text = |key: &str| body.and_then(|b| b[key].as_str()).unwrap_or("").to_owned();
        match answer {
            Answer::SessionCreated { session } => invariants.fresh(
                IdKind::Session,
                &text("session_id"),
                step,
                format!("session #{}", session + 1),
            ),
            Answer::Authorized { token } => invariants.fresh(
                IdKind::Token,
                &text("authorization_token"),
                step,
                format!("token #{}", token + 1),
            ),
            Answer::Order(o) => {
                let token = ex
                    .path
                    .trim_end_matches('/')
                    .trim_end_matches("/order")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                invariants.fresh(
                    IdKind::Order,
                    &text("order_id"),
                    step,
                    format!("order #{} (token {token})", o.order + 1),
                )
            }
            Answer::Captured { again: false, .. } | Answer::Refunded { again: false, .. } => {
                let id = ex
                    .header("capture-id")
                    .or(ex.header("refund-id"))
                    .unwrap_or("");
                invariants.fresh(IdKind::Capture, id, step, format!("step {step}"))?;
                invariants.fresh(
                    IdKind::Transaction,
                    ex.header("transaction-id").unwrap_or(""),
                    step,
                    format!("step {step}"),
                )
            }
            Answer::OmDone { repeat: false, .. } => invariants.fresh(
                IdKind::Transaction,
                ex.header("transaction-id").unwrap_or(""),
                step,
                format!("step {step}"),
            ),
            Answer::CustomerTokenCreated {
                ctoken,
                again: false,
            } => invariants.fresh(
                IdKind::CustomerToken,
                &text("token_id"),
                step,
                format!("customer token #{}", ctoken + 1),
            ),
            Answer::TokenOrder {
                order,
                again: false,
            } => invariants.fresh(
                IdKind::Order,
                &text("order_id"),
                step,
                format!("order #{} (a customer token's)", order + 1),
            ),
            _ => Ok(()),
        }
    }
}

/// The password of requests sent with wrong credentials on purpose.
pub const WRONG_PASSWORD: &str = "wrong-password-for-a-401";

/// A coverage label for an answer: what kind of answer the step got.
fn label(answer: &Answer, body: Option<&serde_json::Value>) -> String {
    match answer {
        Answer::Error(e) => format!("{} {}", e.status, e.error_code),
        Answer::Unauthorized => "401".to_owned(),
        Answer::NoContent => "204".to_owned(),
        Answer::SessionCreated { .. } | Answer::Clock { .. } => "200".to_owned(),
        Answer::Session(v) => format!("200 {}", v.status),
        Answer::Authorized { .. } => "approved".to_owned(),
        Answer::NotAuthorized {
            show_form: true, ..
        } => "invalid fields".to_owned(),
        Answer::NotAuthorized { .. } => "not approved".to_owned(),
        Answer::Order(o) if o.again => "200 the same order".to_owned(),
        Answer::Order(_) => format!(
            "200 {}",
            body.and_then(|b| b["fraud_status"].as_str())
                .unwrap_or_default()
        ),
        Answer::OmOrder(v) => format!("200 {}", v.status),
        Answer::Captured { again: true, .. } | Answer::Refunded { again: true, .. } => {
            "201 the first answer again".to_owned()
        }
        Answer::Captured { .. } | Answer::Refunded { .. } => "201".to_owned(),
        Answer::OmDone { repeat: true, .. } => "204 no-op".to_owned(),
        Answer::OmDone { .. } => "204".to_owned(),
        Answer::Captures(l) => format!("200 {} captures", l.len()),
        Answer::Refunds(l) => format!("200 {} refunds", l.len()),
        Answer::Capture(_) | Answer::Refund(_) | Answer::TokenOrder { .. } => "200".to_owned(),
        Answer::FraudDecided { fraud_status, .. } => format!("200 {fraud_status}"),
        Answer::Notifications(n) => format!("200 {} entries", n.len()),
        Answer::CustomerTokenCreated { again: true, .. } => "200 the same token".to_owned(),
        Answer::CustomerTokenCreated { .. } => "200".to_owned(),
        Answer::CustomerToken { status, .. } => format!("200 {status}"),
        Answer::Accepted => "202".to_owned(),
    }
}
