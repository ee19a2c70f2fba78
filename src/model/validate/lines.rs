//! `order_lines` and the amount rules (docs/klarna.md §2.2 and 3.1).

use serde_json::{Map, Value};

use super::Rule;
use super::reader::{Ctx, Path, join};
use crate::model::OrderLineType;
use crate::model::market::Market;
use crate::model::money::{
    self, LineTaxCheck, MAX_LINE_AMOUNT, MAX_ORDER_LINES, TAX_RATE_SCALE, check_line_tax,
};

/// What a line contributes to the order-level sums, when it could be read.
pub(super) struct LineAmounts {
    pub(super) total_amount: Option<i64>,
    pub(super) tax_contribution: Option<i64>,
}

/// Validates `order_lines` (the array itself and every line) and returns each
/// line's amounts for the order-level rules, or `None` when the array is
/// unusable (absent, not an array, empty).
pub(super) fn order_lines(
    ctx: &mut Ctx,
    body: &Map<String, Value>,
    market: Option<&Market>,
) -> Option<Vec<LineAmounts>> {
    let lines = ctx.array(body, "order_lines", "order_lines")?;
    // minItems 1, maxItems 1000 (docs/klarna.md §2.1).
    if lines.is_empty() {
        ctx.error("order_lines", Rule::MinItems);
        return None;
    }
    if lines.len() > MAX_ORDER_LINES {
        ctx.error("order_lines", Rule::MaxItems);
    }
    let amounts = lines
        .iter()
        .enumerate()
        .map(|(i, line)| order_line(ctx, &format!("order_lines[{i}]"), line, market))
        .collect();
    Some(amounts)
}

fn order_line(ctx: &mut Ctx, p: &str, line: &Value, market: Option<&Market>) -> LineAmounts {
    let unreadable = LineAmounts {
        total_amount: None,
        tax_contribution: None,
    };
    let Some(line) = line.as_object() else {
        ctx.error(p, Rule::Type);
        return unreadable;
    };
    let at = |key: &'static str| Path::Join(p, key);

    // docs/klarna.md §2.2: required name, quantity, total_amount, unit_price.
    ctx.required(line, p, &["name", "quantity", "total_amount", "unit_price"]);

    // `type` is listed in prose, not as a schema enum, and nothing records
    // Klarna refusing another value (docs/klarna.md §2.2): an unlisted one is a warning.
    let line_type = ctx
        .string(line, "type", at("type"), 0, usize::MAX)
        .map(|s| OrderLineType::from(s.to_owned()));
    if line_type
        .as_ref()
        .is_some_and(|t| !OrderLineType::DOCUMENTED.contains(t))
    {
        ctx.warn(at("type"), Rule::Enum);
    }

    // The spec allows 255 (SPEC24's description 256), but the playground
    // refused a reference longer than 64, twice (docs/klarna.md §11.5).
    ctx.string(line, "reference", at("reference"), 0, 64);
    ctx.string(line, "name", at("name"), 1, 255);
    ctx.string(line, "quantity_unit", at("quantity_unit"), 1, 8);
    // An empty-string URL was refused where null is fine (docs/klarna.md §11.5).
    for key in ["product_url", "image_url"] {
        ctx.string(line, key, at(key), 1, 1024);
    }
    ctx.string(line, "merchant_data", at("merchant_data"), 0, 1024);
    product_identifiers(ctx, line, p);
    subscription(ctx, line, p);

    // docs/klarna.md §2.2 ranges.
    let quantity = ctx.int(line, "quantity", at("quantity"));
    if quantity.is_some_and(|q| q < 0) {
        ctx.error(at("quantity"), Rule::Minimum);
    }
    let unit_price = ctx.int(line, "unit_price", at("unit_price"));
    if unit_price.is_some_and(|u| u > MAX_LINE_AMOUNT) {
        ctx.error(at("unit_price"), Rule::Maximum);
    }
    let tax_rate = ctx.int(line, "tax_rate", at("tax_rate"));
    match tax_rate {
        Some(r) if r < 0 => ctx.error(at("tax_rate"), Rule::Minimum),
        Some(r) if r > TAX_RATE_SCALE => ctx.error(at("tax_rate"), Rule::Maximum),
        // docs/klarna.md §10: a 23 % rate on a Swedish line was accepted; rates are
        // not checked against the market's VAT table, so this is a warning.
        Some(r) if market.is_some_and(|m| !m.vat_rates.contains(&r)) => {
            ctx.warn(at("tax_rate"), Rule::TaxRate)
        }
        _ => {}
    }
    let total_amount = ctx.int(line, "total_amount", at("total_amount"));
    if total_amount.is_some_and(|t| t > MAX_LINE_AMOUNT) {
        ctx.error(at("total_amount"), Rule::Maximum);
    }
    let discount_present = line
        .get("total_discount_amount")
        .is_some_and(|v| !v.is_null());
    let discount = ctx.int(line, "total_discount_amount", at("total_discount_amount"));
    if discount.is_some_and(|d| d < 0) {
        ctx.error(at("total_discount_amount"), Rule::Minimum);
    }
    let tax_present = line.get("total_tax_amount").is_some_and(|v| !v.is_null());
    let total_tax = ctx.int(line, "total_tax_amount", at("total_tax_amount"));

    // docs/klarna.md §3.1: total_amount = quantity × unit_price − total_discount_amount.
    // Klarna names total_amount when the line does not add up (docs/klarna.md §3.3).
    if let (Some(q), Some(u), Some(t)) = (quantity, unit_price, total_amount)
        && (discount.is_some() || !discount_present)
        && money::line_total(q, u, discount.unwrap_or(0)) != Some(t)
    {
        ctx.error(at("total_amount"), Rule::LineTotal);
    }

    // docs/klarna.md §3.1: total_tax_amount within ±1 of the formula. Checked only
    // when the line carries both a rate and a tax: lines without tax fields
    // are accepted (docs/klarna.md §10).
    if let (Some(r), Some(t), Some(tax)) = (tax_rate, total_amount, total_tax) {
        match check_line_tax(tax, t, r) {
            Some(LineTaxCheck::Borderline) => ctx.warn(at("total_tax_amount"), Rule::LineTax),
            Some(LineTaxCheck::Outside) => ctx.error(at("total_tax_amount"), Rule::LineTax),
            Some(LineTaxCheck::Within) | None => {}
        }
    }

    // The line's share of order_tax_amount (money::tax_contribution), when
    // the field it is made of could be read.
    let readable = if line_type == Some(OrderLineType::SalesTax) {
        total_amount.is_some()
    } else {
        !tax_present || total_tax.is_some()
    };
    let tax_contribution = readable
        .then(|| money::tax_contribution(line_type.as_ref(), total_amount.unwrap_or(0), total_tax));
    LineAmounts {
        total_amount,
        tax_contribution,
    }
}

