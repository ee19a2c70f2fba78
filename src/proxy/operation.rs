//! Which Klarna operation a request is, from its method and path.

/// A Klarna operation, told from the method and path. Empty segments are
/// ignored: Klarna accepted doubled and trailing slashes (docs/klarna.md §10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Operation {
    CreateSession,
    ReadSession(String),
    UpdateSession(String),
    CreateOrder(String),
    CancelAuthorization(String),
    CustomerToken(String),
    OrderManagement,
    CustomerTokenApi,
    /// The mock's control API `authorize` (`POST /__mock/sessions/{id}/authorize`):
    /// what the browser's `authorize()` does, visible to the proxy.
    MockAuthorize(String),
    /// The rest of the mock's control API: not Klarna's, not judged.
    Mock,
    Other,
}

impl Operation {
    pub(super) fn of(method: &str, path: &str) -> Operation {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let own = |s: &str| s.to_owned();
        match (method, segments.as_slice()) {
            ("POST", ["payments", "v1", "sessions"]) => Operation::CreateSession,
            ("GET", ["payments", "v1", "sessions", id]) => Operation::ReadSession(own(id)),
            ("POST", ["payments", "v1", "sessions", id]) => Operation::UpdateSession(own(id)),
            ("POST", ["payments", "v1", "authorizations", t, "order"]) => {
                Operation::CreateOrder(own(t))
            }
            ("DELETE", ["payments", "v1", "authorizations", t]) => {
                Operation::CancelAuthorization(own(t))
            }
            ("POST", ["payments", "v1", "authorizations", t, "customer-token"]) => {
                Operation::CustomerToken(own(t))
            }
            (_, ["ordermanagement", ..]) => Operation::OrderManagement,
            (_, ["customer-token", ..]) => Operation::CustomerTokenApi,
            ("POST", ["__mock", "sessions", id, "authorize"]) => Operation::MockAuthorize(own(id)),
            (_, ["__mock", ..]) => Operation::Mock,
            _ => Operation::Other,
        }
    }

    /// The operation's name in the report, in Klarna's words.
    pub(super) fn name(&self) -> &'static str {
        match self {
            Operation::CreateSession => "create session",
            Operation::ReadSession(_) => "read session",
            Operation::UpdateSession(_) => "update session",
            Operation::CreateOrder(_) => "create order",
            Operation::CancelAuthorization(_) => "cancel authorization",
            Operation::CustomerToken(_) => "create customer token",
            Operation::OrderManagement => "Order Management",
            Operation::CustomerTokenApi => "Customer Token API",
            Operation::MockAuthorize(_) | Operation::Mock => "mock control API",
            Operation::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_as_klarna_does() {
        let of = Operation::of;
        assert_eq!(
            of("POST", "/payments/v1/sessions/"),
            Operation::CreateSession
        );
        assert_eq!(
            of("POST", "//payments/v1/sessions/s-1"),
            Operation::UpdateSession("s-1".into())
        );
        assert_eq!(
            of("POST", "/payments/v1/authorizations/t-1/order").name(),
            "create order"
        );
        assert_eq!(
            of("GET", "/ordermanagement/v1/orders/o"),
            Operation::OrderManagement
        );
        assert_eq!(
            of("POST", "/__mock/sessions/s/authorize"),
            Operation::MockAuthorize("s".into())
        );
        assert_eq!(of("GET", "/elsewhere"), Operation::Other);
    }
}
