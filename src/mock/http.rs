//! The thin HTTP layer: Basic credentials and the scope they name
//! (`auth.rs`, `scope.rs`), routing (`routes.rs`), body parsing, then one
//! call into the scope's store under the scope's lock, where the request is
//! also journaled (`journal.rs`); afterwards the notifications the store
//! journaled for delivery are sent (`deliver.rs`) and, with `serve --log`, a
//! line is written (`log.rs`).
//!
//! Routing is done by hand rather than with axum's path router because the
//! playground accepts trailing and doubled slashes (docs/klarna.md §10; refused in
//! strict mode), and because every refusal, 404 and 405 included,
//! must be a Klarna-shaped JSON error carrying a correlation id from the
//! seeded generator.
//!
//! Every answer carries a `Date` header written from the scope's clock, so a
//! seeded mock's answers are byte-identical headers included (hyper adds a
//! wall-clock `Date` only where none is set). A refusal of credentials names
//! no scope: it takes its id and `Date` from the default scope.
//!
//! Credentials and `Authorization` headers are never journaled or logged.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::auth::Auth;
use super::clock::{rfc3339, rfc3339_millis};
use super::control;
use super::journal::{Answered, Seen};
use super::log::{Line, RequestLog};
use super::routes::{BodyUse, Call, Context, RouteError, route};
use super::scope::{Inner, Scope, Scopes};
use super::store::{BodyChecks, CheckedSession, MockReply, MockRequest, Refusal};
use super::{Defect, Fidelity, MockConfig};

/// Everything requests share: fixed settings and the scopes.
pub(crate) struct Shared {
    auth: Auth,
    body_limit: usize,
    /// Scopes keep a request journal (`journal_limit` > 0).
    journal: bool,
    /// Documented fidelity: empty path segments are not ignored.
    strict_paths: bool,
    pub(super) scopes: Scopes,
    checks: BodyChecks,
    log: Option<RequestLog>,
    /// The client that delivers notifications, built on first use (`None`
    /// when it cannot be built).
    pub(super) notifier: OnceLock<Option<reqwest::Client>>,
}

impl Shared {
    fn new(config: MockConfig) -> Shared {
        Shared {
            auth: Auth::new(
                &config.username,
                &config.password,
                config.defects.contains(&Defect::AcceptWrongCredentials),
            ),
            body_limit: config.body_limit,
            journal: config.journal_limit > 0,
            strict_paths: config.fidelity == Fidelity::Documented,
            log: config.log.clone(),
            checks: BodyChecks::new(&config),
            scopes: Scopes::new(config),
            notifier: OnceLock::new(),
        }
    }

    /// One `--log` line, when there is a log.
    pub(super) fn log(
        &self,
        scope: Option<&str>,
        parts: &Parts,
        status: u16,
        id: &str,
        micros: u64,
    ) {
        if let Some(log) = &self.log {
            log.write(&Line {
                ts: rfc3339_millis(std::time::SystemTime::now()),
                scope,
                method: parts.method.as_str(),
                path: parts.uri.path(),
                status,
                correlation_id: (!id.is_empty()).then_some(id),
                latency_ms: micros as f64 / 1000.0,
            });
        }
    }
}

pub(super) type Parts = axum::http::request::Parts;

/// A call of the store's (or the clock's) in one scope.
fn run(inner: &mut Inner, call: Call) -> MockReply {
    let now = inner.clock.now();
    let reply = match call {
        Call::Store(request) => inner.store.handle(request, now),
        Call::ReadClock => inner.store.reply(200, Some(json!({"now": rfc3339(now)}))),
        Call::AdvanceClock(seconds) => {
            // A non-negative whole number of seconds that keeps time at or
            // before 9999-12-31T23:59:59Z; anything else is refused and
            // the clock stays where it was.
            let advanced = seconds.is_some_and(|seconds| inner.clock.advance(seconds).is_ok());
            if advanced {
                let now = inner.clock.now();
                // What fell due in the time passed happens now (fraud
                // decisions and their notifications, docs/klarna.md §13.5).
                inner.store.tick(now);
                inner.store.reply(200, Some(json!({"now": rfc3339(now)})))
            } else {
                inner.store.refuse(
                    400,
                    "BAD_VALUE",
                    vec!["Bad value: advance_seconds".to_owned()],
                )
            }
        }
        Call::ReadRequests(filter) => {
            let list = inner.journal.to_json(&filter);
            inner.store.reply(200, Some(list))
        }
        Call::Health => MockReply {
            status: 200,
            correlation_id: String::new(),
            headers: Vec::new(),
            body: Some(control::HEALTH.to_owned()),
        },
        // Answered in `handle`, which resets after the answer is made.
        Call::Reset { .. } => inner.store.reply(200, None),
    };
    dated(inner, reply)
}

/// Adds the `Date` header, from the scope's clock as it is after the call.
pub(super) fn dated(inner: &Inner, mut reply: MockReply) -> MockReply {
    reply.headers.push(("date", inner.http_date()));
    reply
}

