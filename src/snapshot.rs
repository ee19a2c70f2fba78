//! Snapshots of exchanges: stable JSON made from what a target said, recorded
//! with insta so that any change in an answer shows up as a reviewable diff.
//!
//! An [`Exchange`] becomes `{request: {method, path, body}, status, headers,
//! body}` after two passes:
//!
//! - **Redaction.** Values that differ run to run are replaced by placeholders
//!   numbered by first appearance within one scenario: `[session_id-1]`,
//!   `[authorization_token-2]`, `[order_id-1]`, `[timestamp-3]`, `[id-4]` (any
//!   other UUID, e.g. inside `redirect_url`). "The same id" stays visible: an
//!   identical retry answers `[order_id-1]` again. `Klarna-Correlation-Id` and
//!   the body's `correlation_id` become `[correlation_id]` (or
//!   `[correlation_id ≠ header]` when the two differ, docs/klarna.md §1.4).
//!   Credentials never appear: the `Authorization` header is not part of an
//!   exchange, and any occurrence of a secret given to [`Redactor::with_secrets`]
//!   becomes `[credentials]`.
//! - **Normalisation** of what real answers vary between identical calls
//!   (docs/klarna.md §10): `payment_method_categories` sorted by `identifier`, their
//!   display `name` and `asset_urls` redacted, `descriptor` and the error
//!   body's `service_version` dropped.
//!
//! [`assert_snapshot`] records the value with insta under
//! `<dir>/<name>.snap` and, on a mismatch, returns a readable line diff
//! (insta's own panic is caught and kept quiet). A snapshot missing for a
//! target other than the mock is recorded and passes
//! ([`SnapshotSettings::record_missing`]).

use std::collections::BTreeMap;
#[cfg(feature = "cli")]
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
#[cfg(feature = "cli")]
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

use crate::exchange::Exchange;

/// Body keys whose string values are ids that change run to run.
const ID_KEYS: [&str; 9] = [
    "session_id",
    "client_token",
    "authorization_token",
    "order_id",
    "capture_id",
    "refund_id",
    "klarna_reference",
    "token_id",
    "payment_method_reference",
];

/// Response headers kept in a snapshot, in the order they are redacted
/// (ids in `Capture-Id` are numbered before `Location` repeats them).
const KEPT_HEADERS: [&str; 6] = [
    "content-type",
    "klarna-correlation-id",
    "capture-id",
    "refund-id",
    "location",
    "transaction-id",
];

/// Values shorter than this are only replaced where they are the whole string,
/// never inside other text (a short code could occur by chance).
const MIN_SUBSTRING_LEN: usize = 8;

