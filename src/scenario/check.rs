//! Checking a scenario file: from the TOML as written (`Raw*`, with spans)
//! to the [`Scenario`] the executor runs. Everything a file can get wrong is
//! found here, before any request is sent, and reported with the file's path,
//! line and column.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use serde_json::{Map, Value};
use toml::Spanned;

use super::ScenarioError;
use super::fixtures::{FixtureSet, Fixtures};
use super::format::{Action, Edit, Expect, STEP_KINDS, Scenario, Step};
use super::path::{JsonPath, is_name, json_references, references};
use super::raw::{RawExpect, RawScenario, RawStep, allowed_fields};
use crate::model::market;
use crate::targets::{Method, TargetKind};

/// Parses a fixtures file (`fixtures.toml`).
pub fn parse_fixtures(path: &Path, text: &str) -> Result<FixtureSet, ScenarioError> {
    toml::from_str(text).map_err(|e| toml_error(path, text, &e))
}

/// Parses and checks one scenario file.
pub fn parse_scenario(
    path: &Path,
    text: &str,
    shared: &FixtureSet,
) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    let at = |span: Range<usize>, message: String| invalid(path, text, span.start, message);
    let fixtures = Fixtures {
        own: &raw.fixtures,
        shared,
    };

    let mut targets = Vec::new();
    for t in raw.targets.get_ref() {
        let kind = TargetKind::parse(t.get_ref()).ok_or_else(|| {
            at(
                t.span(),
                format!(
                    "unknown target `{}` (known: mock, url, playground)",
                    t.get_ref()
                ),
            )
        })?;
        if !targets.contains(&kind) {
            targets.push(kind);
        }
    }
    if targets.is_empty() {
        return Err(at(raw.targets.span(), "`targets` is empty".to_owned()));
    }
    if raw.step.is_empty() {
        return Err(invalid(
            path,
            text,
            0,
            "the scenario has no `[[step]]`".to_owned(),
        ));
    }

    // Names defined so far, to refuse a reference to a value no earlier step gives.
    let mut defined: BTreeSet<String> = BTreeSet::new();
    let mut steps = Vec::with_capacity(raw.step.len());
    for (i, spanned) in raw.step.iter().enumerate() {
        let step_span = spanned.span();
        let raw_step = spanned.get_ref();
        let mut step = check_step(
            i + 1,
            raw_step,
            raw.snapshot,
            &fixtures,
            &at,
            step_span.clone(),
        )?;
        step.line = line_column(text, step_span.start).0;
        if step.action.needs_control_api() && targets.contains(&TargetKind::Playground) {
            return Err(at(
                raw_step.kind.span(),
                format!(
                    "`{}` needs the mock's control API, which the playground does not have: \
                     remove \"playground\" from `targets`",
                    step.action.kind()
                ),
            ));
        }
        let mut used = Vec::new();
        action_references(&step.action, &mut used);
        for (_, v) in &step.expect.equal {
            json_references(v, &mut used);
        }
        for (_, v) in &step.expect.header_equal {
            json_references(&Value::String(v.clone()), &mut used);
        }
        if let Some(name) = used.iter().find(|n| !defined.contains(n.as_str())) {
            return Err(at(
                step_span,
                format!(
                    "step {} refers to `{{{name}}}`, which no earlier step defines (defined: {})",
                    i + 1,
                    if defined.is_empty() {
                        "none".to_owned()
                    } else {
                        defined.iter().cloned().collect::<Vec<_>>().join(", ")
                    }
                ),
            ));
        }
        if step.expect.expects_success() {
            defined.extend(step.action.auto_saves().iter().map(|s| (*s).to_owned()));
        }
        defined.extend(step.save.iter().map(|(n, _)| n.clone()));
        defined.extend(step.save_headers.iter().map(|(n, _)| n.clone()));
        steps.push(step);
    }

    Ok(Scenario {
        path: path.to_owned(),
        stem: stem_of(path),
        description: raw.description,
        targets,
        mock: raw.mock,
        steps,
    })
}

