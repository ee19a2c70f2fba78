//! One test per validation rule: a body that breaks exactly that rule gets
//! exactly that path, message and grade; bodies valid by construction get none.

use klarna_conformance::model::money::Cart;
use klarna_conformance::model::validate::{BodyKind, Grade, Rule, Violation, validate};
use klarna_conformance::model::{OrderLine, OrderLineType};
use serde_json::{Value, json};

use Grade::{Error, Warning};

/// A complete, valid GB session: every optional object present, so each rule
/// can be broken by changing one field.
fn gb_session() -> Value {
    let cart = Cart::global(vec![
        OrderLine::builder("Running shoe")
            .line_type(OrderLineType::Physical)
            .reference("19-402")
            .unit_price(10000)
            .total_discount_amount(500)
            .tax_rate(2000)
            .build()
            .unwrap(),
        OrderLine::builder("Standard delivery")
            .line_type(OrderLineType::ShippingFee)
            .unit_price(495)
            .tax_rate(2000)
            .build()
            .unwrap(),
    ])
    .unwrap();
    let address = json!({
        "given_name": "Test", "family_name": "Person-uk", "email": "customer@email.uk",
        "title": "Mr", "street_address": "10 New Burlington Street", "street_address2": "Apt. 214",
        "postal_code": "W1S 3BE", "city": "London", "phone": "+447755564318", "country": "GB"
    });
    let mut body = json!({
        "purchase_country": "GB", "purchase_currency": "GBP", "locale": "en-GB",
        "intent": "buy", "acquiring_channel": "ECOMMERCE",
        "billing_address": address, "shipping_address": address,
        "customer": {"date_of_birth": "1970-07-10", "type": "person", "last_four_ssn": "1234"},
        "merchant_reference1": "ON4711", "merchant_reference2": "hdt53h", "merchant_data": "{}",
        "merchant_urls": {"confirmation": "https://example.com/c", "authorization": "https://example.com/a"},
        "options": {"color_border": "#FF9900", "color_text": "#000000", "radius_border": "5px"},
        "attachment": {"content_type": "application/vnd.klarna.internal.emd-v2+json", "body": "{}"},
        "custom_payment_method_ids": ["promo"]
    });
    cart.write_into(&mut body);
    body["order_lines"][0]["product_identifiers"] = json!({"brand": "Acme", "size": "42"});
    body["order_lines"][0]["subscription"] =
        json!({"name": "Shoe club", "interval": "MONTH", "interval_count": 1});
    body["order_lines"][0]["quantity_unit"] = json!("pcs");
    body
}

/// A valid body of another market with the lines given; order totals summed
/// from the lines as Klarna defines them (a sales_tax line counts its total).
fn market_body(country: &str, currency: &str, locale: &str, lines: Vec<Value>) -> Value {
    let amount: i64 = lines
        .iter()
        .map(|l| l["total_amount"].as_i64().unwrap())
        .sum();
    let tax: i64 = lines
        .iter()
        .map(|l| {
            if l["type"] == "sales_tax" {
                l["total_amount"].as_i64().unwrap()
            } else {
                l["total_tax_amount"].as_i64().unwrap_or(0)
            }
        })
        .sum();
    json!({
        "purchase_country": country, "purchase_currency": currency, "locale": locale,
        "order_amount": amount, "order_tax_amount": tax, "order_lines": lines
    })
}

fn line(name: &str, quantity: i64, unit_price: i64) -> Value {
    json!({"name": name, "quantity": quantity, "unit_price": unit_price,
           "total_amount": quantity * unit_price})
}

/// Asserts the violations are exactly `expected` (grade, path, rule), each with
/// Klarna's message `Bad value: <path>` and an explanation citing a source.
#[track_caller]
fn assert_violations(kind: BodyKind, body: &Value, expected: &[(Grade, &str, Rule)]) {
    let got = validate(kind, body);
    let seen: Vec<(Grade, &str, Rule, &str)> = got
        .iter()
        .map(|v| (v.grade, v.path.as_str(), v.rule, v.message.as_str()))
        .collect();
    let messages: Vec<String> = expected
        .iter()
        .map(|(_, path, _)| format!("Bad value: {path}"))
        .collect();
    let want: Vec<(Grade, &str, Rule, &str)> = expected
        .iter()
        .zip(&messages)
        .map(|((grade, path, rule), message)| (*grade, *path, *rule, message.as_str()))
        .collect();
    assert_eq!(seen, want);
    for v in &got {
        explained(v);
    }
}

