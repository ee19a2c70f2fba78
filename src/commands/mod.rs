//! `run`, `replay`, `scenarios` and `certify`: turn parsed flags into a
//! configuration, run it, print the report and return the documented exit code.

mod authorizers;
mod certification;

use authorizers::{authorizer, named_authorizer};
pub use certification::certify;
pub(crate) use certification::certify_report;

use std::io::Write as _;
use std::sync::Arc;

use klarna_conformance::cassette::{self, Cassette, Recorder};
use klarna_conformance::errors::exit;
use klarna_conformance::mock::Defect;
use klarna_conformance::mock::{self, MockConfig};
use klarna_conformance::model::validate::Fidelity;
use klarna_conformance::openapi::OpenApi;
use klarna_conformance::oracle::OracleConfig;
use klarna_conformance::runner::{self, Progress, Property, RunConfig, report};
use klarna_conformance::targets::{
    Credentials, Pacing, TargetSpec, env, klarna_host, playground_opt_in,
};
use klarna_conformance::verdict::Judge;

use klarna_conformance::certify::{self, AuthorizedOrder, CertifyConfig};

use crate::cassette_flags;
use crate::cli::{
    CertifyArgs, RegionArg, ReplayArgs, RunArgs, ScenariosArgs, SelftestArgs, TargetArgs,
};

/// The default number of cases per property when neither `--cases` nor
/// `PROPTEST_CASES` says.
const DEFAULT_CASES: u64 = 256;

/// A usage error: printed, exit 2.
pub(crate) fn usage(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::USAGE
}

/// `PROPTEST_CASES` / `PROPTEST_RNG_SEED`, parsed once; a value that is not a
/// number is an error, not silently ignored.
fn env_number(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v:?} is not a non-negative integer")),
        Err(_) => Ok(None),
    }
}

/// What `--target` names: `mock` (the embedded mock configured by `mock`
/// plus `defects`), `playground` (needs the opt-in and credentials) or a URL
/// (credentials default to the mock's, for `klarna-conformance serve`).
fn target_spec(
    target: &str,
    username: Option<&str>,
    password: Option<&str>,
    defects: &[Defect],
    mock: MockConfig,
) -> Result<TargetSpec, String> {
    if target != "mock" && !defects.is_empty() {
        return Err("--defect applies to the embedded mock only (--target mock)".to_owned());
    }
    match target {
        "mock" => Ok(TargetSpec::Mock(
            defects.iter().fold(mock, |config, d| config.defect(*d)),
        )),
        "playground" => {
            if !playground_opt_in(std::env::var(env::PLAYGROUND).ok().as_deref())? {
                return Err(format!(
                    "--target playground calls Klarna's real playground: set {}=1 to confirm",
                    env::PLAYGROUND
                ));
            }
            let (Some(u), Some(p)) = (username, password) else {
                return Err(format!(
                    "--target playground needs --username and --password (or {} and {})",
                    env::USERNAME,
                    env::PASSWORD
                ));
            };
            Ok(TargetSpec::Playground {
                base_url: None,
                credentials: Credentials::new(u, p),
                pacing: Pacing::PLAYGROUND,
            })
        }
        url if klarna_host(url).is_some() => Err(format!(
            "--target {url} is Klarna's, which has no mock control API: use `--target playground` \
             for scenarios, or `klarna-conformance certify` (no request was sent)"
        )),
        url if url.starts_with("http://") || url.starts_with("https://") => Ok(TargetSpec::Url {
            base_url: url.to_owned(),
            credentials: Credentials::new(
                username.unwrap_or(mock::DEFAULT_USERNAME),
                password.unwrap_or(mock::DEFAULT_PASSWORD),
            ),
        }),
        other => Err(format!(
            "--target {other:?}: expected `mock`, `playground` or an http:// or https:// URL"
        )),
    }
}

