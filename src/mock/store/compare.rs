//! Create order against the authorized data (docs/klarna.md §3.4): every differing
//! field path, in one fixed order, so the oracle can predict the exact
//! `Not matching fields: [...]` message.
//!
//! The comparison runs on typed values, so key order and whitespace of the
//! request never matter; strings are compared exactly (no normalisation:
//! docs/klarna.md §10 saw a removed space in a postal code reported as a mismatch).

use crate::model::{Address, CreateOrderRequest, Customer, OrderLine, Session};

/// Which rule a mismatch falls under, so that merchant settings and defect
/// modes can let a whole group through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Group {
    Country,
    Currency,
    Locale,
    Address,
    OrderAmount,
    OrderTaxAmount,
    OrderLines,
    Customer,
}

/// One differing field (or the item-count message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mismatch {
    pub group: Group,
    /// A JSON path such as `billing_address.postal_code`, or the item-count text.
    pub path: String,
}

/// How the comparison treats the lenient rules and address strings (the
/// defect modes flip them; all off is Klarna's behaviour).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Options {
    /// Report per-line paths even when the number of lines differs.
    pub per_line_on_count_change: bool,
    /// Treat a missing or empty customer as differing from the authorized one.
    pub require_customer: bool,
    /// Compare address fields ignoring letter case.
    pub address_ignore_case: bool,
    /// Compare address fields ignoring spaces (`W1S 3BE` equals `W1S3BE`).
    pub address_ignore_spaces: bool,
}

/// Two address field values as the options compare them (exact by default,
/// docs/klarna.md §10: no normalisation).
fn same_address_field(a: Option<&str>, b: Option<&str>, opts: Options) -> bool {
    if !opts.address_ignore_case && !opts.address_ignore_spaces {
        return a == b;
    }
    let normalise = |s: &str| -> String {
        let kept = s
            .chars()
            .filter(|c| !(opts.address_ignore_spaces && c.is_whitespace()));
        if opts.address_ignore_case {
            kept.flat_map(char::to_lowercase).collect()
        } else {
            kept.collect()
        }
    };
    match (a, b) {
        (Some(a), Some(b)) => normalise(a) == normalise(b),
        (a, b) => a == b,
    }
}

