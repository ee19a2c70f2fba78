//! `MockState`: the whole mock as a pure state machine. No sockets, no axum,
//! no clock of its own: every call gets "now" (unix seconds) from outside, so
//! expiry is tested by passing a later `now`.
//!
//! Precedence for every request (the oracle predicts the same):
//! credentials, route and body parsing happen in `http.rs`; here come, in
//! order, the token or session id (404), body validation (400 BAD_VALUE),
//! comparison with the authorized data (409), then success. Create order adds
//! two steps after validation, the token's placed order (identical retry or
//! 409) and the sticky refusal (docs/klarna.md §11.1; see `orders.rs`). Order
//! Management and the Customer Token API list their own order of checks
//! (docs/klarna.md §13.3, §13.6; `om.rs`, `om_captures.rs`, `customer_tokens.rs`).
//!
//! Time-driven behaviour (fraud reviews deciding, docs/klarna.md §13.5) is
//! applied when a call's `now` reaches it (`tick`); what Klarna would send is
//! journaled (`notifications.rs`) and delivered by the HTTP layer.

mod compare;
mod customer_tokens;
mod notifications;
mod om;
mod om_captures;
mod orders;
mod request;
mod sessions;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use super::MockConfig;
use super::defect::Defect;
use super::ids::IdGenerator;
use crate::model::validate::{self, BodyKind, Fidelity, Grade, Rule, Violation};

use customer_tokens::CustomerTokenRecord;
pub(crate) use notifications::Delivery;
use notifications::Journal;
use om::OrderRecord;
pub use request::{MockReply, MockRequest};
pub(crate) use sessions::CheckedSession;

/// Authorization tokens are valid while less than 60 minutes have passed (docs/klarna.md §5.1).
pub const TOKEN_LIFETIME: i64 = 3600;
/// Sessions live 48 hours after their last update (docs/klarna.md §5.1).
pub const SESSION_LIFETIME: i64 = 48 * 3600;
/// The session lifetime of the `session-lifetime-2h` defect.
const SHORT_SESSION_LIFETIME: i64 = 2 * 3600;
/// An identical retry this many seconds after the order is "late" for the
/// `new-order-id-on-late-retry` defect.
const LATE_RETRY: i64 = 120;
/// An order's authorization can be captured for 28 days (docs/klarna.md §5.1, §13.1).
pub const ORDER_LIFETIME: i64 = 28 * 86_400;
/// An order is forgotten (404 NO_SUCH_ORDER) 365 days after its creation, so
/// the mock's memory stays bounded (docs/klarna.md §13.1). Customer tokens are
/// forgotten as long after their creation. `[I]`
pub const ORDER_MEMORY: i64 = 365 * 86_400;
/// Expired records are swept at most once per this many seconds of mock time,
/// on the first request after the clock moved past the mark (amortised; a
/// frozen clock never sweeps because nothing can expire).
const SWEEP_INTERVAL: i64 = 60;

/// An error answer before it gets its correlation id; kept on a token when
/// errors stick (Fidelity::Playground, docs/klarna.md §10 and §11.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub error_code: &'static str,
    pub messages: Vec<String>,
}

impl Refusal {
    pub fn new(status: u16, error_code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            error_code,
            messages: vec![message.into()],
        }
    }

    /// 400 BAD_VALUE with these messages (docs/klarna.md §3.3).
    pub fn bad_value(messages: Vec<String>) -> Refusal {
        Refusal {
            status: 400,
            error_code: "BAD_VALUE",
            messages,
        }
    }

    /// 400 BAD_VALUE `Bad value: <path>`, for one field (docs/klarna.md §3.3).
    pub fn bad_field(path: &str) -> Refusal {
        Refusal::bad_value(vec![format!("Bad value: {path}")])
    }

    pub fn invalid_session_id() -> Refusal {
        Refusal::new(404, "NOT_FOUND", "Invalid session id")
    }

    pub fn invalid_authorization_token() -> Refusal {
        Refusal::new(404, "NOT_FOUND", "Invalid authorization token")
    }

    pub fn session_completed() -> Refusal {
        Refusal::new(
            404,
            "SESSION_COMPLETED",
            "Session has already been completed",
        )
    }

    pub fn token_consumed() -> Refusal {
        Refusal::new(
            403,
            "INVALID_OPERATION",
            "Authorization token already consumed",
        )
    }
}

