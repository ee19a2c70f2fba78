//! Checking an answer against a step's expectations. Every unmet expectation
//! is reported (not only the first), in the file's words, so one failing run
//! says everything that is wrong with the answer.

use std::collections::BTreeMap;

use serde_json::Value;

use super::format::Expect;
use super::path::{interpolate, interpolate_json};
use crate::exchange::Exchange;

/// The unmet expectations of one answer; empty when all hold.
pub fn check(
    expect: &Expect,
    exchange: &Exchange,
    values: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let status = exchange.status;
    match expect.status {
        Some(want) if want != status => {
            problems.push(format!("expected status {want}, got {status}"));
        }
        None if !(200..300).contains(&status) => {
            problems.push(format!(
                "expected success (2xx; write `expect.status` if an error is meant), got {status}"
            ));
        }
        _ => {}
    }
    let body = exchange.json();
    let wants_body = expect.error_code.is_some()
        || expect.messages.is_some()
        || !expect.messages_contain.is_empty()
        || !expect.present.is_empty()
        || !expect.equal.is_empty();
    let Some(body) = body else {
        if wants_body {
            problems.push(format!(
                "expected a JSON body, got {}",
                if exchange.response_body.trim().is_empty() {
                    "none".to_owned()
                } else {
                    format!("`{}`", clip(&exchange.response_body))
                }
            ));
        }
        headers(expect, exchange, values, &mut problems);
        return problems;
    };

    if let Some(code) = &expect.error_code {
        match body.get("error_code") {
            Some(Value::String(got)) if got == code => {}
            Some(got) => problems.push(format!("expected error_code {code:?}, got {got}")),
            None => problems.push(format!("expected error_code {code:?}, the body has none")),
        }
    }
    let messages: Vec<&str> = body
        .get("error_messages")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(want) = &expect.messages
        && messages != want.iter().map(String::as_str).collect::<Vec<_>>()
    {
        problems.push(format!(
            "expected error_messages {want:?}, got {messages:?}"
        ));
    }
    for part in &expect.messages_contain {
        if !messages.iter().any(|m| m.contains(part.as_str())) {
            problems.push(format!(
                "expected an error message containing {part:?}, got {messages:?}"
            ));
        }
    }
    for path in &expect.present {
        if path.get(&body).is_none_or(Value::is_null) {
            problems.push(format!("expected `{path}` in the answer, it is absent"));
        }
    }
    for path in &expect.absent {
        if let Some(v) = path.get(&body)
            && !v.is_null()
        {
            problems.push(format!("expected no `{path}` in the answer, got {v}"));
        }
    }
    for (path, want) in &expect.equal {
        let want = match interpolate_json(want, values) {
            Ok(w) => w,
            Err(e) => {
                problems.push(format!("`{path}`: {e}"));
                continue;
            }
        };
        match path.get(&body) {
            Some(got) if same(got, &want) => {}
            Some(got) => problems.push(format!("expected `{path}` = {want}, got {got}")),
            None => problems.push(format!("expected `{path}` = {want}, it is absent")),
        }
    }
    headers(expect, exchange, values, &mut problems);
    problems
}

fn headers(
    expect: &Expect,
    exchange: &Exchange,
    values: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    for name in &expect.headers {
        if exchange.header(name).is_none() {
            problems.push(format!("expected a `{name}` header, there is none"));
        }
    }
    for (name, want) in &expect.header_equal {
        let want = match interpolate(want, values) {
            Ok(w) => w,
            Err(e) => {
                problems.push(format!("header `{name}`: {e}"));
                continue;
            }
        };
        match exchange.header(name) {
            Some(got) if got == want => {}
            Some(got) => problems.push(format!("expected header `{name}: {want}`, got `{got}`")),
            None => problems.push(format!("expected header `{name}: {want}`, there is none")),
        }
    }
}

/// JSON equality where `1` and `1.0` are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

/// A saved value as text: strings as they are, numbers and booleans printed.
pub fn saved_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn clip(text: &str) -> String {
    crate::exchange::clip(text.trim(), 120)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::path::JsonPath;
    use serde_json::json;

    fn exchange(status: u16, body: &str) -> Exchange {
        Exchange {
            method: "POST".into(),
            path: "/payments/v1/authorizations/t/order".into(),
            request_headers: Vec::new(),
            request_body: None,
            status,
            response_headers: vec![("content-type".into(), "application/json".into())],
            response_body: body.into(),
        }
    }

    #[test]
    fn header_values_are_compared_with_saved_names_filled_in() {
        let expect = Expect {
            status: Some(204),
            header_equal: vec![("Transaction-Id".into(), "{first}".into())],
            ..Expect::default()
        };
        let mut ex = exchange(204, "");
        ex.response_headers
            .push(("transaction-id".into(), "t-1".into()));
        let same = BTreeMap::from([("first".to_owned(), "t-1".to_owned())]);
        assert!(check(&expect, &ex, &same).is_empty());
        let other = BTreeMap::from([("first".to_owned(), "t-0".to_owned())]);
        let problems = check(&expect, &ex, &other);
        assert_eq!(
            problems,
            ["expected header `Transaction-Id: t-0`, got `t-1`"],
            "{problems:?}"
        );
    }

    #[test]
    fn every_unmet_expectation_is_reported() {
        let expect = Expect {
            status: Some(409),
            error_code: Some("BAD_VALUE".into()),
            messages: Some(vec![
                "Not matching fields: [billing_address.postal_code]".into(),
            ]),
            messages_contain: vec!["postal_code".into()],
            present: vec![JsonPath::parse("correlation_id").unwrap()],
            absent: vec![JsonPath::parse("order_id").unwrap()],
            equal: vec![(JsonPath::parse("order_id").unwrap(), json!("{order_id}"))],
            headers: vec!["klarna-correlation-id".into()],
            header_equal: vec![("Content-Type".into(), "application/json".into())],
        };
        let values = BTreeMap::from([("order_id".to_owned(), "o-1".to_owned())]);
        let ok = exchange(
            409,
            r#"{"error_code":"BAD_VALUE","error_messages":["Not matching fields: [billing_address.postal_code]"],"correlation_id":"c"}"#,
        );
        let problems = check(&expect, &ok, &values);
        // Only `equal` (order_id absent) and the header fail.
        assert_eq!(problems.len(), 2, "{problems:?}");
        let bad = exchange(200, r#"{"order_id":"o-2","fraud_status":"ACCEPTED"}"#);
        let problems = check(&expect, &bad, &values);
        assert!(
            problems[0].contains("expected status 409, got 200"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains(r#"expected `order_id` = "o-1", got "o-2""#))
        );
        assert!(check(&Expect::default(), &exchange(404, "{}"), &values)[0].contains("2xx"));
        assert!(check(&Expect::default(), &exchange(204, ""), &values).is_empty());
    }
}
