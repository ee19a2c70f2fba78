//! Verdicts: an expectation checked against what the target said.
//!
//! A verdict is `Pass`, a conformance failure (the target broke a rule) or a
//! target error (the target could not be used). Only the second is ever
//! reported as non-conformance.

use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize as _;
use serde_json::Value;

use crate::exchange::Exchange;
use crate::model::{ErrorV2, Order};
use crate::openapi::OpenApi;
use crate::oracle::{ExpectedError, ExpectedMessages};
use crate::targets::TargetError;

/// How strictly messages are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Judge {
    /// Whole messages must match, in the mock's documented order: for the
    /// project's own embedded mock.
    #[default]
    Exact,
    /// Messages are judged by the paths and fields they name, as sets: the
    /// real service appends explanations and lists fields in no stable order
    /// (docs/klarna.md §10), but must name exactly the predicted ones.
    Named,
}

/// The result of checking one case.
#[derive(Debug)]
pub enum Verdict {
    Pass,
    Conformance(Failure),
    Target(TargetError),
}

/// A broken rule: what was checked, what was expected, what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The rule, in a sentence (`create order answers 409 BAD_VALUE`).
    pub check: String,
    pub expected: String,
    pub actual: String,
}

impl Failure {
    pub fn new(
        check: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Failure {
            check: check.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.check)?;
        write!(f, "{}", focused_diff(&self.expected, &self.actual))
    }
}

/// The diff of a failure. When both sides are a status line and a JSON
/// body, the actual body is cut down to the fields the expectation names
/// (a target may add fields of its own, and the whole answer is printed
/// with the exchange anyway), so the diff shows what differs.
pub fn focused_diff(expected: &str, actual: &str) -> String {
    let split = |text: &str| -> Option<(String, serde_json::Value)> {
        let (status, body) = text.split_once('\n')?;
        Some((status.to_owned(), serde_json::from_str(body).ok()?))
    };
    let (Some((want_status, want)), Some((got_status, got))) = (split(expected), split(actual))
    else {
        return line_diff(expected, actual);
    };
    let mut left_out = 0;
    let shown = project(&got, &want, &mut left_out);
    let mut out = line_diff(
        &format!(
            "{want_status}\n{}",
            crate::exchange::pretty(&want.to_string())
        ),
        &format!(
            "{got_status}\n{}",
            crate::exchange::pretty(&shown.to_string())
        ),
    );
    if left_out > 0 {
        out.push_str(&format!(
            "  (and {left_out} more field{} of the answer that the expectation does not name)\n",
            if left_out == 1 { "" } else { "s" }
        ));
    }
    out
}

/// `got` restricted to the keys `want` has, at every level of objects
/// (arrays element by element); `left_out` counts the keys dropped.
fn project(
    got: &serde_json::Value,
    want: &serde_json::Value,
    left_out: &mut usize,
) -> serde_json::Value {
    use serde_json::Value;
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let mut out = serde_json::Map::new();
            for (k, v) in g {
                match w.get(k) {
                    Some(wv) => {
                        out.insert(k.clone(), project(v, wv, left_out));
                    }
                    None => *left_out += 1,
                }
            }
            Value::Object(out)
        }
        (Value::Array(g), Value::Array(w)) => Value::Array(
            g.iter()
                .enumerate()
                .map(|(i, v)| match w.get(i) {
                    Some(wv) => project(v, wv, left_out),
                    None => v.clone(),
                })
                .collect(),
        ),
        _ => got.clone(),
    }
}

/// What went wrong in a case; `?` turns a target error into this.
#[derive(Debug)]
pub enum Problem {
    Conformance(Failure),
    Target(TargetError),
}

impl From<TargetError> for Problem {
    fn from(e: TargetError) -> Self {
        Problem::Target(e)
    }
}

impl From<Failure> for Problem {
    fn from(f: Failure) -> Self {
        Problem::Conformance(f)
    }
}

impl From<Result<(), Problem>> for Verdict {
    fn from(r: Result<(), Problem>) -> Self {
        match r {
            Ok(()) => Verdict::Pass,
            Err(Problem::Conformance(f)) => Verdict::Conformance(f),
            Err(Problem::Target(e)) => Verdict::Target(e),
        }
    }
}

