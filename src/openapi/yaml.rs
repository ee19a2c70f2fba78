//! YAML text -> `serde_json::Value`, keeping what a JSON reader of the same
//! document would see: integers stay integers, quoted scalars stay strings,
//! and mapping keys (`'200'` or a bare `200`) become strings.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Deeper nesting than this is refused rather than risking the stack: real
/// OpenAPI documents nest a few dozen levels at most.
const MAX_DEPTH: usize = 256;

/// Parses the first document of `text`. The error is a message carrying the
/// line and column when the parser reports them.
pub(crate) fn to_json(text: &str) -> Result<Value, String> {
    // yaml-rust2 is not ours to audit; a panic on hostile input must become an
    // error, because callers rely on `OpenApi::parse` never panicking.
    let parsed = std::panic::catch_unwind(|| YamlLoader::load_from_str(text))
        .map_err(|_| "the YAML parser panicked on this input".to_string())?;
    let docs = parsed.map_err(|e| {
        let m = e.marker();
        format!("{} at line {} column {}", e.info(), m.line(), m.col() + 1)
    })?;
    let first = docs.into_iter().next().unwrap_or(Yaml::Null);
    convert(&first, 0)
}

fn convert(y: &Yaml, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nesting deeper than {MAX_DEPTH} levels"));
    }
    Ok(match y {
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(s) => real(s),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| convert(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(h) => {
            let mut map = Map::with_capacity(h.len());
            for (k, v) in h {
                map.insert(key(k, depth)?, convert(v, depth + 1)?);
            }
            Value::Object(map)
        }
        // The loader resolves aliases to copies; a leftover alias or a bad
        // value has no JSON meaning, and null is what a missing value reads as.
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => Value::Null,
    })
}

/// A float that JSON can hold; `.nan`/`.inf` cannot be a JSON number, so they
/// keep their spelling as a string rather than vanishing.
fn real(s: &str) -> Value {
    let parsed = match s.trim_start_matches('+') {
        ".inf" | ".Inf" | ".INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN" => None,
        t => t.parse::<f64>().ok(),
    };
    parsed
        .and_then(Number::from_f64)
        .map_or_else(|| Value::String(s.to_string()), Value::Number)
}

/// JSON keys are strings: `200:` and `'200':` both mean the key "200".
fn key(k: &Yaml, depth: usize) -> Result<String, String> {
    Ok(match k {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => "null".to_string(),
        // A sequence or mapping used as a key: keep its JSON text so that the
        // document still loads (OpenAPI never does this).
        Yaml::Array(_) | Yaml::Hash(_) => convert(k, depth + 1)?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_keep_their_json_types() {
        let v = to_json(
            "a: 2000\nb: '1978-12-31'\nc: 1978-12-31\nd: 1.5\ne: true\nf:\n'200': x\n201: y\ng: '+44'\nh: -7\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"a": 2000, "b": "1978-12-31", "c": "1978-12-31", "d": 1.5, "e": true,
                   "f": null, "200": "x", "201": "y", "g": "+44", "h": -7})
        );
        assert!(v["a"].is_i64());
    }

    #[test]
    fn anchors_resolve_and_odd_floats_survive() {
        let v = to_json("a: &x {k: 1}\nb: *x\nc: .nan\nd: [1, [2]]\n").unwrap();
        assert_eq!(v["b"], json!({"k": 1}));
        assert_eq!(v["c"], json!(".nan"));
        assert_eq!(v["d"], json!([1, [2]]));
    }

    #[test]
    fn malformed_yaml_reports_a_position() {
        let err = to_json("a: [1, 2\nb: }").unwrap_err();
        assert!(err.contains("line"), "{err}");
        assert_eq!(to_json("").unwrap(), Value::Null);
    }
}
