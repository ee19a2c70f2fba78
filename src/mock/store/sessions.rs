//! Payment sessions: create, read, update, and the control API's authorize
//! (what `Klarna.Payments.authorize()` does in a browser).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    Authorization, BodyChecks, MockReply, MockState, Refusal, SESSION_LIFETIME, SessionRecord,
    as_read, compact, is_amount_rule, parse_id, typed,
};
use crate::mock::clock::rfc3339;
use crate::mock::defect::Defect;
use crate::mock::ids::mix;
use crate::model::market::email_outcome;
use crate::model::validate::BodyKind;
use crate::model::{Customer, Session};

/// Fields only Klarna writes (docs/klarna.md §2.1): ignored when a merchant sends them. `[I]`
const READ_ONLY: [&str; 5] = [
    "authorization_token",
    "client_token",
    "expires_at",
    "payment_method_categories",
    "status",
];

/// The category identifiers a session offers, by market. `[I]` Klarna decides
/// this per merchant contract; the mock offers `pay_later` and `pay_over_time`
/// everywhere and adds `pay_now` (direct debit / bank transfer) in the markets
/// where Klarna sells it to every merchant (DACH, Nordics, Benelux). The order is
/// fixed so seeded runs stay byte-identical (docs/klarna.md §10 saw it vary).
pub(super) fn category_ids(purchase_country: Option<&str>) -> &'static [&'static str] {
    const WITH_PAY_NOW: [&str; 9] = ["AT", "BE", "CH", "DE", "DK", "FI", "NL", "NO", "SE"];
    match purchase_country {
        Some(c) if WITH_PAY_NOW.iter().any(|m| m.eq_ignore_ascii_case(c)) => {
            &["pay_later", "pay_over_time", "pay_now"]
        }
        _ => &["pay_later", "pay_over_time"],
    }
}

/// [`categories`] serialized, built once per offer (the create-session hot path).
fn categories_json(purchase_country: Option<&str>) -> &'static str {
    static CACHE: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    let cache =
        CACHE.get_or_init(|| [compact(&categories(Some("DE"))), compact(&categories(None))]);
    if category_ids(purchase_country).len() == 3 {
        &cache[0]
    } else {
        &cache[1]
    }
}

/// `payment_method_category` objects with Klarna's display names (docs/klarna.md §10:
/// "Pay now" as of 2024) and the spec's example asset URL. `[I]`
fn categories(purchase_country: Option<&str>) -> Value {
    const ASSET: &str = "https://x.klarnacdn.net/payment-method/assets/badges/generic/klarna.svg";
    Value::Array(
        category_ids(purchase_country)
            .iter()
            .map(|id| {
                json!({
                    "identifier": id,
                    "name": category_name(id),
                    "asset_urls": {"descriptive": ASSET, "standard": ASSET},
                })
            })
            .collect(),
    )
}

/// A category's display name (docs/klarna.md §10: "Pay now" as of 2024). `[I]`
pub(super) fn category_name(id: &str) -> &'static str {
    match id {
        "pay_later" => "Pay later",
        "pay_over_time" => "Pay over time",
        "pay_now" => "Pay now",
        _ => "Pay with Klarna",
    }
}

/// A create-session body checked and cleaned for storing, or its refusal.
pub(crate) struct CheckedSession(Result<Checked, Refusal>);

/// The session's fields and the JSON text they are stored as.
struct Checked {
    fields: Map<String, Value>,
    body: Box<str>,
}

impl BodyChecks {
    /// Everything create session does before it needs the store: the body's
    /// rules, read-only fields and nulls dropped, the typed read.
    pub(crate) fn create_session(self, body: Value) -> CheckedSession {
        CheckedSession(
            self.check_body(BodyKind::SessionCreate, &body)
                .and_then(|()| {
                    let mut stored = into_object(as_read(body));
                    for key in READ_ONLY {
                        stored.remove(key);
                    }
                    stored.retain(|_, v| !v.is_null());
                    let stored = Value::Object(stored);
                    let _: Session = typed(&stored)?;
                    let body = compact(&stored).into_boxed_str();
                    Ok(Checked {
                        fields: into_object(stored),
                        body,
                    })
                }),
        )
    }
}

