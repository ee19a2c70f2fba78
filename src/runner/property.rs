//! The properties: one table of named rules, each with the sequences that
//! focus on it and what a target must offer to run them. Every property runs
//! over the same reference model and every answer of every sequence is held
//! to all of Klarna's rules, not only the property's own: the name says what
//! the sequences are drawn to reach.

use std::sync::Arc;

use proptest::prelude::*;

use crate::generate::{Decision, Family};
use crate::sequence::{GenConfig, Kind, Ref, SequenceStrategy, Skeleton, Unknown, free, ops};

/// What a target must offer for a property's sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Authorize without a browser: the mock's control API.
    pub control_api: bool,
    /// A clock the harness can move.
    pub virtual_clock: bool,
    /// Authorization tokens the user obtained in a browser.
    pub given_tokens: bool,
}

impl Needs {
    const NOTHING: Needs = Needs {
        control_api: false,
        virtual_clock: false,
        given_tokens: false,
    };
    const MOCK: Needs = Needs {
        control_api: true,
        virtual_clock: true,
        given_tokens: false,
    };
    const TOKENS: Needs = Needs {
        control_api: false,
        virtual_clock: false,
        given_tokens: true,
    };

    /// Why a target that offers `offers` cannot run this, if it cannot.
    pub fn unmet(self, offers: Needs) -> Option<&'static str> {
        if self.control_api && !offers.control_api {
            Some("needs the mock's control API (authorization without a browser)")
        } else if self.virtual_clock && !offers.virtual_clock {
            Some("needs a virtual clock")
        } else if self.given_tokens && !offers.given_tokens {
            Some("needs browser-authorized tokens (--authorization-token)")
        } else {
            None
        }
    }
}

/// A named rule of Klarna's that the runner checks on generated sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    OrderSucceeds,
    ChangedDataRefused,
    NeutralChangeAccepted,
    TokenExpiry,
    UnknownToken,
    ReplacedToken,
    CancelledToken,
    RetryIdempotent,
    RetryConflict,
    RetryAfterError,
    InconsistentAmounts,
    MissingFieldRefused,
    DeniedNotAuthorized,
    PendingFraudStatus,
    SessionReadBack,
    SessionLifetime,
    OrderManagement,
    UnknownIdsNotFound,
    WrongCredentialsRefused,
    ErrorsCarryCorrelationId,
    ResponsesMatchModel,
    AuthorizedTokenOrder,
    Sequences,
}

/// One row of the table.
pub struct PropertyDef {
    pub property: Property,
    pub name: &'static str,
    pub rule: &'static str,
    pub needs: Needs,
    generator: fn(&Arc<GenConfig>) -> SequenceStrategy,
}

