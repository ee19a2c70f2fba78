//! Writing a shrunk failing sequence as a scenario file (`replay
//! --emit-scenario FILE`), so a failure found by chance becomes a permanent,
//! readable regression test: every request exactly as it was sent (raw
//! steps, real ids replaced by the names earlier steps saved), and for each
//! answer what the reference model expected of it.

use std::path::Path;

use serde_json::Value;

use super::ScenarioError;
use super::check::parse_scenario;
use super::fixtures::FixtureSet;
use super::format::MockSettings;
use super::path::escape;
use crate::engine::Step;
use crate::exchange::Exchange;
use crate::oracle::{Answer, CaptureView, OmOp, RefundView};

/// The ids earlier answers handed out, and the names they are saved under.
#[derive(Default)]
struct Names {
    /// (real id, name), longest ids first when replacing.
    ids: Vec<(String, String)>,
    sessions: usize,
    tokens: usize,
    orders: Vec<(String, Option<String>)>,
}

impl Names {
    /// `text` with every known id written as `{name}` and other braces escaped.
    fn template(&self, text: &str) -> String {
        let mut out = escape(text);
        for (id, name) in &self.ids {
            if !id.is_empty() {
                out = out.replace(&escape(id), &format!("{{{name}}}"));
            }
        }
        out
    }

    fn add(&mut self, id: &str, name: String) {
        self.ids.push((id.to_owned(), name));
        self.ids.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
    }
}

/// The scenario TOML text of a sequence run. The text is checked by parsing
/// it back, so what is written can always be run.
pub fn from_sequence(
    description: &str,
    mock: &MockSettings,
    steps: &[Step],
    exchanges: &[Exchange],
) -> Result<String, ScenarioError> {
    let mut names = Names::default();
    let mut out: Vec<toml::Value> = Vec::new();
    let mut moves_clock = false;
    for step in steps {
        let Some(ex) = step.exchange.and_then(|i| exchanges.get(i)) else {
            continue;
        };
        moves_clock |= ex.path.starts_with("/__mock/clock") && ex.method == "POST";
        let mut t = toml::Table::new();
        t.insert("do".into(), "raw".into());
        t.insert("method".into(), ex.method.clone().into());
        t.insert("path".into(), names.template(&ex.path).into());
        if let Some(body) = &ex.request_body {
            t.insert("body_text".into(), names.template(body).into());
        }
        if !ex.request_headers.is_empty() {
            let headers: toml::Table = ex
                .request_headers
                .iter()
                .map(|(n, v)| (n.clone(), names.template(v).into()))
                .collect();
            t.insert("headers".into(), toml::Value::Table(headers));
        }
        let mut expect = toml::Table::new();
        let mut save = toml::Table::new();
        let mut save_headers = toml::Table::new();
        match &step.answer {
            Some(answer) => expectations(
                answer,
                ex,
                &mut names,
                &mut expect,
                &mut save,
                &mut save_headers,
            )?,
            None => {
                expect.insert("status".into(), 200.into());
            }
        }
        if matches!(step.answer, Some(Answer::Unauthorized)) {
            t.insert("credentials".into(), "wrong".into());
        }
        t.insert("expect".into(), toml::Value::Table(expect));
        if !save.is_empty() {
            t.insert("save".into(), toml::Value::Table(save));
        }
        if !save_headers.is_empty() {
            t.insert("save_headers".into(), toml::Value::Table(save_headers));
        }
        out.push(toml::Value::Table(t));
    }
    let mut doc = toml::Table::new();
    doc.insert("description".into(), escape(description).into());
    // Moving the clock needs a private clock: the embedded mock's.
    let targets: Vec<toml::Value> = if moves_clock {
        vec!["mock".into()]
    } else {
        vec!["mock".into(), "url".into()]
    };
    doc.insert("targets".into(), toml::Value::Array(targets));
    if *mock != MockSettings::default() {
        let mut m = toml::Table::new();
        m.insert("allow_cart_updates".into(), mock.allow_cart_updates.into());
        m.insert("strict".into(), mock.strict.into());
        if let Some(seed) = mock.seed.and_then(|s| i64::try_from(s).ok()) {
            m.insert("seed".into(), seed.into());
        }
        doc.insert("mock".into(), toml::Value::Table(m));
    }
    doc.insert("step".into(), toml::Value::Array(out));
    let text = toml::to_string_pretty(&doc).map_err(|e| ScenarioError::Emit(e.to_string()))?;
    let text = format!(
        "# Written by `klarna-conformance replay --emit-scenario` from a shrunk property\n\
         # failure. Requests are exactly what was sent; each `expect` is what the\n\
         # reference model predicted. Edit freely.\n\n{text}"
    );
    parse_scenario(Path::new("emitted.toml"), &text, &FixtureSet::default())
        .map_err(|e| ScenarioError::Emit(format!("the written scenario does not check: {e}")))?;
    Ok(text)
}