/// Every violation says why, in one line, ending with its source in docs/klarna.md.
#[track_caller]
fn explained(v: &Violation) {
    let why = &v.why;
    assert!(
        !why.contains('\n') && why.contains("(docs/klarna.md §") && why.ends_with(')'),
        "{v}"
    );
    assert!(!why.contains("../shared"), "{v}");
}

#[track_caller]
fn session(body: &Value, expected: &[(Grade, &str, Rule)]) {
    assert_violations(BodyKind::SessionCreate, body, expected);
}

/// `gb_session()` with `f` applied.
fn gb(f: impl FnOnce(&mut Value)) -> Value {
    let mut body = gb_session();
    f(&mut body);
    body
}

fn remove(body: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
}

#[test]
fn valid_bodies_have_no_violations() {
    session(&gb_session(), &[]);
    assert_violations(BodyKind::SessionUpdate, &gb_session(), &[]);
    assert_violations(BodyKind::CreateOrder, &gb_session(), &[]);
    assert_violations(BodyKind::SessionUpdate, &json!({}), &[]);
    // Unknown fields are not violations: Klarna adds fields over time.
    session(&gb(|b| b["brand_new_field"] = json!({"x": 1})), &[]);
    session(&gb(|b| b["order_lines"][1]["new"] = json!(true)), &[]);
    // Lines with no type, no tax and no discount fields (docs/klarna.md §10).
    session(
        &market_body("SE", "SEK", "sv-SE", vec![line("Sock", 2, 4900)]),
        &[],
    );
    // null is absence for an optional field.
    session(&gb(|b| b["locale"] = Value::Null), &[]);
}

#[test]
fn required_fields() {
    for field in [
        "order_amount",
        "order_lines",
        "purchase_country",
        "purchase_currency",
    ] {
        let body = gb(|b| remove(b, &format!("/{field}")));
        session(&body, &[(Error, field, Rule::Required)]);
        assert_violations(
            BodyKind::CreateOrder,
            &body,
            &[(Error, field, Rule::Required)],
        );
        // An update requires nothing.
        assert_violations(BodyKind::SessionUpdate, &body, &[]);
    }
    for field in ["name", "quantity", "total_amount", "unit_price"] {
        let body = gb(|b| remove(b, &format!("/order_lines/1/{field}")));
        let path = format!("order_lines[1].{field}");
        session(&body, &[(Error, &path, Rule::Required)]);
    }
    session(
        &gb(|b| remove(b, "/attachment/body")),
        &[(Error, "attachment.body", Rule::Required)],
    );
    session(
        &gb(|b| remove(b, "/order_lines/0/subscription/interval")),
        &[(
            Error,
            "order_lines[0].subscription.interval",
            Rule::Required,
        )],
    );
    // An empty body: every required field, in document order.
    session(
        &json!({}),
        &[
            (Error, "order_amount", Rule::Required),
            (Error, "order_lines", Rule::Required),
            (Error, "purchase_country", Rule::Required),
            (Error, "purchase_currency", Rule::Required),
        ],
    );
}

#[test]
fn customer_token_required_and_enum() {
    let token = json!({
        "description": "Shoe club", "intended_use": "SUBSCRIPTION", "locale": "en-GB",
        "purchase_country": "GB", "purchase_currency": "GBP",
        "billing_address": {"country": "GB"}
    });
    assert_violations(BodyKind::CustomerToken, &token, &[]);
    let mut no_locale = token.clone();
    no_locale.as_object_mut().unwrap().remove("locale");
    // Required by the spec, not refused in the recording (docs/klarna.md §11.2).
    assert_violations(
        BodyKind::CustomerToken,
        &no_locale,
        &[(Warning, "locale", Rule::Required)],
    );
    let mut one_time = token.clone();
    one_time["intended_use"] = json!("ONE_TIME");
    assert_violations(
        BodyKind::CustomerToken,
        &one_time,
        &[(Error, "intended_use", Rule::Enum)],
    );
    // DOCS step-3: a billing country other than the session's.
    let mut other = token.clone();
    other["purchase_country"] = json!("SE");
    assert_violations(
        BodyKind::CustomerToken,
        &other,
        &[(Error, "purchase_country", Rule::Market)],
    );
}

