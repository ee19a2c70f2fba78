//! Named fixtures: carts, addresses and customers that scenarios refer to by name.
//!
//! Carts are described the way a shop describes them (name, quantity, unit
//! price, tax rate, discount) and priced with the model's money constructors
//! ([`Cart::global`] / [`Cart::us_style`]), so no scenario carries a
//! hand-computed `total_tax_amount` (docs/klarna.md §3.1).
//!
//! Lookup order for a name: the scenario's own `[fixtures.*]` tables, then the
//! shared `fixtures.toml` beside the scenario files, then the built-in
//! addresses `sample_<cc>` made from the playground's sample customers
//! (docs/klarna.md §6.2, [`SAMPLE_CUSTOMERS`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::model::OrderLine;
use crate::model::market::{SAMPLE_CUSTOMERS, SampleCustomer};
use crate::model::money::{Cart, LineBuilder};

use super::check::toml_to_json;

/// The `[cart.*]`, `[address.*]` and `[customer.*]` tables of a fixtures file
/// (or of a scenario's `[fixtures]` table).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureSet {
    #[serde(default)]
    pub cart: BTreeMap<String, CartFixture>,
    #[serde(default)]
    pub address: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub customer: BTreeMap<String, toml::Table>,
}

/// A cart as a shop lists it; amounts and tax are computed, never written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartFixture {
    /// US style (docs/klarna.md §3.1): lines carry no tax; one `sales_tax` line of
    /// this rate (basis points) of the pre-tax total is appended.
    #[serde(default)]
    pub sales_tax_bp: Option<i64>,
    pub lines: Vec<LineFixture>,
}

/// One line of a cart fixture, in Klarna's words.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineFixture {
    pub name: String,
    #[serde(default = "one")]
    pub quantity: i64,
    /// Tax-inclusive price of one unit, minor units.
    pub unit_price: i64,
    /// Basis points (2500 = 25 %); global style only.
    #[serde(default)]
    pub tax_rate: Option<i64>,
    /// `total_discount_amount`, tax-inclusive, minor units.
    #[serde(default)]
    pub total_discount_amount: Option<i64>,
    #[serde(default, rename = "type")]
    pub line_type: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
}

fn one() -> i64 {
    1
}

impl CartFixture {
    /// The consistent cart: `order_lines`, `order_amount`, `order_tax_amount`.
    pub fn build(&self) -> Result<Cart, String> {
        let mut lines: Vec<OrderLine> = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            let mut b: LineBuilder = OrderLine::builder(line.name.clone())
                .quantity(line.quantity)
                .unit_price(line.unit_price);
            if let Some(rate) = line.tax_rate {
                b = b.tax_rate(rate);
            }
            if let Some(d) = line.total_discount_amount {
                b = b.total_discount_amount(d);
            }
            if let Some(t) = &line.line_type {
                b = b.line_type(t.clone().into());
            }
            if let Some(r) = &line.reference {
                b = b.reference(r.clone());
            }
            lines.push(
                b.build()
                    .map_err(|e| format!("line `{}`: {e}", line.name))?,
            );
        }
        match self.sales_tax_bp {
            Some(rate) => Cart::us_style(lines, rate),
            None => Cart::global(lines),
        }
        .map_err(|e| e.to_string())
    }
}

/// Which kind of fixture a name refers to (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixtureKind {
    Cart,
    Address,
    Customer,
}

impl FixtureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FixtureKind::Cart => "cart",
            FixtureKind::Address => "address",
            FixtureKind::Customer => "customer",
        }
    }
}

/// The fixtures visible to one scenario: its own, then the shared ones.
#[derive(Debug, Clone, Copy)]
pub struct Fixtures<'a> {
    pub own: &'a FixtureSet,
    pub shared: &'a FixtureSet,
}

