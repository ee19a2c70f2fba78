//! Resolving the order-lifecycle operations (docs/klarna.md §13): Order
//! Management after the order, the review's control API, customer tokens.

use serde_json::json;

use super::GenConfig;
use super::op::{CaptureAmount, Key, OmChoice, Op, Ref, TokenBody};
use super::resolve::{Resolved, resolved};
use crate::oracle::{Action, Id, OmOp, World};

/// A lifecycle `op` against `world`, or `None` when it does not apply.
pub(super) fn resolve(op: &Op, world: &World, config: &GenConfig) -> Option<Resolved> {
    match op {
        Op::Capture {
            order,
            amount,
            key,
            described,
        } => {
            let o = live_order(world, *order)?;
            let remaining = world.remaining(o)?;
            let amount = amount_of(*amount, remaining);
            let key = key_of(world, o, *key);
            let description = described.then(|| format!("Shipment {}", world.captures(o) + 1));
            let what = match amount {
                Some(a) => format!("capture {a} of order #{} ({remaining} remaining)", o + 1),
                None => format!("capture order #{} without captured_amount", o + 1),
            };
            resolved(
                Action::Capture {
                    order: o,
                    amount,
                    description,
                    key: key.clone(),
                },
                format!("{what}{}", key_note(&key)),
            )
        }
        Op::Refund { order, amount, key } => {
            let o = live_order(world, *order)?;
            let refundable = world.refundable(o)?;
            let amount = amount_of(*amount, refundable);
            let key = key_of(world, o, *key);
            let what = match amount {
                Some(a) => format!("refund {a} of order #{} ({refundable} refundable)", o + 1),
                None => format!("refund order #{} without refunded_amount", o + 1),
            };
            resolved(
                Action::Refund {
                    order: o,
                    amount,
                    description: None,
                    key: key.clone(),
                },
                format!("{what}{}", key_note(&key)),
            )
        }
        Op::OmOperation { order, op, seed } => {
            let o = live_order(world, *order)?;
            let known = world.known_captures(o);
            let capture = |c: Ref| c.pick(known.len()).map(|i| known[i]);
            let (op, body) = match op {
                OmChoice::Cancel => (OmOp::Cancel, None),
                OmChoice::Acknowledge => (OmOp::Acknowledge, None),
                OmChoice::ExtendAuthorizationTime => (OmOp::ExtendAuthorizationTime, None),
                OmChoice::ReleaseRemainingAuthorization => {
                    (OmOp::ReleaseRemainingAuthorization, None)
                }
                OmChoice::MerchantReferences => (
                    OmOp::MerchantReferences,
                    Some(json!({ "merchant_reference1": format!("REF-{seed}") }).to_string()),
                ),
                OmChoice::ShippingInfo { capture: c } => (
                    OmOp::ShippingInfo(capture(*c)?),
                    Some(
                        json!({ "shipping_info": [{
                            "shipping_company": "DHL",
                            "tracking_number": format!("TRACK{seed}"),
                        }] })
                        .to_string(),
                    ),
                ),
                OmChoice::EmptyShippingInfo { capture: c } => {
                    (OmOp::ShippingInfo(capture(*c)?), Some("{}".to_owned()))
                }
            };
            let what = match op {
                OmOp::ShippingInfo(c) => format!(
                    "shipping info of capture {} of order #{}{}",
                    c + 1,
                    o + 1,
                    if body.as_deref() == Some("{}") {
                        ", without shipping_info"
                    } else {
                        ""
                    }
                ),
                _ => format!("{} order #{}", op.name(), o + 1),
            };
            resolved(Action::OmOperation { order: o, op, body }, what)
        }
        Op::ReadCaptures { order } => {
            let o = live_order(world, *order)?;
            resolved(
                Action::ReadCaptures { order: o },
                format!("read the captures of order #{}", o + 1),
            )
        }
        Op::ReadCapture { order, capture } => {
            let o = live_order(world, *order)?;
            let known = world.known_captures(o);
            let c = known[capture.pick(known.len())?];
            resolved(
                Action::ReadCapture {
                    order: o,
                    capture: Id::Known(c),
                },
                format!("read capture {} of order #{}", c + 1, o + 1),
            )
        }
        Op::ReadRefunds { order } => {
            let o = live_order(world, *order)?;
            resolved(
                Action::ReadRefunds { order: o },
                format!("read the refunds of order #{}", o + 1),
            )
        }
        Op::ReadRefund { order, refund } => {
            let o = live_order(world, *order)?;
            let r = refund.pick(world.refunds(o))?;
            resolved(
                Action::ReadRefund {
                    order: o,
                    refund: Id::Known(r),
                },
                format!("read refund {} of order #{}", r + 1, o + 1),
            )
        }
        Op::FraudDecision { order, decision } => {
            config.control_api.then_some(())?;
            let o = live_order(world, *order)?;
            let fraud_status = ["ACCEPTED", "REJECTED", "STOPPED"][usize::from(*decision % 3)];
            resolved(
                Action::FraudDecision {
                    order: o,
                    fraud_status,
                },
                format!("decide order #{} {fraud_status} (control API)", o + 1),
            )
        }
        Op::ReadNotifications => {
            config.control_api.then_some(())?;
            resolved(
                Action::ReadNotifications,
                "read the notifications and callbacks sent (control API)".to_owned(),
            )
        }
        Op::CreateCustomerToken { token, body } => {
            let t = token.pick(world.tokens())?;
            let order = world.authorized_order(t)?;
            let mut value = json!({
                "description": "Shoe club",
                "intended_use": "SUBSCRIPTION",
                "purchase_country": order.purchase_country,
                "purchase_currency": order.purchase_currency,
            });
            if let Some(locale) = &order.locale {
                value["locale"] = json!(locale);
            }
            let what = match body {
                TokenBody::Valid => "",
                TokenBody::Other => {
                    value["description"] = json!("Sock club");
                    ", another description"
                }
                TokenBody::OtherCountry => {
                    let other = if order.purchase_country.eq_ignore_ascii_case("SE") {
                        "NO"
                    } else {
                        "SE"
                    };
                    value["purchase_country"] = json!(other);
                    ", another purchase_country"
                }
                TokenBody::Empty => {
                    value = json!({});
                    ", body {}"
                }
            };
            resolved(
                Action::CreateCustomerToken {
                    token: Id::Known(t),
                    body: value.to_string(),
                },
                format!("create a customer token with token #{}{what}", t + 1),
            )
        }
        Op::ReadCustomerToken { ctoken } => {
            let c = ctoken.pick(world.customer_tokens())?;
            resolved(
                Action::ReadCustomerToken {
                    ctoken: Id::Known(c),
                },
                format!("read customer token #{}", c + 1),
            )
        }
        Op::CancelCustomerToken { ctoken } => {
            let c = ctoken.pick(world.customer_tokens())?;
            resolved(
                Action::SetCustomerTokenStatus {
                    ctoken: c,
                    status: "CANCELLED",
                },
                format!("cancel customer token #{}", c + 1),
            )
        }
        Op::CustomerTokenOrder { ctoken, key } => {
            let c = ctoken.pick(world.customer_tokens())?;
            let order = world.customer_token_order(c)?;
            let body = serde_json::to_string(order).ok()?;
            let key = match key {
                Key::None => None,
                Key::New(seed) => Some(new_key(*seed)),
                // A key this token's orders used before: the newest (as a
                // merchant's retry does).
                Key::Reuse(_) => world.customer_token_keys(c).last().map(|k| (*k).to_owned()),
            };
            resolved(
                Action::CustomerTokenOrder {
                    ctoken: c,
                    body,
                    key: key.clone(),
                },
                format!("order with customer token #{}{}", c + 1, key_note(&key)),
            )
        }
        _ => None,
    }
}

