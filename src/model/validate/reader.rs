//! Reading raw JSON the way Klarna's parser does, recording violations on the way.

use serde_json::{Map, Value};

use super::{Grade, Rule, Violation};

/// A JSON path, written out only when a violation names it (validation runs
/// on every request of every sequence, and almost every field is fine).
#[derive(Debug, Clone, Copy)]
pub(super) enum Path<'a> {
    At(&'a str),
    /// `base.key` (or `key` when `base` is empty).
    Join(&'a str, &'a str),
}

impl Path<'_> {
    fn render(self) -> String {
        match self {
            Path::At(p) => p.to_owned(),
            Path::Join(base, key) => join(base, key),
        }
    }
}

impl<'a> From<&'a str> for Path<'a> {
    fn from(p: &'a str) -> Self {
        Path::At(p)
    }
}

impl<'a> From<&'a String> for Path<'a> {
    fn from(p: &'a String) -> Self {
        Path::At(p)
    }
}

/// Collects violations while the body is walked.
///
/// Every method records a violation with its explanation (`why`); the
/// explanation is built only on the branch that records it, never for a
/// value that is fine.
#[derive(Default)]
pub(super) struct Ctx {
    pub(super) out: Vec<Violation>,
}

impl Ctx {
    pub(super) fn report<'p>(
        &mut self,
        grade: Grade,
        path: impl Into<Path<'p>>,
        rule: Rule,
        why: String,
    ) {
        let path = path.into().render();
        self.out.push(Violation {
            grade,
            message: format!("Bad value: {path}"),
            path,
            rule,
            why,
        });
    }

    pub(super) fn error<'p>(&mut self, path: impl Into<Path<'p>>, rule: Rule, why: String) {
        self.report(Grade::Error, path, rule, why);
    }

    pub(super) fn warn<'p>(&mut self, path: impl Into<Path<'p>>, rule: Rule, why: String) {
        self.report(Grade::Warning, path, rule, why);
    }

    /// Every `required` key that is absent or `null` (docs/klarna.md §2).
    pub(super) fn required(&mut self, obj: &Map<String, Value>, base: &str, keys: &[&str]) {
        for key in keys {
            let value = obj.get(*key);
            if value.is_none_or(Value::is_null) {
                let path = join(base, key);
                let how = if value.is_some() {
                    "is null"
                } else {
                    "is missing"
                };
                let why = format!("{how}; the field is required ({})", cite(&path));
                self.error(&path, Rule::Required, why);
            }
        }
    }

    /// A value of the wrong JSON type: `expected {expected}, got {found}`.
    fn wrong_type(&mut self, path: Path<'_>, expected: &str, value: &Value) {
        let path = path.render();
        let why = format!(
            "expected {expected}, got {} ({})",
            found(value),
            cite(&path)
        );
        self.error(&path, Rule::Type, why);
    }

    /// An object-valued field: `None` when absent or null; a type error when
    /// it is something else.
    pub(super) fn object<'a, 'p>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: impl Into<Path<'p>>,
    ) -> Option<&'a Map<String, Value>> {
        let path: Path<'p> = path.into();
        match obj.get(key)? {
            Value::Null => None,
            Value::Object(m) => Some(m),
            other => {
                self.wrong_type(path, "an object {...}", other);
                None
            }
        }
    }

    /// An array-valued field, as [`Ctx::object`].
    pub(super) fn array<'a, 'p>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: impl Into<Path<'p>>,
    ) -> Option<&'a Vec<Value>> {
        let path: Path<'p> = path.into();
        match obj.get(key)? {
            Value::Null => None,
            Value::Array(a) => Some(a),
            other => {
                self.wrong_type(path, "an array [...]", other);
                None
            }
        }
    }

    /// A string field with a length range in characters (the schema's
    /// minLength / maxLength). Returns the string when it is one.
    pub(super) fn string<'a, 'p>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: impl Into<Path<'p>>,
        min: usize,
        max: usize,
    ) -> Option<&'a str> {
        let path: Path<'p> = path.into();
        let s = match obj.get(key)? {
            Value::Null => return None,
            Value::String(s) => s.as_str(),
            other => {
                self.wrong_type(path, "a string", other);
                return None;
            }
        };
        let len = s.chars().count();
        if len < min {
            let path = path.render();
            let why = format!("{}, at least {min} ({})", length(len), cite(&path));
            self.error(&path, Rule::MinLength, why);
        } else if len > max {
            let path = path.render();
            let why = format!("{}, at most {max} ({})", length(len), cite(&path));
            self.error(&path, Rule::MaxLength, why);
        }
        Some(s)
    }

    /// A string field that must have the form `form` (a schema pattern),
    /// judged by `ok`. Returns the string when it matches.
    pub(super) fn matching<'a, 'p>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: impl Into<Path<'p>>,
        form: &str,
        ok: impl Fn(&str) -> bool,
    ) -> Option<&'a str> {
        let path: Path<'p> = path.into();
        let s = self.string(obj, key, path, 0, usize::MAX)?;
        if ok(s) {
            Some(s)
        } else {
            let path = path.render();
            let why = format!("expected {form}, got {} ({})", quoted(s), cite(&path));
            self.error(&path, Rule::Pattern, why);
            None
        }
    }

    /// A string field that must be one of `allowed` (a schema enum, exact case).
    pub(super) fn one_of<'a, 'p>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: impl Into<Path<'p>>,
        allowed: &[&str],
    ) -> Option<&'a str> {
        let path: Path<'p> = path.into();
        let s = self.string(obj, key, path, 0, usize::MAX)?;
        if allowed.contains(&s) {
            return Some(s);
        }
        let path = path.render();
        let case = if allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) {
            " (the values are case-sensitive)"
        } else {
            ""
        };
        let why = format!(
            "expected one of {}, got {}{case} ({})",
            allowed.join(", "),
            quoted(s),
            cite(&path)
        );
        self.error(&path, Rule::Enum, why);
        None
    }

    /// An int64 field read as Klarna reads it. A fraction is truncated toward
    /// zero, as Jackson (Klarna's JSON reader) does by default: the playground
    /// answered quantity 0.5 with `Bad value: order_lines[1].total_amount`, the
    /// line total computed with quantity 0 (docs/klarna.md §10). The fraction itself
    /// is reported as a warning on its own path; the amount rules then judge the
    /// truncated value. A string, boolean or out-of-range number is an error.
    pub(super) fn int<'p>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: impl Into<Path<'p>>,
    ) -> Option<i64> {
        let path: Path<'p> = path.into();
        let value = obj.get(key)?;
        match read_int(value) {
            Int::Absent => None,
            Int::Exact(n) => Some(n),
            Int::Truncated(n) => {
                let why = format!(
                    "{value} is not an integer: Klarna truncates it to {n} and judges the \
                     other amounts with {n}; the playground answered a quantity of 0.5 as a \
                     wrong total_amount (docs/klarna.md §10)"
                );
                self.warn(path, Rule::Type, why);
                Some(n)
            }
            Int::Bad => {
                if value.is_number() {
                    let path = path.render();
                    let why = format!(
                        "{value} is outside the 64-bit integer range Klarna reads ({})",
                        cite(&path)
                    );
                    self.error(&path, Rule::Type, why);
                } else {
                    self.wrong_type(path, "an integer", value);
                }
                None
            }
        }
    }

    /// A boolean field.
    pub(super) fn boolean<'p>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: impl Into<Path<'p>>,
    ) {
        let path: Path<'p> = path.into();
        if let Some(v) = obj.get(key)
            && !(v.is_boolean() || v.is_null())
        {
            self.wrong_type(path, "true or false", v);
        }
    }

    /// A number below its minimum: `is {n}, at least {min}`.
    pub(super) fn below<'p>(&mut self, path: impl Into<Path<'p>>, n: i64, min: i64, note: &str) {
        let path = path.into().render();
        let why = format!("is {n}, at least {min}{note} ({})", cite(&path));
        self.error(&path, Rule::Minimum, why);
    }

    /// A number above its maximum: `is {n}, at most {max}`.
    pub(super) fn above<'p>(&mut self, path: impl Into<Path<'p>>, n: i64, max: i64, note: &str) {
        let path = path.into().render();
        let why = format!("is {n}, at most {max}{note} ({})", cite(&path));
        self.error(&path, Rule::Maximum, why);
    }
}