/// Checks that rest on every answer, whatever the case (docs/klarna.md §1.4, 4.1):
/// an error body is Klarna's error shape with `correlation_id` equal to the
/// `Klarna-Correlation-Id` header and non-empty `error_messages` where Klarna
/// documents messages; a 401 is the credentials being refused (a target error).
pub fn check_hygiene(ex: &Exchange, body: Option<&Value>) -> Result<(), Problem> {
    // The runner always sends the user's credentials: a 401 means they are
    // unusable (a gateway's HTML page or Klarna's JSON alike), not that the
    // target broke a rule.
    if ex.status == 401 {
        return Err(Problem::Target(TargetError::Unauthorized {
            target: format!("{} {}", ex.method, ex.path),
        }));
    }
    // Rate limits and gateway failures say nothing about Klarna's rules: the
    // target could not answer (docs/klarna.md §10: the playground's 429 after five
    // requests a second). A 500 stays a verdict: Klarna documents 4xx answers.
    if matches!(ex.status, 429 | 502 | 503 | 504) {
        return Err(Problem::Target(TargetError::Transport {
            target: format!("{} {}", ex.method, ex.path),
            cause: format!(
                "answered {} ({}); try again later or more slowly",
                ex.status,
                if ex.status == 429 {
                    "rate limited"
                } else {
                    "gateway or service unavailable"
                }
            ),
        }));
    }
    if ex.status < 400 {
        return Ok(());
    }
    let context = || format!("{} {} -> {}", ex.method, ex.path, ex.status);
    let Some(body) = body else {
        return Err(Failure::new(
            format!(
                "{}: an error answer carries Klarna's JSON error body",
                context()
            ),
            "{\"correlation_id\", \"error_code\", \"error_messages\"}",
            ex.response_body.clone(),
        )
        .into());
    };
    let error = ErrorV2::deserialize(body).map_err(|e| {
        Failure::new(
            format!("{}: the error body reads as ErrorV2", context()),
            "ErrorV2",
            format!("{e}: {body}"),
        )
    })?;
    let header = ex.correlation_id();
    if error.correlation_id.is_none() || error.correlation_id.as_deref() != header {
        return Err(Failure::new(
            format!(
                "{}: correlation_id equals the Klarna-Correlation-Id header",
                context()
            ),
            format!("correlation_id = header {header:?}"),
            format!("correlation_id {:?}", error.correlation_id),
        )
        .into());
    }
    // docs/klarna.md §4.2 lists `[]` among the messages of these codes.
    let documented_empty = matches!(
        error.error_code.as_deref(),
        Some("UNAUTHORIZED" | "BAD_REQUEST" | "MERCHANT_INACTIVE" | "INVALID_OPERATION")
    );
    if !documented_empty && error.messages().is_empty() {
        return Err(Failure::new(
            format!("{}: error_messages is not empty", context()),
            "at least one message",
            body.to_string(),
        )
        .into());
    }
    Ok(())
}

/// The answer's body reads as the model's type for its operation
/// (`merchant_session`, `session_read`, `order`, customer tokens, Order
/// Management's order, captures and refunds;
/// errors as `ErrorV2`); `Err` says why not. Bodies of other answers are not judged.
pub fn model_shape(ex: &Exchange, body: Option<&Value>) -> Result<(), String> {
    let Some(body) = body else {
        return Ok(());
    };
    let path = ex.path.trim_end_matches('/');
    let read = |parsed: Result<(), serde_json::Error>| parsed.map_err(|e| format!("{e}: {body}"));
    if ex.status >= 400 {
        return read(ErrorV2::deserialize(body).map(drop));
    }
    if !(200..300).contains(&ex.status) {
        return Ok(());
    }
    use crate::model::{self as m};
    let om = path.strip_prefix("/ordermanagement/v1/orders/");
    // `{order_id}`, then what follows it.
    let om_rest: Option<Vec<&str>> = om.map(|rest| rest.split('/').skip(1).collect());
    read(if path == "/payments/v1/sessions" {
        m::MerchantSession::deserialize(body).map(drop)
    } else if path.starts_with("/payments/v1/sessions/") {
        m::Session::deserialize(body).map(drop)
    } else if path.ends_with("/customer-token") {
        m::CustomerTokenCreationResponse::deserialize(body).map(drop)
    } else if path.ends_with("/order") {
        Order::deserialize(body).map(drop)
    } else if path.starts_with("/customer-token/v1/tokens/") && ex.method == "GET" {
        m::CustomerTokenRead::deserialize(body).map(drop)
    } else if let (Some(rest), "GET") = (om_rest, ex.method.as_str()) {
        match rest.as_slice() {
            [] => m::OmOrder::deserialize(body).map(drop),
            ["captures"] => Vec::<m::Capture>::deserialize(body).map(drop),
            ["captures", _] => m::Capture::deserialize(body).map(drop),
            ["refunds"] => Vec::<m::Refund>::deserialize(body).map(drop),
            ["refunds", _] => m::Refund::deserialize(body).map(drop),
            _ => Ok(()),
        }
    } else {
        Ok(())
    })
}