impl Fixtures<'_> {
    /// A cart fixture by name, priced.
    pub fn cart(&self, name: &str) -> Result<Cart, String> {
        let fixture = self
            .own
            .cart
            .get(name)
            .or_else(|| self.shared.cart.get(name))
            .ok_or_else(|| self.unknown(FixtureKind::Cart, name))?;
        fixture
            .build()
            .map_err(|e| format!("cart fixture `{name}` cannot be priced: {e}"))
    }

    /// An address fixture as JSON. A table with `sample = "US"` starts from that
    /// market's sample customer and overrides the other keys it gives.
    pub fn address(&self, name: &str) -> Result<Value, String> {
        if let Some(table) = self
            .own
            .address
            .get(name)
            .or_else(|| self.shared.address.get(name))
        {
            return address_from_table(table).map_err(|e| format!("address `{name}`: {e}"));
        }
        if let Some(c) = builtin_sample(name) {
            return Ok(sample_address(c));
        }
        Err(self.unknown(FixtureKind::Address, name))
    }

    /// A customer fixture as JSON (the table as written).
    pub fn customer(&self, name: &str) -> Result<Value, String> {
        let table = self
            .own
            .customer
            .get(name)
            .or_else(|| self.shared.customer.get(name))
            .ok_or_else(|| self.unknown(FixtureKind::Customer, name))?;
        toml_to_json(&toml::Value::Table(table.clone()))
    }

    fn unknown(&self, kind: FixtureKind, name: &str) -> String {
        let mut known: Vec<String> = match kind {
            FixtureKind::Cart => keys(&self.own.cart, &self.shared.cart),
            FixtureKind::Address => {
                let mut k = keys(&self.own.address, &self.shared.address);
                k.extend(SAMPLE_CUSTOMERS.iter().map(builtin_name));
                k
            }
            FixtureKind::Customer => keys(&self.own.customer, &self.shared.customer),
        };
        known.sort();
        known.dedup();
        let known = if known.is_empty() {
            "none defined".to_owned()
        } else {
            known.join(", ")
        };
        format!(
            "unknown {} fixture `{name}` (known: {known})",
            kind.as_str()
        )
    }
}

fn keys<V>(a: &BTreeMap<String, V>, b: &BTreeMap<String, V>) -> Vec<String> {
    a.keys().chain(b.keys()).cloned().collect()
}

/// `sample_us`, `sample_gb`, ...: the built-in address names.
fn builtin_name(c: &SampleCustomer) -> String {
    format!("sample_{}", c.country.to_ascii_lowercase())
}

fn builtin_sample(name: &str) -> Option<&'static SampleCustomer> {
    SAMPLE_CUSTOMERS.iter().find(|c| builtin_name(c) == name)
}

/// The playground's sample customer of a market as a Klarna `address` (docs/klarna.md §6.2).
pub fn sample_address(c: &SampleCustomer) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: &str| {
        m.insert(k.to_owned(), Value::String(v.to_owned()));
    };
    put("given_name", c.given_name);
    put("family_name", c.family_name);
    put("email", c.email);
    put("phone", c.phone);
    put("street_address", c.street_address);
    put("postal_code", c.postal_code);
    put("city", c.city);
    if let Some(region) = c.region {
        put("region", region);
    }
    put("country", c.country);
    Value::Object(m)
}

fn address_from_table(table: &toml::Table) -> Result<Value, String> {
    let mut base = match table.get("sample") {
        Some(toml::Value::String(cc)) => {
            let c = SAMPLE_CUSTOMERS
                .iter()
                .find(|c| c.country.eq_ignore_ascii_case(cc))
                .ok_or_else(|| {
                    format!(
                        "no playground sample customer for `{cc}` (known: {})",
                        SAMPLE_CUSTOMERS
                            .iter()
                            .map(|c| c.country)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            sample_address(c)
        }
        Some(_) => return Err("`sample` must be a country code string".to_owned()),
        None => Value::Object(Map::new()),
    };
    let mut rest = table.clone();
    rest.remove("sample");
    if let (Value::Object(b), Value::Object(r)) =
        (&mut base, toml_to_json(&toml::Value::Table(rest))?)
    {
        b.extend(r);
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carts_are_priced_by_the_model() {
        let set: FixtureSet = toml::from_str(
            r#"
            [cart.shoe]
            lines = [{ name = "Running shoe", unit_price = 10000, total_discount_amount = 500, tax_rate = 2500 }]
            [cart.us]
            sales_tax_bp = 800
            lines = [{ name = "Hat", unit_price = 2000, quantity = 2 }]
            [address.pending]
            sample = "US"
            email = "customer+pend-accept-05@email.us"
            "#,
        )
        .unwrap();
        let empty = FixtureSet::default();
        let f = Fixtures {
            own: &set,
            shared: &empty,
        };
        let shoe = f.cart("shoe").unwrap();
        assert_eq!((shoe.order_amount, shoe.order_tax_amount), (9500, 1900));
        let us = f.cart("us").unwrap();
        assert_eq!((us.order_amount, us.order_tax_amount), (4320, 320));
        let a = f.address("pending").unwrap();
        assert_eq!(a["email"], "customer+pend-accept-05@email.us");
        assert_eq!(a["region"], "NY");
        assert_eq!(f.address("sample_de").unwrap()["city"], "Berlin");
        let err = f.cart("nope").unwrap_err();
        assert!(
            err.contains("unknown cart fixture `nope` (known: shoe, us)"),
            "{err}"
        );
        assert!(f.address("x").unwrap_err().contains("sample_gb"));
    }
}
