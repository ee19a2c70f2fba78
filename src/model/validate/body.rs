//! The top level of a request body: required fields, the market (country,
//! currency, locale), addresses, customer and the session-only objects.

use serde_json::{Map, Value};

use super::reader::{Ctx, Path, letters};
use super::{BodyKind, Rule, lines};
use crate::model::market::{self, Market};

pub(super) fn body(ctx: &mut Ctx, kind: BodyKind, body: &Map<String, Value>) {
    // docs/klarna.md §2.1 (session_create, create_order_request) and 2.6
    // (customer_token_creation_request); an update requires nothing.
    let required: &[&str] = match kind {
        BodyKind::SessionCreate | BodyKind::CreateOrder => &[
            "order_amount",
            "order_lines",
            "purchase_country",
            "purchase_currency",
        ],
        BodyKind::SessionUpdate => &[],
        // `{}` was answered `Bad value: description, intended_use`
        // (docs/klarna.md §11.2): the other required fields were not refused.
        BodyKind::CustomerToken => &["description", "intended_use"],
    };
    ctx.required(body, "", required);
    if kind == BodyKind::CustomerToken {
        for key in ["locale", "purchase_country", "purchase_currency"] {
            if body.get(key).is_none_or(Value::is_null) {
                ctx.warn(key, Rule::Required);
            }
        }
    }

    let place = purchase_market(ctx, kind, body);
    let market = place.market;

    let currency = currency(ctx, body);
    if let (Some(m), Some(currency)) = (market, currency)
        && !currency.eq_ignore_ascii_case(m.currency)
    {
        // docs/klarna.md §3.2: "We only support the local currency of each country."
        ctx.error("purchase_currency", Rule::Market);
    }
    locale(ctx, body, market);
    address(ctx, body, "billing_address", &place);
    customer(ctx, body);

    match kind {
        BodyKind::CustomerToken => {
            // docs/klarna.md §2.6: description <= 255, intended_use enum SUBSCRIPTION.
            ctx.string(body, "description", "description", 0, 255);
            ctx.matching(body, "intended_use", "intended_use", Rule::Enum, |s| {
                s == "SUBSCRIPTION"
            });
        }
        BodyKind::SessionCreate | BodyKind::SessionUpdate | BodyKind::CreateOrder => {
            let amounts = lines::order_lines(ctx, body, market);
            lines::order_totals(ctx, body, amounts.as_deref());
            address(ctx, body, "shipping_address", &place);
            cart_extras(ctx, body);
        }
    }
    match kind {
        BodyKind::SessionCreate | BodyKind::SessionUpdate => session_only(ctx, body),
        // docs/klarna.md §2.1: auto_capture is a boolean of create_order only.
        BodyKind::CreateOrder => ctx.boolean(body, "auto_capture", "auto_capture"),
        BodyKind::CustomerToken => {}
    }
}

/// The country whose rules apply, and where it came from.
pub(super) struct Place {
    pub(super) market: Option<&'static Market>,
    /// Upper-cased ISO 3166 code, when one was given in a valid form.
    pub(super) country: Option<String>,
}

/// docs/klarna.md §2.1 / 3.2: "The billing country always overrides purchase
/// country if the values are different."
fn purchase_market(ctx: &mut Ctx, kind: BodyKind, body: &Map<String, Value>) -> Place {
    let purchase = ctx
        .matching(
            body,
            "purchase_country",
            "purchase_country",
            Rule::Pattern,
            |s| letters(s, 2),
        )
        .map(str::to_ascii_uppercase);
    let billing = body
        .get("billing_address")
        .and_then(|a| a.get("country"))
        .and_then(Value::as_str)
        .filter(|s| letters(s, 2))
        .map(str::to_ascii_uppercase);
    if kind == BodyKind::CustomerToken
        && let (Some(p), Some(b)) = (&purchase, &billing)
        && p != b
    {
        // DOCS step-3: for a customer token, `Bad value: purchase_country`
        // means the billing country differs from the session's country.
        ctx.error("purchase_country", Rule::Market);
    }
    let (country, source) = match (billing, purchase) {
        (Some(b), _) => (Some(b), "billing_address.country"),
        (None, p) => (p, "purchase_country"),
    };
    let found = country.as_deref().and_then(market::market);
    if country.is_some() && found.is_none() {
        // docs/klarna.md §3.2: only the listed countries are Klarna markets.
        ctx.error(source, Rule::Market);
    }
    Place {
        market: found,
        country,
    }
}

