//! The command line (clap derive). Each subcommand parses into a typed value;
//! `main.rs` runs it and maps the outcome to an exit code.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

use klarna_conformance::mock::{self, Defect, MockConfig};

#[derive(Debug, Parser)]
#[command(name = "klarna-conformance", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the stateful Klarna Payments v1 mock until SIGINT/SIGTERM.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Seed of the id generator: the same seed and requests give byte-identical answers.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Basic-auth username the mock accepts.
    #[arg(long, env = mock::USERNAME_ENV, default_value = mock::DEFAULT_USERNAME)]
    pub username: String,
    /// Basic-auth password the mock accepts.
    #[arg(long, env = mock::PASSWORD_ENV, default_value = mock::DEFAULT_PASSWORD, hide_env_values = true)]
    pub password: String,
    /// Merchant setting "cart updates allowed": changed order lines are accepted
    /// unless the order amount grows (403 REJECTED).
    #[arg(long)]
    pub allow_cart_updates: bool,
    /// Enforce the documented rules instead of the recorded playground's leniency.
    #[arg(long)]
    pub strict: bool,
    /// Use the system clock instead of the virtual one.
    #[arg(long)]
    pub system_clock: bool,
    /// Start of virtual time (RFC 3339, UTC).
    #[arg(long, value_parser = parse_instant, default_value = "2026-01-01T00:00:00Z")]
    pub clock_start: i64,
    /// Largest accepted request body in bytes.
    #[arg(long, default_value_t = mock::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Deliberate deviation from Klarna's behaviour (repeatable), e.g. accept-expired-tokens.
    #[arg(long = "defect", value_name = "NAME")]
    pub defects: Vec<Defect>,
}

fn parse_instant(s: &str) -> Result<i64, String> {
    mock::parse_rfc3339(s).ok_or_else(|| format!("`{s}` is not an RFC 3339 UTC instant"))
}

impl ServeArgs {
    pub fn config(&self) -> MockConfig {
        let mut config = MockConfig::default()
            .credentials(&self.username, &self.password)
            .strict(self.strict)
            .allow_cart_updates(self.allow_cart_updates)
            .system_clock(self.system_clock)
            .clock_start(self.clock_start)
            .body_limit(self.body_limit);
        if let Some(seed) = self.seed {
            config = config.seed(seed);
        }
        for defect in &self.defects {
            config = config.defect(*defect);
        }
        config
    }
}
