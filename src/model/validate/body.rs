//! The top level of a request body: required fields, the market (country,
//! currency, locale), addresses, customer and the session-only objects.

use serde_json::{Map, Value};

use super::reader::{Ctx, Path, found, length, letters, quoted};
use super::{BodyKind, Rule, lines};
use crate::model::market::{self, MARKETS, Market};

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
                let why = format!(
                    "is missing; the spec requires {key} for a customer token, but the \
                     playground did not refuse a body without it, so only a warning \
                     (docs/klarna.md §2.6, §11.2)"
                );
                ctx.warn(key, Rule::Required, why);
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
        let why = format!(
            "{} takes only {}, got {currency}: each country takes only its own currency \
             (docs/klarna.md §3.2)",
            place.country_named(),
            m.currency,
        );
        ctx.error("purchase_currency", Rule::Market, why);
    }
    locale(ctx, body, &place);
    address(ctx, body, "billing_address", &place);
    customer(ctx, body);

    match kind {
        BodyKind::CustomerToken => {
            // docs/klarna.md §2.6: description <= 255, intended_use enum SUBSCRIPTION.
            ctx.string(body, "description", "description", 0, 255);
            ctx.one_of(body, "intended_use", "intended_use", &["SUBSCRIPTION"]);
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
    /// A `purchase_country` that the billing country overrides, when they differ.
    pub(super) overridden: Option<String>,
}

impl Place {
    /// `GB`, or `SE (billing_address.country, which overrides purchase_country
    /// GB)`, for explanations.
    fn country_named(&self) -> String {
        let country = self.country.as_deref().unwrap_or("?");
        match &self.overridden {
            Some(purchase) => format!(
                "{country} (billing_address.country, which overrides purchase_country {purchase})"
            ),
            None => country.to_owned(),
        }
    }
}

/// The pattern of `purchase_country` and `address.country` (docs/klarna.md §2.1, 2.3).
const COUNTRY_FORM: &str =
    "two letters, an ISO 3166 alpha-2 country code such as GB (pattern ^[A-Za-z]{2,2}$)";

/// docs/klarna.md §2.1 / 3.2: "The billing country always overrides purchase
/// country if the values are different."
fn purchase_market(ctx: &mut Ctx, kind: BodyKind, body: &Map<String, Value>) -> Place {
    let purchase = ctx
        .matching(
            body,
            "purchase_country",
            "purchase_country",
            COUNTRY_FORM,
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
        let why = format!(
            "is {p}, but billing_address.country is {b}: a customer token's billing \
             country must be the country of the purchase (docs/klarna.md §3.3)"
        );
        ctx.error("purchase_country", Rule::Market, why);
    }
    let (country, source, overridden) = match (billing, purchase) {
        (Some(b), p) => {
            let overridden = p.filter(|p| *p != b);
            (Some(b), "billing_address.country", overridden)
        }
        (None, p) => (p, "purchase_country", None),
    };
    let found = country.as_deref().and_then(market::market);
    if let (Some(country), None) = (&country, found) {
        // docs/klarna.md §3.2: only the listed countries are Klarna markets.
        let markets: Vec<&str> = MARKETS.iter().map(|m| m.country).collect();
        let why = format!(
            "{country} is not a Klarna market; the markets are {} (docs/klarna.md §3.2)",
            markets.join(", ")
        );
        ctx.error(source, Rule::Market, why);
    }
    Place {
        market: found,
        country,
        overridden,
    }
}

fn currency<'a>(ctx: &mut Ctx, body: &'a Map<String, Value>) -> Option<&'a str> {
    // docs/klarna.md §2.1: ^[A-Za-z]{3,3}$
    ctx.matching(
        body,
        "purchase_currency",
        "purchase_currency",
        "three letters, an ISO 4217 currency code such as GBP (pattern ^[A-Za-z]{3,3}$)",
        |s| letters(s, 3),
    )
}

