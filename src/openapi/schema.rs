//! Schemas compiled once at load time into an arena of nodes (refs become
//! indices, patterns become compiled regexes), then a validator and an example
//! builder that walk the arena. Nothing here re-reads the document per call.
//!
//! The keyword set is the OpenAPI 3.0 subset Klarna's Payments and Order
//! Management documents use, plus the few neighbours that cost nothing
//! (`not`, `writeOnly`, 3.1-style type lists and numeric exclusive bounds).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use regex_lite::Regex;
use serde_json::{Number, Value};

pub(crate) type NodeId = usize;

/// Validation deeper than this (instance nesting plus `$ref`/`allOf` hops) is
/// reported instead of overflowing the stack; a self-referencing `allOf` would
/// otherwise never stop.
pub(super) const MAX_DEPTH: usize = 200;

/// Which way the body travels: `readOnly`/`writeOnly` change what is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// A bare schema check: every `required` applies.
    Neutral,
    /// Client to server: readOnly properties are neither required nor judged,
    /// because Klarna ignores them (they echo what a read returned).
    Request,
    /// Server to client: writeOnly properties are not required.
    Response,
}

/// JSON types as a bit set, so that 3.1-style `type: [string, "null"]` needs no
/// special case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Types(pub(super) u8);

pub(super) const T_NULL: u8 = 1;
pub(super) const T_BOOLEAN: u8 = 2;
pub(super) const T_INTEGER: u8 = 4;
pub(super) const T_NUMBER: u8 = 8;
pub(super) const T_STRING: u8 = 16;
pub(super) const T_ARRAY: u8 = 32;
pub(super) const T_OBJECT: u8 = 64;
pub(super) const TYPE_NAMES: [(u8, &str); 7] = [
    (T_NULL, "null"),
    (T_BOOLEAN, "boolean"),
    (T_INTEGER, "integer"),
    (T_NUMBER, "number"),
    (T_STRING, "string"),
    (T_ARRAY, "array"),
    (T_OBJECT, "object"),
];

impl Types {
    pub(super) fn of(v: &Value) -> u8 {
        match v {
            Value::Null => T_NULL,
            Value::Bool(_) => T_BOOLEAN,
            // JSON Schema draft 4 (OpenAPI 3.0's base): an integer has no
            // fraction part, so 1.0 is a number, as it is to serde's i64.
            Value::Number(n) if n.is_i64() || n.is_u64() => T_INTEGER | T_NUMBER,
            Value::Number(_) => T_NUMBER,
            Value::String(_) => T_STRING,
            Value::Array(_) => T_ARRAY,
            Value::Object(_) => T_OBJECT,
        }
    }
    pub(super) fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
    pub(super) fn names(self) -> String {
        let names: Vec<&str> = TYPE_NAMES
            .iter()
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, n)| *n)
            .collect();
        names.join(" or ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Format {
    #[default]
    Unchecked,
    Int32,
    Int64,
    DateTime,
    Date,
}

#[derive(Debug, Clone)]
pub(super) struct Bound {
    pub(super) limit: Number,
    pub(super) exclusive: bool,
}

#[derive(Debug, Clone, Default)]
pub(super) enum Additional {
    /// Absent or `true`: Klarna adds fields over time, so unknown properties
    /// are not errors.
    #[default]
    Allowed,
    Forbidden,
    Schema(NodeId),
}

#[derive(Debug, Clone)]
pub(super) enum Ref {
    To(NodeId),
    Unresolved(String),
}

#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    /// OpenAPI 3.0: a `$ref` object's siblings are ignored.
    pub(super) reference: Option<Ref>,
    pub(super) types: Option<Types>,
    pub(super) nullable: bool,
    pub(super) format: Format,
    pub(super) properties: BTreeMap<String, NodeId>,
    pub(super) required: Vec<String>,
    pub(super) additional: Additional,
    pub(super) items: Option<NodeId>,
    pub(super) min_items: Option<u64>,
    pub(super) max_items: Option<u64>,
    pub(super) unique_items: bool,
    pub(super) min_length: Option<u64>,
    pub(super) max_length: Option<u64>,
    pub(super) pattern: Option<(String, Arc<Regex>)>,
    pub(super) enumeration: Option<Vec<Value>>,
    pub(super) minimum: Option<Bound>,
    pub(super) maximum: Option<Bound>,
    pub(super) all_of: Vec<NodeId>,
    pub(super) any_of: Vec<NodeId>,
    pub(super) one_of: Vec<NodeId>,
    pub(super) not: Option<NodeId>,
    pub(super) read_only: bool,
    pub(super) write_only: bool,
    pub(super) example: Option<Value>,
    pub(super) default: Option<Value>,
}

