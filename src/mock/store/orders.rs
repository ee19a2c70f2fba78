//! Authorization tokens: create order and cancel (docs/klarna.md §1.3, 3.4, 5);
//! customer tokens are in `customer_tokens.rs`.
//!
//! Create order (`POST /payments/v1/authorizations/{token}/order`) checks, in
//! this order (docs/klarna.md §5.2, §10, §11.1):
//!
//! 1. the token: unknown, expired, cancelled or replaced is 404 NOT_FOUND
//!    `Invalid authorization token`;
//! 2. the body: 400 BAD_VALUE, never stored on the token (recorded: `{}` on a
//!    token with an order was 400, and the identical body afterwards still got
//!    the order);
//! 3. the token's placed order: the identical body (compared as parsed JSON,
//!    so key order does not matter) gets the stored answer, any other body 409
//!    BAD_VALUE `The order has been already completed with different request
//!    body` (not stored);
//! 4. Playground fidelity only: the token's sticky refusal. The first
//!    *business* outcome (409 `Not matching fields`, 403 `REJECTED`) is
//!    repeated for every later call whose body passes validation, even a fixed
//!    one. `[I]` which outcomes stick (docs/klarna.md §11.1 infers it from one
//!    recording); in Documented fidelity nothing sticks;
//! 5. a customer token for intent `tokenize` already used the token (403), the
//!    comparison with the authorized data (409, or 403 REJECTED with cart
//!    updates allowed), then success.

use serde_json::{Value, json};
use uuid::Uuid;

use super::compare::{self, Group};
use super::notifications::fill_placeholders;
use super::om::payment_method_type;
use super::{
    LATE_RETRY, MockReply, MockState, OrderRecord, Placed, Refusal, TOKEN_LIFETIME, as_read,
    parse_id, typed,
};
use crate::mock::defect::Defect;
use crate::model::market::{EmailOutcome, email_outcome};
use crate::model::validate::{BodyKind, Fidelity};
use crate::model::{CreateOrderRequest, Session};

/// A `+pend…` tag in the local part, whether or not it fits the exact pattern
/// (what the `pending-near-miss` defect takes for pending).
fn has_pend_tag(email: &str) -> bool {
    let local = email.split('@').next().unwrap_or("");
    local
        .split('+')
        .skip(1)
        .any(|tag| tag.to_ascii_lowercase().starts_with("pend"))
}

/// Where Klarna sends the customer after the order (docs/klarna.md §5.5, DOCS sample form). `[I]`
pub(super) fn redirect_url(id: Uuid) -> String {
    format!("https://payments.klarna.com/redirect/{id}")
}

impl MockState {
    /// The token behind a path, if it can still be used: unknown, expired
    /// (valid while less than 3600 s have passed; docs/klarna.md §5.1), cancelled or
    /// replaced by a newer authorization all give 404 `Invalid authorization token`.
    pub(super) fn usable_token(&self, token: &str, now: i64) -> Result<Uuid, Refusal> {
        let unknown = || {
            if self.has(Defect::UnknownTokenBadRequest) {
                Refusal::bad_field("authorization_token")
            } else {
                Refusal::invalid_authorization_token()
            }
        };
        let id = parse_id(token).ok_or_else(unknown)?;
        let auth = self.authorizations.get(&id).ok_or_else(unknown)?;
        let age = now.saturating_sub(self.token_start(auth));
        let expired = if self.has(Defect::ExpireOneSecondLate) {
            age > TOKEN_LIFETIME
        } else {
            age >= TOKEN_LIFETIME
        };
        if (expired && !self.has(Defect::AcceptExpiredTokens))
            || (auth.cancelled && !self.has(Defect::AcceptCancelledTokens))
            || (auth.replaced && !self.has(Defect::AcceptReplacedTokens))
        {
            return Err(Refusal::invalid_authorization_token());
        }
        Ok(id)
    }

