//! Every explanation says what was found and what was expected, with the
//! numbers the rule computed.

use serde_json::{Value, json};

use super::{BodyKind, Grade, Rule, Violation, validate};

/// A valid GB session: two lines at 20 %, 9500 + 495, tax 1583 + 83.
fn gb() -> Value {
    json!({
        "purchase_country": "GB", "purchase_currency": "GBP", "locale": "en-GB",
        "order_amount": 9995, "order_tax_amount": 1666,
        "order_lines": [
            {"type": "physical", "name": "Running shoe", "quantity": 1, "unit_price": 10000,
             "total_discount_amount": 500, "tax_rate": 2000, "total_amount": 9500,
             "total_tax_amount": 1583},
            {"type": "shipping_fee", "name": "Standard delivery", "quantity": 1,
             "unit_price": 495, "tax_rate": 2000, "total_amount": 495, "total_tax_amount": 83}
        ]
    })
}

fn with(f: impl FnOnce(&mut Value)) -> Value {
    let mut body = gb();
    f(&mut body);
    body
}

/// The one violation of `body` (a session), which must be at `path` by `rule`.
#[track_caller]
fn only(body: &Value, path: &str, rule: Rule) -> Violation {
    let mut got = validate(BodyKind::SessionCreate, body);
    assert_eq!(got.len(), 1, "{got:#?}");
    let v = got.remove(0);
    assert_eq!((v.path.as_str(), v.rule), (path, rule), "{v}");
    assert_eq!(
        v.message,
        format!("Bad value: {path}"),
        "the message is Klarna's alone"
    );
    v
}

/// The violation of `body` (a session) at `path` by `rule`, among others.
#[track_caller]
fn find(body: &Value, path: &str, rule: Rule) -> Violation {
    let got = validate(BodyKind::SessionCreate, body);
    got.iter()
        .find(|v| v.path == path && v.rule == rule)
        .cloned()
        .unwrap_or_else(|| panic!("no {rule} at {path}: {got:#?}"))
}

#[test]
fn the_valid_body_has_nothing_to_explain() {
    assert_eq!(validate(BodyKind::SessionCreate, &gb()), []);
}

#[test]
fn line_total_shows_the_formula_with_its_numbers() {
    let v = only(
        &with(|b| {
            b["order_lines"][0]["total_amount"] = json!(9400);
            b["order_lines"][0]["total_tax_amount"] = json!(1567);
            b["order_amount"] = json!(9895);
            b["order_tax_amount"] = json!(1650);
        }),
        "order_lines[0].total_amount",
        Rule::LineTotal,
    );
    assert_eq!(
        v.why,
        "total_amount is 9400, but quantity × unit_price − total_discount_amount = \
         1 × 10000 − 500 = 9500 (docs/klarna.md §3.1)"
    );
    // Without a discount the formula has no discount term; a truncated
    // fraction says what it was read as.
    let got = validate(
        BodyKind::SessionCreate,
        &json!({"purchase_country": "SE", "purchase_currency": "SEK", "order_amount": 1500,
                "order_lines": [{"name": "Tea", "quantity": 0.5, "unit_price": 3000,
                                 "total_amount": 1500}]}),
    );
    let total = got.iter().find(|v| v.rule == Rule::LineTotal).unwrap();
    assert_eq!(
        total.why,
        "total_amount is 1500, but quantity × unit_price = 0 × 3000 = 0, with quantity 0.5 \
         read as 0 (docs/klarna.md §3.1)"
    );
    let fraction = got.iter().find(|v| v.rule == Rule::Type).unwrap();
    assert_eq!(fraction.grade, Grade::Warning);
    assert!(
        fraction
            .why
            .starts_with("0.5 is not an integer: Klarna truncates it to 0")
    );
}

