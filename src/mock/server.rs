//! [`MockServer`]: the mock on a loopback port, and its helpers for a test in
//! the same process ([`MockScope`]): authorize a session, move the clock,
//! reset, read the journals, without HTTP or credentials.
//!
//! A helper is its control-API request without the HTTP: the same store
//! call (`http::direct` runs the `run` a request runs), the same answer, the
//! same ids taken, the same notifications sent. Only the request journal and
//! `--log` do not see it, as no request was made.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::MockConfig;
use super::auth::{MAX_SCOPE_LEN, is_scope_name};
use super::clock::rfc3339;
use super::http::{self, Shared};
use super::journal::Filter;
use super::routes::Call;
use super::store::{MockReply, MockRequest};

/// Failure to start the mock.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// [`MockServer::listen`] was called outside a Tokio runtime.
    #[error("the mock must be started inside a Tokio runtime")]
    NoRuntime,
}

/// What `Klarna.Payments.authorize()` hands its callback (docs/klarna.md
/// §11.6), as [`MockServer::authorize`] and `POST
/// /__mock/sessions/{session_id}/authorize` answer it:
///
/// - approved: `approved` and `show_form` true, an `authorization_token`;
/// - refused (`customer+denied@…` e-mails, docs/klarna.md §6.1): both false;
/// - data that cannot be used: `approved` false, `show_form` true and
///   `error.invalid_fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizeResult {
    pub approved: bool,
    pub show_form: bool,
    /// The token create order takes; only when approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AuthorizeError>,
}

/// `error` of an [`AuthorizeResult`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizeError {
    /// Klarna's paths of the fields to fix, e.g. `billing_address.email`.
    #[serde(default)]
    pub invalid_fields: Vec<String>,
}

/// Why a helper of [`MockServer`] or [`MockScope`] did nothing. `scope` is
/// the scope's name, empty for the default scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No such session in the scope: never made there, made in another
    /// scope, or expired (48 h after its last update). Over HTTP: 404
    /// NOT_FOUND `Invalid session id`.
    #[error("no session {session_id} in {}: unknown, expired or made in another scope", label(.scope))]
    UnknownSession { scope: String, session_id: String },
    /// The session placed its order. Over HTTP: 404 SESSION_COMPLETED.
    #[error("session {session_id} in {} has already been completed (its order was placed)", label(.scope))]
    SessionCompleted { scope: String, session_id: String },
    /// Any other refusal of authorize, e.g. 400 BAD_VALUE `Bad value:
    /// payment_method_category` for a category the session does not offer.
    #[error("authorize of session {session_id} in {} refused: {status} {error_code} {error_messages:?}", label(.scope))]
    Refused {
        scope: String,
        session_id: String,
        status: u16,
        error_code: String,
        error_messages: Vec<String>,
    },
    /// Authorize data must be a JSON object of session fields.
    #[error("authorize data for session {session_id} must be a JSON object")]
    NotAnObject { session_id: String },
    /// Time stops at 9999-12-31T23:59:59Z; the clock did not move. Over
    /// HTTP: 400 BAD_VALUE `Bad value: advance_seconds`.
    #[error("the clock of {} cannot advance {seconds} s from {now}: time stops at 9999-12-31T23:59:59Z", label(.scope))]
    BeyondLatest {
        scope: String,
        /// The clock, unchanged, in RFC 3339.
        now: String,
        seconds: u64,
    },
    /// Scope names are what may follow `+` in the username.
    #[error("{name:?} is not a scope name: 1 to {MAX_SCOPE_LEN} characters of A-Z a-z 0-9 . _ -")]
    BadScopeName { name: String },
}

fn label(scope: &str) -> String {
    if scope.is_empty() {
        "the default scope".to_owned()
    } else {
        format!("scope {scope}")
    }
}

/// Unix seconds as a `SystemTime` (the epoch itself for an instant the
/// platform cannot hold).
fn system_time(unix: i64) -> SystemTime {
    let magnitude = Duration::from_secs(unix.unsigned_abs());
    if unix >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
    .unwrap_or(UNIX_EPOCH)
}

