//! Authorizers: what stands for `Klarna.Payments.authorize()` in the
//! customer's browser. Klarna mints an `authorization_token` only there
//! (docs/klarna.md §7), so every sequence step that authorizes a session goes
//! through one of these:
//!
//! - [`ControlApi`]: the mock's control API, `POST /__mock/sessions/{id}/authorize`
//!   (the embedded mock, `serve`, any server that offers it);
//! - [`Command`]: an external program (`--authorizer CMD`) that gets the
//!   session and the authorize-time data as JSON on stdin and prints the
//!   SDK's callback result (contract in README "Authorizers");
//! - the built-in browser authorizer (`--authorizer browser`), which drives a
//!   headless Chromium through a checkout page that loads Klarna's JS SDK.
//!
//! Whatever stands in, the step is judged on the SDK's callback result
//! (`approved`, `authorization_token`, `show_form`, `finalize_required`,
//! `error.invalid_fields`; docs/klarna.md §7), so one oracle judges them all.

pub mod browser;
mod command;
mod groups;

use serde_json::Value;

pub use command::Command;
pub use groups::end_started_programs;

use crate::client::KlarnaClient;
use crate::exchange::Exchange;
use crate::targets::{BoxFuture, TargetError};

/// One call of `authorize()`: the session it is for and what the merchant's
/// page passes to the SDK.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorization {
    pub session_id: String,
    /// The create-session answer's `client_token`: all a browser has.
    pub client_token: String,
    /// The API region serving the purchase country: `eu`, `na` or `oc`
    /// (docs/klarna.md §1.1).
    pub region: &'static str,
    pub purchase_country: String,
    pub purchase_currency: String,
    pub locale: String,
    /// `authorize({payment_method_category}, ...)`; `None` lets the SDK choose.
    pub payment_method_category: Option<String>,
    /// The authorize-time data, `authorize(options, data, cb)`'s second
    /// argument: merged into the session before create order compares with it.
    pub data: Value,
    /// The control API's body: the data with the category in it.
    pub control_body: String,
}

impl Authorization {
    /// What an external authorizer reads on stdin (README "Authorizers").
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "session_id": self.session_id,
            "client_token": self.client_token,
            "region": self.region,
            "purchase_country": self.purchase_country,
            "purchase_currency": self.purchase_currency,
            "locale": self.locale,
            "payment_method_category": self.payment_method_category,
            "data": self.data,
        })
    }
}

/// What stands for `Klarna.Payments.authorize()`.
pub trait Authorizer: Send + Sync {
    /// A short name for reports and errors: `control API`, `command ./authorize.sh`.
    fn describe(&self) -> String;
    /// Authorizes `a`'s session. Returns the exchange the step is judged on:
    /// the control API's own HTTP exchange, or for an SDK-driven authorizer
    /// [`sdk_exchange`] of the callback's result. An authorizer that cannot
    /// do its job answers [`TargetError::Authorizer`] (exit 2, not a verdict).
    fn authorize<'a>(
        &'a self,
        client: &'a KlarnaClient,
        a: &'a Authorization,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>>;
}

pub use crate::exchange::SDK_METHOD;

/// The exchange of an `authorize()` call made through the browser SDK (or
/// what stands for it): `SDK Klarna.Payments.authorize`, the authorize-time
/// data as its request, the callback's result as a 200's body.
pub fn sdk_exchange(a: &Authorization, authorizer: &str, result: &Value) -> Exchange {
    Exchange {
        method: SDK_METHOD.to_owned(),
        path: SDK_PATH.to_owned(),
        request_headers: vec![("x-authorizer".to_owned(), authorizer.to_owned())],
        request_body: Some(sdk_request_body(a)),
        status: 200,
        response_headers: Vec::new(),
        response_body: result.to_string(),
    }
}

/// The path of an [`sdk_exchange`].
pub const SDK_PATH: &str = "Klarna.Payments.authorize";

/// What an [`sdk_exchange`] shows as its request: the session, the
/// category and the data (a cassette matches replayed steps on it).
pub fn sdk_request_body(a: &Authorization) -> String {
    serde_json::json!({
        "session_id": a.session_id,
        "payment_method_category": a.payment_method_category,
        "data": a.data,
    })
    .to_string()
}

/// Checks that `result` has the shape of an SDK callback result: an object
/// with a boolean `approved` (docs/klarna.md §7). Anything else means the
/// authorizer, not Klarna, went wrong.
pub fn check_result(authorizer: &str, result: &Value) -> Result<(), TargetError> {
    if result.get("approved").is_some_and(Value::is_boolean) {
        Ok(())
    } else {
        Err(TargetError::Authorizer {
            authorizer: authorizer.to_owned(),
            cause: format!(
                "its result is not an SDK callback result (an object with a boolean \"approved\"): {}",
                clip(&result.to_string())
            ),
        })
    }
}

/// The mock's control API: `POST /__mock/sessions/{id}/authorize` with the
/// data and category, answered as the SDK's callback would be.
#[derive(Debug, Clone, Copy, Default)]
pub struct ControlApi;

impl Authorizer for ControlApi {
    fn describe(&self) -> String {
        "control API".to_owned()
    }

    fn authorize<'a>(
        &'a self,
        client: &'a KlarnaClient,
        a: &'a Authorization,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
        Box::pin(async move {
            client
                .authorize(&a.session_id, Some(a.control_body.clone()))
                .await
        })
    }
}

/// At most 300 characters of `text`, for error messages.
pub(crate) fn clip(text: &str) -> String {
    crate::exchange::clip(text, 300)
}