/// The file stem (`expired_token` for `scenarios/expired_token.toml`).
pub fn stem_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn action_references(action: &Action, out: &mut Vec<String>) {
    let mut strs = |s: &str| out.extend(references(s).into_iter().map(str::to_owned));
    match action {
        Action::UpdateSession { session_id, .. } | Action::ReadSession { session_id } => {
            strs(session_id)
        }
        Action::Authorize { .. } => strs("{session_id}"),
        Action::CreateOrder { token, .. } | Action::CancelAuthorization { token } => strs(token),
        Action::ReadOrder { order_id } | Action::Capture { order_id, .. } => strs(order_id),
        Action::Raw {
            path,
            body_text,
            headers,
            ..
        } => {
            strs(path);
            if let Some(b) = body_text {
                strs(b);
            }
            for (_, v) in headers {
                strs(v);
            }
        }
        _ => {}
    }
    let mut values: Vec<&Value> = Vec::new();
    match action {
        Action::CreateSession { body } => values.push(body),
        Action::Authorize { body: Some(b) }
        | Action::CreateOrder { body: Some(b), .. }
        | Action::Capture { body: Some(b), .. } => values.push(b),
        Action::UpdateSession { edit, .. } | Action::Mutate { edit } => {
            values.extend(edit.values())
        }
        _ => {}
    }
    for v in values {
        json_references(v, out);
    }
}