/// Turns exchanges into stable snapshot values; one per scenario run, so
/// placeholders are numbered across its steps.
#[derive(Debug, Default)]
pub struct Redactor {
    /// value -> placeholder
    known: BTreeMap<String, String>,
    counters: BTreeMap<String, usize>,
    secrets: Vec<String>,
    uuid: Option<regex_lite::Regex>,
    timestamp: Option<regex_lite::Regex>,
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor {
            uuid: regex_lite::Regex::new(
                "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            )
            .ok(),
            timestamp: regex_lite::Regex::new(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2})?").ok(),
            ..Redactor::default()
        }
    }

    /// Strings that must never appear in a snapshot (username, password, API key).
    pub fn with_secrets<I: IntoIterator<Item = String>>(mut self, secrets: I) -> Redactor {
        self.secrets
            .extend(secrets.into_iter().filter(|s| s.len() >= 4));
        self
    }

    /// The snapshot value of one exchange.
    pub fn snapshot(&mut self, exchange: &Exchange) -> Value {
        let mut request = Map::new();
        request.insert("method".into(), exchange.method.clone().into());
        request.insert("path".into(), self.redact_text(None, &exchange.path).into());
        if !exchange.request_headers.is_empty() {
            let headers: Map<String, Value> = exchange
                .request_headers
                .iter()
                .map(|(n, v)| (n.clone(), self.redact_text(None, v).into()))
                .collect();
            request.insert("headers".into(), Value::Object(headers));
        }
        if let Some(body) = &exchange.request_body {
            let mut v = parse_or_text(body);
            self.redact(None, &mut v);
            request.insert("body".into(), v);
        }

        let header_correlation = exchange.correlation_id().map(str::to_owned);
        let mut headers = Map::new();
        for name in KEPT_HEADERS {
            let Some(value) = exchange.header(name) else {
                continue;
            };
            let redacted = match name {
                "content-type" => value.to_owned(),
                "klarna-correlation-id" => "[correlation_id]".to_owned(),
                "capture-id" => self.register("capture_id", value),
                "refund-id" => self.register("refund_id", value),
                "transaction-id" => self.register("transaction_id", value),
                _ => self.redact_text(None, value),
            };
            headers.insert(name.into(), redacted.into());
        }

        let mut snap = Map::new();
        snap.insert("request".into(), Value::Object(request));
        snap.insert("status".into(), exchange.status.into());
        if !headers.is_empty() {
            snap.insert("headers".into(), Value::Object(headers));
        }
        if !exchange.response_body.trim().is_empty() {
            let mut body = parse_or_text(&exchange.response_body);
            normalise(&mut body);
            if let Some(Value::String(c)) = body.get_mut("correlation_id") {
                *c = match &header_correlation {
                    Some(h) if h != c => "[correlation_id ≠ header]".to_owned(),
                    _ => "[correlation_id]".to_owned(),
                };
            }
            self.redact(None, &mut body);
            snap.insert("body".into(), body);
        }
        sorted(Value::Object(snap))
    }

    /// Pretty JSON text of [`Redactor::snapshot`].
    pub fn snapshot_text(&mut self, exchange: &Exchange) -> String {
        let value = self.snapshot(exchange);
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    }

    fn redact(&mut self, key: Option<&str>, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.redact_text(key, s),
            Value::Array(a) => a.iter_mut().for_each(|v| self.redact(key, v)),
            Value::Object(o) => {
                for (k, v) in o.iter_mut() {
                    if k == "correlation_id" && v.as_str().is_some_and(|s| s.starts_with('[')) {
                        continue;
                    }
                    self.redact(Some(k.as_str()), v);
                }
            }
            _ => {}
        }
    }

    fn redact_text(&mut self, key: Option<&str>, text: &str) -> String {
        let mut s = text.to_owned();
        for secret in &self.secrets {
            s = s.replace(secret.as_str(), "[credentials]");
        }
        if let Some(k) = key {
            if ID_KEYS.contains(&k) {
                return self.register(k, &s);
            }
            if k == "correlation_id" {
                return "[correlation_id]".to_owned();
            }
        }
        if self.timestamp.as_ref().is_some_and(|r| r.is_match(&s)) {
            return self.register("timestamp", &s);
        }
        if let Some(p) = self.known.get(&s) {
            return p.clone();
        }
        // Known ids inside longer text (paths, redirect_url, Location), longest first.
        let mut known: Vec<(&String, &String)> = self
            .known
            .iter()
            .filter(|(v, _)| v.len() >= MIN_SUBSTRING_LEN)
            .collect();
        known.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        for (v, p) in known {
            if s.contains(v.as_str()) {
                s = s.replace(v.as_str(), p);
            }
        }
        // Any other UUID is an id of some kind.
        let uuids: Vec<String> = match &self.uuid {
            Some(r) => r.find_iter(&s).map(|m| m.as_str().to_owned()).collect(),
            None => Vec::new(),
        };
        for u in uuids {
            let p = self.register("id", &u);
            s = s.replace(&u, &p);
        }
        s
    }

    /// The placeholder of `value`, numbering it on first appearance.
    fn register(&mut self, kind: &str, value: &str) -> String {
        if let Some(p) = self.known.get(value) {
            return p.clone();
        }
        let n = self.counters.entry(kind.to_owned()).or_insert(0);
        *n += 1;
        let p = format!("[{kind}-{n}]");
        self.known.insert(value.to_owned(), p.clone());
        p
    }
}

fn parse_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Reference 10: what real answers vary between byte-identical calls.
fn normalise(value: &mut Value) {
    if let Some(o) = value.as_object_mut() {
        o.remove("service_version");
    }
    normalise_categories(value);
}

fn normalise_categories(value: &mut Value) {
    match value {
        Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                if k == "payment_method_categories"
                    && let Value::Array(cats) = v
                {
                    for c in cats.iter_mut() {
                        if let Value::Object(c) = c {
                            c.remove("descriptor");
                            if c.contains_key("name") {
                                c.insert("name".into(), "[name]".into());
                            }
                            if c.contains_key("asset_urls") {
                                c.insert("asset_urls".into(), "[asset_urls]".into());
                            }
                        }
                    }
                    cats.sort_by(|a, b| {
                        let id = |v: &Value| {
                            v.get("identifier")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_owned()
                        };
                        id(a).cmp(&id(b))
                    });
                } else {
                    normalise_categories(v);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalise_categories),
        _ => {}
    }
}

