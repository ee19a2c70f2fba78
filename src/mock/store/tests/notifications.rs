//! Pending orders over time, the control API's fraud decision, the journal
//! of notifications and authorization callbacks (docs/klarna.md §13.5).

use serde_json::{Value, json};

use super::lifecycle::{capture_with, read_at};
use super::*;

pub(super) const NOTIFY: &str = "http://127.0.0.1:9/kp/{order.id}?session={session.id}";
pub(super) const CALLBACK: &str = "http://localhost:9/authorized?sid={session.id}";

/// A GB session with both merchant URLs.
pub(super) fn gb_with_urls() -> Value {
    let mut session = gb_session();
    session["merchant_urls"] = json!({"notification": NOTIFY, "authorization": CALLBACK});
    session
}

/// A pending GB order for `email`; returns (session_id, order_id).
pub(super) fn pending(s: &mut MockState, session: Value, email: &str) -> (String, String) {
    let id = create(s, session.clone());
    let r = authorize_with(s, &id, json!({"billing_address": {"email": email}}), T0);
    let token = r.json()["authorization_token"].as_str().unwrap().to_owned();
    let mut o = session;
    o.as_object_mut().unwrap().remove("merchant_urls");
    let r = order(s, &token, o, T0);
    assert_eq!(r.json()["fraud_status"], "PENDING", "{r:?}");
    (id, r.json()["order_id"].as_str().unwrap().to_owned())
}

pub(super) fn journal(s: &mut MockState, now: i64) -> Vec<Value> {
    let r = s.handle(MockRequest::ListNotifications { ids: Vec::new() }, now);
    assert_eq!(r.status, 200, "{r:?}");
    r.json().as_array().unwrap().clone()
}

