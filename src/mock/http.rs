//! The thin HTTP layer: Basic credentials, routing (`routes.rs`), body
//! parsing, then one call into the store under the lock (axum
//! `examples/testing` style: `app(config) -> Router`); afterwards the
//! notifications the store journaled for delivery are sent (`deliver.rs`).
//!
//! Routing is done by hand rather than with axum's path router because the
//! playground accepts trailing and doubled slashes (docs/klarna.md §10; refused in
//! strict mode), and because every refusal, 404 and 405 included,
//! must be a Klarna-shaped JSON error carrying a correlation id from the
//! seeded generator.
//!
//! Every answer carries a `Date` header written from the mock's clock, so a
//! seeded mock's answers are byte-identical headers included (hyper adds a
//! wall-clock `Date` only where none is set).
//!
//! Credentials and `Authorization` headers are never logged (nothing is logged).

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::{Value, json};

use super::clock::{Clock, LATEST, http_date, rfc3339};
use super::routes::{BodyUse, Call, Context, RouteError, route};
use super::store::{Delivery, MockReply, MockState};
use super::{Fidelity, MockConfig};

/// Everything requests share: fixed settings, and the one lock around the
/// clock and the store.
pub(crate) struct Shared {
    /// `username:password`, as Basic auth carries it.
    credentials: Vec<u8>,
    /// Defect `accept-wrong-credentials`: only the username is checked.
    any_password: bool,
    body_limit: usize,
    /// Documented fidelity: empty path segments are not ignored.
    strict_paths: bool,
    inner: Mutex<Inner>,
    /// The client that delivers notifications, built on first use (`None`
    /// when it cannot be built).
    pub(super) notifier: OnceLock<Option<reqwest::Client>>,
}

struct Inner {
    clock: Clock,
    store: MockState,
}

impl Inner {
    fn call(&mut self, call: Call) -> MockReply {
        let now = self.clock.now();
        let reply = match call {
            Call::Store(request) => self.store.handle(request, now),
            Call::ReadClock => self.store.reply(200, Some(json!({"now": rfc3339(now)}))),
            Call::AdvanceClock(body) => {
                // A non-negative whole number of seconds that keeps time at or
                // before 9999-12-31T23:59:59Z; anything else is refused and
                // the clock stays where it was.
                let advanced = body
                    .get("advance_seconds")
                    .and_then(Value::as_u64)
                    .is_some_and(|seconds| self.clock.advance(seconds).is_ok());
                if advanced {
                    let now = self.clock.now();
                    // What fell due in the time passed happens now (fraud
                    // decisions and their notifications, docs/klarna.md §13.5).
                    self.store.tick(now);
                    self.store.reply(200, Some(json!({"now": rfc3339(now)})))
                } else {
                    self.store.refuse(
                        400,
                        "BAD_VALUE",
                        vec!["Bad value: advance_seconds".to_owned()],
                    )
                }
            }
        };
        self.dated(reply)
    }

    /// Adds the `Date` header, from the mock's clock as it is after the call.
    fn dated(&self, mut reply: MockReply) -> MockReply {
        reply.headers.push(("date", http_date(self.clock.now())));
        reply
    }
}

impl Shared {
    fn new(config: &MockConfig) -> Shared {
        let clock = if config.system_clock {
            Clock::System { offset: 0 }
        } else {
            Clock::Virtual {
                now: config.clock_start.min(LATEST),
            }
        };
        Shared {
            credentials: format!("{}:{}", config.username, config.password).into_bytes(),
            any_password: config
                .defects
                .contains(&super::Defect::AcceptWrongCredentials),
            body_limit: config.body_limit,
            strict_paths: config.fidelity == Fidelity::Documented,
            inner: Mutex::new(Inner {
                clock,
                store: MockState::new(config),
            }),
            notifier: OnceLock::new(),
        }
    }

    /// Runs one call with the lock held only around the store; returns the
    /// answer and what the call gave to deliver.
    fn call(&self, call: Call) -> (MockReply, Vec<Delivery>) {
        // The store never panics while holding the lock; if it ever did, its
        // state is still a value the next request can use.
        let mut inner = self.lock();
        let reply = inner.call(call);
        (reply, inner.store.take_deliveries())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one delivery attempt in the journal.
    pub(super) fn record_attempt(&self, entry: u64, outcome: Result<u16, String>) {
        self.lock().store.record_attempt(entry, outcome);
    }

    fn refuse(&self, status: u16, error_code: &'static str, messages: Vec<String>) -> MockReply {
        let mut inner = self.lock();
        let reply = inner.store.refuse(status, error_code, messages);
        inner.dated(reply)
    }

    /// HTTP Basic with the configured credentials (docs/klarna.md §1.2).
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, encoded)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let encoded = encoded.trim();
        let decoded = STANDARD
            .decode(encoded)
            .or_else(|_| STANDARD_NO_PAD.decode(encoded));
        decoded.is_ok_and(|d| {
            if self.any_password {
                // The username part (up to the first colon) alone decides.
                let user = |c: &[u8]| c.split(|b| *b == b':').next().map(<[u8]>::to_vec);
                user(&d) == user(&self.credentials)
            } else {
                d == self.credentials
            }
        })
    }
}

