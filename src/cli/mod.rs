//! The command line: one `Command` variant per subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};

use klarna_conformance::certify::Region;
use klarna_conformance::mock::Defect;
use klarna_conformance::model::validate::BodyKind;

/// Property-based conformance harness and stateful mock server for Klarna Payments v1.
#[derive(Debug, Parser)]
#[command(name = "klarna-conformance", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check Klarna request bodies against Klarna's field and amount rules.
    ///
    /// Prints every violation as `FILE: GRADE PATH: MESSAGE — WHY` (Klarna's
    /// message, then what was found and what the rule expects), and
    /// `FILE: ok (KIND)` for a file without any. Exit status: 0 when no
    /// payload has an error (warnings alone still exit 0), 1 when any has, 2
    /// when a file cannot be read or is not JSON.
    CheckPayload(CheckPayloadArgs),
    /// Check Klarna's rules on generated cases against a target (default: the embedded mock).
    ///
    /// Exit status: 0 every property held, 1 a conformance failure (printed
    /// with its minimal case, seed and replay command), 2 a usage error or a
    /// target that could not be used.
    Run(RunArgs),
    /// Reproduce one case exactly from the seed a failure printed.
    Replay(ReplayArgs),
    /// Run the scenario files (`scenarios/*.toml`) against a target.
    ///
    /// One line per scenario; exit status as for `run`.
    Scenarios(ScenariosArgs),
    /// Certify a server without the mock's control API: Klarna's playground or any URL.
    ///
    /// Needs credentials (KLARNA_USERNAME / KLARNA_PASSWORD). Calls to a
    /// *.klarna.com host also need KLARNA_PLAYGROUND=1 or --yes-call-klarna.
    /// Exit status: 0 every check held, 1 a conformance failure, 2 a usage
    /// error or a target that could not be used (unreachable, credentials
    /// refused, rate limit that does not clear, unusable authorization token).
    Certify(CertifyArgs),
    /// Run the stateful Klarna Payments v1 mock until SIGINT/SIGTERM.
    ///
    /// Prints `listening on http://ADDR` as its first line.
    Serve(ServeArgs),
    /// Judge the harness: run every property against each defect mode of the
    /// embedded mock and print which properties caught it.
    ///
    /// Ends with the mutation score (defect modes caught of those tried).
    /// Exit status: 0 every defect mode was caught, 1 one survived, 2 a usage error.
    Selftest(SelftestArgs),
}

/// `selftest`: the harness against its own defect modes.
#[derive(Debug, Args)]
pub struct SelftestArgs {
    /// Cases per property and defect mode (a property stops at its first failure).
    #[arg(long, default_value_t = 64, value_parser = parse_positive)]
    pub cases: usize,
    /// Run seed: the same seed gives the same verdicts.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Try only this defect mode (repeatable) [default: all].
    #[arg(long = "defect", value_name = "NAME")]
    pub defects: Vec<Defect>,
    /// Worker threads [default: one per core].
    #[arg(long, value_parser = parse_positive)]
    pub workers: Option<usize>,
}

#[derive(Debug, Args)]
pub struct CheckPayloadArgs {
    /// Which request the files hold.
    #[arg(long, value_enum, default_value_t = PayloadKind::Session)]
    pub kind: PayloadKind,
    /// JSON files to check; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

/// The request bodies `check-payload` knows, named for their Klarna call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PayloadKind {
    /// POST /payments/v1/sessions (session_create).
    Session,
    /// POST /payments/v1/sessions/{session_id} (update: nothing required).
    SessionUpdate,
    /// POST /payments/v1/authorizations/{authorization_token}/order.
    Order,
    /// POST /payments/v1/authorizations/{authorization_token}/customer-token.
    CustomerToken,
}

impl From<PayloadKind> for BodyKind {
    fn from(kind: PayloadKind) -> Self {
        match kind {
            PayloadKind::Session => BodyKind::SessionCreate,
            PayloadKind::SessionUpdate => BodyKind::SessionUpdate,
            PayloadKind::Order => BodyKind::CreateOrder,
            PayloadKind::CustomerToken => BodyKind::CustomerToken,
        }
    }
}

