//! Addresses, e-mails and customers per market (docs/klarna.md §2.3, 2.4, 6.1).
//!
//! Names only use letters and the specials Klarna allows (`-`, `'`, `’`), are
//! never digits and never one character; every field stays far below its
//! limit (99 characters, `postal_code` 10); `country` is always the market's.

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::postal::{phone, postal_code, region};
use super::{Dice, SEED_SPACE, seed};
use crate::model::market::Market;
use crate::model::{Address, Customer};

/// The playground decision an e-mail asks for (docs/klarna.md §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmailKind {
    /// `customer@email.<cc>` or `<name>@example.com`.
    Approve,
    /// `customer+denied@email.<cc>`: a hard decline.
    Denied,
    /// `customer+pend-accept-NN@email.<cc>` / `+pend-reject-NN`: only where
    /// [`Market::pending_available`] (US and UK).
    Pending { accept: bool, delay_minutes: u8 },
    /// Almost a pending pattern but not one (one digit, another word): the
    /// playground approves it like any e-mail (docs/klarna.md §6.1).
    NearMissPending { variant: u8, delay_minutes: u8 },
}

/// First names, plain ones first (what a shrunk case shows).
const GIVEN: [&str; 24] = [
    "Test",
    "Anna",
    "Alice",
    "Jane",
    "John",
    "Jörg",
    "Åsa",
    "Zoë",
    "Søren",
    "José",
    "François",
    "Anne-Marie",
    "Jean-Luc",
    "Łukasz",
    "Ólafur",
    "Maëlle",
    "Björn",
    "Renée",
    "Mikołaj",
    "Ærøskøbing-Ida",
    "D’Arcy",
    "Siobhán",
    "Ödön",
    "Ştefan",
];

/// Family names, with the allowed specials `-`, `'` and `’` (docs/klarna.md §2.3).
const FAMILY: [&str; 24] = [
    "Person",
    "Test",
    "Andersson",
    "Müller",
    "O'Brien",
    "D’Angelo",
    "Smith-Jones",
    "Strauß",
    "Nørgaard",
    "García",
    "Kowalski",
    "Öztürk",
    "Dvořák",
    "Węgrzyn",
    "Lefèvre",
    "Virtanen",
    "Van-der-Berg",
    "Ní'Bhriain",
    "Großmann",
    "Jovanović",
    "Påhlsson",
    "Nagy",
    "Popescu",
    "Ferreira",
];

/// ASCII local parts for `<name>@example.com`.
const LOCALS: [&str; 10] = [
    "test",
    "anna.berg",
    "alice.test",
    "jane.doe",
    "j.mueller",
    "soren.norgaard",
    "jose.garcia",
    "anne-marie.lefevre",
    "lukasz.kowalski",
    "shop.buyer",
];