    pub(super) fn create_order(
        &mut self,
        token: &str,
        body: Value,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        // 1. The token.
        let id = self.usable_token(token, now)?;
        let playground = self.fidelity == Fidelity::Playground;
        let placed = self.authorizations[&id].placed.is_some();
        // 2. The body, before the "already used" logic (docs/klarna.md §11.1).
        // `conflict-before-validation` skips it on a used token (the old order).
        let order = if placed && self.has(Defect::ConflictBeforeValidation) {
            None
        } else {
            match self.read_order_body(&body) {
                Ok(order) => Some(order),
                Err(refusal) => {
                    // Never stored, unless `validation-errors-stick`.
                    if self.has(Defect::ValidationErrorsStick) && playground && !placed {
                        self.stick(id, &refusal);
                    }
                    return Err(refusal);
                }
            }
        };
        // 3. The token's placed order (docs/klarna.md §5.2, §11.1).
        if let Some(placed) = &self.authorizations[&id].placed {
            if placed.request == body || self.has(Defect::AcceptConflictingRetry) {
                let mut answer = placed.answer.clone();
                let late = now.saturating_sub(placed.placed_at) >= LATE_RETRY;
                if self.has(Defect::NewOrderIdOnRetry)
                    || (late && self.has(Defect::NewOrderIdOnLateRetry))
                {
                    answer["order_id"] = self.ids.uuid().to_string().into();
                }
                if self.has(Defect::RetryDropsRedirectUrl)
                    && let Some(fields) = answer.as_object_mut()
                {
                    fields.remove("redirect_url");
                }
                return Ok(self.reply(200, Some(answer)));
            }
            // Not sticky: the token's outcome is its order, not this error. `[I]`
            return Err(Refusal::new(
                409,
                "BAD_VALUE",
                "The order has been already completed with different request body",
            ));
        }
        let order = match order {
            Some(order) => order,
            None => self.read_order_body(&body)?,
        };
        // 4. Playground: "retries with the same token kept failing even once
        // the body was fixed" (docs/klarna.md §10).
        let auth = &self.authorizations[&id];
        if let Some(sticky) = &auth.sticky {
            return Err(sticky.clone());
        }
        // 5. After a customer token for intent `tokenize` nothing is left to buy. `[I]`
        if auth.customer_token.is_some() && self.intent(id) == "tokenize" {
            return Err(Refusal::token_consumed());
        }
        let authorized = self.authorized_session(id);
        if let Err(refusal) = self.compare_with_authorized(&authorized, &order) {
            if playground && !self.has(Defect::ErrorsDoNotStick) {
                self.stick(id, &refusal);
            }
            return Err(refusal);
        }
        self.place_order(id, &authorized, body, order, now)
    }

    /// Keeps `refusal` as the token's sticky answer, if it has none yet.
    fn stick(&mut self, id: Uuid, refusal: &Refusal) {
        if let Some(auth) = self.authorizations.get_mut(&id)
            && auth.sticky.is_none()
        {
            auth.sticky = Some(refusal.clone());
        }
    }

    /// Validates a create-order body and reads it as Klarna does (400 BAD_VALUE).
    pub(super) fn read_order_body(&self, body: &Value) -> Result<CreateOrderRequest, Refusal> {
        self.check_body(BodyKind::CreateOrder, body)?;
        if self.has(Defect::ReadOnlyFieldsRefused)
            && let Some(field) = ["status", "client_token", "expires_at", "design"]
                .into_iter()
                .find(|f| body.get(f).is_some())
        {
            return Err(Refusal::new(
                400,
                "BAD_VALUE",
                format!("Bad value: {field}"),
            ));
        }
        typed(&as_read(body.clone()))
    }

    /// The authorized session of a token (the default when unreadable, which
    /// cannot happen: the store wrote it).
    fn authorized_session(&self, id: Uuid) -> Session {
        self.authorizations
            .get(&id)
            .and_then(|a| serde_json::from_str(&a.authorized).ok())
            .unwrap_or_default()
    }