/// Where `run`, `replay` and `scenarios` send their requests.
/// `Debug` never shows the password (see [`debug_without_password`]).
#[derive(Args)]
pub struct TargetArgs {
    /// `mock` (the embedded mock, in-process), the URL of a server speaking
    /// Payments v1 and the mock's control API (e.g. `klarna-conformance
    /// serve`), `playground` (Klarna's: needs an --authorizer,
    /// KLARNA_PLAYGROUND=1 and credentials), or `wiremock` with --cassette (a
    /// recorded run answered again).
    #[arg(
        long,
        default_value = "mock",
        value_name = "mock|URL|playground|wiremock"
    )]
    pub target: String,
    /// What stands for the browser's `Klarna.Payments.authorize()`:
    /// `control-api` (the mock's, the default where there is one), `browser`
    /// (headless Chromium through the SDK), or a command run through `sh -c`
    /// that reads the session as JSON on stdin and prints the SDK's result
    /// (README "Authorizers").
    #[arg(long, value_name = "control-api|browser|CMD")]
    pub authorizer: Option<String>,
    /// Seconds an authorizer has for one authorization.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub authorizer_timeout: u64,
    /// On the playground, skip `token-expiry`, which otherwise holds real
    /// tokens past their 60 minutes while the rest runs (it is reported as
    /// skipped). Properties that wait days are skipped there either way.
    #[arg(long)]
    pub skip_expiry: bool,
    /// Basic-auth username for a URL target (the embedded mock uses its own).
    #[arg(long, env = "KLARNA_USERNAME", hide_env_values = true)]
    pub username: Option<String>,
    /// Basic-auth password for a URL target.
    #[arg(long, env = "KLARNA_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Merchant setting "cart updates allowed", for the embedded mock and the oracle.
    #[arg(long)]
    pub allow_cart_updates: bool,
    /// Expect the documented rules instead of the recorded playground's leniency
    /// (the embedded mock enforces them too).
    #[arg(long)]
    pub strict: bool,
    /// Accept either documented answer where the merchant's contract decides
    /// (PENDING or ACCEPTED, CAPTURED or AUTHORIZED after auto_capture, the same
    /// order or 403 for an identical retry): for a server standing for a real
    /// account. Not allowed with the embedded mock, which is held exactly.
    #[arg(long)]
    pub lenient: bool,
    /// Switch the embedded mock into a defect mode (repeatable): shows the
    /// harness catching a deliberately wrong target.
    #[arg(long = "defect", value_name = "NAME")]
    pub defects: Vec<Defect>,
    /// Check every response body against this OpenAPI document too
    /// (repeatable: Payments and Order Management are separate documents).
    #[arg(long, value_name = "PATH")]
    pub openapi: Vec<std::path::PathBuf>,
    /// Write every exchange to this cassette (JSON, credentials redacted);
    /// the run then goes one case at a time.
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// With `--target wiremock`: answer from this cassette, with its seed and
    /// settings; a request it does not hold exits 2.
    #[arg(long, value_name = "FILE")]
    pub cassette: Option<std::path::PathBuf>,
}

/// `run`: check properties on generated cases.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Cases per property [default: PROPTEST_CASES, else 256].
    #[arg(long)]
    pub cases: Option<u64>,
    /// Run seed [default: PROPTEST_RNG_SEED, else random; printed either way].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run only this property (repeatable); see --list.
    #[arg(long = "property", value_name = "NAME")]
    pub properties: Vec<String>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
    /// List the properties and exit.
    #[arg(long)]
    pub list: bool,
    /// Worker threads [default: one per core for the embedded mock, four per
    /// core for a server with scopes; a server without them runs one case at a time].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Where failing seeds are kept and retried first.
    #[arg(long, default_value = "proptest-regressions", value_name = "DIR")]
    pub regressions: std::path::PathBuf,
    /// Neither read nor write failing seeds.
    #[arg(long)]
    pub no_regressions: bool,
}