/// A payment session. The body is kept as compact JSON text, not as a typed
/// `Session`: a million sessions must fit in well under 1 GiB, and
/// only reads, updates and authorizations need the parsed form.
#[derive(Debug, Clone)]
struct SessionRecord {
    /// Every field the merchant sent (create, updates, authorize), read-only fields removed.
    body: Box<str>,
    created_at: i64,
    updated_at: i64,
    /// Only with the `read-back-ignores-updates` defect: the session as
    /// created plus what authorize merged in, without the updates; what the
    /// read-back shows then.
    shown: Option<Box<str>>,
    /// Approved at least once: customer details are shown from then on (docs/klarna.md §2.6).
    authorized: bool,
    /// The newest authorization token; older ones are replaced (docs/klarna.md §5.1).
    authorization_token: Option<Uuid>,
    /// An order was placed: status `complete`, pre-purchase operations refused.
    completed: bool,
}

/// What one `authorize()` produced.
#[derive(Debug, Clone)]
struct Authorization {
    session_id: Uuid,
    authorized_at: i64,
    /// When the session was created (the `token-lifetime-from-session` defect
    /// counts the token's 60 minutes from here).
    session_created_at: i64,
    /// The session as authorized, compact JSON: what create order is compared with.
    authorized: Box<str>,
    /// The payment method category chosen at authorization.
    payment_method_category: &'static str,
    cancelled: bool,
    replaced: bool,
    /// Playground: the token's first business refusal (409 mismatch, 403
    /// REJECTED), repeated for every later call whose body passes validation.
    sticky: Option<Refusal>,
    placed: Option<Placed>,
    /// The customer token this authorization issued, for identical retries
    /// (docs/klarna.md §13.6).
    customer_token: Option<Box<customer_tokens::Issued>>,
}

/// The order placed with a token, for identical retries (docs/klarna.md §5.2).
#[derive(Debug, Clone)]
struct Placed {
    request: Value,
    answer: Value,
    placed_at: i64,
}

/// Sessions, authorizations, orders and the id generator: the mock's whole state.
#[derive(Debug)]
pub struct MockState {
    fidelity: Fidelity,
    allow_cart_updates: bool,
    /// One bit per [`Defect`], by declaration index.
    defects: u128,
    ids: IdGenerator,
    sessions: HashMap<Uuid, SessionRecord>,
    authorizations: HashMap<Uuid, Authorization>,
    orders: HashMap<Uuid, OrderRecord>,
    customer_tokens: HashMap<Uuid, CustomerTokenRecord>,
    /// Pending orders waiting for their fraud decision, by (when, order id):
    /// applied by `handle` once `now` reaches them (docs/klarna.md §13.5).
    decisions: BTreeSet<(i64, Uuid)>,
    /// `serve --pending-review SECONDS`: every review takes this long.
    pending_review: Option<i64>,
    /// Notifications and authorization callbacks made, and those to deliver.
    journal: Journal,
    next_sweep: i64,
    /// The first correlation id handed out (`repeated-correlation-id` defect).
    first_correlation_id: Option<String>,
    /// The first order id handed out (`shared-order-id` defect).
    first_order_id: Option<Uuid>,
}

/// What checking a body needs of the store's settings, and nothing of its
/// state: the HTTP layer checks a create-session body with it before taking
/// the scope's lock, so that requests are checked side by side.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyChecks {
    fidelity: Fidelity,
    /// One bit per [`Defect`], by declaration index.
    defects: u128,
}

impl BodyChecks {
    pub(crate) fn new(config: &MockConfig) -> BodyChecks {
        BodyChecks {
            fidelity: config.fidelity,
            defects: config
                .defects
                .iter()
                .fold(0, |bits, d| bits | 1u128 << (*d as u32)),
        }
    }

    fn has(self, d: Defect) -> bool {
        self.defects & (1u128 << (d as u32)) != 0
    }

    fn check_body(self, kind: BodyKind, body: &Value) -> Result<(), Refusal> {
        self.judge(&self.violations(kind, body))
    }

    fn judge(self, violations: &[Violation]) -> Result<(), Refusal> {
        match validate::refusal(violations, self.fidelity) {
            Some(messages) => Err(Refusal::bad_value(messages)),
            None => Ok(()),
        }
    }

    fn violations(self, kind: BodyKind, body: &Value) -> Vec<Violation> {
        let mut violations = validate::validate(kind, body);
        if self.has(Defect::SkipAmountValidation) {
            violations.retain(|v| !is_amount_rule(v.rule));
        }
        if self.has(Defect::MissingFieldsAccepted) {
            violations.retain(|v| v.rule != validate::Rule::Required);
        }
        violations
    }
}

/// How long sessions live under the configured defects.
#[derive(Debug, Clone, Copy)]
struct SessionRules {
    lifetime: i64,
    from_creation: bool,
}

