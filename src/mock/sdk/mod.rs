//! The stand-in of Klarna's browser SDK (docs/klarna.md §11.6, §14): the
//! script at the real one's path, a small checkout page that uses it, and
//! the SDK-facing endpoints the script calls.
//!
//! - `GET /kp/lib/v1/api.js` and the legacy `GET /lib/v1/api.js`: the script
//!   (`api.js`), defining `Klarna.Payments` and `Klarna.Credit`. No
//!   credentials, as on Klarna's CDN.
//! - `GET /__mock/checkout`: a checkout page (`checkout.html`) that loads the
//!   script and runs init, load and authorize (the browser authorizer drives
//!   it; a person can open it with `?client_token=…`).
//! - `POST /__mock/sdk/load`, `…/authorize`, `…/finalize` with
//!   `Authorization: Bearer <client_token>`: a browser has no Basic
//!   credentials, only the session's client token. The session it names is
//!   looked up in every scope (default first); the call is then the store's:
//!   authorize and finalize run exactly the control API's authorize, so
//!   both answer the same data alike. `OPTIONS` answers CORS preflights, so a
//!   merchant's page on another origin can use the script.
//!
//! Refusals are Klarna-shaped JSON errors with a correlation id: a missing
//! or unreadable client token is 401 `UNAUTHORIZED` from the default scope.
//! The calls are journaled in their scope; the token is never journaled or
//! logged.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use super::http::{self, Parts, Shared};
use super::journal::{Answered, Seen};
use super::routes::BodyUse;
use super::store::{MockReply, MockRequest, Refusal};

/// The stand-in script.
pub const API_JS: &str = include_str!("api.js");
/// The checkout page; `"__SDK_SRC__"` is replaced by the script's URL as a
/// JSON string (empty: the mock's own script).
const CHECKOUT_HTML: &str = include_str!("checkout.html");

/// The path of Klarna's SDK script on its CDN (`x.klarnacdn.net`).
pub const SDK_PATH: &str = "/kp/lib/v1/api.js";
/// The legacy script's path (`credit.klarnacdn.net`), which names the API `Klarna.Credit`.
pub const LEGACY_SDK_PATH: &str = "/lib/v1/api.js";
/// The mock's checkout page.
pub const CHECKOUT_PATH: &str = "/__mock/checkout";

/// The categories that need `finalize()` when `authorize()` is called with
/// `auto_finalize: false` (docs/klarna.md §14). `[I]`
pub const FINALIZE_CATEGORIES: [&str; 1] = ["pay_now"];

/// What an SDK path asks for.
enum Sdk {
    Script,
    Checkout,
    Call(Endpoint),
    Unknown,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Load,
    Authorize,
    Finalize,
}

/// The SDK path `path` names, or `None` for every other path.
fn sdk_path(path: &str) -> Option<Sdk> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments.next()?;
    let rest: Vec<&str> = segments.collect();
    Some(match (first, rest.as_slice()) {
        ("kp", ["lib", "v1", "api.js"]) | ("lib", ["v1", "api.js"]) => Sdk::Script,
        ("__mock", ["checkout"]) => Sdk::Checkout,
        ("__mock", ["sdk", "load"]) => Sdk::Call(Endpoint::Load),
        ("__mock", ["sdk", "authorize"]) => Sdk::Call(Endpoint::Authorize),
        ("__mock", ["sdk", "finalize"]) => Sdk::Call(Endpoint::Finalize),
        ("__mock", ["sdk", ..]) => Sdk::Unknown,
        _ => return None,
    })
}

/// Whether `path` is the stand-in's (the HTTP layer hands it over before credentials).
pub(super) fn is_sdk(path: &str) -> bool {
    sdk_path(path).is_some()
}

/// The checkout page loading the script at `sdk_src` (`None`: the mock's own).
pub fn checkout_page(sdk_src: Option<&str>) -> String {
    let src = serde_json::to_string(sdk_src.unwrap_or("")).unwrap_or_else(|_| "\"\"".into());
    // Inside a <script>: no `</script>` can be written by the URL.
    let src = src.replace('<', "\\u003c").replace('>', "\\u003e");
    CHECKOUT_HTML.replacen("\"__SDK_SRC__\"", &src, 1)
}