/// `scenarios`: the hand-written request sequences.
/// `Debug` never shows the password (see [`debug_without_password`]).
#[derive(Args)]
pub struct ScenariosArgs {
    /// `mock` (an embedded mock per scenario), `playground` (Klarna's, needs
    /// KLARNA_PLAYGROUND=1 and credentials) or the URL of a server speaking
    /// Payments v1 and the mock's control API.
    #[arg(long, default_value = "mock", value_name = "mock|playground|URL")]
    pub target: String,
    /// Basic-auth username for a URL or the playground.
    #[arg(long, env = "KLARNA_USERNAME", hide_env_values = true)]
    pub username: Option<String>,
    /// Basic-auth password for a URL or the playground.
    #[arg(long, env = "KLARNA_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Switch the embedded mock into a defect mode (repeatable).
    #[arg(long = "defect", value_name = "NAME")]
    pub defects: Vec<Defect>,
    /// Where the scenario files are.
    #[arg(long, default_value = "scenarios", value_name = "DIR")]
    pub dir: std::path::PathBuf,
    /// Where snapshots are checked (the mock's in DIR, other targets' in DIR/<target>).
    #[arg(long, default_value = "snapshots", value_name = "DIR")]
    pub snapshots: std::path::PathBuf,
    /// Do not check snapshots.
    #[arg(long)]
    pub no_snapshots: bool,
    /// Only scenarios whose file stem contains this text.
    pub filter: Option<String>,
    /// Write every exchange to this cassette (JSON, credentials redacted);
    /// the run then goes one case at a time.
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// With `--target wiremock`: answer from this cassette, with its seed and
    /// settings; a request it does not hold exits 2.
    #[arg(long, value_name = "FILE")]
    pub cassette: Option<std::path::PathBuf>,
}

/// `replay`: reproduce one case exactly from its seed.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The property that failed.
    #[arg(long = "property", value_name = "NAME")]
    pub property: String,
    /// The case seed a failure printed.
    #[arg(long)]
    pub seed: u64,
    /// Write the (shrunk) failing case as a scenario file.
    #[arg(long, value_name = "FILE")]
    pub emit_scenario: Option<std::path::PathBuf>,
}

/// `certify`: checks against Klarna's playground or any server without the control API.
/// `Debug` never shows the password (see [`debug_without_password`]).
#[derive(Args)]
pub struct CertifyArgs {
    /// The playground region: its base URL (unless --base-url) and the markets carts are for.
    #[arg(long, value_enum, default_value_t = RegionArg::Eu)]
    pub region: RegionArg,
    /// Another base URL (a proxy, an imitation); loopback and non-Klarna hosts need no opt-in.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The merchant's API username (required).
    #[arg(long, env = "KLARNA_USERNAME", hide_env_values = true)]
    pub username: Option<String>,
    /// The merchant's API password (required).
    #[arg(long, env = "KLARNA_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Generated sequences per property (each costs a few requests at 4 per second).
    #[arg(long, default_value_t = 8)]
    pub cases: u64,
    /// Seed of the generated cases [default: random; printed either way].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Only carts for this purchase country (repeatable), e.g. when the
    /// merchant account is enabled for a few markets.
    #[arg(long = "market", value_name = "CC")]
    pub markets: Vec<String>,
    /// An authorization token from Klarna.Payments.authorize() in a browser
    /// (repeatable; or KLARNA_AUTHORIZATION_TOKENS, comma-separated), each with an --order-body.
    #[arg(
        long = "authorization-token",
        env = "KLARNA_AUTHORIZATION_TOKENS",
        value_delimiter = ',',
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub authorization_tokens: Vec<String>,
    /// The create-order body that was authorized, one per --authorization-token, in order.
    #[arg(long = "order-body", value_name = "FILE")]
    pub order_bodies: Vec<std::path::PathBuf>,
    /// What stands for the browser's `authorize()`, so that the properties
    /// that authorize run too: `browser` (headless Chromium through Klarna's
    /// SDK) or a command (README "Authorizers").
    #[arg(long, value_name = "browser|CMD")]
    pub authorizer: Option<String>,
    /// Seconds an authorizer has for one authorization.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub authorizer_timeout: u64,
    /// With an --authorizer, skip `token-expiry`, which otherwise holds real
    /// tokens past their 60 minutes while the rest runs.
    #[arg(long)]
    pub skip_expiry: bool,
    /// Allow calls to a *.klarna.com host (same as KLARNA_PLAYGROUND=1).
    #[arg(long)]
    pub yes_call_klarna: bool,
    /// Pace every host to the playground's rate limit (4 requests a second);
    /// by default only Klarna's hosts are paced, others go at full speed.
    #[arg(long)]
    pub pace: bool,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
    /// Write a Markdown report here: date, target, tool version, every
    /// property with its cases and result, each failure with its steps and
    /// rerun command.
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,
    /// Check every response body against this OpenAPI document too.
    #[arg(long, value_name = "PATH")]
    pub openapi: Option<std::path::PathBuf>,
    /// Run only this property (repeatable); see --list.
    #[arg(long = "property", value_name = "NAME")]
    pub properties: Vec<String>,
    /// List the properties and exit.
    #[arg(long)]
    pub list: bool,
    /// Write every exchange to this cassette (JSON, credentials redacted),
    /// to re-judge the certification offline with --cassette.
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// Re-judge a recorded certification offline: its seed, settings and
    /// answers, served by wiremock; needs no credentials and sends nothing else.
    #[arg(long, value_name = "FILE")]
    pub cassette: Option<std::path::PathBuf>,
}