/// Streets and cities of a market, and whether the house number comes first.
fn places(country: &str) -> (&'static [&'static str], &'static [&'static str], bool) {
    match country {
        "US" => (
            &[
                "Amsterdam Ave",
                "Main St",
                "Elm Street",
                "Broadway",
                "Sunset Blvd",
            ],
            &["New York", "Columbus", "Seattle", "Austin"],
            true,
        ),
        "GB" => (
            &[
                "New Burlington Street",
                "High Street",
                "Baker Street",
                "Station Road",
            ],
            &["London", "Manchester", "Edinburgh", "Bristol"],
            true,
        ),
        "CA" => (
            &["Byron Rd", "Rue Sainte-Catherine", "Yonge Street"],
            &["North Vancouver", "Montréal", "Toronto"],
            true,
        ),
        "AU" => (
            &["Wharf St", "George Street", "Collins Street"],
            &["Port Douglas", "Sydney", "Melbourne"],
            true,
        ),
        "NZ" => (
            &["Queen Street", "Cuba Street"],
            &["Auckland", "Wellington"],
            true,
        ),
        "IE" => (
            &["O'Connell Street", "Grafton Street"],
            &["Dublin", "Cork"],
            true,
        ),
        "FR" => (
            &[
                "rue de Rivoli",
                "avenue des Champs-Élysées",
                "boulevard Saint-Germain",
            ],
            &["Paris", "Lyon", "Besançon"],
            true,
        ),
        "DE" => (
            &["Neue Schönhauser Str.", "Hauptstraße", "Königsallee"],
            &["Berlin", "München", "Düsseldorf"],
            false,
        ),
        "AT" => (
            &["Mariahilfer Straße", "Kärntner Straße"],
            &["Wien", "Graz"],
            false,
        ),
        "CH" => (
            &["Bahnhofstrasse", "Rue du Rhône", "Via Nassa"],
            &["Zürich", "Genève", "Lugano"],
            false,
        ),
        "SE" => (
            &["Södra Blasieholmshamnen", "Drottninggatan", "Götgatan"],
            &["Stockholm", "Göteborg", "Malmö"],
            false,
        ),
        "NO" => (
            &["Edvard Munchs Plass", "Karl Johans gate"],
            &["Oslo", "Tromsø"],
            false,
        ),
        "DK" => (&["Nørrebrogade", "Strøget"], &["København", "Århus"], false),
        "FI" => (
            &["Mannerheimintie", "Aleksanterinkatu"],
            &["Helsinki", "Jyväskylä"],
            false,
        ),
        "NL" => (
            &["Osdorpplein", "Damrak"],
            &["Amsterdam", "Den Haag"],
            false,
        ),
        "BE" => (&["Rue Neuve", "Meir"], &["Bruxelles", "Antwerpen"], false),
        "IT" => (&["Via Roma", "Via del Corso"], &["Roma", "Milano"], false),
        "ES" => (&["Calle Mayor", "Gran Vía"], &["Madrid", "A Coruña"], false),
        "PT" => (
            &["Rua Augusta", "Avenida da Liberdade"],
            &["Lisboa", "Porto"],
            false,
        ),
        "PL" => (&["Marszałkowska", "Długa"], &["Warszawa", "Gdańsk"], false),
        "CZ" => (&["Václavské náměstí", "Národní"], &["Praha", "Brno"], false),
        "SK" => (&["Obchodná", "Hlavná"], &["Bratislava", "Košice"], false),
        "HU" => (&["Andrássy út", "Váci utca"], &["Budapest", "Győr"], false),
        "RO" => (
            &["Calea Victoriei", "Strada Lipscani"],
            &["București", "Cluj-Napoca"],
            false,
        ),
        "GR" => (
            &["Ermou", "Panepistimiou"],
            &["Athina", "Thessaloniki"],
            false,
        ),
        "MX" => (
            &["Av. Paseo de la Reforma", "Calle Madero"],
            &["Ciudad de México", "Guadalajara"],
            false,
        ),
        _ => (&["Main Street"], &["Capital"], true),
    }
}

/// `street_address2` is for floor or apartment only (docs/klarna.md §2.3).
const STREET2: [&str; 6] = [
    "Apt. 214",
    "Floor 2",
    "Suite 100",
    "2. OG",
    "Lgh 1102",
    "3º izq.",
];

/// B2B organisation names and attention lines (docs/klarna.md §2.3: both ≤ 99).
const ORGANIZATIONS: [&str; 6] = [
    "Test AB",
    "Müller & Söhne GmbH",
    "Nordic Widgets Oy",
    "Café Crème SARL",
    "Acme Ltd",
    "Łódź Trading sp. z o.o.",
];
const ATTENTION: [&str; 4] = ["Accounts payable", "Inköp", "Einkauf", "Receiving dock 3"];

/// The e-mail domain's country part: the playground writes `email.uk` for GB.
fn email_cc(market: &Market) -> String {
    if market.country == "GB" {
        "uk".to_owned()
    } else {
        market.country.to_ascii_lowercase()
    }
}

/// An e-mail of the kind, chosen by `seed` (docs/klarna.md §6.1). A pending kind in
/// a market without pending orders is written all the same; callers choose it
/// only where [`Market::pending_available`].
pub fn email(market: &Market, kind: EmailKind, seed: u64) -> String {
    let mut dice = Dice::new(seed);
    let cc = email_cc(market);
    match kind {
        EmailKind::Approve if dice.chance(50) => format!("{}@example.com", dice.pick(&LOCALS)),
        EmailKind::Approve => format!("customer@email.{cc}"),
        EmailKind::Denied => format!("customer+denied@email.{cc}"),
        EmailKind::Pending {
            accept,
            delay_minutes,
        } => format!(
            "customer+pend-{}-{:02}@email.{cc}",
            if accept { "accept" } else { "reject" },
            delay_minutes.min(99)
        ),
        EmailKind::NearMissPending {
            variant,
            delay_minutes,
        } => {
            let tag = match variant % 4 {
                0 => format!("pend-accept-{}", delay_minutes % 10),
                1 => format!("pend-accepted-{:02}", delay_minutes % 100),
                2 => format!("pending-{:02}", delay_minutes % 100),
                _ => format!("pend-{:02}", delay_minutes % 100),
            };
            format!("customer+{tag}@email.{cc}")
        }
    }
}