/// Every difference between the order and what was authorized, in this order:
/// purchase_country, purchase_currency, locale, billing_address.*,
/// shipping_address.* (fields in `Address::FIELDS` order), order_amount,
/// order_tax_amount, order lines, customer.*.
pub(super) fn mismatches(
    auth: &Session,
    order: &CreateOrderRequest,
    opts: Options,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut push = |group, path: String| out.push(Mismatch { group, path });

    // ISO codes are compared case-insensitively: the spec's patterns accept
    // either case for the same code. `[I]`
    if !eq_code(
        auth.purchase_country.as_deref(),
        Some(&order.purchase_country),
    ) {
        push(Group::Country, "purchase_country".into());
    }
    if !eq_code(
        auth.purchase_currency.as_deref(),
        Some(&order.purchase_currency),
    ) {
        push(Group::Currency, "purchase_currency".into());
    }
    // Locale only when both the authorized session and the order carry one
    // (neither source says what Klarna compares a default with; the oracle
    // follows the same rule); case-insensitive like the pattern. `[I]`
    if let (Some(authorized), Some(locale)) = (&auth.locale, &order.locale)
        && !authorized.eq_ignore_ascii_case(locale)
    {
        push(Group::Locale, "locale".into());
    }
    // An address left out of the order is not compared. `[I]`
    for (name, authorized, given) in [
        (
            "billing_address",
            &auth.billing_address,
            &order.billing_address,
        ),
        (
            "shipping_address",
            &auth.shipping_address,
            &order.shipping_address,
        ),
    ] {
        if let Some(given) = given {
            let empty = Address::default();
            let authorized = authorized.as_ref().unwrap_or(&empty);
            for field in Address::FIELDS {
                if !same_address_field(authorized.field(field), given.field(field), opts) {
                    push(Group::Address, format!("{name}.{field}"));
                }
            }
        }
    }
    if auth.order_amount != Some(order.order_amount) {
        push(Group::OrderAmount, "order_amount".into());
    }
    if auth.order_tax_amount != order.order_tax_amount {
        push(Group::OrderTaxAmount, "order_tax_amount".into());
    }
    let authorized_lines: &[OrderLine] = auth.order_lines.as_deref().unwrap_or(&[]);
    let count_differs = authorized_lines.len() != order.order_lines.len();
    if count_differs {
        // Seed page: "Incorrect number of items in the cart. Expected: 2, Actual: 3".
        push(
            Group::OrderLines,
            format!(
                "Incorrect number of items in the cart. Expected: {}, Actual: {}",
                authorized_lines.len(),
                order.order_lines.len()
            ),
        );
    }
    if !count_differs || opts.per_line_on_count_change {
        if count_differs {
            out.retain(|m| m.group != Group::OrderLines);
        }
        let longest = authorized_lines.len().max(order.order_lines.len());
        for i in 0..longest {
            match (authorized_lines.get(i), order.order_lines.get(i)) {
                (Some(a), Some(b)) => {
                    for field in line_differences(a, b) {
                        out.push(Mismatch {
                            group: Group::OrderLines,
                            path: format!("order_lines[{i}].{field}"),
                        });
                    }
                }
                _ => out.push(Mismatch {
                    group: Group::OrderLines,
                    path: format!("order_lines[{i}]"),
                }),
            }
        }
    }
    // "An empty or missing customer payload is accepted as matching" (docs/klarna.md §3.4);
    // a non-empty one is compared field by field. `[I]`
    let given = order.customer.clone().unwrap_or_default();
    if !given.is_empty() || opts.require_customer {
        let authorized = auth.customer.clone().unwrap_or_default();
        for field in customer_differences(&authorized, &given) {
            out.push(Mismatch {
                group: Group::Customer,
                path: format!("customer.{field}"),
            });
        }
    }
    out
}

fn eq_code(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    }
}

/// The order line fields that differ, in the spec's field order. `[I]`:
/// `product_identifiers` and `subscription` are compared as whole objects.
fn line_differences(a: &OrderLine, b: &OrderLine) -> Vec<&'static str> {
    let checks = [
        ("type", a.line_type == b.line_type),
        ("reference", a.reference == b.reference),
        ("name", a.name == b.name),
        ("quantity", a.quantity == b.quantity),
        ("quantity_unit", a.quantity_unit == b.quantity_unit),
        ("unit_price", a.unit_price == b.unit_price),
        ("tax_rate", a.tax_rate == b.tax_rate),
        ("total_amount", a.total_amount == b.total_amount),
        (
            "total_discount_amount",
            a.total_discount_amount == b.total_discount_amount,
        ),
        ("total_tax_amount", a.total_tax_amount == b.total_tax_amount),
        ("merchant_data", a.merchant_data == b.merchant_data),
        ("product_url", a.product_url == b.product_url),
        ("image_url", a.image_url == b.image_url),
        (
            "product_identifiers",
            a.product_identifiers == b.product_identifiers,
        ),
        ("subscription", a.subscription == b.subscription),
    ];
    checks
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(field, _)| field)
        .collect()
}

/// The customer fields that differ, in the spec's (alphabetical) order.
fn customer_differences(a: &Customer, b: &Customer) -> Vec<&'static str> {
    let checks = [
        ("date_of_birth", a.date_of_birth == b.date_of_birth),
        ("gender", a.gender == b.gender),
        ("last_four_ssn", a.last_four_ssn == b.last_four_ssn),
        (
            "national_identification_number",
            a.national_identification_number == b.national_identification_number,
        ),
        (
            "organization_entity_type",
            a.organization_entity_type == b.organization_entity_type,
        ),
        (
            "organization_registration_id",
            a.organization_registration_id == b.organization_registration_id,
        ),
        ("title", a.title == b.title),
        ("type", a.customer_type == b.customer_type),
        ("vat_id", a.vat_id == b.vat_id),
    ];
    checks
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(field, _)| field)
        .collect()
}
