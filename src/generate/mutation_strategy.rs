//! Which mutations apply to an order, with values that really differ.
//!
//! A mutation is resolved from a small plan (a weighted roll choosing the kind,
//! and seeds for index and value) against the authorized order. A kind that
//! does not apply (no second line to swap, no customer to omit...) passes to
//! the next kind of its family, so generation never loops; the result is
//! checked against the cart rules, so [`Mutation::stays_valid`] holds.
//! Resolving from a plan, rather than `prop_flat_map`, lets a case shrink its
//! cart and its mutation independently.

use std::sync::Arc;

use proptest::prelude::*;

use super::address::field_value;
use super::cart::{line_from_seed, other_name, other_reference};
use super::mutation::{CUSTOMER_FIELDS, Mutation, Spelling};
use super::{Dice, seed};
use crate::model::market::{MARKETS, Market, market};
use crate::model::money::{MAX_LINE_AMOUNT, MAX_ORDER_LINES};
use crate::model::{Address, CreateOrderRequest, OrderLine, OrderLineType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unchanged,
    ReorderKeys,
    OmitCustomer,
    ReadOnlyFields,
    BillingAddress,
    ShippingAddress,
    AddressCase,
    AddressSpaces,
    CustomerField,
    LineName,
    LineReference,
    Quantity,
    UnitPrice,
    Discount,
    TaxRate,
    AddLine,
    RemoveLine,
    ReorderLines,
    Country,
    OrderAmount,
    Currency,
}

/// A family of mutations: the kinds it may produce with their weights. The
/// first kind is what a failing case shrinks toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Everything: 25 % neutral, 65 % changing and valid, 10 % invalid.
    Any,
    /// Must be accepted: unchanged, reordered keys, omitted customer.
    Neutral,
    /// The authorized order exactly as it was.
    Untouched,
    /// Changes what was authorized and stays valid: a 409.
    Changing,
    /// Breaks validation: a 400 before any comparison.
    Invalid,
}

impl Family {
    fn table(self) -> &'static [(Kind, u32)] {
        use Kind::*;
        match self {
            Family::Any => &[
                (Unchanged, 10),
                (ReorderKeys, 8),
                (OmitCustomer, 7),
                (ReadOnlyFields, 3),
                (BillingAddress, 10),
                (ShippingAddress, 8),
                (AddressCase, 3),
                (AddressSpaces, 3),
                (CustomerField, 3),
                (LineName, 5),
                (LineReference, 4),
                (Quantity, 6),
                (UnitPrice, 6),
                (Discount, 4),
                (TaxRate, 4),
                (AddLine, 6),
                (RemoveLine, 5),
                (ReorderLines, 4),
                (Country, 3),
                (OrderAmount, 5),
                (Currency, 5),
            ],
            Family::Neutral => &[
                (Unchanged, 1),
                (ReorderKeys, 1),
                (OmitCustomer, 1),
                (ReadOnlyFields, 1),
            ],
            Family::Untouched => &[(Unchanged, 1)],
            Family::Changing => &[
                (BillingAddress, 12),
                (ShippingAddress, 10),
                (AddressCase, 5),
                (AddressSpaces, 5),
                (CustomerField, 5),
                (LineName, 7),
                (LineReference, 6),
                (Quantity, 9),
                (UnitPrice, 9),
                (Discount, 6),
                (TaxRate, 6),
                (AddLine, 9),
                (RemoveLine, 8),
                (ReorderLines, 6),
                (Country, 5),
            ],
            Family::Invalid => &[(OrderAmount, 1), (Currency, 1)],
        }
    }

    fn total_weight(self) -> u32 {
        self.table().iter().map(|(_, w)| w).sum()
    }
}

/// The random part of a mutation, resolved against an order when the operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    roll: u32,
    seeds: [u64; 2],
}

pub(crate) fn plan(family: Family) -> impl Strategy<Value = Plan> + Clone {
    (0..family.total_weight(), seed(), seed()).prop_map(|(roll, a, b)| Plan {
        roll,
        seeds: [a, b],
    })
}

