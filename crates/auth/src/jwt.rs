//! Minimal HS256 JWT (RFC 7519) signing and verification, Live777-compatible.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::AuthError;

/// `r`: subscribe (WHEP), read recordings.
pub const MODE_SUBSCRIBE: u8 = 4;
/// `w`: publish (WHIP).
pub const MODE_PUBLISH: u8 = 2;
/// `x`: admin operations on the stream (delete, cascade, recording control);
/// with `id = "*"` it makes the token a full admin.
pub const MODE_ADMIN: u8 = 1;

/// Allowed clock skew when checking `exp`, as in Live777.
pub const JWT_LEEWAY_SECS: u64 = 60;

/// Tokens longer than this are rejected before any decoding work.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The fixed header we issue; identical to what Live777 (jsonwebtoken) emits.
const HEADER_JSON: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

/// JWT claims. Unknown extra claims are ignored when decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Stream id, or `"*"` for every stream.
    pub id: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Permission bits, see [`MODE_SUBSCRIBE`], [`MODE_PUBLISH`], [`MODE_ADMIN`].
    pub mode: u8,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length; this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC accepts any key length")
}

/// Sign `claims` as a compact HS256 JWT. Works with any key, including an
/// empty one; use [`crate::Authenticator::mint`] to refuse an unset secret.
pub fn sign_hs256(secret: &[u8], claims: &Claims) -> String {
    // Serializing a struct of String/u64/u8 cannot fail.
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    let mut out = URL_SAFE_NO_PAD.encode(HEADER_JSON);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut out);
    let mut m = mac(secret);
    m.update(out.as_bytes());
    let sig = m.finalize().into_bytes();
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut out);
    out
}

/// Verify a compact HS256 JWT and return its claims.
///
/// Rejects: an empty secret, anything but exactly three base64url (unpadded,
/// canonical) segments, a header whose `alg` is not exactly `HS256` (so `none`,
/// `HS512`, ... are refused), any `crit` header, a wrong signature (compared in
/// constant time), claims missing `id`/`exp`/`mode`, and tokens with
/// `exp + 60 < now`.
pub fn verify_hs256(secret: &[u8], token: &str, now_unix: u64) -> Result<Claims, AuthError> {
    if secret.is_empty() {
        return Err(AuthError::Invalid("jwt disabled"));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Invalid("malformed token"));
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::Invalid("malformed token"));
    };
    let malformed = |_| AuthError::Invalid("malformed token");
    let header_bytes = URL_SAFE_NO_PAD.decode(h64).map_err(malformed)?;
    let header: Header = serde_json::from_slice(&header_bytes).map_err(|_| AuthError::Invalid("malformed token"))?;
    if header.alg != "HS256" {
        return Err(AuthError::Invalid("unsupported alg"));
    }
    if header.crit.is_some() {
        return Err(AuthError::Invalid("unsupported header"));
    }
    let sig = URL_SAFE_NO_PAD.decode(s64).map_err(malformed)?;
    let mut m = mac(secret);
    m.update(h64.as_bytes());
    m.update(b".");
    m.update(p64.as_bytes());
    m.verify_slice(&sig).map_err(|_| AuthError::Invalid("bad signature"))?;

    let payload = URL_SAFE_NO_PAD.decode(p64).map_err(malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| AuthError::Invalid("malformed claims"))?;
    if claims.exp.saturating_add(JWT_LEEWAY_SECS) < now_unix {
        return Err(AuthError::Invalid("expired"));
    }
    Ok(claims)
}
