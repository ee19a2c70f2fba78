//! [`Browser`] as an [`Authorizer`]: one checkout per authorization, judged
//! on the SDK callback's result.

use serde_json::Value;

use super::{Browser, Checkout, Flow};
use crate::authorize::{Authorization, Authorizer, SDK_METHOD, check_result, sdk_exchange};
use crate::client::KlarnaClient;
use crate::exchange::Exchange;
use crate::targets::{BoxFuture, TargetError};

impl Browser {
    /// What the authorizer reports itself as.
    fn name(&self) -> String {
        match &self.options.checkout {
            Checkout::Mock { base_url } => format!("browser (the mock's checkout at {base_url})"),
            Checkout::Widget { sdk_url } => format!("browser (Klarna's widget from {sdk_url})"),
        }
    }

    fn failed(&self, cause: impl std::fmt::Display) -> TargetError {
        TargetError::Authorizer {
            authorizer: self.name(),
            cause: cause.to_string(),
        }
    }
}

impl Authorizer for Browser {
    fn describe(&self) -> String {
        self.name()
    }

    /// The checkout with `a`'s client token, category and data, the customer
    /// buying; judged on the SDK callback's result ([`sdk_exchange`]), or,
    /// where the mock refused the SDK's call itself (an unknown, expired or
    /// completed session), on the mock's own answer ([`refused_exchange`]).
    fn authorize<'a>(
        &'a self,
        _client: &'a KlarnaClient,
        a: &'a Authorization,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
        Box::pin(async move {
            let flow = Flow {
                client_token: a.client_token.clone(),
                payment_method_category: a.payment_method_category.clone(),
                data: a.data.clone(),
                ..Flow::default()
            };
            let outcome = self.checkout(&flow).await.map_err(|e| self.failed(e))?;
            if let Some(init) = outcome.init_error {
                return Err(self.failed(format!("Klarna.Payments.init threw: {init}")));
            }
            let result = outcome
                .result
                .ok_or_else(|| self.failed("the SDK's callback never answered"))?;
            if let Some(exchange) = refused_exchange(a, &self.name(), &result) {
                return Ok(exchange);
            }
            check_result(&self.name(), &result)?;
            Ok(sdk_exchange(a, &self.name(), &result))
        })
    }
}

/// The mock's own answer where it refused an SDK call itself: the stand-in
/// hands the callback `{approved: false, show_form: false, error: {status,
/// error_code, error_messages, correlation_id}}` (docs/klarna.md §14), and
/// the step is judged on that status and error body, as the control API's
/// answer would be. `None` for every other result.
pub fn refused_exchange(a: &Authorization, authorizer: &str, result: &Value) -> Option<Exchange> {
    let error = result.get("error")?;
    let status = error.get("status").and_then(Value::as_u64)?;
    let status = u16::try_from(status).ok().filter(|s| *s >= 400)?;
    error.get("error_code").and_then(Value::as_str)?;
    let mut body = error.as_object()?.clone();
    body.remove("status");
    let mut exchange = sdk_exchange(a, authorizer, result);
    exchange.status = status;
    exchange.response_body = Value::Object(body.clone()).to_string();
    exchange.response_headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(id) = body.get("correlation_id").and_then(Value::as_str) {
        exchange
            .response_headers
            .push(("klarna-correlation-id".to_owned(), id.to_owned()));
    }
    debug_assert_eq!(exchange.method, SDK_METHOD);
    Some(exchange)
}