/// Every schema of one document, compiled.
#[derive(Debug, Default)]
pub(crate) struct Schemas {
    pub(super) nodes: Vec<Node>,
    /// `$ref` target (a local JSON pointer) -> node, so each target is compiled once.
    pub(super) by_pointer: HashMap<String, NodeId>,
    /// Refs allocated but not yet compiled; compiled by a loop, not by
    /// recursion, so that long `$ref` chains cannot exhaust the stack.
    pub(super) pending: Vec<(NodeId, String)>,
    pub(super) regexes: HashMap<String, Arc<Regex>>,
    pub(crate) by_name: BTreeMap<String, NodeId>,
    /// What was odd about the document: ignored keywords, bad patterns, refs
    /// that lead nowhere. Each names the schema location.
    pub(crate) warnings: Vec<String>,
}

/// JSON pointer token escaping (RFC 6901).
fn escape_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Undoes RFC 6901 escaping and the URI percent-encoding a `$ref` fragment may
/// carry (`No%20such%20order` and `No such order` both occur in the wild).
fn unescape_token(s: &str) -> String {
    let mut bytes = Vec::with_capacity(s.len());
    let raw = s.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (raw[i], hex) {
            (b'%', Some(b)) => {
                bytes.push(b);
                i += 3;
            }
            (c, _) => {
                bytes.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes)
        .replace("~1", "/")
        .replace("~0", "~")
}

/// The value a local `$ref` (`#/a/b`) points at.
pub(crate) fn resolve_pointer<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(doc);
    }
    let mut v = doc;
    for token in pointer.strip_prefix('/')?.split('/') {
        let token = unescape_token(token);
        v = match v {
            Value::Object(m) => m.get(&token)?,
            Value::Array(a) => a.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

impl Schemas {
    /// Compiles every `components/schemas` entry (and what they reference).
    pub(crate) fn new(doc: &Value) -> Schemas {
        let mut s = Schemas::default();
        if let Some(Value::Object(m)) = doc.pointer("/components/schemas") {
            for name in m.keys() {
                let id = s.reference(&format!("#/components/schemas/{}", escape_token(name)));
                if let Ref::To(id) = id {
                    s.by_name.insert(name.clone(), id);
                }
            }
        }
        s.finish(doc);
        s
    }

    /// Compiles a schema that lives inline (in a response or request body).
    pub(crate) fn inline(&mut self, doc: &Value, schema: &Value, loc: &str) -> NodeId {
        let id = self.alloc();
        self.compile_into(id, schema, loc, 0);
        self.finish(doc);
        id
    }

    fn alloc(&mut self) -> NodeId {
        self.nodes.push(Node::default());
        self.nodes.len() - 1
    }

    /// The node for a `$ref`, allocated now and compiled by `finish`.
    fn reference(&mut self, reference: &str) -> Ref {
        if !reference.starts_with('#') {
            return Ref::Unresolved(format!("external reference {reference} is not supported"));
        }
        if let Some(&id) = self.by_pointer.get(reference) {
            return Ref::To(id);
        }
        let id = self.alloc();
        self.by_pointer.insert(reference.to_string(), id);
        self.pending.push((id, reference.to_string()));
        Ref::To(id)
    }

    fn finish(&mut self, doc: &Value) {
        while let Some((id, reference)) = self.pending.pop() {
            match resolve_pointer(doc, &reference) {
                Some(target) => self.compile_into(id, target, &reference, 0),
                None => {
                    self.warnings
                        .push(format!("$ref {reference} points at nothing"));
                    self.nodes[id].reference =
                        Some(Ref::Unresolved(format!("{reference} points at nothing")));
                }
            }
        }
        self.break_ref_cycles();
    }

    /// `A: {$ref: B}`, `B: {$ref: A}` describes nothing; mark such chains so
    /// the validator reports them instead of chasing them to the depth limit.
    fn break_ref_cycles(&mut self) {
        for start in 0..self.nodes.len() {
            let mut seen = vec![start];
            let mut at = start;
            while let Some(Ref::To(next)) = self.nodes[at].reference {
                if seen.contains(&next) {
                    self.warnings
                        .push("a $ref chain refers back to itself".to_string());
                    self.nodes[start].reference =
                        Some(Ref::Unresolved("a $ref chain refers back to itself".into()));
                    break;
                }
                seen.push(next);
                at = next;
            }
        }
    }

    fn child(&mut self, schema: &Value, loc: String, depth: usize) -> NodeId {
        let id = self.alloc();
        self.compile_into(id, schema, &loc, depth + 1);
        id
    }

    fn compile_into(&mut self, id: NodeId, schema: &Value, loc: &str, depth: usize) {
        let Value::Object(m) = schema else {
            // `true`/`{}` accept anything; anything else is not a schema, and
            // accepting it beats refusing the whole document over one typo.
            if !matches!(schema, Value::Bool(true)) {
                self.warnings
                    .push(format!("{loc}: not a schema object; accepts anything"));
            }
            return;
        };
        if depth > MAX_DEPTH {
            self.warnings
                .push(format!("{loc}: nested too deep; accepts anything"));
            return;
        }
        let mut n = Node::default();
        if let Some(r) = m.get("$ref") {
            n.reference = Some(match r.as_str() {
                Some(r) => self.reference(r),
                None => Ref::Unresolved("$ref is not a string".into()),
            });
            self.nodes[id] = n;
            return;
        }
        n.types = match m.get("type") {
            None => None,
            Some(Value::String(t)) => self.types(std::slice::from_ref(t), loc),
            Some(Value::Array(ts)) => {
                let ts: Vec<String> = ts
                    .iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect();
                self.types(&ts, loc)
            }
            Some(_) => None,
        };
        let flag = |k: &str| m.get(k).and_then(Value::as_bool).unwrap_or(false);
        let count = |k: &str| m.get(k).and_then(Value::as_u64);
        n.nullable = flag("nullable");
        n.unique_items = flag("uniqueItems");
        n.read_only = flag("readOnly");
        n.write_only = flag("writeOnly");
        n.min_items = count("minItems");
        n.max_items = count("maxItems");
        n.min_length = count("minLength");
        n.max_length = count("maxLength");
        n.example = m.get("example").cloned();
        n.default = m.get("default").cloned();
        n.format = match m.get("format").and_then(Value::as_str) {
            Some("int32") => Format::Int32,
            Some("int64") => Format::Int64,
            Some("date-time") => Format::DateTime,
            Some("date") => Format::Date,
            // Other formats (email, uri, ...) are annotations here: neither
            // document uses them, and guessing their rules would invent failures.
            _ => Format::Unchecked,
        };
        n.minimum = bound(m.get("minimum"), m.get("exclusiveMinimum"));
        n.maximum = bound(m.get("maximum"), m.get("exclusiveMaximum"));
        if let Some(Value::String(p)) = m.get("pattern") {
            n.pattern = self.regex(p, loc).map(|re| (p.clone(), re));
        }
        if let Some(Value::Array(values)) = m.get("enum") {
            n.enumeration = self.enumeration(values, &n, loc);
        }
        if let Some(Value::Array(req)) = m.get("required") {
            n.required = req
                .iter()
                .filter_map(|r| r.as_str().map(String::from))
                .collect();
        }
        if let Some(Value::Object(props)) = m.get("properties") {
            for (name, p) in props {
                let child =
                    self.child(p, format!("{loc}/properties/{}", escape_token(name)), depth);
                n.properties.insert(name.clone(), child);
            }
        }
        n.additional = match m.get("additionalProperties") {
            Some(Value::Bool(false)) => Additional::Forbidden,
            Some(s @ Value::Object(_)) => {
                Additional::Schema(self.child(s, format!("{loc}/additionalProperties"), depth))
            }
            _ => Additional::Allowed,
        };
        match m.get("items") {
            Some(s @ Value::Object(_)) => {
                n.items = Some(self.child(s, format!("{loc}/items"), depth))
            }
            Some(_) => self
                .warnings
                .push(format!("{loc}/items: not a single schema; items unchecked")),
            None => {}
        }
        for (key, list) in [
            ("allOf", &mut n.all_of),
            ("anyOf", &mut n.any_of),
            ("oneOf", &mut n.one_of),
        ] {
            if let Some(Value::Array(parts)) = m.get(key) {
                for (i, p) in parts.iter().enumerate() {
                    list.push(self.child(p, format!("{loc}/{key}/{i}"), depth));
                }
            }
        }
        if let Some(s) = m.get("not") {
            n.not = Some(self.child(s, format!("{loc}/not"), depth));
        }
        self.nodes[id] = n;
    }

    fn types(&mut self, names: &[String], loc: &str) -> Option<Types> {
        let mut bits = 0;
        for name in names {
            match TYPE_NAMES.iter().find(|(_, n)| n == name) {
                Some((bit, _)) => bits |= bit,
                None => self
                    .warnings
                    .push(format!("{loc}: unknown type {name:?} ignored")),
            }
        }
        (bits != 0).then_some(Types(bits))
    }

    /// Compiled once per distinct pattern: Klarna repeats `^[A-Za-z]{2,2}$`
    /// across a dozen schemas.
    fn regex(&mut self, pattern: &str, loc: &str) -> Option<Arc<Regex>> {
        if let Some(re) = self.regexes.get(pattern) {
            return Some(re.clone());
        }
        match Regex::new(pattern) {
            Ok(re) => {
                let re = Arc::new(re);
                self.regexes.insert(pattern.to_string(), re.clone());
                Some(re)
            }
            Err(e) => {
                self.warnings.push(format!(
                    "{loc}: pattern {pattern:?} not understood ({e}); unchecked"
                ));
                None
            }
        }
    }

    /// Two generator artefacts in Klarna's Order Management document would
    /// make valid bodies fail, so they are dropped (with a warning):
    /// `enum: [null]` on non-nullable integers (no value could ever match),
    /// and an enum whose only value is the schema's own `pattern` (the
    /// alternation `physical|discount|...` pasted in as a literal value).
    fn enumeration(&mut self, values: &[Value], n: &Node, loc: &str) -> Option<Vec<Value>> {
        if !n.nullable && !values.is_empty() && values.iter().all(Value::is_null) {
            self.warnings.push(format!(
                "{loc}: enum of only null on a non-nullable schema; enum ignored"
            ));
            return None;
        }
        if let ([Value::String(only)], Some((pattern, _))) = (values, &n.pattern)
            && only == pattern
        {
            self.warnings.push(format!(
                "{loc}: enum repeats the pattern {pattern:?} as a value; enum ignored"
            ));
            return None;
        }
        Some(values.to_vec())
    }

    /// Follows `$ref` hops to the node that carries keywords.
    pub(super) fn target(&self, mut id: NodeId) -> NodeId {
        for _ in 0..MAX_DEPTH {
            match self.nodes[id].reference {
                Some(Ref::To(next)) => id = next,
                _ => break,
            }
        }
        id
    }

    /// An example built from `example:` values; missing required parts are
    /// filled with the plainest value the schema allows.
    pub(crate) fn example(&self, id: NodeId) -> Value {
        self.build(id, true, &mut Vec::new()).unwrap_or(Value::Null)
    }

    fn build(&self, id: NodeId, must: bool, stack: &mut Vec<NodeId>) -> Option<Value> {
        let id = self.target(id);
        let n = &self.nodes[id];
        if let Some(ex) = &n.example {
            return Some(ex.clone());
        }
        if stack.contains(&id) || stack.len() > MAX_DEPTH {
            // A recursive schema: stop at the first repeat.
            return must.then(|| Value::Object(Default::default()));
        }
        stack.push(id);
        let built = self.build_node(n, must, stack);
        stack.pop();
        built
    }

    fn build_node(&self, n: &Node, must: bool, stack: &mut Vec<NodeId>) -> Option<Value> {
        if let Some(&first) = n.one_of.first().or(n.any_of.first()) {
            return self.build(first, must, stack);
        }
        let is_object = n.types.is_some_and(|t| t.has(T_OBJECT))
            || (n.types.is_none() && (!n.properties.is_empty() || !n.all_of.is_empty()));
        if is_object {
            let mut map = serde_json::Map::new();
            for part in &n.all_of {
                if let Some(Value::Object(m)) = self.build(*part, must, stack) {
                    map.extend(m);
                }
            }
            for (name, &p) in &n.properties {
                let required = n.required.iter().any(|r| r == name);
                if let Some(v) = self.build(p, required, stack) {
                    map.insert(name.clone(), v);
                }
            }
            return (must || !map.is_empty()).then_some(Value::Object(map));
        }
        if n.types.is_some_and(|t| t.has(T_ARRAY)) {
            return match n.items {
                Some(items) => self
                    .build(items, must, stack)
                    .map(|i| Value::Array(vec![i])),
                None => must.then(|| Value::Array(Vec::new())),
            };
        }
        must.then(|| plain_value(n))
    }
}

fn bound(limit: Option<&Value>, exclusive: Option<&Value>) -> Option<Bound> {
    match (limit, exclusive) {
        // OpenAPI 3.1 / JSON Schema 2019: exclusiveMinimum is itself the limit.
        (_, Some(Value::Number(x))) => Some(Bound {
            limit: x.clone(),
            exclusive: true,
        }),
        (Some(Value::Number(l)), ex) => Some(Bound {
            limit: l.clone(),
            exclusive: ex.and_then(Value::as_bool).unwrap_or(false),
        }),
        _ => None,
    }
}

/// The plainest value a scalar schema accepts, for required fields that have
/// no `example:`.
fn plain_value(n: &Node) -> Value {
    if let Some(first) = n
        .enumeration
        .as_ref()
        .and_then(|e| e.iter().find(|v| !v.is_null()))
    {
        return first.clone();
    }
    if let Some(d) = &n.default {
        return d.clone();
    }
    let Some(t) = n.types else {
        return Value::Object(Default::default());
    };
    if t.has(T_INTEGER) || t.has(T_NUMBER) {
        let mut x: i64 = 0;
        if let Some(b) = &n.minimum {
            let lo = b.limit.as_f64().unwrap_or(0.0).ceil() as i64;
            x = x.max(lo.saturating_add(i64::from(
                b.exclusive && b.limit.as_f64() == Some(lo as f64),
            )));
        }
        if let Some(b) = &n.maximum {
            let hi = b.limit.as_f64().unwrap_or(0.0).floor() as i64;
            x = x.min(hi.saturating_sub(i64::from(
                b.exclusive && b.limit.as_f64() == Some(hi as f64),
            )));
        }
        return Value::from(x);
    }
    if t.has(T_STRING) {
        return Value::String(match n.format {
            Format::DateTime => "2024-01-01T00:00:00Z".into(),
            Format::Date => "2024-01-01".into(),
            _ => {
                let len = n
                    .min_length
                    .unwrap_or(0)
                    .max(n.max_length.unwrap_or(1).min(1));
                "x".repeat(len.min(4096) as usize)
            }
        });
    }
    if t.has(T_BOOLEAN) {
        return Value::Bool(false);
    }
    if t.has(T_ARRAY) {
        return Value::Array(Vec::new());
    }
    if t.has(T_OBJECT) {
        return Value::Object(Default::default());
    }
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_unescape() {
        let doc = serde_json::json!({"a": {"b/c": {"d e": [1, 2]}}});
        assert_eq!(
            resolve_pointer(&doc, "#/a/b~1c/d%20e/1"),
            Some(&Value::from(2))
        );
        assert_eq!(resolve_pointer(&doc, "#/a/zz"), None);
        assert_eq!(resolve_pointer(&doc, "other.yml#/a"), None);
    }
}
