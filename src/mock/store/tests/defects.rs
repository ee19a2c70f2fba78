//! One scenario per defect mode: each changes the answer a faithful mock gives.

use serde_json::{Value, json};

use super::*;

/// Runs `scenario` on a faithful mock and on one with `defect`; returns both last answers.
fn both(defect: Defect, scenario: impl Fn(&mut MockState) -> MockReply) -> (MockReply, MockReply) {
    let good = scenario(&mut faithful());
    let bad = scenario(&mut state(MockConfig::default().defect(defect)));
    (good, bad)
}

fn order_after(
    s: &mut MockState,
    session: Value,
    change: impl Fn(&mut Value),
    now: i64,
) -> MockReply {
    let (_, token) = authorized(s, session);
    let mut o = order_body();
    change(&mut o);
    order(s, &token, o, now)
}

#[test]
fn every_defect_changes_an_answer() {
    let placed_order = |s: &mut MockState| order_after(s, session_body(), |_| {}, T0);
    for defect in Defect::ALL.iter().copied() {
        let (good, bad) = match defect {
            Defect::AcceptExpiredTokens => both(defect, |s| {
                order_after(s, session_body(), |_| {}, T0 + 7200)
            }),
            Defect::ExpireOneSecondLate => both(defect, |s| {
                order_after(s, session_body(), |_| {}, T0 + 3600)
            }),
            Defect::UnknownTokenBadRequest => both(defect, |s| {
                order(s, "00000000-0000-4000-8000-000000000000", order_body(), T0)
            }),
            Defect::AcceptCancelledTokens => both(defect, |s| {
                let (_, token) = authorized(s, session_body());
                s.handle(
                    MockRequest::CancelAuthorization {
                        authorization_token: token.clone(),
                    },
                    T0,
                );
                order(s, &token, order_body(), T0)
            }),
            Defect::AcceptReplacedTokens => both(defect, |s| {
                let (id, token) = authorized(s, session_body());
                authorize_with(s, &id, json!({}), T0);
                order(s, &token, order_body(), T0)
            }),
            Defect::DropOrderId
            | Defect::DropFraudStatus
            | Defect::DropAuthorizedPaymentMethod
            | Defect::AlwaysRedirectUrl
            | Defect::NumericOrderId
            | Defect::MismatchedCorrelationId => both(defect, |s| {
                if defect == Defect::MismatchedCorrelationId {
                    return order(s, "unknown", order_body(), T0);
                }
                placed_order(s)
            }),
            Defect::NeverPending => both(defect, |s| {
                let gb = json!({"purchase_country": "GB", "purchase_currency": "GBP", "locale": "en-GB",
                    "order_amount": 100, "order_tax_amount": 0,
                    "order_lines": [{"name": "Pen", "quantity": 1, "unit_price": 100, "tax_rate": 0,
                        "total_amount": 100, "total_tax_amount": 0}]});
                let id = create(s, gb.clone());
                let token = authorize_with(
                    s,
                    &id,
                    json!({"billing_address": {"email": "a+pend-reject-10@email.uk"}}),
                    T0,
                )
                .json()["authorization_token"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                order(s, &token, gb, T0)
            }),
            Defect::NeverRedirectUrl => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["merchant_urls"] = json!({"confirmation": "https://x.example"}),
                    T0,
                )
            }),
            Defect::IgnoreAddressChanges => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["billing_address"]["city"] = json!("Bonn"),
                    T0,
                )
            }),
            Defect::IgnoreCartChanges => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["order_lines"][0]["reference"] = json!("SKU-2"),
                    T0,
                )
            }),
            Defect::IgnoreAmountChanges => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["order_tax_amount"] = json!(1901),
                    T0,
                )
            }),
            Defect::ReportFirstMismatchOnly => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| {
                        o["billing_address"]["city"] = json!("Bonn");
                        o["billing_address"]["postal_code"] = json!("53111");
                    },
                    T0,
                )
            }),
            Defect::NoItemCountMessage => both(defect, |s| {
                let (_, token) = authorized(s, two_lines());
                order(s, &token, two_lines_and_a_gift(), T0)
            }),
            Defect::RequireCustomerMatch => both(defect, |s| {
                let mut body = session_body();
                body["customer"] = json!({"gender": "female"});
                order_after(s, body, |_| {}, T0)
            }),
            Defect::ReadOnlyFieldsRefused => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| {
                        o["status"] = json!("complete");
                        o["client_token"] = json!("x.y.z");
                    },
                    T0,
                )
            }),
            Defect::NewOrderIdOnRetry => both(defect, |s| {
                let (_, token) = authorized(s, session_body());
                order(s, &token, order_body(), T0);
                order(s, &token, order_body(), T0)
            }),
            Defect::AcceptConflictingRetry => both(defect, |s| {
                let (_, token) = authorized(s, session_body());
                order(s, &token, order_body(), T0);
                let mut other = order_body();
                other["merchant_reference2"] = json!("x");
                order(s, &token, other, T0)
            }),
            Defect::SkipAmountValidation => both(defect, |s| {
                s.handle(MockRequest::CreateSession { body: json!({
                    "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
                    "order_amount": 999, "order_tax_amount": 1900,
                    "order_lines": [{"name": "Jacket", "quantity": 1, "unit_price": 11900, "tax_rate": 1900,
                        "total_amount": 11900, "total_tax_amount": 1900}]}) }, T0)
            }),
            Defect::ApproveDenied => both(defect, |s| {
                let id = create(s, session_body());
                authorize_with(
                    s,
                    &id,
                    json!({"billing_address": billing("customer+denied@email.de")}),
                    T0,
                )
            }),
            Defect::EmptyErrorMessages => both(defect, |s| order(s, "unknown", order_body(), T0)),
            Defect::OmWrongAmount | Defect::OmNeverCaptured => both(defect, |s| {
                let id = placed(s, true);
                s.handle(MockRequest::ReadOrder { order_id: id }, T0)
            }),
            // Each has its own test showing the faithful answer and the
            // deviation: defects_http.rs, defects_sessions.rs,
            // defects_orders.rs and defects_om.rs.
            Defect::TextPlainErrors
            | Defect::NoCorrelationIdOnSuccess
            | Defect::RepeatedCorrelationId
            | Defect::ClientTokenNotJwt
            | Defect::ClientTokenWrongSession
            | Defect::PendingEverywhere
            | Defect::PendingNearMiss
            | Defect::SessionStaysIncomplete
            | Defect::UpdateIgnored
            | Defect::SessionLifetime2h
            | Defect::SessionLifetimeFromCreation
            | Defect::ExpiresAtFromCreation
            | Defect::ReadBackIgnoresUpdates
            | Defect::ShowsCustomerBeforeAuthorize
            | Defect::InconsistentUpdateAccepted
            | Defect::TokenLifetimeFromSession
            | Defect::NewOrderIdOnLateRetry
            | Defect::SharedOrderId
            | Defect::NormaliseAddressCase
            | Defect::TrimAddressSpaces
            | Defect::CustomerChangesIgnored
            | Defect::ErrorsDoNotStick
            | Defect::ValidationErrorsStick
            | Defect::ConflictBeforeValidation
            | Defect::OmRemainingNotReduced
            | Defect::OmStatusStaysAuthorized
            | Defect::CaptureOverRemaining
            | Defect::CapturePendingAllowed
            | Defect::OmFraudStatusAccepted
            | Defect::OmDropsLastLine
            | Defect::NoSuchOrderWrongCode
            | Defect::CaptureWithoutLocation
            | Defect::RetryDropsRedirectUrl
            | Defect::UpdateAfterOrderAllowed
            | Defect::CancelAfterOrderAllowed
            | Defect::AcceptWrongCredentials
            | Defect::MissingFieldsAccepted => continue,
            // The lifecycle defects of docs/klarna.md §13: lifecycle_defects.rs
            // and notifications.rs, one test each.
            Defect::RefundOverCaptured
            | Defect::RefundWithoutCapture
            | Defect::CancelAfterCapture
            | Defect::IdempotencyKeyIgnored
            | Defect::NoTransactionId
            | Defect::NewTransactionIdOnRepeat
            | Defect::RelativeLocation
            | Defect::MissingAmount400
            | Defect::RefundedAmountNotShown
            | Defect::PendingNeverDecided
            | Defect::RejectedNotCancelled
            | Defect::NoFraudNotification
            | Defect::NoAuthorizationCallback
            | Defect::NeverExpires
            | Defect::ExtendAfterExpiry
            | Defect::ReleaseKeepsRemaining
            | Defect::ReadBackWithoutCaptures
            | Defect::CaptureListDropsLatest
            | Defect::KpVocabularyPaymentMethod
            | Defect::CustomerTokenRetryRefused
            | Defect::TokenOrderIdempotencyIgnored
            | Defect::CancelledCustomerTokenOrders => continue,
            Defect::WrongStatusForMismatch => both(defect, |s| {
                order_after(
                    s,
                    session_body(),
                    |o| o["billing_address"]["city"] = json!("Bonn"),
                    T0,
                )
            }),
        };
        assert_ne!(
            (good.status, &good.body),
            (bad.status, &bad.body),
            "{defect} changed nothing"
        );
        if defect == Defect::MismatchedCorrelationId {
            assert_ne!(&bad.json()["correlation_id"], bad.correlation_id.as_str());
        }
    }
}
