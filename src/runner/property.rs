//! The properties: each a named rule of Klarna's, a case strategy and the
//! request flow that checks it against a target.

use std::collections::BTreeMap;
use std::sync::Mutex;

use proptest::prop_oneof;
use proptest::strategy::{BoxedStrategy, Strategy};
use serde_json::Value;

use crate::client::KlarnaClient;
use crate::exchange::Exchange;
use crate::generate::{self, Case};
use crate::model::MerchantSession;
use crate::openapi::OpenApi;
use crate::oracle::{self, Expected, ExpectedError, OracleConfig};
use crate::targets::TargetError;
use crate::verdict::{self, Failure, Judge, Problem};

/// A named rule of Klarna's that the runner checks on generated cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    OrderSucceeds,
    ChangedDataRefused,
    NeutralChangeAccepted,
    TokenExpiry,
    UnknownToken,
    ReplacedToken,
    CancelledToken,
    RetryIdempotent,
    RetryConflict,
    InconsistentAmounts,
    DeniedNotAuthorized,
    PendingFraudStatus,
    ErrorsCarryCorrelationId,
    ResponsesMatchModel,
}

impl Property {
    pub const ALL: [Property; 14] = [
        Property::OrderSucceeds,
        Property::ChangedDataRefused,
        Property::NeutralChangeAccepted,
        Property::TokenExpiry,
        Property::UnknownToken,
        Property::ReplacedToken,
        Property::CancelledToken,
        Property::RetryIdempotent,
        Property::RetryConflict,
        Property::InconsistentAmounts,
        Property::DeniedNotAuthorized,
        Property::PendingFraudStatus,
        Property::ErrorsCarryCorrelationId,
        Property::ResponsesMatchModel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Property::OrderSucceeds => "order-succeeds",
            Property::ChangedDataRefused => "changed-data-refused",
            Property::NeutralChangeAccepted => "neutral-change-accepted",
            Property::TokenExpiry => "token-expiry",
            Property::UnknownToken => "unknown-token",
            Property::ReplacedToken => "replaced-token",
            Property::CancelledToken => "cancelled-token",
            Property::RetryIdempotent => "retry-idempotent",
            Property::RetryConflict => "retry-conflict",
            Property::InconsistentAmounts => "inconsistent-amounts",
            Property::DeniedNotAuthorized => "denied-not-authorized",
            Property::PendingFraudStatus => "pending-fraud-status",
            Property::ErrorsCarryCorrelationId => "errors-carry-correlation-id",
            Property::ResponsesMatchModel => "responses-match-model",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Property::OrderSucceeds => {
                "a valid untouched order succeeds with order_id, fraud_status and authorized_payment_method, and Order Management shows the same amount"
            }
            Property::ChangedDataRefused => {
                "a cart, address, amount, currency or country changed after authorization gives 409 BAD_VALUE naming exactly the changed fields (400 first if the change breaks a field rule)"
            }
            Property::NeutralChangeAccepted => {
                "omitting customer, reordering keys or changing nothing is not refused"
            }
            Property::TokenExpiry => {
                "a token is valid for 3599 s after authorization and NOT_FOUND from 3600 s on"
            }
            Property::UnknownToken => "an unknown authorization token gives 404 NOT_FOUND",
            Property::ReplacedToken => {
                "a token replaced by a newer authorization gives 404 NOT_FOUND; the newer one works"
            }
            Property::CancelledToken => "a cancelled authorization's token gives 404 NOT_FOUND",
            Property::RetryIdempotent => {
                "a retry with the identical body returns the same order_id"
            }
            Property::RetryConflict => {
                "a retry with a different body gives 409 BAD_VALUE (already completed with different request body)"
            }
            Property::InconsistentAmounts => {
                "inconsistent amounts at session creation give 400 BAD_VALUE at the right paths"
            }
            Property::DeniedNotAuthorized => {
                "a denied customer (customer+denied@...) is not authorized"
            }
            Property::PendingFraudStatus => {
                "a pending customer (pend-accept/reject-NN) in US or GB gets fraud_status PENDING"
            }
            Property::ErrorsCarryCorrelationId => {
                "every error carries correlation_id equal to Klarna-Correlation-Id and non-empty error_messages"
            }
            Property::ResponsesMatchModel => {
                "every response body reads as the model's type (and the OpenAPI schema with --openapi)"
            }
        }
    }

    pub fn from_name(name: &str) -> Option<Property> {
        Property::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Cases for this property.
    pub fn strategy(self) -> BoxedStrategy<Case> {
        match self {
            // Mostly changes that stay valid (409); some that break a field
            // rule too, to check that validation comes first (400).
            Property::ChangedDataRefused => prop_oneof![
                3 => generate::mutated_case(),
                1 => generate::invalid_case(),
            ]
            .boxed(),
            Property::NeutralChangeAccepted => generate::neutral_case().boxed(),
            Property::TokenExpiry => generate::timed_case().boxed(),
            Property::InconsistentAmounts => generate::inconsistent_session_case()
                .prop_map(|inconsistent| inconsistent.case)
                .boxed(),
            Property::DeniedNotAuthorized => generate::denied_case().boxed(),
            Property::PendingFraudStatus => generate::pending_case().boxed(),
            _ => generate::untouched_case().boxed(),
        }
    }
}