/// Rebuilds objects with sorted keys, whatever map serde_json was built with.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(o) => {
            let entries: BTreeMap<String, Value> =
                o.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Where and how a snapshot is recorded.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    /// `snapshots/` for the mock, `snapshots/<target>/` for another target.
    pub dir: PathBuf,
    /// The scenario file, written into the snapshot's header.
    pub input_file: Option<PathBuf>,
    /// A snapshot that does not exist yet is recorded and passes. True for
    /// targets other than the mock: the first run against a new target has
    /// nothing to compare with, and failing it would only say so. The mock's
    /// snapshots are committed, so there a missing one fails (CI must notice).
    pub record_missing: bool,
}

/// How a snapshot check that did not fail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Snapshotted {
    /// The answer is the recorded snapshot (or insta accepted it, `INSTA_UPDATE=always`).
    Matched,
    /// There was no snapshot; this file now holds the answer (`.snap`, or
    /// `.snap.new` to review when `INSTA_UPDATE=no`/`new` or in CI).
    Recorded(PathBuf),
}

/// A snapshot that does not match (or does not exist yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("snapshot `{name}` ({}) {}:\n{diff}", .file.display(), if *.missing { "does not exist yet" } else { "differs" })]
pub struct SnapshotMismatch {
    pub name: String,
    pub file: PathBuf,
    pub missing: bool,
    /// `-` lines are the recorded snapshot, `+` lines this run.
    pub diff: String,
}

/// Checks `content` against snapshot `name`. The recorded text is compared
/// here first; only a difference (or, for the mock, a missing snapshot) goes
/// to insta, so that `INSTA_UPDATE`, `INSTA_FORCE_PASS` and `.snap.new` files
/// for `cargo insta review` behave as insta documents (`no` in CI fails on any
/// change; `always` accepts). A missing snapshot with
/// [`SnapshotSettings::record_missing`] is written here and passes.
pub fn assert_snapshot(
    settings: &SnapshotSettings,
    name: &str,
    description: &str,
    content: &str,
) -> Result<Snapshotted, SnapshotMismatch> {
    // insta resolves a relative snapshot path against the calling source
    // file's folder; the user means the current directory.
    let dir = if settings.dir.is_relative() {
        std::env::current_dir()
            .map(|cwd| cwd.join(&settings.dir))
            .unwrap_or_else(|_| settings.dir.clone())
    } else {
        settings.dir.clone()
    };
    let file = dir.join(format!("{name}.snap"));
    let pending = file.with_extension("snap.new");
    let recorded = std::fs::read_to_string(&file)
        .ok()
        .map(|t| snap_contents(&t));
    let mismatch = |missing: bool| SnapshotMismatch {
        name: name.to_owned(),
        file: file.clone(),
        missing,
        diff: line_diff(recorded.as_deref().unwrap_or(""), content.trim_end()),
    };
    match &recorded {
        Some(r) if r.as_str() == content.trim_end() => {
            // What insta does on a pass: a pending review of an older answer is stale.
            let _ = std::fs::remove_file(&pending);
            return Ok(Snapshotted::Matched);
        }
        None if settings.record_missing => {
            let target = if review_first() {
                pending
            } else {
                file.clone()
            };
            return match write_snap(&target, settings, description, content) {
                Ok(()) => Ok(Snapshotted::Recorded(target)),
                Err(_) => Err(mismatch(true)),
            };
        }
        _ => {}
    }
    insta_check(settings, &dir, name, description, content)
        .map_err(|()| mismatch(recorded.is_none()))
}

/// insta's verdict on a changed or missing snapshot (it honours
/// `INSTA_UPDATE` and writes `.snap.new` files for review).
#[cfg(feature = "cli")]
fn insta_check(
    settings: &SnapshotSettings,
    dir: &Path,
    name: &str,
    description: &str,
    content: &str,
) -> Result<Snapshotted, ()> {
    let mut insta_settings = insta::Settings::clone_current();
    insta_settings.set_snapshot_path(dir);
    insta_settings.set_prepend_module_to_snapshot(false);
    insta_settings.set_omit_expression(true);
    insta_settings.set_description(description);
    if let Some(input) = &settings.input_file {
        insta_settings.set_input_file(input);
    }
    match quietly(|| insta_settings.bind(|| insta::assert_snapshot!(name, content))) {
        Ok(()) => Ok(Snapshotted::Matched),
        Err(_) => Err(()),
    }
}