/// One scope of a running mock, for a test's direct use: what a client
/// whose username is `<username>+<name>` reaches over HTTP. Made by
/// [`MockServer::scope`]; [`MockServer`]'s own helpers act on the default
/// scope. Cheap to clone; the methods are those of [`MockServer`].
///
/// A handle names its scope rather than holding it: each call counts as a
/// use of the scope, as a request does, and a scope dropped as the least
/// recently used (or by [`MockServer::reset_all`]) is made afresh by the
/// next call.
#[derive(Clone)]
pub struct MockScope {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Handle,
    /// Empty for the default scope.
    name: Box<str>,
}

impl std::fmt::Debug for MockScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockScope")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl MockScope {
    /// The scope's name; empty for the default scope.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The control call in this scope, in the mock's runtime (which sends
    /// the notifications it makes).
    fn call(&self, call: Call) -> (MockReply, i64) {
        let _entered = self.runtime.enter();
        http::direct(&self.shared, &self.name, call)
    }

    /// See [`MockServer::authorize`].
    pub fn authorize(
        &self,
        session_id: &str,
        authorize_data: Option<Value>,
    ) -> Result<AuthorizeResult, ControlError> {
        if authorize_data.as_ref().is_some_and(|d| !d.is_object()) {
            return Err(ControlError::NotAnObject {
                session_id: session_id.to_owned(),
            });
        }
        let request = MockRequest::Authorize {
            session_id: session_id.to_owned(),
            body: authorize_data,
        };
        let (reply, _) = self.call(Call::Store(request));
        let scope = self.name.to_string();
        let session_id = session_id.to_owned();
        if reply.status == 200
            && let Some(result) = reply
                .body
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok())
        {
            return Ok(result);
        }
        Err(match (reply.status, reply.error_code().as_deref()) {
            (404, Some("NOT_FOUND")) => ControlError::UnknownSession { scope, session_id },
            (404, Some("SESSION_COMPLETED")) => {
                ControlError::SessionCompleted { scope, session_id }
            }
            (status, code) => ControlError::Refused {
                scope,
                session_id,
                status,
                error_code: code.unwrap_or_default().to_owned(),
                error_messages: reply.error_messages(),
            },
        })
    }

    /// See [`MockServer::advance_clock`].
    pub fn advance_clock(&self, by: Duration) -> Result<SystemTime, ControlError> {
        let seconds = by.as_secs();
        let (reply, now) = self.call(Call::AdvanceClock(Some(seconds)));
        if reply.status == 200 {
            Ok(system_time(now))
        } else {
            Err(ControlError::BeyondLatest {
                scope: self.name.to_string(),
                now: rfc3339(now),
                seconds,
            })
        }
    }

    /// See [`MockServer::now`].
    pub fn now(&self) -> SystemTime {
        system_time(self.call(Call::ReadClock).1)
    }

    /// See [`MockServer::reset`].
    pub fn reset(&self) {
        let scopes = &self.shared.scopes;
        scopes.get(&self.name).reset(scopes.config());
    }

    /// See [`MockServer::requests`].
    pub fn requests(&self) -> Vec<Value> {
        list(self.call(Call::ReadRequests(Filter::default())).0)
    }

    /// See [`MockServer::notifications`].
    pub fn notifications(&self) -> Vec<Value> {
        list(
            self.call(Call::Store(MockRequest::ListNotifications {
                ids: Vec::new(),
            }))
            .0,
        )
    }
}

/// The array a listing answers.
fn list(reply: MockReply) -> Vec<Value> {
    match reply.json() {
        Value::Array(entries) => entries,
        _ => Vec::new(),
    }
}

