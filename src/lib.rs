//! # klarna-conformance
//!
//! A conformance harness for Klarna Payments v1.
pub mod client;
pub mod exchange;
pub mod mock;
pub mod model;
pub mod openapi;
pub mod scenario;
pub mod snapshot;
pub mod target;
