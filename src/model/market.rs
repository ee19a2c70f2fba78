//! Klarna's markets as data: country → currency → locales (docs/klarna.md §3.2),
//! the playground's sample customers (docs/klarna.md §6.2) and the e-mail patterns
//! that steer the playground's decision (docs/klarna.md §6.1).

/// One purchase country and what Klarna allows with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Market {
    /// ISO 3166 alpha-2, upper case.
    pub country: &'static str,
    /// ISO 4217: "We only support the local currency of each country."
    pub currency: &'static str,
    /// The locales Klarna lists for the country (docs/klarna.md §3.2).
    pub locales: &'static [&'static str],
    /// The market's VAT rates in basis points, standard rate first. Klarna does
    /// not check rates against this table (docs/klarna.md §10); generators use it to
    /// build realistic carts. Rates: national VAT rates in force in 2026. `[I]`
    pub vat_rates: &'static [i64],
    /// US style: tax is a separate `sales_tax` line, lines carry no `tax_rate` (docs/klarna.md §3.1).
    pub sales_tax: bool,
    /// `region` is mandatory in addresses of this country (docs/klarna.md §2.3).
    pub region_required: bool,
    /// Pending fraud decisions exist here (only US and UK, docs/klarna.md §6.1).
    pub pending_available: bool,
    /// Titles Klarna lists for the country (docs/klarna.md §2.3); empty when none are listed.
    pub titles: &'static [&'static str],
}

impl Market {
    /// The locale a session gets when it names none of this market's own
    /// (Klarna's session default is en-US; per market, its first English locale). `[I]`
    pub fn default_locale(&self) -> &'static str {
        self.locales
            .iter()
            .find(|l| l.starts_with("en-"))
            .unwrap_or(&self.locales[0])
    }

    /// Whether `locale` is one of this market's locales (case-insensitive, as the
    /// spec's pattern is).
    pub fn has_locale(&self, locale: &str) -> bool {
        self.locales.iter().any(|l| l.eq_ignore_ascii_case(locale))
    }
}

macro_rules! market {
    ($c:literal, $cur:literal, [$($l:literal),+], [$($v:literal),+] $(, $flag:ident)*) => {
        Market {
            country: $c,
            currency: $cur,
            locales: &[$($l),+],
            vat_rates: &[$($v),+],
            sales_tax: market!(@flag sales_tax $($flag)*),
            region_required: market!(@flag region $($flag)*),
            pending_available: market!(@flag pending $($flag)*),
            titles: market!(@titles $c),
        }
    };
    (@flag $want:ident) => { false };
    (@flag $want:ident $first:ident $($rest:ident)*) => {
        market!(@eq $want $first) || market!(@flag $want $($rest)*)
    };
    (@eq sales_tax sales_tax) => { true };
    (@eq region region) => { true };
    (@eq pending pending) => { true };
    (@eq $a:ident $b:ident) => { false };
    (@titles "GB") => { &["Mr", "Ms"] };
    (@titles "DE") => { &["Herr", "Frau"] };
    (@titles "AT") => { &["Herr", "Frau"] };
    (@titles "CH") => { &["Herr", "Frau", "Sig.", "Sig.ra", "M", "Mme"] };
    (@titles "BE") => { &["Dhr.", "Mevr."] };
    (@titles "NL") => { &["Dhr.", "Mevr."] };
    (@titles $c:literal) => { &[] };
}

/// Every market of docs/klarna.md §3.2, in its order.
#[rustfmt::skip]
pub static MARKETS: [Market; 26] = [
    market!("AU", "AUD", ["en-AU"], [1000, 0], region),
    market!("AT", "EUR", ["de-AT", "en-AT"], [2000, 1000, 1300, 0]),
    market!("BE", "EUR", ["nl-BE", "fr-BE", "en-BE"], [2100, 600, 1200, 0]),
    market!("CA", "CAD", ["en-CA", "fr-CA"], [500, 1300, 1500, 0]),
    market!("CZ", "CZK", ["cs-CZ", "en-CZ"], [2100, 1200, 0]),
    market!("DK", "DKK", ["da-DK", "en-DK"], [2500, 0]),
    market!("FI", "EUR", ["fi-FI", "sv-FI", "en-FI"], [2550, 1400, 1000, 0]),
    market!("FR", "EUR", ["fr-FR", "en-FR"], [2000, 1000, 550, 210, 0]),
    market!("DE", "EUR", ["de-DE", "en-DE"], [1900, 700, 0]),
    market!("GR", "EUR", ["el-GR", "en-GR"], [2400, 1300, 600, 0]),
    market!("HU", "HUF", ["hu-HU", "en-HU"], [2700, 1800, 500, 0]),
    market!("IE", "EUR", ["en-IE"], [2300, 1350, 900, 0]),
    market!("IT", "EUR", ["it-IT", "en-IT"], [2200, 1000, 500, 400, 0]),
    market!("MX", "MXN", ["en-MX", "es-MX"], [1600, 0]),
    market!("NL", "EUR", ["nl-NL", "en-NL"], [2100, 900, 0]),
    market!("NZ", "NZD", ["en-NZ"], [1500, 0]),
    market!("NO", "NOK", ["nb-NO", "en-NO"], [2500, 1500, 1200, 0]),
    market!("PL", "PLN", ["pl-PL", "en-PL"], [2300, 800, 500, 0]),
    market!("PT", "EUR", ["pt-PT", "en-PT"], [2300, 1300, 600, 0]),
    market!("RO", "RON", ["ro-RO", "en-RO"], [2100, 1100, 0]),
    market!("SK", "EUR", ["sk-SK", "en-SK"], [2300, 1900, 500, 0]),
    market!("ES", "EUR", ["es-ES", "en-ES"], [2100, 1000, 400, 0]),
    market!("SE", "SEK", ["sv-SE", "en-SE"], [2500, 1200, 600, 0]),
    market!("CH", "CHF", ["de-CH", "fr-CH", "it-CH", "en-CH"], [810, 260, 380, 0]),
    market!("GB", "GBP", ["en-GB"], [2000, 500, 0], pending),
    market!("US", "USD", ["en-US", "es-US"], [0], sales_tax, region, pending),
];

