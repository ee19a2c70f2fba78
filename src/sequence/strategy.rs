//! Strategies for single operations ([`ops`]) and the two ways properties put
//! them together: a [`Skeleton`] of parts focused on one rule with noise
//! around it, or free sequences drawn by [`Kind`] weights.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::select;

use super::GenConfig;
use super::op::{Op, Ref, Unknown, Update, Wait};
use super::tree::{SequenceStrategy, Shape};
use crate::generate::{self, Decision, EmailKind, Family};
use crate::model::{MerchantUrls, SESSION_LIFETIME_SECONDS, Session, TOKEN_LIFETIME_SECONDS};

/// A sequence made of fixed parts, each always or sometimes there, and noise
/// operations inserted anywhere between them.
#[derive(Clone, Default)]
pub struct Skeleton {
    parts: Vec<BoxedStrategy<Option<Op>>>,
    noise: Option<(usize, BoxedStrategy<Op>)>,
}

impl Skeleton {
    pub fn new() -> Skeleton {
        Skeleton::default()
    }

    /// Always this operation.
    pub fn then(mut self, op: BoxedStrategy<Op>) -> Skeleton {
        self.parts.push(op.prop_map(Some).boxed());
        self
    }

    /// This operation in about `percent` % of the sequences.
    pub fn maybe(mut self, percent: u32, op: BoxedStrategy<Op>) -> Skeleton {
        let p = f64::from(percent.min(100)) / 100.0;
        self.parts.push(proptest::option::weighted(p, op).boxed());
        self
    }

    /// Up to `max` operations of `op` inserted anywhere.
    pub fn noise(mut self, max: usize, op: BoxedStrategy<Op>) -> Skeleton {
        self.noise = Some((max, op));
        self
    }

    pub fn build(self, config: &Arc<GenConfig>) -> SequenceStrategy {
        SequenceStrategy {
            config: config.clone(),
            shape: Shape::Skeleton {
                parts: self.parts,
                noise: self.noise,
            },
        }
    }
}

/// Free sequences of `min..=max` operations drawn by these kind weights.
pub fn free(
    config: &Arc<GenConfig>,
    min: usize,
    max: usize,
    kinds: Vec<(u32, Kind)>,
) -> SequenceStrategy {
    SequenceStrategy {
        config: config.clone(),
        shape: Shape::Free {
            len: (min, max),
            kinds,
        },
    }
}

/// The kinds of operation a free sequence draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CreateSession,
    CreateBrokenSession,
    ReadSession,
    UpdateSession,
    Authorize,
    CreateOrder,
    Retry,
    CancelAuthorization,
    ReadOrder,
    Capture,
    Refund,
    OmOperation,
    ReadLifecycle,
    FraudDecision,
    ReadNotifications,
    CustomerToken,
    UseCustomerToken,
    WaitExpiry,
    WaitReview,
    WaitShort,
    WaitToken,
    WaitSession,
    Unknown,
    WrongCredentials,
}

impl Kind {
    /// The strategy of one operation of this kind.
    pub fn strategy(self, config: &GenConfig) -> BoxedStrategy<Op> {
        match self {
            Kind::CreateSession => ops::create_session(config),
            Kind::CreateBrokenSession => prop_oneof![
                ops::inconsistent_session(config),
                ops::session_without_field(config)
            ]
            .boxed(),
            Kind::ReadSession => ops::read_session(),
            Kind::UpdateSession => ops::update_session(),
            Kind::Authorize => ops::authorize(Decision::Mixed),
            Kind::CreateOrder => ops::create_order(Family::Any),
            Kind::Retry => prop_oneof![
                2 => ops::retry(true),
                1 => ops::retry(false),
                1 => ops::retry_fixed(),
            ]
            .boxed(),
            Kind::CancelAuthorization => ops::cancel(),
            Kind::ReadOrder => ops::read_order(),
            Kind::Capture => ops::capture(),
            Kind::Refund => ops::refund(),
            Kind::OmOperation => ops::om_operation(),
            Kind::ReadLifecycle => ops::read_lifecycle(),
            Kind::FraudDecision => ops::fraud_decision(),
            Kind::ReadNotifications => ops::read_notifications(),
            Kind::CustomerToken => ops::create_customer_token(),
            Kind::UseCustomerToken => ops::use_customer_token(),
            Kind::WaitExpiry => ops::wait_expiry_boundary(),
            Kind::WaitReview => ops::wait_review_boundary(),
            Kind::WaitShort => ops::wait_seconds(0, 300),
            Kind::WaitToken => ops::wait_token_boundary(),
            Kind::WaitSession => ops::wait_session_boundary(),
            Kind::Unknown => ops::unknown(),
            Kind::WrongCredentials => ops::wrong_credentials(),
        }
    }
}

/// Strategies of single operations.
pub mod ops {
    use super::*;
    pub use crate::sequence::lifecycle::*;

    /// `Ref(0)`, the newest, most of the time.
    pub fn newest_mostly() -> BoxedStrategy<Ref> {
        prop_oneof![4 => Just(Ref(0)), 1 => (1u8..4).prop_map(Ref)].boxed()
    }

