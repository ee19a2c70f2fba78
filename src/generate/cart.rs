//! Carts consistent by construction (docs/klarna.md §2.2, 3.1).
//!
//! Every line is built by the model's [`LineBuilder`](crate::model::money::LineBuilder)
//! / [`OrderLine::reduction`], every cart by [`Cart::global`] or [`Cart::us_style`]:
//! no amount or tax is computed here. What this module decides is realism:
//! which line types, which of the market's VAT rates, quantities, units,
//! discounts, prices up to Klarna's 200000000 maximum, unicode names.
//!
//! Reductions (`discount`, `gift_card`, `store_credit`, negative amounts) never
//! exceed the positive lines before them, so `order_amount ≥ 0` always holds.

use proptest::prelude::*;

use super::{Dice, seed};
use crate::model::market::Market;
use crate::model::money::{Cart, MAX_LINE_AMOUNT, MAX_ORDER_LINES, MoneyError};
use crate::model::{OrderLine, OrderLineType};

/// The random parts of one line, before the cart decides its final shape.
/// Plain values shrink well: kind 0 is `physical`, quantity 1, price 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLine {
    /// 0..100, mapped to a line type by [`kind`].
    kind: u8,
    quantity: i64,
    /// A positive price; a reduction uses it as its magnitude.
    unit_price: i64,
    /// Discount as ‰ of `quantity × unit_price`; 0 for most lines.
    discount_permille: i64,
    /// Name, reference, unit and tax-rate choices.
    seed: u64,
}

/// Line type by a roll in 0..100: mostly physical goods.
fn kind(roll: u8) -> OrderLineType {
    match roll {
        0..=54 => OrderLineType::Physical,
        55..=69 => OrderLineType::Digital,
        70..=77 => OrderLineType::ShippingFee,
        78..=82 => OrderLineType::Surcharge,
        83..=90 => OrderLineType::Discount,
        91..=95 => OrderLineType::GiftCard,
        _ => OrderLineType::StoreCredit,
    }
}

fn raw_line() -> impl Strategy<Value = RawLine> + Clone {
    (
        0u8..100,
        prop_oneof![80 => 1i64..=3, 15 => 1i64..=20, 5 => 1i64..=1000],
        prop_oneof![70 => 1i64..=50_000, 25 => 1i64..=2_000_000, 5 => 1i64..=MAX_LINE_AMOUNT],
        prop_oneof![80 => Just(0i64), 20 => 1i64..1000],
        seed(),
    )
        .prop_map(
            |(kind, quantity, unit_price, discount_permille, seed)| RawLine {
                kind,
                quantity,
                unit_price,
                discount_permille,
                seed,
            },
        )
}

/// Names per line type, plain first; non-ASCII, CJK and emoji in between.
fn names(t: &OrderLineType) -> &'static [&'static str] {
    match t {
        OrderLineType::Physical => &[
            "T-shirt",
            "Running shoe",
            "Tröja",
            "Blåbärssylt",
            "Straßenschuhe",
            "Café crème",
            "Crème brûlée",
            "抹茶 (matcha)",
            "テディベア",
            "Teddy bear 🧸",
            "Øl glas",
            "Żubr beer mug",
        ],
        OrderLineType::Digital => &["E-book", "Software licence", "Musik-Abo", "ゲーム 🎮"],
        OrderLineType::ShippingFee => &["Shipping", "Frakt", "Versand", "Livraison express"],
        OrderLineType::Surcharge => &["Invoice fee", "Payment surcharge", "Fakturaavgift"],
        OrderLineType::Discount => &["Discount", "Rabatt 10 %", "Réduction été"],
        OrderLineType::GiftCard => &["Gift card", "Presentkort", "Gutschein 🎁"],
        OrderLineType::StoreCredit => &["Store credit", "Tillgodo", "Guthaben"],
        _ => &["Sales Tax"],
    }
}

const UNITS: [&str; 8] = ["pcs", "st", "Stk.", "kg", "m", "h", "l", "pkt"];

/// Filler for long names; counted in characters, as JSON Schema counts length.
const FILLER: &str = " – extra långt namn för test ü ß é 漢字";

/// A name within 1..=255 characters: usually a short product name, rarely
/// one padded to a length in 100..=255.
fn line_name(t: &OrderLineType, d: &mut Dice) -> String {
    let base = d.pick(names(t));
    if !d.chance(3) {
        return base.to_owned();
    }
    let target = d.range(100, 255) as usize;
    let mut s = String::from(base);
    while s.chars().count() < target {
        s.push_str(FILLER);
    }
    s.chars().take(target).collect()
}

/// A reference (≤ 255 characters; SPEC23 says 256, we stay within both).
fn reference(d: &mut Dice) -> Option<String> {
    match d.below(10) {
        0..=2 => None,
        3..=7 => Some(format!("SKU-{}", d.below(100_000))),
        8 => Some(format!("réf-ÅÖ-{}", d.below(1000))),
        // The longest reference the playground takes (docs/klarna.md §11.5).
        _ => Some(format!("{:0>64}", d.below(1000))),
    }
}

