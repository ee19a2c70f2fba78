//! `MockServer`'s helpers (authorize, clock, reset) in the default scope and
//! in named ones: the control API without HTTP, its outcomes and refusals.

use crate::mock_common;
use crate::mock_scopes::wire;

use klarna_conformance::mock::{ControlError, DEFAULT_START, MockConfig};
use mock_common::*;
use serde_json::json;

/// A session made over HTTP, authorized by the helper: the token places the
/// order; the helper takes the ids its control-API request would.
#[tokio::test]
async fn the_authorize_helper_gives_a_token_create_order_takes() {
    let mock = Mock::start().await;
    let id = mock.create_session(&session_body()).await;
    let data = json!({"billing_address": billing("customer@email.de")});
    let result = mock.server.authorize(&id, Some(data)).unwrap();
    assert!(result.approved && result.show_form, "{result:?}");
    assert_eq!(result.error, None);
    let token = result.authorization_token.expect("a token");
    let placed = mock.order(&token, &order_body()).await;
    assert_eq!(placed.status, 200, "{placed:?}");
    // Authorized: the read-back shows the token, and the session is complete.
    let read = mock.get(&format!("/payments/v1/sessions/{id}")).await;
    assert_eq!(read.str("authorization_token"), token);
    assert_eq!(
        mock.server.authorize(&id, None),
        Err(ControlError::SessionCompleted {
            scope: String::new(),
            session_id: id.clone(),
        })
    );

    // Refused and unusable data come back as the SDK's results, not errors.
    let denied = mock.create_session(&session_body()).await;
    let data = json!({"billing_address": billing("customer+denied@email.de")});
    let result = mock.server.authorize(&denied, Some(data)).unwrap();
    assert!(!result.approved && !result.show_form, "{result:?}");
    assert_eq!(result.authorization_token, None);
    let result = mock
        .server
        .authorize(&denied, Some(json!({"order_amount": 1})));
    let invalid = result
        .unwrap()
        .error
        .expect("invalid_fields")
        .invalid_fields;
    assert!(invalid.contains(&"order_amount".to_owned()), "{invalid:?}");

    // Seeded: the helper and `POST /__mock/sessions/{id}/authorize` hand out
    // the same token, and what follows answers byte for byte the same.
    let over_http = Mock::with(MockConfig::default().seed(7)).await;
    let direct = Mock::with(MockConfig::default().seed(7)).await;
    let id = over_http.create_session(&session_body()).await;
    assert_eq!(direct.create_session(&session_body()).await, id);
    let data = json!({"billing_address": billing("customer@email.de")});
    let token = over_http.authorize(&id, &data).await;
    let token = token.str("authorization_token");
    let result = direct.server.authorize(&id, Some(data)).unwrap();
    assert_eq!(result.authorization_token.as_deref(), Some(token.as_str()));
    let (one, two) = (
        over_http.order(&token, &order_body()).await,
        direct.order(&token, &order_body()).await,
    );
    assert_eq!(wire(&one), wire(&two));
}

#[tokio::test]
async fn the_clock_helper_expires_tokens_and_stops_at_9999() {
    use std::time::{Duration, UNIX_EPOCH};
    let mock = Mock::start().await;
    let start = UNIX_EPOCH + Duration::from_secs(DEFAULT_START as u64);
    assert_eq!(mock.server.now(), start);
    let (_, fresh) = mock.authorized(&session_body()).await;
    let (_, stale) = mock.authorized(&session_body()).await;
    // Valid while less than 60 minutes have passed (docs/klarna.md §5.1).
    let now = mock.server.advance_clock(Duration::from_millis(3_599_999));
    assert_eq!(now, Ok(start + Duration::from_secs(3599)));
    let placed = mock.order(&fresh, &order_body()).await;
    assert_eq!(placed.status, 200, "{placed:?}");
    let now = mock.server.advance_clock(Duration::from_secs(1)).unwrap();
    assert_eq!(now, start + Duration::from_secs(3600));
    assert_eq!(mock.server.now(), now);
    assert_eq!(
        mock.get("/__mock/clock").await.str("now"),
        "2026-01-01T01:00:00Z"
    );
    mock.order(&stale, &order_body()).await.refused(
        404,
        "NOT_FOUND",
        &["Invalid authorization token"],
    );
    // Another scope's clock did not move.
    let job = mock.server.scope("job-1").unwrap();
    assert_eq!(job.now(), start);

    // Time stops at 9999-12-31T23:59:59Z: beyond is an error, the clock stays.
    assert_eq!(
        mock.server.advance_clock(Duration::MAX),
        Err(ControlError::BeyondLatest {
            scope: String::new(),
            now: "2026-01-01T01:00:00Z".to_owned(),
            seconds: u64::MAX,
        })
    );
    assert_eq!(mock.server.now(), now);
    let to_the_end = 253_402_300_799 - DEFAULT_START as u64;
    let end = job.advance_clock(Duration::from_secs(to_the_end)).unwrap();
    assert_eq!(end, UNIX_EPOCH + Duration::from_secs(253_402_300_799));
    let error = job.advance_clock(Duration::from_secs(1)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the clock of scope job-1 cannot advance 1 s from 9999-12-31T23:59:59Z: \
         time stops at 9999-12-31T23:59:59Z"
    );
    assert_eq!(job.now(), end);
}