/// The key id in the `client_token` header. `[I]`
#[cfg(test)]
const CLIENT_TOKEN_KID: &str = "82305ebb-ce9c-4d1c-a2bb-5c5f7c2f8b8a";

/// The `client_token` header `{"alg":"RS256","kid":CLIENT_TOKEN_KID}`, encoded
/// (a test checks it).
const CLIENT_TOKEN_HEADER: &str =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjgyMzA1ZWJiLWNlOWMtNGQxYy1hMmJiLTVjNWY3YzJmOGI4YSJ9";

/// Klarna's region of a purchase country: `na` for US, CA and MX, `oc` for
/// AU and NZ, else `eu` (docs/klarna.md §1.1). `[I]`
fn region(purchase_country: &str) -> &'static str {
    crate::certify::Region::of_country(purchase_country).name()
}

/// The purchase country (upper case) and language (the locale's, lower
/// case; `en` without one) a `client_token` names.
fn token_market(session: &Map<String, Value>) -> (String, String) {
    let country = session
        .get("purchase_country")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    let language = session
        .get("locale")
        .and_then(Value::as_str)
        .and_then(|l| l.split(['-', '_']).next())
        .filter(|l| !l.is_empty())
        .unwrap_or("en")
        .to_ascii_lowercase();
    (country, language)
}

/// A three-part JWT `client_token` (docs/klarna.md §13.7, §11.4): header
/// `{"alg":"RS256","kid":...}`, a payload with the recorded claims, and a
/// signature part that is no signature, derived from the session id.
/// `[I]` the claims' values: `base_url`
/// `https://js.playground.klarna.com/<region>/kp/legacy/payments`, `design`
/// `klarna`, `environment` `playground`, `language` the locale's language
/// (`en` without a locale), `merchant_name` `klarna-conformance`,
/// `purchase_country` in upper case, `region` as [`region`], `session_type`
/// `PAYMENTS`; market and language follow the session as it is answered.
#[cfg(test)]
fn client_token(session_id: &Uuid, session: &Map<String, Value>) -> String {
    let mut token = String::new();
    push_client_token(&mut token, session_id, session);
    token
}

/// [`client_token`] written at the end of `out` (create session writes it
/// straight into its answer).
fn push_client_token(out: &mut String, session_id: &Uuid, session: &Map<String, Value>) {
    let (country, language) = token_market(session);
    let region = region(&country);
    let mut id = Uuid::encode_buffer();
    let id = session_id.hyphenated().encode_lower(&mut id);
    // The claims as `compact` writes them (keys sorted), written directly
    // into a buffer the thread keeps: this is the hot path of create session.
    thread_local! {
        static CLAIMS: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(512));
    }
    CLAIMS.with_borrow_mut(|claims| {
        claims.clear();
        write_claims(claims, id, region, &country, &language);
        out.reserve(CLIENT_TOKEN_HEADER.len() + claims.len() * 4 / 3 + 48);
        out.push_str(CLIENT_TOKEN_HEADER);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims[..], out);
    });
    let (hi, lo) = session_id.as_u64_pair();
    let mut sig = [0u8; 32];
    let mut z = hi ^ mix(lo);
    for chunk in sig.chunks_mut(8) {
        z = mix(z.wrapping_add(0x9E37_79B9_7F4A_7C15));
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, out);
}

/// The client token's claims as JSON, keys sorted.
fn write_claims(claims: &mut Vec<u8>, id: &str, region: &str, country: &str, language: &str) {
    claims.extend_from_slice(b"{\"base_url\":\"https://js.playground.klarna.com/");
    claims.extend_from_slice(region.as_bytes());
    claims.extend_from_slice(
        b"/kp/legacy/payments\",\"design\":\"klarna\",\"environment\":\"playground\",\"language\":",
    );
    let _ = serde_json::to_writer(&mut *claims, &language);
    claims.extend_from_slice(b",\"merchant_name\":\"klarna-conformance\",\"purchase_country\":");
    let _ = serde_json::to_writer(&mut *claims, &country);
    for part in [
        ",\"region\":\"",
        region,
        "\",\"session_id\":\"",
        id,
        "\",\"session_type\":\"PAYMENTS\"}",
    ] {
        claims.extend_from_slice(part.as_bytes());
    }
}

