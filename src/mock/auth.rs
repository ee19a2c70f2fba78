//! HTTP Basic credentials (docs/klarna.md §1.2) and the scope they name.
//!
//! The configured username with the configured password is the default
//! scope; `<username>+<scope>` with the same password is scope `<scope>`
//! (1 to 64 of `A-Z a-z 0-9 . _ -`). Nothing of what was sent is ever echoed:
//! a refusal says what is wrong, never the username, the scope or the password.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// The longest scope name.
pub const MAX_SCOPE_LEN: usize = 64;

/// Who is calling: the default scope, or a named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Caller {
    Default,
    Scope(String),
}

impl Caller {
    /// The scope's name; empty for the default scope.
    pub fn name(&self) -> &str {
        match self {
            Caller::Default => "",
            Caller::Scope(name) => name,
        }
    }
}

/// Why credentials were refused: the `error_messages` of the 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refused {
    /// No, malformed or wrong credentials: `error_messages: []`, as before
    /// scopes existed (docs/klarna.md §1.2 `[I]`).
    Credentials,
    /// The right password, but what follows `+` is no scope name.
    BadScope,
}

impl Refused {
    pub fn messages(&self) -> Vec<String> {
        match self {
            Refused::Credentials => Vec::new(),
            Refused::BadScope => vec![format!(
                "The username's scope (after \"+\") must be 1 to {MAX_SCOPE_LEN} characters of A-Z a-z 0-9 . _ -"
            )],
        }
    }
}

/// The configured credentials.
pub(super) struct Auth {
    username: Box<[u8]>,
    password: Box<[u8]>,
    /// Defect `accept-wrong-credentials`: only the username is checked.
    any_password: bool,
}

impl Auth {
    pub fn new(username: &str, password: &str, any_password: bool) -> Auth {
        Auth {
            username: username.as_bytes().into(),
            password: password.as_bytes().into(),
            any_password,
        }
    }

    /// The caller named by the `Authorization` header.
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, Refused> {
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or(Refused::Credentials)?
            .as_bytes();
        let value = value.trim_ascii();
        let (scheme, encoded) = value
            .iter()
            .position(|b| *b == b' ')
            .map(|i| value.split_at(i))
            .ok_or(Refused::Credentials)?;
        if !scheme.eq_ignore_ascii_case(b"basic") {
            return Err(Refused::Credentials);
        }
        let encoded = encoded.trim_ascii();
        // Most credentials fit on the stack; longer ones take the heap.
        let mut buffer = [0u8; 192];
        let decoded: &[u8];
        let owned: Vec<u8>;
        if let Ok(n) = STANDARD.decode_slice(encoded, &mut buffer) {
            decoded = &buffer[..n];
        } else {
            owned = STANDARD
                .decode(encoded)
                .or_else(|_| STANDARD_NO_PAD.decode(encoded))
                .map_err(|_| Refused::Credentials)?;
            decoded = &owned;
        }
        self.check(decoded)
    }

    /// `user:password`, decoded.
    fn check(&self, decoded: &[u8]) -> Result<Caller, Refused> {
        let colon = decoded.iter().position(|b| *b == b':');
        let (user, password) = match colon {
            Some(i) => (&decoded[..i], &decoded[i + 1..]),
            None => (decoded, &[][..]),
        };
        if !self.any_password && !same(password, &self.password) {
            return Err(Refused::Credentials);
        }
        if user == &*self.username {
            return Ok(Caller::Default);
        }
        let scope = user
            .strip_prefix(&*self.username)
            .and_then(|rest| rest.strip_prefix(b"+"))
            .ok_or(Refused::Credentials)?;
        if is_scope_name(scope) {
            // Only ASCII passes `is_scope_name`.
            Ok(Caller::Scope(String::from_utf8_lossy(scope).into_owned()))
        } else {
            Err(Refused::BadScope)
        }
    }
}

