//! `serve`'s flags: the mock server, or the validating proxy with `--upstream`.

use std::net::SocketAddr;

use clap::Args;

use klarna_conformance::mock::{self, Defect, MockConfig};

use super::{RegionArg, parse_positive};

/// `Debug` never shows the password (see [`debug_without_password`]).
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on: IP:PORT or HOST:PORT (`localhost:8080`); port 0
    /// picks a free port. A non-loopback address needs a password of your
    /// own (--password or KLARNA_MOCK_PASSWORD) or --allow-default-credentials.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: String,
    /// Seed of the id generator: the same seed and requests give byte-identical
    /// answers, in every scope.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Basic-auth username the mock accepts; `USERNAME+SCOPE` reaches a scope
    /// of its own (state, clock, journal).
    #[arg(long, env = mock::USERNAME_ENV, default_value = mock::DEFAULT_USERNAME, hide_env_values = true)]
    pub username: String,
    /// Basic-auth password the mock accepts.
    #[arg(long, env = mock::PASSWORD_ENV, default_value = mock::DEFAULT_PASSWORD, hide_env_values = true)]
    pub password: String,
    /// Listen on a non-loopback address with the published default password.
    #[arg(long)]
    pub allow_default_credentials: bool,
    /// Merchant setting "cart updates allowed": changed order lines are accepted
    /// unless the order amount grows (403 REJECTED).
    #[arg(long)]
    pub allow_cart_updates: bool,
    /// Enforce the documented rules instead of the recorded playground's
    /// leniency; with --upstream, warnings count as failures in the exit status.
    #[arg(long)]
    pub strict: bool,
    /// Use the system clock instead of the virtual one.
    #[arg(long)]
    pub system_clock: bool,
    /// Start of virtual time (RFC 3339, UTC), in every scope.
    #[arg(long, value_parser = parse_instant, default_value = "2026-01-01T00:00:00Z")]
    pub clock_start: i64,
    /// Largest accepted request body in bytes.
    #[arg(long, default_value_t = mock::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Deliberate deviation from Klarna's behaviour (repeatable), e.g. accept-expired-tokens.
    #[arg(long = "defect", value_name = "NAME")]
    pub defects: Vec<Defect>,
    /// Send notifications and authorization callbacks to any host, not only
    /// loopback ones (docs/klarna.md §13.5).
    #[arg(long)]
    pub notify_any_host: bool,
    /// Decide every pending order's fraud review after this many seconds,
    /// instead of the minutes its e-mail names (docs/klarna.md §13.5).
    #[arg(long, value_name = "SECONDS")]
    pub pending_review: Option<u64>,
    /// Named scopes alive at once; past it the least recently used is dropped.
    #[arg(long, value_name = "N", default_value_t = mock::DEFAULT_MAX_SCOPES, value_parser = parse_positive)]
    pub max_scopes: usize,
    /// Requests each scope's journal (`GET /__mock/requests`) keeps, the
    /// newest; 0 keeps none. Each costs about 3 KB.
    #[arg(long, value_name = "N", default_value_t = mock::JOURNAL_LIMIT)]
    pub journal_limit: usize,
    /// Worker threads answering requests (default: one per core). Fewer
    /// leave cores to the service under test on a shared CI machine.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub threads: Option<usize>,
    /// Write one JSON line per request here (`-`: standard output, after the
    /// `listening on` line): ts, scope, method, path, status, correlation_id,
    /// latency_ms. Never credentials or bodies.
    #[arg(long, value_name = "PATH", conflicts_with = "upstream")]
    pub log: Option<String>,
    /// Be a validating proxy instead of the mock: forward every request to
    /// Klarna's playground (`playground`, for --region) or a URL, answer as
    /// it answers, and report what breaks Klarna's rules on the way
    /// (README "Validating proxy"). *.klarna.com needs KLARNA_PLAYGROUND=1
    /// or --yes-call-klarna, and must be a playground host.
    #[arg(
        long,
        value_name = "playground|URL",
        conflicts_with_all = ["seed", "defects", "system_clock", "allow_cart_updates", "pending_review", "notify_any_host"]
    )]
    pub upstream: Option<String>,
    /// The playground region `--upstream playground` forwards to.
    #[arg(long, value_enum, default_value_t = RegionArg::Eu, requires = "upstream")]
    pub region: RegionArg,
    /// Let the proxy forward to a *.klarna.com playground host (same as KLARNA_PLAYGROUND=1).
    #[arg(long, requires = "upstream")]
    pub yes_call_klarna: bool,
    /// Seconds the upstream has for one answer; after it the client gets 502.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = parse_positive, requires = "upstream")]
    pub upstream_timeout: usize,
    /// Write the proxy's report (Markdown) here at shutdown, as well as to standard output.
    #[arg(long, value_name = "FILE", requires = "upstream")]
    pub report: Option<std::path::PathBuf>,
    /// Check the upstream's answers against this OpenAPI document too (repeatable).
    #[arg(long, value_name = "PATH", requires = "upstream")]
    pub openapi: Vec<std::path::PathBuf>,
    /// Record the traffic the proxy passed as a cassette (docs/design.md,
    /// "Cassettes"): no credentials, no request header but idempotency keys.
    #[arg(long, value_name = "FILE", requires = "upstream")]
    pub record: Option<std::path::PathBuf>,
}