/// The mock as a Router.
pub(crate) fn app(config: MockConfig) -> Router {
    let shared = Arc::new(Shared::new(&config));
    Router::new().fallback(handle).with_state(shared)
}

/// What the store needs from the headers: the idempotency key, and the scheme
/// and host for an absolute `Location` (`http://` and the `Host` header;
/// `http://localhost` when there is none or it is not a plain host[:port]). `[I]`
fn context(headers: &HeaderMap) -> Context {
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
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Precedence: credentials, route and method, body, then the store.
    if !shared.authorized(&parts.headers) {
        // Reference 1.2 [I]: a JSON body of the usual shape, `error_messages: []`.
        let mut reply = shared.refuse(401, "UNAUTHORIZED", Vec::new());
        reply
            .headers
            .push(("WWW-Authenticate", "Basic realm=\"klarna-mock\"".to_owned()));
        return respond(reply);
    }
    let route = match route(&parts.method, parts.uri.path(), shared.strict_paths) {
        Ok(route) => route,
        Err(RouteError::NotFound) => {
            let message = format!("No such resource: {}", parts.uri.path());
            return respond(shared.refuse(404, "NOT_FOUND", vec![message]));
        }
        Err(RouteError::MethodNotAllowed(allow)) => {
            let message = format!("Method {} not allowed; allowed: {allow}", parts.method);
            let mut reply = shared.refuse(405, "METHOD_NOT_ALLOWED", vec![message]);
            reply.headers.push(("Allow", allow));
            return respond(reply);
        }
    };
    let body = match route.body_use() {
        BodyUse::None => None,
        body_use => match read_json(&shared, &parts.headers, body, body_use).await {
            Ok(value) => value,
            Err(reply) => return respond(reply),
        },
    };
    let call = route.into_call(body, context(&parts.headers));
    let (reply, deliveries) = shared.call(call);
    super::deliver::spawn(&shared, deliveries);
    respond(reply)
}

