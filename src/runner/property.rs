//! The properties: one table of named rules, each with the sequences that
//! focus on it and what a target must offer to run them. Every property runs
//! over the same reference model and every answer of every sequence is held
//! to all of Klarna's rules, not only the property's own: the name says what
//! the sequences are drawn to reach.

use std::sync::Arc;

use super::generators::*;
use super::lifecycle::*;
use crate::sequence::{GenConfig, SequenceStrategy};

/// What a target must offer for a property's sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Sessions can be authorized: the mock's control API, or an authorizer
    /// standing for the browser (`--authorizer`, [`crate::authorize`]).
    pub authorize: bool,
    /// The mock's control API beyond authorize: fraud decisions, the
    /// notification journal.
    pub control_api: bool,
    /// A clock the harness can move.
    pub virtual_clock: bool,
    /// Authorization tokens the user obtained in a browser.
    pub given_tokens: bool,
}

impl Needs {
    const NOTHING: Needs = Needs {
        authorize: false,
        control_api: false,
        virtual_clock: false,
        given_tokens: false,
    };
    const MOCK: Needs = Needs {
        authorize: true,
        control_api: true,
        virtual_clock: true,
        given_tokens: false,
    };
    /// Authorizations only: the playground with an authorizer offers them.
    const AUTHORIZE: Needs = Needs {
        authorize: true,
        control_api: false,
        virtual_clock: false,
        given_tokens: false,
    };
    const TOKENS: Needs = Needs {
        authorize: false,
        control_api: false,
        virtual_clock: false,
        given_tokens: true,
    };

    /// Why a target that offers `offers` cannot run this, if it cannot.
    pub fn unmet(self, offers: Needs) -> Option<&'static str> {
        if self.authorize && !offers.authorize {
            Some(
                "needs authorizations: the mock's control API, or an authorizer (--authorizer, README \"Authorizers\")",
            )
        } else if self.control_api && !offers.control_api {
            Some("needs the mock's control API (fraud decisions, the notification journal)")
        } else if self.virtual_clock && !offers.virtual_clock {
            Some("needs a virtual clock")
        } else if self.given_tokens && !offers.given_tokens {
            Some("needs browser-authorized tokens (--authorization-token)")
        } else {
            None
        }
    }
}

/// A named rule of Klarna's that the runner checks on generated sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    OrderSucceeds,
    ChangedDataRefused,
    NeutralChangeAccepted,
    TokenExpiry,
    UnknownToken,
    ReplacedToken,
    CancelledToken,
    RetryIdempotent,
    RetryConflict,
    RetryAfterError,
    InconsistentAmounts,
    MissingFieldRefused,
    DeniedNotAuthorized,
    PendingFraudStatus,
    SessionReadBack,
    SessionLifetime,
    OrderManagement,
    Refunds,
    CancelAndRelease,
    IdempotencyKeys,
    OperationsRepeat,
    PendingReview,
    AuthorizationExpiry,
    CustomerTokens,
    UnknownIdsNotFound,
    WrongCredentialsRefused,
    ErrorsCarryCorrelationId,
    ResponsesMatchModel,
    AuthorizedTokenOrder,
    Sequences,
}

/// One row of the table.
pub struct PropertyDef {
    pub property: Property,
    pub name: &'static str,
    pub rule: &'static str,
    pub needs: Needs,
    generator: fn(&Arc<GenConfig>) -> SequenceStrategy,
}