/// Answers an SDK path (see the module's documentation).
pub(super) async fn handle(shared: &Arc<Shared>, parts: Parts, body: Body) -> Response {
    let started = Instant::now();
    let Some(sdk) = sdk_path(parts.uri.path()) else {
        return plain(StatusCode::NOT_FOUND, "text/plain", "not found".into());
    };
    let get = parts.method == Method::GET || parts.method == Method::HEAD;
    match sdk {
        Sdk::Script if get => plain(
            StatusCode::OK,
            "application/javascript; charset=utf-8",
            API_JS.into(),
        ),
        Sdk::Checkout if get => plain(
            StatusCode::OK,
            "text/html; charset=utf-8",
            checkout_page(None),
        ),
        Sdk::Call(_) | Sdk::Unknown if parts.method == Method::OPTIONS => preflight(),
        Sdk::Call(endpoint) if parts.method == Method::POST => {
            call(shared, parts, body, endpoint, started).await
        }
        Sdk::Unknown => {
            let message = format!("No such resource: {}", parts.uri.path());
            let refusal = Refusal::new(404, "NOT_FOUND", message);
            refuse_default(shared, &parts, started, refusal, None)
        }
        Sdk::Call(_) => method_not_allowed(shared, &parts, started, "POST, OPTIONS"),
        Sdk::Script | Sdk::Checkout => method_not_allowed(shared, &parts, started, "GET"),
    }
}

fn method_not_allowed(
    shared: &Shared,
    parts: &Parts,
    started: Instant,
    allow: &'static str,
) -> Response {
    let message = format!("Method {} not allowed; allowed: {allow}", parts.method);
    let refusal = Refusal::new(405, "METHOD_NOT_ALLOWED", message);
    refuse_default(
        shared,
        parts,
        started,
        refusal,
        Some(("Allow", allow.to_owned())),
    )
}

/// A refusal answered from the default scope (no session is known yet),
/// with its `--log` line.
fn refuse_default(
    shared: &Shared,
    parts: &Parts,
    started: Instant,
    refusal: Refusal,
    extra: Option<(&'static str, String)>,
) -> Response {
    let mut reply = {
        let mut inner = shared.scopes.default_scope().lock();
        let reply = inner
            .store
            .refuse(refusal.status, refusal.error_code, refusal.messages);
        http::dated(&inner, reply)
    };
    reply.headers.extend(extra);
    let micros = started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
    shared.log(None, parts, reply.status, &reply.correlation_id, micros);
    let body = reply.body.take().map(Bytes::from);
    with_cors(http::respond(reply, body))
}

/// A static asset, cacheable for a minute.
fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    with_cors(response)
}

/// `OPTIONS`: the CORS preflight of a page on another origin.
fn preflight() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("Authorization, Content-Type"),
    );
    headers.insert("access-control-max-age", HeaderValue::from_static("600"));
    with_cors(response)
}

/// Any origin may call: the client token is the credential, no cookie is used.
fn with_cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("Klarna-Correlation-Id"),
    );
    response
}

/// The session id a client token names: `Authorization: Bearer <JWT>` whose
/// payload is a JSON object with a string `session_id`.
fn session_of(headers: &HeaderMap) -> Result<String, Refusal> {
    let unauthorized = |message: &str| Refusal::new(401, "UNAUTHORIZED", message.to_owned());
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(|| {
            unauthorized("The SDK's calls need the session's client token: Authorization: Bearer <client_token>")
        })?;
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| unauthorized("The SDK's calls take Authorization: Bearer <client_token>"))?;
    let not_jwt = || unauthorized("The client token is not a JWT naming a session");
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(not_jwt());
    }
    let payload = URL_SAFE_NO_PAD
        .decode(parts[1])
        .or_else(|_| URL_SAFE.decode(parts[1]))
        .map_err(|_| not_jwt())?;
    let claims: Value = serde_json::from_slice(&payload).map_err(|_| not_jwt())?;
    claims
        .get("session_id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(not_jwt)
}

/// The store's request for an SDK call's body `{payment_method_category?,
/// auto_finalize?, data?}`: load reads the session; authorize and finalize
/// authorize with the data and category (the control API's body), or only
/// check it where `finalize()` must follow.
fn store_request(
    endpoint: Endpoint,
    session_id: String,
    body: Option<Value>,
) -> Result<MockRequest, Refusal> {
    let mut body = match body {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    if endpoint == Endpoint::Load {
        return Ok(MockRequest::ReadSession { session_id });
    }
    let category = match body.remove("payment_method_category") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) => Some(c),
        Some(_) => return Err(Refusal::bad_field("payment_method_category")),
    };
    let auto_finalize = match body.remove("auto_finalize") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(Refusal::bad_field("auto_finalize")),
    };
    let mut data = match body.remove("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(Refusal::bad_field("data")),
    };
    let check_only = endpoint == Endpoint::Authorize
        && !auto_finalize
        && category
            .as_deref()
            .is_some_and(|c| FINALIZE_CATEGORIES.contains(&c));
    if let Some(category) = category {
        data.insert("payment_method_category".into(), Value::String(category));
    }
    let body = Some(Value::Object(data));
    Ok(if check_only {
        MockRequest::CheckAuthorize { session_id, body }
    } else {
        MockRequest::Authorize { session_id, body }
    })
}