/// A tax rate of the market: the standard rate (the first) most often.
fn tax_rate(market: &Market, d: &mut Dice) -> i64 {
    if d.chance(40) {
        d.pick(market.vat_rates)
    } else {
        market.vat_rates[0]
    }
}

/// A positive (non-reduction) line. In a sales-tax market it carries no tax
/// rate (docs/klarna.md §3.1, US style).
fn positive_line(
    market: &Market,
    t: OrderLineType,
    raw: &RawLine,
) -> Result<OrderLine, MoneyError> {
    let mut d = Dice::new(raw.seed);
    let unit_price = raw.unit_price.clamp(1, MAX_LINE_AMOUNT);
    // Keep quantity × unit_price within the line maximum.
    let quantity = raw.quantity.clamp(1, (MAX_LINE_AMOUNT / unit_price).max(1));
    let gross = quantity * unit_price;
    let discount = gross * raw.discount_permille.clamp(0, 999) / 1000;
    let name = line_name(&t, &mut d);
    let reference = reference(&mut d);
    let unit = (t == OrderLineType::Physical && d.chance(50)).then(|| d.pick(&UNITS));
    let rate = tax_rate(market, &mut d);
    let mut b = OrderLine::builder(name)
        .line_type(t)
        .quantity(quantity)
        .unit_price(unit_price);
    if discount > 0 {
        b = b.total_discount_amount(discount);
    }
    if !market.sales_tax {
        b = b.tax_rate(rate);
    }
    if let Some(r) = reference {
        b = b.reference(r);
    }
    let mut line = b.build()?;
    line.quantity_unit = unit.map(str::to_owned);
    Ok(line)
}

/// A reduction of at most `budget` (negative amounts, docs/klarna.md §3.1).
fn reduction_line(
    market: &Market,
    t: OrderLineType,
    raw: &RawLine,
    budget: i64,
) -> Result<OrderLine, MoneyError> {
    let mut d = Dice::new(raw.seed);
    let name = line_name(&t, &mut d);
    let reference = reference(&mut d);
    let rate = (!market.sales_tax).then(|| tax_rate(market, &mut d));
    let amount = raw.unit_price.clamp(1, budget.clamp(1, MAX_LINE_AMOUNT));
    let mut line = OrderLine::reduction(t, name, amount, rate)?;
    line.reference = reference;
    Ok(line)
}

/// Builds a consistent cart from raw lines. The first line is always positive,
/// and each reduction is capped by what the lines before it add up to.
pub(crate) fn build_cart(market: &Market, raws: &[RawLine], sales_tax_seed: u64) -> Cart {
    let max = if market.sales_tax {
        MAX_ORDER_LINES - 1
    } else {
        MAX_ORDER_LINES
    };
    let mut lines = Vec::with_capacity(raws.len().min(max));
    let mut budget: i64 = 0;
    for raw in raws.iter().take(max) {
        let t = kind(raw.kind);
        let line = if t.is_reduction() && budget > 0 {
            reduction_line(market, t, raw, budget)
        } else {
            let t = if t.is_reduction() {
                OrderLineType::Physical
            } else {
                t
            };
            positive_line(market, t, raw)
        }
        .expect("lines are built within Klarna's ranges");
        budget += line.total_amount;
        lines.push(line);
    }
    finish(market, lines, sales_tax_seed)
}

/// US sales-tax rates in basis points (state plus local, 0 for the tax-free states). `[I]`
const SALES_TAX_RATES: [i64; 7] = [0, 400, 625, 725, 825, 887, 1025];

/// Totals the lines with the money constructors. In the global style, a cart
/// whose reductions carry more tax than its goods (a discount at 25 % on goods
/// at 0 %) would have a negative `order_tax_amount`; its reductions are then
/// made tax-free, as multi-purpose vouchers are.
fn finish(market: &Market, mut lines: Vec<OrderLine>, sales_tax_seed: u64) -> Cart {
    if market.sales_tax {
        // A huge cart at a high rate would need a tax line above the line
        // maximum: fall back to lower rates (0 always fits).
        let mut d = Dice::new(sales_tax_seed);
        let start = d.below(SALES_TAX_RATES.len() as u64) as usize;
        return SALES_TAX_RATES[..=start]
            .iter()
            .rev()
            .find_map(|&rate| Cart::us_style(lines.clone(), rate).ok())
            .expect("a US cart at 0 % sales tax is within Klarna's ranges");
    }
    match Cart::global(lines.clone()) {
        Ok(cart) => cart,
        Err(_) => {
            for l in lines.iter_mut().filter(|l| l.total_amount < 0) {
                l.tax_rate = Some(0);
            }
            Cart::global(lines).expect("tax-free reductions keep every total non-negative")
        }
    }
}