    fn markets(config: &GenConfig) -> BoxedStrategy<generate::MarketChoice> {
        select(config.markets.clone()).boxed()
    }

    /// A valid session: a market's cart, merchant URLs sometimes (an
    /// authorization callback URL in one case in five), in about one case in
    /// six a billing address given at creation already, and in one in five
    /// an intent that allows a customer token (docs/klarna.md §13.6).
    pub fn create_session(config: &GenConfig) -> BoxedStrategy<Op> {
        (
            markets(config),
            generate::raw_cart(),
            generate::seed(),
            proptest::option::weighted(0.15, generate::seed()),
            0u8..100,
        )
            .prop_filter_map(
                "a market of the table",
                |(choice, raws, seed, billing, roll)| {
                    let m = choice.market()?;
                    let mut body = generate::session(&choice, m, &raws, seed);
                    if let Some(b) = billing {
                        body.billing_address =
                            Some(generate::address(m, EmailKind::Approve, b, false));
                    }
                    body.intent = match roll % 10 {
                        0 => Some("tokenize".to_owned()),
                        1 => Some("buy_and_tokenize".to_owned()),
                        _ => None,
                    };
                    if roll < 20 {
                        with_url(&mut body, |u| {
                            u.authorization = Some(AUTHORIZATION_URL.to_owned())
                        });
                    }
                    Some(Op::CreateSession {
                        body: Box::new(body),
                    })
                },
            )
            .boxed()
    }

    /// Where generated sessions ask for Klarna's authorization callback.
    pub const AUTHORIZATION_URL: &str = "https://shop.example/klarna/authorized?sid={session.id}";

    fn with_url(body: &mut Session, set: impl FnOnce(&mut MerchantUrls)) {
        set(body.merchant_urls.get_or_insert_with(MerchantUrls::default));
    }

    /// A valid session of this intent, with a notification URL (so a review
    /// is announced) and an authorization callback URL.
    pub fn create_session_for(config: &GenConfig, intent: &'static str) -> BoxedStrategy<Op> {
        create_session(config)
            .prop_map(move |op| match op {
                Op::CreateSession { mut body } => {
                    body.intent = (intent != "buy").then(|| intent.to_owned());
                    with_url(&mut body, |u| {
                        u.notification = Some(generate::NOTIFICATION_URL.to_owned());
                        u.authorization = Some(AUTHORIZATION_URL.to_owned());
                    });
                    Op::CreateSession { body }
                }
                other => other,
            })
            .boxed()
    }

    /// A session with one amount off (400 at the paths the amount rules name).
    pub fn inconsistent_session(config: &GenConfig) -> BoxedStrategy<Op> {
        let countries: Vec<&'static str> = config.markets.iter().map(|m| m.country).collect();
        generate::inconsistent_session_case()
            .prop_filter("a market of the run", move |i| {
                i.case
                    .session
                    .purchase_country
                    .as_deref()
                    .is_some_and(|c| countries.contains(&c))
            })
            .prop_map(|i| Op::CreateSession {
                body: Box::new(i.case.session),
            })
            .boxed()
    }

    /// A valid session with one required field left out (docs/klarna.md §2.1).
    pub fn session_without_field(config: &GenConfig) -> BoxedStrategy<Op> {
        (create_session(config), 0usize..4)
            .prop_map(|(op, field)| match op {
                Op::CreateSession { mut body } => {
                    match field {
                        0 => body.purchase_country = None,
                        1 => body.purchase_currency = None,
                        2 => body.order_amount = None,
                        _ => body.order_lines = None,
                    }
                    Op::CreateSession { body }
                }
                other => other,
            })
            .boxed()
    }

    pub fn read_session() -> BoxedStrategy<Op> {
        newest_mostly()
            .prop_map(|session| Op::ReadSession { session })
            .boxed()
    }

    /// Mostly valid updates (a merchant reference, a new cart, a billing
    /// address), sometimes one that leaves the session inconsistent.
    pub fn update_session() -> BoxedStrategy<Op> {
        let update = prop_oneof![
            4 => (0u32..1_000_000).prop_map(|seed| Update::MerchantReference { seed }),
            3 => generate::raw_cart().prop_map(|(lines, sales_tax_seed)| Update::Cart {
                lines,
                sales_tax_seed,
            }),
            2 => generate::seed().prop_map(|seed| Update::BillingAddress { seed }),
            1 => (2i64..10_000).prop_map(|delta| Update::BrokenAmount { delta }),
        ];
        (newest_mostly(), update)
            .prop_map(|(session, update)| Op::UpdateSession { session, update })
            .boxed()
    }

    /// Only valid updates: what a shop changes before authorization.
    pub fn valid_update() -> BoxedStrategy<Op> {
        let update = prop_oneof![
            2 => (0u32..1_000_000).prop_map(|seed| Update::MerchantReference { seed }),
            2 => generate::raw_cart().prop_map(|(lines, sales_tax_seed)| Update::Cart {
                lines,
                sales_tax_seed,
            }),
            1 => generate::seed().prop_map(|seed| Update::BillingAddress { seed }),
        ];
        (newest_mostly(), update)
            .prop_map(|(session, update)| Op::UpdateSession { session, update })
            .boxed()
    }

