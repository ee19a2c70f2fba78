//! Captures, refunds and shipping info (docs/klarna.md §13.2, §13.3): the
//! 201 answers and their objects, amounts, refusals, idempotency keys.

use serde_json::{Value, json};

use super::lifecycle::{
    OVER_CAPTURED, OVER_REMAINING, capture_with, no_content, op, read_at, refund, refund_with,
    shipping,
};
use super::*;

#[test]
fn a_capture_answers_201_with_its_headers() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let body = json!({"captured_amount": 4000, "description": "Shipped", "reference": "R-1",
        "order_lines": [{"name": "Jacket", "quantity": 1}],
        "shipping_info": [{"tracking_number": "T1"}]});
    let r = capture_with(&mut s, &id, body, None, T0 + 60);
    assert_eq!((r.status, &r.body), (201, &None), "{r:?}");
    let capture_id = header(&r, "Capture-Id").unwrap().to_owned();
    assert!(parse_id(&capture_id).is_some());
    assert_eq!(
        header(&r, "Location"),
        Some(format!("{BASE}/ordermanagement/v1/orders/{id}/captures/{capture_id}").as_str())
    );
    assert!(parse_id(header(&r, "Transaction-Id").unwrap()).is_some());
    let read = |s: &mut MockState, capture_id: &str| {
        s.handle(
            MockRequest::ReadCapture {
                order_id: id.clone(),
                capture_id: capture_id.to_owned(),
            },
            T0,
        )
    };
    let object = read(&mut s, &capture_id).json();
    let reference = read_at(&mut s, &id, T0)["klarna_reference"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        object,
        json!({
            "capture_id": capture_id,
            "klarna_reference": format!("{reference}-1"),
            "captured_amount": 4000,
            "captured_at": "2026-01-01T00:01:00Z",
            "description": "Shipped",
            "order_lines": [{"name": "Jacket", "quantity": 1}],
            "refunded_amount": 0,
            "billing_address": billing("customer@email.de"),
            "shipping_address": billing("customer@email.de"),
            "shipping_info": [{"tracking_number": "T1"}],
        })
    );
    let second = capture(&mut s, &id, 100);
    let second_id = header(&second, "Capture-Id").unwrap().to_owned();
    let list = s
        .handle(
            MockRequest::ListCaptures {
                order_id: id.clone(),
            },
            T0,
        )
        .json();
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(list[0], object);
    assert_eq!(list[1]["capture_id"], second_id.as_str());
    assert_eq!(list[1]["order_lines"], json!([]));
    assert_eq!(list[1]["shipping_info"], json!([]));
    assert!(list[1].get("description").is_none());
    assert_eq!(list[1]["klarna_reference"], format!("{reference}-2"));
    assert_eq!(read_at(&mut s, &id, T0)["captures"], list);
    refused(
        &read(&mut s, "00000000-0000-4000-8000-000000000000"),
        404,
        "NO_SUCH_CAPTURE",
        "Capture 00000000-0000-4000-8000-000000000000 cannot be found",
    );
    refused(
        &read(&mut s, "nope"),
        404,
        "NO_SUCH_CAPTURE",
        "Capture nope cannot be found",
    );
    let unknown = s.handle(
        MockRequest::ListCaptures {
            order_id: "nope".into(),
        },
        T0,
    );
    refused(&unknown, 404, "NO_SUCH_ORDER", "Order nope cannot be found");
}