#[test]
fn line_tax_shows_the_computed_value_and_the_tolerance() {
    let v = only(
        &with(|b| {
            b["order_lines"][0]["total_tax_amount"] = json!(1683);
            b["order_tax_amount"] = json!(1766);
        }),
        "order_lines[0].total_tax_amount",
        Rule::LineTax,
    );
    assert_eq!(v.grade, Grade::Error);
    assert_eq!(
        v.why,
        "total_tax_amount is 1683, but total_amount − total_amount × 10000 / (10000 + tax_rate) \
         = 9500 − 9500 × 10000 / 12000 ≈ 1583.33, and it must be within ±1 of that: 1583 to \
         1584 (docs/klarna.md §3.1)"
    );
    // An exact tax is written without decimals.
    let v = find(
        &with(|b| {
            b["order_lines"][0]["tax_rate"] = json!(2500);
            b["order_lines"][0]["total_tax_amount"] = json!(1910);
            b["order_tax_amount"] = json!(1993);
        }),
        "order_lines[0].total_tax_amount",
        Rule::LineTax,
    );
    assert!(
        v.why.contains("= 9500 − 9500 × 10000 / 12500 = 1900, "),
        "{}",
        v.why
    );
    assert!(v.why.contains("1899 to 1901"), "{}", v.why);
}

#[test]
fn a_borderline_line_tax_says_why_it_is_only_a_warning() {
    // 100 at 20 %: exact 16.67; 15 is within 1 of the floor 16.
    let v = only(
        &json!({"purchase_country": "GB", "purchase_currency": "GBP", "order_amount": 100,
                "order_tax_amount": 15,
                "order_lines": [{"name": "Pen", "quantity": 1, "unit_price": 100,
                                 "total_amount": 100, "tax_rate": 2000,
                                 "total_tax_amount": 15}]}),
        "order_lines[0].total_tax_amount",
        Rule::LineTax,
    );
    assert_eq!(v.grade, Grade::Warning);
    assert_eq!(
        v.why,
        "total_tax_amount is 15; total_amount − total_amount × 10000 / (10000 + tax_rate) = \
         100 − 100 × 10000 / 12000 ≈ 16.67, so within ±1 is 16 to 17: 15 is further off, but \
         within 1 of 16, the exact tax rounded down; Klarna does not document how it rounds, \
         so only a warning (docs/klarna.md §3.1, §10)"
    );
}

#[test]
fn order_amount_shows_the_sum_of_the_lines() {
    let v = only(
        &with(|b| b["order_amount"] = json!(9996)),
        "order_amount",
        Rule::OrderAmount,
    );
    assert_eq!(
        v.why,
        "order_amount is 9996, but the sum of the lines' total_amount is 9500 + 495 = 9995 \
         (docs/klarna.md §3.1)"
    );
    // Many lines: the sum, not every term.
    let lines =
        vec![json!({"name": "Pin", "quantity": 1, "unit_price": 10, "total_amount": 10}); 12];
    let v = only(
        &json!({"purchase_country": "SE", "purchase_currency": "SEK", "order_amount": 100,
                "order_lines": lines}),
        "order_amount",
        Rule::OrderAmount,
    );
    assert!(v.why.contains("is 120 (over 12 lines)"), "{}", v.why);
}

#[test]
fn order_tax_shows_the_sum_and_the_tolerance() {
    let v = only(
        &with(|b| b["order_tax_amount"] = json!(1669)),
        "order_tax_amount",
        Rule::OrderTaxAmount,
    );
    assert_eq!(
        v.why,
        "order_tax_amount is 1669, but the sum of the lines' total_tax_amount is 1583 + 83 = \
         1666; it may differ by at most 2, ± the number of lines: 1664 to 1668 \
         (docs/klarna.md §3.1)"
    );
    // US style: the sales_tax line counts its total_amount.
    let v = only(
        &json!({"purchase_country": "US", "purchase_currency": "USD", "order_amount": 2175,
                "order_tax_amount": 180,
                "order_lines": [
                    {"name": "Hat", "quantity": 2, "unit_price": 1000, "total_amount": 2000},
                    {"type": "sales_tax", "name": "Sales Tax", "quantity": 1, "unit_price": 175,
                     "total_amount": 175}]}),
        "order_tax_amount",
        Rule::OrderTaxAmount,
    );
    assert!(
        v.why.contains(
            "the sum of the lines' tax is 0 + 175 = 175 (a sales_tax line counts its \
             total_amount); it may differ by at most 2, ± the number of lines: 173 to 177"
        ),
        "{}",
        v.why
    );
}

