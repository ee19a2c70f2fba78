//! What holds for every answer, whatever the request (docs/design.md,
//! "Invariants"): JSON is declared as JSON; every answer carries a
//! `Klarna-Correlation-Id`, equal to the body's `correlation_id` and never
//! seen before; error bodies are Klarna's shape; ids handed out are new (two
//! tokens never share an order); a `client_token` is a three-part JWT whose
//! payload names its session; bodies fit the model and, with `--openapi`, the
//! published schema. Ids are not required to be RFC 4122 v4: real ones are
//! not (docs/klarna.md §11.4).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::exchange::Exchange;
use crate::openapi::OpenApi;
use crate::runner::seed::fnv1a;
use crate::verdict::{self, Failure, Problem, render_actual};

/// Where an id was first seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// The property and case seed of the sequence, and its step (1-based).
    pub property: &'static str,
    pub case_seed: u64,
    pub step: usize,
    /// What the id was for, e.g. `order for token <t>`.
    pub owner: String,
}

/// Ids seen across a whole run, by kind: one shared value for every worker.
/// Only first runs of sequences register (a shrink candidate repeats the ids
/// of the sequence it comes from). Ids are kept as 64-bit hashes, so a run of
/// millions of requests stays small.
#[derive(Debug, Default)]
pub struct RunIds {
    seen: Mutex<HashMap<(u8, u64), Sighting>>,
}

impl RunIds {
    pub fn new() -> Arc<RunIds> {
        Arc::new(RunIds::default())
    }

    /// Registers `id`; the earlier sighting when it was already handed out
    /// to another owner.
    fn register(&self, kind: IdKind, id: &str, sighting: Sighting) -> Option<Sighting> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (kind as u8, fnv1a(id.as_bytes()));
        match seen.get(&key) {
            Some(first)
                if (first.property, first.case_seed, &first.owner)
                    != (sighting.property, sighting.case_seed, &sighting.owner) =>
            {
                Some(first.clone())
            }
            Some(_) => None,
            None => {
                seen.insert(key, sighting);
                None
            }
        }
    }
}

/// The kinds of id that must be new when handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    CorrelationId,
    Session,
    Token,
    Order,
    Capture,
    Transaction,
    CustomerToken,
}

impl IdKind {
    fn name(self) -> &'static str {
        match self {
            IdKind::CorrelationId => "Klarna-Correlation-Id",
            IdKind::Session => "session_id",
            IdKind::Token => "authorization_token",
            IdKind::Order => "order_id",
            IdKind::Capture => "Capture-Id or Refund-Id",
            IdKind::Transaction => "Transaction-Id",
            IdKind::CustomerToken => "customer token_id",
        }
    }
}

/// The every-answer checks of one sequence.
pub struct Invariants<'a> {
    pub openapi: &'a [Arc<OpenApi>],
    /// The run's ids, for a first run; `None` for shrink candidates and replays.
    pub run: Option<&'a RunIds>,
    pub property: &'static str,
    pub case_seed: u64,
    /// Ids of this sequence: a repeat within one sequence is caught on every
    /// run, so it shrinks and replays.
    local: HashMap<(IdKind, String), String>,
}

