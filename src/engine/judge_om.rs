//! Judging the answers of Order Management's lifecycle, the control API's
//! fraud decisions and journal, and customer tokens (docs/klarna.md §13).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::bindings::Bindings;
use super::judge::contains;
use crate::exchange::Exchange;
use crate::oracle::{
    Answer, CaptureView, ExpectedNotification, OmView, RefundView, om_payment_method,
};
use crate::verdict::Judge;

type Check = Result<(), String>;

fn no_body(ex: &Exchange, status: u16) -> Check {
    if ex.response_body.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("{status} carries no body"))
    }
}

fn absolute(location: &str) -> bool {
    location.starts_with("http://") || location.starts_with("https://")
}

/// A new or repeated 201: the id header, an absolute `Location` naming it,
/// a `Transaction-Id`; a repeat repeats the first answer's (§13.2).
fn created(
    ex: &Exchange,
    id_header: &str,
    path: &str,
    first: Option<&super::bindings::Bound201>,
    again: bool,
) -> Check {
    let id = ex.header(id_header).unwrap_or("");
    let location = ex.header("location").unwrap_or("");
    let transaction = ex.header("transaction-id").unwrap_or("");
    if id.is_empty() || transaction.is_empty() {
        return Err(format!(
            "201 carries {id_header} and Transaction-Id (docs/klarna.md §13.2)"
        ));
    }
    if !absolute(location) || !location.ends_with(&format!("{path}/{id}")) {
        return Err(format!(
            "Location is absolute and names the new {id_header} (docs/klarna.md §11.3)"
        ));
    }
    if again {
        let same = first
            .is_some_and(|f| f.id == id && f.location == location && f.transaction == transaction);
        if !same {
            return Err(
                "the same Klarna-Idempotency-Key answers the first answer again (docs/klarna.md §13.2)"
                    .to_owned(),
            );
        }
    }
    no_body(ex, 201)
}

