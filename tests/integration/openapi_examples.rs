//! The schema examples of Klarna's OpenAPI document (assembled from its
//! property-level `example:` values) round-trip through the model without loss.
//!
//! The document's path comes from `KLARNA_OPENAPI` (`.ci/run` sets it): unset,
//! this test says so on stderr and passes; set to a missing file, it fails.

use klarna_conformance::model::{
    Address, AssetUrls, Attachment, AuthorizedPaymentMethod, CreateOrderRequest, Customer,
    CustomerTokenCreationRequest, CustomerTokenCreationResponse, ErrorV2, MerchantSession,
    MerchantUrls, Options, Order, OrderLine, PaymentMethodCategory, ProductIdentifiers, Session,
    Subscription,
};
use klarna_conformance::openapi::OpenApi;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses `example` as `T` and writes it back: the JSON must be unchanged.
fn round_trip<T: DeserializeOwned + Serialize>(
    schema: &str,
    example: &Value,
) -> Result<(), String> {
    let typed: T = serde_json::from_value(example.clone())
        .map_err(|e| format!("{schema}: example does not parse: {e}\n{example:#}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| format!("{schema}: {e}"))?;
    if &back != example {
        return Err(format!(
            "{schema}: changed in a round trip\n was {example:#}\n now {back:#}"
        ));
    }
    Ok(())
}

/// The model type of every schema in the Payments v1 document.
fn check(schema: &str, example: &Value) -> Option<Result<(), String>> {
    Some(match schema {
        "session_create" | "session" | "session_read" => round_trip::<Session>(schema, example),
        "create_order_request" => round_trip::<CreateOrderRequest>(schema, example),
        "order" => round_trip::<Order>(schema, example),
        "merchant_session" => round_trip::<MerchantSession>(schema, example),
        "order_line" => round_trip::<OrderLine>(schema, example),
        "product_identifiers" => round_trip::<ProductIdentifiers>(schema, example),
        "subscription" => round_trip::<Subscription>(schema, example),
        "address" => round_trip::<Address>(schema, example),
        "customer" | "customer_read" | "customer_read_create_token" => {
            round_trip::<Customer>(schema, example)
        }
        "merchant_urls" => round_trip::<MerchantUrls>(schema, example),
        "attachment" => round_trip::<Attachment>(schema, example),
        "options" => round_trip::<Options>(schema, example),
        "payment_method_category" => round_trip::<PaymentMethodCategory>(schema, example),
        "asset_urls" => round_trip::<AssetUrls>(schema, example),
        "authorized_payment_method" => round_trip::<AuthorizedPaymentMethod>(schema, example),
        "customer_token_creation_request" => {
            round_trip::<CustomerTokenCreationRequest>(schema, example)
        }
        "customer_token_creation_response" => {
            round_trip::<CustomerTokenCreationResponse>(schema, example)
        }
        "ErrorV2" => round_trip::<ErrorV2>(schema, example),
        _ => return None,
    })
}

#[test]
fn openapi_schema_examples_round_trip() {
    let api = match OpenApi::from_env("KLARNA_OPENAPI") {
        Ok(Some(api)) => api,
        // Unset: the checks against Klarna's document are skipped (README).
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for schema in api.schema_names() {
        let Some(example) = api.example(&schema) else {
            failures.push(format!("{schema}: no example could be assembled"));
            continue;
        };
        match check(&schema, &example) {
            Some(Ok(())) => checked += 1,
            Some(Err(e)) => failures.push(e),
            None => failures.push(format!("{schema}: no model type is mapped to it")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 20, "only {checked} schemas were checked");
}