#[test]
fn lengths_say_how_long_and_the_limit() {
    let v = only(
        &with(|b| b["merchant_reference1"] = json!("x".repeat(300))),
        "merchant_reference1",
        Rule::MaxLength,
    );
    assert_eq!(
        v.why,
        "is 300 characters, at most 255 (docs/klarna.md §2.1)"
    );
    let v = only(
        &with(|b| b["order_lines"][1]["name"] = json!("")),
        "order_lines[1].name",
        Rule::MinLength,
    );
    assert_eq!(v.why, "is empty, at least 1 (docs/klarna.md §2.2)");
    // Characters, not bytes.
    let v = only(
        &with(|b| b["order_lines"][0]["quantity_unit"] = json!("ååååååååå")),
        "order_lines[0].quantity_unit",
        Rule::MaxLength,
    );
    assert_eq!(v.why, "is 9 characters, at most 8 (docs/klarna.md §2.2)");
    // The playground's limits, cited from its recordings.
    let v = only(
        &with(|b| b["order_lines"][0]["reference"] = json!("r".repeat(65))),
        "order_lines[0].reference",
        Rule::MaxLength,
    );
    assert_eq!(
        v.why,
        "is 65 characters, at most 64: the spec allows 255, but the playground refused a \
         reference longer than 64 (docs/klarna.md §11.5)"
    );
    let v = only(
        &with(|b| b["order_lines"][0]["image_url"] = json!("")),
        "order_lines[0].image_url",
        Rule::MinLength,
    );
    assert!(
        v.why
            .contains("leave the field out or send null (docs/klarna.md §11.5)")
    );
}

#[test]
fn types_say_what_was_found() {
    let v = only(
        &with(|b| b["purchase_country"] = json!(12)),
        "purchase_country",
        Rule::Type,
    );
    assert_eq!(v.why, "expected a string, got 12 (docs/klarna.md §2.1)");
    let v = only(
        &with(|b| b["order_amount"] = json!("9995")),
        "order_amount",
        Rule::Type,
    );
    assert_eq!(
        v.why,
        "expected an integer, got \"9995\" (docs/klarna.md §2.1)"
    );
    let v = only(
        &with(|b| b["billing_address"] = json!(["London"])),
        "billing_address",
        Rule::Type,
    );
    assert_eq!(
        v.why,
        "expected an object {...}, got an array (docs/klarna.md §2.1)"
    );
    let v = only(
        &with(|b| b["order_lines"][1]["tax_rate"] = json!(1e30)),
        "order_lines[1].tax_rate",
        Rule::Type,
    );
    assert!(
        v.why.contains("outside the 64-bit integer range"),
        "{}",
        v.why
    );
    // A long string is cut in the explanation.
    let v = only(
        &with(|b| b["order_lines"][0]["tax_rate"] = json!("y".repeat(100))),
        "order_lines[0].tax_rate",
        Rule::Type,
    );
    assert!(
        v.why.contains(&format!("got \"{}\"…", "y".repeat(40))),
        "{}",
        v.why
    );
    let got = validate(BodyKind::SessionCreate, &json!("a string"));
    assert_eq!(
        got[0].why,
        "expected a JSON object {...}, got \"a string\" (docs/klarna.md §2.1)"
    );
}