/// docs/klarna.md §2.1 pattern and docs/klarna.md §3.2 fit, graded by docs/klarna.md §10.
fn locale(ctx: &mut Ctx, body: &Map<String, Value>, place: &Place) {
    let Some(locale) = ctx.string(body, "locale", "locale", 0, usize::MAX) else {
        return;
    };
    if !locale_pattern(locale) {
        // docs/klarna.md §11.5: `en_GB` was answered `Bad value: locale`.
        let underscore = if locale.contains('_') {
            format!(
                "; an underscore was refused, write {} (docs/klarna.md §11.5)",
                quoted(&locale.replace('_', "-"))
            )
        } else {
            String::new()
        };
        let why = format!(
            "expected a locale such as en-GB, language and country joined by a hyphen \
             (pattern ^[A-Za-z]{{2,2}}(?:-[A-Za-z]{{2,2}})*$), got {} (docs/klarna.md §2.1){underscore}",
            quoted(locale)
        );
        ctx.error("locale", Rule::Pattern, why);
        return;
    }
    let Some(m) = place.market else {
        return;
    };
    if m.locales.contains(&locale) {
        return;
    }
    let country = place.country_named();
    let listed = m.locales.join(", ");
    // docs/klarna.md §10: the playground accepted "en" for US and "EN" and "PL" for
    // SE: a language-only locale (of any language, in any case) and a listed
    // locale in another case are warnings. A full locale the market does not
    // list is `Bad value: locale` (docs/klarna.md §3.2).
    if m.has_locale(locale) {
        let why = format!(
            "{} is {country}'s locale in another case; the documents list {listed}, but \
             the playground accepted other cases, so only a warning (docs/klarna.md §3.2, §10)",
            quoted(locale)
        );
        ctx.warn("locale", Rule::Market, why);
    } else if locale.len() == 2 {
        let why = format!(
            "{} is a language without a country; {country} takes {listed}, but the \
             playground accepted language-only locales (\"en\" for US, \"EN\" and \"PL\" \
             for SE), so only a warning (docs/klarna.md §3.2, §10)",
            quoted(locale)
        );
        ctx.warn("locale", Rule::Market, why);
    } else {
        let why = format!(
            "{} is not a locale of {country}, which takes {listed} (docs/klarna.md §3.2)",
            quoted(locale)
        );
        ctx.error("locale", Rule::Market, why);
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
            && let Some(problem) = name_problem(name)
        {
            let why = match problem {
                NameProblem::OneCharacter => format!(
                    "{} is one character; a name must be longer than one character",
                    quoted(name)
                ),
                NameProblem::OnlyDigits => {
                    format!(
                        "{} is only digits; a name cannot be only numbers",
                        quoted(name)
                    )
                }
                NameProblem::Character(c) => format!(
                    "{} contains {c:?}; besides letters, digits and spaces a name may \
                     contain only - ' ’ and .",
                    quoted(name)
                ),
            };
            ctx.error(
                at(field),
                Rule::Name,
                format!("{why} (docs/klarna.md §2.3)"),
            );
        }
    }
    // SPEC23 says phone minLength 5, SPEC24 says 0: the older, stricter
    // document is only a warning.
    if let Some(phone) = ctx.string(a, "phone", at("phone"), 0, 99)
        && phone.chars().count() < 5
    {
        let why = format!(
            "{}; SPEC23 requires at least 5 characters, SPEC24 none, so only a warning \
             (docs/klarna.md §2.3)",
            length(phone.chars().count())
        );
        ctx.warn(at("phone"), Rule::MinLength, why);
    }
    let own_country = ctx
        .matching(a, "country", at("country"), COUNTRY_FORM, |s| letters(s, 2))
        .map(str::to_ascii_uppercase);

    // docs/klarna.md §10: a US shipping address on a Swedish purchase was accepted.
    if key == "shipping_address"
        && let (Some(own), Some(purchase)) = (&own_country, &place.country)
        && own != purchase
    {
        let why = format!(
            "is {own}, but the purchase country is {}; the playground accepted a US \
             shipping address on a Swedish purchase, so only a warning (docs/klarna.md §10)",
            place.country_named()
        );
        ctx.warn(at("country"), Rule::Market, why);
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
    if postal
        && region_missing
        && let Some(m) = place.market.filter(|m| m.region_required)
    {
        let how = match a.get("region") {
            None | Some(Value::Null) => "is missing",
            _ => "is blank",
        };
        let why = format!(
            "{how}; in the {} market a postal address (street, postal code or city) needs \
             region, the state or territory as an ISO 3166-2 code such as {} \
             (docs/klarna.md §2.3)",
            m.country,
            if m.country == "AU" { "NSW" } else { "OH" }
        );
        ctx.error(at("region"), Rule::Region, why);
    }
}

/// Why a name breaks the name rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameProblem {
    OneCharacter,
    OnlyDigits,
    /// The first character that is not allowed.
    Character(char),
}

