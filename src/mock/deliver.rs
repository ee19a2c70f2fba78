//! Delivery of what the store journaled (docs/klarna.md §7, §13.5): `POST`
//! with a JSON body; up to 3 attempts, the second 1 s after the first, the
//! third 2 s after the second; 2 s to connect and 2 s to read; any 2xx ends
//! it. Each attempt is recorded in the journal. Redirects are not followed
//! and no proxy is used, so only the host the store allowed is contacted. `[I]`

use std::sync::Arc;
use std::time::Duration;

use super::http::Shared;
use super::scope::Scope;
use super::store::Delivery;

/// Pause before attempt 2 and attempt 3.
const BACKOFF: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Sends each delivery in a task of its own; the attempts are recorded in
/// `scope`'s journal as long as it was not reset (`epoch`) meanwhile.
pub(super) fn spawn(
    shared: &Arc<Shared>,
    scope: &Arc<Scope>,
    epoch: u64,
    deliveries: Vec<Delivery>,
) {
    for delivery in deliveries {
        let shared = Arc::clone(shared);
        let scope = Arc::clone(scope);
        tokio::spawn(async move { deliver(&shared, &scope, epoch, delivery).await });
    }
}

fn client(shared: &Shared) -> Option<&reqwest::Client> {
    shared
        .notifier
        .get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .ok()
        })
        .as_ref()
}

/// Why an attempt got no HTTP status. `[I]` the wording.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    }
}

async fn deliver(shared: &Shared, scope: &Scope, epoch: u64, delivery: Delivery) {
    let Some(client) = client(shared) else {
        scope.record_attempt(epoch, delivery.entry, Err("no HTTP client".to_owned()));
        return;
    };
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(BACKOFF[attempt - 1]).await;
        }
        let sent = client
            .post(&delivery.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(delivery.body.clone())
            .send()
            .await;
        let outcome = match sent {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) => Err(describe(&e)),
        };
        let done = matches!(outcome, Ok(status) if (200..300).contains(&status));
        scope.record_attempt(epoch, delivery.entry, outcome);
        if done {
            return;
        }
    }
}