#[test]
fn market_rules_name_the_country_and_what_fits_it() {
    let v = only(
        &with(|b| b["purchase_currency"] = json!("EUR")),
        "purchase_currency",
        Rule::Market,
    );
    assert_eq!(
        v.why,
        "GB takes only GBP, got EUR: each country takes only its own currency \
         (docs/klarna.md §3.2)"
    );
    let v = only(
        &with(|b| b["locale"] = json!("de-DE")),
        "locale",
        Rule::Market,
    );
    assert_eq!(
        v.why,
        "\"de-DE\" is not a locale of GB, which takes en-GB (docs/klarna.md §3.2)"
    );
    // The billing country overrides purchase_country, and the explanation says so.
    let v = only(
        &with(|b| {
            b["billing_address"] = json!({"country": "SE"});
            b["purchase_currency"] = json!("SEK");
            b["locale"] = json!("sv-SE");
            b["order_lines"][0]["tax_rate"] = json!(2500);
            b["order_lines"][0]["total_tax_amount"] = json!(1900);
            b["order_lines"][1]["tax_rate"] = json!(2500);
            b["order_lines"][1]["total_tax_amount"] = json!(99);
            b["order_tax_amount"] = json!(1999);
            b["locale"] = json!("en-GB");
        }),
        "locale",
        Rule::Market,
    );
    assert_eq!(
        v.why,
        "\"en-GB\" is not a locale of SE (billing_address.country, which overrides \
         purchase_country GB), which takes sv-SE, en-SE (docs/klarna.md §3.2)"
    );
    let v = only(&with(|b| b["locale"] = json!("en")), "locale", Rule::Market);
    assert_eq!(v.grade, Grade::Warning);
    assert!(
        v.why
            .contains("so only a warning (docs/klarna.md §3.2, §10)")
    );
    let v = only(
        &with(|b| b["locale"] = json!("en_GB")),
        "locale",
        Rule::Pattern,
    );
    assert!(
        v.why
            .ends_with("an underscore was refused, write \"en-GB\" (docs/klarna.md §11.5)"),
        "{}",
        v.why
    );
    let v = only(
        &with(|b| b["purchase_country"] = json!("XX")),
        "purchase_country",
        Rule::Market,
    );
    assert!(
        v.why
            .starts_with("XX is not a Klarna market; the markets are AU, AT, BE,")
    );
}

#[test]
fn other_rules_explain_themselves() {
    let v = only(
        &with(|b| b["billing_address"] = json!({"given_name": "J"})),
        "billing_address.given_name",
        Rule::Name,
    );
    assert_eq!(
        v.why,
        "\"J\" is one character; a name must be longer than one character (docs/klarna.md §2.3)"
    );
    let v = only(
        &with(|b| b["billing_address"] = json!({"family_name": "Jo@n"})),
        "billing_address.family_name",
        Rule::Name,
    );
    assert!(v.why.starts_with("\"Jo@n\" contains '@'"), "{}", v.why);
    let v = only(&with(|b| b["intent"] = json!("BUY")), "intent", Rule::Enum);
    assert_eq!(
        v.why,
        "expected one of buy, tokenize, buy_and_tokenize, buy_and_default_tokenize, \
         buy_and_link, got \"BUY\" (the values are case-sensitive) (docs/klarna.md §2.1)"
    );
    let v = only(
        &with(|b| b["order_lines"][1]["tax_rate"] = json!(10001)),
        "order_lines[1].tax_rate",
        Rule::Maximum,
    );
    assert!(v.why.starts_with("is 10001, at most 10000"), "{}", v.why);
    let v = only(
        &with(|b| b["order_amount"] = Value::Null),
        "order_amount",
        Rule::Required,
    );
    assert_eq!(
        v.why,
        "is null; the field is required (docs/klarna.md §2.1)"
    );
    let v = find(
        &with(|b| b["order_lines"][1]["tax_rate"] = json!(2300)),
        "order_lines[1].total_tax_amount",
        Rule::LineTax,
    );
    assert!(v.why.contains("495 × 10000 / 12300"), "{}", v.why);

    let us = json!({"purchase_country": "US", "purchase_currency": "USD", "order_amount": 100,
        "order_lines": [{"name": "Hat", "quantity": 1, "unit_price": 100, "total_amount": 100}],
        "billing_address": {"street_address": "509 Amsterdam Ave", "city": "New York"}});
    let v = only(&us, "billing_address.region", Rule::Region);
    assert!(
        v.why.starts_with("is missing; in the US market"),
        "{}",
        v.why
    );
}
