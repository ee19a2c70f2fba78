//! The concrete requests the reference model predicts answers for. A
//! generated operation (`sequence::Op`) becomes an [`Action`] once the model
//! state says which session or token it refers to and what its body is.

use super::answer::{CaptureIx, CustomerTokenIx, OmOp, OrderIx, RefundIx, SessionIx, TokenIx};

/// An object of the model, or an id no target issued (to check NOT_FOUND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id<T> {
    Known(T),
    Unknown(String),
}

/// One request, with everything the model needs to predict its answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `POST /payments/v1/sessions`.
    CreateSession { body: String },
    /// `GET /payments/v1/sessions/{session_id}`.
    ReadSession { session: Id<SessionIx> },
    /// `POST /payments/v1/sessions/{session_id}`.
    UpdateSession { session: SessionIx, body: String },
    /// The control API's `POST /__mock/sessions/{session_id}/authorize`: what
    /// `Klarna.Payments.authorize()` does in a browser. `category` picks one of
    /// the categories the session's create answer offered (index, modulo their
    /// number); `None` lets the target choose.
    Authorize {
        session: SessionIx,
        data: String,
        category: Option<u8>,
    },
    /// `POST /payments/v1/authorizations/{token}/order`.
    CreateOrder { token: Id<TokenIx>, body: String },
    /// `DELETE /payments/v1/authorizations/{token}`.
    CancelAuthorization { token: Id<TokenIx> },
    /// `GET /ordermanagement/v1/orders/{order_id}`.
    ReadOrder { order: Id<OrderIx> },
    /// `POST /ordermanagement/v1/orders/{order_id}/captures`; `amount: None`
    /// sends `{}` (the recorded 422), `key` a `Klarna-Idempotency-Key`.
    Capture {
        order: OrderIx,
        amount: Option<i64>,
        description: Option<String>,
        key: Option<String>,
    },
    /// `POST /ordermanagement/v1/orders/{order_id}/refunds`, as [`Action::Capture`].
    Refund {
        order: OrderIx,
        amount: Option<i64>,
        description: Option<String>,
        key: Option<String>,
    },
    /// One of the 204 operations of Order Management, with its body (empty
    /// for cancel, acknowledge, extend and release).
    OmOperation {
        order: OrderIx,
        op: OmOp,
        body: Option<String>,
    },
    /// `GET .../captures`.
    ReadCaptures { order: OrderIx },
    /// `GET .../captures/{capture_id}`.
    ReadCapture {
        order: OrderIx,
        capture: Id<CaptureIx>,
    },
    /// `GET .../refunds`.
    ReadRefunds { order: OrderIx },
    /// `GET .../refunds/{refund_id}`.
    ReadRefund {
        order: OrderIx,
        refund: Id<RefundIx>,
    },
    /// The control API's `POST /__mock/orders/{order_id}/fraud-decision`.
    FraudDecision {
        order: OrderIx,
        fraud_status: &'static str,
    },
    /// The control API's `GET /__mock/notifications`.
    ReadNotifications,
    /// `POST /payments/v1/authorizations/{token}/customer-token`.
    CreateCustomerToken { token: Id<TokenIx>, body: String },
    /// `GET /customer-token/v1/tokens/{token_id}`.
    ReadCustomerToken { ctoken: Id<CustomerTokenIx> },
    /// `PATCH /customer-token/v1/tokens/{token_id}/status`.
    SetCustomerTokenStatus {
        ctoken: CustomerTokenIx,
        status: &'static str,
    },
    /// `POST /customer-token/v1/tokens/{token_id}/order`.
    CustomerTokenOrder {
        ctoken: CustomerTokenIx,
        body: String,
        key: Option<String>,
    },
    /// The control API's `POST /__mock/clock`.
    AdvanceClock { seconds: u64 },
    /// `GET /payments/v1/sessions/{unknown}` with a wrong password.
    WrongCredentials { session_id: String },
}

impl Action {
    /// A short name of the operation, for coverage counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::CreateSession { .. } => "create session",
            Action::ReadSession { .. } => "read session",
            Action::UpdateSession { .. } => "update session",
            Action::Authorize { .. } => "authorize",
            Action::CreateOrder { .. } => "create order",
            Action::CancelAuthorization { .. } => "cancel authorization",
            Action::ReadOrder { .. } => "read order",
            Action::Capture { .. } => "capture",
            Action::Refund { .. } => "refund",
            Action::OmOperation { op, .. } => op.name(),
            Action::ReadCaptures { .. } => "read captures",
            Action::ReadCapture { .. } => "read capture",
            Action::ReadRefunds { .. } => "read refunds",
            Action::ReadRefund { .. } => "read refund",
            Action::FraudDecision { .. } => "fraud decision",
            Action::ReadNotifications => "read notifications",
            Action::CreateCustomerToken { .. } => "create customer token",
            Action::ReadCustomerToken { .. } => "read customer token",
            Action::SetCustomerTokenStatus { .. } => "cancel customer token",
            Action::CustomerTokenOrder { .. } => "customer token order",
            Action::AdvanceClock { .. } => "advance clock",
            Action::WrongCredentials { .. } => "wrong credentials",
        }
    }
}
