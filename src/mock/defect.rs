//! Deliberate deviations from Klarna's behaviour. Each one breaks exactly one
//! rule the harness checks, so a run against a defective mock proves that the
//! harness can catch that failure (issue 3: "every invariant can fail").

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
        assert_eq!(Defect::ALL.len(), 27);
        assert!("nope".parse::<Defect>().is_err());
    }
}
