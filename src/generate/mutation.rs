//! Changes made to the create-order body after authorization (docs/design.md,
//! `Mutation`), and the body as it goes on the wire.
//!
//! Klarna compares the order with what was authorized: addresses field by
//! field, order lines as a list, amounts, currency and country (docs/klarna.md §3.4),
//! but only after validating it (docs/design.md, "Traps"). A line mutation therefore
//! reprices the changed line and the order totals with the model's money rules,
//! so the body stays VALID and the change is caught by comparison (409), not by
//! validation (400). Two kinds deliberately break validation instead; see
//! [`Mutation::stays_valid`]. Three kinds are neutral and must never be refused;
//! see [`Mutation::is_neutral`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::model::money;
use crate::model::{Address, CreateOrderRequest, OrderLine};

/// An address field name, one of `Address::FIELDS`. An alias, not `&'static str`
/// written out, so that serde's derive does not take it for a borrow of the
/// input (it is read back by [`address_field`] instead).
pub type AddressField = &'static str;

/// One typed change to a create-order body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Mutation {
    /// Append a consistent line (the line count changes: Klarna answers
    /// "Incorrect number of items in the cart", docs/klarna.md §3.4).
    AddLine {
        line: Box<OrderLine>,
    },
    /// Remove `order_lines[index]`.
    RemoveLine {
        index: usize,
    },
    /// Swap two lines that differ (lines are compared as a list, docs/klarna.md §3.4).
    ReorderLines {
        i: usize,
        j: usize,
    },
    Quantity {
        index: usize,
        quantity: i64,
    },
    UnitPrice {
        index: usize,
        unit_price: i64,
    },
    Discount {
        index: usize,
        total_discount_amount: i64,
    },
    TaxRate {
        index: usize,
        tax_rate: i64,
    },
    LineName {
        index: usize,
        name: String,
    },
    LineReference {
        index: usize,
        reference: String,
    },
    /// Set one billing address field (never `country`: see [`Mutation::Country`]).
    /// `from` is the authorized value, kept for a readable report.
    BillingAddress {
        #[serde(deserialize_with = "address_field")]
        field: AddressField,
        from: Option<String>,
        value: String,
    },
    /// Set one shipping address field, as [`Mutation::BillingAddress`].
    ShippingAddress {
        #[serde(deserialize_with = "address_field")]
        field: AddressField,
        from: Option<String>,
        value: String,
    },
    /// Change only the spelling of an address field: its letter case, or its
    /// spaces. Klarna does not normalise (docs/klarna.md §10: a removed space
    /// in a postal code was a mismatch), so this is a change like any other.
    AddressSpelling {
        billing: bool,
        #[serde(deserialize_with = "address_field")]
        field: AddressField,
        spelling: Spelling,
        from: String,
        value: String,
    },
    /// Set one customer field (`date_of_birth` or `gender`) to another value;
    /// a non-empty customer is compared field by field (docs/klarna.md §3.4).
    Customer {
        #[serde(deserialize_with = "customer_field")]
        field: CustomerField,
        from: Option<String>,
        value: String,
    },
    /// Add `delta` to `order_amount` only: breaks `order_amount = Σ total_amount`.
    OrderAmount {
        delta: i64,
    },
    /// Another `purchase_currency`: never the market's own, so never valid.
    Currency {
        to: String,
    },
    /// Move the order to another market: `purchase_country`, `purchase_currency`,
    /// `locale`, and the `country` of the billing and shipping addresses together.
    /// The billing country overrides the purchase country (docs/klarna.md §3.2), so
    /// moving the purchase country alone would leave the new currency unfit for
    /// the effective country and give a 400; moving both keeps the body valid
    /// and the change is caught by comparison.
    Country {
        to: String,
        currency: String,
        locale: String,
    },
    /// Leave out `customer`: "an empty or missing customer payload is accepted
    /// as matching" (docs/klarna.md §3.4). Neutral.
    OmitCustomer,
    /// The same data with every object's keys in reverse order. Neutral.
    ReorderKeys,
    /// Read-only session fields added (`status`, `client_token`,
    /// `expires_at`, `design`, another `authorization_token`,
    /// `payment_method_categories`) and a lower-case `acquiring_channel`:
    /// ignored, not refused (recorded, docs/klarna.md §11.1). Neutral.
    ReadOnlyFields,
    /// The authorized body as it is. Neutral.
    Unchanged,
}