/// The journal entries of one kind.
pub(super) fn of_kind(entries: &[Value], kind: &str) -> Vec<Value> {
    entries
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

pub(super) fn decide(s: &mut MockState, id: &str, body: Value) -> MockReply {
    s.handle(
        MockRequest::FraudDecision {
            order_id: id.to_owned(),
            body,
        },
        T0,
    )
}

const OFF: &str = "not delivered: delivery is off";

#[test]
fn a_pending_order_is_accepted_after_its_minutes() {
    let mut s = faithful();
    let (session, id) = pending(&mut s, gb_with_urls(), "customer+pend-accept-05@email.uk");
    let before = read_at(&mut s, &id, T0 + 299);
    assert_eq!(
        (&before["fraud_status"], &before["status"]),
        (&json!("PENDING"), &json!("AUTHORIZED"))
    );
    assert!(of_kind(&journal(&mut s, T0 + 299), "notification").is_empty());
    let after = read_at(&mut s, &id, T0 + 300);
    assert_eq!(
        (&after["fraud_status"], &after["status"]),
        (&json!("ACCEPTED"), &json!("AUTHORIZED"))
    );
    let r = capture_with(&mut s, &id, json!({"captured_amount": 100}), None, T0 + 300);
    assert_eq!(r.status, 201, "{r:?}");
    let notes = of_kind(&journal(&mut s, T0 + 400), "notification");
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = &notes[0];
    assert_eq!(
        note["url"],
        format!("http://127.0.0.1:9/kp/{id}?session={session}")
    );
    assert_eq!(note["body"]["order_id"], id.as_str());
    assert_eq!(note["body"]["event_type"], "FRAUD_RISK_ACCEPTED");
    assert!(parse_id(note["body"]["event_id"].as_str().unwrap()).is_some());
    // The decision's own time, not when it was noticed.
    assert_eq!(note["body"]["timestamp"], "2026-01-01T00:05:00Z");
    assert_eq!(
        (&note["attempts"], &note["status"], &note["error"]),
        (&json!(0), &Value::Null, &json!(OFF))
    );
}

#[test]
fn a_pending_order_is_rejected_and_cancelled() {
    let mut s = faithful();
    let (_, id) = pending(&mut s, gb_with_urls(), "customer+pend-reject-30@email.uk");
    assert_eq!(read_at(&mut s, &id, T0 + 1799)["fraud_status"], "PENDING");
    let dto = read_at(&mut s, &id, T0 + 1800);
    assert_eq!(
        (
            &dto["fraud_status"],
            &dto["status"],
            &dto["remaining_authorized_amount"]
        ),
        (&json!("REJECTED"), &json!("CANCELLED"), &json!(0))
    );
    let notes = of_kind(&journal(&mut s, T0 + 1800), "notification");
    assert_eq!(notes[0]["body"]["event_type"], "FRAUD_RISK_REJECTED");
    assert_eq!(notes[0]["body"]["timestamp"], "2026-01-01T00:30:00Z");
}

/// Several decisions due at once are made in time order.
#[test]
fn decisions_are_made_oldest_first() {
    let mut s = faithful();
    let (_, late) = pending(&mut s, gb_with_urls(), "customer+pend-accept-20@email.uk");
    let (_, early) = pending(&mut s, gb_with_urls(), "customer+pend-reject-10@email.uk");
    let notes = of_kind(&journal(&mut s, T0 + 3600), "notification");
    let order: Vec<&Value> = notes.iter().map(|n| &n["body"]["order_id"]).collect();
    assert_eq!(order, [&json!(early), &json!(late)]);
}

/// The clock moving past the time through `tick` decides as well.
#[test]
fn tick_applies_due_decisions() {
    let mut s = faithful();
    let (_, id) = pending(&mut s, gb_with_urls(), "customer+pend-accept-01@email.uk");
    s.tick(T0 + 60);
    let uuid = parse_id(&id).unwrap();
    assert_eq!(s.orders[&uuid].fraud_status, "ACCEPTED");
}

#[test]
fn the_control_api_decides_now() {
    for (decision, status) in [
        ("ACCEPTED", "AUTHORIZED"),
        ("REJECTED", "CANCELLED"),
        ("STOPPED", "CANCELLED"),
    ] {
        let mut s = faithful();
        let (_, id) = pending(&mut s, gb_with_urls(), "customer+pend-accept-30@email.uk");
        let r = decide(&mut s, &id, json!({"fraud_status": decision}));
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.json(), json!({"order_id": id, "fraud_status": decision}));
        let dto = read_at(&mut s, &id, T0);
        assert_eq!(
            (&dto["fraud_status"], &dto["status"]),
            (&json!(decision), &json!(status))
        );
        // The scheduled decision is gone: one notification, at T0.
        let notes = of_kind(&journal(&mut s, T0 + 7200), "notification");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(
            notes[0]["body"]["event_type"],
            format!("FRAUD_RISK_{decision}")
        );
        assert_eq!(notes[0]["body"]["timestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(read_at(&mut s, &id, T0 + 7200)["fraud_status"], decision);
        refused(
            &decide(&mut s, &id, json!({"fraud_status": "ACCEPTED"})),
            403,
            "NOT_ALLOWED",
            "Order is not pending",
        );
    }
}

#[test]
fn the_control_api_refuses_bad_decisions() {
    let mut s = faithful();
    let (_, id) = pending(&mut s, gb_with_urls(), "customer+pend-accept-30@email.uk");
    for bad in [
        json!({}),
        json!({"fraud_status": "accepted"}),
        json!({"fraud_status": "PENDING"}),
        json!({"fraud_status": 1}),
    ] {
        refused(
            &decide(&mut s, &id, bad),
            400,
            "BAD_VALUE",
            "Bad value: fraud_status",
        );
    }
    assert_eq!(read_at(&mut s, &id, T0)["fraud_status"], "PENDING");
    refused(
        &decide(&mut s, "nope", json!({"fraud_status": "ACCEPTED"})),
        404,
        "NO_SUCH_ORDER",
        "Order nope cannot be found",
    );
    // The value is judged before the order's state.
    let accepted = placed(&mut s, false);
    refused(
        &decide(&mut s, &accepted, json!({"fraud_status": "x"})),
        400,
        "BAD_VALUE",
        "Bad value: fraud_status",
    );
    refused(
        &decide(&mut s, &accepted, json!({"fraud_status": "STOPPED"})),
        403,
        "NOT_ALLOWED",
        "Order is not pending",
    );
}

/// `serve --pending-review SECONDS` replaces the e-mail's minutes.
#[test]
fn a_fixed_review_delay() {
    let mut s = state(MockConfig::default().pending_review(10));
    let (_, id) = pending(&mut s, gb_with_urls(), "customer+pend-reject-30@email.uk");
    assert_eq!(read_at(&mut s, &id, T0 + 9)["fraud_status"], "PENDING");
    assert_eq!(read_at(&mut s, &id, T0 + 10)["fraud_status"], "REJECTED");
}

/// Without merchant_urls.notification the decision is made, nothing journaled.
#[test]
fn no_notification_url_no_notification() {
    let mut s = faithful();
    let (_, id) = pending(&mut s, gb_session(), "customer+pend-accept-05@email.uk");
    assert_eq!(read_at(&mut s, &id, T0 + 300)["fraud_status"], "ACCEPTED");
    assert!(journal(&mut s, T0 + 300).is_empty());
}

#[test]
fn an_approved_authorize_journals_the_callback() {
    let mut s = faithful();
    let id = create(&mut s, gb_with_urls());
    let r = authorize_with(
        &mut s,
        &id,
        json!({"billing_address": {"email": "customer@email.uk"}}),
        T0,
    );
    let token = r.json()["authorization_token"].as_str().unwrap().to_owned();
    let entries = journal(&mut s, T0);
    assert_eq!(
        entries,
        [json!({
            "kind": "authorization_callback",
            "url": CALLBACK.replace("{session.id}", &id),
            "body": {"authorization_token": token, "session_id": id},
            "attempts": 0,
            "status": null,
            "error": OFF,
        })]
    );
    // A declined authorize sends nothing; a session without the URL neither.
    let r = authorize_with(
        &mut s,
        &id,
        json!({"billing_address": {"email": "customer+denied@email.uk"}}),
        T0,
    );
    assert_eq!(r.json()["approved"], false);
    let plain = create(&mut s, gb_session());
    authorize_with(&mut s, &plain, json!({}), T0);
    assert_eq!(journal(&mut s, T0).len(), 1);
    // The URL given at authorize counts (the session as authorized).
    authorize_with(
        &mut s,
        &plain,
        json!({"merchant_urls": {"authorization": "http://localhost:1/late"}}),
        T0,
    );
    let entries = journal(&mut s, T0);
    assert_eq!(entries[1]["url"], "http://localhost:1/late");
}

/// `?id=` keeps the entries naming one of the ids: a sequence on a shared
/// scope reads its own, not every case's before it.
#[test]
fn the_journal_filters_by_id() {
    let mut s = faithful();
    let (first, _) = pending(&mut s, gb_with_urls(), "customer+pend-accept-05@email.uk");
    let (second, order) = pending(&mut s, gb_with_urls(), "customer+pend-accept-20@email.uk");
    let ids = |ids: &[&str]| MockRequest::ListNotifications {
        ids: ids.iter().map(|i| (*i).to_owned()).collect(),
    };
    let all = journal(&mut s, T0);
    let of =
        |s: &mut MockState, i: &[&str]| s.handle(ids(i), T0).json().as_array().unwrap().clone();
    let named = |id: &str| {
        all.iter()
            .filter(|e| {
                ["order_id", "session_id", "authorization_token"]
                    .iter()
                    .any(|k| e["body"][*k] == id)
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(all.len() >= 2, "{all:?}");
    assert_eq!(of(&mut s, &[&second]), named(&second));
    assert!(!named(&second).is_empty());
    let both = of(&mut s, &[&first, &second]);
    assert_eq!(both.len(), named(&first).len() + named(&second).len());
    assert_eq!(of(&mut s, &["no-such-id"]), Vec::<Value>::new());
    // A decision's notification names the order.
    decide(&mut s, &order, json!({"fraud_status": "ACCEPTED"}));
    let after = of(&mut s, &[&order]);
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["kind"], "notification");
}

/// With delivery on, loopback URLs go to the outbox; others are journaled
/// as refused and never queued, unless any host is allowed.
#[test]
fn only_loopback_hosts_are_queued() {
    let delivering = MockConfig::default().deliver_notifications(true);
    let mut s = state(delivering.clone());
    let urls = [
        ("http://127.0.0.1:9/a", None),
        ("http://localhost:9/b", None),
        ("http://[::1]:9/c", None),
        (
            "https://shop.example/d",
            Some(
                "not delivered: shop.example is not a loopback host (serve --notify-any-host allows any)",
            ),
        ),
        (
            "http://10.0.0.1/e",
            Some(
                "not delivered: 10.0.0.1 is not a loopback host (serve --notify-any-host allows any)",
            ),
        ),
        (
            "ftp://127.0.0.1/f",
            Some("not delivered: not an http(s) URL"),
        ),
        ("not a url", Some("not delivered: not an http(s) URL")),
    ];
    for (url, _) in urls {
        let mut session = gb_session();
        session["merchant_urls"] = json!({"authorization": url});
        let id = create(&mut s, session);
        authorize_with(&mut s, &id, json!({}), T0);
    }
    let queued: Vec<String> = s.take_deliveries().into_iter().map(|d| d.url).collect();
    assert_eq!(
        queued,
        [
            "http://127.0.0.1:9/a",
            "http://localhost:9/b",
            "http://[::1]:9/c"
        ]
    );
    assert!(s.take_deliveries().is_empty());
    let entries = journal(&mut s, T0);
    for (entry, (url, error)) in entries.iter().zip(urls) {
        assert_eq!(entry["url"], url);
        assert_eq!(entry["error"], json!(error), "{url}");
        assert_eq!(entry["attempts"], 0);
    }

    let mut any = state(delivering.notify_any_host(true));
    let mut session = gb_session();
    session["merchant_urls"] = json!({"authorization": "https://shop.example/d"});
    let id = create(&mut any, session);
    authorize_with(&mut any, &id, json!({}), T0);
    let queued = any.take_deliveries();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(&queued[0].body).unwrap()["session_id"],
        id.as_str()
    );
}

#[test]
fn attempts_are_recorded_in_the_journal() {
    let mut s = state(MockConfig::default().deliver_notifications(true));
    let (_, id) = pending(&mut s, gb_with_urls(), "customer+pend-accept-01@email.uk");
    s.take_deliveries(); // the authorization callback
    s.tick(T0 + 60);
    let deliveries = s.take_deliveries();
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(
        d.url,
        format!("http://127.0.0.1:9/kp/{id}?session={}", {
            let entries = journal(&mut s, T0 + 60);
            entries[0]["body"]["session_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    );
    s.record_attempt(d.entry, Err("could not connect".into()));
    s.record_attempt(d.entry, Ok(503));
    let note = &of_kind(&journal(&mut s, T0 + 60), "notification")[0];
    assert_eq!(
        (&note["attempts"], &note["status"], &note["error"]),
        (&json!(2), &json!(503), &Value::Null)
    );
    s.record_attempt(d.entry, Ok(204));
    let note = &of_kind(&journal(&mut s, T0 + 60), "notification")[0];
    assert_eq!(
        (&note["attempts"], &note["status"]),
        (&json!(3), &json!(204))
    );
    // An unknown entry is ignored.
    s.record_attempt(999_999, Ok(200));
}

/// The journal keeps the newest entries; attempts of a dropped one are ignored.
#[test]
fn the_journal_is_bounded() {
    use super::super::notifications::JOURNAL_LIMIT;
    let mut s = state(MockConfig::default().deliver_notifications(true));
    for i in 0..=JOURNAL_LIMIT {
        s.journal
            .record("notification", "http://localhost/n", json!({"i": i}));
    }
    let entries = journal(&mut s, T0);
    assert_eq!(entries.len(), JOURNAL_LIMIT);
    assert_eq!(entries[0]["body"]["i"], 1);
    let deliveries = s.take_deliveries();
    s.record_attempt(deliveries[0].entry, Ok(200));
    s.record_attempt(deliveries[1].entry, Ok(200));
    let entries = journal(&mut s, T0);
    assert_eq!(entries[0]["attempts"], 1);
    assert_eq!(entries[1]["attempts"], 0);
}
