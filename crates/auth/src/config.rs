//! The `[auth]` configuration section.

use serde::{Deserialize, Serialize};

/// `[auth]` section: `secret` is the HS256 key, `tokens` are static bearer
/// tokens granting full admin. `Debug` never prints either.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct AuthConfig {
    pub secret: String,
    pub tokens: Vec<String>,
}

impl AuthConfig {
    /// Auth is enabled unless there are no tokens and the secret is empty.
    pub fn enabled(&self) -> bool {
        !self.secret.is_empty() || !self.tokens.is_empty()
    }

    /// Sanity checks for the config loader. Messages never contain secret
    /// material, only positions. Invalid entries are still handled fail-closed
    /// by [`crate::Authenticator`] (they keep auth on but can never match).
    pub fn validate(&self) -> Result<(), String> {
        for (i, t) in self.tokens.iter().enumerate() {
            if t.is_empty() {
                return Err(format!("auth.tokens[{i}] is empty"));
            }
            if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!(
                    "auth.tokens[{i}] contains whitespace or control characters and could never be presented"
                ));
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("secret", &redacted(!self.secret.is_empty()))
            .field("tokens", &format_args!("[<redacted>; {}]", self.tokens.len()))
            .finish()
    }
}

pub(crate) fn redacted(set: bool) -> std::fmt::Arguments<'static> {
    if set { format_args!("<redacted>") } else { format_args!("<unset>") }
}
