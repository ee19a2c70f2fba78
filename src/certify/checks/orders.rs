//! The order flow for tokens the user authorized in a browser (reference 7):
//! create order, the identical retry, Order Management.

use super::{Run, Trail};
use crate::certify::judge::{expect_om_order, expect_order};
use crate::certify::{AuthorizedOrder, Check, Unusable};
use crate::model::{CreateOrderRequest, ErrorV2};
use crate::targets::Method;
use crate::verdict::Failure;

impl Run<'_> {
    /// Create order, the identical retry, and Order Management, for one token.
    pub(super) async fn order_flow(
        &self,
        number: usize,
        order: &AuthorizedOrder,
        parsed: &CreateOrderRequest,
    ) -> Result<(), Unusable> {
        let path = format!(
            "/payments/v1/authorizations/{}/order",
            order.authorization_token
        );
        let mut trail = Trail::new();
        let first = self
            .send(
                Method::Post,
                path.clone(),
                Some(order.order_body.clone()),
                &mut trail,
            )
            .await?;
        if matches!(first.status, 403 | 404 | 409) {
            // An expired, replaced or used token, or a body that is not what
            // was authorized: the input, not the target (reference 3.4, 5.1).
            let error: ErrorV2 = serde_json::from_str(&first.response_body).unwrap_or_default();
            return Err(Unusable::Input(format!(
                "authorization token #{number} was refused with {} {} {:?}: tokens expire 60 minutes after authorize(), work once, and need the exact body that was authorized; authorize again in a browser (reference 7)",
                first.status,
                error.error_code.as_deref().unwrap_or_default(),
                error.messages(),
            )));
        }
        let created = expect_order("create order with an authorized token", &first);
        let order_id = created.as_ref().ok().cloned();
        self.record(Check::OrderCreated, created.map(drop), trail)?;
        let Some(order_id) = order_id else {
            return Ok(());
        };
        let mut trail = Trail::new();
        let outcome = match self
            .send(Method::Post, path, Some(order.order_body.clone()), &mut trail)
            .await
        {
            Ok(again) => expect_order("the identical create order retried", &again).and_then(
                |again_id| {
                    if again_id == order_id {
                        Ok(())
                    } else {
                        Err(Failure::new(
                            "the identical create order retried returns the same order (reference 5.2)",
                            format!("order_id {order_id}"),
                            format!("order_id {again_id}"),
                        )
                        .into())
                    }
                },
            ),
            Err(e) => Err(e.into()),
        };
        self.record(Check::OrderRetryIdempotent, outcome, trail)?;
        let mut trail = Trail::new();
        let outcome = match self
            .send(
                Method::Get,
                format!("/ordermanagement/v1/orders/{order_id}"),
                None,
                &mut trail,
            )
            .await
        {
            Ok(ex) => expect_om_order(&order_id, parsed, &ex),
            Err(e) => Err(e.into()),
        };
        self.record(Check::OrderReadBack, outcome, trail)?;
        Ok(())
    }
}
