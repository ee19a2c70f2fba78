//! Klarna's OpenAPI documents as an external oracle: does a body the mock (or
//! any target) sent validate against what Klarna publishes?
//!
//! ```no_run
//! use klarna_conformance::openapi::OpenApi;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let api = OpenApi::load("klarna-payments-v1.openapi.yml".as_ref())?;
//! let body = serde_json::json!({"order_id": "x", "fraud_status": "ACCEPTED"});
//! let errors = api.check_response("POST", "/payments/v1/authorizations/tok/order", 200, Some(&body));
//! assert!(errors.is_empty(), "{errors:?}");
//! # Ok(()) }
//! ```
//!
//! The document is parsed and every schema compiled once, in [`OpenApi::load`];
//! checks then only walk the compiled form, so thousands of bodies a second
//! are cheap. The validator implements the OpenAPI 3.0 subset both Klarna
//! documents use: `type`, `format` (int32, int64, date, date-time),
//! `properties`, `required`, `additionalProperties`, `items`,
//! `minItems`/`maxItems`, `uniqueItems`, `minLength`/`maxLength`, `pattern`,
//! `enum`, `minimum`/`maximum` (and exclusive forms), `nullable`,
//! `readOnly`/`writeOnly`, `allOf`/`anyOf`/`oneOf`/`not` and local `$ref`.
//! Unknown properties are allowed unless `additionalProperties: false`:
//! Klarna adds fields without notice, and the documents say so by omission.
//! Quirks of the document itself (ignored keywords, unusable patterns) are
//! listed by [`OpenApi::warnings`] rather than failing the load.

mod schema;
mod validate;
#[cfg(feature = "cli")]
mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use schema::{Dir, NodeId, Schemas, resolve_pointer};

/// The schema error bodies are judged against when a status declares none:
/// the Payments document lists 400/403/404/409 without bodies, yet Klarna
/// answers them with this shape (docs/klarna.md §4).
const ERROR_SCHEMA: &str = "ErrorV2";

/// Why a document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    #[error("cannot read OpenAPI document {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("OpenAPI document {} is not valid YAML: {message}", path.display())]
    Yaml { path: PathBuf, message: String },
    #[error("{} is not an OpenAPI 3 document: {why}", path.display())]
    NotOpenApi { path: PathBuf, why: String },
    #[error("{var} names {}, which does not exist", path.display())]
    EnvMissingFile { var: String, path: PathBuf },
    #[error("no schema named {name:?} in components/schemas")]
    UnknownSchema { name: String },
}

/// One place a JSON value breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// Where in the instance, Klarna style: `order_lines[2].quantity`; empty
    /// for the root. A missing required property names the property itself.
    pub path: String,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

impl SchemaError {
    fn root(message: String) -> SchemaError {
        SchemaError {
            path: String::new(),
            message,
        }
    }
}

/// One Klarna OpenAPI document, parsed, indexed and compiled.
#[derive(Debug)]
pub struct OpenApi {
    document: Value,
    schemas: Schemas,
    paths: Vec<PathItem>,
    error_schema: Option<NodeId>,
}

#[derive(Debug)]
struct PathItem {
    template: String,
    /// `None` is a `{parameter}` segment.
    segments: Vec<Option<String>>,
    /// Concrete segments win over parameters, as OpenAPI prescribes.
    literals: usize,
    operations: Vec<(String, Operation)>,
}

#[derive(Debug)]
struct Operation {
    request: Option<Request>,
    /// Status key as written (`200`, `2XX`, `default`) -> what it declares.
    responses: Vec<(String, Body)>,
}

#[derive(Debug)]
struct Request {
    body: Body,
    /// OpenAPI's default is false: Payments' create-order does not set it.
    required: bool,
}

#[derive(Debug)]
struct Body {
    /// The `application/json` schema, if the document gives one.
    json: Option<NodeId>,
}

