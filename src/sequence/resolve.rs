//! An operation against the model state: which session, token or order it
//! names, the body it sends, and a line saying so for the report. `None` when
//! the operation cannot apply here (its precondition does not hold: no
//! session to read yet, an order past its authorization), so the generator
//! and the shrinker drop it.

use serde_json::{Map, Value, json};

use super::GenConfig;
use super::op::{
    CaptureAmount, Key, OmChoice, Op, Ref, TokenBody, Unknown, Update, Wait, unknown_id,
};
use crate::generate::{self, EmailKind, Mutation, order_json};
use crate::model::{CreateOrderRequest, market};
use crate::oracle::{Action, Id, OmOp, World};

/// An operation made concrete.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub action: Action,
    /// What the step does, in a line (`create order with token #1: change
    /// billing_address.city "Berlin" -> "Bonn"`).
    pub describe: String,
    /// The mutation's kind, for create orders (coverage).
    pub mutation: Option<&'static str>,
    /// The first use of the n-th browser-authorized token: a refusal there
    /// means the token is unusable, not that a rule was broken.
    pub given_token: Option<usize>,
    /// The purchase country of a created session (coverage).
    pub market: Option<&'static str>,
}

fn resolved(action: Action, describe: String) -> Option<Resolved> {
    Some(Resolved {
        action,
        describe,
        mutation: None,
        given_token: None,
        market: None,
    })
}

