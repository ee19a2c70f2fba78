//! The sequences of the order-lifecycle properties (docs/klarna.md §13):
//! each places an order and works on it the way a shop's back office does.

use std::sync::Arc;

use proptest::prelude::*;

use super::generators::prop_oneof_skeletons;
use crate::generate::{Decision, Family};
use crate::sequence::{GenConfig, OmChoice, SequenceStrategy, Skeleton, ops};

/// A session, an approved authorization and its order, untouched.
fn placed(g: &GenConfig) -> Skeleton {
    Skeleton::new()
        .then(ops::create_session(g))
        .then(ops::authorize(Decision::Approve))
        .then(ops::create_order(Family::Untouched))
}

pub(super) fn refunds(g: &Arc<GenConfig>) -> SequenceStrategy {
    let after_captures = placed(g)
        .then(ops::plain_capture())
        .maybe(60, ops::plain_capture())
        .then(ops::refund())
        .then(ops::read_order())
        .maybe(60, ops::refund())
        .maybe(60, ops::read_lifecycle())
        .maybe(40, ops::read_order());
    // "Order has no captures" (docs/klarna.md §4.3).
    let before_any = placed(g)
        .then(ops::refund())
        .maybe(50, ops::plain_capture())
        .maybe(50, ops::refund())
        .maybe(50, ops::read_lifecycle());
    prop_oneof_skeletons(
        g,
        vec![(4, after_captures), (1, before_any)],
        ops::noise(g, true),
    )
}

pub(super) fn cancel_and_release(g: &Arc<GenConfig>) -> SequenceStrategy {
    let end = prop_oneof![
        3 => ops::om_operation_of(OmChoice::Cancel),
        2 => ops::om_operation_of(OmChoice::ReleaseRemainingAuthorization),
    ]
    .boxed();
    let then = prop_oneof![
        2 => ops::capture(),
        1 => ops::refund(),
        1 => ops::om_operation(),
    ]
    .boxed();
    placed(g)
        .maybe(50, ops::plain_capture())
        .then(end)
        .then(ops::read_order())
        .maybe(60, then)
        .maybe(40, ops::read_order())
        .noise(2, ops::noise(g, true))
        .build(g)
}

pub(super) fn idempotency_keys(g: &Arc<GenConfig>) -> SequenceStrategy {
    let captures = placed(g)
        .then(ops::capture_with(ops::new_key()))
        .maybe(50, ops::read_order())
        .then(ops::capture_with(ops::same_key()))
        .maybe(40, ops::plain_capture())
        .then(ops::read_lifecycle())
        .maybe(60, ops::read_order());
    let refunds = placed(g)
        .then(ops::plain_capture())
        .then(ops::refund_with(ops::new_key()))
        .then(ops::refund_with(ops::same_key()))
        .maybe(40, ops::capture_with(ops::same_key()))
        .then(ops::read_order());
    let token_orders = Skeleton::new()
        .then(ops::create_session_for(g, "tokenize"))
        .then(ops::authorize(Decision::Approve))
        .then(ops::customer_token_retry())
        .then(ops::customer_token_order(ops::new_key()))
        .then(ops::customer_token_order(ops::same_key()))
        .maybe(50, ops::customer_token_order(ops::key()))
        .maybe(50, ops::read_order());
    prop_oneof_skeletons(
        g,
        vec![(3, captures), (2, refunds), (1, token_orders)],
        ops::noise(g, true),
    )
}

pub(super) fn operations_repeat(g: &Arc<GenConfig>) -> SequenceStrategy {
    let choices = [
        (3, OmChoice::Cancel),
        (2, OmChoice::Acknowledge),
        (2, OmChoice::ExtendAuthorizationTime),
        (2, OmChoice::ReleaseRemainingAuthorization),
        (2, OmChoice::MerchantReferences),
    ];
    let mut shapes: Vec<(u32, Skeleton)> = choices
        .into_iter()
        .map(|(w, choice)| {
            let shape = placed(g)
                .maybe(40, ops::plain_capture())
                .then(ops::om_operation_of(choice))
                .maybe(50, ops::read_order())
                .then(ops::om_operation_of(choice))
                .then(ops::read_order());
            (w, shape)
        })
        .collect();
    let shipping = |capture| OmChoice::ShippingInfo { capture };
    shapes.push((
        2,
        placed(g)
            .then(ops::plain_capture())
            .then(ops::om_operation_of(shipping(crate::sequence::Ref(0))))
            .then(ops::om_operation_of(shipping(crate::sequence::Ref(0))))
            .maybe(
                50,
                ops::om_operation_of(OmChoice::EmptyShippingInfo {
                    capture: crate::sequence::Ref(0),
                }),
            )
            .then(ops::read_lifecycle()),
    ));
    prop_oneof_skeletons(g, shapes, ops::noise(g, true))
}

