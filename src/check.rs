//! `check-payload`: Klarna's field rules applied to the request bodies a shop
//! produces, before it ever calls Klarna.

use std::fmt;
use std::io::{self, Read, Write};

use crate::errors::{InputError, exit};
use crate::model::validate::{self, BodyKind, Violation};

/// The violations found in one payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The file name as given (`-` for standard input).
    pub file: String,
    /// The kind of body the file was checked as.
    pub kind: BodyKind,
    /// Every violation, in document order.
    pub violations: Vec<Violation>,
}

impl Report {
    /// Whether Klarna would refuse the payload (some violation is an error).
    pub fn has_errors(&self) -> bool {
        validate::has_errors(&self.violations)
    }
}

impl fmt::Display for Report {
    /// One line per violation, `FILE: GRADE PATH: MESSAGE — WHY` (Klarna's
    /// message verbatim, then the explanation), or `FILE: ok (KIND)` when
    /// there is none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.violations.is_empty() {
            return writeln!(f, "{}: ok ({})", self.file, self.kind);
        }
        for v in &self.violations {
            writeln!(f, "{}: {v}", self.file)?;
        }
        Ok(())
    }
}

/// Checks the payload in `file` (`-` reads standard input).
pub fn check_file(kind: BodyKind, file: &str) -> Result<Report, InputError> {
    let read = |source| InputError::Read {
        file: file.to_owned(),
        source,
    };
    let bytes = if file == "-" {
        let mut buf = Vec::new();
        io::stdin().read_to_end(&mut buf).map_err(read)?;
        buf
    } else {
        std::fs::read(file).map_err(read)?
    };
    check_bytes(kind, file, &bytes)
}

/// Checks a payload already in memory; `file` names it in the report.
pub fn check_bytes(kind: BodyKind, file: &str, bytes: &[u8]) -> Result<Report, InputError> {
    let body: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| InputError::not_json(file, &e))?;
    Ok(Report {
        file: file.to_owned(),
        kind,
        violations: validate::validate(kind, &body),
    })
}

/// The whole command: checks every file, writes each report to `out` (its
/// violations, or `FILE: ok (KIND)`) and unusable inputs to `err`, and
/// returns the exit code: [`exit::USAGE`] if any file could not be judged,
/// else [`exit::FAILURE`] if any has an error, else [`exit::OK`]. Every file
/// is checked even after a failure.
pub fn check_payloads(
    kind: BodyKind,
    files: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut code = exit::OK;
    for file in files {
        // A closed stdout or stderr must not stop the check: write errors are ignored.
        match check_file(kind, file) {
            Ok(report) => {
                let _ = write!(out, "{report}");
                if report.has_errors() {
                    code = code.max(exit::FAILURE);
                }
            }
            Err(e) => {
                let _ = writeln!(err, "klarna-conformance: {e}");
                code = code.max(e.exit_code());
            }
        }
    }
    let _ = out.flush();
    code
}
