//! `serve`: the mock until SIGINT/SIGTERM. Exit 0 after a clean stop, 2
//! when it cannot start (a refused address or credentials, an address that
//! does not resolve or is taken, a log that cannot be opened).

use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use klarna_conformance::errors::exit;
use klarna_conformance::mock::{MockServer, RequestLog};

use crate::cli::ServeArgs;

fn usage(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::USAGE
}

pub fn serve(args: ServeArgs) -> u8 {
    let addrs = match resolve(&args.addr) {
        Ok(addrs) => addrs,
        Err(e) => return usage(e),
    };
    if let Err(e) = args.check(&addrs) {
        return usage(e);
    }
    let log = match args.log.as_deref().map(RequestLog::open).transpose() {
        Ok(log) => log,
        Err(e) => {
            let path = args.log.as_deref().unwrap_or("");
            return usage(format!("cannot open the log {path}: {e}"));
        }
    };
    let mut config = args.config();
    if let Some(log) = &log {
        config = config.log(log.clone());
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return usage(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        let listener = match bind(&addrs).await {
            Ok(listener) => listener,
            Err(e) => return usage(e),
        };
        // Handlers in place before the port is announced: a parent that stops
        // the server as soon as it reads the line must not meet the default
        // action (killed, exit status from the signal).
        let shutdown = shutdown_signal();
        let local = listener.local_addr().ok();
        // The first line of output, before any request is taken (and so
        // before any log line), so a parent process can read the port.
        let mut stdout = io::stdout();
        if let Some(local) = local {
            let _ = writeln!(stdout, "listening on http://{local}");
        }
        let _ = stdout.flush();
        let server = match MockServer::listen(listener, config) {
            Ok(server) => server,
            Err(e) => return usage(e),
        };
        shutdown.await;
        server.shutdown().await;
        if let Some(log) = &log {
            log.sync(Duration::from_secs(2));
        }
        exit::OK
    })
}

/// `HOST:PORT` or `IP:PORT`, IPv4 addresses first.
fn resolve(addr: &str) -> Result<Vec<SocketAddr>, String> {
    let mut addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| format!("--addr {addr}: cannot resolve it ({e}); give HOST:PORT"))?
        .collect();
    addrs.sort_by_key(|a| a.is_ipv6());
    addrs.dedup();
    if addrs.is_empty() {
        return Err(format!("--addr {addr} resolves to no address"));
    }
    Ok(addrs)
}

/// The first of `addrs` that can be bound.
async fn bind(addrs: &[SocketAddr]) -> Result<tokio::net::TcpListener, String> {
    let mut last = None;
    for addr in addrs {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(format!("cannot bind {addr}: {e}")),
        }
    }
    Err(last.unwrap_or_else(|| "no address to bind".to_owned()))
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM. The Unix handlers are installed
/// when this is called, not when the future is first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut i), Ok(mut t)) => {
                    tokio::select! {
                        _ = i.recv() => {},
                        _ = t.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