impl SessionRules {
    /// The first instant at which `record` is gone.
    fn expires_at(self, record: &SessionRecord) -> i64 {
        let start = if self.from_creation {
            record.created_at
        } else {
            record.updated_at
        };
        start.saturating_add(self.lifetime)
    }
}

impl MockState {
    /// A new store; its ids follow `config.seed` (or entropy without one).
    pub fn new(config: &MockConfig) -> MockState {
        Self::seeded(
            config,
            config.seed.unwrap_or_else(IdGenerator::entropy_seed),
        )
    }

    /// A new store whose ids follow `seed` (a scope's, `scope.rs`).
    pub(crate) fn seeded(config: &MockConfig, seed: u64) -> MockState {
        MockState {
            fidelity: config.fidelity,
            allow_cart_updates: config.allow_cart_updates,
            defects: BodyChecks::new(config).defects,
            ids: IdGenerator::seeded(seed),
            sessions: HashMap::new(),
            authorizations: HashMap::new(),
            orders: HashMap::new(),
            customer_tokens: HashMap::new(),
            decisions: BTreeSet::new(),
            pending_review: config
                .pending_review
                .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
            journal: Journal::new(
                config.deliver_notifications.unwrap_or(false),
                config.notify_any_host,
            ),
            next_sweep: i64::MIN,
            first_correlation_id: None,
            first_order_id: None,
        }
    }

    /// The one entry point: answers `request` as Klarna would at `now`.
    pub fn handle(&mut self, request: MockRequest, now: i64) -> MockReply {
        self.tick(now);
        let result = match request {
            MockRequest::CreateSession { body } => self.create_session(body, now),
            MockRequest::ReadSession { session_id } => self.read_session(&session_id, now),
            MockRequest::UpdateSession { session_id, body } => {
                self.update_session(&session_id, body, now)
            }
            MockRequest::Authorize { session_id, body } => self.authorize(&session_id, body, now),
            MockRequest::CheckAuthorize { session_id, body } => {
                self.check_authorize(&session_id, body, now)
            }
            MockRequest::CreateOrder {
                authorization_token,
                body,
            } => self.create_order(&authorization_token, body, now),
            MockRequest::CancelAuthorization {
                authorization_token,
            } => self.cancel_authorization(&authorization_token, now),
            MockRequest::CreateCustomerToken {
                authorization_token,
                body,
            } => self.create_customer_token(&authorization_token, body, now),
            MockRequest::ReadOrder { order_id } => self.read_order(&order_id, now),
            MockRequest::Capture {
                order_id,
                body,
                idempotency_key,
                base_url,
            } => self.capture(&order_id, body, idempotency_key, &base_url, now),
            MockRequest::ListCaptures { order_id } => self.list_captures(&order_id, now),
            MockRequest::ReadCapture {
                order_id,
                capture_id,
            } => self.read_capture(&order_id, &capture_id, now),
            MockRequest::AddShippingInfo {
                order_id,
                capture_id,
                body,
            } => self.add_shipping_info(&order_id, &capture_id, body, now),
            MockRequest::Refund {
                order_id,
                body,
                idempotency_key,
                base_url,
            } => self.refund(&order_id, body, idempotency_key, &base_url, now),
            MockRequest::ListRefunds { order_id } => self.list_refunds(&order_id, now),
            MockRequest::ReadRefund {
                order_id,
                refund_id,
            } => self.read_refund(&order_id, &refund_id, now),
            MockRequest::CancelOrder { order_id } => self.cancel_order(&order_id, now),
            MockRequest::ExtendAuthorizationTime { order_id } => {
                self.extend_authorization_time(&order_id, now)
            }
            MockRequest::ReleaseRemainingAuthorization { order_id } => {
                self.release_remaining_authorization(&order_id, now)
            }
            MockRequest::AcknowledgeOrder { order_id } => self.acknowledge(&order_id, now),
            MockRequest::UpdateMerchantReferences { order_id, body } => {
                self.update_merchant_references(&order_id, body, now)
            }
            MockRequest::ReadCustomerToken { token_id } => self.read_customer_token(&token_id, now),
            MockRequest::UpdateCustomerTokenStatus { token_id, body } => {
                self.update_customer_token_status(&token_id, body, now)
            }
            MockRequest::CustomerTokenOrder {
                token_id,
                body,
                idempotency_key,
            } => self.customer_token_order(&token_id, body, idempotency_key, now),
            MockRequest::FraudDecision { order_id, body } => {
                self.fraud_decision(&order_id, body, now)
            }
            MockRequest::ListNotifications { ids } => Ok(self.list_notifications(&ids)),
        };
        match result {
            Ok(reply) => reply,
            Err(refusal) => self.refusal_reply(refusal),
        }
    }

