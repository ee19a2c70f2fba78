//! The stateful mock of Klarna Payments v1, Order Management's order
//! lifecycle and the Customer Token API, with a virtual clock and a control API.
//!
//! The shape follows wiremock-rs: all state lives in one pure state machine,
//! [`MockState`] (`store/`), which takes a typed request and "now" and returns
//! a reply; `http.rs` is a thin axum layer (credentials, routing, body
//! parsing) in front of it, which also delivers the notifications the store
//! journals (`deliver.rs`); `server.rs` runs it on a port, with helpers for
//! tests in the same process; this module is the small public facade.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use klarna_conformance::mock::{MockConfig, MockServer};
//! let server = MockServer::start(MockConfig::default().seed(42)).await?;
//! println!("{}", server.base_url()); // http://127.0.0.1:<port>
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! In-process without a socket: [`router`] returns the axum `Router`, which a
//! caller can drive with `tower::ServiceExt::oneshot`.
//!
//! # The control API (not Klarna's; same credentials)
//!
//! - `POST /__mock/sessions/{session_id}/authorize`: what `Klarna.Payments.authorize()`
//!   does in a browser. Optional JSON body of authorize-time session fields
//!   (merged into the session) and `payment_method_category` (default: the
//!   session's first). Answers `{"approved": true, "show_form": true,
//!   "authorization_token": ...}`, `{"approved": false, "show_form": false}` for
//!   the denied e-mail patterns (`reject_reason_` only in US and CA), or
//!   `{"approved": false, "show_form": true, "error": {"invalid_fields":
//!   [...]}}` for invalid data. An approved authorize of a session with
//!   `merchant_urls.authorization` makes the authorization callback.
//! - `GET /__mock/clock`, `POST /__mock/clock` `{"advance_seconds": N}`: both
//!   answer `{"now": "<RFC 3339>"}`. Time stops at 9999-12-31T23:59:59Z: an
//!   advance beyond it is 400 BAD_VALUE `Bad value: advance_seconds`. What
//!   falls due in the time passed (fraud decisions) happens at once.
//! - `POST /__mock/orders/{order_id}/fraud-decision` `{"fraud_status":
//!   "ACCEPTED" | "REJECTED" | "STOPPED"}`: decides a `PENDING` order now,
//!   200 `{"order_id", "fraud_status"}` (docs/klarna.md §13.5).
//! - `GET /__mock/notifications`: every notification and authorization
//!   callback made, oldest first: `[{"kind": "notification" |
//!   "authorization_callback", "url", "body", "attempts", "status", "error"}]`;
//!   `?id=X&id=Y` keeps the entries whose body names one of the ids as
//!   `order_id`, `session_id` or `authorization_token`.
//!
//! # The browser SDK stand-in (not Klarna's code; no credentials)
//!
//! `GET /kp/lib/v1/api.js` (and the legacy `/lib/v1/api.js`) defines
//! `Klarna.Payments` and `Klarna.Credit` for a merchant's page;
//! `GET /__mock/checkout` is a checkout page using it; the script calls
//! `POST /__mock/sdk/{load,authorize,finalize}` with `Authorization: Bearer
//! <client_token>`, in whichever scope holds the session, with CORS
//! (docs/klarna.md §14, `sdk/`).
//!
//! A test in the same process needs neither HTTP nor credentials for these:
//! [`MockServer::authorize`], [`MockServer::advance_clock`],
//! [`MockServer::now`], [`MockServer::reset`] (and
//! [`MockServer::reset_all`]), [`MockServer::requests`] and
//! [`MockServer::notifications`] do the same in the default scope, and
//! [`MockServer::scope`] gives a [`MockScope`] with the same methods for a
//! named one.
//!
//! # Notifications
//!
//! A pending order is decided after the minutes its e-mail names (or
//! [`MockConfig::pending_review()`]); the decision is notified to the session's
//! `merchant_urls.notification` (docs/klarna.md §13.5). Delivery over HTTP
//! ([`MockConfig::deliver_notifications()`]) is on for [`MockServer`] and
//! `serve`, off for [`router`]; only loopback hosts are contacted unless
//! [`MockConfig::notify_any_host()`]. The journal records every one either way.
//!
//! # Create order and Order Management
//!
//! `POST /payments/v1/authorizations/{token}/order` checks, in this order
//! (docs/klarna.md §5.2, §10, §11.1):
//!
//! 1. the token: unknown, expired, cancelled or replaced is 404 NOT_FOUND
//!    `Invalid authorization token`;
//! 2. the body: 400 BAD_VALUE, never stored on the token;
//! 3. a token that already placed its order: the identical body (compared as
//!    parsed JSON, so key order does not matter) gets the stored answer, any
//!    other body 409 BAD_VALUE `The order has been already completed with
//!    different request body`, not stored;
//! 4. in Playground fidelity only, the sticky refusal: the token's first
//!    business outcome (409 `Not matching fields`, 403 `REJECTED`) is repeated
//!    for every later call whose body passes validation, a fixed body
//!    included. `[I]` that exactly these stick (one recording showed a 400
//!    that did not). With `--strict` nothing sticks;
//! 5. a spent `tokenize` token (403), the comparison with the authorized data
//!    (409, or 403 REJECTED for a dearer cart with cart updates allowed), then
//!    the order.
//!
//! Order Management (`/ordermanagement/v1/orders/{order_id}`: read-back,
//! captures, refunds, shipping info, cancel, extend-authorization-time,
//! release-remaining-authorization, acknowledge, merchant-references) and the
//! Customer Token API (`/customer-token/v1/tokens/{token_id}`) follow
//! docs/klarna.md §13; see `store/om.rs`, `store/om_captures.rs` and
//! `store/customer_tokens.rs`. `Location` is absolute: `http://` and the
//! request's `Host` (`http://localhost` without one).
//!
//! # Defaults
//!
//! - Credentials: HTTP Basic `klarna-conformance` / `mock-secret`
//!   ([`DEFAULT_USERNAME`], [`DEFAULT_PASSWORD`]).
//! - Clock: virtual, frozen at 2026-01-01T00:00:00Z until advanced through
//!   `POST /__mock/clock` (or [`MockServer::advance_clock`]).
//! - Fidelity: [`Fidelity::Playground`] (as the real playground was recorded,
//!   docs/klarna.md §10, §11: lenient validation, sticky create-order refusals).
//! - Body limit: [`DEFAULT_BODY_LIMIT`] (32 MiB).
//! - Cart updates after authorization: refused (a merchant setting, off by default).
//! - Ids: random unless a seed is given; with a seed, answers are
//!   byte-identical, headers included (`Date` comes from the mock's clock).