/// `op` against `world`, or `None` when it does not apply.
pub fn resolve(op: &Op, world: &World, config: &GenConfig) -> Option<Resolved> {
    match op {
        Op::CreateSession { body } => {
            let text = serde_json::to_string(body).ok()?;
            let lines = body.order_lines.as_ref().map_or(0, Vec::len);
            let market = body
                .purchase_country
                .as_deref()
                .and_then(market::market)
                .map(|m| m.country);
            let mut r = resolved(
                Action::CreateSession { body: text },
                format!(
                    "create session #{} ({} {}, {lines} line{}, order_amount {})",
                    world.sessions() + 1,
                    body.purchase_country.as_deref().unwrap_or("no country"),
                    body.purchase_currency.as_deref().unwrap_or("no currency"),
                    if lines == 1 { "" } else { "s" },
                    body.order_amount
                        .map_or("absent".to_owned(), |a| a.to_string()),
                ),
            )?;
            r.market = market;
            Some(r)
        }
        Op::ReadSession { session } => {
            let s = session.pick(world.sessions())?;
            resolved(
                Action::ReadSession {
                    session: Id::Known(s),
                },
                format!("read session #{}", s + 1),
            )
        }
        Op::UpdateSession { session, update } => {
            let s = session.pick(world.sessions())?;
            let (body, what) = update_body(world, s, update)?;
            resolved(
                Action::UpdateSession {
                    session: s,
                    body: body.to_string(),
                },
                format!("update session #{}: {what}", s + 1),
            )
        }
        Op::Authorize {
            session,
            people,
            decision,
            category,
        } => {
            config.control_api.then_some(())?;
            let s = session.pick(world.sessions())?;
            let m = market::market(world.session_country(s)?)?;
            let mut data = generate::authorize(m, people, *decision);
            // The category is chosen from what the session offered (engine).
            data.payment_method_category = None;
            let email = data.billing_address.email.clone().unwrap_or_default();
            resolved(
                Action::Authorize {
                    session: s,
                    data: serde_json::to_string(&data).ok()?,
                    category: *category,
                },
                format!("authorize session #{} as {email}", s + 1),
            )
        }
        Op::CreateOrder {
            token,
            family,
            plan,
            auto_capture,
        } => {
            let t = token.pick(world.tokens())?;
            let mut order = world.authorized_order(t)?.clone();
            if *auto_capture && config.auto_capture {
                order.auto_capture = Some(true);
            }
            let mutation = generate::resolve(*family, *plan, &order).unwrap_or(Mutation::Unchanged);
            let body = order_json(&mutation.apply(&order), &mutation);
            let capture = if order.auto_capture == Some(true) {
                ", auto_capture"
            } else {
                ""
            };
            Some(Resolved {
                action: Action::CreateOrder {
                    token: Id::Known(t),
                    body,
                },
                describe: format!("create order with token #{}{capture}: {mutation}", t + 1),
                mutation: Some(mutation.kind()),
                given_token: None,
                market: None,
            })
        }
        Op::Retry { attempt, identical } => {
            let a = attempt.pick(world.attempts().len())?;
            let (token, body) = world.attempts()[a].clone();
            let (body, how) = if *identical {
                (body, "the identical body")
            } else {
                (different_body(&body)?, "merchant_reference2 changed")
            };
            resolved(
                Action::CreateOrder { token, body },
                format!("send create order #{} again, {how}", a + 1),
            )
        }
        Op::RetryFixed { attempt } => {
            let a = attempt.pick(world.attempts().len())?;
            let (token, _) = world.attempts()[a].clone();
            let Id::Known(t) = token else { return None };
            let order = world.authorized_order(t)?;
            resolved(
                Action::CreateOrder {
                    token,
                    body: serde_json::to_string(order).ok()?,
                },
                format!(
                    "send create order #{} again with the authorized body",
                    a + 1
                ),
            )
        }
        Op::CancelAuthorization { token } => {
            let t = token.pick(world.tokens())?;
            resolved(
                Action::CancelAuthorization {
                    token: Id::Known(t),
                },
                format!("cancel authorization token #{}", t + 1),
            )
        }
        Op::ReadOrder { order } => {
            let o = live_order(world, *order)?;
            resolved(
                Action::ReadOrder {
                    order: Id::Known(o),
                },
                format!("read order #{} from Order Management", o + 1),
            )
        }
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
        Op::Wait(wait) => {
            config.virtual_clock.then_some(())?;
            let (seconds, why) = match *wait {
                Wait::Seconds(s) => (s, String::new()),
                Wait::TokenAge { token, age } => {
                    let t = token.pick(world.tokens())?;
                    let now = world.token_age(t)?.max(0) as u64;
                    (
                        age.saturating_sub(now),
                        format!(" (token #{} is then {} s old)", t + 1, now.max(age)),
                    )
                }
                Wait::UntilExpiry { order, offset } => {
                    let o = order.pick(world.orders())?;
                    let until = world.until_expiry(o)? + i64::from(offset);
                    (
                        until.max(0) as u64,
                        format!(" (order #{}'s authorization expiry {:+} s)", o + 1, offset),
                    )
                }
                Wait::UntilReview { order, offset } => {
                    let o = order.pick(world.orders())?;
                    let until = world.until_review(o)? + i64::from(offset);
                    (
                        until.max(0) as u64,
                        format!(" (order #{}'s fraud review {:+} s)", o + 1, offset),
                    )
                }
                Wait::SessionIdle { session, idle } => {
                    let s = session.pick(world.sessions())?;
                    let now = world.session_idle(s)?.max(0) as u64;
                    (
                        idle.saturating_sub(now),
                        format!(
                            " (session #{} was then last updated {} s before)",
                            s + 1,
                            now.max(idle)
                        ),
                    )
                }
            };
            resolved(
                Action::AdvanceClock { seconds },
                format!("advance the clock {seconds} s{why}"),
            )
        }
        Op::Unknown { request, seed } => {
            let id = unknown_id(*seed);
            let (action, what) = match request {
                Unknown::ReadSession => (
                    Action::ReadSession {
                        session: Id::Unknown(id.clone()),
                    },
                    "read session",
                ),
                Unknown::CreateOrder => (
                    Action::CreateOrder {
                        token: Id::Unknown(id.clone()),
                        body: unknown_order_body(world),
                    },
                    "create order with authorization token",
                ),
                Unknown::CancelAuthorization => (
                    Action::CancelAuthorization {
                        token: Id::Unknown(id.clone()),
                    },
                    "cancel authorization token",
                ),
                Unknown::ReadOrder => (
                    Action::ReadOrder {
                        order: Id::Unknown(id.clone()),
                    },
                    "read order",
                ),
                Unknown::ReadCustomerToken => (
                    Action::ReadCustomerToken {
                        ctoken: Id::Unknown(id.clone()),
                    },
                    "read customer token",
                ),
            };
            resolved(action, format!("{what} {id}, which no one issued"))
        }
        Op::WrongCredentials { seed } => resolved(
            Action::WrongCredentials {
                session_id: unknown_id(*seed),
            },
            "read a session with a wrong password".to_owned(),
        ),
        Op::GivenOrder { index } => {
            let given = config.given.get(*index)?;
            let t = world.given_token(*index)?;
            Some(Resolved {
                action: Action::CreateOrder {
                    token: Id::Known(t),
                    body: given.clone(),
                },
                describe: format!(
                    "create order with browser-authorized token #{} and its body",
                    index + 1
                ),
                mutation: None,
                given_token: Some(*index),
                market: None,
            })
        }
    }
}

