//! Klarna's published OpenAPI documents as an external oracle. The documents
//! are read only through KLARNA_OPENAPI (Payments v1) and KLARNA_OM_OPENAPI
//! (Order Management v1): unset, these tests say so and pass; set to a file
//! that does not exist, they fail.

use klarna_conformance::openapi::OpenApi;
use serde_json::{Value, json};

fn payments() -> Option<OpenApi> {
    OpenApi::from_env("KLARNA_OPENAPI").unwrap_or_else(|e| panic!("{e}"))
}

fn order_management() -> Option<OpenApi> {
    OpenApi::from_env("KLARNA_OM_OPENAPI").unwrap_or_else(|e| panic!("{e}"))
}

fn assert_valid(errors: Vec<klarna_conformance::openapi::SchemaError>) {
    assert!(errors.is_empty(), "unexpected schema errors: {errors:#?}");
}

/// Each schema's own examples, assembled, satisfy that schema.
fn examples_round_trip(api: &OpenApi) {
    let names = api.schema_names();
    assert!(!names.is_empty());
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| {
            let example = api.example(name).expect("known schema");
            let errors = api.check_schema(name, &example).expect("known schema");
            (!errors.is_empty()).then(|| format!("{name}: {example} -> {errors:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn payments_document_loads_and_examples_validate() {
    let Some(api) = payments() else { return };
    for name in [
        "session_create",
        "session",
        "session_read",
        "merchant_session",
        "create_order_request",
        "order",
        "ErrorV2",
    ] {
        assert!(
            api.schema_names().iter().any(|n| n == name),
            "{name} missing"
        );
    }
    examples_round_trip(&api);
}

#[test]
fn payments_create_session_request_is_valid() {
    let Some(api) = payments() else { return };
    let body = json!({
        "acquiring_channel": "ECOMMERCE",
        "intent": "buy",
        "purchase_country": "GB",
        "purchase_currency": "GBP",
        "locale": "en-GB",
        "order_amount": 10000,
        "order_tax_amount": 1667,
        "order_lines": [{
            "type": "physical",
            "reference": "19-402-USA",
            "name": "Red T-Shirt",
            "quantity": 5,
            "quantity_unit": "pcs",
            "unit_price": 2000,
            "tax_rate": 2000,
            "total_amount": 10000,
            "total_discount_amount": 0,
            "total_tax_amount": 1667,
            "product_identifiers": {"brand": "shoe-brand", "global_trade_item_number": "4912345678904"}
        }],
        "billing_address": {"given_name": "Adam", "family_name": "Andersson", "email": "a@example.com",
                            "street_address": "33 Cavendish Square", "postal_code": "W1G 0PW",
                            "city": "London", "country": "GB", "phone": "+44795465131"},
        "customer": {"date_of_birth": "1978-12-31", "type": "person"},
        "merchant_urls": {"authorization": "https://example.com/auth"},
        "options": {"color_border": "#FF9900"}
    });
    assert_valid(api.check_request("POST", "/payments/v1/sessions", &body));

    let mut broken = body.clone();
    broken["order_lines"][0]["quantity"] = json!(1.5);
    broken["purchase_country"] = json!("GBR");
    let errors = api.check_request("POST", "/payments/v1/sessions", &broken);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["order_lines[0].quantity", "purchase_country"],
        "{errors:#?}"
    );
}

#[test]
fn payments_create_order_response() {
    let Some(api) = payments() else { return };
    let path = "/payments/v1/authorizations/abc/order";
    let body = json!({"order_id": "3eaeb557-5e30-47f8-b840-b8d987f5945d", "fraud_status": "ACCEPTED",
                      "authorized_payment_method": {"type": "invoice"},
                      "redirect_url": "https://credit.klarna.com/v1/sessions/x/redirect"});
    assert_valid(api.check_response("POST", path, 200, Some(&body)));

    let error = json!({"correlation_id": "x", "error_code": "BAD_VALUE", "error_messages": ["Bad value: order_amount"]});
    assert_valid(api.check_response("POST", path, 400, Some(&error)));
    assert_valid(api.check_response("POST", path, 409, Some(&error)));

    let wrong = json!({"order_id": 5, "fraud_status": "ACCEPTED"});
    let errors = api.check_response("POST", path, 200, Some(&wrong));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].path, "order_id");

    let bad_method = json!({"order_id": "x", "authorized_payment_method": {"type": "bitcoin"}});
    assert_eq!(
        api.check_response("POST", path, 200, Some(&bad_method))[0].path,
        "authorized_payment_method.type"
    );
    // Undeclared status: reported, not silently accepted.
    assert_eq!(api.check_response("POST", path, 201, Some(&body)).len(), 1);
}

