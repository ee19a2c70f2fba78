//! Klarna's field rules: every violation of a request body, with its JSON path
//! and Klarna's message text (`Bad value: <path>`), graded, and explained
//! ([`Violation::why`]: what was found, what was expected or computed, and the
//! rule's source section).
//!
//! Validation reads the raw JSON, not the typed model, because Klarna judges
//! what was sent: a fractional quantity or a string where a number belongs is
//! a `Bad value`, not a parse failure.
//!
//! What is checked (each rule cites its reference section where it is coded):
//!
//! - required fields per [`BodyKind`]; JSON types; string lengths; the schema
//!   patterns and enums; numeric ranges; `order_lines` 1..=1000 (docs/klarna.md §2);
//! - the market table: country → currency and locales, the billing country
//!   overriding `purchase_country`; `region` for US and AU; name and phone
//!   rules (docs/klarna.md §2.3, 3.2);
//! - the amount rules of [`crate::model::money`] (docs/klarna.md §3.1).
//!
//! Grades follow one principle: an [`Grade::Error`] is what Klarna refuses; what
//! the documents forbid but the real playground was recorded accepting
//! (docs/klarna.md §10), or where Klarna's documents contradict each other, is a
//! [`Grade::Warning`]. The warnings are: a language-only or differently-cased
//! locale (`"en"` for US, `"EN"`/`"PL"` for SE), a `tax_rate` that is not one
//! of the market's VAT rates, a shipping country other than the purchase
//! country, a line tax more than 1 from the exact formula but within 1 of its
//! floor or ceiling (Klarna's rounding is undocumented), a fraction in an
//! integer field (Klarna truncates it and judges the rest, see
//! [`truncate_fractions`]), a phone shorter than 5 characters (SPEC23 only)
//! and a line `type` outside the documented list (docs/klarna.md §2.2: the
//! list is prose, not a schema enum, and no refusal was recorded). Unknown
//! fields are never violations: Klarna adds fields over time.
//!
//! Violations come in document order: object keys in the order a
//! `serde_json::Value` holds them (alphabetical, as Klarna's API reference
//! lists fields), array items by index, a parent before its children.

mod body;
mod lines;
mod reader;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

/// Which request body is being validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// `session_create`: POST /payments/v1/sessions.
    SessionCreate,
    /// `session`: POST /payments/v1/sessions/{id}, validated as a new session (docs/klarna.md §3.2).
    SessionUpdate,
    /// `create_order_request`: POST /payments/v1/authorizations/{token}/order.
    CreateOrder,
    /// `customer_token_creation_request`.
    CustomerToken,
}

impl BodyKind {
    /// The name `check-payload --kind` gives this kind (`session`, `order`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            BodyKind::SessionCreate => "session",
            BodyKind::SessionUpdate => "session-update",
            BodyKind::CreateOrder => "order",
            BodyKind::CustomerToken => "customer-token",
        }
    }
}

impl fmt::Display for BodyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure we are that Klarna refuses a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    /// The documents forbid it, but the real playground was recorded accepting
    /// it (docs/klarna.md §10). A strict mock refuses it; the default mock does not.
    Warning,
    /// Klarna refuses it: documented and never seen accepted, or seen refused.
    Error,
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Grade::Warning => "warning",
            Grade::Error => "error",
        })
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub grade: Grade,
    /// Klarna's JSON path, e.g. `order_lines[3].total_tax_amount`.
    pub path: String,
    /// Which rule, in a word (`required`, `max_length`, `tax`, ...), for tests and reports.
    pub rule: Rule,
    /// Klarna's message, e.g. `Bad value: order_lines[3].total_tax_amount`:
    /// what the mock answers and the engine compares, never anything more.
    pub message: String,
    /// Why the value is wrong, for people: what was found, what was expected
    /// or computed (with the numbers), and the rule's source, e.g. `total_amount
    /// is 9400, but quantity × unit_price − total_discount_amount = 1 × 10000 −
    /// 500 = 9500 (docs/klarna.md §3.1)`. Built only when a violation is found.
    pub why: String,
}

/// The kinds of rule Klarna applies (docs/klarna.md §2 and 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A required field is missing.
    Required,
    /// A value of the wrong JSON type (a string for a number, a fraction for an integer...).
    Type,
    MinLength,
    MaxLength,
    Pattern,
    Minimum,
    Maximum,
    MinItems,
    MaxItems,
    /// A value outside a documented set (enum or listed values).
    Enum,
    /// `total_amount != quantity × unit_price − total_discount_amount`.
    LineTotal,
    /// `total_tax_amount` off by more than ±1 from the tax formula.
    LineTax,
    /// `order_amount != Σ order_lines[].total_amount`.
    OrderAmount,
    /// `order_tax_amount` off by more than ± the number of lines from Σ line tax.
    OrderTaxAmount,
    /// Country, currency and locale do not fit together (docs/klarna.md §3.2).
    Market,
    /// `region` missing where mandatory (US, AU).
    Region,
    /// Name rules: not only digits, more than one character, allowed specials.
    Name,
    /// A tax rate that is not one of the market's VAT rates: a warning only,
    /// the playground did not refuse it (docs/klarna.md §10).
    TaxRate,
}