/// Every property, in the order runs and reports list them.
pub static PROPERTIES: [PropertyDef; 30] = [
    PropertyDef {
        property: Property::OrderSucceeds,
        name: "order-succeeds",
        rule: "an untouched order succeeds with order_id, fraud_status and authorized_payment_method; redirect_url exactly when a confirmation URL was given; Order Management shows it (CAPTURED after auto_capture); the session reads back complete and refuses updates",
        needs: Needs::AUTHORIZE,
        generator: order_succeeds,
    },
    PropertyDef {
        property: Property::ChangedDataRefused,
        name: "changed-data-refused",
        rule: "a cart, address (case and spaces included), customer, amount, currency or country changed after authorization gives 409 BAD_VALUE `Not matching fields: [...]` naming exactly what changed, or the item-count message; a change that also breaks a field rule gives 400 first",
        needs: Needs::AUTHORIZE,
        generator: changed_data_refused,
    },
    PropertyDef {
        property: Property::NeutralChangeAccepted,
        name: "neutral-change-accepted",
        rule: "omitting customer, re-ordering keys, adding the read-only session fields (status, client_token, ...) or changing nothing is not refused",
        needs: Needs::AUTHORIZE,
        generator: neutral_change_accepted,
    },
    PropertyDef {
        property: Property::TokenExpiry,
        name: "token-expiry",
        rule: "a token is valid for 3599 s after authorization (not after session creation) and NOT_FOUND from 3600 s on",
        needs: Needs::MOCK,
        generator: token_expiry,
    },
    PropertyDef {
        property: Property::UnknownToken,
        name: "unknown-token",
        rule: "create order with a token no one issued is 404 NOT_FOUND `Invalid authorization token`, and the real token still works",
        needs: Needs::AUTHORIZE,
        generator: unknown_token,
    },
    PropertyDef {
        property: Property::ReplacedToken,
        name: "replaced-token",
        rule: "a new authorization replaces the session's token: the old one is 404 NOT_FOUND, the new one places the order",
        needs: Needs::AUTHORIZE,
        generator: replaced_token,
    },
    PropertyDef {
        property: Property::CancelledToken,
        name: "cancelled-token",
        rule: "a cancelled token is 404 NOT_FOUND; cancel after the order is 403 INVALID_OPERATION",
        needs: Needs::AUTHORIZE,
        generator: cancelled_token,
    },
    PropertyDef {
        property: Property::RetryIdempotent,
        name: "retry-idempotent",
        rule: "the identical create order again, seconds or minutes later, returns the same order_id and redirect_url",
        needs: Needs::AUTHORIZE,
        generator: retry_idempotent,
    },
    PropertyDef {
        property: Property::RetryConflict,
        name: "retry-conflict",
        rule: "another body with a used token gives 409 `The order has been already completed with different request body`",
        needs: Needs::AUTHORIZE,
        generator: retry_conflict,
    },
    PropertyDef {
        property: Property::RetryAfterError,
        name: "retry-after-error",
        rule: "validation comes first and a 400 is never kept; a token's first refusal sticks (playground fidelity) or not (--strict); an invalid body on a used token is 400, not 409",
        needs: Needs::AUTHORIZE,
        generator: retry_after_error,
    },
    PropertyDef {
        property: Property::InconsistentAmounts,
        name: "inconsistent-amounts",
        rule: "inconsistent amounts at session creation give 400 BAD_VALUE naming exactly the paths the amount rules break",
        needs: Needs::NOTHING,
        generator: inconsistent_amounts,
    },
    PropertyDef {
        property: Property::MissingFieldRefused,
        name: "missing-field-refused",
        rule: "a session without a required field gives 400 BAD_VALUE naming it",
        needs: Needs::NOTHING,
        generator: missing_field_refused,
    },
    PropertyDef {
        property: Property::DeniedNotAuthorized,
        name: "denied-not-authorized",
        rule: "customer+denied@… is not authorized and gets no token; the session can be authorized afterwards",
        needs: Needs::AUTHORIZE,
        generator: denied_not_authorized,
    },
    PropertyDef {
        property: Property::PendingFraudStatus,
        name: "pending-fraud-status",
        rule: "+pend-accept-NN / +pend-reject-NN get PENDING in US and GB only, near-misses never; Order Management shows it and refuses a capture",
        needs: Needs::AUTHORIZE,
        generator: pending_fraud_status,
    },
    PropertyDef {
        property: Property::SessionReadBack,
        name: "session-read-back",
        rule: "a session reads back as created and updated (updates merged, an inconsistent update refused and ignored), customer details hidden before authorization",
        needs: Needs::NOTHING,
        generator: session_read_back,
    },
    PropertyDef {
        property: Property::SessionLifetime,
        name: "session-lifetime",
        rule: "a session lives 48 h after its last update (updates and authorize extend it), expires_at says so, and an expired one is 404 NOT_FOUND",
        needs: Needs::MOCK,
        generator: session_lifetime,
    },
    PropertyDef {
        property: Property::OrderManagement,
        name: "order-management",
        rule: "captures never exceed the remaining authorized amount; captured + remaining = order_amount and the status follows (AUTHORIZED, PART_CAPTURED, CAPTURED); a capture answers 201 with Capture-Id, an absolute Location naming it and a Transaction-Id; a missing amount is 422",
        needs: Needs::AUTHORIZE,
        generator: order_management,
    },
    PropertyDef {
        property: Property::Refunds,
        name: "refunds",
        rule: "a refund never exceeds what was captured and not refunded (403 REFUND_NOT_ALLOWED), none before a capture; it answers 201 with Refund-Id, Location and Transaction-Id; refunded_amount, the captures and refunds read back as made, oldest first",
        needs: Needs::AUTHORIZE,
        generator: refunds,
    },
    PropertyDef {
        property: Property::CancelAndRelease,
        name: "cancel-and-release",
        rule: "cancel before any capture makes the order CANCELLED with nothing remaining, after one it is 403 CANCEL_NOT_ALLOWED; releasing the remaining authorization closes it; neither can then be captured",
        needs: Needs::AUTHORIZE,
        generator: cancel_and_release,
    },
    PropertyDef {
        property: Property::IdempotencyKeys,
        name: "idempotency-keys",
        rule: "a capture, refund or customer-token order sent again with its Klarna-Idempotency-Key answers the first answer again (the same ids, Location and Transaction-Id) and changes nothing; without a key every request is a new one",
        needs: Needs::AUTHORIZE,
        generator: idempotency_keys,
    },
    PropertyDef {
        property: Property::OperationsRepeat,
        name: "operations-repeat",
        rule: "cancel, acknowledge, extend, release, merchant-references and shipping-info answer 204 with a Transaction-Id; repeating one answers its first Transaction-Id and changes nothing; shipping info without shipping_info is 422",
        needs: Needs::AUTHORIZE,
        generator: operations_repeat,
    },
    PropertyDef {
        property: Property::PendingReview,
        name: "pending-review",
        rule: "a PENDING order is decided NN minutes after it was placed (or through the control API): ACCEPTED can be captured, REJECTED and STOPPED are CANCELLED; each decision is notified to merchant_urls.notification and each approved authorize to merchant_urls.authorization",
        needs: Needs::MOCK,
        generator: pending_review,
    },
    PropertyDef {
        property: Property::AuthorizationExpiry,
        name: "authorization-expiry",
        rule: "an order's authorization expires at midnight UTC 28 days after creation: then EXPIRED (nothing captured) or CLOSED and captures are refused; an extension adds 28 days, never beyond 180, and is refused once expired",
        needs: Needs::MOCK,
        generator: authorization_expiry,
    },
    PropertyDef {
        property: Property::CustomerTokens,
        name: "customer-tokens",
        rule: "a customer token needs intent tokenize or buy_and_tokenize; the identical request again returns the same token_id, another is 403; the token reads back ACTIVE with its payment method type, orders with it carry no redirect_url, and once cancelled it refuses orders",
        needs: Needs::AUTHORIZE,
        generator: customer_tokens,
    },
    PropertyDef {
        property: Property::UnknownIdsNotFound,
        name: "unknown-ids-not-found",
        rule: "an unknown session, token or order is 404 (NOT_FOUND, NO_SUCH_ORDER) with Klarna's message",
        needs: Needs::NOTHING,
        generator: unknown_ids_not_found,
    },
    PropertyDef {
        property: Property::WrongCredentialsRefused,
        name: "wrong-credentials-refused",
        rule: "wrong credentials give 401",
        needs: Needs::NOTHING,
        generator: wrong_credentials_refused,
    },
    PropertyDef {
        property: Property::ErrorsCarryCorrelationId,
        name: "errors-carry-correlation-id",
        rule: "every error is JSON declared as such, with correlation_id equal to the Klarna-Correlation-Id header (new on every answer) and non-empty error_messages",
        needs: Needs::NOTHING,
        generator: errors_carry_correlation_id,
    },
    PropertyDef {
        property: Property::ResponsesMatchModel,
        name: "responses-match-model",
        rule: "every body reads as the model's type (and the OpenAPI schema with --openapi); client_token is a JWT naming its session",
        needs: Needs::NOTHING,
        generator: responses_match_model,
    },
    PropertyDef {
        property: Property::AuthorizedTokenOrder,
        name: "authorized-token-order",
        rule: "with a token authorized in a browser and its body: the order is created, its identical retry returns it, Order Management reads it back",
        needs: Needs::TOKENS,
        generator: authorized_token_order,
    },
    PropertyDef {
        property: Property::Sequences,
        name: "sequences",
        rule: "free sequences over everything (several sessions, updates, reads, authorizations, orders, retries, cancels, Order Management, reviews, customer tokens, the clock): every answer as the model predicts, every id new",
        needs: Needs::AUTHORIZE,
        generator: sequences,
    },
];

impl Property {
    /// Every property, in table order.
    pub fn all() -> impl Iterator<Item = Property> {
        PROPERTIES.iter().map(|d| d.property)
    }

    pub fn def(self) -> &'static PropertyDef {
        PROPERTIES
            .iter()
            .find(|d| d.property == self)
            .expect("every property has a row")
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn description(self) -> &'static str {
        self.def().rule
    }

    pub fn needs(self) -> Needs {
        self.def().needs
    }

    pub fn from_name(name: &str) -> Option<Property> {
        PROPERTIES
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.property)
    }

    /// The sequences of this property under `config`.
    pub fn strategy(self, config: &Arc<GenConfig>) -> SequenceStrategy {
        (self.def().generator)(config)
    }
}
