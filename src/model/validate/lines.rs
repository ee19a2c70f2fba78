//! `order_lines` and the amount rules (docs/klarna.md §2.2 and 3.1).

use serde_json::{Map, Value};

use super::Rule;
use super::body::empty_url;
use super::reader::{Ctx, Int, Path, found, join, length, quoted, read_int};
use crate::model::OrderLineType;
use crate::model::market::Market;
use crate::model::money::{
    self, LineTaxCheck, MAX_LINE_AMOUNT, MAX_ORDER_LINES, TAX_RATE_SCALE, check_line_tax,
};

/// What a line contributes to the order-level sums, when it could be read.
pub(super) struct LineAmounts {
    pub(super) total_amount: Option<i64>,
    pub(super) tax_contribution: Option<i64>,
    /// A `sales_tax` line: it contributes its `total_amount` to the tax.
    pub(super) sales_tax: bool,
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
        let why = "is empty; a cart needs at least 1 order line (docs/klarna.md §2.1)";
        ctx.error("order_lines", Rule::MinItems, why.to_owned());
        return None;
    }
    if lines.len() > MAX_ORDER_LINES {
        let why = format!(
            "has {} lines, at most {MAX_ORDER_LINES} (docs/klarna.md §2.1)",
            lines.len()
        );
        ctx.error("order_lines", Rule::MaxItems, why);
    }
    let amounts = lines
        .iter()
        .enumerate()
        .map(|(i, line)| order_line(ctx, line_path(&mut [0; 40], i), line, market))
        .collect();
    Some(amounts)
}

/// `order_lines[i]`, written into `buf` (no allocation: this runs for every
/// line of every request, and a path is needed only when a rule is broken).
fn line_path(buf: &mut [u8; 40], i: usize) -> &str {
    use std::io::Write as _;
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    // 13 bytes of prefix and bracket and 20 digits of any usize fit in 40.
    let _ = write!(cursor, "order_lines[{i}]");
    let len = cursor.position() as usize;
    std::str::from_utf8(&buf[..len]).unwrap_or("order_lines")
}