/// Labels of one case, for the coverage statistics: kind -> value.
pub type Labels = BTreeMap<&'static str, String>;

/// Everything a property's flow needs, and the exchanges it made.
pub struct Ctx<'a> {
    pub client: &'a KlarnaClient,
    pub oracle: OracleConfig,
    pub judge: Judge,
    pub openapi: &'a [std::sync::Arc<OpenApi>],
    pub exchanges: Mutex<Vec<Exchange>>,
}

impl Ctx<'_> {
    /// Records an exchange and applies the checks that hold for every answer.
    fn record(&self, answer: Result<Exchange, TargetError>) -> Result<Exchange, Problem> {
        let ex = answer?;
        if let Ok(mut all) = self.exchanges.lock() {
            all.push(ex.clone());
        }
        verdict::check_hygiene(&ex)?;
        verdict::check_shape(&ex, self.openapi)?;
        Ok(ex)
    }
}

/// Runs one case of `property`; on success, the case's labels.
pub async fn check(property: Property, ctx: &Ctx<'_>, case: &Case) -> Result<Labels, Problem> {
    let mut labels: Labels = case.labels().into_iter().collect();
    // The case's mutation and wait mean something only in the order flow.
    let mut uses_mutation_and_wait = false;
    let answer = match property {
        Property::OrderSucceeds
        | Property::ChangedDataRefused
        | Property::NeutralChangeAccepted
        | Property::TokenExpiry
        | Property::PendingFraudStatus => {
            uses_mutation_and_wait = true;
            order_flow(ctx, case).await?
        }
        Property::UnknownToken => {
            let (_, _) = session_and_token(ctx, case).await?;
            let token = unknown_token(case);
            let ex = ctx.record(ctx.client.create_order(&token, &case.order_body()).await)?;
            verdict::check_error(
                "create order with an unknown token",
                &ExpectedError::invalid_token(),
                &ex,
                ctx.judge,
            )?;
            "404 NOT_FOUND".to_owned()
        }
        Property::ReplacedToken => {
            let (session_id, first) = session_and_token(ctx, case).await?;
            let second = authorize(ctx, case, &session_id).await?;
            let ex = ctx.record(ctx.client.create_order(&first, &case.order_body()).await)?;
            verdict::check_error(
                "create order with a replaced token",
                &ExpectedError::invalid_token(),
                &ex,
                ctx.judge,
            )?;
            let ex = ctx.record(ctx.client.create_order(&second, &case.order_body()).await)?;
            expect_answer(
                ctx,
                "create order with the newer token",
                &oracle::create_order(case, ctx.oracle),
                &ex,
            )
            .await?;
            "404 NOT_FOUND".to_owned()
        }
        Property::CancelledToken => {
            let (_, token) = session_and_token(ctx, case).await?;
            let ex = ctx.record(ctx.client.cancel_authorization(&token).await)?;
            if ex.status != 204 {
                return Err(Failure::new(
                    "cancel authorization answers 204",
                    "204",
                    verdict::render_actual(&ex),
                )
                .into());
            }
            let ex = ctx.record(ctx.client.create_order(&token, &case.order_body()).await)?;
            verdict::check_error(
                "create order with a cancelled token",
                &ExpectedError::invalid_token(),
                &ex,
                ctx.judge,
            )?;
            "404 NOT_FOUND".to_owned()
        }
        Property::RetryIdempotent | Property::RetryConflict => {
            retry_flow(property, ctx, case).await?
        }
        Property::InconsistentAmounts => {
            let body = serde_json::to_value(&case.session).unwrap_or(Value::Null);
            let ex = ctx.record(ctx.client.create_session(&body.to_string()).await)?;
            match oracle::create_session(&body, ctx.oracle) {
                Some(expected) => {
                    verdict::check_error(
                        "create session with inconsistent amounts",
                        &expected,
                        &ex,
                        ctx.judge,
                    )?;
                    "400 BAD_VALUE".to_owned()
                }
                None => {
                    expect_status(&ex, 200, "create session with consistent amounts")?;
                    "200".to_owned()
                }
            }
        }
        Property::DeniedNotAuthorized => {
            let session_id = create_session(ctx, case).await?;
            let ex = ctx.record(
                ctx.client
                    .authorize(&session_id, Some(authorize_body(case)))
                    .await,
            )?;
            expect_status(&ex, 200, "authorize answers")?;
            let body = ex.json().unwrap_or(Value::Null);
            let approved =
                body["approved"] == Value::Bool(true) && body.get("authorization_token").is_some();
            if approved != oracle::approves(case) {
                return Err(Failure::new(
                    "a denied customer is not authorized (reference 6.1)",
                    "{\"approved\": false, no authorization_token}",
                    verdict::render_actual(&ex),
                )
                .into());
            }
            "not approved".to_owned()
        }
        Property::ErrorsCarryCorrelationId => {
            // Each request below is refused; `record` checks the error shape.
            let ex = ctx.record(ctx.client.read_session(&unknown_token(case)).await)?;
            expect_status(&ex, 404, "read an unknown session")?;
            let ex = ctx.record(
                ctx.client
                    .create_order(&unknown_token(case), &case.order_body())
                    .await,
            )?;
            expect_status(&ex, 404, "create order with an unknown token")?;
            let mut broken = serde_json::to_value(&case.session).unwrap_or(Value::Null);
            if let Some(obj) = broken.as_object_mut() {
                obj.remove("purchase_currency");
            }
            let ex = ctx.record(ctx.client.create_session(&broken.to_string()).await)?;
            expect_status(&ex, 400, "create session without purchase_currency")?;
            let ex = ctx.record(ctx.client.cancel_authorization(&unknown_token(case)).await)?;
            expect_status(&ex, 404, "cancel an unknown authorization")?;
            "errors".to_owned()
        }
        Property::ResponsesMatchModel => {
            let (session_id, token) = session_and_token(ctx, case).await?;
            ctx.record(ctx.client.read_session(&session_id).await)?;
            let ex = ctx.record(ctx.client.create_order(&token, &case.order_body()).await)?;
            if let Some(order_id) = ex
                .json()
                .and_then(|b| b["order_id"].as_str().map(str::to_owned))
            {
                ctx.record(ctx.client.read_order(&order_id).await)?;
            }
            ctx.record(ctx.client.read_session(&session_id).await)?;
            ex.status.to_string()
        }
    };
    if !uses_mutation_and_wait {
        labels.retain(|kind, _| !matches!(*kind, "mutation" | "wait"));
    }
    labels.insert("answer", answer);
    Ok(labels)
}

