//! Defects of create order (retries, order ids, the address and customer
//! comparison, sticky errors, the order of checks) and of cancel: the
//! faithful answer first, then the deviation.

use serde_json::{Value, json};

use super::*;

fn with(defect: Defect) -> MockState {
    state(MockConfig::default().defect(defect))
}

fn order_id(r: &MockReply) -> String {
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["order_id"].as_str().unwrap().to_owned()
}

#[test]
fn new_order_id_on_late_retry() {
    let run = |s: &mut MockState| {
        let (_, token) = authorized(s, session_body());
        let first = order_id(&order(s, &token, order_body(), T0));
        let early = order_id(&order(s, &token, order_body(), T0 + 119));
        let late = order_id(&order(s, &token, order_body(), T0 + 120));
        (first, early, late)
    };
    let (first, early, late) = run(&mut faithful());
    assert_eq!((&early, &late), (&first, &first));
    let (first, early, late) = run(&mut with(Defect::NewOrderIdOnLateRetry));
    assert_eq!(early, first);
    assert_ne!(late, first);
    assert!(parse_id(&late).is_some());
}

#[test]
fn shared_order_id() {
    let run = |s: &mut MockState| {
        let ids: Vec<String> = (0..3)
            .map(|_| {
                let (_, token) = authorized(s, session_body());
                order_id(&order(s, &token, order_body(), T0))
            })
            .collect();
        ids
    };
    let ids = run(&mut faithful());
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
    let ids = run(&mut with(Defect::SharedOrderId));
    assert_eq!((&ids[1], &ids[2]), (&ids[0], &ids[0]));
}

fn with_address(change: impl Fn(&mut Value)) -> Value {
    let mut o = order_body();
    change(&mut o["billing_address"]);
    o
}

fn mismatch(s: &mut MockState, body: Value) -> MockReply {
    let (_, token) = authorized(s, session_body());
    order(s, &token, body, T0)
}

fn case_only() -> Value {
    with_address(|a| {
        a["city"] = json!("BERLIN");
        a["street_address"] = json!("NEUE SCHÖNHAUSER STR. 2");
    })
}

fn spaces_only() -> Value {
    with_address(|a| {
        a["postal_code"] = json!("101 78");
        a["street_address"] = json!("NeueSchönhauser Str.2");
    })
}

#[test]
fn normalise_address_case() {
    refused(
        &mismatch(&mut faithful(), case_only()),
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.city, billing_address.street_address]",
    );
    let mut s = with(Defect::NormaliseAddressCase);
    assert_eq!(mismatch(&mut s, case_only()).status, 200);
    // Spaces still count.
    refused(
        &mismatch(&mut s, spaces_only()),
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.postal_code, billing_address.street_address]",
    );
}

#[test]
fn trim_address_spaces() {
    refused(
        &mismatch(&mut faithful(), spaces_only()),
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.postal_code, billing_address.street_address]",
    );
    let mut s = with(Defect::TrimAddressSpaces);
    assert_eq!(mismatch(&mut s, spaces_only()).status, 200);
    // Letter case still counts.
    refused(
        &mismatch(&mut s, case_only()),
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.city, billing_address.street_address]",
    );
}

#[test]
fn customer_changes_ignored() {
    let run = |s: &mut MockState, extra: &dyn Fn(&mut Value)| {
        let mut body = session_body();
        body["customer"] = json!({"date_of_birth": "1970-07-10"});
        let (_, token) = authorized(s, body);
        let mut o = order_body();
        o["customer"] = json!({"date_of_birth": "1980-01-01", "gender": "male"});
        extra(&mut o);
        order(s, &token, o, T0)
    };
    refused(
        &run(&mut faithful(), &|_| {}),
        409,
        "BAD_VALUE",
        "Not matching fields: [customer.date_of_birth, customer.gender]",
    );
    let mut s = with(Defect::CustomerChangesIgnored);
    assert_eq!(run(&mut s, &|_| {}).status, 200);
    // Other fields are still compared.
    refused(
        &run(&mut s, &|o| o["billing_address"]["city"] = json!("Bonn")),
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.city]",
    );
}