/// Every property, in the order runs and reports list them.
pub static PROPERTIES: [PropertyDef; 23] = [
    PropertyDef {
        property: Property::OrderSucceeds,
        name: "order-succeeds",
        rule: "an untouched order succeeds with order_id, fraud_status and authorized_payment_method; redirect_url exactly when a confirmation URL was given; Order Management shows it (CAPTURED after auto_capture); the session reads back complete and refuses updates",
        needs: Needs::MOCK,
        generator: order_succeeds,
    },
    PropertyDef {
        property: Property::ChangedDataRefused,
        name: "changed-data-refused",
        rule: "a cart, address (case and spaces included), customer, amount, currency or country changed after authorization gives 409 BAD_VALUE `Not matching fields: [...]` naming exactly what changed, or the item-count message; a change that also breaks a field rule gives 400 first",
        needs: Needs::MOCK,
        generator: changed_data_refused,
    },
    PropertyDef {
        property: Property::NeutralChangeAccepted,
        name: "neutral-change-accepted",
        rule: "omitting customer, re-ordering keys or changing nothing is not refused",
        needs: Needs::MOCK,
        generator: neutral_change_accepted,
    },
    PropertyDef {
        property: Property::TokenExpiry,
        name: "token-expiry",
        rule: "a token is valid for 3599 s after authorization (not after session creation) and NOT_FOUND from 3600 s on",
        needs: Needs::MOCK,
        generator: token_expiry,
    },
    PropertyDef {
        property: Property::UnknownToken,
        name: "unknown-token",
        rule: "create order with a token no one issued is 404 NOT_FOUND `Invalid authorization token`, and the real token still works",
        needs: Needs::MOCK,
        generator: unknown_token,
    },
    PropertyDef {
        property: Property::ReplacedToken,
        name: "replaced-token",
        rule: "a new authorization replaces the session's token: the old one is 404 NOT_FOUND, the new one places the order",
        needs: Needs::MOCK,
        generator: replaced_token,
    },
    PropertyDef {
        property: Property::CancelledToken,
        name: "cancelled-token",
        rule: "a cancelled token is 404 NOT_FOUND; cancel after the order is 403 INVALID_OPERATION",
        needs: Needs::MOCK,
        generator: cancelled_token,
    },
    PropertyDef {
        property: Property::RetryIdempotent,
        name: "retry-idempotent",
        rule: "the identical create order again, seconds or minutes later, returns the same order_id and redirect_url",
        needs: Needs::MOCK,
        generator: retry_idempotent,
    },
    PropertyDef {
        property: Property::RetryConflict,
        name: "retry-conflict",
        rule: "another body with a used token gives 409 `The order has been already completed with different request body`",
        needs: Needs::MOCK,
        generator: retry_conflict,
    },
    PropertyDef {
        property: Property::RetryAfterError,
        name: "retry-after-error",
        rule: "validation comes first and a 400 is never kept; a token's first refusal sticks (playground fidelity) or not (--strict); an invalid body on a used token is 400, not 409",
        needs: Needs::MOCK,
        generator: retry_after_error,
    },
    PropertyDef {
        property: Property::InconsistentAmounts,
        name: "inconsistent-amounts",
        rule: "inconsistent amounts at session creation give 400 BAD_VALUE naming exactly the paths the amount rules break",
        needs: Needs::NOTHING,
        generator: inconsistent_amounts,
    },
    PropertyDef {
        property: Property::MissingFieldRefused,
        name: "missing-field-refused",
        rule: "a session without a required field gives 400 BAD_VALUE naming it",
        needs: Needs::NOTHING,
        generator: missing_field_refused,
    },
    PropertyDef {
        property: Property::DeniedNotAuthorized,
        name: "denied-not-authorized",
        rule: "customer+denied@… is not authorized and gets no token; the session can be authorized afterwards",
        needs: Needs::MOCK,
        generator: denied_not_authorized,
    },
    PropertyDef {
        property: Property::PendingFraudStatus,
        name: "pending-fraud-status",
        rule: "+pend-accept-NN / +pend-reject-NN get PENDING in US and GB only, near-misses never; Order Management shows it and refuses a capture",
        needs: Needs::MOCK,
        generator: pending_fraud_status,
    },
    PropertyDef {
        property: Property::SessionReadBack,
        name: "session-read-back",
        rule: "a session reads back as created and updated (updates merged, an inconsistent update refused and ignored), customer details hidden before authorization",
        needs: Needs::NOTHING,
        generator: session_read_back,
    },
    PropertyDef {
        property: Property::SessionLifetime,
        name: "session-lifetime",
        rule: "a session lives 48 h after its last update (updates and authorize extend it), expires_at says so, and an expired one is 404 NOT_FOUND",
        needs: Needs::MOCK,
        generator: session_lifetime,
    },
    PropertyDef {
        property: Property::OrderManagement,
        name: "order-management",
        rule: "captures never exceed the remaining authorized amount; captured + remaining = order_amount and the status follows (AUTHORIZED, PART_CAPTURED, CAPTURED); a capture answers 201 with Capture-Id and Location",
        needs: Needs::MOCK,
        generator: order_management,
    },
    PropertyDef {
        property: Property::UnknownIdsNotFound,
        name: "unknown-ids-not-found",
        rule: "an unknown session, token or order is 404 (NOT_FOUND, NO_SUCH_ORDER) with Klarna's message",
        needs: Needs::NOTHING,
        generator: unknown_ids_not_found,
    },
    PropertyDef {
        property: Property::WrongCredentialsRefused,
        name: "wrong-credentials-refused",
        rule: "wrong credentials give 401",
        needs: Needs::NOTHING,
        generator: wrong_credentials_refused,
    },
    PropertyDef {
        property: Property::ErrorsCarryCorrelationId,
        name: "errors-carry-correlation-id",
        rule: "every error is JSON declared as such, with correlation_id equal to the Klarna-Correlation-Id header (new on every answer) and non-empty error_messages",
        needs: Needs::NOTHING,
        generator: errors_carry_correlation_id,
    },
    PropertyDef {
        property: Property::ResponsesMatchModel,
        name: "responses-match-model",
        rule: "every body reads as the model's type (and the OpenAPI schema with --openapi); client_token is a JWT naming its session",
        needs: Needs::NOTHING,
        generator: responses_match_model,
    },
    PropertyDef {
        property: Property::AuthorizedTokenOrder,
        name: "authorized-token-order",
        rule: "with a token authorized in a browser and its body: the order is created, its identical retry returns it, Order Management reads it back",
        needs: Needs::TOKENS,
        generator: authorized_token_order,
    },
    PropertyDef {
        property: Property::Sequences,
        name: "sequences",
        rule: "free sequences over everything (several sessions, updates, reads, authorizations, orders, retries, cancels, captures, the clock): every answer as the model predicts, every id new",
        needs: Needs::MOCK,
        generator: sequences,
    },
];

