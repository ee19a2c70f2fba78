//! Generating and shrinking whole sequences, in the shape of
//! proptest-state-machine's `Sequential` strategy: each operation keeps its
//! own value tree, and a failing sequence shrinks first by deleting
//! operations (newest first), then by shrinking each operation's values.
//! An operation whose precondition no longer holds after a deletion (a read
//! of a session that is gone) is not an invalid candidate: the engine skips
//! it, and shrinking deletes it. The crate itself is not used because its
//! reference state machine is static, while here the model depends on the
//! run's settings (fidelity, cart updates, what the target offers).

use std::fmt;
use std::sync::Arc;

use proptest::strategy::{BoxedStrategy, NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use super::GenConfig;
use super::op::Op;

type OpTree = Box<dyn ValueTree<Value = Option<Op>>>;

/// How a property's sequences are drawn.
#[derive(Clone)]
pub(super) enum Shape {
    /// Fixed parts in order (each always or sometimes there), with up to
    /// `max` noise operations inserted anywhere.
    Skeleton {
        parts: Vec<BoxedStrategy<Option<Op>>>,
        noise: Option<(usize, BoxedStrategy<Op>)>,
    },
    /// `len` operations, each drawn by weight among the kinds whose
    /// preconditions can hold in the state reached so far.
    Free {
        len: (usize, usize),
        kinds: Vec<(u32, super::strategy::Kind)>,
    },
    /// One of several shapes, by weight.
    OneOf(Vec<(u32, SequenceStrategy)>),
}

/// One of several sequence strategies, chosen by weight for each sequence.
pub fn one_of(options: Vec<(u32, SequenceStrategy)>) -> SequenceStrategy {
    let config = options
        .first()
        .map(|(_, s)| s.config.clone())
        .expect("one_of needs an option");
    SequenceStrategy {
        config,
        shape: Shape::OneOf(options),
    }
}

/// The strategy of one property's sequences.
#[derive(Clone)]
pub struct SequenceStrategy {
    pub(super) config: Arc<GenConfig>,
    pub(super) shape: Shape,
}

impl fmt::Debug for SequenceStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SequenceStrategy")
    }
}

/// A number in `0..=max` from the runner's randomness.
fn draw(runner: &mut TestRunner, max: usize) -> usize {
    (0..=max).new_tree(runner).map(|t| t.current()).unwrap_or(0)
}

impl Strategy for SequenceStrategy {
    type Tree = SequenceTree;
    type Value = Vec<Op>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let mut parts: Vec<OpTree> = Vec::new();
        match &self.shape {
            Shape::OneOf(options) => {
                let total: u32 = options.iter().map(|(w, _)| w).sum();
                let mut roll = draw(runner, total.saturating_sub(1) as usize) as u32;
                let chosen = options
                    .iter()
                    .find(|(w, _)| {
                        let hit = roll < *w;
                        roll = roll.saturating_sub(*w);
                        hit
                    })
                    .unwrap_or(&options[0]);
                return chosen.1.new_tree(runner);
            }
            Shape::Skeleton {
                parts: skeleton,
                noise,
            } => {
                let mut fixed = Vec::with_capacity(skeleton.len());
                for part in skeleton {
                    fixed.push(part.new_tree(runner)?);
                }
                let mut extra: Vec<(usize, OpTree)> = Vec::new();
                if let Some((max, op)) = noise {
                    for _ in 0..draw(runner, *max) {
                        let at = draw(runner, fixed.len());
                        extra.push((at, op.clone().prop_map(Some).boxed().new_tree(runner)?));
                    }
                }
                extra.sort_by_key(|(at, _)| *at);
                let mut extra = extra.into_iter().peekable();
                for (i, part) in fixed.into_iter().enumerate() {
                    while let Some((_, noise)) = extra.next_if(|(at, _)| *at <= i) {
                        parts.push(noise);
                    }
                    parts.push(part);
                }
                // What cannot apply where it landed (a noise read before any
                // session exists) is skipped when the sequence runs.
                parts.extend(extra.map(|(_, noise)| noise));
            }
            Shape::Free { len, kinds } => {
                let n = len.0 + draw(runner, len.1.saturating_sub(len.0));
                let mut walk = super::Walk::new(&self.config);
                let total: u32 = kinds.iter().map(|(w, _)| w).sum();
                while parts.len() < n {
                    let mut roll = draw(runner, total.saturating_sub(1) as usize) as u32;
                    let kind = kinds
                        .iter()
                        .find(|(w, _)| {
                            let hit = roll < *w;
                            roll = roll.saturating_sub(*w);
                            hit
                        })
                        .map_or(kinds[0].1, |(_, k)| *k);
                    let kind = walk.possible(kind);
                    let tree = kind
                        .strategy(&self.config)
                        .prop_map(Some)
                        .boxed()
                        .new_tree(runner)?;
                    if tree.current().as_ref().is_some_and(|op| walk.step(op)) {
                        parts.push(tree);
                    }
                }
            }
        }
        let included = vec![true; parts.len()];
        Ok(SequenceTree {
            parts,
            included,
            phase: Phase::Delete {
                next: usize::MAX,
                progress: false,
            },
            last: None,
        })
    }
}

