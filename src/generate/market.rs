//! Purchase country, currency and locale, valid together or labelled invalid
//! (docs/klarna.md §3.2: "We only support the local currency of each country").

use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::sample::select;
use serde::Serialize;

use crate::model::market::{MARKETS, Market, market};

/// A purchase country, currency and locale as sent in a session body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MarketChoice {
    pub country: &'static str,
    pub currency: &'static str,
    pub locale: &'static str,
    /// Whether Klarna's table (docs/klarna.md §3.2) allows the three together.
    pub valid: bool,
    /// For an invalid choice: what is wrong, in words.
    pub why: Option<&'static str>,
    /// For an invalid choice: the field Klarna names, `Bad value: <path>`.
    pub bad_path: Option<&'static str>,
}

impl MarketChoice {
    /// The market of the country; `None` for an unknown country.
    pub fn market(&self) -> Option<&'static Market> {
        market(self.country)
    }
}

/// Every valid (country, locale) pair, MARKETS order, a market's own order of locales.
static VALID: LazyLock<Vec<MarketChoice>> = LazyLock::new(|| {
    MARKETS
        .iter()
        .flat_map(|m| {
            m.locales.iter().map(move |l| MarketChoice {
                country: m.country,
                currency: m.currency,
                locale: l,
                valid: true,
                why: None,
                bad_path: None,
            })
        })
        .collect()
});

/// Every documented invalid combination of the kinds below, computed once.
///
/// - another market's currency (never the same currency: the EUR countries
///   share one) → `Bad value: purchase_currency`;
/// - a locale of a language the country's table does not list, with the
///   country's own region (e.g. `de-SE`) → `Bad value: locale`. Locales of another
///   country and language-only locales are left out on purpose: the playground
///   was recorded accepting `"PL"` and `"EN"` for SE (docs/klarna.md §10), so they are
///   not reliably refused;
/// - a country Klarna does not serve (`XX`, `JP`) → `Bad value: purchase_country`.
static INVALID: LazyLock<Vec<MarketChoice>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for m in &MARKETS {
        let mut currencies: Vec<&'static str> = MARKETS
            .iter()
            .map(|o| o.currency)
            .filter(|c| *c != m.currency)
            .collect();
        currencies.sort_unstable();
        currencies.dedup();
        for c in currencies {
            out.push(MarketChoice {
                country: m.country,
                currency: c,
                locale: m.locales[0],
                valid: false,
                why: Some("currency does not fit the country"),
                bad_path: Some("purchase_currency"),
            });
        }
        for l in FOREIGN_LOCALES.iter().filter(|l| l.ends_with(m.country)) {
            out.push(MarketChoice {
                country: m.country,
                currency: m.currency,
                locale: l,
                valid: false,
                why: Some("locale does not fit the country"),
                bad_path: Some("locale"),
            });
        }
    }
    for (country, currency, locale) in [("XX", "EUR", "en-XX"), ("JP", "JPY", "ja-JP")] {
        out.push(MarketChoice {
            country,
            currency,
            locale,
            valid: false,
            why: Some("country not served by Klarna Payments"),
            bad_path: Some("purchase_country"),
        });
    }
    out
});

/// Locales in a language Klarna does not list for the country of the region
/// part (checked against the table by a test).
const FOREIGN_LOCALES: [&str; 8] = [
    "de-SE", "fr-DE", "sv-NO", "ja-US", "zh-GB", "ru-FI", "pt-ES", "da-NL",
];

/// A valid (country, currency, locale) of docs/klarna.md §3.2; every market and every
/// locale of it can appear.
pub fn valid_market() -> impl Strategy<Value = MarketChoice> + Clone {
    select(VALID.as_slice())
}

/// An invalid combination, labelled with `why` and the `Bad value` path.
pub fn invalid_market() -> impl Strategy<Value = MarketChoice> + Clone {
    select(INVALID.as_slice())
}

/// 90 % valid, 10 % invalid.
pub fn any_market() -> impl Strategy<Value = MarketChoice> + Clone {
    prop_oneof![9 => valid_market(), 1 => invalid_market()]
}

/// The valid choices, for callers that want to enumerate them.
pub(crate) fn valid_choices() -> &'static [MarketChoice] {
    VALID.as_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_choices_cover_the_table() {
        let total: usize = MARKETS.iter().map(|m| m.locales.len()).sum();
        assert_eq!(VALID.len(), total);
        for c in VALID.iter() {
            let m = c.market().unwrap();
            assert_eq!(m.currency, c.currency);
            assert!(m.has_locale(c.locale));
        }
    }

    #[test]
    fn invalid_choices_are_really_invalid() {
        assert!(!INVALID.is_empty());
        for c in INVALID.iter() {
            assert!(!c.valid && c.why.is_some() && c.bad_path.is_some());
            match c.market() {
                None => assert_eq!(c.bad_path, Some("purchase_country")),
                Some(m) => assert!(m.currency != c.currency || !m.has_locale(c.locale), "{c:?}"),
            }
        }
        for l in FOREIGN_LOCALES {
            let m = market(&l[3..]).unwrap();
            assert!(!m.locales.iter().any(|own| own[..2] == l[..2]), "{l}");
        }
    }
}
