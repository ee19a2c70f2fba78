//! Klarna's field rules: every violation of a request body, with its JSON path
//! and Klarna's message text (`Bad value: <path>`), graded.
//!
//! Validation reads the raw JSON, not the typed model, because Klarna judges
//! what was sent: a fractional quantity or a string where a number belongs is
//! a `Bad value`, not a parse failure.

use std::fmt;

use serde_json::Value;

/// Which request body is being validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// `session_create`: POST /payments/v1/sessions.
    SessionCreate,
    /// `session`: POST /payments/v1/sessions/{id}, validated as a new session (reference 3.2).
    SessionUpdate,
    /// `create_order_request`: POST /payments/v1/authorizations/{token}/order.
    CreateOrder,
    /// `customer_token_creation_request`.
    CustomerToken,
}

/// How sure we are that Klarna refuses a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    /// The documents forbid it, but the real playground was recorded accepting
    /// it (reference 10). A strict mock refuses it; the default mock does not.
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
    /// Klarna's message, e.g. `Bad value: order_lines[3].total_tax_amount`.
    pub message: String,
}

/// The kinds of rule Klarna applies (reference 2 and 3).
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
    /// Country, currency and locale do not fit together (reference 3.2).
    Market,
    /// `region` missing where mandatory (US, AU).
    Region,
    /// Name rules: not only digits, more than one character, allowed specials.
    Name,
    /// A tax rate that is not one of the market's VAT rates (reference 10: not checked).
    TaxRate,
}

/// Which behaviour a refusal follows: the real playground as recorded
/// (reference 10) or the documents to the letter.
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
pub fn validate(kind: BodyKind, body: &Value) -> Vec<Violation> {
    let _ = (kind, body);
    Vec::new()
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
