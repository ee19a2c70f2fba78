//! The command line: one `Command` variant per subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Prints every violation as `FILE: GRADE PATH: MESSAGE`. Exit status: 0 when
    /// no payload has an error (warnings alone still exit 0), 1 when any has,
    /// 2 when a file cannot be read or is not JSON.
    CheckPayload(CheckPayloadArgs),
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn check_payload_defaults_to_session() {
        let cli = Cli::try_parse_from(["klarna-conformance", "check-payload", "a.json"]).unwrap();
        let Command::CheckPayload(args) = cli.command;
        assert_eq!(args.kind, PayloadKind::Session);
        assert_eq!(args.files, ["a.json"]);
        assert!(Cli::try_parse_from(["klarna-conformance", "check-payload"]).is_err());
    }
}
