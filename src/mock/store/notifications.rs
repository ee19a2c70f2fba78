//! Pending orders decided over time, Klarna's notifications and the
//! authorization callback (docs/klarna.md §5.3, §7, §13.5).
//!
//! The store stays pure: a decision is applied when `handle` (or `tick`) is
//! called with a `now` at or past its time, and what Klarna would send goes
//! into the [`Journal`]: every entry is listed by `GET /__mock/notifications`,
//! and those to deliver wait in an outbox that the HTTP layer empties after
//! each call, delivering them over real HTTP and recording each attempt back.

use std::collections::VecDeque;
use std::net::IpAddr;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{MockReply, MockState, Refusal};
use crate::mock::clock::rfc3339;
use crate::mock::defect::Defect;

/// At most this many journal entries are kept; the oldest go first. `[I]`
pub const JOURNAL_LIMIT: usize = 10_000;

/// The open fraud review of a `PENDING` order.
#[derive(Debug, Clone)]
pub(super) struct Review {
    /// When the review decides by itself, and how: `None` when nothing
    /// decides it but the control API (a `+pend` near miss under the
    /// `pending-near-miss` defect, or the `pending-never-decided` defect).
    pub scheduled: Option<(i64, bool)>,
    /// The session's `merchant_urls.notification` with `{order.id}` and
    /// `{session.id}` replaced, if it had one.
    pub notification_url: Option<Box<str>>,
}

/// What the HTTP layer is to send: one journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// The journal entry to record the attempts in.
    pub entry: u64,
    pub url: String,
    /// The JSON body, serialized.
    pub body: String,
}

#[derive(Debug, Clone)]
struct Entry {
    kind: &'static str,
    url: String,
    body: Value,
    attempts: u32,
    status: Option<u16>,
    error: Option<String>,
}

/// Every notification and callback made, oldest first, and the outbox.
#[derive(Debug)]
pub(super) struct Journal {
    /// `MockConfig::deliver_notifications`.
    deliver: bool,
    /// `MockConfig::notify_any_host`: also contact hosts other than loopback.
    any_host: bool,
    entries: VecDeque<Entry>,
    /// The id of `entries[0]`.
    first: u64,
    outbox: Vec<Delivery>,
}

/// Why a URL is not contacted, if it is not; only loopback hosts are,
/// unless `any_host` (docs/klarna.md §13.5). `[I]` the wording.
fn refused_url(url: &str, any_host: bool) -> Option<String> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Some("not delivered: not an http(s) URL".to_owned());
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some("not delivered: not an http(s) URL".to_owned());
    }
    let Some(host) = parsed.host_str() else {
        return Some("not delivered: not an http(s) URL".to_owned());
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback || any_host {
        None
    } else {
        Some(format!(
            "not delivered: {} is not a loopback host (serve --notify-any-host allows any)",
            host
        ))
    }
}

impl Journal {
    pub fn new(deliver: bool, any_host: bool) -> Journal {
        Journal {
            deliver,
            any_host,
            entries: VecDeque::new(),
            first: 0,
            outbox: Vec::new(),
        }
    }

    /// Journals a notification or callback; queues it for delivery when
    /// delivery is on and the host may be contacted, else notes why not.
    pub(super) fn record(&mut self, kind: &'static str, url: &str, body: Value) {
        let id = self.first + self.entries.len() as u64;
        let error = if self.deliver {
            refused_url(url, self.any_host)
        } else {
            Some("not delivered: delivery is off".to_owned())
        };
        if error.is_none() {
            self.outbox.push(Delivery {
                entry: id,
                url: url.to_owned(),
                body: body.to_string(),
            });
        }
        self.entries.push_back(Entry {
            kind,
            url: url.to_owned(),
            body,
            attempts: 0,
            status: None,
            error,
        });
        if self.entries.len() > JOURNAL_LIMIT {
            self.entries.pop_front();
            self.first += 1;
        }
    }

    fn entry_mut(&mut self, id: u64) -> Option<&mut Entry> {
        let index = usize::try_from(id.checked_sub(self.first)?).ok()?;
        self.entries.get_mut(index)
    }

    /// The entries naming one of `ids` (in `order_id`, `session_id` or
    /// `authorization_token`), or every entry when `ids` is empty.
    fn to_json(&self, ids: &[String]) -> Value {
        let named = |e: &&Entry| {
            ids.is_empty()
                || ["order_id", "session_id", "authorization_token"]
                    .iter()
                    .filter_map(|key| e.body.get(*key).and_then(Value::as_str))
                    .any(|id| ids.iter().any(|i| i == id))
        };
        Value::Array(
            self.entries
                .iter()
                .filter(named)
                .map(|e| {
                    json!({
                        "kind": e.kind,
                        "url": e.url,
                        "body": e.body,
                        "attempts": e.attempts,
                        "status": e.status,
                        "error": e.error,
                    })
                })
                .collect(),
        )
    }
}

/// `{order.id}` and `{session.id}` in a merchant URL replaced (docs/klarna.md §13.5).
pub(super) fn fill_placeholders(url: &str, order_id: Uuid, session_id: Uuid) -> String {
    url.replace("{order.id}", &order_id.to_string())
        .replace("{session.id}", &session_id.to_string())
}

