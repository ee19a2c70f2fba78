//! Dotted JSON paths (`billing_address.postal_code`, `order_lines[1].quantity`)
//! and `{name}` references, the two small languages of scenario files.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A parsed dotted path, kept with its text for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    segments: Vec<Segment>,
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl JsonPath {
    /// Parses `a.b[0].c`; keys are anything but `.`, `[` and `]`.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let bad = |why: &str| format!("bad JSON path `{text}`: {why}");
        if text.is_empty() {
            return Err(bad("empty"));
        }
        let mut segments = Vec::new();
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.contains(']') {
                return Err(bad("unbalanced `]`"));
            }
            // `[0].x` indexes a top-level array (a list of captures).
            let top_level_index = segments.is_empty() && !rest.is_empty();
            if key.is_empty() && !top_level_index {
                return Err(bad("empty key"));
            }
            if !key.is_empty() {
                segments.push(Segment::Key(key.to_owned()));
            }
            while !rest.is_empty() {
                let close = rest.find(']').ok_or_else(|| bad("unclosed `[`"))?;
                let index: usize = rest[1..close]
                    .parse()
                    .map_err(|_| bad("an index must be a non-negative integer"))?;
                segments.push(Segment::Index(index));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(bad("expected `.` or `[` after `]`"));
                }
            }
        }
        Ok(JsonPath {
            text: text.to_owned(),
            segments,
        })
    }

    /// The value at this path, if every step exists.
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.segments.iter().try_fold(value, |v, s| match s {
            Segment::Key(k) => v.get(k),
            Segment::Index(i) => v.get(i),
        })
    }

    /// Writes `new` at this path, creating missing objects on the way; an index
    /// may name an existing element or the next one (append).
    pub fn set(&self, root: &mut Value, new: Value) -> Result<(), String> {
        let mut node = root;
        for (i, seg) in self.segments.iter().enumerate() {
            let last = i + 1 == self.segments.len();
            node = match seg {
                Segment::Key(k) => {
                    if node.is_null() {
                        *node = Value::Object(Map::new());
                    }
                    let obj = node.as_object_mut().ok_or_else(|| {
                        format!(
                            "cannot set `{self}`: `{k}` is inside something that is not an object"
                        )
                    })?;
                    if last {
                        obj.insert(k.clone(), new);
                        return Ok(());
                    }
                    obj.entry(k.clone()).or_insert(Value::Null)
                }
                Segment::Index(idx) => {
                    let arr = node.as_array_mut().ok_or_else(|| {
                        format!("cannot set `{self}`: index [{idx}] is not inside an array")
                    })?;
                    if *idx == arr.len() {
                        arr.push(Value::Null);
                    }
                    let len = arr.len();
                    let slot = arr.get_mut(*idx).ok_or_else(|| {
                        format!("cannot set `{self}`: index [{idx}] is beyond the {len} elements")
                    })?;
                    if last {
                        *slot = new;
                        return Ok(());
                    }
                    slot
                }
            };
        }
        *node = new;
        Ok(())
    }

    /// Removes the value at this path; removing what is not there is not an error
    /// (the body already lacks it).
    pub fn remove(&self, root: &mut Value) {
        let Some((last, parents)) = self.segments.split_last() else {
            return;
        };
        let mut node = root;
        for seg in parents {
            let next = match seg {
                Segment::Key(k) => node.get_mut(k),
                Segment::Index(i) => node.get_mut(*i),
            };
            match next {
                Some(n) => node = n,
                None => return,
            }
        }
        match (last, node) {
            (Segment::Key(k), Value::Object(o)) => {
                o.remove(k);
            }
            (Segment::Index(i), Value::Array(a)) if *i < a.len() => {
                a.remove(*i);
            }
            _ => {}
        }
    }
}

