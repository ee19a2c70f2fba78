//! The mock's paths: Klarna's (Payments, Order Management, Customer Token)
//! and the control API's, each with its methods and how it takes a body.

use axum::http::Method;
use serde_json::{Value, json};

use super::control;
use super::journal::Filter;
use super::store::{MockRequest, Refusal};

/// What a routed request asks for.
pub(super) enum Call {
    Store(MockRequest),
    ReadClock,
    /// `POST /__mock/clock`: `advance_seconds` when it is a whole number ≥ 0.
    AdvanceClock(Option<u64>),
    /// `POST /__mock/reset`: the caller's scope, or every scope.
    Reset {
        all: bool,
    },
    /// `GET /__mock/requests`.
    ReadRequests(Filter),
    /// `GET /__mock/health` with credentials (without, `http.rs` answers first).
    Health,
}

/// How an endpoint takes a body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyUse {
    None,
    /// An empty body is no body; a non-empty one must be a JSON object.
    Optional,
    Required,
}

/// What the HTTP layer reads from a request besides path and body.
pub(super) struct Context {
    /// `Klarna-Idempotency-Key` (docs/klarna.md §1.4, §13.2).
    pub idempotency_key: Option<String>,
    /// `http://` and the `Host` header (`http://localhost` without one): the
    /// start of an absolute `Location` (docs/klarna.md §13.2).
    pub base_url: String,
    /// The query string (the control API's parameters).
    pub query: Option<String>,
}

pub(super) enum Route {
    CreateSession,
    ReadSession(String),
    UpdateSession(String),
    Authorize(String),
    CreateOrder(String),
    CancelAuthorization(String),
    CustomerToken(String),
    ReadOrder(String),
    Capture(String),
    ListCaptures(String),
    ReadCapture(String, String),
    ShippingInfo(String, String),
    Refund(String),
    ListRefunds(String),
    ReadRefund(String, String),
    CancelOrder(String),
    ExtendAuthorizationTime(String),
    ReleaseRemainingAuthorization(String),
    Acknowledge(String),
    MerchantReferences(String),
    ReadCustomerToken(String),
    CustomerTokenStatus(String),
    CustomerTokenOrder(String),
    FraudDecision(String),
    Notifications,
    ReadClock,
    AdvanceClock,
    Reset,
    Requests,
    Health,
}

pub(super) enum RouteError {
    NotFound,
    MethodNotAllowed(String),
}

impl Route {
    pub fn body_use(&self) -> BodyUse {
        match self {
            Route::ReadSession(_)
            | Route::CancelAuthorization(_)
            | Route::ReadOrder(_)
            | Route::ListCaptures(_)
            | Route::ReadCapture(..)
            | Route::ListRefunds(_)
            | Route::ReadRefund(..)
            | Route::ReadCustomerToken(_)
            | Route::Notifications
            | Route::ReadClock
            | Route::Requests
            | Route::Health => BodyUse::None,
            // Klarna's bodiless POSTs; a body sent anyway is read and ignored. `[I]`
            Route::Authorize(_)
            | Route::CancelOrder(_)
            | Route::ExtendAuthorizationTime(_)
            | Route::ReleaseRemainingAuthorization(_)
            | Route::Acknowledge(_)
            | Route::Reset => BodyUse::Optional,
            _ => BodyUse::Required,
        }
    }

    /// Whether the request journal leaves it out: reading the journal and
    /// resetting it are not part of what a test did.
    pub fn unjournaled(&self) -> bool {
        matches!(self, Route::Requests | Route::Reset | Route::Health)
    }