impl OpenApi {
    pub fn load(path: &Path) -> Result<OpenApi, OpenApiError> {
        let text = std::fs::read_to_string(path).map_err(|source| OpenApiError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_named(&text, path)
    }

    pub fn parse(yaml_text: &str) -> Result<OpenApi, OpenApiError> {
        Self::parse_named(yaml_text, Path::new("<text>"))
    }

    /// Reads the document named by the environment variable `var`: `Ok(None)`
    /// when it is unset or empty (README: the checks are skipped), an error when it is
    /// set but the file is missing or unusable, so that a typo cannot turn
    /// the oracle off silently.
    pub fn from_env(var: &str) -> Result<Option<OpenApi>, OpenApiError> {
        Self::from_var(var, std::env::var_os(var))
    }

    /// `from_env` with the variable's value passed in, so tests need not set
    /// process-wide environment variables.
    fn from_var(
        var: &str,
        value: Option<std::ffi::OsString>,
    ) -> Result<Option<OpenApi>, OpenApiError> {
        let Some(path) = value.filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let path = PathBuf::from(path);
        if !path.exists() {
            return Err(OpenApiError::EnvMissingFile {
                var: var.to_string(),
                path,
            });
        }
        Self::load(&path).map(Some)
    }

    fn parse_named(text: &str, path: &Path) -> Result<OpenApi, OpenApiError> {
        let document = document_json(text).map_err(|message| OpenApiError::Yaml {
            path: path.to_path_buf(),
            message,
        })?;
        let not_openapi = |why: &str| OpenApiError::NotOpenApi {
            path: path.to_path_buf(),
            why: why.to_string(),
        };
        if !document.is_object() {
            return Err(not_openapi("the top level is not a mapping"));
        }
        match document.get("openapi").and_then(Value::as_str) {
            Some(v) if v.starts_with("3.") => {}
            Some(v) => return Err(not_openapi(&format!("openapi version {v} is not 3.x"))),
            None if document.get("swagger").is_some() => {
                return Err(not_openapi("Swagger 2.0 documents are not supported"));
            }
            None => return Err(not_openapi("no `openapi: 3.x` field")),
        }
        let mut schemas = Schemas::new(&document);
        let paths = index_paths(&document, &mut schemas);
        let error_schema = schemas.by_name.get(ERROR_SCHEMA).copied();
        Ok(OpenApi {
            document,
            schemas,
            paths,
            error_schema,
        })
    }

    /// The whole document as JSON.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// What looked wrong in the document and how it was read instead.
    pub fn warnings(&self) -> &[String] {
        &self.schemas.warnings
    }

    pub fn schema_names(&self) -> Vec<String> {
        self.schemas.by_name.keys().cloned().collect()
    }

    /// Validates `value` against `components/schemas/<schema_name>`; every
    /// error is reported, not only the first.
    pub fn check_schema(
        &self,
        schema_name: &str,
        value: &Value,
    ) -> Result<Vec<SchemaError>, OpenApiError> {
        let id = self.schema_id(schema_name)?;
        Ok(self.schemas.validate(id, value, Dir::Neutral))
    }

    fn schema_id(&self, name: &str) -> Result<NodeId, OpenApiError> {
        self.schemas
            .by_name
            .get(name)
            .copied()
            .ok_or_else(|| OpenApiError::UnknownSchema {
                name: name.to_string(),
            })
    }

    /// Whether the document describes `method path` at all (the Payments and
    /// Order Management documents each cover only their own paths).
    pub fn covers(&self, method: &str, path: &str) -> bool {
        self.operation(method, path).is_ok()
    }

    /// Validates a response body for `method path` with `status`. `body` is
    /// `None` when the response had none; `Some(Null)` and `Some("")` count as
    /// empty too.
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Vec<SchemaError> {
        let (op, template) = match self.operation(method, path) {
            Ok(found) => found,
            Err(e) => return vec![e],
        };
        let exact = status.to_string();
        let class = format!("{}XX", status / 100);
        let declared = |want: &dyn Fn(&str) -> bool| {
            op.responses.iter().find(|(k, _)| want(k)).map(|(_, b)| b)
        };
        let found = declared(&|k| k == exact)
            .or_else(|| declared(&|k| k.eq_ignore_ascii_case(&class)))
            .or_else(|| declared(&|k| k == "default"));
        let Some(response) = found else {
            // Klarna answers some statuses its documents do not declare
            // (docs/klarna.md §11.3): those bodies are held to the error shape.
            if recorded_beyond_document(method, template, status) {
                return match self.error_schema {
                    Some(error) => match body {
                        Some(v) if !is_empty(v) => self.schemas.validate(error, v, Dir::Response),
                        _ => vec![],
                    },
                    None => vec![],
                };
            }
            let known: Vec<&str> = op.responses.iter().map(|(k, _)| k.as_str()).collect();
            return vec![SchemaError::root(format!(
                "status {status} is not declared for {} {template} (declared: {})",
                method.to_ascii_uppercase(),
                known.join(", ")
            ))];
        };
        let schema = match (response.json, self.error_schema) {
            (Some(id), _) => id,
            (None, Some(error)) if status >= 400 => error,
            (None, _) => return no_body_expected(body, &format!("status {status}")),
        };
        match body {
            Some(v) if !is_empty(v) => self.schemas.validate(schema, v, Dir::Response),
            // No body against a declared schema. HTTP forbids a body on 204
            // and 304, and the Order Management document declares `type:
            // string` for bodiless answers (204s, the refund 201), so an
            // absent body is read as the empty string: fine where a string
            // is expected, an error where an object is.
            _ if status == 204 || status == 304 => vec![],
            _ if status >= 400 && response.json.is_none() => vec![],
            _ => {
                let errors =
                    self.schemas
                        .validate(schema, &Value::String(String::new()), Dir::Response);
                if errors.is_empty() {
                    errors
                } else {
                    vec![SchemaError::root(format!(
                        "status {status} declares a JSON body, but there was none"
                    ))]
                }
            }
        }
    }

    /// Validates a request body against the operation's `requestBody` schema.
    /// readOnly properties are neither required nor judged: Klarna ignores them.
    pub fn check_request(&self, method: &str, path: &str, body: &Value) -> Vec<SchemaError> {
        let (op, template) = match self.operation(method, path) {
            Ok(found) => found,
            Err(e) => return vec![e],
        };
        let what = format!("{} {template}", method.to_ascii_uppercase());
        match &op.request {
            Some(r) if is_empty(body) && r.required => {
                vec![SchemaError::root(format!("{what} requires a request body"))]
            }
            _ if is_empty(body) => vec![],
            Some(Request {
                body: Body { json: Some(id) },
                ..
            }) => self.schemas.validate(*id, body, Dir::Request),
            _ => no_body_expected(Some(body), &what),
        }
    }

    /// An example of `components/schemas/<schema_name>` assembled from the
    /// document's `example:` values (a schema-level example wins; objects are
    /// built property by property through `$ref`s; arrays get one item).
    /// Required properties without an example get the plainest value their
    /// schema allows, so that the result is a complete instance; optional ones
    /// without an example are left out.
    pub fn example(&self, schema_name: &str) -> Option<Value> {
        let id = self.schema_id(schema_name).ok()?;
        Some(self.schemas.example(id))
    }

    /// Finds the operation for a concrete request path. Accepts a full URL, a
    /// query string and a trailing slash.
    fn operation(&self, method: &str, path: &str) -> Result<(&Operation, &str), SchemaError> {
        let mut path = path;
        for scheme in ["https://", "http://"] {
            if let Some(rest) = path.strip_prefix(scheme) {
                path = rest.find('/').map_or("/", |i| &rest[i..]);
            }
        }
        let path = path.split(['?', '#']).next().unwrap_or("");
        let segments: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let method = method.to_ascii_lowercase();
        let mut candidates: Vec<&PathItem> = self
            .paths
            .iter()
            .filter(|p| {
                p.segments.len() == segments.len()
                    && p.segments
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| t.as_deref().is_none_or(|t| t == *s))
            })
            .collect();
        candidates.sort_by_key(|p| std::cmp::Reverse(p.literals));
        for item in &candidates {
            if let Some((_, op)) = item.operations.iter().find(|(m, _)| *m == method) {
                return Ok((op, &item.template));
            }
        }
        let upper = method.to_ascii_uppercase();
        Err(SchemaError::root(match candidates.first() {
            Some(item) => {
                let methods: Vec<String> = item
                    .operations
                    .iter()
                    .map(|(m, _)| m.to_ascii_uppercase())
                    .collect();
                format!(
                    "{} has no {upper} operation (declared: {})",
                    item.template,
                    methods.join(", ")
                )
            }
            None => format!("no operation in the OpenAPI document matches {upper} {path}"),
        }))
    }
}

