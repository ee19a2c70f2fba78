//! Proptest strategies for everything one property run needs: markets, carts,
//! addresses and customers, post-authorization mutations, waits, and whole
//! `Case`s (docs/design.md, "Generators").
//!
//! The generators know nothing of HTTP or of targets. Every amount is built
//! with the model's money constructors ([`crate::model::money`]), so a cart is
//! consistent by construction and no tax is computed here by hand.
//!
//! Speed matters (the runner checks thousands of cases a second), so text is
//! drawn from small tables with a `Dice` over one seed instead of regex
//! strategies. A seed shrinks toward 0, and 0 picks the first entry of every
//! table, so tables start with their plainest entry: a failure shrinks to
//! something readable.
//!
//! Which strategy for which property:
//!
//! | strategy | case |
//! |---|---|
//! | `untouched_case` | approved, unchanged, wait < 3600 s: the order succeeds |
//! | `mutated_case` | approved, then a change that stays valid: 409 BAD_VALUE |
//! | `invalid_case` | approved, then `order_amount` or currency broken: 400 BAD_VALUE |
//! | `neutral_case` | approved, then omit `customer` / reorder keys / nothing: succeeds |
//! | `timed_case` | approved, unchanged, any wait (40 % in 3595..=3605 s): 404 from 3600 s |
//! | `denied_case` | `customer+denied@…`: not authorized |
//! | `pending_case` | US or GB, `+pend-accept-NN` / `+pend-reject-NN`: fraud_status PENDING |
//! | `inconsistent_session_case` | one session amount off: 400 at `expected_paths` |
//! | `any_case` | all of the above mixed, for statistics and soak runs |
//!
//! ```
//! use klarna_conformance::generate::{Case, mutated_case};
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::deterministic();
//! let case: Case = mutated_case().new_tree(&mut runner).unwrap().current();
//! assert!(case.mutation.stays_valid() && !case.mutation.is_neutral());
//! let authorized = case.authorized_order(); // what the order must match
//! let body = case.order_body(); // what is sent: the authorized order, changed
//! assert_ne!(serde_json::to_string(&authorized).unwrap(), body);
//! println!("{}", case.mutation); // e.g. change billing_address.postal_code "W1S 3BE" -> "W1S 3BF"
//! ```

mod address;
mod cart;
mod case;
mod inconsistent;
mod market;
mod mutation;
mod mutation_strategy;
mod postal;
mod timing;

pub use address::{EmailKind, address_for, customer_for, email_for};
pub use cart::{cart_for, line_for};
pub use case::{
    Authorize, Case, any_case, denied_case, invalid_case, mutated_case, neutral_case, pending_case,
    timed_case, untouched_case,
};
pub use inconsistent::{InconsistentSession, Perturbation, inconsistent_session_case};
pub use market::{MarketChoice, any_market, invalid_market, valid_market};
pub use mutation::{Mutation, order_json};
pub use mutation_strategy::{changing_mutation, invalid_mutation, mutation_for, neutral_mutation};
pub use postal::{phone_for, postal_code_for, postal_code_pattern, region_for};
pub use timing::{
    SESSION_LIFETIME_SECONDS, TOKEN_LIFETIME_SECONDS, expired_wait, valid_wait, wait_seconds,
};

// The building blocks the sequence generators (`crate::sequence`) put together.
pub(crate) use address::address;
pub use cart::RawLine;
pub(crate) use cart::{build_cart, raw_cart};
pub use case::{Decision, NOTIFICATION_URL, People};
pub(crate) use case::{authorize, people, session};
pub(crate) use market::valid_choices;
pub use mutation_strategy::{Family, Plan};
pub(crate) use mutation_strategy::{plan, resolve};

/// How many distinct seeds a value is chosen from. Small enough that shrinking
/// a seed to 0 takes about 20 steps (proptest halves toward 0), large enough
/// for a million variants of each address, line or mutation value.
pub(crate) const SEED_SPACE: u64 = 1 << 20;

/// The strategy of one value seed: shrinks toward 0, the plainest value.
pub(crate) fn seed() -> impl proptest::strategy::Strategy<Value = u64> + Clone {
    0..SEED_SPACE
}

/// Deterministic choices drawn from one seed with SplitMix64, so one seed
/// yields as many independent choices as a value needs. Seed 0 is special:
/// every choice is the first option and every chance is false, which is what
/// a shrunk case shows (tables start with their plainest entry).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dice {
    state: u64,
    plain: bool,
}

impl Dice {
    pub(crate) fn new(seed: u64) -> Dice {
        Dice {
            state: seed,
            plain: seed == 0,
        }
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if self.plain {
            return 0;
        }
        // SplitMix64 (Steele, Lea, Flood 2014): one addition and a mix per draw.
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }

    /// One entry of a non-empty table.
    pub(crate) fn pick<T: Copy>(&mut self, table: &[T]) -> T {
        table[self.below(table.len() as u64) as usize]
    }

    /// True with roughly `percent` % probability; always false for seed 0,
    /// so optional parts shrink away.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) >= 100 - percent.min(100)
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo).saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::Dice;

    #[test]
    fn seed_zero_picks_first_and_skips_options() {
        let mut d = Dice::new(0);
        assert_eq!(d.pick(&["a", "b"]), "a");
        assert!(!d.chance(99));
        assert_eq!(d.range(5, 9), 5);
        // Any other seed gives independent draws, however many are taken.
        let mut d = Dice::new(1);
        let draws: std::collections::BTreeSet<u64> = (0..100).map(|_| d.below(1000)).collect();
        assert!(draws.len() > 80);
    }
}
