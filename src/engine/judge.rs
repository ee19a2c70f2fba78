//! One answer judged against the model's prediction. Fields the merchant
//! sent must come back equal (extra fields are the target's business: real
//! answers carry more than the documents say, docs/klarna.md §10); what the
//! model predicts about the target's own values (ids, statuses, amounts) must
//! be exactly so.

use serde::Deserialize as _;
use serde_json::{Value, json};

use super::bindings::Bindings;
use super::describe::describe;
use crate::exchange::Exchange;
use crate::model::{MerchantSession, OmOrder, Order};
use crate::oracle::{Answer, OmView, OrderAnswer, SessionView};
use crate::verdict::{self, Failure, Judge, Problem, render_actual};

/// What the judged answer said where the model allowed a choice.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observed {
    pub fraud_status: Option<&'static str>,
}

/// Whether `actual` carries everything `expected` does: objects key by key
/// (more keys allowed), arrays element by element (same length), the rest equal.
pub fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|got| contains(got, v))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| contains(a, e))
        }
        (a, e) => a == e,
    }
}

fn fail(
    what: &dyn Fn() -> String,
    check: impl Into<String>,
    expected: String,
    ex: &Exchange,
) -> Problem {
    Failure::new(
        format!("{}: {}", what(), check.into()),
        expected,
        render_actual(ex),
    )
    .into()
}

