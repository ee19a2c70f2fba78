//! An operation against the model state: which session, token or order it
//! names, the body it sends, and a line saying so for the report. `None` when
//! the operation cannot apply here (its precondition does not hold: no
//! session to read yet, an order past its authorization), so the generator
//! and the shrinker drop it.

use serde_json::{Map, Value, json};

use super::GenConfig;
use super::op::{Op, Ref, Unknown, Update, Wait, unknown_id};
use super::resolve_lifecycle::live_order;
use crate::generate::{self, EmailKind, Mutation, order_json};
use crate::model::{CreateOrderRequest, market};
use crate::oracle::{Action, Id, World};

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

pub(super) fn resolved(action: Action, describe: String) -> Option<Resolved> {
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
            config.authorize.then_some(())?;
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
        Op::Capture { .. }
        | Op::Refund { .. }
        | Op::OmOperation { .. }
        | Op::ReadCaptures { .. }
        | Op::ReadCapture { .. }
        | Op::ReadRefunds { .. }
        | Op::ReadRefund { .. }
        | Op::FraudDecision { .. }
        | Op::ReadNotifications
        | Op::CreateCustomerToken { .. }
        | Op::ReadCustomerToken { .. }
        | Op::CancelCustomerToken { .. }
        | Op::CustomerTokenOrder { .. } => super::resolve_lifecycle::resolve(op, world, config),
        Op::Wait(wait) => {
            (config.virtual_clock || config.real_waits).then_some(())?;
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
            let what = if config.real_waits {
                format!("wait {seconds} s of real time{why}")
            } else {
                format!("advance the clock {seconds} s{why}")
            };
            resolved(Action::AdvanceClock { seconds }, what)
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
