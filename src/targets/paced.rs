//! A rate-limited target: at most so many requests in any rolling window, and
//! a 429 retried after a pause instead of being handed to a verdict.
//!
//! Klarna's playground answered the fifth request within one second with 429
//! and an empty body (docs/klarna.md §10): "budget about 5 requests per second per
//! merchant". A 429 says nothing about Klarna's payment rules, so it is never
//! judged; when it persists past the retries the target is unusable (exit 2).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{BoxFuture, Capabilities, Credentials, Request, Target, TargetError};
use crate::exchange::Exchange;

/// The longest pause before a retry, whatever `Retry-After` asks for.
pub(super) const MAX_PAUSE: Duration = Duration::from_secs(30);

/// How fast requests may go out, and what to do with a 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// At most this many requests start within any `per` window.
    pub max_requests: usize,
    pub per: Duration,
    /// A 429 is retried this many times before the target counts as unusable.
    pub retries: u32,
    /// The pause before the first retry; doubled for each further one, unless
    /// the answer carries `Retry-After` (seconds).
    pub retry_pause: Duration,
}

impl Pacing {
    /// What the playground allows (docs/klarna.md §10): the fifth request within
    /// one second was refused, so four per window. The window is 1.1 s, not
    /// 1 s: the server counts arrival times, which jitter against our send
    /// times, and a margin keeps the fourth and the next request apart.
    pub const PLAYGROUND: Pacing = Pacing {
        max_requests: 4,
        per: Duration::from_millis(1100),
        retries: 4,
        retry_pause: Duration::from_secs(1),
    };
}

impl Pacing {
    /// No pause between requests (a 429 is still retried, honouring
    /// `Retry-After`): for servers that are not Klarna's.
    pub const UNPACED: Pacing = Pacing {
        max_requests: usize::MAX,
        per: Duration::ZERO,
        retries: 4,
        retry_pause: Duration::from_secs(1),
    };
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing::PLAYGROUND
    }
}

/// Wraps a target so that every request, whatever its credentials, keeps to
/// one [`Pacing`]: the playground limits per merchant, and a wrong-credentials
/// probe still costs a request.
pub struct Paced {
    inner: Arc<dyn Target>,
    pacing: Pacing,
    /// Start times of the requests in the current window, oldest first.
    /// tokio's mutex is fair, so waiting requests go out in arrival order.
    started: Mutex<VecDeque<Instant>>,
    sent: AtomicU64,
    rate_limited: AtomicU64,
}

impl Paced {
    pub fn new(inner: Arc<dyn Target>, pacing: Pacing) -> Paced {
        Paced {
            inner,
            pacing,
            started: Mutex::new(VecDeque::new()),
            sent: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
        }
    }

    /// Requests sent so far, retries included.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// 429 answers received (and retried or given up on) so far.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// Waits until a request may start, and books it.
    async fn slot(&self) {
        let max = self.pacing.max_requests.max(1);
        let mut started = self.started.lock().await;
        loop {
            let now = Instant::now();
            while started
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.pacing.per)
            {
                started.pop_front();
            }
            match started.front() {
                Some(oldest) if started.len() >= max => {
                    let wait = self.pacing.per.saturating_sub(now.duration_since(*oldest));
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    started.push_back(now);
                    return;
                }
            }
        }
    }

    async fn send_inner(
        &self,
        request: &Request,
        credentials: &Credentials,
    ) -> Result<Exchange, TargetError> {
        let mut attempt = 0u32;
        loop {
            self.slot().await;
            self.sent.fetch_add(1, Ordering::Relaxed);
            let exchange = self.inner.send(request, credentials).await?;
            if exchange.status != 429 {
                return Ok(exchange);
            }
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
            if attempt >= self.pacing.retries {
                return Err(TargetError::RateLimited {
                    target: self.inner.describe(),
                    attempts: attempt + 1,
                });
            }
            let backoff = self
                .pacing
                .retry_pause
                .saturating_mul(2u32.saturating_pow(attempt));
            let pause = retry_after(&exchange).unwrap_or(backoff).min(MAX_PAUSE);
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Klarna's gateway).
pub(super) fn retry_after(exchange: &Exchange) -> Option<Duration> {
    exchange
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

impl Target for Paced {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn send<'a>(
        &'a self,
        request: &'a Request,
        credentials: &'a Credentials,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
        Box::pin(self.send_inner(request, credentials))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;
    use crate::targets::Method;

    /// Answers 429 to the first `refuse` requests, then 200.
    struct Flaky {
        refuse: u32,
        seen: AtomicU32,
    }

    impl Target for Flaky {
        fn describe(&self) -> String {
            "flaky".to_owned()
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities { control_api: false }
        }
        fn send<'a>(
            &'a self,
            request: &'a Request,
            _: &'a Credentials,
        ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
            let n = self.seen.fetch_add(1, Ordering::SeqCst);
            let status = if n < self.refuse { 429 } else { 200 };
            Box::pin(async move {
                Ok(Exchange {
                    method: request.method.as_str().to_owned(),
                    path: request.path.clone(),
                    request_headers: Vec::new(),
                    request_body: None,
                    status,
                    response_headers: Vec::new(),
                    response_body: String::new(),
                })
            })
        }
    }

    fn request() -> Request {
        Request {
            method: Method::Get,
            path: "/".to_owned(),
            body: None,
            headers: Vec::new(),
        }
    }

    fn fast(max_requests: usize, retries: u32) -> Pacing {
        Pacing {
            max_requests,
            per: Duration::from_millis(200),
            retries,
            retry_pause: Duration::from_millis(10),
        }
    }

    #[tokio::test]
    async fn keeps_to_the_window() {
        let paced = Paced::new(
            Arc::new(Flaky {
                refuse: 0,
                seen: AtomicU32::new(0),
            }),
            fast(4, 0),
        );
        let credentials = Credentials::new("u", "p");
        let start = Instant::now();
        for _ in 0..9 {
            paced.send(&request(), &credentials).await.unwrap();
        }
        // 4 in the first window, 4 in the second, the ninth opens the third.
        assert!(start.elapsed() >= Duration::from_millis(400));
        assert_eq!(paced.sent(), 9);
    }

    #[tokio::test]
    async fn retries_429_then_gives_up() {
        let credentials = Credentials::new("u", "p");
        let flaky = |refuse| {
            Arc::new(Flaky {
                refuse,
                seen: AtomicU32::new(0),
            })
        };
        let paced = Paced::new(flaky(2), fast(100, 3));
        let ex = paced.send(&request(), &credentials).await.unwrap();
        assert_eq!(ex.status, 200);
        assert_eq!(paced.rate_limited(), 2);
        let paced = Paced::new(flaky(10), fast(100, 3));
        let err = paced.send(&request(), &credentials).await.unwrap_err();
        assert!(matches!(err, TargetError::RateLimited { attempts: 4, .. }));
    }
}
