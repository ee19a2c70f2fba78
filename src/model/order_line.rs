use std::fmt;

use serde::{Deserialize, Serialize};

use super::Unknown;

/// `order_line` (docs/klarna.md §2.2). Amounts are minor units; `tax_rate` has two
/// implicit decimals (2500 = 25 %).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub line_type: Option<OrderLineType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub name: String,
    pub quantity: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_unit: Option<String>,
    pub unit_price: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_rate: Option<i64>,
    pub total_amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_discount_amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tax_amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_identifiers: Option<ProductIdentifiers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `order_line.type`. Klarna lists the values in prose, not as a schema enum,
/// so an unlisted value is kept as [`OrderLineType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderLineType {
    Physical,
    Discount,
    ShippingFee,
    SalesTax,
    Digital,
    GiftCard,
    StoreCredit,
    Surcharge,
    Other(String),
}

impl OrderLineType {
    /// Every value Klarna documents, in the reference's order.
    pub const DOCUMENTED: [OrderLineType; 8] = [
        OrderLineType::Physical,
        OrderLineType::Discount,
        OrderLineType::ShippingFee,
        OrderLineType::SalesTax,
        OrderLineType::Digital,
        OrderLineType::GiftCard,
        OrderLineType::StoreCredit,
        OrderLineType::Surcharge,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            OrderLineType::Physical => "physical",
            OrderLineType::Discount => "discount",
            OrderLineType::ShippingFee => "shipping_fee",
            OrderLineType::SalesTax => "sales_tax",
            OrderLineType::Digital => "digital",
            OrderLineType::GiftCard => "gift_card",
            OrderLineType::StoreCredit => "store_credit",
            OrderLineType::Surcharge => "surcharge",
            OrderLineType::Other(s) => s,
        }
    }

    /// Lines that reduce what the customer pays carry negative amounts (docs/klarna.md §3.1).
    pub fn is_reduction(&self) -> bool {
        matches!(
            self,
            OrderLineType::Discount | OrderLineType::GiftCard | OrderLineType::StoreCredit
        )
    }
}

impl OrderLineType {
    /// The documented value `s` names, if it names one.
    fn documented(s: &str) -> Option<OrderLineType> {
        Some(match s {
            "physical" => OrderLineType::Physical,
            "discount" => OrderLineType::Discount,
            "shipping_fee" => OrderLineType::ShippingFee,
            "sales_tax" => OrderLineType::SalesTax,
            "digital" => OrderLineType::Digital,
            "gift_card" => OrderLineType::GiftCard,
            "store_credit" => OrderLineType::StoreCredit,
            "surcharge" => OrderLineType::Surcharge,
            _ => return None,
        })
    }
}

impl From<String> for OrderLineType {
    fn from(s: String) -> Self {
        OrderLineType::documented(&s).unwrap_or(OrderLineType::Other(s))
    }
}

impl From<&str> for OrderLineType {
    fn from(s: &str) -> Self {
        OrderLineType::documented(s).unwrap_or_else(|| OrderLineType::Other(s.to_owned()))
    }
}

// By hand rather than `serde(from/into = "String")`, which allocates a
// string for every line read or written: lines are on every request.
impl Serialize for OrderLineType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OrderLineType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = OrderLineType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an order line type (a string)")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<OrderLineType, E> {
                Ok(s.into())
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<OrderLineType, E> {
                Ok(s.into())
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl From<OrderLineType> for String {
    fn from(t: OrderLineType) -> Self {
        match t {
            OrderLineType::Other(s) => s,
            t => t.as_str().to_owned(),
        }
    }
}

impl fmt::Display for OrderLineType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `product_identifiers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductIdentifiers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_trade_item_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_part_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `subscription`: all three fields are required by the spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub name: String,
    /// `DAY`, `WEEK`, `MONTH` or `YEAR`.
    pub interval: String,
    pub interval_count: i64,
    #[serde(flatten)]
    pub unknown: Unknown,
}