/// The market of a country code (case-insensitive), if Klarna serves it.
pub fn market(country: &str) -> Option<&'static Market> {
    MARKETS
        .iter()
        .find(|m| m.country.eq_ignore_ascii_case(country))
}

/// What the playground decides for a customer's e-mail address (docs/klarna.md §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailOutcome {
    /// `customer@email.<cc>` and every address without a decline or pending marker.
    Approve,
    /// `customer+denied@…` (also the step-up `+denied+auth_…` variants, which end
    /// in a decline when the step-up is not completed; the harness never completes it).
    Denied,
    /// `…+pend-accept-NN@…` / `…+pend-reject-NN@…`: the order is placed with
    /// fraud_status PENDING and decided after NN minutes. Only US and UK.
    Pending { accept: bool, delay_minutes: u8 },
    /// `…+reject_reason_<reason>@…` (US, CA): declined with a reason.
    RejectReason,
}

impl EmailOutcome {
    /// Whether the playground declines the authorization (`approved: false`)
    /// for a purchase in `purchase_country` (docs/klarna.md §6.1): `+denied`
    /// everywhere; the `reject_reason_` patterns are test data of the US and
    /// Canada only, so elsewhere such an address is an ordinary one. `[I]`
    pub fn declines_in(self, purchase_country: &str) -> bool {
        match self {
            EmailOutcome::Denied => true,
            EmailOutcome::RejectReason => {
                purchase_country.eq_ignore_ascii_case("US")
                    || purchase_country.eq_ignore_ascii_case("CA")
            }
            EmailOutcome::Approve | EmailOutcome::Pending { .. } => false,
        }
    }
}

/// Reads the playground's decision markers from the local part's `+` tags.
pub fn email_outcome(email: &str) -> EmailOutcome {
    let local = email.split('@').next().unwrap_or("");
    let mut outcome = EmailOutcome::Approve;
    for tag in local.split('+').skip(1) {
        let tag_lc = tag.to_ascii_lowercase();
        if tag_lc == "denied" {
            outcome = EmailOutcome::Denied;
        } else if tag_lc.starts_with("reject_reason_") {
            return EmailOutcome::RejectReason;
        } else if let Some(p) = parse_pending(&tag_lc) {
            outcome = p;
        }
    }
    outcome
}

fn parse_pending(tag: &str) -> Option<EmailOutcome> {
    let rest = tag.strip_prefix("pend-")?;
    let (decision, minutes) = rest.split_once('-')?;
    let accept = match decision {
        "accept" => true,
        "reject" => false,
        _ => return None,
    };
    if minutes.len() != 2 || !minutes.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let delay_minutes = minutes.parse().ok()?;
    Some(EmailOutcome::Pending {
        accept,
        delay_minutes,
    })
}

/// A sample customer from Klarna's playground data (docs/klarna.md §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleCustomer {
    pub country: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub street_address: &'static str,
    pub postal_code: &'static str,
    pub city: &'static str,
    pub region: Option<&'static str>,
    /// The phone number the page gives for the denied customer of the market.
    pub denied_phone: &'static str,
}

impl SampleCustomer {
    /// The denied twin: `customer+denied@email.<cc>` with the market's denied phone.
    pub fn denied_email(&self) -> String {
        self.email.replacen("customer@", "customer+denied@", 1)
    }
}