/// What the first of `documents` that describes the answer's operation finds
/// wrong with its body; nothing when none describes it (the mock's control
/// API, or Order Management without its document).
pub fn schema_errors(
    ex: &Exchange,
    body: Option<&Value>,
    documents: &[std::sync::Arc<OpenApi>],
) -> Vec<String> {
    let path = ex.path.trim_end_matches('/');
    let Some(api) = documents.iter().find(|api| api.covers(&ex.method, path)) else {
        return Vec::new();
    };
    api.check_response(&ex.method, path, ex.status, body)
        .iter()
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect()
}

/// The body is of the documented shape: the model's type, and the OpenAPI
/// schema of any of `documents` that describes the operation.
pub fn check_shape(
    ex: &Exchange,
    body: Option<&Value>,
    documents: &[std::sync::Arc<OpenApi>],
) -> Result<(), Failure> {
    let fail = |why: String| {
        Failure::new(
            format!(
                "{} {} -> {}: the body matches Klarna's schema",
                ex.method, ex.path, ex.status
            ),
            "a body of the documented shape",
            why,
        )
    };
    model_shape(ex, body).map_err(fail)?;
    let errors = schema_errors(ex, body, documents);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(fail(errors.join("\n")))
    }
}

/// The answer is `expected`: status, `error_code` and messages (`body` is
/// the answer's parsed JSON; its shape was checked with [`check_hygiene`]).
pub fn check_error(
    what: &str,
    expected: &ExpectedError,
    ex: &Exchange,
    body: Option<&Value>,
    judge: Judge,
) -> Result<(), Problem> {
    let error: ErrorV2 = body
        .and_then(|b| ErrorV2::deserialize(b).ok())
        .unwrap_or_default();
    let actual_messages: Vec<String> = error.messages().into_iter().map(str::to_owned).collect();
    let fail = || {
        Failure::new(
            format!(
                "{what}: answers {} {}",
                expected.status, expected.error_code
            ),
            render_expected_error(expected),
            render_actual(ex),
        )
    };
    if ex.status != expected.status || error.error_code.as_deref() != Some(expected.error_code) {
        return Err(fail().into());
    }
    let ok = messages_match(&expected.messages, &actual_messages, judge);
    if ok { Ok(()) } else { Err(fail().into()) }
}

/// The items of `Not matching fields: [a, b]`, or None for another message.
/// The list ends at the `]` that closes its `[`: Klarna may append an
/// explanation with brackets of its own (docs/klarna.md §10).
pub fn parse_not_matching(message: &str) -> Option<BTreeSet<String>> {
    const COUNT: &str = "Incorrect number of items in the cart.";
    let rest = message.strip_prefix("Not matching fields: [")?;
    let mut depth = 1usize;
    let end = rest.char_indices().find_map(|(i, c)| {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(i)
    })?;
    let inner = &rest[..end];
    let mut items = BTreeSet::new();
    // The item-count item holds ", " itself (`Expected: 2, Actual: 3`): take
    // it out whole before splitting the others.
    let others = match inner.find(COUNT) {
        Some(start) => {
            let after = &inner[start..];
            let digits_end = |from: usize| {
                from + after[from..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len() - from)
            };
            let len = after
                .find("Actual: ")
                .map_or(after.len(), |a| digits_end(a + "Actual: ".len()));
            items.insert(after[..len].to_owned());
            format!("{}{}", &inner[..start], &after[len..])
        }
        None => inner.to_owned(),
    };
    items.extend(
        others
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    Some(items)
}

/// The JSON paths `Bad value: ...` messages name: `Bad value: a, b` (joined,
/// docs/klarna.md §10) and `Bad value: a differs from ... [1]` (an explanation
/// appended, docs/klarna.md §10) both count; the explanation's words do not.
pub fn bad_value_paths<'m>(messages: impl IntoIterator<Item = &'m str>) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for message in messages {
        let Some(rest) = message.trim().strip_prefix("Bad value:") else {
            continue;
        };
        for piece in rest.split(',') {
            if let Some(token) = piece.split_whitespace().next()
                && looks_like_path(token)
            {
                paths.insert(token.to_owned());
            }
        }
    }
    paths
}

