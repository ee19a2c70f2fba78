use serde::{Deserialize, Serialize};

use super::{Address, Customer, MerchantUrls, OrderLine, PaymentMethodCategory, Unknown};

/// `create_order_request`: the body of
/// `POST /payments/v1/authorizations/{authorizationToken}/order`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateOrderRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_capture: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_payment_method_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
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
    pub order_amount: i64,
    pub order_lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_tax_amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_categories: Option<Vec<PaymentMethodCategory>>,
    pub purchase_country: String,
    pub purchase_currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl CreateOrderRequest {
    /// The create-order body that matches an authorized session exactly:
    /// market, cart and merchant data from the session, addresses and
    /// customer as authorized, the shipping address the billing one when
    /// absent (docs/klarna.md §2.3, §3.4).
    pub fn authorized_for(s: &super::Session) -> CreateOrderRequest {
        CreateOrderRequest {
            billing_address: s.billing_address.clone(),
            customer: s.customer.clone(),
            locale: s.locale.clone(),
            merchant_reference1: s.merchant_reference1.clone(),
            merchant_reference2: s.merchant_reference2.clone(),
            merchant_urls: s.merchant_urls.clone(),
            order_amount: s.order_amount.unwrap_or(0),
            order_lines: s.order_lines.clone().unwrap_or_default(),
            order_tax_amount: s.order_tax_amount,
            purchase_country: s.purchase_country.clone().unwrap_or_default(),
            purchase_currency: s.purchase_currency.clone().unwrap_or_default(),
            shipping_address: s
                .shipping_address
                .clone()
                .or_else(|| s.billing_address.clone()),
            ..CreateOrderRequest::default()
        }
    }
}

/// `order`: the 200 answer to create order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    /// Present exactly when `merchant_urls.confirmation` was given (docs/klarna.md §5.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// `ACCEPTED` or `PENDING` (docs/klarna.md §5.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraud_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_payment_method: Option<AuthorizedPaymentMethod>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `authorized_payment_method` in both forms seen in the wild (docs/klarna.md §2.6):
/// the spec's object `{type, number_of_days, number_of_installments}` and the
/// docs' plain string (`"invoice"`). The form read is the form written back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AuthorizedPaymentMethod {
    Object {
        #[serde(rename = "type")]
        method_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number_of_days: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number_of_installments: Option<i32>,
        #[serde(flatten)]
        unknown: Unknown,
    },
    Name(String),
}

impl AuthorizedPaymentMethod {
    /// The payment method type, whichever form carried it.
    pub fn method_type(&self) -> &str {
        match self {
            AuthorizedPaymentMethod::Object { method_type, .. } => method_type,
            AuthorizedPaymentMethod::Name(name) => name,
        }
    }
}