/// A customer field a mutation may change.
pub type CustomerField = &'static str;

/// The customer fields a [`Mutation::Customer`] changes.
pub const CUSTOMER_FIELDS: [&str; 2] = ["date_of_birth", "gender"];

/// How an [`Mutation::AddressSpelling`] respells a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Spelling {
    /// Upper or lower case.
    Case,
    /// A space removed or added.
    Spaces,
}

fn customer_field<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let name = String::deserialize(d)?;
    CUSTOMER_FIELDS
        .iter()
        .copied()
        .find(|f| *f == name)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown customer field {name:?}")))
}

/// Reads an address field name back into the matching `Address::FIELDS` entry.
fn address_field<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let name = String::deserialize(d)?;
    Address::FIELDS
        .iter()
        .copied()
        .find(|f| *f == name)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown address field {name:?}")))
}

impl Mutation {
    /// Every label [`Mutation::kind`] returns, neutral ones last.
    pub const KINDS: [&'static str; 21] = [
        "add-line",
        "remove-line",
        "reorder-lines",
        "quantity",
        "unit-price",
        "discount",
        "tax-rate",
        "line-name",
        "line-reference",
        "billing-address",
        "shipping-address",
        "address-case",
        "address-spaces",
        "customer",
        "order-amount",
        "currency",
        "country",
        "omit-customer",
        "reorder-keys",
        "read-only-fields",
        "unchanged",
    ];

