//! What the reference model predicts for one request: the [`Answer`] a
//! conformant target gives, and the other answers a real merchant account may
//! give instead (judged only with `--lenient`).
//!
//! Answers name the objects they are about by their index in the model
//! ([`SessionIx`], [`TokenIx`], [`OrderIx`]); the engine binds each index to the
//! real id the target handed out, so a prediction can say "the same order as
//! the first create order" without knowing the id in advance.

use serde_json::{Map, Value};

use super::ExpectedError;
use crate::model::OrderLine;

/// The n-th session the sequence created (0 = the first).
pub type SessionIx = usize;
/// The n-th authorization token the target issued in the sequence.
pub type TokenIx = usize;
/// The n-th order placed in the sequence.
pub type OrderIx = usize;
/// The n-th capture of an order.
pub type CaptureIx = usize;
/// The n-th refund of an order.
pub type RefundIx = usize;
/// The n-th customer token created in the sequence.
pub type CustomerTokenIx = usize;

/// The Order Management operations that answer 204 with a `Transaction-Id`
/// and are no-ops when repeated (docs/klarna.md §13.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OmOp {
    Cancel,
    Acknowledge,
    ExtendAuthorizationTime,
    ReleaseRemainingAuthorization,
    MerchantReferences,
    /// Shipping info of this capture.
    ShippingInfo(CaptureIx),
}

impl OmOp {
    pub fn name(self) -> &'static str {
        match self {
            OmOp::Cancel => "cancel order",
            OmOp::Acknowledge => "acknowledge",
            OmOp::ExtendAuthorizationTime => "extend authorization",
            OmOp::ReleaseRemainingAuthorization => "release remaining",
            OmOp::MerchantReferences => "merchant references",
            OmOp::ShippingInfo(_) => "shipping info",
        }
    }

    /// The path after `/ordermanagement/v1/orders/{order_id}`.
    pub fn path(self, capture_id: &str) -> String {
        match self {
            OmOp::Cancel => "/cancel".to_owned(),
            OmOp::Acknowledge => "/acknowledge".to_owned(),
            OmOp::ExtendAuthorizationTime => "/extend-authorization-time".to_owned(),
            OmOp::ReleaseRemainingAuthorization => "/release-remaining-authorization".to_owned(),
            OmOp::MerchantReferences => "/merchant-references".to_owned(),
            OmOp::ShippingInfo(_) => format!("/captures/{capture_id}/shipping-info"),
        }
    }
}

/// The predicted answer and, for lenient judging, the alternatives.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub answer: Answer,
    /// Answers a real account may give instead, where its contract decides
    /// (docs/klarna.md §4.2, §5.3, §9). Judged only when the run is lenient.
    pub alternatives: Vec<Answer>,
    /// What predicting worked out that applying needs again.
    pub(super) worked: Worked,
}

impl Prediction {
    pub fn new(answer: Answer) -> Prediction {
        Prediction {
            answer,
            alternatives: Vec::new(),
            worked: Worked::default(),
        }
    }

    /// This prediction, handing `work` on to `World::apply`.
    pub(super) fn with(self, work: Work) -> Prediction {
        self.worked.0.set(Some(work));
        self
    }

    pub fn error(error: ExpectedError) -> Prediction {
        Prediction::new(Answer::Error(error))
    }

    /// The answers to judge against, the predicted one first.
    pub fn answers(&self, lenient: bool) -> impl Iterator<Item = &Answer> {
        std::iter::once(&self.answer).chain(self.alternatives.iter().filter(move |_| lenient))
    }
}

/// The parsed and merged bodies a prediction computed from the state and
/// the request, which `World::apply` would otherwise compute again: a step
/// then parses its body once. They depend on the state before the step only,
/// never on the answer observed, so whichever answer is applied may use them.
/// Taken once; a copy of a prediction carries none (apply recomputes).
#[derive(Default)]
pub(super) struct Worked(std::cell::Cell<Option<Work>>);

pub(super) enum Work {
    /// Create session: the body as parsed.
    Parsed(serde_json::Value),
    /// Update session and authorize: the session with the request merged in
    /// (without a derived shipping address).
    Merged(serde_json::Map<String, serde_json::Value>),
    /// Create order: the body as sent and the order it reads as.
    Order(serde_json::Value, Box<crate::model::CreateOrderRequest>),
}

impl Worked {
    pub(super) fn take(&self) -> Option<Work> {
        self.0.take()
    }
}

impl Clone for Worked {
    fn clone(&self) -> Worked {
        Worked::default()
    }
}

/// Work done is no part of what a prediction says.
impl PartialEq for Worked {
    fn eq(&self, _: &Worked) -> bool {
        true
    }
}

impl std::fmt::Debug for Worked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Worked")
    }
}