mod auth;
mod clock;
mod control;
mod defect;
mod deliver;
mod http;
#[cfg(test)]
mod http_tests;
mod ids;
mod journal;
mod log;
mod routes;
mod scope;
mod sdk;
mod server;
mod store;
pub mod wiremock;

pub use crate::model::validate::Fidelity;
pub use auth::{MAX_SCOPE_LEN, is_scope_name};
pub use clock::{DEFAULT_START, parse_rfc3339, rfc3339};
pub use defect::{Defect, UnknownDefect};
pub use ids::IdGenerator;
pub use journal::{JOURNAL_BYTES, JOURNAL_LIMIT};
pub use log::RequestLog;
pub use scope::{DEFAULT_MAX_SCOPES, scope_seed};
pub use sdk::{
    API_JS, CHECKOUT_PATH, FINALIZE_CATEGORIES, LEGACY_SDK_PATH, SDK_PATH, checkout_page,
};
pub use server::{AuthorizeError, AuthorizeResult, ControlError, MockError, MockScope, MockServer};
pub use store::{MockReply, MockRequest, MockState};

/// The mock's default Basic-auth username.
pub const DEFAULT_USERNAME: &str = "klarna-conformance";
/// The mock's default Basic-auth password.
pub const DEFAULT_PASSWORD: &str = "mock-secret";
/// Environment variable overriding the username for `serve`.
pub const USERNAME_ENV: &str = "KLARNA_MOCK_USERNAME";
/// Environment variable overriding the password for `serve`.
pub const PASSWORD_ENV: &str = "KLARNA_MOCK_PASSWORD";

/// Default request body limit: 32 MiB.
///
/// Klarna's largest legal body has 1000 order lines (docs/klarna.md §2.2). One line
/// at every maximum length holds 4,926 characters of strings (line docs/klarna.md §256,
/// name 255, quantity_unit 8, product_url / image_url / merchant_data 1024
/// each, product_identifiers 1,068, subscription name 255, type ~12) plus
/// about 600 bytes of keys and numbers. Written with every character as a
/// `\uXXXX` escape (6 bytes, the worst JSON can do) that is about 30.2 KB a
/// line, 30.2 MB for 1000 lines; addresses and `merchant_data` add about
/// 0.1 MB. 32 MiB (33.5 MB) covers it. (`attachment.body` has no documented
/// maximum, so no finite limit covers every legal body.)
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// How the mock behaves: one typed settings value, built builder-style.
/// `Debug` never shows the password.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct MockConfig {
    /// Seed of the id generator; `None` seeds from entropy.
    pub seed: Option<u64>,
    pub username: String,
    pub password: String,
    /// Playground (default, lenient as recorded) or Documented (strict).
    pub fidelity: Fidelity,
    /// The merchant setting "cart updates allowed" (docs/klarna.md §3.4, docs/klarna.md §12 REJECTED row).
    pub allow_cart_updates: bool,
    /// Start of virtual time, unix seconds.
    pub clock_start: i64,
    /// Use the system clock instead of the virtual one.
    pub system_clock: bool,
    /// Largest accepted request body in bytes; larger gives 413.
    pub body_limit: usize,
    /// Deliberate deviations (empty for a faithful mock).
    pub defects: Vec<Defect>,
    /// Send notifications and authorization callbacks over HTTP
    /// (docs/klarna.md §13.5). `None` means the default of where the mock
    /// runs: on for [`MockServer`] (and `serve`), off for [`router`] used
    /// in-process. Either way the journal records them.
    pub deliver_notifications: Option<bool>,
    /// Contact any host, not only loopback ones (`serve --notify-any-host`).
    pub notify_any_host: bool,
    /// A fixed delay in seconds for every fraud review, instead of the minutes
    /// the e-mail names (`serve --pending-review SECONDS`).
    pub pending_review: Option<u64>,
    /// Named scopes that live at once; past it the least recently used goes
    /// (`serve --max-scopes N`, at least 1).
    pub max_scopes: usize,
    /// Requests each scope's journal keeps, newest last (`serve
    /// --journal-limit N`; 0 keeps none).
    pub journal_limit: usize,
    /// One JSON line per request (`serve --log PATH`).
    pub log: Option<RequestLog>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            seed: None,
            username: DEFAULT_USERNAME.to_owned(),
            password: DEFAULT_PASSWORD.to_owned(),
            fidelity: Fidelity::Playground,
            allow_cart_updates: false,
            clock_start: DEFAULT_START,
            system_clock: false,
            body_limit: DEFAULT_BODY_LIMIT,
            defects: Vec::new(),
            deliver_notifications: None,
            notify_any_host: false,
            pending_review: None,
            max_scopes: scope::DEFAULT_MAX_SCOPES,
            journal_limit: journal::JOURNAL_LIMIT,
            log: None,
        }
    }
}