    /// The business checks: the order against what was authorized (409
    /// `Not matching fields`, docs/klarna.md §3.4) and, with cart updates
    /// allowed, a dearer cart (403 REJECTED).
    fn compare_with_authorized(
        &self,
        authorized: &Session,
        order: &CreateOrderRequest,
    ) -> Result<(), Refusal> {
        let mut found = compare::mismatches(
            authorized,
            order,
            compare::Options {
                per_line_on_count_change: self.has(Defect::NoItemCountMessage),
                require_customer: self.has(Defect::RequireCustomerMatch),
                address_ignore_case: self.has(Defect::NormaliseAddressCase),
                address_ignore_spaces: self.has(Defect::TrimAddressSpaces),
            },
        );
        let cart_updates = self.allow_cart_updates;
        found.retain(|m| match m.group {
            Group::Address => !self.has(Defect::IgnoreAddressChanges),
            Group::OrderLines => !cart_updates && !self.has(Defect::IgnoreCartChanges),
            Group::OrderAmount | Group::OrderTaxAmount => {
                !cart_updates && !self.has(Defect::IgnoreAmountChanges)
            }
            Group::Country | Group::Currency => !self.has(Defect::IgnoreAmountChanges),
            Group::Customer => !self.has(Defect::CustomerChangesIgnored),
            Group::Locale => true,
        });
        if self.has(Defect::ReportFirstMismatchOnly) {
            found.truncate(1);
        }
        if !found.is_empty() {
            let paths: Vec<&str> = found.iter().map(|m| m.path.as_str()).collect();
            // Reference 4.2: "Not matching fields…" is 409 with BAD_VALUE.
            let status = if self.has(Defect::WrongStatusForMismatch) {
                400
            } else {
                409
            };
            return Err(Refusal::new(
                status,
                "BAD_VALUE",
                format!("Not matching fields: [{}]", paths.join(", ")),
            ));
        }
        // With cart updates allowed, a higher amount would need a new
        // authorization: 403 REJECTED. Inferred from the create-order page's REJECTED (docs/klarna.md §12)
        // row ("a cart update that triggers a new authorization"); mismatches of
        // the other groups (409) are reported first. `[I]`
        if cart_updates
            && !self.has(Defect::IgnoreAmountChanges)
            && order.order_amount > authorized.order_amount.unwrap_or(0)
        {
            return Err(Refusal::new(403, "REJECTED", "Rejected"));
        }
        Ok(())
    }

