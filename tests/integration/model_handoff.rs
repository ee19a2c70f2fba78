//! A prediction hands the bodies it parsed and merged on to `World::apply`
//! (`oracle::answer::Work`), so that a step parses its body once. A copy of
//! a prediction carries none and apply works them out again. Both ways must
//! reach the same state, step by step, for every property's sequences, in
//! every mode, whichever allowed answer the target gave.

use std::sync::Arc;

use klarna_conformance::Property;
use klarna_conformance::model::validate::Fidelity;
use klarna_conformance::oracle::{ClockModel, Observation, OracleConfig};
use klarna_conformance::sequence::{GenConfig, resolve};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn configs() -> Vec<(&'static str, GenConfig)> {
    let base = OracleConfig {
        allow_cart_updates: false,
        fidelity: Fidelity::Playground,
        lenient: false,
    };
    let mode = |oracle| GenConfig::new(oracle);
    vec![
        ("playground", mode(base)),
        (
            "documented",
            mode(OracleConfig {
                fidelity: Fidelity::Documented,
                ..base
            }),
        ),
        (
            "cart updates",
            mode(OracleConfig {
                allow_cart_updates: true,
                ..base
            }),
        ),
        (
            "lenient",
            mode(OracleConfig {
                lenient: true,
                ..base
            }),
        ),
    ]
}

#[test]
fn applying_a_predictions_work_reaches_the_state_recomputing_does() {
    let mut steps = 0usize;
    let mut alternatives = 0usize;
    for (mode, config) in configs() {
        let config = Arc::new(config);
        for property in Property::all() {
            let strategy = property.strategy(&config);
            let mut runner = TestRunner::new_with_rng(
                Config::default(),
                TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
            );
            for case in 0..12 {
                let ops = strategy.new_tree(&mut runner).unwrap().current();
                let mut handed = config.world(ClockModel { start: Some(1_000) });
                let mut recomputed = handed.clone();
                for (i, op) in ops.iter().enumerate() {
                    let Some(r) = resolve(op, &handed, &config) else {
                        continue;
                    };
                    let where_ = || format!("{mode}, {property:?}, case {case}, step {}", i + 1);
                    let prediction = handed.predict(&r.action);
                    let copy = prediction.clone();
                    assert_eq!(
                        copy,
                        recomputed.predict(&r.action),
                        "{}: the two worlds predict differently",
                        where_()
                    );
                    // Each allowed answer in turn, so that lenient
                    // alternatives are applied too.
                    let answers: Vec<_> = prediction.answers(true).collect();
                    let pick = (case + i) % answers.len();
                    let observation = Observation {
                        answer: (pick > 0).then_some(answers[pick]),
                        fraud_status: None,
                    };
                    alternatives += usize::from(pick > 0);
                    handed.apply(&r.action, &prediction, observation);
                    recomputed.apply(&r.action, &copy, observation);
                    assert_eq!(
                        format!("{handed:?}"),
                        format!("{recomputed:?}"),
                        "{}: {} applied with the prediction's work differs from recomputed",
                        where_(),
                        r.describe
                    );
                    steps += 1;
                }
            }
        }
    }
    // The comparison means nothing over a handful of steps.
    assert!(steps > 3_000, "only {steps} steps compared");
    assert!(
        alternatives > 20,
        "only {alternatives} alternatives applied"
    );
}