/// Statuses real Klarna was recorded answering that its documents do not
/// declare (docs/klarna.md §11.3: a capture, refund or shipping-info without
/// its required field is 422 `UNPROCESSABLE_ENTITY`; the Order Management
/// document declares only 201/204, 403 and 404 there).
const RECORDED_BEYOND_DOCUMENT: &[(&str, &str, u16)] = &[
    (
        "post",
        "/ordermanagement/v1/orders/{order_id}/captures",
        422,
    ),
    ("post", "/ordermanagement/v1/orders/{order_id}/refunds", 422),
    (
        "post",
        "/ordermanagement/v1/orders/{order_id}/captures/{capture_id}/shipping-info",
        422,
    ),
];

fn recorded_beyond_document(method: &str, template: &str, status: u16) -> bool {
    RECORDED_BEYOND_DOCUMENT
        .iter()
        .any(|(m, t, s)| method.eq_ignore_ascii_case(m) && *t == template && *s == status)
}

/// A status or operation that declares no JSON body: any non-empty body is
/// itself the finding.
fn no_body_expected(body: Option<&Value>, what: &str) -> Vec<SchemaError> {
    match body {
        Some(v) if !is_empty(v) => vec![SchemaError::root(format!(
            "{what} declares no JSON body, but one was sent"
        ))],
        _ => vec![],
    }
}

