//! `Case`: everything generated for one run of one property (docs/design.md), and
//! the strategies the properties draw their cases from.

use proptest::prelude::*;
use proptest::sample::select;
use serde::{Deserialize, Serialize};

use super::address::{EmailKind, address, customer};
use super::cart::{build_cart, raw_cart};
use super::market::{MarketChoice, valid_choices};
use super::mutation::{Mutation, order_json};
use super::mutation_strategy::{Family, Plan, plan, resolve};
use super::timing::{valid_wait, wait_seconds};
use super::{Dice, seed};
use crate::model::market::{EmailOutcome, Market, email_outcome, market};
use crate::model::{Address, CreateOrderRequest, Customer, MerchantUrls, Session};

/// The authorize-time data: what `Klarna.Payments.authorize()` sends from the
/// browser, and what the mock's control API `POST /__mock/sessions/{id}/authorize`
/// takes as its body (docs/design.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authorize {
    pub billing_address: Address,
    /// Absent: Klarna copies the billing address (docs/klarna.md §2.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_category: Option<String>,
}

/// One generated run: the session body, the authorization, the change made
/// afterwards, the wait before the order, and the order's `auto_capture`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// The create-session body (valid by construction for every strategy here
    /// except [`inconsistent_session_case`](super::inconsistent_session_case)).
    pub session: Session,
    pub authorize: Authorize,
    pub mutation: Mutation,
    /// Seconds between authorization and create order.
    pub wait_seconds: u64,
    pub auto_capture: bool,
}

impl Case {
    /// The market of the session's purchase country.
    pub fn market(&self) -> Option<&'static Market> {
        market(self.session.purchase_country.as_deref().unwrap_or(""))
    }

    /// The create-order body that matches the authorization exactly: market
    /// and cart from the session, addresses and customer from the
    /// authorization (shipping = billing when absent, docs/klarna.md §2.3).
    pub fn authorized_order(&self) -> CreateOrderRequest {
        let a = &self.authorize;
        let authorized = Session {
            billing_address: Some(a.billing_address.clone()),
            shipping_address: a.shipping_address.clone(),
            customer: a.customer.clone(),
            ..self.session.clone()
        };
        CreateOrderRequest {
            auto_capture: self.auto_capture.then_some(true),
            ..CreateOrderRequest::authorized_for(&authorized)
        }
    }

    /// The order as sent: the authorized order with the mutation applied.
    pub fn order(&self) -> CreateOrderRequest {
        self.mutation.apply(&self.authorized_order())
    }

    /// The create-order body on the wire (see [`order_json`]).
    pub fn order_body(&self) -> String {
        order_json(&self.order(), &self.mutation)
    }

    /// The session body on the wire.
    pub fn session_body(&self) -> String {
        serde_json::to_string(&self.session).expect("a model type always serialises")
    }

    /// What the playground decides for the billing e-mail (docs/klarna.md §6.1).
    pub fn email_outcome(&self) -> EmailOutcome {
        email_outcome(
            self.authorize
                .billing_address
                .email
                .as_deref()
                .unwrap_or(""),
        )
    }

    /// Labels for the runner's statistics: market, mutation kind, e-mail
    /// outcome, cart size, wait relative to the token lifetime.
    pub fn labels(&self) -> Vec<(&'static str, String)> {
        let lines = self.session.order_lines.as_ref().map_or(0, Vec::len);
        vec![
            (
                "market",
                self.session.purchase_country.clone().unwrap_or_default(),
            ),
            ("mutation", self.mutation.kind().to_owned()),
            (
                "outcome",
                match self.email_outcome() {
                    EmailOutcome::Approve => "approve",
                    EmailOutcome::Denied => "denied",
                    EmailOutcome::Pending { .. } => "pending",
                    EmailOutcome::RejectReason => "reject-reason",
                }
                .to_owned(),
            ),
            (
                "lines",
                match lines {
                    0..=5 => "1-5",
                    6..=40 => "6-40",
                    _ => "41-1000",
                }
                .to_owned(),
            ),
            (
                "wait",
                if self.wait_seconds < crate::model::TOKEN_LIFETIME_SECONDS {
                    "valid"
                } else {
                    "expired"
                }
                .to_owned(),
            ),
        ]
    }
}

/// Which e-mail the billing address carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 75 % approve, 15 % denied, 10 % pending where the market has pending orders.
    Mixed,
    Approve,
    Denied,
    /// A pending pattern, whether or not the market has pending orders.
    Pending,
    /// Almost a pending pattern (`+pend-accept-5`, `+pending-05`): an approval.
    NearMissPending,
}

