use serde::{Deserialize, Serialize};

use super::Unknown;

/// `ErrorV2`: Klarna's error body (docs/klarna.md §4.1).
///
/// SPEC23 also allows `authorized_payment_method`, `fraud_status` and
/// `reason`, and real answers carry `service_version`; those land in `unknown`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorV2 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_messages: Option<Vec<String>>,
    /// The single-message form some Klarna APIs use (docs.klarna.com/api/errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl ErrorV2 {
    /// Every message, whichever of the two forms carried it.
    pub fn messages(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .error_messages
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        out.extend(self.error_message.as_deref());
        out
    }
}
