//! Sessions and authorize (docs/klarna.md §2.1, §2.3, §3.2, §5.1, §6.1, §11.6):
//! sessions live 48 h after their last update (create, a successful update
//! and an approved authorize count as updates `[I]`); an unknown or expired
//! session is 404 `Invalid session id`; a completed one refuses update and
//! authorize with 404 `SESSION_COMPLETED`; an update is validated as a whole
//! new session and changes nothing when refused `[I]`.

use serde::Deserialize as _;
use serde_json::{Map, Value};

use super::ExpectedError;
use super::action::Id;
use super::answer::{Answer, Prediction, SessionIx, SessionView, Work};
use super::world::{
    Outcome, READ_ONLY, SESSION_LIFETIME, SessionState, TokenState, World, as_read,
    invalid_session_id, parse, session_completed,
};
use crate::model::market;
use crate::model::validate::{self, BodyKind, Fidelity, Grade};
use crate::model::{CreateOrderRequest, Customer, Session};

/// Customer details, shown by a session read-back only after authorization.
const CUSTOMER_DETAILS: [&str; 3] = ["billing_address", "shipping_address", "customer"];

impl World {
    pub(super) fn predict_create_session(&self, body: &str) -> Prediction {
        let value = parse(body);
        match validate::refusal(
            &validate::validate(BodyKind::SessionCreate, &value),
            self.config.fidelity,
        ) {
            Some(messages) => Prediction::error(ExpectedError::bad_value(messages)),
            None => Prediction::new(Answer::SessionCreated {
                session: self.sessions.len(),
            })
            .with(Work::Parsed(value)),
        }
    }

    pub(super) fn predict_update(&self, s: SessionIx, body: &str) -> Prediction {
        let Some(state) = self.live_session(&Id::Known(s)).map(|s| &self.sessions[s]) else {
            return Prediction::error(invalid_session_id());
        };
        if state.completed {
            return Prediction::error(session_completed());
        }
        // "An update session call is validated as if it were a new session" (§3.2).
        let merged = Value::Object(merged(&state.body, parse(body)));
        match validate::refusal(
            &validate::validate(BodyKind::SessionCreate, &merged),
            self.config.fidelity,
        ) {
            Some(messages) => Prediction::error(ExpectedError::bad_value(messages)),
            None => Prediction::new(Answer::NoContent).with(Work::Merged(underived(merged, false))),
        }
    }

    pub(super) fn predict_authorize(&self, s: SessionIx, data: &str) -> Prediction {
        let Some(state) = self.live_session(&Id::Known(s)).map(|s| &self.sessions[s]) else {
            return Prediction::error(invalid_session_id());
        };
        if state.completed {
            return Prediction::error(session_completed());
        }
        // Judged with the shipping address as authorized; kept without the
        // derived one, for apply.
        let (value, derived) = derived_shipping(merged(&state.body, parse(data)));
        let violations = validate::validate(BodyKind::SessionCreate, &value);
        if validate::refusal(&violations, self.config.fidelity).is_some() {
            // The browser SDK's answer to data it cannot take (§7, §11.6).
            let mut invalid_fields: Vec<String> = Vec::new();
            for v in violations {
                if (self.config.fidelity == Fidelity::Documented || v.grade == Grade::Error)
                    && !invalid_fields.contains(&v.path)
                {
                    invalid_fields.push(v.path);
                }
            }
            return Prediction::new(Answer::NotAuthorized {
                show_form: true,
                invalid_fields,
            });
        }
        let country = value["purchase_country"].as_str().unwrap_or("");
        let email = value
            .pointer("/billing_address/email")
            .and_then(Value::as_str)
            .unwrap_or("");
        if market::email_outcome(email).declines_in(country) {
            return Prediction::new(Answer::NotAuthorized {
                show_form: false,
                invalid_fields: Vec::new(),
            });
        }
        let worked = Work::Merged(underived(value, derived));
        Prediction::new(Answer::Authorized {
            token: self.tokens.len(),
        })
        .with(worked)
    }

    pub(super) fn predict_read_session(&self, session: &Id<SessionIx>) -> Prediction {
        match self.live_session(session) {
            Some(s) => Prediction::new(Answer::Session(Box::new(self.session_view(s)))),
            None => Prediction::error(invalid_session_id()),
        }
    }

