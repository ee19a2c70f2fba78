//! `klarna-conformance certify`: checks against Klarna's real playground, or
//! any server without the mock's control API.
//!
//! Without the control API nothing can authorize a session: Klarna mints an
//! `authorization_token` only in the customer's browser (reference 7). So
//! certify checks what a server answers on its own (sessions created and read
//! back, refusals of inconsistent amounts and missing fields, unknown ids,
//! wrong credentials, correlation ids, body shapes) on generated carts, and
//! the order flow only for tokens the user authorized in a browser and hands
//! over with the body that was authorized.
//!
//! Every judgment allows for what the real playground was recorded doing
//! (reference 10): messages with appended explanations, missing fields joined
//! into one message in any order, an HTML 401 without a correlation id,
//! `payment_method_categories` in any order, a 429 under load (paced and
//! retried, see [`crate::targets::Pacing`]), fields that come and go.
//!
//! Live calls are guarded twice: certify needs credentials, and a
//! `*.klarna.com` host also needs an explicit opt-in ([`check_host`]), so a CI
//! job can never call Klarna by accident.

mod checks;
mod judge;
pub mod report;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::openapi::OpenApi;
use crate::targets::{Credentials, Pacing, TargetError};
use crate::verdict::Failure;

pub use checks::certify;

/// Klarna's playground regions (reference 1.1).
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
    /// (reference 1.1, 3.2). A session for another region's country would be
    /// refused for reasons that have nothing to do with the cart.
    pub fn serves(self, country: &str) -> bool {
        let region = match country.to_ascii_uppercase().as_str() {
            "US" | "CA" | "MX" => Region::Na,
            "AU" | "NZ" => Region::Oc,
            _ => Region::Eu,
        };
        region == self
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
    /// Generated cases per check.
    pub cases: u64,
    pub seed: u64,
    pub authorized_orders: Vec<AuthorizedOrder>,
    pub openapi: Option<Arc<OpenApi>>,
    /// The user opted in to calls to a `*.klarna.com` host.
    pub call_klarna: bool,
    pub pacing: Pacing,
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
    #[error(
        "credentials refused: {target} answered 401 to the username and password given (--username/--password or KLARNA_USERNAME/KLARNA_PASSWORD); check them"
    )]
    CredentialsRefused { target: String },
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

/// One named check of certify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    SessionCreated,
    SessionReadBack,
    InconsistentAmountsRefused,
    MissingFieldRefused,
    UnknownSessionNotFound,
    UnknownTokenNotFound,
    CancelUnknownNotFound,
    WrongCredentialsRefused,
    OrderCreated,
    OrderRetryIdempotent,
    OrderReadBack,
    ErrorsCarryCorrelationId,
    ResponsesMatchModel,
}

