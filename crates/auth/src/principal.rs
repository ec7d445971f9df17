//! Authentication ([`Authenticator`]) and authorization ([`Principal`]).

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::config::redacted;
use crate::jwt::{Claims, MODE_ADMIN, MODE_PUBLISH, MODE_SUBSCRIBE, sign_hs256, verify_hs256};
use crate::{Access, AuthConfig, AuthError, Forbidden};

/// Who made the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Auth is disabled: everything is allowed.
    Open,
    /// A configured static token: full admin.
    StaticToken,
    /// A verified JWT.
    Jwt(Claims),
}

/// Validates presented tokens against an [`AuthConfig`]. `Debug` is redacted.
#[derive(Clone)]
pub struct Authenticator {
    enabled: bool,
    secret: Vec<u8>,
    /// SHA-256 of each static token: comparing fixed-size digests in constant
    /// time avoids leaking token lengths. Empty configured tokens are stored
    /// as `None` — they keep auth on (fail closed) but never match.
    static_digests: Vec<Option<[u8; 32]>>,
}

impl Authenticator {
    pub fn new(cfg: &AuthConfig) -> Self {
        Authenticator {
            enabled: cfg.enabled(),
            secret: cfg.secret.as_bytes().to_vec(),
            static_digests: cfg
                .tokens
                .iter()
                .map(|t| (!t.is_empty()).then(|| Sha256::digest(t.as_bytes()).into()))
                .collect(),
        }
    }

    /// False only when there are no static tokens and the secret is empty.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Identify the caller. When auth is disabled this is always
    /// [`Principal::Open`]. Otherwise the token is checked against the static
    /// tokens (constant time, all of them) and then, if a secret is
    /// configured, verified as an HS256 JWT.
    pub fn authenticate(&self, token: Option<&str>, now_unix: u64) -> Result<Principal, AuthError> {
        if !self.enabled {
            return Ok(Principal::Open);
        }
        let token = match token {
            Some(t) if !t.is_empty() => t,
            _ => return Err(AuthError::Missing),
        };
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut matched = Choice::from(0u8);
        for d in self.static_digests.iter().flatten() {
            matched |= d.ct_eq(&presented);
        }
        if bool::from(matched) {
            return Ok(Principal::StaticToken);
        }
        if self.secret.is_empty() {
            return Err(AuthError::Invalid("unknown token"));
        }
        verify_hs256(&self.secret, token, now_unix).map(Principal::Jwt)
    }

    /// Issue a JWT with the configured secret; `None` if no secret is set.
    pub fn mint(&self, claims: &Claims) -> Option<String> {
        (!self.secret.is_empty()).then(|| sign_hs256(&self.secret, claims))
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("enabled", &self.enabled)
            .field("secret", &redacted(!self.secret.is_empty()))
            .field("static_tokens", &format_args!("[<redacted>; {}]", self.static_digests.len()))
            .finish()
    }
}

impl Principal {
    /// Open, a static token, or a JWT with `id = "*"` and the `x` bit.
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::Open | Principal::StaticToken => true,
            Principal::Jwt(c) => jwt_is_full_admin(c),
        }
    }

    /// Decide whether this principal may perform `access`.
    ///
    /// Full admins may do everything. A JWT otherwise only covers streams it
    /// is scoped to (`id == stream`, or `id == "*"` for every stream) and
    /// only with the mode bits the operation needs; [`Access::Admin`] needs a
    /// full admin.
    pub fn authorize(&self, access: &Access) -> Result<(), Forbidden> {
        let claims = match self {
            Principal::Open | Principal::StaticToken => return Ok(()),
            Principal::Jwt(c) if jwt_is_full_admin(c) => return Ok(()),
            Principal::Jwt(c) => c,
        };
        let Some(stream) = access.stream() else {
            return Err(Forbidden("token does not grant admin access"));
        };
        if stream.is_empty() || !(claims.id == "*" || claims.id == stream) {
            return Err(Forbidden("token is not valid for this stream"));
        }
        let mode = claims.mode;
        let (needed, msg) = match access {
            Access::Publish(_) => (MODE_PUBLISH, "token does not grant publish on this stream"),
            Access::Subscribe(_) => (MODE_SUBSCRIBE, "token does not grant subscribe on this stream"),
            Access::RecordRead(_) => (MODE_SUBSCRIBE, "token does not grant read on this stream"),
            Access::Session(_) => {
                (MODE_SUBSCRIBE | MODE_PUBLISH | MODE_ADMIN, "token does not grant session access on this stream")
            }
            Access::StreamRead(_) => return Ok(()),
            Access::StreamDelete(_) | Access::Cascade(_) | Access::RecordStart(_) | Access::RecordStop(_) => {
                (MODE_ADMIN, "token does not grant admin on this stream")
            }
            Access::Admin => return Err(Forbidden("token does not grant admin access")),
        };
        if mode & needed != 0 { Ok(()) } else { Err(Forbidden(msg)) }
    }
}

fn jwt_is_full_admin(c: &Claims) -> bool {
    c.id == "*" && c.mode & MODE_ADMIN != 0
}
