//! Redaction, normalisation and the diff of snapshots.

use super::*;

fn exchange(
    method: &str,
    path: &str,
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> Exchange {
    Exchange {
        method: method.into(),
        path: path.into(),
        request_headers: Vec::new(),
        request_body: None,
        status,
        response_headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        response_body: body.into(),
    }
}

const SID: &str = "1eddf502-f3a0-45bf-b1fd-f2e3a2758200";
const TOKEN: &str = "b4bd3423-24e3-4a5b-9c1d-0123456789ab";
const ORDER: &str = "3eaeb557-5e30-47f8-b840-b8d987f5945d";

#[test]
fn ids_are_numbered_by_first_appearance_and_stay_the_same() {
    let mut r = Redactor::new().with_secrets(["mock-secret".to_owned()]);
    let created = r.snapshot(&exchange(
        "POST",
        "/payments/v1/sessions",
        200,
        &[("klarna-correlation-id", "c-1"), ("content-type", "application/json"), ("authorization", "Basic x")],
        &format!(
            r#"{{"session_id":"{SID}","client_token":"eyJhbGciOi.x.y","payment_method_categories":[
                {{"identifier":"pay_over_time","name":"Slice it","descriptor":"x","asset_urls":{{"standard":"u"}}}},
                {{"identifier":"pay_later","name":"Pay later"}}]}}"#
        ),
    ));
    assert_eq!(created["body"]["session_id"], "[session_id-1]");
    assert_eq!(created["body"]["client_token"], "[client_token-1]");
    let cats = &created["body"]["payment_method_categories"];
    assert_eq!(cats[0]["identifier"], "pay_later");
    assert_eq!(cats[1]["name"], "[name]");
    assert_eq!(cats[1]["asset_urls"], "[asset_urls]");
    assert!(cats[1].get("descriptor").is_none());
    assert_eq!(
        created["headers"]["klarna-correlation-id"],
        "[correlation_id]"
    );
    assert!(created["headers"].get("authorization").is_none());

    let authorized = r.snapshot(&exchange(
        "POST",
        &format!("/__mock/sessions/{SID}/authorize"),
        200,
        &[],
        &format!(r#"{{"authorization_token":"{TOKEN}","approved":true}}"#),
    ));
    assert_eq!(
        authorized["request"]["path"],
        "/__mock/sessions/[session_id-1]/authorize"
    );
    let order_body = format!(
        r#"{{"order_id":"{ORDER}","redirect_url":"https://credit.klarna.com/v1/sessions/{SID}/redirect","fraud_status":"ACCEPTED"}}"#
    );
    let path = format!("/payments/v1/authorizations/{TOKEN}/order");
    let first = r.snapshot(&exchange("POST", &path, 200, &[], &order_body));
    let retry = r.snapshot(&exchange("POST", &path, 200, &[], &order_body));
    assert_eq!(first, retry);
    assert_eq!(
        first["request"]["path"],
        "/payments/v1/authorizations/[authorization_token-1]/order"
    );
    assert_eq!(first["body"]["order_id"], "[order_id-1]");
    assert_eq!(
        first["body"]["redirect_url"],
        "https://credit.klarna.com/v1/sessions/[session_id-1]/redirect"
    );

    let refused = r.snapshot(&exchange(
        "POST",
        &path,
        409,
        &[("klarna-correlation-id", "c-2")],
        r#"{"correlation_id":"c-3","error_code":"BAD_VALUE","error_messages":["x"],"service_version":"SNAPSHOT","expires_at":"2026-01-01T01:00:00Z"}"#,
    ));
    assert_eq!(
        refused["body"]["correlation_id"],
        "[correlation_id ≠ header]"
    );
    assert!(refused["body"].get("service_version").is_none());
    assert_eq!(refused["body"]["expires_at"], "[timestamp-1]");
    let text = serde_json::to_string(&refused).unwrap();
    assert!(!text.contains("mock-secret"));
}

#[test]
fn capture_headers_and_unknown_uuids() {
    let mut r = Redactor::new();
    let capture = "4ba29b50-be7b-44f5-a492-113e6a865e22";
    let s = r.snapshot(&exchange(
        "POST",
        &format!("/ordermanagement/v1/orders/{ORDER}/captures"),
        201,
        &[
            (
                "location",
                &format!("https://x/ordermanagement/v1/orders/{ORDER}/captures/{capture}"),
            ),
            ("capture-id", capture),
        ],
        "",
    ));
    assert_eq!(s["headers"]["capture-id"], "[capture_id-1]");
    assert_eq!(
        s["headers"]["location"],
        "https://x/ordermanagement/v1/orders/[id-1]/captures/[capture_id-1]"
    );
    assert!(s.get("body").is_none());
}

#[test]
fn diff_is_readable() {
    let d = line_diff("a\nb\nc\n", "a\nB\nc\n");
    assert!(d.contains("-b\n+B\n"), "{d}");
    assert_eq!(
        snap_contents("---\nsource: x\n---\n{\n  \"a\": 1\n}\n"),
        "{\n  \"a\": 1\n}"
    );
}