fn strings(items: impl IntoIterator<Item = String>) -> toml::Value {
    toml::Value::Array(items.into_iter().map(|s| escape(&s).into()).collect())
}

/// What the model predicted, as a step's `expect` (and the names it saves).
fn expectations(
    answer: &Answer,
    ex: &Exchange,
    names: &mut Names,
    expect: &mut toml::Table,
    save: &mut toml::Table,
    save_headers: &mut toml::Table,
) -> Result<(), ScenarioError> {
    let body = ex.json().unwrap_or(Value::Null);
    let mut equal = toml::Table::new();
    let mut present: Vec<String> = Vec::new();
    let mut absent: Vec<String> = Vec::new();
    let status: u16 = match answer {
        Answer::Error(e) => {
            expect.insert("error_code".into(), e.error_code.into());
            expect.insert("messages".into(), strings(e.messages()));
            e.status
        }
        Answer::Unauthorized => 401,
        Answer::NoContent => 204,
        Answer::SessionCreated { .. } => {
            names.sessions += 1;
            let name = format!("session_{}", names.sessions);
            save.insert(name.clone(), "session_id".into());
            names.add(body["session_id"].as_str().unwrap_or(""), name);
            present.extend(
                ["session_id", "client_token", "payment_method_categories"].map(String::from),
            );
            200
        }
        Answer::Session(v) => {
            equal.insert("status".into(), v.status.into());
            for (key, value) in &v.fields {
                if let Some(t) = json_to_toml(&templated(value, names)) {
                    equal.insert(key.clone(), t);
                }
            }
            absent.extend(v.absent.iter().map(|s| (*s).to_owned()));
            if let Some(t) = v.authorization_token {
                equal.insert(
                    "authorization_token".into(),
                    format!("{{token_{}}}", t + 1).into(),
                );
            }
            if let Some(at) = v.expires_at {
                equal.insert("expires_at".into(), crate::mock::rfc3339(at).into());
            }
            200
        }
        Answer::Authorized { .. } => {
            names.tokens += 1;
            let name = format!("token_{}", names.tokens);
            save.insert(name.clone(), "authorization_token".into());
            names.add(body["authorization_token"].as_str().unwrap_or(""), name);
            equal.insert("approved".into(), true.into());
            200
        }
        Answer::NotAuthorized { show_form, .. } => {
            equal.insert("approved".into(), false.into());
            equal.insert("show_form".into(), (*show_form).into());
            absent.push("authorization_token".into());
            200
        }
        Answer::Order(o) => {
            present.extend(["order_id", "authorized_payment_method"].map(String::from));
            if let [one] = o.fraud_status {
                equal.insert("fraud_status".into(), (*one).into());
            } else {
                present.push("fraud_status".into());
            }
            if o.again {
                let (id, redirect) = names.orders.get(o.order).cloned().unwrap_or_default();
                equal.insert("order_id".into(), names.template(&id).into());
                match redirect {
                    Some(r) => {
                        equal.insert("redirect_url".into(), escape(&r).into());
                    }
                    None => absent.push("redirect_url".into()),
                }
            } else {
                let name = format!("order_{}", o.order + 1);
                save.insert(name.clone(), "order_id".into());
                let id = body["order_id"].as_str().unwrap_or("").to_owned();
                names.add(&id, name);
                names
                    .orders
                    .push((id, body["redirect_url"].as_str().map(str::to_owned)));
                if o.redirect_url {
                    present.push("redirect_url".into());
                } else {
                    absent.push("redirect_url".into());
                }
            }
            200
        }
        Answer::OmOrder(v) => {
            equal.insert(
                "order_id".into(),
                format!("{{order_{}}}", v.order + 1).into(),
            );
            equal.insert("status".into(), v.status.into());
            if let [one] = v.fraud_status {
                equal.insert("fraud_status".into(), (*one).into());
            }
            for (key, amount) in [
                ("order_amount", v.order_amount),
                ("captured_amount", v.captured_amount),
                ("refunded_amount", v.refunded_amount),
                ("remaining_authorized_amount", v.remaining_authorized_amount),
            ] {
                equal.insert(key.into(), amount.into());
            }
            equal.insert(
                "purchase_currency".into(),
                v.purchase_currency.clone().into(),
            );
            200
        }
        Answer::Captured {
            order,
            capture,
            again,
        } => {
            let name = format!("capture_{}_{}", order + 1, capture + 1);
            created(expect, save_headers, names, ex, &name, "Capture-Id", *again);
            201
        }
        Answer::Refunded {
            order,
            refund,
            again,
        } => {
            let name = format!("refund_{}_{}", order + 1, refund + 1);
            created(expect, save_headers, names, ex, &name, "Refund-Id", *again);
            201
        }
        Answer::OmDone { order, op, repeat } => {
            let slug = match op {
                OmOp::ShippingInfo(c) => format!("shipping_info_{}", c + 1),
                _ => op.path("").trim_start_matches('/').replace('-', "_"),
            };
            let name = format!("transaction_{}_{slug}", order + 1);
            if *repeat {
                header_equal(expect, "Transaction-Id", &name);
            } else {
                headers(expect, &["transaction-id"]);
                save_headers.insert(name, "Transaction-Id".into());
            }
            204
        }
        Answer::Captures(list) => {
            for (i, c) in list.iter().enumerate() {
                capture_fields(&mut equal, &format!("[{i}]."), c, names);
            }
            absent.push(format!("[{}]", list.len()));
            200
        }
        Answer::Capture(c) => {
            capture_fields(&mut equal, "", c, names);
            200
        }
        Answer::Refunds(list) => {
            for (i, r) in list.iter().enumerate() {
                refund_fields(&mut equal, &format!("[{i}]."), r, names);
            }
            absent.push(format!("[{}]", list.len()));
            200
        }
        Answer::Refund(r) => {
            refund_fields(&mut equal, "", r, names);
            200
        }
        Answer::FraudDecided {
            order,
            fraud_status,
        } => {
            equal.insert("order_id".into(), format!("{{order_{}}}", order + 1).into());
            equal.insert("fraud_status".into(), (*fraud_status).into());
            200
        }
        // The journal is judged as a multiset by the engine; a scenario
        // pins only how many entries there are.
        Answer::Notifications(list) => {
            if let Some(last) = list.len().checked_sub(1) {
                present.push(format!("[{last}].kind"));
            }
            absent.push(format!("[{}]", list.len()));
            200
        }
        Answer::CustomerTokenCreated { ctoken, again } => {
            let name = format!("customer_token_{}", ctoken + 1);
            if *again {
                equal.insert("token_id".into(), format!("{{{name}}}").into());
            } else {
                names.add(body["token_id"].as_str().unwrap_or(""), name.clone());
                save.insert(name, "token_id".into());
                present.push("token_id".into());
            }
            200
        }
        Answer::CustomerToken { status, .. } => {
            equal.insert("status".into(), (*status).into());
            present.push("payment_method_type".into());
            200
        }
        Answer::Accepted => 202,
        Answer::TokenOrder { order, again } => {
            let name = format!("order_{}", order + 1);
            if *again {
                equal.insert("order_id".into(), format!("{{{name}}}").into());
            } else {
                let id = body["order_id"].as_str().unwrap_or("").to_owned();
                names.add(&id, name.clone());
                names.orders.push((id, None));
                save.insert(name, "order_id".into());
            }
            present.extend(
                ["order_id", "fraud_status", "authorized_payment_method"].map(String::from),
            );
            absent.push("redirect_url".into());
            200
        }
        Answer::Clock { now } => {
            equal.insert("now".into(), crate::mock::rfc3339(*now).into());
            200
        }
    };
    expect.insert("status".into(), i64::from(status).into());
    if !present.is_empty() {
        expect.insert("present".into(), strings(present));
    }
    if !absent.is_empty() {
        expect.insert("absent".into(), strings(absent));
    }
    if !equal.is_empty() {
        expect.insert("equal".into(), toml::Value::Table(equal));
    }
    Ok(())
}