/// Another session id derived from `session_id` (its bits mixed), a v4 UUID:
/// what the `client-token-wrong-session` defect names in the token.
fn other_session_id(session_id: &Uuid) -> Uuid {
    let (hi, lo) = session_id.as_u64_pair();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&mix(hi ^ 0x5DEE_CE66_D1CE_4E5B).to_le_bytes());
    bytes[8..].copy_from_slice(&mix(lo.wrapping_add(1)).to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// An opaque `ct_` token of 32 hex digits derived from the session id: what
/// the `client-token-not-jwt` defect hands out.
fn opaque_client_token(session_id: &Uuid) -> String {
    let (hi, lo) = session_id.as_u64_pair();
    format!("ct_{:016x}{:016x}", mix(hi ^ lo), mix(lo))
}

/// Klarna merges data sent later into the session: a field given replaces the
/// earlier value (docs/klarna.md §2.3), read-only fields are dropped, and an explicit
/// `null` removes the field. `[I]`
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        if READ_ONLY.contains(&key.as_str()) {
            continue;
        }
        if value.is_null() {
            into.remove(&key);
        } else {
            into.insert(key, value);
        }
    }
}

/// "If shipping_address is missing, Klarna copies billing_address into it"
/// (docs/klarna.md §2.3). The copy is made where the session is used (the authorized
/// snapshot, the read view), never stored: a later authorization with a new
/// billing address then copies the new one.
fn with_derived_shipping(mut session: Map<String, Value>) -> Map<String, Value> {
    if !session.contains_key("shipping_address")
        && let Some(billing) = session.get("billing_address").cloned()
    {
        session.insert("shipping_address".into(), billing);
    }
    session
}

fn into_object(body: Value) -> Map<String, Value> {
    match body {
        Value::Object(map) => map,
        // http.rs refuses non-object bodies; an empty object keeps the store total.
        _ => Map::new(),
    }
}

impl MockState {
    /// The session's `client_token`, as the defect modes shape it.
    fn client_token(&self, session_id: &Uuid, session: &Map<String, Value>) -> String {
        let mut token = String::new();
        self.push_client_token(&mut token, session_id, session);
        token
    }

    /// [`Self::client_token`] written at the end of `out`.
    fn push_client_token(&self, out: &mut String, session_id: &Uuid, session: &Map<String, Value>) {
        if self.has(Defect::ClientTokenNotJwt) {
            out.push_str(&opaque_client_token(session_id));
        } else if self.has(Defect::ClientTokenWrongSession) {
            push_client_token(out, &other_session_id(session_id), session);
        } else {
            push_client_token(out, session_id, session);
        }
    }

    /// The hot path of the benchmark: the answer is written as text, the
    /// session kept as compact JSON text, as read (floats truncated) and
    /// parsed once into `Session` so that a body the model types cannot hold
    /// is refused here, not later at authorize.
    pub(super) fn create_session(&mut self, body: Value, now: i64) -> Result<MockReply, Refusal> {
        let stored = self.checks().create_session(body).0?;
        self.store_session(stored, now)
    }

    /// Create session with its body checked already ([`BodyChecks::create_session`]):
    /// answered exactly as [`MockState::handle`] answers `CreateSession`.
    pub(crate) fn handle_checked_session(
        &mut self,
        checked: CheckedSession,
        now: i64,
    ) -> MockReply {
        self.tick(now);
        match checked.0.and_then(|stored| self.store_session(stored, now)) {
            Ok(reply) => reply,
            Err(refusal) => self.refusal_reply(refusal),
        }
    }