#[test]
fn json_types() {
    session(
        &gb(|b| b["order_amount"] = json!("9995")),
        &[(Error, "order_amount", Rule::Type)],
    );
    session(
        &gb(|b| b["order_lines"] = json!({})),
        &[(Error, "order_lines", Rule::Type)],
    );
    session(
        &gb(|b| b["order_lines"][1] = json!(5)),
        &[(Error, "order_lines[1]", Rule::Type)],
    );
    session(
        &gb(|b| b["purchase_country"] = json!(12)),
        &[(Error, "purchase_country", Rule::Type)],
    );
    session(
        &gb(|b| b["billing_address"] = json!("London")),
        &[(Error, "billing_address", Rule::Type)],
    );
    session(
        &gb(|b| b["order_lines"][1]["name"] = json!(["x"])),
        &[(Error, "order_lines[1].name", Rule::Type)],
    );
    session(
        &gb(|b| b["custom_payment_method_ids"] = json!(["a", 1])),
        &[(Error, "custom_payment_method_ids[1]", Rule::Type)],
    );
    assert_violations(
        BodyKind::CreateOrder,
        &gb(|b| b["auto_capture"] = json!("yes")),
        &[(Error, "auto_capture", Rule::Type)],
    );
    // Integers beyond int64 cannot be read.
    session(
        &gb(|b| b["order_lines"][1]["tax_rate"] = json!(1e30)),
        &[(Error, "order_lines[1].tax_rate", Rule::Type)],
    );
    // A whole number written with a fraction part is still an integer.
    session(&gb(|b| b["order_lines"][1]["quantity"] = json!(1.0)), &[]);
    // Not an object at all.
    let got = validate(BodyKind::SessionCreate, &json!([1, 2]));
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].grade, got[0].path.as_str()), (Error, ""));
}

#[test]
fn fractional_quantity_is_answered_at_total_amount() {
    // docs/klarna.md §10: quantity 0.5 was answered `Bad value: order_lines[1].total_amount`.
    let mut lines = vec![line("Coffee", 1, 5000), line("Tea", 1, 3000)];
    lines[1]["quantity"] = json!(0.5);
    lines[1]["total_amount"] = json!(1500);
    session(
        &market_body("SE", "SEK", "sv-SE", lines),
        &[
            (Warning, "order_lines[1].quantity", Rule::Type),
            (Error, "order_lines[1].total_amount", Rule::LineTotal),
        ],
    );
}