/// A running mock on a loopback port; dropping it stops the server too.
///
/// Besides HTTP, a test in the same process can drive the mock's control
/// API directly, in the default scope ([`authorize`](Self::authorize),
/// [`advance_clock`](Self::advance_clock), [`now`](Self::now),
/// [`reset`](Self::reset), [`requests`](Self::requests),
/// [`notifications`](Self::notifications)) or in a named one
/// ([`scope`](Self::scope)), and [`reset_all`](Self::reset_all). Each helper
/// is its control-API request without the HTTP and the credentials: the same
/// store call with the same outcome, the same ids taken (a seeded mock hands
/// out the same ids either way) and the same notifications sent; it is not
/// in the request journal. The helpers are synchronous: they hold the
/// scope's lock for one store call and never wait on the network, so they
/// can be called from async code and from any thread.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
///
/// use klarna_conformance::mock::{DEFAULT_PASSWORD, DEFAULT_USERNAME, MockConfig, MockServer};
/// use serde_json::{Value, json};
///
/// let server = MockServer::start(MockConfig::default()).await?;
/// // The integration under test creates a session as it would with Klarna...
/// let cart = json!({
///     "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
///     "order_amount": 11900, "order_tax_amount": 1900,
///     "order_lines": [{"name": "Jacket", "quantity": 1, "unit_price": 11900,
///         "tax_rate": 1900, "total_amount": 11900, "total_tax_amount": 1900}]
/// });
/// let http = reqwest::Client::new();
/// let url = |path: &str| format!("{}{path}", server.base_url());
/// let session: Value = http
///     .post(url("/payments/v1/sessions"))
///     .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
///     .json(&cart)
///     .send()
///     .await?
///     .json()
///     .await?;
/// let session_id = session["session_id"].as_str().unwrap();
///
/// // ...the customer authorizes in the browser...
/// let authorized = server.authorize(session_id, None)?;
/// assert!(authorized.approved);
/// let token = authorized.authorization_token.unwrap();
///
/// // ...and the hour the token lives passes before the order is placed.
/// server.advance_clock(Duration::from_secs(3600))?;
/// let order = http
///     .post(url(&format!("/payments/v1/authorizations/{token}/order")))
///     .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
///     .json(&cart)
///     .send()
///     .await?;
/// assert_eq!(order.status(), 404); // NOT_FOUND: Invalid authorization token
///
/// server.reset(); // the default scope as new: no sessions, the clock back at its start
/// assert!(server.authorize(session_id, None).is_err());
/// # Ok(()) }
/// ```
pub struct MockServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The default scope, holding the state the router serves.
    default: MockScope,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts the mock on `127.0.0.1:0` (an ephemeral port).
    pub async fn start(config: MockConfig) -> Result<MockServer, MockError> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts the mock on `addr`.
    pub async fn bind(addr: SocketAddr, config: MockConfig) -> Result<MockServer, MockError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| MockError::Bind { addr, source })?;
        Self::listen(listener, config)
    }

    /// Serves the mock on a listener already bound (`serve` prints its
    /// address before the first request is taken), in the current Tokio runtime.
    pub fn listen(
        listener: tokio::net::TcpListener,
        config: MockConfig,
    ) -> Result<MockServer, MockError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MockError::NoRuntime)?;
        let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
        let addr = listener.local_addr().map_err(|source| MockError::Bind {
            addr: unknown,
            source,
        })?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let deliver = config.deliver_notifications.unwrap_or(true);
        let shared = http::shared(config.deliver_notifications(deliver));
        let app = http::app_for(Arc::clone(&shared));
        let task = runtime.spawn(async move {
            // Answers go out at once: without TCP_NODELAY the last part of an
            // answer larger than a segment waits for the client's delayed
            // ACK (up to 40 ms on Linux).
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            // An accept error ends the server; there is nobody to report it to
            // but the handle's owner, who sees the port stop answering.
            let _ = serve.await;
        });
        Ok(MockServer {
            addr,
            stop: Some(stop),
            task: Some(task),
            default: MockScope {
                shared,
                runtime,
                name: "".into(),
            },
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The scope a client whose username is `<username>+<name>` reaches, for
    /// the same helpers as the default scope's. Refused unless `name` is a
    /// scope name ([`super::is_scope_name`]).
    pub fn scope(&self, name: &str) -> Result<MockScope, ControlError> {
        if !is_scope_name(name.as_bytes()) {
            return Err(ControlError::BadScopeName {
                name: name.to_owned(),
            });
        }
        Ok(MockScope {
            name: name.into(),
            ..self.default.clone()
        })
    }

    /// What `Klarna.Payments.authorize()` does in a browser, as `POST
    /// /__mock/sessions/{session_id}/authorize` does it: `authorize_data`
    /// (session fields given at authorize time: addresses, customer, order
    /// lines, amounts…, and `payment_method_category`, by default the
    /// session's first) is merged into the session. The result is the SDK's:
    /// approved with a new token (the session's previous one stops working),
    /// refused for the `customer+denied@…` e-mails, or `invalid_fields`. An
    /// approved authorize of a session with `merchant_urls.authorization`
    /// makes the authorization callback.
    ///
    /// An unknown, expired or completed session, a category the session does
    /// not offer, or data that is not a JSON object is an error.
    pub fn authorize(
        &self,
        session_id: &str,
        authorize_data: Option<Value>,
    ) -> Result<AuthorizeResult, ControlError> {
        self.default.authorize(session_id, authorize_data)
    }

    /// Moves the scope's clock forward by `by` (whole seconds; a
    /// fraction is dropped) and returns the new "now". Tokens, sessions and
    /// orders age with it (a token lives 60 minutes), and fraud reviews that
    /// fall due are decided and notified at once. Time stops at
    /// 9999-12-31T23:59:59Z: an advance beyond it is an error and the clock
    /// stays where it was.
    pub fn advance_clock(&self, by: Duration) -> Result<SystemTime, ControlError> {
        self.default.advance_clock(by)
    }

    /// The scope's clock (`GET /__mock/clock`): 2026-01-01T00:00:00Z until
    /// advanced, unless configured otherwise.
    pub fn now(&self) -> SystemTime {
        self.default.now()
    }

    /// Everything in the scope back to how a new scope starts (`POST
    /// /__mock/reset`): sessions, tokens, orders, customer tokens,
    /// notifications, the request journal, the clock and the ids. Other
    /// scopes are untouched.
    pub fn reset(&self) {
        self.default.reset();
    }

    /// Every scope as new (`POST /__mock/reset?scope=all`): named scopes are
    /// dropped, the default scope is reset.
    pub fn reset_all(&self) {
        self.default.shared.scopes.reset_all();
    }

    /// The scope's request journal (`GET /__mock/requests`), oldest first:
    /// `{at, method, path, query, request_headers, request_body, status,
    /// response_headers, response_body, correlation_id, latency_ms}` for each
    /// HTTP request (never its credentials). The helpers' calls are not in it.
    pub fn requests(&self) -> Vec<Value> {
        self.default.requests()
    }

    /// Every notification and authorization callback the scope made (`GET
    /// /__mock/notifications`), oldest first: `{kind, url, body, attempts,
    /// status, error}`.
    pub fn notifications(&self) -> Vec<Value> {
        self.default.notifications()
    }

    /// Stops accepting, lets requests in flight finish (at most 5 s), and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(std::time::Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_before_and_after_the_epoch() {
        assert_eq!(system_time(0), UNIX_EPOCH);
        assert_eq!(system_time(60), UNIX_EPOCH + Duration::from_secs(60));
        assert_eq!(system_time(-60), UNIX_EPOCH - Duration::from_secs(60));
    }

    #[test]
    fn errors_name_the_scope_and_the_session() {
        let default = ControlError::UnknownSession {
            scope: String::new(),
            session_id: "s-1".into(),
        };
        assert_eq!(
            default.to_string(),
            "no session s-1 in the default scope: unknown, expired or made in another scope"
        );
        let named = ControlError::SessionCompleted {
            scope: "job-1".into(),
            session_id: "s-2".into(),
        };
        assert!(named.to_string().contains("s-2 in scope job-1"), "{named}");
    }
}
