//! # klarna-conformance
//!
//! A conformance harness for Klarna Payments v1.
pub mod mock;
pub mod model;
pub mod openapi;