    fn session_view(&self, s: SessionIx) -> SessionView {
        let state = &self.sessions[s];
        let mut fields = state.body.clone();
        let mut absent = Vec::new();
        if state.authorized {
            fields = with_derived_shipping(fields);
            // `customer_read` leaves out the secret identifiers (§2.4).
            if let Some(customer) = fields.get("customer")
                && let Ok(c) = serde_json::from_value::<Customer>(customer.clone())
            {
                fields.insert(
                    "customer".into(),
                    serde_json::to_value(c.to_read()).unwrap_or_default(),
                );
            }
        } else {
            for key in CUSTOMER_DETAILS {
                fields.remove(key);
                absent.push(key);
            }
        }
        SessionView {
            session: s,
            status: if state.completed {
                "complete"
            } else {
                "incomplete"
            },
            fields,
            absent,
            authorization_token: state.latest_token,
            expires_at: self
                .clock
                .start
                .map(|start| start + state.updated_at + SESSION_LIFETIME),
        }
    }

    pub(super) fn apply_create_session(
        &mut self,
        body: &str,
        answer: &Answer,
        worked: Option<Work>,
    ) {
        if !matches!(answer, Answer::SessionCreated { .. }) {
            return;
        }
        let parsed = match worked {
            Some(Work::Parsed(value)) => value,
            _ => parse(body),
        };
        let mut body = match parsed {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        for key in READ_ONLY {
            body.remove(key);
        }
        body.retain(|_, v| !v.is_null());
        self.sessions.push(SessionState {
            body: as_read(body),
            updated_at: self.now,
            authorized: false,
            latest_token: None,
            completed: false,
        });
    }

    pub(super) fn apply_update(
        &mut self,
        session: SessionIx,
        body: &str,
        answer: &Answer,
        worked: Option<Work>,
    ) {
        if !matches!(answer, Answer::NoContent) {
            return;
        }
        let now = self.now;
        let state = &mut self.sessions[session];
        state.body = as_read(match worked {
            Some(Work::Merged(merged)) => merged,
            _ => merged(&state.body, parse(body)),
        });
        state.updated_at = now;
    }

    pub(super) fn apply_authorize(
        &mut self,
        session: SessionIx,
        data: &str,
        answer: &Answer,
        worked: Option<Work>,
    ) {
        if !matches!(answer, Answer::Authorized { .. }) {
            return;
        }
        let now = self.now;
        let token = self.tokens.len();
        let state = &mut self.sessions[session];
        let body = as_read(match worked {
            Some(Work::Merged(merged)) => merged,
            _ => merged(&state.body, parse(data)),
        });
        let (value, derived) = derived_shipping(body);
        let snapshot = Session::deserialize(&value).unwrap_or_default();
        state.body = underived(value, derived);
        state.authorized = true;
        // authorize() carries session data: it counts as an update. `[I]`
        state.updated_at = now;
        if let Some(previous) = state.latest_token.replace(token) {
            self.tokens[previous].replaced = true;
        }
        // The authorization callback (§7, §13.5).
        if let Some(url) = snapshot
            .merchant_urls
            .as_ref()
            .and_then(|u| u.authorization.clone())
        {
            self.callbacks.push((session, token, url));
        }
        self.tokens.push(TokenState {
            session: Some(session),
            authorized_at: now,
            intent: snapshot.intent.clone().unwrap_or_else(|| "buy".to_owned()),
            authorized: CreateOrderRequest::authorized_for(&snapshot),
            cancelled: false,
            replaced: false,
            outcome: Outcome::None,
            customer_token: None,
        });
    }
}

/// Klarna merges data sent later into the session: a field given replaces the
/// earlier value (§2.3), read-only fields are ignored, `null` removes. `[I]`
/// The category chosen at authorize is the widget's, not a session field.
pub(crate) fn merged(base: &Map<String, Value>, update: Value) -> Map<String, Value> {
    let mut out = base.clone();
    if let Value::Object(update) = update {
        for (key, value) in update {
            if READ_ONLY.contains(&key.as_str()) || key == "payment_method_category" {
                continue;
            }
            if value.is_null() {
                out.remove(&key);
            } else {
                out.insert(key, value);
            }
        }
    }
    out
}

/// [`with_derived_shipping`] as a value, and whether the shipping address
/// was derived, for [`underived`] to take it out again (cheaper than
/// keeping a copy of the session without it).
fn derived_shipping(session: Map<String, Value>) -> (Value, bool) {
    let derived =
        !session.contains_key("shipping_address") && session.contains_key("billing_address");
    (Value::Object(with_derived_shipping(session)), derived)
}

/// The session [`derived_shipping`] was given.
fn underived(value: Value, derived: bool) -> Map<String, Value> {
    let Value::Object(mut session) = value else {
        return Map::new();
    };
    if derived {
        session.remove("shipping_address");
    }
    session
}

/// "If shipping_address is missing, Klarna copies billing_address into it" (§2.3).
pub(super) fn with_derived_shipping(mut session: Map<String, Value>) -> Map<String, Value> {
    if !session.contains_key("shipping_address")
        && let Some(billing) = session.get("billing_address").cloned()
    {
        session.insert("shipping_address".into(), billing);
    }
    session
}
