//! Throughput, latency and memory of the mock.
//!
//! `cargo bench --bench mock` prints, over loopback with 32 keep-alive
//! connections and an in-process load generator (hyper's client) sharing the
//! machine with the server:
//! - a bare axum endpoint (the same `axum::serve`, the same request, a handler
//!   that reads the body and answers a small JSON) and create session, in
//!   alternating rounds: requests per second, p50 / p99 latency of each, and
//!   the ratio of create session to the bare endpoint (what the mock's own
//!   work costs, the loopback and hyper taken out);
//! - the whole flow create session -> authorize -> create order: flows and
//!   requests per second, p50 / p99 latency per request and per flow;
//! - peak memory (VmHWM) after one million sessions, created directly through
//!   the store (`MockState::handle`), not over HTTP, so the figure is the
//!   store's own memory. It runs in a fresh child process so the HTTP phases
//!   cannot inflate the peak.
//!
//! Environment: `BENCH_SECONDS` (default 5) per HTTP phase; `BENCH_ROUNDS`
//! (default 3) rounds of bare endpoint and create session; `BENCH_SESSIONS`
//! (default 1,000,000) for the memory phase; `BENCH_ONLY=create` (or `bare`)
//! runs only the rounds (or only the bare endpoint), for profiling. No timing
//! is asserted.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use klarna_conformance::mock::{MockConfig, MockRequest, MockServer, MockState};
use serde_json::{Value, json};

const CONNECTIONS: usize = 32;
const AUTH: &str = "Basic a2xhcm5hLWNvbmZvcm1hbmNlOm1vY2stc2VjcmV0"; // klarna-conformance:mock-secret

fn session_body() -> Value {
    json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": 11900, "order_tax_amount": 1900,
        "order_lines": [{"type": "physical", "reference": "SKU-1", "name": "Jacket", "quantity": 1,
            "unit_price": 11900, "tax_rate": 1900, "total_amount": 11900, "total_tax_amount": 1900}]
    })
}

fn order_body() -> Value {
    let mut b = session_body();
    b["billing_address"] = json!({
        "given_name": "Mock", "family_name": "Mock", "email": "customer@email.de",
        "street_address": "Neue Schönhauser Str. 2", "postal_code": "10178", "city": "Berlin",
        "phone": "+49017614284340", "country": "DE"
    });
    b
}

fn main() {
    if std::env::var_os("BENCH_MEMORY_CHILD").is_some() {
        memory_phase();
        return;
    }
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "mock benchmark: {CONNECTIONS} keep-alive connections, {seconds} s per phase, 2 worker threads, load generator in-process"
    );
    let rounds: usize = env_or("BENCH_ROUNDS", 3);
    // For profiling one phase: `BENCH_ONLY=create` (create session alone) or
    // `BENCH_ONLY=bare`.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let only_create = !only.is_empty();
    runtime.block_on(async {
        let mut ratios = Vec::new();
        for round in 1..=rounds {
            let (addr, stop) = bare_server().await;
            let bare = run(addr, seconds, Scenario::CreateSession).await;
            let _ = stop.send(());
            let bare = bare.print(&format!("round {round}: bare axum endpoint"));
            if only == "bare" {
                continue;
            }
            let server = MockServer::start(MockConfig::default().seed(1))
                .await
                .expect("mock starts");
            let stats = run(server.addr(), seconds, Scenario::CreateSession).await;
            let created = stats.print(&format!("round {round}: create session"));
            server.shutdown().await;
            let ratio = created.per_second / bare.per_second;
            println!(
                "  create session / bare endpoint: {ratio:.2}x req/s; p99 {} vs {}",
                ms(created.p99),
                ms(bare.p99)
            );
            ratios.push(ratio);
        }
        ratios.sort_by(f64::total_cmp);
        if let Some(median) = ratios.get(ratios.len() / 2) {
            println!("\ncreate session / bare endpoint, median of {rounds} rounds: {median:.2}x");
        }

        if !only_create {
            let server = MockServer::start(MockConfig::default().seed(2))
                .await
                .expect("mock starts");
            let stats = run(server.addr(), seconds, Scenario::Flow).await;
            let _ = stats.print("create session -> authorize -> create order");
            server.shutdown().await;
        }
    });
    drop(runtime);
    if only_create {
        return;
    }

    // Memory in a clean child process.
    let exe = std::env::current_exe().expect("own path");
    let status = std::process::Command::new(exe)
        .env("BENCH_MEMORY_CHILD", "1")
        .status()
        .expect("child runs");
    assert!(status.success(), "memory phase failed");
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, PartialEq)]
enum Scenario {
    CreateSession,
    Flow,
}

/// A bare axum endpoint on the mock's server settings (`axum::serve` on a
/// loopback listener): reads the body and answers a small JSON, so the
/// difference to create session is the mock's own work.
async fn bare_server() -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    async fn bare(_body: Bytes) -> impl axum::response::IntoResponse {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ok"}"#,
        )
    }
    let app = axum::Router::new().route("/payments/v1/sessions", axum::routing::post(bare));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    // TCP_NODELAY, as the mock's listener (src/mock/server.rs).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    (addr, stop)
}

/// What a phase measured, for comparing two phases.
struct Summary {
    per_second: f64,
    p99: u32,
}

struct Stats {
    elapsed: Duration,
    /// Latency of every request, microseconds.
    requests: Vec<u32>,
    /// Latency of every whole flow, microseconds (flow scenario only).
    flows: Vec<u32>,
    errors: usize,
}