impl<'a> Invariants<'a> {
    pub fn new(
        openapi: &'a [Arc<OpenApi>],
        run: Option<&'a RunIds>,
        property: &'static str,
        case_seed: u64,
    ) -> Invariants<'a> {
        Invariants {
            openapi,
            run,
            property,
            case_seed,
            local: HashMap::new(),
        }
    }

    /// The checks every answer must pass. `expects_401`: the request was sent
    /// with a wrong password on purpose, so a gateway's HTML 401 is fine.
    pub fn check(
        &mut self,
        ex: &Exchange,
        body: Option<&Value>,
        step: usize,
        expects_401: bool,
    ) -> Result<(), Problem> {
        if ex.status == 401 && expects_401 {
            return Ok(());
        }
        // Credentials refused, rate limits, gateway failures: not Klarna's rules.
        verdict::check_hygiene(ex, body)?;
        let context = || format!("{} {} -> {}", ex.method, ex.path, ex.status);
        if !ex.response_body.trim().is_empty() && !declared_json(ex.header("content-type")) {
            return Err(Failure::new(
                format!("{}: a JSON answer is declared application/json", context()),
                "Content-Type: application/json",
                format!(
                    "Content-Type: {}",
                    ex.header("content-type").unwrap_or("<none>")
                ),
            )
            .into());
        }
        let Some(correlation) = ex.correlation_id().filter(|c| !c.is_empty()) else {
            return Err(Failure::new(
                format!(
                    "{}: every answer carries Klarna-Correlation-Id (docs/klarna.md §1.4)",
                    context()
                ),
                "Klarna-Correlation-Id: <an id>",
                "no Klarna-Correlation-Id header".to_owned(),
            )
            .into());
        };
        self.fresh(
            IdKind::CorrelationId,
            correlation,
            step,
            format!("answer {step}"),
        )?;
        verdict::check_shape(ex, body, self.openapi)?;
        if ex.status == 200
            && let Some(body) = body
        {
            self.client_token(ex, body)?;
        }
        Ok(())
    }

    /// An id handed out must be new: not seen in this sequence, nor (on a
    /// first run) anywhere in the run, unless for the same owner.
    pub fn fresh(
        &mut self,
        kind: IdKind,
        id: &str,
        step: usize,
        owner: String,
    ) -> Result<(), Problem> {
        let key = (kind, id.to_owned());
        if let Some(first) = self.local.get(&key)
            && *first != owner
        {
            return Err(Failure::new(
                format!(
                    "step {step}: every {} is new (docs/design.md, invariants)",
                    kind.name()
                ),
                format!("an id not handed out before, for {owner}"),
                format!("{id}, already handed out for {first}"),
            )
            .into());
        }
        self.local.insert(key, owner.clone());
        if let Some(run) = self.run {
            let sighting = Sighting {
                property: self.property,
                case_seed: self.case_seed,
                step,
                owner: owner.clone(),
            };
            if let Some(first) = run.register(kind, id, sighting) {
                return Err(Failure::new(
                    format!(
                        "step {step}: every {} is new across the run (docs/design.md, invariants)",
                        kind.name()
                    ),
                    format!("an id not handed out before, for {owner}"),
                    format!(
                        "{id}, already handed out in property {} (case seed {}, step {}) for {}",
                        first.property, first.case_seed, first.step, first.owner
                    ),
                )
                .into());
            }
        }
        Ok(())
    }

    /// `client_token` is a three-part JWT whose payload names the session
    /// (docs/klarna.md §2.6, §11.4).
    fn client_token(&self, ex: &Exchange, body: &Value) -> Result<(), Problem> {
        let Some(token) = body.get("client_token") else {
            return Ok(());
        };
        let session_id = if ex.method == "POST" {
            body["session_id"].as_str().unwrap_or("").to_owned()
        } else {
            ex.path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned()
        };
        let named = token
            .as_str()
            .and_then(jwt_payload)
            .is_some_and(|payload| payload["session_id"] == session_id.as_str());
        if named {
            Ok(())
        } else {
            Err(Failure::new(
                format!(
                    "{} {} -> {}: client_token is a JWT whose payload names its session (docs/klarna.md §11.4)",
                    ex.method, ex.path, ex.status
                ),
                format!("<header>.<payload with \"session_id\": {session_id:?}>.<signature>"),
                render_actual(ex),
            )
            .into())
        }
    }
}

/// The payload of a three-part JWT, if `token` is one.
pub fn jwt_payload(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn declared_json(content_type: Option<&str>) -> bool {
    let Some(value) = content_type else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_payloads_are_read() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"session_id":"s-1"}"#);
        assert_eq!(
            jwt_payload(&format!("e30.{payload}.c2ln")).unwrap()["session_id"],
            "s-1"
        );
        assert!(jwt_payload("opaque-token").is_none());
        assert!(jwt_payload("a.b.c.d").is_none());
    }

    #[test]
    fn json_is_declared() {
        assert!(declared_json(Some("application/json; charset=utf-8")));
        assert!(declared_json(Some("application/problem+json")));
        assert!(!declared_json(Some("text/plain")));
        assert!(!declared_json(None));
    }
}
