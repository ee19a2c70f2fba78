//! Defects of the answer's envelope: content type, correlation ids and the
//! client token. (tests/integration/mock_http.rs checks the same on the wire.)

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;

fn with(defect: Defect) -> MockState {
    state(MockConfig::default().defect(defect))
}

/// An error and a success answer of `s`.
fn error_and_success(s: &mut MockState) -> (MockReply, MockReply) {
    let error = order(s, "unknown", order_body(), T0);
    let success = s.handle(
        MockRequest::CreateSession {
            body: session_body(),
        },
        T0,
    );
    (error, success)
}

#[test]
fn text_plain_errors() {
    let (error, success) = error_and_success(&mut faithful());
    assert_eq!(header(&error, "content-type"), None, "{error:?}");
    assert_eq!(header(&success, "content-type"), None);

    let mut s = with(Defect::TextPlainErrors);
    let (error, success) = error_and_success(&mut s);
    assert_eq!(header(&error, "content-type"), Some("text/plain"));
    // The JSON body is unchanged.
    refused(&error, 404, "NOT_FOUND", "Invalid authorization token");
    assert_eq!(header(&success, "content-type"), None);
    // Refusals made outside the store (credentials, routing) too.
    let r = s.refuse(401, "UNAUTHORIZED", Vec::new());
    assert_eq!(header(&r, "content-type"), Some("text/plain"));
}

#[test]
fn no_correlation_id_on_success() {
    let (error, success) = error_and_success(&mut faithful());
    assert!(parse_id(&error.correlation_id).is_some());
    assert!(parse_id(&success.correlation_id).is_some());

    let mut s = with(Defect::NoCorrelationIdOnSuccess);
    let (error, success) = error_and_success(&mut s);
    refused(&error, 404, "NOT_FOUND", "Invalid authorization token");
    assert!(parse_id(&error.correlation_id).is_some());
    assert_eq!(success.status, 200);
    assert_eq!(success.correlation_id, "");
    // 204 answers too.
    let id = create(&mut s, session_body());
    let r = update_session(&mut s, &id, json!({"merchant_reference1": "x"}), T0);
    assert_eq!((r.status, r.correlation_id.as_str()), (204, ""));
}

#[test]
fn repeated_correlation_id() {
    let answers = |s: &mut MockState| {
        let (error, success) = error_and_success(s);
        let again = order(s, "other", order_body(), T0);
        [error, success, again]
    };
    let faithful_ids: Vec<String> = answers(&mut faithful())
        .iter()
        .map(|r| r.correlation_id.clone())
        .collect();
    assert_ne!(faithful_ids[0], faithful_ids[1]);
    assert_ne!(faithful_ids[0], faithful_ids[2]);

    let bad = answers(&mut with(Defect::RepeatedCorrelationId));
    let first = bad[0].correlation_id.clone();
    assert!(parse_id(&first).is_some());
    for r in &bad {
        assert_eq!(r.correlation_id, first, "{r:?}");
    }
    // Header and body alike.
    assert_eq!(bad[2].json()["correlation_id"], first.as_str());
}

/// The payload of a three-part JWT, or `None` when the token is not one.
fn jwt_payload(token: &str) -> Option<Value> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return None;
    };
    URL_SAFE_NO_PAD.decode(header).ok()?;
    URL_SAFE_NO_PAD.decode(signature).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// The client token of a new session, on create and on read-back.
fn client_tokens(s: &mut MockState) -> (String, String, String) {
    let r = s.handle(
        MockRequest::CreateSession {
            body: session_body(),
        },
        T0,
    );
    let id = r.json()["session_id"].as_str().unwrap().to_owned();
    let created = r.json()["client_token"].as_str().unwrap().to_owned();
    let read = read_session(s, &id, T0).json()["client_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, created, read)
}

#[test]
fn client_token_not_jwt() {
    let (id, created, read) = client_tokens(&mut faithful());
    assert_eq!(created, read);
    assert_eq!(jwt_payload(&created).unwrap()["session_id"], id.as_str());

    let (_, created, read) = client_tokens(&mut with(Defect::ClientTokenNotJwt));
    assert_eq!(created, read);
    assert!(jwt_payload(&created).is_none(), "{created}");
    let hex = created.strip_prefix("ct_").unwrap();
    assert_eq!(hex.len(), 32);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{created}");
    // Deterministic: the same session gets the same token again.
    let (_, again, _) = client_tokens(&mut with(Defect::ClientTokenNotJwt));
    assert_eq!(created, again);
}

#[test]
fn client_token_wrong_session() {
    let mut s = with(Defect::ClientTokenWrongSession);
    let (id, created, read) = client_tokens(&mut s);
    assert_eq!(created, read);
    let payload = jwt_payload(&created).expect("still a JWT");
    let named = payload["session_id"].as_str().unwrap();
    assert_ne!(named, id);
    assert!(parse_id(named).is_some(), "{named}");
    // Another session gets another (wrong) id.
    let (other_id, other, _) = client_tokens(&mut s);
    assert_ne!(other_id, id);
    assert_ne!(jwt_payload(&other).unwrap()["session_id"], named);
}
