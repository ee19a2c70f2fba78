//! Klarna Payments v1 wire types, named exactly as Klarna names them.
//!
//! Every type reads what Klarna sends and writes what Klarna expects:
//! optional fields are left out when absent (never sent as `null`), and
//! fields the model does not know are kept in `unknown` so a body
//! round-trips without loss and a checker can report what Klarna added.
//!
//! The rules that go with the types live beside them: [`money`] (Klarna's
//! arithmetic), [`validate`] (field rules and `Bad value: <path>` messages)
//! and [`market`] (countries, currencies, locales, playground customers).

mod address;
mod customer_token;
mod error;
pub mod market;
pub mod money;
mod om;
mod order;
mod order_line;
mod session;
pub mod validate;

pub use address::{Address, Customer};
pub use customer_token::{
    CustomerTokenCreationRequest, CustomerTokenCreationResponse, CustomerTokenRead,
};
pub use error::ErrorV2;
pub use om::{Capture, CaptureRequest, OmOrder, Refund};
pub use order::{AuthorizedPaymentMethod, CreateOrderRequest, Order};
pub use order_line::{OrderLine, OrderLineType, ProductIdentifiers, Subscription};
pub use session::{
    AssetUrls, Attachment, MerchantSession, MerchantUrls, Options, PaymentMethodCategory, Session,
};

/// An authorization token is valid while fewer than this many seconds have
/// passed since authorization (docs/klarna.md §5.1: "an order can be created within
/// 60 minutes").
pub const TOKEN_LIFETIME_SECONDS: u64 = 3600;
/// A session stays open this long after its last update (docs/klarna.md §5.1: 48 h).
pub const SESSION_LIFETIME_SECONDS: u64 = 48 * 3600;
/// An order's authorization lasts this long by default (docs/klarna.md §5.1: 28 days).
pub const ORDER_LIFETIME_SECONDS: u64 = 28 * 86_400;

/// Fields a type does not model, kept verbatim (Klarna adds fields over time).
pub type Unknown = std::collections::BTreeMap<String, serde_json::Value>;