#[test]
fn lengths() {
    let long = |n: usize| json!("x".repeat(n));
    session(
        &gb(|b| b["merchant_reference1"] = long(256)),
        &[(Error, "merchant_reference1", Rule::MaxLength)],
    );
    session(&gb(|b| b["merchant_reference2"] = long(255)), &[]);
    session(
        &gb(|b| b["merchant_data"] = long(6001)),
        &[(Error, "merchant_data", Rule::MaxLength)],
    );
    session(
        &gb(|b| b["order_lines"][0]["name"] = json!("")),
        &[(Error, "order_lines[0].name", Rule::MinLength)],
    );
    session(
        &gb(|b| b["order_lines"][0]["quantity_unit"] = long(9)),
        &[(Error, "order_lines[0].quantity_unit", Rule::MaxLength)],
    );
    session(
        &gb(|b| b["order_lines"][0]["product_url"] = long(1025)),
        &[(Error, "order_lines[0].product_url", Rule::MaxLength)],
    );
    session(
        &gb(|b| b["order_lines"][0]["product_identifiers"]["brand"] = long(71)),
        &[(
            Error,
            "order_lines[0].product_identifiers.brand",
            Rule::MaxLength,
        )],
    );
    session(
        &gb(|b| b["order_lines"][0]["subscription"]["name"] = json!("")),
        &[(Error, "order_lines[0].subscription.name", Rule::MinLength)],
    );
    session(
        &gb(|b| b["billing_address"]["postal_code"] = json!("W1S 3BE 123")),
        &[(Error, "billing_address.postal_code", Rule::MaxLength)],
    );
    session(
        &gb(|b| b["shipping_address"]["title"] = long(21)),
        &[(Error, "shipping_address.title", Rule::MaxLength)],
    );
    session(
        &gb(|b| b["merchant_urls"]["confirmation"] = long(2001)),
        &[(Error, "merchant_urls.confirmation", Rule::MaxLength)],
    );
    // The spec says 255, but the playground refused more than 64 (docs/klarna.md §11.5).
    session(&gb(|b| b["order_lines"][0]["reference"] = long(64)), &[]);
    session(
        &gb(|b| b["order_lines"][0]["reference"] = long(65)),
        &[(Error, "order_lines[0].reference", Rule::MaxLength)],
    );
    // An empty-string URL is refused; a locale with an underscore too (§11.5).
    session(
        &gb(|b| b["order_lines"][0]["image_url"] = json!("")),
        &[(Error, "order_lines[0].image_url", Rule::MinLength)],
    );
    session(
        &gb(|b| b["merchant_urls"]["confirmation"] = json!("")),
        &[(Error, "merchant_urls.confirmation", Rule::MinLength)],
    );
    session(
        &gb(|b| b["locale"] = json!("en_GB")),
        &[(Error, "locale", Rule::Pattern)],
    );
    // SPEC23 minLength 5, SPEC24 minLength 0.
    session(
        &gb(|b| b["billing_address"]["phone"] = json!("1234")),
        &[(Warning, "billing_address.phone", Rule::MinLength)],
    );
}

#[test]
fn patterns() {
    session(
        &gb(|b| b["purchase_country"] = json!("GBR")),
        &[(Error, "purchase_country", Rule::Pattern)],
    );
    session(
        &gb(|b| b["purchase_currency"] = json!("GB")),
        &[(Error, "purchase_currency", Rule::Pattern)],
    );
    session(
        &gb(|b| b["locale"] = json!("en_GB")),
        &[(Error, "locale", Rule::Pattern)],
    );
    session(
        &gb(|b| b["billing_address"]["country"] = json!("G1")),
        &[(Error, "billing_address.country", Rule::Pattern)],
    );
    session(
        &gb(|b| b["options"]["color_text"] = json!("red")),
        &[(Error, "options.color_text", Rule::Pattern)],
    );
    session(
        &gb(|b| b["options"]["color_border_selected"] = json!("#12345G")),
        &[(Error, "options.color_border_selected", Rule::Pattern)],
    );
    session(
        &gb(|b| b["customer"]["last_four_ssn"] = json!("12345")),
        &[(Error, "customer.last_four_ssn", Rule::Pattern)],
    );
    session(
        &gb(|b| b["customer"]["last_four_ssn"] = json!("123456789")),
        &[],
    );
    session(
        &gb(|b| b["customer"]["type"] = json!("company")),
        &[(Error, "customer.type", Rule::Pattern)],
    );
    // The patterns are case-insensitive.
    session(&gb(|b| b["purchase_currency"] = json!("gbp")), &[]);
}