    /// The call; a control API query that cannot be used is refused (400).
    pub fn into_call(self, body: Option<Value>, context: Context) -> Result<Call, Refusal> {
        if let Route::Authorize(session_id) = self {
            return Ok(Call::Store(MockRequest::Authorize { session_id, body }));
        }
        // Required bodies were read and parsed before; `{}` only keeps this total.
        let body = body.unwrap_or_else(|| json!({}));
        let Context {
            idempotency_key,
            base_url,
            query,
        } = context;
        let request = match self {
            Route::CreateSession => MockRequest::CreateSession { body },
            Route::ReadSession(session_id) => MockRequest::ReadSession { session_id },
            Route::UpdateSession(session_id) => MockRequest::UpdateSession { session_id, body },
            Route::Authorize(session_id) => MockRequest::Authorize {
                session_id,
                body: Some(body),
            },
            Route::CreateOrder(authorization_token) => MockRequest::CreateOrder {
                authorization_token,
                body,
            },
            Route::CancelAuthorization(authorization_token) => MockRequest::CancelAuthorization {
                authorization_token,
            },
            Route::CustomerToken(authorization_token) => MockRequest::CreateCustomerToken {
                authorization_token,
                body,
            },
            Route::ReadOrder(order_id) => MockRequest::ReadOrder { order_id },
            Route::Capture(order_id) => MockRequest::Capture {
                order_id,
                body,
                idempotency_key,
                base_url,
            },
            Route::ListCaptures(order_id) => MockRequest::ListCaptures { order_id },
            Route::ReadCapture(order_id, capture_id) => MockRequest::ReadCapture {
                order_id,
                capture_id,
            },
            Route::ShippingInfo(order_id, capture_id) => MockRequest::AddShippingInfo {
                order_id,
                capture_id,
                body,
            },
            Route::Refund(order_id) => MockRequest::Refund {
                order_id,
                body,
                idempotency_key,
                base_url,
            },
            Route::ListRefunds(order_id) => MockRequest::ListRefunds { order_id },
            Route::ReadRefund(order_id, refund_id) => MockRequest::ReadRefund {
                order_id,
                refund_id,
            },
            Route::CancelOrder(order_id) => MockRequest::CancelOrder { order_id },
            Route::ExtendAuthorizationTime(order_id) => {
                MockRequest::ExtendAuthorizationTime { order_id }
            }
            Route::ReleaseRemainingAuthorization(order_id) => {
                MockRequest::ReleaseRemainingAuthorization { order_id }
            }
            Route::Acknowledge(order_id) => MockRequest::AcknowledgeOrder { order_id },
            Route::MerchantReferences(order_id) => {
                MockRequest::UpdateMerchantReferences { order_id, body }
            }
            Route::ReadCustomerToken(token_id) => MockRequest::ReadCustomerToken { token_id },
            Route::CustomerTokenStatus(token_id) => {
                MockRequest::UpdateCustomerTokenStatus { token_id, body }
            }
            Route::CustomerTokenOrder(token_id) => MockRequest::CustomerTokenOrder {
                token_id,
                body,
                idempotency_key,
            },
            Route::FraudDecision(order_id) => MockRequest::FraudDecision { order_id, body },
            Route::Notifications => MockRequest::ListNotifications {
                ids: control::notifications_filter(query.as_deref())?,
            },
            Route::ReadClock => return Ok(Call::ReadClock),
            Route::AdvanceClock => {
                let seconds = body.get("advance_seconds").and_then(Value::as_u64);
                return Ok(Call::AdvanceClock(seconds));
            }
            Route::Reset => {
                let all = control::reset_all(query.as_deref())?;
                return Ok(Call::Reset { all });
            }
            Route::Requests => {
                let filter = control::requests_filter(query.as_deref())?;
                return Ok(Call::ReadRequests(filter));
            }
            Route::Health => return Ok(Call::Health),
        };
        Ok(Call::Store(request))
    }
}

/// The routes of one path, by method.
#[derive(Default)]
struct Methods {
    get: Option<Route>,
    post: Option<Route>,
    patch: Option<Route>,
    delete: Option<Route>,
}

impl Methods {
    fn get(route: Route) -> Methods {
        Methods {
            get: Some(route),
            ..Methods::default()
        }
    }

    fn post(route: Route) -> Methods {
        Methods {
            post: Some(route),
            ..Methods::default()
        }
    }

    fn patch(route: Route) -> Methods {
        Methods {
            patch: Some(route),
            ..Methods::default()
        }
    }