    /// A short label for statistics, one of [`Mutation::KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Mutation::AddLine { .. } => "add-line",
            Mutation::RemoveLine { .. } => "remove-line",
            Mutation::ReorderLines { .. } => "reorder-lines",
            Mutation::Quantity { .. } => "quantity",
            Mutation::UnitPrice { .. } => "unit-price",
            Mutation::Discount { .. } => "discount",
            Mutation::TaxRate { .. } => "tax-rate",
            Mutation::LineName { .. } => "line-name",
            Mutation::LineReference { .. } => "line-reference",
            Mutation::BillingAddress { .. } => "billing-address",
            Mutation::ShippingAddress { .. } => "shipping-address",
            Mutation::AddressSpelling {
                spelling: Spelling::Case,
                ..
            } => "address-case",
            Mutation::AddressSpelling {
                spelling: Spelling::Spaces,
                ..
            } => "address-spaces",
            Mutation::Customer { .. } => "customer",
            Mutation::OrderAmount { .. } => "order-amount",
            Mutation::Currency { .. } => "currency",
            Mutation::Country { .. } => "country",
            Mutation::OmitCustomer => "omit-customer",
            Mutation::ReorderKeys => "reorder-keys",
            Mutation::ReadOnlyFields => "read-only-fields",
            Mutation::Unchanged => "unchanged",
        }
    }

    /// A change a conformant target must accept (the order succeeds).
    pub fn is_neutral(&self) -> bool {
        matches!(
            self,
            Mutation::OmitCustomer
                | Mutation::ReorderKeys
                | Mutation::ReadOnlyFields
                | Mutation::Unchanged
        )
    }

    /// Whether the mutated body still passes validation, so that a changing
    /// mutation is refused by comparison (409 `Not matching fields`) rather
    /// than by validation (400 `Bad value`). False for [`Mutation::OrderAmount`]
    /// (`Bad value: order_amount`) and [`Mutation::Currency`] (each market has
    /// one currency, so any other is `Bad value: purchase_currency`,
    /// docs/klarna.md §3.2). For the other kinds this holds for mutations made by
    /// [`mutation_for`](super::mutation_for), which checks the cart rules on the result.
    pub fn stays_valid(&self) -> bool {
        !matches!(
            self,
            Mutation::OrderAmount { .. } | Mutation::Currency { .. }
        )
    }

    /// The order with the change made. Line changes reprice the changed line
    /// and the order totals with the money rules; a line that can no longer be
    /// priced within Klarna's ranges keeps the value as given and its old
    /// amounts, so such a body is refused at validation. An index out of range
    /// changes nothing.
    pub fn apply(&self, order: &CreateOrderRequest) -> CreateOrderRequest {
        let mut o = order.clone();
        match self {
            Mutation::AddLine { line } => {
                o.order_lines.push((**line).clone());
                retotal(&mut o);
            }
            Mutation::RemoveLine { index } => {
                if *index < o.order_lines.len() {
                    o.order_lines.remove(*index);
                    retotal(&mut o);
                }
            }
            Mutation::ReorderLines { i, j } => {
                if *i < o.order_lines.len() && *j < o.order_lines.len() {
                    o.order_lines.swap(*i, *j);
                }
            }
            Mutation::Quantity { index, quantity } => {
                reprice(&mut o, *index, |l| l.quantity = *quantity);
            }
            Mutation::UnitPrice { index, unit_price } => {
                reprice(&mut o, *index, |l| l.unit_price = *unit_price);
            }
            Mutation::Discount {
                index,
                total_discount_amount,
            } => reprice(&mut o, *index, |l| {
                l.total_discount_amount = Some(*total_discount_amount)
            }),
            Mutation::TaxRate { index, tax_rate } => {
                reprice(&mut o, *index, |l| l.tax_rate = Some(*tax_rate));
            }
            Mutation::LineName { index, name } => {
                if let Some(l) = o.order_lines.get_mut(*index) {
                    l.name = name.clone();
                }
            }
            Mutation::LineReference { index, reference } => {
                if let Some(l) = o.order_lines.get_mut(*index) {
                    l.reference = Some(reference.clone());
                }
            }
            Mutation::BillingAddress { field, value, .. } => {
                set_field(o.billing_address.get_or_insert_default(), field, value);
            }
            Mutation::ShippingAddress { field, value, .. } => {
                set_field(o.shipping_address.get_or_insert_default(), field, value);
            }
            Mutation::AddressSpelling {
                billing,
                field,
                value,
                ..
            } => {
                let address = if *billing {
                    &mut o.billing_address
                } else {
                    &mut o.shipping_address
                };
                set_field(address.get_or_insert_default(), field, value);
            }
            Mutation::Customer { field, value, .. } => {
                let customer = o.customer.get_or_insert_default();
                match *field {
                    "date_of_birth" => customer.date_of_birth = Some(value.clone()),
                    _ => customer.gender = Some(value.clone()),
                }
            }
            Mutation::OrderAmount { delta } => {
                o.order_amount = o.order_amount.saturating_add(*delta);
            }
            Mutation::Currency { to } => o.purchase_currency = to.clone(),
            Mutation::Country {
                to,
                currency,
                locale,
            } => {
                o.purchase_country = to.clone();
                o.purchase_currency = currency.clone();
                o.locale = Some(locale.clone());
                for a in [&mut o.billing_address, &mut o.shipping_address]
                    .into_iter()
                    .flatten()
                {
                    a.country = Some(to.clone());
                }
            }
            Mutation::OmitCustomer => o.customer = None,
            Mutation::ReadOnlyFields => {
                o.status = Some("complete".to_owned());
                o.authorization_token = Some("00000000-0000-4000-8000-0000000000aa".to_owned());
                o.payment_method_categories = Some(Vec::new());
                for (key, value) in [
                    ("client_token", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
                    ("expires_at", "2020-01-01T00:00:00Z"),
                    ("design", "klarna"),
                    ("acquiring_channel", "ecommerce"),
                ] {
                    o.unknown.insert(key.to_owned(), value.into());
                }
            }
            Mutation::ReorderKeys | Mutation::Unchanged => {}
        }
        o
    }
}

