//! `klarna-conformance certify`: the engine run against Klarna's real
//! playground, or any server without the mock's control API.
//!
//! Without the control API nothing can authorize a session: Klarna mints an
//! `authorization_token` only in the customer's browser (docs/klarna.md §7).
//! So certify runs the properties whose sequences need nothing the target
//! lacks (sessions created, updated and read back, refusals of inconsistent
//! amounts and missing fields, unknown ids, wrong credentials, correlation
//! ids, body shapes), and `authorized-token-order` for tokens the user
//! authorized in a browser and hands over with the body that was authorized.
//! The others are reported as skipped, by name.
//!
//! Judging allows for what the real playground was recorded doing
//! (docs/klarna.md §10): messages judged by the paths they name, an HTML 401,
//! `payment_method_categories` in any order, a 429 under load (paced and
//! retried, see [`crate::targets::Pacing`]), answers a real contract decides
//! (lenient judging).
//!
//! Live calls are guarded twice: certify needs credentials, and a
//! `*.klarna.com` host also needs an explicit opt-in ([`check_host`]), so a CI
//! job can never call Klarna by accident.

pub mod report;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::authorize::Authorizer;
use crate::cassette::drift::{self, Drift};
use crate::cassette::{Cassette, Recorder};
use crate::mock::MockConfig;
use crate::model::market::MARKETS;
use crate::openapi::OpenApi;
use crate::oracle::OracleConfig;
use crate::runner::{self, Property, RunConfig, RunReport};
use crate::targets::{Credentials, Pacing, Player, TargetError, TargetSpec};
use crate::verdict::Judge;

/// Klarna's playground regions (docs/klarna.md §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Region {
    #[default]
    Eu,
    Na,
    Oc,
}

impl Region {
    /// The playground base URL of this region.
    pub fn playground_url(self) -> &'static str {
        match self {
            Region::Eu => crate::targets::PLAYGROUND_EU,
            Region::Na => crate::targets::PLAYGROUND_NA,
            Region::Oc => crate::targets::PLAYGROUND_OC,
        }
    }

    /// Whether a purchase country is served from this region's API: North
    /// America for US, CA and MX, Oceania for AU and NZ, Europe for the rest
    /// (docs/klarna.md §1.1, 3.2). A session for another region's country would be
    /// refused for reasons that have nothing to do with the cart.
    pub fn serves(self, country: &str) -> bool {
        Region::of_country(country) == self
    }

    /// The region whose API serves `country`.
    pub fn of_country(country: &str) -> Region {
        match country.to_ascii_uppercase().as_str() {
            "US" | "CA" | "MX" => Region::Na,
            "AU" | "NZ" => Region::Oc,
            _ => Region::Eu,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Region::Eu => "eu",
            Region::Na => "na",
            Region::Oc => "oc",
        }
    }
}

/// A token the user obtained from `Klarna.Payments.authorize()` in a browser,
/// with the create-order body that matches what was authorized.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizedOrder {
    pub authorization_token: String,
    /// JSON text of the `create_order_request`.
    pub order_body: String,
}

impl fmt::Debug for AuthorizedOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A live token places a real (playground) order: keep it out of logs.
        f.debug_struct("AuthorizedOrder")
            .field("authorization_token", &"<redacted>")
            .field("order_body_len", &self.order_body.len())
            .finish()
    }
}

/// Everything a certification run needs.
#[derive(Clone)]
pub struct CertifyConfig {
    /// Where Klarna's API is, without a trailing slash.
    pub base_url: String,
    pub credentials: Credentials,
    /// Which markets the generated carts are for (the region's countries).
    pub region: Region,
    /// Only these purchase countries, when not empty (a merchant account may
    /// be enabled for a few markets only).
    pub markets: Vec<String>,
    /// Generated cases (sequences) per property.
    pub cases: u64,
    pub seed: u64,
    pub authorized_orders: Vec<AuthorizedOrder>,
    pub openapi: Option<Arc<OpenApi>>,
    /// The user opted in to calls to a `*.klarna.com` host.
    pub call_klarna: bool,
    /// The pacing of Klarna's hosts (docs/klarna.md §10); other hosts go at
    /// full speed unless `pace_any_host`.
    pub pacing: Pacing,
    pub pace_any_host: bool,
    /// How the run shows progress.
    pub progress: runner::Progress,
    /// The properties to run (those the target cannot are reported skipped).
    pub properties: Vec<Property>,
    /// What stands for the browser's `authorize()` (`None`: nothing can
    /// authorize, so only given tokens are ordered).
    pub authorizer: Option<Arc<dyn Authorizer>>,
    /// With an authorizer, hold `token-expiry`'s tokens past their hour while
    /// the rest runs (docs/design.md "Held expiry").
    pub hold_expiry: bool,
    /// Every exchange is also kept here (`--record FILE`, or in memory for
    /// the report's drift section).
    pub record: Option<Arc<Recorder>>,
    /// Replay this cassette instead of calling `base_url`: its recorded
    /// settings, seed and answers, judged by today's oracle.
    pub cassette: Option<Arc<Player>>,
}