fn looks_like_path(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_lowercase())
        && token
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.[]".contains(c))
}

/// Whether `actual` messages say what `expected` ones do, by `judge`.
pub fn messages_match(expected: &ExpectedMessages, actual: &[String], judge: Judge) -> bool {
    match (judge, expected) {
        (Judge::Exact, ExpectedMessages::Exact(want)) => want == actual,
        (Judge::Exact, ExpectedMessages::NotMatching(want)) => {
            let want: BTreeSet<String> = want.iter().cloned().collect();
            actual.len() == 1 && parse_not_matching(&actual[0]).as_ref() == Some(&want)
        }
        (Judge::Named, _) => named_match(expected, actual),
    }
}

/// How a real target's messages are judged (docs/klarna.md §10: it appends
/// explanations and joins fields in one message in no stable order): the set
/// of paths or fields it names must equal the predicted set. Naming only the
/// first of two changed fields is a failure.
fn named_match(expected: &ExpectedMessages, actual: &[String]) -> bool {
    match expected {
        ExpectedMessages::NotMatching(want) => {
            let want: BTreeSet<String> = want.iter().cloned().collect();
            actual.len() == 1 && parse_not_matching(&actual[0]).is_some_and(|got| got == want)
        }
        ExpectedMessages::Exact(want) => {
            let wanted_paths = bad_value_paths(want.iter().map(String::as_str));
            if wanted_paths.is_empty() {
                // Not `Bad value` messages: each must open some message.
                want.iter()
                    .all(|w| actual.iter().any(|a| a.starts_with(w.as_str())))
            } else {
                bad_value_paths(actual.iter().map(String::as_str)) == wanted_paths
            }
        }
    }
}

fn render_expected_error(e: &ExpectedError) -> String {
    let messages = e.messages();
    let body = serde_json::json!({
        "error_code": e.error_code,
        "error_messages": messages,
    });
    format!(
        "{}\n{}",
        e.status,
        serde_json::to_string_pretty(&body).unwrap_or_default()
    )
}

/// Status and body of an exchange, pretty-printed for a diff.
pub fn render_actual(ex: &Exchange) -> String {
    format!(
        "{}\n{}",
        ex.status,
        crate::exchange::pretty(&ex.response_body)
    )
}