/// Judges `ex` (whose parsed body is `body`) against `answer`; `what` names
/// the step in a failure, and is only made then.
pub fn judge(
    what: &dyn Fn() -> String,
    answer: &Answer,
    ex: &Exchange,
    body: Option<&Value>,
    b: &Bindings,
    mode: Judge,
    clock_known: bool,
) -> Result<Observed, Problem> {
    let expected = || describe(answer, b);
    let status = |want: u16| -> Result<(), Problem> {
        if ex.status == want {
            Ok(())
        } else {
            Err(fail(what, format!("answers {want}"), expected(), ex))
        }
    };
    let null = Value::Null;
    let body_or_null = body.unwrap_or(&null);
    match answer {
        Answer::Error(e) => {
            verdict::check_error(&what(), e, ex, body, mode)?;
        }
        Answer::Unauthorized => status(401)?,
        Answer::NoContent => {
            status(204)?;
            let empty = ex.response_body.trim().is_empty() || *body_or_null == json!({});
            if !empty {
                return Err(fail(what, "204 carries no body", expected(), ex));
            }
        }
        Answer::SessionCreated { .. } => {
            status(200)?;
            let session = MerchantSession::deserialize(body_or_null)
                .map_err(|e| fail(what, format!("a merchant_session ({e})"), expected(), ex))?;
            if session.session_id.is_empty() {
                return Err(fail(what, "session_id is not empty", expected(), ex));
            }
            let offered = session
                .payment_method_categories
                .iter()
                .flatten()
                .filter(|c| c.identifier.is_some())
                .count();
            if offered == 0 {
                return Err(fail(
                    what,
                    "at least one payment method category is offered",
                    expected(),
                    ex,
                ));
            }
        }
        Answer::Session(view) => {
            status(200)?;
            session_view(view, body_or_null, b, clock_known)
                .map_err(|check| fail(what, check, expected(), ex))?;
        }
        Answer::Authorized { .. } => {
            status(200)?;
            let token = body_or_null["authorization_token"].as_str().unwrap_or("");
            if body_or_null["approved"] != true || token.is_empty() {
                return Err(fail(
                    what,
                    "an approved customer is authorized (docs/klarna.md §6.1)",
                    expected(),
                    ex,
                ));
            }
        }
        Answer::NotAuthorized {
            show_form,
            invalid_fields,
        } => {
            status(200)?;
            let refused = body_or_null["approved"] == false
                && body_or_null
                    .get("authorization_token")
                    .is_none_or(Value::is_null)
                && body_or_null["show_form"] == *show_form;
            let mut got: Vec<String> = body_or_null
                .pointer("/error/invalid_fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let mut want = invalid_fields.clone();
            got.sort();
            want.sort();
            if !refused || got != want {
                return Err(fail(
                    what,
                    "the customer is not authorized (docs/klarna.md §6.1, §11.6)",
                    expected(),
                    ex,
                ));
            }
        }
        Answer::Order(o) => {
            status(200)?;
            return order(o, body_or_null, b).map_err(|check| fail(what, check, expected(), ex));
        }
        Answer::OmOrder(view) => {
            status(200)?;
            om_order(view, body_or_null, b, mode)
                .map_err(|check| fail(what, check, expected(), ex))?;
        }
        Answer::Captured { .. }
        | Answer::Refunded { .. }
        | Answer::OmDone { .. }
        | Answer::Captures(_)
        | Answer::Capture(_)
        | Answer::Refunds(_)
        | Answer::Refund(_)
        | Answer::FraudDecided { .. }
        | Answer::Notifications(_)
        | Answer::CustomerTokenCreated { .. }
        | Answer::CustomerToken { .. }
        | Answer::Accepted
        | Answer::TokenOrder { .. } => {
            let want = match answer {
                Answer::Captured { .. } | Answer::Refunded { .. } => 201,
                Answer::OmDone { .. } => 204,
                Answer::Accepted => 202,
                _ => 200,
            };
            status(want)?;
            super::judge_om::judge(answer, ex, body_or_null, b)
                .map_err(|check| fail(what, check, expected(), ex))?;
        }
        Answer::Clock { now } => {
            status(200)?;
            let got = body_or_null["now"]
                .as_str()
                .and_then(crate::mock::parse_rfc3339);
            if clock_known && got != Some(*now) {
                return Err(fail(what, "the clock moved as asked", expected(), ex));
            }
        }
    }
    Ok(Observed::default())
}

fn session_view(
    view: &SessionView,
    body: &Value,
    b: &Bindings,
    clock_known: bool,
) -> Result<(), String> {
    if body["status"] != view.status {
        return Err(format!(
            "status is {:?} (complete once its order was placed)",
            view.status
        ));
    }
    for (key, value) in &view.fields {
        if !body.get(key).is_some_and(|got| contains(got, value)) {
            return Err(format!("{key} reads back as it was last sent"));
        }
    }
    for key in &view.absent {
        if body.get(*key).is_some_and(|v| !v.is_null()) {
            return Err(format!(
                "{key} is not shown before authorization (docs/klarna.md §2.6)"
            ));
        }
    }
    if let Some(t) = view.authorization_token
        && body["authorization_token"] != b.token(t)
    {
        return Err("authorization_token is the newest one issued".to_owned());
    }
    if let Some(expires_at) = view.expires_at
        && clock_known
    {
        let got = body["expires_at"]
            .as_str()
            .and_then(crate::mock::parse_rfc3339);
        if got != Some(expires_at) {
            return Err(
                "expires_at is 48 h after the last update (docs/klarna.md §5.1)".to_owned(),
            );
        }
    }
    Ok(())
}

fn order(o: &OrderAnswer, body: &Value, b: &Bindings) -> Result<Observed, String> {
    let order = Order::deserialize(body).map_err(|e| format!("an order ({e})"))?;
    if order.order_id.is_empty() {
        return Err("order_id is not empty".to_owned());
    }
    let fraud = order.fraud_status.as_deref().unwrap_or("");
    let Some(fraud_status) = o.fraud_status.iter().find(|f| **f == fraud) else {
        return Err(format!("fraud_status is one of {:?}", o.fraud_status));
    };
    if order.authorized_payment_method.is_none() {
        return Err("authorized_payment_method is present".to_owned());
    }
    if o.again {
        let first = b.order(o.order);
        if first.map(|f| f.id.as_str()) != Some(order.order_id.as_str()) {
            return Err("the same order_id as the first time (docs/klarna.md §11.1)".to_owned());
        }
        if first.and_then(|f| f.redirect_url.as_deref()) != order.redirect_url.as_deref() {
            return Err(
                "the same redirect_url as the first time (docs/klarna.md §11.1)".to_owned(),
            );
        }
    } else if order.redirect_url.is_some() != o.redirect_url {
        return Err(if o.redirect_url {
            "redirect_url is present (a confirmation URL was given, docs/klarna.md §5.5)"
        } else {
            "redirect_url is absent (no confirmation URL was given, docs/klarna.md §5.5)"
        }
        .to_owned());
    }
    Ok(Observed {
        fraud_status: Some(fraud_status),
    })
}

fn om_order(v: &OmView, body: &Value, b: &Bindings, mode: Judge) -> Result<(), String> {
    let om = OmOrder::deserialize(body).map_err(|e| format!("an Order Management order ({e})"))?;
    let bound = b.order(v.order);
    if om.order_id.as_deref() != bound.map(|o| o.id.as_str()) {
        return Err("order_id is the order's".to_owned());
    }
    if om.status.as_deref() != Some(v.status) {
        return Err(format!("status is {}", v.status));
    }
    let fraud = om.fraud_status.as_deref().unwrap_or("");
    // Where the model allowed a choice at placement (lenient), the one made.
    let placed = bound.and_then(|o| o.fraud_status.as_deref());
    if !v.fraud_status.contains(&fraud)
        || (v.fraud_status.len() > 1 && placed.is_some_and(|p| p != fraud))
    {
        return Err(format!(
            "fraud_status is {} (docs/klarna.md §13.5)",
            v.fraud_status.join(" or ")
        ));
    }
    let amounts = [
        ("order_amount", om.order_amount, v.order_amount),
        ("captured_amount", om.captured_amount, v.captured_amount),
        ("refunded_amount", om.refunded_amount, v.refunded_amount),
        (
            "remaining_authorized_amount",
            om.remaining_authorized_amount,
            v.remaining_authorized_amount,
        ),
    ];
    for (name, got, want) in amounts {
        if got != Some(want) {
            return Err(format!(
                "{name} is {want} (captured + remaining = order_amount)"
            ));
        }
    }
    if om.purchase_currency.as_deref() != Some(v.purchase_currency.as_str()) {
        return Err("purchase_currency is the order's".to_owned());
    }
    let want = serde_json::to_value(&v.order_lines).unwrap_or(Value::Null);
    if !body
        .get("order_lines")
        .is_some_and(|got| contains(got, &want))
    {
        return Err("order_lines are the lines placed".to_owned());
    }
    super::judge_om::om_extras(v, body, b, mode)
}