/// docs/klarna.md §2.3: given_name / family_name "cannot be only numbers, must be
/// more than 1 character; allowed specials -'’". An empty string is an absent
/// name (minLength 0). The spec's sentence ends in a period that may or may
/// not be one of the allowed characters: "." is allowed, never a false alarm.
fn name_problem(name: &str) -> Option<NameProblem> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    if name.chars().nth(1).is_none() {
        return Some(NameProblem::OneCharacter);
    }
    if name
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_whitespace())
    {
        return Some(NameProblem::OnlyDigits);
    }
    name.chars()
        .find(|&c| !(c.is_alphanumeric() || c.is_whitespace() || "-'’.".contains(c)))
        .map(NameProblem::Character)
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
        "4 or 9 digits (pattern ^([0-9]{4}|[0-9]{9})$)",
        |s| (s.len() == 4 || s.len() == 9) && s.bytes().all(|b| b.is_ascii_digit()),
    );
    ctx.matching(
        c,
        "type",
        at("type"),
        "person or organization (pattern ^(person|organization)$)",
        |s| matches!(s, "person" | "organization"),
    );
    ctx.one_of(
        c,
        "organization_entity_type",
        at("organization_entity_type"),
        &ORGANIZATION_ENTITY_TYPES,
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
            let path = Path::Join("merchant_urls", key);
            if ctx.string(urls, key, path, 0, 2000) == Some("") {
                ctx.error(path, Rule::MinLength, empty_url());
            }
        }
    }
    if let Some(ids) = ctx.array(
        body,
        "custom_payment_method_ids",
        "custom_payment_method_ids",
    ) {
        for (i, id) in ids.iter().enumerate() {
            if !id.is_string() {
                let why = format!("expected a string, got {} (docs/klarna.md §2.1)", found(id));
                ctx.error(&format!("custom_payment_method_ids[{i}]"), Rule::Type, why);
            }
        }
    }
}

/// `intent`, `acquiring_channel`, `attachment`, `options`, `design` (docs/klarna.md §2.1).
fn session_only(ctx: &mut Ctx, body: &Map<String, Value>) {
    // SPEC: buy, tokenize, buy_and_tokenize; DOCS step-1 adds two more.
    ctx.one_of(
        body,
        "intent",
        "intent",
        &[
            "buy",
            "tokenize",
            "buy_and_tokenize",
            "buy_and_default_tokenize",
            "buy_and_link",
        ],
    );
    ctx.one_of(
        body,
        "acquiring_channel",
        "acquiring_channel",
        &["ECOMMERCE", "IN_STORE", "TELESALES"],
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
            ctx.matching(
                opts,
                key,
                Path::Join("options", key),
                "a colour such as #FF9900 (pattern ^#[A-Fa-f0-9]{6}$)",
                |s| {
                    s.len() == 7
                        && s.starts_with('#')
                        && s.bytes().skip(1).all(|b| b.is_ascii_hexdigit())
                },
            );
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

/// Why an empty URL is refused (docs/klarna.md §11.5).
pub(super) fn empty_url() -> String {
    "is empty; the playground refused an empty URL where null is fine: leave the field out \
     or send null (docs/klarna.md §11.5)"
        .to_owned()
}
