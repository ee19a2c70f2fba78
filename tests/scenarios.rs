//! Every property and every `scenarios/*.toml` file as a trial
//! (`property::<name>::<target>`, `scenario::<file stem>::<target>`): what a
//! user's own crate gets from `klarna_conformance::trials::main` (its module
//! documentation says how the environment sets the budget and the targets).
//!
//! - `mock`: always; a fresh embedded mock per trial (its own virtual clock
//!   and ids), configured by the file's `[mock]` table. Snapshots: `snapshots/`.
//! - `url`: only when `KLARNA_TARGET_URL` is set (credentials from
//!   `KLARNA_USERNAME`/`KLARNA_PASSWORD`, else the mock's defaults).
//!   Snapshots: `snapshots/url/`; missing ones are recorded, not failures.
//! - `playground`: listed but ignored unless `KLARNA_PLAYGROUND=1` and
//!   `KLARNA_USERNAME`/`KLARNA_PASSWORD` are set.
//!
//! Listing (`--list`) only parses the files; nothing is sent.

fn main() {
    klarna_conformance::trials::main(env!("CARGO_MANIFEST_DIR"));
}