impl Property {
    /// Every property, in table order.
    pub fn all() -> impl Iterator<Item = Property> {
        PROPERTIES.iter().map(|d| d.property)
    }

    pub fn def(self) -> &'static PropertyDef {
        PROPERTIES
            .iter()
            .find(|d| d.property == self)
            .expect("every property has a row")
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn description(self) -> &'static str {
        self.def().rule
    }

    pub fn needs(self) -> Needs {
        self.def().needs
    }

    pub fn from_name(name: &str) -> Option<Property> {
        PROPERTIES
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.property)
    }

    /// The sequences of this property under `config`.
    pub fn strategy(self, config: &Arc<GenConfig>) -> SequenceStrategy {
        (self.def().generator)(config)
    }
}

// ---- the generators ------------------------------------------------------

fn approved() -> BoxedStrategy<crate::sequence::Op> {
    ops::authorize(Decision::Approve)
}

fn untouched() -> BoxedStrategy<crate::sequence::Op> {
    ops::create_order(Family::Untouched)
}

fn order_succeeds(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .maybe(40, ops::wait_seconds(0, 3599))
        .then(untouched())
        .then(ops::read_order())
        .maybe(60, ops::read_session())
        .maybe(30, ops::valid_update())
        .noise(3, ops::noise(g, true))
        .build(g)
}

fn changed_data_refused(g: &Arc<GenConfig>) -> SequenceStrategy {
    let change = prop_oneof![
        3 => ops::create_order(Family::Changing),
        1 => ops::create_order(Family::Invalid),
    ]
    .boxed();
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .maybe(30, ops::wait_seconds(0, 3599))
        .then(change)
        .noise(3, ops::noise(g, true))
        .build(g)
}

fn neutral_change_accepted(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(ops::create_order(Family::Neutral))
        .maybe(50, ops::read_order())
        .noise(3, ops::noise(g, true))
        .build(g)
}

fn token_expiry(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        // Time between session and authorization must not count (§5.1).
        .maybe(50, ops::wait_seconds(0, 7200))
        .then(approved())
        .then(ops::wait_token_boundary())
        .then(untouched())
        .noise(2, ops::noise(g, false))
        .build(g)
}

fn unknown_token(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(ops::unknown_of(Unknown::CreateOrder))
        .maybe(50, untouched())
        .noise(3, ops::noise(g, true))
        .build(g)
}

fn replaced_token(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .maybe(40, ops::valid_update())
        .then(approved())
        .then(ops::order_with(Ref(1), Family::Untouched))
        .then(ops::order_with(Ref(0), Family::Untouched))
        .noise(2, ops::noise(g, true))
        .build(g)
}

fn cancelled_token(g: &Arc<GenConfig>) -> SequenceStrategy {
    let cancel_after_order = Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(untouched())
        .then(ops::cancel());
    let cancel_then_order = Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(ops::cancel())
        .then(untouched())
        .maybe(30, ops::cancel());
    // Both shapes, by the first operation's coin.
    prop_oneof_skeletons(
        g,
        vec![(3, cancel_then_order), (1, cancel_after_order)],
        ops::noise(g, true),
    )
}

fn retry_idempotent(g: &Arc<GenConfig>) -> SequenceStrategy {
    let wait = prop_oneof![
        1 => ops::wait_seconds(0, 60),
        1 => ops::wait_seconds(110, 600),
    ]
    .boxed();
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(ops::create_order(Family::Neutral))
        .maybe(60, wait)
        .then(ops::retry(true))
        .maybe(40, ops::read_order())
        .noise(2, ops::noise(g, false))
        .build(g)
}

fn retry_conflict(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(untouched())
        .then(ops::retry(false))
        .noise(3, ops::noise(g, true))
        .build(g)
}

fn retry_after_error(g: &Arc<GenConfig>) -> SequenceStrategy {
    let first = prop_oneof![
        2 => ops::create_order(Family::Changing),
        2 => ops::create_order(Family::Invalid),
        1 => untouched(),
    ]
    .boxed();
    let then = prop_oneof![
        3 => ops::retry_fixed(),
        1 => ops::create_order(Family::Invalid),
    ]
    .boxed();
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(first)
        .then(then)
        .maybe(40, ops::retry(true))
        .noise(2, ops::noise(g, true))
        .build(g)
}

fn inconsistent_amounts(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::inconsistent_session(g))
        .maybe(30, ops::create_session(g))
        .noise(2, ops::noise(g, true))
        .build(g)
}

fn missing_field_refused(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::session_without_field(g))
        .maybe(30, ops::create_session(g))
        .noise(2, ops::noise(g, true))
        .build(g)
}