/// A line diff of expected against actual, every line shown: `-` lines
/// expected only, `+` lines actual only, two spaces for both (the same
/// algorithm as the snapshot diff, `similar`'s, shown whole rather than in hunks).
pub fn line_diff(expected: &str, actual: &str) -> String {
    // Every line ends in a newline, so a missing last one is no difference.
    let whole = |s: &str| s.lines().map(|l| format!("{l}\n")).collect::<String>();
    let (expected, actual) = (whole(expected), whole(actual));
    let diff = similar::TextDiff::from_lines(&expected, &actual);
    let mut out = String::from("--- expected\n+++ actual\n");
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "- ",
            similar::ChangeTag::Insert => "+ ",
            similar::ChangeTag::Equal => "  ",
        };
        out.push_str(sign);
        out.push_str(change.value());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_matching_parses_both_forms() {
        let items =
            parse_not_matching("Not matching fields: [billing_address.postal_code, order_amount]")
                .unwrap();
        assert_eq!(items.len(), 2);
        let count = parse_not_matching(
            "Not matching fields: [Incorrect number of items in the cart. Expected: 2, Actual: 3]",
        )
        .unwrap();
        assert_eq!(count.len(), 1);
        let mixed = parse_not_matching(
            "Not matching fields: [order_amount, Incorrect number of items in the cart. Expected: 2, Actual: 3, order_tax_amount]",
        )
        .unwrap();
        assert_eq!(
            mixed.into_iter().collect::<Vec<_>>(),
            [
                "Incorrect number of items in the cart. Expected: 2, Actual: 3",
                "order_amount",
                "order_tax_amount"
            ]
        );
        assert!(parse_not_matching("Bad value: order_amount").is_none());
    }

    #[test]
    fn an_explanation_after_the_list_is_not_an_item() {
        let items = parse_not_matching(
            "Not matching fields: [billing_address.family_name] (values differ [2])",
        )
        .unwrap();
        assert_eq!(
            items.into_iter().collect::<Vec<_>>(),
            ["billing_address.family_name"]
        );
    }

    fn not_matching(items: &[&str]) -> ExpectedMessages {
        ExpectedMessages::NotMatching(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn real_targets_must_name_every_mismatch_in_any_order() {
        let want = not_matching(&[
            "order_amount",
            "order_tax_amount",
            "Incorrect number of items in the cart. Expected: 2, Actual: 3",
        ]);
        let ok = |m: &str| named_match(&want, &[m.to_owned()]);
        // Naming only the item count leaves out two changed fields.
        assert!(!ok(
            "Not matching fields: [Incorrect number of items in the cart. Expected: 2, Actual: 3]"
        ));
        assert!(ok(
            "Not matching fields: [order_tax_amount, Incorrect number of items in the cart. Expected: 2, Actual: 3, order_amount]"
        ));
        assert!(!ok("Not matching fields: [billing_address.city]"));
        assert!(!ok("Not matching fields: []"));
        assert!(!ok("Bad value: order_amount"));
    }

    #[test]
    fn real_targets_are_judged_by_the_set_of_paths_they_name() {
        let want = ExpectedMessages::Exact(vec![
            "Bad value: order_amount".to_owned(),
            "Bad value: order_lines[4].total_amount".to_owned(),
        ]);
        let ok =
            |m: &[&str]| named_match(&want, &m.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        // One of the two paths named is not enough.
        assert!(!ok(&["Bad value: order_amount"]));
        assert!(ok(&[
            "Bad value: order_lines[4].total_amount differs from the calculated value [-2990] by more than [1]",
            "Bad value: order_amount",
        ]));
        assert!(ok(&[
            "Bad value: order_lines[4].total_amount, order_amount"
        ]));
        assert!(!ok(&["Bad value: purchase_currency"]));
        assert!(!ok(&["Bad value: order_amount", "Bad value: locale"]));
        assert!(!ok(&[]));
        let token = ExpectedMessages::Exact(vec!["Invalid authorization token".to_owned()]);
        assert!(named_match(
            &token,
            &["Invalid authorization token (expired)".to_owned()]
        ));
        assert!(!named_match(&token, &["Invalid session id".to_owned()]));
    }

    #[test]
    fn a_focused_diff_shows_only_the_named_fields() {
        let expected = "200\n{\"status\": \"CAPTURED\", \"captured_amount\": 10}";
        let actual = "200\n{\"status\": \"AUTHORIZED\", \"captured_amount\": 10, \"order_id\": \"o\", \"locale\": \"en-GB\"}";
        let d = focused_diff(expected, actual);
        assert!(d.contains("-   \"status\": \"CAPTURED\""), "{d}");
        assert!(d.contains("+   \"status\": \"AUTHORIZED\""), "{d}");
        assert!(!d.contains("order_id") && !d.contains("locale"), "{d}");
        assert!(d.contains("and 2 more fields"), "{d}");
        // Not JSON: the plain line diff.
        assert_eq!(
            focused_diff("409\nx", "200\ny"),
            line_diff("409\nx", "200\ny")
        );
    }

    #[test]
    fn diff_marks_changes() {
        let d = line_diff("409\nA\nB", "409\nA\nC");
        assert!(d.contains("- B") && d.contains("+ C") && d.contains("  A"));
    }
}
