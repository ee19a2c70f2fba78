//! `--record FILE` and `--target wiremock --cassette FILE` on `run`,
//! `replay`, `scenarios` and `certify`: the flags turned into a recorder or
//! a started cassette server (docs/design.md, "Cassettes").

use std::path::Path;
use std::sync::Arc;

use klarna_conformance::cassette::{Cassette, Recorder};
use klarna_conformance::errors::exit;
use klarna_conformance::openapi::OpenApi;
use klarna_conformance::runner::RunConfig;
use klarna_conformance::targets::{Credentials, Player};

use klarna_conformance::certify::{self, CertifyConfig};
use klarna_conformance::runner::Progress;

use crate::cli::{CertifyArgs, TargetArgs};
use crate::commands::{certify_report, usage, writable};

/// The `--target` value that replays a cassette.
pub const WIREMOCK: &str = "wiremock";

/// The cassette server `--target wiremock --cassette FILE` asks for, started;
/// `None` for any other target.
pub fn player(target: &str, cassette: Option<&Path>) -> Result<Option<Arc<Player>>, String> {
    match (target == WIREMOCK, cassette) {
        (true, Some(path)) => start(path).map(Some),
        (true, None) => Err(
            "--target wiremock answers from a cassette: give --cassette FILE (written by --record)"
                .to_owned(),
        ),
        (false, Some(_)) => Err("--cassette FILE is replayed with --target wiremock".to_owned()),
        (false, None) => Ok(None),
    }
}

/// Loads a cassette and starts its server.
pub fn start(path: &Path) -> Result<Arc<Player>, String> {
    let cassette = Cassette::load(path).map_err(|e| e.to_string())?;
    Player::start(cassette, &path.display().to_string()).map_err(|e| e.to_string())
}

/// The run a cassette recorded, against its server: its seed, cases,
/// properties and oracle settings. Flags that would change the requests
/// must agree with the cassette's (a silent difference would only show as a
/// mismatch); `--openapi` adds checks and is allowed.
pub fn run_config(args: &TargetArgs, player: Arc<Player>) -> Result<RunConfig, String> {
    let recorded = &player.cassette().settings;
    if !args.defects.is_empty() {
        return Err(
            "--defect switches the embedded mock; a cassette's answers are recorded".to_owned(),
        );
    }
    // The recorded authorizations and pauses are answered from the cassette.
    if args.authorizer.is_some() || args.skip_expiry {
        return Err(
            "--authorizer and --skip-expiry decide how a run authorizes and waits; a replay \
             takes the recorded SDK results and pauses from the cassette"
                .to_owned(),
        );
    }
    for (flag, given, kept) in [
        ("--strict", args.strict, recorded.strict),
        (
            "--allow-cart-updates",
            args.allow_cart_updates,
            recorded.allow_cart_updates,
        ),
        ("--lenient", args.lenient, recorded.lenient),
    ] {
        if given && !kept {
            return Err(format!(
                "{flag}: the cassette was recorded without it, and a replay runs with the recorded settings"
            ));
        }
    }
    let mut config = player.cassette().run_config(player.clone());
    for path in &args.openapi {
        let api = OpenApi::load(path).map_err(|e| format!("--openapi: {e}"))?;
        config.openapi.push(Arc::new(api));
    }
    Ok(config)
}

/// The recorder `--record FILE` asks for: the file is written now, so an
/// unwritable path fails before the run.
pub fn recorder(
    path: Option<&Path>,
    header: Cassette,
    credentials: &Credentials,
) -> Result<Option<Arc<Recorder>>, String> {
    path.map(|path| Recorder::to_file(path, header, credentials).map_err(|e| e.to_string()))
        .transpose()
}

/// Writes the cassette a last time and says so; [`exit::USAGE`] when it
/// cannot be written, else [`exit::OK`].
pub fn finish(recorder: Option<&Arc<Recorder>>, path: Option<&Path>, complete: bool) -> u8 {
    let (Some(recorder), Some(path)) = (recorder, path) else {
        return exit::OK;
    };
    match recorder.finish(complete) {
        Ok(n) => {
            let partial = if complete {
                ""
            } else {
                " (the run did not end on its own: marked incomplete)"
            };
            eprintln!("recorded {n} exchanges in {}{partial}", path.display());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
    }
}

/// The recorder `--record FILE` asks for, its header made from `config`.
pub fn record(
    path: Option<&std::path::Path>,
    command: &str,
    config: &RunConfig,
) -> Result<Option<Arc<Recorder>>, String> {
    recorder(
        path,
        Cassette::of(command, config),
        &config.target.credentials(),
    )
}

/// `certify --cassette FILE`: the recorded certification judged again
/// offline, with the recorded seed, settings and authorized tokens.
pub fn certify(args: &CertifyArgs, path: &std::path::Path) -> u8 {
    let player = match start(path) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    for path in args.junit.iter().chain(&args.report) {
        if let Err(e) = writable(path) {
            return usage(e);
        }
    }
    let recorded = player.cassette().clone();
    let mut config = CertifyConfig::new(
        args.region.into(),
        Credentials::new("cassette", ""),
        recorded.seed,
        recorded.settings.cases,
    );
    config.progress = Progress::auto();
    config.cassette = Some(player);
    if let Some(path) = &args.openapi {
        match OpenApi::load(path) {
            Ok(api) => config.openapi = Some(Arc::new(api)),
            Err(e) => return usage(format!("--openapi: {e}")),
        }
    }
    let recorder = match record_certify(args.record.as_deref(), &recorded) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    config.record = recorder.clone();
    eprintln!(
        "klarna-conformance certify: replaying {} (seed {}, {} cases per property)",
        path.display(),
        recorded.seed,
        recorded.settings.cases
    );
    let result = certify::certify(&config);
    let complete = result
        .run
        .as_ref()
        .is_some_and(|r| r.target_error.is_none());
    let written = finish(recorder.as_ref(), args.record.as_deref(), complete);
    certify_report(args, result, Some(&recorded)).max(written)
}

/// A recorder for a certification replayed from `recorded`.
fn record_certify(
    path: Option<&std::path::Path>,
    recorded: &Cassette,
) -> Result<Option<Arc<Recorder>>, String> {
    let mut header = recorded.clone();
    header.cases.clear();
    recorder(path, header, &Credentials::new("cassette", ""))
}
