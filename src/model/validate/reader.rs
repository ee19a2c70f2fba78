//! Reading raw JSON the way Klarna's parser does, recording violations on the way.

use serde_json::{Map, Value};

use super::{Grade, Rule, Violation};

/// Collects violations while the body is walked.
#[derive(Default)]
pub(super) struct Ctx {
    pub(super) out: Vec<Violation>,
}

impl Ctx {
    pub(super) fn report(&mut self, grade: Grade, path: &str, rule: Rule) {
        self.out.push(Violation {
            grade,
            path: path.to_owned(),
            rule,
            message: format!("Bad value: {path}"),
        });
    }

    pub(super) fn error(&mut self, path: &str, rule: Rule) {
        self.report(Grade::Error, path, rule);
    }

    pub(super) fn warn(&mut self, path: &str, rule: Rule) {
        self.report(Grade::Warning, path, rule);
    }

    /// Every `required` key that is absent or `null` (reference 2).
    pub(super) fn required(&mut self, obj: &Map<String, Value>, base: &str, keys: &[&str]) {
        for key in keys {
            if obj.get(*key).is_none_or(Value::is_null) {
                self.error(&join(base, key), Rule::Required);
            }
        }
    }

    /// An object-valued field: `None` when absent or null; a type error when
    /// it is something else.
    pub(super) fn object<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'a Map<String, Value>> {
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
    pub(super) fn array<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'a Vec<Value>> {
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
    pub(super) fn string<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
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
    pub(super) fn matching<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
        rule: Rule,
        ok: impl Fn(&str) -> bool,
    ) -> Option<&'a str> {
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
    /// line total computed with quantity 0 (reference 10). The fraction itself
    /// is reported as a warning on its own path; the amount rules then judge the
    /// truncated value. A string, boolean or out-of-range number is an error.
    pub(super) fn int(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<i64> {
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
    pub(super) fn boolean(&mut self, obj: &Map<String, Value>, key: &str, path: &str) {
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