/// Create session, authorize, wait, create order, read back: the main flow.
async fn order_flow(ctx: &Ctx<'_>, case: &Case) -> Result<String, Problem> {
    let (_, token) = session_and_token(ctx, case).await?;
    if case.wait_seconds > 0 {
        let ex = ctx.record(ctx.client.advance_clock(case.wait_seconds).await)?;
        expect_status(&ex, 200, "advance the mock's clock")?;
    }
    let expected = oracle::create_order(case, ctx.oracle);
    let ex = ctx.record(ctx.client.create_order(&token, &case.order_body()).await)?;
    expect_answer(ctx, "create order", &expected, &ex).await
}

/// Checks a create-order answer; for an order, also reads it back from Order Management.
async fn expect_answer(
    ctx: &Ctx<'_>,
    what: &str,
    expected: &Expected,
    ex: &Exchange,
) -> Result<String, Problem> {
    match expected {
        Expected::Error(e) => {
            verdict::check_error(what, e, ex, ctx.judge)?;
            Ok(format!("{} {}", e.status, e.error_code))
        }
        Expected::Order(o) => {
            let order = verdict::check_order(what, o, ex)?;
            let om = ctx.record(ctx.client.read_order(&order.order_id).await)?;
            verdict::check_om_order(what, o, &order.order_id, &om)?;
            Ok(format!("200 {}", order.fraud_status.unwrap_or_default()))
        }
    }
}