fn set_field(a: &mut Address, field: &str, value: &str) {
    if let Some(slot) = a.field_mut(field) {
        *slot = Some(value.to_owned());
    }
}

/// Changes one line and reprices it, then the order totals.
fn reprice(o: &mut CreateOrderRequest, index: usize, change: impl FnOnce(&mut OrderLine)) {
    let Some(line) = o.order_lines.get_mut(index) else {
        return;
    };
    change(line);
    let mut priced = line.clone();
    if priced.reprice().is_ok() {
        *line = priced;
    }
    retotal(o);
}

/// `order_amount` and `order_tax_amount` from the lines (docs/klarna.md §3.1), by
/// the money rules (a `sales_tax` line contributes its total in US style).
pub(crate) fn retotal(o: &mut CreateOrderRequest) {
    if let Some(amount) = money::order_amount(o.order_lines.iter().map(|l| l.total_amount)) {
        o.order_amount = amount;
    }
    o.order_tax_amount = money::order_tax_amount(&o.order_lines).or(o.order_tax_amount);
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::AddLine { line } => write!(
                f,
                "add order line {:?} ({}, {} × {}, total {})",
                line.name,
                line.line_type.as_ref().map_or("untyped", |t| t.as_str()),
                line.quantity,
                line.unit_price,
                line.total_amount
            ),
            Mutation::RemoveLine { index } => write!(f, "remove order_lines[{index}]"),
            Mutation::ReorderLines { i, j } => {
                write!(f, "swap order_lines[{i}] and order_lines[{j}]")
            }
            Mutation::Quantity { index, quantity } => {
                write!(f, "change order_lines[{index}].quantity -> {quantity}")
            }
            Mutation::UnitPrice { index, unit_price } => {
                write!(f, "change order_lines[{index}].unit_price -> {unit_price}")
            }
            Mutation::Discount {
                index,
                total_discount_amount,
            } => write!(
                f,
                "change order_lines[{index}].total_discount_amount -> {total_discount_amount}"
            ),
            Mutation::TaxRate { index, tax_rate } => {
                write!(f, "change order_lines[{index}].tax_rate -> {tax_rate}")
            }
            Mutation::LineName { index, name } => {
                write!(f, "change order_lines[{index}].name -> {name:?}")
            }
            Mutation::LineReference { index, reference } => {
                write!(f, "change order_lines[{index}].reference -> {reference:?}")
            }
            Mutation::BillingAddress { field, from, value } => {
                write_change(f, "billing_address", field, from, value)
            }
            Mutation::ShippingAddress { field, from, value } => {
                write_change(f, "shipping_address", field, from, value)
            }
            Mutation::AddressSpelling {
                billing,
                field,
                spelling,
                from,
                value,
            } => {
                let address = if *billing {
                    "billing_address"
                } else {
                    "shipping_address"
                };
                let how = match spelling {
                    Spelling::Case => "letter case",
                    Spelling::Spaces => "spaces",
                };
                write!(
                    f,
                    "respell {address}.{field} ({how} only) {from:?} -> {value:?}"
                )
            }
            Mutation::Customer { field, from, value } => {
                write_change(f, "customer", field, from, value)
            }
            Mutation::OrderAmount { delta } => write!(f, "change order_amount by {delta:+}"),
            Mutation::Currency { to } => write!(f, "change purchase_currency -> {to:?}"),
            Mutation::Country {
                to,
                currency,
                locale,
            } => write!(
                f,
                "move to market {to}/{currency}/{locale} (purchase_country, purchase_currency, \
                 locale and the address countries)"
            ),
            Mutation::OmitCustomer => f.write_str("omit customer"),
            Mutation::ReorderKeys => f.write_str("re-serialise with object keys in reverse order"),
            Mutation::ReadOnlyFields => {
                f.write_str("add the read-only fields and acquiring_channel \"ecommerce\"")
            }
            Mutation::Unchanged => f.write_str("no change"),
        }
    }
}