/// What a request comes to before the store: a call, or a refusal made by
/// the HTTP layer (with an extra header: `Allow` of a 405).
enum Work {
    Call(Call),
    /// Create session, its body checked before the lock (`BodyChecks`).
    CreateSession(CheckedSession),
    Refuse(Refusal, Option<(&'static str, String)>),
}

/// The mock as a Router.
pub(crate) fn app(config: MockConfig) -> Router {
    app_for(shared(config))
}

/// The state a Router of [`app_for`] serves, made from `config`.
pub(super) fn shared(config: MockConfig) -> Arc<Shared> {
    Arc::new(Shared::new(config))
}

/// A Router serving `shared`, which its owner (`MockServer`) can also reach.
pub(super) fn app_for(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// A control-API call made without HTTP (`MockServer`'s helpers) in the scope
/// named `scope`: the same `run` as a request's, the same ids taken, the
/// notifications it makes sent the same way (so it needs a Tokio runtime
/// context); neither journaled nor logged, as no request was made. Returns
/// the reply and the scope's clock after the call.
pub(super) fn direct(shared: &Arc<Shared>, scope: &str, call: Call) -> (MockReply, i64) {
    let scope = shared.scopes.get(scope);
    let (reply, now, deliveries, epoch) = {
        let mut inner = scope.lock();
        let reply = run(&mut inner, call);
        let now = inner.clock.now();
        (reply, now, inner.store.take_deliveries(), inner.epoch)
    };
    super::deliver::spawn(shared, &scope, epoch, deliveries);
    (reply, now)
}

/// What the store needs from the headers: the idempotency key, and the scheme
/// and host for an absolute `Location` (`http://` and the `Host` header;
/// `http://localhost` when there is none or it is not a plain host[:port]). `[I]`
fn context(headers: &HeaderMap, query: Option<&str>) -> Context {
    let idempotency_key = headers
        .get("klarna-idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .unwrap_or("localhost");
    Context {
        idempotency_key,
        base_url: format!("http://{host}"),
        query: query.map(str::to_owned),
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let started = Instant::now();
    let micros = || started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
    let (parts, body) = request.into_parts();
    // The browser SDK stand-in: no Basic credentials (a browser has only the
    // client token), CORS for pages on other origins.
    if super::sdk::is_sdk(parts.uri.path()) {
        return super::sdk::handle(&shared, parts, body).await;
    }
    // Health needs no credentials, so a CI script can wait on it.
    if parts.method == Method::GET && control::is_health(parts.uri.path(), shared.strict_paths) {
        shared.log(None, &parts, 200, "", micros());
        return control::health();
    }
    // Precedence: credentials, route and method, body, then the store.
    let caller = match shared.auth.caller(&parts.headers) {
        Ok(caller) => caller,
        Err(refused) => {
            // Reference 1.2 [I]: a JSON body of the usual shape.
            let default = shared.scopes.default_scope();
            let mut reply = {
                let mut inner = default.lock();
                let reply = inner.store.refuse(401, "UNAUTHORIZED", refused.messages());
                dated(&inner, reply)
            };
            reply
                .headers
                .push(("WWW-Authenticate", "Basic realm=\"klarna-mock\"".to_owned()));
            shared.log(None, &parts, 401, &reply.correlation_id, micros());
            let body = reply.body.take().map(Bytes::from);
            return respond(reply, body);
        }
    };
    let scope = shared.scopes.get(caller.name());
    let mut seen = Seen::new(&parts.method, &parts.uri, &parts.headers);
    let (work, journaled) = match route(&parts.method, parts.uri.path(), shared.strict_paths) {
        Err(RouteError::NotFound) => {
            let message = format!("No such resource: {}", parts.uri.path());
            (
                Work::Refuse(Refusal::new(404, "NOT_FOUND", message), None),
                shared.journal,
            )
        }
        Err(RouteError::MethodNotAllowed(allow)) => {
            let message = format!("Method {} not allowed; allowed: {allow}", parts.method);
            let refusal = Refusal::new(405, "METHOD_NOT_ALLOWED", message);
            (
                Work::Refuse(refusal, Some(("Allow", allow))),
                shared.journal,
            )
        }
        Ok(route) => {
            let journaled = shared.journal && !route.unjournaled();
            let body_use = route.body_use();
            let read = match body_use {
                BodyUse::None => Ok(None),
                _ => read_body(&shared, &parts.headers, body)
                    .await
                    .and_then(|bytes| {
                        if journaled && !bytes.is_empty() {
                            // A copy: hyper's read buffer is not held on to.
                            seen.body = Some(Bytes::copy_from_slice(&bytes));
                        }
                        parse_json(&parts.headers, &bytes, body_use)
                    }),
            };
            let work = read.and_then(|value| {
                route
                    .into_call(value, context(&parts.headers, parts.uri.query()))
                    .map(|call| match call {
                        // The rules of a body need no state: checked here,
                        // two requests of one scope are checked side by side.
                        Call::Store(MockRequest::CreateSession { body }) => {
                            Work::CreateSession(shared.checks.create_session(body))
                        }
                        call => Work::Call(call),
                    })
            });
            (work.unwrap_or_else(|r| Work::Refuse(r, None)), journaled)
        }
    };
    if let Work::Call(Call::Reset { all }) = work {
        return reset(&shared, &scope, &parts, all, micros);
    }
    let (reply, body, deliveries, epoch) = {
        let mut inner = scope.lock();
        let at = inner.clock.now();
        let reply = match work {
            Work::Call(call) => run(&mut inner, call),
            Work::CreateSession(checked) => {
                let now = inner.clock.now();
                let reply = inner.store.handle_checked_session(checked, now);
                dated(&inner, reply)
            }
            Work::Refuse(refusal, extra) => {
                let Refusal {
                    status,
                    error_code,
                    messages,
                } = refusal;
                let mut reply = inner.store.refuse(status, error_code, messages);
                reply.headers.extend(extra);
                dated(&inner, reply)
            }
        };
        let mut reply = reply;
        // Bytes, so the journal shares the answer instead of copying it.
        let body = reply.body.take().map(Bytes::from);
        if journaled {
            let answered = Answered {
                status: reply.status,
                headers: &reply.headers,
                body: body.as_ref(),
                correlation_id: &reply.correlation_id,
            };
            inner.journal.record(at, seen, answered, micros());
        }
        let deliveries = inner.store.take_deliveries();
        (reply, body, deliveries, inner.epoch)
    };
    super::deliver::spawn(&shared, &scope, epoch, deliveries);
    let (status, id) = (reply.status, &reply.correlation_id);
    shared.log(Some(scope.name()), &parts, status, id, micros());
    respond(reply, body)
}

/// `POST /__mock/reset`: answered with an id of the scope as it was, then
/// reset, so that the ids after a reset are those of a new scope.
fn reset(
    shared: &Shared,
    scope: &Arc<Scope>,
    parts: &Parts,
    all: bool,
    micros: impl Fn() -> u64,
) -> Response {
    let name = if all { "all" } else { scope.name() };
    let answer = |inner: &mut Inner| {
        let reply = inner.store.reply(200, Some(json!({ "reset": name })));
        dated(inner, reply)
    };
    let mut reply = if all {
        let reply = answer(&mut scope.lock());
        shared.scopes.reset_all();
        reply
    } else {
        scope.answer_and_reset(shared.scopes.config(), answer)
    };
    shared.log(
        Some(scope.name()),
        parts,
        reply.status,
        &reply.correlation_id,
        micros(),
    );
    let body = reply.body.take().map(Bytes::from);
    respond(reply, body)
}

/// Reads the body. `[I]` choices: a body over the limit is 413
/// REQUEST_TOO_LARGE (the OM code, docs/klarna.md §4.3).
pub(super) async fn read_body(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, Refusal> {
    let too_large = || {
        Refusal::new(
            413,
            "REQUEST_TOO_LARGE",
            format!("Request body larger than {} bytes", shared.body_limit),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.body_limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, shared.body_limit)
        .await
        .map_err(|e| {
            let over_limit = e
                .into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            if over_limit {
                too_large()
            } else {
                Refusal::new(400, "BAD_REQUEST", "Could not read the request body")
            }
        })
}

/// Parses a JSON object body. `[I]` choices: a body that is not declared
/// `application/json` (or `+json`) is 415 UNSUPPORTED_MEDIA_TYPE; malformed
/// JSON is 400 BAD_REQUEST `Invalid JSON: <parser message with line and
/// column>`; JSON that is not an object is 400 BAD_REQUEST too. An endpoint
/// with an optional body (authorize) takes an empty body as no body.
pub(super) fn parse_json(
    headers: &HeaderMap,
    bytes: &Bytes,
    body_use: BodyUse,
) -> Result<Option<Value>, Refusal> {
    if bytes.is_empty() && body_use == BodyUse::Optional {
        return Ok(None);
    }
    if !is_json(headers) {
        return Err(Refusal::new(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Content-Type must be application/json",
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value @ Value::Object(_)) => Ok(Some(value)),
        Ok(_) => Err(Refusal::new(
            400,
            "BAD_REQUEST",
            "Invalid JSON: the body must be a JSON object",
        )),
        Err(e) => Err(Refusal::new(
            400,
            "BAD_REQUEST",
            format!("Invalid JSON: {e}"),
        )),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence[..12.min(essence.len())].eq_ignore_ascii_case("application/")
            && essence.to_ascii_lowercase().ends_with("+json"))
}

/// The answer on the wire: the body the store serialized, as it is.
pub(super) fn respond(reply: MockReply, body: Option<Bytes>) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let has_body = body.is_some();
    let mut response = Response::new(body.map_or_else(Body::empty, Body::from));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if has_body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    // An empty id means none (the `no-correlation-id-on-success` defect).
    if !reply.correlation_id.is_empty()
        && let Ok(v) = HeaderValue::from_str(&reply.correlation_id)
    {
        headers.insert("klarna-correlation-id", v);
    }
    for (name, value) in reply.headers {
        if let Ok(v) = HeaderValue::try_from(value) {
            headers.insert(name, v);
        }
    }
    response
}
