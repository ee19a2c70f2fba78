//! # klarna-conformance
//!
//! A property-based conformance harness for Klarna Payments v1, centred on
//! "create an order from an authorization token". It generates cases
//! (carts, addresses, changes made after authorization, waits), runs them
//! against a target, checks every answer against an oracle of Klarna's
//! documented rules, shrinks a failure to its smallest form and hands back a
//! seed that replays it.
//!
//! ## Checking a target
//!
//! ```no_run
//! use klarna_conformance::runner::{self, RunConfig};
//!
//! // Every property, 256 cases each, against the embedded mock, seed 42.
//! let report = runner::run(&RunConfig::new(42, 256));
//! print!("{}", runner::report::render(&report, ""));
//! std::process::exit(i32::from(report.exit_code())); // 0 held, 1 failure, 2 unusable target
//! ```
//!
//! The pieces, each usable alone, in the order data flows through them:
//!
//! - [`generate`]: proptest strategies for a `Case` (market, session body,
//!   authorize-time data, a `Mutation` applied after authorization, the wait
//!   before the order). No HTTP.
//! - [`targets`] and [`client`]: where requests go (the embedded mock
//!   in-process, any URL) and Klarna's operations as requests; every request
//!   and answer is kept as an [`exchange::Exchange`].
//! - [`oracle`]: what a conformant target must answer, from the case alone.
//! - [`verdict`]: an expectation checked against the exchanges: pass, a
//!   conformance failure, or a target that could not be used.
//! - [`runner`]: the named properties, seeds, shrinking, replay and reports
//!   (the table, JUnit XML, `proptest-regressions/`).
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
//! - [`openapi`]: Klarna's published OpenAPI document as an external oracle
//!   (schema checks of bodies, assembled schema examples).
//!
//! ## `check-payload`
//!
//! ```text
//! klarna-conformance check-payload [--kind session|session-update|order|customer-token] FILE...
//! ```
//!
//! Checks request bodies (`-` reads standard input; the default kind is
//! `session`) and prints one line per violation:
//!
//! ```text
//! cart.json: error order_lines[0].total_tax_amount: Bad value: order_lines[0].total_tax_amount
//! cart.json: warning locale: Bad value: locale
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
//! Klarna's mismatch rules, cancel, customer tokens, Order Management read
//! and capture) with a virtual clock and seeded ids:
//! [`mock::MockServer::start`] in-process, [`mock::router`] without a socket,
//! or `klarna-conformance serve`.
//!
//! ## Certification against Klarna's playground
//!
//! [`certify`] (the `certify` command) checks a server without the mock's
//! control API — Klarna's playground, or any URL — on generated carts:
//! sessions created and read back, inconsistent amounts and missing fields
//! refused with the right `Bad value: <path>`, unknown ids NOT_FOUND, wrong
//! credentials 401, correlation ids and body shapes; and, for authorization
//! tokens the user obtained in a browser, create order, its identical retry
//! and Order Management. It allows for what the real playground was recorded
//! doing (appended explanations, an HTML 401, categories in any order),
//! keeps to its rate limit ([`targets::Pacing`]) and retries a 429. It calls a
//! `*.klarna.com` host only with credentials and `KLARNA_PLAYGROUND=1` (or
//! `--yes-call-klarna`).

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
pub mod runner;
pub mod scenario;
pub mod sequence;
pub mod snapshot;
pub mod targets;
pub mod verdict;