fn order_line(ctx: &mut Ctx, p: &str, line: &Value, market: Option<&Market>) -> LineAmounts {
    let unreadable = LineAmounts {
        total_amount: None,
        tax_contribution: None,
        sales_tax: false,
    };
    let Some(line) = line.as_object() else {
        let why = format!(
            "expected an order line, an object {{...}}, got {} (docs/klarna.md §2.2)",
            found(line)
        );
        ctx.error(p, Rule::Type, why);
        return unreadable;
    };
    let at = |key: &'static str| Path::Join(p, key);

    // docs/klarna.md §2.2: required name, quantity, total_amount, unit_price.
    ctx.required(line, p, &["name", "quantity", "total_amount", "unit_price"]);

    // `type` is listed in prose, not as a schema enum, and nothing records
    // Klarna refusing another value (docs/klarna.md §2.2): an unlisted one is a warning.
    let line_type = ctx
        .string(line, "type", at("type"), 0, usize::MAX)
        .map(OrderLineType::from);
    if let Some(t) = &line_type
        && !OrderLineType::DOCUMENTED.contains(t)
    {
        let documented: Vec<&str> = OrderLineType::DOCUMENTED
            .iter()
            .map(OrderLineType::as_str)
            .collect();
        let why = format!(
            "{} is not one of the documented line types ({}); the list is prose, not a \
             schema enum, and no refusal was recorded, so only a warning (docs/klarna.md §2.2)",
            quoted(t.as_str()),
            documented.join(", ")
        );
        ctx.warn(at("type"), Rule::Enum, why);
    }

    // The spec allows 255 (SPEC24's description 256), but the playground
    // refused a reference longer than 64, twice (docs/klarna.md §11.5).
    if let Some(reference) = ctx.string(line, "reference", at("reference"), 0, usize::MAX)
        && reference.chars().nth(64).is_some()
    {
        let why = format!(
            "{}, at most 64: the spec allows 255, but the playground refused a reference \
             longer than 64 (docs/klarna.md §11.5)",
            length(reference.chars().count())
        );
        ctx.error(at("reference"), Rule::MaxLength, why);
    }
    ctx.string(line, "name", at("name"), 1, 255);
    ctx.string(line, "quantity_unit", at("quantity_unit"), 1, 8);
    // An empty-string URL was refused where null is fine (docs/klarna.md §11.5).
    for key in ["product_url", "image_url"] {
        if ctx.string(line, key, at(key), 0, 1024) == Some("") {
            ctx.error(at(key), Rule::MinLength, empty_url());
        }
    }
    ctx.string(line, "merchant_data", at("merchant_data"), 0, 1024);
    product_identifiers(ctx, line, p);
    subscription(ctx, line, p);

    // docs/klarna.md §2.2 ranges.
    let quantity = ctx.int(line, "quantity", at("quantity"));
    if let Some(q) = quantity.filter(|&q| q < 0) {
        ctx.below(at("quantity"), q, 0, "");
    }
    let unit_price = ctx.int(line, "unit_price", at("unit_price"));
    if let Some(u) = unit_price.filter(|&u| u > MAX_LINE_AMOUNT) {
        ctx.above(at("unit_price"), u, MAX_LINE_AMOUNT, AMOUNT_LIMIT);
    }
    let tax_rate = ctx.int(line, "tax_rate", at("tax_rate"));
    match tax_rate {
        Some(r) if r < 0 => ctx.below(at("tax_rate"), r, 0, BASIS_POINTS),
        Some(r) if r > TAX_RATE_SCALE => ctx.above(at("tax_rate"), r, TAX_RATE_SCALE, BASIS_POINTS),
        // docs/klarna.md §10: a 23 % rate on a Swedish line was accepted; rates are
        // not checked against the market's VAT table, so this is a warning.
        Some(r) => {
            if let Some(m) = market.filter(|m| !m.vat_rates.contains(&r)) {
                let rates: Vec<String> = m.vat_rates.iter().map(|&v| percent(v)).collect();
                let style = if m.sales_tax {
                    format!(
                        "; {} is a sales-tax market, where tax travels as one sales_tax line \
                         and lines carry no tax_rate (docs/klarna.md §3.1)",
                        m.country
                    )
                } else {
                    String::new()
                };
                let why = format!(
                    "{r} ({}) is not one of {}'s VAT rates ({}); Klarna does not check rates \
                     against the market (a 23 % rate on a Swedish line was accepted), so only \
                     a warning (docs/klarna.md §10){style}",
                    percent(r),
                    m.country,
                    rates.join(", ")
                );
                ctx.warn(at("tax_rate"), Rule::TaxRate, why);
            }
        }
        None => {}
    }
    let total_amount = ctx.int(line, "total_amount", at("total_amount"));
    if let Some(t) = total_amount.filter(|&t| t > MAX_LINE_AMOUNT) {
        ctx.above(at("total_amount"), t, MAX_LINE_AMOUNT, AMOUNT_LIMIT);
    }
    let discount_present = line
        .get("total_discount_amount")
        .is_some_and(|v| !v.is_null());
    let discount = ctx.int(line, "total_discount_amount", at("total_discount_amount"));
    if let Some(d) = discount.filter(|&d| d < 0) {
        ctx.below(
            at("total_discount_amount"),
            d,
            0,
            ": it is the amount taken off the line; a reduction of its own is a line with a \
             negative total_amount",
        );
    }
    let tax_present = line.get("total_tax_amount").is_some_and(|v| !v.is_null());
    let total_tax = ctx.int(line, "total_tax_amount", at("total_tax_amount"));

    // docs/klarna.md §3.1: total_amount = quantity × unit_price − total_discount_amount.
    // Klarna names total_amount when the line does not add up (docs/klarna.md §3.3).
    if let (Some(q), Some(u), Some(t)) = (quantity, unit_price, total_amount)
        && (discount.is_some() || !discount_present)
    {
        let computed = money::line_total(q, u, discount.unwrap_or(0));
        if computed != Some(t) {
            let why = line_total_why(line, t, q, u, discount, computed);
            ctx.error(at("total_amount"), Rule::LineTotal, why);
        }
    }

    // docs/klarna.md §3.1: total_tax_amount within ±1 of the formula. Checked only
    // when the line carries both a rate and a tax: lines without tax fields
    // are accepted (docs/klarna.md §10).
    if let (Some(r), Some(t), Some(tax)) = (tax_rate, total_amount, total_tax) {
        match check_line_tax(tax, t, r) {
            Some(LineTaxCheck::Borderline) => {
                let why = line_tax_why(tax, t, r, LineTaxCheck::Borderline);
                ctx.warn(at("total_tax_amount"), Rule::LineTax, why)
            }
            Some(LineTaxCheck::Outside) => {
                let why = line_tax_why(tax, t, r, LineTaxCheck::Outside);
                ctx.error(at("total_tax_amount"), Rule::LineTax, why)
            }
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
        sales_tax: line_type == Some(OrderLineType::SalesTax),
    }
}

/// The note on the amount maxima (docs/klarna.md §2.2).
const AMOUNT_LIMIT: &str = " (SPEC24; SPEC23 said 100000000)";

/// The note on `tax_rate`'s range.
const BASIS_POINTS: &str = " (basis points: 2500 is 25 %, 10000 is 100 %)";

/// `25 %`, `5.5 %`, `2.1 %` for a rate in basis points.
fn percent(bp: i64) -> String {
    let whole = format!("{}.{:02}", bp / 100, (bp % 100).abs());
    let trimmed = whole.trim_end_matches('0').trim_end_matches('.');
    format!("{trimmed} %")
}

/// `total_amount is 9400, but quantity × unit_price − total_discount_amount =
/// 1 × 10000 − 500 = 9500 (docs/klarna.md §3.1)`, noting fractions Klarna truncated.
fn line_total_why(
    line: &Map<String, Value>,
    total: i64,
    quantity: i64,
    unit_price: i64,
    discount: Option<i64>,
    computed: Option<i64>,
) -> String {
    let computed = computed.map_or_else(
        || "a value beyond the 64-bit range".to_owned(),
        |c| c.to_string(),
    );
    let formula = match discount {
        Some(d) => {
            let d = if d < 0 {
                format!("({d})")
            } else {
                d.to_string()
            };
            format!(
                "quantity × unit_price − total_discount_amount = {quantity} × {unit_price} − {d} \
                 = {computed}"
            )
        }
        None => format!("quantity × unit_price = {quantity} × {unit_price} = {computed}"),
    };
    let truncated: Vec<String> = [
        "quantity",
        "unit_price",
        "total_discount_amount",
        "total_amount",
    ]
    .into_iter()
    .filter_map(|key| {
        let value = line.get(key)?;
        match read_int(value) {
            Int::Truncated(n) => Some(format!("{key} {value} read as {n}")),
            _ => None,
        }
    })
    .collect();
    let truncated = if truncated.is_empty() {
        String::new()
    } else {
        format!(", with {}", truncated.join(" and "))
    };
    format!("total_amount is {total}, but {formula}{truncated} (docs/klarna.md §3.1)")
}

/// The line tax formula with its numbers and the ±1 tolerance (docs/klarna.md §3.1).
fn line_tax_why(tax: i64, total: i64, rate: i64, grade: LineTaxCheck) -> String {
    let Some(t) = money::line_tax_tolerance(total, rate) else {
        return String::new();
    };
    let scale = TAX_RATE_SCALE;
    let exact = {
        let h = t.hundredths();
        let sign = if h < 0 { "-" } else { "" };
        let (whole, cents) = (h.abs() / 100, h.abs() % 100);
        let approx = if t.hundredths_exact() { "=" } else { "≈" };
        if cents == 0 && t.hundredths_exact() {
            format!("{approx} {sign}{whole}")
        } else {
            format!("{approx} {sign}{whole}.{cents:02}")
        }
    };
    let formula = format!(
        "total_amount − total_amount × {scale} / ({scale} + tax_rate) = {total} − {total} × \
         {scale} / {} {exact}",
        scale + rate
    );
    let within = t.within();
    let (lo, hi) = (within.start(), within.end());
    match grade {
        LineTaxCheck::Borderline => {
            let near = if tax < *lo { t.floor } else { t.ceil };
            format!(
                "total_tax_amount is {tax}; {formula}, so within ±1 is {lo} to {hi}: {tax} is \
                 further off, but within 1 of {near}, the exact tax rounded {}; Klarna does not \
                 document how it rounds, so only a warning (docs/klarna.md §3.1, §10)",
                if tax < *lo { "down" } else { "up" }
            )
        }
        _ => format!(
            "total_tax_amount is {tax}, but {formula}, and it must be within ±1 of that: \
             {lo} to {hi} (docs/klarna.md §3.1)"
        ),
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
    ctx.one_of(
        sub,
        "interval",
        Path::Join(&base, "interval"),
        &["DAY", "WEEK", "MONTH", "YEAR"],
    );
    let count_path = join(&base, "interval_count");
    if let Some(c) = ctx
        .int(sub, "interval_count", &count_path)
        .filter(|&c| c < 1)
    {
        ctx.below(&count_path, c, 1, "");
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
    if let Some(a) = order_amount.filter(|&a| a < 0) {
        ctx.below("order_amount", a, 0, "");
    }
    let order_tax_amount = ctx.int(body, "order_tax_amount", "order_tax_amount");
    if let Some(a) = order_tax_amount.filter(|&a| a < 0) {
        ctx.below("order_tax_amount", a, 0, "");
    }
    let Some(lines) = lines else {
        return;
    };
    // docs/klarna.md §3.1: order_amount = Σ order_lines[].total_amount, exactly.
    if let Some(given) = order_amount {
        let totals: Option<Vec<i64>> = lines.iter().map(|l| l.total_amount).collect();
        if let Some(totals) = totals {
            let sum = money::order_amount(totals.iter().copied());
            if sum != Some(given) {
                let why = format!(
                    "order_amount is {given}, but the sum of the lines' total_amount is {} \
                     (docs/klarna.md §3.1)",
                    summed(&totals, sum)
                );
                ctx.error("order_amount", Rule::OrderAmount, why);
            }
        }
    }
    // docs/klarna.md §3.1: order_tax_amount = Σ line tax (a sales_tax line counts
    // its total_amount), within ± the number of lines.
    if let Some(given) = order_tax_amount {
        let taxes: Option<Vec<i64>> = lines.iter().map(|l| l.tax_contribution).collect();
        if let Some(taxes) = taxes {
            let sum = money::order_amount(taxes.iter().copied());
            let within =
                sum.is_some_and(|expected| money::order_tax_within(given, expected, lines.len()));
            if !within {
                let why = order_tax_why(given, &taxes, sum, lines);
                ctx.error("order_tax_amount", Rule::OrderTaxAmount, why);
            }
        }
    }
}

/// `9500 + 495 = 9995` (the terms when there are few), or why there is no sum.
fn summed(terms: &[i64], sum: Option<i64>) -> String {
    const SHOWN: usize = 8;
    let Some(sum) = sum else {
        return "beyond the 64-bit range".to_owned();
    };
    if terms.len() == 1 {
        return sum.to_string();
    }
    if terms.len() > SHOWN {
        return format!("{sum} (over {} lines)", terms.len());
    }
    let terms: Vec<String> = terms
        .iter()
        .enumerate()
        .map(|(i, &t)| match (i, t < 0) {
            (0, _) => t.to_string(),
            (_, true) => format!("− {}", t.unsigned_abs()),
            (_, false) => format!("+ {t}"),
        })
        .collect();
    format!("{} = {sum}", terms.join(" "))
}

/// order_tax_amount against the lines' tax, with the ± number of lines tolerance.
fn order_tax_why(given: i64, taxes: &[i64], sum: Option<i64>, lines: &[LineAmounts]) -> String {
    let n = lines.len();
    let (what, note) = if lines.iter().any(|l| l.sales_tax) {
        ("tax", " (a sales_tax line counts its total_amount)")
    } else {
        ("total_tax_amount", "")
    };
    let tolerance = match sum {
        Some(sum) => {
            let k = i128::try_from(n).unwrap_or(i128::MAX);
            format!(
                "; it may differ by at most {n}, ± the number of lines: {} to {}",
                i128::from(sum) - k,
                i128::from(sum) + k
            )
        }
        None => String::new(),
    };
    format!(
        "order_tax_amount is {given}, but the sum of the lines' {what} is {}{note}{tolerance} \
         (docs/klarna.md §3.1)",
        summed(taxes, sum)
    )
}
