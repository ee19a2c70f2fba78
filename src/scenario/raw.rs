//! Scenario files as written: serde types with spans, before any checking
//! (`format.rs` turns them into a [`super::Scenario`]).

use serde::Deserialize;
use toml::Spanned;

use super::fixtures::FixtureSet;
use super::format::MockSettings;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub(super) description: String,
    pub(super) targets: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) mock: MockSettings,
    /// Default of every step's `snapshot`.
    #[serde(default)]
    pub(super) snapshot: bool,
    #[serde(default)]
    pub(super) fixtures: FixtureSet,
    #[serde(default)]
    pub(super) step: Vec<Spanned<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    #[serde(rename = "do")]
    pub(super) kind: Spanned<String>,
    pub(super) market: Option<Spanned<String>>,
    pub(super) locale: Option<String>,
    pub(super) cart: Option<Spanned<String>>,
    pub(super) billing_address: Option<Spanned<toml::Value>>,
    pub(super) shipping_address: Option<Spanned<toml::Value>>,
    pub(super) customer: Option<Spanned<toml::Value>>,
    pub(super) payment_method_category: Option<String>,
    pub(super) body: Option<Spanned<toml::Table>>,
    pub(super) body_text: Option<String>,
    pub(super) set: Option<Spanned<toml::Table>>,
    pub(super) remove: Option<Spanned<Vec<String>>>,
    pub(super) seconds: Option<Spanned<i64>>,
    pub(super) token: Option<Spanned<String>>,
    pub(super) session_id: Option<Spanned<String>>,
    pub(super) order_id: Option<Spanned<String>>,
    pub(super) auto_capture: Option<bool>,
    pub(super) captured_amount: Option<i64>,
    pub(super) method: Option<Spanned<String>>,
    pub(super) path: Option<Spanned<String>>,
    pub(super) headers: Option<Spanned<toml::Table>>,
    pub(super) credentials: Option<Spanned<String>>,
    pub(super) expect: Option<Spanned<RawExpect>>,
    pub(super) save: Option<Spanned<toml::Table>>,
    pub(super) save_headers: Option<Spanned<toml::Table>>,
    pub(super) snapshot: Option<bool>,
}

impl RawStep {
    /// The optional fields this step sets, by name (to refuse the ones its kind ignores).
    pub(super) fn fields_set(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut add = |set: bool, name: &'static str| {
            if set {
                out.push(name)
            }
        };
        add(self.market.is_some(), "market");
        add(self.locale.is_some(), "locale");
        add(self.cart.is_some(), "cart");
        add(self.billing_address.is_some(), "billing_address");
        add(self.shipping_address.is_some(), "shipping_address");
        add(self.customer.is_some(), "customer");
        add(
            self.payment_method_category.is_some(),
            "payment_method_category",
        );
        add(self.body.is_some(), "body");
        add(self.body_text.is_some(), "body_text");
        add(self.set.is_some(), "set");
        add(self.remove.is_some(), "remove");
        add(self.seconds.is_some(), "seconds");
        add(self.token.is_some(), "token");
        add(self.session_id.is_some(), "session_id");
        add(self.order_id.is_some(), "order_id");
        add(self.auto_capture.is_some(), "auto_capture");
        add(self.captured_amount.is_some(), "captured_amount");
        add(self.method.is_some(), "method");
        add(self.path.is_some(), "path");
        add(self.headers.is_some(), "headers");
        out
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    pub(super) status: Option<u16>,
    pub(super) error_code: Option<String>,
    pub(super) messages: Option<Vec<String>>,
    #[serde(default)]
    pub(super) messages_contain: Vec<String>,
    #[serde(default)]
    pub(super) present: Vec<String>,
    #[serde(default)]
    pub(super) absent: Vec<String>,
    #[serde(default)]
    pub(super) equal: toml::Table,
    #[serde(default)]
    pub(super) headers: Vec<String>,
    #[serde(default)]
    pub(super) header_equal: std::collections::BTreeMap<String, String>,
}

/// Fields each kind reads besides the common ones (`do`, `expect`, `save`,
/// `snapshot`, `credentials`).
pub(super) fn allowed_fields(kind: &str) -> &'static [&'static str] {
    const EDIT: &[&str] = &[
        "cart",
        "billing_address",
        "shipping_address",
        "customer",
        "set",
        "remove",
    ];
    match kind {
        "create_session" => &[
            "market",
            "locale",
            "body",
            "cart",
            "billing_address",
            "shipping_address",
            "customer",
            "set",
            "remove",
        ],
        "authorize" => &[
            "body",
            "cart",
            "billing_address",
            "shipping_address",
            "customer",
            "payment_method_category",
            "set",
            "remove",
        ],
        "update_session" => &[
            "session_id",
            "cart",
            "billing_address",
            "shipping_address",
            "customer",
            "set",
            "remove",
        ],
        "mutate" => EDIT,
        "advance_clock" => &["seconds"],
        "create_order" => &["token", "body", "auto_capture"],
        "cancel_authorization" => &["token"],
        "read_session" => &["session_id"],
        "read_order" => &["order_id"],
        "capture" => &["order_id", "body", "captured_amount"],
        "raw" => &["method", "path", "body", "body_text", "headers"],
        _ => &[],
    }
}
