//! What goes into the store and what comes out: [`MockRequest`] (one
//! operation with its parsed body) and [`MockReply`].

use serde_json::Value;

/// One operation of Klarna's API (or the control API) with its parsed body.
///
/// Order Management paths are relative to
/// `/ordermanagement/v1/orders/{order_id}` (docs/klarna.md §13.3).
#[derive(Debug, Clone, PartialEq)]
pub enum MockRequest {
    /// `POST /payments/v1/sessions`
    CreateSession { body: Value },
    /// `GET /payments/v1/sessions/{session_id}`
    ReadSession { session_id: String },
    /// `POST /payments/v1/sessions/{session_id}`
    UpdateSession { session_id: String, body: Value },
    /// `POST /__mock/sessions/{session_id}/authorize` (control API)
    Authorize {
        session_id: String,
        body: Option<Value>,
    },
    /// The browser SDK stand-in's `authorize()` with `auto_finalize: false`
    /// for a category that needs a `finalize()` (`POST /__mock/sdk/authorize`,
    /// docs/klarna.md §14): the data checked exactly as [`MockRequest::Authorize`]
    /// checks it, nothing issued or changed, `finalize_required` when it would
    /// be approved.
    CheckAuthorize {
        session_id: String,
        body: Option<Value>,
    },
    /// `POST /payments/v1/authorizations/{authorization_token}/order`
    CreateOrder {
        authorization_token: String,
        body: Value,
    },
    /// `DELETE /payments/v1/authorizations/{authorization_token}`
    CancelAuthorization { authorization_token: String },
    /// `POST /payments/v1/authorizations/{authorization_token}/customer-token`
    CreateCustomerToken {
        authorization_token: String,
        body: Value,
    },
    /// `GET /ordermanagement/v1/orders/{order_id}`
    ReadOrder { order_id: String },
    /// `POST …/captures`. `base_url` is the scheme and host the request was
    /// sent to (`http://localhost` without a `Host` header), the start of the
    /// absolute `Location` (docs/klarna.md §13.2); an empty one gives a bare path.
    Capture {
        order_id: String,
        body: Value,
        idempotency_key: Option<String>,
        base_url: String,
    },
    /// `GET …/captures`
    ListCaptures { order_id: String },
    /// `GET …/captures/{capture_id}`
    ReadCapture {
        order_id: String,
        capture_id: String,
    },
    /// `POST …/captures/{capture_id}/shipping-info`
    AddShippingInfo {
        order_id: String,
        capture_id: String,
        body: Value,
    },
    /// `POST …/refunds` (`base_url` as for [`MockRequest::Capture`])
    Refund {
        order_id: String,
        body: Value,
        idempotency_key: Option<String>,
        base_url: String,
    },
    /// `GET …/refunds`
    ListRefunds { order_id: String },
    /// `GET …/refunds/{refund_id}`
    ReadRefund { order_id: String, refund_id: String },
    /// `POST …/cancel`
    CancelOrder { order_id: String },
    /// `POST …/extend-authorization-time`
    ExtendAuthorizationTime { order_id: String },
    /// `POST …/release-remaining-authorization`
    ReleaseRemainingAuthorization { order_id: String },
    /// `POST …/acknowledge`
    AcknowledgeOrder { order_id: String },
    /// `PATCH …/merchant-references`
    UpdateMerchantReferences { order_id: String, body: Value },
    /// `GET /customer-token/v1/tokens/{token_id}`
    ReadCustomerToken { token_id: String },
    /// `PATCH /customer-token/v1/tokens/{token_id}/status`
    UpdateCustomerTokenStatus { token_id: String, body: Value },
    /// `POST /customer-token/v1/tokens/{token_id}/order`
    CustomerTokenOrder {
        token_id: String,
        body: Value,
        idempotency_key: Option<String>,
    },
    /// `POST /__mock/orders/{order_id}/fraud-decision` (control API)
    FraudDecision { order_id: String, body: Value },
    /// `GET /__mock/notifications` (control API); with `?id=` only the
    /// entries naming one of `ids` (empty: every entry).
    ListNotifications { ids: Vec<String> },
}

/// The answer: status, Klarna-Correlation-Id, extra headers, optional JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct MockReply {
    pub status: u16,
    /// The `Klarna-Correlation-Id` header; empty means no header is sent
    /// (only the `no-correlation-id-on-success` defect does that).
    pub correlation_id: String,
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body, serialized once by the store (keys in sorted order, so a
    /// seeded mock is byte-identical); the HTTP layer sends these bytes as they are.
    pub body: Option<String>,
}

impl MockReply {
    /// The body parsed (`Null` when there is none).
    pub fn json(&self) -> Value {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null)
    }

    /// `error_code` of an error body.
    pub fn error_code(&self) -> Option<String> {
        self.json()
            .get("error_code")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// `error_messages` of an error body (empty when none).
    pub fn error_messages(&self) -> Vec<String> {
        self.json()
            .get("error_messages")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The value of a header the store set (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
