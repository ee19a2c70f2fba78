//! TEMPORARY stand-in for the lead's seam (replaced at merge).
pub mod browser;