/// docs/klarna.md §13.2: a missing amount is 422, one that is not a whole
/// number ≥ 1 is 400, in both fidelities.
#[test]
fn capture_and_refund_amounts() {
    for config in [MockConfig::default(), MockConfig::default().strict(true)] {
        let mut s = state(config);
        let id = placed(&mut s, false);
        for (field, call) in [
            (
                "captured_amount",
                capture_with as fn(&mut MockState, &str, Value, Option<&str>, i64) -> MockReply,
            ),
            ("refunded_amount", refund_with),
        ] {
            for missing in [json!({}), json!({field: null}), json!({"description": "x"})] {
                refused(
                    &call(&mut s, &id, missing, None, T0),
                    422,
                    "UNPROCESSABLE_ENTITY",
                    &format!("'{field}' must not be null"),
                );
            }
            for bad in [
                json!(0),
                json!(-5),
                json!(1.5),
                json!("100"),
                json!(1e300),
                json!([1]),
            ] {
                refused(
                    &call(&mut s, &id, json!({field: bad}), None, T0),
                    400,
                    "BAD_VALUE",
                    &format!("Bad value: {field}"),
                );
            }
            for (key, bad) in [
                ("description", json!(7)),
                ("reference", json!({})),
                ("order_lines", json!("x")),
            ] {
                refused(
                    &call(&mut s, &id, json!({field: 100, key: bad}), None, T0),
                    400,
                    "BAD_VALUE",
                    &format!("Bad value: {key}"),
                );
            }
        }
        let r = capture_with(
            &mut s,
            &id,
            json!({"captured_amount": 100, "shipping_info": {}}),
            None,
            T0,
        );
        refused(&r, 400, "BAD_VALUE", "Bad value: shipping_info");
        // Nothing was captured by the refusals; a whole float is fine.
        assert_eq!(read_at(&mut s, &id, T0)["captured_amount"], 0);
        let r = capture_with(&mut s, &id, json!({"captured_amount": 100.0}), None, T0);
        assert_eq!(r.status, 201, "{r:?}");
    }
}

#[test]
fn captures_are_refused_when_nothing_can_be_captured() {
    let mut s = faithful();
    let cancelled = placed(&mut s, false);
    no_content(&op(&mut s, "cancel", &cancelled, T0));
    let released = placed(&mut s, false);
    no_content(&op(&mut s, "release", &released, T0));
    assert_eq!(read_at(&mut s, &released, T0)["status"], "CLOSED");
    for id in [&cancelled, &released] {
        refused(
            &capture(&mut s, id, 1),
            403,
            "CAPTURE_NOT_ALLOWED",
            "Capture not allowed",
        );
    }
    let full = placed(&mut s, true);
    refused(
        &capture(&mut s, &full, 1),
        403,
        "CAPTURE_NOT_ALLOWED",
        OVER_REMAINING,
    );
}

/// docs/klarna.md §13.2: only the key matters; the key is looked up before
/// the body is read; per order and per operation.
#[test]
fn idempotency_keys_repeat_the_first_answer() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let first = capture_with(
        &mut s,
        &id,
        json!({"captured_amount": 1000}),
        Some("k1"),
        T0,
    );
    assert_eq!(first.status, 201);
    for body in [
        json!({"captured_amount": 5}),
        json!({}),
        json!({"captured_amount": "x"}),
    ] {
        let again = capture_with(&mut s, &id, body, Some("k1"), T0 + 5);
        assert_eq!((again.status, &again.body), (201, &None));
        assert_eq!(again.headers, first.headers);
        assert_ne!(again.correlation_id, first.correlation_id);
    }
    let dto = read_at(&mut s, &id, T0);
    assert_eq!(
        (
            &dto["captured_amount"],
            dto["captures"].as_array().map(Vec::len)
        ),
        (&json!(1000), Some(1))
    );
    // Another key, and no key: new captures.
    let other = capture_with(
        &mut s,
        &id,
        json!({"captured_amount": 1000}),
        Some("k2"),
        T0,
    );
    assert_ne!(header(&other, "Capture-Id"), header(&first, "Capture-Id"));
    for _ in 0..2 {
        assert_eq!(capture(&mut s, &id, 1000).status, 201);
    }
    assert_eq!(read_at(&mut s, &id, T0)["captured_amount"], 4000);
    // A refused request stores nothing under its key.
    let over = capture_with(
        &mut s,
        &id,
        json!({"captured_amount": 99999}),
        Some("k3"),
        T0,
    );
    assert_eq!(over.status, 403);
    let fine = capture_with(&mut s, &id, json!({"captured_amount": 100}), Some("k3"), T0);
    assert_eq!(fine.status, 201);
    // Per operation: the capture's key on a refund makes a refund.
    let r = refund_with(&mut s, &id, json!({"refunded_amount": 10}), Some("k1"), T0);
    assert!(header(&r, "Refund-Id").is_some(), "{r:?}");
    let again = refund_with(&mut s, &id, json!({"refunded_amount": 10}), Some("k1"), T0);
    assert_eq!(again.headers, r.headers);
    assert_eq!(read_at(&mut s, &id, T0)["refunded_amount"], 10);
    // Per order: the same key on another order makes a capture there.
    let other_order = placed(&mut s, false);
    let r = capture_with(
        &mut s,
        &other_order,
        json!({"captured_amount": 1000}),
        Some("k1"),
        T0,
    );
    assert_ne!(header(&r, "Capture-Id"), header(&first, "Capture-Id"));
    // The order comes first: an unknown order with a known key is 404.
    let r = capture_with(&mut s, "nope", json!({}), Some("k1"), T0);
    assert_eq!(r.status, 404);
}

