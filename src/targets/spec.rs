//! Which target, and as whom: what `run`, `replay`, `scenarios` and the test
//! harnesses are told before a target is built. One value, so every command
//! names targets, credentials and environment variables the same way.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::{Credentials, Embedded, HttpTarget};
use super::{Paced, Pacing, Player, Target, TargetError};
use crate::mock::{self, MockConfig};

/// The environment variables the harness reads, in one place.
pub mod env {
    /// Basic-auth username for a URL target or Klarna's playground.
    pub const USERNAME: &str = "KLARNA_USERNAME";
    /// Basic-auth password for a URL target or Klarna's playground.
    pub const PASSWORD: &str = "KLARNA_PASSWORD";
    /// `1` lets the harness call Klarna's playground; nothing else contacts a
    /// Klarna host, so CI can never do it by accident.
    pub const PLAYGROUND: &str = "KLARNA_PLAYGROUND";
    /// A server for the scenario harness's `url` trials.
    pub const TARGET_URL: &str = "KLARNA_TARGET_URL";
}

/// The kinds of target, as scenario files and snapshot folders name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    /// The embedded mock: control API and a private virtual clock.
    Mock,
    /// A server speaking Payments v1 and the mock's control API.
    Url,
    /// Klarna's playground: no control API, so no `authorize` or `advance_clock`.
    Playground,
}

impl TargetKind {
    pub const ALL: [TargetKind; 3] = [TargetKind::Mock, TargetKind::Url, TargetKind::Playground];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Mock => "mock",
            TargetKind::Url => "url",
            TargetKind::Playground => "playground",
        }
    }

    pub fn parse(s: &str) -> Option<TargetKind> {
        TargetKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where requests go and with which credentials.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// The embedded mock with this configuration (credentials included).
    Mock(MockConfig),
    /// A server at `base_url` speaking Payments v1 and the mock's control API.
    Url {
        base_url: String,
        credentials: Credentials,
    },
    /// Klarna's playground (or a server without the control API); without
    /// `base_url` the region follows the purchase country (docs/klarna.md §1.1).
    Playground {
        base_url: Option<String>,
        credentials: Credentials,
        pacing: Pacing,
    },
    /// A cassette replayed by a wiremock server (`--target wiremock
    /// --cassette FILE`): the recorded target's kind and capabilities.
    Cassette(Arc<Player>),
}

impl TargetSpec {
    /// The faithful embedded mock with its default credentials.
    pub fn mock() -> TargetSpec {
        TargetSpec::Mock(MockConfig::default())
    }

    /// A server at `base_url` with the mock's default credentials (a
    /// [`crate::mock::MockServer`] or `klarna-conformance serve`).
    pub fn url(base_url: impl Into<String>) -> TargetSpec {
        TargetSpec::Url {
            base_url: base_url.into(),
            credentials: Credentials::new(mock::DEFAULT_USERNAME, mock::DEFAULT_PASSWORD),
        }
    }

    /// A URL target with credentials from `KLARNA_USERNAME` / `KLARNA_PASSWORD`,
    /// or the mock's defaults when those are unset (`klarna-conformance serve`).
    pub fn url_from_env(base_url: &str) -> TargetSpec {
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or(default.to_owned());
        TargetSpec::Url {
            base_url: base_url.to_owned(),
            credentials: Credentials::new(
                var(env::USERNAME, mock::DEFAULT_USERNAME),
                var(env::PASSWORD, mock::DEFAULT_PASSWORD),
            ),
        }
    }

    /// The playground with credentials from the environment, if both are set.
    pub fn playground_from_env() -> Option<TargetSpec> {
        Some(TargetSpec::Playground {
            base_url: None,
            credentials: Credentials::new(
                std::env::var(env::USERNAME).ok()?,
                std::env::var(env::PASSWORD).ok()?,
            ),
            pacing: Pacing::PLAYGROUND,
        })
    }