/// Whether `name` can be a reference name: `[a-z_][a-z0-9_]*`.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The `{name}` references in a string. Braces around anything that is not a
/// name (JSON text, Klarna's `{session.id}` placeholders) are left alone, and
/// `{{` is a literal `{` (so `{{name}` is sent as `{name}`).
pub fn references(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(escaped) = after.strip_prefix('{') {
            rest = escaped;
            continue;
        }
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// Escapes text so that it is sent as written: every `{` that would start a
/// reference (or an escape) is doubled.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        out.push_str(&rest[..=open]);
        let starts_reference = after.starts_with('{')
            || after
                .find('}')
                .is_some_and(|close| is_name(&after[..close]));
        if starts_reference {
            out.push('{');
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Replaces every `{name}` reference with its value.
pub fn interpolate(text: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(escaped) = after.strip_prefix('{') {
            out.push_str(&rest[..=open]);
            rest = escaped;
            continue;
        }
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                let name = &after[..close];
                let value = values
                    .get(name)
                    .ok_or_else(|| format!("`{{{name}}}` has no value yet"))?;
                out.push_str(&rest[..open]);
                out.push_str(value);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Interpolates every string inside a JSON value (keys are left as written).
pub fn interpolate_json(value: &Value, values: &BTreeMap<String, String>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(interpolate(s, values)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| interpolate_json(v, values))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), interpolate_json(v, values)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Every reference inside the strings of a JSON value.
pub fn json_references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.extend(references(s).into_iter().map(str::to_owned)),
        Value::Array(a) => a.iter().for_each(|v| json_references(v, out)),
        Value::Object(o) => o.values().for_each(|v| json_references(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        let mut v =
            json!({"order_lines": [{"quantity": 1}], "billing_address": {"postal_code": "1"}});
        let p = JsonPath::parse("order_lines[0].quantity").unwrap();
        assert_eq!(p.get(&v), Some(&json!(1)));
        p.set(&mut v, json!(3)).unwrap();
        JsonPath::parse("order_lines[1]")
            .unwrap()
            .set(&mut v, json!({"name": "x"}))
            .unwrap();
        assert_eq!(v["order_lines"][1]["name"], "x");
        JsonPath::parse("merchant_urls.confirmation")
            .unwrap()
            .set(&mut v, json!("https://shop.example/done"))
            .unwrap();
        assert_eq!(
            v["merchant_urls"]["confirmation"],
            "https://shop.example/done"
        );
        JsonPath::parse("billing_address.postal_code")
            .unwrap()
            .remove(&mut v);
        assert_eq!(v["billing_address"], json!({}));
        assert!(
            JsonPath::parse("order_lines[9].x")
                .unwrap()
                .set(&mut v, json!(1))
                .is_err()
        );
        for bad in ["", "a..b", "a[x]", "a[1", "a]b", "a[0]b"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_leading_index_reads_a_top_level_array() {
        let v = json!([{"capture_id": "c-1"}, {"capture_id": "c-2"}]);
        let p = JsonPath::parse("[1].capture_id").unwrap();
        assert_eq!(p.get(&v), Some(&json!("c-2")));
        assert!(JsonPath::parse("[2]").unwrap().get(&v).is_none());
        // Only at the start: `a.[0]` is still an empty key.
        assert!(JsonPath::parse("a.[0]").is_err());
    }

    #[test]
    fn references_skip_json_and_klarna_placeholders() {
        assert_eq!(
            references(r#"{"a": "{token}", "u": "https://x/{session.id}", "e": {}}"#),
            vec!["token"]
        );
        let values = BTreeMap::from([("token".to_owned(), "abc".to_owned())]);
        assert_eq!(
            interpolate("/x/{token}/order?{session.id}", &values).unwrap(),
            "/x/abc/order?{session.id}"
        );
        assert!(interpolate("{nope}", &values).is_err());
        assert_eq!(interpolate("{{token}", &values).unwrap(), "{token}");
        assert!(references("{{token}").is_empty());
        assert_eq!(escape("a {token} {x.y}"), "a {{token} {x.y}");
    }
}