    /// Places the order: a validated body that matches what was authorized.
    /// `body` is kept as sent, for identical retries (docs/klarna.md §5.2).
    fn place_order(
        &mut self,
        id: Uuid,
        authorized: &Session,
        body: Value,
        mut order: CreateOrderRequest,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let auth = &self.authorizations[&id];
        let payment_method_category = auth.payment_method_category;
        let session_id = auth.session_id;
        let fresh_id = self.ids.uuid();
        let order_id = if self.has(Defect::SharedOrderId) {
            *self.first_order_id.get_or_insert(fresh_id)
        } else {
            fresh_id
        };
        let email = authorized
            .billing_address
            .as_ref()
            .and_then(|a| a.email.as_deref())
            .unwrap_or("");
        let country = authorized.purchase_country.as_deref().unwrap_or("");
        // PENDING only for the pending e-mail patterns, and only in the US and
        // the UK (docs/klarna.md §5.3, 6.1); the authorized purchase country decides. `[I]`
        let outcome = email_outcome(email);
        let pattern = matches!(outcome, EmailOutcome::Pending { .. });
        let us_or_gb = country.eq_ignore_ascii_case("US") || country.eq_ignore_ascii_case("GB");
        let near_miss = !pattern && self.has(Defect::PendingNearMiss) && has_pend_tag(email);
        let pending = ((pattern && (us_or_gb || self.has(Defect::PendingEverywhere)))
            || (near_miss && us_or_gb))
            && !self.has(Defect::NeverPending);
        let fraud_status = if pending { "PENDING" } else { "ACCEPTED" };
        // redirect_url exactly when merchant_urls.confirmation was given, in the
        // session or in the order (docs/klarna.md §5.5).
        let confirmation = |urls: &Option<crate::model::MerchantUrls>| {
            urls.as_ref().is_some_and(|u| u.confirmation.is_some())
        };
        let wants_redirect = (confirmation(&authorized.merchant_urls)
            || confirmation(&order.merchant_urls)
            || self.has(Defect::AlwaysRedirectUrl))
            && !self.has(Defect::NeverRedirectUrl);

        let mut answer = serde_json::Map::new();
        if !self.has(Defect::DropOrderId) {
            let value = if self.has(Defect::NumericOrderId) {
                // A JSON number instead of the spec's string.
                Value::from(order_id.as_u64_pair().0 >> 11)
            } else {
                Value::from(order_id.to_string())
            };
            answer.insert("order_id".into(), value);
        }
        if wants_redirect {
            let redirect = self.ids.uuid();
            answer.insert("redirect_url".into(), redirect_url(redirect).into());
        }
        if !self.has(Defect::DropFraudStatus) {
            answer.insert("fraud_status".into(), fraud_status.into());
        }
        if !self.has(Defect::DropAuthorizedPaymentMethod) {
            answer.insert(
                "authorized_payment_method".into(),
                json!({"type": payment_method_type(payment_method_category)}),
            );
        }
        let answer = Value::Object(answer);

        // Order Management reads back what was placed; what the order left out
        // comes from the authorized session. `[I]`
        if order.billing_address.is_none() {
            order.billing_address = authorized.billing_address.clone();
        }
        if order.shipping_address.is_none() {
            order.shipping_address = authorized.shipping_address.clone();
        }
        if order.locale.is_none() {
            order.locale = authorized.locale.clone();
        }
        if order.customer.as_ref().is_none_or(|c| c.is_empty()) {
            order.customer = authorized.customer.clone();
        }
        let klarna_reference = self.ids.klarna_reference();
        let record = OrderRecord::new(
            now,
            order,
            fraud_status,
            klarna_reference,
            payment_method_category,
        );
        self.insert_order(order_id, record);
        if pending {
            // Decided after the delay the e-mail names, on the virtual clock
            // (docs/klarna.md §13.5); a near miss names none. The notification
            // goes to the session's merchant_urls.notification as authorized.
            let decision = match outcome {
                EmailOutcome::Pending {
                    accept,
                    delay_minutes,
                } => Some((accept, i64::from(delay_minutes) * 60)),
                _ => None,
            };
            let url = authorized
                .merchant_urls
                .as_ref()
                .and_then(|u| u.notification.as_deref())
                .map(|u| fill_placeholders(u, order_id, session_id));
            self.open_review(order_id, now, decision, url);
        }
        if let Some(auth) = self.authorizations.get_mut(&id) {
            auth.placed = Some(Placed {
                request: body,
                answer: answer.clone(),
                placed_at: now,
            });
        }
        if let Some(session) = self.sessions.get_mut(&session_id) {
            session.completed = true;
        }
        Ok(self.reply(200, Some(answer)))
    }

    /// `DELETE /payments/v1/authorizations/{token}` (docs/klarna.md §1.3, 4.2).
    /// An unknown, expired, replaced or already cancelled token is 404
    /// NOT_FOUND `Invalid authorization token`, as for create order. `[I]`:
    /// docs/klarna.md §4.2 also lists `Authorization cannot be deleted` under 404
    /// without saying when; the mock does not send it.
    pub(super) fn cancel_authorization(
        &mut self,
        token: &str,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.usable_token(token, now)?;
        let consumed_allowed = self.has(Defect::CancelAfterOrderAllowed);
        let auth = self.authorizations.get_mut(&id).expect("checked above");
        if auth.placed.is_some() {
            if consumed_allowed {
                // Answered as a cancel, but the order stands.
                return Ok(self.reply(204, None));
            }
            return Err(Refusal::token_consumed());
        }
        auth.cancelled = true;
        Ok(self.reply(204, None))
    }

    /// The session intent as authorized (`buy` when absent, docs/klarna.md §2.1).
    pub(super) fn intent(&self, id: Uuid) -> String {
        self.authorizations
            .get(&id)
            .and_then(|a| serde_json::from_str::<Value>(&a.authorized).ok())
            .and_then(|s| s.get("intent").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "buy".to_owned())
    }
}
