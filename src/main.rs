//! The `klarna-conformance` binary: parse the command line, call into the
//! library, turn the outcome into an exit code (see `errors::exit`).

mod cassette_flags;
mod cli;
mod commands;
mod serve;

use std::io;
use std::process::ExitCode;

use clap::Parser;
use klarna_conformance::check;

use cli::{Cli, Command};

/// mimalloc: the engine allocates many small JSON values (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with 2 (errors::exit::USAGE).
    let cli = Cli::parse();
    klarna_conformance::errors::set_invocation(invocation());
    let code = match cli.command {
        Command::CheckPayload(args) => check::check_payloads(
            args.kind.into(),
            &args.files,
            &mut io::stdout().lock(),
            &mut io::stderr().lock(),
        ),
        Command::Run(args) => commands::run(args),
        Command::Replay(args) => commands::replay(args),
        Command::Scenarios(args) => commands::scenarios(args),
        Command::Certify(args) => commands::certify(args),
        Command::Serve(args) => serve::serve(args),
        Command::Selftest(args) => commands::selftest(args),
    };
    ExitCode::from(code)
}

/// `cargo run --release --` when this binary is the project's own build
/// (`target/release` or `target/debug` under the working directory), so a
/// printed replay command works as it is; else the binary's name.
fn invocation() -> String {
    let exe = std::env::current_exe().ok();
    let cwd = std::env::current_dir().ok();
    if let (Some(exe), Some(cwd)) = (exe, cwd) {
        for (dir, how) in [
            ("release", "cargo run --release --"),
            ("debug", "cargo run --"),
        ] {
            if exe.parent() == Some(cwd.join("target").join(dir).as_path()) {
                return how.to_owned();
            }
        }
    }
    "klarna-conformance".to_owned()
}