fn check_step(
    index: usize,
    raw: &RawStep,
    default_snapshot: bool,
    fixtures: &Fixtures<'_>,
    at: &dyn Fn(Range<usize>, String) -> ScenarioError,
    step_span: Range<usize>,
) -> Result<Step, ScenarioError> {
    let kind = raw.kind.get_ref().as_str();
    if !STEP_KINDS.contains(&kind) {
        return Err(at(
            raw.kind.span(),
            format!(
                "unknown step kind `{kind}` (known: {})",
                STEP_KINDS.join(", ")
            ),
        ));
    }
    if kind == "mutate" {
        for (given, field) in [
            (raw.expect.is_some(), "expect"),
            (raw.snapshot.is_some(), "snapshot"),
            (raw.save.is_some(), "save"),
            (raw.save_headers.is_some(), "save_headers"),
            (raw.credentials.is_some(), "credentials"),
        ] {
            if given {
                return Err(at(
                    step_span.clone(),
                    format!("step {index}: `mutate` sends nothing, so `{field}` does not apply"),
                ));
            }
        }
    }
    let allowed = allowed_fields(kind);
    if let Some(field) = raw.fields_set().into_iter().find(|f| !allowed.contains(f)) {
        return Err(at(
            step_span.clone(),
            format!(
                "step {index}: `{field}` does not apply to `{kind}` (it takes: {})",
                allowed.join(", ")
            ),
        ));
    }
    let fixture = |r: &Result<Value, String>, span: Range<usize>| -> Result<Value, ScenarioError> {
        r.clone().map_err(|e| at(span, e))
    };
    // The edit fields shared by create_session, authorize, update_session and mutate.
    let edit = || -> Result<Edit, ScenarioError> {
        let mut e = Edit::default();
        if let Some(name) = &raw.cart {
            e.cart = Some(
                fixtures
                    .cart(name.get_ref())
                    .map_err(|m| at(name.span(), m))?,
            );
        }
        for (field, value) in [
            ("billing_address", &raw.billing_address),
            ("shipping_address", &raw.shipping_address),
            ("customer", &raw.customer),
        ] {
            if let Some(v) = value {
                let resolved = match v.get_ref() {
                    toml::Value::String(name) if field == "customer" => fixtures.customer(name),
                    toml::Value::String(name) => fixtures.address(name),
                    toml::Value::Table(_) => toml_to_json(v.get_ref()),
                    _ => Err(format!(
                        "`{field}` must be a fixture name or an inline table"
                    )),
                };
                let json = fixture(&resolved, v.span())?;
                e.set
                    .push((JsonPath::parse(field).map_err(|m| at(v.span(), m))?, json));
            }
        }
        if let Some(set) = &raw.set {
            for (p, v) in flatten(set.get_ref(), "") {
                let path = JsonPath::parse(&p).map_err(|m| at(set.span(), m))?;
                let json = toml_to_json(v).map_err(|m| at(set.span(), m))?;
                e.set.push((path, json));
            }
        }
        if let Some(remove) = &raw.remove {
            for p in remove.get_ref() {
                e.remove
                    .push(JsonPath::parse(p).map_err(|m| at(remove.span(), m))?);
            }
        }
        Ok(e)
    };
    let body = || -> Result<Option<Value>, ScenarioError> {
        raw.body
            .as_ref()
            .map(|b| {
                toml_to_json(&toml::Value::Table(b.get_ref().clone())).map_err(|m| at(b.span(), m))
            })
            .transpose()
    };
    let template = |v: &Option<Spanned<String>>, default: &str| -> String {
        v.as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_else(|| default.to_owned())
    };

    let action = match kind {
        "create_session" => {
            let mut b = body()?.unwrap_or_else(|| Value::Object(Map::new()));
            if let Some(m) = &raw.market {
                let market = market::market(m.get_ref()).ok_or_else(|| {
                    at(
                        m.span(),
                        format!("unknown market `{}` (docs/klarna.md §3.2)", m.get_ref()),
                    )
                })?;
                let locale = raw
                    .locale
                    .clone()
                    .unwrap_or_else(|| market.default_locale().to_owned());
                if let Some(o) = b.as_object_mut() {
                    o.insert("purchase_country".into(), market.country.into());
                    o.insert("purchase_currency".into(), market.currency.into());
                    o.insert("locale".into(), locale.into());
                }
            } else if let Some(l) = &raw.locale
                && let Some(o) = b.as_object_mut()
            {
                o.insert("locale".into(), l.clone().into());
            }
            edit()?
                .apply(&mut b)
                .map_err(|m| at(step_span.clone(), m))?;
            Action::CreateSession { body: b }
        }
        "authorize" => {
            let mut b = body()?.unwrap_or_else(|| Value::Object(Map::new()));
            if let (Some(c), Some(o)) = (&raw.payment_method_category, b.as_object_mut()) {
                o.insert("payment_method_category".into(), c.clone().into());
            }
            edit()?
                .apply(&mut b)
                .map_err(|m| at(step_span.clone(), m))?;
            let empty = b.as_object().is_some_and(Map::is_empty);
            Action::Authorize {
                body: (!empty).then_some(b),
            }
        }
        "update_session" => Action::UpdateSession {
            session_id: template(&raw.session_id, "{session_id}"),
            edit: edit()?,
        },
        "mutate" => Action::Mutate { edit: edit()? },
        "advance_clock" => {
            let s = raw.seconds.as_ref().ok_or_else(|| {
                at(
                    step_span.clone(),
                    format!("step {index}: `advance_clock` needs `seconds`"),
                )
            })?;
            let seconds = u64::try_from(*s.get_ref())
                .map_err(|_| at(s.span(), "`seconds` must not be negative".to_owned()))?;
            Action::AdvanceClock { seconds }
        }
        "create_order" => Action::CreateOrder {
            token: template(&raw.token, "{authorization_token}"),
            body: body()?,
            auto_capture: raw.auto_capture,
        },
        "cancel_authorization" => Action::CancelAuthorization {
            token: template(&raw.token, "{authorization_token}"),
        },
        "read_session" => Action::ReadSession {
            session_id: template(&raw.session_id, "{session_id}"),
        },
        "read_order" => Action::ReadOrder {
            order_id: template(&raw.order_id, "{order_id}"),
        },
        "capture" => Action::Capture {
            order_id: template(&raw.order_id, "{order_id}"),
            body: body()?,
            captured_amount: raw.captured_amount,
        },
        "raw" => {
            let missing = |f: &str| {
                at(
                    step_span.clone(),
                    format!("step {index}: `raw` needs `{f}`"),
                )
            };
            let m = raw.method.as_ref().ok_or_else(|| missing("method"))?;
            let method = match m.get_ref().to_ascii_uppercase().as_str() {
                "GET" => Method::Get,
                "POST" => Method::Post,
                "PATCH" => Method::Patch,
                "DELETE" => Method::Delete,
                other => {
                    return Err(at(
                        m.span(),
                        format!("unsupported method `{other}` (GET, POST, PATCH or DELETE)"),
                    ));
                }
            };
            let path = raw.path.as_ref().ok_or_else(|| missing("path"))?;
            if !path.get_ref().starts_with('/') {
                return Err(at(path.span(), "`path` must start with `/`".to_owned()));
            }
            if raw.body.is_some() && raw.body_text.is_some() {
                return Err(at(
                    step_span.clone(),
                    format!("step {index}: give `body` or `body_text`, not both"),
                ));
            }
            let body_text = match body()? {
                Some(b) => Some(b.to_string()),
                None => raw.body_text.clone(),
            };
            let mut headers = Vec::new();
            if let Some(table) = &raw.headers {
                for (name, value) in table.get_ref() {
                    // Only the headers a merchant sets on Klarna's API;
                    // authorization and content type are the executor's.
                    let Some(known) = RAW_HEADERS.iter().find(|h| h.eq_ignore_ascii_case(name))
                    else {
                        return Err(at(
                            table.span(),
                            format!(
                                "step {index}: header `{name}` is not one a raw step may set (known: {})",
                                RAW_HEADERS.join(", ")
                            ),
                        ));
                    };
                    let Some(value) = value.as_str() else {
                        return Err(at(
                            table.span(),
                            format!("step {index}: header `{name}` must be a string"),
                        ));
                    };
                    headers.push((*known, value.to_owned()));
                }
            }
            Action::Raw {
                method,
                path: path.get_ref().clone(),
                body_text,
                headers,
            }
        }
        _ => unreachable!("checked against STEP_KINDS above"),
    };

    let wrong_credentials = match &raw.credentials {
        None => false,
        Some(c) if c.get_ref() == "wrong" => true,
        Some(c) => {
            return Err(at(
                c.span(),
                format!("`credentials` can only be \"wrong\", not `{}`", c.get_ref()),
            ));
        }
    };

    let expect = match &raw.expect {
        None => Expect::default(),
        Some(e) => check_expect(e.get_ref()).map_err(|m| at(e.span(), m))?,
    };

    let mut save = Vec::new();
    if let Some(s) = &raw.save {
        for (name, p) in s.get_ref() {
            if !is_name(name) {
                return Err(at(
                    s.span(),
                    format!("`{name}` cannot be a name (lower case letters, digits and `_`)"),
                ));
            }
            let p = p.as_str().ok_or_else(|| {
                at(
                    s.span(),
                    format!("save `{name}`: the path must be a string"),
                )
            })?;
            save.push((
                name.clone(),
                JsonPath::parse(p).map_err(|m| at(s.span(), m))?,
            ));
        }
    }

    let mut save_headers = Vec::new();
    if let Some(s) = &raw.save_headers {
        for (name, header) in s.get_ref() {
            if !is_name(name) {
                return Err(at(
                    s.span(),
                    format!("`{name}` cannot be a name (lower case letters, digits and `_`)"),
                ));
            }
            let header = header.as_str().ok_or_else(|| {
                at(
                    s.span(),
                    format!("save_headers `{name}`: the header name must be a string"),
                )
            })?;
            save_headers.push((name.clone(), header.to_owned()));
        }
    }

    Ok(Step {
        index,
        line: 0,
        action,
        expect,
        save,
        save_headers,
        snapshot: raw.snapshot.unwrap_or(default_snapshot),
        wrong_credentials,
    })
}

