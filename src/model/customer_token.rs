use serde::{Deserialize, Serialize};

use super::{Address, Customer, Unknown};

/// `customer_token_creation_request`: body of
/// `POST /payments/v1/authorizations/{authorizationToken}/customer-token`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerTokenCreationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    pub description: String,
    /// Only `SUBSCRIPTION` is defined.
    pub intended_use: String,
    pub locale: String,
    pub purchase_country: String,
    pub purchase_currency: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `customer_token_creation_response`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerTokenCreationResponse {
    pub token_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// `customer_read_create_token`: `date_of_birth` and `gender` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `GET /customer-token/v1/tokens/{token_id}` (docs/klarna.md §13.6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerTokenRead {
    pub payment_method_type: String,
    /// `ACTIVE`, `CANCELLED` (or `SUSPENDED`, never seen recorded).
    pub status: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}