#[test]
fn numeric_ranges() {
    // order_amount < 0 also no longer matches the lines.
    session(
        &gb(|b| b["order_amount"] = json!(-1)),
        &[
            (Error, "order_amount", Rule::Minimum),
            (Error, "order_amount", Rule::OrderAmount),
        ],
    );
    // Untaxed lines: order_tax_amount -1 is within the ±2 tolerance, so only the minimum breaks.
    let mut untaxed = market_body(
        "SE",
        "SEK",
        "sv-SE",
        vec![line("A", 1, 100), line("B", 1, 100)],
    );
    untaxed["order_tax_amount"] = json!(-1);
    session(&untaxed, &[(Error, "order_tax_amount", Rule::Minimum)]);

    let mut tax_rate = gb_session();
    tax_rate["order_lines"][1]["tax_rate"] = json!(10001);
    session(
        &tax_rate,
        &[(Error, "order_lines[1].tax_rate", Rule::Maximum)],
    );
    tax_rate["order_lines"][1]["tax_rate"] = json!(-1);
    session(
        &tax_rate,
        &[(Error, "order_lines[1].tax_rate", Rule::Minimum)],
    );

    let mut big = line("Car", 0, 200_000_001);
    session(
        &market_body("SE", "SEK", "sv-SE", vec![big.clone()]),
        &[(Error, "order_lines[0].unit_price", Rule::Maximum)],
    );
    big = line("Two cars", 2, 100_000_001);
    session(
        &market_body("SE", "SEK", "sv-SE", vec![big]),
        &[(Error, "order_lines[0].total_amount", Rule::Maximum)],
    );
    let mut negative_discount = line("Hat", 1, 1000);
    negative_discount["total_discount_amount"] = json!(-100);
    negative_discount["total_amount"] = json!(1100);
    session(
        &market_body("SE", "SEK", "sv-SE", vec![negative_discount]),
        &[(Error, "order_lines[0].total_discount_amount", Rule::Minimum)],
    );
    let mut negative_quantity = line("Hat", -1, 0);
    negative_quantity["total_amount"] = json!(0);
    session(
        &market_body("SE", "SEK", "sv-SE", vec![negative_quantity]),
        &[(Error, "order_lines[0].quantity", Rule::Minimum)],
    );
    session(
        &gb(|b| b["order_lines"][0]["subscription"]["interval_count"] = json!(0)),
        &[(
            Error,
            "order_lines[0].subscription.interval_count",
            Rule::Minimum,
        )],
    );
}

#[test]
fn order_lines_item_count() {
    session(
        &gb(|b| b["order_lines"] = json!([])),
        &[(Error, "order_lines", Rule::MinItems)],
    );
    let many = vec![line("Pin", 1, 10); 1001];
    session(
        &market_body("SE", "SEK", "sv-SE", many),
        &[(Error, "order_lines", Rule::MaxItems)],
    );
    session(
        &market_body("SE", "SEK", "sv-SE", vec![line("Pin", 1, 10); 1000]),
        &[],
    );
}

#[test]
fn enums() {
    session(
        &gb(|b| b["intent"] = json!("purchase")),
        &[(Error, "intent", Rule::Enum)],
    );
    session(
        &gb(|b| b["intent"] = json!("buy_and_default_tokenize")),
        &[],
    );
    session(
        &gb(|b| b["acquiring_channel"] = json!("ONLINE")),
        &[(Error, "acquiring_channel", Rule::Enum)],
    );
    session(
        &gb(|b| b["order_lines"][0]["subscription"]["interval"] = json!("DAILY")),
        &[(Error, "order_lines[0].subscription.interval", Rule::Enum)],
    );
    session(
        &gb(|b| b["customer"]["organization_entity_type"] = json!("LLC")),
        &[(Error, "customer.organization_entity_type", Rule::Enum)],
    );
    session(
        &gb(|b| b["customer"]["organization_entity_type"] = json!("SOLE_TRADER")),
        &[],
    );
    // docs/klarna.md §2.2: the line types are listed in prose, not a schema enum,
    // and nothing records Klarna refusing another one: a warning.
    session(
        &gb(|b| b["order_lines"][0]["type"] = json!("product")),
        &[(Warning, "order_lines[0].type", Rule::Enum)],
    );
    // Session-only fields are unknown (not judged) on create order.
    assert_violations(
        BodyKind::CreateOrder,
        &gb(|b| b["intent"] = json!("purchase")),
        &[],
    );
}