/// Klarna's playground regions (docs/klarna.md §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegionArg {
    Eu,
    Na,
    Oc,
}

impl From<RegionArg> for Region {
    fn from(region: RegionArg) -> Self {
        match region {
            RegionArg::Eu => Region::Eu,
            RegionArg::Na => Region::Na,
            RegionArg::Oc => Region::Oc,
        }
    }
}

/// `Debug` for an argument struct with a `password` field, every other field
/// shown: the struct is destructured, so a new field is a compile error here
/// rather than a field missing from the output.
macro_rules! debug_without_password {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let $ty { $($field,)* password: _ } = self;
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), $field))*
                    .field("password", &"<redacted>")
                    .finish()
            }
        }
    };
}

mod serve;
pub use serve::ServeArgs;

debug_without_password!(TargetArgs {
    target,
    authorizer,
    authorizer_timeout,
    skip_expiry,
    username,
    allow_cart_updates,
    strict,
    lenient,
    defects,
    openapi,
    record,
    cassette,
});
debug_without_password!(ScenariosArgs {
    target,
    username,
    defects,
    dir,
    snapshots,
    no_snapshots,
    filter,
    record,
    cassette,
});
debug_without_password!(CertifyArgs {
    region,
    base_url,
    username,
    cases,
    seed,
    markets,
    authorization_tokens,
    order_bodies,
    authorizer,
    authorizer_timeout,
    skip_expiry,
    yes_call_klarna,
    pace,
    junit,
    report,
    openapi,
    properties,
    list,
    record,
    cassette,
});

