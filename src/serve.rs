//! `serve`: the mock until SIGINT/SIGTERM. Exit 0 after a clean stop, 2
//! when it cannot start (a refused address or credentials, an address that
//! does not resolve or is taken, a log that cannot be opened).
//!
//! `serve --upstream` is the validating proxy instead ([`proxy`]): exit 0
//! after a clean stop with no error-level finding, 1 with one (with
//! `--strict`, a warning too), 2 when it cannot start (an upstream refused,
//! an address that is not loopback, an OpenAPI document or report file that
//! cannot be used).

use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use klarna_conformance::cassette::Recorder;
use klarna_conformance::errors::exit;
use klarna_conformance::mock::{MockServer, RequestLog};
use klarna_conformance::openapi::OpenApi;
use klarna_conformance::proxy::{self, ProxyConfig, ProxyServer};
use klarna_conformance::targets::{Credentials, env, playground_opt_in};

use crate::cli::ServeArgs;

fn usage(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::USAGE
}

/// The server's runtime (`--threads` worker threads, by default one per
/// core), or the usage error.
fn runtime(threads: Option<usize>) -> Result<tokio::runtime::Runtime, u8> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n);
    }
    builder
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the runtime: {e}")))
}

pub fn serve(args: ServeArgs) -> u8 {
    if let Some(upstream) = args.upstream.clone() {
        return proxy(&args, &upstream);
    }
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
    let runtime = match runtime(args.threads) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let (listener, shutdown) = match listen(&addrs).await {
            Ok(listening) => listening,
            Err(e) => return usage(e),
        };
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

/// The validating proxy until SIGINT/SIGTERM, then its report on stdout
/// (and in `--report FILE`). Every check that can refuse runs before the
/// port is bound, so a refused upstream is sent nothing.
fn proxy(args: &ServeArgs, upstream: &str) -> u8 {
    let opt_in = match playground_opt_in(std::env::var(env::PLAYGROUND).ok().as_deref()) {
        Ok(opt_in) => opt_in,
        Err(e) => return usage(e),
    };
    let url =
        match proxy::upstream_url(upstream, args.region.into(), args.yes_call_klarna || opt_in) {
            Ok(url) => url,
            Err(e) => return usage(e),
        };
    let addrs = match resolve(&args.addr) {
        Ok(addrs) => addrs,
        Err(e) => return usage(e),
    };
    // The proxy takes anyone's requests and sends them on with whatever
    // credentials they carry: other hosts must not reach it.
    if let Some(exposed) = addrs.iter().find(|a| !a.ip().is_loopback()) {
        return usage(format!(
            "--addr {} listens on {exposed}; the proxy listens on loopback addresses only",
            args.addr
        ));
    }
    let mut config = ProxyConfig::new(url.clone());
    config.timeout = Duration::from_secs(args.upstream_timeout as u64);
    config.body_limit = args.body_limit;
    for path in &args.openapi {
        match OpenApi::load(path) {
            Ok(api) => config.openapi.push(Arc::new(api)),
            Err(e) => return usage(format!("--openapi: {e}")),
        }
    }
    if let Some(path) = &args.report
        && let Err(e) = std::fs::write(path, "")
    {
        return usage(format!("cannot write the report {}: {e}", path.display()));
    }
    if let Some(path) = &args.record {
        // Nothing secret reaches an exchange; the recorder scrubs only what it is told of.
        let nobody = Credentials::new("", "");
        match Recorder::to_file(path, proxy::cassette_header(&url), &nobody) {
            Ok(recorder) => {
                recorder.begin("proxy", 0, 0);
                config.recorder = Some(recorder);
            }
            Err(e) => return usage(e),
        }
    }
    let recorder = config.recorder.clone();
    config.on_finding = Some(Arc::new(|finding| eprintln!("proxy: {finding}")));
    let runtime = match runtime(args.threads) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let (listener, shutdown) = match listen(&addrs).await {
            Ok(listening) => listening,
            Err(e) => return usage(e),
        };
        let mut stdout = io::stdout();
        eprintln!("proxy: forwarding to {url}");
        let server = match ProxyServer::listen(listener, config) {
            Ok(server) => server,
            Err(e) => return usage(e),
        };
        shutdown.await;
        let report = server.shutdown().await;
        if let Some(recorder) = &recorder
            && let Err(e) = recorder.finish(true)
        {
            return usage(e);
        }
        let text = report.render();
        let _ = write!(stdout, "{text}");
        let _ = stdout.flush();
        if let Some(path) = &args.report
            && let Err(e) = std::fs::write(path, &text)
        {
            return usage(format!("cannot write the report {}: {e}", path.display()));
        }
        report.exit_code(args.strict)
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

/// Binds the first of `addrs` that can be bound and announces it: the
/// listener and the future of the stop signal. The signal handlers are in
/// place before the port is announced (a parent that stops the server as
/// soon as it reads the line must not meet the default action), and the
/// line is the first of stdout, before any request is taken (and so before
/// any log line), so a parent process can read the port.
async fn listen(
    addrs: &[SocketAddr],
) -> Result<
    (
        tokio::net::TcpListener,
        impl std::future::Future<Output = ()>,
    ),
    String,
> {
    let listener = bind(addrs).await?;
    let shutdown = shutdown_signal();
    let mut stdout = io::stdout();
    if let Ok(local) = listener.local_addr() {
        let _ = writeln!(stdout, "listening on http://{local}");
    }
    let _ = stdout.flush();
    Ok((listener, shutdown))
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