/// The run configuration the target flags describe.
fn base_config(args: &TargetArgs, seed: u64, cases: u64) -> Result<RunConfig, String> {
    let mut config = RunConfig::new(seed, cases);
    let fidelity = if args.strict {
        Fidelity::Documented
    } else {
        Fidelity::Playground
    };
    config.oracle = OracleConfig {
        allow_cart_updates: args.allow_cart_updates,
        fidelity,
        lenient: args.lenient,
    };
    if args.lenient && args.target == "mock" {
        return Err(
            "--lenient is for URL targets: the embedded mock is held to the exact answers"
                .to_owned(),
        );
    }
    config.authorizer = authorizer(args)?;
    if args.skip_expiry && args.target != "playground" {
        return Err(
            "--skip-expiry is for --target playground: other targets have a virtual clock"
                .to_owned(),
        );
    }
    let mock = MockConfig::default()
        .seed(seed)
        .strict(args.strict)
        .allow_cart_updates(args.allow_cart_updates);
    config.target = target_spec(
        &args.target,
        args.username.as_deref(),
        args.password.as_deref(),
        &args.defects,
        mock,
    )?;
    // The project's own mock is judged to the letter; anything else by the
    // paths and fields its messages name, as real services append detail and
    // order lists freely (docs/klarna.md §10).
    config.judge = match config.target {
        TargetSpec::Mock(_) => Judge::Exact,
        _ => Judge::Named,
    };
    if args.target == "playground" {
        certify::playground_settings(&mut config);
        config.hold_expiry = !args.skip_expiry;
    }
    for path in &args.openapi {
        let api = OpenApi::load(path).map_err(|e| format!("--openapi: {e}"))?;
        config.openapi.push(Arc::new(api));
    }
    Ok(config)
}

/// A word as a POSIX shell reads it back (single-quoted unless plain).
fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=+,".contains(&b))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn target_flag(args: &TargetArgs) -> String {
    let mut flags = String::new();
    if args.target != "mock" {
        flags.push_str(&format!(" --target {}", args.target));
    }
    if let Some(authorizer) = &args.authorizer {
        flags.push_str(&format!(" --authorizer {}", shell_quote(authorizer)));
    }
    if args.skip_expiry {
        flags.push_str(" --skip-expiry");
    }
    for defect in &args.defects {
        flags.push_str(&format!(" --defect {defect}"));
    }
    if args.allow_cart_updates {
        flags.push_str(" --allow-cart-updates");
    }
    if args.strict {
        flags.push_str(" --strict");
    }
    if args.lenient {
        flags.push_str(" --lenient");
    }
    for path in &args.openapi {
        flags.push_str(&format!(" --openapi {}", path.display()));
    }
    if let Some(path) = &args.cassette {
        flags.push_str(&format!(" --cassette {}", path.display()));
    }
    flags
}

