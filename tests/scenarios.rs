//! Every `scenarios/*.toml` file as one trial per target it lists, named
//! `<file stem>::<target>`:
//!
//! - `mock`: always; a fresh embedded mock per trial (its own virtual clock
//!   and ids), configured by the file's `[mock]` table. Snapshots: `snapshots/`.
//! - `url`: only when `KLARNA_TARGET_URL` is set (credentials from
//!   `KLARNA_USERNAME`/`KLARNA_PASSWORD`, else the mock's defaults).
//!   Snapshots: `snapshots/url/`; missing ones are recorded, not failures.
//! - `playground`: listed but ignored unless `KLARNA_PLAYGROUND=1` and
//!   `KLARNA_USERNAME`/`KLARNA_PASSWORD` are set. Snapshots: `snapshots/playground/`
//!   (missing ones recorded, as for `url`).
//!
//! Listing (`--list`) only parses the files; nothing is sent.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use klarna_conformance::scenario::{self, Scenario, ScenarioError};
use klarna_conformance::targets::{TargetKind, TargetSpec, env, playground_opt_in};
use libtest_mimic::{Arguments, Failed, Trial};

/// A URL target has one clock for every client: a scenario that moves it must
/// not run beside others, or their tokens expire under them (docs/design.md, traps).
static URL_CLOCK: RwLock<()> = RwLock::new(());
/// The playground answers the fifth request within a second with 429
/// (docs/klarna.md §10): its scenarios run one at a time.
static PLAYGROUND: Mutex<()> = Mutex::new(());

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let trials = trials(&root.join("scenarios"), &root.join("snapshots"));
    libtest_mimic::run(&args, trials).exit();
}

fn trials(dir: &Path, snapshots: &Path) -> Vec<Trial> {
    let loaded = match scenario::load_dir(dir) {
        Ok(l) => l,
        Err(e) => {
            let message = e.to_string();
            return vec![Trial::test("scenarios", move || Err(message.into()))];
        }
    };
    let url = std::env::var(env::TARGET_URL)
        .ok()
        .filter(|u| !u.is_empty());
    // A value that is neither 1 nor 0 leaves the playground trials ignored.
    let playground =
        playground_opt_in(std::env::var(env::PLAYGROUND).ok().as_deref()).unwrap_or(false);
    let mut out = Vec::new();
    for s in loaded {
        let s = match s {
            Ok(s) => Arc::new(s),
            Err(e) => {
                out.push(unreadable(e));
                continue;
            }
        };
        for kind in &s.targets {
            let name = format!("{}::{}", s.stem, kind.as_str());
            let (spec, ignored) = match kind {
                TargetKind::Mock => (Some(TargetSpec::mock()), false),
                TargetKind::Url => match &url {
                    Some(u) => (Some(TargetSpec::url_from_env(u)), false),
                    None => continue,
                },
                TargetKind::Playground => {
                    let spec = TargetSpec::playground_from_env();
                    let ready = playground && spec.is_some();
                    (spec, !ready)
                }
            };
            let (s, root) = (s.clone(), snapshots.to_owned());
            out.push(Trial::test(name, move || run(&s, spec, &root)).with_ignored_flag(ignored));
        }
    }
    out
}

/// A file that cannot be used is a failing trial named after it, so the
/// message (path:line:column) shows in the test output.
fn unreadable(e: ScenarioError) -> Trial {
    let stem = match &e {
        ScenarioError::Io { path, .. } | ScenarioError::Invalid { path, .. } => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ScenarioError::Emit(_) => String::new(),
    };
    let message = e.to_string();
    Trial::test(format!("{stem}::mock"), move || Err(message.into()))
}

fn run(s: &Scenario, spec: Option<TargetSpec>, root: &Path) -> Result<(), Failed> {
    let spec = spec.ok_or_else(|| {
        Failed::from(
            "the playground needs KLARNA_USERNAME and KLARNA_PASSWORD (and KLARNA_PLAYGROUND=1)",
        )
    })?;
    let _guard = match spec.kind() {
        TargetKind::Url if s.moves_clock() => {
            Guard::Write(URL_CLOCK.write().unwrap_or_else(PoisonError::into_inner))
        }
        TargetKind::Url => Guard::Read(URL_CLOCK.read().unwrap_or_else(PoisonError::into_inner)),
        TargetKind::Playground => {
            Guard::Alone(PLAYGROUND.lock().unwrap_or_else(PoisonError::into_inner))
        }
        TargetKind::Mock => Guard::None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("cannot start a runtime: {e}")))?;
    let report = runtime.block_on(scenario::run_scenario(s, &spec, Some(root)));
    // A first run against a new target records its answers instead of failing;
    // say where, so they are reviewed (and committed) rather than missed.
    for file in &report.new_snapshots {
        eprintln!("NEW   {} (recorded: review it)", file.display());
    }
    if report.passed() {
        Ok(())
    } else {
        Err(report.failure_text().into())
    }
}

#[allow(dead_code)] // the guards are held, never read
enum Guard<'a> {
    None,
    Read(std::sync::RwLockReadGuard<'a, ()>),
    Write(std::sync::RwLockWriteGuard<'a, ()>),
    Alone(std::sync::MutexGuard<'a, ()>),
}