/// A given name (never digits, never one character).
pub(crate) fn given_name(seed: u64) -> String {
    Dice::new(seed).pick(&GIVEN).to_owned()
}

/// A family name with Klarna's allowed specials.
pub(crate) fn family_name(seed: u64) -> String {
    Dice::new(seed).pick(&FAMILY).to_owned()
}

/// A street address in the market's order of name and number.
pub(crate) fn street_address(market: &Market, seed: u64) -> String {
    let mut dice = Dice::new(seed);
    let (streets, _, number_first) = places(market.country);
    let street = dice.pick(streets);
    let number = dice.range(1, 250);
    if number_first {
        format!("{number} {street}")
    } else {
        format!("{street} {number}")
    }
}

/// A city of the market.
pub(crate) fn city(market: &Market, seed: u64) -> String {
    let (_, cities, _) = places(market.country);
    Dice::new(seed).pick(cities).to_owned()
}

/// A `street_address2`.
pub(crate) fn street_address2(seed: u64) -> String {
    Dice::new(seed).pick(&STREET2).to_owned()
}

/// An `organization_name`.
pub(crate) fn organization_name(seed: u64) -> String {
    Dice::new(seed).pick(&ORGANIZATIONS).to_owned()
}

/// An `attention` line.
pub(crate) fn attention(seed: u64) -> String {
    Dice::new(seed).pick(&ATTENTION).to_owned()
}

/// A full address of the market. `seed` chooses the values; `b2b` adds
/// `organization_name` and (often) `attention`.
pub(crate) fn address(market: &Market, email_kind: EmailKind, seed: u64, b2b: bool) -> Address {
    let mut d = Dice::new(seed);
    let (person, street, postal) = (
        d.below(SEED_SPACE),
        d.below(SEED_SPACE),
        d.below(SEED_SPACE),
    );
    let title =
        (!market.titles.is_empty() && d.chance(50)).then(|| d.pick(market.titles).to_owned());
    let street2 = d.chance(20).then(|| street_address2(d.below(1 << 16)));
    let attention_line = (b2b && d.chance(60)).then(|| attention(d.below(1 << 16)));
    let region_seed = d.below(1 << 16);
    let mut p = Dice::new(person);
    Address {
        attention: attention_line,
        city: Some(city(market, street.rotate_left(7))),
        country: Some(market.country.to_owned()),
        email: Some(email(market, email_kind, p.below(1 << 20))),
        family_name: Some(family_name(p.below(1 << 16))),
        given_name: Some(given_name(p.below(1 << 16))),
        organization_name: b2b.then(|| organization_name(p.below(1 << 16))),
        phone: Some(phone(market, p.below(1 << 40))),
        postal_code: Some(postal_code(market, postal)),
        // Only US, AU and CA addresses carry a region; mandatory for US and AU.
        region: region(market, region_seed),
        street_address: Some(street_address(market, street)),
        street_address2: street2,
        title,
        unknown: Default::default(),
    }
}

/// An address of the market whose e-mail asks for `email_kind`; B2B fields
/// (organisation, attention) in about one address of ten.
pub fn address_for(
    market: &'static Market,
    email_kind: EmailKind,
) -> impl Strategy<Value = Address> + Clone {
    (seed(), prop::bool::weighted(0.1))
        .prop_map(move |(s, b2b)| address(market, email_kind, s, b2b))
}

/// The strategy of e-mails of one kind in one market.
pub fn email_for(
    market: &'static Market,
    kind: EmailKind,
) -> impl Strategy<Value = String> + Clone {
    seed().prop_map(move |s| email(market, kind, s))
}

