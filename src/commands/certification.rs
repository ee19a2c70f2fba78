//! `certify`: flags to a certification, its report and exit code.

use super::*;

/// `certify`.
pub fn certify(args: CertifyArgs) -> u8 {
    if args.list {
        print!("{}", certify::report::list());
        return exit::OK;
    }
    if let Some(path) = &args.cassette {
        return cassette_flags::certify(&args, path);
    }
    let (Some(username), Some(password)) = (&args.username, &args.password) else {
        return usage(
            "certify needs the merchant's credentials: set KLARNA_USERNAME and KLARNA_PASSWORD (or pass --username and --password)",
        );
    };
    let from_env = match playground_opt_in(std::env::var(env::PLAYGROUND).ok().as_deref()) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let tokens: Vec<&String> = args
        .authorization_tokens
        .iter()
        .filter(|t| !t.trim().is_empty())
        .collect();
    if tokens.len() != args.order_bodies.len() {
        return usage(format!(
            "{} authorization token(s) but {} --order-body file(s): give the body that was authorized for each token, in the same order",
            tokens.len(),
            args.order_bodies.len()
        ));
    }
    let mut authorized_orders = Vec::new();
    for (token, file) in tokens.into_iter().zip(&args.order_bodies) {
        match std::fs::read_to_string(file) {
            Ok(order_body) => authorized_orders.push(AuthorizedOrder {
                authorization_token: token.trim().to_owned(),
                order_body,
            }),
            Err(e) => return usage(format!("--order-body {}: cannot read: {e}", file.display())),
        }
    }
    if args.cases == 0 {
        return usage("--cases must be at least 1: a run of no case checks nothing");
    }
    for path in args.junit.iter().chain(&args.report) {
        if let Err(e) = writable(path) {
            return usage(e);
        }
    }
    let seed = args.seed.unwrap_or_else(random_seed);
    let credentials = Credentials::new(username, password);
    // The header is the run's, set by certify once it starts; this one only
    // proves the file writable before anything is sent.
    let provisional = TargetSpec::Playground {
        base_url: args.base_url.clone(),
        credentials: credentials.clone(),
        pacing: Pacing::PLAYGROUND,
    };
    let header = Cassette::of_target("certify", &provisional);
    let recorder =
        match cassette_flags::recorder(args.record.as_deref(), header.clone(), &credentials) {
            // The drift section needs the exchanges even when no file keeps them.
            Ok(None) if args.report.is_some() => Some(Recorder::in_memory(header, &credentials)),
            Ok(r) => r,
            Err(e) => return usage(e),
        };
    let mut config = CertifyConfig::new(
        args.region.into(),
        Credentials::new(username, password),
        seed,
        args.cases,
    );
    if let Some(url) = &args.base_url {
        config.base_url = url.trim_end_matches('/').to_owned();
    }
    config.markets = args
        .markets
        .iter()
        .map(|m| m.to_ascii_uppercase())
        .collect();
    config.authorized_orders = authorized_orders;
    config.call_klarna = args.yes_call_klarna || from_env;
    if args.authorizer.is_some() {
        match named_authorizer(
            args.authorizer.as_deref(),
            args.authorizer_timeout,
            true,
            &config.base_url,
        ) {
            Ok(a) => config.authorizer = a,
            Err(e) => return usage(e),
        }
        config.hold_expiry = !args.skip_expiry;
    }
    config.record = recorder.clone();
    config.pace_any_host = args.pace;
    config.progress = Progress::auto();
    if let Some(path) = &args.openapi {
        match OpenApi::load(path) {
            Ok(api) => config.openapi = Some(Arc::new(api)),
            Err(e) => return usage(format!("--openapi: {e}")),
        }
    }
    if !args.properties.is_empty() {
        match properties(&args.properties) {
            Ok(chosen) => config.properties = chosen,
            Err(e) => return usage(e),
        }
    }
    eprintln!(
        "klarna-conformance certify: {} cases per property against {}, seed {seed}",
        config.cases, config.base_url
    );
    let result = certify::certify(&config);
    let complete = result.unusable.is_none()
        && result
            .run
            .as_ref()
            .is_some_and(|r| r.target_error.is_none());
    let recorded = cassette_flags::finish(recorder.as_ref(), args.record.as_deref(), complete);
    let drift_from = recorder.map(|r| r.cassette());
    certify_report(&args, result, drift_from.as_ref()).max(recorded)
}

/// Prints certify's report and writes its files; `drift_from`: the target's
/// exchanges, compared with the embedded mock's for the Markdown report.
pub(crate) fn certify_report(
    args: &CertifyArgs,
    mut result: certify::CertifyReport,
    drift_from: Option<&Cassette>,
) -> u8 {
    if result.run.is_none() {
        // Nothing was sent (opt-in missing, bad input) or the target could
        // not be used at all: an error line, not an empty table.
        if let Some(e) = &result.unusable {
            eprintln!("error: {e}");
        }
        return result.exit_code();
    }
    let flags = certify_flags(args);
    print!("{}", certify::report::render(&result, &flags));
    let _ = std::io::stdout().flush();
    let mut code = result.exit_code();
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, certify::report::junit(&result, &flags))
    {
        eprintln!(
            "error: cannot write the JUnit report {}: {e}",
            path.display()
        );
        code = code.max(exit::USAGE);
    }
    if let Some(path) = &args.report {
        if let Some(recorded) = drift_from {
            match certify::mock_drift(recorded) {
                Ok(drift) => result.drift = Some(drift),
                Err(e) => {
                    eprintln!("warning: no drift section: the embedded mock could not be run: {e}")
                }
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let date = mock::rfc3339(now);
        let markdown = certify::report::markdown(&result, &flags, &date[..10]);
        if let Err(e) = std::fs::write(path, markdown) {
            eprintln!(
                "error: cannot write the Markdown report {}: {e}",
                path.display()
            );
            code = code.max(exit::USAGE);
        }
    }
    code
}

/// How the user named the target and markets, for the rerun command.
fn certify_flags(args: &CertifyArgs) -> String {
    let mut flags = String::new();
    if args.region != RegionArg::Eu {
        let region: certify::Region = args.region.into();
        flags.push_str(&format!(" --region {}", region.name()));
    }
    if let Some(url) = &args.base_url {
        flags.push_str(&format!(" --base-url {url}"));
    }
    for m in &args.markets {
        flags.push_str(&format!(" --market {m}"));
    }
    if let Some(path) = &args.cassette {
        flags.push_str(&format!(" --cassette {}", path.display()));
    }
    flags
}
