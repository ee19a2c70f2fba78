//! `Not matching fields: [...]`: what differs between a create-order body and
//! what was authorized (docs/klarna.md §3.4). Written apart from the mock's
//! comparison, on purpose.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::model::{Address, CreateOrderRequest, Customer, OrderLine};

/// The items of `Not matching fields: [...]`: every path where the order
/// differs from what was authorized (docs/klarna.md §3.4). Written here, apart from
/// the mock's comparison, on purpose.
pub fn not_matching_fields(
    authorized: &CreateOrderRequest,
    order: &CreateOrderRequest,
) -> Vec<String> {
    let mut out = Vec::new();
    if !authorized
        .purchase_country
        .eq_ignore_ascii_case(&order.purchase_country)
    {
        out.push("purchase_country".to_owned());
    }
    if !authorized
        .purchase_currency
        .eq_ignore_ascii_case(&order.purchase_currency)
    {
        out.push("purchase_currency".to_owned());
    }
    if let (Some(a), Some(o)) = (&authorized.locale, &order.locale)
        && !a.eq_ignore_ascii_case(o)
    {
        out.push("locale".to_owned());
    }
    address_differences(
        "billing_address",
        &authorized.billing_address,
        &order.billing_address,
        &mut out,
    );
    address_differences(
        "shipping_address",
        &authorized.shipping_address,
        &order.shipping_address,
        &mut out,
    );
    if authorized.order_amount != order.order_amount {
        out.push("order_amount".to_owned());
    }
    if authorized.order_tax_amount != order.order_tax_amount {
        out.push("order_tax_amount".to_owned());
    }
    line_differences(&authorized.order_lines, &order.order_lines, &mut out);
    customer_differences(&authorized.customer, &order.customer, &mut out);
    out
}

fn address_differences(
    name: &str,
    authorized: &Option<Address>,
    order: &Option<Address>,
    out: &mut Vec<String>,
) {
    // An address left out of the order body is not compared `[I]`.
    let Some(order) = order else { return };
    let empty = Address::default();
    let authorized = authorized.as_ref().unwrap_or(&empty);
    for field in Address::FIELDS {
        if authorized.field(field) != order.field(field) {
            out.push(format!("{name}.{field}"));
        }
    }
}

fn line_differences(authorized: &[OrderLine], order: &[OrderLine], out: &mut Vec<String>) {
    if authorized.len() != order.len() {
        out.push(format!(
            "Incorrect number of items in the cart. Expected: {}, Actual: {}",
            authorized.len(),
            order.len()
        ));
        return;
    }
    for (i, (a, o)) in authorized.iter().zip(order).enumerate() {
        // Most lines are unchanged: compare as values first, field by field
        // only when they differ.
        if a == o {
            continue;
        }
        let (Ok(Value::Object(a)), Ok(Value::Object(o))) =
            (serde_json::to_value(a), serde_json::to_value(o))
        else {
            continue;
        };
        let keys: BTreeSet<&String> = a.keys().chain(o.keys()).collect();
        for key in keys {
            if a.get(key) != o.get(key) {
                out.push(format!("order_lines[{i}].{key}"));
            }
        }
    }
}

fn customer_differences(
    authorized: &Option<Customer>,
    order: &Option<Customer>,
    out: &mut Vec<String>,
) {
    // docs/klarna.md §3.4: an empty or missing customer matches.
    let Some(order) = order.as_ref().filter(|c| !c.is_empty()) else {
        return;
    };
    let empty = Customer::default();
    let authorized = authorized.as_ref().unwrap_or(&empty);
    let (Ok(Value::Object(a)), Ok(Value::Object(o))) = (
        serde_json::to_value(authorized),
        serde_json::to_value(order),
    ) else {
        return;
    };
    let keys: BTreeSet<&String> = a.keys().chain(o.keys()).collect();
    for key in keys {
        if a.get(key) != o.get(key) {
            out.push(format!("customer.{key}"));
        }
    }
}
