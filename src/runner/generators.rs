//! The sequences of the Payments properties: each a skeleton of the steps
//! that reach its rule, with noise around them.

use std::sync::Arc;

use proptest::prelude::*;

use crate::generate::{Decision, Family};
use crate::sequence::{GenConfig, Kind, Ref, SequenceStrategy, Skeleton, Unknown, free, ops};

pub(super) fn approved() -> BoxedStrategy<crate::sequence::Op> {
    ops::authorize(Decision::Approve)
}

pub(super) fn untouched() -> BoxedStrategy<crate::sequence::Op> {
    ops::create_order(Family::Untouched)
}

pub(super) fn order_succeeds(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn changed_data_refused(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn neutral_change_accepted(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(ops::create_order(Family::Neutral))
        .maybe(50, ops::read_order())
        .noise(3, ops::noise(g, true))
        .build(g)
}

pub(super) fn token_expiry(g: &Arc<GenConfig>) -> SequenceStrategy {
    if g.real_waits {
        return held_token_expiry(g);
    }
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

/// On a real clock: a token held past its 60 minutes and a margin, then
/// ordered untouched (docs/klarna.md §5.1). Only the far side of the
/// boundary is judged: real steps take real time, so a token a few seconds
/// short of its hour cannot be told from one a few seconds past it.
fn held_token_expiry(g: &Arc<GenConfig>) -> SequenceStrategy {
    let hold = crate::model::TOKEN_LIFETIME_SECONDS + HOLD_MARGIN_SECONDS;
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(ops::wait_seconds(hold, hold))
        .then(untouched())
        .build(g)
}

/// How far past a token's lifetime a held token is ordered: the playground's
/// clock and ours are not the same clock. `[I]`: Klarna states no tolerance.
pub const HOLD_MARGIN_SECONDS: u64 = 120;

pub(super) fn unknown_token(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(ops::unknown_of(Unknown::CreateOrder))
        .maybe(50, untouched())
        .noise(3, ops::noise(g, true))
        .build(g)
}

pub(super) fn replaced_token(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn cancelled_token(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn retry_idempotent(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn retry_conflict(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(approved())
        .then(untouched())
        .then(ops::retry(false))
        .noise(3, ops::noise(g, true))
        .build(g)
}

pub(super) fn retry_after_error(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn inconsistent_amounts(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::inconsistent_session(g))
        .maybe(30, ops::create_session(g))
        .noise(2, ops::noise(g, true))
        .build(g)
}

pub(super) fn missing_field_refused(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::session_without_field(g))
        .maybe(30, ops::create_session(g))
        .noise(2, ops::noise(g, true))
        .build(g)
}

pub(super) fn denied_not_authorized(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn pending_fraud_status(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn session_read_back(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn session_lifetime(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn order_management(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn unknown_ids_not_found(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::unknown_of(Unknown::ReadSession))
        .then(ops::unknown_of(Unknown::CreateOrder))
        .then(ops::unknown_of(Unknown::CancelAuthorization))
        .then(ops::unknown_of(Unknown::ReadOrder))
        .noise(2, ops::noise(g, true))
        .build(g)
}

pub(super) fn wrong_credentials_refused(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .maybe(50, ops::create_session(g))
        .then(ops::wrong_credentials())
        .noise(1, ops::noise(g, true))
        .build(g)
}

pub(super) fn errors_carry_correlation_id(g: &Arc<GenConfig>) -> SequenceStrategy {
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

pub(super) fn responses_match_model(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(ops::read_session())
        .maybe(60, ops::update_session())
        .then(ops::read_session())
        .noise(3, ops::noise(g, true))
        .build(g)
}

pub(super) fn authorized_token_order(g: &Arc<GenConfig>) -> SequenceStrategy {
    Skeleton::new()
        .then(ops::given_order())
        .then(ops::retry(true))
        .then(ops::read_order())
        .build(g)
}

pub(super) fn sequences(g: &Arc<GenConfig>) -> SequenceStrategy {
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
            (2, Kind::Refund),
            (3, Kind::OmOperation),
            (2, Kind::ReadLifecycle),
            (1, Kind::FraudDecision),
            (1, Kind::ReadNotifications),
            (2, Kind::CustomerToken),
            (2, Kind::UseCustomerToken),
            (1, Kind::WaitExpiry),
            (1, Kind::WaitReview),
            (4, Kind::WaitShort),
            (3, Kind::WaitToken),
            (2, Kind::WaitSession),
            (2, Kind::Unknown),
            (1, Kind::WrongCredentials),
        ],
    )
}

/// One of several skeletons, chosen per sequence by weight.
pub(super) fn prop_oneof_skeletons(
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
