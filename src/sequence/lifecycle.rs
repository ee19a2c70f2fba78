//! Strategies of the order-lifecycle operations: Order Management after the
//! order (captures, refunds, the 204 operations, read-backs), pending review
//! over time, and customer tokens (docs/klarna.md §13).

use proptest::prelude::*;

use super::op::{CaptureAmount, Key, OmChoice, Op, Ref, TokenBody, Wait};
use super::strategy::ops::newest_mostly;

/// No key most of the time, a new one sometimes, a key sent before (a
/// merchant's retry after a timeout) now and then.
pub fn key() -> BoxedStrategy<Key> {
    prop_oneof![
        5 => Just(Key::None),
        3 => any::<u32>().prop_map(Key::New),
        2 => newest_mostly().prop_map(Key::Reuse),
    ]
    .boxed()
}

fn amount() -> BoxedStrategy<CaptureAmount> {
    prop_oneof![
        10 => (1u8..=100).prop_map(CaptureAmount::Part),
        6 => Just(CaptureAmount::Remaining),
        3 => (1u32..10_000).prop_map(CaptureAmount::Over),
        1 => Just(CaptureAmount::Missing),
    ]
    .boxed()
}

/// Part of what remains (most often), all of it, more than remains, or no
/// amount; with or without a key and a description.
pub fn capture() -> BoxedStrategy<Op> {
    capture_with(key())
}

/// A capture of a share of what remains, without a key: the plain shape
/// properties build on.
pub fn plain_capture() -> BoxedStrategy<Op> {
    let amount = prop_oneof![
        3 => (1u8..=100).prop_map(CaptureAmount::Part),
        1 => Just(CaptureAmount::Remaining),
    ];
    (newest_mostly(), amount, any::<bool>())
        .prop_map(|(order, amount, described)| Op::Capture {
            order,
            amount,
            key: Key::None,
            described,
        })
        .boxed()
}

/// A capture of a share of what remains with a key of `key`.
pub fn capture_with(key: BoxedStrategy<Key>) -> BoxedStrategy<Op> {
    (newest_mostly(), amount(), key, any::<bool>())
        .prop_map(|(order, amount, key, described)| Op::Capture {
            order,
            amount,
            key,
            described,
        })
        .boxed()
}

/// A refund of part of what is refundable, all of it, more, or no amount.
pub fn refund() -> BoxedStrategy<Op> {
    refund_with(key())
}

pub fn refund_with(key: BoxedStrategy<Key>) -> BoxedStrategy<Op> {
    (newest_mostly(), amount(), key)
        .prop_map(|(order, amount, key)| Op::Refund { order, amount, key })
        .boxed()
}

/// A key not sent before.
pub fn new_key() -> BoxedStrategy<Key> {
    any::<u32>().prop_map(Key::New).boxed()
}

/// The newest key sent for the order (a retry after a timeout).
pub fn same_key() -> BoxedStrategy<Key> {
    Just(Key::Reuse(Ref(0))).boxed()
}

/// One of the 204 operations, cancel and release most often.
pub fn om_operation() -> BoxedStrategy<Op> {
    let op = prop_oneof![
        3 => Just(OmChoice::Cancel),
        2 => Just(OmChoice::ReleaseRemainingAuthorization),
        2 => Just(OmChoice::ExtendAuthorizationTime),
        1 => Just(OmChoice::Acknowledge),
        2 => Just(OmChoice::MerchantReferences),
        2 => newest_mostly().prop_map(|capture| OmChoice::ShippingInfo { capture }),
        1 => newest_mostly().prop_map(|capture| OmChoice::EmptyShippingInfo { capture }),
    ];
    (newest_mostly(), op, 0u32..1_000_000)
        .prop_map(|(order, op, seed)| Op::OmOperation { order, op, seed })
        .boxed()
}

pub fn om_operation_of(op: OmChoice) -> BoxedStrategy<Op> {
    (newest_mostly(), 0u32..1_000_000)
        .prop_map(move |(order, seed)| Op::OmOperation { order, op, seed })
        .boxed()
}

/// One of the read-backs: the list of captures or refunds, or one of them.
pub fn read_lifecycle() -> BoxedStrategy<Op> {
    prop_oneof![
        newest_mostly().prop_map(|order| Op::ReadCaptures { order }),
        (newest_mostly(), newest_mostly())
            .prop_map(|(order, capture)| Op::ReadCapture { order, capture }),
        newest_mostly().prop_map(|order| Op::ReadRefunds { order }),
        (newest_mostly(), newest_mostly())
            .prop_map(|(order, refund)| Op::ReadRefund { order, refund }),
    ]
    .boxed()
}

pub fn fraud_decision() -> BoxedStrategy<Op> {
    (newest_mostly(), 0u8..3)
        .prop_map(|(order, decision)| Op::FraudDecision { order, decision })
        .boxed()
}

pub fn read_notifications() -> BoxedStrategy<Op> {
    Just(Op::ReadNotifications).boxed()
}

/// Until just before, at or just after an order's authorization expiry, or
/// well before it.
pub fn wait_expiry_boundary() -> BoxedStrategy<Op> {
    let offset = prop_oneof![
        3 => -3i32..=3,
        1 => -(20 * 86_400)..0i32,
    ];
    (newest_mostly(), offset)
        .prop_map(|(order, offset)| Op::Wait(Wait::UntilExpiry { order, offset }))
        .boxed()
}

/// Until just before, at or just after a pending order's review.
pub fn wait_review_boundary() -> BoxedStrategy<Op> {
    (newest_mostly(), -3i32..=3)
        .prop_map(|(order, offset)| Op::Wait(Wait::UntilReview { order, offset }))
        .boxed()
}

/// Create a customer token: mostly the body the authorization allows.
pub fn create_customer_token() -> BoxedStrategy<Op> {
    let body = prop_oneof![
        6 => Just(TokenBody::Valid),
        1 => Just(TokenBody::Other),
        1 => Just(TokenBody::OtherCountry),
        1 => Just(TokenBody::Empty),
    ];
    (newest_mostly(), body)
        .prop_map(|(token, body)| Op::CreateCustomerToken { token, body })
        .boxed()
}

pub fn customer_token_retry() -> BoxedStrategy<Op> {
    Just(Op::CreateCustomerToken {
        token: Ref(0),
        body: TokenBody::Valid,
    })
    .boxed()
}

/// Read, cancel, or order with a customer token (ordering most often).
pub fn use_customer_token() -> BoxedStrategy<Op> {
    prop_oneof![
        2 => read_customer_token(),
        1 => cancel_customer_token(),
        4 => customer_token_order(key()),
    ]
    .boxed()
}

pub fn customer_token_order(key: BoxedStrategy<Key>) -> BoxedStrategy<Op> {
    (newest_mostly(), key)
        .prop_map(|(ctoken, key)| Op::CustomerTokenOrder { ctoken, key })
        .boxed()
}

pub fn read_customer_token() -> BoxedStrategy<Op> {
    newest_mostly()
        .prop_map(|ctoken| Op::ReadCustomerToken { ctoken })
        .boxed()
}

pub fn cancel_customer_token() -> BoxedStrategy<Op> {
    newest_mostly()
        .prop_map(|ctoken| Op::CancelCustomerToken { ctoken })
        .boxed()
}