impl Stats {
    fn print(mut self, name: &str) -> Summary {
        self.requests.sort_unstable();
        self.flows.sort_unstable();
        let secs = self.elapsed.as_secs_f64();
        println!("\n{name}");
        println!(
            "  requests: {} in {secs:.2} s = {:.0} req/s; latency p50 {} p99 {} max {}; errors {}",
            self.requests.len(),
            self.requests.len() as f64 / secs,
            ms(percentile(&self.requests, 50.0)),
            ms(percentile(&self.requests, 99.0)),
            ms(self.requests.last().copied().unwrap_or(0)),
            self.errors
        );
        if !self.flows.is_empty() {
            println!(
                "  flows: {} = {:.0} flows/s; flow latency p50 {} p99 {}",
                self.flows.len(),
                self.flows.len() as f64 / secs,
                ms(percentile(&self.flows, 50.0)),
                ms(percentile(&self.flows, 99.0)),
            );
        }
        Summary {
            per_second: self.requests.len() as f64 / secs,
            p99: percentile(&self.requests, 99.0),
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(micros: u32) -> String {
    format!("{:.3} ms", f64::from(micros) / 1000.0)
}

async fn run(addr: SocketAddr, seconds: u64, scenario: Scenario) -> Stats {
    let session = Bytes::from(session_body().to_string());
    let order = Bytes::from(order_body().to_string());
    // One second of warm-up, then the measured window.
    let warmup = Instant::now() + Duration::from_secs(1);
    let deadline = warmup + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (session, order) = (session.clone(), order.clone());
            tokio::spawn(async move {
                connection(addr, scenario, session, order, warmup, deadline).await
            })
        })
        .collect();
    let mut stats = Stats {
        elapsed: Duration::from_secs(seconds),
        requests: Vec::new(),
        flows: Vec::new(),
        errors: 0,
    };
    for t in tasks {
        let (requests, flows, errors) = t.await.expect("connection task");
        stats.requests.extend(requests);
        stats.flows.extend(flows);
        stats.errors += errors;
    }
    stats
}

type Sender = SendRequest<Full<Bytes>>;

async fn send(sender: &mut Sender, path: &str, body: Bytes) -> Result<(u16, Bytes), String> {
    let request = Request::post(path)
        .header("host", "mock")
        .header("authorization", AUTH)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, bytes))
}

async fn connection(
    addr: SocketAddr,
    scenario: Scenario,
    session: Bytes,
    order: Bytes,
    warmup: Instant,
    deadline: Instant,
) -> (Vec<u32>, Vec<u32>, usize) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let (mut requests, mut flows, mut errors) = (Vec::new(), Vec::new(), 0usize);
    loop {
        let flow_start = Instant::now();
        if flow_start >= deadline {
            break;
        }
        let measured = flow_start >= warmup;
        let timed = |start: Instant, requests: &mut Vec<u32>| {
            if measured {
                requests.push(start.elapsed().as_micros().min(u32::MAX as u128) as u32);
            }
        };
        let t = Instant::now();
        let Ok((200, created)) = send(&mut sender, "/payments/v1/sessions", session.clone()).await
        else {
            errors += 1;
            continue;
        };
        timed(t, &mut requests);
        if scenario == Scenario::CreateSession {
            continue;
        }
        let id = serde_json::from_slice::<Value>(&created).expect("json")["session_id"]
            .as_str()
            .expect("session_id")
            .to_owned();
        let t = Instant::now();
        let authorize = send(
            &mut sender,
            &format!("/__mock/sessions/{id}/authorize"),
            Bytes::from(json!({"billing_address": order_body()["billing_address"]}).to_string()),
        )
        .await;
        timed(t, &mut requests);
        let Ok((200, answer)) = authorize else {
            errors += 1;
            continue;
        };
        let Some(token) =
            serde_json::from_slice::<Value>(&answer).expect("json")["authorization_token"]
                .as_str()
                .map(str::to_owned)
        else {
            errors += 1;
            continue;
        };
        let t = Instant::now();
        let placed = send(
            &mut sender,
            &format!("/payments/v1/authorizations/{token}/order"),
            order.clone(),
        )
        .await;
        timed(t, &mut requests);
        match placed {
            Ok((200, _)) => timed(flow_start, &mut flows),
            _ => errors += 1,
        }
    }
    (requests, flows, errors)
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn memory_phase() {
    let count: usize = env_or("BENCH_SESSIONS", 1_000_000);
    let before = vm_hwm_kib();
    let mut store = MockState::new(&MockConfig::default().seed(3));
    let body = session_body();
    let now = klarna_conformance::mock::DEFAULT_START;
    let start = Instant::now();
    for _ in 0..count {
        let reply = store.handle(MockRequest::CreateSession { body: body.clone() }, now);
        assert_eq!(reply.status, 200);
    }
    let elapsed = start.elapsed();
    let after = vm_hwm_kib();
    println!(
        "\nmemory: {} sessions created through the store (MockState::handle, no HTTP) in {:.2} s ({:.0} sessions/s)",
        store.session_count(),
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "  peak RSS (VmHWM): {:.1} MiB before, {:.1} MiB after = {:.0} bytes per session",
            b as f64 / 1024.0,
            a as f64 / 1024.0,
            (a.saturating_sub(b) * 1024) as f64 / count as f64
        ),
        _ => println!("  VmHWM unavailable (no /proc/self/status)"),
    }
}

/// The binary's allocator, so the figures are `serve`'s (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
