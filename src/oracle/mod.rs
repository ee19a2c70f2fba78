//! The oracle: a reference model of Klarna Payments v1 that predicts every
//! answer of a sequence of requests (docs/design.md). Pure: no HTTP, no
//! targets, and never the mock's store — a bug in the store must not be able
//! to hide itself by being asked what it would do. The oracle shares only the
//! model's rules (validation, money, markets) with the mock; where the two
//! must agree, each is written from docs/klarna.md.
//!
//! - [`World`]: the state a sequence builds up, [`World::predict`] and [`World::apply`].
//! - [`Action`]: one concrete request; [`Prediction`] / [`Answer`]: what it must get.
//! - [`not_matching_fields`]: the comparison with what was authorized.

mod action;
mod answer;
mod compare;
mod om;
mod orders;
mod sessions;
pub(crate) use sessions::merged;
mod tokens;
mod world;

pub use action::{Action, Id};
pub use answer::{
    Answer, CaptureIx, CaptureView, CustomerTokenIx, ExpectedNotification, OmOp, OmView,
    OrderAnswer, OrderIx, Prediction, RefundIx, RefundView, SessionIx, SessionView, TokenIx,
};
pub use compare::not_matching_fields;
pub use om::om_payment_method;
pub use world::{ClockModel, Observation, World};

use crate::model::validate::Fidelity;

/// What the oracle assumes about the target's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OracleConfig {
    /// The merchant may change the cart after authorization (docs/klarna.md §12, REJECTED row; `[I]`).
    pub allow_cart_updates: bool,
    /// Which refusals to expect for bodies that break only documented-but-tolerated rules.
    pub fidelity: Fidelity,
    /// Accept what a real merchant account may do differently: PENDING only
    /// where the account has it enabled (docs/klarna.md §5.3), auto capture only
    /// where the contract allows it (docs/klarna.md §9), and (checked by the runner)
    /// an identical retry answered 403 `Authorization token already consumed`
    /// (docs/klarna.md §4.2) instead of the same order (5.2, inferred). Off for the
    /// project's own mock, which must answer exactly; on for every other target.
    pub lenient: bool,
}

/// A Klarna error answer: status, `error_code` and what the messages must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedError {
    pub status: u16,
    pub error_code: &'static str,
    pub messages: ExpectedMessages,
}

/// What `error_messages` must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedMessages {
    /// These messages (other targets than the mock are judged by what the
    /// messages name, `verdict::messages_match`; docs/klarna.md §10).
    Exact(Vec<String>),
    /// One `Not matching fields: [...]` message naming exactly these items, in
    /// any order (listed here in the mock's documented order).
    NotMatching(Vec<String>),
}

impl ExpectedError {
    /// The `error_messages` a target following the mock's documented order sends.
    pub fn messages(&self) -> Vec<String> {
        match &self.messages {
            ExpectedMessages::Exact(m) => m.clone(),
            ExpectedMessages::NotMatching(items) => {
                vec![format!("Not matching fields: [{}]", items.join(", "))]
            }
        }
    }

    pub fn new(status: u16, error_code: &'static str, message: &str) -> Self {
        ExpectedError {
            status,
            error_code,
            messages: ExpectedMessages::Exact(vec![message.to_owned()]),
        }
    }

    /// 404 NOT_FOUND `Invalid authorization token` (docs/klarna.md §3.4).
    pub fn invalid_token() -> Self {
        Self::new(404, "NOT_FOUND", "Invalid authorization token")
    }

    /// 409 BAD_VALUE for a second order with another body (docs/klarna.md §4.2).
    pub fn completed_with_different_body() -> Self {
        Self::new(
            409,
            "BAD_VALUE",
            "The order has been already completed with different request body",
        )
    }

    /// 403 INVALID_OPERATION: the token was used for an order (docs/klarna.md §4.2).
    pub fn token_consumed() -> Self {
        Self::new(
            403,
            "INVALID_OPERATION",
            "Authorization token already consumed",
        )
    }

    /// 400 BAD_VALUE with Klarna's `Bad value: <path>` messages.
    pub fn bad_value(messages: Vec<String>) -> Self {
        ExpectedError {
            status: 400,
            error_code: "BAD_VALUE",
            messages: ExpectedMessages::Exact(messages),
        }
    }

    /// 409 BAD_VALUE `Not matching fields: [...]` naming `items` (docs/klarna.md §3.4).
    pub fn not_matching(items: Vec<String>) -> Self {
        ExpectedError {
            status: 409,
            error_code: "BAD_VALUE",
            messages: ExpectedMessages::NotMatching(items),
        }
    }
}
