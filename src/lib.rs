//! # klarna-conformance
//!
//! A conformance harness for Klarna Payments v1.
pub mod r#gen;
pub mod model;