fn moved() -> Value {
    with_address(|a| a["postal_code"] = json!("10179"))
}

#[test]
fn errors_do_not_stick() {
    let run = |s: &mut MockState| {
        let (_, token) = authorized(s, session_body());
        assert_eq!(order(s, &token, moved(), T0).status, 409);
        order(s, &token, order_body(), T0)
    };
    refused(
        &run(&mut faithful()),
        409,
        "BAD_VALUE",
        "Not matching fields: [billing_address.postal_code]",
    );
    assert_eq!(run(&mut with(Defect::ErrorsDoNotStick)).status, 200);
}

#[test]
fn validation_errors_stick() {
    let run = |s: &mut MockState| {
        let (_, token) = authorized(s, session_body());
        let first = order(s, &token, json!({}), T0);
        assert_eq!(first.status, 400, "{first:?}");
        (first, order(s, &token, order_body(), T0))
    };
    let (_, fixed) = run(&mut faithful());
    assert_eq!(fixed.status, 200, "{fixed:?}");
    let (first, fixed) = run(&mut with(Defect::ValidationErrorsStick));
    assert_eq!(fixed.status, 400, "{fixed:?}");
    assert_eq!(fixed.error_messages(), first.error_messages());
    // Like business refusals, nothing sticks in strict fidelity.
    let strict = MockConfig::default()
        .strict(true)
        .defect(Defect::ValidationErrorsStick);
    let (_, fixed) = run(&mut state(strict));
    assert_eq!(fixed.status, 200, "{fixed:?}");
}

#[test]
fn conflict_before_validation() {
    let run = |s: &mut MockState| {
        let (_, token) = authorized(s, session_body());
        let first = order(s, &token, order_body(), T0);
        let empty = order(s, &token, json!({}), T0);
        let again = order(s, &token, order_body(), T0);
        assert_eq!((again.status, &again.body), (200, &first.body));
        empty
    };
    let good = run(&mut faithful());
    assert_eq!(
        (good.status, good.error_code().as_deref()),
        (400, Some("BAD_VALUE"))
    );
    refused(
        &run(&mut with(Defect::ConflictBeforeValidation)),
        409,
        "BAD_VALUE",
        "The order has been already completed with different request body",
    );
    // A token without an order still validates first.
    let mut s = with(Defect::ConflictBeforeValidation);
    let (_, token) = authorized(&mut s, session_body());
    assert_eq!(order(&mut s, &token, json!({}), T0).status, 400);
}

#[test]
fn retry_drops_redirect_url() {
    let run = |s: &mut MockState| {
        let mut body = session_body();
        body["merchant_urls"] = json!({"confirmation": "https://shop.example/thanks"});
        let (_, token) = authorized(s, body);
        let first = order(s, &token, order_body(), T0).json();
        assert!(first.get("redirect_url").is_some(), "{first}");
        (first, order(s, &token, order_body(), T0 + 5).json())
    };
    let (first, retry) = run(&mut faithful());
    assert_eq!(retry, first);
    let (first, retry) = run(&mut with(Defect::RetryDropsRedirectUrl));
    assert!(retry.get("redirect_url").is_none(), "{retry}");
    assert_eq!(retry["order_id"], first["order_id"]);
    assert_eq!(retry["fraud_status"], first["fraud_status"]);
}

#[test]
fn cancel_after_order_allowed() {
    let run = |s: &mut MockState| {
        let (_, token) = authorized(s, session_body());
        let first = order(s, &token, order_body(), T0);
        let cancel = s.handle(
            MockRequest::CancelAuthorization {
                authorization_token: token.clone(),
            },
            T0,
        );
        // The order stands either way.
        let again = order(s, &token, order_body(), T0);
        assert_eq!((again.status, &again.body), (200, &first.body));
        cancel
    };
    refused(
        &run(&mut faithful()),
        403,
        "INVALID_OPERATION",
        "Authorization token already consumed",
    );
    let r = run(&mut with(Defect::CancelAfterOrderAllowed));
    assert_eq!((r.status, &r.body), (204, &None));
}