    /// Lets time pass up to `now`: applies the fraud decisions that are due
    /// (docs/klarna.md §13.5) and, at most once a minute of mock time, sweeps
    /// what has expired. `handle` calls it first; the HTTP layer also calls it
    /// after the control API moved the clock, so that notifications due go out
    /// at once.
    pub fn tick(&mut self, now: i64) {
        self.decide_due(now);
        if now >= self.next_sweep {
            self.sweep(now);
            self.next_sweep = now.saturating_add(SWEEP_INTERVAL);
        }
    }

    /// A Klarna-shaped error answer with a fresh correlation id, for refusals
    /// made outside the store (credentials, routing, body parsing in `http.rs`).
    pub fn refuse(
        &mut self,
        status: u16,
        error_code: &'static str,
        messages: Vec<String>,
    ) -> MockReply {
        self.refusal_reply(Refusal {
            status,
            error_code,
            messages,
        })
    }

    /// A success answer with a fresh correlation id (also for the control API's clock).
    pub fn reply(&mut self, status: u16, body: Option<Value>) -> MockReply {
        self.reply_text(status, body.as_ref().map(compact))
    }

    /// A success answer whose body is already serialized JSON.
    fn reply_text(&mut self, status: u16, body: Option<String>) -> MockReply {
        let mut correlation_id = self.correlation_id();
        if (200..300).contains(&status) && self.has(Defect::NoCorrelationIdOnSuccess) {
            correlation_id.clear();
        }
        MockReply {
            status,
            correlation_id,
            headers: Vec::new(),
            body,
        }
    }

    /// A fresh correlation id (the first one again under `repeated-correlation-id`).
    fn correlation_id(&mut self) -> String {
        let fresh = self.ids.uuid().to_string();
        if self.has(Defect::RepeatedCorrelationId) {
            self.first_correlation_id.get_or_insert(fresh).clone()
        } else {
            fresh
        }
    }

    /// Whether the store holds session `session_id` (expired or not): how the
    /// SDK stand-in finds the scope of a client token's session.
    pub(crate) fn holds_session(&self, session_id: &str) -> bool {
        parse_id(session_id).is_some_and(|id| self.sessions.contains_key(&id))
    }

    /// Live sessions (not yet swept), for memory measurements and tests.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Live authorizations (not yet swept).
    pub fn authorization_count(&self) -> usize {
        self.authorizations.len()
    }

    /// Live orders (not yet swept).
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// Live customer tokens (not yet swept).
    pub fn customer_token_count(&self) -> usize {
        self.customer_tokens.len()
    }

    fn refusal_reply(&mut self, r: Refusal) -> MockReply {
        let correlation_id = self.correlation_id();
        let body_id = if self.has(Defect::MismatchedCorrelationId) {
            self.ids.uuid().to_string()
        } else {
            correlation_id.clone()
        };
        let messages = if self.has(Defect::EmptyErrorMessages) {
            Vec::new()
        } else {
            r.messages
        };
        let headers = if self.has(Defect::TextPlainErrors) {
            // http.rs sends reply headers after its own, so this one wins.
            vec![("content-type", "text/plain".to_owned())]
        } else {
            Vec::new()
        };
        MockReply {
            status: r.status,
            correlation_id,
            headers,
            body: Some(compact(&json!({
                "correlation_id": body_id,
                "error_code": r.error_code,
                "error_messages": messages,
            }))),
        }
    }

    fn has(&self, d: Defect) -> bool {
        self.defects & (1u128 << (d as u32)) != 0
    }

    /// Session lifetime: 48 h after the last update (docs/klarna.md §5.1),
    /// unless a defect changes it.
    fn session_rules(&self) -> SessionRules {
        SessionRules {
            lifetime: if self.has(Defect::SessionLifetime2h) {
                SHORT_SESSION_LIFETIME
            } else {
                SESSION_LIFETIME
            },
            from_creation: self.has(Defect::SessionLifetimeFromCreation),
        }
    }

    /// Where a token's 60 minutes start: its authorization (docs/klarna.md §5.1),
    /// or the session's creation under `token-lifetime-from-session`.
    fn token_start(&self, auth: &Authorization) -> i64 {
        if self.has(Defect::TokenLifetimeFromSession) {
            auth.session_created_at
        } else {
            auth.authorized_at
        }
    }