    pub fn kind(&self) -> TargetKind {
        match self {
            TargetSpec::Mock(_) => TargetKind::Mock,
            TargetSpec::Url { .. } => TargetKind::Url,
            TargetSpec::Playground { .. } => TargetKind::Playground,
            TargetSpec::Cassette(player) => player.kind(),
        }
    }

    /// The credentials every request carries.
    pub fn credentials(&self) -> Credentials {
        match self {
            TargetSpec::Mock(config) => Credentials::new(&config.username, &config.password),
            TargetSpec::Url { credentials, .. } | TargetSpec::Playground { credentials, .. } => {
                credentials.clone()
            }
            // The cassette's server asks for none, and none was recorded.
            TargetSpec::Cassette(_) => Credentials::new("cassette", ""),
        }
    }

    /// For reports: `the embedded mock`, or the URL.
    pub fn describe(&self) -> String {
        match self {
            TargetSpec::Mock(_) => "the embedded mock".to_owned(),
            TargetSpec::Url { base_url, .. } => super::http::without_userinfo(base_url),
            TargetSpec::Playground { base_url, .. } => base_url.as_deref().map_or_else(
                || "Klarna's playground".to_owned(),
                super::http::without_userinfo,
            ),
            TargetSpec::Cassette(player) => player.describe(),
        }
    }

    /// Builds the target; `country` picks the playground's region.
    pub fn connect(&self, country: Option<&str>) -> Result<Arc<dyn Target>, TargetError> {
        Ok(match self {
            TargetSpec::Mock(config) => Arc::new(Embedded::new(config.clone())),
            TargetSpec::Url { base_url, .. } => Arc::new(HttpTarget::new(base_url)?),
            TargetSpec::Playground {
                base_url, pacing, ..
            } => {
                let url = base_url
                    .clone()
                    .unwrap_or_else(|| playground_url(country).to_owned());
                pacer(&url, *pacing)?
            }
            TargetSpec::Cassette(player) => player.target()?,
        })
    }
}

/// The server at `url` without a control API, paced: docs/klarna.md §10
/// recorded a 429 for the fifth request within a second. One pacer per base
/// URL and pacing for the whole process, so runs one after another share the
/// budget instead of each starting with an empty window; its counts say how
/// many requests went out and how many were rate limited.
pub fn pacer(url: &str, pacing: Pacing) -> Result<Arc<Paced>, TargetError> {
    type Key = (String, u64, usize);
    static PACED: Mutex<BTreeMap<Key, Arc<Paced>>> = Mutex::new(BTreeMap::new());
    let key = (
        url.to_owned(),
        pacing.per.as_micros() as u64,
        pacing.max_requests,
    );
    let mut paced = PACED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(target) = paced.get(&key) {
        return Ok(target.clone());
    }
    let target = Arc::new(Paced::new(Arc::new(HttpTarget::playground(url)?), pacing));
    paced.insert(key, target.clone());
    Ok(target)
}

/// The playground region of a purchase country (docs/klarna.md §1.1).
pub fn playground_url(country: Option<&str>) -> &'static str {
    country
        .map_or(
            crate::certify::Region::Eu,
            crate::certify::Region::of_country,
        )
        .playground_url()
}

/// Whether `KLARNA_PLAYGROUND` lets the harness call Klarna: `1` yes, unset,
/// empty or `0` no, anything else is a usage error (a typo must not be read
/// as either).
pub fn playground_opt_in(value: Option<&str>) -> Result<bool, String> {
    match value.map(str::trim) {
        None | Some("" | "0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => Err(format!(
            "{}={other:?}: expected 1 (call Klarna) or 0 (do not)",
            env::PLAYGROUND
        )),
    }
}

/// The host of `url` when it is Klarna's (`klarna.com` or a subdomain),
/// lower-cased and without a trailing dot; `None` for any other host or a URL
/// that does not parse. Calls to Klarna's hosts need an explicit opt-in.
pub fn klarna_host(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    (host == "klarna.com" || host.ends_with(".klarna.com")).then(|| host.to_owned())
}