/// The status of reading session `id` back in `mock`'s scope.
async fn read_back(mock: &Mock, id: &str) -> u16 {
    mock.get(&format!("/payments/v1/sessions/{id}"))
        .await
        .status
}

#[tokio::test]
async fn the_reset_helpers_empty_one_scope_or_all() {
    use std::time::Duration;
    let mock = Mock::start().await;
    let (a, b) = (mock.scope("a"), mock.scope("b"));
    let in_a = a.create_session(&session_body()).await;
    let in_b = b.create_session(&session_body()).await;
    let in_default = mock.create_session(&session_body()).await;
    let scope_a = mock.server.scope("a").unwrap();
    assert_eq!(scope_a.name(), "a");
    scope_a.advance_clock(Duration::from_secs(60)).unwrap();
    assert_eq!(scope_a.requests().len(), 1);
    scope_a.reset();
    assert!(scope_a.requests().is_empty());
    assert_eq!(read_back(&a, &in_a).await, 404);
    assert_eq!(a.get("/__mock/clock").await.str("now"), T0);
    assert_eq!(read_back(&b, &in_b).await, 200);
    assert_eq!(read_back(&mock, &in_default).await, 200);

    mock.server.reset();
    assert_eq!(read_back(&mock, &in_default).await, 404);
    assert_eq!(read_back(&b, &in_b).await, 200);
    let again = b.create_session(&session_body()).await;
    mock.server.reset_all();
    assert_eq!(read_back(&b, &in_b).await, 404);
    assert_eq!(read_back(&b, &again).await, 404);
}

#[tokio::test]
async fn the_helpers_refuse_what_the_control_api_refuses() {
    let mock = Mock::start().await;
    let unknown = "0b1d9815-165e-42e2-8867-35bc03789e00";
    let error = mock.server.authorize(unknown, None).unwrap_err();
    assert_eq!(
        error,
        ControlError::UnknownSession {
            scope: String::new(),
            session_id: unknown.to_owned(),
        }
    );
    // A session is found only in the scope that made it.
    let in_a = mock.scope("a").create_session(&session_body()).await;
    let b = mock.server.scope("b").unwrap();
    let error = b.authorize(&in_a, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("no session {in_a} in scope b: unknown, expired or made in another scope")
    );
    let a = mock.server.scope("a").unwrap();
    assert!(a.authorize(&in_a, None).unwrap().approved);
    // A session expires 48 h after its last update (authorize is one).
    a.advance_clock(std::time::Duration::from_secs(48 * 3600))
        .unwrap();
    assert!(matches!(
        a.authorize(&in_a, None),
        Err(ControlError::UnknownSession { .. })
    ));

    let id = mock.create_session(&session_body()).await;
    let category = json!({"payment_method_category": "crypto"});
    assert_eq!(
        mock.server.authorize(&id, Some(category)),
        Err(ControlError::Refused {
            scope: String::new(),
            session_id: id.clone(),
            status: 400,
            error_code: "BAD_VALUE".to_owned(),
            error_messages: vec!["Bad value: payment_method_category".to_owned()],
        })
    );
    assert_eq!(
        mock.server.authorize(&id, Some(json!([1]))),
        Err(ControlError::NotAnObject {
            session_id: id.clone()
        })
    );
    let long = "x".repeat(65);
    for bad in ["", "a b", "a+b", long.as_str()] {
        assert_eq!(
            mock.server.scope(bad).unwrap_err(),
            ControlError::BadScopeName {
                name: bad.to_owned()
            }
        );
    }
    // None of it was a request: each journal has only its HTTP one.
    assert_eq!(mock.server.requests().len(), 1);
    let journal = mock.server.scope("a").unwrap().requests();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0]["path"], "/payments/v1/sessions");
}
