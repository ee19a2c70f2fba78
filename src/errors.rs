//! Errors and exit codes, in one place.
//!
//! Every command of the binary ends with one of the codes in [`exit`]; the
//! errors here carry enough context (which file, where in it) to be printed
//! as they are.

use std::io;

/// The process exit codes of `klarna-conformance`, shared by every command.
pub mod exit {
    /// Everything held. For `check-payload`: no errors (warnings alone still exit 0).
    pub const OK: u8 = 0;
    /// A conformance failure. For `check-payload`: some payload has an error.
    pub const FAILURE: u8 = 1;
    /// A usage error, or an input or target that could not be used
    /// (a file that cannot be read or is not JSON).
    pub const USAGE: u8 = 2;
    /// Interrupted (Ctrl-C) before every case ran, with no failure found so
    /// far: what did run is reported, but nothing is certified.
    pub const INTERRUPTED: u8 = 130;
}

/// How the user runs the tool, for the commands reports print: the binary's
/// name, or `cargo run --release --` when it was started by `cargo run`
/// from the project (the quick start never installs it). Set once by the
/// binary; a library user's reports say `klarna-conformance`.
pub fn invocation() -> &'static str {
    INVOCATION
        .get()
        .map_or("klarna-conformance", String::as_str)
}

static INVOCATION: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Called by the binary with what [`invocation`] should say.
pub fn set_invocation(how: String) {
    let _ = INVOCATION.set(how);
}

/// An input that could not be used at all (exit code [`exit::USAGE`]).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        #[source]
        source: io::Error,
    },
    #[error("{file}: not JSON: {message} at line {line}, column {column}")]
    NotJson {
        file: String,
        /// serde_json's message without its position.
        message: String,
        line: usize,
        column: usize,
    },
}

impl InputError {
    /// A JSON syntax error in `file`, keeping serde_json's position.
    pub fn not_json(file: &str, err: &serde_json::Error) -> Self {
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        let message = full
            .strip_suffix(&format!(" at line {line} column {column}"))
            .unwrap_or(&full)
            .to_owned();
        InputError::NotJson {
            file: file.to_owned(),
            message,
            line,
            column,
        }
    }

    /// Always [`exit::USAGE`]: the input could not be judged.
    pub fn exit_code(&self) -> u8 {
        exit::USAGE
    }
}
