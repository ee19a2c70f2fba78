//! How certify judges one answer. Messages are judged by their prefix or by
//! the paths they name, never as whole strings ([`crate::verdict::Judge::Prefix`];
//! reference 10: explanations are appended, missing fields are joined into
//! one message in an order that changes). Correlation ids are a check of
//! their own, so a failure names the rule that broke.

use std::collections::BTreeSet;

use crate::exchange::Exchange;
use std::sync::Arc;

use crate::model::{CreateOrderRequest, ErrorV2, OmOrder, Order};
use crate::openapi::OpenApi;
use crate::oracle::{ExpectedError, ExpectedMessages};
use crate::verdict::{self, bad_value_paths};
use crate::verdict::{Failure, Problem, render_actual};

/// `correlation_id` equals `Klarna-Correlation-Id` when the header is sent
/// (reference 1.4); the gateway's own answers carry neither (reference 10).
pub(super) fn correlation(ex: &Exchange) -> Result<(), Failure> {
    let Some(header) = ex.correlation_id() else {
        return Ok(());
    };
    let body: ErrorV2 = ex
        .json()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    if body.correlation_id.as_deref() == Some(header) {
        Ok(())
    } else {
        Err(Failure::new(
            format!(
                "{} {} -> {}: correlation_id equals the Klarna-Correlation-Id header",
                ex.method, ex.path, ex.status
            ),
            format!("correlation_id {header:?}"),
            format!("correlation_id {:?}", body.correlation_id),
        ))
    }
}

/// Status and `error_code` as expected, and the messages as a real service's
/// are judged ([`crate::verdict::Judge::Prefix`]). No correlation check here: that
/// is a check of its own, so a failure names the rule that broke.
pub(super) fn expect_error(
    what: &str,
    expected: &ExpectedError,
    ex: &Exchange,
) -> Result<(), Problem> {
    let error: ErrorV2 = ex
        .json()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let actual: Vec<String> = error.messages().into_iter().map(str::to_owned).collect();
    let ok = ex.status == expected.status
        && error.error_code.as_deref() == Some(expected.error_code)
        && verdict::messages_match(&expected.messages, &actual, verdict::Judge::Prefix);
    if ok {
        return Ok(());
    }
    let messages = match &expected.messages {
        ExpectedMessages::Exact(m) if !m.is_empty() => format!("\n{} ...", m.join(" ...\n")),
        _ => String::new(),
    };
    Err(Failure::new(
        format!(
            "{what}: answers {} {}",
            expected.status, expected.error_code
        ),
        format!("{} {}{messages}", expected.status, expected.error_code),
        render_actual(ex),
    )
    .into())
}

/// 400 BAD_VALUE whose `Bad value: <path>` messages name paths `judge` accepts.
pub(super) fn expect_bad_value(
    what: &str,
    ex: &Exchange,
    expected: &BTreeSet<String>,
    judge: impl Fn(&BTreeSet<String>) -> bool,
) -> Result<(), Problem> {
    let error: ErrorV2 = ex
        .json()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let named = bad_value_paths(error.messages());
    let ok = ex.status == 400 && error.error_code.as_deref() == Some("BAD_VALUE") && judge(&named);
    if ok {
        return Ok(());
    }
    let listed: Vec<&str> = expected.iter().map(String::as_str).collect();
    Err(Failure::new(
        format!("{what}: answers 400 BAD_VALUE naming the right paths"),
        format!("400 BAD_VALUE\nBad value: {} ...", listed.join(" | ")),
        render_actual(ex),
    )
    .into())
}

/// A 200 `order` with `order_id` and `fraud_status` (reference 2.6, 5.3);
/// the order id on success.
pub(super) fn expect_order(what: &str, ex: &Exchange) -> Result<String, Problem> {
    let fail = |why: String| {
        Failure::new(
            format!("{what}: {why}"),
            "200\n{order_id, fraud_status: ACCEPTED | PENDING}",
            render_actual(ex),
        )
    };
    if ex.status != 200 {
        return Err(fail("answers 200 with an order".to_owned()).into());
    }
    let order: Order = serde_json::from_str(&ex.response_body)
        .map_err(|e| fail(format!("the body reads as an order ({e})")))?;
    if order.order_id.trim().is_empty() {
        return Err(fail("order_id is not empty".to_owned()).into());
    }
    if !matches!(order.fraud_status.as_deref(), Some("ACCEPTED" | "PENDING")) {
        return Err(fail("fraud_status is ACCEPTED or PENDING".to_owned()).into());
    }
    Ok(order.order_id)
}

/// Order Management shows the order placed, with its amount (reference 9).
pub(super) fn expect_om_order(
    order_id: &str,
    sent: &CreateOrderRequest,
    ex: &Exchange,
) -> Result<(), Problem> {
    let fail = |why: &str| {
        Failure::new(
            format!("Order Management reads the order back: {why}"),
            format!(
                "200\n{{order_id: {order_id}, order_amount: {}}}",
                sent.order_amount
            ),
            render_actual(ex),
        )
    };
    if ex.status != 200 {
        return Err(fail("answers 200").into());
    }
    let om: OmOrder =
        serde_json::from_str(&ex.response_body).map_err(|_| fail("the body reads as an order"))?;
    if om.order_id.as_deref() != Some(order_id) {
        return Err(fail("the same order_id").into());
    }
    if om.order_amount != Some(sent.order_amount) {
        return Err(fail("the order_amount sent").into());
    }
    Ok(())
}

/// A body reads as the model's type for its operation (and as the OpenAPI
/// document's schema when one is given). The gateway's HTML 401 and an empty
/// body are not judged (reference 10); any other answer must be JSON when it
/// has a body.
pub(super) fn shape(ex: &Exchange, openapi: &[Arc<OpenApi>]) -> Result<(), Failure> {
    if ex.status == 401 && ex.json().is_none() {
        return Ok(());
    }
    if ex.json().is_none() && !ex.response_body.trim().is_empty() {
        return Err(Failure::new(
            format!(
                "{} {} -> {}: the body matches Klarna's schema",
                ex.method, ex.path, ex.status
            ),
            "a JSON body",
            format!("not JSON: {}", ex.response_body),
        ));
    }
    verdict::check_shape(ex, openapi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_from_joined_and_explained_messages() {
        let named = bad_value_paths([
            "Bad value: order_lines[2].total_tax_amount differs from the calculated value [-2990] by more than [1]",
            "Bad value: purchase_currency, purchase_country",
            "Not matching fields: [order_amount]",
        ]);
        assert_eq!(
            named.into_iter().collect::<Vec<_>>(),
            [
                "order_lines[2].total_tax_amount",
                "purchase_country",
                "purchase_currency"
            ]
        );
    }
}
