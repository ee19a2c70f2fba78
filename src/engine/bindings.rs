//! The real ids behind the model's indices: the n-th session the target
//! created, the n-th token it issued, the n-th order it placed, as its
//! answers named them. Bound only after an answer was judged right, so the
//! indices of model and target stay in step.

use serde_json::Value;

use crate::exchange::Exchange;
use crate::oracle::{Action, Answer, Id, OrderIx, SessionIx, TokenIx};
use crate::targets::{Method, Request};

/// A session the target created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundSession {
    pub id: String,
    /// The identifiers of the payment method categories its create answer offered.
    pub categories: Vec<String>,
}

/// An order the target placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundOrder {
    pub id: String,
    pub redirect_url: Option<String>,
    pub fraud_status: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Bindings {
    pub sessions: Vec<BoundSession>,
    pub tokens: Vec<String>,
    pub orders: Vec<BoundOrder>,
}

impl Bindings {
    /// Bindings that start with the tokens a user authorized in a browser.
    pub fn with_tokens(tokens: Vec<String>) -> Bindings {
        Bindings {
            tokens,
            ..Bindings::default()
        }
    }

    pub fn session(&self, s: SessionIx) -> &str {
        self.sessions.get(s).map_or("", |b| b.id.as_str())
    }

    pub fn token(&self, t: TokenIx) -> &str {
        self.tokens.get(t).map_or("", String::as_str)
    }

    pub fn order(&self, o: OrderIx) -> Option<&BoundOrder> {
        self.orders.get(o)
    }

    fn id<'a, T: Copy>(&'a self, id: &'a Id<T>, known: impl Fn(T) -> &'a str) -> &'a str {
        match id {
            Id::Known(ix) => known(*ix),
            Id::Unknown(id) => id,
        }
    }

    /// The request `action` sends, with the real ids put in. The control
    /// API's requests are sent through the client, which knows them; this is
    /// what they look like on the wire all the same.
    pub fn request(&self, action: &Action) -> Request {
        let post = |path: String, body: &str| Request {
            method: Method::Post,
            path,
            body: Some(body.to_owned()),
        };
        let get = |path: String| Request {
            method: Method::Get,
            path,
            body: None,
        };
        match action {
            Action::CreateSession { body } => post("/payments/v1/sessions".to_owned(), body),
            Action::ReadSession { session } => get(format!(
                "/payments/v1/sessions/{}",
                self.id(session, |s| self.session(s))
            )),
            Action::UpdateSession { session, body } => post(
                format!("/payments/v1/sessions/{}", self.session(*session)),
                body,
            ),
            Action::Authorize {
                session,
                data,
                category,
            } => post(
                format!("/__mock/sessions/{}/authorize", self.session(*session)),
                &self.authorize_body(*session, data, *category),
            ),
            Action::CreateOrder { token, body } => post(
                format!(
                    "/payments/v1/authorizations/{}/order",
                    self.id(token, |t| self.token(t))
                ),
                body,
            ),
            Action::CancelAuthorization { token } => Request {
                method: Method::Delete,
                path: format!(
                    "/payments/v1/authorizations/{}",
                    self.id(token, |t| self.token(t))
                ),
                body: None,
            },
            Action::ReadOrder { order } => get(format!(
                "/ordermanagement/v1/orders/{}",
                self.id(order, |o| self.order(o).map_or("", |b| b.id.as_str()))
            )),
            Action::Capture { order, amount } => post(
                format!(
                    "/ordermanagement/v1/orders/{}/captures",
                    self.order(*order).map_or("", |b| b.id.as_str())
                ),
                &format!("{{\"captured_amount\":{amount}}}"),
            ),
            Action::AdvanceClock { seconds } => post(
                "/__mock/clock".to_owned(),
                &format!("{{\"advance_seconds\":{seconds}}}"),
            ),
            Action::WrongCredentials { session_id } => {
                get(format!("/payments/v1/sessions/{session_id}"))
            }
        }
    }

    /// The authorize-time data with the chosen category, one of those the
    /// session's create answer offered (a target that offers only `klarna`
    /// is asked for `klarna`).
    fn authorize_body(&self, s: SessionIx, data: &str, category: Option<u8>) -> String {
        let offered = self
            .sessions
            .get(s)
            .map(|b| &b.categories[..])
            .unwrap_or(&[]);
        let chosen = category
            .filter(|_| !offered.is_empty())
            .map(|c| offered[usize::from(c) % offered.len()].clone());
        match (chosen, serde_json::from_str::<Value>(data)) {
            (Some(c), Ok(Value::Object(mut map))) => {
                map.insert("payment_method_category".into(), Value::String(c));
                Value::Object(map).to_string()
            }
            _ => data.to_owned(),
        }
    }

    /// Records the ids a right answer handed out.
    pub fn bind(&mut self, answer: &Answer, ex: &Exchange, body: Option<&Value>) {
        let _ = ex;
        let null = Value::Null;
        let body = body.unwrap_or(&null);
        let text = |key: &str| body[key].as_str().map(str::to_owned);
        match answer {
            Answer::SessionCreated { .. } => self.sessions.push(BoundSession {
                id: text("session_id").unwrap_or_default(),
                categories: body["payment_method_categories"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["identifier"].as_str().map(str::to_owned))
                    .collect(),
            }),
            Answer::Authorized { .. } => self
                .tokens
                .push(text("authorization_token").unwrap_or_default()),
            Answer::Order(o) if !o.again => self.orders.push(BoundOrder {
                id: text("order_id").unwrap_or_default(),
                redirect_url: text("redirect_url"),
                fraud_status: text("fraud_status"),
            }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_category_asked_for_is_one_the_session_offered() {
        // A target that offers only `klarna` (as Klarna's own sample does) is
        // asked for `klarna`, whatever index the operation drew.
        let mut b = Bindings::default();
        b.sessions.push(BoundSession {
            id: "s-1".into(),
            categories: vec!["klarna".into()],
        });
        let action = Action::Authorize {
            session: 0,
            data: r#"{"billing_address":{"email":"customer@email.se"}}"#.into(),
            category: Some(2),
        };
        let request = b.request(&action);
        assert_eq!(request.path, "/__mock/sessions/s-1/authorize");
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["payment_method_category"], "klarna");
        // None lets the target choose: no category is sent.
        let action = Action::Authorize {
            session: 0,
            data: "{}".into(),
            category: None,
        };
        assert_eq!(b.request(&action).body.as_deref(), Some("{}"));
    }
}
