//! The validator: walks the compiled schemas against one JSON value and
//! reports every violation with its path in the instance.

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde_json::{Number, Value};

use super::SchemaError;
use super::schema::{Additional, Dir, Format, MAX_DEPTH, Node, NodeId, Ref, Schemas, Types};

impl Schemas {
    pub(crate) fn validate(&self, id: NodeId, value: &Value, dir: Dir) -> Vec<SchemaError> {
        let mut v = Validator {
            s: self,
            dir,
            path: Vec::new(),
            errors: Vec::new(),
        };
        v.check(id, value, 0);
        v.errors
    }
}

enum Seg<'v> {
    Key(&'v str),
    Index(usize),
}

struct Validator<'v> {
    s: &'v Schemas,
    dir: Dir,
    path: Vec<Seg<'v>>,
    errors: Vec<SchemaError>,
}

impl<'v> Validator<'v> {
    /// Paths are rendered only when an error is reported: valid bodies, the
    /// common case, allocate nothing for them.
    fn report(&mut self, message: String) {
        let mut path = String::new();
        for seg in &self.path {
            match seg {
                Seg::Index(i) => {
                    let _ = write!(path, "[{i}]");
                }
                Seg::Key(k)
                    if !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                }
                Seg::Key(k) => {
                    let _ = write!(path, "[{}]", Value::String(k.to_string()));
                }
            }
        }
        self.errors.push(SchemaError { path, message });
    }

    /// Validates with errors collected apart from the real ones; for
    /// `anyOf`/`oneOf`/`not`, where a failing branch is not itself an error.
    fn trial(&mut self, id: NodeId, value: &'v Value, depth: usize) -> Vec<SchemaError> {
        let outer = std::mem::take(&mut self.errors);
        self.check(id, value, depth + 1);
        std::mem::replace(&mut self.errors, outer)
    }

    fn check(&mut self, id: NodeId, value: &'v Value, depth: usize) {
        if depth > MAX_DEPTH {
            self.report(format!(
                "nested deeper than {MAX_DEPTH} levels; not validated further"
            ));
            return;
        }
        let s = self.s;
        let n = &s.nodes[id];
        match &n.reference {
            Some(Ref::To(t)) => return self.check(*t, value, depth + 1),
            Some(Ref::Unresolved(why)) => return self.report(format!("schema unusable: {why}")),
            None => {}
        }
        if value.is_null() && n.nullable {
            return;
        }
        if let Some(t) = n.types
            && t.0 & Types::of(value) == 0
        {
            // One clear message; the other keywords would only repeat it.
            return self.report(format!("expected {}, found {}", t.names(), describe(value)));
        }
        match value {
            Value::String(text) => self.check_string(n, text),
            Value::Number(num) => self.check_number(n, num),
            Value::Array(items) => self.check_array(n, items, depth),
            Value::Object(map) => self.check_object(n, map, depth),
            Value::Null | Value::Bool(_) => {}
        }
        if let Some(values) = &n.enumeration
            && !values.iter().any(|e| json_eq(e, value))
        {
            let allowed: Vec<String> = values.iter().map(Value::to_string).collect();
            self.report(format!(
                "{} is not one of {}",
                describe(value),
                allowed.join(", ")
            ));
        }
        for &part in &n.all_of {
            self.check(part, value, depth + 1);
        }
        if !n.any_of.is_empty()
            && !n
                .any_of
                .iter()
                .any(|&p| self.trial(p, value, depth).is_empty())
        {
            self.report(format!(
                "matches none of the {} anyOf schemas",
                n.any_of.len()
            ));
        }
        if !n.one_of.is_empty() {
            let matching = n
                .one_of
                .iter()
                .filter(|&&p| self.trial(p, value, depth).is_empty())
                .count();
            if matching != 1 {
                self.report(format!(
                    "matches {matching} of the oneOf schemas, not exactly one"
                ));
            }
        }
        if let Some(not) = n.not
            && self.trial(not, value, depth).is_empty()
        {
            self.report("matches the schema under `not`".to_string());
        }
    }

    fn check_string(&mut self, n: &Node, text: &str) {
        // JSON Schema lengths count characters (code points), not UTF-8 bytes.
        if n.min_length.is_some() || n.max_length.is_some() {
            let len = text.chars().count() as u64;
            if let Some(min) = n.min_length.filter(|&m| len < m) {
                self.report(format!("length {len} is below minLength {min}"));
            }
            if let Some(max) = n.max_length.filter(|&m| len > m) {
                self.report(format!("length {len} is above maxLength {max}"));
            }
        }
        // Unanchored search, as JSON Schema specifies; Klarna anchors most of
        // its patterns itself with ^...$.
        if let Some((source, re)) = &n.pattern
            && !re.is_match(text)
        {
            self.report(format!(
                "{} does not match pattern {source}",
                describe_str(text)
            ));
        }
        let ok = match n.format {
            Format::DateTime => is_date_time(text),
            Format::Date => is_date(text),
            _ => true,
        };
        if !ok {
            let f = if n.format == Format::Date {
                "date"
            } else {
                "date-time"
            };
            self.report(format!("{} is not an RFC 3339 {f}", describe_str(text)));
        }
    }

    fn check_number(&mut self, n: &Node, num: &Number) {
        let (lo, hi, name) = match n.format {
            Format::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX), "int32"),
            Format::Int64 => (i64::MIN, i64::MAX, "int64"),
            _ => (0, 0, ""),
        };
        if !name.is_empty() && !num.as_i64().is_some_and(|i| (lo..=hi).contains(&i)) {
            self.report(format!("{num} is not a {name}"));
        }
        if let Some(b) = &n.minimum
            && let Some(ord) = cmp_num(num, &b.limit)
            && (ord == Ordering::Less || (b.exclusive && ord == Ordering::Equal))
        {
            let word = if b.exclusive {
                "exclusiveMinimum"
            } else {
                "minimum"
            };
            self.report(format!("{num} is below {word} {}", b.limit));
        }
        if let Some(b) = &n.maximum
            && let Some(ord) = cmp_num(num, &b.limit)
            && (ord == Ordering::Greater || (b.exclusive && ord == Ordering::Equal))
        {
            let word = if b.exclusive {
                "exclusiveMaximum"
            } else {
                "maximum"
            };
            self.report(format!("{num} is above {word} {}", b.limit));
        }
    }

    fn check_array(&mut self, n: &'v Node, items: &'v [Value], depth: usize) {
        let len = items.len() as u64;
        if let Some(min) = n.min_items.filter(|&m| len < m) {
            self.report(format!("{len} items, fewer than minItems {min}"));
        }
        if let Some(max) = n.max_items.filter(|&m| len > m) {
            self.report(format!("{len} items, more than maxItems {max}"));
        }
        if n.unique_items {
            let dup = (1..items.len()).find_map(|j| {
                (0..j)
                    .find(|&i| json_eq(&items[i], &items[j]))
                    .map(|i| (i, j))
            });
            if let Some((i, j)) = dup {
                self.report(format!(
                    "items {i} and {j} are equal but uniqueItems is set"
                ));
            }
        }
        if let Some(item_schema) = n.items {
            for (i, item) in items.iter().enumerate() {
                self.path.push(Seg::Index(i));
                self.check(item_schema, item, depth + 1);
                self.path.pop();
            }
        }
    }

    fn check_object(&mut self, n: &'v Node, map: &'v serde_json::Map<String, Value>, depth: usize) {
        for name in &n.required {
            if map.contains_key(name) {
                continue;
            }
            // OpenAPI 3.0: a readOnly required property is required only in
            // responses, a writeOnly one only in requests.
            let exempt = n.properties.get(name).is_some_and(|&p| {
                let p = &self.s.nodes[self.s.target(p)];
                (self.dir == Dir::Request && p.read_only)
                    || (self.dir == Dir::Response && p.write_only)
            });
            if !exempt {
                // The path names the missing property itself, as Klarna's own
                // messages do ("Missing field: order_lines").
                self.path.push(Seg::Key(name));
                self.report("required property is missing".to_string());
                self.path.pop();
            }
        }
        for (key, value) in map {
            let schema = match (n.properties.get(key), &n.additional) {
                (Some(&p), _) => {
                    if self.dir == Dir::Request && self.s.nodes[self.s.target(p)].read_only {
                        continue;
                    }
                    p
                }
                (None, Additional::Schema(p)) => *p,
                (None, Additional::Allowed) => continue,
                (None, Additional::Forbidden) => {
                    self.path.push(Seg::Key(key));
                    self.report(
                        "property is not allowed (additionalProperties: false)".to_string(),
                    );
                    self.path.pop();
                    continue;
                }
            };
            self.path.push(Seg::Key(key));
            self.check(schema, value, depth + 1);
            self.path.pop();
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("integer {n}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => describe_str(s),
        Value::Array(a) => format!("array of {} items", a.len()),
        Value::Object(_) => "object".into(),
    }
}

/// Quoted, and cut short: a 6000-character merchant_data in an error message
/// helps nobody.
fn describe_str(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        return format!("string {}", Value::String(s.to_string()));
    }
    let head: String = s.chars().take(MAX).collect();
    format!("string {}...", Value::String(head))
}