/// The headers a `raw` step may set.
const RAW_HEADERS: [&str; 2] = ["Klarna-Idempotency-Key", "Klarna-Integrator"];

fn check_expect(raw: &RawExpect) -> Result<Expect, String> {
    let paths = |v: &[String]| {
        v.iter()
            .map(|p| JsonPath::parse(p))
            .collect::<Result<Vec<_>, _>>()
    };
    let mut equal = Vec::new();
    for (p, v) in flatten(&raw.equal, "") {
        equal.push((JsonPath::parse(&p)?, toml_to_json(v)?));
    }
    if let Some(s) = raw.status
        && !(100..=599).contains(&s)
    {
        return Err(format!("`status` {s} is not an HTTP status"));
    }
    Ok(Expect {
        status: raw.status,
        error_code: raw.error_code.clone(),
        messages: raw.messages.clone(),
        messages_contain: raw.messages_contain.clone(),
        present: paths(&raw.present)?,
        absent: paths(&raw.absent)?,
        equal,
        headers: raw.headers.clone(),
        header_equal: raw
            .header_equal
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// Walks nested tables into `(path, leaf)` pairs, so `billing_address.postal_code = "x"`
/// (a TOML dotted key) and `"billing_address.postal_code" = "x"` mean the same.
fn flatten<'t>(table: &'t toml::Table, prefix: &str) -> Vec<(String, &'t toml::Value)> {
    let mut out = Vec::new();
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) if !t.is_empty() => out.extend(flatten(t, &path)),
            _ => out.push((path, v)),
        }
    }
    out
}

/// TOML to JSON: date-times become their text; non-finite floats are refused.
pub fn toml_to_json(value: &toml::Value) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} cannot be sent as JSON"))?,
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => {
            Value::Array(a.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Line and column (both 1-based) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(1, |l| l.chars().count() + 1);
    (line, column)
}

fn invalid(path: &Path, text: &str, offset: usize, message: String) -> ScenarioError {
    let (line, column) = line_column(text, offset);
    ScenarioError::Invalid {
        path: path.to_owned(),
        line,
        column,
        message,
    }
}

fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ScenarioError {
    let offset = e.span().map_or(0, |s| s.start);
    invalid(path, text, offset, e.message().trim().to_owned())
}
