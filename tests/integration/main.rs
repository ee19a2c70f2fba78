//! Every integration test in one binary (one link instead of twenty), each
//! file a module named as it was. `tests/properties.rs` (the engine run hard,
//! with the binary's allocator) and `tests/scenarios.rs` (the libtest-mimic
//! trials) stay binaries of their own.

mod mock_common;
mod playground;
mod retries;

/// A loopback port nothing listens on: port 1, below the ephemeral range
/// every test server here binds in. A port freed after binding could be
/// taken by another test's server before it is used (they share a process).
pub const CLOSED_PORT: u16 = 1;

mod amount_properties;
mod authorizers;
mod browser;
mod cassette;
mod certify;
mod check_payload_cli;
mod generation;
mod mock_customer_tokens;
mod mock_helpers;
mod mock_http;
mod mock_lifecycle;
mod mock_notifications;
mod mock_om;
mod mock_orders;
mod mock_scopes;
mod mock_serve;
mod mock_sessions;
mod model_handoff;
mod model_roundtrip;
mod openapi;
mod openapi_examples;
mod proxy;
mod run_cli;
mod scenario_checks;
mod validate_rules;
mod wiremock_target;