impl Rule {
    /// The rule's name in reports (`line_tax`, `max_length`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::Type => "type",
            Rule::MinLength => "min_length",
            Rule::MaxLength => "max_length",
            Rule::Pattern => "pattern",
            Rule::Minimum => "minimum",
            Rule::Maximum => "maximum",
            Rule::MinItems => "min_items",
            Rule::MaxItems => "max_items",
            Rule::Enum => "enum",
            Rule::LineTotal => "line_total",
            Rule::LineTax => "line_tax",
            Rule::OrderAmount => "order_amount",
            Rule::OrderTaxAmount => "order_tax_amount",
            Rule::Market => "market",
            Rule::Region => "region",
            Rule::Name => "name",
            Rule::TaxRate => "tax_rate",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Violation {
    /// `GRADE PATH: MESSAGE — WHY`, e.g. `error order_lines[0].total_amount:
    /// Bad value: order_lines[0].total_amount — total_amount is 9400, but ...`.
    /// Klarna's message stays verbatim before the ` — `, so it can be grepped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.grade, self.message)?;
        } else {
            write!(f, "{} {}: {}", self.grade, self.path, self.message)?;
        }
        if !self.why.is_empty() {
            write!(f, " — {}", self.why)?;
        }
        Ok(())
    }
}

/// Which behaviour a refusal follows: the real playground as recorded
/// (docs/klarna.md §10) or the documents to the letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fidelity {
    /// Refuse only [`Grade::Error`]s; missing required fields are reported in
    /// one joined message (`Bad value: order_amount, purchase_country`).
    #[default]
    Playground,
    /// Refuse every violation, one message each.
    Documented,
}

/// Every violation of `body` taken as a request of `kind`, in document order.
///
/// A body that is not a JSON object cannot be read at all: it gets one error
/// with the empty path and the message `Bad request: the body is not a JSON object`.
pub fn validate(kind: BodyKind, body: &Value) -> Vec<Violation> {
    let Some(obj) = body.as_object() else {
        return vec![Violation {
            grade: Grade::Error,
            path: String::new(),
            rule: Rule::Type,
            message: "Bad request: the body is not a JSON object".to_owned(),
            why: format!(
                "expected a JSON object {{...}}, got {} (docs/klarna.md §2.1)",
                reader::found(body)
            ),
        }];
    };
    let mut ctx = reader::Ctx::default();
    body::body(&mut ctx, kind, obj);
    let mut out = ctx.out;
    // Stable: violations of one path keep the order they were found in.
    out.sort_by(|a, b| document_order(&a.path, &b.path));
    out
}

/// Rewrites every JSON number written as a float (`10000.0`, `1.5`) as the
/// integer Klarna's reader takes from it: truncated toward zero (Jackson's
/// default; docs/klarna.md §10 saw quantity `0.5` judged as 0), saturating at the
/// `i64` range. This is the value the amount rules of [`validate`] judge, so a
/// service that parses a body into integer types after validating it answers
/// as the validator graded it: `10000.0` is 10000, `1.5` a warning read as 1.
/// Integers are left as they are. Walks iteratively (no recursion limit).
pub fn truncate_fractions(body: &mut Value) {
    let mut stack = vec![body];
    while let Some(value) = stack.pop() {
        match value {
            Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
                // `as` truncates toward zero and saturates (NaN cannot occur in JSON).
                let truncated = n.as_f64().map_or(0, |f| f as i64);
                *value = Value::from(truncated);
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => stack.extend(map.values_mut()),
            _ => {}
        }
    }
}

/// Whether any violation is an error (Klarna refuses the body).
pub fn has_errors(violations: &[Violation]) -> bool {
    violations.iter().any(|v| v.grade == Grade::Error)
}

/// Compares two Klarna paths segment by segment: keys as strings, indexes as
/// numbers (`order_lines[2]` before `order_lines[10]`), a prefix first.
fn document_order(a: &str, b: &str) -> Ordering {
    segments(a).cmp(segments(b))
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Segment<'a> {
    Key(&'a str),
    Index(u64),
}

fn segments(path: &str) -> impl Iterator<Item = Segment<'_>> {
    path.split(['.', '[']).filter(|s| !s.is_empty()).map(|s| {
        match s.strip_suffix(']').map(str::parse) {
            Some(Ok(i)) => Segment::Index(i),
            _ => Segment::Key(s),
        }
    })
}

/// Klarna's `error_messages` for a body with these violations, or `None`
/// when a service of this fidelity accepts it.
pub fn refusal(violations: &[Violation], fidelity: Fidelity) -> Option<Vec<String>> {
    let refused: Vec<&Violation> = violations
        .iter()
        .filter(|v| fidelity == Fidelity::Documented || v.grade == Grade::Error)
        .collect();
    if refused.is_empty() {
        return None;
    }
    let mut messages = Vec::new();
    if fidelity == Fidelity::Playground {
        let missing: Vec<&str> = refused
            .iter()
            .filter(|v| v.rule == Rule::Required)
            .map(|v| v.path.as_str())
            .collect();
        if !missing.is_empty() {
            messages.push(format!("Bad value: {}", missing.join(", ")));
        }
        messages.extend(
            refused
                .iter()
                .filter(|v| v.rule != Rule::Required)
                .map(|v| v.message.clone()),
        );
    } else {
        messages.extend(refused.iter().map(|v| v.message.clone()));
    }
    Some(messages)
}