/// A fresh value for one address field of the market (for mutations), or
/// `None` for a field the market's addresses do not carry (`region` outside
/// US, AU and CA; `title` where Klarna lists no titles) and for `country`,
/// which only moves with the market (see `Mutation::Country`).
pub(crate) fn field_value(market: &Market, field: &str, seed: u64) -> Option<String> {
    Some(match field {
        "attention" => attention(seed),
        "city" => city(market, seed),
        "email" => email(market, EmailKind::Approve, seed),
        "family_name" => family_name(seed),
        "given_name" => given_name(seed),
        "organization_name" => organization_name(seed),
        "phone" => phone(market, seed),
        "postal_code" => postal_code(market, seed),
        "region" => return region(market, seed),
        "street_address" => street_address(market, seed),
        "street_address2" => street_address2(seed),
        "title" if !market.titles.is_empty() => Dice::new(seed).pick(market.titles).to_owned(),
        _ => return None,
    })
}

/// Legal forms Klarna lists for `organization_entity_type` (docs/klarna.md §2.4).
const ENTITY_TYPES: [&str; 3] = ["LIMITED_COMPANY", "SOLE_TRADER", "OTHER"];

/// A customer (docs/klarna.md §2.4): a person with a date of birth, or, for B2B, an
/// organization with its registration id.
pub(crate) fn customer(market: &Market, seed: u64, b2b: bool) -> Customer {
    let mut d = Dice::new(seed);
    let year = 1930 + d.below(76);
    let month = 1 + d.below(12);
    let day = 1 + d.below(28);
    let gender = d.chance(50).then(|| d.pick(&["female", "male"]).to_owned());
    let title =
        (!market.titles.is_empty() && d.chance(30)).then(|| d.pick(market.titles).to_owned());
    let ssn = (market.country == "US" && d.chance(20)).then(|| format!("{:04}", d.below(10_000)));
    let mut c = Customer {
        date_of_birth: Some(format!("{year:04}-{month:02}-{day:02}")),
        gender,
        last_four_ssn: ssn,
        title,
        customer_type: Some("person".to_owned()),
        ..Customer::default()
    };
    if b2b {
        c.customer_type = Some("organization".to_owned());
        c.date_of_birth = None;
        c.gender = None;
        c.organization_entity_type = Some(d.pick(&ENTITY_TYPES).to_owned());
        c.organization_registration_id = Some(format!("{:08}", d.below(100_000_000)));
    }
    c
}

/// A customer of the market; `b2b` makes it an organization.
pub fn customer_for(market: &'static Market, b2b: bool) -> impl Strategy<Value = Customer> + Clone {
    seed().prop_map(move |s| customer(market, s, b2b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::market::{EmailOutcome, MARKETS, email_outcome};

    fn name_ok(n: &str) -> bool {
        n.chars().count() > 1
            && !n.chars().all(|c| c.is_ascii_digit())
            && n.chars().all(|c| c.is_alphabetic() || "-'’".contains(c))
    }

    #[test]
    fn names_follow_klarnas_rules() {
        assert!(GIVEN.iter().chain(FAMILY.iter()).all(|n| name_ok(n)));
    }

    #[test]
    fn addresses_fit_the_market_and_the_limits() {
        for m in &MARKETS {
            for s in [0u64, 1, 99, u64::MAX, 0x1234_5678_9abc_def0] {
                let a = address(m, EmailKind::Approve, s, s % 2 == 0);
                assert_eq!(a.country.as_deref(), Some(m.country));
                if m.region_required {
                    assert!(a.region.is_some(), "{}", m.country);
                }
                for f in Address::FIELDS {
                    if let Some(v) = a.field(f) {
                        assert!(!v.is_empty() && v.chars().count() <= 99, "{f}: {v}");
                    }
                }
                assert!(a.postal_code.as_ref().unwrap().chars().count() <= 10);
                if let Some(t) = &a.title {
                    assert!(m.titles.contains(&t.as_str()));
                }
                assert_eq!(
                    email_outcome(a.email.as_deref().unwrap()),
                    EmailOutcome::Approve
                );
            }
        }
    }

    #[test]
    fn emails_follow_the_playground_patterns() {
        let gb = crate::model::market::market("GB").unwrap();
        assert_eq!(email(gb, EmailKind::Approve, 0), "customer@email.uk");
        assert_eq!(email(gb, EmailKind::Denied, 5), "customer+denied@email.uk");
        let p = email(
            gb,
            EmailKind::Pending {
                accept: false,
                delay_minutes: 5,
            },
            0,
        );
        assert_eq!(p, "customer+pend-reject-05@email.uk");
        assert_eq!(
            email_outcome(&p),
            EmailOutcome::Pending {
                accept: false,
                delay_minutes: 5
            }
        );
    }
}