fn currency<'a>(ctx: &mut Ctx, body: &'a Map<String, Value>) -> Option<&'a str> {
    // docs/klarna.md §2.1: ^[A-Za-z]{3,3}$
    ctx.matching(
        body,
        "purchase_currency",
        "purchase_currency",
        Rule::Pattern,
        |s| letters(s, 3),
    )
}

/// docs/klarna.md §2.1 pattern and docs/klarna.md §3.2 fit, graded by docs/klarna.md §10.
fn locale(ctx: &mut Ctx, body: &Map<String, Value>, market: Option<&Market>) {
    let Some(locale) = ctx.matching(body, "locale", "locale", Rule::Pattern, locale_pattern) else {
        return;
    };
    let Some(m) = market else {
        return;
    };
    if m.locales.contains(&locale) {
        return;
    }
    // docs/klarna.md §10: the playground accepted "en" for US and "EN" and "PL" for
    // SE: a language-only locale (of any language, in any case) and a listed
    // locale in another case are warnings. A full locale the market does not
    // list is `Bad value: locale` (docs/klarna.md §3.2).
    if m.has_locale(locale) || locale.len() == 2 {
        ctx.warn("locale", Rule::Market);
    } else {
        ctx.error("locale", Rule::Market);
    }
}

/// `^[A-Za-z]{2,2}(?:-[A-Za-z]{2,2})*$` (docs/klarna.md §2.1).
fn locale_pattern(s: &str) -> bool {
    s.split('-').all(|part| letters(part, 2))
}

/// `billing_address` / `shipping_address` (docs/klarna.md §2.3).
fn address(ctx: &mut Ctx, body: &Map<String, Value>, key: &str, place: &Place) {
    let Some(a) = ctx.object(body, key, key) else {
        return;
    };
    let at = |field| Path::Join(key, field);
    for (field, max) in [
        ("attention", 99),
        ("city", 99),
        ("email", 99),
        ("organization_name", 99),
        ("postal_code", 10),
        ("region", 99),
        ("street_address", 99),
        ("street_address2", 99),
        ("title", 20),
    ] {
        ctx.string(a, field, at(field), 0, max);
    }
    for field in ["given_name", "family_name"] {
        if let Some(name) = ctx.string(a, field, at(field), 0, 99)
            && !name_ok(name)
        {
            ctx.error(at(field), Rule::Name);
        }
    }
    // SPEC23 says phone minLength 5, SPEC24 says 0: the older, stricter
    // document is only a warning.
    if let Some(phone) = ctx.string(a, "phone", at("phone"), 0, 99)
        && phone.chars().count() < 5
    {
        ctx.warn(at("phone"), Rule::MinLength);
    }
    let own_country = ctx
        .matching(a, "country", at("country"), Rule::Pattern, |s| {
            letters(s, 2)
        })
        .map(str::to_ascii_uppercase);

    // docs/klarna.md §10: a US shipping address on a Swedish purchase was accepted.
    if key == "shipping_address"
        && let (Some(own), Some(purchase)) = (&own_country, &place.country)
        && own != purchase
    {
        ctx.warn(at("country"), Rule::Market);
    }

    // docs/klarna.md §2.3: region is "Mandatory for US and AU market": the purchase
    // market decides (a US shipping address on a Swedish purchase was accepted,
    // docs/klarna.md §10). Judged only for a postal address (street, postal code or
    // city given): a session may carry a partial address, e.g. only an e-mail,
    // before authorize(). [I]
    let postal = ["street_address", "postal_code", "city"].iter().any(|f| {
        a.get(*f)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    });
    let region_missing = a
        .get("region")
        .and_then(Value::as_str)
        .is_none_or(|s| s.trim().is_empty());
    if postal && region_missing && place.market.is_some_and(|m| m.region_required) {
        ctx.error(at("region"), Rule::Region);
    }
}

/// docs/klarna.md §2.3: given_name / family_name "cannot be only numbers, must be
/// more than 1 character; allowed specials -'’". An empty string is an absent
/// name (minLength 0). The spec's sentence ends in a period that may or may
/// not be one of the allowed characters: "." is allowed, never a false alarm.
fn name_ok(name: &str) -> bool {
    let name = name.trim();
    if name.is_empty() {
        return true;
    }
    name.chars().count() > 1
        && !name
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "-'’.".contains(c))
}

