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
#[derive(Default)]
pub(super) struct Ctx {
    pub(super) out: Vec<Violation>,
}

impl Ctx {
    pub(super) fn report<'p>(&mut self, grade: Grade, path: impl Into<Path<'p>>, rule: Rule) {
        let path = path.into().render();
        self.out.push(Violation {
            grade,
            message: format!("Bad value: {path}"),
            path,
            rule,
        });
    }

    pub(super) fn error<'p>(&mut self, path: impl Into<Path<'p>>, rule: Rule) {
        self.report(Grade::Error, path, rule);
    }

    pub(super) fn warn<'p>(&mut self, path: impl Into<Path<'p>>, rule: Rule) {
        self.report(Grade::Warning, path, rule);
    }

    /// Every `required` key that is absent or `null` (docs/klarna.md §2).
    pub(super) fn required(&mut self, obj: &Map<String, Value>, base: &str, keys: &[&str]) {
        for key in keys {
            if obj.get(*key).is_none_or(Value::is_null) {
                self.error(Path::Join(base, key), Rule::Required);
            }
        }
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
            _ => {
                self.error(path, Rule::Type);
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
            _ => {
                self.error(path, Rule::Type);
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
        let s = match obj.get(key)? {
            Value::Null => return None,
            Value::String(s) => s.as_str(),
            _ => {
                self.error(path, Rule::Type);
                return None;
            }
        };
        let len = s.chars().count();
        if len < min {
            self.error(path, Rule::MinLength);
        } else if len > max {
            self.error(path, Rule::MaxLength);
        }
        Some(s)
    }

    /// A string field that must match `ok` (a schema pattern or enum).
    pub(super) fn matching<'a, 'p>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: impl Into<Path<'p>>,
        rule: Rule,
        ok: impl Fn(&str) -> bool,
    ) -> Option<&'a str> {
        let path: Path<'p> = path.into();
        let s = self.string(obj, key, path, 0, usize::MAX)?;
        if ok(s) {
            Some(s)
        } else {
            self.error(path, rule);
            None
        }
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
        match read_int(obj.get(key)?) {
            Int::Absent => None,
            Int::Exact(n) => Some(n),
            Int::Truncated(n) => {
                self.warn(path, Rule::Type);
                Some(n)
            }
            Int::Bad => {
                self.error(path, Rule::Type);
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
            self.error(path, Rule::Type);
        }
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