/// `is 300 characters`, `is empty`, `is 1 character`.
pub(super) fn length(len: usize) -> String {
    match len {
        0 => "is empty".to_owned(),
        1 => "is 1 character".to_owned(),
        n => format!("is {n} characters"),
    }
}

/// A JSON value as a user wrote it: `12`, `true`, `"abc"`, `an array`.
pub(super) fn found(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// A string in quotes, cut after 40 characters (`"abc…"`).
pub(super) fn quoted(s: &str) -> String {
    const SHOWN: usize = 40;
    match s.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}

/// Where a field's type and limits are documented, by its path:
/// `docs/klarna.md §2.2` for an order line's fields, and so on.
pub(super) fn cite(path: &str) -> &'static str {
    let top = path.split(['.', '[']).next().unwrap_or_default();
    let nested = path.len() > top.len();
    match top {
        "order_lines" if nested => "docs/klarna.md §2.2",
        "billing_address" | "shipping_address" if nested => "docs/klarna.md §2.3",
        "customer" if nested => "docs/klarna.md §2.4",
        "merchant_urls" if nested => "docs/klarna.md §2.5",
        // customer_token_creation_request.
        "description" | "intended_use" => "docs/klarna.md §2.6",
        _ => "docs/klarna.md §2.1",
    }
}

/// An integer as Klarna's reader sees it.
pub(super) enum Int {
    Absent,
    Exact(i64),
    Truncated(i64),
    Bad,
}

pub(super) fn read_int(v: &Value) -> Int {
    match v {
        Value::Null => Int::Absent,
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Int::Exact(i);
            }
            match n.as_f64() {
                // 2^63 is the first f64 above i64::MAX.
                Some(f) if f.is_finite() && f.abs() < 9_223_372_036_854_775_808.0 => {
                    // In range, so the cast is exact for the truncated value.
                    if f.fract() == 0.0 {
                        Int::Exact(f as i64)
                    } else {
                        Int::Truncated(f.trunc() as i64)
                    }
                }
                _ => Int::Bad,
            }
        }
        _ => Int::Bad,
    }
}

/// `base.key`, or `key` at the top level.
pub(super) fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_owned()
    } else {
        format!("{base}.{key}")
    }
}

/// `^[A-Za-z]{n,n}$`: the country (2) and currency (3) patterns.
pub(super) fn letters(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_alphabetic())
}