    /// Stores a checked session body under a fresh id: what needs the state.
    fn store_session(&mut self, checked: Checked, now: i64) -> Result<MockReply, Refusal> {
        let Checked { fields, body } = checked;
        let categories = categories_json(fields.get("purchase_country").and_then(Value::as_str));
        let session_id = self.ids.uuid();
        let shown = self
            .has(Defect::ReadBackIgnoresUpdates)
            .then(|| body.clone());
        self.sessions.insert(
            session_id,
            SessionRecord {
                body,
                created_at: now,
                updated_at: now,
                shown,
                authorized: false,
                authorization_token: None,
                completed: false,
            },
        );
        // Keys in sorted order, as every other answer (serde_json's map).
        let mut id = Uuid::encode_buffer();
        let mut answer = String::with_capacity(categories.len() + 900);
        answer.push_str(r#"{"client_token":""#);
        self.push_client_token(&mut answer, &session_id, &fields);
        for part in [
            r#"","payment_method_categories":"#,
            categories,
            r#","session_id":""#,
            session_id.hyphenated().encode_lower(&mut id),
            r#""}"#,
        ] {
            answer.push_str(part);
        }
        Ok(self.reply_text(200, Some(answer)))
    }

    /// The session behind an id, if it has not expired (48 h after its last
    /// update; at exactly 48 h it is gone, like tokens at 60 min). `[I]`
    fn live_session(&mut self, session_id: &str, now: i64) -> Result<Uuid, Refusal> {
        let id = parse_id(session_id).ok_or_else(Refusal::invalid_session_id)?;
        let record = self
            .sessions
            .get(&id)
            .ok_or_else(Refusal::invalid_session_id)?;
        if now >= self.session_rules().expires_at(record) {
            self.sessions.remove(&id);
            return Err(Refusal::invalid_session_id());
        }
        Ok(id)
    }

    pub(super) fn read_session(
        &mut self,
        session_id: &str,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_session(session_id, now)?;
        let record = &self.sessions[&id];
        let shown = match &record.shown {
            Some(shown) if self.has(Defect::ReadBackIgnoresUpdates) => shown,
            _ => &record.body,
        };
        let mut view: Map<String, Value> = serde_json::from_str(shown).unwrap_or_default();
        if record.authorized || self.has(Defect::ShowsCustomerBeforeAuthorize) {
            view = with_derived_shipping(view);
            // customer_read leaves out the secret identifiers (docs/klarna.md §2.4).
            if let Some(customer) = view.get("customer")
                && let Ok(c) = serde_json::from_value::<Customer>(customer.clone())
            {
                view.insert(
                    "customer".into(),
                    serde_json::to_value(c.to_read()).unwrap_or_default(),
                );
            }
        } else {
            // "We only share customer details after authorizing the session" (docs/klarna.md §2.6).
            for key in ["billing_address", "shipping_address", "customer"] {
                view.remove(key);
            }
        }
        let country = view
            .get("purchase_country")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let client_token = self.client_token(&id, &view);
        view.insert("client_token".into(), client_token.into());
        let expires_at = if self.has(Defect::ExpiresAtFromCreation) {
            record.created_at.saturating_add(SESSION_LIFETIME)
        } else {
            self.session_rules().expires_at(record)
        };
        view.insert("expires_at".into(), rfc3339(expires_at).into());
        view.insert(
            "status".into(),
            if record.completed && !self.has(Defect::SessionStaysIncomplete) {
                "complete"
            } else {
                "incomplete"
            }
            .into(),
        );
        view.insert(
            "payment_method_categories".into(),
            categories(country.as_deref()),
        );
        if let Some(token) = record.authorization_token {
            view.insert("authorization_token".into(), token.to_string().into());
        }
        Ok(self.reply(200, Some(Value::Object(view))))
    }

    /// Update: merged into the session, and the merged session validated as
    /// a new session would be ("an update session call is validated as if it
    /// were a new session", docs/klarna.md §3.2), so an update that leaves the
    /// amounts inconsistent, or deletes a required field with `null`, is 400
    /// BAD_VALUE and changes nothing; otherwise 204. It does not change what an
    /// earlier token authorized: create order is compared with the data as
    /// authorized, and a changed cart needs a new `authorize()` (docs/klarna.md §12:
    /// "send a new authorization request"). `[I]`
    pub(super) fn update_session(
        &mut self,
        session_id: &str,
        body: Value,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_session(session_id, now)?;
        if self.sessions[&id].completed && !self.has(Defect::UpdateAfterOrderAllowed) {
            return Err(Refusal::session_completed());
        }
        let mut merged: Map<String, Value> =
            serde_json::from_str(&self.sessions[&id].body).unwrap_or_default();
        merge(&mut merged, into_object(body));
        let merged = Value::Object(merged);
        let mut violations = self.violations(BodyKind::SessionCreate, &merged);
        if self.has(Defect::InconsistentUpdateAccepted) {
            violations.retain(|v| !is_amount_rule(v.rule));
        }
        self.judge(&violations)?;
        let merged = as_read(merged);
        let _: Session = typed(&merged)?;
        if self.has(Defect::UpdateIgnored) {
            return Ok(self.reply(204, None));
        }
        if let Some(record) = self.sessions.get_mut(&id) {
            record.body = compact(&merged).into_boxed_str();
            record.updated_at = now;
        }
        Ok(self.reply(204, None))
    }

    /// The control API's authorize (docs/klarna.md §7): merges authorize-time data,
    /// decides from `billing_address.email` (docs/klarna.md §6.1) and, when approved,
    /// issues a new token that replaces the session's previous one (docs/klarna.md §5.1).
    pub(super) fn authorize(
        &mut self,
        session_id: &str,
        body: Option<Value>,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        self.authorize_or_check(session_id, body, now, true)
    }

    /// The SDK stand-in's first step of an authorization that needs
    /// `finalize()` (docs/klarna.md §14): every check of [`MockState::authorize`],
    /// and where that would approve, `finalize_required` instead of a token;
    /// the session, its tokens and the callbacks stay as they were.
    pub(super) fn check_authorize(
        &mut self,
        session_id: &str,
        body: Option<Value>,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        self.authorize_or_check(session_id, body, now, false)
    }

    fn authorize_or_check(
        &mut self,
        session_id: &str,
        body: Option<Value>,
        now: i64,
        issue: bool,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_session(session_id, now)?;
        if self.sessions[&id].completed {
            return Err(Refusal::session_completed());
        }
        let mut given = body.map(into_object).unwrap_or_default();
        let chosen = match given.remove("payment_method_category") {
            None | Some(Value::Null) => None,
            Some(Value::String(c)) => Some(c),
            Some(_) => return Err(Refusal::bad_field("payment_method_category")),
        };
        let mut merged: Map<String, Value> =
            serde_json::from_str(&self.sessions[&id].body).unwrap_or_default();
        // `read-back-ignores-updates`: the shown copy gets authorize's data too.
        let shown_given = self.sessions[&id].shown.is_some().then(|| given.clone());
        merge(&mut merged, given);
        let country = merged
            .get("purchase_country")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let offered = category_ids(country.as_deref());
        // A category the session does not offer is refused like a bad field. `[I]`
        let category = match chosen {
            None => offered[0],
            Some(c) => *offered
                .iter()
                .find(|o| **o == c)
                .ok_or_else(|| Refusal::bad_field("payment_method_category"))?,
        };
        // The merged session is a whole session, so it is judged as one
        // (session_create rules), with the shipping address as authorized.
        // The browser SDK's answer to invalid data (docs/klarna.md §7):
        // {"approved": false, "show_form": true, "error": {"invalid_fields": [...]}}.
        let mut snapshot = Value::Object(with_derived_shipping(merged.clone()));
        let mut invalid = self.refused_paths(BodyKind::SessionCreate, &snapshot);
        // Then kept as read (floats truncated, as in `as_read`); truncating
        // the judged copy equals deriving from the truncated session.
        merged
            .values_mut()
            .for_each(crate::model::validate::truncate_fractions);
        crate::model::validate::truncate_fractions(&mut snapshot);
        if invalid.is_empty()
            && let Err(r) = typed::<Session>(&snapshot)
        {
            invalid = r
                .messages
                .iter()
                .map(|m| m.trim_start_matches("Bad value: ").to_owned())
                .collect();
        }
        if !invalid.is_empty() {
            let answer = json!({
                "approved": false,
                "show_form": true,
                "error": {"invalid_fields": invalid},
            });
            return Ok(self.reply(200, Some(answer)));
        }
        let email = snapshot
            .pointer("/billing_address/email")
            .and_then(Value::as_str)
            .unwrap_or("");
        // docs/klarna.md §6.1; the purchase country decides, as for pending (orders.rs).
        let declined = email_outcome(email).declines_in(country.as_deref().unwrap_or(""));
        if declined && !self.has(Defect::ApproveDenied) {
            // A declined authorization leaves the session as it was. `[I]`
            let answer = json!({"approved": false, "show_form": false});
            return Ok(self.reply(200, Some(answer)));
        }
        if !issue {
            let answer = json!({"approved": true, "finalize_required": true, "show_form": true});
            return Ok(self.reply(200, Some(answer)));
        }
        let token = self.ids.uuid();
        let authorized = compact(&snapshot).into_boxed_str();
        let record = self.sessions.get_mut(&id).expect("checked above");
        let previous = record.authorization_token.replace(token);
        record.body = compact(&Value::Object(merged)).into_boxed_str();
        if let (Some(shown), Some(given)) = (&mut record.shown, shown_given) {
            let mut view: Map<String, Value> = serde_json::from_str(shown).unwrap_or_default();
            merge(&mut view, given);
            view.values_mut()
                .for_each(crate::model::validate::truncate_fractions);
            *shown = compact(&Value::Object(view)).into_boxed_str();
        }
        record.authorized = true;
        // authorize() carries session data, so it counts as an update for the 48 h. `[I]`
        record.updated_at = now;
        let session_created_at = record.created_at;
        if let Some(old) = previous.and_then(|p| self.authorizations.get_mut(&p)) {
            old.replaced = true;
        }
        self.authorizations.insert(
            token,
            Authorization {
                session_id: id,
                authorized_at: now,
                session_created_at,
                authorized,
                payment_method_category: category,
                cancelled: false,
                replaced: false,
                sticky: None,
                placed: None,
                customer_token: None,
            },
        );
        // The authorization callback to merchant_urls.authorization, as
        // authorized (docs/klarna.md §7, §13.5).
        if let Some(url) = snapshot
            .pointer("/merchant_urls/authorization")
            .and_then(Value::as_str)
        {
            self.authorization_callback(url, token, id);
        }
        let answer = json!({
            "approved": true,
            "show_form": true,
            "authorization_token": token.to_string(),
        });
        Ok(self.reply(200, Some(answer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The claims as first written, through `json!`: the hand-written ones
    /// must be the same bytes.
    fn claims_by_json(session_id: &Uuid, session: &Map<String, Value>) -> String {
        let (country, language) = token_market(session);
        let region = region(&country);
        json!({
            "base_url": format!("https://js.playground.klarna.com/{region}/kp/legacy/payments"),
            "design": "klarna",
            "environment": "playground",
            "language": language,
            "merchant_name": "klarna-conformance",
            "purchase_country": country,
            "region": region,
            "session_id": session_id.to_string(),
            "session_type": "PAYMENTS",
        })
        .to_string()
    }

    #[test]
    fn the_client_token_is_the_jwt_it_always_was() {
        let header = format!(r#"{{"alg":"RS256","kid":"{CLIENT_TOKEN_KID}"}}"#);
        assert_eq!(URL_SAFE_NO_PAD.encode(header), CLIENT_TOKEN_HEADER);
        let id = Uuid::from_u64_pair(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
        for session in [
            json!({"purchase_country": "de", "locale": "de-DE"}),
            json!({"purchase_country": "US", "locale": "en_US"}),
            json!({"purchase_country": "n\"z\\", "locale": "\u{e9}\t-x"}),
            json!({}),
        ] {
            let Value::Object(fields) = session else {
                unreachable!()
            };
            let token = client_token(&id, &fields);
            let parts: Vec<&str> = token.split('.').collect();
            assert_eq!(parts.len(), 3, "{token}");
            let claims = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
            assert_eq!(
                String::from_utf8(claims).unwrap(),
                claims_by_json(&id, &fields)
            );
        }
    }
}