#[test]
fn refunds_of_what_was_captured() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    refused(
        &refund(&mut s, &id, 100),
        403,
        "REFUND_NOT_ALLOWED",
        "Order has no captures. Refund not possible",
    );
    assert_eq!(capture(&mut s, &id, 5000).status, 201);
    refused(
        &refund(&mut s, &id, 5001),
        403,
        "REFUND_NOT_ALLOWED",
        OVER_CAPTURED,
    );
    let body = json!({"refunded_amount": 3000, "description": "Returned", "reference": "RF-1",
        "order_lines": [{"name": "Jacket"}]});
    let r = refund_with(&mut s, &id, body, None, T0 + 120);
    assert_eq!((r.status, &r.body), (201, &None), "{r:?}");
    let refund_id = header(&r, "Refund-Id").unwrap().to_owned();
    assert_eq!(
        header(&r, "Location"),
        Some(format!("{BASE}/ordermanagement/v1/orders/{id}/refunds/{refund_id}").as_str())
    );
    assert!(parse_id(header(&r, "Transaction-Id").unwrap()).is_some());
    refused(
        &refund(&mut s, &id, 2001),
        403,
        "REFUND_NOT_ALLOWED",
        OVER_CAPTURED,
    );
    assert_eq!(refund(&mut s, &id, 2000).status, 201);
    let object = json!({
        "refund_id": refund_id,
        "refunded_amount": 3000,
        "refunded_at": "2026-01-01T00:02:00Z",
        "description": "Returned",
        "order_lines": [{"name": "Jacket"}],
        "credit_invoice": false,
    });
    let read = s.handle(
        MockRequest::ReadRefund {
            order_id: id.clone(),
            refund_id: refund_id.clone(),
        },
        T0,
    );
    assert_eq!(read.json(), object);
    let list = s
        .handle(
            MockRequest::ListRefunds {
                order_id: id.clone(),
            },
            T0,
        )
        .json();
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(list[0], object);
    assert_eq!(list[1]["order_lines"], json!([]));
    let dto = read_at(&mut s, &id, T0);
    assert_eq!(dto["refunds"], list);
    assert_eq!(
        (
            &dto["captured_amount"],
            &dto["refunded_amount"],
            &dto["status"]
        ),
        (&json!(5000), &json!(5000), &json!("PART_CAPTURED"))
    );
    let unknown = s.handle(
        MockRequest::ReadRefund {
            order_id: id.clone(),
            refund_id: "r1".into(),
        },
        T0,
    );
    refused(&unknown, 404, "NO_SUCH_REFUND", "Refund r1 cannot be found");
}

