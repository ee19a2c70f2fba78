//! Proptest strategies for everything one property run needs: markets, carts,
//! addresses and customers, post-authorization mutations, waits, and whole
//! [`Case`]s (DESIGN.md, "Generators").
//!
//! The generators know nothing of HTTP or of targets. Every amount is built
//! with the model's money constructors ([`crate::model::money`]), so a cart is
//! consistent by construction and no tax is computed here by hand.
//!
//! Speed matters (the runner checks thousands of cases a second), so text is
//! drawn from small tables with a [`Dice`] over one `u64` instead of regex
//! strategies. A `u64` shrinks toward 0, and 0 picks the first entry of every
//! table, so tables start with their plainest entry: a failure shrinks to
//! something readable.

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

/// Deterministic choices read off one `u64`: each choice takes the remainder
/// by the number of options and divides it away. Seed 0 picks the first option
/// everywhere, which is what shrinking converges to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dice(u64);

impl Dice {
    pub(crate) fn new(seed: u64) -> Dice {
        Dice(seed)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        let n = n.max(1);
        let r = self.0 % n;
        self.0 /= n;
        r
    }

    /// One entry of a non-empty table.
    pub(crate) fn pick<T: Copy>(&mut self, table: &[T]) -> T {
        table[self.below(table.len() as u64) as usize]
    }

    /// True with roughly `percent` % probability; false for an exhausted seed,
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
    }
}