/// The payment method categories a case may name at authorization (reference
/// 2.6 identifiers); `None` lets the target choose. Only the two every market
/// offers: which categories a session offers is per merchant contract, and
/// the mock offers `pay_now` in some markets only and no `klarna` (`[I]`,
/// mock/store/sessions.rs); naming one the session does not offer is a 400.
const CATEGORIES: [Option<&str>; 3] = [None, Some("pay_later"), Some("pay_over_time")];

/// The random parts of a case that are not market, cart or mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct People {
    billing: u64,
    shipping: u64,
    /// 0..100: < 60 no shipping address, < 80 a copy of billing, else another address.
    shipping_roll: u8,
    /// Customer, e-mail and category choices.
    seed: u64,
    b2b: bool,
}

pub(crate) fn people() -> impl Strategy<Value = People> + Clone {
    (seed(), seed(), 0u8..100, seed(), prop::bool::weighted(0.1)).prop_map(
        |(billing, shipping, shipping_roll, seed, b2b)| People {
            billing,
            shipping,
            shipping_roll,
            seed,
            b2b,
        },
    )
}

fn email_kind(decision: Decision, m: &Market, d: &mut Dice) -> EmailKind {
    let pending = |d: &mut Dice| EmailKind::Pending {
        accept: d.chance(50),
        delay_minutes: d.below(100) as u8,
    };
    match decision {
        Decision::Approve => EmailKind::Approve,
        Decision::Denied => EmailKind::Denied,
        Decision::Pending => pending(d),
        Decision::NearMissPending => EmailKind::NearMissPending {
            variant: d.below(4) as u8,
            delay_minutes: d.below(100) as u8,
        },
        Decision::Mixed => match d.below(100) {
            0..=74 => EmailKind::Approve,
            75..=89 => EmailKind::Denied,
            _ if m.pending_available => pending(d),
            _ => EmailKind::Approve,
        },
    }
}

pub(crate) fn authorize(m: &Market, p: &People, decision: Decision) -> Authorize {
    let mut d = Dice::new(p.seed);
    let kind = email_kind(decision, m, &mut d);
    let billing = address(m, kind, p.billing, p.b2b);
    let shipping = match p.shipping_roll {
        0..=59 => None,
        60..=79 => Some(billing.clone()),
        _ => Some(Address {
            // One buyer, another place: the decision follows the billing e-mail.
            email: billing.email.clone(),
            ..address(m, kind, p.shipping, p.b2b)
        }),
    };
    let customer = d.chance(70).then(|| customer(m, d.below(1 << 40), p.b2b));
    Authorize {
        billing_address: billing,
        shipping_address: shipping,
        customer,
        payment_method_category: d.pick(&CATEGORIES).map(str::to_owned),
    }
}

/// Where generated sessions ask for Klarna's notifications (docs/klarna.md §13.5).
pub const NOTIFICATION_URL: &str = "https://shop.example/klarna/notification?oid={order.id}";

/// The session body: market, locale, a consistent cart, merchant URLs (a
/// `confirmation` URL in half the cases, so `redirect_url` must come back,
/// docs/klarna.md §5.5) and a merchant reference sometimes.
pub(crate) fn session(
    choice: &MarketChoice,
    m: &Market,
    raws: &(Vec<super::cart::RawLine>, u64),
    seed: u64,
) -> Session {
    let cart = build_cart(m, &raws.0, raws.1);
    let mut d = Dice::new(seed);
    let confirmation = d.chance(50).then(|| {
        "https://shop.example/klarna/confirmation?sid={session.id}&oid={order.id}".to_owned()
    });
    let notification = d.chance(30).then(|| NOTIFICATION_URL.to_owned());
    let merchant_urls = (confirmation.is_some() || notification.is_some()).then(|| MerchantUrls {
        confirmation,
        notification,
        ..MerchantUrls::default()
    });
    Session {
        purchase_country: Some(choice.country.to_owned()),
        purchase_currency: Some(choice.currency.to_owned()),
        locale: Some(choice.locale.to_owned()),
        order_amount: Some(cart.order_amount),
        order_tax_amount: Some(cart.order_tax_amount),
        order_lines: Some(cart.order_lines),
        merchant_urls,
        merchant_reference1: d
            .chance(50)
            .then(|| format!("ORDER-{}", d.below(1_000_000))),
        ..Session::default()
    }
}

