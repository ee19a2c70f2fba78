//! The `klarna-conformance` binary: parse the command line, call into the
//! library, turn the outcome into an exit code (see `errors::exit`).

mod cli;
mod commands;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use klarna_conformance::check;
use klarna_conformance::errors::exit;
use klarna_conformance::mock::MockServer;

use cli::{Cli, Command, ServeArgs};

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
        Command::Serve(args) => serve(args),
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

/// `serve`: the mock until SIGINT/SIGTERM; 2 when it cannot start (e.g. the
/// address is taken).
fn serve(args: ServeArgs) -> u8 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::USAGE;
        }
    };
    runtime.block_on(async move {
        let server = match MockServer::bind(args.addr, args.config()).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        // The first line of output, so a parent process can read the port.
        let mut stdout = io::stdout();
        let _ = writeln!(stdout, "listening on {}", server.base_url());
        let _ = stdout.flush();
        shutdown_signal().await;
        server.shutdown().await;
        exit::OK
    })
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
