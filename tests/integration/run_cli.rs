//! `klarna-conformance run` and `replay` end to end: the binary, its output
//! and its documented exit codes (0 held, 1 conformance failure, 2 usage or
//! unusable target).

use std::path::PathBuf;
use std::process::{Command, Output};

use klarna_conformance::mock::{MockConfig, MockServer};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"));
    c.env_remove("PROPTEST_CASES")
        .env_remove("PROPTEST_RNG_SEED")
        .env_remove("KLARNA_USERNAME")
        .env_remove("KLARNA_PASSWORD");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kc-run-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn list_names_every_property() {
    let o = run(&["run", "--list"]);
    assert_eq!(o.status.code(), Some(0));
    for p in klarna_conformance::runner::Property::all() {
        assert!(text(&o).contains(p.name()), "{}", text(&o));
    }
}

#[test]
fn bad_flags_exit_2() {
    let o = run(&["run", "--property", "no-such-property"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no-such-property") && text(&o).contains("order-succeeds"));
    let o = run(&["run", "--target", "ftp://example"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--target"), "{}", text(&o));
    let o = run(&["run", "--cases", "many"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["run", "--cases", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("at least 1"), "{}", text(&o));
    // Klarna's hosts have no control API, and no request may reach them by accident.
    let o = run(&[
        "run",
        "--target",
        "https://api.playground.klarna.com",
        "--cases",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no request was sent"), "{}", text(&o));
    let o = bin()
        .args(["run", "--property", "order-succeeds"])
        .env("PROPTEST_CASES", "lots")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("PROPTEST_CASES"), "{}", text(&o));
}

#[test]
fn an_unreachable_target_is_not_a_conformance_failure() {
    // Port 9 (discard) on loopback: nothing listens there.
    let o = run(&[
        "run",
        "--target",
        "http://127.0.0.1:9",
        "--cases",
        "2",
        "--no-regressions",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("target error"), "{}", text(&o));
    assert!(!text(&o).contains("FAILED"), "{}", text(&o));
}

#[test]
fn proptest_cases_and_seed_are_honoured() {
    let o = bin()
        .args(["run", "--property", "order-succeeds", "--no-regressions"])
        .env("PROPTEST_CASES", "3")
        .env("PROPTEST_RNG_SEED", "42")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("3 cases, "), "{}", text(&o));
    assert!(text(&o).contains("seed 42"), "{}", text(&o));
}

#[test]
fn a_failure_prints_a_replay_command_that_fails_the_same_way() {
    let dir = temp_dir("failure");
    let junit = dir.join("junit.xml");
    let o = run(&[
        "run",
        "--property",
        "order-succeeds",
        "--defect",
        "drop-fraud-status",
        "--cases",
        "20",
        "--seed",
        "1",
        "--no-regressions",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAILED order-succeeds"), "{out}");
    assert!(out.contains("fraud_status"), "{out}");
    let replay = out
        .lines()
        .find_map(|l| l.strip_prefix("replay: "))
        .expect("a replay line")
        .to_owned();
    assert!(replay.ends_with("--defect drop-fraud-status"), "{replay}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("order-succeeds") && xml.contains("<failure"),
        "{xml}"
    );
    assert!(xml.contains(&replay), "{xml}");

    // The printed command starts with however the tool was started
    // (`cargo run --` from the project, else its name).
    let args: Vec<&str> = replay
        .split_whitespace()
        .skip_while(|t| *t != "replay")
        .collect();
    let again = run(&args);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("FAILED order-succeeds"));
    assert!(text(&again).contains(&replay));

    // The same case as a scenario file: it fails on the defective mock only.
    let file = dir.join("regression.toml");
    let mut with_emit = args.clone();
    with_emit.extend(["--emit-scenario", file.to_str().unwrap()]);
    assert_eq!(run(&with_emit).status.code(), Some(1));
    let scenarios = [
        "scenarios",
        "--dir",
        dir.to_str().unwrap(),
        "--no-snapshots",
    ];
    let passing = run(&scenarios);
    assert_eq!(passing.status.code(), Some(0), "{}", text(&passing));
    let mut defective = scenarios.to_vec();
    defective.extend(["--defect", "drop-fraud-status"]);
    assert_eq!(run(&defective).status.code(), Some(1));
}

/// The replay command a failing `run` prints, from `replay` on (without
/// the way the tool was started).
fn replay_args(out: &str) -> Vec<String> {
    out.lines()
        .find_map(|l| l.strip_prefix("replay: "))
        .unwrap_or_else(|| panic!("a replay line in:\n{out}"))
        .split_whitespace()
        .skip_while(|t| *t != "replay")
        .map(str::to_owned)
        .collect()
}

/// An emitted scenario carries the model's whole expectation of every step:
/// the scenario emitted from a failing sequence passes on the faithful mock
/// and fails on the defective one. A scenario checking only the status would
/// pass against the very defect it was emitted for.
#[test]
fn emitted_scenarios_fail_with_the_defect_they_were_emitted_for() {
    // The library test `emitted_sequences_pin_down_their_defect`
    // (tests/scenario_checks.rs) covers more defects; these go through the binary.
    let cases = [
        ("pending-fraud-status", "never-pending"),
        ("order-succeeds", "om-never-captured"),
    ];
    for (property, defect) in cases {
        let dir = temp_dir(&format!("emit-{defect}"));
        let found = run(&[
            "run",
            "--property",
            property,
            "--defect",
            defect,
            "--cases",
            "50",
            "--seed",
            "1",
            "--no-regressions",
        ]);
        assert_eq!(found.status.code(), Some(1), "{defect}: {}", text(&found));
        let file = dir.join("regression.toml");
        let mut replay = replay_args(&text(&found));
        replay.extend(["--emit-scenario".into(), file.to_str().unwrap().into()]);
        let emitted = bin().args(&replay).output().unwrap();
        assert_eq!(
            emitted.status.code(),
            Some(1),
            "{defect}: {}",
            text(&emitted)
        );
        let written = std::fs::read_to_string(&file).unwrap();
        let scenarios = [
            "scenarios",
            "--dir",
            dir.to_str().unwrap(),
            "--no-snapshots",
        ];
        let faithful = run(&scenarios);
        assert_eq!(
            faithful.status.code(),
            Some(0),
            "{defect}: {}\n{written}",
            text(&faithful)
        );
        let mut defective = scenarios.to_vec();
        defective.extend(["--defect", defect]);
        let failed = run(&defective);
        assert_eq!(
            failed.status.code(),
            Some(1),
            "{defect}: the emitted scenario passes against the defect:\n{written}\n{}",
            text(&failed)
        );
        assert!(
            text(&failed).contains("FAIL  regression::mock"),
            "{}",
            text(&failed)
        );
    }
}

/// Seeds of real failures (here: a served mock with a defect the runner
/// knows nothing of) are kept apart, under `url/`, and tried first next
/// time; a `--defect` run of the embedded mock keeps nothing.
#[test]
fn failing_seeds_are_persisted_and_tried_first() {
    use klarna_conformance::mock::Defect;
    let dir = temp_dir("regressions");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(MockServer::start(
            MockConfig::default()
                .seed(5)
                .defect(Defect::AcceptExpiredTokens),
        ))
        .unwrap();
    let url = server.base_url();
    let args = [
        "run",
        "--target",
        &url,
        "--property",
        "token-expiry",
        "--cases",
        "50",
        "--seed",
        "3",
        "--regressions",
        dir.to_str().unwrap(),
    ];
    let first = run(&args);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    assert!(!dir.join("token-expiry.txt").exists());
    let saved = std::fs::read_to_string(dir.join("url").join("token-expiry.txt")).unwrap();
    let seed = saved
        .lines()
        .find_map(|l| l.strip_prefix("cc "))
        .and_then(|l| l.split_whitespace().next())
        .expect("a cc line")
        .to_owned();
    assert!(text(&first).contains(&format!("--seed {seed}")));
    // With another run seed, the persisted case still comes first and fails at once.
    let mut again = args.to_vec();
    again[8] = "4";
    let second = run(&again);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        text(&second).contains("token-expiry: FAILED after 1 cases"),
        "{}",
        text(&second)
    );
    rt.block_on(server.shutdown());
    // A --defect run of the embedded mock writes nothing.
    let embedded = temp_dir("regressions-defect");
    let o = run(&[
        "run",
        "--property",
        "token-expiry",
        "--defect",
        "accept-expired-tokens",
        "--cases",
        "50",
        "--regressions",
        embedded.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!embedded.join("token-expiry.txt").exists());
}

#[test]
fn a_url_target_is_checked_over_http() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(MockServer::start(MockConfig::default().seed(1)))
        .unwrap();
    let url = server.base_url();
    let o = run(&[
        "run",
        "--target",
        &url,
        "--cases",
        "4",
        "--seed",
        "9",
        "--no-regressions",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The mock offers scopes: workers ran side by side, none saw another's clock.
    assert!(
        text(&o).contains(
            "workers, each in a scope of its own (klarna-conformance+run-0000000000000009.w1"
        ),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains(&format!(
            "{} passed, 0 failed, 1 skipped",
            klarna_conformance::runner::Property::all().count() - 1
        )),
        "{}",
        text(&o)
    );
    let wrong = run(&[
        "run",
        "--target",
        &url,
        "--cases",
        "1",
        "--username",
        "nobody",
        "--password",
        "x",
        "--property",
        "order-succeeds",
        "--no-regressions",
    ]);
    // Credentials the target refuses make it unusable: exit 2, not a verdict.
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(
        text(&wrong).contains("refused the credentials"),
        "{}",
        text(&wrong)
    );
    rt.block_on(server.shutdown());
}

/// A URL target is held to the contract-dependent rules unless `--lenient`
/// says it stands for a real account: a served mock that never answers
/// PENDING fails `pending-fraud-status`, and passes only when leniency is asked for.
#[test]
fn contract_dependent_rules_are_exact_unless_lenient() {
    use klarna_conformance::mock::Defect;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(MockServer::start(
            MockConfig::default().seed(3).defect(Defect::NeverPending),
        ))
        .unwrap();
    let url = server.base_url();
    let args = [
        "run",
        "--target",
        &url,
        "--property",
        "pending-fraud-status",
        "--cases",
        "60",
        "--seed",
        "2",
        "--no-regressions",
    ];
    let exact = run(&args);
    assert_eq!(exact.status.code(), Some(1), "{}", text(&exact));
    let mut lenient = args.to_vec();
    lenient.push("--lenient");
    let lenient = run(&lenient);
    assert_eq!(lenient.status.code(), Some(0), "{}", text(&lenient));
    rt.block_on(server.shutdown());
    // The embedded mock is always held exactly.
    let o = run(&["run", "--lenient", "--cases", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// A URL target is judged by the set of fields its messages name: a served
/// mock that names only the first mismatch, or ignores amount changes, fails
/// `changed-data-refused` over HTTP as it does embedded.
#[test]
fn a_url_target_must_name_every_changed_field() {
    use klarna_conformance::mock::Defect;
    let rt = tokio::runtime::Runtime::new().unwrap();
    for defect in [Defect::ReportFirstMismatchOnly, Defect::IgnoreAmountChanges] {
        let server = rt
            .block_on(MockServer::start(
                MockConfig::default().seed(8).defect(defect),
            ))
            .unwrap();
        let o = run(&[
            "run",
            "--target",
            &server.base_url(),
            "--property",
            "changed-data-refused",
            "--cases",
            "200",
            "--seed",
            "6",
            "--no-regressions",
        ]);
        assert_eq!(o.status.code(), Some(1), "{defect}: {}", text(&o));
        assert!(
            text(&o).contains("FAILED changed-data-refused"),
            "{}",
            text(&o)
        );
        rt.block_on(server.shutdown());
    }
}

#[test]
fn an_unwritable_junit_path_fails_before_the_run() {
    let o = run(&[
        "run",
        "--junit",
        "/nonexistent-dir/report.xml",
        "--cases",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("cannot write the JUnit report"), "{out}");
    assert!(!out.contains("passed"), "nothing ran: {out}");
}

#[test]
fn proptest_cases_zero_is_named() {
    let o = bin()
        .args(["run", "--no-regressions"])
        .env("PROPTEST_CASES", "0")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("PROPTEST_CASES=0"), "{}", text(&o));
}

/// Ctrl-C stops after the cases in flight and still prints the report of
/// what ran; the exit code says the run is incomplete.
#[cfg(unix)]
#[test]
fn ctrl_c_reports_what_ran() {
    use std::process::Stdio;
    let child = bin()
        .args(["run", "--cases", "1000000", "--no-regressions"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = child.wait_with_output().unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(130), "{out}");
    assert!(out.contains("interrupted"), "{out}");
    assert!(out.contains("stopped"), "{out}");
    assert!(out.contains("requests in"), "the summary is printed: {out}");
}

/// A second Ctrl-C quits at once, and takes the authorizer programs with it:
/// they run in process groups of their own, which the terminal's signal
/// does not reach.
#[cfg(target_os = "linux")]
#[test]
fn a_second_ctrl_c_ends_the_authorizer_programs_too() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let dir = std::env::temp_dir().join(format!("kc-ctrl-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pids = dir.join("pids");
    let _ = std::fs::remove_file(&pids);
    // The shell records its pid (its group's leader) and a child, then hangs.
    let program = format!("sleep 60 & echo $$ $! >> {}; wait", pids.display());
    let mut child = bin()
        .args([
            "run",
            "--authorizer",
            &program,
            "--property",
            "order-succeeds",
        ])
        .args(["--cases", "1", "--no-regressions"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let recorded = loop {
        let text = std::fs::read_to_string(&pids).unwrap_or_default();
        if text.ends_with('\n') {
            break text;
        }
        assert!(Instant::now() < deadline, "the authorizer never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    let interrupt = || {
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    interrupt();
    std::thread::sleep(Duration::from_millis(300));
    interrupt();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    // Alive: listed and not a zombie (nobody may reap an orphan here).
    let alive = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit(") ")
                .next()
                .is_some_and(|s| !s.starts_with('Z'))
        })
    };
    for pid in recorded.split_whitespace() {
        // SIGKILL is asynchronous: give the kernel a moment to reap.
        let gone = Instant::now() + Duration::from_secs(5);
        while alive(pid) && Instant::now() < gone {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!alive(pid), "process {pid} outlived the harness");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A MockServer on a `#[tokio::test]`'s own single-threaded runtime: the
/// async entry point runs against it without blocking that runtime.
#[tokio::test]
async fn run_async_works_inside_a_tokio_test() {
    use klarna_conformance::runner::{Property, RunConfig};
    let server = MockServer::start(MockConfig::default().seed(3))
        .await
        .unwrap();
    let mut config = RunConfig::new(5, 6);
    config.properties = vec![Property::OrderSucceeds, Property::Refunds];
    config.target = klarna_conformance::targets::TargetSpec::url(server.base_url());
    let report = klarna_conformance::run_async(config).await;
    assert_eq!(
        report.exit_code(),
        0,
        "{}",
        klarna_conformance::report::render(&report, "")
    );
    assert_eq!(report.cases(), 12);
}

/// cargo-nextest distributes the trials (`klarna_conformance::trials`): two
/// hash partitions together run every trial exactly once.
#[test]
fn nextest_partitions_run_every_trial_once() {
    let cargo = env!("CARGO");
    let has_nextest = Command::new(cargo)
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_nextest {
        // The check needs cargo-nextest, which CI has; a plain `cargo test`
        // elsewhere has nothing to distribute with.
        return;
    }
    let listed = bin_list();
    let ran = |shard: &str| -> Vec<String> {
        let o = nested_cargo()
            .args([
                "nextest",
                "run",
                "--test",
                "scenarios",
                "--no-fail-fast",
                "--partition",
            ])
            .arg(format!("hash:{shard}/2"))
            .env("KLARNA_CONFORMANCE_CASES", "2")
            .output()
            .unwrap();
        let out = text(&o);
        assert!(o.status.success(), "{out}");
        out.lines()
            .filter(|l| l.trim_start().starts_with("PASS"))
            .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
            .collect()
    };
    let (one, two) = (ran("1"), ran("2"));
    assert!(!one.is_empty() && !two.is_empty(), "{one:?} {two:?}");
    let mut all: Vec<String> = one.iter().chain(&two).cloned().collect();
    all.sort();
    let unique = all.len();
    all.dedup();
    assert_eq!(unique, all.len(), "a trial ran in both shards");
    assert_eq!(all, listed, "together the shards ran every trial");
}

/// Cargo run from inside a test, without the variables cargo sets for the
/// test: a dependency's build script (ring's) tracks `CARGO_MANIFEST_DIR`,
/// so passing it down would rebuild half the tree here and again after.
fn nested_cargo() -> Command {
    let mut c = Command::new(env!("CARGO"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let keep = ["CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_TERM_COLOR"];
        if name.starts_with("CARGO_") && !keep.contains(&name.as_ref()) {
            c.env_remove(name.as_ref());
        }
    }
    c
}

/// The trials the scenarios harness lists, not counting the ignored ones.
fn bin_list() -> Vec<String> {
    let o = nested_cargo()
        .args([
            "test",
            "--test",
            "scenarios",
            "--",
            "--list",
            "--format",
            "terse",
        ])
        .output()
        .unwrap();
    let ignored = nested_cargo()
        .args([
            "test",
            "--test",
            "scenarios",
            "--",
            "--list",
            "--format",
            "terse",
            "--ignored",
        ])
        .output()
        .unwrap();
    let names = |o: &Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_owned)
            .collect()
    };
    let skip = names(&ignored);
    let mut all: Vec<String> = names(&o)
        .into_iter()
        .filter(|n| !skip.contains(n))
        .collect();
    all.sort();
    all
}