async fn retry_flow(property: Property, ctx: &Ctx<'_>, case: &Case) -> Result<String, Problem> {
    let (_, token) = session_and_token(ctx, case).await?;
    let first_expected = oracle::create_order(case, ctx.oracle);
    let body = case.order_body();
    let first = ctx.record(ctx.client.create_order(&token, &body).await)?;
    expect_answer(ctx, "create order", &first_expected, &first).await?;
    let identical = property == Property::RetryIdempotent;
    let second_body = if identical {
        body
    } else {
        different_body(&body)
    };
    let second = ctx.record(ctx.client.create_order(&token, &second_body).await)?;
    let what = if identical {
        "retry with the identical body"
    } else {
        "retry with a different body"
    };
    // A real account may answer the identical retry as the documents list it
    // (403 INVALID_OPERATION `Authorization token already consumed`, reference
    // 4.2) instead of the same order (reference 5.2, inferred).
    if identical
        && ctx.oracle.lenient
        && matches!(first_expected, Expected::Order(_))
        && second.status == 403
    {
        verdict::check_error(what, &ExpectedError::token_consumed(), &second, ctx.judge)?;
        return Ok("403 INVALID_OPERATION".to_owned());
    }
    match oracle::retry(&first_expected, identical) {
        Expected::Order(o) => {
            let again = verdict::check_order(what, &o, &second)?;
            let first_id = first
                .json()
                .and_then(|b| b["order_id"].as_str().map(str::to_owned));
            if first_id.as_deref() != Some(again.order_id.as_str()) {
                return Err(Failure::new(
                    format!("{what}: returns the same order (reference 5.2)"),
                    format!("order_id {}", first_id.unwrap_or_default()),
                    format!("order_id {}", again.order_id),
                )
                .into());
            }
            Ok("same order".to_owned())
        }
        Expected::Error(e) => {
            verdict::check_error(what, &e, &second, ctx.judge)?;
            Ok(format!("{} {}", e.status, e.error_code))
        }
    }
}

/// The same order with `merchant_reference2` changed: a different body that
/// still passes validation and comparison, so only the retry rule decides.
fn different_body(body: &str) -> String {
    let mut value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if let Some(obj) = value.as_object_mut() {
        let current = obj
            .get("merchant_reference2")
            .and_then(Value::as_str)
            .unwrap_or("");
        let changed = if current == "retry-a" {
            "retry-b"
        } else {
            "retry-a"
        };
        obj.insert("merchant_reference2".to_owned(), Value::from(changed));
    }
    value.to_string()
}

async fn create_session(ctx: &Ctx<'_>, case: &Case) -> Result<String, Problem> {
    let body = serde_json::to_string(&case.session).unwrap_or_default();
    let ex = ctx.record(ctx.client.create_session(&body).await)?;
    expect_status(&ex, 200, "create session with a valid body")?;
    let session: MerchantSession = serde_json::from_str(&ex.response_body).map_err(|e| {
        Failure::new(
            "create session answers a merchant_session",
            "merchant_session",
            e.to_string(),
        )
    })?;
    Ok(session.session_id)
}

async fn authorize(ctx: &Ctx<'_>, case: &Case, session_id: &str) -> Result<String, Problem> {
    let ex = ctx.record(
        ctx.client
            .authorize(session_id, Some(authorize_body(case)))
            .await,
    )?;
    expect_status(&ex, 200, "authorize answers")?;
    let body = ex.json().unwrap_or(Value::Null);
    match (&body["approved"], body["authorization_token"].as_str()) {
        (Value::Bool(true), Some(token)) => Ok(token.to_owned()),
        _ => Err(Failure::new(
            "an approved customer is authorized (reference 6.1)",
            "{\"approved\": true, \"authorization_token\": ...}",
            verdict::render_actual(&ex),
        )
        .into()),
    }
}

async fn session_and_token(ctx: &Ctx<'_>, case: &Case) -> Result<(String, String), Problem> {
    let session_id = create_session(ctx, case).await?;
    let token = authorize(ctx, case, &session_id).await?;
    Ok((session_id, token))
}

fn authorize_body(case: &Case) -> String {
    serde_json::to_string(&case.authorize).unwrap_or_default()
}

fn expect_status(ex: &Exchange, status: u16, what: &str) -> Result<(), Problem> {
    if ex.status == status {
        Ok(())
    } else {
        Err(Failure::new(
            format!("{what}: {status}"),
            status.to_string(),
            verdict::render_actual(ex),
        )
        .into())
    }
}

/// A well-formed token no target issued: derived from the case, so replays repeat it.
fn unknown_token(case: &Case) -> String {
    // FNV, not std's hasher: the token must stay the same across Rust releases.
    let x = super::seed::fnv1a(case.order_body().as_bytes());
    format!("00000000-0000-4000-8000-{:012x}", x & 0xffff_ffff_ffff)
}