fn write_change(
    f: &mut fmt::Formatter<'_>,
    address: &str,
    field: &str,
    from: &Option<String>,
    value: &str,
) -> fmt::Result {
    match from {
        Some(old) => write!(f, "change {address}.{field} {old:?} -> {value:?}"),
        None => write!(f, "set {address}.{field} (absent) -> {value:?}"),
    }
}

/// The create-order body as sent: `order` serialised in the model's field
/// order, or, for [`Mutation::ReorderKeys`], with every object's keys in the
/// reverse of the order they would otherwise have, at every level.
/// `order` is expected to be `mutation.apply(..)` already.
pub fn order_json(order: &CreateOrderRequest, mutation: &Mutation) -> String {
    if *mutation != Mutation::ReorderKeys {
        return serde_json::to_string(order).expect("a model type always serialises");
    }
    let value = serde_json::to_value(order).expect("a model type always serialises");
    let mut out = String::new();
    write_reversed(&value, &mut out);
    out
}

fn write_reversed(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            out.push('{');
            for (n, (k, v)) in map.iter().rev().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_reversed(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (n, v) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_reversed(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> CreateOrderRequest {
        let lines = vec![
            OrderLine::priced("Book", 2, 1100, 1000).unwrap(),
            OrderLine::priced("Pen", 1, 300, 2500).unwrap(),
        ];
        let cart = money::Cart::global(lines).unwrap();
        CreateOrderRequest {
            purchase_country: "SE".into(),
            purchase_currency: "SEK".into(),
            locale: Some("sv-SE".into()),
            order_amount: cart.order_amount,
            order_tax_amount: Some(cart.order_tax_amount),
            order_lines: cart.order_lines,
            billing_address: Some(Address {
                postal_code: Some("111 48".into()),
                country: Some("SE".into()),
                ..Address::default()
            }),
            ..CreateOrderRequest::default()
        }
    }

    #[test]
    fn line_changes_keep_the_cart_consistent() {
        let o = Mutation::Quantity {
            index: 0,
            quantity: 3,
        }
        .apply(&order());
        assert_eq!(o.order_lines[0].total_amount, 3300);
        assert_eq!(o.order_amount, 3300 + 300);
        assert_eq!(o.order_tax_amount, money::order_tax_amount(&o.order_lines));
    }

    #[test]
    fn reorder_keys_reverses_every_object() {
        let o = order();
        let plain = order_json(&o, &Mutation::Unchanged);
        let reversed = order_json(&o, &Mutation::ReorderKeys);
        assert_ne!(plain, reversed);
        let a: Value = serde_json::from_str(&plain).unwrap();
        let b: Value = serde_json::from_str(&reversed).unwrap();
        assert_eq!(a, b);
        assert!(
            reversed.starts_with("{\"shipping_address\"") || reversed.starts_with("{\"purchase")
        );
        assert!(reversed.contains("{\"unit_price\""));
    }

    #[test]
    fn display_reads_like_a_change() {
        let m = Mutation::BillingAddress {
            field: "postal_code",
            from: Some("W1S 3BE".into()),
            value: "W1S 3BF".into(),
        };
        assert_eq!(
            m.to_string(),
            r#"change billing_address.postal_code "W1S 3BE" -> "W1S 3BF""#
        );
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Mutation>(&json).unwrap(), m);
        assert!(
            serde_json::from_str::<Mutation>(
                r#"{"BillingAddress":{"field":"nope","from":null,"value":"x"}}"#
            )
            .is_err()
        );
        for (k, n) in Mutation::KINDS.iter().zip(0..) {
            assert_eq!(Mutation::KINDS.iter().position(|x| x == k), Some(n));
        }
    }
}