/// One answer a conformant target gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A Klarna error body.
    Error(ExpectedError),
    /// 401: the credentials were refused (any body: a gateway may answer in HTML).
    Unauthorized,
    /// 204 without a body (update session, cancel authorization).
    NoContent,
    /// 200 `merchant_session`: a new session id, a JWT `client_token` naming
    /// it, and at least one payment method category.
    SessionCreated { session: SessionIx },
    /// 200 `session_read`.
    Session(Box<SessionView>),
    /// The control API's authorize, approved: a new token.
    Authorized { token: TokenIx },
    /// The control API's authorize, not approved.
    NotAuthorized {
        /// `true` with `invalid_fields`: fixable data; `false`: refused.
        show_form: bool,
        invalid_fields: Vec<String>,
    },
    /// 200 `order`.
    Order(OrderAnswer),
    /// 200 Order Management order.
    OmOrder(Box<OmView>),
    /// 201 capture: no body, `Capture-Id`, an absolute `Location` naming it,
    /// `Transaction-Id`; `again`: the idempotency key's first answer again.
    Captured {
        order: OrderIx,
        capture: CaptureIx,
        again: bool,
    },
    /// 201 refund, as [`Answer::Captured`] with `Refund-Id`.
    Refunded {
        order: OrderIx,
        refund: RefundIx,
        again: bool,
    },
    /// 204 of an Order Management operation with a `Transaction-Id`; a
    /// `repeat` carries the first call's.
    OmDone {
        order: OrderIx,
        op: OmOp,
        repeat: bool,
    },
    /// 200, the order's captures, oldest first.
    Captures(Vec<CaptureView>),
    /// 200, one capture.
    Capture(Box<CaptureView>),
    /// 200, the order's refunds, oldest first.
    Refunds(Vec<RefundView>),
    /// 200, one refund.
    Refund(Box<RefundView>),
    /// The control API's fraud decision: 200 `{order_id, fraud_status}`.
    FraudDecided {
        order: OrderIx,
        fraud_status: &'static str,
    },
    /// The control API's journal: these entries, in any order.
    Notifications(Vec<ExpectedNotification>),
    /// 200 `{token_id, redirect_url, billing_address, customer}`; `again`: the
    /// same `token_id` as the first time.
    CustomerTokenCreated {
        ctoken: CustomerTokenIx,
        again: bool,
    },
    /// 200 `{payment_method_type, status}`.
    CustomerToken {
        ctoken: CustomerTokenIx,
        status: &'static str,
    },
    /// 202 Accepted, no body.
    Accepted,
    /// 200 `{order_id, fraud_status, authorized_payment_method}`, no
    /// `redirect_url`; `again`: the idempotency key's first order.
    TokenOrder { order: OrderIx, again: bool },
    /// The control API's clock: `{"now": <RFC 3339>}`.
    Clock { now: i64 },
}

/// A capture as Order Management must show it (docs/klarna.md §13.4).
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureView {
    pub order: OrderIx,
    pub capture: CaptureIx,
    pub captured_amount: i64,
    pub description: Option<String>,
    /// The lines as given, or `[]`.
    pub order_lines: Value,
    /// As set through shipping-info, or `[]`.
    pub shipping_info: Value,
}

/// A refund as Order Management must show it (docs/klarna.md §13.4).
#[derive(Debug, Clone, PartialEq)]
pub struct RefundView {
    pub order: OrderIx,
    pub refund: RefundIx,
    pub refunded_amount: i64,
    pub description: Option<String>,
    pub order_lines: Value,
}

/// One entry of the mock's notification journal (docs/klarna.md §13.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedNotification {
    /// `notification` or `authorization_callback`.
    pub kind: &'static str,
    /// The merchant URL, `{order.id}` and `{session.id}` still in it.
    pub url: String,
    pub session: Option<SessionIx>,
    pub order: Option<OrderIx>,
    pub token: Option<TokenIx>,
    /// `FRAUD_RISK_ACCEPTED` etc. for a notification.
    pub event_type: Option<&'static str>,
}

/// What a successful create order carries (docs/klarna.md §2.6, §5.3, §5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAnswer {
    pub order: OrderIx,
    /// A retry of an order already placed: the same `order_id` and
    /// `redirect_url` as then (docs/klarna.md §11.1); otherwise a new id.
    pub again: bool,
    /// The `fraud_status` values allowed.
    pub fraud_status: &'static [&'static str],
    /// `redirect_url` present exactly when a confirmation URL was given.
    pub redirect_url: bool,
}

/// A session as `GET /payments/v1/sessions/{id}` must show it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub session: SessionIx,
    /// `complete` once its order was placed, else `incomplete`.
    pub status: &'static str,
    /// Fields the answer must carry with exactly these values (what the
    /// merchant sent, merged; customer details only after authorization).
    pub fields: Map<String, Value>,
    /// Fields it must not carry: customer details before authorization
    /// (docs/klarna.md §2.6: "We only share customer details after authorizing").
    pub absent: Vec<&'static str>,
    /// The newest token issued for the session.
    pub authorization_token: Option<TokenIx>,
    /// `expires_at`, unix seconds, where the target's clock is the model's.
    pub expires_at: Option<i64>,
}

/// An order as Order Management must show it (docs/klarna.md §9, §11.3, §13.4).
#[derive(Debug, Clone, PartialEq)]
pub struct OmView {
    pub order: OrderIx,
    pub status: &'static str,
    /// The `fraud_status` values allowed; with lenient judging, the one the
    /// order was placed with, until a decision.
    pub fraud_status: &'static [&'static str],
    pub order_amount: i64,
    pub captured_amount: i64,
    pub refunded_amount: i64,
    pub remaining_authorized_amount: i64,
    pub purchase_currency: String,
    /// The lines as placed: every field sent must come back unchanged.
    pub order_lines: Vec<OrderLine>,
    /// The captures and refunds, oldest first.
    pub captures: Vec<CaptureView>,
    pub refunds: Vec<RefundView>,
    /// `merchant_reference1` / `2` as last set (`None`: not judged).
    pub merchant_references: Option<(Option<String>, Option<String>)>,
    /// `expires_at`, unix seconds, where the target's clock is the model's.
    pub expires_at: Option<i64>,
}
