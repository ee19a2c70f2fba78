//! Customer tokens: issued from an authorization, then used through the
//! Customer Token API (docs/klarna.md §1.3, §11.2, §13.6).

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::om::{OrderRecord, payment_method_type};
use super::{MockReply, MockState, ORDER_MEMORY, Refusal, parse_id};
use crate::mock::defect::Defect;
use crate::model::validate::BodyKind;
use crate::model::{Address, CreateOrderRequest, Customer, Session};

/// What an authorization's customer token request answered, for the
/// identical retry (docs/klarna.md §13.6, recorded §11.2).
#[derive(Debug, Clone)]
pub(super) struct Issued {
    /// The body as sent (compared as parsed JSON).
    request: Value,
    answer: Value,
}

/// A customer token, as the Customer Token API sees it.
#[derive(Debug, Clone)]
pub(super) struct CustomerTokenRecord {
    pub created_at: i64,
    /// The payment method category chosen at authorization.
    payment_method_category: &'static str,
    cancelled: bool,
    /// As authorized: what orders placed with the token fall back to.
    billing_address: Option<Address>,
    customer: Option<Customer>,
    /// Order answers kept under their `Klarna-Idempotency-Key`.
    orders: Vec<(Box<str>, Value)>,
}

/// 404 TOKEN_NOT_FOUND (recorded, docs/klarna.md §11.2).
fn token_not_found() -> Refusal {
    Refusal::new(404, "TOKEN_NOT_FOUND", "Customer token not found")
}