/// Reads and parses a JSON object body. `[I]` choices: a body over the limit is
/// 413 REQUEST_TOO_LARGE (the OM code, docs/klarna.md §4.3); a body that is not
/// declared `application/json` (or `+json`) is 415 UNSUPPORTED_MEDIA_TYPE;
/// malformed JSON is 400 BAD_REQUEST `Invalid JSON: <parser message with line
/// and column>`; JSON that is not an object is 400 BAD_REQUEST too. An endpoint
/// with an optional body (authorize) takes an empty body as no body.
async fn read_json(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
    body_use: BodyUse,
) -> Result<Option<Value>, MockReply> {
    let too_large = || {
        shared.refuse(
            413,
            "REQUEST_TOO_LARGE",
            vec![format!(
                "Request body larger than {} bytes",
                shared.body_limit
            )],
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.body_limit as u64) {
        return Err(too_large());
    }
    let bytes: Bytes = match axum::body::to_bytes(body, shared.body_limit).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let over_limit = e
                .into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            return Err(if over_limit {
                too_large()
            } else {
                shared.refuse(
                    400,
                    "BAD_REQUEST",
                    vec!["Could not read the request body".to_owned()],
                )
            });
        }
    };
    if bytes.is_empty() && body_use == BodyUse::Optional {
        return Ok(None);
    }
    if !is_json(headers) {
        return Err(shared.refuse(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            vec!["Content-Type must be application/json".to_owned()],
        ));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(value @ Value::Object(_)) => Ok(Some(value)),
        Ok(_) => Err(shared.refuse(
            400,
            "BAD_REQUEST",
            vec!["Invalid JSON: the body must be a JSON object".to_owned()],
        )),
        Err(e) => Err(shared.refuse(400, "BAD_REQUEST", vec![format!("Invalid JSON: {e}")])),
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

fn respond(reply: MockReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match reply.body {
        Some(body) => {
            let mut r = (status, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        None => status.into_response(),
    };
    let headers = response.headers_mut();
    // An empty id means none (the `no-correlation-id-on-success` defect).
    if !reply.correlation_id.is_empty()
        && let Ok(v) = HeaderValue::from_str(&reply.correlation_id)
    {
        headers.insert("klarna-correlation-id", v);
    }
    for (name, value) in reply.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    //! The header-level defect modes on the wire, through the router (no socket).

    use axum::http::{Method, Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::mock::{DEFAULT_PASSWORD, DEFAULT_USERNAME, Defect};

    struct Wire {
        status: u16,
        headers: HeaderMap,
        body: Value,
    }

    impl Wire {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.get(name).and_then(|v| v.to_str().ok())
        }
    }

    async fn send(app: &Router, method: Method, path: &str, body: Option<Value>) -> Wire {
        let auth = STANDARD.encode(format!("{DEFAULT_USERNAME}:{DEFAULT_PASSWORD}"));
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Basic {auth}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Wire {
            status,
            headers,
            body,
        }
    }

    fn session() -> Value {
        json!({
            "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
            "order_amount": 100, "order_tax_amount": 0,
            "order_lines": [{"name": "Pen", "quantity": 1, "unit_price": 100, "tax_rate": 0,
                "total_amount": 100, "total_tax_amount": 0}]
        })
    }

    fn mock(defect: Option<Defect>) -> Router {
        let config = MockConfig::default().seed(11);
        app(match defect {
            Some(d) => config.defect(d),
            None => config,
        })
    }

    /// A success (create session), a 204 (update), a store refusal (unknown
    /// token) and an HTTP-layer refusal (unknown path).
    async fn four_answers(app: &Router) -> [Wire; 4] {
        let created = send(app, Method::POST, "/payments/v1/sessions", Some(session())).await;
        let id = created.body["session_id"].as_str().unwrap_or("").to_owned();
        let updated = send(
            app,
            Method::POST,
            &format!("/payments/v1/sessions/{id}"),
            Some(json!({"merchant_reference1": "x"})),
        )
        .await;
        let unknown = send(
            app,
            Method::DELETE,
            "/payments/v1/authorizations/unknown",
            None,
        )
        .await;
        let nowhere = send(app, Method::GET, "/nowhere", None).await;
        [created, updated, unknown, nowhere]
    }

    #[tokio::test]
    async fn text_plain_errors() {
        let [created, _, unknown, nowhere] = four_answers(&mock(None)).await;
        for error in [&unknown, &nowhere] {
            assert_eq!(error.header("content-type"), Some("application/json"));
        }
        assert_eq!(created.header("content-type"), Some("application/json"));

        let [created, _, unknown, nowhere] =
            four_answers(&mock(Some(Defect::TextPlainErrors))).await;
        for error in [&unknown, &nowhere] {
            assert!(error.status >= 400);
            assert_eq!(error.header("content-type"), Some("text/plain"));
            // The JSON body is unchanged.
            assert_eq!(
                error.body["correlation_id"].as_str(),
                error.header("klarna-correlation-id")
            );
        }
        assert_eq!(unknown.body["error_code"], "NOT_FOUND");
        assert_eq!(created.header("content-type"), Some("application/json"));
    }

    #[tokio::test]
    async fn no_correlation_id_on_success() {
        for answer in four_answers(&mock(None)).await {
            assert!(answer.header("klarna-correlation-id").is_some());
        }
        let [created, updated, unknown, nowhere] =
            four_answers(&mock(Some(Defect::NoCorrelationIdOnSuccess))).await;
        assert_eq!((created.status, updated.status), (200, 204));
        assert!(!created.headers.contains_key("klarna-correlation-id"));
        assert!(!updated.headers.contains_key("klarna-correlation-id"));
        for error in [&unknown, &nowhere] {
            assert!(error.header("klarna-correlation-id").is_some());
        }
    }

    #[tokio::test]
    async fn repeated_correlation_id() {
        let ids = |answers: &[Wire; 4]| -> Vec<String> {
            answers
                .iter()
                .map(|a| a.header("klarna-correlation-id").unwrap_or("").to_owned())
                .collect()
        };
        let faithful = ids(&four_answers(&mock(None)).await);
        let distinct: std::collections::HashSet<&String> = faithful.iter().collect();
        assert_eq!(distinct.len(), 4, "{faithful:?}");

        let app = mock(Some(Defect::RepeatedCorrelationId));
        let answers = four_answers(&app).await;
        let repeated = ids(&answers);
        assert!(uuid::Uuid::parse_str(&repeated[0]).is_ok());
        assert!(repeated.iter().all(|id| *id == repeated[0]), "{repeated:?}");
        assert_eq!(answers[2].body["correlation_id"], repeated[0].as_str());
        let later = send(&app, Method::GET, "/__mock/clock", None).await;
        assert_eq!(
            later.header("klarna-correlation-id"),
            Some(repeated[0].as_str())
        );
    }

    async fn with_password(app: &Router, password: &str) -> u16 {
        let auth = STANDARD.encode(format!("{DEFAULT_USERNAME}:{password}"));
        let request = Request::builder()
            .method(Method::GET)
            .uri("/__mock/clock")
            .header(header::AUTHORIZATION, format!("Basic {auth}"))
            .body(Body::empty())
            .unwrap();
        app.clone()
            .oneshot(request)
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn accept_wrong_credentials() {
        assert_eq!(with_password(&mock(None), "wrong").await, 401);
        let app = mock(Some(Defect::AcceptWrongCredentials));
        assert_eq!(with_password(&app, "wrong").await, 200);
        assert_eq!(with_password(&app, DEFAULT_PASSWORD).await, 200);
    }

    #[tokio::test]
    async fn missing_fields_accepted() {
        let mut body = session();
        body.as_object_mut().unwrap().remove("purchase_currency");
        let refused = send(
            &mock(None),
            Method::POST,
            "/payments/v1/sessions",
            Some(body.clone()),
        )
        .await;
        assert_eq!(refused.status, 400);
        assert_eq!(
            refused.body["error_messages"][0],
            "Bad value: purchase_currency"
        );
        let app = mock(Some(Defect::MissingFieldsAccepted));
        let accepted = send(&app, Method::POST, "/payments/v1/sessions", Some(body)).await;
        assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    }
}
