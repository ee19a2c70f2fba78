//! The expected answer as text, for a failure's diff.

use serde_json::{Value, json};

use super::bindings::Bindings;
use crate::oracle::Answer;

/// The expected answer, for a failure's diff.
pub fn describe(answer: &Answer, b: &Bindings) -> String {
    let pretty = |v: Value| serde_json::to_string_pretty(&v).unwrap_or_default();
    match answer {
        Answer::Error(e) => format!(
            "{}\n{}",
            e.status,
            pretty(json!({"error_code": e.error_code, "error_messages": e.messages()}))
        ),
        Answer::Unauthorized => "401".to_owned(),
        Answer::NoContent => "204".to_owned(),
        Answer::SessionCreated { .. } => format!(
            "200\n{}",
            pretty(json!({
                "session_id": "<new>",
                "client_token": "<a JWT naming session_id>",
                "payment_method_categories": "<at least one>",
            }))
        ),
        Answer::Session(v) => {
            let mut shown = v.fields.clone();
            shown.insert("status".into(), v.status.into());
            if let Some(t) = v.authorization_token {
                shown.insert("authorization_token".into(), b.token(t).into());
            }
            if let Some(e) = v.expires_at {
                shown.insert("expires_at".into(), crate::mock::rfc3339(e).into());
            }
            for key in &v.absent {
                shown.insert((*key).into(), "<absent>".into());
            }
            format!("200\n{}", pretty(Value::Object(shown)))
        }
        Answer::Authorized { .. } => format!(
            "200\n{}",
            pretty(json!({"approved": true, "show_form": true, "authorization_token": "<new>"}))
        ),
        Answer::NotAuthorized {
            show_form,
            invalid_fields,
        } => {
            let mut v = json!({"approved": false, "show_form": show_form});
            if !invalid_fields.is_empty() {
                v["error"] = json!({ "invalid_fields": invalid_fields });
            }
            format!("200\n{}", pretty(v))
        }
        Answer::Order(o) => {
            let (id, redirect) = match (o.again, b.order(o.order)) {
                (true, Some(first)) => (
                    Value::from(first.id.clone()),
                    first
                        .redirect_url
                        .clone()
                        .map_or(Value::from("<absent>"), Value::from),
                ),
                _ => (
                    "<new>".into(),
                    if o.redirect_url {
                        "<present>"
                    } else {
                        "<absent>"
                    }
                    .into(),
                ),
            };
            format!(
                "200\n{}",
                pretty(json!({
                    "order_id": id,
                    "fraud_status": o.fraud_status.join(" | "),
                    "authorized_payment_method": "<present>",
                    "redirect_url": redirect,
                }))
            )
        }
        Answer::OmOrder(v) => format!(
            "200\n{}",
            pretty(json!({
                "order_id": b.order(v.order).map_or("", |o| o.id.as_str()),
                "status": v.status,
                "fraud_status": v.fraud_status.join(" | "),
                "order_amount": v.order_amount,
                "captured_amount": v.captured_amount,
                "refunded_amount": v.refunded_amount,
                "remaining_authorized_amount": v.remaining_authorized_amount,
                "purchase_currency": v.purchase_currency,
                "order_lines": v.order_lines,
            }))
        ),
        Answer::Captured {
            order,
            capture,
            again,
        } => {
            let (id, tx) = match (again, b.capture(*order, *capture)) {
                (true, Some(first)) => (first.id.clone(), first.transaction.clone()),
                _ => ("<new>".to_owned(), "<new>".to_owned()),
            };
            format!(
                "201 (no body)\nCapture-Id: {id}\nLocation: http(s)://…/ordermanagement/v1/orders/{}/captures/<Capture-Id>\nTransaction-Id: {tx}",
                b.order_id(*order)
            )
        }
        Answer::Refunded {
            order,
            refund,
            again,
        } => {
            let (id, tx) = match (again, b.refund(*order, *refund)) {
                (true, Some(first)) => (first.id.clone(), first.transaction.clone()),
                _ => ("<new>".to_owned(), "<new>".to_owned()),
            };
            format!(
                "201 (no body)\nRefund-Id: {id}\nLocation: http(s)://…/ordermanagement/v1/orders/{}/refunds/<Refund-Id>\nTransaction-Id: {tx}",
                b.order_id(*order)
            )
        }
        Answer::OmDone { order, op, repeat } => {
            let tx = match (repeat, b.order(*order).and_then(|o| o.transactions.get(op))) {
                (true, Some(first)) => first.clone(),
                _ => "<new>".to_owned(),
            };
            format!("204 (no body)\nTransaction-Id: {tx}")
        }
        Answer::Captures(list) => format!(
            "200\n{}",
            pretty(Value::Array(
                list.iter()
                    .map(|c| super::judge_om::capture_json(c, b))
                    .collect()
            ))
        ),
        Answer::Capture(c) => format!("200\n{}", pretty(super::judge_om::capture_json(c, b))),
        Answer::Refunds(list) => format!(
            "200\n{}",
            pretty(Value::Array(
                list.iter()
                    .map(|r| super::judge_om::refund_json(r, b))
                    .collect()
            ))
        ),
        Answer::Refund(r) => format!("200\n{}", pretty(super::judge_om::refund_json(r, b))),
        Answer::FraudDecided {
            order,
            fraud_status,
        } => format!(
            "200\n{}",
            pretty(json!({"order_id": b.order_id(*order), "fraud_status": fraud_status}))
        ),
        Answer::Notifications(entries) => format!(
            "200, in any order\n{}",
            pretty(Value::Array(
                entries
                    .iter()
                    .map(|n| super::judge_om::expected_entry(n, b))
                    .collect()
            ))
        ),
        Answer::CustomerTokenCreated { ctoken, again } => format!(
            "200\n{}",
            pretty(json!({
                "token_id": if *again { b.customer_token(*ctoken).to_owned() } else { "<new>".to_owned() },
                "redirect_url": "<present>",
            }))
        ),
        Answer::CustomerToken { status, .. } => format!(
            "200\n{}",
            pretty(json!({"payment_method_type": "<present>", "status": status}))
        ),
        Answer::Accepted => "202 (no body)".to_owned(),
        Answer::TokenOrder { order, again } => format!(
            "200\n{}",
            pretty(json!({
                "order_id": if *again { b.order_id(*order).to_owned() } else { "<new>".to_owned() },
                "fraud_status": "ACCEPTED",
                "authorized_payment_method": "<present>",
                "redirect_url": "<absent>",
            }))
        ),
        Answer::Clock { now } => format!(
            "200\n{}",
            pretty(json!({ "now": crate::mock::rfc3339(*now) }))
        ),
    }
}