impl MockState {
    /// Opens the fraud review of a `PENDING` order. `decision` is what the
    /// e-mail asks for, `(accept, delay in seconds)`; `serve --pending-review`
    /// replaces the delay (docs/klarna.md §13.5).
    pub(super) fn open_review(
        &mut self,
        order_id: Uuid,
        now: i64,
        decision: Option<(bool, i64)>,
        notification_url: Option<String>,
    ) {
        let scheduled = decision
            .filter(|_| !self.has(Defect::PendingNeverDecided))
            .map(|(accept, delay)| {
                let delay = self.pending_review.unwrap_or(delay);
                (now.saturating_add(delay), accept)
            });
        if let Some((at, _)) = scheduled {
            self.decisions.insert((at, order_id));
        }
        if let Some(record) = self.orders.get_mut(&order_id) {
            record.review = Some(Box::new(Review {
                scheduled,
                notification_url: notification_url.map(String::into_boxed_str),
            }));
        }
    }

    /// Applies the scheduled decisions due at `now`, oldest first; each is
    /// made at its own time (the notification's timestamp).
    pub(super) fn decide_due(&mut self, now: i64) {
        while let Some(&(at, order_id)) = self.decisions.first()
            && at <= now
        {
            self.decisions.pop_first();
            let accept = self
                .orders
                .get(&order_id)
                .and_then(|o| o.review.as_ref())
                .and_then(|r| r.scheduled)
                .map(|(_, accept)| accept);
            if let Some(accept) = accept {
                let status = if accept { "ACCEPTED" } else { "REJECTED" };
                self.decide(order_id, status, at);
            }
        }
    }

    /// Closes the review with `fraud_status` at `at`: a `REJECTED` or
    /// `STOPPED` order is cancelled, and the notification is journaled.
    fn decide(&mut self, order_id: Uuid, fraud_status: &'static str, at: i64) {
        let rejected_not_cancelled = self.has(Defect::RejectedNotCancelled);
        let Some(record) = self.orders.get_mut(&order_id) else {
            return;
        };
        let review = record.review.take();
        record.fraud_status = fraud_status;
        if fraud_status != "ACCEPTED" && !rejected_not_cancelled {
            record.cancelled = true;
        }
        if let Some((scheduled_at, _)) = review.as_ref().and_then(|r| r.scheduled) {
            self.decisions.remove(&(scheduled_at, order_id));
        }
        let url = review.and_then(|r| r.notification_url);
        if let Some(url) = url
            && !self.has(Defect::NoFraudNotification)
        {
            let body = json!({
                "order_id": order_id.to_string(),
                "event_type": format!("FRAUD_RISK_{fraud_status}"),
                "event_id": self.ids.uuid().to_string(),
                "timestamp": rfc3339(at),
            });
            self.journal.record("notification", &url, body);
        }
    }

    /// `POST /__mock/orders/{order_id}/fraud-decision` `{"fraud_status":
    /// "ACCEPTED" | "REJECTED" | "STOPPED"}` (docs/klarna.md §13.5). Checks
    /// `[I]` in this order: the order (404 NO_SUCH_ORDER), the value (400
    /// `Bad value: fraud_status`), an order that is not `PENDING` (403
    /// NOT_ALLOWED `Order is not pending`).
    pub(super) fn fraud_decision(
        &mut self,
        order_id: &str,
        body: Value,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_order(order_id, now)?;
        let status = match body.get("fraud_status").and_then(Value::as_str) {
            Some("ACCEPTED") => "ACCEPTED",
            Some("REJECTED") => "REJECTED",
            Some("STOPPED") => "STOPPED",
            _ => return Err(Refusal::bad_field("fraud_status")),
        };
        if self.orders[&id].fraud_status != "PENDING" {
            return Err(Refusal::new(403, "NOT_ALLOWED", "Order is not pending"));
        }
        self.decide(id, status, now);
        let answer = json!({"order_id": id.to_string(), "fraud_status": status});
        Ok(self.reply(200, Some(answer)))
    }

    /// Journals the authorization callback of an approved authorize
    /// (docs/klarna.md §7, §13.5); `{session.id}` in the URL is replaced as
    /// in a notification's. `[I]`
    pub(super) fn authorization_callback(&mut self, url: &str, token: Uuid, session_id: Uuid) {
        if self.has(Defect::NoAuthorizationCallback) {
            return;
        }
        let url = url.replace("{session.id}", &session_id.to_string());
        let body = json!({
            "authorization_token": token.to_string(),
            "session_id": session_id.to_string(),
        });
        self.journal.record("authorization_callback", &url, body);
    }

    /// `GET /__mock/notifications`: every entry, oldest first, as
    /// `{kind, url, body, attempts, status, error}`.
    pub(super) fn list_notifications(&mut self, ids: &[String]) -> MockReply {
        let list = self.journal.to_json(ids);
        self.reply(200, Some(list))
    }

    /// What is to be delivered now (emptied by the call).
    pub(crate) fn take_deliveries(&mut self) -> Vec<Delivery> {
        std::mem::take(&mut self.journal.outbox)
    }

    /// Records one delivery attempt of journal entry `entry`: the HTTP status
    /// answered, or why there was none.
    pub(crate) fn record_attempt(&mut self, entry: u64, outcome: Result<u16, String>) {
        if let Some(e) = self.journal.entry_mut(entry) {
            e.attempts = e.attempts.saturating_add(1);
            match outcome {
                Ok(status) => {
                    e.status = Some(status);
                    e.error = None;
                }
                Err(error) => e.error = Some(error),
            }
        }
    }
}