impl Check {
    pub const ALL: [Check; 13] = [
        Check::SessionCreated,
        Check::SessionReadBack,
        Check::InconsistentAmountsRefused,
        Check::MissingFieldRefused,
        Check::UnknownSessionNotFound,
        Check::UnknownTokenNotFound,
        Check::CancelUnknownNotFound,
        Check::WrongCredentialsRefused,
        Check::OrderCreated,
        Check::OrderRetryIdempotent,
        Check::OrderReadBack,
        Check::ErrorsCarryCorrelationId,
        Check::ResponsesMatchModel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::SessionCreated => "session-created",
            Check::SessionReadBack => "session-read-back",
            Check::InconsistentAmountsRefused => "inconsistent-amounts-refused",
            Check::MissingFieldRefused => "missing-field-refused",
            Check::UnknownSessionNotFound => "unknown-session-not-found",
            Check::UnknownTokenNotFound => "unknown-token-not-found",
            Check::CancelUnknownNotFound => "cancel-unknown-not-found",
            Check::WrongCredentialsRefused => "wrong-credentials-refused",
            Check::OrderCreated => "order-created",
            Check::OrderRetryIdempotent => "order-retry-idempotent",
            Check::OrderReadBack => "order-read-back",
            Check::ErrorsCarryCorrelationId => "errors-carry-correlation-id",
            Check::ResponsesMatchModel => "responses-match-model",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Check::SessionCreated => {
                "create session with a valid generated cart answers 200 with session_id, client_token and payment_method_categories (any order)"
            }
            Check::SessionReadBack => {
                "the created session reads back with status incomplete and the order_amount sent"
            }
            Check::InconsistentAmountsRefused => {
                "inconsistent amounts at create session give 400 BAD_VALUE naming a right `Bad value: <path>` and no wrong one"
            }
            Check::MissingFieldRefused => {
                "a session without a required field gives 400 BAD_VALUE naming it (joined messages in any order accepted)"
            }
            Check::UnknownSessionNotFound => "reading an unknown session id gives 404 NOT_FOUND",
            Check::UnknownTokenNotFound => {
                "create order with an unknown authorization token gives 404 NOT_FOUND `Invalid authorization token`"
            }
            Check::CancelUnknownNotFound => {
                "cancelling an unknown authorization token gives 404 NOT_FOUND"
            }
            Check::WrongCredentialsRefused => {
                "wrong credentials give 401 (the gateway's HTML page is accepted)"
            }
            Check::OrderCreated => {
                "create order with a browser-authorized token and its body gives 200 with order_id and fraud_status"
            }
            Check::OrderRetryIdempotent => {
                "the identical create order retried returns the same order_id"
            }
            Check::OrderReadBack => {
                "Order Management reads the order back with the same order_id and order_amount"
            }
            Check::ErrorsCarryCorrelationId => {
                "every JSON error's correlation_id equals the Klarna-Correlation-Id header, when the header is sent"
            }
            Check::ResponsesMatchModel => {
                "every JSON body reads as the model's type (and the OpenAPI schema with --openapi)"
            }
        }
    }

    /// Checks that need browser-authorized tokens (reference 7).
    pub fn needs_token(self) -> bool {
        matches!(
            self,
            Check::OrderCreated | Check::OrderRetryIdempotent | Check::OrderReadBack
        )
    }
}

/// What certification found.
#[derive(Debug)]
pub struct CertifyReport {
    pub base_url: String,
    pub seed: u64,
    pub cases: u64,
    pub checks: Vec<CheckReport>,
    /// Set when the target could not be judged: exit 2, whatever else was found.
    pub unusable: Option<Unusable>,
    /// Requests sent (retries included) and 429 answers paced away.
    pub requests: u64,
    pub rate_limited: u64,
    pub elapsed: Duration,
}

/// One check's result.
#[derive(Debug)]
pub struct CheckReport {
    pub check: Check,
    /// How many times it was judged (cases, tokens or answers).
    pub runs: u64,
    pub passed: u64,
    /// Why it did not run (e.g. no authorization token was given).
    pub skipped: Option<String>,
    pub failure: Option<CheckFailure>,
}

/// The first failure of a check: what broke and the exchanges that showed it.
#[derive(Debug)]
pub struct CheckFailure {
    pub failure: Failure,
    pub exchanges: Vec<crate::exchange::Exchange>,
}

impl CertifyReport {
    /// 0 every check held, 1 a conformance failure, 2 the target could not be judged.
    pub fn exit_code(&self) -> u8 {
        if self.unusable.is_some() {
            crate::errors::exit::USAGE
        } else if self.checks.iter().any(|c| c.failure.is_some()) {
            crate::errors::exit::FAILURE
        } else {
            crate::errors::exit::OK
        }
    }

    /// The report of one check, if it ran or was skipped.
    pub fn check(&self, check: Check) -> Option<&CheckReport> {
        self.checks.iter().find(|c| c.check == check)
    }

    /// The names of the checks that failed.
    pub fn failed(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| c.failure.is_some())
            .map(|c| c.check.name())
            .collect()
    }
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
    fn tokens_stay_out_of_debug() {
        let order = AuthorizedOrder {
            authorization_token: "secret-token".to_owned(),
            order_body: "{}".to_owned(),
        };
        assert!(!format!("{order:?}").contains("secret-token"));
    }
}