pub(crate) fn parse_positive(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("`{s}` is not a whole number of at least 1"))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use clap::CommandFactory;
    use klarna_conformance::mock;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn debug_never_shows_a_password() {
        for args in [
            &["serve", "--password", "s3cr3t-pw"][..],
            &[
                "run",
                "--target",
                "http://127.0.0.1:1",
                "--password",
                "s3cr3t-pw",
            ],
            &[
                "replay",
                "--property",
                "p",
                "--seed",
                "1",
                "--password",
                "s3cr3t-pw",
            ],
            &["scenarios", "--password", "s3cr3t-pw"],
            &["certify", "--username", "u", "--password", "s3cr3t-pw"],
        ] {
            let cli = Cli::try_parse_from(
                std::iter::once("klarna-conformance").chain(args.iter().copied()),
            )
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let shown = format!("{cli:?}");
            assert!(!shown.contains("s3cr3t-pw"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }

    #[test]
    fn check_payload_defaults_to_session() {
        let cli = Cli::try_parse_from(["klarna-conformance", "check-payload", "a.json"]).unwrap();
        let Command::CheckPayload(args) = cli.command else {
            panic!("check-payload parses as CheckPayload");
        };
        assert_eq!(args.kind, PayloadKind::Session);
        assert_eq!(args.files, ["a.json"]);
        assert!(Cli::try_parse_from(["klarna-conformance", "check-payload"]).is_err());
    }

    #[test]
    fn certify_pairs_tokens_and_bodies() {
        let cli = Cli::try_parse_from([
            "klarna-conformance",
            "certify",
            "--region",
            "na",
            "--authorization-token",
            "a",
            "--order-body",
            "a.json",
        ])
        .unwrap();
        let Command::Certify(args) = cli.command else {
            panic!("certify parses as Certify");
        };
        assert_eq!(Region::from(args.region), Region::Na);
        assert_eq!(args.authorization_tokens, ["a"]);
        assert_eq!(args.cases, 8);
        assert!(!args.yes_call_klarna);
    }

    #[test]
    fn serve_defaults() {
        let cli = Cli::try_parse_from(["klarna-conformance", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve parses as Serve");
        };
        assert_eq!(args.addr.to_string(), "127.0.0.1:8080");
        let config = args.config();
        assert_eq!(config.clock_start, mock::DEFAULT_START);
        assert_eq!(config.max_scopes, mock::DEFAULT_MAX_SCOPES);
        assert_eq!(config.journal_limit, mock::JOURNAL_LIMIT);
        assert_eq!(
            serve_args(&["--journal-limit", "0"]).config().journal_limit,
            0
        );
        assert!(
            Cli::try_parse_from(["klarna-conformance", "serve", "--journal-limit", "-1"]).is_err()
        );
        assert_eq!(args.threads, None);
        assert_eq!(serve_args(&["--threads", "1"]).threads, Some(1));
        assert!(Cli::try_parse_from(["klarna-conformance", "serve", "--threads", "0"]).is_err());
        assert!(Cli::try_parse_from(["klarna-conformance", "serve", "--defect", "x"]).is_err());
        assert!(Cli::try_parse_from(["klarna-conformance", "serve", "--max-scopes", "0"]).is_err());
    }

    fn serve_args(args: &[&str]) -> ServeArgs {
        let cli = Cli::try_parse_from(["klarna-conformance", "serve"].iter().chain(args).copied())
            .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve parses as Serve");
        };
        args
    }

    #[test]
    fn serve_refuses_the_default_password_beyond_loopback() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        // Without the variables set by whoever runs the tests.
        let defaults = [
            "--username",
            mock::DEFAULT_USERNAME,
            "--password",
            mock::DEFAULT_PASSWORD,
        ];
        assert_eq!(serve_args(&defaults).check(&[loopback, v6]), Ok(()));
        let refused = serve_args(&defaults).check(&[loopback, any]).unwrap_err();
        for flag in [
            "--password",
            "--allow-default-credentials",
            mock::PASSWORD_ENV,
        ] {
            assert!(refused.contains(flag), "{refused}");
        }
        let mut allowed = defaults.to_vec();
        allowed.push("--allow-default-credentials");
        assert_eq!(serve_args(&allowed).check(&[any]), Ok(()));
        let own = ["--username", "shop", "--password", "s3cret"];
        assert_eq!(serve_args(&own).check(&[any]), Ok(()));
        let only_user = ["--username", "shop", "--password", mock::DEFAULT_PASSWORD];
        assert!(serve_args(&only_user).check(&[any]).is_err());
        for empty in [
            ["--username", "", "--password", "p"],
            ["--username", "u", "--password", ""],
        ] {
            assert!(serve_args(&empty).check(&[loopback]).is_err());
        }
        let colon = ["--username", "a:b", "--password", "p"];
        assert!(serve_args(&colon).check(&[loopback]).is_err());
    }

    #[test]
    fn serve_help_shows_no_env_values() {
        let mut command = Cli::command();
        let serve = command.find_subcommand_mut("serve").unwrap();
        let help = serve.render_long_help().to_string();
        assert!(help.contains("[env: KLARNA_MOCK_USERNAME]"), "{help}");
        assert!(!help.contains("KLARNA_MOCK_USERNAME="), "{help}");
        assert!(!help.contains("KLARNA_MOCK_PASSWORD="), "{help}");
    }
}
