use serde::{Deserialize, Serialize};

use super::{Address, Customer, OrderLine, Unknown};

/// A payment session: the body of `session_create` (POST /sessions), of
/// `session` (update) and of `session_read` (GET). The three schemas share
/// their fields; the read-only ones (`authorization_token`, `client_token`,
/// `expires_at`, `payment_method_categories`, `status`) are only sent by Klarna.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquiring_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_payment_method_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_urls: Option<MerchantUrls>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Options>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_lines: Option<Vec<OrderLine>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_tax_amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_categories: Option<Vec<PaymentMethodCategory>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// `complete` once an order was placed, otherwise `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `merchant_session`: the 200 answer to create session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MerchantSession {
    pub session_id: String,
    pub client_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_categories: Option<Vec<PaymentMethodCategory>>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `payment_method_category`, e.g. `{"identifier": "pay_later", "name": "Pay later"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaymentMethodCategory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_urls: Option<AssetUrls>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `asset_urls` of a payment method category.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetUrls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptive: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `merchant_urls` (docs/klarna.md §2.5); each at most 2000 characters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MerchantUrls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `attachment` (extra merchant data): both fields are required by the spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub content_type: String,
    /// A JSON document, as a string.
    pub body: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `options`: widget colours (`#RRGGBB`) and border radius.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_border: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_border_selected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_border: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}
