//! The wait between authorization and create order, in seconds.
//!
//! An authorization token is valid for 60 minutes (docs/klarna.md §5.1): an order
//! 3599 s after authorization must succeed, one 3600 s after must be
//! `NOT_FOUND` (docs/design.md: "valid while less than 3600 s have passed"). Bugs
//! live at that boundary, so most waits sit right next to it; the rest cover
//! the valid hour and the 48 hours a session lives (docs/klarna.md §5.1).

use proptest::prelude::*;

/// The lifetimes the waits are placed around; a session's is the longest wait.
pub use crate::model::{SESSION_LIFETIME_SECONDS, TOKEN_LIFETIME_SECONDS};

/// Any wait: 30 % within the valid hour, 40 % in 3595..=3605, 30 % over 0..48 h.
/// The first arm comes first so that a failure shrinks toward a wait of 0.
pub fn wait_seconds() -> impl Strategy<Value = u64> + Clone {
    prop_oneof![
        30 => 0..TOKEN_LIFETIME_SECONDS,
        40 => (TOKEN_LIFETIME_SECONDS - 5)..=(TOKEN_LIFETIME_SECONDS + 5),
        30 => 0..=SESSION_LIFETIME_SECONDS,
    ]
}

/// A wait after which the token is still valid (< 3600 s), often 3599.
pub fn valid_wait() -> impl Strategy<Value = u64> + Clone {
    prop_oneof![
        60 => 0..TOKEN_LIFETIME_SECONDS,
        40 => (TOKEN_LIFETIME_SECONDS - 5)..TOKEN_LIFETIME_SECONDS,
    ]
}

/// A wait after which the token has expired (≥ 3600 s), often exactly 3600.
pub fn expired_wait() -> impl Strategy<Value = u64> + Clone {
    prop_oneof![
        50 => TOKEN_LIFETIME_SECONDS..=(TOKEN_LIFETIME_SECONDS + 5),
        50 => TOKEN_LIFETIME_SECONDS..=SESSION_LIFETIME_SECONDS,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn waits_crowd_the_boundary() {
        let mut runner = TestRunner::deterministic();
        let s = wait_seconds();
        let (mut near, mut over_day, mut at_3599, mut at_3600) = (0, 0, 0, 0);
        for _ in 0..4000 {
            let w = s.new_tree(&mut runner).unwrap().current();
            assert!(w <= SESSION_LIFETIME_SECONDS);
            near += usize::from((3595..=3605).contains(&w));
            over_day += usize::from(w > 24 * 3600);
            at_3599 += usize::from(w == 3599);
            at_3600 += usize::from(w == 3600);
        }
        assert!(near > 1400, "{near}");
        assert!(over_day > 400 && at_3599 > 50 && at_3600 > 50);
        for _ in 0..500 {
            assert!(valid_wait().new_tree(&mut runner).unwrap().current() < 3600);
            assert!(expired_wait().new_tree(&mut runner).unwrap().current() >= 3600);
        }
    }
}