/// Judges the lifecycle answers whose status was already checked.
pub(super) fn judge(answer: &Answer, ex: &Exchange, body: &Value, b: &Bindings) -> Check {
    let om = |o: usize| format!("/ordermanagement/v1/orders/{}", b.order_id(o));
    match answer {
        Answer::Captured {
            order,
            capture,
            again,
        } => created(
            ex,
            "capture-id",
            &format!("{}/captures", om(*order)),
            b.capture(*order, *capture),
            *again,
        ),
        Answer::Refunded {
            order,
            refund,
            again,
        } => created(
            ex,
            "refund-id",
            &format!("{}/refunds", om(*order)),
            b.refund(*order, *refund),
            *again,
        ),
        Answer::OmDone { order, op, repeat } => {
            let transaction = ex.header("transaction-id").unwrap_or("");
            if transaction.is_empty() {
                return Err("204 carries Transaction-Id (docs/klarna.md §13.2)".to_owned());
            }
            if *repeat {
                let first = b.order(*order).and_then(|o| o.transactions.get(op));
                if first.map(String::as_str) != Some(transaction) {
                    return Err(format!(
                        "a repeated {} is a no-op with the first call's Transaction-Id (docs/klarna.md §11.3)",
                        op.name()
                    ));
                }
            }
            no_body(ex, 204)
        }
        Answer::Captures(list) => list_of(body, list, |got, c| capture(got, c, b)),
        Answer::Capture(c) => capture(body, c, b),
        Answer::Refunds(list) => list_of(body, list, |got, r| refund(got, r, b)),
        Answer::Refund(r) => refund(body, r, b),
        Answer::FraudDecided {
            order,
            fraud_status,
        } => {
            if body["order_id"] == b.order_id(*order) && body["fraud_status"] == *fraud_status {
                Ok(())
            } else {
                Err("the decision names the order and its new fraud_status".to_owned())
            }
        }
        Answer::Notifications(entries) => notifications(body, entries, b),
        Answer::CustomerTokenCreated { ctoken, again } => {
            let id = body["token_id"].as_str().unwrap_or("");
            if id.is_empty() || body.get("redirect_url").is_none() {
                return Err(
                    "a customer token answers token_id and redirect_url (docs/klarna.md §11.2)"
                        .to_owned(),
                );
            }
            if *again && id != b.customer_token(*ctoken) {
                return Err(
                    "the identical request again returns the same token_id (docs/klarna.md §11.2)"
                        .to_owned(),
                );
            }
            Ok(())
        }
        Answer::CustomerToken { status, .. } => {
            let kind = body["payment_method_type"].as_str().unwrap_or("");
            if body["status"] != *status || kind.is_empty() {
                return Err(format!(
                    "the token reads back {status} with its payment_method_type (docs/klarna.md §11.2)"
                ));
            }
            Ok(())
        }
        Answer::Accepted => no_body(ex, 202),
        Answer::TokenOrder { order, again } => {
            let id = body["order_id"].as_str().unwrap_or("");
            if id.is_empty()
                || body["fraud_status"].as_str().is_none()
                || body.get("authorized_payment_method").is_none()
            {
                return Err(
                    "a token order answers order_id, fraud_status and authorized_payment_method"
                        .to_owned(),
                );
            }
            if body.get("redirect_url").is_some_and(|r| !r.is_null()) {
                return Err("a token order has no redirect_url (docs/klarna.md §11.2)".to_owned());
            }
            if *again && id != b.order_id(*order) {
                return Err(
                    "the same Klarna-Idempotency-Key returns the same order (docs/klarna.md §11.2)"
                        .to_owned(),
                );
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn list_of<T>(body: &Value, want: &[T], each: impl Fn(&Value, &T) -> Check) -> Check {
    let Some(got) = body.as_array() else {
        return Err("a JSON array".to_owned());
    };
    if got.len() != want.len() {
        return Err(format!("{} entries, oldest first", want.len()));
    }
    got.iter().zip(want).try_for_each(|(g, w)| each(g, w))
}

/// A capture object as the model expects it, for comparison and display.
/// An auto capture's id is not known until a read-back first shows it.
pub(super) fn capture_json(c: &CaptureView, b: &Bindings) -> Value {
    let mut v = json!({
        "captured_amount": c.captured_amount,
        "order_lines": c.order_lines,
        "shipping_info": c.shipping_info,
    });
    if let Some(bound) = b.capture(c.order, c.capture) {
        v["capture_id"] = json!(bound.id);
    }
    if let Some(d) = &c.description {
        v["description"] = json!(d);
    }
    v
}

pub(super) fn refund_json(r: &RefundView, b: &Bindings) -> Value {
    let mut v = json!({
        "refund_id": b.refund(r.order, r.refund).map_or("", |x| x.id.as_str()),
        "refunded_amount": r.refunded_amount,
        "order_lines": r.order_lines,
    });
    if let Some(d) = &r.description {
        v["description"] = json!(d);
    }
    v
}

fn capture(got: &Value, c: &CaptureView, b: &Bindings) -> Check {
    if contains(got, &capture_json(c, b)) {
        Ok(())
    } else {
        Err(format!(
            "capture {} reads back as captured (docs/klarna.md §13.4)",
            c.capture + 1
        ))
    }
}

fn refund(got: &Value, r: &RefundView, b: &Bindings) -> Check {
    if contains(got, &refund_json(r, b)) {
        Ok(())
    } else {
        Err(format!(
            "refund {} reads back as refunded (docs/klarna.md §13.4)",
            r.refund + 1
        ))
    }
}

/// The fields of the read-back beyond amounts and status (docs/klarna.md §13.4).
pub(super) fn om_extras(v: &OmView, body: &Value, b: &Bindings, mode: Judge) -> Check {
    let captures: Vec<Value> = v.captures.iter().map(|c| capture_json(c, b)).collect();
    if !body
        .get("captures")
        .is_some_and(|got| contains(got, &Value::Array(captures)))
    {
        return Err("captures lists every capture (docs/klarna.md §13.4)".to_owned());
    }
    let refunds: Vec<Value> = v.refunds.iter().map(|r| refund_json(r, b)).collect();
    if !body
        .get("refunds")
        .is_some_and(|got| contains(got, &Value::Array(refunds)))
    {
        return Err("refunds lists every refund (docs/klarna.md §13.4)".to_owned());
    }
    if let Some((r1, r2)) = &v.merchant_references {
        let shown = |key: &str, want: &Option<String>| {
            want.as_ref().is_none_or(|w| body[key] == w.as_str())
        };
        if !shown("merchant_reference1", r1) || !shown("merchant_reference2", r2) {
            return Err("the merchant references as last set".to_owned());
        }
    }
    if let Some(at) = v.expires_at {
        let got = body["expires_at"]
            .as_str()
            .and_then(crate::mock::parse_rfc3339);
        if got != Some(at) {
            return Err(
                "expires_at is the authorization's expiry (docs/klarna.md §13.1)".to_owned(),
            );
        }
    }
    // Only the recorded name binds another target; the mock, all of §13.4.
    let judged = |kp: &str| mode == Judge::Exact || kp.eq_ignore_ascii_case("slice_it_by_card");
    if let Some(kp) = b
        .order(v.order)
        .and_then(|o| o.payment_type.as_deref())
        .filter(|kp| judged(kp))
    {
        let want = om_payment_method(kp);
        if body.pointer("/initial_payment_method/type") != Some(&json!(want)) {
            return Err(format!(
                "initial_payment_method.type is {want}, Order Management's name for {kp} (docs/klarna.md §13.4)"
            ));
        }
    }
    Ok(())
}

/// A journal entry as the model expects it: the URL with its placeholders
/// filled in, and the body fields that identify it (the event and order of a
/// notification, the token and session of a callback).
pub(super) fn expected_entry(n: &ExpectedNotification, b: &Bindings) -> Value {
    let mut url = n.url.clone();
    if let Some(o) = n.order {
        url = url.replace("{order.id}", b.order_id(o));
    }
    if let Some(s) = n.session {
        url = url.replace("{session.id}", b.session(s));
    }
    let body = match (n.event_type, n.token) {
        (Some(e), _) => json!({
            "event_type": e,
            "order_id": n.order.map(|o| b.order_id(o)),
        }),
        (None, Some(t)) => json!({
            "authorization_token": b.token(t),
            "session_id": n.session.map(|s| b.session(s)),
        }),
        _ => json!({}),
    };
    json!({"kind": n.kind, "url": url, "body": body})
}

/// What identifies a journal entry, expected or got.
fn entry_key(entry: &Value) -> String {
    let body = &entry["body"];
    let what = if entry["kind"] == "notification" {
        json!([body["event_type"], body["order_id"]])
    } else {
        json!([body["authorization_token"], body["session_id"]])
    };
    json!([entry["kind"], entry["url"], what]).to_string()
}

/// The journal holds exactly the expected entries, in any order.
fn notifications(body: &Value, entries: &[ExpectedNotification], b: &Bindings) -> Check {
    let Some(got) = body.as_array() else {
        return Err("the journal is a JSON array".to_owned());
    };
    let mut count: BTreeMap<String, i64> = BTreeMap::new();
    for n in entries {
        *count.entry(entry_key(&expected_entry(n, b))).or_default() += 1;
    }
    // A shared server journals other sequences' orders too: only the
    // entries naming this sequence's orders, sessions or tokens are judged.
    let ours = |g: &&Value| {
        let body = &g["body"];
        let id = |key: &str| body[key].as_str().unwrap_or("\0");
        b.orders.iter().any(|o| o.id == id("order_id"))
            || b.sessions.iter().any(|s| s.id == id("session_id"))
            || b.tokens.iter().any(|t| t == id("authorization_token"))
    };
    for g in got.iter().filter(ours) {
        *count.entry(entry_key(g)).or_default() -= 1;
    }
    if count.values().all(|n| *n == 0) {
        Ok(())
    } else {
        Err(
            "the journal holds every notification and callback made, and no other (docs/klarna.md §13.5)"
                .to_owned(),
        )
    }
}
