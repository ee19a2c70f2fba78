//! The control API's endpoints for CI that live in the HTTP layer rather than
//! in the store: `GET /__mock/health` (no credentials), `POST /__mock/reset`
//! and the query of `GET /__mock/requests`.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::journal::Filter;
use super::store::Refusal;

/// `GET /__mock/health`'s body: `scopes` tells a client that usernames of
/// the form `username+scope` reach scopes of their own.
pub(super) const HEALTH: &str = concat!(
    r#"{"scopes":"username+scope","status":"ok","version":""#,
    env!("CARGO_PKG_VERSION"),
    r#""}"#
);

/// Whether `path` is the health endpoint (empty segments ignored unless strict).
pub(super) fn is_health(path: &str, strict_paths: bool) -> bool {
    if strict_paths {
        return path == "/__mock/health";
    }
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    segments.next() == Some("__mock")
        && segments.next() == Some("health")
        && segments.next().is_none()
}

/// The health answer: no credentials needed, no id taken from any scope
/// (polling it must not change what a seeded mock hands out), so it has no
/// `Klarna-Correlation-Id`; it is not Klarna's.
pub(super) fn health() -> Response {
    let mut response = Response::new(Body::from(HEALTH));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `POST /__mock/reset[?scope=all]`: whether every scope goes.
pub(super) fn reset_all(query: Option<&str>) -> Result<bool, Refusal> {
    let mut all = false;
    for (key, value) in pairs(query) {
        match (key.as_str(), value.as_str()) {
            ("scope", "all") => all = true,
            // Another scope is reset with its own username, not named here.
            ("scope", _) => return Err(Refusal::bad_field("scope")),
            _ => return Err(unknown(&key)),
        }
    }
    Ok(all)
}

/// The filters of `GET /__mock/requests?method=&path=&status=&limit=`.
pub(super) fn requests_filter(query: Option<&str>) -> Result<Filter, Refusal> {
    let mut filter = Filter::default();
    for (key, value) in pairs(query) {
        match key.as_str() {
            "method" if !value.is_empty() => filter.method = Some(value),
            "path" if value.starts_with('/') => filter.path = Some(value),
            "status" => {
                filter.status = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|s| (100..=599).contains(s))
                        .ok_or_else(|| Refusal::bad_field("status"))?,
                );
            }
            "limit" => {
                filter.limit = Some(value.parse().map_err(|_| Refusal::bad_field("limit"))?);
            }
            "method" | "path" => return Err(Refusal::bad_field(&key)),
            _ => return Err(unknown(&key)),
        }
    }
    Ok(filter)
}

/// `GET /__mock/notifications?id=X&id=Y`: only the entries naming one of
/// the ids (a sequence's own, on a server other runs share); none: all.
pub(super) fn notifications_filter(query: Option<&str>) -> Result<Vec<String>, Refusal> {
    let mut ids = Vec::new();
    for (key, value) in pairs(query) {
        match key.as_str() {
            "id" if !value.is_empty() => ids.push(value),
            "id" => return Err(Refusal::bad_field("id")),
            _ => return Err(unknown(&key)),
        }
    }
    Ok(ids)
}

fn unknown(key: &str) -> Refusal {
    // The name is shown only when it is harmless to echo.
    let shown = if key.len() <= 32
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        key
    } else {
        "query"
    };
    Refusal::bad_field(shown)
}

/// `key=value` pairs of a query string, percent-decoded (`+` is a space).
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_decoded_and_stray_percents_kept() {
        for (sent, read) in [
            ("a%2Db", "a-b"),
            ("a+b", "a b"),
            ("%E2%82%AC", "\u{20ac}"),
            ("%41", "A"),
            ("%", "%"),
            ("%4", "%4"),
            ("50%", "50%"),
            ("%zz", "%zz"),
            ("%%41", "%A"),
        ] {
            assert_eq!(decode(sent), read, "{sent}");
        }
    }

    #[test]
    fn health_is_json_naming_the_scopes() {
        let body: serde_json::Value = serde_json::from_str(HEALTH).unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["scopes"], "username+scope");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert!(is_health("/__mock/health", false));
        assert!(is_health("//__mock/health/", false));
        assert!(!is_health("//__mock/health/", true));
        assert!(!is_health("/__mock/healthz", false));
    }

    #[test]
    fn queries() {
        assert_eq!(reset_all(None), Ok(false));
        assert_eq!(reset_all(Some("scope=all")), Ok(true));
        assert_eq!(
            reset_all(Some("scope=job")).unwrap_err(),
            Refusal::bad_field("scope")
        );
        let filter = requests_filter(Some(
            "method=POST&path=%2Fpayments%2Fv1%2Fsessions&status=400&limit=2",
        ))
        .unwrap();
        assert_eq!(
            filter,
            Filter {
                method: Some("POST".into()),
                path: Some("/payments/v1/sessions".into()),
                status: Some(400),
                limit: Some(2),
            }
        );
        for (bad, field) in [
            ("status=abc", "status"),
            ("status=99", "status"),
            ("limit=-1", "limit"),
            ("path=payments", "path"),
            ("colour=red", "colour"),
            ("a%20b=1", "query"),
            ("path=%2", "path"),
        ] {
            assert_eq!(
                requests_filter(Some(bad)).unwrap_err(),
                Refusal::bad_field(field),
                "{bad}"
            );
        }
    }
}