/// `run`.
pub fn run(args: RunArgs) -> u8 {
    if args.list {
        print!("{}", report::list());
        return exit::OK;
    }
    let player = match cassette_flags::player(&args.target.target, args.target.cassette.as_deref())
    {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    // A replay runs the recorded seed and cases unless told otherwise.
    let recorded = player.as_ref().map(|p| p.cassette());
    let cases = match args
        .cases
        .or(recorded.map(|c| c.settings.cases))
        .map(Ok)
        .unwrap_or_else(|| env_number("PROPTEST_CASES").map(|c| c.unwrap_or(DEFAULT_CASES)))
    {
        Ok(0) if args.cases.is_none() => {
            return usage(
                "PROPTEST_CASES=0: a run of no case checks nothing (unset it, or give --cases N)",
            );
        }
        Ok(0) => return usage("--cases must be at least 1: a run of no case checks nothing"),
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    // An unwritable report path fails now, not after a long run.
    if let Some(path) = &args.junit
        && let Err(e) = writable(path)
    {
        return usage(e);
    }
    let seed = match args
        .seed
        .or(recorded.map(|c| c.seed))
        .map(Ok)
        .unwrap_or_else(|| env_number("PROPTEST_RNG_SEED").map(|s| s.unwrap_or_else(random_seed)))
    {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let configured = match &player {
        Some(player) => cassette_flags::run_config(&args.target, player.clone()),
        None => base_config(&args.target, seed, cases),
    };
    let mut config = match configured {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    (config.seed, config.cases) = (seed, cases);
    if !args.properties.is_empty() {
        match properties(&args.properties) {
            Ok(chosen) => config.properties = chosen,
            Err(e) => return usage(e),
        }
    }
    if let Some(workers) = args.workers {
        config.workers = Some(workers.max(1));
    }
    if config.properties.iter().any(|p| config.holds(*p)) {
        let held = config.held_cases();
        // A recording keeps one case at a time, so its tokens wait in turn.
        let hours = if args.target.record.is_some() {
            held
        } else {
            1
        };
        eprintln!(
            "token-expiry holds {held} real tokens past their 60 minutes: this run takes at least {} minutes (--skip-expiry skips it)",
            62 * hours
        );
    }
    // Seeds tried first would put cases in the cassette the seed does not name.
    let taped = player.is_some() || args.target.record.is_some();
    if !args.no_regressions && !taped {
        config.regressions_dir = Some(args.regressions.clone());
    }
    let recorder = match cassette_flags::record(args.target.record.as_deref(), "run", &config) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    config.record = recorder.clone();
    config.progress = Progress::auto();
    config.interrupt = Some(stop_on_ctrl_c());
    eprintln!(
        "klarna-conformance run: {} properties x {cases} cases against {}, seed {seed}",
        config.properties.len(),
        config.target.describe()
    );
    let mut result = runner::run(&config);
    cassette::finish_replay(&config.target, &mut result);
    let flags = target_flag(&args.target);
    print!("{}", report::render(&result, &flags));
    let _ = std::io::stdout().flush();
    let mut code = result.exit_code();
    // Interrupted even when a failure decides the exit code.
    let complete =
        result.target_error.is_none() && !result.properties.iter().any(|p| p.interrupted);
    code = code.max(cassette_flags::finish(
        recorder.as_ref(),
        args.target.record.as_deref(),
        complete,
    ));
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, report::junit(&result, &flags))
    {
        eprintln!(
            "error: cannot write the JUnit report {}: {e}",
            path.display()
        );
        code = code.max(exit::USAGE);
    }
    code
}

/// A flag set by the first Ctrl-C, so the run stops after the cases in
/// flight and reports what it found; a second Ctrl-C quits at once.
fn stop_on_ctrl_c() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let watcher = std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    set.store(true, Ordering::Relaxed);
                    eprintln!(
                        "\ninterrupted: finishing the cases in flight, then the report (Ctrl-C again quits)"
                    );
                }
                if tokio::signal::ctrl_c().await.is_ok() {
                    // Authorizers run in groups of their own, out of the
                    // terminal's reach: end them with the harness.
                    klarna_conformance::authorize::end_started_programs();
                    std::process::exit(i32::from(exit::INTERRUPTED));
                }
            });
        });
    drop(watcher);
    flag
}

/// Whether a report can be written at `path` (it is created, empty, to find out).
pub(crate) fn writable(path: &std::path::Path) -> Result<(), String> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(drop)
        .map_err(|e| format!("cannot write the JUnit report {}: {e}", path.display()))
}

