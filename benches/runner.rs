//! Checked operations per second of the engine against the embedded mock
//! (goals on a 2-core machine: at least 20,000 judged requests a second, and
//! the focused properties at least 2,000 sequences a second).
//!
//! `cargo bench --bench runner` runs every property with a fixed seed, once
//! per worker count, and prints sequences, requests, seconds and rates; also
//! the generation alone (drawing sequences), to show what the harness costs
//! without a target.
//! Then the same against a URL target: the mock served over loopback (what
//! `klarna-conformance serve` runs, sharing the machine with the harness),
//! once one case at a time and once with the default workers, each in a
//! scope of its own (goal: at least 5,000 checked cases a second).
//! Environment: `BENCH_CASES` (default 1000 per property; the URL phases use
//! a quarter). No timing is asserted.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use klarna_conformance::mock::{MockConfig, MockServer};
use klarna_conformance::oracle::OracleConfig;
use klarna_conformance::runner::{self, Property, RunConfig, seed};
use klarna_conformance::sequence::GenConfig;
use klarna_conformance::targets::TargetSpec;

fn main() {
    let cases: u64 = std::env::var("BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);

    let generation = Arc::new(GenConfig::new(OracleConfig::default()));
    let start = Instant::now();
    let (mut n, mut ops) = (0u64, 0usize);
    for property in Property::all() {
        let strategy = property.strategy(&generation);
        for i in 0..500u64 {
            let tree = seed::sequence_tree(&strategy, i);
            let sequence = proptest::strategy::ValueTree::current(&tree);
            ops += sequence.len();
            n += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "generation only: {n} sequences ({ops} operations) in {secs:.2} s = {:.0} sequences/s, {:.0} operations/s",
        n as f64 / secs,
        ops as f64 / secs
    );

    for workers in [1, 2] {
        let mut config = RunConfig::new(20261126, cases);
        config.target = TargetSpec::Mock(MockConfig::default().seed(1));
        config.workers = Some(workers);
        let before = allocations();
        let report = runner::run(&config);
        let allocated = allocations() - before;
        assert!(report.target_error.is_none(), "{:?}", report.target_error);
        let failed = report
            .properties
            .iter()
            .filter(|p| p.failure.is_some())
            .count();
        let secs = report.elapsed.as_secs_f64();
        println!(
            "all properties, {workers} worker(s): {} sequences, {} requests in {secs:.2} s = {:.0} sequences/s, {:.0} requests/s ({failed} properties failed); {:.0} allocations a sequence",
            report.cases(),
            report.operations(),
            report.cases() as f64 / secs,
            report.operations() as f64 / secs,
            allocated as f64 / report.cases() as f64
        );
    }
    // The focused properties alone (all but the free sequences), as users
    // know them from earlier versions.
    let mut config = RunConfig::new(20261127, cases);
    config.target = TargetSpec::Mock(MockConfig::default().seed(1));
    config.properties = Property::all()
        .filter(|p| *p != Property::Sequences)
        .collect();
    let report = runner::run(&config);
    let secs = report.elapsed.as_secs_f64();
    println!(
        "focused properties, 2 workers: {} sequences in {secs:.2} s = {:.0} sequences/s",
        report.cases(),
        report.cases() as f64 / secs
    );

    // Over loopback: the server on a runtime of its own (two threads, as
    // `serve` on this machine), the harness's workers beside it.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = server_rt
        .block_on(MockServer::start(MockConfig::default().seed(1)))
        .expect("mock starts");
    for workers in [Some(1), None] {
        let mut config = RunConfig::new(20261128, (cases / 4).max(1));
        config.target = TargetSpec::url(server.base_url());
        config.workers = workers;
        let cpu = cpu_seconds();
        let before = allocations();
        let report = runner::run(&config);
        let allocated = allocations() - before;
        let cpu = cpu_seconds().zip(cpu).map(|(after, before)| after - before);
        assert!(report.target_error.is_none(), "{:?}", report.target_error);
        let secs = report.elapsed.as_secs_f64();
        println!(
            "URL target over loopback, {}: {} sequences, {} requests in {secs:.2} s = {:.0} sequences/s, {:.0} requests/s",
            report
                .concurrency
                .describe()
                .unwrap_or_default()
                .split(" (")
                .next()
                .unwrap_or_default(),
            report.cases(),
            report.operations(),
            report.cases() as f64 / secs,
            report.operations() as f64 / secs
        );
        // CPU time (harness, client and server together) per case: steadier
        // than a rate on a shared machine, and what a faster run must cut.
        if let Some(cpu) = cpu {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            println!(
                "  CPU {cpu:.2} s = {:.0} us a case, {:.0} us a request; {:.0} % of {cores} cores; {:.0} allocations a case",
                cpu * 1e6 / report.cases() as f64,
                cpu * 1e6 / report.operations() as f64,
                cpu * 100.0 / (cores as f64 * secs),
                allocated as f64 / report.cases() as f64
            );
        }
    }
    server_rt.block_on(server.shutdown());
}

/// User and system CPU seconds of this process so far (Linux: /proc/self/stat,
/// in clock ticks of 1/100 s); `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime: fields 14 and 15 of the line, 11 and 12 (from 0) after the name.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// The binary's allocator (src/main.rs), so the figures are the binary's,
/// counting allocations: unlike a rate, their number a sequence is the same
/// from run to run, and on this machine it is what the engine and the mock's
/// costs follow (they allocate many small JSON values).
#[global_allocator]
static GLOBAL: Counting = Counting(mimalloc::MiMalloc);

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

struct Counting(mimalloc::MiMalloc);

// SAFETY: every call is passed on unchanged to mimalloc.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { self.0.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { self.0.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (and reallocations) since the start.
fn allocations() -> u64 {
    ALLOCATIONS.load(Relaxed)
}
