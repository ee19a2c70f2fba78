//! Writing a generated case as a scenario file (`replay --emit-scenario FILE`),
//! so a failure found by chance becomes a permanent, readable regression test.

use std::path::Path;

use serde_json::Value;

use super::ScenarioError;
use super::check::parse_scenario;
use super::fixtures::FixtureSet;
use super::format::MockSettings;
use super::path::escape;

/// The bodies of one generated case, as the runner sent them.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseBodies {
    /// One line saying what the case is (e.g. the property and the seed).
    pub description: String,
    /// `POST /payments/v1/sessions` body.
    pub session: Value,
    /// Authorize-time data given to the control API, if any.
    pub authorize: Option<Value>,
    /// Seconds the virtual clock moves between authorize and create order.
    pub wait_seconds: u64,
    /// `POST .../authorizations/{token}/order` body.
    pub order: Value,
    /// Merchant settings of the mock the case ran on.
    pub mock: MockSettings,
}

/// What a conformant target answers at create order (the oracle's expectation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedAnswer {
    pub status: u16,
    pub error_code: Option<String>,
    /// `error_messages` exactly; empty means "not checked".
    pub messages: Vec<String>,
    /// For a success: what the order must say and what Order Management must
    /// show. Without it a success only checks the status and `order_id`, which
    /// would let an emitted regression test pass against the very defect it
    /// was emitted for.
    pub order: Option<ExpectedOrderFields>,
}

/// The oracle's expected order (`oracle::ExpectedOrder`), in owned form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedOrderFields {
    /// The `fraud_status` values allowed: exactly one is checked with
    /// `equal`; several can only be checked as present.
    pub fraud_status: Vec<String>,
    /// `redirect_url` present (a confirmation URL was given) or absent.
    pub redirect_url: bool,
    /// Order Management's `status` values allowed when read back
    /// (`AUTHORIZED`, `CAPTURED`): exactly one is checked with `equal`.
    pub om_status: Vec<String>,
    /// Order Management's `order_amount` when read back.
    pub om_order_amount: i64,
}