    /// Removes what has expired: sessions 48 h after their last update, tokens
    /// 60 min after authorization, orders and customer tokens 365 days after
    /// creation (docs/klarna.md §13.1; so memory stays bounded). Lookups check expiry themselves, so a record that waits
    /// for the next sweep is never served.
    fn sweep(&mut self, now: i64) {
        let rules = self.session_rules();
        self.sessions.retain(|_, s| now < rules.expires_at(s));
        if !self.has(Defect::AcceptExpiredTokens) {
            let late = i64::from(self.has(Defect::ExpireOneSecondLate));
            let from_session = self.has(Defect::TokenLifetimeFromSession);
            self.authorizations.retain(|_, a| {
                let start = if from_session {
                    a.session_created_at
                } else {
                    a.authorized_at
                };
                now.saturating_sub(start) < TOKEN_LIFETIME + late
            });
        }
        self.orders
            .retain(|_, o| now.saturating_sub(o.created_at) < ORDER_MEMORY);
        self.customer_tokens
            .retain(|_, t| now.saturating_sub(t.created_at) < ORDER_MEMORY);
    }

    /// Validates a request body and refuses it as Klarna would (400 BAD_VALUE).
    fn check_body(&self, kind: BodyKind, body: &Value) -> Result<(), Refusal> {
        self.checks().check_body(kind, body)
    }

    /// Refuses (400 BAD_VALUE) when these violations are refused at this fidelity.
    fn judge(&self, violations: &[Violation]) -> Result<(), Refusal> {
        self.checks().judge(violations)
    }

    fn violations(&self, kind: BodyKind, body: &Value) -> Vec<Violation> {
        self.checks().violations(kind, body)
    }

    fn checks(&self) -> BodyChecks {
        BodyChecks {
            fidelity: self.fidelity,
            defects: self.defects,
        }
    }

    /// The paths this mock's fidelity refuses (for `invalid_fields` at authorize).
    fn refused_paths(&self, kind: BodyKind, body: &Value) -> Vec<String> {
        let violations = self.violations(kind, body);
        if validate::refusal(&violations, self.fidelity).is_none() {
            return Vec::new();
        }
        let mut paths: Vec<String> = Vec::new();
        for v in violations {
            if (self.fidelity == Fidelity::Documented || v.grade == Grade::Error)
                && !paths.contains(&v.path)
            {
                paths.push(v.path);
            }
        }
        paths
    }
}

/// The arithmetic rules of docs/klarna.md §3.1 (line total, line tax,
/// order_amount, order_tax_amount).
fn is_amount_rule(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::LineTotal | Rule::LineTax | Rule::OrderAmount | Rule::OrderTaxAmount
    )
}

/// A validated body as Klarna's reader takes it: floats in integer fields
/// truncated (`validate::truncate_fractions`), so the model types, whose
/// integers refuse `10000.0`, hold what the validator judged. Every body is
/// passed through this before it is parsed into a model type or stored.
fn as_read(mut body: Value) -> Value {
    validate::truncate_fractions(&mut body);
    body
}

/// Parses a validated body into its model type. Validation is meant to refuse
/// everything the type cannot hold; if it lets something through, the answer
/// is still a Klarna-shaped 400 naming the top-level field, never a 500.
fn typed<T: DeserializeOwned + serde::Serialize + Default>(body: &Value) -> Result<T, Refusal> {
    T::deserialize(body).map_err(|_| Refusal::bad_field(&bad_field::<T>(body)))
}

/// The first top-level field of `body` that `T` cannot hold, found by placing
/// each field alone into `T`'s default (only on the error path).
fn bad_field<T: DeserializeOwned + serde::Serialize + Default>(body: &Value) -> String {
    let Some(obj) = body.as_object() else {
        return "body".to_owned();
    };
    let Ok(Value::Object(skeleton)) = serde_json::to_value(T::default()) else {
        return "body".to_owned();
    };
    for (key, value) in obj {
        let mut probe = skeleton.clone();
        probe.insert(key.clone(), value.clone());
        if T::deserialize(&Value::Object(probe)).is_err() {
            return key.clone();
        }
    }
    // A required field is missing: report the first field the default has and the body lacks.
    skeleton
        .keys()
        .find(|k| !obj.contains_key(*k))
        .cloned()
        .unwrap_or_else(|| "body".to_owned())
}

/// `value` as compact JSON, keys in sorted order: the bytes `Display` writes,
/// written straight into a buffer (several times faster than through `fmt`).
pub(super) fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// An id from a path: only the exact lower-case hyphenated form the mock hands out.
fn parse_id(id: &str) -> Option<Uuid> {
    let uuid = Uuid::try_parse(id).ok()?;
    (id.len() == 36 && uuid.hyphenated().to_string() == id).then_some(uuid)
}