/// The customer as the token answer shows it (`customer_read_create_token`:
/// `date_of_birth` and `gender` only); `None` when neither is known. `[I]`
fn customer_read(customer: Option<&Customer>) -> Option<Value> {
    let c = customer?;
    let mut out = Map::new();
    if let Some(dob) = &c.date_of_birth {
        out.insert("date_of_birth".into(), dob.as_str().into());
    }
    if let Some(gender) = &c.gender {
        out.insert("gender".into(), gender.as_str().into());
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

impl MockState {
    /// `POST /payments/v1/authorizations/{token}/customer-token`
    /// (docs/klarna.md §13.6). Checks in this order: the token (404 as for
    /// create order), the body (400), a session of intent `buy` (403), a
    /// token that already issued one (the identical body gets the same 200,
    /// another 403 `Authorization token already consumed`), a purchase
    /// country other than the session's (400), else 200 `{token_id,
    /// redirect_url, billing_address, customer}`. `[I]` an order placed with
    /// the token does not stop it.
    pub(super) fn create_customer_token(
        &mut self,
        token: &str,
        body: Value,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.usable_token(token, now)?;
        // `locale`, `purchase_country` and `purchase_currency` are required by
        // the spec but a missing one is only a warning in Playground fidelity
        // (docs/klarna.md §13.6), so the body is not read into the model type.
        self.check_body(BodyKind::CustomerToken, &body)?;
        let country = body
            .get("purchase_country")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if self.intent(id) == "buy" {
            // docs/klarna.md §4.2's error table wording (DOCS step-3 writes
            // "…tokens for intent buy.").
            return Err(Refusal::new(
                403,
                "INVALID_OPERATION",
                "Not allowed to create customer token for intent buy",
            ));
        }
        if let Some(issued) = &self.authorizations[&id].customer_token {
            if issued.request == body && !self.has(Defect::CustomerTokenRetryRefused) {
                let answer = issued.answer.clone();
                return Ok(self.reply(200, Some(answer)));
            }
            return Err(Refusal::token_consumed());
        }
        let auth = &self.authorizations[&id];
        let category = auth.payment_method_category;
        let authorized: Session = serde_json::from_str(&auth.authorized).unwrap_or_default();
        // A missing country (let through as a warning) is not another one. `[I]`
        let other_country = country.is_some_and(|given| {
            !authorized
                .purchase_country
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(&given))
        });
        if other_country {
            // docs/klarna.md §3.3: "The billing address country is different
            // from that of the country specified for this session".
            return Err(Refusal::bad_field("purchase_country"));
        }
        let token_id = self.ids.uuid();
        let redirect = self.ids.uuid();
        let mut answer = json!({
            "token_id": token_id.to_string(),
            "redirect_url": super::orders::redirect_url(redirect),
        });
        if let Some(address) = &authorized.billing_address {
            answer["billing_address"] = serde_json::to_value(address).unwrap_or(Value::Null);
        }
        if let Some(customer) = customer_read(authorized.customer.as_ref()) {
            answer["customer"] = customer;
        }
        if let Some(auth) = self.authorizations.get_mut(&id) {
            auth.customer_token = Some(Box::new(Issued {
                request: body,
                answer: answer.clone(),
            }));
        }
        self.customer_tokens.insert(
            token_id,
            CustomerTokenRecord {
                created_at: now,
                payment_method_category: category,
                cancelled: false,
                billing_address: authorized.billing_address,
                customer: authorized.customer,
                orders: Vec::new(),
            },
        );
        Ok(self.reply(200, Some(answer)))
    }

    /// The customer token behind an id; forgotten 365 days after its
    /// creation, as orders are (docs/klarna.md §13.1). `[I]`
    fn live_customer_token(&mut self, token_id: &str, now: i64) -> Result<Uuid, Refusal> {
        let id = parse_id(token_id).ok_or_else(token_not_found)?;
        let token = self.customer_tokens.get(&id).ok_or_else(token_not_found)?;
        if now.saturating_sub(token.created_at) >= ORDER_MEMORY {
            self.customer_tokens.remove(&id);
            return Err(token_not_found());
        }
        Ok(id)
    }

    /// `GET /customer-token/v1/tokens/{token_id}`: `{payment_method_type,
    /// status}`, the type the authorized method's in upper case (docs/klarna.md §13.6).
    pub(super) fn read_customer_token(
        &mut self,
        token_id: &str,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_customer_token(token_id, now)?;
        let token = &self.customer_tokens[&id];
        let answer = json!({
            "payment_method_type":
                payment_method_type(token.payment_method_category).to_ascii_uppercase(),
            "status": if token.cancelled { "CANCELLED" } else { "ACTIVE" },
        });
        Ok(self.reply(200, Some(answer)))
    }

    /// `PATCH /customer-token/v1/tokens/{token_id}/status` `{"status":
    /// "CANCELLED"}`: 202 Accepted without a body, again 202; any other value
    /// (a missing one too `[I]`) is 400 `Bad value: status`.
    pub(super) fn update_customer_token_status(
        &mut self,
        token_id: &str,
        body: Value,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_customer_token(token_id, now)?;
        if body.get("status").and_then(Value::as_str) != Some("CANCELLED") {
            return Err(Refusal::bad_field("status"));
        }
        if let Some(token) = self.customer_tokens.get_mut(&id) {
            token.cancelled = true;
        }
        Ok(self.reply(202, None))
    }

    /// `POST /customer-token/v1/tokens/{token_id}/order` (docs/klarna.md
    /// §13.6): the token (404), a repeated `Klarna-Idempotency-Key` (the
    /// first order's answer again; looked up right after the token, as in
    /// Order Management `[I]`), the body (400), a cancelled token (403
    /// `Customer token is not active`), else 200 `{order_id, fraud_status,
    /// authorized_payment_method}` without `redirect_url`. `[I]` such orders
    /// are ACCEPTED; addresses and customer the order leaves out come from
    /// the token (as authorized), a missing shipping address is the billing one.
    pub(super) fn customer_token_order(
        &mut self,
        token_id: &str,
        body: Value,
        key: Option<String>,
        now: i64,
    ) -> Result<MockReply, Refusal> {
        let id = self.live_customer_token(token_id, now)?;
        let key = key.filter(|k| !k.is_empty());
        if let Some(key) = &key
            && !self.has(Defect::TokenOrderIdempotencyIgnored)
            && let Some((_, answer)) = self.customer_tokens[&id]
                .orders
                .iter()
                .find(|(k, _)| **k == **key)
        {
            let answer = answer.clone();
            return Ok(self.reply(200, Some(answer)));
        }
        let mut order: CreateOrderRequest = self.read_order_body(&body)?;
        let token = &self.customer_tokens[&id];
        if token.cancelled && !self.has(Defect::CancelledCustomerTokenOrders) {
            return Err(Refusal::new(
                403,
                "INVALID_OPERATION",
                "Customer token is not active",
            ));
        }
        let category = token.payment_method_category;
        if order.billing_address.is_none() {
            order.billing_address = token.billing_address.clone();
        }
        if order.shipping_address.is_none() {
            order.shipping_address = order.billing_address.clone();
        }
        if order.customer.as_ref().is_none_or(|c| c.is_empty()) {
            order.customer = token.customer.clone();
        }
        let order_id = self.ids.uuid();
        let klarna_reference = self.ids.klarna_reference();
        let record = OrderRecord::new(now, order, "ACCEPTED", klarna_reference, category);
        self.insert_order(order_id, record);
        let answer = json!({
            "order_id": order_id.to_string(),
            "fraud_status": "ACCEPTED",
            "authorized_payment_method": {"type": payment_method_type(category)},
        });
        if let Some(key) = key
            && let Some(token) = self.customer_tokens.get_mut(&id)
        {
            token.orders.push((key.into_boxed_str(), answer.clone()));
        }
        Ok(self.reply(200, Some(answer)))
    }
}