debug_without_password!(ServeArgs {
    addr,
    seed,
    username,
    allow_default_credentials,
    allow_cart_updates,
    strict,
    system_clock,
    clock_start,
    body_limit,
    defects,
    notify_any_host,
    pending_review,
    max_scopes,
    journal_limit,
    threads,
    log,
    upstream,
    region,
    yes_call_klarna,
    upstream_timeout,
    report,
    openapi,
    record,
});

fn parse_instant(s: &str) -> Result<i64, String> {
    mock::parse_rfc3339(s).ok_or_else(|| format!("`{s}` is not an RFC 3339 UTC instant"))
}

impl ServeArgs {
    /// The mock's settings (the log is opened by `serve` itself).
    pub fn config(&self) -> MockConfig {
        let mut config = MockConfig::default()
            .credentials(&self.username, &self.password)
            .max_scopes(self.max_scopes)
            .journal_limit(self.journal_limit)
            .strict(self.strict)
            .allow_cart_updates(self.allow_cart_updates)
            .system_clock(self.system_clock)
            .clock_start(self.clock_start)
            .body_limit(self.body_limit)
            .deliver_notifications(true)
            .notify_any_host(self.notify_any_host);
        if let Some(seed) = self.seed {
            config = config.seed(seed);
        }
        if let Some(seconds) = self.pending_review {
            config = config.pending_review(seconds);
        }
        for defect in &self.defects {
            config = config.defect(*defect);
        }
        config
    }

    /// Refuses credentials that cannot work, and the published default
    /// password on an address other hosts can reach (`addrs`: what --addr
    /// resolved to).
    pub fn check(&self, addrs: &[SocketAddr]) -> Result<(), String> {
        if self.username.is_empty() || self.password.is_empty() {
            return Err(format!(
                "the username and the password must not be empty (--username / {}, --password / {})",
                mock::USERNAME_ENV,
                mock::PASSWORD_ENV
            ));
        }
        if self.username.contains(':') {
            return Err(
                "the username must not contain ':' (HTTP Basic cannot carry it)".to_owned(),
            );
        }
        let exposed = addrs.iter().find(|a| !a.ip().is_loopback());
        if let Some(exposed) = exposed
            && self.password == mock::DEFAULT_PASSWORD
            && !self.allow_default_credentials
        {
            return Err(format!(
                "--addr {} listens on {exposed}, which is not a loopback address, with the \
                 mock's published default password; set a password of your own with \
                 --password or {} (and a username with --username or {}), or pass \
                 --allow-default-credentials",
                self.addr,
                mock::PASSWORD_ENV,
                mock::USERNAME_ENV
            ));
        }
        Ok(())
    }
}