/// Without the `cli` feature (no insta) a changed or missing snapshot fails.
#[cfg(not(feature = "cli"))]
fn insta_check(
    _settings: &SnapshotSettings,
    _dir: &Path,
    _name: &str,
    _description: &str,
    _content: &str,
) -> Result<Snapshotted, ()> {
    Err(())
}

/// Whether a new snapshot is written as `.snap.new` for review rather than
/// accepted: insta's rule (`INSTA_UPDATE=no`/`new`, or `auto` in CI), except
/// that `no` still writes the `.snap.new`, so a CI run against a new target
/// leaves the answers it recorded for someone to look at.
fn review_first() -> bool {
    match std::env::var("INSTA_UPDATE").ok().as_deref() {
        Some("no" | "new") => true,
        Some("always" | "1" | "unseen" | "force") => false,
        _ => match std::env::var("CI").ok().as_deref() {
            Some("false" | "0" | "") => false,
            None => std::env::var("TF_BUILD").is_ok(),
            Some(_) => true,
        },
    }
}

/// Writes a snapshot file in insta's format (a YAML header, `---`, the
/// contents), so insta and `cargo insta review` read it as their own.
fn write_snap(
    path: &Path,
    settings: &SnapshotSettings,
    description: &str,
    content: &str,
) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // A JSON string is a YAML double-quoted scalar.
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut text = format!(
        "---\nsource: src/snapshot.rs\ndescription: {}\n",
        quoted(description)
    );
    if let Some(input) = &settings.input_file {
        // Relative to the working directory, as insta writes it.
        let input = std::env::current_dir()
            .ok()
            .and_then(|cwd| input.strip_prefix(cwd).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| input.clone());
        let input = input.to_string_lossy().replace('\\', "/");
        text.push_str(&format!("input_file: {}\n", quoted(&input)));
    }
    text.push_str("---\n");
    text.push_str(content.trim_end());
    text.push('\n');
    std::fs::write(path, text)
}

/// Serialises swaps of the process-wide panic hook: two threads swapping at
/// once could each restore the other's silent hook and leave it installed.
#[cfg(feature = "cli")]
static PANIC_HOOK: Mutex<()> = Mutex::new(());

#[cfg(feature = "cli")]
type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync + 'static>;

/// Runs `f`, catching its panic without printing it. insta reports a
/// mismatch by panicking; the caller turns that into a [`SnapshotMismatch`]
/// with its own diff, so the panic text (and a backtrace under
/// `RUST_BACKTRACE`) would be noise. Panics of other threads meanwhile still
/// reach the previous hook.
#[cfg(feature = "cli")]
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let _guard = PANIC_HOOK.lock().unwrap_or_else(PoisonError::into_inner);
    let previous: Arc<PanicHook> = Arc::new(std::panic::take_hook());
    let others = Arc::clone(&previous);
    let me = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != me {
            others(info);
        }
    }));
    let result = catch_unwind(AssertUnwindSafe(f));
    // Dropping the silent hook drops its clone, so the original comes back unwrapped.
    drop(std::panic::take_hook());
    match Arc::try_unwrap(previous) {
        Ok(hook) => std::panic::set_hook(hook),
        Err(shared) => std::panic::set_hook(Box::new(move |info| shared(info))),
    }
    result
}

/// The contents of an insta `.snap` file (after its `---` header).
fn snap_contents(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let body = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.find("\n---\n").map(|i| &rest[i + 5..]))
        .unwrap_or(&text);
    body.trim_end().to_owned()
}

/// A unified-style line diff with 3 lines of context.
pub fn line_diff(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        out.push_str("@@\n");
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                out.push(sign);
                out.push_str(change.value().trim_end_matches('\n'));
                out.push('\n');
            }
        }
    }
    out
}

/// The snapshot folder of a target: `root` for the mock, `root/<target>` otherwise.
pub fn target_dir(root: &Path, target: &str) -> PathBuf {
    if target == "mock" {
        root.to_owned()
    } else {
        root.join(target)
    }
}

#[cfg(test)]
mod tests;