/// Value-shrinking steps given to one operation before the next one's turn.
const STEPS_PER_OPERATION: u32 = 40;

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Deleting operations, trying those before `next`, newest first.
    Delete {
        next: usize,
        progress: bool,
    },
    /// Shrinking the values of operation `index`; `spent` steps so far.
    Shrink {
        index: usize,
        spent: u32,
        progress: bool,
    },
    Done,
}

#[derive(Debug, Clone, Copy)]
enum Last {
    Deleted(usize),
    Shrunk(usize),
}

/// A generated sequence and where its shrinking stands.
pub struct SequenceTree {
    parts: Vec<OpTree>,
    included: Vec<bool>,
    phase: Phase,
    last: Option<Last>,
}

impl SequenceTree {
    /// Keeps only the first `n` operations: those after a failing step never
    /// ran, so they are dropped without a run (a prefix of a valid sequence is
    /// valid).
    pub fn keep_first(&mut self, n: usize) {
        let mut seen = 0;
        for (i, part) in self.parts.iter().enumerate() {
            if self.included[i] && part.current().is_some() {
                seen += 1;
                if seen > n {
                    self.included[i] = false;
                }
            }
        }
    }

    fn present(&self, i: usize) -> bool {
        self.included[i] && self.parts[i].current().is_some()
    }
}

impl fmt::Debug for SequenceTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SequenceTree")
            .field("ops", &self.current())
            .finish()
    }
}

impl ValueTree for SequenceTree {
    type Value = Vec<Op>;

    fn current(&self) -> Vec<Op> {
        self.parts
            .iter()
            .zip(&self.included)
            .filter(|(_, included)| **included)
            .filter_map(|(p, _)| p.current())
            .collect()
    }

    fn simplify(&mut self) -> bool {
        loop {
            match self.phase {
                Phase::Delete { next, progress } => {
                    let below = next.min(self.parts.len());
                    let Some(i) = (0..below).rev().find(|&i| self.present(i)) else {
                        self.phase = if progress {
                            Phase::Delete {
                                next: usize::MAX,
                                progress: false,
                            }
                        } else {
                            Phase::Shrink {
                                index: 0,
                                spent: 0,
                                progress: false,
                            }
                        };
                        continue;
                    };
                    self.included[i] = false;
                    self.phase = Phase::Delete { next: i, progress };
                    self.last = Some(Last::Deleted(i));
                    return true;
                }
                Phase::Shrink {
                    index,
                    spent,
                    progress,
                } => {
                    if index >= self.parts.len() {
                        // Smaller values may have made more operations deletable.
                        self.phase = if progress {
                            Phase::Delete {
                                next: usize::MAX,
                                progress: false,
                            }
                        } else {
                            Phase::Done
                        };
                        continue;
                    }
                    // A budget per operation and round, so that one big value
                    // (a cart of 40 lines) does not use every step: the others
                    // shrink too, and the next round comes back to it.
                    if spent >= STEPS_PER_OPERATION {
                        self.phase = Phase::Shrink {
                            index: index + 1,
                            spent: 0,
                            progress: true,
                        };
                        continue;
                    }
                    if self.present(index) && self.parts[index].simplify() {
                        self.phase = Phase::Shrink {
                            index,
                            spent: spent + 1,
                            progress,
                        };
                        self.last = Some(Last::Shrunk(index));
                        return true;
                    }
                    self.phase = Phase::Shrink {
                        index: index + 1,
                        spent: 0,
                        progress,
                    };
                }
                Phase::Done => return false,
            }
        }
    }

    fn complicate(&mut self) -> bool {
        match self.last.take() {
            None => false,
            Some(Last::Deleted(i)) => {
                // The sequence passed without it: it stays, try the next one.
                self.included[i] = true;
                self.simplify()
            }
            Some(Last::Shrunk(i)) => {
                if self.parts[i].complicate() {
                    self.last = Some(Last::Shrunk(i));
                    return true;
                }
                self.simplify()
            }
        }
    }
}

/// Marks that the candidate just tested failed too, so the shrinker keeps it.
impl SequenceTree {
    pub fn accept(&mut self) {
        match (self.last.take(), &mut self.phase) {
            (Some(Last::Deleted(_)), Phase::Delete { progress, .. })
            | (Some(Last::Shrunk(_)), Phase::Shrink { progress, .. }) => *progress = true,
            _ => {}
        }
    }
}