impl CertifyConfig {
    /// Certification of `region`'s playground with these credentials; the
    /// opt-in is off until the caller sets `call_klarna`.
    pub fn new(region: Region, credentials: Credentials, seed: u64, cases: u64) -> CertifyConfig {
        CertifyConfig {
            base_url: region.playground_url().to_owned(),
            credentials,
            region,
            markets: Vec::new(),
            cases,
            seed,
            authorized_orders: Vec::new(),
            openapi: None,
            call_klarna: false,
            pacing: Pacing::PLAYGROUND,
            pace_any_host: false,
            progress: runner::Progress::None,
            properties: Property::all().collect(),
            authorizer: None,
            hold_expiry: false,
            record: None,
            cassette: None,
        }
    }
}

/// Why certify could not judge the target at all (exit 2). None of these is a
/// verdict on Klarna's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error(
        "{host} is Klarna's: set {}=1 or pass --yes-call-klarna to let certify call it (no request was sent)",
        crate::targets::env::PLAYGROUND
    )]
    OptInRequired { host: String },
    #[error(
        "{host} is not a Klarna playground host; certify places orders and is for the playground (api[-na|-oc].playground.klarna.com) only"
    )]
    NotPlayground { host: String },
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// Whether certify may send requests to `base_url`: a `*.klarna.com` host
/// needs the opt-in and must be a playground host (certify creates orders;
/// production would make them real). Any other host (loopback, a proxy, an
/// imitation) needs nothing. Sends nothing.
pub fn check_host(base_url: &str, call_klarna: bool) -> Result<(), Unusable> {
    let url = reqwest::Url::parse(base_url)
        .map_err(|e| Unusable::Input(format!("--base-url {base_url:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Unusable::Input(format!(
            "--base-url {base_url:?}: expected an http:// or https:// URL"
        )));
    }
    let Some(host) = crate::targets::klarna_host(url.as_str()) else {
        return Ok(());
    };
    if !host.ends_with(".playground.klarna.com") {
        return Err(Unusable::NotPlayground { host });
    }
    if !call_klarna {
        return Err(Unusable::OptInRequired { host });
    }
    Ok(())
}

/// What certification found.
#[derive(Debug)]
pub struct CertifyReport {
    pub base_url: String,
    /// Sequences per property, as asked.
    pub cases: u64,
    /// The engine's report; `None` when nothing could be sent (`unusable`).
    pub run: Option<RunReport>,
    /// Why nothing was sent (missing opt-in, bad input): exit 2.
    pub unusable: Option<Unusable>,
    /// Requests sent (retries included) and 429 answers paced away.
    pub requests: u64,
    pub rate_limited: u64,
    pub elapsed: Duration,
    /// Where the target's normalised answers differ from the embedded
    /// mock's for the same cases (the Markdown report's drift section).
    pub drift: Option<Drift>,
}

impl CertifyReport {
    /// 0 every property held, 1 a conformance failure, 2 the target could not
    /// be judged: the engine's own code, so the summary cannot disagree.
    pub fn exit_code(&self) -> u8 {
        match (&self.unusable, &self.run) {
            (Some(_), _) | (None, None) => crate::errors::exit::USAGE,
            (None, Some(run)) => run.exit_code(),
        }
    }

    /// The report of one property.
    pub fn property(&self, property: Property) -> Option<&runner::PropertyReport> {
        self.run
            .as_ref()?
            .properties
            .iter()
            .find(|p| p.property == property)
    }

    /// The names of the properties that failed.
    pub fn failed(&self) -> Vec<&'static str> {
        self.run
            .iter()
            .flat_map(|r| &r.properties)
            .filter(|p| p.failure.is_some())
            .map(|p| p.property.name())
            .collect()
    }
}