fn denied_not_authorized(g: &Arc<GenConfig>) -> SequenceStrategy {
    // "Denial may not be testable in SE/NO" (docs/klarna.md §6.1).
    let mut denied = (**g).clone();
    denied
        .markets
        .retain(|m| m.country != "SE" && m.country != "NO");
    let session = if denied.markets.is_empty() {
        ops::create_session(g)
    } else {
        ops::create_session(&denied)
    };
    Skeleton::new()
        .then(session)
        .then(ops::authorize(Decision::Denied))
        .maybe(40, ops::read_session())
        .maybe(40, approved())
        .noise(2, ops::noise(g, true))
        .build(g)
}

fn pending_fraud_status(g: &Arc<GenConfig>) -> SequenceStrategy {
    let customer = prop_oneof![
        3 => ops::authorize(Decision::Pending),
        1 => ops::authorize(Decision::NearMissPending),
    ]
    .boxed();
    Skeleton::new()
        .then(ops::create_session(g))
        .then(customer)
        .then(untouched())
        .then(ops::read_order())
        .maybe(40, ops::capture())
        .maybe(30, ops::retry(true))
        .noise(2, ops::noise(g, true))
        .build(g)
}

fn session_read_back(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(ops::read_session())
        .then(ops::update_session())
        .then(ops::read_session())
        .maybe(50, ops::update_session())
        .maybe(50, ops::read_session())
        .noise(2, ops::noise(g, false))
        .build(g)
}

fn session_lifetime(g: &Arc<GenConfig>) -> SequenceStrategy {
    let touch = prop_oneof![
        2 => ops::valid_update(),
        1 => approved(),
    ]
    .boxed();
    let then = prop_oneof![
        3 => ops::read_session(),
        1 => ops::valid_update(),
        1 => approved(),
    ]
    .boxed();
    Skeleton::new()
        .then(ops::create_session(g))
        .maybe(60, ops::wait_seconds(60, 40 * 3600))
        .maybe(60, touch)
        .then(ops::wait_session_boundary())
        .then(then)
        .maybe(50, ops::read_session())
        .noise(1, ops::noise(g, false))
        .build(g)
}

fn order_management(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(ops::order_with(Ref(0), Family::Untouched))
        .then(ops::read_order())
        .then(ops::capture())
        .then(ops::read_order())
        .maybe(60, ops::capture())
        .maybe(60, ops::read_order())
        .noise(2, ops::noise(g, true))
        .build(g)
}

fn unknown_ids_not_found(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::unknown_of(Unknown::ReadSession))
        .then(ops::unknown_of(Unknown::CreateOrder))
        .then(ops::unknown_of(Unknown::CancelAuthorization))
        .then(ops::unknown_of(Unknown::ReadOrder))
        .noise(2, ops::noise(g, true))
        .build(g)
}

fn wrong_credentials_refused(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .maybe(50, ops::create_session(g))
        .then(ops::wrong_credentials())
        .noise(1, ops::noise(g, true))
        .build(g)
}

fn errors_carry_correlation_id(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::unknown_of(Unknown::ReadSession))
        .then(ops::unknown_of(Unknown::CreateOrder))
        .then(ops::session_without_field(g))
        .then(ops::unknown_of(Unknown::CancelAuthorization))
        .maybe(50, ops::inconsistent_session(g))
        .maybe(50, ops::unknown_of(Unknown::ReadOrder))
        .noise(2, ops::noise(g, true))
        .build(g)
}

fn responses_match_model(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(ops::read_session())
        .maybe(60, ops::update_session())
        .then(ops::read_session())
        .noise(3, ops::noise(g, true))
        .build(g)
}

fn authorized_token_order(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::given_order())
        .then(ops::retry(true))
        .then(ops::read_order())
        .build(g)
}

fn sequences(g: &Arc<GenConfig>) -> SequenceStrategy {
    free(
        g,
        8,
        40,
        vec![
            (8, Kind::CreateSession),
            (2, Kind::CreateBrokenSession),
            (6, Kind::ReadSession),
            (5, Kind::UpdateSession),
            (10, Kind::Authorize),
            (12, Kind::CreateOrder),
            (5, Kind::Retry),
            (3, Kind::CancelAuthorization),
            (6, Kind::ReadOrder),
            (5, Kind::Capture),
            (4, Kind::WaitShort),
            (3, Kind::WaitToken),
            (2, Kind::WaitSession),
            (2, Kind::Unknown),
            (1, Kind::WrongCredentials),
        ],
    )
}

/// One of several skeletons, chosen per sequence by weight.
fn prop_oneof_skeletons(
    g: &Arc<GenConfig>,
    shapes: Vec<(u32, Skeleton)>,
    noise: BoxedStrategy<crate::sequence::Op>,
) -> SequenceStrategy {
    crate::sequence::one_of(
        shapes
            .into_iter()
            .map(|(w, s)| (w, s.noise(2, noise.clone()).build(g)))
            .collect(),
    )
}
