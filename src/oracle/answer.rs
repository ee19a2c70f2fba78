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

/// The predicted answer and, for lenient judging, the alternatives.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub answer: Answer,
    /// Answers a real account may give instead, where its contract decides
    /// (docs/klarna.md §4.2, §5.3, §9). Judged only when the run is lenient.
    pub alternatives: Vec<Answer>,
}

impl Prediction {
    pub fn new(answer: Answer) -> Prediction {
        Prediction {
            answer,
            alternatives: Vec::new(),
        }
    }

    pub fn error(error: ExpectedError) -> Prediction {
        Prediction::new(Answer::Error(error))
    }

    /// The answers to judge against, the predicted one first.
    pub fn answers(&self, lenient: bool) -> impl Iterator<Item = &Answer> {
        std::iter::once(&self.answer).chain(self.alternatives.iter().filter(move |_| lenient))
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
    /// 201 capture: no body, `Capture-Id` and `Location` naming it.
    Captured { order: OrderIx },
    /// The control API's clock: `{"now": <RFC 3339>}`.
    Clock { now: i64 },
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

/// An order as Order Management must show it (docs/klarna.md §9, §11.3).
#[derive(Debug, Clone, PartialEq)]
pub struct OmView {
    pub order: OrderIx,
    pub status: &'static str,
    /// The `fraud_status` values allowed; with lenient judging, the one the
    /// order was placed with.
    pub fraud_status: &'static [&'static str],
    pub order_amount: i64,
    pub captured_amount: i64,
    pub refunded_amount: i64,
    pub remaining_authorized_amount: i64,
    pub purchase_currency: String,
    /// The lines as placed: every field sent must come back unchanged.
    pub order_lines: Vec<OrderLine>,
}
