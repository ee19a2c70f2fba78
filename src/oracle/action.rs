//! The concrete requests the reference model predicts answers for. A
//! generated operation (`sequence::Op`) becomes an [`Action`] once the model
//! state says which session or token it refers to and what its body is.

use super::answer::{OrderIx, SessionIx, TokenIx};

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
    /// `POST /ordermanagement/v1/orders/{order_id}/captures`.
    Capture { order: OrderIx, amount: i64 },
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
            Action::AdvanceClock { .. } => "advance clock",
            Action::WrongCredentials { .. } => "wrong credentials",
        }
    }
}