/// The approved sample customers of docs/klarna.md §6.2. Where the page gives no
/// name for a market, `Test Person-<cc>` is used, as on the other markets. `[I]`
pub static SAMPLE_CUSTOMERS: [SampleCustomer; 10] = [
    SampleCustomer {
        country: "US",
        given_name: "Test",
        family_name: "Person-us",
        email: "customer@email.us",
        phone: "+13106683312",
        street_address: "509 Amsterdam Ave",
        postal_code: "10024-3941",
        city: "New York",
        region: Some("NY"),
        denied_phone: "+13106354386",
    },
    SampleCustomer {
        country: "GB",
        given_name: "Test",
        family_name: "Person-uk",
        email: "customer@email.uk",
        phone: "+447755564318",
        street_address: "10 New Burlington Street Apt. 214",
        postal_code: "W1S 3BE",
        city: "London",
        region: None,
        denied_phone: "+447355505530",
    },
    SampleCustomer {
        country: "DE",
        given_name: "Mock",
        family_name: "Mock",
        email: "customer@email.de",
        phone: "+49017614284340",
        street_address: "Neue Schönhauser Str. 2",
        postal_code: "10178",
        city: "Berlin",
        region: None,
        denied_phone: "+49017610927312",
    },
    SampleCustomer {
        country: "SE",
        given_name: "Alice",
        family_name: "Test",
        email: "customer@email.se",
        phone: "+46701740615",
        street_address: "Södra Blasieholmshamnen 2",
        postal_code: "11 148",
        city: "Stockholm",
        region: None,
        denied_phone: "+46701740620",
    },
    SampleCustomer {
        country: "NO",
        given_name: "Jane",
        family_name: "Test",
        email: "customer@email.no",
        phone: "+4740123456",
        street_address: "Edvard Munchs Plass 1",
        postal_code: "0194",
        city: "Oslo",
        region: None,
        denied_phone: "+4740123457",
    },
    SampleCustomer {
        country: "AT",
        given_name: "Test",
        family_name: "Person-at",
        email: "customer@email.at",
        phone: "+4306762600456",
        street_address: "Mariahilfer Straße 47",
        postal_code: "1060",
        city: "Wien",
        region: None,
        denied_phone: "+4306762600745",
    },
    SampleCustomer {
        country: "NL",
        given_name: "Test",
        family_name: "Person-nl",
        email: "customer@email.nl",
        phone: "+31689124321",
        street_address: "Osdorpplein 137",
        postal_code: "1068 SR",
        city: "Amsterdam",
        region: None,
        denied_phone: "+31632167678",
    },
    SampleCustomer {
        country: "FI",
        given_name: "Test",
        family_name: "Person-fi",
        email: "customer@email.fi",
        phone: "+358401234567",
        street_address: "Mannerheimintie 34",
        postal_code: "00100",
        city: "Helsinki",
        region: None,
        denied_phone: "+358401234568",
    },
    SampleCustomer {
        country: "AU",
        given_name: "Test",
        family_name: "Person-au",
        email: "customer@email.au",
        phone: "+61473752244",
        street_address: "4 Wharf St",
        postal_code: "4877",
        city: "Port Douglas",
        region: Some("QLD"),
        denied_phone: "+61473763254",
    },
    SampleCustomer {
        country: "CA",
        given_name: "Test",
        family_name: "Person-ca",
        email: "customer@email.ca",
        phone: "+15197438620",
        street_address: "2693 Byron Rd",
        postal_code: "V7H 1L9",
        city: "North Vancouver",
        region: Some("BC"),
        denied_phone: "+15197308624",
    },
];

/// The sample customer of a country, if the playground page gives one.
pub fn sample_customer(country: &str) -> Option<&'static SampleCustomer> {
    SAMPLE_CUSTOMERS
        .iter()
        .find(|c| c.country.eq_ignore_ascii_case(country))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for m in &MARKETS {
            assert_eq!(m.country.len(), 2);
            assert_eq!(m.currency.len(), 3);
            assert!(!m.locales.is_empty());
            assert!(m.locales.iter().all(|l| l.ends_with(m.country)), "{m:?}");
            assert_eq!(market(&m.country.to_lowercase()), Some(m));
        }
        assert_eq!(market("us").unwrap().default_locale(), "en-US");
        assert_eq!(market("DE").unwrap().default_locale(), "en-DE");
        assert!(market("XX").is_none());
        for c in &SAMPLE_CUSTOMERS {
            assert!(market(c.country).is_some());
            assert_eq!(email_outcome(c.email), EmailOutcome::Approve);
            assert_eq!(email_outcome(&c.denied_email()), EmailOutcome::Denied);
        }
    }

    #[test]
    fn email_patterns() {
        assert_eq!(
            email_outcome("customer+pend-accept-05@email.us"),
            EmailOutcome::Pending {
                accept: true,
                delay_minutes: 5
            }
        );
        assert_eq!(
            email_outcome("jane+pend-reject-99@shop.example"),
            EmailOutcome::Pending {
                accept: false,
                delay_minutes: 99
            }
        );
        assert_eq!(
            email_outcome("customer+pend-accept-5@email.us"),
            EmailOutcome::Approve
        );
        assert_eq!(
            email_outcome("customer+denied+auth_id_scan@email.de"),
            EmailOutcome::Denied
        );
        assert_eq!(
            email_outcome("customer+reject_reason_high_risk@email.us"),
            EmailOutcome::RejectReason
        );
        assert_eq!(email_outcome("not-an-email"), EmailOutcome::Approve);
    }
}