/// The countries certify creates sessions for: the region's, restricted to
/// `--market` when given.
fn markets(config: &CertifyConfig) -> Result<Vec<String>, Unusable> {
    for country in &config.markets {
        if crate::model::market::market(country).is_none() {
            return Err(Unusable::Input(format!(
                "--market {country}: not a Klarna market (docs/klarna.md §3.2)"
            )));
        }
        if !config.region.serves(country) {
            return Err(Unusable::Input(format!(
                "--market {country}: not served by the {} region",
                config.region.name()
            )));
        }
    }
    Ok(if config.markets.is_empty() {
        MARKETS
            .iter()
            .filter(|m| config.region.serves(m.country))
            .map(|m| m.country.to_owned())
            .collect()
    } else {
        config
            .markets
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect()
    })
}

/// The user's order bodies must be create-order requests; they are sent as given.
fn given_orders(orders: &[AuthorizedOrder]) -> Result<Vec<(String, String)>, Unusable> {
    orders
        .iter()
        .enumerate()
        .map(|(i, o)| {
            if o.authorization_token.trim().is_empty() {
                return Err(Unusable::Input(format!(
                    "authorization token #{} is empty",
                    i + 1
                )));
            }
            serde_json::from_str::<crate::model::CreateOrderRequest>(&o.order_body)
                .map(|_| {
                    (
                        o.authorization_token.trim().to_owned(),
                        o.order_body.clone(),
                    )
                })
                .map_err(|e| {
                    Unusable::Input(format!(
                        "order body #{} is not a create_order_request: {e}",
                        i + 1
                    ))
                })
        })
        .collect()
}

/// How a run against the playground (or a server standing for a real
/// account) is judged and paced: lenient where a merchant's contract decides,
/// messages by the paths they name, one case at a time, few shrink steps
/// (every one costs real requests at four a second).
pub fn playground_settings(run: &mut RunConfig) {
    run.oracle = OracleConfig {
        lenient: true,
        ..run.oracle
    };
    run.judge = Judge::Named;
    run.workers = Some(1);
    run.max_shrink_steps = 64;
}

/// Runs certification against `config.base_url`. Sends nothing when the host
/// needs an opt-in that was not given ([`check_host`]) or the input is bad.
/// Synchronous: the engine runs on its own runtime.
pub fn certify(config: &CertifyConfig) -> CertifyReport {
    let start = Instant::now();
    let base_url = config.base_url.trim_end_matches('/').to_owned();
    let mut report = CertifyReport {
        base_url: base_url.clone(),
        cases: config.cases,
        run: None,
        unusable: None,
        requests: 0,
        rate_limited: 0,
        elapsed: Duration::ZERO,
        drift: None,
    };
    if let Some(player) = &config.cassette {
        // Offline: nothing is sent beyond the cassette's own server.
        let mut run = player.cassette().run_config(player.clone());
        run.progress = config.progress;
        run.openapi = config.openapi.iter().cloned().collect();
        run.record = config.record.clone();
        let mut result = runner::run(&run);
        crate::cassette::finish_replay(&run.target, &mut result);
        report.base_url = player.describe();
        report.cases = run.cases;
        report.requests = result.operations();
        report.run = Some(result);
        report.elapsed = start.elapsed();
        return report;
    }
    let pacing = if config.pace_any_host || crate::targets::klarna_host(&base_url).is_some() {
        config.pacing
    } else {
        Pacing::UNPACED
    };
    let prepared = check_host(&base_url, config.call_klarna)
        .and_then(|()| given_orders(&config.authorized_orders))
        .and_then(|given| Ok((given, markets(config)?)))
        .and_then(|prepared| {
            crate::targets::pacer(&base_url, pacing)?;
            Ok(prepared)
        });
    let (given, markets) = match prepared {
        Ok(p) => p,
        Err(e) => {
            report.unusable = Some(e);
            return report;
        }
    };
    let pacer = crate::targets::pacer(&base_url, pacing).ok();
    let before = pacer
        .as_ref()
        .map_or((0, 0), |p| (p.sent(), p.rate_limited()));
    let mut run = RunConfig::new(config.seed, config.cases);
    run.target = TargetSpec::Playground {
        base_url: Some(base_url),
        credentials: config.credentials.clone(),
        pacing,
    };
    run.progress = config.progress;
    run.properties = config.properties.clone();
    playground_settings(&mut run);
    run.openapi = config.openapi.iter().cloned().collect();
    run.markets = markets;
    run.given = given;
    run.authorizer = config.authorizer.clone();
    run.hold_expiry = config.hold_expiry;
    run.record = config.record.clone();
    if let Some(recorder) = &config.record {
        recorder.set_header(Cassette::of("certify", &run));
    }
    report.run = Some(runner::run(&run));
    if let Some(p) = pacer {
        report.requests = p.sent() - before.0;
        report.rate_limited = p.rate_limited() - before.1;
    }
    report.elapsed = start.elapsed();
    report
}