#[test]
fn market_table() {
    session(
        &gb(|b| b["purchase_currency"] = json!("EUR")),
        &[(Error, "purchase_currency", Rule::Market)],
    );
    session(
        &gb(|b| b["locale"] = json!("de-DE")),
        &[(Error, "locale", Rule::Market)],
    );
    session(
        &gb(|b| b["locale"] = json!("en-US")),
        &[(Error, "locale", Rule::Market)],
    );
    // Recorded accepted (docs/klarna.md §10): language-only or another case.
    session(
        &gb(|b| b["locale"] = json!("en")),
        &[(Warning, "locale", Rule::Market)],
    );
    session(
        &gb(|b| b["locale"] = json!("EN-GB")),
        &[(Warning, "locale", Rule::Market)],
    );
    let se = |locale: &str| {
        let mut b = market_body("SE", "SEK", "sv-SE", vec![line("Sock", 1, 100)]);
        b["locale"] = json!(locale);
        b
    };
    session(&se("EN"), &[(Warning, "locale", Rule::Market)]);
    session(&se("PL"), &[(Warning, "locale", Rule::Market)]);
    session(&se("en-SE"), &[]);
    // The billing country overrides purchase_country.
    session(&gb(|b| b["purchase_country"] = json!("DE")), &[]);
    let mut billing_se = gb_session();
    billing_se["billing_address"]["country"] = json!("SE");
    billing_se["shipping_address"]["country"] = json!("SE");
    for line in billing_se["order_lines"].as_array_mut().unwrap() {
        line["tax_rate"] = json!(0);
        line["total_tax_amount"] = json!(0);
    }
    billing_se["order_tax_amount"] = json!(0);
    session(
        &billing_se,
        &[
            (Error, "locale", Rule::Market),
            (Error, "purchase_currency", Rule::Market),
        ],
    );
    session(
        &gb(|b| {
            remove(b, "/billing_address/country");
            remove(b, "/shipping_address/country");
            b["purchase_country"] = json!("XX");
        }),
        &[(Error, "purchase_country", Rule::Market)],
    );
    // A US shipping address on a Swedish purchase was accepted (docs/klarna.md §10).
    let mut se_us = se("sv-SE");
    se_us["shipping_address"] =
        json!({"street_address": "509 Amsterdam Ave", "city": "New York", "country": "US"});
    session(
        &se_us,
        &[(Warning, "shipping_address.country", Rule::Market)],
    );
}

#[test]
fn vat_rate_is_only_a_warning() {
    // docs/klarna.md §10: a 23 % rate on a Swedish line was accepted.
    let l = OrderLine::priced("Book", 1, 12300, 2300).unwrap();
    let cart = Cart::global(vec![l]).unwrap();
    let mut body = json!({"purchase_country": "SE", "purchase_currency": "SEK", "locale": "sv-SE"});
    cart.write_into(&mut body);
    session(
        &body,
        &[(Warning, "order_lines[0].tax_rate", Rule::TaxRate)],
    );
}

#[test]
fn region_for_us_and_au() {
    let us_address = json!({"given_name": "Test", "family_name": "Person-us",
        "street_address": "509 Amsterdam Ave", "postal_code": "10024-3941",
        "city": "New York", "region": "NY", "country": "US"});
    let mut us = market_body("US", "USD", "en-US", vec![line("Hat", 1, 2000)]);
    us["billing_address"] = us_address.clone();
    session(&us, &[]);
    remove(&mut us, "/billing_address/region");
    session(&us, &[(Error, "billing_address.region", Rule::Region)]);
    us["billing_address"]["region"] = json!("");
    session(&us, &[(Error, "billing_address.region", Rule::Region)]);
    // A partial address (no street, postal code or city) is not judged.
    us["billing_address"] = json!({"email": "customer@email.us"});
    session(&us, &[]);

    let mut au = market_body("AU", "AUD", "en-AU", vec![line("Hat", 1, 2000)]);
    au["shipping_address"] =
        json!({"street_address": "4 Wharf St", "postal_code": "4877", "city": "Port Douglas"});
    session(&au, &[(Error, "shipping_address.region", Rule::Region)]);
    // GB needs none.
    session(&gb(|b| remove(b, "/billing_address/region")), &[]);
}

#[test]
fn names() {
    for bad in ["J", "12345", "Jo@n", "Anna!"] {
        session(
            &gb(|b| b["billing_address"]["given_name"] = json!(bad)),
            &[(Error, "billing_address.given_name", Rule::Name)],
        );
    }
    for good in [
        "Jo",
        "O'Brien-Smith",
        "Anne-Marie d’Arc",
        "Åsa",
        "Test Person-uk",
        "",
    ] {
        session(
            &gb(|b| b["shipping_address"]["family_name"] = json!(good)),
            &[],
        );
    }
}