/// 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn is_scope_name(name: &[u8]) -> bool {
    (1..=MAX_SCOPE_LEN).contains(&name.len())
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Equality in time independent of where the first difference is, and of
/// whether the lengths differ (every byte of the longer is compared).
fn same(a: &[u8], b: &[u8]) -> bool {
    let byte = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let lengths = u8::from(a.len() != b.len());
    (0..a.len().max(b.len())).fold(lengths, |acc, i| acc | (byte(a, i) ^ byte(b, i))) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(raw: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(raw));
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn usernames_name_scopes() {
        let auth = Auth::new("merchant", "pw", false);
        let caller = |raw: &str| auth.caller(&header(raw));
        assert_eq!(caller("merchant:pw"), Ok(Caller::Default));
        assert_eq!(
            caller("merchant+job-1.a_B:pw"),
            Ok(Caller::Scope("job-1.a_B".into()))
        );
        let longest = format!("merchant+{}:pw", "x".repeat(MAX_SCOPE_LEN));
        assert!(caller(&longest).is_ok());
        for bad in [
            "merchant+:pw",
            "merchant+a b:pw",
            "merchant+a+b:pw",
            "merchant+ä:pw",
            &format!("merchant+{}:pw", "x".repeat(MAX_SCOPE_LEN + 1)),
        ] {
            assert_eq!(caller(bad), Err(Refused::BadScope), "{bad}");
        }
        for wrong in [
            "merchant:wrong",
            "merchant+a:wrong",
            "merchant+:wrong",
            "merchantx:pw",
            "merchant-a:pw",
            "other+a:pw",
            "merchant",
            ":pw",
        ] {
            assert_eq!(caller(wrong), Err(Refused::Credentials), "{wrong}");
        }
        assert_eq!(auth.caller(&HeaderMap::new()), Err(Refused::Credentials));
    }

    #[test]
    fn a_username_with_a_plus_keeps_its_scopes() {
        let auth = Auth::new("a+b", "pw", false);
        let caller = |raw: &str| auth.caller(&header(raw));
        assert_eq!(caller("a+b:pw"), Ok(Caller::Default));
        assert_eq!(caller("a+b+c:pw"), Ok(Caller::Scope("c".into())));
        assert_eq!(caller("a+c:pw"), Err(Refused::Credentials));
    }

    #[test]
    fn the_defect_checks_only_the_username() {
        let auth = Auth::new("merchant", "pw", true);
        assert_eq!(auth.caller(&header("merchant:wrong")), Ok(Caller::Default));
        assert_eq!(
            auth.caller(&header("merchant+s:")),
            Ok(Caller::Scope("s".into()))
        );
        assert_eq!(auth.caller(&header("other:pw")), Err(Refused::Credentials));
    }

    #[test]
    fn long_credentials_are_decoded_too() {
        let password = "p".repeat(500);
        let auth = Auth::new("merchant", &password, false);
        let raw = format!("merchant+s:{password}");
        assert_eq!(auth.caller(&header(&raw)), Ok(Caller::Scope("s".into())));
        // Unpadded base64, as some clients send it.
        let mut headers = HeaderMap::new();
        let value = format!(
            "basic {}",
            STANDARD_NO_PAD.encode(format!("merchant:{password}"))
        );
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        assert_eq!(auth.caller(&headers), Ok(Caller::Default));
    }

    #[test]
    fn same_compares_whole_values() {
        assert!(same(b"mock-secret", b"mock-secret"));
        assert!(!same(b"mock-secret", b"mock-secreT"));
        assert!(!same(b"mock-secret", b"mock-secret\0"));
        assert!(!same(b"", b"x"));
        assert!(same(b"", b""));
    }

    #[test]
    fn refusals_never_echo_what_was_sent() {
        for refused in [Refused::Credentials, Refused::BadScope] {
            for message in refused.messages() {
                assert!(!message.contains("merchant"), "{message}");
            }
        }
    }
}