#[test]
fn payments_session_responses() {
    let Some(api) = payments() else { return };
    let created = json!({"session_id": "0b1d9815-165e-42e2-8867-35bc03789e00", "client_token": "eyJ...",
                         "payment_method_categories": [{"identifier": "klarna", "name": "Pay with Klarna",
                             "asset_urls": {"descriptive": "https://x", "standard": "https://y"}}]});
    assert_valid(api.check_response("POST", "/payments/v1/sessions", 200, Some(&created)));
    assert_valid(api.check_response("POST", "/payments/v1/sessions/0b1d9815", 204, None));
    let read = json!({"status": "complete", "expires_at": "2038-01-19T03:14:07.000Z", "purchase_country": "GB",
                      "order_amount": 2000, "order_lines": [{"name": "x", "quantity": 1, "unit_price": 2000, "total_amount": 2000}]});
    assert_valid(api.check_response("GET", "/payments/v1/sessions/0b1d9815/", 200, Some(&read)));
    let mut stale = read.clone();
    stale["expires_at"] = json!("2038-01-19 03:14");
    assert_eq!(
        api.check_response("GET", "/payments/v1/sessions/0b1d9815", 200, Some(&stale))[0].path,
        "expires_at"
    );
    assert_valid(api.check_response("DELETE", "/payments/v1/authorizations/tok", 204, None));
}

#[test]
fn order_management_document_loads_and_examples_validate() {
    let Some(api) = order_management() else {
        return;
    };
    assert!(api.schema_names().iter().any(|n| n == "MerchantOrderDto"));
    examples_round_trip(&api);
}

#[test]
fn order_management_get_order_and_captures() {
    let Some(api) = order_management() else {
        return;
    };
    let order = json!({
        "order_id": "f3392f8b-6116-4073-ab96-e330819e2c07",
        "status": "AUTHORIZED",
        "fraud_status": "ACCEPTED",
        "order_amount": 2000,
        "original_order_amount": 2000,
        "captured_amount": 0,
        "refunded_amount": 0,
        "remaining_authorized_amount": 2000,
        "purchase_country": "GB",
        "purchase_currency": "GBP",
        "locale": "en-GB",
        "klarna_reference": "K4MADNY",
        "created_at": "2015-11-29T10:25:40Z",
        "expires_at": "2015-12-04T10:26:06Z",
        "order_lines": [{"type": "physical", "name": "Running shoe", "quantity": 1, "unit_price": 2000,
                         "tax_rate": 2000, "total_amount": 2000, "total_tax_amount": 333}],
        "billing_address": {"given_name": "Adam", "country": "GB"},
        "captures": [],
        "refunds": [],
        "initial_payment_method": {"type": "INVOICE", "description": "Pay later"}
    });
    assert_valid(api.check_response(
        "GET",
        "/ordermanagement/v1/orders/f3392f8b",
        200,
        Some(&order),
    ));
    let mut bad = order.clone();
    bad["status"] = json!("SHIPPED");
    bad["order_lines"][0]["quantity"] = json!("1");
    let errors = api.check_response(
        "GET",
        "/ordermanagement/v1/orders/f3392f8b",
        200,
        Some(&bad),
    );
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["order_lines[0].quantity", "status"], "{errors:#?}");

    let not_found = json!({"error_code": "NO_SUCH_ORDER", "error_messages": ["Order not found"], "correlation_id": "c"});
    assert_valid(api.check_response(
        "GET",
        "/ordermanagement/v1/orders/nope",
        404,
        Some(&not_found),
    ));

    let captures = "/ordermanagement/v1/orders/f3392f8b/captures";
    assert_valid(api.check_request(
        "POST",
        captures,
        &json!({"captured_amount": 2000, "description": "Shipped"}),
    ));
    assert_valid(api.check_response("POST", captures, 201, None));
    assert_valid(api.check_response("POST", captures, 201, Some(&Value::Null)));
    assert_valid(api.check_response(
        "POST",
        "/ordermanagement/v1/orders/f3392f8b/refunds",
        201,
        None,
    ));
    assert_valid(api.check_response(
        "POST",
        "/ordermanagement/v1/orders/f3392f8b/cancel",
        204,
        None,
    ));
}