#[test]
fn amounts() {
    // Line total: quantity × unit_price − total_discount_amount, at total_amount.
    let mut body = market_body("SE", "SEK", "sv-SE", vec![line("A", 2, 1000)]);
    body["order_lines"][0]["total_amount"] = json!(2001);
    body["order_amount"] = json!(2001);
    session(
        &body,
        &[(Error, "order_lines[0].total_amount", Rule::LineTotal)],
    );

    // Line tax off by more than 1 under every rounding.
    session(
        &gb(|b| {
            b["order_lines"][0]["total_tax_amount"] = json!(1583 + 5);
            b["order_tax_amount"] = json!(1666 + 5);
        }),
        &[(Error, "order_lines[0].total_tax_amount", Rule::LineTax)],
    );
    // Off by more than 1 from the exact 16.67 but within 1 of its floor 16.
    let mut borderline = line("Pen", 1, 100);
    borderline["tax_rate"] = json!(2000);
    borderline["total_tax_amount"] = json!(15);
    session(
        &market_body("GB", "GBP", "en-GB", vec![borderline]),
        &[(Warning, "order_lines[0].total_tax_amount", Rule::LineTax)],
    );
    // Negative reduction lines are fine (docs/klarna.md §3.1, 10).
    let gift: Value = serde_json::to_value(
        OrderLine::reduction(OrderLineType::GiftCard, "Gift card", 300, Some(2000)).unwrap(),
    )
    .unwrap();
    let mut book = line("Book", 1, 1200);
    book["tax_rate"] = json!(2000);
    book["total_tax_amount"] = json!(200);
    session(&market_body("GB", "GBP", "en-GB", vec![book, gift]), &[]);

    session(
        &gb(|b| b["order_amount"] = json!(9996)),
        &[(Error, "order_amount", Rule::OrderAmount)],
    );
    // order_tax_amount: ± the number of lines (2).
    session(&gb(|b| b["order_tax_amount"] = json!(1666 + 2)), &[]);
    session(&gb(|b| b["order_tax_amount"] = json!(1666 - 2)), &[]);
    session(
        &gb(|b| b["order_tax_amount"] = json!(1666 + 3)),
        &[(Error, "order_tax_amount", Rule::OrderTaxAmount)],
    );
}

#[test]
fn us_sales_tax_style() {
    let cart = Cart::us_style(
        vec![
            OrderLine::builder("Hat")
                .unit_price(2000)
                .quantity(2)
                .build()
                .unwrap(),
            OrderLine::builder("Scarf")
                .unit_price(1500)
                .build()
                .unwrap(),
        ],
        875,
    )
    .unwrap();
    let mut body = json!({"purchase_country": "US", "purchase_currency": "USD", "locale": "en-US"});
    cart.write_into(&mut body);
    session(&body, &[]);
    assert_eq!(body["order_lines"][2]["type"], "sales_tax");
    body["order_tax_amount"] = json!(cart.order_tax_amount + 4);
    session(&body, &[(Error, "order_tax_amount", Rule::OrderTaxAmount)]);
}

#[test]
fn document_order() {
    let mut body = gb_session();
    body["purchase_currency"] = json!("EUR");
    body["billing_address"]["given_name"] = json!("J");
    body["order_lines"][1]["name"] = json!("");
    body["order_lines"][0]["quantity_unit"] = json!("123456789");
    body["merchant_reference1"] = json!("x".repeat(300));
    let paths: Vec<String> = validate(BodyKind::SessionCreate, &body)
        .into_iter()
        .map(|v| v.path)
        .collect();
    assert_eq!(
        paths,
        [
            "billing_address.given_name",
            "merchant_reference1",
            "order_lines[0].quantity_unit",
            "order_lines[1].name",
            "purchase_currency",
        ]
    );
    // Indexes compare as numbers.
    let mut many = market_body("SE", "SEK", "sv-SE", vec![line("Pin", 1, 10); 12]);
    many["order_lines"][10]["name"] = json!("");
    many["order_lines"][2]["name"] = json!("");
    let paths: Vec<String> = validate(BodyKind::SessionCreate, &many)
        .into_iter()
        .map(|v| v.path)
        .collect();
    assert_eq!(paths, ["order_lines[2].name", "order_lines[10].name"]);
}