    /// Authorize the newest session (mostly) as a customer of `decision`,
    /// choosing one of the categories it offered, or letting the target choose.
    pub fn authorize(decision: Decision) -> BoxedStrategy<Op> {
        (
            newest_mostly(),
            generate::people(),
            proptest::option::weighted(0.7, 0u8..3),
        )
            .prop_map(move |(session, people, category)| Op::Authorize {
                session,
                people,
                decision,
                category,
            })
            .boxed()
    }

    /// Create order with the newest token (mostly), the authorized order
    /// changed as `family` says; `auto_capture` in one case in five.
    pub fn create_order(family: Family) -> BoxedStrategy<Op> {
        (
            newest_mostly(),
            generate::plan(family),
            prop::bool::weighted(0.2),
        )
            .prop_map(move |(token, plan, auto_capture)| Op::CreateOrder {
                token,
                family,
                plan,
                auto_capture,
            })
            .boxed()
    }

    /// Create order with a given token (`Ref(1)`: the one before the newest).
    pub fn order_with(token: Ref, family: Family) -> BoxedStrategy<Op> {
        generate::plan(family)
            .prop_map(move |plan| Op::CreateOrder {
                token,
                family,
                plan,
                auto_capture: false,
            })
            .boxed()
    }

    pub fn retry(identical: bool) -> BoxedStrategy<Op> {
        newest_mostly()
            .prop_map(move |attempt| Op::Retry { attempt, identical })
            .boxed()
    }

    pub fn retry_fixed() -> BoxedStrategy<Op> {
        newest_mostly()
            .prop_map(|attempt| Op::RetryFixed { attempt })
            .boxed()
    }

    pub fn cancel() -> BoxedStrategy<Op> {
        newest_mostly()
            .prop_map(|token| Op::CancelAuthorization { token })
            .boxed()
    }

    pub fn read_order() -> BoxedStrategy<Op> {
        newest_mostly()
            .prop_map(|order| Op::ReadOrder { order })
            .boxed()
    }

    /// A plain move of the clock.
    pub fn wait_seconds(min: u64, max: u64) -> BoxedStrategy<Op> {
        (min..=max).prop_map(|s| Op::Wait(Wait::Seconds(s))).boxed()
    }

    /// Until a token is just under, at or just over its 3600 s (docs/klarna.md
    /// §5.1), or anywhere in its hour.
    pub fn wait_token_boundary() -> BoxedStrategy<Op> {
        let t = TOKEN_LIFETIME_SECONDS;
        let age = prop_oneof![
            3 => (t - 3)..=(t + 3),
            1 => 0..t,
        ];
        (newest_mostly(), age)
            .prop_map(|(token, age)| Op::Wait(Wait::TokenAge { token, age }))
            .boxed()
    }

    /// Until a session was last updated just under, at or just over 48 h
    /// ago (docs/klarna.md §5.1), or anywhere in them.
    pub fn wait_session_boundary() -> BoxedStrategy<Op> {
        let s = SESSION_LIFETIME_SECONDS;
        let idle = prop_oneof![
            3 => (s - 3)..=(s + 3),
            1 => 0..s,
        ];
        (newest_mostly(), idle)
            .prop_map(|(session, idle)| Op::Wait(Wait::SessionIdle { session, idle }))
            .boxed()
    }

    /// A request naming an id no one issued.
    pub fn unknown() -> BoxedStrategy<Op> {
        let request = prop_oneof![
            Just(Unknown::ReadSession),
            Just(Unknown::CreateOrder),
            Just(Unknown::CancelAuthorization),
            Just(Unknown::ReadOrder),
        ];
        (request, any::<u32>())
            .prop_map(|(request, seed)| Op::Unknown { request, seed })
            .boxed()
    }

    pub fn unknown_of(request: Unknown) -> BoxedStrategy<Op> {
        any::<u32>()
            .prop_map(move |seed| Op::Unknown { request, seed })
            .boxed()
    }

    pub fn wrong_credentials() -> BoxedStrategy<Op> {
        any::<u32>()
            .prop_map(|seed| Op::WrongCredentials { seed })
            .boxed()
    }

    /// Noise that leaves a property's focus alone: other sessions, reads,
    /// valid updates, unknown ids and (`waits`) short waits.
    pub fn noise(config: &GenConfig, waits: bool) -> BoxedStrategy<Op> {
        let mut options = vec![
            (3, create_session(config)),
            (3, read_session()),
            (2, valid_update()),
            (1, unknown()),
        ];
        if waits && config.virtual_clock {
            options.push((1, wait_seconds(0, 120)));
        }
        proptest::strategy::Union::new_weighted(options).boxed()
    }

    /// The operation given by a user's browser-authorized token (the runner
    /// hands each case its own token as token 0).
    pub fn given_order() -> BoxedStrategy<Op> {
        Just(Op::GivenOrder { index: 0 }).boxed()
    }
}