fn product_identifiers(ctx: &mut Ctx, line: &Map<String, Value>, p: &str) {
    let base = join(p, "product_identifiers");
    let Some(ids) = ctx.object(line, "product_identifiers", &base) else {
        return;
    };
    // docs/klarna.md §2.2: product_identifiers lengths.
    for (key, max) in [
        ("brand", 70),
        ("category_path", 750),
        ("color", 64),
        ("global_trade_item_number", 50),
        ("manufacturer_part_number", 70),
        ("size", 64),
    ] {
        ctx.string(ids, key, Path::Join(&base, key), 0, max);
    }
}

fn subscription(ctx: &mut Ctx, line: &Map<String, Value>, p: &str) {
    let base = join(p, "subscription");
    let Some(sub) = ctx.object(line, "subscription", &base) else {
        return;
    };
    // docs/klarna.md §2.2: all three required; interval DAY/WEEK/MONTH/YEAR; count >= 1.
    ctx.required(sub, &base, &["name", "interval", "interval_count"]);
    ctx.string(sub, "name", Path::Join(&base, "name"), 1, 255);
    ctx.matching(
        sub,
        "interval",
        Path::Join(&base, "interval"),
        Rule::Enum,
        |s| matches!(s, "DAY" | "WEEK" | "MONTH" | "YEAR"),
    );
    let count_path = join(&base, "interval_count");
    if ctx
        .int(sub, "interval_count", &count_path)
        .is_some_and(|c| c < 1)
    {
        ctx.error(&count_path, Rule::Minimum);
    }
}

/// `order_amount` and `order_tax_amount`: their own ranges, and their sums over
/// the lines when every line could be read (docs/klarna.md §2.1 and 3.1).
pub(super) fn order_totals(
    ctx: &mut Ctx,
    body: &Map<String, Value>,
    lines: Option<&[LineAmounts]>,
) {
    let order_amount = ctx.int(body, "order_amount", "order_amount");
    if order_amount.is_some_and(|a| a < 0) {
        ctx.error("order_amount", Rule::Minimum);
    }
    let order_tax_amount = ctx.int(body, "order_tax_amount", "order_tax_amount");
    if order_tax_amount.is_some_and(|a| a < 0) {
        ctx.error("order_tax_amount", Rule::Minimum);
    }
    let Some(lines) = lines else {
        return;
    };
    // docs/klarna.md §3.1: order_amount = Σ order_lines[].total_amount, exactly.
    if let Some(given) = order_amount {
        let totals: Option<Vec<i64>> = lines.iter().map(|l| l.total_amount).collect();
        if let Some(totals) = totals
            && money::order_amount(totals) != Some(given)
        {
            ctx.error("order_amount", Rule::OrderAmount);
        }
    }
    // docs/klarna.md §3.1: order_tax_amount = Σ line tax (a sales_tax line counts
    // its total_amount), within ± the number of lines.
    if let Some(given) = order_tax_amount {
        let taxes: Option<Vec<i64>> = lines.iter().map(|l| l.tax_contribution).collect();
        if let Some(taxes) = taxes {
            let within = money::order_amount(taxes)
                .is_some_and(|expected| money::order_tax_within(given, expected, lines.len()));
            if !within {
                ctx.error("order_tax_amount", Rule::OrderTaxAmount);
            }
        }
    }
}
