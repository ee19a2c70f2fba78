//! Deliberate deviations from Klarna's behaviour. Each one breaks exactly one
//! rule the harness checks, so a run against a defective mock proves that the
//! harness can catch that failure ("every invariant can fail").

use std::fmt;
use std::str::FromStr;

macro_rules! defects {
    ($( $(#[doc = $doc:literal])* $variant:ident => $name:literal, )+) => {
        /// One deliberate deviation; `serve --defect NAME` takes the kebab-case name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Defect {
            $( $(#[doc = $doc])* $variant, )+
        }

        impl Defect {
            /// Every defect, in declaration order.
            pub const ALL: &'static [Defect] = &[$(Defect::$variant),+];

            /// The kebab-case name used on the command line.
            pub fn name(self) -> &'static str {
                match self { $(Defect::$variant => $name,)+ }
            }

            /// The one-line description (the variant's doc comment).
            pub fn description(self) -> &'static str {
                match self { $(Defect::$variant => concat!($($doc),*).trim_ascii(),)+ }
            }
        }
    };
}

defects! {
    /// Tokens stay valid after 60 minutes.
    AcceptExpiredTokens => "accept-expired-tokens",
    /// Tokens are still valid at exactly 3600 s (expire one second late).
    ExpireOneSecondLate => "expire-one-second-late",
    /// An unknown authorization token is answered 400 BAD_VALUE instead of 404 NOT_FOUND.
    UnknownTokenBadRequest => "unknown-token-bad-request",
    /// A cancelled token can still place an order.
    AcceptCancelledTokens => "accept-cancelled-tokens",
    /// A token replaced by a newer authorization can still place an order.
    AcceptReplacedTokens => "accept-replaced-tokens",
    /// Create order answers without `order_id`.
    DropOrderId => "drop-order-id",
    /// Create order answers without `fraud_status`.
    DropFraudStatus => "drop-fraud-status",
    /// Create order answers without `authorized_payment_method`.
    DropAuthorizedPaymentMethod => "drop-authorized-payment-method",
    /// Pending e-mail patterns in US/GB give ACCEPTED instead of PENDING.
    NeverPending => "never-pending",
    /// `redirect_url` is sent even without `merchant_urls.confirmation`.
    AlwaysRedirectUrl => "always-redirect-url",
    /// `redirect_url` is never sent.
    NeverRedirectUrl => "never-redirect-url",
    /// Billing and shipping address changes after authorization are accepted.
    IgnoreAddressChanges => "ignore-address-changes",
    /// Order line changes (and item count changes) after authorization are accepted.
    IgnoreCartChanges => "ignore-cart-changes",
    /// Changes of order_amount, order_tax_amount, purchase_currency and purchase_country are accepted.
    IgnoreAmountChanges => "ignore-amount-changes",
    /// A mismatch reports only the first differing field.
    ReportFirstMismatchOnly => "report-first-mismatch-only",
    /// A changed item count reports per-line paths instead of the item-count message.
    NoItemCountMessage => "no-item-count-message",
    /// A missing or empty customer counts as a mismatch of the authorized customer.
    RequireCustomerMatch => "require-customer-match",
    /// A create-order body carrying read-only session fields (`status`, `client_token`, ...) is refused with 400.
    ReadOnlyFieldsRefused => "read-only-fields-refused",
    /// An identical retry gets a new order_id.
    NewOrderIdOnRetry => "new-order-id-on-retry",
    /// A retry with a different body gets the first order instead of 409.
    AcceptConflictingRetry => "accept-conflicting-retry",
    /// Line and order amount arithmetic is not checked.
    SkipAmountValidation => "skip-amount-validation",
    /// The denied e-mail pattern is approved.
    ApproveDenied => "approve-denied",
    /// The body's correlation_id differs from the Klarna-Correlation-Id header.
    MismatchedCorrelationId => "mismatched-correlation-id",
    /// Error bodies carry an empty error_messages list.
    EmptyErrorMessages => "empty-error-messages",
    /// Order Management shows order_amount + 1.
    OmWrongAmount => "om-wrong-amount",
    /// auto_capture is ignored: the order stays AUTHORIZED.
    OmNeverCaptured => "om-never-captured",
    /// A mismatch at create order is answered 400 instead of 409.
    WrongStatusForMismatch => "wrong-status-for-mismatch",
    /// order_id is sent as a JSON number (breaks the schema).
    NumericOrderId => "numeric-order-id",
    /// Error answers are sent with `Content-Type: text/plain` (the JSON body unchanged).
    TextPlainErrors => "text-plain-errors",
    /// 2xx answers carry no `Klarna-Correlation-Id` header (errors still do).
    NoCorrelationIdOnSuccess => "no-correlation-id-on-success",
    /// Every answer carries the same correlation id (the first one this mock generated).
    RepeatedCorrelationId => "repeated-correlation-id",
    /// `client_token` is an opaque string, not a three-part JWT.
    ClientTokenNotJwt => "client-token-not-jwt",
    /// `client_token` is a JWT whose payload names another session id.
    ClientTokenWrongSession => "client-token-wrong-session",
    /// The pending e-mail patterns give PENDING in every market, not only US and GB.
    PendingEverywhere => "pending-everywhere",
    /// In US and GB, `+pend` tags that miss the exact `pend-accept-NN` / `pend-reject-NN` pattern give PENDING too.
    PendingNearMiss => "pending-near-miss",
    /// The read-back `status` stays `incomplete` after the session's order was placed.
    SessionStaysIncomplete => "session-stays-incomplete",
    /// Update session answers 204 and changes nothing.
    UpdateIgnored => "update-ignored",
    /// Sessions expire 2 hours after their last update instead of 48.
    SessionLifetime2h => "session-lifetime-2h",
    /// A session's 48 hours run from its creation: updates and authorize do not extend it.
    SessionLifetimeFromCreation => "session-lifetime-from-creation",
    /// The read-back `expires_at` is 48 h after creation (the session itself lives correctly).
    ExpiresAtFromCreation => "expires-at-from-creation",
    /// Updates are applied, but the read-back shows the session's fields as created.
    ReadBackIgnoresUpdates => "read-back-ignores-updates",
    /// The read-back shows billing_address, shipping_address and customer before authorization.
    ShowsCustomerBeforeAuthorize => "shows-customer-before-authorize",
    /// An update that breaks an amount rule is answered 204 and stored.
    InconsistentUpdateAccepted => "inconsistent-update-accepted",
    /// A token's 60 minutes run from the session's creation instead of from its authorization.
    TokenLifetimeFromSession => "token-lifetime-from-session",
    /// An identical retry 120 s or more after the order was placed gets a new order_id.
    NewOrderIdOnLateRetry => "new-order-id-on-late-retry",
    /// Every order after the first reuses the first order's order_id.
    SharedOrderId => "shared-order-id",
    /// The address comparison at create order ignores letter case.
    NormaliseAddressCase => "normalise-address-case",
    /// The address comparison at create order ignores spaces.
    TrimAddressSpaces => "trim-address-spaces",
    /// A changed non-empty customer at create order is not reported as a mismatch.
    CustomerChangesIgnored => "customer-changes-ignored",
    /// In Playground fidelity, a refused create order does not stick to its token.
    ErrorsDoNotStick => "errors-do-not-stick",
    /// A 400 at create order sticks to the token like a business refusal.
    ValidationErrorsStick => "validation-errors-stick",
    /// On a token that already placed its order, an invalid body is answered 409 instead of 400.
    ConflictBeforeValidation => "conflict-before-validation",
    /// Captures do not reduce remaining_authorized_amount in the Order Management read-back.
    OmRemainingNotReduced => "om-remaining-not-reduced",
    /// The Order Management status stays AUTHORIZED after captures (and auto_capture).
    OmStatusStaysAuthorized => "om-status-stays-authorized",
    /// A capture above the remaining authorized amount is accepted.
    CaptureOverRemaining => "capture-over-remaining",
    /// Captures of PENDING orders are accepted.
    CapturePendingAllowed => "capture-pending-allowed",
    /// Order Management shows fraud_status ACCEPTED for PENDING orders.
    OmFraudStatusAccepted => "om-fraud-status-accepted",
    /// The Order Management read-back lacks the order's last order line.
    OmDropsLastLine => "om-drops-last-line",
    /// An unknown order in Order Management gets 404 NOT_FOUND instead of NO_SUCH_ORDER.
    NoSuchOrderWrongCode => "no-such-order-wrong-code",
    /// A successful capture answers 201 without the `Location` header.
    CaptureWithoutLocation => "capture-without-location",
    /// The identical retry returns the stored order without its `redirect_url`.
    RetryDropsRedirectUrl => "retry-drops-redirect-url",
    /// Update session on a completed session is answered 204 and applied instead of 404 SESSION_COMPLETED.
    UpdateAfterOrderAllowed => "update-after-order-allowed",
    /// Cancelling an authorization whose order was placed answers 204 instead of 403 INVALID_OPERATION.
    CancelAfterOrderAllowed => "cancel-after-order-allowed",
    /// Any password is accepted for the configured username.
    AcceptWrongCredentials => "accept-wrong-credentials",
    /// A session body without a required field is accepted (200).
    MissingFieldsAccepted => "missing-fields-accepted",
    /// Refunds above what was captured (minus refunds) are accepted.
    RefundOverCaptured => "refund-over-captured",
    /// A refund of an order with no captures is accepted.
    RefundWithoutCapture => "refund-without-capture",
    /// Cancel of an order with captures answers 204 and cancels it.
    CancelAfterCapture => "cancel-after-capture",
    /// A repeated `Klarna-Idempotency-Key` makes a second capture or refund.
    IdempotencyKeyIgnored => "idempotency-key-ignored",
    /// The 201 and 204 answers of Order Management carry no `Transaction-Id`.
    NoTransactionId => "no-transaction-id",
    /// A repeated no-op (cancel, acknowledge, extend, release, shipping-info, merchant-references) gets a new `Transaction-Id`.
    NewTransactionIdOnRepeat => "new-transaction-id-on-repeat",
    /// `Location` of a capture or refund is a bare path.
    RelativeLocation => "relative-location",
    /// A capture or refund without its amount answers 400 BAD_VALUE instead of 422.
    MissingAmount400 => "missing-amount-400",
    /// The read-back's `refunded_amount` stays 0.
    RefundedAmountNotShown => "refunded-amount-not-shown",
    /// Pending orders stay PENDING after their review time.
    PendingNeverDecided => "pending-never-decided",
    /// A REJECTED (or STOPPED) order is not cancelled.
    RejectedNotCancelled => "rejected-not-cancelled",
    /// Fraud decisions are made but no notification is journaled or sent.
    NoFraudNotification => "no-fraud-notification",
    /// No authorization callback is journaled or sent.
    NoAuthorizationCallback => "no-authorization-callback",
    /// Orders never expire (still AUTHORIZED and capturable after `expires_at`).
    NeverExpires => "never-expires",
    /// Extend-authorization-time of an expired order answers 204.
    ExtendAfterExpiry => "extend-after-expiry",
    /// Release-remaining-authorization answers 204 and changes nothing.
    ReleaseKeepsRemaining => "release-keeps-remaining",
    /// The read-back's `captures` is always `[]`.
    ReadBackWithoutCaptures => "read-back-without-captures",
    /// `GET .../captures` leaves out the latest capture.
    CaptureListDropsLatest => "capture-list-drops-latest",
    /// `initial_payment_method.type` is the Payments type (`invoice`) instead of Order Management's (`INVOICE`).
    KpVocabularyPaymentMethod => "kp-vocabulary-payment-method",
    /// The identical customer-token request again gets 403 instead of the same `token_id`.
    CustomerTokenRetryRefused => "customer-token-retry-refused",
    /// A repeated `Klarna-Idempotency-Key` on a customer-token order makes a second order.
    TokenOrderIdempotencyIgnored => "token-order-idempotency-ignored",
    /// A cancelled customer token still places orders.
    CancelledCustomerTokenOrders => "cancelled-customer-token-orders",
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown defect name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown defect `{0}` (known: {known})", known = Defect::ALL.iter().map(|d| d.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownDefect(pub String);

impl FromStr for Defect {
    type Err = UnknownDefect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Defect::ALL
            .iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| UnknownDefect(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Defect::ALL {
            assert_eq!(d.to_string().parse::<Defect>(), Ok(*d));
            assert!(!d.description().is_empty());
        }
        assert_eq!(Defect::ALL.len(), 87);
        // The store keeps them as bits of a u128.
        assert!(Defect::ALL.len() <= 128);
        assert!("nope".parse::<Defect>().is_err());
    }
}
