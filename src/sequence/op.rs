//! The operations a sequence is made of. An operation names the objects it
//! works on by [`Ref`] ("the most recent session", "the one before"), never
//! by id, and carries seeds where its body depends on them: it becomes a
//! concrete request only against the model state (`resolve.rs`), so a
//! sequence stays meaningful when shrinking removes operations before it.

use crate::generate::{Decision, Family, People, Plan, RawLine};
use crate::model::Session;

/// An object counted from the most recent: `Ref(0)` is the newest session
/// (token, order, create-order request), `Ref(1)` the one before, and so on,
/// modulo how many there are. Shrinks toward the newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ref(pub u8);

impl Ref {
    /// The index this names among `n` objects (oldest first), if any exist.
    pub fn pick(self, n: usize) -> Option<usize> {
        (n > 0).then(|| n - 1 - usize::from(self.0) % n)
    }
}

/// One operation of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Create a session with this body (valid, or broken on purpose).
    CreateSession {
        body: Box<Session>,
    },
    ReadSession {
        session: Ref,
    },
    UpdateSession {
        session: Ref,
        update: Update,
    },
    /// What `Klarna.Payments.authorize()` does in a browser, through the
    /// target's control API. `category`: which of the categories the session
    /// offered (an index, modulo their number); `None` lets the target choose.
    Authorize {
        session: Ref,
        people: People,
        decision: Decision,
        category: Option<u8>,
    },
    /// Create order with a token: the authorized order, changed as the plan
    /// of `family` resolves against it (neutral families leave it matching).
    CreateOrder {
        token: Ref,
        family: Family,
        plan: Plan,
        auto_capture: bool,
    },
    /// Send an earlier create-order request again: the identical body, or
    /// the same order with `merchant_reference2` changed.
    Retry {
        attempt: Ref,
        identical: bool,
    },
    /// Send an earlier create-order request again with the authorized body
    /// (what a shop does after fixing the cart).
    RetryFixed {
        attempt: Ref,
    },
    CancelAuthorization {
        token: Ref,
    },
    ReadOrder {
        order: Ref,
    },
    /// Capture part of what remains authorized, with an idempotency key or
    /// without, with a description or without.
    Capture {
        order: Ref,
        amount: CaptureAmount,
        key: Key,
        described: bool,
    },
    /// Refund part of what was captured and not refunded.
    Refund {
        order: Ref,
        amount: CaptureAmount,
        key: Key,
    },
    /// One of the 204 operations of Order Management.
    OmOperation {
        order: Ref,
        op: OmChoice,
        seed: u32,
    },
    ReadCaptures {
        order: Ref,
    },
    ReadCapture {
        order: Ref,
        capture: Ref,
    },
    ReadRefunds {
        order: Ref,
    },
    ReadRefund {
        order: Ref,
        refund: Ref,
    },
    /// Klarna's manual review deciding a pending order, through the target's
    /// control API (`decision` modulo ACCEPTED, REJECTED, STOPPED).
    FraudDecision {
        order: Ref,
        decision: u8,
    },
    /// What the target sent to the shop's notification and authorization
    /// callback URLs, through its control API.
    ReadNotifications,
    /// Create a customer token from an authorization token.
    CreateCustomerToken {
        token: Ref,
        body: TokenBody,
    },
    ReadCustomerToken {
        ctoken: Ref,
    },
    CancelCustomerToken {
        ctoken: Ref,
    },
    /// Create an order with a customer token (a recurring purchase).
    CustomerTokenOrder {
        ctoken: Ref,
        key: Key,
    },
    /// Move the target's virtual clock.
    Wait(Wait),
    /// A request naming an id no target issued.
    Unknown {
        request: Unknown,
        seed: u32,
    },
    /// A read with a wrong password.
    WrongCredentials {
        seed: u32,
    },
    /// Create order with the n-th authorization token the user obtained in a
    /// browser (certification: no control API to authorize with).
    GivenOrder {
        index: usize,
    },
}

/// What an update session changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// `merchant_reference1`.
    MerchantReference { seed: u32 },
    /// A new consistent cart for the session's market.
    Cart {
        lines: Vec<RawLine>,
        sales_tax_seed: u64,
    },
    /// A billing address (with an approving e-mail) for the session's market.
    BillingAddress { seed: u64 },
    /// `order_amount` off by `delta`: the whole session is then inconsistent (400).
    BrokenAmount { delta: i64 },
}

/// A `Klarna-Idempotency-Key` to send, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    None,
    /// A key not sent before.
    New(u32),
    /// A key sent before for the same order (or customer token).
    Reuse(Ref),
}

/// Which 204 operation of Order Management.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OmChoice {
    Cancel,
    Acknowledge,
    ExtendAuthorizationTime,
    ReleaseRemainingAuthorization,
    MerchantReferences,
    ShippingInfo {
        capture: Ref,
    },
    /// Shipping info without its `shipping_info` (the recorded 422).
    EmptyShippingInfo {
        capture: Ref,
    },
}

/// The body of a customer-token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenBody {
    /// As the authorized order says (the same every time: a retry is identical).
    Valid,
    /// Another description.
    Other,
    /// Another purchase country than the session's.
    OtherCountry,
    /// `{}`.
    Empty,
}

/// How far the clock moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Seconds(u64),
    /// Until `offset` seconds from the order's authorization expiry.
    UntilExpiry {
        order: Ref,
        offset: i32,
    },
    /// Until `offset` seconds from the order's fraud review.
    UntilReview {
        order: Ref,
        offset: i32,
    },
    /// Until the token is `age` seconds old (no move if it is older).
    TokenAge {
        token: Ref,
        age: u64,
    },
    /// Until the session's last update is `idle` seconds ago (no move if longer).
    SessionIdle {
        session: Ref,
        idle: u64,
    },
}

/// How much a capture (refund) asks for, of what remains authorized
/// (captured and not refunded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureAmount {
    /// This percentage of what remains (at least 1).
    Part(u8),
    /// All of it (at least 1).
    Remaining,
    /// This much more than remains: refused.
    Over(u32),
    /// No amount at all (the recorded 422).
    Missing,
}

/// Which request names an unknown id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    ReadSession,
    CreateOrder,
    CancelAuthorization,
    ReadOrder,
    ReadCustomerToken,
}

/// A well-formed id no target issued, the same for the same seed.
pub fn unknown_id(seed: u32) -> String {
    format!("00000000-0000-4000-8000-{:012x}", u64::from(seed) + 1)
}
