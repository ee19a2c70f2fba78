//! Random operation sequences over the whole surface a target serves:
//! several sessions interleaved, updates and reads at any point, authorize,
//! create order untouched, changed or retried, cancel, Order Management
//! reads and captures, and the clock (docs/design.md).
//!
//! An [`Op`] names what it works on relatively ("the newest session") and
//! becomes a concrete request only against the reference model's state
//! ([`resolve`]); a [`SequenceStrategy`] draws a property's sequences and its
//! [`SequenceTree`] shrinks a failing one to its fewest operations.

mod lifecycle;
mod op;
mod resolve;
mod resolve_lifecycle;
mod strategy;
mod tree;

pub use op::{CaptureAmount, Key, OmChoice, Op, Ref, TokenBody, Unknown, Update, Wait, unknown_id};
pub use resolve::{Resolved, resolve};
pub use strategy::{Kind, Skeleton, free, ops};
pub use tree::{SequenceStrategy, SequenceTree, one_of};

use crate::generate::MarketChoice;
use crate::oracle::{ClockModel, Observation, OracleConfig, World};

/// What sequences may contain: the model's settings and what the target offers.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub oracle: OracleConfig,
    /// The markets sessions are created in (a playground region's, or all).
    pub markets: Vec<MarketChoice>,
    /// Sessions can be authorized (the mock's control API or an authorizer).
    pub authorize: bool,
    /// The mock's control API beyond authorize (fraud decisions, notifications).
    pub control_api: bool,
    /// The target's clock can be moved (the mock's virtual clock).
    pub virtual_clock: bool,
    /// The target's clock is real and waits are real pauses: the held expiry
    /// cases on the playground (docs/design.md "Held expiry").
    pub real_waits: bool,
    /// `auto_capture` may be sent: off where the contract decides what it
    /// does (lenient runs), so the model knows whether an order was captured.
    pub auto_capture: bool,
    /// Create-order bodies of tokens the user authorized in a browser.
    pub given: Vec<String>,
}

impl GenConfig {
    /// Every market, and a target with the mock's control API and virtual clock.
    pub fn new(oracle: OracleConfig) -> GenConfig {
        GenConfig {
            oracle,
            markets: crate::generate::valid_choices().to_vec(),
            authorize: true,
            control_api: true,
            virtual_clock: true,
            real_waits: false,
            auto_capture: !oracle.lenient,
            given: Vec::new(),
        }
    }

    /// The model a sequence starts from.
    pub fn world(&self, clock: ClockModel) -> World {
        World::new(self.oracle, clock).with_given(&self.given)
    }
}

/// The model walked along a sequence as it is generated or shrunk: each
/// operation must apply in the state the ones before it reached.
pub(crate) struct Walk<'a> {
    config: &'a GenConfig,
    world: World,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(config: &'a GenConfig) -> Walk<'a> {
        Walk {
            config,
            world: config.world(ClockModel { start: Some(0) }),
        }
    }

    /// Applies `op` as predicted; false (and no change) when it does not apply.
    pub(crate) fn step(&mut self, op: &Op) -> bool {
        let Some(r) = resolve(op, &self.world, self.config) else {
            return false;
        };
        let prediction = self.world.predict(&r.action);
        self.world
            .apply(&r.action, &prediction, Observation::default());
        true
    }

    /// `kind`, or the nearest kind that can apply now (a session before a
    /// read, an authorization before an order).
    pub(crate) fn possible(&self, kind: Kind) -> Kind {
        let w = &self.world;
        let need_session = w.sessions() == 0;
        let need_token = w.tokens() == 0;
        match kind {
            Kind::ReadSession | Kind::UpdateSession | Kind::Authorize | Kind::WaitSession
                if need_session =>
            {
                Kind::CreateSession
            }
            Kind::CreateOrder | Kind::CancelAuthorization | Kind::WaitToken if need_token => {
                if need_session {
                    Kind::CreateSession
                } else {
                    Kind::Authorize
                }
            }
            Kind::Retry if w.attempts().is_empty() => self.possible(Kind::CreateOrder),
            Kind::ReadOrder
            | Kind::Capture
            | Kind::Refund
            | Kind::OmOperation
            | Kind::ReadLifecycle
            | Kind::FraudDecision
            | Kind::WaitExpiry
            | Kind::WaitReview
                if w.orders() == 0 =>
            {
                self.possible(Kind::CreateOrder)
            }
            Kind::CustomerToken if need_token => self.possible(Kind::CreateOrder),
            Kind::UseCustomerToken if w.customer_tokens() == 0 => {
                self.possible(Kind::CustomerToken)
            }
            Kind::Authorize if !self.config.authorize => Kind::ReadSession,
            other => other,
        }
    }
}

/// Whether every operation of `ops` applies in turn.
pub fn applies(ops: &[Op], config: &GenConfig) -> bool {
    let mut walk = Walk::new(config);
    ops.iter().all(|op| walk.step(op))
}
