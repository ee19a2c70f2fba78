//! Klarna's operations as calls on a [`Target`], each returning the raw
//! [`Exchange`]: judging the answer is the oracle's and the verdict's job,
//! so nothing here interprets a status code.

use std::sync::Arc;

use crate::exchange::Exchange;
use crate::targets::{Credentials, Method, Request, Target, TargetError};

/// A Klarna Payments v1 client bound to one target and one set of credentials.
#[derive(Clone)]
pub struct KlarnaClient {
    target: Arc<dyn Target>,
    credentials: Credentials,
}

type Answer = Result<Exchange, TargetError>;

impl KlarnaClient {
    pub fn new(target: Arc<dyn Target>, credentials: Credentials) -> KlarnaClient {
        KlarnaClient {
            target,
            credentials,
        }
    }

    pub fn target(&self) -> &dyn Target {
        self.target.as_ref()
    }

    /// Sends any request (used by scenarios and the raw-body checks).
    pub async fn send(&self, method: Method, path: &str, body: Option<String>) -> Answer {
        let request = Request {
            method,
            path: path.to_owned(),
            body,
            headers: Vec::new(),
        };
        self.target.send(&request, &self.credentials).await
    }

    /// Sends a request as it is, its extra headers included.
    pub async fn send_request(&self, request: &Request) -> Answer {
        self.target.send(request, &self.credentials).await
    }

    /// `POST /payments/v1/sessions` with a `session_create` body.
    pub async fn create_session(&self, body: &str) -> Answer {
        self.send(Method::Post, "/payments/v1/sessions", Some(body.to_owned()))
            .await
    }

    /// `GET /payments/v1/sessions/{session_id}`.
    pub async fn read_session(&self, session_id: &str) -> Answer {
        self.send(
            Method::Get,
            &format!("/payments/v1/sessions/{session_id}"),
            None,
        )
        .await
    }

    /// `POST /payments/v1/sessions/{session_id}` (update; 204 on success).
    pub async fn update_session(&self, session_id: &str, body: &str) -> Answer {
        self.send(
            Method::Post,
            &format!("/payments/v1/sessions/{session_id}"),
            Some(body.to_owned()),
        )
        .await
    }

    /// The mock's control API: what `Klarna.Payments.authorize()` does in a browser.
    pub async fn authorize(&self, session_id: &str, body: Option<String>) -> Answer {
        let path = format!("/__mock/sessions/{session_id}/authorize");
        self.control("authorize", Method::Post, &path, body).await
    }

    /// The mock's control API: read the virtual clock.
    pub async fn read_clock(&self) -> Answer {
        self.control("reading the clock", Method::Get, "/__mock/clock", None)
            .await
    }

    /// The same target with another password (to check that it is refused).
    pub fn with_password(&self, password: &str) -> KlarnaClient {
        KlarnaClient {
            target: self.target.clone(),
            credentials: Credentials::new(self.credentials.username.clone(), password),
        }
    }

    /// The mock's control API: move the virtual clock forward.
    pub async fn advance_clock(&self, seconds: u64) -> Answer {
        let body = format!("{{\"advance_seconds\":{seconds}}}");
        self.control(
            "advancing the clock",
            Method::Post,
            "/__mock/clock",
            Some(body),
        )
        .await
    }

    /// A control-API request as it is (`what` names it in an error).
    pub async fn control_request(&self, what: &str, request: &Request) -> Answer {
        self.require_control_api(what)?;
        let ex = self.send_request(request).await?;
        if ex.status == 405 || (ex.status == 404 && !control_api_refusal(&ex)) {
            return Err(self.no_control_api(what));
        }
        Ok(ex)
    }

    /// A control-API call: a target that answers it with 404 or 405 has no
    /// control API, which makes it unusable for the runner, not non-conformant.
    async fn control(
        &self,
        what: &str,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Answer {
        self.require_control_api(what)?;
        let ex = self.send(method, path, body).await?;
        if ex.status == 405 || (ex.status == 404 && !control_api_refusal(&ex)) {
            return Err(self.no_control_api(what));
        }
        Ok(ex)
    }

    fn no_control_api(&self, what: &str) -> TargetError {
        TargetError::NoControlApi {
            target: self.target.describe(),
            what: what.to_owned(),
        }
    }

    /// `POST /payments/v1/authorizations/{authorizationToken}/order`.
    pub async fn create_order(&self, authorization_token: &str, body: &str) -> Answer {
        self.send(
            Method::Post,
            &format!("/payments/v1/authorizations/{authorization_token}/order"),
            Some(body.to_owned()),
        )
        .await
    }

    /// `DELETE /payments/v1/authorizations/{authorizationToken}`.
    pub async fn cancel_authorization(&self, authorization_token: &str) -> Answer {
        self.send(
            Method::Delete,
            &format!("/payments/v1/authorizations/{authorization_token}"),
            None,
        )
        .await
    }

    /// `POST /payments/v1/authorizations/{authorizationToken}/customer-token`.
    pub async fn create_customer_token(&self, authorization_token: &str, body: &str) -> Answer {
        self.send(
            Method::Post,
            &format!("/payments/v1/authorizations/{authorization_token}/customer-token"),
            Some(body.to_owned()),
        )
        .await
    }

    /// `GET /ordermanagement/v1/orders/{order_id}`.
    pub async fn read_order(&self, order_id: &str) -> Answer {
        self.send(
            Method::Get,
            &format!("/ordermanagement/v1/orders/{order_id}"),
            None,
        )
        .await
    }

    /// `POST /ordermanagement/v1/orders/{order_id}/captures`.
    pub async fn capture(&self, order_id: &str, body: &str) -> Answer {
        self.send(
            Method::Post,
            &format!("/ordermanagement/v1/orders/{order_id}/captures"),
            Some(body.to_owned()),
        )
        .await
    }

    fn require_control_api(&self, what: &str) -> Result<(), TargetError> {
        if self.target.capabilities().control_api {
            Ok(())
        } else {
            Err(self.no_control_api(what))
        }
    }
}

/// The control API's own 404s (an unknown or completed session), as opposed
/// to a server that does not know the path at all.
fn control_api_refusal(ex: &Exchange) -> bool {
    ex.json().is_some_and(|body| {
        body["error_code"] == "SESSION_COMPLETED"
            || body["error_messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m == "Invalid session id"))
    })
}