/// The scenario TOML text of a case. The text is checked by parsing it back,
/// so what is written can always be run.
pub fn from_case(case: &CaseBodies, expected: &ExpectedAnswer) -> Result<String, ScenarioError> {
    let mut steps: Vec<toml::Value> = Vec::new();
    let mut step = |kind: &str, fields: Vec<(&str, toml::Value)>| {
        let mut t = toml::Table::new();
        t.insert("do".into(), kind.into());
        for (k, v) in fields {
            t.insert(k.into(), v);
        }
        steps.push(toml::Value::Table(t));
    };
    step(
        "create_session",
        vec![("body", body(&case.session, "session")?)],
    );
    match &case.authorize {
        Some(a) if a.as_object().is_some_and(|o| !o.is_empty()) => {
            step("authorize", vec![("body", body(a, "authorize")?)]);
        }
        _ => step("authorize", vec![]),
    }
    if case.wait_seconds > 0 {
        let seconds = i64::try_from(case.wait_seconds)
            .map_err(|_| ScenarioError::Emit("wait_seconds is too large".into()))?;
        step("advance_clock", vec![("seconds", seconds.into())]);
    }
    let mut expect = toml::Table::new();
    expect.insert("status".into(), i64::from(expected.status).into());
    if let Some(code) = &expected.error_code {
        expect.insert("error_code".into(), code.clone().into());
    }
    if !expected.messages.is_empty() {
        expect.insert(
            "messages".into(),
            toml::Value::Array(expected.messages.iter().cloned().map(Into::into).collect()),
        );
    }
    let success = (200..300).contains(&expected.status);
    let order = expected.order.as_ref().filter(|_| success);
    if success {
        expect.insert(
            "present".into(),
            toml::Value::Array(match order {
                Some(_) => vec!["order_id".into(), "authorized_payment_method".into()],
                None => vec!["order_id".into(), "fraud_status".into()],
            }),
        );
    }
    if let Some(o) = order {
        order_expectations(o, &mut expect);
    }
    step(
        "create_order",
        vec![
            ("body", body(&case.order, "order")?),
            ("expect", toml::Value::Table(expect)),
            ("snapshot", true.into()),
        ],
    );
    if let Some(o) = order {
        // Order Management must show what was placed (reference 9); the
        // order id is the one create_order saved.
        let mut equal = toml::Table::new();
        equal.insert("order_id".into(), "{order_id}".into());
        if let [status] = o.om_status.as_slice() {
            equal.insert("status".into(), status.clone().into());
        }
        equal.insert("order_amount".into(), o.om_order_amount.into());
        let mut expect = toml::Table::new();
        expect.insert("status".into(), 200.into());
        expect.insert("equal".into(), toml::Value::Table(equal));
        step("read_order", vec![("expect", toml::Value::Table(expect))]);
    }

    let mut doc = toml::Table::new();
    doc.insert("description".into(), case.description.clone().into());
    // Moving the clock needs the mock's control API and a private clock.
    let targets: Vec<toml::Value> = if case.wait_seconds > 0 {
        vec!["mock".into()]
    } else {
        vec!["mock".into(), "url".into()]
    };
    doc.insert("targets".into(), toml::Value::Array(targets));
    if case.mock != MockSettings::default() {
        let mut m = toml::Table::new();
        m.insert(
            "allow_cart_updates".into(),
            case.mock.allow_cart_updates.into(),
        );
        m.insert("strict".into(), case.mock.strict.into());
        if let Some(seed) = case.mock.seed.and_then(|s| i64::try_from(s).ok()) {
            m.insert("seed".into(), seed.into());
        }
        doc.insert("mock".into(), toml::Value::Table(m));
    }
    doc.insert("step".into(), toml::Value::Array(steps));
    let text = toml::to_string_pretty(&doc).map_err(|e| ScenarioError::Emit(e.to_string()))?;
    let text = format!(
        "# Written by `klarna-conformance replay --emit-scenario` from a shrunk property\n\
         # failure. Bodies are exactly what was sent; edit freely, then record the\n\
         # snapshot with `INSTA_UPDATE=new cargo test --test scenarios` and review it.\n\n{text}"
    );
    parse_scenario(Path::new("emitted.toml"), &text, &FixtureSet::default())
        .map_err(|e| ScenarioError::Emit(format!("the written scenario does not check: {e}")))?;
    Ok(text)
}

/// The create-order checks of a success: `fraud_status` and `redirect_url`
/// (`present = [order_id, authorized_payment_method]` is already written).
fn order_expectations(o: &ExpectedOrderFields, expect: &mut toml::Table) {
    let mut present = Vec::new();
    let mut equal = toml::Table::new();
    match o.fraud_status.as_slice() {
        [one] => {
            equal.insert("fraud_status".into(), escape(one).into());
        }
        _ => present.push(toml::Value::from("fraud_status")),
    }
    if o.redirect_url {
        present.push("redirect_url".into());
    } else {
        expect.insert(
            "absent".into(),
            toml::Value::Array(vec!["redirect_url".into()]),
        );
    }
    if let Some(toml::Value::Array(p)) = expect.get_mut("present") {
        p.extend(present);
    }
    if !equal.is_empty() {
        expect.insert("equal".into(), toml::Value::Table(equal));
    }
}

/// A JSON body as a TOML table. TOML has no null; Klarna bodies never send
/// one (absent fields are left out), so a null is left out too.
fn body(value: &Value, what: &str) -> Result<toml::Value, ScenarioError> {
    match json_to_toml(value) {
        Some(t @ toml::Value::Table(_)) => Ok(t),
        _ => Err(ScenarioError::Emit(format!(
            "the {what} body is not a JSON object"
        ))),
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
        Value::String(s) => toml::Value::String(escape(s)),
        Value::Array(a) => toml::Value::Array(a.iter().filter_map(json_to_toml).collect()),
        Value::Object(o) => toml::Value::Table(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect(),
        ),
    })
}