/// The properties `--property` names; an unknown name is an error listing the known ones.
fn properties(names: &[String]) -> Result<Vec<Property>, String> {
    names
        .iter()
        .map(|name| {
            Property::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Property::all().map(|p| p.name()).collect();
                format!(
                    "--property {name:?} is not a property; known: {}",
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// `replay`.
pub fn replay(args: ReplayArgs) -> u8 {
    let property = match properties(std::slice::from_ref(&args.property)) {
        Ok(chosen) => chosen[0],
        Err(e) => return usage(e),
    };
    let configured =
        match cassette_flags::player(&args.target.target, args.target.cassette.as_deref()) {
            Ok(Some(player)) => cassette_flags::run_config(&args.target, player),
            Ok(None) => base_config(&args.target, args.seed, 1),
            Err(e) => Err(e),
        };
    let mut config = match configured {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    // A replay's cassette names its one case: property and case seed.
    (config.seed, config.cases, config.properties) = (args.seed, 1, vec![property]);
    let recorder = match cassette_flags::record(args.target.record.as_deref(), "replay", &config) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    config.record = recorder.clone();
    let result = runner::replay(&config, property, args.seed);
    print!("{}", report::render(&result, &target_flag(&args.target)));
    let complete = result.target_error.is_none();
    let code = result.exit_code().max(cassette_flags::finish(
        recorder.as_ref(),
        args.target.record.as_deref(),
        complete,
    ));
    match (&args.emit_scenario, result.properties.first()) {
        (Some(path), Some(p)) => match &p.failure {
            Some(failure) => match emit_scenario(property, failure, &args.target) {
                Ok(text) => {
                    if let Err(e) = std::fs::write(path, text) {
                        eprintln!("error: cannot write {}: {e}", path.display());
                        return exit::USAGE;
                    }
                    eprintln!("wrote the failing case as a scenario: {}", path.display());
                    code
                }
                Err(e) => usage(e),
            },
            None => {
                eprintln!("the case held: no scenario written");
                code
            }
        },
        _ => code,
    }
}

/// The failing sequence as scenario text: every request as it was sent, and
/// what the model expected of each answer.
fn emit_scenario(
    property: Property,
    failure: &runner::FailureReport,
    target: &TargetArgs,
) -> Result<String, String> {
    use klarna_conformance::scenario::{self, MockSettings};
    let description = format!(
        "{}: {} (replay --property {} --seed {}{})",
        property.name(),
        failure.failure.check.lines().next().unwrap_or(""),
        property.name(),
        failure.case_seed,
        target_flag(target)
    );
    let mock = MockSettings {
        allow_cart_updates: target.allow_cart_updates,
        strict: target.strict,
        seed: None,
    };
    scenario::from_sequence(&description, &mock, &failure.steps, &failure.exchanges)
        .map_err(|e| e.to_string())
}

/// `scenarios`.
pub fn scenarios(args: ScenariosArgs) -> u8 {
    use klarna_conformance::scenario::{self, RunOptions};
    let spec = match cassette_flags::player(&args.target, args.cassette.as_deref()) {
        Ok(Some(player)) if args.defects.is_empty() => Ok(TargetSpec::Cassette(player)),
        Ok(Some(_)) => {
            Err("--defect switches the embedded mock; a cassette's answers are recorded".to_owned())
        }
        Ok(None) => target_spec(
            &args.target,
            args.username.as_deref(),
            args.password.as_deref(),
            &args.defects,
            MockConfig::default(),
        ),
        Err(e) => Err(e),
    };
    let spec = match spec {
        Ok(spec) => spec,
        Err(e) => return usage(e),
    };
    let recorder = match cassette_flags::recorder(
        args.record.as_deref(),
        Cassette::of_target("scenarios", &spec),
        &spec.credentials(),
    ) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    let options = RunOptions {
        filter: args.filter.clone(),
        snapshot_root: (!args.no_snapshots).then(|| args.snapshots.clone()),
        record: recorder.clone(),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return usage(format!("cannot start the runtime: {e}")),
    };
    let mut out = std::io::stdout();
    let summary = rt.block_on(scenario::run_files(&args.dir, &spec, &options, &mut out));
    let mut code = summary.exit_code();
    if let TargetSpec::Cassette(player) = &spec
        && summary.failed + summary.target_errors == 0
        && let Some(e) = player.unreplayed()
    {
        eprintln!("error: {e}");
        code = code.max(exit::USAGE);
    }
    let complete = summary.target_errors + summary.unreadable == 0;
    code.max(cassette_flags::finish(
        recorder.as_ref(),
        args.record.as_deref(),
        complete,
    ))
}

/// A seed for a run that names none; printed, so the run can be repeated.
/// `selftest`: every property against each defect mode, the score last.
pub fn selftest(args: SelftestArgs) -> u8 {
    use klarna_conformance::selftest::{self, SelftestConfig};
    let config = SelftestConfig {
        seed: args.seed,
        cases: args.cases as u64,
        defects: args.defects,
        workers: args.workers,
    };
    eprintln!(
        "klarna-conformance selftest: {} defect modes x {} properties x {} cases against the embedded mock, seed {}",
        config.defects().len(),
        Property::all().count(),
        config.cases,
        config.seed
    );
    let results = selftest::selftest(&config);
    print!("{}", selftest::render(&results));
    let _ = std::io::stdout().flush();
    selftest::exit_code(&results)
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    runner::seed::mix(nanos ^ u64::from(std::process::id()))
}