/// The drift of `recorded` (a certification's exchanges) from the embedded
/// mock: the same settings and seed run against the mock behind a wiremock
/// server without its control API, so the same sequences are drawn, and
/// the two compared by [`drift::compare`]. Properties that need
/// browser-authorized tokens are left out: those tokens exist only where
/// they were authorized. The mock run's own verdict is not reported.
pub fn mock_drift(recorded: &Cassette) -> Result<Drift, TargetError> {
    let mock = MockConfig::default().seed(recorded.seed);
    let server =
        crate::targets::serve_wiremock(crate::mock::wiremock::KlarnaResponder::new(mock.clone()))?;
    let credentials = Credentials::new(&mock.username, &mock.password);
    let mut run = RunConfig::new(recorded.seed, recorded.settings.cases);
    run.properties = recorded
        .settings
        .properties
        .iter()
        .filter_map(|name| Property::from_name(name))
        .filter(|p| !p.needs().given_tokens)
        .collect();
    run.markets = recorded.settings.markets.clone();
    run.oracle = recorded.oracle();
    run.judge = Judge::Named;
    run.max_shrink_steps = 0;
    run.target = TargetSpec::Playground {
        base_url: Some(server.uri()),
        credentials: credentials.clone(),
        pacing: Pacing::UNPACED,
    };
    let mut header = recorded.clone();
    header.cases.clear();
    let recorder = Recorder::in_memory(header, &credentials);
    run.record = Some(recorder.clone());
    let result = runner::run(&run);
    if let Some(e) = result.target_error {
        return Err(e);
    }
    Ok(drift::compare(recorded, &recorder.cassette()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klarna_hosts_need_the_opt_in() {
        let eu = Region::Eu.playground_url();
        assert!(matches!(
            check_host(eu, false),
            Err(Unusable::OptInRequired { .. })
        ));
        assert_eq!(check_host(eu, true), Ok(()));
        assert!(matches!(
            check_host("https://API.klarna.com/", true),
            Err(Unusable::NotPlayground { .. })
        ));
        assert_eq!(check_host("http://127.0.0.1:9", false), Ok(()));
        assert_eq!(check_host("https://proxy.example/klarna", false), Ok(()));
        // A look-alike is not Klarna's; a trailing dot still is.
        assert_eq!(check_host("https://notklarna.com", false), Ok(()));
        assert!(check_host("https://api.playground.klarna.com./", false).is_err());
        assert!(matches!(
            check_host("ftp://x", true),
            Err(Unusable::Input(_))
        ));
    }

    #[test]
    fn opt_in_is_parsed_strictly() {
        use crate::targets::playground_opt_in;
        assert_eq!(playground_opt_in(None), Ok(false));
        assert_eq!(playground_opt_in(Some("0")), Ok(false));
        assert_eq!(playground_opt_in(Some("1")), Ok(true));
        assert!(playground_opt_in(Some("yes")).is_err());
    }

    #[test]
    fn regions_split_the_markets() {
        assert!(Region::Na.serves("us") && !Region::Eu.serves("US"));
        assert!(Region::Oc.serves("NZ") && Region::Eu.serves("SE"));
        for m in &crate::model::market::MARKETS {
            let serving = [Region::Eu, Region::Na, Region::Oc]
                .into_iter()
                .filter(|r| r.serves(m.country))
                .count();
            assert_eq!(serving, 1, "{}", m.country);
        }
    }

    #[test]
    fn markets_follow_the_region() {
        let mut config = CertifyConfig::new(Region::Na, Credentials::new("u", "p"), 1, 1);
        let mut na = markets(&config).unwrap();
        na.sort();
        assert_eq!(na, ["CA", "MX", "US"]);
        config.markets = vec!["se".into()];
        assert!(markets(&config).is_err());
        config.markets = vec!["us".into()];
        assert_eq!(markets(&config).unwrap(), ["US"]);
    }

    #[test]
    fn tokens_stay_out_of_debug() {
        let order = AuthorizedOrder {
            authorization_token: "secret-token".to_owned(),
            order_body: "{}".to_owned(),
        };
        assert!(!format!("{order:?}").contains("secret-token"));
    }
}