/// Exact for integers (amounts near 2^63 must not round), f64 otherwise.
fn cmp_num(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// JSON equality for `enum` and `uniqueItems`: 1 and 1.0 are the same number.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_num(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// RFC 3339 `full-date`: YYYY-MM-DD with a day that exists in that month.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || !s.is_ascii() || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (digits(&s[0..4]), digits(&s[5..7]), digits(&s[8..10]))
    else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// RFC 3339 `date-time`: full-date "T" HH:MM:SS[.frac] (Z | +HH:MM | -HH:MM).
/// A space instead of "T" is refused: JSON Schema takes the strict grammar.
fn is_date_time(s: &str) -> bool {
    let Some((date, time)) = s.split_once(['T', 't']) else {
        return false;
    };
    // ASCII only, so that the byte slicing below cannot split a character.
    if !is_date(date) || time.len() < 9 || !time.is_ascii() {
        return false;
    }
    let (hms, mut rest) = time.split_at(8);
    let hms_ok = hms.as_bytes()[2] == b':'
        && hms.as_bytes()[5] == b':'
        && digits(&hms[0..2]).is_some_and(|h| h < 24)
        && digits(&hms[3..5]).is_some_and(|m| m < 60)
        // 60 allows a leap second.
        && digits(&hms[6..8]).is_some_and(|s| s <= 60);
    if !hms_ok {
        return false;
    }
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        "Z" | "z" => true,
        off => {
            let b = off.as_bytes();
            b.len() == 6
                && (b[0] == b'+' || b[0] == b'-')
                && b[3] == b':'
                && digits(&off[1..3]).is_some_and(|h| h < 24)
                && digits(&off[4..6]).is_some_and(|m| m < 60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_follows_rfc_3339() {
        for ok in [
            "2038-01-19T03:14:07.000Z",
            "2015-11-19T01:51:17Z",
            "2024-02-29T23:59:60+05:30",
            "2020-01-01t00:00:00z",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "2038-01-19 03:14:07Z",
            "2038-01-19T03:14:07",
            "2023-02-29T00:00:00Z",
            "2038-13-19T03:14:07Z",
            "2038-01-19T24:00:00Z",
            "2038-01-19T03:14:07.Z",
            "2038-01-19T03:14:07+0100",
            "2038-01-19T03:14:0é",
            "",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
        assert!(is_date("2000-02-29") && !is_date("1900-02-29") && !is_date("1978-1-31"));
    }
}
