//! The `klarna-conformance` binary: parse the command line, call into the
//! library, turn the outcome into an exit code (see `errors::exit`).

mod cli;

use std::io;
use std::process::ExitCode;

use clap::Parser;
use klarna_conformance::check;

use cli::{Cli, Command};

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with 2 (errors::exit::USAGE).
    let cli = Cli::parse();
    let code = match cli.command {
        Command::CheckPayload(args) => check::check_payloads(
            args.kind.into(),
            &args.files,
            &mut io::stdout().lock(),
            &mut io::stderr().lock(),
        ),
    };
    ExitCode::from(code)
}
