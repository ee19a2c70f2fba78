//! Checked cases per second of the property runner against the embedded mock
//! (issue 4: at least 2,000 full cases per second on a 2-core machine).
//!
//! `cargo bench --bench runner` runs every property with a fixed seed, once
//! per worker count, and prints cases, seconds and cases per second; also the
//! generation alone, to show what the harness costs without a target.
//! Environment: `BENCH_CASES` (default 1000 per property). No timing is asserted.

use std::time::Instant;

use klarna_conformance::generate;
use klarna_conformance::mock::MockConfig;
use klarna_conformance::runner::{self, RunConfig, seed};
use klarna_conformance::targets::TargetSpec;

fn main() {
    let cases: u64 = std::env::var("BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);

    let strategy = proptest::strategy::Strategy::boxed(generate::any_case());
    let start = Instant::now();
    let n = 20_000u64;
    let mut bytes = 0usize;
    for i in 0..n {
        let case = seed::case_tree(&strategy, i).current();
        bytes += case.order_body().len() + case.session_body().len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "generation only: {n} cases in {secs:.2} s = {:.0} cases/s ({} bytes of bodies per case)",
        n as f64 / secs,
        bytes / n as usize
    );

    for workers in [1, 2] {
        let mut config = RunConfig::new(20261126, cases);
        config.target = TargetSpec::Mock(MockConfig::default().seed(1));
        config.workers = workers;
        let report = runner::run(&config);
        assert!(report.target_error.is_none(), "{:?}", report.target_error);
        let failed = report
            .properties
            .iter()
            .filter(|p| p.failure.is_some())
            .count();
        let secs = report.elapsed.as_secs_f64();
        println!(
            "full cases, {workers} worker(s): {} cases in {secs:.2} s = {:.0} cases/s ({failed} properties failed)",
            report.cases(),
            report.cases() as f64 / secs
        );
    }
}
