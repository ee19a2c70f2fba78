//! The scenario file format, checked: the [`Scenario`] the executor runs and
//! its steps (see `scenarios/README.md` for the format as written, and
//! `check.rs` for how a file becomes this).

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::path::JsonPath;
use crate::model::money::Cart;
use crate::targets::{Method, TargetKind};

/// The `[mock]` table: merchant settings of the embedded mock for this scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockSettings {
    /// The merchant setting "cart updates allowed" (docs/klarna.md §12, REJECTED row).
    #[serde(default)]
    pub allow_cart_updates: bool,
    /// Documented fidelity instead of the playground's recorded leniency.
    #[serde(default)]
    pub strict: bool,
    /// Seed of the mock's id generator (ids are redacted in snapshots anyway).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// One checked scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    /// The file stem: the scenario's name in trials and snapshots.
    pub stem: String,
    pub description: String,
    pub targets: Vec<TargetKind>,
    pub mock: MockSettings,
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Whether a step moves the clock (such a scenario must run alone on a shared target).
    pub fn moves_clock(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.action, Action::AdvanceClock { .. }))
    }

    /// The purchase country of the first created session (chooses the playground region).
    pub fn purchase_country(&self) -> Option<String> {
        self.steps.iter().find_map(|s| match &s.action {
            Action::CreateSession { body } => body
                .get("purchase_country")
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        })
    }
}

/// One `[[step]]`.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based position in the file.
    pub index: usize,
    /// Line of the step in the file.
    pub line: usize,
    pub action: Action,
    pub expect: Expect,
    /// `save = { name = "json.path" }`: values of the answer kept for later steps.
    pub save: Vec<(String, JsonPath)>,
    /// `save_headers = { name = "Capture-Id" }`: response headers kept for later steps.
    pub save_headers: Vec<(String, String)>,
    pub snapshot: bool,
    /// `credentials = "wrong"`: send a wrong password (expect 401).
    pub wrong_credentials: bool,
}

impl Step {
    /// `step 3 (create_order, line 27)`.
    pub fn label(&self) -> String {
        format!(
            "step {} ({}, line {})",
            self.index,
            self.action.kind(),
            self.line
        )
    }
}

/// A change to a request body: a whole cart, values at paths, removed paths.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub cart: Option<Cart>,
    pub set: Vec<(JsonPath, Value)>,
    pub remove: Vec<JsonPath>,
}

impl Edit {
    pub fn apply(&self, body: &mut Value) -> Result<(), String> {
        if !body.is_object() {
            *body = Value::Object(Map::new());
        }
        if let Some(cart) = &self.cart {
            cart.write_into(body);
        }
        for (path, value) in &self.set {
            path.set(body, value.clone())?;
        }
        for path in &self.remove {
            path.remove(body);
        }
        Ok(())
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Value> {
        self.set.iter().map(|(_, v)| v)
    }
}

/// What a step does. Strings may hold `{name}` references, filled in when the step runs.
#[derive(Debug, Clone)]
pub enum Action {
    /// `POST /payments/v1/sessions`; the body also starts the order body.
    CreateSession {
        body: Value,
    },
    /// Control API authorize; its addresses, customer and cart join the order body.
    Authorize {
        body: Option<Value>,
    },
    /// `POST /payments/v1/sessions/{session_id}` with the session body after `edit`;
    /// the edit applies to the order body too (the shop's cart changed).
    UpdateSession {
        session_id: String,
        edit: Edit,
    },
    /// A change to the order body only (what the shop sends at create order).
    Mutate {
        edit: Edit,
    },
    AdvanceClock {
        seconds: u64,
    },
    /// `POST .../authorizations/{token}/order` with the order body (or `body`).
    CreateOrder {
        token: String,
        body: Option<Value>,
        auto_capture: Option<bool>,
    },
    CancelAuthorization {
        token: String,
    },
    ReadSession {
        session_id: String,
    },
    ReadOrder {
        order_id: String,
    },
    /// `POST /ordermanagement/v1/orders/{order_id}/captures`.
    Capture {
        order_id: String,
        body: Option<Value>,
        captured_amount: Option<i64>,
    },
    /// Any request; `body_text` is sent verbatim (malformed JSON included),
    /// with `headers` such as `Klarna-Idempotency-Key`.
    Raw {
        method: Method,
        path: String,
        body_text: Option<String>,
        headers: Vec<(&'static str, String)>,
    },
}

/// Every step kind, as written in `do = "..."`.
pub const STEP_KINDS: [&str; 11] = [
    "create_session",
    "authorize",
    "update_session",
    "mutate",
    "advance_clock",
    "create_order",
    "cancel_authorization",
    "read_session",
    "read_order",
    "capture",
    "raw",
];

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::CreateSession { .. } => "create_session",
            Action::Authorize { .. } => "authorize",
            Action::UpdateSession { .. } => "update_session",
            Action::Mutate { .. } => "mutate",
            Action::AdvanceClock { .. } => "advance_clock",
            Action::CreateOrder { .. } => "create_order",
            Action::CancelAuthorization { .. } => "cancel_authorization",
            Action::ReadSession { .. } => "read_session",
            Action::ReadOrder { .. } => "read_order",
            Action::Capture { .. } => "capture",
            Action::Raw { .. } => "raw",
        }
    }

    /// Names a successful step of this kind saves without being asked
    /// (Klarna's own field names, so files read like the API reference).
    pub fn auto_saves(&self) -> &'static [&'static str] {
        match self {
            Action::CreateSession { .. } => &["session_id", "client_token"],
            Action::Authorize { .. } => &["authorization_token"],
            Action::CreateOrder { .. } => &["order_id"],
            _ => &[],
        }
    }

    /// Whether the step needs the mock's control API (`/__mock/...`).
    pub fn needs_control_api(&self) -> bool {
        matches!(self, Action::Authorize { .. } | Action::AdvanceClock { .. })
    }
}

/// What a step expects of the answer. Without `status`, any 2xx is expected.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub status: Option<u16>,
    pub error_code: Option<String>,
    /// `error_messages` exactly.
    pub messages: Option<Vec<String>>,
    /// Each text must occur in some `error_messages` entry.
    pub messages_contain: Vec<String>,
    pub present: Vec<JsonPath>,
    pub absent: Vec<JsonPath>,
    pub equal: Vec<(JsonPath, Value)>,
    /// Response headers that must be present (case-insensitive).
    pub headers: Vec<String>,
    /// `header_equal = { Transaction-Id = "{txn_1}" }`: response headers
    /// with exactly these values (saved names filled in).
    pub header_equal: Vec<(String, String)>,
}

impl Expect {
    /// Whether the step is expected to succeed (so its auto-saved names exist).
    pub fn expects_success(&self) -> bool {
        self.status.is_none_or(|s| (200..300).contains(&s))
    }
}

// ---- checking ------------------------------------------------------------