/// Load's answer from the session's read-back: whether the category asked
/// for (none: the session's first) is offered. `[I]` the shapes:
/// `{show_form: true}` or `{show_form: false, error: {invalid_fields:
/// ["payment_method_category"]}}`.
fn load_answer(read: &MockReply, category: Option<&str>) -> Value {
    let offered: Vec<String> = read
        .json()
        .get("payment_method_categories")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|c| c.get("identifier").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let shown = match category {
        None => !offered.is_empty(),
        Some(c) => offered.iter().any(|o| o == c),
    };
    if shown {
        json!({"show_form": true, "payment_method_categories": offered})
    } else {
        json!({
            "show_form": false,
            "payment_method_categories": offered,
            "error": {"invalid_fields": ["payment_method_category"]},
        })
    }
}

/// A `POST /__mock/sdk/…` call, in the scope of the client token's session.
async fn call(
    shared: &Arc<Shared>,
    parts: Parts,
    body: Body,
    endpoint: Endpoint,
    started: Instant,
) -> Response {
    let micros = || started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
    let session_id = match session_of(&parts.headers) {
        Ok(id) => id,
        Err(refusal) => return refuse_default(shared, &parts, started, refusal, None),
    };
    let scope = shared.scopes.holding_session(&session_id);
    let mut seen = Seen::new(&parts.method, &parts.uri, &parts.headers);
    let read = match http::read_body(shared, &parts.headers, body).await {
        Ok(bytes) => {
            if !bytes.is_empty() {
                seen.body = Some(Bytes::copy_from_slice(&bytes));
            }
            http::parse_json(&parts.headers, &bytes, BodyUse::Optional)
        }
        Err(refusal) => Err(refusal),
    };
    let category = read
        .as_ref()
        .ok()
        .and_then(|b| b.as_ref())
        .and_then(|b| b.get("payment_method_category"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let request = read.and_then(|body| store_request(endpoint, session_id, body));
    let (reply, body, deliveries, epoch) = {
        let mut inner = scope.lock();
        let at = inner.clock.now();
        let mut reply = match request {
            Ok(request) => {
                let reply = inner.store.handle(request, at);
                if endpoint == Endpoint::Load && reply.status == 200 {
                    MockReply {
                        body: Some(load_answer(&reply, category.as_deref()).to_string()),
                        ..reply
                    }
                } else {
                    reply
                }
            }
            Err(Refusal {
                status,
                error_code,
                messages,
            }) => inner.store.refuse(status, error_code, messages),
        };
        reply = http::dated(&inner, reply);
        let body = reply.body.take().map(Bytes::from);
        let answered = Answered {
            status: reply.status,
            headers: &reply.headers,
            body: body.as_ref(),
            correlation_id: &reply.correlation_id,
        };
        inner.journal.record(at, seen, answered, micros());
        (reply, body, inner.store.take_deliveries(), inner.epoch)
    };
    super::deliver::spawn(shared, &scope, epoch, deliveries);
    shared.log(
        Some(scope.name()),
        &parts,
        reply.status,
        &reply.correlation_id,
        micros(),
    );
    with_cors(http::respond(reply, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(matches!(sdk_path("/kp/lib/v1/api.js"), Some(Sdk::Script)));
        assert!(matches!(sdk_path("/lib/v1/api.js"), Some(Sdk::Script)));
        assert!(matches!(sdk_path("/__mock/checkout"), Some(Sdk::Checkout)));
        assert!(matches!(
            sdk_path("/__mock/sdk/finalize"),
            Some(Sdk::Call(Endpoint::Finalize))
        ));
        assert!(matches!(sdk_path("/__mock/sdk/x"), Some(Sdk::Unknown)));
        assert!(sdk_path("/__mock/reset").is_none());
        assert!(sdk_path("/payments/v1/sessions").is_none());
    }

    #[test]
    fn the_checkout_page_names_its_script_safely() {
        assert!(checkout_page(None).contains("var SDK_SRC = \"\";"));
        let page = checkout_page(Some("https://x.klarnacdn.net/kp/lib/v1/api.js"));
        assert!(page.contains("var SDK_SRC = \"https://x.klarnacdn.net/kp/lib/v1/api.js\";"));
        let hostile = checkout_page(Some("\"</script><script>alert(1)//"));
        assert!(!hostile.contains("</script><script>alert"));
    }

    #[test]
    fn client_tokens() {
        let bearer = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            session_of(&headers)
        };
        let payload = URL_SAFE_NO_PAD.encode(r#"{"session_id":"abc"}"#);
        assert_eq!(bearer(&format!("Bearer h.{payload}.s")), Ok("abc".into()));
        for bad in [
            "Basic abc".to_owned(),
            "Bearer abc".to_owned(),
            "Bearer a.b.c".to_owned(),
            format!("Bearer h.{}.s", URL_SAFE_NO_PAD.encode("{}")),
        ] {
            assert_eq!(bearer(&bad).unwrap_err().status, 401, "{bad}");
        }
        assert_eq!(session_of(&HeaderMap::new()).unwrap_err().status, 401);
    }

    /// The check-only authorize judges as authorize does and changes nothing.
    #[test]
    fn a_check_issues_nothing() {
        use crate::mock::{MockConfig, MockState};
        let mut store = MockState::new(&MockConfig::default().seed(1));
        let session = json!({
            "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
            "order_amount": 11900, "order_tax_amount": 1900,
            "order_lines": [{"name": "Jacket", "quantity": 1, "unit_price": 11900,
                "tax_rate": 1900, "total_amount": 11900, "total_tax_amount": 1900}]
        });
        let created = store.handle(MockRequest::CreateSession { body: session }, 0);
        let session_id = created.json()["session_id"].as_str().unwrap().to_owned();
        let billing = json!({"given_name": "Mock", "family_name": "Mock",
            "email": "customer@email.de", "street_address": "Neue Schönhauser Str. 2",
            "postal_code": "10178", "city": "Berlin", "phone": "+49017614284340", "country": "DE"});
        let data = |extra: Value| {
            let mut d =
                json!({"billing_address": billing.clone(), "payment_method_category": "pay_now"});
            d.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            Some(d)
        };
        let check = |store: &mut MockState, body| {
            let id = session_id.clone();
            store
                .handle(
                    MockRequest::CheckAuthorize {
                        session_id: id,
                        body,
                    },
                    10,
                )
                .json()
        };
        let authorize = |store: &mut MockState, body| {
            let id = session_id.clone();
            store
                .handle(
                    MockRequest::Authorize {
                        session_id: id,
                        body,
                    },
                    10,
                )
                .json()
        };
        assert_eq!(
            check(&mut store, data(json!({}))),
            json!({"approved": true, "finalize_required": true, "show_form": true})
        );
        assert_eq!(store.authorization_count(), 0);
        for extra in [
            json!({"purchase_currency": "USD"}),
            json!({"billing_address": {"email": "customer+denied@email.de"}}),
        ] {
            let checked = check(&mut store, data(extra.clone()));
            assert_eq!(checked, authorize(&mut store, data(extra)), "{checked}");
            assert_ne!(checked["approved"], true);
        }
        assert_eq!(store.authorization_count(), 0);
        let approved = authorize(&mut store, data(json!({})));
        assert!(approved["authorization_token"].is_string(), "{approved}");
        assert_eq!(store.authorization_count(), 1);
    }

    #[test]
    fn finalize_is_checked_only_where_it_is_needed() {
        let body = |v: Value| Some(v);
        let check = store_request(
            Endpoint::Authorize,
            "s".into(),
            body(json!({"payment_method_category": "pay_now", "auto_finalize": false})),
        );
        assert!(matches!(check, Ok(MockRequest::CheckAuthorize { .. })));
        let at_once = store_request(
            Endpoint::Authorize,
            "s".into(),
            body(
                json!({"payment_method_category": "pay_later", "auto_finalize": false, "data": {"a": 1}}),
            ),
        );
        let Ok(MockRequest::Authorize { body: Some(b), .. }) = at_once else {
            panic!("an authorize");
        };
        assert_eq!(b, json!({"a": 1, "payment_method_category": "pay_later"}));
        let finalize = store_request(
            Endpoint::Finalize,
            "s".into(),
            body(json!({"payment_method_category": "pay_now", "auto_finalize": false})),
        );
        assert!(matches!(finalize, Ok(MockRequest::Authorize { .. })));
        let bad = store_request(Endpoint::Authorize, "s".into(), body(json!({"data": 1})));
        assert_eq!(bad.unwrap_err(), Refusal::bad_field("data"));
    }
}