/// An order Order Management still knows: placed less than 365 days ago
/// (docs/klarna.md §13.1).
pub(super) fn live_order(world: &World, order: Ref) -> Option<usize> {
    let o = order.pick(world.orders())?;
    (world.order_age(o)? < FORGOTTEN_AFTER).then_some(o)
}

/// Orders are forgotten this long after creation (docs/klarna.md §13.1).
const FORGOTTEN_AFTER: i64 = 365 * 86_400;

/// The amount a capture or refund asks for, of `left`.
fn amount_of(amount: CaptureAmount, left: i64) -> Option<i64> {
    Some(match amount {
        CaptureAmount::Part(p) => (left * i64::from(p.clamp(1, 100)) / 100).max(1),
        CaptureAmount::Remaining => left.max(1),
        CaptureAmount::Over(extra) => left + i64::from(extra).max(1),
        CaptureAmount::Missing => return None,
    })
}

/// A `Klarna-Idempotency-Key` that no run sends twice by chance.
fn new_key(seed: u32) -> String {
    format!("0dd5eed0-4e11-4b2a-9000-{:012x}", u64::from(seed) + 1)
}

fn key_of(world: &World, o: usize, key: Key) -> Option<String> {
    match key {
        Key::None => None,
        Key::New(seed) => Some(new_key(seed)),
        Key::Reuse(r) => {
            let sent = world.keys_sent(o);
            r.pick(sent.len()).map(|i| sent[i].to_owned())
        }
    }
}

fn key_note(key: &Option<String>) -> String {
    key.as_ref()
        .map(|k| format!(", Klarna-Idempotency-Key {k}"))
        .unwrap_or_default()
}