/// The market-independent part of a cart: its raw lines and the seed of the
/// sales-tax rate. 1 to 1000 lines: 90 % of carts have 1-5 lines, the rest
/// up to 40 (9 %) or to the maximum (1 %). The lines past the first few are
/// one optional block, so a failing cart sheds them all in one shrink step,
/// then shrinks toward one cheap physical line.
pub(crate) fn raw_cart() -> impl Strategy<Value = (Vec<RawLine>, u64)> + Clone {
    let extra = proptest::option::weighted(
        0.1,
        prop_oneof![
            9 => prop::collection::vec(raw_line(), 1..=35),
            1 => prop::collection::vec(raw_line(), 36..=MAX_ORDER_LINES - 5),
        ],
    );
    (prop::collection::vec(raw_line(), 1..=5), extra, seed()).prop_map(|(mut lines, extra, s)| {
        lines.extend(extra.into_iter().flatten());
        (lines, s)
    })
}

/// A consistent cart of the market: 1 to 1000 lines, 90 % of carts with 1-5
/// lines, 9 % with 6-40, 1 % up to the maximum.
pub fn cart_for(market: &'static Market) -> impl Strategy<Value = Cart> + Clone {
    raw_cart().prop_map(move |(raws, s)| build_cart(market, &raws, s))
}

/// One positive line of the market, as a mutation adds it.
pub fn line_for(market: &'static Market) -> impl Strategy<Value = OrderLine> + Clone {
    seed().prop_map(move |s| line_from_seed(market, s))
}

/// A positive line chosen by one seed (for mutations, which resolve values from seeds).
pub(crate) fn line_from_seed(market: &Market, seed: u64) -> OrderLine {
    let mut d = Dice::new(seed);
    let raw = RawLine {
        kind: d.below(78) as u8, // physical, digital, shipping_fee (no reductions)
        quantity: d.range(1, 5) as i64,
        unit_price: d.range(100, 100_000) as i64,
        discount_permille: if d.chance(20) {
            d.below(1000) as i64
        } else {
            0
        },
        seed: d.below(u64::MAX >> 24),
    };
    positive_line(market, kind(raw.kind), &raw).expect("small prices stay within Klarna's ranges")
}

/// A name of the line type (for mutations): never equal to `not`.
pub(crate) fn other_name(t: Option<&OrderLineType>, not: &str, seed: u64) -> String {
    let t = t.cloned().unwrap_or(OrderLineType::Physical);
    let mut d = Dice::new(seed);
    let name = line_name(&t, &mut d);
    if name == not {
        format!("{name} (2)")
    } else {
        name
    }
}

/// A reference (for mutations): never equal to `not`.
pub(crate) fn other_reference(not: Option<&str>, seed: u64) -> String {
    let mut d = Dice::new(seed);
    let r = reference(&mut d).unwrap_or_else(|| format!("SKU-{}", d.below(100_000)));
    if Some(r.as_str()) == not {
        format!("{r}-B")
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::market::{MARKETS, market};
    use crate::model::money;

    fn raw(kind: u8, unit_price: i64) -> RawLine {
        RawLine {
            kind,
            quantity: 1,
            unit_price,
            discount_permille: 0,
            seed: 0,
        }
    }

    #[test]
    fn reductions_never_exceed_the_goods() {
        for m in &MARKETS {
            // A 100 000 discount after a 10 line: capped at 10.
            let cart = build_cart(m, &[raw(0, 10), raw(85, 100_000), raw(92, 5)], 3);
            assert!(
                cart.order_amount >= 0 && cart.order_tax_amount >= 0,
                "{cart:?}"
            );
            assert_eq!(cart.order_lines[1].total_amount, -10);
            // The gift card found no budget left: it became a positive line.
            assert_eq!(cart.order_lines[2].total_amount, 5);
        }
    }

    #[test]
    fn us_carts_have_one_sales_tax_line_and_no_rates() {
        let us = market("US").unwrap();
        let cart = build_cart(us, &[raw(0, 1000), raw(60, 2000)], 3);
        let last = cart.order_lines.last().unwrap();
        assert_eq!(last.line_type, Some(OrderLineType::SalesTax));
        assert!(cart.order_lines.iter().all(|l| l.tax_rate.is_none()));
        assert_eq!(cart.order_tax_amount, last.total_amount);
        assert_eq!(
            Some(cart.order_amount),
            money::order_amount(cart.order_lines.iter().map(|l| l.total_amount))
        );
    }

    #[test]
    fn prices_reach_the_maximum_without_passing_it() {
        let de = market("DE").unwrap();
        let big = RawLine {
            quantity: 1000,
            ..raw(0, MAX_LINE_AMOUNT)
        };
        let cart = build_cart(de, &[big], 0);
        assert_eq!(cart.order_lines[0].total_amount, MAX_LINE_AMOUNT);
        assert_eq!(cart.order_lines[0].quantity, 1);
    }

    #[test]
    fn long_names_stay_within_255_characters() {
        let mut long = 0;
        for seed in 1..5000 {
            let n = line_name(&OrderLineType::Physical, &mut Dice::new(seed));
            assert!((1..=255).contains(&n.chars().count()), "{n}");
            long += usize::from(n.chars().count() >= 100);
        }
        assert!(long > 50, "{long}");
    }
}