/// A 201: its id and transaction saved under `name` the first time, the
/// same again for a repeated key.
fn created(
    expect: &mut toml::Table,
    save_headers: &mut toml::Table,
    names: &mut Names,
    ex: &Exchange,
    name: &str,
    id_header: &str,
    again: bool,
) {
    let transaction = format!("{name}_transaction");
    if again {
        header_equal(expect, id_header, name);
        header_equal(expect, "Transaction-Id", &transaction);
        headers(expect, &["location"]);
    } else {
        headers(expect, &[id_header, "location", "transaction-id"]);
        names.add(ex.header(id_header).unwrap_or(""), name.to_owned());
        save_headers.insert(name.to_owned(), id_header.into());
        save_headers.insert(transaction, "Transaction-Id".into());
    }
}

fn header_equal(expect: &mut toml::Table, header: &str, name: &str) {
    let table = expect
        .entry("header_equal")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(t) = table {
        t.insert(header.to_owned(), format!("{{{name}}}").into());
    }
}

fn headers(expect: &mut toml::Table, names: &[&str]) {
    expect.insert(
        "headers".into(),
        toml::Value::Array(names.iter().map(|n| (*n).into()).collect()),
    );
}

fn capture_fields(equal: &mut toml::Table, at: &str, c: &CaptureView, names: &Names) {
    equal.insert(
        format!("{at}capture_id"),
        format!("{{capture_{}_{}}}", c.order + 1, c.capture + 1).into(),
    );
    equal.insert(format!("{at}captured_amount"), c.captured_amount.into());
    if let Some(d) = &c.description {
        equal.insert(format!("{at}description"), escape(d).into());
    }
    for (key, value) in [
        ("order_lines", &c.order_lines),
        ("shipping_info", &c.shipping_info),
    ] {
        if let Some(t) = json_to_toml(&templated(value, names)) {
            equal.insert(format!("{at}{key}"), t);
        }
    }
}

fn refund_fields(equal: &mut toml::Table, at: &str, r: &RefundView, names: &Names) {
    equal.insert(
        format!("{at}refund_id"),
        format!("{{refund_{}_{}}}", r.order + 1, r.refund + 1).into(),
    );
    equal.insert(format!("{at}refunded_amount"), r.refunded_amount.into());
    if let Some(d) = &r.description {
        equal.insert(format!("{at}description"), escape(d).into());
    }
    if let Some(t) = json_to_toml(&templated(&r.order_lines, names)) {
        equal.insert(format!("{at}order_lines"), t);
    }
}

/// A JSON value with known ids in its strings written as `{name}`.
fn templated(value: &Value, names: &Names) -> Value {
    match value {
        Value::String(s) => Value::String(names.template(s)),
        Value::Array(a) => Value::Array(a.iter().map(|v| templated(v, names)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), templated(v, names)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn json_to_toml(value: &Value) -> Option<toml::Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        // Strings come already written as templates (`Names::template`).
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().filter_map(json_to_toml).collect()),
        Value::Object(o) => toml::Value::Table(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect(),
        ),
    })
}
