//! Small inline documents, one keyword at a time.

use serde_json::{Value, json};

use super::*;

fn doc(schemas: &str) -> OpenApi {
    let text = format!(
        "openapi: 3.0.0\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n{schemas}"
    );
    OpenApi::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// `(path, message)` pairs, for compact assertions.
fn errs(api: &OpenApi, name: &str, v: Value) -> Vec<(String, String)> {
    api.check_schema(name, &v)
        .unwrap()
        .into_iter()
        .map(|e| (e.path, e.message))
        .collect()
}

fn paths(api: &OpenApi, name: &str, v: Value) -> Vec<String> {
    errs(api, name, v).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn types_and_integer_formats() {
    let api = doc(r"
    T:
      type: object
      properties:
        i: {type: integer}
        i32: {type: integer, format: int32}
        i64: {type: integer, format: int64}
        n: {type: number}
        b: {type: boolean}
        s: {type: string}
        a: {type: array}
");
    assert!(paths(&api, "T", json!({"i": 1, "i32": -5, "i64": 9_000_000_000_i64, "n": 1.5, "b": true, "s": "x", "a": []})).is_empty());
    let bad = errs(
        &api,
        "T",
        json!({"i": 1.5, "i32": 3_000_000_000_i64, "i64": 18_000_000_000_000_000_000_u64, "n": "1", "b": 0, "s": 1, "a": {}}),
    );
    let got: Vec<&str> = bad.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(got, ["a", "b", "i", "i32", "i64", "n", "s"], "{bad:?}");
    assert!(
        bad[2].1.contains("expected integer, found number 1.5"),
        "{bad:?}"
    );
    assert!(bad[3].1.contains("not a int32"), "{bad:?}");
    // 1.0 is a number with a fraction part to draft 4 and to serde's i64.
    assert_eq!(paths(&api, "T", json!({"i": 1.0})), ["i"]);
    assert_eq!(paths(&api, "T", json!([])), [""]);
}

#[test]
fn required_properties_and_additional_properties() {
    let api = doc(r"
    Open:
      type: object
      required: [a, b]
      properties:
        a: {type: string}
        b: {type: string}
    Closed:
      type: object
      additionalProperties: false
      properties:
        a: {type: string}
    Map:
      type: object
      additionalProperties: {type: integer}
");
    // Unknown properties are fine unless forbidden: Klarna adds fields.
    assert!(paths(&api, "Open", json!({"a": "x", "b": "y", "new_field": 1})).is_empty());
    let missing = errs(&api, "Open", json!({}));
    assert_eq!(missing.len(), 2, "every error, not the first");
    assert_eq!(
        missing[0],
        ("a".into(), "required property is missing".into())
    );
    assert_eq!(
        paths(&api, "Closed", json!({"a": "x", "zz": 1, "weird key": 2})),
        ["[\"weird key\"]", "zz"]
    );
    assert_eq!(paths(&api, "Map", json!({"x": 1, "y": "2"})), ["y"]);
}

#[test]
fn arrays_items_and_nested_paths() {
    let api = doc(r"
    Cart:
      type: object
      properties:
        order_lines:
          type: array
          minItems: 1
          maxItems: 2
          items: {$ref: '#/components/schemas/Line'}
        tags: {type: array, uniqueItems: true, items: {type: string}}
    Line:
      type: object
      required: [quantity]
      properties:
        quantity: {type: integer, minimum: 0}
");
    let cart =
        json!({"order_lines": [{"quantity": 1}, {"quantity": -1}, {}], "tags": ["a", "b", "a"]});
    let e = errs(&api, "Cart", cart);
    let got: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        got,
        [
            "order_lines",
            "order_lines[1].quantity",
            "order_lines[2].quantity",
            "tags"
        ],
        "{e:?}"
    );
    assert!(e[0].1.contains("maxItems 2"));
    assert!(e[3].1.contains("uniqueItems"));
    assert_eq!(
        paths(&api, "Cart", json!({"order_lines": []})),
        ["order_lines"]
    );
    assert!(paths(&api, "Cart", json!({"tags": [1, 1.5]})).len() == 2);
}

#[test]
fn strings_lengths_patterns_enums_and_dates() {
    let api = doc(r"
    S:
      type: object
      properties:
        name: {type: string, minLength: 1, maxLength: 3}
        country: {type: string, pattern: '^[A-Za-z]{2,2}$'}
        method: {type: string, pattern: 'Home|Postal'}
        kind: {type: string, enum: [physical, discount]}
        at: {type: string, format: date-time}
        born: {type: string, format: date}
        mail: {type: string, format: email}
");
    let ok = json!({"name": "åäö", "country": "se", "method": "xHomex", "kind": "discount",
                    "at": "2038-01-19T03:14:07.000Z", "born": "1978-12-31", "mail": "anything"});
    assert!(
        paths(&api, "S", ok).is_empty(),
        "lengths count characters, patterns are unanchored"
    );
    let bad = json!({"name": "abcd", "country": "SWE", "method": "Pigeon", "kind": "Physical",
                     "at": "2038-01-19 03:14:07", "born": "1978-02-30"});
    assert_eq!(
        paths(&api, "S", bad),
        ["at", "born", "country", "kind", "method", "name"]
    );
    assert_eq!(paths(&api, "S", json!({"name": ""})), ["name"]);
}

#[test]
fn numeric_bounds() {
    let api = doc(r"
    N:
      type: object
      properties:
        amount: {type: integer, minimum: 0, maximum: 200000000}
        rate: {type: number, minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true}
");
    assert!(paths(&api, "N", json!({"amount": 200_000_000, "rate": 0.5})).is_empty());
    assert_eq!(paths(&api, "N", json!({"amount": 200_000_001})), ["amount"]);
    assert_eq!(
        paths(&api, "N", json!({"amount": -1, "rate": 0})),
        ["amount", "rate"]
    );
    assert_eq!(paths(&api, "N", json!({"rate": 1})), ["rate"]);
}

#[test]
fn nullable_read_only_and_combinators() {
    let api = doc(r"
    Z:
      type: object
      required: [id, token]
      properties:
        id: {type: string}
        token: {type: string, readOnly: true}
        note: {type: string, nullable: true}
        either:
          oneOf: [{type: string}, {type: integer}]
        any:
          anyOf: [{type: string, maxLength: 1}, {type: boolean}]
        both:
          allOf: [{type: integer, minimum: 1}, {type: integer, maximum: 3}]
        never:
          not: {type: string}
");
    assert!(paths(&api, "Z", json!({"id": "x", "token": "t", "note": null, "either": 1, "any": true, "both": 2, "never": 1})).is_empty());
    assert_eq!(
        paths(
            &api,
            "Z",
            json!({"id": null, "token": "t", "either": 1.5, "any": "ab", "both": 5, "never": "s"})
        ),
        ["any", "both", "either", "id", "never"]
    );
    // check_schema is direction-neutral: a required readOnly property is required.
    assert_eq!(paths(&api, "Z", json!({"id": "x"})), ["token"]);
}

#[test]
fn refs_cycles_and_broken_refs_never_panic() {
    let api = doc(r"
    Tree:
      type: object
      properties:
        child: {$ref: '#/components/schemas/Tree'}
        n: {type: integer}
    A: {$ref: '#/components/schemas/B'}
    B: {$ref: '#/components/schemas/A'}
    Self:
      allOf: [{$ref: '#/components/schemas/Self'}]
    Dangling: {$ref: '#/components/schemas/Nope'}
    Spaced: {$ref: '#/components/schemas/No%20such'}
    No such: {type: string}
");
    assert_eq!(
        paths(&api, "Tree", json!({"child": {"child": {"n": "x"}}})),
        ["child.child.n"]
    );
    assert_eq!(paths(&api, "A", json!(1)), [""]);
    assert!(!paths(&api, "Self", json!(1)).is_empty());
    assert_eq!(
        errs(&api, "Dangling", json!(1))[0].1,
        "schema unusable: #/components/schemas/Nope points at nothing"
    );
    assert_eq!(paths(&api, "Spaced", json!(1)), [""]);
    assert!(api.warnings().iter().any(|w| w.contains("Nope")));
    assert!(matches!(
        api.check_schema("Missing", &json!(1)),
        Err(OpenApiError::UnknownSchema { .. })
    ));
    // Examples of recursive schemas terminate.
    assert!(api.example("Tree").is_some());
    assert!(api.example("Self").is_some());
    assert_eq!(api.example("Missing"), None);
}

#[test]
fn klarna_generator_artefacts_are_ignored_with_a_warning() {
    // From the Order Management document: `enum: [null]` on an integer and an
    // enum that repeats the pattern.
    let api = doc(r"
    Line:
      type: object
      properties:
        price: {type: integer, format: int64, enum: [ ]}
        tax: {type: integer, enum: [~]}
        type:
          type: string
          enum: ['physical|discount']
          pattern: 'physical|discount'
");
    assert!(paths(&api, "Line", json!({"tax": 5, "type": "physical"})).is_empty());
    assert_eq!(paths(&api, "Line", json!({"type": "digital"})), ["type"]);
    assert_eq!(api.warnings().len(), 2, "{:?}", api.warnings());
}

#[test]
fn examples_come_from_the_document_and_fill_required_gaps() {
    let api = doc(r"
    Order:
      type: object
      required: [order_id, lines, kind, count]
      properties:
        order_id: {type: string}
        kind: {type: string, enum: [A, B]}
        count: {type: integer, minimum: 1}
        redirect_url: {type: string, example: 'https://x'}
        dob: {type: string, example: '1978-12-31'}
        optional_without_example: {type: string}
        lines:
          type: array
          items: {$ref: '#/components/schemas/Line'}
    Line:
      type: object
      properties:
        quantity: {type: integer, example: 1}
    Whole:
      type: object
      example: {a: 1}
");
    let ex = api.example("Order").unwrap();
    assert_eq!(
        ex,
        json!({"order_id": "x", "kind": "A", "count": 1, "redirect_url": "https://x",
               "dob": "1978-12-31", "lines": [{"quantity": 1}]})
    );
    assert!(api.check_schema("Order", &ex).unwrap().is_empty());
    assert_eq!(api.example("Whole"), Some(json!({"a": 1})));
    assert_eq!(api.schema_names(), ["Line", "Order", "Whole"]);
}

const PAYMENTS: &str = r"
openapi: 3.0.0
info: {title: t, version: '1'}
paths:
  /payments/v1/sessions/{session_id}:
    get:
      responses:
        '200':
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Session'}
        '404': {description: none}
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Session'}
      responses:
        '204': {description: updated}
  /payments/v1/authorizations/{token}/order:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Session'}
      responses:
        '200': {description: created}
  /payments/v1/sessions/special:
    get:
      responses:
        2XX:
          content:
            application/json:
              schema: {type: array, items: {type: integer}}
        default:
          content:
            application/json; charset=utf-8:
              schema: {type: object, required: [why]}
  /refunds:
    post:
      responses:
        201:
          content:
            application/json:
              schema: {type: string}
  /ordermanagement/v1/orders/{order_id}/captures:
    post:
      responses:
        '201': {description: created}
        '403': {description: refused}
components:
  schemas:
    Session:
      type: object
      required: [session_id, client_token]
      properties:
        session_id: {type: string}
        client_token: {type: string, readOnly: true}
    ErrorV2:
      type: object
      properties:
        error_code: {type: string}
        error_messages: {type: array, items: {type: string}}
";

#[test]
fn responses_are_found_by_template_status_and_class() {
    let api = OpenApi::parse(PAYMENTS).unwrap();
    let good = json!({"session_id": "s", "client_token": "c", "extra": 1});
    assert!(
        api.check_response("GET", "/payments/v1/sessions/abc", 200, Some(&good))
            .is_empty()
    );
    assert!(
        api.check_response(
            "get",
            "https://api.klarna.com/payments/v1/sessions/abc/?x=1",
            200,
            Some(&good)
        )
        .is_empty()
    );
    let bad = api.check_response(
        "GET",
        "/payments/v1/sessions/abc",
        200,
        Some(&json!({"session_id": 5})),
    );
    assert_eq!(
        bad.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        ["client_token", "session_id"]
    );
    // A concrete path beats a template; 2XX and default are fallbacks.
    assert!(
        api.check_response(
            "GET",
            "/payments/v1/sessions/special",
            206,
            Some(&json!([1]))
        )
        .is_empty()
    );
    assert_eq!(
        api.check_response(
            "GET",
            "/payments/v1/sessions/special",
            500,
            Some(&json!({}))
        )
        .len(),
        1
    );
    // A missing body where an object is declared.
    assert_eq!(
        api.check_response("GET", "/payments/v1/sessions/abc", 200, None)
            .len(),
        1
    );
}

#[test]
fn error_statuses_without_a_body_schema_use_error_v2() {
    let api = OpenApi::parse(PAYMENTS).unwrap();
    let err = json!({"correlation_id": "x", "error_code": "NOT_FOUND", "error_messages": ["gone"]});
    assert!(
        api.check_response("GET", "/payments/v1/sessions/abc", 404, Some(&err))
            .is_empty()
    );
    assert!(
        api.check_response("GET", "/payments/v1/sessions/abc", 404, None)
            .is_empty()
    );
    let bad = api.check_response(
        "GET",
        "/payments/v1/sessions/abc",
        404,
        Some(&json!({"error_messages": "gone"})),
    );
    assert_eq!(bad[0].path, "error_messages");
}

#[test]
fn statuses_recorded_beyond_the_document_are_held_to_the_error_shape() {
    let api = OpenApi::parse(PAYMENTS).unwrap();
    let p = "/ordermanagement/v1/orders/o1/captures";
    let err = json!({"error_code": "UNPROCESSABLE_ENTITY", "error_messages": ["x"]});
    assert!(api.check_response("POST", p, 422, Some(&err)).is_empty());
    let bad = api.check_response("POST", p, 422, Some(&json!({"error_code": 4})));
    assert_eq!(bad[0].path, "error_code");
    // Only the recorded status: anything else undeclared is still a finding.
    assert!(
        api.check_response("POST", p, 409, Some(&err))[0]
            .message
            .contains("not declared")
    );
}

#[test]
fn bodiless_statuses_and_unknown_operations_are_reported() {
    let api = OpenApi::parse(PAYMENTS).unwrap();
    let p = "/payments/v1/sessions/abc";
    assert!(api.check_response("POST", p, 204, None).is_empty());
    assert!(
        api.check_response("POST", p, 204, Some(&Value::Null))
            .is_empty()
    );
    assert!(
        api.check_response("POST", p, 204, Some(&json!({"a": 1})))[0]
            .message
            .contains("declares no JSON body")
    );
    assert!(
        api.check_response("POST", p, 200, None)[0]
            .message
            .contains("not declared")
    );
    assert!(
        api.check_response("DELETE", p, 204, None)[0]
            .message
            .contains("has no DELETE operation")
    );
    assert!(
        api.check_response("GET", "/nowhere", 200, None)[0]
            .message
            .contains("no operation")
    );
    // `type: string` for a bodiless 201 (Order Management's refunds).
    assert!(api.check_response("POST", "/refunds", 201, None).is_empty());
}

#[test]
fn requests_ignore_read_only_properties() {
    let api = OpenApi::parse(PAYMENTS).unwrap();
    let p = "/payments/v1/sessions/abc";
    assert!(
        api.check_request("POST", p, &json!({"session_id": "s"}))
            .is_empty()
    );
    assert!(
        api.check_request("POST", p, &json!({"session_id": "s", "client_token": 5}))
            .is_empty()
    );
    assert_eq!(
        api.check_request("POST", p, &json!({}))[0].path,
        "session_id"
    );
    assert!(
        api.check_request("GET", p, &json!({"a": 1}))[0]
            .message
            .contains("declares no JSON body")
    );
    assert!(api.check_request("GET", p, &Value::Null).is_empty());
    // `requestBody.required` defaults to false in OpenAPI.
    assert!(
        api.check_request("POST", p, &Value::Null)[0]
            .message
            .contains("requires a request body")
    );
    assert!(
        api.check_request("POST", "/payments/v1/authorizations/t/order", &Value::Null)
            .is_empty()
    );
}

#[test]
fn bad_documents_are_errors_not_panics() {
    assert!(
        matches!(OpenApi::parse("a: [1, 2\nb: }"), Err(OpenApiError::Yaml { message, .. }) if message.contains("line"))
    );
    assert!(matches!(
        OpenApi::parse("- 1\n"),
        Err(OpenApiError::NotOpenApi { .. })
    ));
    assert!(matches!(
        OpenApi::parse("swagger: '2.0'\n"),
        Err(OpenApiError::NotOpenApi { .. })
    ));
    assert!(matches!(
        OpenApi::parse("openapi: 2\n"),
        Err(OpenApiError::NotOpenApi { .. })
    ));
    let deep = format!("openapi: 3.0.0\nx: {}{}", "[".repeat(250), "]".repeat(250));
    let _ = OpenApi::parse(&deep);
    // Weird but loadable: every oddity is tolerated.
    let weird = r"
openapi: 3.0.0
paths:
  /x:
    get:
      responses:
        '200':
          content: {application/json: {schema: 5}}
  /y: 7
components:
  schemas:
    A: {type: wat, pattern: '(?<=x)', items: [1], minLength: -1, enum: 3, required: 1, properties: []}
    B: {$ref: 5}
    C: {$ref: 'other.yml#/X'}
    D: 12
";
    let api = OpenApi::parse(weird).unwrap();
    for name in api.schema_names() {
        let _ = api.check_schema(&name, &json!({"a": [1, "b", null]}));
        let _ = api.example(&name);
    }
    assert!(
        api.check_response("GET", "/x", 200, Some(&json!(1)))
            .is_empty()
    );
    assert!(!api.warnings().is_empty());
}

#[test]
fn from_env_distinguishes_unset_from_missing() {
    assert!(
        OpenApi::from_env("KLARNA_CONFORMANCE_TEST_UNSET_VAR")
            .unwrap()
            .is_none()
    );
    assert!(OpenApi::from_var("V", Some("".into())).unwrap().is_none());
    assert!(matches!(
        OpenApi::from_var("V", Some("/nonexistent/x.yml".into())),
        Err(OpenApiError::EnvMissingFile { var, .. }) if var == "V"
    ));
}