/// Callers parse empty bytes as `null` or keep them as `""`; both mean "no body".
fn is_empty(v: &Value) -> bool {
    matches!(v, Value::Null) || v.as_str() == Some("")
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn index_paths(doc: &Value, schemas: &mut Schemas) -> Vec<PathItem> {
    let Some(Value::Object(paths)) = doc.get("paths") else {
        return Vec::new();
    };
    let mut items = Vec::new();
    for (template, item) in paths {
        let item = follow_ref(doc, item);
        let segments: Vec<Option<String>> = template
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            // A segment with a parameter anywhere in it matches any value;
            // Klarna's templates only use whole-segment parameters.
            .map(|s| (!s.contains('{')).then(|| s.to_string()))
            .collect();
        let mut operations = Vec::new();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let loc = format!("paths/{template}/{method}");
            let request = op.get("requestBody").map(|rb| {
                let rb = follow_ref(doc, rb);
                let json = json_schema(doc, rb, &format!("{loc}/requestBody"), schemas);
                Request {
                    body: Body { json },
                    required: rb.get("required").and_then(Value::as_bool).unwrap_or(false),
                }
            });
            let mut responses = Vec::new();
            if let Some(Value::Object(rs)) = op.get("responses") {
                for (status, r) in rs {
                    let json = json_schema(
                        doc,
                        follow_ref(doc, r),
                        &format!("{loc}/responses/{status}"),
                        schemas,
                    );
                    responses.push((status.clone(), Body { json }));
                }
            }
            operations.push((method.to_string(), Operation { request, responses }));
        }
        items.push(PathItem {
            template: template.clone(),
            literals: segments.iter().filter(|s| s.is_some()).count(),
            segments,
            operations,
        });
    }
    items
}

/// Response, request body and path item objects may themselves be `$ref`s.
fn follow_ref<'d>(doc: &'d Value, mut v: &'d Value) -> &'d Value {
    for _ in 0..16 {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve_pointer(doc, r))
        {
            Some(target) => v = target,
            None => break,
        }
    }
    v
}

/// The schema of the JSON media type in a `content` map: `application/json`
/// (parameters such as charset allowed), else any `+json` type.
fn json_schema(doc: &Value, holder: &Value, loc: &str, schemas: &mut Schemas) -> Option<NodeId> {
    let Some(Value::Object(content)) = holder.get("content") else {
        return None;
    };
    let base = |k: &str| {
        k.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let (_, media) = content
        .iter()
        .find(|(k, _)| base(k) == "application/json")
        .or_else(|| content.iter().find(|(k, _)| base(k).ends_with("+json")))?;
    let schema = media.get("schema")?;
    Some(schemas.inline(doc, schema, loc))
}

/// The document as JSON: YAML (a superset of JSON) with the default `cli`
/// feature; without it, JSON documents only.
#[cfg(feature = "cli")]
fn document_json(text: &str) -> Result<Value, String> {
    yaml::to_json(text)
}

#[cfg(not(feature = "cli"))]
fn document_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| {
        format!("{e} (YAML documents need the `cli` feature; a JSON document works without it)")
    })
}

#[cfg(test)]
mod tests;
