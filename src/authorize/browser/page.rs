//! The local checkout page for a real (or imitated) Klarna SDK: a tiny HTTP
//! server on 127.0.0.1 answering every GET with the mock's checkout page
//! (`mock::checkout_page`) loading the script at one URL. The playground's
//! SDK then runs on a page of the harness's own, as on a merchant's.
//!
//! A plain thread with blocking sockets: it needs no runtime, so it outlives
//! whichever worker's runtime started the browser.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::mock::checkout_page;

/// The page server; stopped when dropped.
pub(crate) struct PageServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PageServer {
    /// Serves the checkout page loading `sdk_src` on a free loopback port.
    pub fn start(sdk_src: &str) -> std::io::Result<PageServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let page: Arc<[u8]> = checkout_page(Some(sdk_src)).into_bytes().into();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("checkout-page".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let _ = answer(stream, &page);
                    }
                }
            })?;
        Ok(PageServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        format!("http://{}/checkout", self.addr)
    }
}

/// Reads the request head and answers the page (a favicon or anything else: 404).
fn answer(mut stream: TcpStream, page: &[u8]) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..n]);
    }
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let is_page = line.starts_with(b"GET /checkout") || line.starts_with(b"GET / ");
    let (status, content_type, body): (&str, &str, &[u8]) = if is_page {
        ("200 OK", "text/html; charset=utf-8", page)
    } else {
        ("404 Not Found", "text/plain", b"not found")
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accepting thread so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
