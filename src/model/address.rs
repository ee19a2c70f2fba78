use serde::{Deserialize, Serialize};

use super::Unknown;

/// `address`: billing or shipping address (docs/klarna.md §2.3). All fields are strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Address {
    /// Klarna's field names, in the order the API reference lists them.
    pub const FIELDS: [&'static str; 13] = [
        "attention",
        "city",
        "country",
        "email",
        "family_name",
        "given_name",
        "organization_name",
        "phone",
        "postal_code",
        "region",
        "street_address",
        "street_address2",
        "title",
    ];

    /// The value of a field by its Klarna name.
    pub fn field(&self, name: &str) -> Option<&str> {
        let v = match name {
            "attention" => &self.attention,
            "city" => &self.city,
            "country" => &self.country,
            "email" => &self.email,
            "family_name" => &self.family_name,
            "given_name" => &self.given_name,
            "organization_name" => &self.organization_name,
            "phone" => &self.phone,
            "postal_code" => &self.postal_code,
            "region" => &self.region,
            "street_address" => &self.street_address,
            "street_address2" => &self.street_address2,
            "title" => &self.title,
            _ => return None,
        };
        v.as_deref()
    }

    /// Mutable access to a field by its Klarna name.
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "attention" => &mut self.attention,
            "city" => &mut self.city,
            "country" => &mut self.country,
            "email" => &mut self.email,
            "family_name" => &mut self.family_name,
            "given_name" => &mut self.given_name,
            "organization_name" => &mut self.organization_name,
            "phone" => &mut self.phone,
            "postal_code" => &mut self.postal_code,
            "region" => &mut self.region,
            "street_address" => &mut self.street_address,
            "street_address2" => &mut self.street_address2,
            "title" => &mut self.title,
            _ => return None,
        })
    }
}

/// `customer` (and `customer_read`, which leaves out `last_four_ssn` and
/// `national_identification_number`; docs/klarna.md §2.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_four_ssn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_identification_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_entity_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_registration_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub customer_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Customer {
    /// True when no field is set: Klarna treats an empty customer as matching (docs/klarna.md §3.4).
    pub fn is_empty(&self) -> bool {
        *self == Customer::default()
    }

    /// The `customer_read` view (GET session): without the secret identifiers.
    pub fn to_read(&self) -> Customer {
        Customer {
            last_four_ssn: None,
            national_identification_number: None,
            ..self.clone()
        }
    }
}