#[test]
fn shipping_info_is_set_once() {
    let mut s = faithful();
    let id = placed(&mut s, false);
    let r = capture_with(
        &mut s,
        &id,
        json!({"captured_amount": 100, "shipping_info": [{"tracking_number": "A"}]}),
        None,
        T0,
    );
    let capture_id = header(&r, "Capture-Id").unwrap().to_owned();
    refused(
        &shipping(&mut s, "nope", &capture_id, json!({"shipping_info": []})),
        404,
        "NO_SUCH_ORDER",
        "Order nope cannot be found",
    );
    refused(
        &shipping(&mut s, &id, "c1", json!({"shipping_info": []})),
        404,
        "NO_SUCH_CAPTURE",
        "Capture c1 cannot be found",
    );
    for missing in [json!({}), json!({"shipping_info": null})] {
        refused(
            &shipping(&mut s, &id, &capture_id, missing),
            422,
            "UNPROCESSABLE_ENTITY",
            "'shipping_info' must not be null",
        );
    }
    refused(
        &shipping(&mut s, &id, &capture_id, json!({"shipping_info": "B"})),
        400,
        "BAD_VALUE",
        "Bad value: shipping_info",
    );
    let body = json!({"shipping_info": [{"tracking_number": "B"}]});
    let tx = no_content(&shipping(&mut s, &id, &capture_id, body));
    // A repeat, whatever its body, changes nothing and repeats the id.
    for body in [
        json!({}),
        json!({"shipping_info": [{"tracking_number": "C"}]}),
    ] {
        assert_eq!(no_content(&shipping(&mut s, &id, &capture_id, body)), tx);
    }
    let dto = read_at(&mut s, &id, T0);
    assert_eq!(
        dto["captures"][0]["shipping_info"],
        json!([{"tracking_number": "B"}])
    );
    // Per capture: another capture takes its own.
    let r = capture(&mut s, &id, 100);
    let other = header(&r, "Capture-Id").unwrap().to_owned();
    let body = json!({"shipping_info": [{"tracking_number": "D"}]});
    assert_ne!(no_content(&shipping(&mut s, &id, &other, body)), tx);
}

#[test]
fn auto_capture_records_one_capture() {
    let mut s = faithful();
    let id = placed(&mut s, true);
    let dto = read_at(&mut s, &id, T0);
    assert_eq!(dto["status"], "CAPTURED");
    let captures = dto["captures"].as_array().unwrap();
    assert_eq!(captures.len(), 1);
    assert_eq!(captures[0]["captured_amount"], 11900);
    assert_eq!(captures[0]["captured_at"], "2026-01-01T00:00:00Z");
    // A captured order refunds and cannot be cancelled.
    assert_eq!(refund(&mut s, &id, 11900).status, 201);
    assert_eq!(op(&mut s, "cancel", &id, T0).status, 403);
}

/// An order of 0 is CAPTURED by the first rule that applies (docs/klarna.md §13.1).
#[test]
fn an_order_of_zero_is_captured() {
    let mut s = faithful();
    let mut free = session_body();
    free["order_amount"] = json!(0);
    free["order_tax_amount"] = json!(0);
    free["order_lines"] = json!([{"name": "Gift", "quantity": 1, "unit_price": 0,
        "tax_rate": 0, "total_amount": 0, "total_tax_amount": 0}]);
    let (_, token) = authorized(&mut s, free.clone());
    let mut o = free;
    o["billing_address"] = billing("customer@email.de");
    let r = order(&mut s, &token, o, T0);
    assert_eq!(r.status, 200, "{r:?}");
    let id = r.json()["order_id"].as_str().unwrap().to_owned();
    let dto = read_at(&mut s, &id, T0);
    assert_eq!(
        (&dto["status"], &dto["captures"]),
        (&json!("CAPTURED"), &json!([]))
    );
}