/// The common builder of every case strategy.
fn cases(
    markets: Vec<MarketChoice>,
    decision: Decision,
    family: Family,
    wait: impl Strategy<Value = u64> + Clone,
) -> impl Strategy<Value = Case> + Clone {
    (
        select(markets),
        raw_cart(),
        people(),
        seed(),
        plan(family),
        wait,
        prop::bool::weighted(0.2),
    )
        .prop_filter_map(
            "no mutation of the family applies",
            move |(choice, raws, people, seed, plan, wait_seconds, auto_capture)| {
                build(
                    &choice,
                    &raws,
                    &people,
                    seed,
                    plan,
                    decision,
                    family,
                    wait_seconds,
                    auto_capture,
                )
            },
        )
}

#[allow(clippy::too_many_arguments)]
fn build(
    choice: &MarketChoice,
    raws: &(Vec<super::cart::RawLine>, u64),
    people: &People,
    seed: u64,
    plan: Plan,
    decision: Decision,
    family: Family,
    wait_seconds: u64,
    auto_capture: bool,
) -> Option<Case> {
    let m = choice.market()?;
    let mut case = Case {
        session: session(choice, m, raws, seed),
        authorize: authorize(m, people, decision),
        mutation: Mutation::Unchanged,
        wait_seconds,
        auto_capture,
    };
    case.mutation = resolve(family, plan, &case.authorized_order())?;
    Some(case)
}

fn all_markets() -> Vec<MarketChoice> {
    valid_choices().to_vec()
}

/// Markets filtered by country.
fn markets_where(keep: impl Fn(&str) -> bool) -> Vec<MarketChoice> {
    valid_choices()
        .iter()
        .filter(|c| keep(c.country))
        .copied()
        .collect()
}

/// Any case: every market, mixed decisions, any mutation (neutral, changing,
/// invalid), any wait (around the 60-minute boundary and over 48 h).
pub fn any_case() -> impl Strategy<Value = Case> + Clone {
    cases(all_markets(), Decision::Mixed, Family::Any, wait_seconds())
}

/// An approved order placed unchanged within the token's lifetime: must succeed.
pub fn untouched_case() -> impl Strategy<Value = Case> + Clone {
    cases(
        all_markets(),
        Decision::Approve,
        Family::Neutral,
        valid_wait(),
    )
    .prop_map(|c| Case {
        mutation: Mutation::Unchanged,
        ..c
    })
}

/// An approved authorization, then a change that stays valid: must be a 409
/// `Not matching fields` (or the item-count message).
pub fn mutated_case() -> impl Strategy<Value = Case> + Clone {
    cases(
        all_markets(),
        Decision::Approve,
        Family::Changing,
        valid_wait(),
    )
}

/// An approved authorization, then a change that breaks validation: a 400.
pub fn invalid_case() -> impl Strategy<Value = Case> + Clone {
    cases(
        all_markets(),
        Decision::Approve,
        Family::Invalid,
        valid_wait(),
    )
}

/// An approved authorization and a neutral change: must succeed.
pub fn neutral_case() -> impl Strategy<Value = Case> + Clone {
    cases(
        all_markets(),
        Decision::Approve,
        Family::Neutral,
        valid_wait(),
    )
}

/// An approved, unchanged order after any wait: succeeds below 3600 s,
/// `NOT_FOUND` from 3600 s on.
pub fn timed_case() -> impl Strategy<Value = Case> + Clone {
    cases(
        all_markets(),
        Decision::Approve,
        Family::Neutral,
        wait_seconds(),
    )
    .prop_map(|c| Case {
        mutation: Mutation::Unchanged,
        ..c
    })
}

/// A denied customer (`customer+denied@…`). SE and NO are left out: the
/// playground notes that denial "may not be testable in SE/NO" (docs/klarna.md §6.1).
pub fn denied_case() -> impl Strategy<Value = Case> + Clone {
    let markets = markets_where(|c| c != "SE" && c != "NO");
    cases(markets, Decision::Denied, Family::Neutral, valid_wait()).prop_map(|c| Case {
        mutation: Mutation::Unchanged,
        ..c
    })
}

/// A pending customer (`+pend-accept-NN` / `+pend-reject-NN`) in the only
/// markets with pending orders, US and GB (docs/klarna.md §5.3, 6.1).
pub fn pending_case() -> impl Strategy<Value = Case> + Clone {
    let markets = markets_where(|c| market(c).is_some_and(|m| m.pending_available));
    cases(markets, Decision::Pending, Family::Neutral, valid_wait()).prop_map(|c| Case {
        mutation: Mutation::Unchanged,
        ..c
    })
}
