//! Customer tokens and the Customer Token API (docs/klarna.md §11.2, §13.6).

use std::collections::HashMap;

use super::action::Id;
use super::answer::{Answer, CustomerTokenIx, Prediction, TokenIx};
use super::orders::read_order;
use super::world::{CustomerTokenState, World, parse};
use super::{ExpectedError, ExpectedMessages};
use crate::model::validate::{self, BodyKind};

fn refused(status: u16, code: &'static str, message: &str) -> Prediction {
    Prediction::error(ExpectedError {
        status,
        error_code: code,
        messages: ExpectedMessages::Exact(vec![message.to_owned()]),
    })
}

impl World {
    pub(super) fn predict_create_customer_token(
        &self,
        token: &Id<TokenIx>,
        body: &str,
    ) -> Prediction {
        let Some(t) = self.usable_token(token) else {
            return Prediction::error(ExpectedError::invalid_token());
        };
        let value = parse(body);
        if let Some(messages) = validate::refusal(
            &validate::validate(BodyKind::CustomerToken, &value),
            self.config.fidelity,
        ) {
            return Prediction::error(ExpectedError::bad_value(messages));
        }
        let state = &self.tokens[t];
        if state.intent == "buy" {
            return refused(
                403,
                "INVALID_OPERATION",
                "Not allowed to create customer token for intent buy",
            );
        }
        if let Some((c, first)) = &state.customer_token {
            return if *first == value {
                Prediction::new(Answer::CustomerTokenCreated {
                    ctoken: *c,
                    again: true,
                })
            } else {
                Prediction::error(ExpectedError::token_consumed())
            };
        }
        // A missing country is a warning (§13.6), not another country.
        let same_country = value["purchase_country"]
            .as_str()
            .is_none_or(|c| c.eq_ignore_ascii_case(&state.authorized.purchase_country));
        if !same_country {
            return refused(400, "BAD_VALUE", "Bad value: purchase_country");
        }
        Prediction::new(Answer::CustomerTokenCreated {
            ctoken: self.customer_tokens.len(),
            again: false,
        })
    }

    pub(super) fn apply_create_customer_token(
        &mut self,
        token: &Id<TokenIx>,
        body: &str,
        answer: &Answer,
    ) {
        let (Id::Known(t), Answer::CustomerTokenCreated { again: false, .. }) = (token, answer)
        else {
            return;
        };
        let c = self.customer_tokens.len();
        self.customer_tokens.push(CustomerTokenState {
            token: *t,
            active: true,
            keys: HashMap::new(),
            keys_sent: Vec::new(),
        });
        self.tokens[*t].customer_token = Some((c, parse(body)));
    }

    pub(super) fn predict_read_customer_token(&self, ctoken: &Id<CustomerTokenIx>) -> Prediction {
        match ctoken {
            Id::Known(c) => Prediction::new(Answer::CustomerToken {
                ctoken: *c,
                status: if self.customer_tokens[*c].active {
                    "ACTIVE"
                } else {
                    "CANCELLED"
                },
            }),
            Id::Unknown(_) => refused(404, "TOKEN_NOT_FOUND", "Customer token not found"),
        }
    }

    pub(super) fn predict_customer_token_status(
        &self,
        _ctoken: CustomerTokenIx,
        status: &str,
    ) -> Prediction {
        if status == "CANCELLED" {
            Prediction::new(Answer::Accepted)
        } else {
            refused(400, "BAD_VALUE", "Bad value: status")
        }
    }

    pub(super) fn predict_customer_token_order(
        &self,
        c: CustomerTokenIx,
        body: &str,
        key: Option<&str>,
    ) -> Prediction {
        let state = &self.customer_tokens[c];
        // The key first, as in Order Management (§13.2): a retry gets its
        // first answer whatever happened to the token since.
        if let Some(order) = key.and_then(|k| state.keys.get(k)) {
            return Prediction::new(Answer::TokenOrder {
                order: *order,
                again: true,
            });
        }
        let value = parse(body);
        if let Some(messages) = validate::refusal(
            &validate::validate(BodyKind::CreateOrder, &value),
            self.config.fidelity,
        ) {
            return Prediction::error(ExpectedError::bad_value(messages));
        }
        if !state.active {
            return refused(403, "INVALID_OPERATION", "Customer token is not active");
        }
        Prediction::new(Answer::TokenOrder {
            order: self.orders.len(),
            again: false,
        })
    }

    pub(super) fn apply_customer_token_order(
        &mut self,
        c: CustomerTokenIx,
        body: &str,
        key: Option<&str>,
        answer: &Answer,
    ) {
        if let Some(key) = key {
            self.customer_tokens[c].keys_sent.push(key.to_owned());
        }
        if let Answer::TokenOrder { again: false, .. } = answer {
            // A token order is not reviewed: ACCEPTED (recorded, §11.2). `[I]`
            let order = read_order(&parse(body)).unwrap_or_default();
            let order = self.place(order, "ACCEPTED", None);
            if let Some(key) = key {
                self.customer_tokens[c].keys.insert(key.to_owned(), order);
            }
        }
    }
}