/// The mutation of `family` the plan picks for `order`; `None` only when no
/// kind of the family applies (never for `Any` or `Neutral`).
pub(crate) fn resolve(family: Family, plan: Plan, order: &CreateOrderRequest) -> Option<Mutation> {
    let table = family.table();
    let mut roll = plan.roll;
    let start = table
        .iter()
        .position(|(_, w)| {
            let hit = roll < *w;
            roll = roll.saturating_sub(*w);
            hit
        })
        .unwrap_or(0);
    let m = market(&order.purchase_country);
    (0..table.len()).find_map(|k| {
        let kind = table[(start + k) % table.len()].0;
        // A few value attempts per kind: small value tables can repeat the current value.
        (0..4u64).find_map(|attempt| {
            let mut d = Dice::new(plan.seeds[0].wrapping_add(attempt));
            let v = plan.seeds[1].wrapping_add(attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            candidate(kind, order, m, &mut d, v).filter(|c| acceptable(order, c))
        })
    })
}

/// Mutations of any kind that apply to `order`, neutral ones included.
pub fn mutation_for(order: &CreateOrderRequest) -> impl Strategy<Value = Mutation> + Clone {
    family_for(Family::Any, order)
}

/// Mutations that change what was authorized and stay valid (a 409 is due).
pub fn changing_mutation(order: &CreateOrderRequest) -> impl Strategy<Value = Mutation> + Clone {
    family_for(Family::Changing, order)
}

/// Mutations that break validation (`order_amount`, `purchase_currency`: a 400 is due).
pub fn invalid_mutation(order: &CreateOrderRequest) -> impl Strategy<Value = Mutation> + Clone {
    family_for(Family::Invalid, order)
}

/// The neutral mutations, which a conformant target must accept.
pub fn neutral_mutation() -> impl Strategy<Value = Mutation> + Clone {
    prop_oneof![
        Just(Mutation::Unchanged),
        Just(Mutation::ReorderKeys),
        Just(Mutation::OmitCustomer),
        Just(Mutation::ReadOnlyFields),
    ]
}

fn family_for(
    family: Family,
    order: &CreateOrderRequest,
) -> impl Strategy<Value = Mutation> + Clone {
    let order = Arc::new(order.clone());
    plan(family).prop_filter_map("no mutation of the family applies", move |p| {
        resolve(family, p, &order)
    })
}

/// Address fields a mutation may change: all but `country`, which moves only
/// with the market (a lone billing country change would make the currency
/// unfit for the effective country, docs/klarna.md §3.2: a 400, not a 409).
const ADDRESS_FIELDS: [&str; 12] = [
    "attention",
    "city",
    "email",
    "family_name",
    "given_name",
    "organization_name",
    "phone",
    "postal_code",
    "region",
    "street_address",
    "street_address2",
    "title",
];

/// Address fields whose letter case can change without breaking a rule.
const SPELLED_BY_CASE: [&str; 5] = [
    "city",
    "family_name",
    "given_name",
    "street_address",
    "email",
];
/// Address fields where a space can come or go without breaking a rule.
const SPELLED_BY_SPACES: [&str; 3] = ["postal_code", "street_address", "city"];

/// The same value with only its case or its spaces changed; `None` when it
/// has nothing to respell (no letter to case; no room for a space).
fn respell(value: &str, spelling: Spelling, d: &mut Dice) -> Option<String> {
    let out = match spelling {
        Spelling::Case => {
            let upper = value.to_uppercase();
            if upper != value {
                upper
            } else {
                value.to_lowercase()
            }
        }
        Spelling::Spaces => match value.find(' ') {
            Some(i) if d.chance(70) => format!("{}{}", &value[..i], &value[i + 1..]),
            _ => {
                // A space after the first character boundary past the middle.
                let mid = value.len() / 2;
                let at = (mid..value.len()).find(|&i| value.is_char_boundary(i))?;
                (at > 0 && value.chars().count() < 10 || value.len() > 12).then_some(())?;
                format!("{} {}", &value[..at], &value[at..])
            }
        },
    };
    // Names stay names (never digits only, more than one character): a
    // change that a rule refuses would be a 400, not the comparison's 409.
    (out != value && out.trim() == out && !out.contains("  ")).then_some(out)
}

fn is_priced_goods(l: &OrderLine) -> bool {
    !matches!(
        l.line_type,
        Some(OrderLineType::Discount | OrderLineType::GiftCard | OrderLineType::StoreCredit)
            | Some(OrderLineType::SalesTax)
    )
}

/// Picks an index among the lines that satisfy `keep`.
fn pick_line(
    o: &CreateOrderRequest,
    d: &mut Dice,
    keep: impl Fn(&OrderLine) -> bool,
) -> Option<usize> {
    let idx: Vec<usize> = (0..o.order_lines.len())
        .filter(|&i| keep(&o.order_lines[i]))
        .collect();
    (!idx.is_empty()).then(|| idx[d.below(idx.len() as u64) as usize])
}

fn candidate(
    kind: Kind,
    o: &CreateOrderRequest,
    m: Option<&'static Market>,
    d: &mut Dice,
    v: u64,
) -> Option<Mutation> {
    let lines = &o.order_lines;
    let mut dv = Dice::new(v);
    Some(match kind {
        Kind::Unchanged => Mutation::Unchanged,
        Kind::ReorderKeys => Mutation::ReorderKeys,
        Kind::ReadOnlyFields => Mutation::ReadOnlyFields,
        Kind::OmitCustomer => {
            o.customer.as_ref().filter(|c| !c.is_empty())?;
            Mutation::OmitCustomer
        }
        Kind::BillingAddress | Kind::ShippingAddress => {
            let billing = kind == Kind::BillingAddress;
            let address: &Address = if billing {
                o.billing_address.as_ref()?
            } else {
                o.shipping_address.as_ref()?
            };
            let field = d.pick(&ADDRESS_FIELDS);
            let value = field_value(m?, field, v)?;
            let from = address.field(field).map(str::to_owned);
            if from.as_deref() == Some(value.as_str()) {
                return None;
            }
            if billing {
                Mutation::BillingAddress { field, from, value }
            } else {
                Mutation::ShippingAddress { field, from, value }
            }
        }
        Kind::AddressCase | Kind::AddressSpaces => {
            let billing = d.chance(50);
            let address: &Address = if billing {
                o.billing_address.as_ref()?
            } else {
                o.shipping_address.as_ref()?
            };
            let spelling = if kind == Kind::AddressCase {
                Spelling::Case
            } else {
                Spelling::Spaces
            };
            let fields = match spelling {
                Spelling::Case => &SPELLED_BY_CASE[..],
                Spelling::Spaces => &SPELLED_BY_SPACES[..],
            };
            let start = d.below(fields.len() as u64) as usize;
            let (field, from, value) = (0..fields.len()).find_map(|k| {
                let field = fields[(start + k) % fields.len()];
                let from = address.field(field)?.to_owned();
                let value = respell(&from, spelling, &mut dv)?;
                Some((field, from, value))
            })?;
            Mutation::AddressSpelling {
                billing,
                field,
                spelling,
                from,
                value,
            }
        }
        Kind::CustomerField => {
            let current = o.customer.as_ref();
            let field = d.pick(&CUSTOMER_FIELDS);
            let from = current.and_then(|c| match field {
                "date_of_birth" => c.date_of_birth.clone(),
                _ => c.gender.clone(),
            });
            let value = match field {
                "date_of_birth" => format!(
                    "{:04}-{:02}-{:02}",
                    1930 + dv.below(76),
                    1 + dv.below(12),
                    1 + dv.below(28)
                ),
                _ => if from.as_deref() == Some("male") {
                    "female"
                } else {
                    "male"
                }
                .to_owned(),
            };
            (from.as_deref() != Some(value.as_str())).then_some(())?;
            Mutation::Customer { field, from, value }
        }
        Kind::LineName => {
            let index = d.below(lines.len() as u64) as usize;
            let l = lines.get(index)?;
            let name = other_name(l.line_type.as_ref(), &l.name, v);
            Mutation::LineName { index, name }
        }
        Kind::LineReference => {
            let index = d.below(lines.len() as u64) as usize;
            let reference = other_reference(lines.get(index)?.reference.as_deref(), v);
            Mutation::LineReference { index, reference }
        }
        Kind::Quantity => {
            let index = pick_line(o, d, is_priced_goods)?;
            let l = &lines[index];
            let cap = MAX_LINE_AMOUNT / l.unit_price.max(1);
            let q = if dv.chance(80) {
                dv.range(1, 10)
            } else {
                dv.range(11, 1000)
            } as i64;
            let q = if q == l.quantity { q + 1 } else { q }.min(cap);
            (q != l.quantity).then_some(())?;
            Mutation::Quantity { index, quantity: q }
        }
        Kind::UnitPrice => {
            let index = pick_line(o, d, |l| l.line_type != Some(OrderLineType::SalesTax))?;
            let l = &lines[index];
            let p = if l.unit_price < 0 {
                // A reduction stays a reduction, within what the goods add up to.
                -(dv.range(1, l.unit_price.unsigned_abs().saturating_mul(2).max(2)) as i64)
            } else if dv.chance(90) {
                dv.range(1, 100_000) as i64
            } else {
                dv.range(1, (MAX_LINE_AMOUNT / l.quantity.max(1)) as u64) as i64
            };
            let p = if p == l.unit_price { p - 1 } else { p };
            (p != 0).then_some(())?;
            Mutation::UnitPrice {
                index,
                unit_price: p,
            }
        }
        Kind::Discount => {
            let index = pick_line(o, d, |l| {
                is_priced_goods(l) && l.quantity * l.unit_price >= 2
            })?;
            let l = &lines[index];
            let gross = (l.quantity * l.unit_price) as u64;
            let current = l.total_discount_amount.unwrap_or(0) as u64;
            let mut new = gross * dv.below(1000) / 1000;
            if new == current {
                new = (new + 1) % gross;
            }
            Mutation::Discount {
                index,
                total_discount_amount: new as i64,
            }
        }
        Kind::TaxRate => {
            let m = m.filter(|m| !m.sales_tax)?;
            let index = pick_line(o, d, |l| l.tax_rate.is_some())?;
            let current = lines[index].tax_rate;
            let start = dv.below(m.vat_rates.len() as u64) as usize;
            let tax_rate = (0..m.vat_rates.len())
                .map(|k| m.vat_rates[(start + k) % m.vat_rates.len()])
                .find(|r| Some(*r) != current)?;
            Mutation::TaxRate { index, tax_rate }
        }
        Kind::AddLine => {
            (lines.len() < MAX_ORDER_LINES).then_some(())?;
            Mutation::AddLine {
                line: Box::new(line_from_seed(m?, v)),
            }
        }
        Kind::RemoveLine => {
            (lines.len() >= 2).then_some(())?;
            Mutation::RemoveLine {
                index: d.below(lines.len() as u64) as usize,
            }
        }
        Kind::ReorderLines => {
            let n = lines.len();
            (n >= 2).then_some(())?;
            let i = d.below(n as u64) as usize;
            let offset = 1 + d.below(n as u64 - 1) as usize;
            let j = (0..n - 1)
                .map(|k| (i + (offset + k - 1) % (n - 1) + 1) % n)
                .find(|&j| lines[j] != lines[i])?;
            Mutation::ReorderLines {
                i: i.min(j),
                j: i.max(j),
            }
        }
        Kind::Country => {
            let m = m?;
            let has_region = |a: &Option<Address>| a.as_ref().is_none_or(|a| a.region.is_some());
            let regions_ok = has_region(&o.billing_address) && has_region(&o.shipping_address);
            // Same tax style (a US cart has a sales_tax line and no rates); every
            // line's rate one of the new market's VAT rates (the playground does not
            // check rates, docs/klarna.md §10, but the documents do, and a strict target
            // would answer 400 instead of comparing); and a region already present
            // where the new market requires one (docs/klarna.md §2.3).
            let rates_fit = |t: &Market| {
                lines
                    .iter()
                    .filter_map(|l| l.tax_rate)
                    .all(|r| t.vat_rates.contains(&r))
            };
            let targets: Vec<&Market> = MARKETS
                .iter()
                .filter(|t| t.country != m.country && t.sales_tax == m.sales_tax)
                .filter(|t| !t.region_required || regions_ok)
                .filter(|t| rates_fit(t))
                .collect();
            (!targets.is_empty()).then_some(())?;
            let t = targets[dv.below(targets.len() as u64) as usize];
            Mutation::Country {
                to: t.country.to_owned(),
                currency: t.currency.to_owned(),
                locale: dv.pick(t.locales).to_owned(),
            }
        }
        Kind::OrderAmount => {
            let magnitude = if dv.chance(50) {
                dv.range(2, 10_000)
            } else {
                1
            } as i64;
            let delta = if dv.chance(50) && o.order_amount >= magnitude {
                -magnitude
            } else {
                magnitude
            };
            Mutation::OrderAmount { delta }
        }
        Kind::Currency => {
            let mut others: Vec<&str> = MARKETS
                .iter()
                .map(|t| t.currency)
                .filter(|c| !c.eq_ignore_ascii_case(&o.purchase_currency))
                .collect();
            others.sort_unstable();
            others.dedup();
            Mutation::Currency {
                to: dv.pick(&others).to_owned(),
            }
        }
    })
}

/// A candidate is kept when a changing mutation really changes the order and
/// a mutation meant to stay valid leaves a cart Klarna accepts.
fn acceptable(o: &CreateOrderRequest, m: &Mutation) -> bool {
    if m.is_neutral() {
        return true;
    }
    let changed = m.apply(o);
    if changed == *o {
        return false;
    }
    !m.stays_valid() || cart_ok(&changed)
}

/// The cart rules a line change could break (docs/klarna.md §2.2, 3.1): counts,
/// line ranges, each line consistent, non-negative goods and order totals.
pub(crate) fn cart_ok(o: &CreateOrderRequest) -> bool {
    (1..=MAX_ORDER_LINES).contains(&o.order_lines.len())
        && o.order_amount >= 0
        && o.order_tax_amount.unwrap_or(0) >= 0
        && o.order_lines.iter().all(|l| {
            let mut repriced = l.clone();
            repriced.reprice().is_ok()
                && repriced == *l
                && (!is_priced_goods(l) || l.total_amount >= 0)
                && l.total_amount <= MAX_LINE_AMOUNT
        })
}

#[cfg(test)]
mod address_fields {
    #[test]
    fn are_klarnas_fields_but_country() {
        let expected: Vec<&str> = crate::model::Address::FIELDS
            .into_iter()
            .filter(|f| *f != "country")
            .collect();
        assert_eq!(super::ADDRESS_FIELDS.to_vec(), expected);
    }
}
