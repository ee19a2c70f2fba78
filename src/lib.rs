//! # klarna-conformance
//!
//! A conformance harness for Klarna Payments v1, centred on "create an order
//! from an authorization token". A reference model of Klarna predicts every
//! answer of random sequences of operations (sessions, updates, reads,
//! authorizations, orders, retries, cancellations, Order Management's
//! captures, refunds and the rest of an order's life, customer tokens, the
//! clock); each
//! sequence runs against a target, every answer is judged against the
//! prediction and against the rules that hold for every answer, and a failing
//! sequence is shrunk to its fewest operations with a seed that replays it.
//! How it works: `docs/design.md`; the Klarna facts it is built from, with
//! their sources: `docs/klarna.md`.
//!
//! ## Checking a target
//!
//! ```no_run
//! use klarna_conformance::{RunConfig, report, run};
//!
//! // Every property, 256 sequences each, against the embedded mock, seed 42.
//! let outcome = run(&RunConfig::new(42, 256));
//! print!("{}", report::render(&outcome, ""));
//! std::process::exit(i32::from(outcome.exit_code())); // 0 held, 1 failure, 2 unusable target
//! ```
//!
//! [`run`] is synchronous: it starts its own runtime on each worker thread.
//! From async code — a `#[tokio::test]` that starts a [`mock::MockServer`],
//! say — await [`run_async`] instead, which moves the run off the caller's
//! runtime so the server keeps answering:
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use klarna_conformance::mock::{MockConfig, MockServer};
//! use klarna_conformance::targets::TargetSpec;
//! use klarna_conformance::{RunConfig, run_async};
//!
//! let server = MockServer::start(MockConfig::default()).await?;
//! let mut config = RunConfig::new(42, 64);
//! config.target = TargetSpec::url(server.base_url());
//! assert_eq!(run_async(config).await.exit_code(), 0);
//! # Ok(()) }
//! ```
//!
//! The strategies are proptest's; the version this crate is built with is
//! re-exported as [`proptest`], so a user's own strategies compose with
//! [`generate`] without a version mismatch.
//!
//! The pieces, in the order data flows through them:
//!
//! - [`runner`]: the table of properties ([`Property`]), seeds, the runner,
//!   replay, shrinking and reports (the table, JUnit XML, `proptest-regressions/`).
//! - [`sequence`]: the operations a sequence is made of ([`sequence::Op`]),
//!   how each resolves against the model's state, the strategies that draw a
//!   property's sequences and the tree that shrinks them.
//! - [`oracle`]: the reference model ([`oracle::World`]): for each request the
//!   predicted answer and the next state. Pure; never the mock's store.
//! - [`engine`]: one sequence against a target: real ids bound to the model's
//!   indices, every answer through the invariants ([`engine::Invariants`]) and
//!   the judge.
//! - [`targets`] and [`client`]: where requests go (the embedded mock
//!   in-process, any URL, a paced playground) and Klarna's operations as
//!   requests; every request and answer is kept as an [`exchange::Exchange`].
//! - [`generate`]: proptest strategies for markets, carts, addresses,
//!   customers and the changes made after authorization. No HTTP.
//! - [`scenario`] and [`snapshot`]: hand-written request sequences as TOML
//!   files, and their answers recorded as redacted insta snapshots.
//!
//! ## The model
//!
//! [`model`] holds the Payments v1 wire types named exactly as Klarna names
//! them ([`model::Session`], [`model::CreateOrderRequest`], [`model::Order`],
//! [`model::OrderLine`], [`model::ErrorV2`], ...). Optional fields are left out
//! when absent, fields the model does not know are kept, so every body
//! round-trips without loss. `authorized_payment_method` reads both forms seen
//! in the wild: the spec's object and the documents' plain string.
//!
//! ## Klarna's rules
//!
//! - [`model::money`]: the arithmetic, in minor units. A line's
//!   `total_amount = quantity × unit_price − total_discount_amount`; its
//!   `total_tax_amount` within ±1 of `total_amount × tax_rate / (10000 + tax_rate)`;
//!   `order_amount` the sum of the line totals; `order_tax_amount` the sum of
//!   the line taxes within ± the number of lines; US-style carts carry their
//!   tax in one `sales_tax` line. Build lines and carts with
//!   [`model::OrderLine::builder`], [`model::OrderLine::priced`],
//!   [`model::money::Cart::global`] and [`model::money::Cart::us_style`]:
//!   they are consistent by construction.
//! - [`model::validate::validate`]: every violation of a raw JSON request body,
//!   each with Klarna's JSON path (`order_lines[3].total_tax_amount`) and
//!   message (`Bad value: order_lines[3].total_tax_amount`), graded:
//!   an **error** is what Klarna refuses; a **warning** is what the documents
//!   forbid but the real playground was recorded accepting (a locale `"en"`
//!   for the US, a tax rate that is not the market's VAT rate, ...).
//!   [`model::validate::refusal`] turns violations into the `error_messages`
//!   Klarna would answer.
//! - [`model::market`]: countries, currencies, locales and VAT rates, and the
//!   playground's sample customers and e-mail patterns.
//! - [`openapi`]: Klarna's published OpenAPI documents as an external oracle
//!   (schema checks of bodies, assembled schema examples).
//!
//! ## `check-payload`
//!
//! ```text
//! klarna-conformance check-payload [--kind session|session-update|order|customer-token] FILE...
//! ```
//!
//! Checks request bodies (`-` reads standard input; the default kind is
//! `session`) and prints one line per violation — Klarna's message, then why —
//! or one `ok` line for a file without any:
//!
//! ```text
//! cart.json: error order_lines[0].total_tax_amount: Bad value: order_lines[0].total_tax_amount — total_tax_amount is 1683, but total_amount − total_amount × 10000 / (10000 + tax_rate) = 9500 − 9500 × 10000 / 12000 ≈ 1583.33, and it must be within ±1 of that: 1583 to 1584 (docs/klarna.md §3.1)
//! clean.json: ok (session)
//! ```
//!
//! Exit status ([`errors::exit`]): 0 when no payload has an error (warnings
//! alone still exit 0), 1 when any has, 2 when a file cannot be read or is not
//! JSON (the message names the file and the line and column of the JSON error).
//! The library side of the command is [`check`].
//!
//! ## The mock server
//!
//! [`mock`] is a stateful mock of Klarna Payments v1 (sessions, a control
//! API that authorizes like `Klarna.Payments.authorize()`, create order with
//! Klarna's mismatch and retry rules, cancel, customer tokens and the Customer
//! Token API, Order Management's whole order lifecycle, pending reviews over
//! time with their notifications) with a virtual clock, seeded ids and 87
//! defect modes that each break one rule: [`mock::MockServer::start`] in-process,
//! [`mock::router`] without a socket, or `klarna-conformance serve`.
//!
//! A `#[tokio::test]` that points its own integration at a
//! [`mock::MockServer`] plays the customer and the passing of time with the
//! server's helpers, the control API without HTTP or credentials:
//! [`authorize`](mock::MockServer::authorize) does what
//! `Klarna.Payments.authorize()` does in the browser,
//! [`advance_clock`](mock::MockServer::advance_clock) ages tokens, sessions
//! and orders and decides the reviews that fall due,
//! [`reset`](mock::MockServer::reset) empties the scope between cases, and
//! [`scope`](mock::MockServer::scope) does the same in the scope a username
//! `klarna-conformance+<name>` reaches:
//!
//! ```
//! # async fn create_session(base_url: &str) -> Result<String, Box<dyn std::error::Error>> {
//! #     use klarna_conformance::mock::{DEFAULT_PASSWORD, DEFAULT_USERNAME};
//! #     let cart = serde_json::json!({
//! #         "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
//! #         "order_amount": 11900, "order_tax_amount": 1900,
//! #         "order_lines": [{"name": "Jacket", "quantity": 1, "unit_price": 11900,
//! #             "tax_rate": 1900, "total_amount": 11900, "total_tax_amount": 1900}]
//! #     });
//! #     let session: serde_json::Value = reqwest::Client::new()
//! #         .post(format!("{base_url}/payments/v1/sessions"))
//! #         .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
//! #         .json(&cart).send().await?.json().await?;
//! #     Ok(session["session_id"].as_str().unwrap().to_owned())
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//!
//! use klarna_conformance::mock::{MockConfig, MockServer};
//!
//! let server = MockServer::start(MockConfig::default()).await?;
//! // The integration under test creates a session at `server.base_url()`...
//! let session_id = create_session(&server.base_url()).await?;
//! // ...the customer authorizes it...
//! let authorized = server.authorize(&session_id, None)?;
//! assert!(authorized.approved && authorized.authorization_token.is_some());
//! // ...and the token's 60 minutes pass before the order is placed.
//! server.advance_clock(Duration::from_secs(3600))?;
//! server.reset(); // the next case starts afresh
//! server.scope("job-1")?.reset(); // the same in scope job-1
//! # Ok(()) }
//! ```
//!
//! Tests written with wiremock mount [`mock::wiremock::KlarnaResponder`]
//! instead: the same faithful mock behind a wiremock `MockServer`, with
//! faults on top (an error status, a 429 with `Retry-After`, a late or
//! truncated answer) on the paths they name.
//!
//! ## Certification against Klarna's playground
//!
//! [`certify`] (the `certify` command) is the engine run against a server
//! without the mock's control API — Klarna's playground, or any URL: the
//! properties that need no control API and no virtual clock, and
//! `authorized-token-order` for tokens the user authorized in a browser; the
//! others are reported as skipped. It judges leniently and by named fields,
//! as the real playground was recorded answering, keeps to its rate limit
//! ([`targets::Pacing`]) and retries a 429. It calls a `*.klarna.com` host
//! only with credentials and `KLARNA_PLAYGROUND=1` (or `--yes-call-klarna`).

pub mod authorize;
pub mod cassette;
pub mod certify;
pub mod check;
pub mod client;
pub mod engine;
pub mod errors;
pub mod exchange;
pub mod generate;
pub mod mock;
pub mod model;
pub mod openapi;
pub mod oracle;
pub mod proxy;
pub mod runner;
pub mod scenario;
pub mod selftest;
pub mod sequence;
pub mod snapshot;
pub mod targets;
#[cfg(feature = "trials")]
pub mod trials;
pub mod verdict;

// What most users need, at the top.
pub use proptest;
pub use runner::report;
pub use runner::{Property, RunConfig, RunReport, replay, run, run_async};