    /// The `Allow` header: the methods this path has.
    fn allow(&self) -> String {
        [
            ("GET", self.get.is_some()),
            ("POST", self.post.is_some()),
            ("PATCH", self.patch.is_some()),
            ("DELETE", self.delete.is_some()),
        ]
        .iter()
        .filter(|(_, has)| *has)
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Klarna's paths and the control API's. Empty segments (trailing or doubled
/// slashes) are ignored as the playground did (docs/klarna.md §10), unless
/// `strict_paths` (documented fidelity): then such a path names no resource.
pub(super) fn route(method: &Method, path: &str, strict_paths: bool) -> Result<Route, RouteError> {
    if strict_paths && path.split('/').skip(1).any(str::is_empty) {
        return Err(RouteError::NotFound);
    }
    // The longest path has 7 segments; a longer one names nothing (no heap).
    let mut buffer = [""; 8];
    let mut count = 0;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if count == buffer.len() {
            return Err(RouteError::NotFound);
        }
        buffer[count] = segment;
        count += 1;
    }
    let segments = &buffer[..count];
    let id = |s: &str| s.to_owned();
    let mut methods = match segments {
        ["payments", "v1", "sessions"] => Methods::post(Route::CreateSession),
        ["payments", "v1", "sessions", s] => Methods {
            get: Some(Route::ReadSession(id(s))),
            post: Some(Route::UpdateSession(id(s))),
            ..Methods::default()
        },
        ["payments", "v1", "authorizations", t] => Methods {
            delete: Some(Route::CancelAuthorization(id(t))),
            ..Methods::default()
        },
        ["payments", "v1", "authorizations", t, "order"] => {
            Methods::post(Route::CreateOrder(id(t)))
        }
        ["payments", "v1", "authorizations", t, "customer-token"] => {
            Methods::post(Route::CustomerToken(id(t)))
        }
        ["ordermanagement", "v1", "orders", o] => Methods::get(Route::ReadOrder(id(o))),
        ["ordermanagement", "v1", "orders", o, "captures"] => Methods {
            get: Some(Route::ListCaptures(id(o))),
            post: Some(Route::Capture(id(o))),
            ..Methods::default()
        },
        ["ordermanagement", "v1", "orders", o, "captures", c] => {
            Methods::get(Route::ReadCapture(id(o), id(c)))
        }
        [
            "ordermanagement",
            "v1",
            "orders",
            o,
            "captures",
            c,
            "shipping-info",
        ] => Methods::post(Route::ShippingInfo(id(o), id(c))),
        ["ordermanagement", "v1", "orders", o, "refunds"] => Methods {
            get: Some(Route::ListRefunds(id(o))),
            post: Some(Route::Refund(id(o))),
            ..Methods::default()
        },
        ["ordermanagement", "v1", "orders", o, "refunds", r] => {
            Methods::get(Route::ReadRefund(id(o), id(r)))
        }
        ["ordermanagement", "v1", "orders", o, "cancel"] => {
            Methods::post(Route::CancelOrder(id(o)))
        }
        [
            "ordermanagement",
            "v1",
            "orders",
            o,
            "extend-authorization-time",
        ] => Methods::post(Route::ExtendAuthorizationTime(id(o))),
        [
            "ordermanagement",
            "v1",
            "orders",
            o,
            "release-remaining-authorization",
        ] => Methods::post(Route::ReleaseRemainingAuthorization(id(o))),
        ["ordermanagement", "v1", "orders", o, "acknowledge"] => {
            Methods::post(Route::Acknowledge(id(o)))
        }
        ["ordermanagement", "v1", "orders", o, "merchant-references"] => {
            Methods::patch(Route::MerchantReferences(id(o)))
        }
        ["customer-token", "v1", "tokens", t] => Methods::get(Route::ReadCustomerToken(id(t))),
        ["customer-token", "v1", "tokens", t, "status"] => {
            Methods::patch(Route::CustomerTokenStatus(id(t)))
        }
        ["customer-token", "v1", "tokens", t, "order"] => {
            Methods::post(Route::CustomerTokenOrder(id(t)))
        }
        ["__mock", "sessions", s, "authorize"] => Methods::post(Route::Authorize(id(s))),
        ["__mock", "orders", o, "fraud-decision"] => Methods::post(Route::FraudDecision(id(o))),
        ["__mock", "notifications"] => Methods::get(Route::Notifications),
        ["__mock", "reset"] => Methods::post(Route::Reset),
        ["__mock", "requests"] => Methods::get(Route::Requests),
        ["__mock", "health"] => Methods::get(Route::Health),
        ["__mock", "clock"] => Methods {
            get: Some(Route::ReadClock),
            post: Some(Route::AdvanceClock),
            ..Methods::default()
        },
        _ => return Err(RouteError::NotFound),
    };
    let chosen = match *method {
        Method::GET => methods.get.take(),
        Method::POST => methods.post.take(),
        Method::PATCH => methods.patch.take(),
        Method::DELETE => methods.delete.take(),
        _ => None,
    };
    // A method the path lacks took nothing, so `Allow` lists them all; it is
    // written only for a 405 (off the hot path).
    chosen.ok_or_else(|| RouteError::MethodNotAllowed(methods.allow()))
}