/// An order Order Management still knows: placed less than 365 days ago
/// (docs/klarna.md §13.1).
fn live_order(world: &World, order: Ref) -> Option<usize> {
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

fn update_body(world: &World, s: usize, update: &Update) -> Option<(Value, String)> {
    let session = world.session_body(s)?;
    let m = market::market(session.get("purchase_country")?.as_str()?)?;
    Some(match update {
        Update::MerchantReference { seed } => {
            let reference = format!("ORDER-{seed}");
            let what = format!("merchant_reference1 -> {reference:?}");
            (json!({ "merchant_reference1": reference }), what)
        }
        Update::Cart {
            lines,
            sales_tax_seed,
        } => {
            let cart = generate::build_cart(m, lines, *sales_tax_seed);
            let what = format!(
                "a new cart of {} line{}, order_amount {}",
                cart.order_lines.len(),
                if cart.order_lines.len() == 1 { "" } else { "s" },
                cart.order_amount
            );
            let body = json!({
                "order_lines": cart.order_lines,
                "order_amount": cart.order_amount,
                "order_tax_amount": cart.order_tax_amount,
            });
            (body, what)
        }
        Update::BillingAddress { seed } => {
            let address = generate::address(m, EmailKind::Approve, *seed, false);
            let what = format!(
                "billing_address in {}",
                address.city.as_deref().unwrap_or("?")
            );
            (json!({ "billing_address": address }), what)
        }
        Update::BrokenAmount { delta } => {
            let amount = session.get("order_amount")?.as_i64()?;
            let broken = amount.saturating_add((*delta).max(1));
            let what = format!("order_amount {amount} -> {broken}, the lines unchanged");
            (json!({ "order_amount": broken }), what)
        }
    })
}

/// The same order with `merchant_reference2` changed: a different body that
/// still passes validation and comparison, so only the retry rule decides.
fn different_body(body: &str) -> Option<String> {
    let mut value: Value = serde_json::from_str(body).ok()?;
    let obj = value.as_object_mut()?;
    let current = obj
        .get("merchant_reference2")
        .and_then(Value::as_str)
        .unwrap_or("");
    let changed = if current == "retry-a" {
        "retry-b"
    } else {
        "retry-a"
    };
    obj.insert("merchant_reference2".to_owned(), Value::from(changed));
    Some(value.to_string())
}

/// A plausible body for a create order with an unknown token: the newest
/// authorized order, else the newest session as an order, else `{}`. The token
/// is checked first, so the body does not decide the answer.
fn unknown_order_body(world: &World) -> String {
    if let Some(t) = Ref(0).pick(world.tokens())
        && let Some(order) = world.authorized_order(t)
    {
        return serde_json::to_string(order).unwrap_or_default();
    }
    if let Some(s) = Ref(0).pick(world.sessions())
        && let Some(body) = world.session_body(s)
        && let Ok(session) = serde_json::from_value(Value::Object(body.clone()))
    {
        let order = CreateOrderRequest::authorized_for(&session);
        return serde_json::to_string(&order).unwrap_or_default();
    }
    Value::Object(Map::new()).to_string()
}