/// `customer` (docs/klarna.md §2.4).
fn customer(ctx: &mut Ctx, body: &Map<String, Value>) {
    let Some(c) = ctx.object(body, "customer", "customer") else {
        return;
    };
    let at = |field| Path::Join("customer", field);
    for field in [
        "date_of_birth",
        "gender",
        "national_identification_number",
        "organization_registration_id",
        "title",
        "vat_id",
    ] {
        ctx.string(c, field, at(field), 0, usize::MAX);
    }
    ctx.matching(
        c,
        "last_four_ssn",
        at("last_four_ssn"),
        Rule::Pattern,
        |s| (s.len() == 4 || s.len() == 9) && s.bytes().all(|b| b.is_ascii_digit()),
    );
    ctx.matching(c, "type", at("type"), Rule::Pattern, |s| {
        matches!(s, "person" | "organization")
    });
    ctx.matching(
        c,
        "organization_entity_type",
        at("organization_entity_type"),
        Rule::Enum,
        |s| ORGANIZATION_ENTITY_TYPES.contains(&s),
    );
}

const ORGANIZATION_ENTITY_TYPES: [&str; 11] = [
    "LIMITED_COMPANY",
    "PUBLIC_LIMITED_COMPANY",
    "ENTREPRENEURIAL_COMPANY",
    "LIMITED_PARTNERSHIP_LIMITED_COMPANY",
    "LIMITED_PARTNERSHIP",
    "GENERAL_PARTNERSHIP",
    "REGISTERED_SOLE_TRADER",
    "SOLE_TRADER",
    "CIVIL_LAW_PARTNERSHIP",
    "PUBLIC_INSTITUTION",
    "OTHER",
];

/// Fields shared by sessions and orders besides the cart (docs/klarna.md §2.1, 2.5).
fn cart_extras(ctx: &mut Ctx, body: &Map<String, Value>) {
    ctx.string(body, "merchant_reference1", "merchant_reference1", 0, 255);
    ctx.string(body, "merchant_reference2", "merchant_reference2", 0, 255);
    ctx.string(body, "merchant_data", "merchant_data", 0, 6000);
    if let Some(urls) = ctx.object(body, "merchant_urls", "merchant_urls") {
        for key in ["confirmation", "notification", "push", "authorization"] {
            // Not empty (docs/klarna.md §11.5, §13.7), at most 2000 (§2.5).
            ctx.string(urls, key, Path::Join("merchant_urls", key), 1, 2000);
        }
    }
    if let Some(ids) = ctx.array(
        body,
        "custom_payment_method_ids",
        "custom_payment_method_ids",
    ) {
        for (i, id) in ids.iter().enumerate() {
            if !id.is_string() {
                ctx.error(&format!("custom_payment_method_ids[{i}]"), Rule::Type);
            }
        }
    }
}

/// `intent`, `acquiring_channel`, `attachment`, `options`, `design` (docs/klarna.md §2.1).
fn session_only(ctx: &mut Ctx, body: &Map<String, Value>) {
    // SPEC: buy, tokenize, buy_and_tokenize; DOCS step-1 adds two more.
    ctx.matching(body, "intent", "intent", Rule::Enum, |s| {
        matches!(
            s,
            "buy" | "tokenize" | "buy_and_tokenize" | "buy_and_default_tokenize" | "buy_and_link"
        )
    });
    ctx.matching(
        body,
        "acquiring_channel",
        "acquiring_channel",
        Rule::Enum,
        |s| matches!(s, "ECOMMERCE" | "IN_STORE" | "TELESALES"),
    );
    ctx.string(body, "design", "design", 0, usize::MAX);
    if let Some(att) = ctx.object(body, "attachment", "attachment") {
        ctx.required(att, "attachment", &["content_type", "body"]);
        ctx.string(
            att,
            "content_type",
            "attachment.content_type",
            0,
            usize::MAX,
        );
        ctx.string(att, "body", "attachment.body", 0, usize::MAX);
    }
    if let Some(opts) = ctx.object(body, "options", "options") {
        for key in [
            "color_border",
            "color_border_selected",
            "color_details",
            "color_text",
        ] {
            // ^#[A-Fa-f0-9]{6}$
            ctx.matching(opts, key, Path::Join("options", key), Rule::Pattern, |s| {
                s.len() == 7
                    && s.starts_with('#')
                    && s.bytes().skip(1).all(|b| b.is_ascii_hexdigit())
            });
        }
        ctx.string(
            opts,
            "radius_border",
            "options.radius_border",
            0,
            usize::MAX,
        );
    }
}
