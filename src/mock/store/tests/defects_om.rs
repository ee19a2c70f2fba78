//! Defects of Order Management (read-back and capture): the faithful answer
//! first, then the deviation.

use serde_json::json;

use super::*;

fn with(defect: Defect) -> MockState {
    state(MockConfig::default().defect(defect))
}

const OVER_REMAINING: &str =
    "Captured amount is higher than the remaining authorized amount. Capture not possible.";

#[test]
fn om_remaining_not_reduced() {
    let run = |s: &mut MockState| {
        let id = placed(s, false);
        assert_eq!(capture(s, &id, 5000).status, 201);
        let dto = read_order(s, &id).json();
        (id, dto)
    };
    let (_, dto) = run(&mut faithful());
    assert_eq!(dto["remaining_authorized_amount"], 6900);
    assert_eq!(dto["captured_amount"], 5000);

    let mut s = with(Defect::OmRemainingNotReduced);
    let (id, dto) = run(&mut s);
    assert_eq!(dto["remaining_authorized_amount"], 11900);
    assert_eq!(dto["captured_amount"], 5000);
    // The capture limit still uses the true remaining amount.
    refused(
        &capture(&mut s, &id, 6901),
        403,
        "CAPTURE_NOT_ALLOWED",
        OVER_REMAINING,
    );
    assert_eq!(capture(&mut s, &id, 6900).status, 201);
    let auto = placed(&mut s, true);
    assert_eq!(
        read_order(&mut s, &auto).json()["remaining_authorized_amount"],
        11900
    );
}

#[test]
fn om_status_stays_authorized() {
    let run = |s: &mut MockState| {
        let id = placed(s, false);
        assert_eq!(capture(s, &id, 5000).status, 201);
        let part = read_order(s, &id).json()["status"].clone();
        assert_eq!(capture(s, &id, 6900).status, 201);
        let full = read_order(s, &id).json()["status"].clone();
        let auto = placed(s, true);
        let auto = read_order(s, &auto).json()["status"].clone();
        [part, full, auto]
    };
    assert_eq!(
        run(&mut faithful()),
        [json!("PART_CAPTURED"), json!("CAPTURED"), json!("CAPTURED")]
    );
    assert_eq!(
        run(&mut with(Defect::OmStatusStaysAuthorized)),
        [
            json!("AUTHORIZED"),
            json!("AUTHORIZED"),
            json!("AUTHORIZED")
        ]
    );
}

#[test]
fn capture_over_remaining() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    refused(
        &capture(&mut s, &id, 11901),
        403,
        "CAPTURE_NOT_ALLOWED",
        OVER_REMAINING,
    );

    let mut s = with(Defect::CaptureOverRemaining);
    let id = placed(&mut s, false);
    assert_eq!(capture(&mut s, &id, 11901).status, 201);
    let dto = read_order(&mut s, &id).json();
    assert_eq!(dto["captured_amount"], 11901);
    assert_eq!(dto["remaining_authorized_amount"], 0);
    assert_eq!(dto["status"], "CAPTURED");
    // PENDING orders are still refused.
    let r = order_for_email(&mut s, gb_session(), "customer+pend-accept-05@email.uk");
    let pending = r.json()["order_id"].as_str().unwrap().to_owned();
    refused(
        &capture(&mut s, &pending, 1),
        403,
        "CAPTURE_NOT_ALLOWED",
        "Capture not allowed",
    );
}

fn pending_order(s: &mut MockState) -> String {
    let r = order_for_email(s, gb_session(), "customer+pend-reject-30@email.uk");
    assert_eq!(r.json()["fraud_status"], "PENDING", "{r:?}");
    r.json()["order_id"].as_str().unwrap().to_owned()
}

#[test]
fn capture_pending_allowed() {
    let mut s = faithful();
    let id = pending_order(&mut s);
    refused(
        &capture(&mut s, &id, 100),
        403,
        "CAPTURE_NOT_ALLOWED",
        "Capture not allowed",
    );

    let mut s = with(Defect::CapturePendingAllowed);
    let id = pending_order(&mut s);
    assert_eq!(capture(&mut s, &id, 100).status, 201);
    assert_eq!(read_order(&mut s, &id).json()["captured_amount"], 100);
    // The amount limit still holds (12000 authorized, 100 captured).
    refused(
        &capture(&mut s, &id, 11901),
        403,
        "CAPTURE_NOT_ALLOWED",
        OVER_REMAINING,
    );
    assert_eq!(capture(&mut s, &id, 11900).status, 201);
}

#[test]
fn om_fraud_status_accepted() {
    let mut s = faithful();
    let id = pending_order(&mut s);
    assert_eq!(read_order(&mut s, &id).json()["fraud_status"], "PENDING");

    let mut s = with(Defect::OmFraudStatusAccepted);
    let id = pending_order(&mut s);
    assert_eq!(read_order(&mut s, &id).json()["fraud_status"], "ACCEPTED");
    // Create order still said PENDING, and captures are still refused.
    assert_eq!(capture(&mut s, &id, 100).status, 403);
}

#[test]
fn om_drops_last_line() {
    let run = |s: &mut MockState| {
        let (_, token) = authorized(s, two_lines());
        let r = order(s, &token, two_lines(), T0);
        let id = r.json()["order_id"].as_str().unwrap().to_owned();
        read_order(s, &id).json()
    };
    let dto = run(&mut faithful());
    assert_eq!(dto["order_lines"], two_lines()["order_lines"]);
    let dto = run(&mut with(Defect::OmDropsLastLine));
    assert_eq!(dto["order_lines"], json!([two_lines()["order_lines"][0]]));
    assert_eq!(dto["order_amount"], 14280);
}

#[test]
fn no_such_order_wrong_code() {
    let unknown = [
        "nope".to_owned(),
        "00000000-0000-4000-8000-000000000000".to_owned(),
    ];
    for id in &unknown {
        let message = format!("Order {id} cannot be found");
        let mut s = faithful();
        refused(&read_order(&mut s, id), 404, "NO_SUCH_ORDER", &message);
        refused(&capture(&mut s, id, 1), 404, "NO_SUCH_ORDER", &message);
        let mut s = with(Defect::NoSuchOrderWrongCode);
        refused(&read_order(&mut s, id), 404, "NOT_FOUND", &message);
        refused(&capture(&mut s, id, 1), 404, "NOT_FOUND", &message);
    }
    // A forgotten order too (docs/klarna.md §13.1: 365 days).
    let mut s = with(Defect::NoSuchOrderWrongCode);
    let id = placed(&mut s, false);
    let r = s.handle(
        MockRequest::ReadOrder {
            order_id: id.clone(),
        },
        T0 + ORDER_MEMORY,
    );
    assert_eq!(r.error_code().as_deref(), Some("NOT_FOUND"), "{r:?}");
}

#[test]
fn capture_without_location() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let r = capture(&mut s, &id, 100);
    assert_eq!(r.status, 201);
    let capture_id = header(&r, "Capture-Id").unwrap().to_owned();
    assert_eq!(
        header(&r, "Location"),
        Some(format!("{BASE}/ordermanagement/v1/orders/{id}/captures/{capture_id}").as_str())
    );

    let mut s = with(Defect::CaptureWithoutLocation);
    let id = placed(&mut s, false);
    let r = capture(&mut s, &id, 100);
    assert_eq!((r.status, &r.body), (201, &None));
    assert!(header(&r, "Capture-Id").is_some());
    assert_eq!(header(&r, "Location"), None);
}