pub(super) fn pending_review(g: &Arc<GenConfig>) -> SequenceStrategy {
    let mut pending = (**g).clone();
    pending
        .markets
        .retain(|m| crate::model::market::market(m.country).is_some_and(|m| m.pending_available));
    let p = if pending.markets.is_empty() {
        g
    } else {
        &Arc::new(pending)
    };
    let decide = prop_oneof![
        3 => ops::wait_review_boundary(),
        2 => ops::fraud_decision(),
    ]
    .boxed();
    let then = prop_oneof![
        2 => ops::plain_capture(),
        1 => ops::om_operation_of(OmChoice::Cancel),
        1 => ops::fraud_decision(),
    ]
    .boxed();
    let reviewed = Skeleton::new()
        .then(ops::create_session_for(p, "buy"))
        .then(ops::authorize(Decision::Pending))
        .then(ops::create_order(Family::Untouched))
        .maybe(50, ops::read_order())
        .then(decide)
        .then(ops::read_order())
        .then(ops::read_notifications())
        .maybe(50, then)
        .maybe(40, ops::read_order());
    // The authorization callback of an approved authorize (docs/klarna.md §7).
    let callback = Skeleton::new()
        .then(ops::create_session_for(g, "buy"))
        .then(ops::authorize(Decision::Mixed))
        .maybe(50, ops::authorize(Decision::Approve))
        .then(ops::read_notifications());
    prop_oneof_skeletons(g, vec![(4, reviewed), (1, callback)], ops::noise(g, true))
}

pub(super) fn authorization_expiry(g: &Arc<GenConfig>) -> SequenceStrategy {
    let then = prop_oneof![
        3 => ops::capture(),
        2 => ops::om_operation_of(OmChoice::ExtendAuthorizationTime),
        1 => ops::om_operation_of(OmChoice::Cancel),
        1 => ops::om_operation_of(OmChoice::ReleaseRemainingAuthorization),
    ]
    .boxed();
    placed(g)
        .maybe(40, ops::plain_capture())
        .maybe(40, ops::om_operation_of(OmChoice::ExtendAuthorizationTime))
        .then(ops::wait_expiry_boundary())
        .then(ops::read_order())
        .then(then)
        .maybe(50, ops::wait_expiry_boundary())
        .then(ops::read_order())
        .noise(1, ops::noise(g, false))
        .build(g)
}

pub(super) fn customer_tokens(g: &Arc<GenConfig>) -> SequenceStrategy {
    let intent = prop_oneof![
        2 => ops::create_session_for(g, "tokenize"),
        2 => ops::create_session_for(g, "buy_and_tokenize"),
        1 => ops::create_session_for(g, "buy"),
    ]
    .boxed();
    let afterwards = prop_oneof![
        2 => ops::customer_token_order(ops::key()),
        1 => ops::cancel_customer_token(),
        1 => ops::create_order(Family::Untouched),
    ]
    .boxed();
    Skeleton::new()
        .then(intent)
        .then(ops::authorize(Decision::Approve))
        .then(ops::create_customer_token())
        .maybe(50, ops::customer_token_retry())
        .maybe(40, ops::create_order(Family::Untouched))
        .then(ops::read_customer_token())
        .then(ops::customer_token_order(ops::key()))
        .maybe(60, afterwards)
        .maybe(50, ops::customer_token_order(ops::key()))
        .maybe(50, ops::read_customer_token())
        .maybe(40, ops::read_order())
        .noise(2, ops::noise(g, true))
        .build(g)
}