impl std::fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured, so a new field cannot be left out unnoticed.
        let MockConfig {
            seed,
            username,
            password: _,
            fidelity,
            allow_cart_updates,
            clock_start,
            system_clock,
            body_limit,
            defects,
            deliver_notifications,
            notify_any_host,
            pending_review,
            max_scopes,
            journal_limit,
            log,
        } = self;
        f.debug_struct("MockConfig")
            .field("seed", seed)
            .field("username", username)
            .field("password", &"<redacted>")
            .field("fidelity", fidelity)
            .field("allow_cart_updates", allow_cart_updates)
            .field("clock_start", clock_start)
            .field("system_clock", system_clock)
            .field("body_limit", body_limit)
            .field("defects", defects)
            .field("deliver_notifications", deliver_notifications)
            .field("notify_any_host", notify_any_host)
            .field("pending_review", pending_review)
            .field("max_scopes", max_scopes)
            .field("journal_limit", journal_limit)
            .field("log", log)
            .finish()
    }
}

impl MockConfig {
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = username.into();
        self.password = password.into();
        self
    }

    pub fn fidelity(mut self, fidelity: Fidelity) -> Self {
        self.fidelity = fidelity;
        self
    }

    /// Shorthand for `fidelity(Fidelity::Documented)` when `strict`.
    pub fn strict(self, strict: bool) -> Self {
        self.fidelity(if strict {
            Fidelity::Documented
        } else {
            Fidelity::Playground
        })
    }

    pub fn allow_cart_updates(mut self, allow: bool) -> Self {
        self.allow_cart_updates = allow;
        self
    }

    /// Start virtual time at `unix` seconds.
    pub fn clock_start(mut self, unix: i64) -> Self {
        self.clock_start = unix;
        self
    }

    pub fn system_clock(mut self, system: bool) -> Self {
        self.system_clock = system;
        self
    }

    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Deliver notifications and callbacks over HTTP (see the field).
    pub fn deliver_notifications(mut self, deliver: bool) -> Self {
        self.deliver_notifications = Some(deliver);
        self
    }

    /// Contact any host with notifications, not only loopback ones.
    pub fn notify_any_host(mut self, any: bool) -> Self {
        self.notify_any_host = any;
        self
    }

    /// Decide every fraud review after `seconds`.
    pub fn pending_review(mut self, seconds: u64) -> Self {
        self.pending_review = Some(seconds);
        self
    }

    /// At most `n` named scopes at once (at least 1).
    pub fn max_scopes(mut self, n: usize) -> Self {
        self.max_scopes = n.max(1);
        self
    }

    /// Each scope's journal keeps its newest `n` requests (0: none).
    pub fn journal_limit(mut self, n: usize) -> Self {
        self.journal_limit = n;
        self
    }

    /// Writes one JSON line per request to `log`.
    pub fn log(mut self, log: RequestLog) -> Self {
        self.log = Some(log);
        self
    }

    pub fn defect(mut self, defect: Defect) -> Self {
        if !self.defects.contains(&defect) {
            self.defects.push(defect);
        }
        self
    }
}

/// The mock as an axum `Router`, for in-process use without a socket.
pub fn router(config: MockConfig) -> axum::Router {
    http::app(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let config = MockConfig::default().credentials("merchant", "s3cr3t-pw");
        let shown = format!("{config:?} {config:#?}");
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(shown.contains("merchant") && shown.contains("<redacted>"));
    }
}
